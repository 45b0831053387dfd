// A deliberately trivial OpenAI-compatible upstream (fixed answer, no work) so a benchmark measures the
// proxy or the load generator in front of it, not the server. Streams when the body asks for it:
// a role chunk, --chunks content chunks (--chunk-delay-ms apart), a usage chunk, [DONE].
// Prints {"port":N} when ready. Usage: fast-upstream.ts [--port 0] [--chunks 8] [--chunk-delay-ms 0]
import { createServer, type ServerResponse } from 'node:http';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: process.env.PORT ?? '0' },
    chunks: { type: 'string', default: '8' },
    'chunk-delay-ms': { type: 'string', default: '0' },
  },
});
const chunks = Number(values.chunks);
const chunkDelayMs = Number(values['chunk-delay-ms']);

const body = JSON.stringify({
  id: 'chatcmpl-bench',
  object: 'chat.completion',
  created: 0,
  model: 'bench',
  choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 12, completion_tokens: 1, total_tokens: 13 },
});
const event = (delta: object, extra: object = {}) =>
  `data: ${JSON.stringify({ id: 'chatcmpl-bench', object: 'chat.completion.chunk', created: 0, model: 'bench', choices: [{ index: 0, delta, finish_reason: null }], ...extra })}\n\n`;
const ROLE = event({ role: 'assistant', content: '' });
const TOKEN = event({ content: 'tok ' });
const USAGE = `data: ${JSON.stringify({ id: 'chatcmpl-bench', object: 'chat.completion.chunk', created: 0, model: 'bench', choices: [], usage: { prompt_tokens: 12, completion_tokens: chunks, total_tokens: 12 + chunks } })}\n\ndata: [DONE]\n\n`;

function stream(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  res.write(ROLE);
  if (chunkDelayMs === 0) return void res.end(TOKEN.repeat(chunks) + USAGE);
  let sent = 0;
  const timer = setInterval(() => {
    if (res.destroyed) return clearInterval(timer);
    res.write(TOKEN);
    if (++sent === chunks) clearInterval(timer), res.end(USAGE);
  }, chunkDelayMs);
}

const server = createServer((req, res) => {
  let text = '';
  req.setEncoding('utf8');
  req.on('data', (d: string) => (text += d));
  req.on('end', () => {
    if (text.includes('"stream":true')) return stream(res);
    res
      .writeHead(200, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
        'x-router-model': 'bench',
        'x-router-policy': 'manual',
      })
      .end(body);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(Number(values.port), '127.0.0.1', () =>
  console.log(JSON.stringify({ port: (server.address() as { port: number }).port })),
);
process.on('SIGTERM', () => process.exit(0));
