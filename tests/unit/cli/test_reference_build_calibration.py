"""``reference build --label-column`` fits the score calibration of a binary model
(reference.py, labels/calibration_profile.py); scikit-learn's IsotonicRegression is the oracle."""

from __future__ import annotations

import numpy as np
from load import cbpe_eval
from sklearn.isotonic import IsotonicRegression
from sklearn.metrics import accuracy_score, roc_auc_score

from streamdrift import codec
from streamdrift.config.spec import MonitorSpec
from streamdrift.engine.references import build_profile, parse_reference


def columns(n: int = 3000) -> dict[str, list]:
    rng = np.random.default_rng(8)
    s = np.round(cbpe_eval.scores_of(rng, n), 4)
    y = cbpe_eval.labels_of(rng, s)
    return {"x": rng.random(n).tolist(), "prediction": s.tolist(), "y": y.tolist()}


def test_the_profile_carries_an_isotonic_calibration_its_check_and_reference_metrics() -> None:
    cols = columns()
    doc = build_profile("m", "1", cols, MonitorSpec(), label_column="y")
    cal = parse_reference(codec.dumps(doc)).calibration
    assert cal is not None
    s, y = np.array(cols["prediction"]), np.array(cols["y"])
    oracle = IsotonicRegression(out_of_bounds="clip").fit(s, y)
    grid = np.linspace(0, 1, 501)
    np.testing.assert_allclose(cal.calibration.predict(grid), oracle.predict(grid), atol=1e-12)
    assert cal.reference["accuracy"] == accuracy_score(y, s >= 0.5)
    assert abs(cal.reference["roc_auc"] - roc_auc_score(y, s)) < 1e-12
    check = doc["calibration"]["check"]
    assert check["held_out_rows"] == 600
    # the scores are over-confident by construction: calibration must reduce the error
    assert check["ece_calibrated"] < check["ece_raw"]


def test_regression_and_unlabelled_profiles_carry_no_calibration() -> None:
    cols = columns()
    assert "calibration" not in build_profile("m", "1", cols, MonitorSpec())
    cols["y"] = [float(v) * 3.5 for v in cols["x"]]
    cols["prediction"] = [float(v) * 3.4 for v in cols["x"]]
    assert "calibration" not in build_profile("m", "1", cols, MonitorSpec(), label_column="y")
