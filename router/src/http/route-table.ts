// Routes as data: method, path (or a pattern, for ids holding "/"), whether the caller must present a client key,
// whether a JSON body is read, and the handler. Paths match as clients write them: letter case and one trailing
// slash ignored, the exact path first so the common case costs no lowercasing.
import type { IncomingMessage, ServerResponse } from 'node:http';

/** One request as a handler gets it. */
export interface RouteCall {
  req: IncomingMessage;
  res: ServerResponse;
  /** The parsed JSON body ({} for an empty one; undefined on routes that read none). */
  body: unknown;
  /** The JSON text the body was parsed from, when it had one. */
  text: string | undefined;
  /** The client key's configured name (ANONYMOUS_CLIENT when auth is off or the route is open). */
  client: string;
  /** A pattern's captured groups. */
  params: string[];
}

export type RouteHandler = (call: RouteCall) => void | Promise<void>;

export interface Route {
  method: 'GET' | 'POST';
  /** Exact paths, or one pattern matched against the path as sent. */
  path: string | string[] | RegExp;
  /** Reads a client key first (server `auth`): off for probes, metrics and the index page. */
  auth: boolean;
  /** Reads the JSON body before the handler (POST routes). */
  body: boolean;
  handler: RouteHandler;
  /** The client left while still sending its body: counted once, like every request. */
  onAbandoned?: () => void;
}

/** A path as routes are matched: letter case and one trailing slash ignored. */
export function routeKey(path: string): string {
  const lower = path.toLowerCase();
  return lower.length > 1 && lower.endsWith('/') ? lower.slice(0, -1) : lower;
}

export class RouteTable {
  private readonly exact = new Map<string, Route>();
  private readonly patterns: Route[] = [];

  constructor(routes: Route[]) {
    for (const r of routes) {
      if (r.path instanceof RegExp) this.patterns.push(r);
      else
        for (const p of typeof r.path === 'string' ? [r.path] : r.path) this.exact.set(`${r.method} ${routeKey(p)}`, r);
    }
  }

  /** The route for a request (HEAD is served as GET), with a pattern's groups. */
  match(method: string, path: string): { route: Route; params: string[] } | undefined {
    const m = method === 'HEAD' ? 'GET' : method;
    const route = this.exact.get(`${m} ${path}`) ?? this.exact.get(`${m} ${routeKey(path)}`);
    if (route) return { route, params: [] };
    for (const r of this.patterns) {
      const found = r.method === m ? (r.path as RegExp).exec(path) : null;
      if (found) return { route: r, params: found.slice(1).map((g) => decodeURIComponent(g ?? '')) };
    }
    return undefined;
  }
}
