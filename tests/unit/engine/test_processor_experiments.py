"""Champion and challenger through the processor: predictions with ``experiment`` and
``variant`` and their labels give schema-valid progress records and each decision once on
``experiment-decisions``; a restored checkpoint continues like the uninterrupted run."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from jsonschema import Draft202012Validator
from tests.unit.engine.test_processor import (
    PREDICTIONS,
    ROOT,
    T0,
    Feed,
    chunks,
    make_processor,
    run,
    write_config,
)

from streamdrift import codec
from streamdrift.engine.messages import InputRecord, OutputRecord
from streamdrift.experiments.experiment import SRM
from streamdrift.records import FeedbackEvent, PredictionEvent, to_batches

SCHEMA = Draft202012Validator(
    json.loads((ROOT / "topics" / "experiment.schema.json").read_text(encoding="utf-8"))
)
TOML = """
[experiments.ranker]
model_id = "m"
split = {{ champion = 0.5, challenger = 0.5 }}
metric = "accuracy"
mode = "{mode}"
report_every = 200
srm_lateness = 5
"""


def docs(out: Sequence[OutputRecord]) -> list[dict[str, Any]]:
    found = [json.loads(o.value or b"") for o in out if o.topic == "experiment-decisions"]
    for doc in found:
        SCHEMA.validate(doc)
    return found


def traffic(
    n: int, *, mode: str, p: tuple[float, float] = (0.7, 0.9), share: float = 0.5, seed: int = 5
) -> list[InputRecord]:
    """``n`` requests with 0/1 labels; a variant is right with probability ``p``; labels
    follow their predictions 100 requests later."""
    rng = np.random.default_rng(seed)
    feed = Feed()
    labels = (rng.random(n) < 0.5).astype(int)
    records: list[InputRecord] = []
    pending: list[FeedbackEvent] = []
    for i in range(n):
        ts = T0 + i * 0.1
        variants = (
            ("champion", "challenger")
            if mode == "shadow"
            else (("challenger",) if rng.random() < share else ("champion",))
        )
        for variant in variants:
            right = rng.random() < p[variant == "challenger"]
            decided = int(labels[i]) if right else 1 - int(labels[i])
            event = PredictionEvent(
                "m",
                "1",
                f"r{i}",
                ts,
                {"x": float(i % 7)},
                float(decided),
                experiment="ranker",
                variant=variant,
            )
            records.append(feed.prediction(event))
        pending.append(FeedbackEvent("m", f"r{i}", ts + 1.0, int(labels[i])))
        if len(pending) == 100:
            records.append(feed.feedback(pending))
            pending = []
    return records


@pytest.mark.parametrize("mode", ["ab", "shadow"])
def test_a_better_challenger_is_superior_once_with_progress_over_time(
    tmp_path: Path, mode: str
) -> None:
    processor = make_processor(write_config(tmp_path, TOML.format(mode=mode)))
    processor.restore(0, None)
    found = docs(run(processor, list(chunks(traffic(3000, mode=mode), 250))))

    decisions = [d for d in found if d["kind"] == "decision"]
    assert [d["decision"] for d in decisions] == ["superior"]
    progress = [d for d in found if d["kind"] == "progress"]
    assert [d["index"] for d in progress] == list(range(len(progress))) and len(progress) >= 10
    assert (
        progress[-1]["n"]["champion"] + (0 if mode == "shadow" else progress[-1]["n"]["challenger"])
        == 3000  # every request labelled, 3000 a multiple of report_every
    )
    assert progress[-1]["lower"] > 0 and abs(progress[-1]["effect"] - 0.2) < 0.05
    elapsed = [d["elapsed"] for d in progress]
    assert elapsed == sorted(elapsed) and len(set(elapsed)) == len(elapsed)
    if mode == "ab":
        last = progress[-1]
        assert abs(last["challenger"]["value"] - last["champion"]["value"] - 0.2) < 0.05
    assert decisions[0]["srm"]["e_value"] < 20


def test_a_mismatched_split_is_flagged_and_withholds_decisions(tmp_path: Path) -> None:
    processor = make_processor(write_config(tmp_path, TOML.format(mode="ab")))
    processor.restore(0, None)
    found = docs(run(processor, list(chunks(traffic(3000, mode="ab", share=0.65), 250))))
    decisions = [d["decision"] for d in found if d["kind"] == "decision"]
    assert decisions == ["sample_ratio_mismatch"]


@pytest.mark.parametrize("cut", [3, 11, 20])
def test_a_restored_checkpoint_publishes_what_the_uninterrupted_run_does(
    tmp_path: Path, cut: int
) -> None:
    settings = write_config(tmp_path, TOML.format(mode="shadow"))
    fetches = list(chunks(traffic(3000, mode="shadow"), 250))
    original = make_processor(settings)
    original.restore(0, None)
    run(original, fetches[:cut])
    snapshot = json.loads(json.dumps(original.snapshot(0)))
    restored = make_processor(settings)
    restored.restore(0, snapshot)
    rest = [o for o in run(original, fetches[cut:]) if o.topic == "experiment-decisions"]
    again = [o for o in run(restored, fetches[cut:]) if o.topic == "experiment-decisions"]
    assert rest and [(o.key, o.value) for o in again] == [(o.key, o.value) for o in rest]


def test_predictions_without_variants_publish_nothing_to_the_experiment_topic(
    tmp_path: Path,
) -> None:
    processor = make_processor(write_config(tmp_path, TOML.format(mode="ab")))
    processor.restore(0, None)
    feed = Feed()
    events = [PredictionEvent("m", "1", f"p{i}", T0 + i, {"x": 1.0}, 1.0) for i in range(500)]
    out = run(processor, [[feed.prediction(e) for e in events]])
    out += run(
        processor, [[feed.feedback([FeedbackEvent("m", f"p{i}", T0 + 600, 1) for i in range(500)])]]
    )
    assert docs(out) == []
    assert processor.states[0].labels.join.duplicates == {}


@pytest.mark.parametrize("mode", ["ab", "shadow"])
def test_labels_read_before_their_predictions_wait_and_give_the_same_records(
    tmp_path: Path, mode: str
) -> None:
    """The worker processes each fetched topic-partition on its own, so a partition's
    feedback can be processed before its predictions: the labels wait for them."""
    settings = write_config(tmp_path, TOML.format(mode=mode))
    records = traffic(3000, mode=mode)
    in_order = make_processor(settings)
    in_order.restore(0, None)
    expected = docs(run(in_order, [records]))
    labels_first = make_processor(settings)
    labels_first.restore(0, None)
    feedback = [r for r in records if r.topic != records[0].topic]
    predictions = [r for r in records if r.topic == records[0].topic]
    found = docs(run(labels_first, [feedback, *chunks(predictions, 250)]))
    assert [d["decision"] for d in found if d["kind"] == "decision"] == ["superior"]
    # the same records, but for the SRM snapshot: the predictions read so far
    assert [without_srm(d) for d in found] == [without_srm(d) for d in expected]


def without_srm(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if k != "srm"}


def decided(tmp_path: Path, toml: str, records: list[InputRecord]) -> list[str]:
    processor = make_processor(write_config(tmp_path, toml))
    processor.restore(0, None)
    found = docs(run(processor, list(chunks(records, 250))))
    assert any(d["kind"] == "progress" for d in found)
    return [d["decision"] for d in found if d["kind"] == "decision"]


def test_an_aa_experiment_publishes_progress_and_no_superior_or_inferior(tmp_path: Path) -> None:
    toml = TOML.format(mode="aa")
    assert decided(tmp_path, toml, traffic(6000, mode="aa", p=(0.8, 0.8), seed=8)) == []


@pytest.mark.parametrize(
    ("p", "expected"),
    [
        ((0.8, 0.8), ["non_inferior"]),  # as good: within the margin, not superior
        ((0.7, 0.9), ["superior", "non_inferior"]),
        ((0.85, 0.6), ["inferior"]),  # worse by more than the margin
    ],
)
def test_the_margin_decides_non_inferior_and_inferior(
    tmp_path: Path, p: tuple[float, float], expected: list[str]
) -> None:
    toml = TOML.format(mode="ab") + "margin = 0.1\n"
    assert sorted(decided(tmp_path, toml, traffic(6000, mode="ab", p=p, seed=9))) == sorted(
        expected
    )


def lumpy_traffic(n: int, share: float, seed: int = 10) -> list[InputRecord]:
    """Like :func:`traffic` (A/B), but each variant is its own model version and comes in
    envelopes of 50 predictions of that variant (about 10 s of event time), all labels at
    the end."""
    rng = np.random.default_rng(seed)
    feed = Feed()
    labels = (rng.random(n) < 0.5).astype(int)
    buffers: dict[str, list[PredictionEvent]] = {"champion": [], "challenger": []}
    records: list[InputRecord] = []
    for i in range(n):
        variant = "challenger" if rng.random() < share else "champion"
        right = rng.random() < (0.9 if variant == "challenger" else 0.7)
        decided = int(labels[i]) if right else 1 - int(labels[i])
        version = "2" if variant == "challenger" else "1"
        buffers[variant].append(
            PredictionEvent(
                "m", version, f"r{i}", T0 + i * 0.1, {"x": float(i % 7)}, float(decided),
                experiment="ranker", variant=variant,
            )
        )  # fmt: skip
        if len(buffers[variant]) == 50 or i == n - 1:
            for events in buffers.values():
                if events and (len(events) == 50 or i == n - 1):
                    (batch,) = to_batches(events)
                    value = codec.encode_prediction_batch(batch)
                    records.append(feed.record(PREDICTIONS, value, b"m"))
                    events.clear()
    feedback = [FeedbackEvent("m", f"r{i}", T0 + i * 0.1 + 1.0, int(labels[i])) for i in range(n)]
    return records + [feed.feedback(feedback[k : k + 500]) for k in range(0, n, 500)]


@pytest.mark.parametrize(("share", "expected"), [(0.5, "superior"), (0.65, SRM)])
def test_lumps_of_one_variant_flag_only_a_wrong_split(
    tmp_path: Path, share: float, expected: str
) -> None:
    toml = TOML.format(mode="ab").replace("srm_lateness = 5", "srm_lateness = 30")
    processor = make_processor(write_config(tmp_path, toml))
    processor.restore(0, None)
    found = docs(run(processor, list(chunks(lumpy_traffic(3000, share), 8))))
    assert [d["decision"] for d in found if d["kind"] == "decision"] == [expected]
    srm = found[-1]["srm"]
    assert srm["late"] == 0 and sum(srm["counts"].values()) >= 2000
