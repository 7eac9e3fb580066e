"""Shadow mode and the model's label join: the challenger's second prediction under the
champion's ``prediction_id`` is not a duplicate there, and no row of it is lost."""

from __future__ import annotations

from pathlib import Path

from tests.unit.engine.test_processor import make_processor, run, write_config
from tests.unit.engine.test_processor_experiments import TOML, docs, traffic

from streamdrift.config.experiments import ExperimentSpec
from streamdrift.experiments.shadow import served
from streamdrift.records import PredictionBatch


def test_only_the_rows_of_a_shadow_challenger_are_left_out() -> None:
    specs = {
        "s": ExperimentSpec("s", {"a": 0.5, "b": 0.5}, mode="shadow"),
        "ab": ExperimentSpec("ab", {"a": 0.5, "b": 0.5}, mode="ab"),
    }
    batch = PredictionBatch(
        "m", "1", None, ["r1", "r1", "r2", "r3", "r4"], [1.0, 1.0, 2.0, 3.0, 4.0],
        {"x": [1.0, 1.0, 2.0, 3.0, 4.0]}, [0.1, 0.9, 0.2, 0.3, 0.4],
        predicted_labels=[0, 1, 0, 0, 0],
        experiments=["s", "s", None, "ab", "unknown"],
        variants=["a", "b", None, "b", "b"],
    )  # fmt: skip
    (kept,) = served([batch], specs)
    assert kept.prediction_ids == ["r1", "r2", "r3", "r4"]
    assert kept.predictions == [0.1, 0.2, 0.3, 0.4] and kept.predicted_labels == [0, 0, 0, 0]
    assert kept.features == {"x": [1.0, 2.0, 3.0, 4.0]} and kept.variants == ["a", None, "b", "b"]
    plain = PredictionBatch("m", "1", None, ["p"], [1.0], {}, [0.5])
    assert served([plain, batch], {"ab": specs["ab"]}) == [plain, batch]
    only_shadow = PredictionBatch(
        "m", "1", None, ["r1"], [1.0], {}, [0.9], experiments=["s"], variants=["b"]
    )
    assert served([only_shadow], specs) == []


def test_shadow_predictions_are_no_duplicates_in_the_label_join(tmp_path: Path) -> None:
    processor = make_processor(write_config(tmp_path, TOML.format(mode="shadow")))
    processor.restore(0, None)
    found = docs(run(processor, [traffic(3000, mode="shadow")]))
    assert [d["decision"] for d in found if d["kind"] == "decision"] == ["superior"]
    join = processor.states[0].labels.join
    assert join.duplicate_predictions == {}  # was {"m": 3000}: every challenger row
    assert join.predictions_seen == {"m": 3000} and join.labelled == {"m": 3000}
    assert join.pending_predictions == 0
