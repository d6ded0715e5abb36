/**
 * Agrawal et al.'s (1993) loan-applicant generator as River's `datasets.synth.Agrawal`: nine
 * features (salary, commission, age, elevel, car, zipcode, hvalue, hyears, loan) and ten
 * labelling functions; switching function is abrupt drift, `perturbation` adds feature noise.
 *
 * River's definitions are kept even where they look off, so that results compare with River's:
 * function 4 tests `200000 <= salary` (never true: salaries stop at 150000) where loan was
 * probably meant, and the hvalue perturbation passes its bounds in MOA's order to River's helper
 * (min (9 − zipcode)·100000, max 0, range 135000), so a perturbed hvalue is always clamped: to
 * (9 − zipcode)·100000, or to 0 when it would reach that. Only function 9 reads hvalue.
 */
import { createRng, type Rng } from '../random';
import { randint, type DataStream, type Sample } from './types';

export type AgrawalFunction = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9;

type Row = { salary: number; commission: number; age: number; elevel: number; car: number; zipcode: number; hvalue: number; hyears: number; loan: number };

const between = (lo: number, v: number, hi: number): boolean => lo <= v && v <= hi;

const FUNCTIONS: ((r: Row) => number)[] = [
  (r) => Number(r.age < 40 || 60 <= r.age),
  (r) => Number(r.age < 40 ? between(50000, r.salary, 100000) : r.age < 60 ? between(75000, r.salary, 125000) : between(25000, r.salary, 75000)),
  (r) => Number(r.age < 40 ? r.elevel === 0 || r.elevel === 1 : r.age < 60 ? r.elevel >= 1 && r.elevel <= 3 : r.elevel >= 2 && r.elevel <= 4),
  (r) => {
    if (r.age < 40) return Number(r.elevel === 0 || r.elevel === 1 ? between(25000, r.salary, 75000) : between(50000, r.salary, 100000));
    if (r.age < 60) return Number(r.elevel >= 1 && r.elevel <= 3 ? between(50000, r.salary, 100000) : between(75000, r.salary, 125000));
    return Number(r.elevel >= 2 && r.elevel <= 4 ? between(50000, r.salary, 100000) : between(25000, r.salary, 75000));
  },
  (r) => {
    if (r.age < 40) return Number(between(50000, r.salary, 100000) ? between(100000, r.loan, 300000) : between(200000, r.salary, 400000));
    if (r.age < 60) return Number(between(75000, r.salary, 125000) ? 200000 <= r.salary && r.loan <= 400000 : between(300000, r.salary, 500000));
    return Number(between(25000, r.salary, 75000) ? between(300000, r.loan, 500000) : between(75000, r.loan, 300000));
  },
  (r) => {
    const total = r.salary + r.commission;
    return Number(r.age < 40 ? between(50000, total, 100000) : r.age < 60 ? between(75000, total, 125000) : between(25000, total, 75000));
  },
  (r) => ((2 * (r.salary + r.commission)) / 3 - r.loan / 5 - 20000 > 1 ? 0 : 1),
  (r) => ((2 * (r.salary + r.commission)) / 3 - 5000 * r.elevel - 20000 > 1 ? 0 : 1),
  (r) => ((2 * (r.salary + r.commission)) / 3 - 5000 * r.elevel - r.loan / 5 - 10000 > 1 ? 0 : 1),
  (r) => {
    const equity = r.hyears >= 20 ? (r.hvalue * (r.hyears - 20)) / 10 : 0;
    return (2 * (r.salary + r.commission)) / 3 - 5000 * r.elevel + equity / 5 - 10000 > 1 ? 0 : 1;
  },
];

/** Python's round(): halves to even. */
export function roundHalfEven(v: number): number {
  const f = Math.floor(v);
  const diff = v - f;
  if (diff > 0.5) return f + 1;
  if (diff < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

export interface AgrawalOptions {
  classificationFunction?: AgrawalFunction;
  balanceClasses?: boolean;
  /** Feature noise in [0, 1]: each numeric feature moves by up to ±perturbation of its range. */
  perturbation?: number;
  seed?: number;
}

export class Agrawal implements DataStream {
  readonly nFeatures = 9;
  readonly nClasses = 2;
  readonly featureNames = ['salary', 'commission', 'age', 'elevel', 'car', 'zipcode', 'hvalue', 'hyears', 'loan'] as const;
  classificationFunction: AgrawalFunction;
  readonly balanceClasses: boolean;
  readonly perturbation: number;
  private readonly rng: Rng;
  private nextShouldBeZero = false;

  constructor(options: AgrawalOptions = {}) {
    const f = options.classificationFunction ?? 0;
    if (!Number.isInteger(f) || f < 0 || f > 9) throw new RangeError(`Agrawal classification function must be 0–9 (got ${f})`);
    const p = options.perturbation ?? 0;
    if (!(p >= 0 && p <= 1)) throw new RangeError(`perturbation must be in [0, 1] (got ${p})`);
    this.classificationFunction = f;
    this.balanceClasses = options.balanceClasses ?? false;
    this.perturbation = p;
    this.rng = createRng(options.seed ?? 0);
  }

  next(): Sample {
    const r = this.rng;
    let row: Row;
    let y: number;
    for (;;) {
      const salary = 20000 + 130000 * r.next();
      const commission = salary >= 75000 ? 0 : 10000 + 75000 * r.next();
      const age = randint(r, 20, 80);
      const elevel = randint(r, 0, 4);
      const car = randint(r, 1, 20);
      const zipcode = randint(r, 0, 8);
      const hvalue = (8 - zipcode) * 100000 * (0.5 + r.next());
      const hyears = randint(r, 1, 30);
      const loan = r.next() * 500000;
      row = { salary, commission, age, elevel, car, zipcode, hvalue, hyears, loan };
      y = FUNCTIONS[this.classificationFunction](row);
      if (!this.balanceClasses) break;
      if ((y === 0) === this.nextShouldBeZero) {
        this.nextShouldBeZero = !this.nextShouldBeZero;
        break;
      }
    }
    if (this.perturbation > 0) {
      row.salary = this.perturb(row.salary, 20000, 150000);
      if (row.commission > 0) row.commission = this.perturb(row.commission, 10000, 75000);
      row.age = roundHalfEven(this.perturb(row.age, 20, 80));
      row.hvalue = this.perturb(row.hvalue, (9 - row.zipcode) * 100000, 0, 135000);
      row.hyears = roundHalfEven(this.perturb(row.hyears, 1, 30));
      row.loan = this.perturb(row.loan, 0, 500000);
    }
    const x = Float64Array.of(row.salary, row.commission, row.age, row.elevel, row.car, row.zipcode, row.hvalue, row.hyears, row.loan);
    return { x, y };
  }

  /** Abrupt drift, as River's `generate_drift`: switch to another function at random. */
  generateDrift(): void {
    let f = randint(this.rng, 0, 9) as AgrawalFunction;
    while (f === this.classificationFunction) f = randint(this.rng, 0, 9) as AgrawalFunction;
    this.classificationFunction = f;
  }

  private perturb(v: number, min: number, max: number, range?: number): number {
    const span = range ?? max - min;
    v += span * (2 * (this.rng.next() - 0.5)) * this.perturbation;
    if (v < min) return min;
    if (v > max) return max;
    return v;
  }
}

