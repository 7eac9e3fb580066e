"""Special functions against scipy over grids that cover every branch."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.special as sp
import scipy.stats as ss

from streamdrift.stats.ks_distribution import kstwo_sf, smirnov_sf
from streamdrift.stats.special import chi2_sf, gammainc, gammaincc, kolmogorov_sf

SHAPES = [0.5, 1.0, 1.5, 2.0, 3.5, 5.0, 10.0, 24.5, 50.0, 100.0, 400.0, 1000.0]


def _assert_close(ours: float, theirs: float, rtol: float, tiny: float = 1e-290) -> None:
    if theirs < tiny:
        assert ours < tiny * 10
    else:
        assert ours == pytest.approx(theirs, rel=rtol), (ours, theirs)


@pytest.mark.parametrize("a", SHAPES)
def test_gammaincc_and_gammainc_match_scipy(a: float) -> None:
    xs = np.concatenate([[0.0, 1e-10, 1e-3, 0.5], np.linspace(0.1, 4 * a + 80, 150), [1e4]])
    for x in xs:
        _assert_close(gammaincc(a, float(x)), float(sp.gammaincc(a, x)), 1e-10)
        _assert_close(gammainc(a, float(x)), float(sp.gammainc(a, x)), 1e-10)


def test_gamma_limits_and_domain() -> None:
    assert gammaincc(2.0, 0.0) == 1.0
    assert gammaincc(2.0, math.inf) == 0.0
    assert gammainc(2.0, math.inf) == 1.0
    for a, x in [(0.0, 1.0), (-1.0, 1.0), (1.0, -1.0), (1.0, math.nan), (math.inf, 1.0)]:
        with pytest.raises(ValueError):
            gammaincc(a, x)


@pytest.mark.parametrize("dof", [1, 2, 3, 5, 9, 20, 49, 200])
def test_chi2_sf_matches_scipy(dof: int) -> None:
    for x in np.concatenate([[0.0, 1e-6], np.linspace(0.01, 5 * dof + 100, 120)]):
        _assert_close(chi2_sf(float(x), dof), float(ss.chi2.sf(x, dof)), 1e-10)


def test_chi2_sf_rejects_bad_dof() -> None:
    with pytest.raises(ValueError):
        chi2_sf(1.0, 0)


def test_kolmogorov_sf_matches_scipy() -> None:
    edges = [0.0, 0.01, 0.04, 0.0407, 0.82, 0.8200001]  # both series and the cut-offs
    for x in np.concatenate([edges, np.linspace(0.05, 9, 900)]):
        _assert_close(kolmogorov_sf(float(x)), float(sp.kolmogorov(x)), 1e-12)
    assert math.isnan(kolmogorov_sf(math.nan))
    assert kolmogorov_sf(-1.0) == 1.0


@pytest.mark.parametrize("n", [1, 2, 3, 7, 10, 50, 139, 140, 500, 2500, 10000])
def test_smirnov_sf_matches_scipy(n: int) -> None:
    ds = np.concatenate([[0.0, 1.0, 1.0 / n, 0.5 / n, 1 - 1.0 / n], np.linspace(1e-4, 0.999, 200)])
    for d in ds:
        _assert_close(smirnov_sf(n, float(d)), float(sp.smirnov(n, d)), 1e-9)


def test_smirnov_sf_domain() -> None:
    for n, d in [(0, 0.5), (5, -0.1), (5, 1.1)]:
        with pytest.raises(ValueError):
            smirnov_sf(n, d)


# Sizes straddle every switch in Simard & L'Ecuyer's algorithm: n <= 140 (Durbin,
# Pomeranz, Smirnov), n > 140 (Durbin, Pelz-Good, Smirnov), n > 100000 (Pelz-Good).
@pytest.mark.parametrize("n", [1, 2, 3, 5, 10, 33, 100, 140, 141, 400, 2500, 9999, 100001])
def test_kstwo_sf_matches_scipy(n: int) -> None:
    root = math.sqrt(n)
    # scipy's own smirnov takes ~0.1 s per call at n=1e5: fewer points for large n.
    num = 120 if n <= 2500 else 15 if n < 50_000 else 8
    ds = np.concatenate(
        [
            [0.0, 0.4 / n, 0.5 / n, 0.75 / n, 1.0 / n, (n - 1) / n, 0.5, 0.75, 1.0],
            np.linspace(1e-4, 0.999, num),
            np.linspace(0.1, 7.0, num) / root,  # the informative range, z = sqrt(n) d
            [math.sqrt(c / n) for c in (0.754693, 2.2, 4.0, 370.0)],
        ]
    )
    for d in ds[(ds >= 0) & (ds <= 1)]:
        _assert_close(kstwo_sf(n, float(d)), float(ss.kstwo.sf(d, n)), 1e-8)


def test_kstwo_sf_edges() -> None:
    assert kstwo_sf(10, -0.5) == 1.0
    assert kstwo_sf(10, 2.0) == 0.0
    assert math.isnan(kstwo_sf(10, math.nan))
    with pytest.raises(ValueError):
        kstwo_sf(0, 0.5)


def test_kstwo_sf_tends_to_kolmogorov_limit() -> None:
    n = 100_001
    for z in (0.5, 1.0, 1.36, 2.0):
        assert kstwo_sf(n, z / math.sqrt(n)) == pytest.approx(kolmogorov_sf(z), rel=5e-3)
