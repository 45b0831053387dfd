// Complexity scorer with NVIDIA's six dimensions. Each dimension counts cues and saturates to 0..1, so more
// evidence raises a score with diminishing returns; the overall score uses NVIDIA's weights.
//
// Keyword counts alone miss most hard prompts (a grade-school word problem rarely says "calculate"): the
// reasoning, domain and creativity dimensions also take the task model's probabilities, learned from public
// labeled prompts, as evidence, combined with the cues as independent evidence (1 - (1-a)(1-b)). Tier
// thresholds in config/router.yaml come from `make classifier-eval`, which derives them from data.
import type { PromptView } from './prompt-text.ts';
import type { TaskClass } from '@llm-router/common/task-classes';

/** Class probabilities from the task classifier, by class name. */
export type TaskEvidence = Partial<Record<TaskClass, number>>;

/** How much each task class's probability counts towards a dimension (measured: make classifier-eval). */
export const TASK_EVIDENCE = {
  reasoning: { 'Math/Reasoning': 1, 'Code Generation': 0.7 },
  domain_knowledge: { 'Code Generation': 0.8 },
  creativity: { 'Text Generation': 0.5, Brainstorming: 0.3 },
} as const satisfies Record<string, TaskEvidence>;

export const COMPLEXITY_WEIGHTS = {
  creativity: 0.35,
  reasoning: 0.25,
  constraints: 0.15,
  domain_knowledge: 0.15,
  contextual_knowledge: 0.05,
  few_shot: 0.05,
} as const;
export type ComplexityDimension = keyof typeof COMPLEXITY_WEIGHTS;
export type ComplexityScores = Record<ComplexityDimension, number> & { overall: number };
/** Every dimension 0: the base that partial scores (an external classifier's) fill in. */
export const ZERO_COMPLEXITY: Readonly<ComplexityScores> = {
  creativity: 0,
  reasoning: 0,
  constraints: 0,
  domain_knowledge: 0,
  contextual_knowledge: 0,
  few_shot: 0,
  overall: 0,
};

const CUES: Record<Exclude<ComplexityDimension, 'contextual_knowledge' | 'few_shot'>, RegExp[]> = {
  creativity: [
    /\b(story|stories|poem|poetry|lyrics|song|haiku|limerick|novel|fiction|screenplay|script|fable)\b/gi,
    /\b(imagine|invent|creative|creatively|original|brainstorm|ideas?|slogan|tagline|metaphor|whimsical|humou?r(ous)?)\b/gi,
    /\b(in the style of|world-?building|character|plot|twist|narrat\w+)\b/gi,
  ],
  reasoning: [
    /\b(why|prove|proof|derive|deduce|infer|reason\w*|explain|justify|analy[sz]e|compare|evaluate|trade-?offs?)\b/gi,
    /\b(step by step|think through|if .{1,40} then|therefore|implies|consequen\w+|optimi[sz]e|algorithm|complexity)\b/gi,
    /\b(calculate|compute|solve|equation|probability|integral|derivative|theorem|lemma)\b/gi,
    /\d\s*[-+*/^=]\s*\d/g,
  ],
  constraints: [
    /\b(must|should not|do not|don't|never|always|only|exactly|at (most|least)|no more than|fewer than|under \d+|within \d+)\b/gi,
    /\b(\d+\s*(words?|sentences?|bullets?|paragraphs?|characters?|items?|lines?))\b/gi,
    /\b(json|yaml|csv|markdown|table|format(ted)?|schema|bullet points?)\b/gi,
    /\b(without using|avoid|must include|make sure|ensure|required?)\b/gi,
  ],
  domain_knowledge: [
    /\b(diagnos\w+|clinical|patient|pharmac\w+|dosage|symptoms?|oncology|cardio\w+|ecg|troponin)\b/gi,
    /\b(legal|statute|jurisdiction|contract|liability|plaintiff|tort|gdpr|compliance|regulat\w+)\b/gi,
    /\b(quantum|thermodynamic\w*|relativity|genom\w+|protein|enzyme|isotope|semiconductor|photosynthesis)\b/gi,
    /\b(kubernetes|microservices?|distributed|consensus|latency|throughput|compiler|kernel|cryptograph\w+|tcp|database)\b/gi,
    /\b(derivatives?|hedg\w+|amorti[sz]\w+|ebitda|valuation|portfolio|monetary|fiscal|actuarial)\b/gi,
  ],
};

const saturate = (count: number, halfAt: number) => 1 - 0.5 ** (count / halfAt);
const countMatches = (text: string, patterns: RegExp[]) =>
  patterns.reduce((n, re) => n + (text.match(re)?.length ?? 0), 0);

const evidence = (task: TaskEvidence | undefined, weights: TaskEvidence) => {
  let e = 0;
  if (task) for (const [cls, w] of Object.entries(weights)) e += w * (task[cls as TaskClass] ?? 0);
  return Math.min(1, e);
};
/** Two independent pieces of evidence for the same dimension. */
const either = (a: number, b: number) => 1 - (1 - a) * (1 - b);

export function scoreComplexity(view: PromptView, task?: TaskEvidence): ComplexityScores {
  const text = view.request;
  const creativity = either(
    saturate(countMatches(text, CUES.creativity), 1.5),
    evidence(task, TASK_EVIDENCE.creativity),
  );
  const reasoning = either(saturate(countMatches(text, CUES.reasoning), 2), evidence(task, TASK_EVIDENCE.reasoning));
  const constraints = saturate(countMatches(text, CUES.constraints), 2.5);
  const domain_knowledge = either(
    saturate(countMatches(`${text}\n${view.system}`, CUES.domain_knowledge), 2),
    evidence(task, TASK_EVIDENCE.domain_knowledge),
  );
  // Context the model must take in: long requests, pasted documents, conversation history.
  const contextWords = view.requestWords + view.historyWords;
  const contextual_knowledge = saturate(
    contextWords / 150 + (/"""|```|\n\s*\n|context:|passage:|document:/i.test(text) ? 1 : 0),
    1.5,
  );
  // Worked examples in the prompt: "Example:", "Input:/Output:", "Q:/A:" pairs.
  const shots = `${text}\n${view.system}`.match(/\b(example\s*\d*|input|q)\s*:/gi)?.length ?? 0;
  const few_shot = saturate(shots, 2);
  const scores = { creativity, reasoning, constraints, domain_knowledge, contextual_knowledge, few_shot };
  let overall = 0;
  for (const [dim, w] of Object.entries(COMPLEXITY_WEIGHTS)) overall += w * scores[dim as ComplexityDimension];
  const round = (v: number) => Math.round(v * 1000) / 1000;
  return {
    creativity: round(creativity),
    reasoning: round(reasoning),
    constraints: round(constraints),
    domain_knowledge: round(domain_knowledge),
    contextual_knowledge: round(contextual_knowledge),
    few_shot: round(few_shot),
    overall: round(overall),
  };
}
