import { describe, expect, it } from 'vitest';
import { Sea } from '../streams/sea';
import { decide } from './decision';
import { ErrorMonitor } from './error-monitor';
import { checkDriftMonitor, checkRetraining } from './spec';

const q = { cpu: 'cpu' };

describe('decide', () => {
  const champion = { accuracy: 0.9, logLoss: 0.3 };
  it('canaries a challenger better by more than the margin, and says by how much', () => {
    const d = decide('logLoss', 0.01, champion, { accuracy: 0.92, logLoss: 0.25 }, { champion: '1', challenger: '2' });
    expect(d.kind).toBe('canary');
    expect(d.reason).toMatch(/^challenger v2 is better by 0\.0500 \(> margin 0\.01\): logLoss 0\.2500 vs champion v1's 0\.3000/);
  });
  it('keeps the champion when the gain is within the margin, or a loss', () => {
    expect(decide('logLoss', 0.01, champion, { accuracy: 0.9, logLoss: 0.295 }, { champion: '1', challenger: '2' }).kind).toBe('keep-champion');
    const d = decide('accuracy', 0, champion, { accuracy: 0.9, logLoss: 0.1 }, { champion: '1', challenger: '2' });
    expect(d).toMatchObject({ kind: 'keep-champion', improvement: 0 });
    expect(d.reason).toMatch(/accuracy must be higher by more than 0/);
  });
  it('never canaries a challenger with a non-finite score', () => {
    expect(decide('logLoss', 0, champion, { accuracy: 1, logLoss: NaN }, { champion: '1', challenger: '2' }).kind).toBe('keep-champion');
  });
});

describe('ErrorMonitor', () => {
  /** Errors of a fixed classifier (θ = 8) on SEA: concept 0 then concept 3 from `change` on. */
  function errorStream(n: number, change: number): number[] {
    const a = new Sea({ variant: 0, seed: 1 });
    const b = new Sea({ variant: 3, seed: 2 });
    return Array.from({ length: n }, (_, i) => {
      const s = (i < change ? a : b).next();
      return (s.x[0]! + s.x[1]! > 8 ? 1 : 0) === s.y ? 0 : 1;
    });
  }

  it('finds the rise after a SEA concept change once, as an increase, and survives JSON', () => {
    const errors = errorStream(4000, 2000);
    const m = ErrorMonitor.create(0.002);
    const first = m.feed(errors.slice(0, 2500));
    const resumed = ErrorMonitor.fromJSON(JSON.parse(JSON.stringify(m.toJSON())));
    const changes = [...first, ...resumed.feed(errors.slice(2500))];
    const rises = changes.filter((c) => c.direction === 'increase');
    expect(rises).toHaveLength(1);
    expect(rises[0]!.sample).toBeGreaterThan(2000);
    expect(rises[0]!.sample).toBeLessThan(2400);
    expect(rises[0]!.after).toBeGreaterThan(rises[0]!.before);
    // Same decisions split or not.
    expect(ErrorMonitor.create(0.002).feed(errors)).toEqual(changes);
  });

  it('calls a fall a decrease', () => {
    const m = ErrorMonitor.create(0.002);
    const changes = m.feed([...Array(1000).fill(0).map((_, i) => (i % 4 === 0 ? 1 : 0)), ...Array(1000).fill(0)]);
    expect(changes.length).toBeGreaterThan(0);
    expect(changes.every((c) => c.direction === 'decrease')).toBe(true);
  });
});

describe('input checks', () => {
  it('names the field', () => {
    expect(checkRetraining({ model: 'm', dataset: 'builtin:iris', margin: -1, taskQueues: q })).toEqual({ ok: false, message: 'margin must be a number >= 0 and < 1 (got -1)' });
    expect(checkRetraining({ model: 'm', dataset: 'builtin:iris', metric: 'f1' as never, taskQueues: q })).toEqual({ ok: false, message: 'metric must be logLoss or accuracy (got f1)' });
    expect(checkRetraining({ model: 'm', dataset: 'builtin:iris', canary: { steps: [{ weight: 0, pauseSeconds: 1 }] }, taskQueues: q })).toMatchObject({ ok: false, message: /^canary: steps\[0\]\.weight/ });
    expect(checkDriftMonitor({ model: 'm', retraining: { dataset: 'builtin:iris' }, delta: 2, taskQueues: q })).toEqual({ ok: false, message: 'delta must be > 0 and < 1 (got 2)' });
    expect(checkRetraining({ model: 'm', dataset: 'builtin:iris', taskQueues: q })).toMatchObject({ ok: true, value: { margin: 0.01, metric: 'logLoss', trigger: { kind: 'manual' } } });
  });
});

describe('schedule flags', () => {
  it('take exactly one of --cron and --every, named in the message', async () => {
    const { parseWhen, parseOverlap, overlapConstant } = await import('./schedule-spec');
    expect(parseWhen({ cron: '0 2 * * *' })).toEqual({ ok: true, value: { kind: 'cron', expression: '0 2 * * *' } });
    expect(parseWhen({ every: '24h' })).toEqual({ ok: true, value: { kind: 'every', ms: 86_400_000, text: '24h' } });
    expect(parseWhen({})).toMatchObject({ ok: false, message: 'give exactly one of --cron "0 2 * * *" or --every 24h' });
    expect(parseWhen({ cron: '0 2 * *', every: '1h' })).toMatchObject({ ok: false });
    expect(parseWhen({ cron: '0 2 * *' })).toMatchObject({ ok: false, message: /^--cron: "0 2 \* \*" must have 5 fields/ });
    expect(parseWhen({ every: 'daily' })).toMatchObject({ ok: false, message: /^--every: "daily" must be a duration/ });
    expect(parseWhen({ every: '30s' })).toMatchObject({ ok: false, message: /shorter than a minute/ });
    expect(parseOverlap('buffer-one')).toEqual({ ok: true, value: 'buffer-one' });
    expect(parseOverlap('queue')).toMatchObject({ ok: false, message: /^--overlap: "queue" is not a policy/ });
    expect(overlapConstant('terminate-other')).toBe('TERMINATE_OTHER');
  });
});
