"""The charts accept exactly what the processes accept, so no valid value crash-loops a pod.

Every chart value that becomes a runtime or gateway setting (a MODELFLEET_*
variable) or a routes.yaml key is probed at and around each bound either side
declares: the schema (read as Helm reads it, draft-07) and the pydantic field
must agree on every probe. The mapping from value to variable is checked on
the rendered env, so a new variable without a bound check fails here.

Helm's `--set` passes `x=2` as a number but `x=0.1` as a string; decimal
values take both, and the chart bounds the string form itself.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, get_args

import jsonschema
import pytest
import yaml
from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic.fields import FieldInfo

from gateway.routes import GuardRoute, ModelRoute, ShadowRoute, VersionRoute, parse_routes
from gateway.settings import GatewaySettings
from services.cli.fleet.stack import SETTINGS_ENV
from services.runtime.settings import RuntimeSettings
from tests.charts.helm import ROOT, Helm, HelmError, by_kind
from tests.charts.pods import env

Path_ = tuple[str, ...]
# Value path of a model entry -> variable, as `make run` and the chart set it.
MODEL_SETTINGS: dict[Path_, str] = {**SETTINGS_ENV, ("workers",): "MODELFLEET_SERVER__WORKERS"}
GATEWAY_SETTINGS: dict[Path_, str] = {
    ("settings", "logLevel"): "MODELFLEET_LOG_LEVEL",
    ("settings", "maxBodyBytes"): "MODELFLEET_MAX_BODY_BYTES",
    ("settings", "gracefulTimeoutSeconds"): "MODELFLEET_SERVER__GRACEFUL_TIMEOUT_SECONDS",
    ("settings", "keepaliveSeconds"): "MODELFLEET_SERVER__KEEPALIVE_SECONDS",
    ("settings", "metricsPort"): "MODELFLEET_SERVER__METRICS_PORT",
    ("settings", "connectTimeoutSeconds"): "MODELFLEET_UPSTREAM__CONNECT_TIMEOUT_SECONDS",
    ("settings", "maxConnections"): "MODELFLEET_UPSTREAM__MAX_CONNECTIONS",
}
# Variables that say where a process is, not how it behaves: no value sets them.
PLACE = {"MODEL", "VERSION", "REGISTRY", "SERVER__HOST", "SERVER__PORT", "METRICS_DIR",
         "ROUTES_FILE", "API_KEYS_FILE", "GUARD_STATE_FILE"}  # fmt: skip
# Value path of a model entry -> the routes.yaml field the gateway parses it into.
ROUTE_FIELDS: dict[Path_, tuple[type[BaseModel], str]] = {
    ("timeoutSeconds",): (ModelRoute, "timeoutSeconds"),
    ("retries",): (ModelRoute, "retries"),
    ("guard", "maxErrorRate"): (GuardRoute, "maxErrorRate"),
    ("guard", "windowSeconds"): (GuardRoute, "windowSeconds"),
    ("guard", "minRequests"): (GuardRoute, "minRequests"),
    ("shadow", "percent"): (ShadowRoute, "percent"),
}
# One valid value per setting, each different, to see where each lands.
MODEL_SAMPLE: dict[Path_, Any] = {
    ("server", "timeoutSeconds"): 61, ("server", "gracefulTimeoutSeconds"): 31,
    ("server", "keepaliveSeconds"): 7, ("batching", "maxBatchSize"): 33,
    ("batching", "maxWaitMs"): 3, ("batching", "maxQueue"): 300, ("torchThreads",): 2,
    ("maxBodyBytes",): 2048, ("maxInstances",): 250, ("logLevel",): "warning", ("workers",): 4,
}  # fmt: skip
GATEWAY_SAMPLE: dict[Path_, Any] = {
    ("settings", "logLevel"): "error", ("settings", "maxBodyBytes"): 4096,
    ("settings", "gracefulTimeoutSeconds"): 17, ("settings", "keepaliveSeconds"): 9,
    ("settings", "metricsPort"): 9200, ("settings", "connectTimeoutSeconds"): 2,
    ("settings", "maxConnections"): 128,
}  # fmt: skip


def load_schema(chart: str) -> dict[str, Any]:
    return json.loads((ROOT / "charts" / chart / "values.schema.json").read_text())


MODEL_SCHEMA, GATEWAY_SCHEMA = load_schema("model"), load_schema("gateway")


def resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = schema["definitions"][node["$ref"].rsplit("/", 1)[1]]
    return node


def schema_node(schema: dict[str, Any], start: dict[str, Any], path: Path_) -> dict[str, Any]:
    node = resolve(schema, start)
    for key in path:
        node = resolve(schema, node["properties"][key])
    return node


def settings_field(root: type[BaseModel], variable: str) -> FieldInfo:
    """MODELFLEET_BATCHING__MAX_BATCH_SIZE -> RuntimeSettings.batching.max_batch_size."""
    *sections, name = variable.removeprefix("MODELFLEET_").lower().split("__")
    model = root
    for section in sections:
        model = model.model_fields[section].annotation  # type: ignore[assignment]
    return model.model_fields[name]


def bounds(node: dict[str, Any], field: FieldInfo) -> set[float]:
    keys = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")
    found = {node[k] for k in keys if k in node}
    for constraint in field.metadata:
        found |= {
            getattr(constraint, k) for k in ("ge", "gt", "le", "lt") if hasattr(constraint, k)
        }
    return found


def probes(node: dict[str, Any], field: FieldInfo) -> list[float]:
    """Each bound, a step either side of it, and far out where neither may have one."""
    step = 1 if node.get("type") == "integer" else 0.001
    near = [b + d for b in bounds(node, field) for d in (-step, 0, step)]
    return sorted({*near, -1, 0, 10**9})


def schema_accepts(schema: dict[str, Any], node: dict[str, Any], value: Any) -> bool:
    validator = jsonschema.Draft7Validator({"definitions": schema["definitions"], **node})
    return validator.is_valid(value)


def runtime_accepts(field: FieldInfo, value: Any) -> bool:
    try:
        TypeAdapter(Annotated[field.annotation, field]).validate_python(value)
    except ValidationError:
        return False
    return True


def disagreements(schema: dict[str, Any], node: dict[str, Any], field: FieldInfo) -> list[str]:
    if "enum" in node:
        same = set(node["enum"]) == set(get_args(field.annotation))
        return [] if same else [f"enum {node['enum']} vs {get_args(field.annotation)}"]
    return [
        f"{value}: schema {'accepts' if schema_accepts(schema, node, value) else 'refuses'}"
        for value in probes(node, field)
        if schema_accepts(schema, node, value) != runtime_accepts(field, value)
    ]


MODEL = MODEL_SCHEMA["definitions"]["model"]
GATEWAY = {"properties": GATEWAY_SCHEMA["properties"]}


@pytest.mark.parametrize(
    ("path", "variable"), MODEL_SETTINGS.items(), ids=map(".".join, MODEL_SETTINGS)
)
def test_model_values_are_bounded_as_the_runtime_settings(path: Path_, variable: str) -> None:
    node = schema_node(MODEL_SCHEMA, MODEL, path)
    assert disagreements(MODEL_SCHEMA, node, settings_field(RuntimeSettings, variable)) == []


@pytest.mark.parametrize(
    ("path", "variable"), GATEWAY_SETTINGS.items(), ids=map(".".join, GATEWAY_SETTINGS)
)
def test_gateway_values_are_bounded_as_the_gateway_settings(path: Path_, variable: str) -> None:
    node = schema_node(GATEWAY_SCHEMA, GATEWAY, path)
    assert disagreements(GATEWAY_SCHEMA, node, settings_field(GatewaySettings, variable)) == []


@pytest.mark.parametrize(("path", "target"), ROUTE_FIELDS.items(), ids=map(".".join, ROUTE_FIELDS))
def test_route_values_are_bounded_as_the_gateways_routes_file(
    path: Path_, target: tuple[type[BaseModel], str]
) -> None:
    node = schema_node(MODEL_SCHEMA, MODEL, path)
    model, name = target
    assert disagreements(MODEL_SCHEMA, node, model.model_fields[name]) == []


def test_a_weight_the_chart_accepts_the_gateway_accepts() -> None:
    """Weights are percentages summing to 100, so the chart stops at 100 by design
    (the gateway takes any relative weight up to 10,000)."""
    node = schema_node(MODEL_SCHEMA, MODEL, ("versions",))
    node = resolve(MODEL_SCHEMA, node["additionalProperties"])["properties"]["weight"]
    field = VersionRoute.model_fields["weight"]
    accepted = [v for v in probes(node, field) if schema_accepts(MODEL_SCHEMA, node, v)]
    assert accepted and all(runtime_accepts(field, v) for v in accepted)


def nested(path: Path_, value: Any) -> dict[str, Any]:
    for key in reversed(path):
        value = {key: value}
    return value


def merged(samples: dict[Path_, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for path, value in samples.items():
        node = out
        for key in path[:-1]:
            node = node.setdefault(key, {})
        node[path[-1]] = value
    return out


def behaviour(variables: dict[str, str]) -> set[str]:
    return {v for v in variables if v.startswith("MODELFLEET_")} - {
        f"MODELFLEET_{p}" for p in PLACE
    }


def test_each_model_value_lands_in_its_variable_and_every_variable_is_checked(helm: Helm) -> None:
    assert MODEL_SAMPLE.keys() == MODEL_SETTINGS.keys()
    values = {"models": {"iris": merged(MODEL_SAMPLE)}}
    deployment = by_kind(helm.template("model", values), "Deployment")["iris-v1"]
    variables = env(deployment["spec"]["template"]["spec"]["containers"][0])
    assert {MODEL_SETTINGS[p]: variables[MODEL_SETTINGS[p]] for p in MODEL_SAMPLE} == {
        MODEL_SETTINGS[p]: str(v) for p, v in MODEL_SAMPLE.items()
    }
    assert behaviour(variables) == set(MODEL_SETTINGS.values())


def test_each_gateway_value_lands_in_its_variable_and_every_variable_is_checked(
    helm: Helm,
) -> None:
    assert GATEWAY_SAMPLE.keys() == GATEWAY_SETTINGS.keys()
    values = merged(GATEWAY_SAMPLE)
    deployment = by_kind(helm.template("gateway", values), "Deployment")["modelfleet-gateway"]
    variables = env(deployment["spec"]["template"]["spec"]["containers"][0])
    assert {GATEWAY_SETTINGS[p]: variables[GATEWAY_SETTINGS[p]] for p in GATEWAY_SAMPLE} == {
        GATEWAY_SETTINGS[p]: str(v) for p, v in GATEWAY_SAMPLE.items()
    }
    assert behaviour(variables) == set(GATEWAY_SETTINGS.values())


def render_set(helm: Helm, *assignments: str) -> list[dict[str, Any]]:
    """The umbrella rendered with plain `--set` assignments, as a user types them."""
    extra = [arg for assignment in assignments for arg in ("--set", assignment)]
    return [d for d in yaml.safe_load_all(helm.template_text(extra=extra)) if d]


def test_decimals_work_with_plain_set(helm: Helm) -> None:
    manifests = render_set(
        helm,
        "models.iris.guard.maxErrorRate=0.1",
        "models.iris.timeoutSeconds=2.5",
        "gateway.settings.connectTimeoutSeconds=0.5",
        "modelDefaults.resources.requests.cpu=2",
        r"modelDefaults.resources.limits.nvidia\.com/gpu=1",
    )
    text = by_kind(manifests, "ConfigMap")["modelfleet-gateway-routes"]["data"]["routes.yaml"]
    assert "maxErrorRate: 0.1" in text and "timeoutSeconds: 2.5" in text  # numbers, not strings
    iris = parse_routes(text).models["iris"]
    assert (iris.guard.maxErrorRate, iris.timeoutSeconds) == (0.1, 2.5)
    deployments = by_kind(manifests, "Deployment")
    gateway = deployments["modelfleet-gateway"]["spec"]["template"]["spec"]["containers"][0]
    assert env(gateway)["MODELFLEET_UPSTREAM__CONNECT_TIMEOUT_SECONDS"] == "0.5"
    resources = deployments["iris-v1"]["spec"]["template"]["spec"]["containers"][0]["resources"]
    assert resources["requests"]["cpu"] == 2 and resources["limits"]["nvidia.com/gpu"] == 1


@pytest.mark.parametrize(
    ("assignment", "message"),
    [
        ("models.iris.timeoutSeconds=600.5", "models.iris.timeoutSeconds: 600.5 is out of range; it must be above 0 and at most 600"),
        ("models.iris.guard.maxErrorRate=1.5", "models.iris.guard.maxErrorRate: 1.5 is out of range"),
        ("models.iris.guard.maxErrorRate=0.0", "models.iris.guard.maxErrorRate: 0.0 is out of range"),
        ("gateway.settings.connectTimeoutSeconds=30.5", "settings.connectTimeoutSeconds: 30.5 is out of range"),
        ("modelDefaults.torchThreads=65", "at '/modelDefaults/torchThreads': maximum: got 65, want 64"),
        ("models.iris.batching.maxBatchSize=4097", "maximum: got 4,097, want 4,096"),
        ("models.iris.timeoutSeconds=fast", "at '/models/iris/timeoutSeconds'"),
    ],
)  # fmt: skip
def test_out_of_range_values_are_refused_before_any_pod_starts(
    helm: Helm, assignment: str, message: str
) -> None:
    with pytest.raises(HelmError) as refused:
        render_set(helm, assignment)
    assert message in str(refused.value)
