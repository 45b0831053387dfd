// One plain (non-streamed) chat call to a model through the router's own deployments: balancing, limits,
// cooldowns and retries as for any request, but no client, no routing and no request metrics (shadow evaluation's
// calls are counted apart).
import { estimatePromptTokens, type ChatMessageLike } from '../classify/prompt-text.ts';
import type { RouterConfig } from '../config/schema.ts';
import type { SharedState } from '../state/shared-state.ts';
import type { DeploymentRegistry } from '../upstream/deployments.ts';
import { CHAT } from '../http/endpoints.ts';
import { costUsd } from '@llm-router/common/pricing';
import { AbortEmitter } from '../upstream/abort-emitter.ts';
import { runAttempts, type AttemptsEnv, type AttemptsHooks } from '../upstream/attempts.ts';

export interface ModelReply {
  text: string;
  costUsd: number;
}

/** The text of a chat completion's first choice. */
export const chatText = (json: unknown): string => {
  const content = (json as { choices?: Array<{ message?: { content?: unknown } }> })?.choices?.[0]?.message?.content;
  return typeof content === 'string' ? content : '';
};

export interface CallerDeps {
  deployments: DeploymentRegistry;
  resilience: RouterConfig['resilience'];
  /** What the attempts leave in metrics and logs, as for any request (router events). */
  events: AttemptsHooks;
  shared?: SharedState;
}

export function modelCaller({ deployments, resilience, events, shared }: CallerDeps) {
  const env: AttemptsEnv = {
    deployments,
    resilience,
    hooks: events,
    ...(shared ? { shared } : {}),
  };
  return async function callModel(
    model: string,
    body: Record<string, unknown>,
    cancel: AbortEmitter = new AbortEmitter(),
  ): Promise<ModelReply> {
    const messages = (body.messages ?? []) as ChatMessageLike[];
    const outcome = await runAttempts(
      {
        models: [model],
        decidedModel: model,
        stream: false,
        promptTokens: estimatePromptTokens(messages),
        path: (dep) => dep.basePath + dep.provider.path('chat', dep.config, false),
        body: (dep) => {
          const { stream: _s, stream_options: _o, ...rest } = body;
          return dep.provider.body
            ? dep.provider.body(rest, dep.config, false)
            : JSON.stringify({ ...rest, model: dep.config.model });
        },
        clientGone: cancel,
      },
      env,
    );
    if (outcome.kind !== 'served') throw new Error(`${model} did not answer (${outcome.kind})`);
    const { result, dep } = outcome;
    if (result.kind !== 'body') {
      result.lease.end(); // asked without stream: an upstream that streams anyway is not read
      throw new Error(`${model} answered a stream to a plain request`);
    }
    result.release();
    const usage = CHAT.usage(result.json);
    return { text: chatText(result.json), costUsd: usage ? costUsd(usage, dep.config.price) : 0 };
  };
}
