"""A batch envelope with a bad row: that row is dead-lettered, the rest is processed."""

from __future__ import annotations

import orjson
from tests.unit.engine.harness import Processor

from streamdrift import config
from streamdrift.engine.messages import H_REASON, H_ROWS, InputRecord
from streamdrift.metrics import Metrics


def test_bad_rows_of_an_envelope_go_to_dead_letter_and_the_rest_is_processed() -> None:
    settings = config.load({}, environ={})
    processor = Processor(settings, Metrics(), clock=lambda: 1.8e9)
    processor.restore(0, None)
    n = 2_500
    stamps: list[object] = [1.7e9 + i for i in range(n)]
    stamps[7] = "yesterday"
    incomes: list[object] = [float(i % 97) for i in range(n)]
    incomes[11] = {"nested": 1}
    raw = orjson.dumps(
        {
            "kind": "prediction_batch",
            "model_id": "m",
            "model_version": "1",
            "prediction_id": [f"p{i}" for i in range(n)],
            "timestamp": stamps,
            "features": {"income": incomes},
        }
    )
    out = processor.process(0, [InputRecord(settings.topic_predictions, 0, 0, 1.7e9, b"m", raw)])
    (dead,) = [o for o in out if o.topic == settings.topic_dead_letter]
    headers = dict(dead.headers)
    assert dead.value == raw  # the original bytes, untouched
    assert headers[H_ROWS] == b"7,11"
    assert headers[H_REASON] == b"wrong_type"
    (monitor,) = processor.states[0].fleet.monitors.values()
    assert monitor.events_seen == n - 2
