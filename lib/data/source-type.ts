/**
 * The `source_type` MLflow records for a dataset input: the scheme of the dataset's source
 * (`builtin`, `synthetic`, `production`, `file`, `stored`). MLflow's column holds 36 characters
 * and answers a longer value with a 400 that a retry never fixes, so anything that is not a short
 * scheme (a bare path, a label with spaces, a long prefix) is recorded as `local`.
 */
const SCHEME = /^[a-z][a-z0-9+.-]{0,35}$/i;

export function datasetSourceType(source: string): string {
  const cut = source.indexOf(':');
  const scheme = cut > 0 ? source.slice(0, cut) : '';
  return SCHEME.test(scheme) ? scheme : 'local';
}
