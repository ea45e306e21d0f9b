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
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "keyturn.selectorLabels" -}}
app.kubernetes.io/name: {{ include "keyturn.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* The plugin directory under kubelet's root, named as the Go driver's, so kubelet finds the same socket. */}}
{{- define "keyturn.pluginDir" -}}
{{ .Values.linux.kubeletRootDir }}/plugins/csi-secrets-store
{{- end -}}

{{/*
linux.additionalProvidersDirs without linux.providersDir and without repeats, as a comma list: a
Go values file that moves providersDir to /etc/kubernetes/secrets-store-csi-providers (the
default's additional directory) would otherwise mount one path twice, which the API server refuses.
*/}}
{{- define "keyturn.additionalProvidersDirs" -}}
{{- $main := clean .Values.linux.providersDir -}}
{{- $dirs := list -}}
{{- range .Values.linux.additionalProvidersDirs -}}
{{- $d := clean . -}}
{{- if and (ne $d $main) (not (has $d $dirs)) -}}
{{- $dirs = append $dirs $d -}}
{{- end -}}
{{- end -}}
{{- join "," $dirs -}}
{{- end -}}

{{/* linux.metricsAddr as the Go chart takes it (":8095", "0.0.0.0:8095") or a bare port ("8095"). */}}
{{- define "keyturn.metricsAddr" -}}
{{- $addr := toString .Values.linux.metricsAddr -}}
{{- if contains ":" $addr -}}{{ $addr }}{{- else -}}:{{ $addr }}{{- end -}}
{{- end -}}

{{- define "keyturn.metricsPort" -}}
{{- $port := last (splitList ":" (include "keyturn.metricsAddr" .)) -}}
{{- if not (regexMatch "^[0-9]{1,5}$" $port) -}}
{{- fail (printf "linux.metricsAddr (%q) must be [host]:port or a port, e.g. \":8095\"" (toString .Values.linux.metricsAddr)) -}}
{{- end -}}
{{ $port }}
{{- end -}}

{{/* Whether the CSIDriver asks kubelet for the tokens in NodePublishVolume's secrets field. */}}
{{- define "keyturn.tokensInSecrets" -}}
{{- $v := .Values.serviceAccountTokenInSecrets -}}
{{- if and .Values.tokenRequests (or (eq (toString $v) "true") (and (eq (toString $v) "") (semverCompare ">=1.35.0-0" .Capabilities.KubeVersion.Version))) -}}
true
{{- end -}}
{{- end -}}

{{/*
Values that would break an install, named in a failed render: keys of the Go chart that cannot
apply here, and keys this chart renamed to the Go chart's names.
*/}}
{{- define "keyturn.validate" -}}
{{- if .Values.windows.enabled -}}
{{- fail "windows.enabled: Keyturn runs on Linux nodes only; set it to false (the Go driver can keep serving Windows nodes from its own chart)" -}}
{{- end -}}
{{- if .Values.rbac.pspEnabled -}}
{{- fail "rbac.pspEnabled: PodSecurityPolicy was removed in Kubernetes 1.25 and this chart has none; set it to false" -}}
{{- end -}}
{{- if contains "csi-secrets-store/driver" (toString .Values.linux.image.repository) -}}
{{- fail (printf "linux.image.repository (%s) is the Go driver's image, which cannot run this chart; drop it from the values file or name Keyturn's image" .Values.linux.image.repository) -}}
{{- end -}}
{{- if (.Values.linux.registrar | default dict).image -}}
{{- fail "linux.registrar.image: renamed to linux.registrarImage, the Go chart's name" -}}
{{- end -}}
{{- if (.Values.linux.livenessProbe | default dict).image -}}
{{- fail "linux.livenessProbe.image: renamed to linux.livenessProbeImage, the Go chart's name" -}}
{{- end -}}
{{- if hasKey .Values.linux "healthzPort" -}}
{{- fail "linux.healthzPort: renamed to livenessProbe.port, the Go chart's name" -}}
{{- end -}}
{{- end -}}

{{/*
The registrar and livenessprobe sidecars: they read and write only the plugin directory's socket
and kubelet's registration directory, so no privileges at all. The registrar runs as root (its
image's user) to create its socket beside kubelet's; the probe runs as nobody.
*/}}
{{- define "keyturn.sidecarSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop: [ALL]
{{- end -}}

{{/*
The in-process store providers turned on, as keyturn node's and keyturn sync's flags.
*/}}
{{- define "keyturn.inProcessProviderArgs" -}}
{{- range $name, $provider := .Values.inProcessProviders }}
{{- if $provider.enabled }}
- --in-process-provider={{ $name }}
{{- range $key, $value := $provider.settings }}
- --provider-setting={{ $name }}.{{ $key }}={{ $value }}
{{- end }}
{{- end }}
{{- end }}
{{- end -}}
