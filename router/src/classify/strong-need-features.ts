// Features of a prompt for the strong-need score (strong-need.ts): what makes a cheap model fail where an
// expensive one succeeds. Two kinds, in one sparse vector:
//  - dense, at fixed indices: size and structure (numbers, operators, answer choices, statements to judge,
//    negations), the task model's class probabilities and the complexity dimensions. They carry across
//    subjects and benchmarks, which words alone do not (held-out subjects in make routing-eval show it);
//  - hashed words and word pairs of the request, after the dense block.
import { scoreComplexity, type ComplexityScores } from './complexity.ts';
import type { PromptView } from './prompt-text.ts';

/** Names of the dense features, in index order (the model file carries this list and is checked against it). */
export const DENSE_FEATURES = [
  'log_chars',
  'log_words',
  'log_numbers',
  'log_distinct_numbers',
  'log_sentences',
  'questions',
  'log_operators',
  'math_notation',
  'statements',
  'choices',
  'log_choice_chars',
  'negated_ask',
  'paired_parts',
  'numeric_choices',
  'log_question_chars',
  'numbers_per_sentence',
  'negations',
  'percent',
  'money',
  'ratios',
  'mean_word_length',
  'long_words',
  'capitalised',
  'code',
  'log_history_words',
  'turns',
  'task_max',
  'task:Brainstorming',
  'task:Chatbot',
  'task:Classification',
  'task:Closed QA',
  'task:Code Generation',
  'task:Extraction',
  'task:Open QA',
  'task:Other',
  'task:Rewrite',
  'task:Summarization',
  'task:Text Generation',
  'task:Math/Reasoning',
  'cx:creativity',
  'cx:reasoning',
  'cx:constraints',
  'cx:domain_knowledge',
  'cx:contextual_knowledge',
  'cx:few_shot',
  'cx:overall',
] as const;
export const DENSE_COUNT = DENSE_FEATURES.length;
export const WORD_HASH_BITS = 16;
const WORD_MASK = (1 << WORD_HASH_BITS) - 1;
const NS_WORD = 0x2545f491;
const NS_PAIR = 0x9e3779b9;

/**
 * Tokens looked up in the word-meaning table (GloVe's vocabulary: lowercase words and numbers). The model file keeps
 * one value per vocabulary word, by the hash below; the mean over a request's known tokens enters its log-odds.
 */
const NS_SEMANTIC = 0x27d4eb2f;
/** The hash a vocabulary word is kept under (a run of a-z, or of digits). */
export const semanticHash = (token: string) => fnv1a(token, NS_SEMANTIC);

/**
 * Calls `fn` with the hash of each token of `text`: a run of ASCII letters (lowercased) or of digits. One pass, no
 * strings made; training and the router both read requests through it.
 */
export function forEachSemanticHash(text: string, fn: (hash: number) => void): void {
  let h = NS_SEMANTIC;
  let kind = 0; // 0: between tokens, 1: letters, 2: digits
  for (let i = 0; i <= text.length; i++) {
    let c = i < text.length ? text.charCodeAt(i) : 0;
    const upper = c >= 65 && c <= 90;
    if (upper) c |= 0x20;
    const k = (c >= 97 && c <= 122) || upper ? 1 : c >= 48 && c <= 57 ? 2 : 0;
    if (k !== kind && kind !== 0) fn(h >>> 0);
    if (k !== kind) h = NS_SEMANTIC;
    if (k !== 0) h = Math.imul(h ^ c, 0x01000193);
    kind = k;
  }
}

/** The task model's probabilities, in TASK_CLASSES order (task-classifier.ts). */
export type TaskProbabilities = ArrayLike<number>;

export interface SparseFeatures {
  /** Dense values, DENSE_COUNT of them (raw: the model standardises them). */
  dense: Float64Array;
  /** Hashed word and word-pair buckets (may repeat). */
  words: number[];
  /** The word-meaning part of the log-odds (strong-need.ts fills it in from its model's table). */
  semantic?: number;
}

function fnv1a(s: string, seed: number): number {
  let h = seed;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

const WORD = /[\p{L}]+|\d+(?:[.,]\d+)*/gu;
const isDigit = (c: number) => c >= 48 && c <= 57;
/** Letters: ASCII ones, and any code unit from Latin-1's letters up that is not a space or punctuation block. */
const isLetter = (c: number) =>
  (c >= 97 && c <= 122) ||
  (c >= 65 && c <= 90) ||
  (c >= 0xc0 && c !== 0xd7 && c !== 0xf7 && !(c >= 0x2000 && c <= 0x206f) && !(c >= 0x3000 && c <= 0x303f));

/** Words (runs of letters, or numbers like 1,250.5) and their letters, long ones and capitalised ones, in one pass. */
function wordStats(text: string) {
  let words = 0;
  let letters = 0;
  let long = 0;
  let capitalised = 0;
  for (let i = 0; i < text.length; ) {
    const c = text.charCodeAt(i);
    if (isLetter(c)) {
      let j = i + 1;
      while (j < text.length && isLetter(text.charCodeAt(j))) j++;
      // A capital inside the request (not its first word): names, terms, acronyms.
      if (words > 0 && c >= 65 && c <= 90) capitalised++;
      words++;
      letters += j - i;
      if (j - i >= 9) long++;
      i = j;
    } else if (isDigit(c)) {
      let j = i + 1;
      while (
        j < text.length &&
        (isDigit(text.charCodeAt(j)) ||
          ((text[j] === '.' || text[j] === ',') && j + 1 < text.length && isDigit(text.charCodeAt(j + 1))))
      )
        j++;
      words++;
      letters += j - i;
      if (j - i >= 9) long++;
      i = j;
    } else i++;
  }
  return { words, letters, long, capitalised };
}
const NUMBER = /\d+(?:[.,]\d+)*/g;
const SENTENCE_END = /[.!?](?:\s|$)/g;
const OPERATOR = /[=+*/^<>×÷−]|\s-\s/g;
const MATH_NOTATION = /\\frac|\\sqrt|sqrt\(|\$[^$\n]+\$|\^\d|\b[a-z]\s*=\s*[-\d(]|\b(?:log|sin|cos|tan|lim)\b|∫|∑|√|π/i;
const CHOICE_LINE = /^\s*\(?[A-J][.)]\s+(.*)$/gm;
/** CHOICE_LINE without the global flag (no lastIndex to carry between calls). */
const CHOICE_START = new RegExp(CHOICE_LINE.source, 'm');
const STATEMENT = /\bstatement\s*[12]\b/gi;
const NEGATED_ASK = /\b(?:NOT|EXCEPT|LEAST|FALSE|INCORRECT)\b/;
const NEGATION = /\b(?:not|except|least|never|no longer|false|incorrect|cannot)\b/gi;
const PERCENT = /%|\bpercent/gi;
const MONEY = /\$\s?\d|\b\d+\s*(?:dollars?|cents?)\b/gi;
const RATIO =
  /\b(?:twice|half|thrice|double|triple|times as|ratio|per|each|every|remaining|rest of|fraction|average)\b/gi;
const CODE = /```|=>|\bdef |\bfunction\b|[{};]\s*$|\w\(\)|#include|\breturn\b/m;

const count = (text: string, re: RegExp) => text.match(re)?.length ?? 0;

/** Whether a request lists answer choices ("A. ...", "(B) ..."): the `choices` feature is above 0 exactly then. */
export const hasChoices = (text: string) => CHOICE_START.test(text);
/** The `log_words` feature, alone. */
export const logWords = (view: PromptView) => Math.log1p(view.requestWords);

/**
 * Features of the request in `view` (its windowed last user message, with the conversation's size). `withWords`:
 * also the hashed words and word pairs (a model without word weights skips them).
 */
export function strongNeedFeatures(
  view: PromptView,
  task: TaskProbabilities,
  complexity: ComplexityScores = scoreComplexity(view, undefined),
  withWords = true,
): SparseFeatures {
  const text = view.request;
  const dense = new Float64Array(DENSE_COUNT);
  const numbers = text.match(NUMBER) ?? [];
  let choiceChars = 0;
  let choices = 0;
  let numericChoices = 0;
  let firstChoice = -1;
  for (const m of text.matchAll(CHOICE_LINE)) {
    choices++;
    choiceChars += m[1]!.length;
    if (firstChoice < 0) firstChoice = m.index;
    if (/^[\s\d.,\-+/%$()^*=x]+$/.test(m[1]!) && /\d/.test(m[1]!)) numericChoices++;
  }
  const sentences = count(text, SENTENCE_END);
  const { words: wordCount, letters, long, capitalised } = wordStats(text);
  const nw = Math.max(1, wordCount);
  let i = 0;
  dense[i++] = Math.log1p(text.length);
  dense[i++] = logWords(view);
  dense[i++] = Math.log1p(numbers.length);
  dense[i++] = Math.log1p(new Set(numbers).size);
  dense[i++] = Math.log1p(sentences);
  dense[i++] = Math.min(3, count(text, /\?/g));
  dense[i++] = Math.log1p(count(text, OPERATOR));
  dense[i++] = MATH_NOTATION.test(text) ? 1 : 0;
  dense[i++] = Math.min(2, count(text, STATEMENT));
  dense[i++] = Math.min(10, choices);
  dense[i++] = choices ? Math.log1p(choiceChars / choices) : 0;
  dense[i++] = NEGATED_ASK.test(text) ? 1 : 0;
  // "Statement 1 | ... Statement 2 | ...", "Scenario 1 | ...": two judgements in one answer.
  dense[i++] = Math.min(4, count(text, /\|/g));
  dense[i++] = choices ? numericChoices / choices : 0;
  dense[i++] = Math.log1p(firstChoice < 0 ? text.length : firstChoice);
  dense[i++] = Math.min(10, numbers.length / Math.max(1, sentences));
  dense[i++] = Math.min(5, count(text, NEGATION));
  dense[i++] = Math.min(5, count(text, PERCENT));
  dense[i++] = Math.min(5, count(text, MONEY));
  dense[i++] = Math.min(8, count(text, RATIO));
  dense[i++] = letters / nw;
  dense[i++] = long / nw;
  dense[i++] = capitalised / nw;
  dense[i++] = CODE.test(text) ? 1 : 0;
  dense[i++] = Math.log1p(view.historyWords);
  dense[i++] = Math.min(10, view.turns);
  let max = 0;
  for (let c = 0; c < task.length; c++) max = Math.max(max, task[c]!);
  dense[i++] = max;
  for (let c = 0; c < task.length; c++) dense[i++] = task[c]!;
  dense[i++] = complexity.creativity;
  dense[i++] = complexity.reasoning;
  dense[i++] = complexity.constraints;
  dense[i++] = complexity.domain_knowledge;
  dense[i++] = complexity.contextual_knowledge;
  dense[i++] = complexity.few_shot;
  dense[i++] = complexity.overall;
  if (i !== DENSE_COUNT) throw new Error(`strongNeedFeatures: ${i} dense values for ${DENSE_COUNT} names`);

  const out: number[] = [];
  if (!withWords) return { dense, words: out };
  let prev = '';
  for (const raw of text.match(WORD) ?? []) {
    // Numbers as their shape: "1,250" and "37" say "a number", not which one.
    const w = /\d/.test(raw) ? `#${Math.min(raw.length, 4)}` : raw.toLowerCase();
    out.push(fnv1a(w, NS_WORD) & WORD_MASK);
    if (prev) out.push(fnv1a(`${prev} ${w}`, NS_PAIR) & WORD_MASK);
    prev = w;
  }
  return { dense, words: out };
}
