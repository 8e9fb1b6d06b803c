"""Route one request: choose a version, call it (with bounded retries), answer, shadow.

Retries: an idempotent request whose call failed to connect, lost its
connection, or got 502/503 is tried again, on another version while one is
left (`routing.pool`). Timeouts are not retried: a slow version would only
be asked again for work it may still be doing. When no version is left (each
one held by the guard, ejected, or failed this request) the answer is 503 with
`Retry-After`, saying why for each version (`unavailable.py`). A streamed answer
is relayed as it arrives (`proxy.relay`): its first byte has been passed on, so
it is never retried, and its request is counted and timed when the stream ends.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Mapping

from starlette.requests import Request
from starlette.responses import Response

from .body import read_body
from .client import Client, Timeouts
from .errors import BadRequest, GatewayError, NoVersionLeft, UpstreamError
from .fleet import Fleet, Snapshot
from .proxy import (
    REQUEST_DROP,
    Answer,
    Outbound,
    call,
    forwardable,
    relay,
    timeouts,
    to_response,
)
from .routes import ModelRoute, version_order
from .routing import Ask, Choice, choose, pool
from .settings import GatewaySettings
from .shadow import ShadowCopy, ShadowSender
from .targets import Target
from .unavailable import Failure, failure_of, no_version_left

__all__ = ["Dispatcher"]

logger = logging.getLogger("gateway.dispatch")

RETRY_STATUSES = frozenset({502, 503})
UNHEALTHY_STATUSES = frozenset({502, 503, 504})


class Dispatcher:
    def __init__(
        self,
        client: Client,
        fleet: Fleet,
        shadow: ShadowSender,
        settings: GatewaySettings,
        draw: Callable[[], float] = random.random,
    ) -> None:
        self._client = client
        self._fleet = fleet
        self._shadow = shadow
        self._settings = settings
        self._draw = draw
        self._metrics = fleet.metrics

    async def dispatch(self, request: Request, target: Target) -> Response:
        """Answer `request` from one version of `target.model`."""
        snapshot = self._fleet.current  # one table for the whole request
        route = snapshot.route(target.model)
        body = await read_body(request, self._settings.max_body_bytes)
        ask = _ask(request, route, target)
        out = Outbound(request.method, target.path.encode("latin-1"), _headers(request), body)
        started = time.perf_counter()
        choice, outcome = await self._exchange(snapshot, route, target, ask, out)
        labels = (target.model, choice.version, choice.variant)

        def finished(failure: UpstreamError | None = None) -> None:
            self._metrics.answered(labels, outcome.status, time.perf_counter() - started)
            if failure is not None:
                self._metrics.upstream_errors.labels(*labels, failure.reason).inc()

        extra = ((b"x-model-version", choice.version.encode()),)
        who = f"model {target.model!r} version {choice.version!r}"
        if isinstance(outcome, Answer) and outcome.stream is not None:
            return relay(outcome, extra, self._timeout(route), who, finished)
        finished()
        if isinstance(outcome, GatewayError):
            if not isinstance(outcome, NoVersionLeft):  # that one names every version
                outcome.headers["X-Model-Version"] = choice.version
            raise outcome
        if target.shadowable and outcome.status == 200:
            self._maybe_shadow(target.model, route, choice, out, outcome)
        return to_response(outcome, extra, who)

    async def _exchange(
        self, snapshot: Snapshot, route: ModelRoute, target: Target, ask: Ask, out: Outbound
    ) -> tuple[Choice, Answer | GatewayError]:
        """Try versions until one answers, the retries are spent, or none is left."""
        failures: dict[str, Failure] = {}
        choice: Choice | None = None
        for _ in range(1 + (route.retries if target.retryable else 0)):
            candidates = self._candidates(snapshot, route, target.model, failures)
            if not candidates and ask.pinned is None:
                break
            if choice is not None:  # a retry, counted against the version that failed
                self._metrics.retries.labels(target.model, choice.version, choice.variant).inc()
            choice = choose(route, ask, candidates, self._draw())
            outcome = await self._attempt(snapshot, route, target.model, choice, out)
            if not _worth_retrying(outcome):
                return choice, outcome
            failures[choice.version] = failure_of(outcome)
        else:
            left = self._candidates(snapshot, route, target.model, failures)
            if ask.pinned is None and any(v not in failures for v in left):
                return choice, outcome  # the retries ran out while another version was left
        refusal = self._refusal(snapshot, route, target.model, ask, failures)
        return choice or choose(route, ask, route.weights, self._draw()), refusal

    def _candidates(
        self, snapshot: Snapshot, route: ModelRoute, model: str, failures: dict[str, Failure]
    ) -> Mapping[str, float]:
        """Where this request may go next (`routing.pool`); empty when nowhere."""
        ejector = self._fleet.ejector
        ejected = [v for v, t in route.versions.items() if ejector.ejected(t.base_url)]
        held = snapshot.guard.held(model)
        return pool(route.weights, held=held, ejected=ejected, tried=failures)

    def _refusal(
        self,
        snapshot: Snapshot,
        route: ModelRoute,
        model: str,
        ask: Ask,
        failures: dict[str, Failure],
    ) -> NoVersionLeft:
        versions = [ask.pinned] if ask.pinned else sorted(route.weights, key=version_order)
        ejector = self._fleet.ejector
        urls = {v: route.versions[v].base_url for v in versions}
        ejected = {v: ejector.remaining(url) for v, url in urls.items() if ejector.ejected(url)}
        held = {v: snapshot.guard.status(model, v) for v in snapshot.guard.held(model)}
        return no_version_left(model, versions, failures, ejected, held)

    async def _attempt(
        self, snapshot: Snapshot, route: ModelRoute, model: str, choice: Choice, out: Outbound
    ) -> Answer | UpstreamError:
        """One call; its outcome feeds the guard, the ejector and the error counter."""
        base_url = route.versions[choice.version].base_url
        who = f"model {model!r} version {choice.version!r}"
        try:
            answer = await call(self._client, base_url, out, self._timeout(route), who, stream=True)
        except UpstreamError as exc:
            self._record(snapshot, model, choice, base_url, exc.reason, unhealthy=True)
            return exc
        code = answer.status
        reason = f"http_{code}" if code >= 500 else None
        self._record(snapshot, model, choice, base_url, reason, code in UNHEALTHY_STATUSES)
        return answer

    def _record(
        self,
        snapshot: Snapshot,
        model: str,
        choice: Choice,
        base_url: str,
        error: str | None,
        unhealthy: bool,
    ) -> None:
        snapshot.guard.record(model, choice.version, failed=error is not None)
        if error is not None:
            self._metrics.upstream_errors.labels(model, choice.version, choice.variant, error).inc()
        if not unhealthy:
            self._fleet.ejector.success(base_url)
        elif self._fleet.ejector.failure(base_url):
            self._metrics.ejections.labels(model, choice.version).inc()
            logger.warning(
                "version ejected after repeated failures",
                extra={"model": model, "version": choice.version, "reason": error},
            )

    def _timeout(self, route: ModelRoute) -> Timeouts:
        return timeouts(route.timeoutSeconds, self._settings.upstream.connect_timeout_seconds)

    def _maybe_shadow(
        self, model: str, route: ModelRoute, choice: Choice, out: Outbound, primary: Answer
    ) -> None:
        shadow = route.shadow
        if shadow is None or shadow.version == choice.version:
            return
        if self._draw() * 100 >= shadow.percent:
            return
        base_url = route.versions[shadow.version].base_url
        headers = (*out.headers, (b"x-modelfleet-shadow", b"1"))
        copy = Outbound(out.method, out.target, headers, out.body)
        self._shadow.submit(
            ShadowCopy(model, shadow.version, base_url, copy, self._timeout(route), primary)
        )


def _worth_retrying(outcome: Answer | UpstreamError) -> bool:
    return outcome.status in RETRY_STATUSES


def _ask(request: Request, route: ModelRoute, target: Target) -> Ask:
    """Routing facts from the headers; a header pin must agree with a path pin."""
    header_pin = request.headers.get("x-model-version") or None
    if target.path_version and header_pin and header_pin != target.path_version:
        raise BadRequest(
            f"X-Model-Version {header_pin!r} contradicts version {target.path_version!r} in the path"
        )
    sticky = request.headers.get(route.stickyHeader) if route.stickyHeader else None
    return Ask(pinned=target.path_version or header_pin, sticky_key=sticky, spread=target.spread)


def _headers(request: Request) -> list[tuple[bytes, bytes]]:
    """Caller headers minus hop-by-hop and credentials, plus the request id and client."""
    own = {b"x-request-id", b"x-forwarded-for"}
    headers = forwardable(request.headers.raw, REQUEST_DROP | own)
    headers.append((b"x-request-id", request.state.request_id.encode()))
    client = request.client.host if request.client else None
    if client:
        prior = request.headers.get("x-forwarded-for")
        chain = f"{prior}, {client}" if prior else client
        headers.append((b"x-forwarded-for", chain.encode("latin-1")))
    return headers
