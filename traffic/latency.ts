/** Latency samples and their summary; every sample is kept (a few hundred thousand at most). */

export interface LatencySummary {
  count: number;
  meanMs: number;
  p50Ms: number;
  p90Ms: number;
  p95Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
}

export class LatencyRecorder {
  private samples: number[] = [];

  add(ms: number): void {
    this.samples.push(ms);
  }

  get count(): number {
    return this.samples.length;
  }

  summary(): LatencySummary {
    const s = Float64Array.from(this.samples).sort();
    const at = (q: number) => (s.length ? s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]! : 0);
    const round = (v: number) => Math.round(v * 1000) / 1000;
    const mean = s.length ? s.reduce((a, b) => a + b, 0) / s.length : 0;
    return {
      count: s.length,
      meanMs: round(mean),
      p50Ms: round(at(0.5)),
      p90Ms: round(at(0.9)),
      p95Ms: round(at(0.95)),
      p99Ms: round(at(0.99)),
      p999Ms: round(at(0.999)),
      maxMs: round(s.length ? s[s.length - 1]! : 0),
    };
  }
}
