/** `flywheel models list|show`: the MLflow registry of record, with Flywheel's lineage tags. */
import type { FlywheelConfig } from '../../config/index';
import { MlflowClient, MlflowError, mlflowQuote, tagsToRecord, type MlflowModelVersion } from '../../clients/mlflow';
import { CliError, printFields, printJson, printTable } from '../output';
import { reportPointer } from './report';
import { closePools, getPool } from '../../clients/db';
import { snapshotLineage, type SnapshotLineage } from '../../datasets/production';
import { segmentAttributes, segmentReport, type SegmentRow } from '../../datasets/segments';

/**
 * Per-segment quality over the last 7 days for each attribute seen in its newest 5,000 predictions
 * (`flywheel data segments` for other windows and margins); none when PostgreSQL cannot be read.
 */
async function segmentsOf(config: FlywheelConfig, model: string): Promise<Record<string, SegmentRow[]>> {
  try {
    const db = getPool(config.postgres.url);
    const since = new Date(Date.now() - 7 * 86_400_000);
    const out: Record<string, SegmentRow[]> = {};
    for (const key of await segmentAttributes(db, { model, since })) {
      out[key] = (await segmentReport(db, { model, attribute: key, since, bucketSeconds: 3600, margin: 0.2, alpha: 0.01 })).segments;
    }
    return out;
  } catch {
    return {};
  } finally {
    await closePools();
  }
}

/** Production snapshots among these digests; none when PostgreSQL cannot be read (MLflow's view still stands). */
async function snapshots(config: FlywheelConfig, model: string, digests: Array<string | undefined>): Promise<Map<string, SnapshotLineage>> {
  try {
    return await snapshotLineage(getPool(config.postgres.url), model, digests.filter((d): d is string => d !== undefined));
  } catch {
    return new Map();
  } finally {
    await closePools();
  }
}

/** What a version learned from, in one line: a production window with its coverage, or the dataset's source. */
export function learnedFrom(source: string | undefined, snap: SnapshotLineage | undefined): string | undefined {
  if (!snap) return source;
  const versions = Object.entries(snap.versions).map(([v, n]) => `v${v}×${n}`).join(' ');
  const mix = snap.mix;
  // Both ends: a drift-triggered retraining's window starts at the rise, not `window` before its end.
  return `production ${snap.window}, served ${snap.from.toISOString().slice(0, 16)}Z to ${snap.to.toISOString().slice(0, 16)}Z: ${snap.rows} rows (${versions}), label coverage ${snap.labelCoverage.toFixed(2)}${mix ? `, + ${mix.rows} rows of ${mix.source}` : ''}`;
}

function client(config: FlywheelConfig): MlflowClient {
  return new MlflowClient(config.mlflow);
}

async function guard<T>(config: FlywheelConfig, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof MlflowError && err.errorCode === 'UNREACHABLE') {
      throw new CliError(`MLflow is not reachable at ${config.mlflow.trackingUri}: start the stack with \`flywheel up\``, 3);
    }
    throw err;
  }
}

export async function listModels(config: FlywheelConfig, opts: { json?: boolean }): Promise<void> {
  const models = await guard(config, () => client(config).searchRegisteredModels());
  const rows = models.map((m) => ({
    name: m.name,
    latestVersion: m.latest_versions?.map((v) => Number(v.version)).sort((a, b) => b - a)[0],
    aliases: (m.aliases ?? []).map((a) => `${a.alias}=v${a.version}`),
    family: tagsToRecord(m.tags)['flywheel.family'],
    updated: m.last_updated_timestamp ? new Date(m.last_updated_timestamp) : undefined,
  }));
  if (opts.json) printJson(rows);
  else printTable(rows);
}

function versionView(v: MlflowModelVersion) {
  const tags = tagsToRecord(v.tags);
  const metrics = Object.fromEntries(Object.entries(tags).filter(([k]) => k.startsWith('metric.')).map(([k, val]) => [k.slice(7), Number(val)]));
  return {
    name: v.name,
    version: v.version,
    status: v.status,
    created: v.creation_timestamp ? new Date(v.creation_timestamp) : undefined,
    aliases: v.aliases ?? [],
    source: v.source,
    metrics,
    lineage: {
      mlflowRunId: v.run_id,
      datasetDigest: tags['flywheel.dataset_digest'],
      datasetSource: tags['flywheel.dataset_source'],
      gitCommit: tags['flywheel.git_commit'],
      workflowId: tags['flywheel.workflow_id'],
      workflowRunId: tags['flywheel.workflow_run_id'],
      onnxSha256: tags['flywheel.onnx_sha256'],
    },
  };
}

export async function showModel(config: FlywheelConfig, name: string, version: string | undefined, opts: { json?: boolean }): Promise<void> {
  const mlflow = client(config);
  await guard(config, async () => {
    const model = await mlflow.getRegisteredModel(name);
    if (!model) throw new CliError(`no registered model named ${name} (see flywheel models list)`, 2);
    if (version !== undefined) {
      const v = await mlflow.getModelVersion(name, version);
      if (!v) throw new CliError(`model ${name} has no version ${version}`, 2);
      const base = versionView(v);
      const snap = (await snapshots(config, name, [base.lineage.datasetDigest])).get(base.lineage.datasetDigest ?? '');
      const view = { ...base, learnedFrom: learnedFrom(base.lineage.datasetSource, snap), ...(snap ? { production: snap } : {}) };
      if (opts.json) printJson(view);
      else {
        printFields({ model: `${view.name} v${view.version}`, status: view.status, created: view.created, aliases: view.aliases, source: view.source });
        process.stdout.write('\nmetrics (holdout, evaluated on the exported ONNX):\n');
        printFields(view.metrics);
        process.stdout.write('\nlineage:\n');
        printFields({ ...view.lineage, learnedFrom: view.learnedFrom });
      }
      return;
    }
    const viewed = (await mlflow.searchModelVersions(`name=${mlflowQuote(name)}`)).sort((a, b) => Number(b.version) - Number(a.version)).map(versionView);
    const snaps = await snapshots(config, name, viewed.map((v) => v.lineage.datasetDigest));
    const versions = viewed.map((v) => ({ ...v, learnedFrom: learnedFrom(v.lineage.datasetSource, snaps.get(v.lineage.datasetDigest ?? '')) }));
    const report = await reportPointer(config, name);
    const segments = await segmentsOf(config, name);
    if (opts.json) {
      printJson({ name: model.name, description: model.description, aliases: model.aliases ?? [], versions, segments, report });
      return;
    }
    printFields({ model: model.name, description: model.description, aliases: (model.aliases ?? []).map((a) => `${a.alias}=v${a.version}`) });
    process.stdout.write('\n');
    printTable(
      versions.map((v) => ({ version: v.version, created: v.created, accuracy: v.metrics.accuracy, f1: v.metrics.f1, dataset: v.lineage.datasetDigest?.slice(0, 12), 'learned from': v.learnedFrom, workflow: v.lineage.workflowId })),
    );
    for (const [attribute, rows] of Object.entries(segments)) {
      process.stdout.write(`\nsegments by ${attribute} (last 7 days; behind: error odds > 1.2× the rest's, anytime-valid at α 0.01):\n`);
      printTable(rows.map((r) => ({ [attribute]: r.value, predictions: r.predictions, errors: r.errorRate, labelled: r.labelCoverage, accuracy: r.accuracy, behind: r.behind ? 'yes' : '' })));
    }
    process.stdout.write(
      report.writtenAt
        ? `\nreport: ${report.path} (written ${report.writtenAt}; refresh with \`${report.command}\`)\n`
        : `\nreport: \`${report.command}\` writes the model's story on one page to ${report.path}\n`,
    );
  });
}
