"""The engine returns one Update per call and touches no metric; the metrics read it."""

from __future__ import annotations

from tests.unit.engine.test_processor import T0, Feed, make_settings

from streamdrift.engine.processor import Processor
from streamdrift.engine.update import Update
from streamdrift.metrics import Metrics
from streamdrift.records import PredictionEvent


def _sample(metrics: Metrics, name: str, labels: dict[str, str]) -> float:
    value = metrics.registry.get_sample_value(name, labels)
    return 0.0 if value is None else value


def test_process_returns_one_update_with_what_the_metrics_read() -> None:
    settings = make_settings()
    processor = Processor(settings, clock=lambda: 1.8e9)
    processor.restore(0, None)
    feed = Feed()
    good = [
        feed.prediction(PredictionEvent("m", "1", f"p{i}", T0 + i, {"x": 0.5}, 0.1))
        for i in range(3)
    ]
    bad = feed.record(settings.topic_predictions, b"{not json")
    update = processor.process(0, [*good, bad])
    assert isinstance(update, Update)
    assert update.messages[settings.topic_predictions] == 4
    assert update.events[(settings.topic_predictions, "m")] == 3
    assert sum(update.dead_letters.values()) == 1
    assert [r.topic for r in update.records] == [settings.topic_dead_letter]
    assert len(update.event_time_lags) == 1

    metrics = Metrics()
    metrics.record(update)
    topic = {"topic": settings.topic_predictions}
    assert _sample(metrics, "streamdrift_messages_consumed_total", topic) == 4
    assert _sample(metrics, "streamdrift_events_consumed_total", {**topic, "model": "m"}) == 3
    reason = next(iter(update.dead_letters))
    assert _sample(metrics, "streamdrift_dead_letter_total", {"reason": reason}) == 1


def test_the_engine_holds_no_metrics() -> None:
    processor = Processor(make_settings())
    assert not any(isinstance(v, Metrics) for v in vars(processor).values())
