/**
 * docker-compose.temporal.yml must agree with the code: Flywheel services set only variables that
 * config/index.ts reads, ports are the config defaults the CLI expects, MLflow accepts the Host
 * header the workers send, and the GPU pool reserves an NVIDIA device.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ENV_VARIABLES, loadConfig, PROJECT_ROOT, SHUTDOWN_FORCE_MARGIN_SECONDS } from '../../config/index';
import { SEARCH_ATTRIBUTE_FLAGS } from '../../config/search-attributes';

const COMPOSE_FILE = path.join(PROJECT_ROOT, 'docker-compose.temporal.yml');
const FLYWHEEL_SERVICES = ['migrate', 'workflow-worker', 'cpu-worker', 'control-worker', 'gpu-worker', 'torch-cpu-worker'];

interface Service {
  image?: string;
  build?: unknown;
  environment?: Record<string, unknown> | string[];
  ports?: Array<string | { target: number; published: string | number }>;
  command?: string | string[];
  stop_grace_period?: string;
  volumes?: string[];
  deploy?: { resources?: { reservations?: { devices?: Array<{ driver?: string; capabilities?: string[] }> } } };
}

// Compose honours YAML merge keys (`<<: *flywheel-env`); the yaml package does when asked.
const compose = parse(fs.readFileSync(COMPOSE_FILE, 'utf8'), { merge: true }) as { services: Record<string, Service> };
const defaults = loadConfig({});

/**
 * A service's environment as compose would fill it in: `${VAR:-default}` with VAR unset, and a
 * required `${VAR:?message}` with the value an operator set (a stand-in here).
 */
function envOf(service: Service): Record<string, string> {
  const env = service.environment ?? {};
  const pairs = Array.isArray(env) ? env.map((e) => [e.split('=')[0]!, e.slice(e.indexOf('=') + 1)]) : Object.entries(env);
  return Object.fromEntries(
    pairs.map(([k, v]) => [k, String(v).replace(/\$\{[A-Za-z_]+:-([^}]*)\}/g, '$1').replace(/\$\{([A-Za-z_]+):\?[^}]*\}/g, 'operator-set-$1')]),
  );
}

/** Every `${VAR…}` reference in the file, with its operator (`:-` default, `:?` required, none). */
function references(text: string): Array<{ name: string; op: string; rest: string }> {
  return [...text.matchAll(/\$\{([A-Za-z_]+)(:[-?])?([^}]*)\}/g)].map((m) => ({ name: m[1]!, op: m[2] ?? '', rest: m[3] ?? '' }));
}

/** Host ports a service publishes, from "7233:7233", "127.0.0.1:5433:5432" or the long form. */
function publishedPorts(service: Service): number[] {
  return (service.ports ?? []).map((p) => {
    if (typeof p === 'object') return Number(p.published);
    const parts = p.split(':');
    return Number(parts[parts.length - 2]);
  });
}

function commandText(service: Service): string {
  return Array.isArray(service.command) ? service.command.join(' ') : (service.command ?? '');
}

describe('docker-compose.temporal.yml', () => {
  it('has every Flywheel service', () => {
    expect(Object.keys(compose.services)).toEqual(expect.arrayContaining([...FLYWHEEL_SERVICES, 'postgres', 'temporal', 'temporal-ui', 'mlflow']));
  });

  it.each(FLYWHEEL_SERVICES)('%s keeps its data folder to itself: an anonymous volume per container, no shared one', (name) => {
    const dataDir = loadConfig(envOf(compose.services[name]!)).dataDir;
    const mounts = (compose.services[name]!.volumes ?? []).filter((v) => v.split(':').includes(dataDir));
    // `/data` alone is anonymous: every replica gets its own; `name:/data` would be one volume for all.
    for (const m of mounts) expect(m).toBe(dataDir);
  });

  it.each(FLYWHEEL_SERVICES)('%s sets only variables config/index.ts reads', (name) => {
    const unknown = Object.keys(envOf(compose.services[name]!)).filter((k) => !(ENV_VARIABLES as readonly string[]).includes(k));
    expect(unknown).toEqual([]);
  });

  it.each(FLYWHEEL_SERVICES)('%s gives a configuration that loads', (name) => {
    expect(() => loadConfig(envOf(compose.services[name]!))).not.toThrow();
  });

  it('publishes the ports the CLI expects by default', () => {
    const temporalPort = Number(defaults.temporal.address.split(':').pop());
    expect(publishedPorts(compose.services.temporal!)).toContain(temporalPort);
    expect(publishedPorts(compose.services['temporal-ui']!)).toContain(defaults.temporal.uiPort);
    expect(publishedPorts(compose.services.mlflow!)).toContain(defaults.mlflow.port);
    expect([temporalPort, defaults.temporal.uiPort, defaults.mlflow.port]).toEqual([7233, 8233, 5000]);
  });

  it("runs the PyTorch pool's CPU queue without the gpu profile, so torch training never waits for a worker that is not there", () => {
    const svc = compose.services['torch-cpu-worker'] as Service & { profiles?: string[] };
    expect(svc.profiles ?? []).toEqual([]);
    expect(commandText(svc)).toMatch(/--device cpu/);
  });

  it('builds the Node image with the git commit it was built from (lineage), and never silently "unknown"', () => {
    for (const name of ['migrate', 'workflow-worker', 'cpu-worker', 'control-worker', 'gateway']) {
      const build = compose.services[name]!.build as { args?: Record<string, string> };
      expect(build.args?.FLYWHEEL_GIT_COMMIT).toMatch(/^\$\{FLYWHEEL_GIT_COMMIT:\?/);
    }
    expect(fs.readFileSync(path.join(PROJECT_ROOT, 'Dockerfile'), 'utf8')).toMatch(/ARG FLYWHEEL_GIT_COMMIT[\s\S]*ENV FLYWHEEL_GIT_COMMIT=\$FLYWHEEL_GIT_COMMIT/);
  });

  it('has no default for any password or secret: compose refuses to start without them', () => {
    const secrets = references(fs.readFileSync(COMPOSE_FILE, 'utf8')).filter((r) => /PASSWORD|SECRET|TOKEN/.test(r.name));
    expect(secrets.length).toBeGreaterThan(5);
    expect(secrets.filter((r) => r.op !== ':?')).toEqual([]);
  });

  it('publishes ports on loopback only', () => {
    const wide = Object.entries(compose.services).flatMap(([name, svc]) =>
      (svc.ports ?? []).filter((p) => (typeof p === 'object' ? true : !p.startsWith('127.0.0.1:'))).map((p) => `${name}: ${JSON.stringify(p)}`),
    );
    expect(wide).toEqual([]);
  });

  it('runs MLflow with its basic-auth app and gives Flywheel a login for it', () => {
    expect(commandText(compose.services.mlflow!)).toMatch(/--app-name[= ]basic-auth/);
    const env = envOf(compose.services['cpu-worker']!);
    const config = loadConfig(env);
    expect(config.mlflow.auth).toEqual({ username: 'flywheel', password: 'operator-set-MLFLOW_ADMIN_PASSWORD' });
  });

  it("logs Flywheel and MLflow in as roles of their own, never the server's superuser", () => {
    const flywheel = new URL(envOf(compose.services['cpu-worker']!).DATABASE_URL!);
    const mlflow = new URL(envOf(compose.services.mlflow!).MLFLOW_BACKEND_STORE_URI!);
    const superuser = envOf(compose.services.postgres!).POSTGRES_USER;
    expect([flywheel.username, mlflow.username]).toEqual(['flywheel', 'flywheel_mlflow']);
    // Backups (CPU workers) dump MLflow's store with its own role, which is the one allowed in.
    expect(new URL(loadConfig(envOf(compose.services['cpu-worker']!)).postgres.mlflowUrl).username).toBe('flywheel_mlflow');
    expect(superuser).toBe('postgres');
    expect(commandText(compose.services['postgres-init']!)).toMatch(/NOSUPERUSER NOCREATEDB NOCREATEROLE/);
  });

  it('lets the workers through MLflow host checking', () => {
    const tracking = new URL(envOf(compose.services['cpu-worker']!).MLFLOW_TRACKING_URI!);
    const allowed = /--allowed-hosts[= ](\S+)/.exec(commandText(compose.services.mlflow!))?.[1]?.split(',') ?? [];
    expect(allowed).toContain(tracking.host);
  });

  it('points the workers at the compose services', () => {
    const env = envOf(compose.services['workflow-worker']!);
    expect(Object.keys(compose.services)).toContain(env.TEMPORAL_ADDRESS!.split(':')[0]);
    expect(Object.keys(compose.services)).toContain(new URL(env.MLFLOW_TRACKING_URI!).hostname);
    expect(Object.keys(compose.services)).toContain(new URL(env.DATABASE_URL!).hostname);
  });

  it('registers the search attributes the workflows set', () => {
    const setup = commandText(compose.services['temporal-setup']!);
    for (const flag of SEARCH_ATTRIBUTE_FLAGS) expect(setup).toContain(flag.split('=')[0]);
  });

  it('runs a control worker on the control queue, apart from the CPU pool', () => {
    const control = compose.services['control-worker']!;
    expect(commandText(control)).toContain('workers/control-worker.ts');
    const env = loadConfig(envOf(control));
    expect(env.taskQueues.control).toBe(defaults.taskQueues.control);
    expect(env.taskQueues.control).not.toBe(env.taskQueues.cpu);
  });

  it.each(['workflow-worker', 'cpu-worker', 'control-worker', 'gpu-worker'])('lets %s drain on stop: stop_grace_period covers grace time + force margin', (name) => {
    const service = compose.services[name]!;
    const grace = loadConfig(envOf(service)).shutdownGraceSeconds;
    const m = /^(\d+)s$/.exec(service.stop_grace_period ?? '');
    expect(m, `${name} has no stop_grace_period in seconds`).not.toBeNull();
    expect(Number(m![1])).toBeGreaterThan(grace + SHUTDOWN_FORCE_MARGIN_SECONDS);
  });

  it('reserves an NVIDIA GPU for the GPU worker', () => {
    const devices = compose.services['gpu-worker']!.deploy?.resources?.reservations?.devices ?? [];
    expect(devices).toContainEqual(expect.objectContaining({ driver: 'nvidia', capabilities: expect.arrayContaining(['gpu']) }));
  });

  const probe = spawnSync('docker', ['compose', 'version'], { encoding: 'utf8' });
  const hasCompose = probe.status === 0;
  const why = probe.error ? 'docker client not installed' : 'docker compose plugin not installed';
  it.skipIf(!hasCompose)(`is valid for docker compose config -q${hasCompose ? '' : ` (skipped: ${why})`}`, () => {
    const res = spawnSync('docker', ['compose', '-f', COMPOSE_FILE, '--profile', 'gpu', 'config', '-q'], { encoding: 'utf8' });
    expect(res.stderr).toBe('');
    expect(res.status).toBe(0);
  });
});
