// Every route but the busy ones: inference with a non-plain body (gzip, other charsets), /v1/route,
// /v1/deployments, /v1/models, unknown routes. Express 5 is loaded on the first such request (app.ts), not at
// start: most routers never serve one, and express costs ~6 MB of resident memory.
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { NextFunction, Request, Response } from 'express';
import { estimatePromptTokens, type ChatMessageLike } from '../classify/prompt-text.ts';
import type { RouterContext } from '../handlers/context.ts';
import { deploymentsStatusHandler } from '../handlers/deployments-status.ts';
import { feedbackHandler } from '../handlers/feedback.ts';
import { modelsHandlers } from '../handlers/models.ts';
import { routeDecisionHandler } from '../handlers/route-decision.ts';
import { anthropicError, parseMessagesRequest, toChatBody } from './anthropic-messages.ts';
import { clientAuthMiddleware, type clientAuth } from './client-auth.ts';
import { ENDPOINT_SPECS, type Endpoint } from './endpoints.ts';
import { ApiError, apiError, sendApiError } from './errors.ts';
import { expressErrorHandler } from './express-errors.ts';

export interface ExpressRoutes {
  ctx: RouterContext;
  /** The inference endpoint a path names (any letter case, one trailing slash allowed), if any. */
  endpointOf(path: string): Endpoint | undefined;
  checkClient: ReturnType<typeof clientAuth>;
  serveInference(endpoint: Endpoint, req: IncomingMessage, res: ServerResponse, body: unknown, client: string): void;
  /** An inference request whose client left while still sending. */
  countAbandoned(endpoint: Endpoint): void;
}

export async function expressApp({
  ctx,
  endpointOf,
  checkClient,
  serveInference,
  countAbandoned,
}: ExpressRoutes): Promise<RequestListener> {
  const { config, log } = ctx;
  // Imported here, not at the top: a bundler hoists static imports, and this one is meant to wait.
  const { default: express } = await import('express');
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  // What someone who opens the router's address (or its base URL) in a browser sees: where everything is. Not a
  // secret, so before auth.
  app.get(['/', '/v1'], (req: Request, res: Response) => {
    const base = `${req.protocol}://${req.get('host') ?? 'localhost'}`;
    res.json({
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
  });
  // Parse any content type as JSON: some clients omit the header; errors become OpenAI-shaped 400s below.
  // Auth first: an unauthenticated caller gets 401 before any body is read.
  app.use(['/v1', '/chat', '/models', '/completions', '/responses', '/embeddings'], clientAuthMiddleware(checkClient));
  app.use(express.json({ limit: config.server.max_body_bytes, type: () => true, strict: true }));

  app.post(/.*/, (req: Request, res: Response, next: NextFunction) => {
    const endpoint = endpointOf(req.path);
    if (!endpoint) return next();
    serveInference(endpoint, req, res, req.body, res.locals.client as string);
  });
  app.post('/v1/route', routeDecisionHandler(ctx));
  // Anthropic's token counter, estimated the way the router counts a prompt (no upstream call).
  app.post('/v1/messages/count_tokens', (req: Request, res: Response) => {
    try {
      const body = toChatBody(parseMessagesRequest({ max_tokens: 1, ...(req.body as object) }));
      res.json({ input_tokens: estimatePromptTokens(body.messages as ChatMessageLike[]) });
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      sendApiError(res, err, [], anthropicError(err));
    }
  });
  app.post('/v1/feedback', feedbackHandler(ctx));
  app.get('/v1/deployments', deploymentsStatusHandler(ctx));
  const models = modelsHandlers(config);
  app.get(['/v1/models', '/models'], models.list);
  app.get(/^\/(?:v1\/)?models\/(.+)$/, models.retrieve); // ids may hold "/" (router/task_router)

  app.use((req: Request, _res: Response, next: NextFunction) => {
    next(apiError('not_found', `Unknown route ${req.method} ${req.path}`));
  });
  app.use(
    expressErrorHandler(config.server.max_body_bytes, log, (path) => {
      const endpoint = endpointOf(path);
      if (endpoint) countAbandoned(endpoint); // the client left while still sending: counted once, like every request
    }),
  );
  return app;
}
