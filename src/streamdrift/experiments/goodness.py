"""Per-request goodness of a prediction given its label: higher is better.

``accuracy``: 1 when the decided class equals the label (``predicted_label`` when the model
names one; else the arg-max of class scores, a score ≥ 0.5 for a 0/1 or boolean label, or
the prediction itself); ``log_loss``: minus the log-loss of the probability the model gave
the label (clipped at 1e-6, so at most 13.8); ``mae``: minus |prediction − label|.
"""

from __future__ import annotations

import math
from typing import Any

from streamdrift.records import predicted_class

EPS = 1e-6


def _is_binary(label: Any) -> bool:
    return type(label) is bool or (type(label) in (int, float) and label in (0, 1))


def goodness(metric: str, prediction: Any, decided: Any, label: Any) -> float:
    if metric == "accuracy":
        if decided is None:
            if isinstance(prediction, dict):
                decided = predicted_class(prediction)
            elif type(prediction) in (int, float) and _is_binary(label):
                decided = int(prediction >= 0.5)
            else:
                decided = prediction
        if _is_binary(label) and _is_binary(decided):
            return float(int(decided) == int(label))
        return float(str(decided) == str(label))
    if metric == "log_loss":
        if isinstance(prediction, dict):
            p = float(prediction.get(str(label), 0.0))
        elif type(prediction) in (int, float) and _is_binary(label):
            p = float(prediction) if int(label) else 1.0 - float(prediction)
        else:
            return math.nan
        return math.log(min(max(p, EPS), 1.0))
    if type(prediction) in (int, float) and type(label) in (int, float, bool):
        return -abs(float(prediction) - float(label))
    return math.nan
