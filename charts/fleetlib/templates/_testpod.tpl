{{/*
`helm test` pod: fetches every URL and fails on the first non-2xx answer. It
runs `python` from one of our own images, so it needs no shell, no network
beyond the cluster and no extra image. Context: dict root, name, labels,
image (values), securityContext (values), urls (list).
*/}}
{{- define "fleetlib.testPod" -}}
apiVersion: v1
kind: Pod
metadata:
  name: {{ .name }}
  namespace: {{ .root.Release.Namespace }}
  labels: {{- toYaml .labels | nindent 4 }}
  annotations:
    helm.sh/hook: test
    helm.sh/hook-delete-policy: before-hook-creation,hook-succeeded
spec:
  restartPolicy: Never
  automountServiceAccountToken: false
  enableServiceLinks: false
  securityContext: {{- include "fleetlib.podSecurityContext" .securityContext | nindent 4 }}
  containers:
    - name: check
      image: {{ include "fleetlib.image" .image | quote }}
      imagePullPolicy: IfNotPresent
      command: ["python", "-c"]
      args:
        - |
          import sys, urllib.request
          for url in sys.argv[1:]:
              with urllib.request.urlopen(url, timeout=10) as answer:
                  print(url, answer.status)
        {{- range .urls }}
        - {{ . | quote }}
        {{- end }}
      resources:
        requests: {cpu: 10m, memory: 32Mi}
        limits: {memory: 64Mi}
      securityContext: {{- include "fleetlib.containerSecurityContext" .securityContext | nindent 8 }}
{{- end -}}
