/**
 * Accuracy of lib/sentiment on a public labelled set that ships inside a registry package: the
 * UCI "Sentiment Labelled Sentences" (Kotzias et al., KDD 2015; CC BY 4.0), 1000 one-sentence
 * reviews each from Amazon, IMDb and Yelp, half positive, half negative, as the `sentiment` npm
 * package (MIT) carries them in test/fixtures for its own validation. That package's AFINN scorer
 * is the baseline.
 *
 *   npx tsx bench/online/sentiment.ts
 *
 * Accuracy counts a score ≥ 0 as positive (the `sentiment` package's own validation rule), so
 * texts with no opinion words count as positive; coverage is the share with a non-zero score and
 * "decided accuracy" the accuracy on those alone.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import Sentiment from 'sentiment';
import { analyzeSentiment } from '../../lib/sentiment/sentiment';

const require = createRequire(import.meta.url);
const FIXTURES = path.join(path.dirname(require.resolve('sentiment/package.json')), 'test', 'fixtures');
const SETS = ['amazon', 'imdb', 'yelp'] as const;

interface Labelled {
  text: string;
  class: 0 | 1 | null;
}

function load(name: string): { text: string; y: 0 | 1 }[] {
  const rows = JSON.parse(readFileSync(path.join(FIXTURES, `${name}.json`), 'utf8')) as Labelled[];
  // Each file ends with an empty, unlabelled record.
  return rows.filter((r) => r.class === 0 || r.class === 1).map((r) => ({ text: r.text, y: r.class as 0 | 1 }));
}

function evaluate(score: (t: string) => number, data: { text: string; y: 0 | 1 }[]) {
  let correct = 0;
  let decided = 0;
  let decidedCorrect = 0;
  const t0 = process.hrtime.bigint();
  for (const { text, y } of data) {
    const s = score(text);
    const pred = s >= 0 ? 1 : 0;
    if (pred === y) correct++;
    if (s !== 0) {
      decided++;
      if (pred === y) decidedCorrect++;
    }
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  return { n: data.length, accuracy: correct / data.length, coverage: decided / data.length, decidedAccuracy: decidedCorrect / decided, perSecond: data.length / seconds };
}

function main(): void {
  const afinn = new Sentiment();
  const engines = {
    'lib/sentiment (wink-sentiment 5.0.2)': (t: string) => analyzeSentiment(t).normalizedScore,
    'baseline: sentiment 5.0.2 (AFINN-165)': (t: string) => afinn.analyze(t).comparative,
  };
  const sets = SETS.map((name) => ({ name, data: load(name) }));
  const all = sets.flatMap((s) => s.data);
  // Warm both engines' code paths so texts/s is not a JIT measurement.
  for (const f of Object.values(engines)) for (const { text } of all.slice(0, 500)) f(text);

  console.log('| scorer | set | n | accuracy | coverage | decided accuracy | texts/s |');
  console.log('| --- | --- | ---: | ---: | ---: | ---: | ---: |');
  for (const [name, f] of Object.entries(engines)) {
    for (const s of [...sets, { name: 'all', data: all }]) {
      // Best of 5 for texts/s: the accuracy figures are the same every time.
      const runs = Array.from({ length: 5 }, () => evaluate(f, s.data));
      const r = { ...runs[0], perSecond: Math.max(...runs.map((x) => x.perSecond)) };
      console.log(`| ${name} | ${s.name} | ${r.n} | ${r.accuracy.toFixed(3)} | ${r.coverage.toFixed(3)} | ${r.decidedAccuracy.toFixed(3)} | ${Math.round(r.perSecond).toLocaleString('en-US')} |`);
    }
  }
}

main();
