{{/*
Names. With the release named "exposedapi-apim" every object has the name manifests/base gives it, so the chart and
the kustomize install (generated from this chart by scripts/generate-manifests.ts) are the same objects.
*/}}
{{- define "exposedapi-apim.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The prefix of every object name; at most 40 characters, so "<fullname>-dispatcher" etc. stay DNS labels. */}}
{{- define "exposedapi-apim.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "exposedapi-apim.webhookName" -}}{{ include "exposedapi-apim.fullname" . }}-webhook{{- end -}}
{{- define "exposedapi-apim.dispatcherName" -}}{{ include "exposedapi-apim.fullname" . }}-dispatcher{{- end -}}
{{- define "exposedapi-apim.executorName" -}}{{ include "exposedapi-apim.fullname" . }}-executor{{- end -}}
{{- define "exposedapi-apim.configName" -}}{{ include "exposedapi-apim.fullname" . }}-config{{- end -}}
{{- define "exposedapi-apim.tlsSecretName" -}}
{{- if and (eq .Values.certificates.source "secret") .Values.certificates.secret.name -}}
{{- .Values.certificates.secret.name -}}
{{- else -}}
{{- include "exposedapi-apim.fullname" . }}-webhook-tls
{{- end -}}
{{- end -}}

{{/*
The image, defined once: the webhook Deployment runs it and the dispatcher starts the executor Jobs with it
(EXECUTOR_IMAGE). A digest, when given, pins it instead of the tag.
*/}}
{{- define "exposedapi-apim.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) -}}
{{- end -}}
{{- end -}}

{{/* Labels of every object. */}}
{{- define "exposedapi-apim.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/part-of: exposedapi-apim
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end -}}

{{/* The webhook pods' selector: unique per release, and unchanged from manifests/base for the default name. */}}
{{- define "exposedapi-apim.webhookSelector" -}}
app.kubernetes.io/name: {{ include "exposedapi-apim.webhookName" . }}
{{- end -}}

{{/*
Subjects and bindings. With watchNamespaces set, a cluster role is bound in each watched namespace (RoleBindings), so
the operator can read and write ExposedAPIs, routes and Events there and nowhere else; otherwise cluster-wide. Those
RoleBindings are named "<role>-watched": the dispatcher's own Role and RoleBinding in the release namespace (Jobs and
the Lease) already have the role's name, and the release namespace may be watched too.
Arguments: (dict "root" $ "role" <ClusterRole name> "serviceAccount" <name>), optionally "name": the bindings' name
when one role is bound to several accounts (default the role's).
*/}}
{{- define "exposedapi-apim.bindClusterRole" -}}
{{- $root := .root -}}
{{- if $root.Values.watchNamespaces }}
{{- range $ns := $root.Values.watchNamespaces }}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: {{ $.name | default $.role }}-watched
  namespace: {{ $ns }}
  labels:
    {{- include "exposedapi-apim.labels" $root | nindent 4 }}
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: {{ $.role }}
subjects:
  - kind: ServiceAccount
    name: {{ $.serviceAccount }}
    namespace: {{ $root.Release.Namespace }}
{{- end }}
{{- else }}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: {{ .name | default .role }}
  labels:
    {{- include "exposedapi-apim.labels" $root | nindent 4 }}
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: {{ .role }}
subjects:
  - kind: ServiceAccount
    name: {{ .serviceAccount }}
    namespace: {{ $root.Release.Namespace }}
{{- end }}
{{- end -}}

{{/* A comma-separated list for a variable (the operator splits on commas). */}}
{{- define "exposedapi-apim.csv" -}}
{{- join "," . -}}
{{- end -}}
