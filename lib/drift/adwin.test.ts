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

/**
 * ADWIN written as plainly as River's Rust (no hoisting, no pruning of cuts): the optimised scan
 * must take exactly the same decisions in regimes the River fixtures do not reach.
 */
class PlainAdwin {
  private buckets: { t: number[]; v: number[] }[] = [{ t: [], v: [] }];
  total = 0;
  variance = 0;
  width = 0;
  private tick = 0;
  constructor(private readonly o: { delta: number; clock: number; maxBuckets: number; minWindowLength: number; gracePeriod: number }) {}
  update(x: number): boolean {
    this.buckets[0].t.push(x);
    this.buckets[0].v.push(0);
    this.width += 1;
    let inc = 0;
    if (this.width > 1) {
      const d = x - this.total / (this.width - 1);
      inc = ((this.width - 1) * d * d) / this.width;
    }
    this.variance += inc;
    this.total += x;
    for (let i = 0; this.buckets[i].t.length === this.o.maxBuckets + 1; i++) {
      const b = this.buckets[i];
      const n = Math.pow(2, i);
      const mu1 = b.t[0] / n;
      const mu2 = b.t[1] / n;
      if (i + 1 === this.buckets.length) this.buckets.push({ t: [], v: [] });
      this.buckets[i + 1].t.push(b.t[0] + b.t[1]);
      this.buckets[i + 1].v.push(b.v[0] + b.v[1] + n * 0.5 * (mu1 - mu2) * (mu1 - mu2));
      b.t.splice(0, 2);
      b.v.splice(0, 2);
      if (this.buckets[i + 1].t.length <= this.o.maxBuckets) break;
    }
    this.tick++;
    let change = false;
    if (this.tick % this.o.clock === 0 && this.width > this.o.gracePeriod) {
      let reduce = true;
      while (reduce) {
        reduce = false;
        let n0 = 0;
        let n1 = this.width;
        let u0 = 0;
        let u1 = this.total;
        scan: for (let i = this.buckets.length - 1; i >= 0; i--) {
          const b = this.buckets[i];
          for (let k = 0; k < b.t.length; k++) {
            n0 += Math.pow(2, i);
            n1 -= Math.pow(2, i);
            u0 += b.t[k];
            u1 -= b.t[k];
            if (i === 0 && k === b.t.length - 1) break scan;
            const dm = u0 / n0 - u1 / n1;
            const m = this.o.minWindowLength;
            const dp = Math.log((2 * Math.log(this.width)) / this.o.delta);
            const mr = 1 / (n0 - m + 1) + 1 / (n1 - m + 1);
            const eps = Math.sqrt(2 * mr * (this.variance / this.width) * dp) + (2 / 3) * dp * mr;
            if (n1 >= m && n0 >= m && Math.abs(dm) > eps) {
              reduce = true;
              change = true;
              if (this.width > 0) {
                const last = this.buckets.length - 1;
                const n = Math.pow(2, last);
                const top = this.buckets[last];
                const u = top.t[0];
                this.width -= n;
                this.total -= u;
                const mw = this.total / this.width;
                this.variance -= top.v[0] + (n * this.width * (u / n - mw) * (u / n - mw)) / (n + this.width);
                top.t.shift();
                top.v.shift();
                if (top.t.length === 0) this.buckets.pop();
                break scan;
              }
            }
          }
        }
      }
    }
    return change;
  }
}

describe('ADWIN against a plain transcription of River’s algorithm', () => {
  const configs = [
    { delta: 0.002, clock: 32, maxBuckets: 5, minWindowLength: 5, gracePeriod: 10 },
    { delta: 0.1, clock: 1, maxBuckets: 2, minWindowLength: 1, gracePeriod: 0 },
    { delta: 1e-5, clock: 7, maxBuckets: 9, minWindowLength: 30, gracePeriod: 100 },
  ];
  const streams: [string, (r: ReturnType<typeof createRng>, i: number) => number][] = [
    ['bernoulli with jumps', (r, i) => (r.next() < [0.1, 0.6, 0.3, 0.9][Math.floor(i / 1500) % 4] ? 1 : 0)],
    ['large offset', (r, i) => 1e6 + (i > 3000 ? 0.5 : 0) + 0.1 * r.normal()],
    ['heavy tails', (r) => r.normal() / (r.next() + 1e-3)],
    ['constant', () => 0.25],
  ];
  for (const o of configs) {
    for (const [name, gen] of streams) {
      it(`${name}, ${JSON.stringify(o)}`, () => {
        const rng = createRng(42);
        const fast = new Adwin(o);
        let plain = new PlainAdwin(o);
        let detections = 0;
        for (let i = 0; i < 8000; i++) {
          const x = gen(rng, i);
          if (fast.driftDetected) plain = new PlainAdwin(o);
          const expected = plain.update(x);
          if (fast.update(x).driftDetected !== expected) throw new Error(`decision differs at ${i}`);
          if (expected) detections++;
          if (fast.width !== plain.width || fast.variance !== plain.variance) throw new Error(`state differs at ${i}`);
        }
        expect(fast.nDetections).toBe(detections);
        if (name === 'bernoulli with jumps' || name === 'large offset') expect(detections).toBeGreaterThan(0);
        if (name === 'constant') expect(detections).toBe(0);
      });
    }
  }
});
