/**
 * Search spaces from the command line: a JSON or YAML file (`--space space.yaml`), or flags
 * (`--search-param learningRate=float:0.001:1:log`, `batchSize=cat:16,32,64`, `epochs=int:5:50:step=5`).
 * Only shape is parsed here; lib/hpo's parseSearchSpace validates the result.
 */
import { readFile } from 'node:fs/promises';
import YAML from 'yaml';
import { CliError } from './output';

/**
 * A JSON or YAML file of settings: a search space (`--space`), or a rollout's analysis spec
 * (`--analysis`, what = "analysis file"). Errors name the file as what it is.
 */
export async function readSpaceFile(file: string, what = 'search space'): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read ${what} ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`, 2);
  }
  let value: unknown;
  try {
    value = /\.json$/i.test(file) ? JSON.parse(text) : YAML.parse(text);
  } catch (err) {
    throw new CliError(`${what} ${file} is not valid ${/\.json$/i.test(file) ? 'JSON' : 'YAML'}: ${(err as Error).message.split('\n')[0]}`, 2);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new CliError(`${what} ${file} must hold an object of settings (got ${Array.isArray(value) ? 'a list' : JSON.stringify(value)})`, 2);
  return value;
}

export function parseSearchParamFlags(flags: string[]): Record<string, unknown> {
  const space: Record<string, unknown> = {};
  for (const flag of flags) {
    const eq = flag.indexOf('=');
    if (eq <= 0) throw new CliError(`--search-param "${flag}" must be name=type:... (e.g. learningRate=float:0.001:1:log)`, 2);
    const name = flag.slice(0, eq);
    const [type, ...rest] = flag.slice(eq + 1).split(':');
    if (type === 'cat' || type === 'categorical') {
      const choices = rest.join(':').split(',').map((c) => (c.trim() !== '' && !Number.isNaN(Number(c)) ? Number(c) : c === 'true' ? true : c === 'false' ? false : c));
      space[name] = { type: 'categorical', choices };
    } else if (type === 'float' || type === 'int') {
      const [low, high, ...opts] = rest;
      const spec: Record<string, unknown> = { type, low: Number(low), high: Number(high) };
      for (const o of opts) {
        if (o === 'log') spec.log = true;
        else if (o.startsWith('step=')) spec.step = Number(o.slice(5));
        else throw new CliError(`--search-param "${flag}": unknown option "${o}" (log, step=N)`, 2);
      }
      space[name] = spec;
    } else {
      throw new CliError(`--search-param "${flag}": type must be float, int or cat (got "${type}")`, 2);
    }
  }
  return space;
}
