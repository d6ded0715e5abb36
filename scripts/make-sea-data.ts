/**
 * Writes the demo's continuous-learning data: River's SEA stream (lib/streams) as CSV files —
 * concept 0 (θ = 8) to train on and to serve, concept 3 (θ = 9.5) to serve after the change and to
 * retrain on. Usage: npx tsx scripts/make-sea-data.ts <folder>
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Sea } from '../lib/streams/sea';

const dir = process.argv[2];
if (!dir) {
  console.error('usage: make-sea-data.ts <folder>');
  process.exit(2);
}
mkdirSync(dir, { recursive: true });

function write(file: string, variant: 0 | 3, seed: number, rows: number): void {
  const stream = new Sea({ variant, seed });
  const lines = ['x0,x1,x2,label'];
  for (let i = 0; i < rows; i++) {
    const { x, y } = stream.next();
    lines.push(`${x[0]},${x[1]},${x[2]},${y}`);
  }
  writeFileSync(path.join(dir, file), `${lines.join('\n')}\n`);
}

write('sea-concept0-train.csv', 0, 1, 2000);
write('sea-concept3-train.csv', 3, 2, 2000);
write('sea-concept0-serve.csv', 0, 3, 400);
write('sea-concept3-serve.csv', 3, 4, 1500);
console.log(`SEA concept 0 and concept 3 data written to ${dir}`);
