"""`modelfleet up` (and `make run`): the whole fleet on this machine, from the chart's values.

Every version listed in the values file runs as its own gunicorn service on a
loopback port (8101, 8102, ... or the next free ones); the gateway runs on
`--port` and reads a routes.yaml generated from the same file by
`routes_from_values`. The values file is watched: an edit (a weight, the shadow,
the guard) rewrites routes.yaml and the gateway hot-reloads it. Every child is
supervised (`supervisor.Supervisor`): one that dies is restarted with backoff
while the others keep serving. The launcher holds the gateway's listening socket
and hands it to each gateway process it starts, so callers queue rather than
being refused while a gateway restarts. Every child runs in its own session, so
Ctrl-C / SIGTERM stops each process group and nothing is left behind.
"""

from __future__ import annotations

import errno
import hashlib
import os
import signal
import socket
import sys
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

import yaml

from ..serve import gunicorn_command, serve_environment
from .children import Console
from .ports import free_loopback_ports, listening_socket
from .routes import routes_from_values
from .supervisor import TICK_SECONDS, Supervisor

__all__ = [
    "ServiceSpec",
    "Stack",
    "StackError",
    "plan_services",
    "run_stack",
    "service_environment",
]

HOST = "127.0.0.1"
FIRST_SERVICE_PORT = 8101
LOCAL_URL = "http://127.0.0.1:{port}"
READY_TIMEOUT_SECONDS = 180.0
# Keys a model entry may set and the env var each becomes, as the chart's
# fleetlib.modelEnvValues does; a model's own key replaces `modelDefaults`' whole.
SETTINGS_ENV = {
    ("server", "timeoutSeconds"): "MODELFLEET_SERVER__TIMEOUT_SECONDS",
    ("server", "gracefulTimeoutSeconds"): "MODELFLEET_SERVER__GRACEFUL_TIMEOUT_SECONDS",
    ("server", "keepaliveSeconds"): "MODELFLEET_SERVER__KEEPALIVE_SECONDS",
    ("batching", "maxBatchSize"): "MODELFLEET_BATCHING__MAX_BATCH_SIZE",
    ("batching", "maxWaitMs"): "MODELFLEET_BATCHING__MAX_WAIT_MS",
    ("batching", "maxQueue"): "MODELFLEET_BATCHING__MAX_QUEUE",
    ("torchThreads",): "MODELFLEET_TORCH_THREADS",
    ("maxBodyBytes",): "MODELFLEET_MAX_BODY_BYTES",
    ("maxInstances",): "MODELFLEET_MAX_INSTANCES",
    ("logLevel",): "MODELFLEET_LOG_LEVEL",
}


class StackError(RuntimeError):
    """The stack cannot start; the message says what to do."""


@dataclass(frozen=True)
class ServiceSpec:
    model: str
    version: str
    port: int
    weight: Any

    @property
    def name(self) -> str:
        return f"{self.model}-{self.version}"

    @property
    def url(self) -> str:
        return LOCAL_URL.format(port=self.port)


def load_values(path: Path) -> dict[str, Any]:
    """The values file as a mapping with a `models` map; StackError otherwise."""
    try:
        values = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise StackError(f"cannot read the values file {path}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise StackError(f"{path} is not valid YAML: {exc}") from exc
    if not isinstance(values, dict) or not isinstance(values.get("models"), dict):
        raise StackError(f"{path} has no `models` map")
    return values


def _model_settings(values: Mapping[str, Any], model: str) -> dict[str, Any]:
    return {**(values.get("modelDefaults") or {}), **(values["models"][model] or {})}


def service_environment(
    values: Mapping[str, Any], spec: ServiceSpec, registry: Path
) -> dict[str, str]:
    """The MODELFLEET_* variables of one local service: the chart's, on a loopback port."""
    settings = _model_settings(values, spec.model)
    env = serve_environment(
        spec.model, spec.version, spec.port,
        host=HOST, workers=int(settings.get("workers", 1)), registry=registry,
    )  # fmt: skip
    for path, name in SETTINGS_ENV.items():
        value: Any = settings
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        if value is not None:
            env[name] = str(value)
    return env


def gateway_limits(values: Mapping[str, Any]) -> dict[str, str]:
    """The gateway's body limit from `gateway.settings`, as the gateway chart sets it."""
    limit = ((values.get("gateway") or {}).get("settings") or {}).get("maxBodyBytes")
    return {} if limit is None else {"MODELFLEET_MAX_BODY_BYTES": str(limit)}


def plan_services(
    values: Mapping[str, Any], registry: Path, first_port: int = FIRST_SERVICE_PORT
) -> list[ServiceSpec]:
    """One service per listed version, each on its own free port; every version must
    be in the registry (StackError naming `make models` otherwise)."""
    listed = [
        (model, version, (spec or {}).get("weight", 0))
        for model, entry in values["models"].items()
        for version, spec in ((entry or {}).get("versions") or {}).items()
    ]
    missing = [
        f"{m} {v}" for m, v, _ in listed if not (registry / m / v / "manifest.json").is_file()
    ]
    if missing:
        raise StackError(
            f"not in the registry {registry}: {', '.join(missing)}; "
            "run `make models` (or `modelfleet train <model>` for later versions)"
        )
    ports = free_loopback_ports(len(listed), first_port)
    return [ServiceSpec(m, v, port, w) for (m, v, w), port in zip(listed, ports, strict=True)]


def running_routes(values: Mapping[str, Any], specs: list[ServiceSpec]) -> dict[str, Any]:
    """routes.yaml for the versions this stack runs (ValueError for invalid values)."""
    ports = {(s.model, s.version): s.port for s in specs}
    table = routes_from_values(values, LOCAL_URL, ports=ports)
    for model, route in list(table["models"].items()):
        route["versions"] = {v: r for v, r in route["versions"].items() if (model, v) in ports}
        shadow = route.get("shadow")
        if shadow and shadow["version"] not in route["versions"]:
            del route["shadow"]
        if not any(r["weight"] > 0 for r in route["versions"].values()):
            del table["models"][model]
    return table


class Stack:
    """The running fleet: services, gateway, routes file and the values watcher."""

    def __init__(
        self,
        values_path: Path,
        registry: Path,
        port: int,
        state_dir: Path,
        observe_port: int | None = None,
    ) -> None:
        self.values_path = values_path
        self.registry = registry.resolve()
        self.port = port
        self.observe_port = observe_port  # a local Prometheus on this port (make observe)
        self.routes_file = state_dir.resolve() / "routes.yaml"
        self.guard_file = self.routes_file.with_name("guard.json")
        self.console = Console()
        self.supervisor = Supervisor(self.console, on_give_up=self._gave_up)
        self.specs: list[ServiceSpec] = []
        self._gateway_socket: socket.socket | None = None
        self._stop = threading.Event()
        self._routes_sha = ""
        self._values_sha = ""

    def say(self, message: str) -> None:
        self.console.line("up", message)

    def run(self) -> int:
        """Start everything, serve until Ctrl-C / SIGTERM, stop everything; the exit code."""
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self._on_signal)
        try:
            self._start()
            if self._stop.is_set():
                return 0
            self._announce()
            watcher = threading.Thread(target=self._watch_values, daemon=True)
            watcher.start()
            return self._serve()
        except StackError as exc:
            self.say(f"error: {exc}")
            return 1
        finally:
            self._stop.set()
            self.supervisor.stop()
            self._close_gateway_socket()

    def _on_signal(self, signum: int, _: FrameType | None) -> None:
        self.say(f"{signal.Signals(signum).name}: stopping every process")
        self._stop.set()

    def _start(self) -> None:
        values = load_values(self.values_path)
        self._values_sha = hashlib.sha256(self.values_path.read_bytes()).hexdigest()
        try:
            self._gateway_socket = listening_socket(self.port, HOST)
        except OSError as exc:
            problem = "is in use" if exc.errno == errno.EADDRINUSE else f"failed: {exc.strerror}"
            raise StackError(
                f"port {self.port} {problem}; pick another: make run PORT=8001"
            ) from exc
        self.specs = plan_services(values, self.registry)
        self._write_routes(values)  # validates weights before anything starts
        observer = None if self.observe_port is None else self._observer(self.observe_port)
        self.guard_file.unlink(missing_ok=True)  # a new stack starts with no canary held
        for spec in self.specs:
            env = service_environment(values, spec, self.registry)
            self.supervisor.start(spec.name, gunicorn_command(), env, f"{spec.url}/readyz")
        fd = self._gateway_socket.fileno()
        gateway_env = {
            "MODELFLEET_ROUTES_FILE": str(self.routes_file),
            "MODELFLEET_GUARD_STATE_FILE": str(self.guard_file),
            "MODELFLEET_SERVER__HOST": HOST,
            "MODELFLEET_SERVER__PORT": str(self.port),
            "MODELFLEET_SERVER__FD": str(fd),
        } | gateway_limits(values)
        gateway = [sys.executable, "-m", "gateway"]
        self.supervisor.start("gateway", gateway, gateway_env, f"{self.gateway_url}/readyz", (fd,))
        if observer is not None:
            self.supervisor.start("prometheus", observer, {}, f"{self.observer_url}/-/ready")
        try:
            self.supervisor.wait_ready(READY_TIMEOUT_SECONDS, self._stop)
        except TimeoutError as exc:
            raise StackError(str(exc)) from exc

    def _observer(self, port: int) -> list[str]:
        from .observe import ObserveError, ScrapeTargets, observer_command

        models = tuple(f"{HOST}:{spec.port}" for spec in self.specs)
        targets = ScrapeTargets(f"{HOST}:{self.port}", models)
        workdir = self.routes_file.parent / "prometheus"
        try:
            return observer_command(targets, workdir, port)
        except ObserveError as exc:
            raise StackError(str(exc)) from exc

    @property
    def gateway_url(self) -> str:
        return LOCAL_URL.format(port=self.port)

    @property
    def observer_url(self) -> str:
        return LOCAL_URL.format(port=self.observe_port)

    def _gave_up(self, name: str) -> None:
        if name == "gateway":  # callers would queue for a gateway that never comes
            self._close_gateway_socket()
            self.say(f"port {self.port} is closed: callers are refused until the stack restarts")

    def _close_gateway_socket(self) -> None:
        if self._gateway_socket is not None:
            self._gateway_socket.close()
            self._gateway_socket = None

    def _announce(self) -> None:
        down = set(self.supervisor.given_up())
        self.say(f"modelfleet is up — gateway {self.gateway_url}")
        if "gateway" in down:
            self.say(
                "  the gateway is DOWN: gave up on it, see above; each service answers on its own"
            )
        self.say(f"  playground {self.gateway_url}/   docs {self.gateway_url}/docs")
        self.say(f"  fleet {self.gateway_url}/models   metrics {self.gateway_url}/metrics")
        if self.observe_port is not None:
            self.say(
                f"  prometheus {self.observer_url}  (scrapes every 1s, modelfleet rules loaded)"
            )
        for spec in self.specs:
            state = "  DOWN: gave up on it, see above" if spec.name in down else ""
            self.say(f"  {spec.model} {spec.version:<4} {spec.url}  weight {spec.weight}{state}")
        self.say(f"edit {self.values_path} to change weights (hot reload); Ctrl-C stops all")

    def _serve(self) -> int:
        while not self._stop.wait(TICK_SECONDS):
            self.supervisor.tick()
            if not self.supervisor.alive():
                self.say("error: every process has been given up on; stopping the stack")
                return 1
        return 0

    def _write_routes(self, values: Mapping[str, Any]) -> bool:
        """Write routes.yaml atomically if it changed; True when it did."""
        try:
            table = running_routes(values, self.specs)
        except ValueError as exc:
            raise StackError(f"{self.values_path}: {exc}") from exc
        text = yaml.safe_dump(table, sort_keys=False)
        sha = hashlib.sha256(text.encode()).hexdigest()
        if sha == self._routes_sha:
            return False
        self.routes_file.parent.mkdir(parents=True, exist_ok=True)
        scratch = self.routes_file.with_name(f".{self.routes_file.name}.tmp")
        scratch.write_text(text, encoding="utf-8")
        os.replace(scratch, self.routes_file)  # the gateway never sees half a file
        self._routes_sha = sha
        return True

    def _watch_values(self) -> None:
        from watchfiles import watch

        folder = self.values_path.resolve().parent
        for _ in watch(folder, stop_event=self._stop, recursive=False, debounce=200):
            self._values_changed()

    def _values_changed(self) -> None:
        try:
            content = hashlib.sha256(self.values_path.read_bytes()).hexdigest()
        except OSError:
            content = ""  # mid-replace by an editor: the next event has the new file
        if content == self._values_sha:
            return  # one save can raise several events; report each change once
        self._values_sha = content
        try:
            values = load_values(self.values_path)
            changed = self._write_routes(values)
        except StackError as exc:
            self.say(f"values rejected, routes unchanged: {exc}")
            return
        if changed:
            self._report_routes(values)

    def _report_routes(self, values: Mapping[str, Any]) -> None:
        running = {(s.model, s.version) for s in self.specs}
        for model, entry in values["models"].items():
            weights = " ".join(
                f"{v}={(spec or {}).get('weight', 0)}"
                for v, spec in ((entry or {}).get("versions") or {}).items()
            )
            self.say(f"routes updated: {model} {weights} (the gateway reloads them)")
            for version in (entry or {}).get("versions") or {}:
                if (model, version) not in running:
                    self.say(f"{model} {version} is not running: restart `make run` to start it")


def run_stack(
    values: Path, registry: Path, port: int, state_dir: Path, observe_port: int | None = None
) -> int:
    """Entry point of `modelfleet up`."""
    return Stack(values, registry, port, state_dir, observe_port).run()
