{{- define "archway.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "archway.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "archway.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "archway.tlsSecret" -}}
{{- if .Values.tls.existingSecret -}}
{{- .Values.tls.existingSecret -}}
{{- else -}}
{{- printf "%s-tls" (include "archway.fullname" .) -}}
{{- end -}}
{{- end -}}

{{- define "archway.checkTLS" -}}
{{- if not .Values.certManager.enabled -}}
{{- if not .Values.tls.caBundle -}}
{{- fail "archway: set certManager.enabled=true, or tls.caBundle with tls.existingSecret or tls.crt and tls.key" -}}
{{- end -}}
{{- if and (not .Values.tls.existingSecret) (or (not .Values.tls.crt) (not .Values.tls.key)) -}}
{{- fail "archway: without cert-manager, set tls.existingSecret or both tls.crt and tls.key" -}}
{{- end -}}
{{- end -}}
{{- end -}}
