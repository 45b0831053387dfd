// Classifier cost per request: task classifier (hashed logistic regression) and complexity scorer,
// p50/p99 µs per prompt over the project's 1,840 labeled prompts and on long pasted documents, plus the
// memory the task model takes.
// Usage: node --expose-gc --import tsx bench/classifier.ts [--rounds 20]
import { parseArgs } from 'node:util';
import { scoreComplexity } from '@llm-router/router/classify/complexity';
import { promptView } from '@llm-router/router/classify/prompt-text';
import { TaskClassifier } from '@llm-router/router/classify/task-classifier';
import { StrongNeedScorer } from '@llm-router/router/classify/strong-need';
import { measureLatency } from '@llm-router/training/evaluate';
import { readPrompts } from '@llm-router/training/train';
import { fmt, table } from './lib/table.ts';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '20' } } });
const rounds = Number(values.rounds);
const gc = (globalThis as { gc?: () => void }).gc;
const MB = 2 ** 20;

const texts = readPrompts().map((e) => e.text);
// Typed arrays live outside the JS heap: count both.
const used = () => (gc?.(), process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers);
const before = used();
const classifier = TaskClassifier.load();
const modelBytes = used() - before;

const latency = (fn: (text: string) => unknown) => measureLatency(fn, texts, rounds);

const beforeScorer = used();
const scorer = StrongNeedScorer.load(classifier);
const scorerBytes = used() - beforeScorer;
const task = latency((t) => classifier.predict(t));
const complexity = latency((t) => scoreComplexity(promptView([{ role: 'user', content: t }])));
// The strong-need score reads the task model's probabilities and the complexity scores too: its figure is all three.
const strongNeed = latency((t) => scorer.score(promptView([{ role: 'user', content: t }])));
// A chat-length prompt: a few sentences of a request, as a chat user writes (the prompt set's are one line).
const chatLength = texts.filter((t) => t.length >= 300 && t.length <= 1500);
const strongNeedChat = measureLatency(
  (t) => scorer.score(promptView([{ role: 'user', content: t }])),
  chatLength,
  rounds,
);
console.log(`${texts.length} prompts x ${rounds} rounds, one core\n`);
table(
  ['classifier', 'p50 µs', 'p99 µs', 'calls'],
  [
    ['task (task_router)', fmt(task.p50_us, 1), fmt(task.p99_us, 1), task.samples],
    ['complexity (complexity_router)', fmt(complexity.p50_us, 1), fmt(complexity.p99_us, 1), complexity.samples],
    ['strong-need (quality_router)', fmt(strongNeed.p50_us, 1), fmt(strongNeed.p99_us, 1), strongNeed.samples],
    [
      `strong-need, ${chatLength.length} prompts of 300-1,500 chars`,
      fmt(strongNeedChat.p50_us, 1),
      fmt(strongNeedChat.p99_us, 1),
      strongNeedChat.samples,
    ],
  ],
);

// Long prompts (pasted documents), as the router classifies them: promptView bounds what is read.
const doc = texts.join('\n');
const rows: unknown[][] = [];
for (const size of [2_000, 32_000, 128_000]) {
  const long = [
    `Summarize the following document in five bullet points:\n\n${doc.repeat(Math.ceil(size / doc.length)).slice(0, size)}`,
  ];
  const asRouted = (fn: (view: ReturnType<typeof promptView>) => unknown) =>
    measureLatency((t) => fn(promptView([{ role: 'user', content: t }])), long, 200);
  const task = asRouted((v) => classifier.predict(v.request));
  const cx = asRouted((v) => scoreComplexity(v));
  const need = asRouted((v) => scorer.score(v));
  const full = measureLatency((t) => classifier.predict(t), long, 20);
  rows.push([
    `${fmt(size / 1000, 0)} KB`,
    fmt(task.p50_us, 1),
    fmt(task.p99_us, 1),
    fmt(cx.p50_us, 1),
    fmt(cx.p99_us, 1),
    fmt(need.p50_us, 1),
    fmt(full.p50_us, 0),
  ]);
}
console.log('\nlong prompts, as routed: promptView (a window: first 1,000 + last 500 characters) then the classifier');
table(
  [
    'prompt',
    'task p50 µs',
    'task p99 µs',
    'complexity p50 µs',
    'complexity p99 µs',
    'strong-need p50 µs',
    'task on the whole text p50 µs',
  ],
  rows,
);
console.log(
  `\ntask model in memory: ${gc ? `${fmt(modelBytes / MB, 1)} MB (heap + typed arrays)` : 'run with --expose-gc to measure'}; process RSS ${fmt(process.memoryUsage().rss / MB, 0)} MB`,
);
console.log(
  `strong-need model in memory: ${gc ? `${fmt(scorerBytes / MB, 2)} MB` : 'run with --expose-gc to measure'}`,
);
console.log(
  `goal: classifier p50 <= 50 µs on the prompt set: ${Math.max(task.p50_us, complexity.p50_us) <= 50 ? 'met' : 'NOT met'}; long prompts stay bounded (table above)`,
);
console.log(
  `goal: strong-need score p50 <= 30 µs on a chat-length prompt: ${strongNeedChat.p50_us <= 30 ? 'met' : 'NOT met'} (${fmt(strongNeedChat.p50_us, 1)} µs)`,
);
