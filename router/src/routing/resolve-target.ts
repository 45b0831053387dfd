// Which way a request asks to be routed. Precedence (most explicit first):
//   1. NVIDIA's body extension "nim-llm-router": {policy, routing_strategy: "triton"|"manual", model}
//   2. header x-router-policy: <policy>
//   3. model: "router/<policy>" or a configured alias
//   4. model: "<model name>" (manual)
// A quality policy also takes the strong model's threshold per request: "router/<policy>@0.3" (or an alias to it),
// else the header x-router-threshold: 0.3.
import type { RouterConfig } from '../config/schema.ts';
import { apiError } from '../http/errors.ts';

export type RouteTarget = { kind: 'policy'; policy: string; threshold?: number } | { kind: 'manual'; model: string };

export interface NimRouterExtension {
  policy?: unknown;
  routing_strategy?: unknown;
  model?: unknown;
}

import { NIM_EXTENSION_KEY, POLICY_MODEL_PREFIX } from '@llm-router/common/routing';
export { NIM_EXTENSION_KEY, POLICY_MODEL_PREFIX };

export class TargetResolver {
  private readonly models: Set<string>;
  private readonly policies: Set<string>;
  /** Policies that take a per-request threshold (classifier: quality). */
  private readonly thresholded: Set<string>;
  /** A Map, not the config's plain object: "constructor" or "__proto__" must not find Object.prototype's members. */
  private readonly aliases: Map<string, string>;
  constructor(config: RouterConfig) {
    this.models = new Set(config.models.map((m) => m.name));
    this.policies = new Set(config.policies.map((p) => p.name));
    this.thresholded = new Set(config.policies.filter((p) => p.classifier === 'quality').map((p) => p.name));
    this.aliases = new Map(Object.entries(config.aliases));
  }

  private policy(name: string, param: string): RouteTarget {
    if (!this.policies.has(name)) {
      throw apiError(
        'policy_not_found',
        `Unknown routing policy '${name}'. Available policies: ${[...this.policies].join(', ') || '(none configured)'}`,
        { param: param },
      );
    }
    return { kind: 'policy', policy: name };
  }

  /** A policy with a per-request threshold ("0.3" from "router/p@0.3" or the header). */
  private withThreshold(target: RouteTarget, text: string, param: string): RouteTarget {
    if (target.kind !== 'policy') return target;
    const threshold = /^\s*(0(\.\d+)?|1(\.0+)?|\.\d+)\s*$/.test(text) ? Number(text) : Number.NaN;
    if (!this.thresholded.has(target.policy))
      throw apiError(
        'threshold_not_supported',
        `Policy '${target.policy}' does not take a threshold (only quality policies do: ${[...this.thresholded].join(', ') || 'none configured'})`,
        { param: param },
      );
    if (Number.isNaN(threshold))
      throw apiError(
        'invalid_threshold',
        `The threshold '${text}' is not a number from 0 to 1 (e.g. router/${target.policy}@0.3)`,
        { param: param },
      );
    return { ...target, threshold };
  }

  private byModelName(name: string, param: string): RouteTarget {
    if (name.startsWith(POLICY_MODEL_PREFIX)) {
      const at = name.lastIndexOf('@');
      if (at < 0) return this.policy(name.slice(POLICY_MODEL_PREFIX.length), param);
      return this.withThreshold(
        this.policy(name.slice(POLICY_MODEL_PREFIX.length, at), param),
        name.slice(at + 1),
        param,
      );
    }
    const alias = this.aliases.get(name);
    if (alias !== undefined) return this.byModelName(alias, param);
    if (this.models.has(name)) return { kind: 'manual', model: name };
    throw apiError(
      'model_not_found',
      `The model '${name}' does not exist. Use one of: ${[...this.models].join(', ')}, or router/<policy> (GET /v1/models lists them)`,
      { param: param },
    );
  }

  resolve(
    body: { model?: unknown; [NIM_EXTENSION_KEY]?: unknown },
    policyHeader: string | undefined,
    thresholdHeader?: string,
  ): RouteTarget {
    const target = this.target(body, policyHeader);
    if (thresholdHeader === undefined || target.kind !== 'policy' || target.threshold !== undefined) return target;
    return this.withThreshold(target, thresholdHeader, 'x-router-threshold');
  }

  private target(
    body: { model?: unknown; [NIM_EXTENSION_KEY]?: unknown },
    policyHeader: string | undefined,
  ): RouteTarget {
    const ext = body[NIM_EXTENSION_KEY];
    if (ext !== undefined) {
      if (!ext || typeof ext !== 'object' || Array.isArray(ext)) {
        throw apiError(
          'invalid_type',
          `'${NIM_EXTENSION_KEY}' must be an object like {"policy": "task_router", "routing_strategy": "triton"}`,
          { param: NIM_EXTENSION_KEY },
        );
      }
      const e = ext as NimRouterExtension;
      const strategy = e.routing_strategy ?? (e.policy !== undefined ? 'triton' : 'manual');
      if (strategy === 'manual') {
        const model = e.model ?? body.model;
        if (typeof model !== 'string' || !model)
          throw apiError(
            'missing_model',
            `routing_strategy "manual" needs a model in '${NIM_EXTENSION_KEY}.model' or 'model'`,
            { param: `${NIM_EXTENSION_KEY}.model` },
          );
        return this.byModelName(model, `${NIM_EXTENSION_KEY}.model`);
      }
      if (strategy !== 'triton')
        throw apiError('invalid_value', `'${NIM_EXTENSION_KEY}.routing_strategy' must be "triton" or "manual"`, {
          param: `${NIM_EXTENSION_KEY}.routing_strategy`,
        });
      if (typeof e.policy !== 'string' || !e.policy)
        throw apiError('missing_policy', `routing_strategy "triton" needs '${NIM_EXTENSION_KEY}.policy'`, {
          param: `${NIM_EXTENSION_KEY}.policy`,
        });
      return this.policy(e.policy, `${NIM_EXTENSION_KEY}.policy`);
    }
    if (policyHeader) return this.policy(policyHeader, 'x-router-policy');
    if (typeof body.model !== 'string' || !body.model) {
      throw apiError(
        'missing_model',
        'you must provide a model parameter (a model name, router/<policy>, or an alias)',
        { param: 'model' },
      );
    }
    return this.byModelName(body.model, 'model');
  }
}
