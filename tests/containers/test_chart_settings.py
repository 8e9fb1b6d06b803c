"""The chart's settings matter to the images: the other registry source works
read-only, and a chart that forgets a writable path fails this suite."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from tests.charts.helm import Helm, Manifest
from tests.containers.answers import request_for
from tests.containers.conftest import MODEL_VERSIONS, KubeletFor, model_workload
from tests.containers.kubelet import PodFailed, pod_spec

pytestmark = pytest.mark.slow
MODEL, VERSION = MODEL_VERSIONS[0]
# How Python reports a read-only root: tempfile's search, or the write itself.
CANNOT_WRITE = r"No usable temporary directory|Read-only file system"


@pytest.mark.usefixtures("rendered")  # the images are built
def test_a_model_serves_its_version_from_a_read_only_claim(
    helm: Helm, kubelet_for: KubeletFor, registry_root: Path
) -> None:
    manifests = helm.template(
        values={"registry": {"source": "pvc", "pvc": {"claimName": "models"}}}
    )
    workload = model_workload(manifests, MODEL, VERSION)
    (mount,) = [
        m for m in pod_spec(workload)["containers"][0]["volumeMounts"] if m["name"] == "registry"
    ]
    assert mount["readOnly"]
    pod = kubelet_for(manifests, {"models": registry_root}).start(workload).wait_started()
    answer = request_for(pod.url(), MODEL).send(pod.url())
    assert answer.status_code == 200, answer.text


def forget_writable_paths(workload: Manifest) -> Manifest:
    """The workload as a chart would render it that lost every emptyDir mount."""
    broken = copy.deepcopy(workload)
    spec = pod_spec(broken)
    writable = {v["name"] for v in spec["volumes"] if "emptyDir" in v}
    assert writable, "the chart gives this container no writable path"
    for container in spec["containers"]:
        container["volumeMounts"] = [
            m for m in container["volumeMounts"] if m["name"] not in writable
        ]
    return broken


def test_a_chart_that_forgets_the_writable_tmp_fails_the_suite(
    rendered: list[Manifest], kubelet_for: KubeletFor
) -> None:
    workload = forget_writable_paths(model_workload(rendered, MODEL, VERSION))
    pod = kubelet_for(rendered).start(workload)
    with pytest.raises(PodFailed, match=CANNOT_WRITE):
        pod.wait_started()


@pytest.mark.parametrize(
    "setting",
    [
        {"envFrom": [{"configMapRef": {"name": "extra"}}]},
        {"env": [{"name": "SECRET", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}]},
        {"securityContext": {"runAsUser": 10001, "sysctls": []}},
    ],
    ids=["envFrom", "secretKeyRef", "unknown-securityContext-key"],
)
def test_a_setting_the_suite_cannot_run_stops_it_rather_than_being_dropped(
    rendered: list[Manifest], kubelet_for: KubeletFor, setting: dict
) -> None:
    workload = copy.deepcopy(model_workload(rendered, MODEL, VERSION))
    pod_spec(workload)["containers"][0].update(setting)
    with pytest.raises(NotImplementedError, match=r"teach tests/containers/kubelet\.py"):
        kubelet_for(rendered).start(workload)
