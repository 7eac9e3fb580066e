"""The reference profiles' GlobalTable: Faust's assignor finds its changelog (the references
topic), and :meth:`ReferenceTable.take` returns each changed profile once."""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import SimpleNamespace

import faust
import pytest
from faust.assignor.client_assignment import ClientAssignment

from streamdrift import config
from streamdrift.service.app import Wiring, create_app


def _wiring(tmp_path: Path) -> Wiring:
    settings = config.load(
        {"metrics_port": 0, "data_dir": str(tmp_path), "topic_references": "refs-x"},
        environ={},
    )
    return create_app(settings)


def test_the_assignor_gives_every_member_the_references_topic(tmp_path: Path) -> None:
    # the defect: faust's assignor looked up "<app id>-references-changelog", a topic no
    # member subscribes to; the KeyError left the group without an assignment, forever
    wiring = _wiring(tmp_path)
    app = wiring.app
    members = {m: ClientAssignment(actives={}, standbys={}) for m in ("a", "b")}
    assignments = app.assignor._global_table_standby_assignments(members, {"refs-x": 1})
    for assignment in assignments.values():
        assert assignment.actives == {"refs-x": [0]}
        assert assignment.standbys == {"refs-x": [0]}  # read on after recovery (#283)


def test_stock_global_table_with_a_given_changelog_is_not_assigned(tmp_path: Path) -> None:
    # faust-streaming 0.15.3 as shipped; when this fails, Faust fixed it: drop _GlobalTable
    app = faust.App("stock", broker="kafka://127.0.0.1:1", web_enabled=False, datadir=tmp_path)
    app.GlobalTable("t", changelog_topic=app.topic("given"))
    members = {"a": ClientAssignment(actives={}, standbys={})}
    with pytest.raises(KeyError, match="stock-t-changelog"):
        app.assignor._global_table_standby_assignments(members, {"given": 1})


def _event(offset: int, key: bytes) -> SimpleNamespace:
    return SimpleNamespace(
        message=SimpleNamespace(topic="refs-x", partition=0, offset=offset, key=key)
    )


def test_take_returns_changed_profiles_once_in_the_order_of_their_last_write(
    tmp_path: Path,
) -> None:
    refs = _wiring(tmp_path).references
    data = refs.table.data

    async def write(offset: int, key: bytes, value: bytes | None) -> None:
        await refs._on_changelog_event(_event(offset, key))
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value

    async def scenario() -> None:
        await write(0, b"a/1", b"A1")
        await write(1, b"b/1", b"B1")
        await write(2, b"a/1", b"A2")
        assert refs.take() == [("b/1", b"B1"), ("a/1", b"A2")]
        assert refs.take() == []
        await write(2, b"a/1", b"A2")  # read again after a rebalance: already taken
        assert refs.take() == []
        await write(3, b"b/1", None)  # a tombstone
        assert refs.take() == [("b/1", None)]

    asyncio.run(scenario())
