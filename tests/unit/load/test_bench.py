"""The benchmark's pure parts: percentiles, ratios, tables, the result protocol, the data it
produces. No broker and no timed assertions."""

from __future__ import annotations

import io
import math
from contextlib import redirect_stdout

import numpy as np
import pytest
from load import bench, bench_data
from load.bench_common import (
    emit,
    fmt_bytes,
    fmt_int,
    fmt_seconds,
    format_table,
    parse_result,
    percentile,
    ratio,
    ratio_line,
)
from load.bench_floor import RequiredWork

from streamdrift import codec
from streamdrift.records import PredictionBatch, PredictionEvent


@pytest.mark.parametrize("q", [0, 10, 50, 90, 99, 100])
def test_percentile_matches_numpy(q: float) -> None:
    values = [0.51, 0.49, 0.8, 0.55, 1.2, 0.5, 0.52]
    assert percentile(values, q) == pytest.approx(float(np.percentile(values, q)))


def test_percentile_edges() -> None:
    assert percentile([3.0], 99) == 3.0
    assert math.isnan(percentile([], 50))
    with pytest.raises(ValueError):
        percentile([1.0], 101)


def test_ratio_and_ratio_lines() -> None:
    assert ratio(30.0, 10.0) == 3.0
    assert math.isnan(ratio(None, 10.0))
    assert math.isnan(ratio(1.0, 0.0))
    assert ratio_line("single_vs_baseline", 5.789) == "ratio single_vs_baseline=5.79"
    assert ratio_line("batch_vs_limit", math.nan) == "ratio batch_vs_limit=nan"


def test_final_lines_are_the_four_ratios() -> None:
    results = {
        "faust": {"rate": 4000.0},
        "single": {"rate": 24000.0},
        "limit_single": {"rate": 96000.0},
        "limit_envelopes": {"rate": 1_000_000.0},
        "floor_envelopes": {"rate": 800_000.0},
        "envelopes": {"rate": 600_000.0},
    }
    assert bench.ratios(results) == [
        "ratio single_vs_baseline=6.00",
        "ratio batch_vs_limit=0.60",
        "ratio single_vs_limit=0.25",
        "ratio batch_vs_floor=0.75",
    ]
    assert bench.ratios({}) == [
        "ratio single_vs_baseline=nan",
        "ratio batch_vs_limit=nan",
        "ratio single_vs_limit=nan",
        "ratio batch_vs_floor=nan",
    ]


def test_format_table_aligns_columns() -> None:
    text = format_table(["name", "events/s"], [["a", "1,000"], ["longer name", "25"]])
    lines = text.splitlines()
    assert lines[0] == "| name        | events/s |"
    assert lines[1] == "|-------------|---------:|"  # numeric column: right-aligned
    assert lines[2] == "| a           |    1,000 |"
    assert len({len(line) for line in lines}) == 1
    with pytest.raises(ValueError):
        format_table(["a", "b"], [["only one"]])


def test_formatters() -> None:
    assert fmt_int(1234567.4) == "1,234,567"
    assert fmt_int(None) == "–"
    assert fmt_int(math.nan) == "–"
    assert fmt_bytes(512) == "512 B"
    assert fmt_bytes(2048) == "2.0 KiB"
    assert fmt_bytes(3 * 1024 * 1024) == "3.0 MiB"
    assert fmt_seconds(0.5143) == "514 ms"
    assert fmt_seconds(12.34) == "12.3 s"


def test_result_protocol_round_trip() -> None:
    out = io.StringIO()
    with redirect_stdout(out):
        print("some progress")
        emit({"rate": 1.5, "events": 10})
    assert parse_result(out.getvalue()) == {"rate": 1.5, "events": 10}
    # a logging prefix in front of the line (Faust redirects stdout to its logger)
    assert parse_result('[WARNING] BENCH_RESULT {"a": 1}\n') == {"a": 1}
    with pytest.raises(ValueError):
        parse_result("nothing here\n")


def test_owned_lines() -> None:
    assert bench.owned_by("OWNED 0,1,7") == frozenset({0, 1, 7})
    assert bench.owned_by("OWNED ") == frozenset()
    assert bench.owned_by("something else") is None


def test_combine_two_workers() -> None:
    a = {
        "partitions": [0, 1],
        "events": 600,
        "messages": 600,
        "first": 10.0,
        "last": 12.0,
        "seconds": 2.0,
        "rate": 300.0,
        "in_processor": 1.5,
        "checkpoint_seconds": 0.1,
    }
    b = {
        "partitions": [2, 3],
        "events": 400,
        "messages": 400,
        "first": 10.5,
        "last": 14.0,
        "seconds": 3.5,
        "rate": 114.0,
        "in_processor": 2.0,
        "checkpoint_seconds": 0.2,
    }
    both = bench.combine([a, b])
    assert both["events"] == 1000
    assert both["seconds"] == 4.0  # from the first start to the last end
    assert both["rate"] == 250.0
    assert both["worker_seconds"] == 5.5 and both["checkpoint_seconds"] == pytest.approx(0.3)
    assert both["broker_cpu"] == [None, None]  # no readings: no broker share
    a.update(cpu_seconds=1.8, broker_cpu=[100.0, 100.8])
    b.update(cpu_seconds=3.0, broker_cpu=[100.2, 101.6])
    both = bench.combine([a, b])
    assert both["cpu_seconds"] == pytest.approx(4.8)
    assert both["broker_cpu"] == [100.0, 101.6]  # the earliest and the latest reading


def test_throughput_table_marks_failures_and_ratios() -> None:
    results = {
        "faust": {"events": 100, "seconds": 1.0, "rate": 100.0},
        "single": {
            "events": 100,
            "seconds": 0.25,
            "rate": 400.0,
            "in_processor": 0.2,
            "checkpoint_seconds": 0.025,
        },
    }
    text = bench.throughput_table(results)
    single = next(line for line in text.splitlines() if "(c)" in line)
    assert "4.00×" in single and "80%" in single and "10%" in single
    limit = next(line for line in text.splitlines() if "(a) limit:" in line)
    assert "failed" in limit


def test_model_ids_fill_every_partition_once() -> None:
    ids = bench_data.model_ids()
    assert len(set(ids)) == bench_data.MODELS
    partitions = [bench_data.murmur2_partition(m.encode()) for m in ids]
    assert sorted(partitions) == list(range(bench_data.PARTITIONS))


def test_murmur2_matches_kafka() -> None:
    # values of Kafka's Utils.murmur2 (org.apache.kafka.common.utils.UtilsTest)
    from aiokafka.partitioner import murmur2

    assert murmur2(b"21") == -973932308 & 0xFFFFFFFF  # aiokafka returns it unsigned
    assert murmur2(b"foobar") == -790332482 & 0xFFFFFFFF
    assert bench_data.murmur2_partition(b"21", 8) == (-973932308 & 0x7FFFFFFF) % 8


def test_both_encodings_carry_the_same_events() -> None:
    encoded = bench_data.encode(3000, envelope_rows=100)
    assert len(encoded.single) == 3000
    assert sum(encoded.envelope_events) == 3000
    singles = [codec.decode_prediction(v) for _, v in encoded.single]
    batches = [codec.decode_prediction(v) for _, v in encoded.envelopes]
    assert all(isinstance(e, PredictionEvent) for e in singles)
    assert all(isinstance(b, PredictionBatch) and len(b) <= 100 for b in batches)
    ids_single = {e.prediction_id for e in singles}  # type: ignore[union-attr]
    ids_env = {i for b in batches for i in b.prediction_ids}  # type: ignore[union-attr]
    assert ids_single == ids_env
    # every message is keyed by its model, on that model's own partition
    for key, value in encoded.single[:50]:
        assert codec.loads(value)["model_id"].encode() == key
    counts = encoded.counts(envelopes=True)
    assert sum(m for m, _ in counts.values()) == len(encoded.envelopes)
    assert sum(e for _, e in counts.values()) == 3000
    assert encoded.counts(envelopes=False) == {p: [e, e] for p, (_, e) in counts.items()}


def test_scenario_features_and_drift() -> None:
    scenario = bench_data.scenario(drift_at=5000)
    assert set(scenario.features) == set(bench_data.FEATURES)
    assert [d.feature for d in scenario.drifts] == [bench_data.DRIFT_FEATURE]


def test_floor_row_and_line() -> None:
    results = {
        "limit_envelopes": {"events": 100, "seconds": 0.1, "rate": 1000.0},
        "floor_envelopes": {"events": 100, "seconds": 0.25, "rate": 400.0},
        "envelopes": {"events": 100, "seconds": 1.0, "rate": 100.0},
    }
    floor = next(line for line in bench.throughput_table(results).splitlines() if "(a')" in line)
    assert "0.40×" in floor
    assert bench.floor_lines(results)[0].startswith("Floor: (a')/(a) = 0.40; (d)/(a') = 0.25")
    assert bench.floor_lines({}) == []


def test_floor_work_closes_one_window_per_1000_rows_of_a_model() -> None:
    from load.bench_floor import FloorWork

    work = FloorWork(window=1000)
    encoded = bench_data.encode(40_000, envelope_rows=300)
    per_model: dict[str, int] = {}
    for _, value in encoded.envelopes:
        doc = codec.loads(value)
        n = work.add(doc)
        per_model[doc["model_id"]] = per_model.get(doc["model_id"], 0) + n
    assert sum(per_model.values()) == 40_000
    assert work.windows == sum(n // 1000 for n in per_model.values())
    assert work.held == {m: n % 1000 for m, n in per_model.items()}
    model = next(iter(work.numeric))
    assert set(work.categorical[model]) == set(bench_data.CATEGORICAL)
    assert set(work.numeric[model]) == {"timestamp", "prediction", *bench_data.NUMERIC}


def test_required_line_compares_d_with_the_required_work() -> None:
    results = {
        "limit_envelopes": {"events": 100, "seconds": 0.1, "rate": 1000.0},
        "floor_envelopes": {"events": 100, "seconds": 0.25, "rate": 400.0},
        "required_envelopes": {"events": 100, "seconds": 0.5, "rate": 200.0},
        "envelopes": {"events": 100, "seconds": 1.0, "rate": 100.0},
    }
    lines = bench.floor_lines(results)
    assert lines[1].startswith("Required work: (a'')/(a') = 0.50:")
    assert lines[1].endswith("; (d)/(a'') = 0.50.")
    row = next(line for line in bench.throughput_table(results).splitlines() if "(a'')" in line)
    assert "0.20×" in row  # × (a)
    without = {k: v for k, v in results.items() if k != "required_envelopes"}
    assert len(bench.floor_lines(without)) == 1


def _required_work(drift_at: int | None) -> tuple[RequiredWork, dict[str, int]]:
    work = RequiredWork(window=1000)
    rows: dict[str, int] = {}
    gen = bench_data.generator(drift_at=drift_at, chunk_size=2000)
    for chunk in gen.chunks(24_000):
        for batch in chunk.batches:
            n = work.add(codec.loads(codec.encode_prediction_batch(batch)))
            rows[batch.model_id] = rows.get(batch.model_id, 0) + n
    return work, rows


def test_required_work_indexes_checks_and_tests_every_window() -> None:
    work, rows = _required_work(None)
    assert len(work.slots) == sum(rows.values()) == 24_000 and work.bad_types == 0
    assert work.windows == sum(n // 1000 for n in rows.values())
    model = next(iter(work.numeric))
    # a reference per model and tested column; the clock is not a feature
    assert {name for m, name in work.edges if m == model} == {"prediction", *bench_data.NUMERIC}
    assert {name for m, name in work.shares if m == model} == set(bench_data.CATEGORICAL)
    drifted, _ = _required_work(drift_at=6_000)
    assert drifted.psi_sum > 3 * work.psi_sum  # income moved by 2σ in every model
    work.add({"model_id": "m", "prediction_id": ["a"], "timestamp": [1.0],
              "features": {"flag": [True]}})  # fmt: skip
    assert work.bad_types == 1  # a boolean is not a number


def test_required_single_work_does_the_envelope_work_on_columns_per_fetch() -> None:
    from load.bench_floor import RequiredSingleWork

    encoded = bench_data.encode(24_000, envelope_rows=300)  # 3 windows a model: 2 tested
    single, envelopes = RequiredSingleWork(), RequiredWork()
    for lo in range(0, len(encoded.single), 700):  # fetches of 700 messages
        for _, value in encoded.single[lo : lo + 700]:
            assert single.add(codec.loads(value)) == 1
        single.flush()
        assert single.runs == {}
    for _, value in encoded.envelopes:
        envelopes.add(codec.loads(value))
    # the same events: the same ids, windows, references and statistics either way
    assert single.work.slots.keys() == envelopes.slots.keys()
    assert single.windows == envelopes.windows > 0
    assert single.work.edges.keys() == envelopes.edges.keys()
    assert single.work.psi_sum == pytest.approx(envelopes.psi_sum)
    assert envelopes.psi_sum > 0 and envelopes.chi2_sum > 0  # windows were tested
    assert single.work.chi2_sum == pytest.approx(envelopes.chi2_sum)
    assert single.work.bad_types == 0


def test_required_single_line() -> None:
    results = {
        "limit_single": {"events": 100, "seconds": 0.5, "rate": 200.0},
        "required_single": {"events": 100, "seconds": 1.0, "rate": 100.0},
        "single": {"events": 100, "seconds": 2.0, "rate": 50.0},
    }
    (line,) = bench.required_single_line(results)
    assert line.startswith("Single events: (a'')/(a) = 0.50:")
    assert line.endswith("; (c)/(a'') = 0.50.")
    assert bench.required_single_line({"limit_single": results["limit_single"]}) == []


def test_cpu_seconds_reads_a_live_process_and_none_otherwise() -> None:
    import os

    from load.bench_common import cpu_seconds

    before = cpu_seconds(os.getpid())
    assert before is not None and before > 0
    sum(i * i for i in range(2_000_000))  # burn some CPU
    after = cpu_seconds(os.getpid())
    assert after is not None and after > before
    assert cpu_seconds(None) is None
    assert cpu_seconds(2**22 + 12345) is None  # beyond pid_max: no such process


def test_cpu_lines_say_what_two_workers_at_the_target_need() -> None:
    results = {
        "single": {"seconds": 2.0, "cpu_seconds": 1.9, "broker_cpu": [10.0, 10.8]},
        "envelopes": {"seconds": 1.0, "cpu_seconds": 0.9},  # no broker reading: left out
        "two_workers": {"seconds": 2.0, "cpu_seconds": 3.0, "broker_cpu": [20.0, 20.9]},
    }
    assert bench.cores(results["single"]) == pytest.approx((0.95, 0.4))
    assert bench.cores(results["envelopes"]) is None
    (line,) = bench.cpu_lines(results)
    assert "(c) workers 0.95 + broker 0.40; (e) workers 1.50 + broker 0.45" in line
    assert "(d)" not in line
    assert "two workers at 1.8× one need 2.43 cores" in line
    assert bench.cpu_lines({}) == []
