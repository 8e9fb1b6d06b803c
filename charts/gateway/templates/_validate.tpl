{{/* Cross-field checks the schema cannot express; each message says how to fix it. */}}
{{- define "gateway.validateValues" -}}
{{- $errors := list -}}
{{- $keys := .Values.apiKeys -}}
{{- if and $keys.enabled (not $keys.existingSecret) (not $keys.sha256) -}}
{{- $errors = append $errors "apiKeys: enabled with no keys; add apiKeys.sha256.<client>=<sha256 of the key> or set apiKeys.existingSecret" -}}
{{- end -}}
{{- if and .Values.ingress.enabled .Values.ingress.tls.enabled (not .Values.ingress.tls.secretName) -}}
{{- $errors = append $errors "ingress.tls.secretName: TLS is enabled but no Secret is named; set ingress.tls.secretName" -}}
{{- end -}}
{{- $a := .Values.autoscaling -}}
{{- if gt (int $a.minReplicas) (int $a.maxReplicas) -}}
{{- $errors = append $errors (printf "autoscaling.minReplicas (%d) is above maxReplicas (%d)" (int $a.minReplicas) (int $a.maxReplicas)) -}}
{{- end -}}
{{- if eq (.Values.settings.metricsPort | int) 8000 -}}
{{- $errors = append $errors "settings.metricsPort: 8000 is the gateway's http port; /metrics needs a port of its own, e.g. 9100" -}}
{{- end -}}
{{- $errors = concat $errors (include "fleetlib.decimalProblems" (dict "path" "settings.connectTimeoutSeconds" "value" .Values.settings.connectTimeoutSeconds "above" 0 "max" 30) | fromYamlArray) -}}
{{- $volumes := list "tmp" "routes" -}}
{{- if .Values.apiKeys.enabled }}{{ $volumes = append $volumes "api-keys" }}{{ end -}}
{{- $errors = concat $errors (include "fleetlib.podProblems" (dict "prefix" "" "values" .Values "env" (include "gateway.envValues" . | fromYaml) "volumes" $volumes) | fromYamlArray) -}}
{{- if $errors -}}
{{- fail (printf "\n\ngateway values are invalid:\n- %s" (join "\n- " $errors)) -}}
{{- end -}}
{{- end -}}
