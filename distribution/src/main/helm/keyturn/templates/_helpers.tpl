{{/* Names and labels shared by the templates. */}}
{{- define "keyturn.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "keyturn.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if contains (include "keyturn.name" .) .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name (include "keyturn.name" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "keyturn.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "keyturn.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "keyturn.labels" -}}
app.kubernetes.io/name: {{ include "keyturn.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "keyturn.selectorLabels" -}}
app.kubernetes.io/name: {{ include "keyturn.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* The plugin directory under kubelet's root, named as the Go driver's, so kubelet finds the same socket. */}}
{{- define "keyturn.pluginDir" -}}
{{ .Values.linux.kubeletRootDir }}/plugins/csi-secrets-store
{{- end -}}
