"""How a stream is cut into windows: the spec every window buffer is built from."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["WindowSpec", "finite_number"]


_KINDS = ("count", "time")


def finite_number(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{name} must be a number, got {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return float(value)


@dataclass(frozen=True, slots=True)
class WindowSpec:
    """How a stream is cut into windows.

    ``kind``: ``"count"`` (``size``/``slide`` in events, integers) or ``"time"`` (seconds of
    event time). ``slide``: ``None`` for tumbling windows, else ``0 < slide <= size``.
    ``allowed_lateness``: seconds a time window stays open after its end (ignored by count
    windows, whose order is the arrival order).
    """

    kind: str = "count"
    size: float = 1000
    slide: float | None = None
    allowed_lateness: float = 0.0

    def __post_init__(self) -> None:
        if self.kind not in _KINDS:
            raise ValueError(f"kind must be 'count' or 'time', got {self.kind!r}")
        size = finite_number("size", self.size)
        if size <= 0:
            raise ValueError(f"size must be > 0, got {self.size!r}")
        slide = None if self.slide is None else finite_number("slide", self.slide)
        if slide is not None and not 0 < slide <= size:
            raise ValueError(f"slide must satisfy 0 < slide <= size, got {self.slide!r}")
        lateness = finite_number("allowed_lateness", self.allowed_lateness)
        if lateness < 0:
            raise ValueError(f"allowed_lateness must be >= 0, got {self.allowed_lateness!r}")
        if self.kind == "count":
            if not size.is_integer():
                raise ValueError(f"size must be a whole number of events, got {self.size!r}")
            if slide is not None and not slide.is_integer():
                raise ValueError(f"slide must be a whole number of events, got {self.slide!r}")
            object.__setattr__(self, "size", int(size))
            object.__setattr__(self, "slide", None if slide is None else int(slide))
        else:
            object.__setattr__(self, "size", size)
            object.__setattr__(self, "slide", slide)
        object.__setattr__(self, "allowed_lateness", lateness)

    @property
    def step(self) -> float:
        """Distance between consecutive window starts: ``slide``, or ``size`` when tumbling."""
        return self.size if self.slide is None else self.slide

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "size": self.size,
            "slide": self.slide,
            "allowed_lateness": self.allowed_lateness,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> WindowSpec:
        return cls(d["kind"], d["size"], d["slide"], d["allowed_lateness"])
