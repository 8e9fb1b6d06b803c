"""The gateway image with the chart's routes ConfigMap mounted (the kubelet's
`..data` layout), routing to the model containers by their Service names."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests.charts.helm import Helm, Manifest
from tests.charts.pods import is_test_hook
from tests.containers.answers import Request, request_for, same
from tests.containers.conftest import VALUES, Fleet, workloads
from tests.processes import all_ready, wait_until

pytestmark = pytest.mark.slow


def through_gateway(request: Request) -> Request:
    """The same request on the gateway's path: OIP passes through, typed calls drop `/v1`."""
    return replace(request, path=request.path.removeprefix("/v1"))


def test_the_gateway_reaches_every_model_container(fleet: Fleet) -> None:
    gateway = fleet.gateway.url()
    wait_until(lambda: all_ready(gateway), 30, "the gateway to see every version ready")
    for (model, version), pod in fleet.models.items():
        request = request_for(pod.url(), model)
        routed = through_gateway(request).send(gateway, headers={"X-Model-Version": version})
        assert routed.status_code == 200, routed.text
        assert routed.headers["x-model-version"] == version
        assert same(routed.json(), request.send(pod.url()).json())


def test_the_gateway_follows_a_weight_change_in_its_configmap(
    fleet: Fleet, helm: Helm, rendered: list[Manifest]
) -> None:
    model, versions = next(
        (m, list(s["versions"])) for m, s in VALUES["models"].items() if len(s["versions"]) > 1
    )
    moved = {v: {"weight": 100 if v == versions[-1] else 0} for v in versions}
    request = through_gateway(request_for(fleet.models[(model, versions[0])].url(), model))
    fleet.kubelet.update_configmaps(helm.template(values={"models": {model: {"versions": moved}}}))
    try:

        def all_to_the_last() -> bool:
            answers = [request.send(fleet.gateway.url()) for _ in range(20)]
            return {a.headers.get("x-model-version") for a in answers} == {versions[-1]}

        wait_until(all_to_the_last, 30, f"{model} traffic to move to {versions[-1]}", step=0.5)
    finally:
        fleet.kubelet.update_configmaps(rendered)


def test_the_chart_s_helm_test_pods_pass_against_the_fleet(
    fleet: Fleet, rendered: list[Manifest]
) -> None:
    hooks = [w for w in workloads(rendered) if is_test_hook(w)]
    assert hooks
    for hook in hooks:
        pod = fleet.kubelet.start(hook)
        assert pod.wait_exit(timeout=120) == 0, pod.logs()
