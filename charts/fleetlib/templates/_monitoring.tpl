{{/*
ServiceMonitor and NetworkPolicy. Context: dict root, name, labels (dict),
selector (dict) and the feature's values.
*/}}

{{/* True when the Prometheus Operator's ServiceMonitor CRD is served by the cluster. */}}
{{- define "fleetlib.hasServiceMonitor" -}}
{{- if .Capabilities.APIVersions.Has "monitoring.coreos.com/v1/ServiceMonitor" -}}true{{- end -}}
{{- end -}}

{{/*
Every scraped series gets a `fleet` label (fleetlib.fleet), so the rules and
dashboards keep two fleets in one namespace apart. Context: dict root, name,
labels, selector, serviceMonitor (values), port (the Service port to scrape).
*/}}
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
    - port: {{ .port }}
      path: /metrics
      interval: {{ .serviceMonitor.interval }}
      scrapeTimeout: {{ .serviceMonitor.scrapeTimeout }}
      relabelings:
        - {action: replace, targetLabel: fleet, replacement: {{ include "fleetlib.fleet" . | quote }}}
{{- end -}}

{{/*
The NetworkPolicy peers of `networkPolicy.scrapers` (name -> selectors), as a
YAML list sorted by name. A scraper without a namespaceSelector may sit in any
namespace. Context: the scrapers map.
*/}}
{{- define "fleetlib.scraperPeers" -}}
{{- $peers := list -}}
{{- range $name := keys . | sortAlpha -}}
{{- $scraper := get $ $name -}}
{{- $peers = append $peers (dict "namespaceSelector" ($scraper.namespaceSelector | default dict) "podSelector" $scraper.podSelector) -}}
{{- end -}}
{{- toYaml $peers -}}
{{- end -}}

{{/*
Ingress policy: one rule per port; a rule without `from` admits any source.
Context: dict root, name, labels, selector, rules (list of dict port, from).
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
    {{- range .rules }}
    - ports:
        - {port: {{ .port }}, protocol: TCP}
      {{- with .from }}
      from: {{- toYaml . | nindent 8 }}
      {{- end }}
    {{- end }}
{{- end -}}

{{/*
"true" when a label selector (matchLabels and matchExpressions) selects a pod
with these labels, as Kubernetes decides it. Context: dict selector, labels.
*/}}
{{- define "fleetlib.selects" -}}
{{- $labels := .labels -}}
{{- $selects := true -}}
{{- range $key, $value := .selector.matchLabels | default dict -}}
{{- if ne (get $labels $key | toString) ($value | toString) }}{{ $selects = false }}{{ end -}}
{{- if not (hasKey $labels $key) }}{{ $selects = false }}{{ end -}}
{{- end -}}
{{- range .selector.matchExpressions | default list -}}
{{- $has := hasKey $labels .key -}}
{{- $in := and $has (has (get $labels .key | toString) (.values | default list)) -}}
{{- if and (eq .operator "In") (not $in) }}{{ $selects = false }}{{ end -}}
{{- if and (eq .operator "NotIn") $in }}{{ $selects = false }}{{ end -}}
{{- if and (eq .operator "Exists") (not $has) }}{{ $selects = false }}{{ end -}}
{{- if and (eq .operator "DoesNotExist") $has }}{{ $selects = false }}{{ end -}}
{{- end -}}
{{- if $selects }}true{{ end -}}
{{- end -}}
