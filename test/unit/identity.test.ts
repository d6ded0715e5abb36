import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { apiKeyId, workerIdentity } from '../../clients/identity';

describe('Temporal identities', () => {
  it('takes only the id of an API key, never its secret', () => {
    expect(apiKeyId(`fw_0123456789abcdef_${'s'.repeat(43)}`)).toBe('0123456789abcdef');
    expect(apiKeyId('eyJhbGciOiJSUzI1NiJ9.e30.sig')).toBeUndefined();
    expect(apiKeyId('fw_short_x')).toBeUndefined();
    expect(apiKeyId(undefined)).toBeUndefined();
  });

  it('names a worker by its role, process and host', () => {
    expect(workerIdentity('cpu-worker')).toBe(`flywheel-cpu-worker:${process.pid}@${os.hostname()}`);
  });
});
