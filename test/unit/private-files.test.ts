import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { privateMode, tightenDataFolder } from '../../scripts/stack/private-files';

const made: string[] = [];
afterEach(() => {
  for (const d of made.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

const mode = (p: string) => (fs.statSync(p).mode & 0o777).toString(8);

describe('privateMode', () => {
  it('gives folders 0700 (0711 when another user must pass through) and files 0600, keeping execute', () => {
    expect(privateMode(0o755, true, false)).toBe(0o700);
    expect(privateMode(0o755, true, true)).toBe(0o711);
    expect(privateMode(0o644, false, false)).toBe(0o600);
    expect(privateMode(0o755, false, false)).toBe(0o700);
  });
});

describe('tightenDataFolder', () => {
  it('closes everything to group and others, except what it is told to leave', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'fw-private-'));
    made.push(root);
    fs.chmodSync(root, 0o755);
    fs.mkdirSync(path.join(root, 'datasets', 'nested'), { recursive: true, mode: 0o777 });
    fs.chmodSync(path.join(root, 'datasets'), 0o777);
    fs.writeFileSync(path.join(root, 'datasets', 'nested', 'd.csv'), 'x', { mode: 0o666 });
    fs.writeFileSync(path.join(root, 'temporal.sqlite'), 'x', { mode: 0o644 });
    fs.writeFileSync(path.join(root, 'tool'), 'x', { mode: 0o755 });
    fs.mkdirSync(path.join(root, 'logs'), { mode: 0o755 });
    fs.mkdirSync(path.join(root, 'cluster'), { mode: 0o750 });
    fs.writeFileSync(path.join(root, 'cluster', 'owned-elsewhere'), 'x', { mode: 0o640 });
    fs.symlinkSync(path.join(root, 'temporal.sqlite'), path.join(root, 'link'));

    const changed = await tightenDataFolder(root, { traversable: [root, path.join(root, 'logs')], skip: [path.join(root, 'cluster')] });

    expect(mode(root)).toBe('711');
    expect(mode(path.join(root, 'logs'))).toBe('711');
    expect(mode(path.join(root, 'datasets'))).toBe('700');
    expect(mode(path.join(root, 'datasets', 'nested'))).toBe('700');
    expect(mode(path.join(root, 'datasets', 'nested', 'd.csv'))).toBe('600');
    expect(mode(path.join(root, 'temporal.sqlite'))).toBe('600');
    expect(mode(path.join(root, 'tool'))).toBe('700');
    expect(mode(path.join(root, 'cluster'))).toBe('750');
    expect(mode(path.join(root, 'cluster', 'owned-elsewhere'))).toBe('640');
    expect(changed).toBe(7);
    // A second pass finds nothing left to do.
    expect(await tightenDataFolder(root, { traversable: [root, path.join(root, 'logs')], skip: [path.join(root, 'cluster')] })).toBe(0);
  });
});
