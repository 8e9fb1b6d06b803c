{{/*
Every object of every model version, from `.Values.models`. Both the model
chart and the umbrella chart render exactly this, so the two never differ.

A model entry overrides `modelDefaults` key by key (a key given replaces the
default whole: no deep merge, so `false`, `0`, `{}` and `[]` override as
written); a version overrides the keys of `fleetlib.versionKeys` the same way.
*/}}

{{/* Keys a version may set for itself; every other key is the model's. */}}
{{- define "fleetlib.versionKeys" -}}
{{- toYaml (list "replicas" "resources" "autoscaling" "podLabels" "podAnnotations" "affinity" "nodeSelector" "tolerations" "priorityClassName" "extraEnvVars" "extraVolumes" "extraVolumeMounts") -}}
{{- end -}}

{{/* The effective values of one model, as YAML. Context: dict root, entry. */}}
{{- define "fleetlib.modelValues" -}}
{{- $merged := deepCopy .root.Values.modelDefaults -}}
{{- range $key, $value := .entry -}}
{{- $_ := set $merged $key $value -}}
{{- end -}}
{{- toYaml $merged -}}
{{- end -}}

{{/* The effective values of one version, as YAML. Context: dict model, entry. */}}
{{- define "fleetlib.versionValues" -}}
{{- $merged := dict -}}
{{- range $key := include "fleetlib.versionKeys" . | fromYamlArray -}}
{{- if hasKey $.model $key }}{{ $_ := set $merged $key (get $.model $key | deepCopy) }}{{ end -}}
{{- end -}}
{{- range $key, $value := .entry -}}
{{- $_ := set $merged $key $value -}}
{{- end -}}
{{- toYaml $merged -}}
{{- end -}}

{{- define "fleetlib.models" -}}
{{- include "fleetlib.validateValues" . -}}
{{- range $name, $entry := .Values.models }}
{{- $model := include "fleetlib.modelValues" (dict "root" $ "entry" $entry) | fromYaml -}}
{{- $modelCtx := dict "root" $ "name" $name "model" $model -}}
{{- include "fleetlib.modelObjects" $modelCtx -}}
{{- range $version, $versionEntry := $model.versions }}
{{- $spec := include "fleetlib.versionValues" (dict "model" $model "entry" $versionEntry) | fromYaml -}}
{{- $ctx := dict "root" $ "name" $name "model" $model "version" $version "spec" $spec -}}
{{- include "fleetlib.versionObjects" $ctx -}}
{{- end }}
{{- end }}
{{- end -}}

{{/* Objects shared by all versions of one model. Context: dict root, name, model. */}}
{{- define "fleetlib.modelObjects" -}}
{{- $labels := include "fleetlib.labels" (dict "root" .root "selector" (include "fleetlib.modelSelector" . | fromYaml) "component" "model-server") | fromYaml -}}
{{- $common := dict "root" .root "name" (include "fleetlib.modelName" .) "labels" $labels "selector" (include "fleetlib.modelSelector" . | fromYaml) -}}
{{- $np := .root.Values.networkPolicy -}}
{{- if $np.enabled }}
---
{{- $tests := dict "app.kubernetes.io/instance" .root.Release.Name "app.kubernetes.io/component" "test" }}
{{- $peers := list (dict "podSelector" (dict "matchLabels" $np.gatewayPodLabels)) (dict "podSelector" (dict "matchLabels" $tests)) }}
{{- $peers = concat $peers (include "fleetlib.scraperPeers" $np.scrapers | fromYamlArray) }}
{{ include "fleetlib.networkPolicy" (merge (dict "rules" (list (dict "port" "http" "from" $peers))) $common) }}
{{- end }}
{{- if and .root.Values.serviceMonitor.enabled (include "fleetlib.hasServiceMonitor" .root) }}
---
{{ include "fleetlib.serviceMonitor" (merge (dict "serviceMonitor" .root.Values.serviceMonitor "port" "http") $common) }}
{{- end }}
{{- end -}}

{{/* Objects of one version. Context: version context (root, name, model, version, spec). */}}
{{- define "fleetlib.versionObjects" -}}
{{- $selector := include "fleetlib.versionSelector" . | fromYaml -}}
{{- $labels := include "fleetlib.labels" (dict "root" .root "selector" $selector "component" "model-server" "image" .spec.image) | fromYaml -}}
{{- $common := dict "root" .root "name" (include "fleetlib.versionName" .) "labels" $labels "selector" $selector }}
---
{{ include "fleetlib.modelDeployment" (merge (dict "labels" $labels "selector" $selector) .) }}
---
{{ include "fleetlib.modelService" (merge (dict "labels" $labels "selector" $selector) .) }}
{{- if .spec.autoscaling.enabled }}
---
{{ include "fleetlib.hpa" (merge (dict "autoscaling" .spec.autoscaling "metric" "modelfleet_inflight_requests") $common) }}
{{- end }}
{{- if .model.pdb.enabled }}
---
{{ include "fleetlib.pdb" (merge (dict "pdb" .model.pdb) $common) }}
{{- end }}
{{- end -}}
