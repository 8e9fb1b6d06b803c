{{/*
HorizontalPodAutoscaler and PodDisruptionBudget for one Deployment (a model
version or the gateway). Context: dict root, name, labels (dict), selector
(dict), autoscaling / pdb values, and for the HPA `metric`: the per-pod
requests-in-flight gauge that Deployment's pods export.
*/}}

{{- define "fleetlib.hpa" -}}
{{- $a := .autoscaling -}}
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {{ .name }}
  namespace: {{ .root.Release.Namespace }}
  labels: {{- toYaml .labels | nindent 4 }}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {{ .name }}
  minReplicas: {{ $a.minReplicas }}
  maxReplicas: {{ $a.maxReplicas }}
  metrics:
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: {{ $a.targetCPUUtilizationPercentage }}
    {{- if $a.inflightRequests.enabled }}
    # Served by prometheus-adapter (k8s/prometheus-adapter): requests in flight per pod.
    - type: Pods
      pods:
        metric:
          name: {{ .metric }}
        target:
          type: AverageValue
          averageValue: {{ $a.inflightRequests.averageValue | quote }}
    {{- end }}
  # Scale up fast (a burst should not queue), down slowly (no flapping).
  behavior:
    scaleUp:
      stabilizationWindowSeconds: {{ $a.scaleUpStabilizationSeconds }}
      selectPolicy: Max
      policies:
        - {type: Percent, value: 100, periodSeconds: 30}
        - {type: Pods, value: 2, periodSeconds: 30}
    scaleDown:
      stabilizationWindowSeconds: {{ $a.scaleDownStabilizationSeconds }}
      selectPolicy: Min
      policies:
        - {type: Pods, value: 1, periodSeconds: 60}
{{- end -}}

{{- define "fleetlib.pdb" -}}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ .name }}
  namespace: {{ .root.Release.Namespace }}
  labels: {{- toYaml .labels | nindent 4 }}
spec:
  maxUnavailable: {{ .pdb.maxUnavailable }}
  selector:
    matchLabels: {{- toYaml .selector | nindent 6 }}
{{- end -}}
