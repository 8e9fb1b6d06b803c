{{/*
Names and labels. Selector labels hold only immutable keys (name, instance and
for models the model and version), so no upgrade ever changes a selector; the
chart version and app version go in the other labels only.
*/}}

{{/* "helm.sh/chart" value. Context: the root context. */}}
{{- define "fleetlib.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
All labels of an object. Context: dict root, selector (dict of selector labels),
component (app.kubernetes.io/component).
*/}}
{{- define "fleetlib.labels" -}}
{{- $labels := dict
  "helm.sh/chart" (include "fleetlib.chart" .root)
  "app.kubernetes.io/managed-by" .root.Release.Service
  "app.kubernetes.io/part-of" "modelfleet"
  "app.kubernetes.io/component" .component
  "app.kubernetes.io/version" (.root.Chart.AppVersion | default .root.Chart.Version | toString) -}}
{{- toYaml (merge $labels .selector) -}}
{{- end -}}

{{/* Object name of one model version: <namePrefix><model>-<version>. Context: version context. */}}
{{- define "fleetlib.versionName" -}}
{{- printf "%s%s-%s" .root.Values.namePrefix .name .version | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Name of the per-model objects (NetworkPolicy, ServiceMonitor): <namePrefix><model>. */}}
{{- define "fleetlib.modelName" -}}
{{- printf "%s%s" .root.Values.namePrefix .name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Selector labels of every version of one model, as a dict. Context: version context. */}}
{{- define "fleetlib.modelSelector" -}}
{{- toYaml (dict
  "app.kubernetes.io/name" .name
  "app.kubernetes.io/instance" .root.Release.Name
  "modelfleet.io/model" .name) -}}
{{- end -}}

{{/* Selector labels of one version. Context: version context. */}}
{{- define "fleetlib.versionSelector" -}}
{{- $selector := include "fleetlib.modelSelector" . | fromYaml -}}
{{- toYaml (set $selector "modelfleet.io/version" .version) -}}
{{- end -}}

{{/* Image reference; a digest, when given, pins the exact image. Context: image values. */}}
{{- define "fleetlib.image" -}}
{{- if .digest -}}
{{- printf "%s:%s@%s" .repository .tag .digest -}}
{{- else -}}
{{- printf "%s:%s" .repository .tag -}}
{{- end -}}
{{- end -}}
