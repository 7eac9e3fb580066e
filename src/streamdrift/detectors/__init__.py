"""Sequential drift detectors: River's algorithms behind one small, saveable contract.

``update(x)``, then read ``drift_detected``; ``to_dict()`` / ``from_dict()`` save and
restore the complete state as JSON data. ADWIN, PageHinkley and KSWIN watch real-valued
series (per-window scores); DDM, EDDM, HDDMA and HDDMW watch error streams (1 = wrong).
"""

from streamdrift.detectors.adwin import ADWIN
from streamdrift.detectors.base import STATE_VERSION, BinaryDriftDetector, DriftDetector
from streamdrift.detectors.ddm import DDM
from streamdrift.detectors.eddm import EDDM
from streamdrift.detectors.hddm_a import HDDMA
from streamdrift.detectors.hddm_w import HDDMW
from streamdrift.detectors.kswin import KSWIN
from streamdrift.detectors.page_hinkley import PageHinkley
from streamdrift.detectors.registry import DETECTORS, from_state, make_detector

__all__ = [
    "ADWIN",
    "DDM",
    "DETECTORS",
    "EDDM",
    "HDDMA",
    "HDDMW",
    "KSWIN",
    "STATE_VERSION",
    "BinaryDriftDetector",
    "DriftDetector",
    "PageHinkley",
    "from_state",
    "make_detector",
]
