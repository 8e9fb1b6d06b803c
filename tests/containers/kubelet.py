"""Run a rendered workload's container with podman, the way the kubelet would run it.

Every setting comes from the manifest `helm template` rendered: image, command
and args, env (literal and downward API), ports, the security context (user,
groups, read-only root, capabilities, privilege escalation, seccomp), the memory
limit, volumes (emptyDir -> tmpfs, ConfigMap and Secret -> a folder in the
kubelet's `..data` layout, PersistentVolumeClaim -> a host folder the test
names), probes and the termination grace period. The pod joins a podman network
under the names of the Services that select it, so the chart's URLs
(`http://iris-v1:8080`) resolve. A setting this module does not know fails the
run instead of being dropped: a chart change must reach the containers or stop
the suite.
"""

from __future__ import annotations

import base64
import json
import re
import socket
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.charts.helm import Manifest, by_kind
from tests.configmaps import write_volume
from tests.containers.podman import podman, podman_run
from tests.processes import free_port

__all__ = ["Kubelet", "Pod", "PodFailed", "pod_spec"]

# Container keys that change nothing for one container on one machine, and why.
NOT_RUN_HERE = {
    "name": "the container's name inside its pod",
    "imagePullPolicy": "images are local: never pulled",
    "terminationMessagePolicy": "no termination message is read",
}
KNOWN = {
    "image", "command", "args", "env", "ports", "securityContext", "resources",
    "volumeMounts", "startupProbe", "readinessProbe", "livenessProbe", "lifecycle",
    "workingDir", *NOT_RUN_HERE,
}  # fmt: skip
# Pod keys that change nothing here: scheduling, and what needs an API server.
POD_NOT_RUN_HERE = {
    "topologySpreadConstraints", "nodeSelector", "tolerations", "affinity",
    "priorityClassName", "imagePullSecrets", "serviceAccountName",
    "automountServiceAccountToken", "enableServiceLinks", "restartPolicy",
}  # fmt: skip
POD_KNOWN = {"containers", "securityContext", "volumes", "terminationGracePeriodSeconds"}
UNITS = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "K": 10**3, "M": 10**6, "G": 10**9}


class PodFailed(RuntimeError):
    """The container exited, or a probe never passed; the message carries its log."""


def pod_spec(workload: Manifest) -> dict[str, Any]:
    return workload["spec"]["template"]["spec"] if workload["kind"] != "Pod" else workload["spec"]


def _pod_labels(workload: Manifest) -> dict[str, str]:
    meta = (
        workload["spec"]["template"]["metadata"]
        if workload["kind"] != "Pod"
        else workload["metadata"]
    )
    return dict(meta.get("labels", {}))


def quantity(value: str | int) -> int:
    """A Kubernetes quantity (`1Gi`, `512Mi`, `64M`) in bytes."""
    number, unit = re.fullmatch(r"([0-9.]+)([A-Za-z]*)", str(value)).groups()  # type: ignore[union-attr]
    return int(float(number) * UNITS.get(unit, 1))


def _unknown(keys: Mapping[str, Any], known: set[str], where: str) -> None:
    extra = sorted(set(keys) - known)
    if extra:
        raise NotImplementedError(f"{where} sets {extra}: teach tests/containers/kubelet.py")


@dataclass
class Pod:
    """One running container, reached through its published ports on 127.0.0.1."""

    name: str
    workload: Manifest
    container: dict[str, Any]
    ports: dict[str | int, int] = field(default_factory=dict)

    @property
    def grace_seconds(self) -> int:
        return int(pod_spec(self.workload).get("terminationGracePeriodSeconds", 30))

    @property
    def pre_stop_seconds(self) -> int:
        hook = self.container.get("lifecycle", {}).get("preStop", {})
        _unknown(hook, {"sleep"}, f"{self.name}'s preStop hook")
        return int(hook.get("sleep", {}).get("seconds", 0))

    def url(self, port: str | int = "http") -> str:
        return f"http://127.0.0.1:{self.ports[port]}"

    def logs(self) -> str:
        done = podman_run("logs", self.name)
        return done.stdout + done.stderr

    def state(self) -> dict[str, Any]:
        return dict(json.loads(podman("inspect", "--format", "{{json .State}}", self.name)))

    def probe(self, kind: str) -> bool:
        """One attempt of the container's `kind` probe (startupProbe, ...); True if none."""
        probe = self.container.get(kind)
        if probe is None:
            return True
        _unknown(probe, {"httpGet", "periodSeconds", "timeoutSeconds", "failureThreshold",
                         "initialDelaySeconds", "successThreshold"}, f"{self.name}'s {kind}")  # fmt: skip
        get = probe["httpGet"]
        try:
            answer = httpx.get(
                self.url(get["port"]) + get["path"], timeout=probe.get("timeoutSeconds", 1)
            )
        except httpx.HTTPError:
            return False
        return 200 <= answer.status_code < 400

    def wait_started(self) -> Pod:
        """Return once the startup probe passes, within the budget the kubelet gives it."""
        probe = self.container.get("startupProbe", {})
        budget = probe.get("initialDelaySeconds", 0) + probe.get("periodSeconds", 10) * probe.get(
            "failureThreshold", 3
        )
        deadline = time.monotonic() + budget
        while not self.probe("startupProbe"):
            state = self.state()
            if not state["Running"]:
                raise PodFailed(f"{self.name} exited ({state['ExitCode']}):\n{self.logs()}")
            if time.monotonic() > deadline:
                raise PodFailed(f"{self.name}: startupProbe failed for {budget}s:\n{self.logs()}")
            time.sleep(0.25)
        return self

    def stop(self) -> tuple[int, float]:
        """SIGTERM, then SIGKILL after the grace period the preStop hook leaves:
        (exit code, seconds to exit). The hook's sleep itself is not waited out."""
        budget = self.grace_seconds - self.pre_stop_seconds
        started = time.monotonic()
        podman("stop", "--time", str(budget), self.name, timeout=budget + 30)
        return int(self.state()["ExitCode"]), time.monotonic() - started

    def wait_exit(self, timeout: float) -> int:
        podman("wait", self.name, timeout=timeout)
        return int(self.state()["ExitCode"])

    def remove(self) -> None:
        podman_run("rm", "--force", "--time", "0", self.name)


@dataclass
class Kubelet:
    """Runs workloads of one rendered release on a podman network of its own."""

    manifests: list[Manifest]
    workdir: Path
    claims: dict[str, Path] = field(default_factory=dict)
    """PersistentVolumeClaim name -> host folder that stands for it."""
    network: str = field(default_factory=lambda: f"modelfleet-test-{uuid.uuid4().hex[:8]}")
    pods: list[Pod] = field(default_factory=list)

    def __post_init__(self) -> None:
        podman("network", "create", self.network)

    def close(self) -> None:
        for pod in self.pods:
            pod.remove()
        podman_run("network", "rm", "--force", self.network)

    def start(self, workload: Manifest) -> Pod:
        """Create and start the workload's one container; does not wait for it."""
        spec = pod_spec(workload)
        _unknown(spec, POD_KNOWN | POD_NOT_RUN_HERE, f"{workload['metadata']['name']}'s pod")
        (container,) = spec["containers"]
        _unknown(container, KNOWN, f"{workload['metadata']['name']}'s container")
        pod = Pod(f"{workload['metadata']['name']}-{uuid.uuid4().hex[:8]}", workload, container)
        argv = [
            "run", "--detach", "--pull=never", "--name", pod.name, "--hostname", pod.name,
            "--network", self.network, *self._aliases(workload, container),
            *self._ports(pod), *self._env(pod, workload),
            *_security(spec.get("securityContext", {}), container.get("securityContext", {})),
            *_resources(container.get("resources", {})), *self._volumes(pod, spec),
        ]  # fmt: skip
        if "workingDir" in container:
            argv += ["--workdir", container["workingDir"]]
        if "command" in container:
            argv += ["--entrypoint", json.dumps(container["command"])]
        argv += [container["image"], *container.get("args", [])]
        self._check_non_root(spec, container)
        podman(*argv)
        self.pods.append(pod)
        return pod

    def update_configmaps(self, manifests: list[Manifest]) -> None:
        """Write the ConfigMaps of a new render into the folders the pods mount (kubelet sync)."""
        self.manifests = manifests
        for name, configmap in by_kind(manifests, "ConfigMap").items():
            folder = self.workdir / "configmap" / name
            if folder.exists():
                write_volume(folder, configmap.get("data", {}))

    def _aliases(self, workload: Manifest, container: dict[str, Any]) -> list[str]:
        """`--network-alias` for every Service selecting the pod (its cluster DNS name)."""
        labels, ports = (
            _pod_labels(workload),
            {p.get("name"): p["containerPort"] for p in container.get("ports", [])},
        )
        aliases = []
        for name, service in by_kind(self.manifests, "Service").items():
            selector = service["spec"].get("selector", {})
            if selector and selector.items() <= labels.items():
                for port in service["spec"]["ports"]:
                    target = port.get("targetPort", port["port"])
                    if ports.get(target, target) != port["port"]:
                        raise NotImplementedError(f"Service {name} maps {port['port']} to {target}: "
                                                  "the test network has no port mapping")  # fmt: skip
                aliases += ["--network-alias", name]
        return aliases

    def _ports(self, pod: Pod) -> list[str]:
        args = []
        for port in pod.container.get("ports", []):
            _unknown(port, {"name", "containerPort", "protocol"}, f"{pod.name}'s port")
            host = free_port()
            pod.ports[port["containerPort"]] = host
            if "name" in port:
                pod.ports[port["name"]] = host
            args += ["--publish", f"127.0.0.1:{host}:{port['containerPort']}"]
        return args

    def _env(self, pod: Pod, workload: Manifest) -> list[str]:
        fields = {
            "metadata.name": pod.name,
            "metadata.namespace": workload["metadata"].get("namespace", "default"),
            "spec.nodeName": socket.gethostname(),
        }
        args = []
        for item in pod.container.get("env", []):
            path = item.get("valueFrom", {}).get("fieldRef", {}).get("fieldPath")
            if "value" not in item and path not in fields:
                raise NotImplementedError(
                    f"env {item} of {pod.name}: teach tests/containers/kubelet.py"
                )
            args += [
                "--env",
                f"{item['name']}={item['value'] if 'value' in item else fields[path]}",
            ]
        return args

    def _volumes(self, pod: Pod, spec: dict[str, Any]) -> list[str]:
        volumes = {v["name"]: v for v in spec.get("volumes", [])}
        args = []
        for mount in pod.container.get("volumeMounts", []):
            _unknown(mount, {"name", "mountPath", "readOnly"}, f"{pod.name}'s volume mount")
            volume, target = volumes[mount["name"]], mount["mountPath"]
            if "emptyDir" in volume:
                size = volume["emptyDir"].get("sizeLimit")
                limit = f",tmpfs-size={quantity(size)}" if size else ""
                args += ["--mount", f"type=tmpfs,destination={target},tmpfs-mode=0777{limit}"]
            elif "configMap" in volume or "secret" in volume:
                # The kubelet always mounts these read-only.
                args += ["--volume", f"{self._projected(volume)}:{target}:ro"]
            elif "persistentVolumeClaim" in volume:
                claim = volume["persistentVolumeClaim"]
                read_only = claim.get("readOnly") or mount.get("readOnly")
                host = self.claims[claim["claimName"]]
                args += ["--volume", f"{host}:{target}" + (":ro" if read_only else "")]
            else:
                raise NotImplementedError(
                    f"volume {volume} of {pod.name}: teach tests/containers/kubelet.py"
                )
        return args

    def _projected(self, volume: dict[str, Any]) -> Path:
        """The folder a ConfigMap or Secret volume shows, written from the rendered object."""
        kind, source = (
            ("ConfigMap", volume["configMap"])
            if "configMap" in volume
            else ("Secret", volume["secret"])
        )
        name = source.get("name") or source["secretName"]
        rendered = by_kind(self.manifests, kind)[name]
        data = dict(rendered.get("data", {}))
        if kind == "Secret":
            data = {k: base64.b64decode(v) for k, v in data.items()} | rendered.get(
                "stringData", {}
            )
        if "items" in source:
            data = {item["path"]: data[item["key"]] for item in source["items"]}
        folder = self.workdir / kind.lower() / name
        if not folder.exists():
            write_volume(folder, data)
        return folder

    def _check_non_root(self, spec: dict[str, Any], container: dict[str, Any]) -> None:
        """The kubelet's runAsNonRoot check: refuse uid 0, or a name it cannot verify."""
        context = {**spec.get("securityContext", {}), **container.get("securityContext", {})}
        if not context.get("runAsNonRoot"):
            return
        user = context.get("runAsUser")
        if user is None:
            user = (
                podman("image", "inspect", "--format", "{{.Config.User}}", container["image"])
                .strip()
                .split(":")[0]
            )
        if not str(user).isdigit() or int(user) == 0:
            raise PodFailed(f"runAsNonRoot and image {container['image']} runs as {user!r}")


def _security(pod: dict[str, Any], container: dict[str, Any]) -> list[str]:
    """podman flags for the merged pod and container security contexts."""
    context = {**pod, **container}
    _unknown(context, {"runAsUser", "runAsGroup", "runAsNonRoot", "fsGroup", "seccompProfile",
                       "allowPrivilegeEscalation", "privileged", "readOnlyRootFilesystem",
                       "capabilities"}, "a securityContext")  # fmt: skip
    args = []
    if "runAsUser" in context:
        group = f":{context['runAsGroup']}" if "runAsGroup" in context else ""
        args += ["--user", f"{context['runAsUser']}{group}"]
    if "fsGroup" in pod:
        args += ["--group-add", str(pod["fsGroup"])]
    if context.get("readOnlyRootFilesystem"):
        # podman's --read-only adds writable tmpfs at /tmp, /run, ... unless told not to:
        # only the chart's own volumes may be writable.
        args += ["--read-only", "--read-only-tmpfs=false"]
    if context.get("allowPrivilegeEscalation") is False:
        args += ["--security-opt", "no-new-privileges"]
    if context.get("privileged"):
        args += ["--privileged"]
    capabilities = context.get("capabilities", {})
    args += [f"--cap-drop={c.lower()}" for c in capabilities.get("drop", [])]
    args += [f"--cap-add={c.lower()}" for c in capabilities.get("add", [])]
    profile = context.get("seccompProfile", {}).get("type", "RuntimeDefault")
    if profile == "Unconfined":
        args += ["--security-opt", "seccomp=unconfined"]
    elif profile != "RuntimeDefault":
        raise NotImplementedError(f"seccompProfile {profile}")
    return args


def _resources(resources: dict[str, Any]) -> list[str]:
    """Limits, as the kubelet enforces them (requests only place a pod on a node)."""
    limits = resources.get("limits", {})
    _unknown(limits, {"memory", "cpu"}, "resources.limits")
    args = [f"--memory={quantity(limits['memory'])}"] if "memory" in limits else []
    if "cpu" in limits:
        cpu = str(limits["cpu"])
        args += [f"--cpus={int(cpu[:-1]) / 1000 if cpu.endswith('m') else float(cpu)}"]
    return args
