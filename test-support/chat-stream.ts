// Streams a chat completion with the openai SDK (usage asked for) and gathers what a client reads from it.
import type OpenAI from 'openai';

export async function streamChat(
  client: OpenAI,
  model: string,
  content: string,
): Promise<{ text: string; finish: string | null | undefined; usage: OpenAI.CompletionUsage | undefined }> {
  const stream = await client.chat.completions.create({
    model,
    stream: true,
    stream_options: { include_usage: true },
    messages: [{ role: 'user', content }],
  });
  let text = '';
  let usage: OpenAI.CompletionUsage | undefined;
  let finish: string | null | undefined;
  for await (const c of stream) {
    text += c.choices[0]?.delta.content ?? '';
    finish = c.choices[0]?.finish_reason ?? finish;
    if (c.usage) usage = c.usage;
  }
  return { text, finish, usage };
}
