/**
 * Bundles the workflow code into one file. Run as its own process by the workflow worker: webpack
 * needs a few hundred MB while it works, and a short-lived process gives all of it back, so the
 * long-running worker idles small.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { workflowTracingModules } from '../clients/tracing';
import { WORKFLOWS_PATH } from './workflow-worker-path';

const out = process.argv[2];
if (!out) {
  console.error('usage: bundle-workflows.ts <output file>');
  process.exit(2);
}
// With tracing on (OTEL_EXPORTER_OTLP_ENDPOINT), the sandbox's OpenTelemetry interceptors are bundled in.
const { code } = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, workflowInterceptorModules: workflowTracingModules(), logger: undefined });
await mkdir(path.dirname(out), { recursive: true });
await writeFile(out, code);
