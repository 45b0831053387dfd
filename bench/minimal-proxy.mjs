// The floor for any Node.js proxy: node:http in, one undici pool out, JSON parsed and re-serialised, no
// routing, metrics, logging or error handling. The router's added latency is read against this.
// Plain JavaScript so it runs on bare node, like the router's production build (no TypeScript loader).
// Prints {"port":N} when ready. Usage: minimal-proxy.mjs --upstream URL [--port 0] [--connections 256]
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';

const { values } = parseArgs({
  options: {
    upstream: { type: 'string' },
    port: { type: 'string', default: '0' },
    connections: { type: 'string', default: '256' },
  },
});
const pool = new Pool(values.upstream, { connections: Number(values.connections) });
const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', async () => {
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    const upstream = await pool.request({
      method: 'POST',
      path: '/v1/chat/completions',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...body, model: 'bench' }),
    });
    res.writeHead(upstream.statusCode, { 'content-type': String(upstream.headers['content-type']) });
    for await (const chunk of upstream.body) res.write(chunk);
    res.end();
  });
});
server.keepAliveTimeout = 60_000;
server.listen(Number(values.port), '127.0.0.1', () => console.log(JSON.stringify({ port: server.address().port })));
process.on('SIGTERM', () => process.exit(0));
