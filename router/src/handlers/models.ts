// GET /v1/models and GET /v1/models/{id}: the configured models, router/<policy> entries and aliases. The list
// is fixed by config, so it is built once.
import { POLICY_MODEL_PREFIX } from '@llm-router/common/routing';
import type { RouterConfig } from '../config/schema.ts';
import { apiError, sendJson } from '../http/errors.ts';
import type { RouteCall } from '../http/route-table.ts';

export function modelsHandlers(config: RouterConfig) {
  const entry = (id: string, description: string | null) => ({
    id,
    object: 'model',
    created: 0,
    owned_by: 'llm-router',
    description,
  });
  const list = [
    ...config.models.map((m) => entry(m.name, m.description ?? null)),
    ...config.policies.map((p) =>
      entry(POLICY_MODEL_PREFIX + p.name, p.description ?? `routes by ${p.classifier} classifier`),
    ),
    ...Object.entries(config.aliases).map(([alias, target]) => entry(alias, `alias of ${target}`)),
  ];
  const byId = new Map(list.map((m) => [m.id, m]));
  return {
    list: ({ res }: RouteCall) => sendJson(res, 200, { object: 'list', data: list }),
    retrieve: ({ res, params }: RouteCall) => {
      const id = params[0] ?? '';
      const model = byId.get(id);
      if (!model) throw apiError('model_not_found', `The model '${id}' does not exist`, { param: 'model' });
      sendJson(res, 200, model);
    },
  };
}
