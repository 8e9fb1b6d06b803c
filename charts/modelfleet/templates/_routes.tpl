{{/*
The gateway's routes table, generated from `models`: the same function of the
values file as services/cli/fleet/routes.py::routes_from_values (a test renders
both and compares them). Services are reached by their in-cluster name,
http://<namePrefix><model>-<version>:8080.
*/}}
{{- define "modelfleet.routes" -}}
{{- $models := dict -}}
{{- range $name, $entry := .Values.models -}}
{{- $versions := dict -}}
{{- range $version, $v := $entry.versions -}}
{{- $url := printf "http://%s%s-%s:8080" $.Values.namePrefix $name $version -}}
{{- $_ := set $versions $version (dict "url" $url "weight" ($v.weight | int)) -}}
{{- end -}}
{{- $route := dict "versions" $versions "timeoutSeconds" $entry.timeoutSeconds "retries" ($entry.retries | int) "guard" $entry.guard -}}
{{- with $entry.stickyHeader -}}
{{- $_ := set $route "stickyHeader" . -}}
{{- end -}}
{{- if and $entry.shadow $entry.shadow.version -}}
{{- $_ := set $route "shadow" $entry.shadow -}}
{{- end -}}
{{- $_ := set $models $name $route -}}
{{- end -}}
{{- toYaml (dict "models" $models) -}}
{{- end -}}

{{/* Umbrella-only checks; the per-model ones live in fleetlib.validateValues. */}}
{{- define "modelfleet.validateValues" -}}
{{- if .Values.gateway.routes.create -}}
{{- fail "\n\ngateway.routes.create: must be false in the modelfleet chart, which renders the routes from `models`; remove the override" -}}
{{- end -}}
{{- if .Values.gateway.routes.models -}}
{{- fail "\n\ngateway.routes.models: leave empty in the modelfleet chart; list versions and weights under `models` instead" -}}
{{- end -}}
{{- end -}}
