"""``streamdrift simulate --replay --events N`` ends with an end-of-input marker; a live
or endless run does not."""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

import pytest

from streamdrift import client
from streamdrift.devtools import simulator


class RecordingClient:
    calls: ClassVar[list[tuple[str, Any]]] = []

    def __init__(self, broker: str, **options: Any) -> None:
        pass

    async def __aenter__(self) -> RecordingClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.calls.append(("close", None))

    async def publish(self, event: Any) -> None:
        self.calls.append(("publish", event.prediction_id))

    async def end_of_input(self, model_id: str, model_version: str | None = None) -> None:
        self.calls.append(("end_of_input", (model_id, model_version)))

    async def flush(self) -> None:
        self.calls.append(("flush", None))


@pytest.mark.parametrize(("replay", "marker"), [(True, True), (False, False)])
def test_a_finite_replay_ends_with_the_marker(
    monkeypatch: pytest.MonkeyPatch, replay: bool, marker: bool
) -> None:
    RecordingClient.calls = []
    monkeypatch.setattr(client, "PredictionClient", RecordingClient)
    scenario = simulator.Scenario(model_id="m", model_version="3")
    sent = asyncio.run(
        simulator.run(
            "kafka://127.0.0.1:1",
            scenario,
            events=20,
            rate=None,
            replay_start=1_700_000_000.0 if replay else None,
        )
    )
    assert sent == 20
    kinds = [kind for kind, _ in RecordingClient.calls]
    assert kinds.count("publish") == 20
    if marker:
        assert RecordingClient.calls[20] == ("end_of_input", ("m", "3"))
    else:
        assert "end_of_input" not in kinds
