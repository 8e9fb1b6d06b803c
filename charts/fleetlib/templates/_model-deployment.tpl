{{/*
Deployment and Service of one model version, named <namePrefix><model>-<version>
so `kubectl rollout status deployment/iris-v2` works. Nothing here depends on
the version's weight: traffic weights live only in the gateway's routes
ConfigMap, so a weight change never restarts a model pod.
Context: version context plus labels and selector (dicts).
*/}}

{{- define "fleetlib.modelDeployment" -}}
{{- $v := .root.Values -}}
{{- $m := .model -}}
{{- $s := .spec -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "fleetlib.versionName" . }}
  namespace: {{ .root.Release.Namespace }}
  labels: {{- toYaml .labels | nindent 4 }}
spec:
  {{- if not $s.autoscaling.enabled }}
  replicas: {{ $s.replicas | int }}
  {{- end }}
  revisionHistoryLimit: 5
  progressDeadlineSeconds: {{ include "fleetlib.progressDeadlineSeconds" $m }}
  selector:
    matchLabels: {{- toYaml .selector | nindent 6 }}
  # Surge first and never go below the wanted count: a rollout drops no capacity.
  strategy:
    type: RollingUpdate
    rollingUpdate: {maxSurge: 1, maxUnavailable: 0}
  template:
    metadata:
      labels: {{- include "fleetlib.podLabels" (dict "selector" .selector "component" "model-server" "image" $s.image "podLabels" $s.podLabels) | nindent 8 }}
      {{- with $s.podAnnotations }}
      annotations: {{- toYaml . | nindent 8 }}
      {{- end }}
    spec:
      automountServiceAccountToken: false
      # Service links would inject e.g. MODELFLEET_GATEWAY_PORT into the env,
      # right inside the runtime's settings prefix.
      enableServiceLinks: false
      terminationGracePeriodSeconds: {{ include "fleetlib.terminationGracePeriodSeconds" (dict "preStopSeconds" ($m.preStopSeconds | int) "gracefulTimeoutSeconds" ($m.server.gracefulTimeoutSeconds | int)) }}
      securityContext: {{- include "fleetlib.podSecurityContext" $v.securityContext | nindent 8 }}
      {{- with $v.imagePullSecrets }}
      imagePullSecrets: {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- include "fleetlib.scheduling" (dict "selector" .selector "values" $s) | nindent 6 }}
      containers:
        - name: model
          image: {{ include "fleetlib.image" $s.image | quote }}
          imagePullPolicy: {{ $m.imagePullPolicy }}
          ports:
            - {name: http, containerPort: 8080, protocol: TCP}
          env: {{- include "fleetlib.modelEnv" . | trim | nindent 12 }}
            {{- with $s.extraEnvVars }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
          {{- include "fleetlib.probes" (dict "startupBudgetSeconds" ($m.startupBudgetSeconds | int)) | nindent 10 }}
          {{- include "fleetlib.lifecycle" (dict "preStopSeconds" ($m.preStopSeconds | int)) | nindent 10 }}
          resources: {{- toYaml $s.resources | nindent 12 }}
          securityContext: {{- include "fleetlib.containerSecurityContext" $v.securityContext | nindent 12 }}
          volumeMounts:
            - {name: tmp, mountPath: /tmp}
            {{- if eq $v.registry.source "pvc" }}
            - {name: registry, mountPath: {{ $v.registry.pvc.mountPath }}, readOnly: true}
            {{- end }}
            {{- with $s.extraVolumeMounts }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
      volumes:
        - {{- include "fleetlib.tmpVolume" . | nindent 10 }}
        {{- if eq $v.registry.source "pvc" }}
        - name: registry
          persistentVolumeClaim:
            claimName: {{ $v.registry.pvc.claimName }}
            readOnly: true
        {{- end }}
        {{- with $s.extraVolumes }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
{{- end -}}

{{/*
The runtime's MODELFLEET_* settings (see services/runtime/settings.py) and OTel,
as a dict of name -> value. Context: version context.
*/}}
{{- define "fleetlib.modelEnvValues" -}}
{{- $v := .root.Values -}}
{{- $m := .model -}}
{{- $registry := ternary $v.registry.pvc.mountPath $v.registry.imagePath (eq $v.registry.source "pvc") -}}
{{- $env := dict
  "MODELFLEET_MODEL" .name
  "MODELFLEET_VERSION" .version
  "MODELFLEET_REGISTRY" $registry
  "MODELFLEET_SERVER__HOST" "0.0.0.0"
  "MODELFLEET_SERVER__PORT" "8080"
  "MODELFLEET_SERVER__WORKERS" $m.workers
  "MODELFLEET_SERVER__TIMEOUT_SECONDS" $m.server.timeoutSeconds
  "MODELFLEET_SERVER__GRACEFUL_TIMEOUT_SECONDS" $m.server.gracefulTimeoutSeconds
  "MODELFLEET_SERVER__KEEPALIVE_SECONDS" $m.server.keepaliveSeconds
  "MODELFLEET_BATCHING__MAX_BATCH_SIZE" $m.batching.maxBatchSize
  "MODELFLEET_BATCHING__MAX_WAIT_MS" $m.batching.maxWaitMs
  "MODELFLEET_BATCHING__MAX_QUEUE" $m.batching.maxQueue
  "MODELFLEET_TORCH_THREADS" $m.torchThreads
  "MODELFLEET_MAX_BODY_BYTES" $m.maxBodyBytes
  "MODELFLEET_MAX_INSTANCES" $m.maxInstances
  "MODELFLEET_LOG_LEVEL" $m.logLevel
  "MODELFLEET_METRICS_DIR" "/tmp"
  "OTEL_SERVICE_NAME" (printf "modelfleet-%s" .name) -}}
{{- with $v.tracing.otlpEndpoint -}}
{{- $_ := set $env "OTEL_EXPORTER_OTLP_ENDPOINT" . -}}
{{- end -}}
{{- toYaml $env -}}
{{- end -}}

{{- define "fleetlib.modelEnv" -}}
{{- include "fleetlib.envList" (include "fleetlib.modelEnvValues" . | fromYaml) }}
{{ include "fleetlib.podIdentityEnv" . }}
{{- end -}}

{{- define "fleetlib.modelService" -}}
apiVersion: v1
kind: Service
metadata:
  name: {{ include "fleetlib.versionName" . }}
  namespace: {{ .root.Release.Namespace }}
  labels: {{- toYaml .labels | nindent 4 }}
spec:
  type: ClusterIP
  selector: {{- toYaml .selector | nindent 4 }}
  ports:
    - {name: http, port: 8080, targetPort: http, protocol: TCP, appProtocol: http}
{{- end -}}
