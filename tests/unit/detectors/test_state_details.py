"""Detector-specific state cases that the conformance suite does not reach."""

from __future__ import annotations

import base64

import orjson
import pytest

from streamdrift.detectors import ADWIN, DDM, HDDMW, KSWIN, PageHinkley

from .cases import bernoulli, gaussian, river_internals


def adwin_state() -> dict[str, object]:
    det = ADWIN()
    det.update_many(gaussian(0, [0.0, 2.0], 300))
    return det.to_dict()


def test_adwin_state_is_readable_next_to_the_rust_bytes() -> None:
    det = ADWIN()
    det.update_many(gaussian(0, [0.0, 2.0], 300))
    state = det.to_dict()["state"]
    assert state["width"] == det.width
    assert state["total"] == pytest.approx(det.estimation * det.width)
    assert state["variance"] == det.variance


@pytest.mark.parametrize(
    "window",
    [
        "not base64!",
        base64.b64encode(b"").decode(),
        base64.b64encode(b"\x00" * 7).decode(),
    ],
)
def test_adwin_rejects_corrupt_window_bytes(window: str) -> None:
    # Truncated bytes make River's Rust code panic; that must surface as ValueError.
    d = adwin_state()
    d["state"] = {**d["state"], "window": window}  # type: ignore[dict-item]
    with pytest.raises(ValueError, match="adwin"):
        ADWIN.from_dict(d)


def test_adwin_rejects_bytes_that_disagree_with_the_summary() -> None:
    d = adwin_state()
    state = dict(d["state"])  # type: ignore[call-overload]
    raw = base64.b64decode(state["window"])
    with pytest.raises(ValueError, match="do not match"):
        ADWIN.from_dict({**d, "state": {**state, "width": state["width"] + 1}})
    with pytest.raises(ValueError, match="do not match"):
        extra = base64.b64encode(raw + b"\x00\x00").decode()
        ADWIN.from_dict({**d, "state": {**state, "window": extra}})


def test_adwin_restores_the_window_exactly() -> None:
    det = ADWIN(clock=1)
    det.update_many(gaussian(1, [0.0, 1.0, 0.5], 400))
    restored = ADWIN.from_dict(orjson.loads(orjson.dumps(det.to_dict())))
    assert (restored.width, restored.estimation, restored.variance) == (
        det.width,
        det.estimation,
        det.variance,
    )


def test_hddm_w_rebuilds_rusts_ewma_byte_for_byte() -> None:
    # HDDM_W stores each EWMA as a float and replays it into a fresh EWMean; River's
    # serialised Rust state must come out identical, in every phase of the stream.
    stream = bernoulli(5, [0.1, 0.6, 0.1], 500).tolist()
    det = HDDMW(two_sided_test=True)
    fired = 0
    for i, x in enumerate(stream):
        det.update(x)
        fired += det.drift_detected
        if i % 37 == 0 or det.drift_detected:
            restored = HDDMW.from_dict(det.to_dict())
            assert river_internals(restored._river) == river_internals(det._river), i
    assert fired >= 2


def test_ddm_fresh_state_holds_infinity_and_none_as_json() -> None:
    state = DDM().to_dict()["state"]
    assert state["ps_min"] == "inf"
    assert state["p_min"] is None
    restored = DDM.from_dict(orjson.loads(orjson.dumps(DDM().to_dict())))
    assert restored._river._ps_min == float("inf")


def test_page_hinkley_keeps_integer_and_infinite_starting_values() -> None:
    state = PageHinkley().to_dict()["state"]
    assert state["min_increase"] == "inf"
    assert state["max_decrease"] == -1 and isinstance(state["max_decrease"], int)


def test_kswin_prefilled_window_survives_reset_and_round_trip() -> None:
    warm = gaussian(2, [0.0], 100).tolist()
    stream = gaussian(3, [0.0, 3.0], 150)
    det = KSWIN(alpha=0.0001, seed=7, window=warm)
    assert det.params["window"] == warm
    fresh = KSWIN.from_dict(det.to_dict())
    assert fresh.update_many(stream) == det.update_many(stream)
    det.reset()
    assert river_internals(det._river) == river_internals(
        KSWIN(alpha=0.0001, seed=7, window=warm)._river
    )


def test_kswin_without_seed_restores_exactly_until_its_next_detection() -> None:
    # seed=None draws from OS entropy; the state carries the generator, so a restored copy
    # continues exactly -- until a detection, where River re-seeds from OS entropy again
    # (River itself is not reproducible past that point without a seed).
    stream = gaussian(4, [0.0, 3.0], 200)
    det = KSWIN()
    det.update_many(stream[:150])
    restored = KSWIN.from_dict(det.to_dict())
    for x in stream[150:].tolist():
        det.update(x)
        restored.update(x)
        assert restored.drift_detected == det.drift_detected
        if det.drift_detected:
            break
        assert river_internals(restored._river) == river_internals(det._river)
    assert det.drift_detected


def test_kswin_rejects_a_window_longer_than_window_size() -> None:
    d = KSWIN(window_size=60, stat_size=30).to_dict()
    d["state"] = {**d["state"], "window": [0.0] * 61}
    with pytest.raises(ValueError, match="window_size"):
        KSWIN.from_dict(d)
