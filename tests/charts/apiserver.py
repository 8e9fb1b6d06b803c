"""A stand-in Kubernetes API server, for `helm template --dry-run=server` on loopback.

No real API server can run on this machine, so this one answers what helm asks
while rendering against a cluster: version and discovery for the kinds the
charts render, and `GET` of single namespaced objects (the templates' `lookup`
and helm's check whether each object exists), from an in-memory store. Anything
else is a 404 Status, as a real server answers for a missing object.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import yaml

__all__ = ["ApiServer", "serve_api"]

# group/version -> (resource, kind) of everything the charts render.
RESOURCES = {
    "v1": [("configmaps", "ConfigMap"), ("secrets", "Secret"), ("services", "Service"), ("pods", "Pod")],
    "apps/v1": [("deployments", "Deployment")],
    "autoscaling/v2": [("horizontalpodautoscalers", "HorizontalPodAutoscaler")],
    "policy/v1": [("poddisruptionbudgets", "PodDisruptionBudget")],
    "networking.k8s.io/v1": [("networkpolicies", "NetworkPolicy"), ("ingresses", "Ingress")],
    "gateway.networking.k8s.io/v1": [("httproutes", "HTTPRoute")],
    "monitoring.coreos.com/v1": [("servicemonitors", "ServiceMonitor"), ("prometheusrules", "PrometheusRule")],
}  # fmt: skip


def _resource_list(group_version: str) -> dict[str, Any]:
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": group_version,
        "resources": [
            {"name": name, "singularName": kind.lower(), "namespaced": True, "kind": kind,
             "verbs": ["create", "delete", "get", "list", "patch", "update"]}
            for name, kind in RESOURCES[group_version]
        ],
    }  # fmt: skip


def _groups() -> dict[str, Any]:
    groups = []
    for group_version in RESOURCES:
        if "/" in group_version and group_version != "v1":
            group, version = group_version.split("/")
            entry = {"groupVersion": group_version, "version": version}
            groups.append({"name": group, "versions": [entry], "preferredVersion": entry})
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def _route(path: str) -> dict[str, Any] | tuple[str, str, str] | None:
    """A discovery answer, or (group/version, namespace/resource, name) of one object."""
    if path == "/version":
        return {"major": "1", "minor": "33", "gitVersion": "v1.33.0", "platform": "linux/amd64"}
    if path == "/api":
        return {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": []}
    if path == "/apis":
        return _groups()
    if path == "/api/v1":
        return _resource_list("v1")
    if path.startswith("/apis/") and path.count("/") == 3 and path[len("/apis/") :] in RESOURCES:
        return _resource_list(path[len("/apis/") :])
    parts = path.strip("/").split("/")
    prefix = 2 if parts[0] == "api" else 3  # api/v1 or apis/<group>/<version>
    rest = parts[prefix:]
    if len(rest) == 4 and rest[0] == "namespaces":
        return ("/".join(parts[1:prefix]), f"{rest[1]}/{rest[2]}", rest[3])
    return None


@dataclass
class ApiServer:
    url: str
    objects: dict[tuple[str, str, str], dict[str, Any]]

    def put(self, manifest: dict[str, Any], resource: str) -> None:
        """Store an object as the cluster would hold it (for `lookup`)."""
        key = (
            manifest["apiVersion"],
            f"{manifest['metadata']['namespace']}/{resource}",
            manifest["metadata"]["name"],
        )
        self.objects[key] = manifest

    def kubeconfig(self, folder: Path) -> Path:
        path = folder / "kubeconfig"
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "stand-in", "cluster": {"server": self.url}}],
            "users": [{"name": "nobody", "user": {}}],
            "contexts": [
                {"name": "stand-in", "context": {"cluster": "stand-in", "user": "nobody"}}
            ],
            "current-context": "stand-in",
        }
        path.write_text(yaml.safe_dump(config))
        return path


def _handler(server: ApiServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            found = _route(self.path.split("?")[0])
            body = server.objects.get(found) if isinstance(found, tuple) else found
            if body is None:
                status = {"kind": "Status", "apiVersion": "v1", "status": "Failure",
                          "reason": "NotFound", "code": 404}  # fmt: skip
                self._answer(404, status)
            else:
                self._answer(200, body)

        def _answer(self, code: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:  # keep test output clean
            return

    return Handler


@contextmanager
def serve_api() -> Iterator[ApiServer]:
    """An empty stand-in cluster on a port the kernel hands out."""
    api = ApiServer("", {})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(api))
    api.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield api
    finally:
        httpd.shutdown()
        httpd.server_close()
