import { describe, expect, it } from 'vitest';
import { checkTrainingInput, type TrainingPipelineInput } from './training-input';

const base: TrainingPipelineInput = { model: 'm', dataset: 'builtin:iris', family: 'softmax-regression', hyperparameters: {}, taskQueues: { cpu: 'cpu-q' } };
const torchQueues = { cpu: 'cpu-q', gpu: 'gpu-q', cpuTorch: 'torch-cpu-q' };

describe('checkTrainingInput', () => {
  it('leaves CPU-pool families without torch placement', () => {
    const r = checkTrainingInput(base);
    expect(r).toMatchObject({ ok: true, value: { family: 'softmax-regression', holdoutFraction: 0.2, splitSeed: 42 } });
    expect(r.ok && r.value.torch).toBeUndefined();
  });

  it('places torch families: auto by default, with both queues and the wait', () => {
    expect(checkTrainingInput({ ...base, family: 'mlp', taskQueues: torchQueues })).toMatchObject({
      ok: true,
      value: { family: 'mlp', torch: { pool: 'auto', gpuWaitSeconds: 60, cpuWaitSeconds: 600, gpuQueue: 'gpu-q', cpuQueue: 'torch-cpu-q' } },
    });
    expect(checkTrainingInput({ ...base, family: 'mlp', pool: 'cpu', gpuWaitSeconds: 5, taskQueues: { cpu: 'c', cpuTorch: 't' } })).toMatchObject({
      ok: true,
      value: { torch: { pool: 'cpu', gpuWaitSeconds: 5, cpuQueue: 't' } },
    });
  });

  it.each([
    [{ pool: 'gpu' as const }, 'pool "gpu" applies to PyTorch families only; softmax-regression trains on the TypeScript CPU pool'],
    [{ family: 'mlp', pool: 'tpu' as never, taskQueues: torchQueues }, 'pool must be one of auto, gpu, cpu (got "tpu")'],
    [{ family: 'mlp', gpuWaitSeconds: 0, taskQueues: torchQueues }, 'GPU wait must be an integer number of seconds between 1 and 86400 (got 0)'],
    [{ family: 'mlp', cpuWaitSeconds: 1.5, taskQueues: torchQueues }, 'CPU wait must be an integer number of seconds between 1 and 86400 (got 1.5)'],
    [{ family: 'mlp', taskQueues: { cpu: 'c', cpuTorch: 't' } }, 'taskQueues.gpu is required to train mlp on pool auto'],
    [{ family: 'mlp', pool: 'auto' as const, taskQueues: { cpu: 'c', gpu: 'g' } }, 'taskQueues.cpuTorch is required to train mlp on pool auto'],
    [{ family: 'mlp', hyperparameters: { hiddenLayers: 0 }, taskQueues: torchQueues }, 'hyperparameter hiddenLayers must be an integer >= 1 and <= 8 (got 0)'],
  ])('rejects %j with one line', (patch, expected) => {
    expect(checkTrainingInput({ ...base, ...patch })).toEqual({ ok: false, message: expected });
  });
});
