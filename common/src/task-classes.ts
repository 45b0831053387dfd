// The task classifier's classes. Runtime code (config validation, policies) reads them from here; the model
// file carries its own list, checked against this one when the classifier loads.
export const TASK_CLASSES = [
  'Brainstorming',
  'Chatbot',
  'Classification',
  'Closed QA',
  'Code Generation',
  'Extraction',
  'Open QA',
  'Other',
  'Rewrite',
  'Summarization',
  'Text Generation',
  'Math/Reasoning',
] as const;
export type TaskClass = (typeof TASK_CLASSES)[number];

/** Class label of a request whose classification confidence is under its policy's `min_confidence`. */
export const UNCERTAIN_CLASS = 'uncertain';
