"""The reference profiles as a Faust table: every worker holds every profile.

The compacted references topic is the changelog of a :class:`faust.GlobalTable` (raw keys
``"<model>/<version>"``, raw profile documents): Faust's recovery reads it to the end at
start-up, and its standby reader applies what ``streamdrift reference publish`` writes
while the worker runs. The hot path (``kafka/runner.py``) reads the table through
:class:`ReferenceTable` between batches: :meth:`ReferenceTable.take` returns the profiles
that changed since the last call, in the order they were written.

Faust's sharp edges, and why the table is declared as it is:

* ``synchronize_all_active_partitions=True``: a global table's partitions are assigned as
  *actives* (recovered at start) and, without this flag, only the *other* members'
  partitions as standbys; the member that holds a partition as active only pauses it
  after recovery and never reads it again, so profiles published later never reach it
  (faust-streaming/faust#283, open). The flag (faust-streaming/faust#426, #431) makes
  every partition a standby too: the table is written by another process (the CLI), the
  case the flag was made for.
* ``recovery_buffer_size=1``: changelog events of an active partition are applied in
  batches of ``recovery_buffer_size`` (default 1,000) even after recovery, since every
  partition stays active; and ``GlobalTable``'s own docstring names it, with one
  partition, as the cure for an endless recovery loop among several workers.
* ``store="memory://"`` (the app's): nothing on disk can disagree with the topic
  (robinhood/faust#523, #654: RocksDB stores that ignored a given changelog topic); every
  start recovers the table from the compacted topic.
"""

from __future__ import annotations

from typing import Any

import faust

from streamdrift.config.settings import Settings


class _GlobalTable(faust.GlobalTable):
    """Faust's GlobalTable, except that the assignor finds the changelog given to it.

    faust-streaming 0.15.3's ``PartitionAssignor._global_table_standby_assignments`` (and
    upstream master) looks the changelog up by ``table._changelog_topic_name()``, the
    *generated* name ``<app id>-<table>-changelog``, never by the ``changelog_topic`` the
    table was given. That name is not among the subscribed topics, so the leader's
    ``partitions_by_topic[...]`` raises ``KeyError``; aiokafka turns it into a
    ``KafkaError`` that it parks for the next poll (nothing is logged), the group never
    gets an assignment, and recovery never starts or ends.
    """

    def _changelog_topic_name(self) -> str:
        return str(self.changelog_topic.get_topic_name())


class ReferenceTable:
    """The GlobalTable of reference profiles and the keys that changed since :meth:`take`."""

    def __init__(self, app: Any, settings: Settings) -> None:
        self.app = app
        self._changed: dict[bytes, None] = {}  # insertion-ordered set of keys
        self._seen: dict[tuple[str, int], int] = {}  # (topic, partition) -> last offset
        changelog = app.topic(
            settings.topic_references,
            key_type=bytes,
            value_type=bytes,
            key_serializer="raw",
            value_serializer="raw",
        )
        self.table = app.tables.add(
            _GlobalTable(
                app,
                name="references",
                beacon=app.tables.beacon,
                standby_buffer_size=1,  # as app.GlobalTable: standby changes as they come
                is_global=True,
                key_type=bytes,
                value_type=bytes,
                changelog_topic=changelog,
                synchronize_all_active_partitions=True,  # faust-streaming/faust#283
                recovery_buffer_size=1,
                on_changelog_event=self._on_changelog_event,
            )
        )

    async def _on_changelog_event(self, event: Any) -> None:
        """Called by Faust's recovery for each changelog record, just before the table
        applies it. Without an ``await``, nothing else runs between the two."""
        message = event.message
        tp = (message.topic, message.partition)
        if message.offset <= self._seen.get(tp, -1):
            return  # read again after a rebalance: already taken
        self._seen[tp] = message.offset
        key = message.key if message.key is not None else b""
        self._changed.pop(key, None)
        self._changed[key] = None

    async def wait_recovered(self) -> None:
        """Return once Faust has read the references topic to its end (the first time)."""
        await self.app.tables.recovery.completed.wait()

    def take(self) -> list[tuple[str, bytes | None]]:
        """The profiles written since the last call: ``(key, document)`` in the order of
        their last write; ``None`` where the profile was deleted (a tombstone)."""
        keys, self._changed = list(self._changed), {}
        data = self.table.data  # the store: raw keys and values, as in the topic
        return [(key.decode("utf-8", "replace"), data.get(key)) for key in keys]
