"""What people look at: a model's windows (``drift-windows`` records) and alert episodes as
an HTML report (:mod:`.html`) or terminal strips (:mod:`.terminal`). Building either is
pure (records in, text out); :mod:`.reader` reads the records from Kafka."""
