"""The engine as the consumer loop drives it, for tests that read what was published.

:class:`Processor` is the real :class:`streamdrift.engine.processor.Processor`; each
:class:`~streamdrift.engine.update.Update` it returns is recorded in ``metrics`` and its
records come back as a list, exactly as ``kafka/runner.py`` does (``_apply``, the spill
segment count, the gauges of a checkpointed partition). Tests of the Update itself call
the engine directly (``test_update.py``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from streamdrift.config.settings import Settings
from streamdrift.config.spec import ModelSpecs
from streamdrift.engine import processor as engine
from streamdrift.engine.messages import InputRecord, OutputRecord
from streamdrift.engine.partition import PartitionState
from streamdrift.engine.update import Update
from streamdrift.labels.spill_store import OpenSpillStore
from streamdrift.metrics import Metrics


class Processor(engine.Processor):
    def __init__(
        self,
        settings: Settings,
        metrics: Metrics | None = None,
        specs: ModelSpecs | None = None,
        clock: Callable[[], float] = time.time,
        spill_store: OpenSpillStore | None = None,
    ) -> None:
        super().__init__(settings, specs, clock, spill_store)
        self.metrics = metrics or Metrics()

    def _fed(self, update: Update) -> list[OutputRecord]:
        self.metrics.record(update)
        return update.records

    def process(self, partition: int, records: Sequence[InputRecord]) -> Any:
        return self._fed(super().process(partition, records))

    def tick(self, partition: int, now: float | None = None) -> Any:
        return self._fed(super().tick(partition, now))

    def set_reference(self, *args: Any, **kwargs: Any) -> Any:
        return self._fed(super().set_reference(*args, **kwargs))

    def take_pending(self) -> Any:
        return self._fed(super().take_pending())

    def restore(
        self,
        partition: int,
        snapshot: dict[str, Any] | None,
        segments: Mapping[int, bytes] | None = None,
    ) -> PartitionState:
        return super().restore(partition, snapshot, segments)

    def take_spilled(self, partitions: Sequence[int], topic: str) -> list[OutputRecord]:
        out = super().take_spilled(partitions, topic)
        self.metrics.join_spill_segments.inc(len(out))
        return out

    def snapshot(self, partition: int) -> dict[str, Any]:
        snapshot = super().snapshot(partition)
        self.metrics.record_state(self.gauges(partition))
        return snapshot
