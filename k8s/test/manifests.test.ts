// The Kubernetes manifests: committed files match their TypeScript source, every object passes the Kubernetes
// OpenAPI (or prometheus-operator CRD) schema, and the pieces fit together: selectors, ports, probes, the drain
// time, the config the router will actually load from its ConfigMap and environment.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { parseRouterConfig } from '@llm-router/router/config';
import { generatedK8sFiles } from '../src/generate.ts';
import { FLEET, K8S_DIR, manifestFiles, redisObjects, routerObjects, simObjects } from '../src/manifests.ts';

test('committed manifests are up to date with k8s/src (run make k8s)', () => {
  for (const [path, text] of Object.entries(generatedK8sFiles()))
    assert.equal(readFileSync(join(K8S_DIR, path), 'utf8'), text, `k8s/${path} is stale: run make k8s`);
});

test('every object validates against its schema, and the validator does refuse a broken one', () => {
  const kinds: string[] = [];
  for (const objects of Object.values(manifestFiles()))
    for (const o of objects) {
      o.validate();
      kinds.push(o.kind);
    }
  assert.deepEqual([...new Set(kinds)].sort(), [
    'ConfigMap',
    'Deployment',
    'HorizontalPodAutoscaler',
    'PodDisruptionBudget',
    'PrometheusRule',
    'Service',
    'ServiceMonitor',
  ]);
  const broken = new Deployment({
    metadata: { name: 'x' },
    spec: {
      selector: { matchLabels: { a: 'b' } },
      template: {
        spec: { containers: [{ name: 'c', image: 'i', ports: [{ containerPort: '4000' as unknown as number }] }] },
      },
    },
  });
  assert.throws(() => broken.validate(), /containerPort must be integer/);
});

test('kustomizations list files that exist; the operator overlay builds on the base', () => {
  for (const dir of ['base', 'prometheus-operator']) {
    const k = parse(readFileSync(join(K8S_DIR, dir, 'kustomization.yaml'), 'utf8')) as { resources: string[] };
    for (const r of k.resources) assert.ok(existsSync(join(K8S_DIR, dir, r)), `${dir}/${r}`);
  }
  const docs = parseAllDocuments(readFileSync(join(K8S_DIR, 'base/router.yaml'), 'utf8')).map((d) => d.toJS());
  assert.deepEqual(
    docs.map((d: { kind: string }) => d.kind),
    ['ConfigMap', 'Deployment', 'Service', 'HorizontalPodAutoscaler', 'PodDisruptionBudget'],
  );
});

test('router Deployment: probes, resources, non-root read-only, drain time inside the grace period, key refs', () => {
  const { deployment, service, hpa, pdb, monitor } = routerObjects();
  const pod = deployment.spec!.template.spec!;
  const c = pod.containers[0]!;
  assert.equal(c.readinessProbe?.httpGet?.path, '/ready');
  assert.equal(c.livenessProbe?.httpGet?.path, '/health');
  assert.ok(c.resources?.requests?.cpu && c.resources.requests.memory && c.resources.limits?.memory);
  assert.equal(c.securityContext?.runAsNonRoot, true);
  assert.equal(c.securityContext?.readOnlyRootFilesystem, true);
  assert.equal(c.securityContext?.allowPrivilegeEscalation, false);
  assert.ok(pod.terminationGracePeriodSeconds! * 1000 > FLEET.drainDelayMs + FLEET.drainTimeoutMs);
  for (const key of FLEET.providerKeys) {
    const ref = c.env!.find((e) => e.name === key)?.valueFrom?.secretKeyRef;
    assert.deepEqual(ref, { name: FLEET.providerKeysSecret, key, optional: true });
  }
  // Selectors and names line up.
  const podLabels = deployment.spec!.template.metadata!.labels!;
  for (const selector of [
    service.spec!.selector!,
    pdb.spec!.selector!.matchLabels!,
    monitor.spec.selector.matchLabels!,
  ])
    for (const [k, v] of Object.entries(selector)) assert.equal(podLabels[k], v);
  assert.equal(hpa.spec!.scaleTargetRef.name, deployment.metadata!.name);
  assert.equal(monitor.spec.endpoints![0]!.port, service.spec!.ports![0]!.name);
  assert.equal(c.ports![0]!.name, service.spec!.ports![0]!.targetPort);
});

test('the router loads its ConfigMap with the Deployment environment: shared state on the Redis Service, drain set', () => {
  const { config, deployment } = routerObjects();
  const env = Object.fromEntries(
    deployment
      .spec!.template.spec!.containers[0]!.env!.filter((e) => e.value !== undefined)
      .map((e) => [e.name, e.value!]),
  );
  const loaded = parseRouterConfig(config.data!['router.yaml']!, 'configmap/router.yaml', env);
  assert.equal(loaded.state.backend, 'redis');
  assert.equal(loaded.state.url, `redis://${redisObjects().service.metadata!.name}:6379`);
  assert.equal(loaded.state.replicas, FLEET.maxReplicas);
  assert.equal(loaded.server.drain_delay_ms, FLEET.drainDelayMs);
  assert.equal(loaded.server.drain_timeout_ms, FLEET.drainTimeoutMs);
  assert.ok(loaded.models.every((m) => m.deployments.every((d) => d.api_base.startsWith('http://llm-sim:8000/'))));
  assert.equal(simObjects().service.metadata!.name, 'llm-sim');
});

test('the PrometheusRule carries the committed alert and recording rules', () => {
  const { rules } = routerObjects();
  const names = rules.spec.groups!.flatMap((g) => g.rules!.map((r) => r.alert ?? r.record));
  const alerts = parse(readFileSync(join(K8S_DIR, '../prometheus/rules/alerts.yml'), 'utf8')) as {
    groups: Array<{ rules: Array<{ alert: string }> }>;
  };
  for (const a of alerts.groups.flatMap((g) => g.rules)) assert.ok(names.includes(a.alert), a.alert);
});
