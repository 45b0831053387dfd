// Labelled series the request path records on every request, resolved once per label set. prom-client's
// labelled calls validate and hash a label object on each call (about fourteen calls a request); a resolved
// series adds to prom-client's own storage directly, so scrapes, aggregation across workers and the exposition
// are prom-client's, unchanged.
// This reads prom-client's internal `hashMap` (counter and gauge: {value}, histogram: {sum, count,
// bucketValues}), so router/package.json pins prom-client to the exact version it was written for;
// router/test/metrics-series.test.ts checks the exposition against prom-client's own labelled calls, and a
// storage this code does not recognise stops the router at start-up with the reason (storageOf), never a
// silently missing series.
import type { Counter, Gauge, Histogram, LabelValues } from 'prom-client';

type Labels = LabelValues<string>;
interface CounterEntry {
  value: number;
  labels: Labels;
}
interface HistogramEntry {
  labels: Labels;
  sum: number;
  count: number;
  bucketValues: Record<number, number>;
}
interface Stored<E> {
  hashMap: Record<string, E>;
}

export interface CounterSeries {
  inc(value?: number): void;
}
export interface HistogramSeries {
  observe(value: number): void;
}

const sameLabels = (a: Labels, b: Labels) => {
  const keys = Object.keys(b);
  return Object.keys(a).length === keys.length && keys.every((k) => String(a[k]) === String(b[k]));
};
const lookup = <E extends { labels: Labels }>(metric: Stored<E>, labels: Labels) =>
  Object.values(metric.hashMap).find((e) => sameLabels(e.labels, labels));
const find = <E extends { labels: Labels }>(metric: Stored<E>, labels: Labels) => {
  const entry = lookup(metric, labels);
  if (entry === undefined) throw storageChanged(metric, 'no entry for the labels it was given');
  return entry;
};

const storageChanged = (metric: unknown, what: string) =>
  new Error(
    `prom-client's internal storage is not what router/src/metrics/series.ts reads (${what}, metric ` +
      `${(metric as { name?: string }).name}): prom-client was upgraded past the version router/package.json pins; ` +
      'pin it back, or update series.ts and run router/test/metrics-series.test.ts',
  );

/** `metric`'s storage, checked for the shape this module writes into. */
function storageOf<E>(metric: unknown, fields: readonly string[]): Stored<E> {
  const map = (metric as Partial<Stored<E>>).hashMap;
  if (map === null || typeof map !== 'object') throw storageChanged(metric, 'no hashMap');
  for (const entry of Object.values(map) as Record<string, unknown>[])
    for (const f of fields) if (!(f in entry)) throw storageChanged(metric, `an entry without ${f}`);
  return metric as Stored<E>;
}

/**
 * The entry `resolve` finds in `metric`'s storage, resolved on first use and again whenever reset() has swapped
 * the whole map (the old entry would no longer be exposed).
 */
function entryOf<E>(metric: Stored<E>, resolve: () => E): () => E {
  let map: Stored<E>['hashMap'] | undefined;
  let entry: E | undefined;
  return () => {
    if (map !== metric.hashMap || entry === undefined) {
      entry = resolve();
      map = metric.hashMap;
    }
    return entry;
  };
}

/** The series of `counter` with `labels` (created at 0 if new). */
export function counterSeries(counter: Counter<string>, labels: Labels): CounterSeries {
  const stored = storageOf<CounterEntry>(counter, ['value', 'labels']);
  const entry = entryOf(stored, () => {
    counter.inc(labels, 0); // validates the labels once, and creates the series if it is new
    return find(storageOf<CounterEntry>(counter, ['value', 'labels']), labels);
  });
  return {
    inc(value = 1) {
      if (!(value >= 0 && Number.isFinite(value)))
        throw new TypeError(`counter increment ${value} is not a finite >= 0`);
      entry().value += value;
    },
  };
}

/** The series of `histogram` with `labels` (created empty if new). */
export function histogramSeries(histogram: Histogram<string>, labels: Labels): HistogramSeries {
  const stored = storageOf<HistogramEntry>(histogram, ['sum', 'count', 'bucketValues']) as Stored<HistogramEntry> & {
    upperBounds: readonly number[];
  };
  if (!Array.isArray(stored.upperBounds)) throw storageChanged(histogram, 'no upperBounds');
  // bucketValues is keyed by the bound as a property name: converted once here, not on every observation.
  const bounds = stored.upperBounds;
  const keys = bounds.map(String);
  const entry = entryOf(stored, () => {
    if (!lookup(stored, labels)) histogram.zero(labels); // validates the labels and creates the series
    return find(storageOf<HistogramEntry>(histogram, ['sum', 'count', 'bucketValues']), labels);
  });
  return {
    observe(value) {
      if (!Number.isFinite(value)) throw new TypeError(`histogram value ${value} is not finite`);
      const e = entry();
      e.sum += value;
      e.count += 1;
      // The first bucket that holds it; above the last one only the count (+Inf) and the sum grow, as in prom-client.
      for (let i = 0; i < bounds.length; i++)
        if (value <= bounds[i]!) {
          (e.bucketValues as Record<string, number>)[keys[i]!]! += 1;
          break;
        }
    },
  };
}

/**
 * Series built on first use for each combination of label values, looked up by the values themselves (one
 * map per label, up to five): no key string is built per lookup.
 */
export class SeriesCache<P extends string[], T> {
  private readonly root = new Map<string, unknown>();
  constructor(private readonly make: (...parts: P) => T) {}

  get(...parts: P): T {
    let level = this.root;
    const last = parts.length - 1;
    for (let i = 0; i < last; i++) {
      let next = level.get(parts[i]!) as Map<string, unknown> | undefined;
      if (!next) level.set(parts[i]!, (next = new Map()));
      level = next;
    }
    let series = level.get(parts[last]!) as T | undefined;
    if (series === undefined) level.set(parts[last]!, (series = this.make(...parts)));
    return series;
  }
}

/** An unlabelled gauge moved up and down on every request, without prom-client's label check and hash per call. */
export function gaugeSeries(gauge: Gauge<string>): { inc(): void; dec(): void } {
  const stored = storageOf<CounterEntry>(gauge, ['value']);
  const entry = entryOf(stored, () => {
    if (!stored.hashMap['']) gauge.set(0);
    const e = stored.hashMap[''];
    if (e === undefined || typeof e.value !== 'number') throw storageChanged(gauge, 'no unlabelled entry');
    return e;
  });
  return {
    inc: () => void (entry().value += 1),
    dec: () => void (entry().value -= 1),
  };
}
