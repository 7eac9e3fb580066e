"""A single-event message decoded and checked in one C pass by msgspec; what it does not
accept takes the orjson path of :mod:`streamdrift.codec`, which alone decides the reason."""

from __future__ import annotations

from typing import Annotated, Any, Literal, Protocol

import msgspec

from streamdrift.codec.fields import MAX_ID_LENGTH, MAX_MESSAGE_BYTES
from streamdrift.records import PredictionEvent

_Id = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_ID_LENGTH)]
# orjson reads an integer past int64 as a uint64 or a float, msgspec as an int: a message
# with one takes the orjson path
_Int = Annotated[int, msgspec.Meta(ge=-(2**63), le=2**63 - 1)]
_Scalar = float | _Int | str | bool | None


class _WireEvent(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    """A single-event message as msgspec checks it: no looser than the orjson path's checks
    (a test compares both), so what passes here that path would decode to the same event."""

    model_id: _Id
    model_version: _Id | _Int
    prediction_id: _Id
    timestamp: Annotated[float, msgspec.Meta(ge=0, lt=1e11)]
    features: dict[str, _Scalar]
    prediction: _Scalar | Annotated[dict[str, float | _Int], msgspec.Meta(min_length=1)] = None
    predicted_label: _Scalar = None
    segment: str | None = None
    experiment: _Id | None = None
    variant: _Id | None = None
    schema_version: Literal[1] = 1


_decode_wire_event = msgspec.json.Decoder(_WireEvent).decode
# a single-event message as msgspec checks it, without the size check or the
# ``model_version`` conversion of :func:`single_event` (see :func:`version_as_string`):
# for a caller that decodes a run of messages at once; raises ValueError if not accepted
decode_wire_event = _decode_wire_event


def version_as_string(events: list[Any]) -> None:
    """Make the ``model_version`` of events from :data:`decode_wire_event` a string, as
    :func:`single_event` does (a JSON integer version is read as an int)."""
    for e in events:
        if type(e.model_version) is not str:
            e.model_version = str(e.model_version)


class SingleEvent(Protocol):
    """What :func:`single_event` returns (a :class:`_WireEvent` whose ``model_version`` is
    always a string): the fields of a :class:`PredictionEvent`."""

    model_id: str
    model_version: str
    prediction_id: str
    timestamp: float
    features: dict[str, Any]
    prediction: Any
    predicted_label: Any
    segment: str | None
    experiment: str | None
    variant: str | None


def _fast_event(raw: bytes) -> PredictionEvent | None:
    """The event in ``raw`` if msgspec accepts it as a valid single event, else None."""
    e = single_event(raw)
    if e is None:
        return None
    return PredictionEvent(
        e.model_id,
        e.model_version,
        e.prediction_id,
        e.timestamp,
        e.features,
        e.prediction,
        e.segment,
        e.predicted_label,
        e.experiment,
        e.variant,
    )


def single_event(raw: bytes) -> SingleEvent | None:
    """The single event in ``raw`` as msgspec decoded it (the fields of a
    :class:`PredictionEvent`, ``model_version`` a string), if msgspec accepts it as a valid
    single event; else None: then :func:`decode_predictions_topic_slow` decides (an
    envelope, a marker, or what is wrong). No :class:`PredictionEvent` is built: the
    processor gathers a run of these into columns (``records.batches_of_events``)."""
    if len(raw) > MAX_MESSAGE_BYTES:
        return None
    try:
        e = _decode_wire_event(raw)
    except (ValueError, TypeError):  # msgspec's errors are ValueErrors
        return None
    if type(e.model_version) is not str:
        e.model_version = str(e.model_version)
    return e  # type: ignore[return-value]  # a _WireEvent, model_version now a string
