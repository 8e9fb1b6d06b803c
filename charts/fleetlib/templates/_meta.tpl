{{/*
Names and labels. Selector labels hold only immutable keys (name, instance and
for models the model and version), so no upgrade ever changes a selector.

Chart metadata (`helm.sh/chart`, the chart's app version) goes on the objects'
own metadata only, never into a pod template: a chart version bump with the
same values must roll no pod. Pods say which image they run instead
(`app.kubernetes.io/version` = the image tag).
*/}}

{{/* "helm.sh/chart" value. Context: the root context. */}}
{{- define "fleetlib.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Label keys the charts set on pods; podLabels may not override them. */}}
{{- define "fleetlib.podLabelKeys" -}}
{{- toYaml (list "app.kubernetes.io/name" "app.kubernetes.io/instance" "app.kubernetes.io/part-of" "app.kubernetes.io/component" "app.kubernetes.io/version" "modelfleet.io/model" "modelfleet.io/version") -}}
{{- end -}}

{{/* An image tag as a label value (63 characters, alphanumeric at both ends). Context: image values. */}}
{{- define "fleetlib.imageVersion" -}}
{{- regexReplaceAll "^[^A-Za-z0-9]+|[^A-Za-z0-9]+$" (.tag | toString | trunc 63) "" -}}
{{- end -}}

{{/*
All labels of an object. Context: dict root, selector (dict of selector labels),
component (app.kubernetes.io/component), and optionally image (the image values
of the pods it manages: its tag becomes app.kubernetes.io/version).
*/}}
{{- define "fleetlib.labels" -}}
{{- $version := .root.Chart.AppVersion | default .root.Chart.Version | toString -}}
{{- with .image }}{{ $version = include "fleetlib.imageVersion" . }}{{ end -}}
{{- $labels := dict
  "helm.sh/chart" (include "fleetlib.chart" .root)
  "app.kubernetes.io/managed-by" .root.Release.Service
  "app.kubernetes.io/part-of" "modelfleet"
  "app.kubernetes.io/component" .component
  "app.kubernetes.io/version" $version -}}
{{- toYaml (merge $labels .selector) -}}
{{- end -}}

{{/*
Labels of a pod template: the selector, what it is, the image it runs and the
user's podLabels; nothing that changes with the chart's own version.
Context: dict selector, component, image (values), podLabels.
*/}}
{{- define "fleetlib.podLabels" -}}
{{- $labels := dict
  "app.kubernetes.io/part-of" "modelfleet"
  "app.kubernetes.io/component" .component
  "app.kubernetes.io/version" (include "fleetlib.imageVersion" .image) -}}
{{- toYaml (merge $labels .selector (.podLabels | default dict)) -}}
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

{{/*
The value of the `fleet` label every scraped series gets (ServiceMonitor
relabeling): rules and dashboards group by it, so two fleets in one namespace
never merge. Context: dict root, serviceMonitor (values).
*/}}
{{- define "fleetlib.fleet" -}}
{{- .serviceMonitor.fleet | default .root.Release.Name -}}
{{- end -}}
