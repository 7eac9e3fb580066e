"""Where the engine sends what it cannot monitor: one record on the dead-letter topic each,
with the reason and origin in headers, counted in the Update and logged.

Three ways in: a message the codec rejects (or rows of an envelope it rejects: the message
goes whole, its bad rows named in a header), feedback of a model the partition does not
know (``unknown_model``), and predictions past the ``max_models`` / ``max_versions`` caps
(logged once per cap, not per message).
"""

from __future__ import annotations

import logging

from streamdrift.config.runtime import RuntimeSpec
from streamdrift.engine.messages import H_ROWS, InputRecord, OutputRecord, dead_letter
from streamdrift.engine.runtime import TOO_MANY_MODELS
from streamdrift.engine.update import Update

log = logging.getLogger(__name__)

__all__ = ["DeadLetters"]


class DeadLetters:
    def __init__(self, topic: str, runtime: RuntimeSpec) -> None:
        self.topic = topic
        self.runtime = runtime
        self._caps_hit: set[str] = set()  # caps already logged (one line per cap)

    def reject(
        self,
        record: InputRecord,
        reason: str,
        error: str,
        out: Update,
        *,
        decode: bool = True,
        rows: str | None = None,
    ) -> None:
        """``record`` to dead-letter; ``decode``: the codec refused it (a decode failure);
        ``rows``: the envelope rows it refused (header ``streamdrift.rows``)."""
        if decode:
            out.decode_failures[(record.topic, reason)] += 1
        out.dead_letters[reason] += 1
        log.warning(
            "to dead-letter: %s[%d]@%d (%s): %s",
            record.topic,
            record.partition,
            record.offset,
            reason,
            error,
        )
        dl = dead_letter(self.topic, record, reason, error)
        if rows is not None:
            dl = OutputRecord(dl.topic, dl.key, dl.value, (*dl.headers, (H_ROWS, rows.encode())))
        out.records.append(dl)

    def reject_rows(
        self, record: InputRecord, rejected: list[tuple[int, str, str]], out: Update
    ) -> None:
        """Some rows of an envelope were invalid: the original message goes to dead-letter
        with the rows named; the other rows were processed."""
        error = "; ".join(f"row {i}: {message}" for i, _, message in rejected[:20])
        rows = ",".join(str(i) for i, _, _ in rejected)
        text = f"{len(rejected)} invalid rows: {error}"
        self.reject(record, rejected[0][1], text, out, rows=rows)

    def refuse(self, record: InputRecord, model_id: str, reason: str, out: Update) -> None:
        """Predictions past a cap: to dead-letter, counted; one log line per cap."""
        out.dead_letters[reason] += 1
        cap = "max_models" if reason == TOO_MANY_MODELS else "max_versions"
        limit = getattr(self.runtime, cap)
        if reason not in self._caps_hit:
            self._caps_hit.add(reason)
            log.warning(
                "cap %s=%d hit in partition %d (model %r): further predictions past it go to "
                "dead-letter (%s); logged once",
                cap,
                limit,
                record.partition,
                model_id,
                reason,
            )
        error = f"{cap}={limit} reached in partition {record.partition}"
        out.records.append(dead_letter(self.topic, record, reason, error))
