import { describe, expect, it } from 'vitest';
import { MODEL_FAMILIES, parseHyperparameters, resolveModelFamily } from './families';

const DEFAULTS = { learningRate: 0.1, l2: 1e-4, epochs: 20, batchSize: 64, seed: 42 };

const message = (family: string, raw: Record<string, unknown>) => {
  const r = parseHyperparameters(family, raw);
  if (r.ok) throw new Error('expected a rejection');
  return r.message;
};

describe('parseHyperparameters', () => {
  it('fills every default', () => {
    expect(parseHyperparameters('softmax-regression', {})).toEqual({ ok: true, family: 'softmax-regression', hyperparameters: DEFAULTS });
  });

  it('resolves aliases to the canonical family', () => {
    for (const alias of ['logreg', 'logistic-regression']) {
      const r = parseHyperparameters(alias, { epochs: 3 });
      expect(r).toEqual({ ok: true, family: 'softmax-regression', hyperparameters: { ...DEFAULTS, epochs: 3 } });
    }
    expect(resolveModelFamily('toString')).toBeUndefined();
  });

  it('coerces numeric strings as the CLI passes them', () => {
    const r = parseHyperparameters('logreg', { learningRate: '0.5', l2: '1e-3', epochs: ' 7 ', batchSize: '1', seed: '0' });
    expect(r).toEqual({ ok: true, family: 'softmax-regression', hyperparameters: { learningRate: 0.5, l2: 0.001, epochs: 7, batchSize: 1, seed: 0 } });
  });

  it.each([
    [{ learningRate: 50 }, 'hyperparameter learningRate must be > 0 and <= 10 (got 50)'],
    [{ learningRate: 0 }, 'hyperparameter learningRate must be > 0 and <= 10 (got 0)'],
    [{ learningRate: 'fast' }, 'hyperparameter learningRate must be a number > 0 and <= 10 (got "fast")'],
    [{ learningRate: '' }, 'hyperparameter learningRate must be a number > 0 and <= 10 (got "")'],
    [{ learningRate: null }, 'hyperparameter learningRate must be a number > 0 and <= 10 (got null)'],
    [{ learningRate: true }, 'hyperparameter learningRate must be a number > 0 and <= 10 (got true)'],
    [{ l2: -1 }, 'hyperparameter l2 must be >= 0 and <= 1 (got -1)'],
    [{ l2: Number.NaN }, 'hyperparameter l2 must be >= 0 and <= 1 (got NaN)'],
    [{ epochs: 2.5 }, 'hyperparameter epochs must be an integer >= 1 and <= 1000 (got 2.5)'],
    [{ epochs: '1001' }, 'hyperparameter epochs must be an integer >= 1 and <= 1000 (got 1001)'],
    [{ batchSize: 0 }, 'hyperparameter batchSize must be an integer >= 1 and <= 65536 (got 0)'],
    [{ seed: -1 }, 'hyperparameter seed must be an integer >= 0 and <= 4294967295 (got -1)'],
    [{ lr: 0.1 }, 'unknown hyperparameter "lr" for softmax-regression (known: learningRate, l2, epochs, batchSize, seed)'],
    [{ learningRate: 5, l2: 0.5 }, 'hyperparameters learningRate × l2 must be < 1 (got 5 × 0.5): each step would shrink the weights past zero'],
  ])('rejects %j', (raw, expected) => {
    expect(message('softmax-regression', raw)).toBe(expected);
  });

  it('names the known families for an unknown one', () => {
    expect(message('xgb', {})).toBe('unknown model family "xgb" (known: softmax-regression, mlp, logreg, mlp-classifier, logistic-regression)');
  });

  it('fills the mlp defaults and checks its ranges (the same as gpu-worker/flywheel_gpu_worker/hyperparameters.py)', () => {
    expect(parseHyperparameters('mlp', {})).toEqual({
      ok: true,
      family: 'mlp',
      hyperparameters: { hiddenUnits: 256, hiddenLayers: 2, learningRate: 0.001, weightDecay: 0.01, epochs: 20, batchSize: 1024, seed: 42 },
    });
    expect(parseHyperparameters('mlp-classifier', { hiddenUnits: '64' })).toMatchObject({ ok: true, family: 'mlp', hyperparameters: { hiddenUnits: 64 } });
    expect(message('mlp', { hiddenUnits: 0 })).toBe('hyperparameter hiddenUnits must be an integer >= 4 and <= 4096 (got 0)');
    expect(message('mlp', { hiddenLayers: 9 })).toBe('hyperparameter hiddenLayers must be an integer >= 1 and <= 8 (got 9)');
    expect(message('mlp', { learningRate: 0 })).toBe('hyperparameter learningRate must be > 0 and <= 1 (got 0)');
    expect(message('mlp', { l2: 0.1 })).toBe('unknown hyperparameter "l2" for mlp (known: hiddenUnits, hiddenLayers, learningRate, weightDecay, epochs, batchSize, seed)');
    // The softmax-only cross check does not apply to the mlp's (differently named) decay.
    expect(parseHyperparameters('mlp', { learningRate: 1, weightDecay: 1 }).ok).toBe(true);
    expect(MODEL_FAMILIES.mlp.pool).toBe('torch');
    expect(MODEL_FAMILIES['softmax-regression'].pool).toBe('cpu');
  });

  it('exposes a zod schema with the defaults', () => {
    expect(MODEL_FAMILIES['softmax-regression'].hyperparameters.parse({})).toEqual(DEFAULTS);
    expect(MODEL_FAMILIES['softmax-regression'].description).toMatch(/softmax|logistic/);
  });
});
