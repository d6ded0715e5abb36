/**
 * ADWIN over a model's error stream (1 = the served label was wrong), telling apart the two kinds
 * of change it finds: errors going up (the world moved away from the model: retrain) and errors
 * going down (a better model took the traffic: nothing to do). Pure and deterministic, so a
 * workflow can hold it and rebuild it by replay; its JSON crosses continue-as-new.
 */
import { Adwin, type AdwinSnapshot } from '../drift/adwin';

export interface ErrorChange {
  /** 1-based position in the whole error stream of the outcome that revealed the change. */
  sample: number;
  direction: 'increase' | 'decrease';
  /** Error rate of the window just before the change was found, and of the part ADWIN kept. */
  before: number;
  after: number;
  widthBefore: number;
  widthAfter: number;
}

export interface ErrorMonitorState {
  adwin: AdwinSnapshot;
  samples: number;
  errors: number;
}

export class ErrorMonitor {
  private constructor(
    private readonly adwin: Adwin,
    private samplesSeen: number,
    private errorsSeen: number,
  ) {}

  static create(delta: number): ErrorMonitor {
    return new ErrorMonitor(new Adwin({ delta }), 0, 0);
  }

  static fromJSON(s: ErrorMonitorState): ErrorMonitor {
    return new ErrorMonitor(Adwin.fromJSON(s.adwin), s.samples, s.errors);
  }

  toJSON(): ErrorMonitorState {
    return { adwin: this.adwin.toJSON(), samples: this.samplesSeen, errors: this.errorsSeen };
  }

  get samples(): number {
    return this.samplesSeen;
  }
  get width(): number {
    return this.adwin.width;
  }
  get estimation(): number {
    return this.adwin.estimation;
  }
  get detections(): number {
    return this.adwin.nDetections;
  }

  /** Feeds outcomes in prediction order; returns the changes found, in stream order. */
  feed(errors: ArrayLike<number>): ErrorChange[] {
    const changes: ErrorChange[] = [];
    for (let i = 0; i < errors.length; i++) {
      const x = errors[i]! ? 1 : 0;
      // After a detection ADWIN restarts on the next update, so "before" is only meaningful now.
      const before = this.adwin.driftDetected ? NaN : this.adwin.estimation;
      const widthBefore = this.adwin.driftDetected ? 0 : this.adwin.width;
      this.samplesSeen++;
      this.errorsSeen += x;
      if (this.adwin.update(x).driftDetected) {
        const after = this.adwin.estimation;
        changes.push({ sample: this.samplesSeen, direction: after > before ? 'increase' : 'decrease', before, after, widthBefore: widthBefore + 1, widthAfter: this.adwin.width });
      }
    }
    return changes;
  }
}
