"""``reference build --label-column`` on class probabilities fits one isotonic map per
class (reference.py, labels/multiclass_calibration.py); scikit-learn is the oracle."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from load import cbpe_multiclass as data
from sklearn.isotonic import IsotonicRegression
from sklearn.metrics import accuracy_score, f1_score

from streamdrift import codec
from streamdrift.config.spec import MonitorSpec
from streamdrift.engine.references import build_profile, parse_reference, read_columns
from streamdrift.labels.multiclass_calibration import MulticlassCalibrationProfile
from streamdrift.records import PREDICTION


def write_jsonl(path: Path, n: int = 4000) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(8)
    z = data.logits_of(rng, n)
    raw, y = data.outputs_of(z), data.labels_of(rng, z)
    with path.open("w") as f:
        for x, p, k in zip(rng.random(n).tolist(), data.as_dicts(raw), y.tolist(), strict=True):
            f.write(json.dumps({"x": x, "prediction": p, "y": data.CLASSES[k]}) + "\n")
    return raw, y


def test_the_profile_carries_a_one_vs_rest_calibration_its_checks_and_macro_metrics(
    tmp_path: Path,
) -> None:
    raw, y = write_jsonl(tmp_path / "ref.jsonl")
    doc = build_profile("m", "1", read_columns(tmp_path / "ref.jsonl"), MonitorSpec(),
                        label_column="y")  # fmt: skip
    cal = parse_reference(codec.dumps(doc)).calibration
    assert isinstance(cal, MulticlassCalibrationProfile)
    assert cal.calibration.classes == data.CLASSES
    grid = data.outputs_of(data.logits_of(np.random.default_rng(9), 1000))
    oracle = np.column_stack(
        [
            IsotonicRegression(out_of_bounds="clip").fit(raw[:, k], y == k).predict(grid[:, k])
            for k in range(len(data.CLASSES))
        ]
    )
    expected = oracle / oracle.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(cal.calibration.predict(grid), expected, atol=1e-12)
    yhat = raw.argmax(axis=1)
    assert cal.reference["accuracy"] == accuracy_score(y, yhat)
    assert abs(cal.reference["f1"] - f1_score(y, yhat, average="macro")) < 1e-12
    assert cal.reference["rows"] == 4000
    check = doc["calibration"]["check"]
    assert check["held_out_rows"] == 800
    # the model is over-confident by construction: calibration must reduce the errors
    assert check["ece_calibrated"] < check["ece_raw"]
    for c in data.CLASSES:
        assert check[f"ece_calibrated_{c}"] < check[f"ece_raw_{c}"], c


def test_decided_classes_without_probabilities_carry_no_calibration() -> None:
    rng = np.random.default_rng(10)
    y = [data.CLASSES[k] for k in rng.integers(4, size=500)]
    cols = {"x": rng.random(500).tolist(), "prediction": list(reversed(y)), "y": y}
    doc = build_profile("m", "1", cols, MonitorSpec(), label_column="y")
    assert doc["performance"]["task"] == "multiclass" and "calibration" not in doc


def test_class_probabilities_are_profiled_as_their_decided_class_as_online(
    tmp_path: Path,
) -> None:
    raw, _ = write_jsonl(tmp_path / "ref.jsonl", n=500)
    doc = build_profile("m", "1", read_columns(tmp_path / "ref.jsonl"), MonitorSpec())
    prediction = doc["profiles"][PREDICTION]
    assert set(prediction["categories"]) == {data.CLASSES[k] for k in raw.argmax(axis=1)}
