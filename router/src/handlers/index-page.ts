// GET / and GET /v1: what someone who opens the router's address (or its base URL) in a browser sees — where
// everything is. Not a secret, so served without a client key.
import { ENDPOINT_SPECS } from '../http/endpoints.ts';
import { sendJson } from '../http/errors.ts';
import type { RouteCall } from '../http/route-table.ts';

export function indexPage({ req, res }: RouteCall): void {
  const base = `http://${req.headers.host ?? 'localhost'}`;
  sendJson(res, 200, {
    name: 'llm-router',
    openai_base_url: `${base}/v1`,
    endpoints: [
      ...Object.values(ENDPOINT_SPECS).map((e) => `POST /v1${e.path}`),
      'POST /v1/route',
      'POST /v1/feedback',
      'POST /v1/messages/count_tokens',
      'GET /v1/models',
      'GET /v1/deployments',
    ],
    metrics: `${base}/metrics`,
    health: `${base}/health`,
    ready: `${base}/ready`,
  });
}
