"""Retrain requests out of one update of a partition: the core decides, this encodes."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from streamdrift import codec
from streamdrift.config.settings import Settings
from streamdrift.config.spec import ModelSpecs
from streamdrift.drift.fleet import FleetUpdate
from streamdrift.engine.partition import PartitionState

if TYPE_CHECKING:
    from streamdrift.engine.messages import OutputRecord

log = logging.getLogger(__name__)


def retrain_records(
    settings: Settings,
    specs: ModelSpecs,
    state: PartitionState,
    update: FleetUpdate,
    clock: Callable[[], float],
) -> list[OutputRecord]:
    """The retrain requests ``update`` completes, keyed by model id, with the reference used."""
    from streamdrift.engine.messages import OutputRecord

    requests = state.retrain.observe(
        update.windows, update.alerts, lambda model: specs.for_model(model).retrain
    )
    out = []
    for request in requests:
        doc = request.to_dict()
        doc["reference"] = reference_used(state, specs, request.model_id, request.model_version)
        doc["detected_at"] = clock()
        log.warning(
            "RETRAIN %s v%s (%s since %.0f, %d alerts): request %s",
            request.model_id,
            request.model_version,
            request.reason,
            request.since,
            len(request.alert_ids),
            request.request_id,
        )
        key = request.model_id.encode()
        out.append(OutputRecord(settings.topic_retrain_requests, key, codec.dumps(doc)))
    return out


def reference_used(
    state: PartitionState, specs: ModelSpecs, model_id: str, version: str
) -> dict[str, Any]:
    """Where the version's drift reference came from: its spec's mode, the profile it names
    (``model/version``, profile mode) and, from its monitors, the source and event count."""
    spec = specs.for_model(model_id).reference
    monitors = [
        m
        for (m_id, v, _), m in sorted(state.fleet.monitors.items(), key=lambda kv: str(kv[0]))
        if (m_id, v) == (model_id, version)
    ]
    profile = "/".join(spec.source(model_id, version)) if spec.mode == "profile" else None
    sources = sorted({m.reference_source for m in monitors if m.reference_source})
    performance = state.labels.references.get((model_id, version))
    return {
        "mode": spec.mode,
        "profile": profile,
        "sources": sources,
        "count": max((m.reference_count for m in monitors), default=0),
        "performance_profile": performance is not None,
    }
