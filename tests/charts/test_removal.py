"""A version leaves only after a revision has taken its traffic away.

Removing `versions.v2` deletes its Deployment in the same upgrade; if the
gateways still route it a share, that share fails until they reload. The
umbrella chart reads the routes ConfigMap the cluster holds (`lookup`) and
refuses such a removal. Rendered with `helm template --dry-run=server` against
a stand-in API server (tests/charts/apiserver.py), since no real one runs here.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.charts.apiserver import ApiServer, serve_api
from tests.charts.helm import NAMESPACE, RELEASE, Helm, HelmError, Manifest, by_kind

ROUTES = "modelfleet-gateway-routes"


def iris(**versions: dict[str, Any] | None) -> dict[str, Any]:
    return {"models": {"iris": {"versions": versions}}}


@pytest.fixture
def cluster() -> Iterator[ApiServer]:
    with serve_api() as api:
        yield api


def install(helm: Helm, cluster: ApiServer, values: dict[str, Any] | None = None) -> None:
    """What the cluster holds after an upgrade with `values`: here, its routes ConfigMap,
    owned by the release as helm marks what it installed."""
    routes = by_kind(helm.template(values=values), "ConfigMap")[ROUTES]
    routes["metadata"]["annotations"] = {
        "meta.helm.sh/release-name": RELEASE,
        "meta.helm.sh/release-namespace": NAMESPACE,
    }
    cluster.put(routes, "configmaps")


def upgrade(
    helm: Helm, cluster: ApiServer, tmp_path: Path, values: dict[str, Any]
) -> list[Manifest]:
    """`helm upgrade --dry-run=server`: rendered against the cluster, lookups answered."""
    extra = ["--dry-run=server", "--disable-openapi-validation"]
    extra += ["--kubeconfig", str(cluster.kubeconfig(tmp_path))]
    text = helm.template_text(values=values, extra=extra)
    return [doc for doc in yaml.safe_load_all(text) if doc]


def test_removing_a_version_the_running_routes_still_weight_is_refused(
    helm: Helm, cluster: ApiServer, tmp_path: Path
) -> None:
    install(helm, cluster)  # the shipped values: iris v1 90, v2 10
    with pytest.raises(HelmError) as refused:
        upgrade(helm, cluster, tmp_path, iris(v1={"weight": 100}, v2=None))
    message = str(refused.value)
    assert (
        "models.iris.versions.v2: removed while the running routes still give it weight 10"
        in message
    )
    assert "first upgrade with its weight at 0" in message


def test_a_version_set_to_weight_0_first_may_then_be_removed(
    helm: Helm, cluster: ApiServer, tmp_path: Path
) -> None:
    install(helm, cluster, iris(v1={"weight": 100}, v2={"weight": 0}))
    manifests = upgrade(helm, cluster, tmp_path, iris(v1={"weight": 100}, v2=None))
    assert "iris-v2" not in by_kind(manifests, "Deployment")
    assert "iris-v1" in by_kind(manifests, "Deployment")


def test_a_first_install_and_weight_changes_pass(
    helm: Helm, cluster: ApiServer, tmp_path: Path
) -> None:
    """Nothing running yet, or nothing removed: no refusal."""
    assert by_kind(upgrade(helm, cluster, tmp_path, {}), "Deployment")
    install(helm, cluster)
    manifests = upgrade(helm, cluster, tmp_path, iris(v1={"weight": 75}, v2={"weight": 25}))
    assert {"iris-v1", "iris-v2"} <= by_kind(manifests, "Deployment").keys()
