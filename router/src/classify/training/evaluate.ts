// Held-out accuracy and latency of the committed task model. Run: npm run classifier:eval
import { fileURLToPath } from 'node:url';
import { TaskClassifier } from '../task-classifier.ts';
import { readPrompts } from './train.ts';

export function evaluate(classifier: TaskClassifier, split: 'train' | 'heldout' = 'heldout') {
  const set = readPrompts().filter((e) => e.split === split);
  let correct = 0;
  const perClass = new Map<string, { n: number; ok: number }>();
  for (const e of set) {
    const ok = classifier.predict(e.text).label === e.label;
    if (ok) correct++;
    const c = perClass.get(e.label) ?? { n: 0, ok: 0 };
    c.n++;
    if (ok) c.ok++;
    perClass.set(e.label, c);
  }
  return { examples: set.length, accuracy: correct / set.length, perClass };
}

/** p50/p99 of one predict() call, in microseconds, over `rounds` passes of the prompts. */
export function measureLatency(classifier: TaskClassifier, texts: string[], rounds = 20) {
  for (const t of texts) classifier.predict(t); // warm up the JIT
  const samples: number[] = [];
  for (let r = 0; r < rounds; r++) {
    for (const t of texts) {
      const t0 = process.hrtime.bigint();
      classifier.predict(t);
      samples.push(Number(process.hrtime.bigint() - t0) / 1000);
    }
  }
  samples.sort((a, b) => a - b);
  const q = (p: number) => samples[Math.min(samples.length - 1, Math.floor(p * samples.length))]!;
  return { p50_us: q(0.5), p99_us: q(0.99), samples: samples.length };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const classifier = TaskClassifier.load();
  const held = evaluate(classifier, 'heldout');
  console.log(`held-out accuracy: ${(held.accuracy * 100).toFixed(1)}% on ${held.examples} prompts (templates never seen in training)`);
  for (const [label, c] of [...held.perClass].sort()) console.log(`  ${label.padEnd(16)} ${((c.ok / c.n) * 100).toFixed(0).padStart(4)}%  (${c.n})`);
  console.log(`train accuracy: ${(evaluate(classifier, 'train').accuracy * 100).toFixed(1)}%`);
  const lat = measureLatency(classifier, readPrompts().map((e) => e.text));
  console.log(`latency per prompt: p50 ${lat.p50_us.toFixed(1)} µs, p99 ${lat.p99_us.toFixed(1)} µs (${lat.samples} calls)`);
}
