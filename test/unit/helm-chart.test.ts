/**
 * deploy/helm/flywheel must lint, render, validate against Kubernetes' schemas and agree with the
 * code, offline (no cluster): `helm lint` and `helm template` with Helm built from its Go module by
 * scripts/setup.sh, every rendered manifest through PyPI's kubernetes-validate (its shipped schemas),
 * and the same cross-checks compose.test.ts makes for docker-compose.temporal.yml — env names
 * config/index.ts reads, task queues, ports, drain time — plus KEDA's and Prometheus Operator's
 * resources, which kubernetes-validate has no schemas for, checked field by field here.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { ENV_VARIABLES, loadConfig, PROJECT_ROOT, SHUTDOWN_FORCE_MARGIN_SECONDS, type FlywheelConfig } from '../../config/index';

const CHART = path.join(PROJECT_ROOT, 'deploy/helm/flywheel');
const HELM = path.join(PROJECT_ROOT, '.flywheel/tools/helm/bin/helm');
const KUBERNETES_VALIDATE = path.join(PROJECT_ROOT, '.venv/bin/kubernetes-validate');
/** The oldest Kubernetes the chart declares (Chart.yaml kubeVersion) and the newest the package ships. */
const KUBERNETES_VERSIONS = ['1.29.0', '1.37.0'];
/** Kinds from CRDs: kubernetes-validate has no schema for them; their required fields are checked below. */
const CRD_KINDS = ['ScaledObject', 'TriggerAuthentication', 'PrometheusRule'];
/** Variables read outside config/index.ts: the standard OpenTelemetry one clients/tracing.ts reads. */
const OTHER_ENV = ['OTEL_EXPORTER_OTLP_ENDPOINT'];

const ALL_ON = [
  'gpuWorker.enabled=true',
  'keda.enabled=true',
  'prometheusRule.enabled=true',
  'temporal.tls.enabled=true',
  'temporal.tls.secretName=temporal-client-tls',
  'temporal.tls.mtls=true',
  'temporal.tls.serverName=frontend.temporal.example',
  'gitCommit=0123456789abcdef0123456789abcdef01234567',
  'otelEndpoint=http://otel-collector:4318',
];

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string; optional?: boolean } };
}
interface Container {
  name: string;
  image: string;
  command: string[];
  env: EnvVar[];
  ports?: Array<{ name: string; containerPort: number }>;
  resources?: { limits?: Record<string, unknown> };
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  startupProbe?: Probe;
}
interface Probe {
  httpGet?: { path: string; port: string | number };
}
interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  spec: Record<string, any>;
}

function run(cmd: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
  const res = spawnSync(cmd, args, { encoding: 'utf8', cwd: PROJECT_ROOT });
  if (res.error) throw res.error;
  return { status: res.status, stdout: res.stdout, stderr: res.stderr };
}

function setArgs(sets: string[]): string[] {
  return sets.flatMap((s) => ['--set', s]);
}

function render(sets: string[] = []): { text: string; manifests: Manifest[] } {
  const res = run(HELM, ['template', 'flywheel', CHART, '--namespace', 'flywheel', ...setArgs(sets)]);
  if (res.status !== 0) throw new Error(`helm template failed:\n${res.stderr}`);
  const manifests = parseAllDocuments(res.stdout)
    .map((d) => d.toJS() as Manifest | null)
    .filter((m): m is Manifest => m !== null);
  return { text: res.stdout, manifests };
}

const of = (ms: Manifest[], kind: string) => ms.filter((m) => m.kind === kind);
const named = (ms: Manifest[], kind: string, name: string) => {
  const m = ms.find((x) => x.kind === kind && x.metadata.name === name);
  if (!m) throw new Error(`no ${kind} ${name} in the rendered chart`);
  return m;
};
const containerOf = (deployment: Manifest): Container => deployment.spec.template.spec.containers[0] as Container;

/** A container's environment with stand-ins for what its secrets hold (as compose.test.ts does for `${VAR:?}`). */
function envOf(c: Container): Record<string, string> {
  const standIns: Record<string, string> = {
    DATABASE_URL: 'postgres://flywheel:operator-set@postgres.example:5432/flywheel',
    FLYWHEEL_MLFLOW_DATABASE_URL: 'postgres://flywheel_mlflow:operator-set@postgres.example:5432/mlflow',
  };
  return Object.fromEntries(c.env.map((e) => [e.name, e.value ?? standIns[e.name] ?? `operator-set-${e.name}`]));
}

/** Each worker pool: the queue it polls and the metrics port it binds, as its loaded configuration says. */
const POOLS: Array<{ component: string; queue: (c: FlywheelConfig) => string; port: (c: FlywheelConfig) => number; queueType: string }> = [
  { component: 'workflow-worker', queue: (c) => c.taskQueues.workflows, port: (c) => c.metrics.workflowWorkerPort, queueType: 'workflow' },
  { component: 'cpu-worker', queue: (c) => c.taskQueues.cpu, port: (c) => c.metrics.cpuWorkerPort, queueType: 'activity' },
  { component: 'control-worker', queue: (c) => c.taskQueues.control, port: (c) => c.metrics.controlWorkerPort, queueType: 'activity' },
  { component: 'torch-cpu-worker', queue: (c) => c.taskQueues.cpuTorch, port: (c) => c.metrics.gpuWorkerPort, queueType: 'activity' },
  { component: 'gpu-worker', queue: (c) => c.taskQueues.gpu, port: (c) => c.metrics.gpuWorkerPort, queueType: 'activity' },
];

describe('deploy/helm/flywheel', () => {
  let defaults: Manifest[];
  let allOn: Manifest[];
  let allOnText: string;
  let defaultText: string;

  beforeAll(() => {
    for (const [tool, file] of [
      ['helm', HELM],
      ['kubernetes-validate', KUBERNETES_VALIDATE],
    ] as const) {
      if (!fs.existsSync(file)) {
        throw new Error(`${tool} is missing at ${file}: run scripts/setup.sh (it builds Helm v4.3.2 from its Go module and installs scripts/requirements.txt)`);
      }
    }
    ({ manifests: defaults, text: defaultText } = render());
    ({ manifests: allOn, text: allOnText } = render(ALL_ON));
  });

  it('passes helm lint --strict with the default values and with every toggle on', () => {
    for (const sets of [[], ALL_ON]) {
      const res = run(HELM, ['lint', '--strict', CHART, ...setArgs(sets)]);
      expect(res.status, `${res.stdout}\n${res.stderr}`).toBe(0);
    }
  });

  it.each(KUBERNETES_VERSIONS)('renders manifests that kubernetes-validate accepts (strict) for Kubernetes %s', (version) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flywheel-helm-'));
    try {
      const files = [defaultText, allOnText].map((text, i) => {
        // Only the built-in kinds: the package has no schema for CRDs (checked in their own tests below).
        const docs = parseAllDocuments(text)
          .map((d) => d.toJS() as Manifest | null)
          .filter((m): m is Manifest => m !== null && !CRD_KINDS.includes(m.kind));
        const file = path.join(dir, `rendered-${i}.yaml`);
        fs.writeFileSync(file, docs.map((d) => JSON.stringify(d)).join('\n---\n'));
        return file;
      });
      const res = run(KUBERNETES_VALIDATE, ['--kubernetes-version', version, '--strict', '--quiet', ...files]);
      expect(res.status, `${res.stdout}\n${res.stderr}`).toBe(0);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('renders every Flywheel process: gateway, workflow worker, CPU and control pools, the PyTorch CPU queue, and the GPU pool when asked', () => {
    const deployments = (ms: Manifest[]) => of(ms, 'Deployment').map((d) => d.metadata.name).sort();
    expect(deployments(defaults)).toEqual(['flywheel-control-worker', 'flywheel-cpu-worker', 'flywheel-gateway', 'flywheel-torch-cpu-worker', 'flywheel-workflow-worker']);
    expect(deployments(allOn)).toContain('flywheel-gpu-worker');
    for (const d of of(allOn, 'Deployment').concat(of(allOn, 'Job'))) {
      const c = d.kind === 'Job' ? (d.spec.template.spec.containers[0] as Container) : containerOf(d);
      const script = c.command.find((a) => a.endsWith('.ts'));
      if (script) expect(fs.existsSync(path.join(PROJECT_ROOT, script)), `${d.metadata.name} runs ${script}`).toBe(true);
      else expect(c.command[0]).toBe('flywheel-gpu-worker');
    }
    expect(containerOf(named(allOn, 'Deployment', 'flywheel-gpu-worker')).command).toEqual(['flywheel-gpu-worker', '--device', 'cuda']);
    expect(containerOf(named(allOn, 'Deployment', 'flywheel-torch-cpu-worker')).command).toEqual(['flywheel-gpu-worker', '--device', 'cpu']);
  });

  it('sets only variables config/index.ts reads, and each process gets a configuration that loads', () => {
    for (const d of of(allOn, 'Deployment').concat(of(allOn, 'Job'))) {
      const c = d.kind === 'Job' ? (d.spec.template.spec.containers[0] as Container) : containerOf(d);
      const unknown = c.env.map((e) => e.name).filter((n) => !(ENV_VARIABLES as readonly string[]).includes(n) && !OTHER_ENV.includes(n));
      expect(unknown, d.metadata.name).toEqual([]);
      expect(() => loadConfig(envOf(c)), d.metadata.name).not.toThrow();
    }
    const tracing = fs.readFileSync(path.join(PROJECT_ROOT, 'clients/tracing.ts'), 'utf8');
    for (const name of OTHER_ENV) expect(tracing).toContain(name);
  });

  it('takes every credential from a secret by name: no password, token or database URL is a literal', () => {
    for (const ms of [defaults, allOn]) {
      for (const d of of(ms, 'Deployment').concat(of(ms, 'Job'))) {
        const c = d.kind === 'Job' ? (d.spec.template.spec.containers[0] as Container) : containerOf(d);
        const secretish = c.env.filter((e) => /PASSWORD|TOKEN|API_KEY|DATABASE_URL/.test(e.name));
        for (const e of secretish) expect(e.valueFrom?.secretKeyRef, `${d.metadata.name} ${e.name}`).toBeDefined();
      }
      expect(of(ms, 'Secret')).toEqual([]);
    }
    const cpu = loadConfig(envOf(containerOf(named(defaults, 'Deployment', 'flywheel-cpu-worker'))));
    expect(cpu.mlflow.auth).toEqual({ username: 'operator-set-MLFLOW_TRACKING_USERNAME', password: 'operator-set-MLFLOW_TRACKING_PASSWORD' });
    expect(new URL(cpu.postgres.mlflowUrl).username).toBe('flywheel_mlflow');
  });

  it.each(POOLS)('$component polls its queue and serves its metrics where the probes and the Service look', ({ component, queue, port }) => {
    const deployment = named(allOn, 'Deployment', `flywheel-${component}`);
    const c = containerOf(deployment);
    const config = loadConfig(envOf(c));
    expect(queue(config)).toBe(queue(loadConfig({})));
    const metricsPort = c.ports?.find((p) => p.name === 'metrics')?.containerPort;
    expect(metricsPort).toBe(port(config));
    for (const probe of [c.readinessProbe, c.livenessProbe, c.startupProbe]) expect(probe?.httpGet).toEqual({ path: '/metrics', port: 'metrics' });
    expect(config.metrics.host).toBe('0.0.0.0');
    const service = named(allOn, 'Service', `flywheel-${component}-metrics`);
    expect(service.spec.selector).toEqual(deployment.spec.selector.matchLabels);
    expect(service.spec.ports).toEqual([{ name: 'metrics', port: metricsPort, targetPort: 'metrics' }]);
  });

  it.each(POOLS)('lets $component drain on stop: terminationGracePeriodSeconds covers grace time + force margin', ({ component }) => {
    const deployment = named(allOn, 'Deployment', `flywheel-${component}`);
    const grace = loadConfig(envOf(containerOf(deployment))).shutdownGraceSeconds;
    expect(deployment.spec.template.spec.terminationGracePeriodSeconds).toBeGreaterThan(grace + SHUTDOWN_FORCE_MARGIN_SECONDS);
  });

  it('serves the gateway on its configured port behind a Service, probed on /healthz, scaled by an HPA on CPU', () => {
    const deployment = named(defaults, 'Deployment', 'flywheel-gateway');
    const c = containerOf(deployment);
    const config = loadConfig(envOf(c));
    expect(c.ports).toEqual([{ name: 'http', containerPort: config.gateway.port }]);
    expect(config.gateway.host).toBe('0.0.0.0');
    for (const probe of [c.readinessProbe, c.livenessProbe, c.startupProbe]) expect(probe?.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(fs.readFileSync(path.join(PROJECT_ROOT, 'serving/app.ts'), 'utf8')).toContain("'/healthz'");
    const service = named(defaults, 'Service', 'flywheel-gateway');
    expect(service.spec.selector).toEqual(deployment.spec.selector.matchLabels);
    expect(service.spec.ports[0].targetPort).toBe('http');
    const hpa = named(defaults, 'HorizontalPodAutoscaler', 'flywheel-gateway');
    expect(hpa.apiVersion).toBe('autoscaling/v2');
    expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'flywheel-gateway' });
    expect([hpa.spec.minReplicas, hpa.spec.maxReplicas]).toEqual([3, 15]);
    expect(hpa.spec.metrics[0].resource.name).toBe('cpu');
    expect(deployment.spec.replicas).toBeUndefined();
  });

  it('scales each worker pool with a KEDA temporal trigger on the queue it polls', () => {
    const scaled = of(allOn, 'ScaledObject');
    expect(scaled.map((s) => s.metadata.name).sort()).toEqual(POOLS.map((p) => `flywheel-${p.component}`).sort());
    const auth = named(allOn, 'TriggerAuthentication', 'flywheel-temporal');
    expect(auth.apiVersion).toBe('keda.sh/v1alpha1');
    expect(auth.spec.secretTargetRef.map((r: { parameter: string }) => r.parameter).sort()).toEqual(['ca', 'cert', 'key']);
    for (const pool of POOLS) {
      const so = named(allOn, 'ScaledObject', `flywheel-${pool.component}`);
      const deployment = named(allOn, 'Deployment', so.spec.scaleTargetRef.name);
      const config = loadConfig(envOf(containerOf(deployment)));
      expect(so.apiVersion).toBe('keda.sh/v1alpha1');
      expect(deployment.metadata.name).toBe(`flywheel-${pool.component}`);
      // KEDA owns the replica count; a fixed one would fight its HPA on every apply.
      expect(deployment.spec.replicas).toBeUndefined();
      expect(so.spec.minReplicaCount).toBeGreaterThanOrEqual(0);
      expect(so.spec.maxReplicaCount).toBeGreaterThanOrEqual(Math.max(1, so.spec.minReplicaCount));
      expect(so.spec.triggers).toHaveLength(1);
      const trigger = so.spec.triggers[0];
      expect(trigger.type).toBe('temporal');
      expect(trigger.metadata).toMatchObject({ endpoint: config.temporal.address, namespace: config.temporal.namespace, taskQueue: pool.queue(config), queueTypes: pool.queueType, tlsServerName: 'frontend.temporal.example' });
      expect(Number(trigger.metadata.targetQueueSize)).toBeGreaterThan(0);
      expect(trigger.authenticationRef).toEqual({ name: auth.metadata.name });
    }
  });

  it('never scales the control pool to zero, and the training pool spans 1-5', () => {
    expect(named(allOn, 'ScaledObject', 'flywheel-control-worker').spec.minReplicaCount).toBeGreaterThanOrEqual(1);
    expect(named(allOn, 'ScaledObject', 'flywheel-workflow-worker').spec.minReplicaCount).toBeGreaterThanOrEqual(1);
    const cpu = named(allOn, 'ScaledObject', 'flywheel-cpu-worker').spec;
    expect([cpu.minReplicaCount, cpu.maxReplicaCount]).toEqual([1, 5]);
    const res = run(HELM, ['template', 'flywheel', CHART, ...setArgs(['keda.enabled=true', 'controlWorker.autoscaling.minReplicas=0'])]);
    expect(res.status).not.toBe(0);
    expect(res.stderr).toMatch(/controlWorker\.autoscaling\.minReplicas must be at least 1/);
  });

  it('gives the KEDA trigger the Temporal API key the workers use', () => {
    const { manifests } = render(['keda.enabled=true', 'temporal.apiKey.secretName=temporal-cloud']);
    const auth = named(manifests, 'TriggerAuthentication', 'flywheel-temporal');
    expect(auth.spec.secretTargetRef).toEqual([{ parameter: 'apiKey', name: 'temporal-cloud', key: 'api-key' }]);
    const env = containerOf(named(manifests, 'Deployment', 'flywheel-cpu-worker')).env;
    expect(env.find((e) => e.name === 'TEMPORAL_API_KEY')?.valueFrom?.secretKeyRef).toEqual({ name: 'temporal-cloud', key: 'api-key' });
    expect(loadConfig(envOf(containerOf(named(manifests, 'Deployment', 'flywheel-cpu-worker')))).temporal.apiKey).toBe('operator-set-TEMPORAL_API_KEY');
  });

  it('runs the GPU pool on GPU nodes with an nvidia.com/gpu limit', () => {
    const spec = named(allOn, 'Deployment', 'flywheel-gpu-worker').spec.template.spec;
    expect(spec.containers[0].resources.limits['nvidia.com/gpu']).toBe(1);
    expect(spec.nodeSelector).toBeDefined();
    expect(spec.tolerations).toContainEqual(expect.objectContaining({ key: 'nvidia.com/gpu' }));
    expect(containerOf(named(allOn, 'Deployment', 'flywheel-torch-cpu-worker')).resources?.limits?.['nvidia.com/gpu']).toBeUndefined();
  });

  it('passes the git commit to every process when given, and the image carries it from its build', () => {
    for (const d of of(allOn, 'Deployment')) {
      expect(loadConfig(envOf(containerOf(d))).gitCommit, d.metadata.name).toBe('0123456789abcdef0123456789abcdef01234567');
    }
    expect(fs.readFileSync(path.join(PROJECT_ROOT, 'Dockerfile'), 'utf8')).toMatch(/ARG FLYWHEEL_GIT_COMMIT[\s\S]*ENV FLYWHEEL_GIT_COMMIT=\$FLYWHEEL_GIT_COMMIT/);
  });

  it('gives every pod a data folder of its own: no shared volume (files pass through the store on MLflow)', () => {
    expect(of(defaults, 'PersistentVolumeClaim')).toEqual([]);
    for (const pool of POOLS.filter((p) => p.component !== 'gpu-worker')) {
      const spec = named(defaults, 'Deployment', `flywheel-${pool.component}`).spec.template.spec;
      expect(spec.volumes).toContainEqual({ name: 'data', emptyDir: { sizeLimit: '50Gi' } });
      expect(loadConfig(envOf(spec.containers[0])).fileStore).toBe('mlflow');
      expect(loadConfig(envOf(spec.containers[0])).dataDir).toBe(spec.containers[0].volumeMounts.find((m: { name: string }) => m.name === 'data').mountPath);
    }
  });

  it("renders a PrometheusRule with exactly the repository's alert rules (config/prometheus/rules), only when asked", () => {
    expect(of(defaults, 'PrometheusRule')).toEqual([]);
    const rule = of(allOn, 'PrometheusRule')[0]!;
    expect(rule.apiVersion).toBe('monitoring.coreos.com/v1');
    const dir = path.join(PROJECT_ROOT, 'config/prometheus/rules');
    const files = fs.readdirSync(dir).filter((f) => f.endsWith('.yml')).sort();
    const groups = files.flatMap((f) => (parse(fs.readFileSync(path.join(dir, f), 'utf8')) as { groups: unknown[] }).groups);
    expect(groups.length).toBeGreaterThan(0);
    expect(rule.spec.groups).toEqual(groups);
    for (const group of rule.spec.groups as Array<{ name: string; rules: Array<{ expr: string; alert?: string; record?: string }> }>) {
      expect(group.name).toBeTruthy();
      for (const r of group.rules) expect(Boolean(r.expr) && Boolean(r.alert ?? r.record)).toBe(true);
    }
  });
});
