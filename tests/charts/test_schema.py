"""Bad values are refused before anything is rendered, with a message that says what to fix.

Type and shape errors come from the hand-written values.schema.json files;
cross-field errors (weights, shadow version, bulk limit) from the one
`fleetlib.validateValues` helper.
"""

from __future__ import annotations

import json
from itertools import combinations
from typing import Any

import pytest

from tests.charts.helm import CHARTS, ROOT, Helm
from tests.charts.scenarios import image


def iris(**overrides: Any) -> dict[str, Any]:
    return {"models": {"iris": overrides}}


def test_weights_not_summing_to_100_are_refused_with_a_fix(helm: Helm) -> None:
    message = helm.template_error(
        values=iris(versions={"v2": {"weight": 25, "image": image("iris")}})
    )
    assert (
        "models.iris.versions: weights must sum to 100, they sum to 115 (v1=90, v2=25)" in message
    )
    assert "--set models.iris.versions.v1.weight=75" in message


def test_an_unknown_key_is_refused_by_name(helm: Helm) -> None:
    message = helm.template_error(values=iris(stickyHeadr="X-User-Id"))
    assert "at '/models/iris': additional properties 'stickyHeadr' not allowed" in message


def test_a_version_without_an_image_is_refused(helm: Helm) -> None:
    values = iris(versions={"v1": {"weight": 80}, "v3": {"weight": 10}})
    message = helm.template_error(values=values)
    assert "at '/models/iris/versions/v3': missing property 'image'" in message


def test_negative_replicas_are_refused(helm: Helm) -> None:
    message = helm.template_error(values={"modelDefaults": {"replicas": -1}})
    assert "at '/modelDefaults/replicas': minimum: got -1, want 0" in message


def test_a_fractional_replica_count_is_refused(helm: Helm) -> None:
    message = helm.template_error(values=iris(versions={"v1": {"replicas": 1.5}}))
    assert "/models/iris/versions/v1/replicas" in message and "want integer" in message


def test_a_shadow_version_that_does_not_exist_is_refused(helm: Helm) -> None:
    message = helm.template_error(values=iris(shadow={"version": "v7", "percent": 50}))
    assert 'models.iris.shadow.version: "v7" is not a version of iris (versions: v1, v2)' in message


def test_a_bulk_limit_above_the_queue_is_refused(helm: Helm) -> None:
    message = helm.template_error(values=iris(maxInstances=1000))
    assert "models.iris.maxInstances (1000) exceeds batching.maxQueue (256)" in message


def test_a_pvc_registry_without_a_claim_is_refused(helm: Helm) -> None:
    message = helm.template_error(values={"registry": {"source": "pvc"}})
    assert 'registry.pvc.claimName: registry.source is "pvc" but no claim is named' in message


def test_an_unknown_registry_source_is_refused_with_the_choices(helm: Helm) -> None:
    message = helm.template_error(values={"registry": {"source": "s3"}})
    assert "at '/registry/source'" in message and "'image', 'pvc'" in message


def test_every_error_is_listed_at_once(helm: Helm) -> None:
    values = iris(versions={"v2": {"weight": 25}}, shadow={"version": "v9", "percent": 5})
    message = helm.template_error(values=values)
    assert "weights must sum to 100" in message and '"v9" is not a version' in message


def test_api_keys_on_without_any_key_are_refused(helm: Helm) -> None:
    message = helm.template_error(values={"gateway": {"apiKeys": {"enabled": True}}})
    assert "apiKeys: enabled with no keys" in message


def test_a_key_that_is_not_a_sha256_digest_is_refused(helm: Helm) -> None:
    values = {"gateway": {"apiKeys": {"enabled": True, "sha256": {"ci": "plain-text-key"}}}}
    message = helm.template_error(values=values)
    assert "/apiKeys/sha256/ci" in message


def test_the_umbrella_refuses_a_second_routes_configmap(helm: Helm) -> None:
    message = helm.template_error(values={"gateway": {"routes": {"create": True}}})
    assert "gateway.routes.create: must be false in the modelfleet chart" in message


def load_schema(chart: str) -> dict[str, Any]:
    return json.loads((ROOT / "charts" / chart / "values.schema.json").read_text())


@pytest.mark.parametrize("chart", CHARTS)
def test_every_object_schema_is_closed(chart: str) -> None:
    """additionalProperties: false wherever properties are listed (typos never pass)."""

    def open_objects(node: Any, path: str) -> list[str]:
        if isinstance(node, list):
            return [p for i, item in enumerate(node) for p in open_objects(item, f"{path}/{i}")]
        if not isinstance(node, dict):
            return []
        here = (
            [path] if "properties" in node and node.get("additionalProperties") is not False else []
        )
        return here + [p for k, v in node.items() for p in open_objects(v, f"{path}/{k}")]

    assert open_objects(load_schema(chart), "") == []


@pytest.mark.parametrize(("first", "second"), list(combinations(CHARTS, 2)))
def test_definitions_shared_by_two_charts_are_identical(first: str, second: str) -> None:
    """A definition written into two charts' schemas never drifts apart."""
    a, b = load_schema(first).get("definitions", {}), load_schema(second).get("definitions", {})
    assert {k: a[k] for k in a.keys() & b.keys()} == {k: b[k] for k in a.keys() & b.keys()}


def test_the_umbrella_schema_is_the_model_schema_plus_the_gateway() -> None:
    umbrella, model = load_schema("modelfleet"), load_schema("model")
    assert umbrella["definitions"] == model["definitions"]
    assert set(umbrella["properties"]) - set(model["properties"]) == {"gateway"}
