/**
 * Validation of sampler and pruner options. Options arrive as plain JSON (workflow input), so a
 * typo such as `nStartupTrial` must fail loudly instead of silently falling back to a default.
 */

export type OptionKind = 'boolean' | 'integer' | 'number' | 'object';

export interface OptionSpec {
  kind: OptionKind;
  /** Inclusive lower bound for numbers. */
  min?: number;
  /** Whether the lower bound is exclusive. */
  minExclusive?: boolean;
  /** Extra literal strings accepted besides the kind (e.g. 'auto'). */
  literals?: string[];
}

export function validateOptions(
  owner: string,
  options: Record<string, unknown> | undefined,
  specs: Record<string, OptionSpec>,
): Record<string, unknown> {
  if (options === undefined) return {};
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new Error(`${owner}: options must be an object`);
  }
  const known = Object.keys(specs);
  for (const [key, value] of Object.entries(options)) {
    const spec = specs[key];
    if (!spec) {
      throw new Error(`${owner}: unknown option "${key}" (known: ${known.length ? known.join(', ') : 'none'})`);
    }
    if (value === undefined) continue;
    if (typeof value === 'string' && spec.literals?.includes(value)) continue;
    const bad = (want: string): never => {
      throw new Error(`${owner}: option "${key}" must be ${want} (got ${JSON.stringify(value)})`);
    };
    const lit = spec.literals?.length ? ` or ${spec.literals.map((l) => JSON.stringify(l)).join(' or ')}` : '';
    switch (spec.kind) {
      case 'boolean':
        if (typeof value !== 'boolean') bad('true or false');
        break;
      case 'object':
        if (typeof value !== 'object' || value === null || Array.isArray(value)) bad('an object');
        break;
      case 'integer':
      case 'number': {
        const isInt = spec.kind === 'integer';
        const min = spec.min ?? -Infinity;
        const bound = min === -Infinity ? '' : ` ${spec.minExclusive ? '>' : '≥'} ${min}`;
        const want = `${isInt ? 'an integer' : 'a finite number'}${bound}${lit}`;
        if (typeof value !== 'number' || !Number.isFinite(value) || (isInt && !Number.isSafeInteger(value))) bad(want);
        if ((value as number) < min || (spec.minExclusive && value === min)) bad(want);
        break;
      }
    }
  }
  return options;
}

export function optionOr<T>(options: Record<string, unknown>, key: string, fallback: T): T {
  const v = options[key];
  return v === undefined ? fallback : (v as T);
}
