/** One line of live progress from a TrainingPipeline `status` query. */
import type { TrainingStatus } from '../workflows/training-pipeline';

export function renderTrainingStatus(s: TrainingStatus): string {
  const done = s.stages.filter((x) => x.state === 'done').length;
  const head = `[${done}/${s.stages.length}] ${s.model}: ${s.stage}`;
  if (s.state === 'failed') return `${head} failed: ${s.error ?? 'unknown error'}`;
  if (s.stage === 'train' && s.progress) {
    const { epoch, epochs, loss } = s.progress;
    const width = 20;
    const filled = Math.round((epoch / epochs) * width);
    const where = s.placement?.device ? ` on ${s.placement.device}` : '';
    return `${head} ${'#'.repeat(filled)}${'.'.repeat(width - filled)} epoch ${epoch}/${epochs} loss ${loss.toFixed(4)}${where}`;
  }
  if (s.stage === 'train' && s.placement) return `${head} (${s.placement.note})`;
  if (s.state === 'completed') return `${head} v${s.version} accuracy ${s.metrics?.accuracy.toFixed(4)}`;
  return head;
}
