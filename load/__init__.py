"""Synthetic traffic for streamdrift: scenario files, a seeded generator, a Kafka publisher
and a detection-quality evaluation.

* :mod:`load.spec` reads and validates ``load/scenarios/*.toml`` (strictly: an unknown key
  is an error that names it);
* :mod:`load.scenarios` generates a scenario's predictions as column-wise
  :class:`~streamdrift.records.PredictionBatch` chunks, with the ground-truth change
  points, delayed feedback and malformed raw messages;
* ``python -m load.generate`` publishes a scenario to Kafka;
* ``python -m load.evaluate`` measures detection delay and false alarms of streamdrift
  and of River's ADWIN, PageHinkley and KSWIN on the drift scenarios.

Nothing here is imported by ``streamdrift`` itself.
"""
