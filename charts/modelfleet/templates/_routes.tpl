{{/*
The gateway's routes table, generated from `models`: the same function of the
values file as services/cli/fleet/routes.py::routes_from_values (a test renders
both and compares them). Services are reached by their in-cluster name,
http://<namePrefix><model>-<version>:8080. Decimals given with `--set` arrive
as strings and are written as numbers.
*/}}
{{- define "modelfleet.routes" -}}
{{- $models := dict -}}
{{- range $name, $entry := .Values.models -}}
{{- $versions := dict -}}
{{- range $version, $v := $entry.versions -}}
{{- $url := printf "http://%s%s-%s:8080" $.Values.namePrefix $name $version -}}
{{- $_ := set $versions $version (dict "url" $url "weight" ($v.weight | int)) -}}
{{- end -}}
{{- $guard := set (deepCopy $entry.guard) "maxErrorRate" ($entry.guard.maxErrorRate | float64) -}}
{{- $route := dict "versions" $versions "timeoutSeconds" ($entry.timeoutSeconds | float64) "retries" ($entry.retries | int) "guard" $guard -}}
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
{{- $errors := list -}}
{{- $gateway := .Values.gateway -}}
{{- if $gateway.routes.create -}}
{{- $errors = append $errors "gateway.routes.create: must be false in the modelfleet chart, which renders the routes from `models`; remove the override" -}}
{{- end -}}
{{- if $gateway.routes.models -}}
{{- $errors = append $errors "gateway.routes.models: leave empty in the modelfleet chart; list versions and weights under `models` instead" -}}
{{- end -}}
{{- $fleet := include "fleetlib.fleet" (dict "root" . "serviceMonitor" .Values.serviceMonitor) -}}
{{- $gatewayFleet := include "fleetlib.fleet" (dict "root" . "serviceMonitor" $gateway.serviceMonitor) -}}
{{- if ne $fleet $gatewayFleet -}}
{{- $errors = append $errors (printf "serviceMonitor.fleet (%q) and gateway.serviceMonitor.fleet (%q) differ: the rules join model and gateway series on it; set both to one value or leave both empty" $fleet $gatewayFleet) -}}
{{- end -}}
{{- $errors = concat $errors (include "modelfleet.nameClashes" . | fromYamlArray) -}}
{{- $errors = concat $errors (include "modelfleet.unorderedRemovals" . | fromYamlArray) -}}
{{- if $errors -}}
{{- fail (printf "\n\nvalues are invalid:\n- %s" (join "\n- " $errors)) -}}
{{- end -}}
{{- end -}}

{{/*
Model objects (`<namePrefix><model>` and `<namePrefix><model>-<version>`) must
not take a name of the gateway's (`<gateway fullname>` and its `-metrics`
Service): same kinds, same namespace. Context: the root context.
*/}}
{{- define "modelfleet.nameClashes" -}}
{{- $errors := list -}}
{{- $gateway := dict "Release" .Release "Values" .Values.gateway -}}
{{- $taken := dict -}}
{{- range $name := list (include "gateway.fullname" $gateway) (include "gateway.metricsName" $gateway) -}}
{{- $_ := set $taken $name "the gateway" -}}
{{- end -}}
{{- range $name, $entry := .Values.models -}}
{{- $objects := list (printf "%s%s" $.Values.namePrefix $name) -}}
{{- range $version, $_ := $entry.versions }}{{ $objects = append $objects (printf "%s%s-%s" $.Values.namePrefix $name $version) }}{{ end -}}
{{- range $object := $objects -}}
{{- if hasKey $taken $object -}}
{{- $errors = append $errors (printf "models.%s: its objects would be named %q, like %s's; change namePrefix or gateway.fullnameOverride" $name $object (get $taken $object)) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- toYaml $errors -}}
{{- end -}}

{{/*
A version may leave the values file only once the routes the gateway runs give
it weight 0: otherwise this upgrade would delete its pods while the gateways
still send it traffic. The running routes are the routes ConfigMap in the
cluster (`lookup`), so the check acts on `helm install/upgrade` and
`--dry-run=server`, not on a plain `helm template`. Context: the root context.
*/}}
{{- define "modelfleet.unorderedRemovals" -}}
{{- $errors := list -}}
{{- $gateway := dict "Release" .Release "Values" .Values.gateway -}}
{{- $running := lookup "v1" "ConfigMap" .Release.Namespace (include "gateway.routesName" $gateway) -}}
{{- $routes := get ($running.data | default dict) "routes.yaml" | default "" | fromYaml -}}
{{- range $name, $route := $routes.models | default dict -}}
{{- $entry := get $.Values.models $name -}}
{{- if $entry -}}
{{- range $version, $live := $route.versions -}}
{{- if and (gt (float64 $live.weight) 0.0) (not (hasKey $entry.versions $version)) -}}
{{- $errors = append $errors (printf "models.%s.versions.%s: removed while the running routes still give it weight %v; first upgrade with its weight at 0 (and its share on another version), wait until the gateway's `GET /models` shows 0 (the kubelet syncs a ConfigMap within about a minute), then remove it" $name $version $live.weight) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- toYaml $errors -}}
{{- end -}}
