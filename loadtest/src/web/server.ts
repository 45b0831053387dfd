// The load generator's web UI: start/stop/reset runs, live stats over server-sent events, downloads.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { LoadtestMetrics } from '../metrics/loadtest-metrics.ts';
import { z } from 'zod';
import { runOptionsSchema, type RunOptionsInput } from '../options.ts';
import type { PriceTable } from '../price-table.ts';
import { summaryCsv, summaryHtml } from '../report.ts';
import { LoadRun, type RunSummary } from '../runner.ts';

const require = createRequire(import.meta.url);
const STATIC: Record<string, { file: string; type: string }> = {
  '/': { file: new URL('./index.html', import.meta.url).pathname, type: 'text/html; charset=utf-8' },
  '/vendor/uplot.js': { file: require.resolve('uplot/dist/uPlot.iife.min.js'), type: 'text/javascript' },
  '/vendor/uplot.css': { file: require.resolve('uplot/dist/uPlot.min.css'), type: 'text/css' },
};
const MAX_BODY = 64 * 1024;
/** The tab's icon: a small chart, inline (no file to ship). */
const FAVICON =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" fill="#3d6df2"/><path d="M3 12l3-4 3 2 4-6" stroke="#fff" stroke-width="1.6" fill="none"/></svg>';
const editSchema = z
  .object({ users: z.number().int().min(1).max(100_000), spawn_rate: z.number().positive().optional() })
  .strict();

export interface WebUiOptions {
  port: number;
  host: string;
  metrics: LoadtestMetrics;
  prices: PriceTable;
  defaults: RunOptionsInput;
}

export async function startWebUi(opts: WebUiOptions) {
  let run: LoadRun | undefined;
  let last: RunSummary | undefined;
  const clients = new Set<ServerResponse>();
  const defaults = runOptionsSchema.parse(opts.defaults);

  const broadcast = (event: string, data: unknown) => {
    const frame = `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
    for (const c of clients) c.write(frame);
  };
  const current = (): RunSummary | undefined => (run ? run.summary() : last);
  const json = (res: ServerResponse, status: number, body: unknown): void =>
    void res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  const error = (res: ServerResponse, status: number, message: string): void =>
    json(res, status, { error: { message, type: 'invalid_request_error', param: null, code: null } });

  async function readJson(req: IncomingMessage): Promise<unknown> {
    let size = 0;
    const chunks: Buffer[] = [];
    for await (const c of req) {
      size += (c as Buffer).length;
      if (size > MAX_BODY) throw new Error('body too large');
      chunks.push(c as Buffer);
    }
    const text = Buffer.concat(chunks).toString('utf8');
    return text ? JSON.parse(text) : {};
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    const path = url.pathname;
    if (req.method === 'GET' && STATIC[path]) {
      res
        .writeHead(200, { 'content-type': STATIC[path]!.type, 'cache-control': 'no-cache' })
        .end(readFileSync(STATIC[path]!.file));
      return;
    }
    if (req.method === 'GET' && path === '/favicon.ico') {
      res.writeHead(200, { 'content-type': 'image/svg+xml', 'cache-control': 'max-age=86400' }).end(FAVICON);
      return;
    }
    if (req.method === 'GET' && path === '/metrics') {
      res
        .writeHead(200, { 'content-type': opts.metrics.registry.contentType })
        .end(await opts.metrics.registry.metrics());
      return;
    }
    if (req.method === 'GET' && path === '/api/state') return json(res, 200, { defaults, summary: current() ?? null });
    if (req.method === 'GET' && path === '/api/events') {
      res.writeHead(200, {
        'content-type': 'text/event-stream',
        'cache-control': 'no-cache',
        connection: 'keep-alive',
      });
      res.write(`event: summary\ndata: ${JSON.stringify(current() ?? null)}\n\n`);
      clients.add(res);
      req.on('close', () => clients.delete(res));
      return;
    }
    if (req.method === 'POST' && path === '/api/start') {
      if (run && run.state !== 'done') return error(res, 409, 'A run is already in progress: stop it first.');
      let body: unknown;
      try {
        body = await readJson(req);
      } catch (err) {
        return error(res, 400, `Invalid JSON body: ${(err as Error).message}`);
      }
      const parsed = runOptionsSchema.safeParse({ ...opts.defaults, ...(body as object) });
      if (!parsed.success)
        return error(
          res,
          400,
          parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '),
        );
      let started: LoadRun;
      try {
        started = new LoadRun(parsed.data, opts.metrics, opts.prices);
      } catch (err) {
        return error(res, 400, (err as Error).message); // a prompt file that cannot be read
      }
      run = started;
      started.on('tick', () => broadcast('summary', started.summary()));
      started.on('done', (s: RunSummary) => {
        last = s;
        if (run === started) run = undefined;
        broadcast('summary', s);
      });
      broadcast('summary', started.summary());
      return json(res, 200, started.summary());
    }
    if (req.method === 'POST' && path === '/api/users') {
      if (run?.state !== 'running') return error(res, 409, 'No run in progress: start one first.');
      let body: unknown;
      try {
        body = await readJson(req);
      } catch (err) {
        return error(res, 400, `Invalid JSON body: ${(err as Error).message}`);
      }
      const parsed = editSchema.safeParse(body);
      if (!parsed.success)
        return error(
          res,
          400,
          parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '),
        );
      run.setUsers(parsed.data.users, parsed.data.spawn_rate);
      const s = run.summary();
      broadcast('summary', s);
      return json(res, 200, s);
    }
    if (req.method === 'POST' && path === '/api/stop') {
      if (!run) return json(res, 200, current() ?? null);
      const s = await run.stop();
      return json(res, 200, s);
    }
    if (req.method === 'POST' && path === '/api/reset') {
      if (run) return error(res, 409, 'Stop the run before resetting.');
      last = undefined;
      broadcast('summary', null);
      return json(res, 200, null);
    }
    const report = /^\/api\/report\.(json|csv|html)$/.exec(path);
    if (req.method === 'GET' && report) {
      const s = current();
      if (!s) return error(res, 404, 'No run yet.');
      const kind = report[1]!;
      const body = kind === 'json' ? JSON.stringify(s, null, 2) : kind === 'csv' ? summaryCsv(s) : summaryHtml(s);
      const type = { json: 'application/json', csv: 'text/csv', html: 'text/html; charset=utf-8' }[kind]!;
      res
        .writeHead(200, {
          'content-type': type,
          'content-disposition': `attachment; filename="loadtest-report.${kind}"`,
        })
        .end(body);
      return;
    }
    error(res, 404, `Unknown route ${req.method} ${path}`);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err) => {
      if (!res.headersSent) error(res, 500, String(err));
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, resolve);
  });
  const port = (server.address() as { port: number }).port;
  return {
    port,
    url: `http://${opts.host}:${port}`,
    async close() {
      await run?.stop(1);
      for (const c of clients) c.end();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
