"""Gateway settings: the documented MODELFLEET_* variables, validated."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from gateway.settings import GatewaySettings


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("MODELFLEET_"):
            monkeypatch.delenv(name)


def test_defaults_listen_on_8000_with_auth_off() -> None:
    settings = GatewaySettings()
    assert (settings.server.host, settings.server.port) == ("0.0.0.0", 8000)
    assert settings.api_keys_file is None
    assert settings.routes_file == Path("/etc/modelfleet/routes/routes.yaml")


def test_the_documented_variables_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    env = {
        "MODELFLEET_ROUTES_FILE": "/tmp/r.yaml",
        "MODELFLEET_API_KEYS_FILE": "/tmp/keys",
        "MODELFLEET_MAX_BODY_BYTES": "2048",
        "MODELFLEET_SERVER__PORT": "9000",
        "MODELFLEET_UPSTREAM__CONNECT_TIMEOUT_SECONDS": "0.5",
        "MODELFLEET_EJECT__COOLDOWN_SECONDS": "3",
        "MODELFLEET_SHADOW__MAX_INFLIGHT": "8",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = GatewaySettings()
    assert settings.routes_file == Path("/tmp/r.yaml")
    assert settings.api_keys_file == Path("/tmp/keys")
    assert (settings.max_body_bytes, settings.server.port) == (2048, 9000)
    assert settings.upstream.connect_timeout_seconds == 0.5
    assert (settings.eject.cooldown_seconds, settings.shadow.max_inflight) == (3, 8)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("MODELFLEET_SERVER__PORT", "0"),
        ("MODELFLEET_MAX_BODY_BYTES", "-1"),
        ("MODELFLEET_LOG_LEVEL", "chatty"),
        ("MODELFLEET_UPSTREAM__MAX_CONNECTIONS", "0"),
    ],
)
def test_out_of_range_values_are_refused(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError):
        GatewaySettings()


def test_a_metrics_port_equal_to_the_main_port_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODELFLEET_SERVER__PORT", "8000")
    monkeypatch.setenv("MODELFLEET_SERVER__METRICS_PORT", "8000")
    with pytest.raises(ValidationError, match="metrics_port"):
        GatewaySettings()
