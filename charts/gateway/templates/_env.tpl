{{/* The gateway's MODELFLEET_* settings (gateway/settings.py) and OTel, as a dict.
The guard's holds live on the pod's /tmp emptyDir: they outlive a container
restart (a crashed gateway must not let an aborted canary straight back in)
and go with the pod. */}}
{{- define "gateway.envValues" -}}
{{- $s := .Values.settings -}}
{{- $env := dict
  "MODELFLEET_ROUTES_FILE" "/etc/modelfleet/routes/routes.yaml"
  "MODELFLEET_GUARD_STATE_FILE" "/tmp/guard-holds.json"
  "MODELFLEET_LOG_LEVEL" $s.logLevel
  "MODELFLEET_MAX_BODY_BYTES" $s.maxBodyBytes
  "MODELFLEET_SERVER__HOST" "0.0.0.0"
  "MODELFLEET_SERVER__PORT" "8000"
  "MODELFLEET_SERVER__KEEPALIVE_SECONDS" $s.keepaliveSeconds
  "MODELFLEET_SERVER__GRACEFUL_TIMEOUT_SECONDS" $s.gracefulTimeoutSeconds
  "MODELFLEET_SERVER__METRICS_PORT" $s.metricsPort
  "MODELFLEET_UPSTREAM__CONNECT_TIMEOUT_SECONDS" $s.connectTimeoutSeconds
  "MODELFLEET_UPSTREAM__MAX_CONNECTIONS" $s.maxConnections
  "OTEL_SERVICE_NAME" "modelfleet-gateway" -}}
{{- if .Values.apiKeys.enabled -}}
{{- $_ := set $env "MODELFLEET_API_KEYS_FILE" "/etc/modelfleet/api-keys/api-keys" -}}
{{- end -}}
{{- with .Values.tracing.otlpEndpoint -}}
{{- $_ := set $env "OTEL_EXPORTER_OTLP_ENDPOINT" . -}}
{{- end -}}
{{- toYaml $env -}}
{{- end -}}

{{- define "gateway.env" -}}
{{- include "fleetlib.envList" (include "gateway.envValues" . | fromYaml) }}
{{ include "fleetlib.podIdentityEnv" . }}
{{- end -}}
