import assert from 'node:assert/strict';
import { test } from 'node:test';
import { estimatePromptTokens, promptView } from '../src/classify/prompt-text.ts';
import { requiredCapabilities } from '../src/routing/capabilities.ts';
import { PromptFacts } from '../src/routing/prompt-facts.ts';
import { sessionKey } from '../src/routing/sessions.ts';

/** Messages whose content counts how often it is read. */
function counted(messages: Array<{ role: string; content: unknown }>) {
  const reads = { n: 0 };
  const watched = messages.map((m) => {
    const out = { role: m.role } as { role: string; content?: unknown };
    Object.defineProperty(out, 'content', {
      enumerable: true,
      get: () => {
        reads.n++;
        return m.content;
      },
    });
    return out;
  });
  return { watched, reads };
}

const CONVERSATION = [
  { role: 'system', content: 'You are terse.' },
  { role: 'user', content: 'Write a Python function that merges two sorted lists.' },
  { role: 'assistant', content: 'def merge(a, b): ...' },
  {
    role: 'user',
    content: [
      { type: 'text', text: 'Now explain this diagram.' },
      { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } },
    ],
  },
];

test('prompt facts equal what the readers compute, and each message text is read once for all of them', () => {
  const { watched, reads } = counted(CONVERSATION);
  const facts = new PromptFacts({ messages: watched, features: { tools: [{ type: 'function' }] } });
  assert.deepEqual(facts.view, promptView(CONVERSATION));
  assert.equal(facts.tokens, estimatePromptTokens(CONVERSATION));
  assert.deepEqual(facts.needs, requiredCapabilities({ messages: CONVERSATION, tools: [{ type: 'function' }] }));
  assert.deepEqual(facts.needs, ['vision', 'tools']);
  assert.deepEqual(
    sessionKey(undefined, undefined, watched, facts.texts),
    sessionKey(undefined, undefined, CONVERSATION),
  );
  const afterAll = reads.n;
  // The view, tokens, texts and session key share one read of each message's text; needs scans content once more.
  assert.ok(afterAll <= CONVERSATION.length * 2, `content read ${afterAll} times for ${CONVERSATION.length} messages`);
  void facts.view, facts.tokens, facts.needs, facts.texts;
  assert.equal(reads.n, afterAll, 'asking again reads nothing');
});

test('token-id prompts keep their exact size; a prompt routed by name computes no view', () => {
  const facts = new PromptFacts({ messages: [{ role: 'user', content: 'x' }], promptTokens: 1234 });
  assert.equal(facts.tokens, 1234);
  const { watched, reads } = counted(CONVERSATION);
  const byName = new PromptFacts({ messages: watched });
  assert.equal(byName.tokens, estimatePromptTokens(CONVERSATION));
  assert.equal(reads.n, CONVERSATION.length, 'the token count alone reads each message once');
});
