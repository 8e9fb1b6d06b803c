{{/*
Cross-field checks that values.schema.json cannot express. Each failure names
the value and says how to fix it. Context: the root context.
*/}}
{{- define "fleetlib.validateValues" -}}
{{- $errors := list -}}
{{- if and (eq .Values.registry.source "pvc") (not .Values.registry.pvc.claimName) -}}
{{- $errors = append $errors "registry.pvc.claimName: registry.source is \"pvc\" but no claim is named; set registry.pvc.claimName=<your PVC> or registry.source=image" -}}
{{- end -}}
{{- range $name, $entry := .Values.models -}}
{{- $model := include "fleetlib.modelValues" (dict "root" $ "entry" $entry) | fromYaml -}}
{{- $errors = concat $errors (include "fleetlib.validateModel" (dict "name" $name "model" $model) | fromYamlArray) -}}
{{- end -}}
{{- if $errors -}}
{{- fail (printf "\n\nvalues are invalid:\n- %s" (join "\n- " $errors)) -}}
{{- end -}}
{{- end -}}

{{/* Problems of one model, as a YAML list of messages. Context: dict name, model (effective values). */}}
{{- define "fleetlib.validateModel" -}}
{{- $errors := list -}}
{{- $path := printf "models.%s" .name -}}
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
{{- range $version, $entry := .model.versions -}}
{{- $a := $entry.autoscaling | default $.model.autoscaling -}}
{{- if gt (int $a.minReplicas) (int $a.maxReplicas) -}}
{{- $errors = append $errors (printf "%s.versions.%s: autoscaling.minReplicas (%d) is above maxReplicas (%d)" $path $version (int $a.minReplicas) (int $a.maxReplicas)) -}}
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
