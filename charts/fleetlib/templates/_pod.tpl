{{/*
Pod pieces shared by model servers and the gateway: both run the same base
image (non-root numeric user, read-only root filesystem, writable /tmp only)
and answer the same probe paths.
*/}}

{{/* Pod securityContext. Context: securityContext values (runAsUser, runAsGroup). */}}
{{- define "fleetlib.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .runAsUser }}
runAsGroup: {{ .runAsGroup }}
fsGroup: {{ .runAsGroup }}
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* Container securityContext. Context: securityContext values. */}}
{{- define "fleetlib.containerSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .runAsUser }}
runAsGroup: {{ .runAsGroup }}
allowPrivilegeEscalation: false
privileged: false
readOnlyRootFilesystem: true
capabilities:
  drop: ["ALL"]
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/*
Probes. The startup probe gives a slow-loading model its whole budget before
liveness may kill it; readiness (/readyz) turns 503 while loading and while
draining, liveness (/healthz) never touches the model.
Context: dict startupBudgetSeconds.
*/}}
{{- define "fleetlib.probes" -}}
startupProbe:
  httpGet: {path: /readyz, port: http}
  periodSeconds: 5
  timeoutSeconds: 2
  failureThreshold: {{ max 1 (div .startupBudgetSeconds 5) }}
readinessProbe:
  httpGet: {path: /readyz, port: http}
  periodSeconds: 5
  timeoutSeconds: 2
  failureThreshold: 2
livenessProbe:
  httpGet: {path: /healthz, port: http}
  periodSeconds: 10
  timeoutSeconds: 3
  failureThreshold: 3
{{- end -}}

{{/*
Graceful shutdown. The preStop sleep keeps the pod serving while endpoints and
the gateway stop sending to it; then SIGTERM lets gunicorn drain for its
graceful timeout. The grace period covers both plus a margin, so the kubelet
never kills a request in flight. Context: dict preStopSeconds, gracefulTimeoutSeconds.
*/}}
{{- define "fleetlib.lifecycle" -}}
lifecycle:
  preStop:
    sleep:
      seconds: {{ .preStopSeconds }}
{{- end -}}

{{- define "fleetlib.terminationGracePeriodSeconds" -}}
{{- add .preStopSeconds .gracefulTimeoutSeconds 5 -}}
{{- end -}}

{{/*
The rollout deadline: a new pod may take its image pull (and scheduling) time
plus its whole startup budget, plus a margin for the first readiness probe,
before `kubectl rollout status` reports ProgressDeadlineExceeded.
Context: values with imagePullSeconds and startupBudgetSeconds.
*/}}
{{- define "fleetlib.progressDeadlineSeconds" -}}
{{- add (.imagePullSeconds | int) (.startupBudgetSeconds | int) 30 -}}
{{- end -}}

{{/*
Where pods may run: priority, affinity, node selector, tolerations (all from
values) and the chart's topology spread. Context: dict selector, values (the
effective values holding priorityClassName, affinity, nodeSelector, tolerations).
*/}}
{{- define "fleetlib.scheduling" -}}
{{- with .values.priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
{{- with .values.affinity }}
affinity: {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .values.nodeSelector }}
nodeSelector: {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .values.tolerations }}
tolerations: {{- toYaml . | nindent 2 }}
{{- end }}
topologySpreadConstraints: {{- include "fleetlib.topologySpread" (dict "selector" .selector) | trim | nindent 2 }}
{{- end -}}

{{/* Spread replicas over nodes and zones. Context: dict selector (labels dict). */}}
{{- define "fleetlib.topologySpread" -}}
{{- range $key := list "kubernetes.io/hostname" "topology.kubernetes.io/zone" }}
- maxSkew: 1
  topologyKey: {{ $key }}
  whenUnsatisfiable: ScheduleAnyway
  labelSelector:
    matchLabels: {{- toYaml $.selector | nindent 6 }}
  matchLabelKeys: ["pod-template-hash"]
{{- end }}
{{- end -}}

{{/* The writable /tmp (prometheus multiprocess dir, temp files). Context: none. */}}
{{- define "fleetlib.tmpVolume" -}}
name: tmp
emptyDir:
  sizeLimit: 256Mi
{{- end -}}

{{/* Who this pod is, from the downward API: the OpenTelemetry resource of each
process carries them (services/runtime/tracing.py, gateway/tracing.py). */}}
{{- define "fleetlib.podIdentityEnv" -}}
{{- range $name, $path := dict "K8S_POD_NAME" "metadata.name" "K8S_NAMESPACE_NAME" "metadata.namespace" "K8S_NODE_NAME" "spec.nodeName" }}
- name: {{ $name }}
  valueFrom:
    fieldRef:
      fieldPath: {{ $path }}
{{- end }}
{{- end -}}

{{/*
A container env list from a dict, sorted by name. Whole numbers print without
a decimal point or exponent (values arrive as float64: 1048576, not 1.048576e+06).
*/}}
{{- define "fleetlib.envList" -}}
{{- range $key := keys . | sortAlpha }}
{{- $value := get $ $key }}
{{- if and (kindIs "float64" $value) (eq $value (floor $value)) }}
{{- $value = $value | int64 }}
{{- end }}
- name: {{ $key }}
  value: {{ $value | toString | quote }}
{{- end }}
{{- end -}}
