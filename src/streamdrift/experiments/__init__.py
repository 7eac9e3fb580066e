"""Champion and challenger: variants, sample-ratio checks, anytime-valid comparisons.

Pure (no Kafka client): :class:`~streamdrift.experiments.fleet.ExperimentFleet` takes a
partition's predictions and labels and returns the records of the ``experiment-decisions``
topic; the processor publishes them.
"""
