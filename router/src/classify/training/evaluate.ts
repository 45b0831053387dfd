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

/**
 * p50/p99 of one `fn(input)` call, in microseconds, over `rounds` passes of the inputs (make classifier-eval
 * and bench/classifier.ts). Warm-up covers at least 200 calls so a single long input is measured hot too.
 */
export function measureLatency(fn: (input: string) => unknown, inputs: string[], rounds = 20) {
  const warmups = Math.max(1, Math.ceil(200 / inputs.length));
  for (const t of inputs) for (let w = 0; w < warmups; w++) fn(t); // warm up the JIT
  const samples = new Float64Array(inputs.length * rounds);
  let i = 0;
  for (let r = 0; r < rounds; r++) {
    for (const t of inputs) {
      const t0 = process.hrtime.bigint();
      fn(t);
      samples[i++] = Number(process.hrtime.bigint() - t0) / 1000;
    }
  }
  samples.sort();
  const q = (p: number) => samples[Math.min(samples.length - 1, Math.floor(p * samples.length))]!;
  return { p50_us: q(0.5), p99_us: q(0.99), samples: samples.length };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const classifier = TaskClassifier.load();
  const held = evaluate(classifier, 'heldout');
  console.log(`held-out accuracy: ${(held.accuracy * 100).toFixed(1)}% on ${held.examples} prompts (templates never seen in training)`);
  for (const [label, c] of [...held.perClass].sort()) console.log(`  ${label.padEnd(16)} ${((c.ok / c.n) * 100).toFixed(0).padStart(4)}%  (${c.n})`);
  console.log(`train accuracy: ${(evaluate(classifier, 'train').accuracy * 100).toFixed(1)}%`);
  const lat = measureLatency((t) => classifier.predict(t), readPrompts().map((e) => e.text));
  console.log(`latency per prompt: p50 ${lat.p50_us.toFixed(1)} µs, p99 ${lat.p99_us.toFixed(1)} µs (${lat.samples} calls)`);
}
