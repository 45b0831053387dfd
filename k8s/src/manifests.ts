// The router fleet on Kubernetes, as typed objects (kubernetes-models): each one validates against the Kubernetes
// OpenAPI schema (or the prometheus-operator CRD schema) it was generated from. generate.ts writes them to
// k8s/base for `kubectl apply -k k8s/base`.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import { PrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Service } from 'kubernetes-models/v1/Service';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { ISecurityContext } from 'kubernetes-models/v1/SecurityContext';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { parse } from 'yaml';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const K8S_DIR = join(REPO_ROOT, 'k8s');

/** Settings a user is most likely to change; everything else follows from them. */
export const FLEET = {
  routerImage: 'llm-router/router:0.1.0',
  simImage: 'llm-router/llm-sim:0.1.0',
  redisImage: 'redis:7.0-bookworm',
  minReplicas: 3,
  maxReplicas: 10,
  port: 4000,
  /** Load balancers stop sending within this after /ready turns 503 (endpoint removal takes a few seconds). */
  drainDelayMs: 5_000,
  drainTimeoutMs: 30_000,
  /** Provider keys: one Secret, each key an environment variable the config names as ${VAR}. */
  providerKeysSecret: 'llm-router-provider-keys',
  providerKeys: ['OPENAI_API_KEY', 'NVIDIA_API_KEY'],
} as const;

const app = (name: string) => ({ 'app.kubernetes.io/name': name, 'app.kubernetes.io/part-of': 'llm-router' });

/** Non-root, nothing writable but mounted temp dirs, no privileges. */
const locked: ISecurityContext = {
  runAsNonRoot: true,
  runAsUser: 1000,
  runAsGroup: 1000,
  readOnlyRootFilesystem: true,
  allowPrivilegeEscalation: false,
  capabilities: { drop: ['ALL'] },
  seccompProfile: { type: 'RuntimeDefault' },
};

const httpProbe = (path: string, port: number, periodSeconds: number, failureThreshold: number) => ({
  httpGet: { path, port },
  periodSeconds,
  failureThreshold,
  timeoutSeconds: 2,
});

export function routerObjects() {
  const labels = app('llm-router');
  const config = new ConfigMap({
    metadata: { name: 'llm-router-config', labels },
    data: { 'router.yaml': readFileSync(join(REPO_ROOT, 'config/router.yaml'), 'utf8') },
  });
  const container: IContainer = {
    name: 'router',
    image: FLEET.routerImage,
    args: ['--config', '/app/config/router.yaml', '--host', '0.0.0.0', '--port', String(FLEET.port)],
    ports: [{ name: 'http', containerPort: FLEET.port }],
    env: [
      { name: 'LLM_SIM_URL', value: 'http://llm-sim:8000' },
      { name: 'ROUTER_STATE', value: 'redis' },
      { name: 'REDIS_URL', value: 'redis://llm-router-redis:6379' },
      // While Redis is unreachable each replica enforces limit / ROUTER_REPLICAS: the HPA's maximum, so the fleet
      // never exceeds a provider's limit however far it has scaled (it may under-use it meanwhile).
      { name: 'ROUTER_REPLICAS', value: String(FLEET.maxReplicas) },
      { name: 'ROUTER_DRAIN_DELAY_MS', value: String(FLEET.drainDelayMs) },
      { name: 'ROUTER_DRAIN_TIMEOUT_MS', value: String(FLEET.drainTimeoutMs) },
      ...FLEET.providerKeys.map((key) => ({
        name: key,
        valueFrom: { secretKeyRef: { name: FLEET.providerKeysSecret, key, optional: true } },
      })),
    ],
    readinessProbe: httpProbe('/ready', FLEET.port, 5, 2),
    livenessProbe: { ...httpProbe('/health', FLEET.port, 10, 3), initialDelaySeconds: 5 },
    // No CPU limit: throttling shows up as tail latency; the request is what the HPA scales on.
    resources: { requests: { cpu: '500m', memory: '128Mi' }, limits: { memory: '512Mi' } },
    securityContext: locked,
    volumeMounts: [
      { name: 'config', mountPath: '/app/config', readOnly: true },
      { name: 'tmp', mountPath: '/tmp' },
    ],
  };
  const deployment = new Deployment({
    metadata: { name: 'llm-router', labels },
    spec: {
      replicas: FLEET.minReplicas,
      selector: { matchLabels: labels },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template: {
        metadata: {
          labels,
          annotations: {
            // Plain Prometheus (kubernetes_sd with the usual relabelling) scrapes on these.
            'prometheus.io/scrape': 'true',
            'prometheus.io/port': String(FLEET.port),
            'prometheus.io/path': '/metrics',
          },
        },
        spec: {
          // Drain delay + drain timeout + a margin: Kubernetes must not SIGKILL a replica still finishing streams.
          terminationGracePeriodSeconds: Math.ceil((FLEET.drainDelayMs + FLEET.drainTimeoutMs) / 1000) + 10,
          securityContext: { runAsNonRoot: true, fsGroup: 1000 },
          automountServiceAccountToken: false,
          containers: [container],
          volumes: [
            { name: 'config', configMap: { name: config.metadata!.name! } },
            { name: 'tmp', emptyDir: { sizeLimit: '64Mi' } },
          ],
          topologySpreadConstraints: [
            {
              maxSkew: 1,
              topologyKey: 'kubernetes.io/hostname',
              whenUnsatisfiable: 'ScheduleAnyway',
              labelSelector: { matchLabels: labels },
            },
          ],
        },
      },
    },
  });
  const service = new Service({
    metadata: {
      name: 'llm-router',
      labels,
      annotations: { 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(FLEET.port) },
    },
    spec: { selector: labels, ports: [{ name: 'http', port: FLEET.port, targetPort: 'http' }] },
  });
  const hpa = new HorizontalPodAutoscaler({
    metadata: { name: 'llm-router', labels },
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'llm-router' },
      minReplicas: FLEET.minReplicas,
      maxReplicas: FLEET.maxReplicas,
      metrics: [
        { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } },
      ],
      // Scale down slowly: each removed replica drains its streams first.
      behavior: {
        scaleDown: { stabilizationWindowSeconds: 300, policies: [{ type: 'Pods', value: 1, periodSeconds: 60 }] },
      },
    },
  });
  const pdb = new PodDisruptionBudget({
    metadata: { name: 'llm-router', labels },
    spec: { maxUnavailable: 1, selector: { matchLabels: labels } },
  });
  const monitor = new ServiceMonitor({
    metadata: { name: 'llm-router', labels },
    spec: { selector: { matchLabels: labels }, endpoints: [{ port: 'http', path: '/metrics', interval: '15s' }] },
  });
  const rules = new PrometheusRule({
    metadata: { name: 'llm-router', labels },
    spec: {
      groups: ['recording.yml', 'alerts.yml'].flatMap(
        (f) => (parse(readFileSync(join(REPO_ROOT, 'prometheus/rules', f), 'utf8')) as { groups: never[] }).groups,
      ),
    },
  });
  return { config, deployment, service, hpa, pdb, monitor, rules };
}

export function redisObjects() {
  const labels = app('llm-router-redis');
  const deployment = new Deployment({
    metadata: { name: 'llm-router-redis', labels },
    spec: {
      replicas: 1,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          securityContext: { runAsNonRoot: true },
          automountServiceAccountToken: false,
          containers: [
            {
              name: 'redis',
              image: FLEET.redisImage,
              // Rate-limit windows and cooldowns live a minute at most: no persistence to keep.
              args: ['redis-server', '--save', '', '--appendonly', 'no', '--protected-mode', 'no'],
              ports: [{ name: 'redis', containerPort: 6379 }],
              readinessProbe: { exec: { command: ['redis-cli', 'ping'] }, periodSeconds: 5 },
              livenessProbe: { tcpSocket: { port: 6379 }, periodSeconds: 10 },
              resources: { requests: { cpu: '100m', memory: '64Mi' }, limits: { memory: '256Mi' } },
              securityContext: { ...locked, runAsUser: 65534, runAsGroup: 65534 },
              volumeMounts: [{ name: 'data', mountPath: '/data' }],
            },
          ],
          volumes: [{ name: 'data', emptyDir: {} }],
        },
      },
    },
  });
  const service = new Service({
    metadata: { name: 'llm-router-redis', labels },
    spec: { selector: labels, ports: [{ name: 'redis', port: 6379, targetPort: 'redis' }] },
  });
  return { deployment, service };
}

/** The simulated models: the default upstream, so the fleet answers with no provider key. */
export function simObjects() {
  const labels = app('llm-sim');
  const config = new ConfigMap({
    metadata: { name: 'llm-sim-config', labels },
    data: { 'llm-sim.yaml': readFileSync(join(REPO_ROOT, 'config/llm-sim.yaml'), 'utf8') },
  });
  const deployment = new Deployment({
    metadata: { name: 'llm-sim', labels },
    spec: {
      replicas: 1,
      selector: { matchLabels: labels },
      template: {
        metadata: {
          labels,
          annotations: { 'prometheus.io/scrape': 'true', 'prometheus.io/port': '8000' },
        },
        spec: {
          securityContext: { runAsNonRoot: true },
          automountServiceAccountToken: false,
          containers: [
            {
              name: 'llm-sim',
              image: FLEET.simImage,
              args: ['--config', '/app/config/llm-sim.yaml', '--host', '0.0.0.0', '--port', '8000'],
              ports: [{ name: 'http', containerPort: 8000 }],
              readinessProbe: httpProbe('/health', 8000, 5, 2),
              resources: { requests: { cpu: '250m', memory: '128Mi' }, limits: { memory: '512Mi' } },
              // tsx compiles into a cache under /tmp: that is the one writable place.
              securityContext: locked,
              volumeMounts: [
                { name: 'config', mountPath: '/app/config', readOnly: true },
                { name: 'tmp', mountPath: '/tmp' },
              ],
            },
          ],
          volumes: [
            { name: 'config', configMap: { name: 'llm-sim-config' } },
            { name: 'tmp', emptyDir: { sizeLimit: '256Mi' } },
          ],
        },
      },
    },
  });
  const service = new Service({
    metadata: { name: 'llm-sim', labels },
    spec: { selector: labels, ports: [{ name: 'http', port: 8000, targetPort: 'http' }] },
  });
  return { config, deployment, service };
}

export interface K8sObject {
  kind: string;
  validate(): void;
  toJSON(): unknown;
}

/** Path under k8s/ -> objects in it, in apply order. monitoring needs prometheus-operator's CRDs, so it is apart. */
export function manifestFiles(): Record<string, K8sObject[]> {
  const r = routerObjects();
  const redis = redisObjects();
  const sim = simObjects();
  return {
    'base/router.yaml': [r.config, r.deployment, r.service, r.hpa, r.pdb],
    'base/redis.yaml': [redis.deployment, redis.service],
    'base/llm-sim.yaml': [sim.config, sim.deployment, sim.service],
    'prometheus-operator/monitoring.yaml': [r.monitor, r.rules],
  };
}
