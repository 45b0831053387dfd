// A small inference server that follows the published KServe v2 / Open Inference Protocol JSON spec (health,
// model ready, model metadata, infer; errors as {"error": "..."}), for testing the router's external
// classifier. Each model behaves as its name says: see MODELS.
import { createServer, type ServerResponse } from 'node:http';
import { TASK_CLASSES } from '@llm-router/common/task-classes';

type Tensor = { name: string; datatype: string; shape: number[]; data: unknown[] };
type Model = {
  outputs: Array<{ name: string; datatype: string; shape: number[] }>;
  infer(text: string): Promise<Tensor[]> | Tensor[];
};

/** A toy task classifier: code words -> Code Generation, otherwise Chatbot. */
const toyLabel = (text: string) => (/\b(python|function|code|sql)\b/i.test(text) ? 'Code Generation' : 'Chatbot');
const scores = (text: string) =>
  TASK_CLASSES.map((c) => (c === toyLabel(text) ? 0.91 : 0.09 / (TASK_CLASSES.length - 1)));

export const MODELS: Record<string, Model> = {
  // NVIDIA blueprint style: one FP32 score per class.
  'task-scores': {
    outputs: [{ name: 'OUTPUT', datatype: 'FP32', shape: [-1, 12] }],
    infer: (t) => [{ name: 'OUTPUT', datatype: 'FP32', shape: [1, 12], data: scores(t) }],
  },
  // The label itself, with its probability.
  'task-label': {
    outputs: [
      { name: 'OUTPUT', datatype: 'BYTES', shape: [-1, 1] },
      { name: 'OUTPUT_prob', datatype: 'FP32', shape: [-1, 1] },
    ],
    infer: (t) => [
      { name: 'OUTPUT', datatype: 'BYTES', shape: [1, 1], data: [toyLabel(t)] },
      { name: 'OUTPUT_prob', datatype: 'FP32', shape: [1, 1], data: [0.77] },
    ],
  },
  // NVIDIA's prompt-task-and-complexity outputs: six dimensions.
  'complexity-dims': {
    outputs: [
      'creativity_scope',
      'reasoning',
      'contextual_knowledge',
      'domain_knowledge',
      'constraint_ct',
      'number_of_few_shots',
    ].map((name) => ({ name, datatype: 'FP32', shape: [-1, 1] })),
    infer: (t) => {
      const hard = /prove|derive|theorem/i.test(t);
      const v: Record<string, number> = {
        creativity_scope: 0.1,
        reasoning: hard ? 0.95 : 0.05,
        contextual_knowledge: 0.1,
        domain_knowledge: hard ? 0.9 : 0.05,
        constraint_ct: 0.1,
        number_of_few_shots: 0,
      };
      return Object.entries(v).map(([name, x]) => ({ name, datatype: 'FP32', shape: [1, 1], data: [x] }));
    },
  },
  slow: {
    outputs: [{ name: 'OUTPUT', datatype: 'FP32', shape: [-1, 12] }],
    infer: async (t) => (await new Promise((r) => setTimeout(r, 2000)), MODELS['task-scores']!.infer(t)),
  },
  // Three scores for twelve classes.
  malformed: {
    outputs: [{ name: 'OUTPUT', datatype: 'FP32', shape: [-1, 3] }],
    infer: () => [{ name: 'OUTPUT', datatype: 'FP32', shape: [1, 3], data: [0.2, 0.3, 0.5] }],
  },
};

export interface KServeServer {
  url: string;
  infers: number;
  close(): Promise<void>;
}

export async function startKServeServer(): Promise<KServeServer> {
  const state = { infers: 0 };
  const json = (res: ServerResponse, status: number, body: unknown) =>
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const path = (req.url ?? '/').split('?')[0]!;
    if (req.method === 'GET' && (path === '/v2/health/live' || path === '/v2/health/ready')) return json(res, 200, {});
    const m = /^\/v2\/models\/([^/]+)(?:\/versions\/[^/]+)?(\/ready|\/infer)?$/.exec(path);
    const name = m ? decodeURIComponent(m[1]!) : '';
    const model = MODELS[name];
    if (!m || !model) return json(res, 404, { error: `model "${name}" not found` });
    if (req.method === 'GET' && m[2] === '/ready') return json(res, 200, {});
    if (req.method === 'GET' && !m[2])
      return json(res, 200, {
        name,
        versions: ['1'],
        platform: 'test',
        inputs: [{ name: 'INPUT', datatype: 'BYTES', shape: [-1, 1] }],
        outputs: model.outputs,
      });
    if (req.method !== 'POST' || m[2] !== '/infer') return json(res, 405, { error: 'method not allowed' });
    state.infers++;
    let body: { id?: string; inputs?: Array<{ name?: unknown; datatype?: unknown; shape?: unknown; data?: unknown }> };
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      return json(res, 400, { error: 'request body is not JSON' });
    }
    const input = body.inputs?.find((i) => i.name === 'INPUT');
    if (input?.datatype !== 'BYTES' || !Array.isArray(input.shape) || !Array.isArray(input.data))
      return json(res, 400, { error: 'expected one BYTES input named INPUT with shape and data' });
    const text = String((input.data as unknown[]).flat(2)[0] ?? '');
    json(res, 200, {
      model_name: name,
      model_version: '1',
      ...(body.id ? { id: body.id } : {}),
      outputs: await model.infer(text),
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    get infers() {
      return state.infers;
    },
    close: () => new Promise((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  };
}
