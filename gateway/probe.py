"""Readiness probes of the model services: for `GET /models`, and to readmit
ejected versions (see `gateway.ejection`)."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from .client import Client
from .errors import UpstreamError
from .fleet import Fleet
from .proxy import Outbound, call, timeouts

__all__ = ["PROBE_INTERVAL_SECONDS", "is_ready", "readmit_ejected"]

logger = logging.getLogger("gateway.probe")

PROBE_INTERVAL_SECONDS = 1.0
READYZ = Outbound("GET", b"/readyz", (), b"")


async def is_ready(client: Client, base_url: str, timeout: float) -> bool:
    """True when the service's `/readyz` answers 200 within `timeout` seconds."""
    try:
        answer = await call(client, base_url, READYZ, timeouts(timeout, timeout), base_url)
    except UpstreamError:
        return False
    return answer.status == 200


async def readmit_ejected(
    fleet: Fleet, client: Client, timeout: float, stop: asyncio.Event
) -> None:
    """Every second until `stop`: probe the ejected services whose cool-down has
    passed and readmit those that are ready."""
    while not stop.is_set():
        routed = {
            target.base_url
            for route in fleet.current.routes.table.models.values()
            for target in route.versions.values()
        }
        due = [url for url in fleet.ejector.due() if url in routed]  # not a removed version
        answers = await asyncio.gather(*(is_ready(client, url, timeout) for url in due))
        for url, ready in zip(due, answers, strict=True):
            if ready:
                fleet.ejector.readmit(url)
                logger.info("ejected version is ready again: readmitted", extra={"url": url})
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), PROBE_INTERVAL_SECONDS)
