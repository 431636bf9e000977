{{/* Chart name, truncated to the 63 characters a DNS label allows. */}}
{{- define "rebootd.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Fully qualified app name: the release name, plus the chart name unless it already holds it. */}}
{{- define "rebootd.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "rebootd.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "rebootd.selectorLabels" -}}
app.kubernetes.io/name: {{ include "rebootd.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "rebootd.labels" -}}
helm.sh/chart: {{ include "rebootd.chart" . }}
{{ include "rebootd.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/component: controller
app.kubernetes.io/part-of: rebootd
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "rebootd.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "rebootd.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The Secret holding the cloud credentials, or "" when there is none. */}}
{{- define "rebootd.credentialsSecretName" -}}
{{- if .Values.credentials.existingSecret }}
{{- .Values.credentials.existingSecret }}
{{- else if include "rebootd.createCredentials" . }}
{{- printf "%s-credentials" (include "rebootd.fullname" .) }}
{{- end }}
{{- end }}

{{/* Non-empty when the chart creates the credentials Secret from values. */}}
{{- define "rebootd.createCredentials" -}}
{{- if not .Values.credentials.existingSecret }}
{{- $t := .Values.credentials.tencent }}
{{- $a := .Values.credentials.aliyun }}
{{- if or $t.secretId $t.secretKey $t.token $a.accessKeyId $a.accessKeySecret $a.securityToken }}true{{ end }}
{{- end }}
{{- end }}

{{- define "rebootd.leaseNamespace" -}}
{{- default .Release.Namespace .Values.leaderElection.namespace }}
{{- end }}

{{/* Namespaces where the controller may read credential Secrets (a list; "*" = cluster-wide). */}}
{{- define "rebootd.secretNamespaces" -}}
{{- if .Values.rbac.secretNamespaces }}
{{- toYaml .Values.rbac.secretNamespaces }}
{{- else if .Values.watchNamespace }}
{{- toYaml (list .Values.watchNamespace) }}
{{- else }}
{{- toYaml (list) }}
{{- end }}
{{- end }}
