// IPC between router workers and the primary (node:cluster).
import type { MetricObjectWithValues, MetricValue } from 'prom-client';

/** worker -> primary: "send me everyone's metrics"; primary -> worker: the aggregated text. */
export const CLUSTER_METRICS_REQUEST = 'llm-router:cluster-metrics-request';
export const CLUSTER_METRICS_RESPONSE = 'llm-router:cluster-metrics-response';
/** primary -> worker: "send me your metrics"; worker -> primary: its registry as JSON. */
export const WORKER_METRICS_REQUEST = 'llm-router:worker-metrics-request';
export const WORKER_METRICS_RESPONSE = 'llm-router:worker-metrics-response';

export type WorkerMetrics = Array<MetricObjectWithValues<MetricValue<string>>>;

export type ClusterMessage =
  | { type: typeof CLUSTER_METRICS_REQUEST; id: number }
  | { type: typeof CLUSTER_METRICS_RESPONSE; id: number; text?: string; error?: string }
  | { type: typeof WORKER_METRICS_REQUEST; id: number }
  | { type: typeof WORKER_METRICS_RESPONSE; id: number; metrics: WorkerMetrics };
