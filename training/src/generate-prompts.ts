// Expands prompt-templates.ts into data/task-prompts.jsonl, deterministically (seeded).
// Run: make classifier-data   (then make classifier-train)
import { writeFileSync } from 'node:fs';
import { mulberry32 } from '@llm-router/common/prng';
import { fileURLToPath } from 'node:url';
import { MORE_SLOTS, MORE_TEMPLATES } from './more-templates.ts';
import { SLOTS, TASK_CLASSES, TEMPLATES } from './prompt-templates.ts';

export interface LabeledPrompt {
  text: string;
  label: string;
  /** Template id: templates, not single prompts, are split between train and held-out. */
  template: string;
  split: 'train' | 'heldout';
}

/** Every 5th template of a class (offset 2) is held out: ~20% of phrasings never seen in training. */
export const isHeldOutTemplate = (index: number) => index % 5 === 2;
const FILLS_PER_TEMPLATE = 8;

const ALL_SLOTS: Record<string, string[]> = { ...SLOTS, ...MORE_SLOTS };
const SLOT = /\{(\w+)\}/g;
const HAS_SLOT = /\{\w+\}/;

/** People type in lowercase and skip the final period: a share of the one-line fills do too. */
function casual(text: string, rand: () => number): string {
  const r = rand();
  if (text.includes('\n')) return text;
  if (r < 0.2) return text.toLowerCase().replace(/[.!]\s*$/, '');
  if (r < 0.3) return text.replace(/[.]\s*$/, '');
  return text;
}

export function generatePrompts(seed = 20261122): LabeledPrompt[] {
  const rand = mulberry32(seed);
  const out: LabeledPrompt[] = [];
  for (const label of TASK_CLASSES) {
    [...TEMPLATES[label], ...(MORE_TEMPLATES[label] ?? [])].forEach((template, index) => {
      const seen = new Set<string>();
      // A template that is one slot ("{smalltalk}") is a list of whole prompts: take more of them.
      const fills = /^\{\w+\}$/.test(template) ? FILLS_PER_TEMPLATE * 2 : FILLS_PER_TEMPLATE;
      for (let k = 0; k < fills * 3 && seen.size < fills; k++) {
        let text = template;
        // Slot values may hold slots of their own ("a jingle about {product}"): expand up to three levels.
        for (let depth = 0; depth < 3 && HAS_SLOT.test(text); depth++) {
          text = text.replace(SLOT, (_m, slot: string) => {
            const options = ALL_SLOTS[slot];
            if (!options) throw new Error(`template "${template}" uses unknown slot {${slot}}`);
            return options[Math.floor(rand() * options.length)]!;
          });
        }
        text = casual(text, rand).trim();
        if (seen.has(text)) continue;
        seen.add(text);
        out.push({ text, label, template: `${label}#${index}`, split: isHeldOutTemplate(index) ? 'heldout' : 'train' });
      }
    });
  }
  return out;
}

export const DATA_FILE = fileURLToPath(new URL('./data/task-prompts.jsonl', import.meta.url));

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const prompts = generatePrompts();
  writeFileSync(DATA_FILE, `${prompts.map((p) => JSON.stringify(p)).join('\n')}\n`);
  const held = prompts.filter((p) => p.split === 'heldout').length;
  console.log(`wrote ${prompts.length} prompts (${prompts.length - held} train, ${held} held out) to ${DATA_FILE}`);
}
