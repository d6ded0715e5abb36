/** Where an activity keeps its files: one folder per workflow run, so retries overwrite, never fork. */
import path from 'node:path';
import { Context } from '@temporalio/activity';
import { dataPaths, type FlywheelConfig } from '../config/index';

/** The workflow this activity runs for; Flywheel's activities are always started by workflows. */
export function currentWorkflow(): { workflowId: string; runId: string } {
  const execution = Context.current().info.workflowExecution;
  if (!execution) throw new Error('Flywheel activities must run inside a workflow (no workflow execution in context)');
  return execution;
}

export function runArtifactDir(config: FlywheelConfig): string {
  const { workflowId, runId } = currentWorkflow();
  return path.join(dataPaths(config).artifacts, safe(workflowId), runId);
}

export function runCheckpointDir(config: FlywheelConfig): string {
  const { workflowId, runId } = currentWorkflow();
  return path.join(dataPaths(config).checkpoints, safe(workflowId), runId, safe(Context.current().info.activityId));
}

function safe(s: string): string {
  return s.replace(/[^A-Za-z0-9._-]/g, '_');
}
