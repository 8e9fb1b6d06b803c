{{/*
ServiceMonitor and NetworkPolicy. Context: dict root, name, labels (dict),
selector (dict) and the feature's values.
*/}}

{{/* True when the Prometheus Operator's ServiceMonitor CRD is served by the cluster. */}}
{{- define "fleetlib.hasServiceMonitor" -}}
{{- if .Capabilities.APIVersions.Has "monitoring.coreos.com/v1/ServiceMonitor" -}}true{{- end -}}
{{- end -}}

{{- define "fleetlib.serviceMonitor" -}}
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata:
  name: {{ .name }}
  namespace: {{ .root.Release.Namespace }}
  labels: {{- toYaml (merge (dict) .serviceMonitor.labels .labels) | nindent 4 }}
spec:
  selector:
    matchLabels: {{- toYaml .selector | nindent 6 }}
  endpoints:
    - port: http
      path: /metrics
      interval: {{ .serviceMonitor.interval }}
      scrapeTimeout: {{ .serviceMonitor.scrapeTimeout }}
{{- end -}}

{{/*
Ingress policy: only the listed peers (nothing listed = any source) may reach
the pods' http port; Prometheus is always allowed to scrape.
Context: dict root, name, labels, selector, peers (list of NetworkPolicyPeer),
prometheus (networkPolicy.prometheus values).
*/}}
{{- define "fleetlib.networkPolicy" -}}
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {{ .name }}
  namespace: {{ .root.Release.Namespace }}
  labels: {{- toYaml .labels | nindent 4 }}
spec:
  podSelector:
    matchLabels: {{- toYaml .selector | nindent 6 }}
  policyTypes: ["Ingress"]
  ingress:
    - ports:
        - {port: http, protocol: TCP}
      {{- if .peers }}
      from:
        {{- toYaml .peers | nindent 8 }}
        - namespaceSelector: {{- toYaml .prometheus.namespaceSelector | nindent 12 }}
          podSelector: {{- toYaml .prometheus.podSelector | nindent 12 }}
      {{- end }}
{{- end -}}
