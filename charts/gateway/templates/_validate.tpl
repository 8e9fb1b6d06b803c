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
{{- if $errors -}}
{{- fail (printf "\n\ngateway values are invalid:\n- %s" (join "\n- " $errors)) -}}
{{- end -}}
{{- end -}}
