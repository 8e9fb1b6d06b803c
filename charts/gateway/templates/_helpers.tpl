{{/*
Gateway names. Each helper needs only .Release and .Values, so the umbrella
chart can call them with (dict "Release" .Release "Values" .Values.gateway)
and name the routes ConfigMap exactly as the gateway Deployment mounts it.
*/}}

{{- define "gateway.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if contains "gateway" .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-gateway" .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "gateway.routesName" -}}
{{- printf "%s-routes" (include "gateway.fullname" . | trunc 56 | trimSuffix "-") -}}
{{- end -}}

{{- define "gateway.apiKeysSecretName" -}}
{{- .Values.apiKeys.existingSecret | default (printf "%s-api-keys" (include "gateway.fullname" . | trunc 54 | trimSuffix "-")) -}}
{{- end -}}

{{- define "gateway.metricsName" -}}
{{- printf "%s-metrics" (include "gateway.fullname" . | trunc 55 | trimSuffix "-") -}}
{{- end -}}

{{/* Labels of the metrics Service: the gateway's, plus the one its ServiceMonitor selects on. */}}
{{- define "gateway.metricsLabels" -}}
{{- toYaml (set (include "gateway.labels" . | fromYaml) "modelfleet.io/service" "metrics") -}}
{{- end -}}

{{/* Selector labels as a dict (YAML). */}}
{{- define "gateway.selector" -}}
{{- toYaml (dict "app.kubernetes.io/name" "gateway" "app.kubernetes.io/instance" .Release.Name) -}}
{{- end -}}

{{/* All labels as a dict (YAML). Context: the root context. */}}
{{- define "gateway.labels" -}}
{{- include "fleetlib.labels" (dict "root" . "selector" (include "gateway.selector" . | fromYaml) "component" "gateway" "image" .Values.image) -}}
{{- end -}}

{{/*
The routes ConfigMap. The gateway mounts it as a directory and watches it, so
an update (a weight change) is hot-reloaded without restarting any pod.
Context: dict root (for .Release, .Chart), gateway (dict Release, Values), routes (dict).
*/}}
{{- define "gateway.routesConfigMap" -}}
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ include "gateway.routesName" .gateway }}
  namespace: {{ .root.Release.Namespace }}
  labels: {{- include "fleetlib.labels" (dict "root" .root "selector" (include "gateway.selector" .gateway | fromYaml) "component" "gateway") | nindent 4 }}
data:
  routes.yaml: |
    {{- toYaml .routes | nindent 4 }}
{{- end -}}
