import { describe, expect, it } from 'vitest';
import { checkSearchInput, type HyperparameterSearchInput } from './search-input';

const base: HyperparameterSearchInput = {
  model: 'm',
  dataset: 'builtin:iris',
  family: 'softmax-regression',
  space: { learningRate: { type: 'float', low: 0.001, high: 1, log: true } },
  sampler: 'tpe',
  trials: 20,
  parallel: 2,
  taskQueues: { cpu: 'q' },
};

describe('checkSearchInput', () => {
  it('fixes every unsearched hyperparameter at the user value or the family default', () => {
    const r = checkSearchInput({ ...base, fixed: { epochs: '7' } });
    if (!r.ok) throw new Error(r.message);
    expect(r.value.fixed).toEqual({ l2: 1e-4, epochs: 7, batchSize: 64, seed: 42 });
    expect(r.value).toMatchObject({ metric: 'logLoss', pruner: 'median', seed: 1, trainBest: true });
  });

  it.each([
    [{ space: { lr: { type: 'float', low: 0, high: 1 } } }, 'search space: parameter "lr" is not a hyperparameter of softmax-regression (known: learningRate, l2, epochs, batchSize, seed)'],
    [{ space: { learningRate: { type: 'float', low: 0.01, high: 20 } } }, 'search space: parameter "learningRate" allows 20: hyperparameter learningRate must be > 0 and <= 10 (got 20)'],
    [{ fixed: { learningRate: 0.1 } }, 'search space: parameter "learningRate" is also fixed (--param); search it or fix it, not both'],
    [{ sampler: 'gp', trials: 500 }, 'the gp sampler supports at most 200 trials (got 500): use tpe for longer studies'],
    [{ trials: 0 }, 'trials must be an integer between 1 and 10000 (got 0)'],
    [{ parallel: 65 }, 'parallel must be an integer between 1 and 64 (got 65)'],
    [{ seed: -1 }, 'seed must be an integer in [0, 2147483647] (got -1)'],
    [{ family: 'mlp', space: { learningRate: { type: 'float', low: 0.001, high: 0.1, log: true } } }, 'hyperparameter search runs its trials on the TypeScript CPU pool: mlp (PyTorch pool) cannot be searched yet; train it with fixed --param values'],
    [{ metric: 'mse' }, 'metric must be one of logLoss, accuracy, f1, auc (got mse)'],
    [{ model: 'Bad Name' }, 'model name "Bad Name" must be 1-63 lowercase letters, digits, ".", "_" or "-", starting with a letter or digit'],
  ] as const)('rejects %j', (over, message) => {
    expect(checkSearchInput({ ...base, ...(over as Partial<HyperparameterSearchInput>) })).toEqual({ ok: false, message });
  });
});
