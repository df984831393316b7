{{/* Parts the mutating and validating webhook share (webhook-configurations.yaml). */}}
{{- define "exposedapi-apim.webhookCommon" -}}
{{- /* Arguments: (dict "root" $ "path" "/mutate" "caBundle" <base64 PEM or "">). */ -}}
{{- $root := .root -}}
admissionReviewVersions: ["v1"]
sideEffects: None
failurePolicy: {{ $root.Values.admission.failurePolicy }}
timeoutSeconds: {{ $root.Values.admission.timeoutSeconds }}
matchPolicy: Equivalent
clientConfig:
  service:
    name: {{ include "exposedapi-apim.webhookName" $root }}
    namespace: {{ $root.Release.Namespace }}
    path: {{ .path }}
    port: 443
  {{- with .caBundle }}
  caBundle: {{ . }}
  {{- end }}
rules:
  - apiGroups: ["oda.tmforum.org"]
    apiVersions: ["*"]
    resources: ["exposedapis"]
    operations: ["CREATE", "UPDATE"]
    scope: Namespaced
{{- end -}}
{{- define "exposedapi-apim.webhookNamespaces" -}}
{{- /* System namespaces and opted-out ones never; with watchNamespaces, only those. */ -}}
namespaceSelector:
  matchExpressions:
    - key: kubernetes.io/metadata.name
      operator: NotIn
      values: ["kube-system", "kube-public", "kube-node-lease"]
    - key: exposedapi-apim.io/ignore
      operator: NotIn
      values: ["true"]
    {{- with .Values.watchNamespaces }}
    - key: kubernetes.io/metadata.name
      operator: In
      values: {{ toJson . }}
    {{- end }}
{{- end -}}
{{- define "exposedapi-apim.webhookAnnotations" -}}
{{- if eq .Values.certificates.source "cert-manager" }}
  annotations:
    # cert-manager's cainjector fills caBundle from the serving Certificate's CA.
    cert-manager.io/inject-ca-from: {{ .Release.Namespace }}/{{ include "exposedapi-apim.webhookName" . }}
{{- end }}
{{- end }}
