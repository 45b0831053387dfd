// Resolved series (metrics/series.ts) write into prom-client's own storage: what a scrape shows must be exactly
// what prom-client's labelled calls would have produced, whatever the values, and after a reset.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { mulberry32 } from '@llm-router/common/prng';
import { counterSeries, gaugeSeries, histogramSeries, SeriesCache } from '../src/metrics/series.ts';

const BUCKETS = [0.001, 0.01, 0.1, 1, 10];

function pair() {
  const make = () => {
    const registry = new Registry();
    return {
      registry,
      counter: new Counter({ name: 'c_total', help: 'c', labelNames: ['model', 'status'], registers: [registry] }),
      histogram: new Histogram({
        name: 'h_seconds',
        help: 'h',
        labelNames: ['model'],
        buckets: BUCKETS,
        registers: [registry],
      }),
      gauge: new Gauge({ name: 'g', help: 'g', registers: [registry] }),
    };
  };
  return { viaLabels: make(), viaSeries: make() };
}

test('resolved series expose exactly what labelled calls do (bucket edges, above the last bucket, fractions)', async () => {
  const { viaLabels, viaSeries } = pair();
  const random = mulberry32(7);
  const models = ['a', 'b', 'c'];
  const statuses = ['200', '429', '500'];
  const counters = new SeriesCache((model, status) => counterSeries(viaSeries.counter, { model, status }));
  const histograms = new SeriesCache((model) => histogramSeries(viaSeries.histogram, { model }));
  const gauge = gaugeSeries(viaSeries.gauge);
  const values = [...BUCKETS, 0, 20, 1e-9, ...Array.from({ length: 500 }, () => random() ** 3 * 30)];
  for (const [i, v] of values.entries()) {
    if (random() < 0.6) viaLabels.gauge.inc(), gauge.inc();
    else viaLabels.gauge.dec(), gauge.dec();
    const model = models[i % 3]!;
    const status = statuses[Math.floor(random() * 3)]!;
    const by = i % 4 === 0 ? 1 : Math.floor(random() * 1000) / 7;
    viaLabels.counter.inc({ model, status }, by);
    counters.get(model, status).inc(by);
    viaLabels.histogram.observe({ model }, v);
    histograms.get(model).observe(v);
  }
  assert.equal(await viaSeries.registry.metrics(), await viaLabels.registry.metrics());
  assert.match(await viaSeries.registry.metrics(), /h_seconds_bucket\{le="\+Inf",model="a"\} 1\d\d/);
});

test('a series is created on resolution (counter at 0, histogram empty), as prom-client would with inc(0)/zero()', async () => {
  const { viaLabels, viaSeries } = pair();
  counterSeries(viaSeries.counter, { model: 'a', status: '200' }).inc(0);
  histogramSeries(viaSeries.histogram, { model: 'a' }).observe(0.5);
  viaLabels.counter.inc({ model: 'a', status: '200' }, 0);
  viaLabels.histogram.observe({ model: 'a' }, 0.5);
  assert.equal(await viaSeries.registry.metrics(), await viaLabels.registry.metrics());
});

test('after reset() the series resolve again instead of writing to the old storage', async () => {
  const { viaSeries } = pair();
  const c = counterSeries(viaSeries.counter, { model: 'a', status: '200' });
  const h = histogramSeries(viaSeries.histogram, { model: 'a' });
  const g = gaugeSeries(viaSeries.gauge);
  c.inc(5);
  h.observe(0.05);
  g.inc();
  viaSeries.registry.resetMetrics();
  c.inc(2);
  h.observe(5);
  g.dec();
  const text = await viaSeries.registry.metrics();
  assert.match(text, /^g -1$/m);
  assert.match(text, /^c_total\{model="a",status="200"\} 2$/m);
  assert.match(text, /^h_seconds_count\{model="a"\} 1$/m);
  assert.match(text, /^h_seconds_bucket\{le="0.1",model="a"\} 0$/m);
});

test('bad values and labels are refused as prom-client refuses them', () => {
  const { viaSeries } = pair();
  assert.throws(() => counterSeries(viaSeries.counter, { model: 'a', status: '200' }).inc(-1), TypeError);
  assert.throws(() => histogramSeries(viaSeries.histogram, { model: 'a' }).observe(Number.NaN), TypeError);
  assert.throws(() => counterSeries(viaSeries.counter, { model: 'a', nope: 'x' }).inc(), /label/i);
});

test('SeriesCache: one series per combination of values, made once, never confusing "ab","c" with "a","bc"', () => {
  const made: string[] = [];
  const cache = new SeriesCache((a: string, b: string) => (made.push(`${a}|${b}`), { a, b }));
  const first = cache.get('ab', 'c');
  assert.equal(cache.get('ab', 'c'), first);
  assert.deepEqual(cache.get('a', 'bc'), { a: 'a', b: 'bc' });
  assert.deepEqual(cache.get('a\u0000b', 'c'), { a: 'a\u0000b', b: 'c' });
  cache.get('a', 'bc');
  assert.deepEqual(made, ['ab|c', 'a|bc', 'a\u0000b|c']);
});

test('prom-client is the version series.ts was written for, and a storage it does not know stops it loudly', () => {
  const require = createRequire(import.meta.url);
  const pinned = (require('../package.json') as { dependencies: Record<string, string> }).dependencies['prom-client'];
  const installed = (require('prom-client/package.json') as { version: string }).version;
  assert.match(pinned!, /^\d+\.\d+\.\d+$/, 'router/package.json pins prom-client exactly');
  assert.equal(installed, pinned, 'the installed prom-client is the pinned one');
  // A future prom-client that keeps its series elsewhere: refused with the reason, not a series that never shows.
  const moved = new Counter({ name: 'moved_total', help: 'm', labelNames: ['model'], registers: [] });
  (moved as unknown as { hashMap: unknown }).hashMap = undefined;
  assert.throws(() => counterSeries(moved, { model: 'a' }), /pins.*metrics-series\.test\.ts/s);
  const reshaped = new Histogram({ name: 'r_seconds', help: 'r', labelNames: ['model'], registers: [] });
  reshaped.observe({ model: 'a' }, 1);
  for (const e of Object.values((reshaped as unknown as { hashMap: Record<string, { sum?: number }> }).hashMap))
    delete e.sum;
  assert.throws(() => histogramSeries(reshaped, { model: 'a' }), /an entry without sum/);
});
