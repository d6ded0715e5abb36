/**
 * Dataset references: how users and workflows name data without carrying rows.
 *   builtin:<name>            a dataset shipped inside an installed package (see datasets/catalog)
 *   synthetic:rows=N,features=D,classes=K,seed=S[,separation=F,noise=F]
 *   file:<path>               a CSV or JSON file on local disk (needs a label column)
 *   stored:<digest>           a dataset already in the content-addressed store (e.g. a production
 *                             snapshot written by `flywheel data snapshot`)
 *   production:<model>:<window>[@<since>][+<dataset>:<share>]
 *                             the model's served traffic of the last <window> with its labels, snapshotted
 *                             when it is used (each scheduled or drift-triggered retraining takes a fresh
 *                             window); the CLI's `production:7d` names the command's own model. `@<since>`
 *                             (an ISO time) cuts the window's start there: a drift-triggered retraining
 *                             learns only what was served after the change was found
 * A bare known builtin name or a path ending in .csv/.json is accepted as shorthand.
 */

export type DatasetReference =
  | { kind: 'builtin'; name: string }
  | { kind: 'synthetic'; rows: number; features: number; classes: number; seed: number; separation: number; labelNoise: number }
  | { kind: 'file'; path: string; format: 'csv' | 'json' }
  | { kind: 'stored'; digest: string }
  | { kind: 'production'; model: string; window: string; since?: string; mix?: { dataset: string; share: number } };

export type ParseResult<T> = { ok: true; value: T } | { ok: false; message: string };

const SYNTHETIC_LIMITS = { rows: [10, 20_000_000], features: [1, 10_000], classes: [2, 1000] } as const;

export function parseDatasetReference(input: string, builtinNames: readonly string[]): ParseResult<DatasetReference> {
  const raw = input.trim();
  if (!raw) return { ok: false, message: 'dataset reference is empty' };
  if (raw.startsWith('builtin:') || builtinNames.includes(raw)) {
    const name = raw.replace(/^builtin:/, '');
    if (!builtinNames.includes(name)) {
      return { ok: false, message: `unknown dataset "${name}" (built-in: ${builtinNames.join(', ')}; or synthetic:rows=N,features=D,classes=K,seed=S; or file:<path>.csv)` };
    }
    return { ok: true, value: { kind: 'builtin', name } };
  }
  if (raw.startsWith('synthetic:')) return parseSynthetic(raw.slice('synthetic:'.length));
  if (raw.startsWith('production:')) return parseProduction(raw.slice('production:'.length));
  if (raw.startsWith('stored:')) {
    const digest = raw.slice('stored:'.length).toLowerCase();
    if (!/^[0-9a-f]{64}$/.test(digest)) return { ok: false, message: `stored dataset: "${digest}" must be a full sha256 digest (64 hex digits, as flywheel data snapshot prints it)` };
    return { ok: true, value: { kind: 'stored', digest } };
  }
  const filePath = raw.startsWith('file:') ? raw.slice('file:'.length) : raw;
  const format = /\.csv$/i.test(filePath) ? 'csv' : /\.json$/i.test(filePath) ? 'json' : undefined;
  if (raw.startsWith('file:') || format) {
    if (!format) return { ok: false, message: `dataset file ${filePath} must end in .csv or .json` };
    return { ok: true, value: { kind: 'file', path: filePath, format } };
  }
  return { ok: false, message: `unknown dataset "${raw}" (built-in: ${builtinNames.join(', ')}; or synthetic:rows=N,features=D,classes=K,seed=S; or file:<path>.csv)` };
}

function parseSynthetic(spec: string): ParseResult<DatasetReference> {
  const fields = new Map<string, string>();
  for (const part of spec.split(',').filter(Boolean)) {
    const [k, v] = part.split('=');
    if (!k || v === undefined) return { ok: false, message: `synthetic dataset: "${part}" is not key=value` };
    fields.set(k.trim(), v.trim());
  }
  const known = ['rows', 'features', 'classes', 'seed', 'separation', 'noise'];
  for (const k of fields.keys()) {
    if (!known.includes(k)) return { ok: false, message: `synthetic dataset: unknown field "${k}" (known: ${known.join(', ')})` };
  }
  const int = (key: keyof typeof SYNTHETIC_LIMITS | 'seed', dflt: number): number | string => {
    const v = fields.get(key);
    if (v === undefined) return dflt;
    const n = Number(v);
    if (!Number.isInteger(n)) return `synthetic dataset: ${key} must be an integer (got ${v})`;
    if (key !== 'seed') {
      const [lo, hi] = SYNTHETIC_LIMITS[key];
      if (n < lo || n > hi) return `synthetic dataset: ${key} must be between ${lo} and ${hi} (got ${v})`;
    }
    return n;
  };
  const float = (key: string, dflt: number, lo: number, hi: number): number | string => {
    const v = fields.get(key);
    if (v === undefined) return dflt;
    const n = Number(v);
    if (!Number.isFinite(n) || n < lo || n > hi) return `synthetic dataset: ${key} must be a number between ${lo} and ${hi} (got ${v})`;
    return n;
  };
  const values = {
    rows: int('rows', 10_000),
    features: int('features', 20),
    classes: int('classes', 2),
    seed: int('seed', 1),
    separation: float('separation', 1.5, 0, 100),
    labelNoise: float('noise', 0.01, 0, 0.5),
  };
  for (const v of Object.values(values)) if (typeof v === 'string') return { ok: false, message: v };
  return { ok: true, value: { kind: 'synthetic', ...(values as { rows: number; features: number; classes: number; seed: number; separation: number; labelNoise: number }) } };
}

/** The canonical string form, stable for equal references (used in ids and lineage tags). */
export function formatDatasetReference(ref: DatasetReference): string {
  switch (ref.kind) {
    case 'builtin':
      return `builtin:${ref.name}`;
    case 'synthetic':
      return `synthetic:rows=${ref.rows},features=${ref.features},classes=${ref.classes},seed=${ref.seed},separation=${ref.separation},noise=${ref.labelNoise}`;
    case 'file':
      return `file:${ref.path}`;
    case 'stored':
      return `stored:${ref.digest}`;
    case 'production':
      return `production:${ref.model}:${ref.window}${ref.since ? `@${ref.since}` : ''}${ref.mix ? `+${ref.mix.dataset}:${ref.mix.share}` : ''}`;
  }
}

const WINDOW = /^\d+(\.\d+)?(s|m|h|d)$/;

/** `<model>:<window>[@<since>][+<dataset>:<share>]`; the model may be left out here (`7d`) and named by the caller. */
function parseProduction(spec: string): ParseResult<DatasetReference> {
  const plus = spec.indexOf('+');
  const withSince = plus === -1 ? spec : spec.slice(0, plus);
  const at = withSince.indexOf('@');
  const head = at === -1 ? withSince : withSince.slice(0, at);
  let since: string | undefined;
  if (at !== -1) {
    // Canonical UTC form only (what toISOString writes): one spelling per instant, so equal references format equally.
    since = withSince.slice(at + 1);
    if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/.test(since) || Number.isNaN(Date.parse(since))) {
      return { ok: false, message: `production data: "@${since}" must be a UTC time like 2026-12-03T10:00:00.000Z (production:7d@2026-12-03T10:00:00.000Z)` };
    }
  }
  const colon = head.lastIndexOf(':');
  const model = colon === -1 ? '' : head.slice(0, colon);
  const window = head.slice(colon + 1);
  if (!WINDOW.test(window)) return { ok: false, message: `production data: window "${window}" must be a duration like 6h or 7d (production:7d)` };
  let mix: { dataset: string; share: number } | undefined;
  if (plus !== -1) {
    const m = spec.slice(plus + 1);
    const at = m.lastIndexOf(':');
    const share = Number(m.slice(at + 1));
    if (at <= 0 || !(share > 0 && share < 1)) return { ok: false, message: `production data: mix "${m}" must be <dataset>:<share>, the share between 0 and 1 (production:7d+iris:0.3)` };
    mix = { dataset: m.slice(0, at), share };
  }
  return { ok: true, value: { kind: 'production', model, window, ...(since ? { since } : {}), ...(mix ? { mix } : {}) } };
}

/** A production reference with the command's model filled in where it was left out (`production:7d`). */
export function withProductionModel(input: string, model: string, builtinNames: readonly string[]): string {
  const r = parseDatasetReference(input, builtinNames);
  if (!r.ok || r.value.kind !== 'production' || r.value.model) return input;
  return formatDatasetReference({ ...r.value, model });
}

/** The same production reference cut to what was served from `since` on (a drift event's time). */
export function productionSince(input: string, since: string, builtinNames: readonly string[]): string {
  const r = parseDatasetReference(input, builtinNames);
  if (!r.ok || r.value.kind !== 'production') return input;
  return formatDatasetReference({ ...r.value, since });
}
