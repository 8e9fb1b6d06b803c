{{/*
Cross-field checks that values.schema.json cannot express. Each failure names
the value and says how to fix it; all of them are listed at once.
Context: the root context.
*/}}
{{- define "fleetlib.validateValues" -}}
{{- $errors := list -}}
{{- if and (eq .Values.registry.source "pvc") (not .Values.registry.pvc.claimName) -}}
{{- $errors = append $errors "registry.pvc.claimName: registry.source is \"pvc\" but no claim is named; set registry.pvc.claimName=<your PVC> or registry.source=image" -}}
{{- end -}}
{{- range $name, $entry := .Values.models -}}
{{- $model := include "fleetlib.modelValues" (dict "root" $ "entry" $entry) | fromYaml -}}
{{- $errors = concat $errors (include "fleetlib.validateModel" (dict "root" $ "name" $name "model" $model) | fromYamlArray) -}}
{{- end -}}
{{- if $errors -}}
{{- fail (printf "\n\nvalues are invalid:\n- %s" (join "\n- " $errors)) -}}
{{- end -}}
{{- end -}}

{{/*
Names no model may take: `gateway` and `prometheus` are the name labels the
gateway's and the scraper's selectors match on, and a model `foo` is the Python
package `services.foo`, beside which live `services.runtime` and `services.cli`.
*/}}
{{- define "fleetlib.reservedModelNames" -}}
{{- toYaml (list "cli" "gateway" "prometheus" "runtime") -}}
{{- end -}}

{{/* Problems of one model, as a YAML list of messages. Context: dict root, name, model (effective values). */}}
{{- define "fleetlib.validateModel" -}}
{{- $errors := list -}}
{{- $path := printf "models.%s" .name -}}
{{- $reserved := include "fleetlib.reservedModelNames" . | fromYamlArray -}}
{{- if has .name $reserved -}}
{{- $errors = append $errors (printf "%s: the name %q is reserved (reserved: %s): the gateway's and the scraper's selectors and the services.runtime / services.cli packages use these names; rename the model" $path .name (join ", " $reserved)) -}}
{{- end -}}
{{- $total := 0 -}}
{{- $assignment := list -}}
{{- range $version, $entry := .model.versions -}}
{{- $total = add $total $entry.weight -}}
{{- $assignment = append $assignment (printf "%s=%d" $version ($entry.weight | int)) -}}
{{- end -}}
{{- if ne (int $total) 100 -}}
{{- $errors = append $errors (printf "%s.versions: weights must sum to 100, they sum to %d (%s); %s" $path (int $total) (join ", " $assignment) (include "fleetlib.weightFix" (dict "path" $path "versions" .model.versions "total" (int $total)))) -}}
{{- end -}}
{{- $shadow := .model.shadow | default dict -}}
{{- if and $shadow.version (not (hasKey .model.versions $shadow.version)) -}}
{{- $errors = append $errors (printf "%s.shadow.version: %q is not a version of %s (versions: %s); add it under %s.versions or set shadow.version=\"\"" $path $shadow.version .name (join ", " (keys .model.versions | sortAlpha)) $path) -}}
{{- end -}}
{{- if and $shadow.version (not $shadow.percent) -}}
{{- $errors = append $errors (printf "%s.shadow.percent: shadow.version is %q but percent is 0; set a percent from 1 to 100 or shadow.version=\"\"" $path $shadow.version) -}}
{{- end -}}
{{- if gt (int .model.maxInstances) (int .model.batching.maxQueue) -}}
{{- $errors = append $errors (printf "%s.maxInstances (%d) exceeds batching.maxQueue (%d): such a bulk request could never be queued; lower maxInstances or raise batching.maxQueue" $path (int .model.maxInstances) (int .model.batching.maxQueue)) -}}
{{- end -}}
{{- $errors = concat $errors (include "fleetlib.decimalProblems" (dict "path" (printf "%s.timeoutSeconds" $path) "value" .model.timeoutSeconds "above" 0 "max" 600) | fromYamlArray) -}}
{{- $errors = concat $errors (include "fleetlib.decimalProblems" (dict "path" (printf "%s.guard.maxErrorRate" $path) "value" .model.guard.maxErrorRate "above" 0 "max" 1) | fromYamlArray) -}}
{{- range $version, $entry := .model.versions -}}
{{- $spec := include "fleetlib.versionValues" (dict "model" $.model "entry" $entry) | fromYaml -}}
{{- $ctx := dict "root" $.root "name" $.name "model" $.model "version" $version "spec" $spec -}}
{{- $errors = concat $errors (include "fleetlib.validateVersion" (dict "ctx" $ctx "path" (printf "%s.versions.%s" $path $version)) | fromYamlArray) -}}
{{- end -}}
{{- toYaml $errors -}}
{{- end -}}

{{/* Problems of one version's effective values. Context: dict ctx (version context), path. */}}
{{- define "fleetlib.validateVersion" -}}
{{- $errors := list -}}
{{- $s := .ctx.spec -}}
{{- $path := .path -}}
{{- $a := $s.autoscaling -}}
{{- if gt (int $a.minReplicas) (int $a.maxReplicas) -}}
{{- $errors = append $errors (printf "%s: autoscaling.minReplicas (%d) is above maxReplicas (%d)" $path (int $a.minReplicas) (int $a.maxReplicas)) -}}
{{- end -}}
{{- $errors = concat $errors (include "fleetlib.podProblems" (dict "prefix" (printf "%s." $path) "values" $s "env" (include "fleetlib.modelEnvValues" .ctx | fromYaml) "volumes" (list "tmp" "registry")) | fromYamlArray) -}}
{{- $labels := include "fleetlib.podLabels" (dict "selector" (include "fleetlib.versionSelector" .ctx | fromYaml) "component" "model-server" "image" $s.image "podLabels" $s.podLabels) | fromYaml -}}
{{- $np := .ctx.root.Values.networkPolicy -}}
{{- range $scraper := keys $np.scrapers | sortAlpha -}}
{{- if include "fleetlib.selects" (dict "selector" (get $np.scrapers $scraper).podSelector "labels" $labels) -}}
{{- $errors = append $errors (printf "%s: its pods would match networkPolicy.scrapers.%s.podSelector and so be let in to every model as a scraper; rename the model or narrow that selector" $path $scraper) -}}
{{- end -}}
{{- end -}}
{{- if include "fleetlib.selects" (dict "selector" (dict "matchLabels" $np.gatewayPodLabels) "labels" $labels) -}}
{{- $errors = append $errors (printf "%s: its pods would match networkPolicy.gatewayPodLabels and so be let in to every model as the gateway; rename the model or change gatewayPodLabels" $path) -}}
{{- end -}}
{{- toYaml $errors -}}
{{- end -}}

{{/*
Problems of the pod escape hatches: podLabels may not replace a label the chart
sets (selectors and dashboards rely on them), and extraEnvVars / extraVolumes
may not repeat a name (server-side apply refuses duplicate list keys).
Context: dict prefix (of the value paths), values (podLabels, extraEnvVars,
extraVolumes), env (the
chart's variables, a dict), volumes (the chart's volume names).
*/}}
{{- define "fleetlib.podProblems" -}}
{{- $errors := list -}}
{{- $path := .prefix -}}
{{- range $key := include "fleetlib.podLabelKeys" . | fromYamlArray -}}
{{- if hasKey ($.values.podLabels | default dict) $key -}}
{{- $errors = append $errors (printf "%spodLabels: %q is set by the chart (selectors and dashboards rely on it); remove it from podLabels" $path $key) -}}
{{- end -}}
{{- end -}}
{{- $seen := dict -}}
{{- range .values.extraEnvVars | default list -}}
{{- if hasKey $.env .name -}}
{{- $errors = append $errors (printf "%sextraEnvVars: %s is set by the chart from its values; change that value instead of overriding the variable" $path .name) -}}
{{- else if hasKey $seen .name -}}
{{- $errors = append $errors (printf "%sextraEnvVars: %s is listed twice; keep one entry" $path .name) -}}
{{- end -}}
{{- $_ := set $seen .name true -}}
{{- end -}}
{{- $seen = dict -}}
{{- range .values.extraVolumes | default list -}}
{{- if or (has .name $.volumes) (hasKey $seen .name) -}}
{{- $errors = append $errors (printf "%sextraVolumes: the name %q is already used (the chart's volumes: %s); pick another name" $path .name (join ", " $.volumes)) -}}
{{- end -}}
{{- $_ := set $seen .name true -}}
{{- end -}}
{{- toYaml $errors -}}
{{- end -}}

{{/*
Bounds of a decimal value given as a string: `helm --set x=0.1` passes a
string (only whole numbers become numbers), which the schema can match by
pattern but not bound. Numbers are bounded by the schema itself.
Context: dict path, value, above (exclusive minimum), max.
*/}}
{{- define "fleetlib.decimalProblems" -}}
{{- $errors := list -}}
{{- if kindIs "string" .value -}}
{{- $number := float64 .value -}}
{{- if or (le $number (float64 .above)) (gt $number (float64 .max)) -}}
{{- $errors = append $errors (printf "%s: %s is out of range; it must be above %v and at most %v" .path .value .above .max) -}}
{{- end -}}
{{- end -}}
{{- toYaml $errors -}}
{{- end -}}

{{/*
A concrete fix for weights that do not sum to 100: move the difference onto the
version with the highest weight (the stable one) when that stays in 0..100.
Context: dict path, versions, total.
*/}}
{{- define "fleetlib.weightFix" -}}
{{- $top := "" -}}
{{- $topWeight := -1 -}}
{{- range $version, $entry := .versions -}}
{{- if gt (int $entry.weight) $topWeight -}}
{{- $top = $version -}}
{{- $topWeight = int $entry.weight -}}
{{- end -}}
{{- end -}}
{{- $fixed := sub $topWeight (sub .total 100) -}}
{{- if and (ge (int $fixed) 0) (le (int $fixed) 100) -}}
{{- printf "e.g. --set %s.versions.%s.weight=%d" .path $top (int $fixed) -}}
{{- else -}}
{{- printf "set %s.versions.<version>.weight so that they add up to 100" .path -}}
{{- end -}}
{{- end -}}
