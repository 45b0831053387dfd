// A scriptable OpenAI-compatible upstream on loopback, for faults llm-sim does not make: redirects, HTML,
// secrets in errors, odd SSE line endings, streams that fail half-way or never end. Each test routes by path:
// a deployment's api_base is `${url}/<name>/v1`, and `behave` decides per request.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';

export interface UpstreamRequest {
  /** The first path segment: which fake deployment was called. */
  name: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: Record<string, unknown>;
  /** The body as it arrived. */
  text: string;
}
export type Behaviour = (req: UpstreamRequest, res: ServerResponse) => void | Promise<void>;

export interface FakeUpstream {
  url: string;
  requests: UpstreamRequest[];
  /** Requests to one fake deployment. */
  count(name: string): number;
  /** Responses still open (streams the fixture is writing). */
  open(): number;
  close(): Promise<void>;
}

export async function startFakeUpstream(behave: Behaviour): Promise<FakeUpstream> {
  const requests: UpstreamRequest[] = [];
  let open = 0;
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const r: UpstreamRequest = {
      name: (req.url ?? '/').split('/')[1] ?? '',
      path: req.url ?? '/',
      headers: req.headers,
      body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
      text,
    };
    requests.push(r);
    open++;
    res.once('close', () => open--);
    try {
      await behave(r, res);
    } catch {
      res.destroy();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    requests,
    count: (name) => requests.filter((r) => r.name === name).length,
    open: () => open,
    close: () => new Promise((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  };
}

/** A chat completion body with usage. */
export const completion = (
  model: string,
  content = 'ok',
  usage = { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 },
) =>
  JSON.stringify({
    id: 'chatcmpl-1',
    object: 'chat.completion',
    created: 0,
    model,
    choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
    usage,
  });

/** The chunks of a short stream: role, two content deltas, finish, usage-only chunk. */
export const streamChunks = (model: string) => [
  {
    id: 'c',
    object: 'chat.completion.chunk',
    model,
    choices: [{ index: 0, delta: { role: 'assistant', content: '' } }],
  },
  { id: 'c', object: 'chat.completion.chunk', model, choices: [{ index: 0, delta: { content: 'Hel' } }] },
  { id: 'c', object: 'chat.completion.chunk', model, choices: [{ index: 0, delta: { content: 'lo' } }] },
  { id: 'c', object: 'chat.completion.chunk', model, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] },
  {
    id: 'c',
    object: 'chat.completion.chunk',
    model,
    choices: [],
    usage: { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 },
  },
];
