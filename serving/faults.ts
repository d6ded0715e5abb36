/**
 * Injected faults that make one version worse on purpose (table fault_injection): demos, tests and
 * benchmarks of canary analysis need a bad version without training one.
 */
import type { Fault } from './catalog';

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export function injectError(fault: Fault | undefined, rand: () => number = Math.random): boolean {
  return fault !== undefined && fault.errorRate > 0 && rand() < fault.errorRate;
}

/**
 * With probability wrongLabelRate per row, serves another class: the probabilities of the true
 * top class and a random other one are swapped, so the response stays self-consistent and the
 * recorded label is what the client saw. In place.
 */
export function injectWrongLabels(fault: Fault | undefined, probabilities: Float32Array, labels: Int32Array, nClasses: number, rand: () => number = Math.random): void {
  if (!fault || fault.wrongLabelRate <= 0 || nClasses < 2) return;
  for (let r = 0; r < labels.length; r++) {
    if (rand() >= fault.wrongLabelRate) continue;
    const was = labels[r]!;
    const other = (was + 1 + Math.floor(rand() * (nClasses - 1))) % nClasses;
    const a = r * nClasses + was;
    const b = r * nClasses + other;
    const pa = probabilities[a]!;
    const pb = probabilities[b]!;
    // Ties would leave the swap invisible in the probabilities; the label is what counts.
    probabilities[a] = Math.min(pa, pb);
    probabilities[b] = Math.max(pa, pb);
    labels[r] = other;
  }
}
