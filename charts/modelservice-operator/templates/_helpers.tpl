{{/* Chart name, overridable. */}}
{{- define "mso.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name: the release name, plus the chart name unless the release name already contains it. */}}
{{- define "mso.fullname" -}}
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

{{- define "mso.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Selector labels: fixed at install (a Deployment's selector is immutable). */}}
{{- define "mso.selectorLabels" -}}
app.kubernetes.io/name: {{ include "mso.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "mso.labels" -}}
helm.sh/chart: {{ include "mso.chart" . }}
{{ include "mso.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/part-of: modelservice-operator
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "mso.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "mso.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The image reference: repository:tag, or repository@digest when a digest is set. */}}
{{- define "mso.image" -}}
{{- $tag := default .Chart.AppVersion .Values.image.tag }}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository $tag }}
{{- end }}
{{- end }}

{{/* "true" when leader election is on: forced by leaderElection.enabled, or "auto" with replicas > 1. */}}
{{- define "mso.leaderElect" -}}
{{- $le := .Values.leaderElection.enabled }}
{{- if eq (toString $le) "auto" }}
{{- if gt (int .Values.replicas) 1 }}true{{ else }}false{{ end }}
{{- else if eq (toString $le) "true" }}true
{{- else }}
{{- if gt (int .Values.replicas) 1 }}
{{- fail "replicas > 1 needs leader election: set leaderElection.enabled to auto or true (otherwise every replica reconciles)" }}
{{- end }}false
{{- end }}
{{- end }}

{{/*
The operator's rules on the objects it manages, in the namespaces it watches. Kept in one place so
the ClusterRole (all namespaces) and the per-namespace Roles grant exactly the same.
Never add Secrets or wildcards here: the operator only references Secrets by name.
*/}}
{{- define "mso.rules" -}}
- apiGroups: ["modelservice.dev"]
  resources: ["modelservices"]
  verbs: ["get", "list", "watch"]
- apiGroups: ["modelservice.dev"]
  resources: ["modelservices/status"]
  verbs: ["get", "patch"]
# Children carry blockOwnerDeletion; where OwnerReferencesPermissionEnforcement is on (OpenShift)
# setting it needs update on the owner's finalizers.
- apiGroups: ["modelservice.dev"]
  resources: ["modelservices/finalizers"]
  verbs: ["update"]
- apiGroups: ["apps"]
  resources: ["deployments"]
  verbs: ["get", "list", "watch", "create", "patch", "delete"]
# delete: a ReplicaSet of a deleted Deployment the garbage collector missed (src/controller/reconcile.ts).
- apiGroups: ["apps"]
  resources: ["replicasets"]
  verbs: ["get", "list", "watch", "delete"]
# The StatefulSets of the LeaderWorkerSets of multi-node ModelServices, for their status.
- apiGroups: ["apps"]
  resources: ["statefulsets"]
  verbs: ["get", "list", "watch"]
- apiGroups: [""]
  resources: ["services", "persistentvolumeclaims"]
  verbs: ["get", "list", "watch", "create", "patch", "delete"]
- apiGroups: [""]
  resources: ["pods"]
  verbs: ["get", "list", "watch"]
- apiGroups: ["autoscaling"]
  resources: ["horizontalpodautoscalers"]
  verbs: ["get", "list", "watch", "create", "patch", "delete"]
- apiGroups: ["policy"]
  resources: ["poddisruptionbudgets"]
  verbs: ["get", "list", "watch", "create", "patch", "delete"]
- apiGroups: ["networking.k8s.io"]
  resources: ["networkpolicies"]
  verbs: ["get", "list", "watch", "create", "patch", "delete"]
# Children from add-ons (Gateway API, cert-manager, Envoy Gateway, LeaderWorkerSet): watched only while their CRDs
# are established; granting them before the add-on is installed is harmless.
- apiGroups: ["gateway.networking.k8s.io"]
  resources: ["httproutes", "backendtlspolicies"]
  verbs: ["get", "list", "watch", "create", "patch", "delete"]
- apiGroups: ["cert-manager.io"]
  resources: ["certificates"]
  verbs: ["get", "list", "watch", "create", "patch", "delete"]
- apiGroups: ["gateway.envoyproxy.io"]
  resources: ["securitypolicies"]
  verbs: ["get", "list", "watch", "create", "patch", "delete"]
- apiGroups: ["leaderworkerset.x-k8s.io"]
  resources: ["leaderworkersets"]
  verbs: ["get", "list", "watch", "create", "patch", "delete"]
- apiGroups: [""]
  resources: ["events"]
  verbs: ["create", "patch"]
{{- if .Values.config.keda.enabled }}
- apiGroups: ["keda.sh"]
  resources: ["scaledobjects"]
  verbs: ["get", "list", "watch", "create", "patch", "delete"]
# The HTTP add-on's route for autoscaling.wake.mode Request (watched only while its CRD is established).
- apiGroups: ["http.keda.sh"]
  resources: ["interceptorroutes"]
  verbs: ["get", "list", "watch", "create", "patch", "delete"]
{{- end }}
{{- end }}
