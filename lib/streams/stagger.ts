/**
 * STAGGER concepts (Schlimmer & Granger 1986) as River's `datasets.synth.STAGGER`: size, colour
 * and shape each in {0, 1, 2}, and three boolean concepts over them. Features are category
 * codes (one-hot them for a linear learner). With `balanceClasses`, samples are redrawn until the
 * labels alternate 1, 0, 1, …
 */
import { createRng, type Rng } from '../random';
import { randint, type DataStream, type Sample } from './types';

export type StaggerFunction = 0 | 1 | 2;

const CONCEPTS: ((size: number, color: number, shape: number) => number)[] = [
  // small and red
  (size, color) => (size === 0 && color === 0 ? 1 : 0),
  // green or circle
  (_size, color, shape) => (color === 2 || shape === 0 ? 1 : 0),
  // medium or large
  (size) => (size === 1 || size === 2 ? 1 : 0),
];

export interface StaggerOptions {
  classificationFunction?: StaggerFunction;
  balanceClasses?: boolean;
  seed?: number;
}

export class Stagger implements DataStream {
  readonly nFeatures = 3;
  readonly nClasses = 2;
  readonly featureNames = ['size', 'color', 'shape'] as const;
  classificationFunction: StaggerFunction;
  readonly balanceClasses: boolean;
  private readonly rng: Rng;
  private nextShouldBeZero = false;

  constructor(options: StaggerOptions = {}) {
    const f = options.classificationFunction ?? 0;
    if (![0, 1, 2].includes(f)) throw new RangeError(`STAGGER classification function must be 0, 1 or 2 (got ${f})`);
    this.classificationFunction = f;
    this.balanceClasses = options.balanceClasses ?? false;
    this.rng = createRng(options.seed ?? 0);
  }

  next(): Sample {
    for (;;) {
      const size = randint(this.rng, 0, 2);
      const color = randint(this.rng, 0, 2);
      const shape = randint(this.rng, 0, 2);
      const y = CONCEPTS[this.classificationFunction](size, color, shape);
      if (this.balanceClasses) {
        if ((y === 0) !== this.nextShouldBeZero) continue;
        this.nextShouldBeZero = !this.nextShouldBeZero;
      }
      return { x: Float64Array.of(size, color, shape), y };
    }
  }

  /** Abrupt drift, as River's `generate_drift`: switch to another concept at random. */
  generateDrift(): void {
    let f = randint(this.rng, 0, 2) as StaggerFunction;
    while (f === this.classificationFunction) f = randint(this.rng, 0, 2) as StaggerFunction;
    this.classificationFunction = f;
  }
}
