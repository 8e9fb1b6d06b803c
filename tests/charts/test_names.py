"""Model names can never make one object select, or be let in as, another's pods.

Every selector the charts render (Deployments, Services, PDBs, NetworkPolicies
and their peers, ServiceMonitors) is evaluated against every pod the release
runs, as Kubernetes would: each may only reach the pods it is for. Models are
generated under every name the rendered objects use (their name labels,
components, name parts and kinds); the chart must refuse the reserved ones with
a clear message and render the rest without any overlap.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import pytest

from tests.charts.helm import MONITORING_APIS, Helm, Manifest
from tests.charts.scenarios import API_KEYS_AND_EXPOSURE, new_model

MODEL_NAME = re.compile(r"^[a-z][a-z0-9]{0,29}$")  # the schema's pattern
RESERVED = {"cli", "gateway", "prometheus", "runtime"}
Owner = tuple[str | None, str | None, str | None]


def selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    """A LabelSelector (or a plain Service selector map) against one pod's labels."""
    plain = "matchLabels" not in selector and "matchExpressions" not in selector
    match_labels = selector if plain else selector.get("matchLabels", {})
    if any(labels.get(key) != value for key, value in match_labels.items()):
        return False
    for expression in selector.get("matchExpressions", []) if not plain else []:
        present, values = expression["key"] in labels, expression.get("values", [])
        chosen = labels.get(expression["key"]) in values
        wanted = {"In": chosen, "NotIn": not chosen, "Exists": present, "DoesNotExist": not present}
        if not wanted[expression["operator"]]:
            return False
    return True


def owner(labels: dict[str, str]) -> Owner:
    """What an object is for: its component, model and (for per-version objects) version."""
    return (
        labels.get("app.kubernetes.io/component"),
        labels.get("modelfleet.io/model"),
        labels.get("modelfleet.io/version"),
    )


def serves(selecting: Owner, pod: Owner) -> bool:
    component, model, version = selecting
    return (component, model) == pod[:2] and version in (None, pod[2])


def pods(manifests: list[Manifest]) -> dict[str, dict[str, str]]:
    """Labels of every pod the release runs: Deployment templates and test pods."""
    found = {}
    for m in manifests:
        if m["kind"] == "Deployment":
            found[m["metadata"]["name"]] = m["spec"]["template"]["metadata"]["labels"]
        elif m["kind"] == "Pod":
            found[m["metadata"]["name"]] = m["metadata"]["labels"]
    return found


def pod_selector(manifest: Manifest) -> dict[str, Any] | None:
    spec = manifest.get("spec", {})
    if manifest["kind"] in ("Deployment", "PodDisruptionBudget", "Service"):
        return spec.get("selector")
    if manifest["kind"] == "NetworkPolicy":
        return spec["podSelector"]
    return None


def overlaps(manifests: list[Manifest]) -> list[str]:
    """Every selection of a pod that is not the selecting object's own."""
    running = pods(manifests)
    services = {m["metadata"]["name"]: m for m in manifests if m["kind"] == "Service"}
    found = []
    for m in manifests:
        where, mine = f"{m['kind']}/{m['metadata']['name']}", owner(m["metadata"]["labels"])
        if (selector := pod_selector(m)) is not None:
            reached = [name for name, labels in running.items() if selects(selector, labels)]
            found += [
                f"{where} selects {p}" for p in reached if not serves(mine, owner(running[p]))
            ]
            if not reached:
                found.append(f"{where} selects no pod")
        if m["kind"] == "ServiceMonitor":
            selector = m["spec"]["selector"]
            chosen = [s for s in services.values() if selects(selector, s["metadata"]["labels"])]
            found += [f"{where} scrapes Service/{s['metadata']['name']}" for s in chosen
                      if not serves(mine, owner(s["metadata"]["labels"]))]  # fmt: skip
        if m["kind"] == "NetworkPolicy":
            found += peer_overlaps(where, m, running)
    return found


def peer_overlaps(where: str, policy: Manifest, running: dict[str, dict[str, str]]) -> list[str]:
    """A scraper peer (it may sit in any namespace) admits none of the release's own
    pods; the gateway and test peers admit one kind of pod: gateway or test pods."""
    found = []
    for rule in policy["spec"]["ingress"]:
        for peer in rule.get("from", []):
            reached = [n for n, labels in running.items() if selects(peer["podSelector"], labels)]
            components = {owner(running[n])[0] for n in reached}
            scraper = "namespaceSelector" in peer
            if scraper or len(components) > 1 or not components <= {"gateway", "test"}:
                found += [f"{where} admits {n} as {peer['podSelector']}" for n in reached]
    return found


def test_the_checker_finds_a_service_selecting_another_models_pods(helm: Helm) -> None:
    """Guards the guard: a hand-made overlap is reported."""
    manifests = helm.template()
    service = next(
        m for m in manifests if m["metadata"]["name"] == "iris-v1" and m["kind"] == "Service"
    )
    del service["spec"]["selector"]["modelfleet.io/version"]
    assert overlaps(manifests) == ["Service/iris-v1 selects iris-v2"]


def test_no_selector_reaches_another_objects_pods_with_the_shipped_values(helm: Helm) -> None:
    assert overlaps(helm.template()) == []


def object_words(manifests: list[Manifest]) -> set[str]:
    """Every name the rendered objects use: name labels, components, name parts, kinds."""
    words = set()
    for m in manifests:
        labels = m["metadata"].get("labels", {})
        words |= {
            labels.get("app.kubernetes.io/name", ""),
            labels.get("app.kubernetes.io/component", ""),
        }
        words |= set(re.split(r"[-.]", m["metadata"]["name"])) | {m["kind"].lower()}
    return {w for w in words if MODEL_NAME.match(w)}


@pytest.fixture(scope="module")
def candidates(helm: Helm) -> set[str]:
    """Names of everything the umbrella renders with every optional object on."""
    shipped = helm.template(values=API_KEYS_AND_EXPOSURE, api_versions=MONITORING_APIS)
    names = object_words(shipped) | RESERVED
    return names - {m["metadata"]["labels"].get("modelfleet.io/model") for m in shipped}


def test_reserved_model_names_are_refused_each_with_a_clear_message(
    helm: Helm, candidates: set[str]
) -> None:
    assert candidates >= RESERVED
    message = helm.template_error(values={"models": {n: new_model(n) for n in sorted(candidates)}})
    refused = set(re.findall(r"^- models\.([a-z0-9]+)(?:\.versions\.v1)?: ", message, re.M))
    assert refused == RESERVED, message
    assert 'models.gateway: the name "gateway" is reserved' in message
    assert (
        "models.prometheus.versions.v1: its pods would match networkPolicy.scrapers.prometheus"
        in message
    )


def test_models_named_like_every_other_object_select_only_their_own_pods(
    helm: Helm, candidates: set[str]
) -> None:
    allowed = sorted(candidates - RESERVED)
    assert {"routes", "metrics", "test", "service", "servicemonitor", "ingress"} <= set(allowed)
    models = {"models": {n: new_model(n) for n in allowed}}
    manifests = helm.template(values=models, api_versions=MONITORING_APIS)
    assert overlaps(manifests) == []
    names = Counter((m["kind"], m["metadata"]["name"]) for m in manifests)
    assert [key for key, count in names.items() if count > 1] == []


def test_a_model_whose_pods_a_configured_scraper_would_match_is_refused(helm: Helm) -> None:
    """Grafana Alloy's pods are `app.kubernetes.io/name: alloy`; a model may not be."""
    alloy = {"podSelector": {"matchExpressions": [
        {"key": "app.kubernetes.io/name", "operator": "In", "values": ["alloy", "vmagent"]}]}}  # fmt: skip
    values = {
        "networkPolicy": {"scrapers": {"alloy": alloy}},
        "models": {"vmagent": new_model("vmagent")},
    }
    message = helm.template_error(values=values)
    assert (
        "models.vmagent.versions.v1: its pods would match networkPolicy.scrapers.alloy.podSelector"
        in message
    )


def test_pod_labels_may_not_replace_the_charts_own(helm: Helm) -> None:
    values = {"modelDefaults": {"podLabels": {"app.kubernetes.io/name": "gateway"}}}
    message = helm.template_error(values=values)
    assert (
        'models.iris.versions.v1.podLabels: "app.kubernetes.io/name" is set by the chart' in message
    )
    gateway = {"gateway": {"podLabels": {"modelfleet.io/model": "iris"}}}
    assert '- podLabels: "modelfleet.io/model" is set by the chart' in helm.template_error(
        values=gateway
    )


def test_a_gateway_name_that_a_model_object_would_take_is_refused(helm: Helm) -> None:
    message = helm.template_error(values={"gateway": {"fullnameOverride": "iris-v2"}})
    assert 'models.iris: its objects would be named "iris-v2", like the gateway\'s' in message
