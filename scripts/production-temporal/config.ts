/**
 * The configuration of a production-shaped Temporal server: the server binary built from its Go
 * module (`go.temporal.io/server`), history and visibility in PostgreSQL (the `postgres12` plugin),
 * every service in one process on loopback. It differs from the dev server Flywheel runs by default
 * in exactly what production changes: SQL persistence with its own schema tool and versioned
 * schema, several history shards, separate service ports and membership, dynamic config from a file.
 * Pure: the caller writes the text where the server reads it.
 */
export interface ProductionTemporalPorts {
  /** gRPC of the frontend: what clients and workers dial. The others follow it. */
  frontend: number;
}

export interface ProductionTemporalConfigInput {
  ports: ProductionTemporalPorts;
  postgres: { host: string; port: number; user: string; password: string };
  databases: { history: string; visibility: string };
  dynamicConfigFile: string;
  historyShards?: number;
}

/** Service ports as offsets from the frontend's, like the stock config's 7233/7234/7235/7239. */
export function servicePorts(frontend: number): Record<'frontend' | 'history' | 'matching' | 'worker' | 'http' | 'metrics', { grpc: number; membership: number }> {
  const m = frontend - 1000; // membership ports: 6933-style, 1,000 below
  return {
    frontend: { grpc: frontend, membership: m },
    history: { grpc: frontend + 1, membership: m + 1 },
    matching: { grpc: frontend + 2, membership: m + 2 },
    worker: { grpc: frontend + 6, membership: m + 6 },
    http: { grpc: frontend + 10, membership: 0 },
    metrics: { grpc: frontend + 767, membership: 0 },
  };
}

const quote = (s: string) => JSON.stringify(s); // a JSON string is a valid YAML scalar

export function renderProductionTemporalConfig(c: ProductionTemporalConfigInput): string {
  const p = servicePorts(c.ports.frontend);
  const store = (database: string, conns: number) => `      sql:
        pluginName: "postgres12"
        databaseName: ${quote(database)}
        connectAddr: ${quote(`${c.postgres.host}:${c.postgres.port}`)}
        connectProtocol: "tcp"
        user: ${quote(c.postgres.user)}
        password: ${quote(c.postgres.password)}
        maxConns: ${conns}
        maxIdleConns: ${conns}
        maxConnLifetime: "1h"`;
  const service = (name: 'frontend' | 'history' | 'matching' | 'worker', extra = '') => `  ${name}:
    rpc:
      grpcPort: ${p[name].grpc}
      membershipPort: ${p[name].membership}
      bindOnLocalHost: true${extra}`;
  return `# Written by scripts/production-temporal (do not edit: rewritten on every start).
log:
  stdout: true
  level: warn

persistence:
  defaultStore: postgres-default
  visibilityStore: postgres-visibility
  numHistoryShards: ${c.historyShards ?? 4}
  datastores:
    postgres-default:
${store(c.databases.history, 20)}
    postgres-visibility:
${store(c.databases.visibility, 4)}

global:
  membership:
    maxJoinDuration: 30s
    broadcastAddress: "127.0.0.1"
  metrics:
    prometheus:
      framework: "tally"
      timerType: "histogram"
      listenAddress: ${quote(`127.0.0.1:${p.metrics.grpc}`)}

services:
${service('frontend', `\n      httpPort: ${p.http.grpc}`)}
${service('matching')}
${service('history')}
${service('worker')}

clusterMetadata:
  enableGlobalNamespace: false
  failoverVersionIncrement: 10
  masterClusterName: "active"
  currentClusterName: "active"
  clusterInformation:
    active:
      enabled: true
      initialFailoverVersion: 1
      rpcName: "frontend"
      rpcAddress: ${quote(`127.0.0.1:${p.frontend.grpc}`)}

dcRedirectionPolicy:
  policy: "noop"

dynamicConfigClient:
  filepath: ${quote(c.dynamicConfigFile)}
  pollInterval: "10s"
`;
}

/**
 * Dynamic config: what Flywheel relies on that a stock server may leave off. Workflow Updates
 * (knowledge review, canary promote) and long ids (workflow ids carry model names).
 */
export const PRODUCTION_DYNAMIC_CONFIG = `frontend.enableUpdateWorkflowExecution:
  - value: true
frontend.enableUpdateWorkflowExecutionAsyncAccepted:
  - value: true
limit.maxIDLength:
  - value: 255
    constraints: {}
system.forceSearchAttributesCacheRefreshOnRead:
  - value: true
    constraints: {}
`;
