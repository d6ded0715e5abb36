import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createRng } from '../random';
import { Adwin, type AdwinOptions } from './adwin';

interface RiverRun {
  params: { delta?: number; clock?: number; max_buckets?: number; min_window_length?: number; grace_period?: number };
  detections: number[];
  width: number;
  total: number;
  variance: number;
  estimation: number;
  widthTraceEvery97: number[];
}
const fixture = JSON.parse(readFileSync(new URL('../../test/fixtures/river/adwin.json', import.meta.url), 'utf8')) as {
  versions: { river: string };
  streams: Record<string, { values: number[]; runs: Record<string, RiverRun> }>;
};

function optionsOf(p: RiverRun['params']): AdwinOptions {
  return { delta: p.delta, clock: p.clock, maxBuckets: p.max_buckets, minWindowLength: p.min_window_length, gracePeriod: p.grace_period };
}

function run(values: number[], options: AdwinOptions) {
  const a = new Adwin(Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)));
  const detections: number[] = [];
  const trace: number[] = [];
  values.forEach((v, i) => {
    if (a.update(v).driftDetected) detections.push(i);
    if (i % 97 === 0) trace.push(a.width);
  });
  return { a, detections, trace };
}

describe(`ADWIN against River ${fixture.versions.river}`, () => {
  for (const [name, stream] of Object.entries(fixture.streams)) {
    for (const [config, ref] of Object.entries(stream.runs)) {
      it(`${name} (${config}): identical detections and final window`, () => {
        const { a, detections, trace } = run(stream.values, optionsOf(ref.params));
        expect(detections).toEqual(ref.detections);
        expect(trace).toEqual(ref.widthTraceEvery97);
        expect(a.width).toBe(ref.width);
        expect(a.sum).toBe(ref.total);
        expect(a.variance).toBe(ref.variance);
        expect(a.estimation).toBe(ref.estimation);
        expect(a.nDetections).toBe(ref.detections.length);
      });
    }
  }
});

describe('ADWIN', () => {
  it('keeps River’s statistics: variance is the sum of squared deviations', () => {
    const a = new Adwin();
    for (const v of [1, 2, 3, 4, 5]) a.update(v);
    expect(a.width).toBe(5);
    expect(a.estimation).toBe(3);
    expect(a.variance).toBe(10);
    expect(a.varianceInWindow).toBe(2);
  });

  it('starts afresh on the update after a detection but counts detections cumulatively', () => {
    const a = new Adwin();
    const rng = createRng(1);
    let first = -1;
    for (let i = 0; i < 4000 && first < 0; i++) if (a.update(i < 2000 ? rng.next() * 0.2 : 5 + rng.next()).driftDetected) first = i;
    expect(first).toBeGreaterThan(2000);
    expect(a.driftDetected).toBe(true);
    expect(a.nDetections).toBe(1);
    const widthAtDetection = a.width;
    expect(widthAtDetection).toBeGreaterThan(0);
    a.update(5.5);
    expect(a.driftDetected).toBe(false);
    expect(a.width).toBe(1);
    expect(a.estimation).toBe(5.5);
    expect(a.nDetections).toBe(1);
  });

  it('never checks within the grace period or off the clock', () => {
    const a = new Adwin({ clock: 1, gracePeriod: 100 });
    for (let i = 0; i < 100; i++) expect(a.update(i < 50 ? 0 : 1000).driftDetected).toBe(false);
    const b = new Adwin({ clock: 32, gracePeriod: 0 });
    const hits: number[] = [];
    for (let i = 0; i < 400; i++) if (b.update(i < 100 ? 0 : 1000).driftDetected) hits.push(i);
    expect(hits.length).toBeGreaterThan(0);
    // Detections can only happen on ticks that are multiples of the clock since the last reset.
    expect((hits[0] + 1) % 32).toBe(0);
  });

  it('a snapshot restores a detector that continues exactly like the original', () => {
    const values = fixture.streams.many_switches_bernoulli.values;
    const cut = 23_456;
    const whole = run(values, {}).detections;
    const a = new Adwin();
    const got: number[] = [];
    for (let i = 0; i < cut; i++) if (a.update(values[i]).driftDetected) got.push(i);
    const restored = Adwin.fromJSON(JSON.parse(JSON.stringify(a.toJSON())));
    expect(restored.nDetections).toBe(got.length);
    for (let i = cut; i < values.length; i++) if (restored.update(values[i]).driftDetected) got.push(i);
    expect(got).toEqual(whole);
  });

  it('rejects nonsense parameters', () => {
    expect(() => new Adwin({ delta: 0 })).toThrow(RangeError);
    expect(() => new Adwin({ clock: 0 })).toThrow(RangeError);
    expect(() => new Adwin({ maxBuckets: 1.5 })).toThrow(RangeError);
    expect(() => new Adwin({ gracePeriod: -1 })).toThrow(RangeError);
  });
});
