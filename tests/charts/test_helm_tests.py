"""The `helm test` hook pods check real endpoints and really fail on an unready one.

Each URL a test pod fetches must be a Service the chart renders, on its port,
and the model NetworkPolicies must admit the pod. The pod's own program is run
here against a loopback server that answers 200 or 503.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest

from tests.charts.helm import Helm, Manifest, RenderScenario, by_kind
from tests.charts.pods import is_test_hook


def hook_pods(manifests: list[Manifest]) -> list[Manifest]:
    return [m for m in manifests if m["kind"] == "Pod" and is_test_hook(m)]


def urls(pod: Manifest) -> list[str]:
    return pod["spec"]["containers"][0]["args"][1:]


@pytest.mark.parametrize("scenario", ["defaults", "several-models"])
def test_every_tested_url_is_a_rendered_service_port(
    render_scenario: RenderScenario, scenario: str
) -> None:
    manifests = render_scenario(scenario)
    services = by_kind(manifests, "Service")
    pods = hook_pods(manifests)
    assert len(pods) == 2  # the umbrella's fleet test and the gateway chart's own
    for url in (u for pod in pods for u in urls(pod)):
        parts = urlsplit(url)
        ports = {p["port"] for p in services[parts.hostname]["spec"]["ports"]}
        assert parts.port in ports, url


def test_the_fleet_test_checks_every_version_and_is_let_in(render_scenario: RenderScenario) -> None:
    manifests = render_scenario("several-models")
    (fleet,) = [p for p in hook_pods(manifests) if p["metadata"]["name"].endswith("fleet-test")]
    hosts = {urlsplit(u).hostname for u in urls(fleet)}
    assert {
        "prod-iris-v1",
        "prod-iris-v2",
        "prod-digits-v1",
        "prod-minilm-v1",
        "prod-segment-v1",
        "prod-penguins-v1",
        "prod-styles-v1",
        "modelfleet-gateway",
    } == hosts
    labels = fleet["metadata"]["labels"]
    for policy in by_kind(manifests, "NetworkPolicy").values():
        selectors = [
            s["podSelector"]["matchLabels"] for s in policy["spec"]["ingress"][0].get("from", [])
        ]
        assert not selectors or any(s.items() <= labels.items() for s in selectors)


class Answer(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(503 if self.path == "/unready" else 200)
        self.end_headers()

    def log_message(self, *args: object) -> None:  # keep test output clean
        return


@pytest.fixture
def loopback() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Answer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def run_test_pod(pod: Manifest, targets: list[str]) -> int:
    container = pod["spec"]["containers"][0]
    assert container["command"][0] == "python"
    command = [sys.executable, *container["command"][1:], container["args"][0], *targets]
    return subprocess.run(command, capture_output=True, timeout=60, check=False).returncode


def test_the_test_program_passes_on_ready_and_fails_on_unready(helm: Helm, loopback: str) -> None:
    (pod,) = [p for p in hook_pods(helm.template("model")) if p["metadata"]["name"] == "iris-test"]
    assert run_test_pod(pod, [f"{loopback}/readyz", f"{loopback}/readyz"]) == 0
    assert run_test_pod(pod, [f"{loopback}/readyz", f"{loopback}/unready"]) != 0
