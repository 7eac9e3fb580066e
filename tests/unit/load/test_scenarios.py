"""The synthetic traffic generator (load/): scenario files, determinism, drift where declared,
malformed messages, delayed labels, strict validation, and the evaluation on a tiny run."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from load import evaluate
from load.generate import chunk_step, events_of
from load.scenarios import (
    PREDICTION,
    Chunk,
    Timing,
    TrafficGenerator,
    load_scenario,
)
from load.spec import ScenarioError, parse_scenario

from streamdrift import codec
from streamdrift.records import PredictionBatch

ROOT = Path(__file__).resolve().parents[3]
SCENARIOS = ROOT / "load" / "scenarios"
SHIPPED = sorted(SCENARIOS.glob("*.toml"))
EXPECTED = {
    "sudden",
    "gradual",
    "incremental",
    "recurring",
    "prediction",
    "accuracy_drop",
    "malformed",
    "many_models",
    "stationary",
}


def doc_of(name: str) -> dict[str, Any]:
    return tomllib.loads((SCENARIOS / f"{name}.toml").read_text())


def run(name: str, events: int | None = None, **kwargs: Any) -> list[Chunk]:
    return list(
        TrafficGenerator(load_scenario(SCENARIOS / f"{name}.toml"), **kwargs).chunks(events)
    )


def column(chunks: list[Chunk], name: str) -> np.ndarray:
    return np.concatenate([c.values[name] for c in chunks])


def logit(p: np.ndarray) -> np.ndarray:
    return np.log(p / (1 - p))


# -- files ------------------------------------------------------------------------------------


def test_every_scenario_is_shipped() -> None:
    assert {p.stem for p in SHIPPED} == EXPECTED


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_every_shipped_scenario_loads_and_generates(path: Path) -> None:
    scenario = load_scenario(path)
    assert scenario.name == path.stem
    gen = TrafficGenerator(scenario)
    (chunk,) = gen.chunks(500)
    assert sum(len(b) for b in chunk.batches) + len(chunk.malformed) == 500
    for batch, rows in zip(chunk.batches, chunk.rows, strict=True):
        assert len(rows) == len(batch) and (np.diff(rows) > 0).all()
        assert set(batch.features) == set(scenario.features)
        assert all(type(v) in (float, str, type(None)) for v in next(iter(batch.features.values())))


def test_stationary_has_twenty_features_and_no_drift() -> None:
    scenario = load_scenario(SCENARIOS / "stationary.toml")
    kinds = [type(f).__name__ for f in scenario.features.values()]
    assert len(kinds) == 20 and {"NumericFeature", "CategoricalFeature"} == set(kinds)
    assert scenario.drifts == ()


def test_many_models_has_fifty_models_of_four_segments() -> None:
    scenario = load_scenario(SCENARIOS / "many_models.toml")
    assert len(scenario.models) == 50
    assert all(len(m.segments) == 4 for m in scenario.models)
    (chunk,) = TrafficGenerator(scenario, chunk_size=5000).chunks(5000)
    keys = {b.key for b in chunk.batches}
    assert len(keys) == 200 == len(chunk.batches)


# -- determinism ------------------------------------------------------------------------------


def _snapshot(chunks: list[Chunk]) -> list[Any]:
    out: list[Any] = []
    for c in chunks:
        out.append(
            [(b.key, b.prediction_ids, b.timestamps, b.features, b.predictions) for b in c.batches]
        )
        out.append(c.feedback.to_dicts())
        out.append([(m.index, m.value, m.reason) for m in c.malformed])
    return out


@pytest.mark.parametrize("name", ["sudden", "malformed", "accuracy_drop", "many_models"])
def test_generation_is_deterministic_for_a_seed(name: str) -> None:
    replay = Timing("replay")  # many_models has live timestamps
    first = _snapshot(run(name, 3000, timing=replay))
    assert first == _snapshot(run(name, 3000, timing=replay))
    assert first != _snapshot(run(name, 3000, timing=replay, seed=12345))


def test_timestamps_replay_and_live() -> None:
    scenario = load_scenario(SCENARIOS / "sudden.toml")
    (chunk,) = TrafficGenerator(scenario, timing=Timing("replay", 1000.0, 0.5)).chunks(4)
    assert chunk.timestamps.tolist() == [1000.0, 1000.5, 1001.0, 1001.5]
    live = TrafficGenerator(scenario, timing=Timing("live", rate=100.0), clock=lambda: 5000.0)
    (chunk,) = live.chunks(3)
    assert np.allclose(chunk.timestamps, [5000.0, 5000.01, 5000.02])


# -- drift where declared ---------------------------------------------------------------------


def test_sudden_numeric_shift_is_k_sigma_and_categorical_share_moves_p_points() -> None:
    chunks = run("sudden")
    income = column(chunks, "income")
    before, after = income[6000:10000], income[10000:14000]
    assert (after.mean() - before.mean()) / 12000.0 == pytest.approx(1.0, abs=0.1)
    assert after.std() / 12000.0 == pytest.approx(1.0, abs=0.1)  # a shift, not a spread
    region = column(chunks, "region")
    north_before = np.mean(region[5000:15000] == "north")
    north_after = np.mean(region[15000:] == "north")
    assert north_before == pytest.approx(0.40, abs=0.02)
    assert north_after - north_before == pytest.approx(0.15, abs=0.03)
    # the other categories shrink in proportion
    assert np.mean(region[15000:] == "west") == pytest.approx(0.1 * 0.45 / 0.6, abs=0.02)
    change = {
        cp.feature: cp
        for cp in TrafficGenerator(load_scenario(SCENARIOS / "sudden.toml")).change_points
    }
    assert change["income"].start == 10000 and change["region"].start == 15000
    assert change["income"].streams == ("income", PREDICTION)


def test_gradual_mixes_in_the_new_distribution_linearly() -> None:
    income = column(run("gradual"), "income")
    sigma = 12000.0
    base = income[2000:10000].mean()
    # probability of the shifted distribution: 0.1, 0.3, 0.5, 0.7, 0.9 in fifths of the ramp
    for k, expected in enumerate([0.1, 0.3, 0.5, 0.7, 0.9]):
        part = income[10000 + 1000 * k : 11000 + 1000 * k]
        assert (part.mean() - base) / sigma == pytest.approx(expected, abs=0.1)
    assert (income[16000:].mean() - base) / sigma == pytest.approx(1.0, abs=0.07)
    # a mixture, not a moved mean: in mid-ramp the spread exceeds sigma
    assert income[12000:13000].std() > 1.05 * sigma


def test_incremental_moves_the_mean_linearly() -> None:
    debt = column(run("incremental"), "debt_ratio")
    sigma = 0.6 / np.sqrt(12)
    base = debt[:10000].mean()
    for k, expected in enumerate([0.05, 0.25, 0.45, 0.65, 0.85]):
        part = debt[10000 + 2000 * k : 11000 + 2000 * k]
        assert (part.mean() - base) / sigma == pytest.approx(expected, abs=0.1)
    assert (debt[20000:].mean() - base) / sigma == pytest.approx(1.0, abs=0.05)


def test_recurring_follows_a_sine_with_its_period() -> None:
    chunks = run("recurring", 14000)
    age = column(chunks, "age")
    stamps = np.concatenate([c.timestamps for c in chunks])
    wave = np.sin(2 * np.pi * (stamps - stamps[0]) / 7.0)
    amplitude = np.polyfit(wave, age, 1)[0] / 11.0
    assert amplitude == pytest.approx(1.0, abs=0.07)
    # over whole periods the mean is the base mean
    assert age[:7000].mean() == pytest.approx(41.0, abs=0.5)


def test_prediction_drift_moves_the_logit_and_no_feature() -> None:
    chunks = run("prediction")
    scores = np.concatenate([c.scores for c in chunks])
    assert logit(scores[10000:]).mean() - logit(scores[:10000]).mean() == pytest.approx(
        1.0, abs=0.05
    )
    income = column(chunks, "income")
    assert abs(income[10000:].mean() - income[:10000].mean()) < 0.05 * 12000


def test_drift_restricted_to_one_model() -> None:
    doc = doc_of("many_models")
    doc["drift"][0]["at"] = 20000
    scenario = parse_scenario(doc)
    chunks = list(TrafficGenerator(scenario).chunks(60000))
    amount = column(chunks, "amount")
    models = np.concatenate([c.model_ids for c in chunks])
    sigma = scenario.features["amount"].std  # type: ignore[union-attr]
    hit, rest = models == "fraud-07", models != "fraud-07"
    after = np.arange(len(amount)) >= 20000
    assert (amount[hit & after].mean() - amount[hit & ~after].mean()) / sigma == pytest.approx(
        1.0, abs=0.25
    )
    assert abs(amount[rest & after].mean() - amount[rest & ~after].mean()) / sigma < 0.05


# -- malformed messages -----------------------------------------------------------------------


def test_malformed_messages_are_rejected_and_valid_ones_decode() -> None:
    chunks = run("malformed", 4000)
    bad = [m for c in chunks for m in c.malformed]
    assert len(bad) / 4000 == pytest.approx(0.05, abs=0.015)
    assert {m.reason for m in bad} == {
        "truncated",
        "garbage",
        "not_object",
        "wrong_type",
        "missing_field",
        "bad_value",
    }
    for message in bad:
        with pytest.raises(codec.DecodeError):
            codec.decode_prediction(message.value)
    valid = 0
    for chunk in chunks:
        malformed_rows = {m.index for m in chunk.malformed}
        for batch, rows in zip(chunk.batches, chunk.rows, strict=True):
            assert malformed_rows.isdisjoint(rows.tolist())
            decoded = codec.decode_prediction(codec.encode_prediction_batch(batch))
            assert isinstance(decoded, PredictionBatch)
            assert decoded.features == batch.features
        for index, message, key in events_of(chunk):
            if isinstance(message, bytes):
                assert index in malformed_rows
                continue
            event = codec.decode_prediction(codec.encode_prediction(message))
            assert event.prediction_id == message.prediction_id and key == message.model_id
            valid += 1
    assert valid + len(bad) == 4000


def test_malformed_can_be_switched_off() -> None:
    chunks = run("malformed", 2000, malformed=False)
    assert not any(c.malformed for c in chunks)
    assert sum(len(b) for c in chunks for b in c.batches) == 2000


# -- labels -----------------------------------------------------------------------------------


def test_labels_are_delayed_as_configured_and_released_when_due() -> None:
    gen = TrafficGenerator(load_scenario(SCENARIOS / "malformed.toml"))
    released = []
    for chunk in gen.chunks(3000):
        fb = chunk.feedback
        assert (fb.timestamps <= chunk.timestamps[-1]).all()
        assert (np.diff(fb.timestamps) >= 0).all()
        released.append(fb)
    rest = gen.drain_feedback()
    delays = np.concatenate([f.timestamps - f.prediction_timestamps for f in [*released, rest]])
    assert np.allclose(delays, 5.0)
    valid = sum(len(b) for c in run("malformed", 3000) for b in c.batches)
    assert sum(len(f) for f in released) + len(rest) == valid  # coverage 1, malformed: no label
    assert rest.timestamps.min() > chunk.timestamps[-1]  # what was not due yet


def test_accuracy_drop_coverage_and_exponential_delay() -> None:
    gen = TrafficGenerator(load_scenario(SCENARIOS / "accuracy_drop.toml"))
    scores = {}
    feedback = []
    for chunk in gen.chunks():
        for batch in chunk.batches:
            scores.update(zip(batch.prediction_ids, batch.predictions, strict=True))
        feedback.extend(chunk.feedback.to_dicts())
    rest = gen.drain_feedback()
    feedback.extend(rest.to_dicts())
    assert len(feedback) / 20000 == pytest.approx(0.8, abs=0.02)
    index = np.array([int(f["prediction_id"].rsplit("-", 1)[1]) for f in feedback])
    correct = np.array([f["label"] == int(scores[f["prediction_id"]] >= 0.5) for f in feedback])
    assert correct[index < 10000].mean() == pytest.approx(0.9, abs=0.02)
    assert correct[index >= 10000].mean() == pytest.approx(0.7, abs=0.02)
    sent = 1_767_225_600.0 + index * 0.01  # replay timing: start + i * spacing
    delays = np.array([f["timestamp"] for f in feedback]) - sent
    assert delays.min() >= 0 and delays.mean() == pytest.approx(30.0, rel=0.05)
    assert {type(f["label"]) for f in feedback} == {int}


# -- strict validation ------------------------------------------------------------------------


def _error(doc: dict[str, Any]) -> str:
    with pytest.raises(ScenarioError) as info:
        parse_scenario(doc)
    return str(info.value)


def test_unknown_keys_are_named() -> None:
    doc = doc_of("sudden")
    doc["drift"][0]["shfit"] = doc["drift"][0].pop("shift")
    message = _error(doc)
    assert message.startswith("drift[0].shfit: unknown key; did you mean 'shift'?")
    doc = doc_of("sudden")
    doc["extra"] = {}
    assert _error(doc).startswith("extra: unknown key")
    doc = doc_of("sudden")
    doc["features"]["income"]["scale"] = 3.0
    assert _error(doc).startswith("features.income.scale: unknown key")
    doc = doc_of("sudden")
    doc["scenario"]["seeed"] = 1
    assert "scenario.seeed: unknown key; did you mean 'seed'?" in _error(doc)
    doc = doc_of("accuracy_drop")
    doc["labels"]["delay"]["median"] = 3.0
    assert _error(doc).startswith("labels.delay.median: unknown key")


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: d["drift"][0].update(feature="salary"), "drift[0].feature: no feature 'salary'"),
        (
            lambda d: d["drift"][0].update(category="north"),
            "drift[0].category: 'income' is numeric",
        ),
        (lambda d: d["drift"][1].update(points=70.0), "drift[1].points: the share of 'north'"),
        (lambda d: d["drift"][1].update(category="central"), "drift[1].category: 'central' is not"),
        (lambda d: d["drift"][0].update(at="10000"), "drift[0].at: expected an integer"),
        (lambda d: d["drift"][0].update(kind="sideways"), "drift[0].kind: expected one of"),
        (lambda d: d["drift"][0].pop("at"), "drift[0].at: required"),
        (lambda d: d["drift"][0].update(models=["nope"]), "drift[0].models: no model 'nope'"),
        (
            lambda d: d["features"]["region"].update(probabilities=[0.5, 0.5, 0.5, 0.1]),
            "must sum to 1",
        ),
        (lambda d: d["features"]["income"].update(std=-1.0), "features.income.std: must be > 0"),
        (
            lambda d: d["features"]["income"].update(distribution="cauchy"),
            "features.income.distribution",
        ),
        (lambda d: d["models"][0].update(replicas=3), "models[0].id: with replicas = 3"),
        (lambda d: d["prediction"]["weights"].update(salary=1.0), "prediction.weights.salary"),
        (
            lambda d: (
                d["timing"].update(mode="fast")
                if "timing" in d
                else d.update(timing={"mode": "fast"})
            ),
            "timing.mode",
        ),
        (lambda d: d["scenario"].update(events=True), "scenario.events: expected an integer"),
        (
            lambda d: d["drift"].append({"kind": "accuracy_drop", "at": 5, "accuracy": 0.5}),
            "needs a [labels] table",
        ),
    ],
)
def test_invalid_values_are_rejected_with_the_key(change: Any, expected: str) -> None:
    doc = doc_of("sudden")
    change(doc)
    assert expected in _error(doc)


def test_file_errors_name_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "broken.toml"
    bad.write_text("[scenario\n")
    with pytest.raises(ScenarioError, match=r"^broken\.toml: not valid TOML"):
        load_scenario(bad)
    with pytest.raises(ScenarioError, match="no such scenario file"):
        load_scenario(tmp_path / "missing.toml")


# -- the CLIs ---------------------------------------------------------------------------------


def test_generate_help_and_pacing() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "load.generate", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    for flag in ("--scenario", "--broker", "--rate", "--max", "--events", "--envelopes", "--seed"):
        assert flag in result.stdout
    assert chunk_step(None) == 1000 and chunk_step(5000) == 100 and chunk_step(10) == 1


def test_evaluation_runs_on_a_tiny_configuration(tmp_path: Path) -> None:
    doc = doc_of("sudden")
    doc["scenario"].update(name="tiny", events=5000, horizon=1500)
    doc["drift"] = [{"kind": "sudden", "feature": "income", "at": 3000, "shift": 2.0}]
    path = tmp_path / "tiny.toml"
    path.write_text(_toml(doc))
    report = evaluate.evaluate(
        evaluate.Sizes(stationary_events=4000, kswin_streams=1, kswin_events=500),
        scenarios=[path],
        out=tmp_path / "results",
        plots=False,
    )
    (result,) = report["scenarios"]
    sd = result["methods"]["streamdrift"]
    assert sd["delays"] == [999] and sd["misses"] == 0 and sd["false_alarms"] == 0
    for method in ("ADWIN", "PageHinkley", "KSWIN"):
        assert result["methods"][method]["misses"] in (0, 1)
    still = report["stationary"]
    assert still["events"] == 4000 and still["KSWIN"]["events_per_stream"] == 500
    markdown = (tmp_path / "results" / "evaluation.md").read_text()
    assert "| streamdrift | 999 / 0 / 0 |" in markdown
    assert (tmp_path / "results" / "evaluation.json").exists()


def test_evaluation_plot(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    doc = doc_of("sudden")
    doc["scenario"].update(name="tiny", events=4000, horizon=1000)
    doc["drift"] = [{"kind": "sudden", "feature": "income", "at": 2500, "shift": 2.0}]
    observed = evaluate.observe_scenario(
        parse_scenario(doc), evaluate._Inline(), methods=("streamdrift", "ADWIN")
    )
    evaluate.finish(observed)
    evaluate.plot(observed, tmp_path / "tiny.png")
    assert (tmp_path / "tiny.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _toml(doc: dict[str, Any], prefix: str = "") -> str:
    """A tiny TOML writer for the test documents (tables, arrays of tables, scalars)."""

    def value(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, str):
            return '"' + v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        if isinstance(v, dict):
            return "{" + ", ".join(f'"{k}" = {value(x)}' for k, x in v.items()) + "}"
        return repr(v)

    lines = []
    for key, v in doc.items():
        name = f"{prefix}{key}"
        if isinstance(v, dict):
            lines.append(f"[{name}]")
            lines.extend(f'"{k}" = {value(x)}' for k, x in v.items())
        elif isinstance(v, list) and v and isinstance(v[0], dict):
            for item in v:
                lines.append(f"[[{name}]]")
                lines.extend(f'"{k}" = {value(x)}' for k, x in item.items())
        else:
            lines.insert(0, f'"{key}" = {value(v)}')
    return "\n".join(lines) + "\n"
