// How good the committed task model and complexity scorer are, on prompts they never trained on:
// the public data's seeded test split (../shared/classifier-data) and the project's held-out templates,
// reported separately. Run: make classifier-eval [CLASSIFIER_DATA=DIR]
import { statSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { scoreComplexity } from '@llm-router/router/classify/complexity';
import { promptView } from '@llm-router/router/classify/prompt-text';
import { DEFAULT_MODEL_FILE, TaskClassifier } from '@llm-router/router/classify/task-classifier';
import { DEFAULT_PUBLIC_DATA_DIR, publicDataAvailable, readPublicPrompts, splitPublic } from './public-data.ts';
import { readPrompts, type Example } from './train.ts';

export interface ClassReport {
  label: string;
  n: number;
  precision: number;
  recall: number;
  f1: number;
}
export interface EvalReport {
  examples: number;
  accuracy: number;
  macroF1: number;
  perClass: ClassReport[];
  confusions: Array<{ from: string; to: string; count: number; example: string }>;
  /** Expected calibration error over 10 equal-width confidence bins. */
  ece: number;
  reliability: Array<{ from: number; to: number; n: number; confidence: number; accuracy: number }>;
}

export function evaluate(classifier: TaskClassifier, set: Example[]): EvalReport {
  const stats = new Map<string, { n: number; tp: number; predicted: number }>();
  const get = (l: string) => stats.get(l) ?? (stats.set(l, { n: 0, tp: 0, predicted: 0 }), stats.get(l)!);
  const confusions = new Map<string, { count: number; example: string }>();
  const bins = Array.from({ length: 10 }, () => ({ n: 0, ok: 0, conf: 0 }));
  let correct = 0;
  for (const e of set) {
    const p = classifier.predict(e.text);
    const ok = p.label === e.label;
    get(e.label).n++;
    get(p.label).predicted++;
    if (ok) (correct += 1), get(e.label).tp++;
    else {
      const key = `${e.label}\u0000${p.label}`;
      const c = confusions.get(key) ?? { count: 0, example: e.text };
      c.count++;
      confusions.set(key, c);
    }
    const bin = bins[Math.min(9, Math.floor(p.confidence * 10))]!;
    bin.n++;
    bin.conf += p.confidence;
    if (ok) bin.ok++;
  }
  const perClass = [...stats]
    .filter(([, s]) => s.n > 0)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([label, s]) => {
      const precision = s.predicted ? s.tp / s.predicted : 0;
      const recall = s.tp / s.n;
      return {
        label,
        n: s.n,
        precision,
        recall,
        f1: precision + recall ? (2 * precision * recall) / (precision + recall) : 0,
      };
    });
  const reliability = bins.map((b, i) => ({
    from: i / 10,
    to: (i + 1) / 10,
    n: b.n,
    confidence: b.n ? b.conf / b.n : 0,
    accuracy: b.n ? b.ok / b.n : 0,
  }));
  return {
    examples: set.length,
    accuracy: correct / set.length,
    macroF1: perClass.reduce((a, c) => a + c.f1, 0) / perClass.length,
    perClass,
    confusions: [...confusions]
      .map(([k, c]) => ({ from: k.split('\u0000')[0]!, to: k.split('\u0000')[1]!, ...c }))
      .sort((a, b) => b.count - a.count),
    ece: reliability.reduce((a, b) => a + (b.n / set.length) * Math.abs(b.accuracy - b.confidence), 0),
    reliability,
  };
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

/** Complexity overall score of a single-turn prompt, as the complexity_router computes it. */
export function complexityOf(classifier: TaskClassifier, text: string): number {
  const view = promptView([{ role: 'user', content: text }]);
  return scoreComplexity(view, classifier.evidence(view.request)).overall;
}

/** One-line factual question: a single short line ending in "?" (what the cheapest tier should answer). */
export const isOneLineQuestion = (text: string) =>
  !text.includes('\n') && text.trim().endsWith('?') && text.split(/\s+/).length <= 12;

export interface ComplexitySets {
  /** Should land above the cheapest tier. */
  wordProblems: string[];
  codeAsks: string[];
  /** Should stay on the cheapest tier. */
  smallTalk: string[];
  oneLineFacts: string[];
}

export function complexitySets(publicTest: Example[], projectHeldOut: Example[]): ComplexitySets {
  return {
    wordProblems: publicTest.filter((e) => e.label === 'Math/Reasoning').map((e) => e.text),
    codeAsks: projectHeldOut.filter((e) => e.label === 'Code Generation').map((e) => e.text),
    smallTalk: projectHeldOut.filter((e) => e.label === 'Chatbot').map((e) => e.text),
    oneLineFacts: publicTest.filter((e) => e.label === 'Open QA' && isOneLineQuestion(e.text)).map((e) => e.text),
  };
}

/**
 * Tier boundaries from data. The cheapest tier's max_score maximises balanced accuracy between a cheap set
 * (small talk, one-line facts: should stay) and a hard set (word problems, code asks: should go up), at the
 * midpoint of the gap between the two scores it falls between. The upper tiers split what is above it into
 * thirds by score quantile.
 */
export function deriveTiers(cheap: number[], hard: number[], above: number[]): number[] {
  const candidates = [...new Set([...cheap, ...hard])].sort((a, b) => a - b);
  let best = 0;
  let bestScore = -1;
  for (let i = 0; i < candidates.length; i++) {
    const t = candidates[i]!;
    const score = cheap.filter((v) => v <= t).length / cheap.length + hard.filter((v) => v > t).length / hard.length;
    if (score > bestScore + 1e-12) (bestScore = score), (best = (t + (candidates[i + 1] ?? t)) / 2);
  }
  const first = Math.round(best * 1000) / 1000;
  const rest = above.filter((v) => v > first).sort((a, b) => a - b);
  const q = (p: number) => Math.round((rest[Math.floor(p * (rest.length - 1))] ?? 1) * 1000) / 1000;
  return [first, q(1 / 3), q(2 / 3), 1];
}

const pct = (v: number) => `${(v * 100).toFixed(1)}%`;

function printReport(title: string, r: EvalReport) {
  console.log(`\n## ${title}: ${r.examples} prompts`);
  console.log(
    `accuracy ${pct(r.accuracy)}   macro-F1 ${r.macroF1.toFixed(3)}   expected calibration error ${r.ece.toFixed(3)}`,
  );
  console.log('  class             n     precision  recall  F1');
  for (const c of r.perClass) {
    console.log(
      `  ${c.label.padEnd(16)} ${String(c.n).padStart(5)}   ${pct(c.precision).padStart(7)}   ${pct(c.recall).padStart(6)}  ${c.f1.toFixed(3)}`,
    );
  }
  console.log('top confusions (true -> predicted), with an example:');
  for (const c of r.confusions.slice(0, 5)) {
    console.log(
      `  ${String(c.count).padStart(4)}  ${c.from} -> ${c.to}: "${c.example.replace(/\s+/g, ' ').slice(0, 90)}${c.example.length > 90 ? '…' : ''}"`,
    );
  }
  console.log('reliability (confidence bin: prompts, mean confidence, accuracy):');
  for (const b of r.reliability.filter((b) => b.n > 0)) {
    console.log(
      `  ${b.from.toFixed(1)}-${b.to.toFixed(1)}  ${String(b.n).padStart(5)}  ${b.confidence.toFixed(3)}  ${b.accuracy.toFixed(3)}`,
    );
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { data: { type: 'string', default: DEFAULT_PUBLIC_DATA_DIR } } });
  const classifier = TaskClassifier.load();
  const project = readPrompts();
  const projectHeld = project.filter((e) => e.split === 'heldout');
  console.log(
    `task model ${DEFAULT_MODEL_FILE}: ${(statSync(DEFAULT_MODEL_FILE).size / 2 ** 20).toFixed(2)} MB, temperature ${classifier.temperature}`,
  );
  // Read and split once: the test split is evaluated, the calibration split derives the tiers below.
  const pub = publicDataAvailable(values.data) ? splitPublic(readPublicPrompts(values.data)) : [];
  const publicTest: Example[] = pub.filter((p) => p.split === 'test');
  if (pub.length > 0) {
    printReport(
      `Public held-out test split (${values.data}; seeded, stratified 15%, never trained on or calibrated on)`,
      evaluate(classifier, publicTest),
    );
  } else {
    console.log(`\n(public data not found at ${values.data}: pass --data DIR; only the project's set is evaluated)`);
  }
  printReport("Project's held-out templates (phrasings never seen in training)", evaluate(classifier, projectHeld));

  const chatLength = project.map((e) => e.text);
  const lat = measureLatency((t) => classifier.predict(t), chatLength);
  console.log(
    `\nlatency per prompt (project prompts, chat length): p50 ${lat.p50_us.toFixed(1)} µs, p99 ${lat.p99_us.toFixed(1)} µs (${lat.samples} calls)`,
  );

  const sets = complexitySets(publicTest, projectHeld);
  const score = (texts: string[]) => texts.map((t) => complexityOf(classifier, t));
  const scored = {
    wordProblems: score(sets.wordProblems),
    codeAsks: score(sets.codeAsks),
    smallTalk: score(sets.smallTalk),
    oneLineFacts: score(sets.oneLineFacts),
  };
  const calibrationTexts =
    pub.length > 0
      ? pub.filter((p) => p.split === 'calibration').map((p) => p.text)
      : project.filter((e) => e.split === 'train').map((e) => e.text);
  const trainProject = project.filter((e) => e.split === 'train');
  const tiers = deriveTiers(
    score([
      ...trainProject.filter((e) => e.label === 'Chatbot').map((e) => e.text),
      ...calibrationTexts.filter(isOneLineQuestion),
    ]),
    score(trainProject.filter((e) => e.label === 'Code Generation' || e.label === 'Math/Reasoning').map((e) => e.text)),
    score(calibrationTexts),
  );
  const cheapest = tiers[0]!;
  const share = (v: number[], above: boolean) =>
    v.length ? v.filter((s) => (above ? s > cheapest : s <= cheapest)).length / v.length : NaN;
  console.log(
    `\n## Complexity (complexity_router), tiers derived from the calibration split and the project's train templates`,
  );
  console.log(`derived tier max_score: simple ${tiers[0]}, moderate ${tiers[1]}, complex ${tiers[2]}, expert 1`);
  const rows: Array<[string, number[], boolean, number]> = [
    ['word problems (public test, GSM8K)', scored.wordProblems, true, 0.8],
    ['code-writing asks (project held-out)', scored.codeAsks, true, 0.8],
    ['greetings and small talk (project held-out)', scored.smallTalk, false, 0.9],
    ['one-line factual questions (public test)', scored.oneLineFacts, false, 0.9],
  ];
  for (const [name, v, above, goal] of rows) {
    const s = share(v, above);
    console.log(
      `  ${name.padEnd(46)} ${String(v.length).padStart(5)} prompts  ${above ? 'above' : 'on'} the cheapest tier: ${pct(s)} (goal >= ${pct(goal)}: ${s >= goal ? 'met' : 'NOT met'})`,
    );
  }
}
