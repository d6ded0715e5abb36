import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { PRODUCTION_DYNAMIC_CONFIG, renderProductionTemporalConfig, servicePorts } from '../../scripts/production-temporal/config';

describe('the production Temporal configuration', () => {
  const input = {
    ports: { frontend: 7733 },
    postgres: { host: '127.0.0.1', port: 5433, user: 'flywheel_temporal', password: 'p"w:#x' },
    databases: { history: 'temporal', visibility: 'temporal_visibility' },
    dynamicConfigFile: '/data/production-temporal/dynamicconfig.yaml',
  };

  it('puts history and visibility in PostgreSQL with the login as given, however it is spelt', () => {
    const doc = parse(renderProductionTemporalConfig(input));
    expect(doc.persistence).toMatchObject({ defaultStore: 'postgres-default', visibilityStore: 'postgres-visibility', numHistoryShards: 4 });
    expect(doc.persistence.datastores['postgres-default'].sql).toMatchObject({ pluginName: 'postgres12', databaseName: 'temporal', connectAddr: '127.0.0.1:5433', user: 'flywheel_temporal', password: 'p"w:#x' });
    expect(doc.persistence.datastores['postgres-visibility'].sql.databaseName).toBe('temporal_visibility');
    expect(doc.dynamicConfigClient.filepath).toBe(input.dynamicConfigFile);
  });

  it('gives every service its own loopback ports, none shared, clients at the frontend', () => {
    const doc = parse(renderProductionTemporalConfig(input));
    const used = Object.values(doc.services as Record<string, { rpc: { grpcPort: number; membershipPort: number; bindOnLocalHost: boolean } }>).flatMap((s) => {
      expect(s.rpc.bindOnLocalHost).toBe(true);
      return [s.rpc.grpcPort, s.rpc.membershipPort];
    });
    expect(new Set(used).size).toBe(used.length);
    expect(doc.services.frontend.rpc.grpcPort).toBe(7733);
    expect(doc.clusterMetadata.clusterInformation.active.rpcAddress).toBe('127.0.0.1:7733');
    expect(doc.global.metrics.prometheus.listenAddress).toBe(`127.0.0.1:${servicePorts(7733).metrics.grpc}`);
  });

  it('turns on the Updates Flywheel uses', () => {
    expect(parse(PRODUCTION_DYNAMIC_CONFIG)['frontend.enableUpdateWorkflowExecution']).toEqual([{ value: true }]);
  });
});
