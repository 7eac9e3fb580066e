"""What River's default parameters do on stationary data (River 0.26.1).

These pin the observations behind the non-default parameters of the quiet test in
``cases.py`` and the warnings in the detector docstrings. They describe River, not a
wish: if a River release changes them, revisit those parameters and docstrings.
"""

from __future__ import annotations

from streamdrift.detectors import make_detector

from .cases import bernoulli, gaussian


def test_page_hinkley_defaults_assume_small_scale_inputs() -> None:
    # delta and threshold are in units of x: noisy at sigma = 1, quiet at sigma = 0.1.
    unit = [make_detector("page_hinkley").update_many(gaussian(s, [0.0], 5000)) for s in range(3)]
    assert all(len(fired) >= 2 for fired in unit), unit
    tenth = [
        make_detector("page_hinkley").update_many(0.1 * gaussian(s, [0.0], 5000)) for s in range(3)
    ]
    assert tenth == [[], [], []]


def test_kswin_default_alpha_raises_false_alarms() -> None:
    fired = make_detector("kswin", seed=42).update_many(gaussian(0, [0.0], 1000))
    assert fired  # one KS test per value at alpha=0.005
    assert make_detector("kswin", alpha=0.0001, seed=42).update_many(gaussian(0, [0.0], 1000)) == []


def test_ddm_defaults_raise_false_alarms_on_a_stable_error_rate() -> None:
    fired = [make_detector("ddm").update_many(bernoulli(s, [0.1], 5000)) for s in range(3)]
    assert all(fired), fired
    assert min(f[0] for f in fired) < 100  # right after the 30-value warm start


def test_eddm_defaults_are_very_noisy() -> None:
    defaults = [len(make_detector("eddm").update_many(bernoulli(s, [0.1], 5000))) for s in range(3)]
    assert min(defaults) >= 10, defaults
    rivers_example = [
        len(make_detector("eddm", alpha=0.8, beta=0.75).update_many(bernoulli(s, [0.1], 5000)))
        for s in range(3)
    ]
    assert sum(rivers_example) >= 5, rivers_example
