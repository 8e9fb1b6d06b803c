"""Named value sets the umbrella chart is rendered and validated with.

Each scenario is (values overriding charts/modelfleet/values.yaml, extra API
versions the pretend cluster serves). They cover every optional branch of the
templates: canary with shadow, custom-metric HPA, PVC registry, API keys and
exposure, monitoring CRDs present, autoscaling off, several models.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tests.charts.helm import MONITORING_APIS

__all__ = ["SCENARIOS", "Scenario", "image"]

API_KEY_SHA256 = "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae"  # sha256("foo")


def image(name: str, tag: str = "0.1.0") -> dict[str, str]:
    return {"repository": f"ghcr.io/modelfleet/{name}", "tag": tag}


@dataclass(frozen=True)
class Scenario:
    values: dict[str, Any]
    api_versions: tuple[str, ...] = ()


CANARY_WITH_SHADOW = {
    "models": {
        "iris": {
            "versions": {
                "v1": {"weight": 90, "image": image("iris")},
                "v2": {"weight": 10, "image": image("iris", "0.2.0")},
                "v3": {"weight": 0, "image": image("iris", "0.3.0")},
            },
            "shadow": {"version": "v3", "percent": 100},
        }
    }
}

CUSTOM_METRIC_HPA = {
    "modelDefaults": {
        "autoscaling": {
            "enabled": True,
            "minReplicas": 2,
            "maxReplicas": 8,
            "targetCPUUtilizationPercentage": 60,
            "inflightRequests": {"enabled": True, "averageValue": 4},
            "scaleUpStabilizationSeconds": 0,
            "scaleDownStabilizationSeconds": 120,
        }
    },
}

PVC_REGISTRY = {"registry": {"source": "pvc", "pvc": {"claimName": "model-registry"}}}

API_KEYS_AND_EXPOSURE = {
    "gateway": {
        "apiKeys": {"enabled": True, "sha256": {"ci": API_KEY_SHA256}},
        "ingress": {
            "enabled": True,
            "className": "nginx",
            "tls": {"enabled": True, "secretName": "modelfleet-tls"},
        },
        "httpRoute": {"enabled": True},
    }
}

FIXED_REPLICAS = {
    "modelDefaults": {
        "replicas": 3,
        "autoscaling": {**CUSTOM_METRIC_HPA["modelDefaults"]["autoscaling"], "enabled": False},
    },
    "gateway": {"autoscaling": {"enabled": False}, "replicas": 2},
}

SEVERAL_MODELS = {
    "namePrefix": "prod-",
    "tracing": {"otlpEndpoint": "http://otel-collector.observability:4318"},
    "models": {
        "digits": {
            "timeoutSeconds": 10,
            "retries": 0,
            "guard": {
                "enabled": False,
                "maxErrorRate": 0.1,
                "windowSeconds": 30,
                "minRequests": 10,
            },
            "batching": {"maxBatchSize": 64, "maxWaitMs": 5, "maxQueue": 512},
            "workers": 1,
            "torchThreads": 2,
            "startupBudgetSeconds": 900,
            "resources": {"requests": {"cpu": "1", "memory": "2Gi"}, "limits": {"memory": "3Gi"}},
            "versions": {
                "v1": {"weight": 100, "image": image("digits"), "replicas": 2},
            },
        }
    },
}

SCENARIOS: dict[str, Scenario] = {
    "defaults": Scenario({}),
    "canary-with-shadow": Scenario(CANARY_WITH_SHADOW),
    "custom-metric-hpa": Scenario(CUSTOM_METRIC_HPA),
    "pvc-registry": Scenario(PVC_REGISTRY),
    "api-keys-and-exposure": Scenario(API_KEYS_AND_EXPOSURE),
    "monitoring-crds": Scenario({}, MONITORING_APIS),
    "fixed-replicas": Scenario(FIXED_REPLICAS),
    "several-models": Scenario(SEVERAL_MODELS, MONITORING_APIS),
}
