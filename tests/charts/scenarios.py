"""Named value sets the umbrella chart is rendered and validated with.

Each scenario is (values overriding charts/modelfleet/values.yaml, extra API
versions the pretend cluster serves). They cover every optional branch of the
templates: canary with shadow, custom-metric HPA, PVC registry, API keys and
exposure, monitoring CRDs present, autoscaling off, several models, a fourth
model from its defaults alone, and every pod escape hatch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tests.charts.helm import MONITORING_APIS

__all__ = ["SCENARIOS", "Scenario", "image", "new_model"]

API_KEY_SHA256 = "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae"  # sha256("foo")


def image(name: str, tag: str = "0.1.0") -> dict[str, str]:
    return {"repository": f"ghcr.io/modelfleet/{name}", "tag": tag}


def new_model(name: str, **overrides: Any) -> dict[str, Any]:
    """A model entry with only the keys a model must set, one version at weight 100."""
    return {
        "timeoutSeconds": 5,
        "retries": 1,
        "guard": {"enabled": True, "maxErrorRate": 0.2, "windowSeconds": 60, "minRequests": 20},
        "batching": {"maxBatchSize": 32, "maxWaitMs": 0, "maxQueue": 256},
        "workers": 1,
        "versions": {"v1": {"weight": 100, "image": image(name)}},
        **overrides,
    }


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

FOURTH_MODEL = {"models": {"fourth": new_model("fourth")}}

OTLP_HEADERS = {"secretKeyRef": {"name": "otlp-credentials", "key": "headers"}}
GPU_NODES = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
    "nodeSelectorTerms": [{"matchExpressions": [
        {"key": "nvidia.com/gpu.present", "operator": "In", "values": ["true"]}]}]}}}  # fmt: skip
POD_HATCHES = {
    "extraEnvVars": [
        {"name": "OTEL_TRACES_SAMPLER", "value": "parentbased_traceidratio"},
        {"name": "OTEL_EXPORTER_OTLP_HEADERS", "valueFrom": OTLP_HEADERS},
    ],
    "podAnnotations": {"example.com/owner": "ml-platform"},
    "podLabels": {"example.com/team": "ml"},
    "affinity": {"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": []}},
    "nodeSelector": {"kubernetes.io/arch": "amd64"},
    "tolerations": [
        {"key": "dedicated", "operator": "Equal", "value": "ml", "effect": "NoSchedule"}
    ],
    "priorityClassName": "modelfleet-serving",
    "extraVolumes": [{"name": "cache", "emptyDir": {"sizeLimit": "1Gi"}}],
    "extraVolumeMounts": [{"name": "cache", "mountPath": "/cache"}],
}
# Every hatch at modelDefaults (iris takes them), per model (minilm) and per
# version (minilm v1), and on the gateway.
ESCAPE_HATCHES = {
    "modelDefaults": {
        **POD_HATCHES,
        "resources": {
            "requests": {"cpu": "250m", "memory": "512Mi", "ephemeral-storage": "1Gi"},
            "limits": {"memory": "1Gi", "ephemeral-storage": "2Gi"},
        },
    },
    "models": {
        "minilm": {
            "podLabels": {"example.com/team": "search"},
            "versions": {
                "v1": {
                    "affinity": GPU_NODES,
                    "priorityClassName": "gpu-serving",
                    "resources": {
                        "requests": {"cpu": "1", "memory": "2Gi"},
                        "limits": {"memory": "4Gi", "nvidia.com/gpu": 1},
                    },
                }
            },
        }
    },
    "gateway": POD_HATCHES,
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
    "fourth-model": Scenario(FOURTH_MODEL, MONITORING_APIS),
    "escape-hatches": Scenario(ESCAPE_HATCHES),
}
