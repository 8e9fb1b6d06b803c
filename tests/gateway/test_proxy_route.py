"""`ProxyRoute` serves a routed path without FastAPI's solver: it must refuse what it would skip."""

from __future__ import annotations

import pytest
from fastapi import Depends, Request, Response

from gateway.api import ProxyRoute


async def _never(request: Request) -> None:
    raise AssertionError("never run")


async def _endpoint(name: str, request: Request) -> Response:
    raise AssertionError("never served")


def test_a_route_dependency_is_refused_rather_than_skipped() -> None:
    with pytest.raises(TypeError, match="runs no route dependencies"):
        ProxyRoute("/models/{name}", _endpoint, dependencies=[Depends(_never)], methods=["GET"])
