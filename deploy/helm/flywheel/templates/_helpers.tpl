{{- define "flywheel.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "flywheel.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/* Selector labels of one component: (dict "root" $ "component" "cpu-worker") */}}
{{- define "flywheel.selectorLabels" -}}
app.kubernetes.io/name: {{ .root.Chart.Name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "flywheel.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) -}}
{{- end -}}

{{- define "flywheel.torchImage" -}}
{{- printf "%s:%s" .Values.torchImage.repository (.Values.torchImage.tag | default .Chart.AppVersion) -}}
{{- end -}}

{{/* A worker's drain (grace) + the SDK's force margin (15 s) + 5 s: README "draining a worker". */}}
{{- define "flywheel.terminationGracePeriodSeconds" -}}
{{- add (int .Values.shutdownGraceSeconds) 20 -}}
{{- end -}}

{{/*
What every Flywheel process reads; names exactly as config/index.ts reads them
(test/unit/helm-chart.test.ts holds the rendered chart to that list).
*/}}
{{- define "flywheel.env" -}}
- name: TEMPORAL_ADDRESS
  value: {{ .Values.temporal.address | quote }}
- name: TEMPORAL_NAMESPACE
  value: {{ .Values.temporal.namespace | quote }}
{{- if or .Values.temporal.tls.enabled .Values.temporal.apiKey.secretName }}
- name: TEMPORAL_TLS
  value: "on"
{{- end }}
{{- if and .Values.temporal.tls.enabled .Values.temporal.tls.secretName }}
- name: TEMPORAL_TLS_CA
  value: /etc/flywheel/temporal-tls/ca.crt
{{- if .Values.temporal.tls.mtls }}
- name: TEMPORAL_TLS_CERT
  value: /etc/flywheel/temporal-tls/tls.crt
- name: TEMPORAL_TLS_KEY
  value: /etc/flywheel/temporal-tls/tls.key
{{- end }}
{{- end }}
{{- if and .Values.temporal.tls.enabled .Values.temporal.tls.serverName }}
- name: TEMPORAL_TLS_SERVER_NAME
  value: {{ .Values.temporal.tls.serverName | quote }}
{{- end }}
{{- if .Values.temporal.apiKey.secretName }}
- name: TEMPORAL_API_KEY
  valueFrom:
    secretKeyRef:
      name: {{ .Values.temporal.apiKey.secretName }}
      key: {{ .Values.temporal.apiKey.key }}
{{- end }}
- name: FLYWHEEL_TASK_QUEUE_WORKFLOWS
  value: {{ .Values.taskQueues.workflows | quote }}
- name: FLYWHEEL_TASK_QUEUE_CPU
  value: {{ .Values.taskQueues.cpu | quote }}
- name: FLYWHEEL_TASK_QUEUE_CONTROL
  value: {{ .Values.taskQueues.control | quote }}
- name: FLYWHEEL_TASK_QUEUE_GPU
  value: {{ .Values.taskQueues.gpu | quote }}
- name: FLYWHEEL_TASK_QUEUE_CPU_TORCH
  value: {{ .Values.taskQueues.cpuTorch | quote }}
- name: FLYWHEEL_GPU_WAIT_SECONDS
  value: {{ .Values.gpuWaitSeconds | quote }}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ required "database.secretName: the secret holding DATABASE_URL" .Values.database.secretName }}
      key: {{ .Values.database.urlKey }}
{{- if .Values.database.mlflowUrlKey }}
- name: FLYWHEEL_MLFLOW_DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ .Values.database.secretName }}
      key: {{ .Values.database.mlflowUrlKey }}
      optional: true
{{- end }}
- name: MLFLOW_TRACKING_URI
  value: {{ .Values.mlflow.trackingUri | quote }}
{{- with .Values.mlflow.auth }}
{{- if and .secretName .tokenKey }}
- name: MLFLOW_TRACKING_TOKEN
  valueFrom:
    secretKeyRef:
      name: {{ .secretName }}
      key: {{ .tokenKey }}
{{- else if .secretName }}
- name: MLFLOW_TRACKING_USERNAME
  valueFrom:
    secretKeyRef:
      name: {{ .secretName }}
      key: {{ .usernameKey }}
- name: MLFLOW_TRACKING_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ .secretName }}
      key: {{ .passwordKey }}
{{- end }}
{{- end }}
- name: FLYWHEEL_DATA_DIR
  value: {{ .Values.data.mountPath | quote }}
- name: FLYWHEEL_LOG_LEVEL
  value: {{ .Values.logLevel | quote }}
- name: FLYWHEEL_SHUTDOWN_GRACE_SECONDS
  value: {{ .Values.shutdownGraceSeconds | quote }}
# Metrics on the pod's interfaces, so Prometheus and the probes reach them.
- name: FLYWHEEL_METRICS_HOST
  value: "0.0.0.0"
{{- if .Values.gitCommit }}
- name: FLYWHEEL_GIT_COMMIT
  value: {{ .Values.gitCommit | quote }}
{{- end }}
{{- if .Values.otelEndpoint }}
- name: OTEL_EXPORTER_OTLP_ENDPOINT
  value: {{ .Values.otelEndpoint | quote }}
{{- end }}
{{- end -}}

{{- define "flywheel.volumes" -}}
# A pod's own scratch folder: a cache of the shared file store on MLflow (datasets/file-store.ts), so
# pools share no volume and scale across nodes.
- name: data
  emptyDir:
    {{- with .Values.data.sizeLimit }}
    sizeLimit: {{ . }}
    {{- end }}
{{- if and .Values.temporal.tls.enabled .Values.temporal.tls.secretName }}
- name: temporal-tls
  secret:
    secretName: {{ .Values.temporal.tls.secretName }}
{{- end }}
{{- end -}}

{{- define "flywheel.volumeMounts" -}}
- name: data
  mountPath: {{ .Values.data.mountPath }}
{{- if and .Values.temporal.tls.enabled .Values.temporal.tls.secretName }}
- name: temporal-tls
  mountPath: /etc/flywheel/temporal-tls
  readOnly: true
{{- end }}
{{- end -}}

{{/*
One worker pool's Deployment: (dict "root" $ "component" "cpu-worker" "values" .Values.cpuWorker
"command" (list ...) "env" (list of {name, value}) "torch" bool "gpus" int).
*/}}
{{- define "flywheel.workerDeployment" -}}
{{- $root := .root -}}
{{- $v := .values -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "flywheel.fullname" $root }}-{{ .component }}
  labels:
    {{- include "flywheel.labels" $root | nindent 4 }}
    app.kubernetes.io/component: {{ .component }}
spec:
  {{- if not $root.Values.keda.enabled }}
  replicas: {{ $v.replicas }}
  {{- end }}
  selector:
    matchLabels:
      {{- include "flywheel.selectorLabels" (dict "root" $root "component" .component) | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "flywheel.selectorLabels" (dict "root" $root "component" .component) | nindent 8 }}
      annotations:
        prometheus.io/scrape: "true"
        prometheus.io/port: {{ $v.metricsPort | quote }}
        {{- with $root.Values.gitCommit }}
        flywheel.io/git-commit: {{ . | quote }}
        {{- end }}
    spec:
      # The drain: polling stops on SIGTERM, in-flight activities get shutdownGraceSeconds, and the
      # process gives up 15 s later; Kubernetes must not SIGKILL before that.
      terminationGracePeriodSeconds: {{ include "flywheel.terminationGracePeriodSeconds" $root }}
      {{- with $root.Values.imagePullSecrets }}
      imagePullSecrets:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      securityContext:
        {{- toYaml $root.Values.podSecurityContext | nindent 8 }}
      {{- with $v.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $v.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      containers:
        - name: {{ .component }}
          image: {{ if .torch }}{{ include "flywheel.torchImage" $root }}{{ else }}{{ include "flywheel.image" $root }}{{ end }}
          imagePullPolicy: {{ if .torch }}{{ $root.Values.torchImage.pullPolicy }}{{ else }}{{ $root.Values.image.pullPolicy }}{{ end }}
          command:
            {{- toYaml .command | nindent 12 }}
          env:
            {{- include "flywheel.env" $root | nindent 12 }}
            {{- toYaml .env | nindent 12 }}
          ports:
            - name: metrics
              containerPort: {{ $v.metricsPort }}
          # The Temporal SDK's Prometheus endpoint answers once the runtime is up and as long as the
          # process lives (it keeps answering while a drain runs).
          startupProbe:
            httpGet: { path: /metrics, port: metrics }
            periodSeconds: 5
            failureThreshold: 60
          readinessProbe:
            httpGet: { path: /metrics, port: metrics }
            periodSeconds: 10
          livenessProbe:
            httpGet: { path: /metrics, port: metrics }
            periodSeconds: 20
            timeoutSeconds: 5
            failureThreshold: 3
          resources:
            {{- $res := deepCopy ($v.resources | default dict) }}
            {{- if .gpus }}
            {{- $limits := merge (dict "nvidia.com/gpu" .gpus) ($res.limits | default dict) }}
            {{- $_ := set $res "limits" $limits }}
            {{- end }}
            {{- toYaml $res | nindent 12 }}
          securityContext:
            {{- toYaml $root.Values.securityContext | nindent 12 }}
          volumeMounts:
            {{- include "flywheel.volumeMounts" $root | nindent 12 }}
      volumes:
        {{- include "flywheel.volumes" $root | nindent 8 }}
---
apiVersion: v1
kind: Service
metadata:
  name: {{ include "flywheel.fullname" $root }}-{{ .component }}-metrics
  labels:
    {{- include "flywheel.labels" $root | nindent 4 }}
    app.kubernetes.io/component: {{ .component }}
spec:
  type: ClusterIP
  clusterIP: None
  selector:
    {{- include "flywheel.selectorLabels" (dict "root" $root "component" .component) | nindent 4 }}
  ports:
    - name: metrics
      port: {{ $v.metricsPort }}
      targetPort: metrics
{{- if $root.Values.keda.enabled }}
---
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata:
  name: {{ include "flywheel.fullname" $root }}-{{ .component }}
  labels:
    {{- include "flywheel.labels" $root | nindent 4 }}
    app.kubernetes.io/component: {{ .component }}
spec:
  scaleTargetRef:
    name: {{ include "flywheel.fullname" $root }}-{{ .component }}
  minReplicaCount: {{ $v.autoscaling.minReplicas }}
  maxReplicaCount: {{ $v.autoscaling.maxReplicas }}
  pollingInterval: {{ $root.Values.keda.pollingInterval }}
  cooldownPeriod: {{ $root.Values.keda.cooldownPeriod }}
  triggers:
    - type: temporal
      metadata:
        endpoint: {{ $root.Values.temporal.address | quote }}
        namespace: {{ $root.Values.temporal.namespace | quote }}
        taskQueue: {{ .taskQueue | quote }}
        queueTypes: {{ .queueType | quote }}
        # Backlog per replica: a pod's worth of waiting tasks adds a pod.
        targetQueueSize: {{ $v.autoscaling.targetQueueSize | quote }}
        activationTargetQueueSize: "0"
        {{- if and $root.Values.temporal.tls.enabled $root.Values.temporal.tls.serverName }}
        tlsServerName: {{ $root.Values.temporal.tls.serverName | quote }}
        {{- end }}
      {{- if or (and $root.Values.temporal.tls.enabled $root.Values.temporal.tls.secretName) $root.Values.temporal.apiKey.secretName }}
      authenticationRef:
        name: {{ include "flywheel.fullname" $root }}-temporal
      {{- end }}
{{- end }}
{{- end -}}
