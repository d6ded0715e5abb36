import { describe, expect, it } from 'vitest';
import { apiKeyId, credentialOf, grants, looksLikeJwt, parseScopes, scopesFromClaims } from './credentials';

describe('credentials', () => {
  it('parses scopes and names a bad one', () => {
    expect(parseScopes('predict, feedback,predict')).toEqual({ ok: true, value: ['predict', 'feedback'] });
    expect(parseScopes('predict,root')).toEqual({ ok: false, message: expect.stringContaining("'root'") });
    expect(parseScopes(' ')).toMatchObject({ ok: false });
  });

  it('admin grants every scope, others only themselves', () => {
    expect(grants(new Set(['admin']), 'feedback')).toBe(true);
    expect(grants(new Set(['predict']), 'feedback')).toBe(false);
    expect(grants(new Set(['feedback']), 'feedback')).toBe(true);
  });

  it('recognises API keys and JWTs', () => {
    const key = `fw_0123456789abcdef_${'A'.repeat(43)}`;
    expect(apiKeyId(key)).toBe('0123456789abcdef');
    expect(apiKeyId(`${key}x`)).toBeUndefined();
    expect(apiKeyId('fw_short_x')).toBeUndefined();
    expect(looksLikeJwt('eyJh.eyJz.sig-_')).toBe(true);
    expect(looksLikeJwt('not a jwt')).toBe(false);
  });

  it('maps realm roles, client roles and the scope claim', () => {
    const claims = {
      realm_access: { roles: ['predict', 'offline_access', 'default-roles-flywheel'] },
      resource_access: { 'flywheel-gateway': { roles: ['flywheel:feedback'] }, other: { roles: ['admin'] } },
      scope: 'openid flywheel-metrics profile',
    };
    expect([...scopesFromClaims(claims, 'flywheel-gateway')].sort()).toEqual(['feedback', 'metrics', 'predict']);
    expect(scopesFromClaims({ scope: 'email' }, 'x').size).toBe(0);
  });

  it('reads the bearer or x-api-key header', () => {
    expect(credentialOf({ authorization: 'Bearer abc' })).toEqual({ ok: true, token: 'abc' });
    expect(credentialOf({ authorization: 'Basic abc' })).toMatchObject({ ok: false });
    expect(credentialOf({ 'x-api-key': 'k' })).toEqual({ ok: true, token: 'k' });
    expect(credentialOf({})).toEqual({ ok: true, token: undefined });
  });
});
