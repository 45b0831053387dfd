// Labelled series the request path records on every request, resolved once per label set. prom-client's
// labelled calls validate and hash a label object on each call (about fourteen calls a request); a resolved
// series adds to prom-client's own storage directly, so scrapes, aggregation across workers and the exposition
// are prom-client's, unchanged.
// This reads prom-client 15's internal `hashMap` (counter and gauge: {value}, histogram: {sum, count,
// bucketValues});
// router/test/metrics-series.test.ts checks the exposition against prom-client's own labelled calls, so an
// upgrade that changes that storage fails there, not in production.
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
const find = <E extends { labels: Labels }>(metric: Stored<E>, labels: Labels) =>
  Object.values(metric.hashMap).find((e) => sameLabels(e.labels, labels));

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
  const stored = counter as unknown as Stored<CounterEntry>;
  const entry = entryOf(stored, () => {
    counter.inc(labels, 0); // validates the labels once, and creates the series if it is new
    return find(stored, labels)!;
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
  const stored = histogram as unknown as Stored<HistogramEntry> & { upperBounds: readonly number[] };
  // bucketValues is keyed by the bound as a property name: converted once here, not on every observation.
  const bounds = stored.upperBounds;
  const keys = bounds.map(String);
  const entry = entryOf(stored, () => {
    if (!find(stored, labels)) histogram.zero(labels); // validates the labels and creates the series
    return find(stored, labels)!;
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
  const stored = gauge as unknown as Stored<CounterEntry>;
  const entry = entryOf(stored, () => {
    if (!stored.hashMap['']) gauge.set(0);
    return stored.hashMap['']!;
  });
  return {
    inc: () => void (entry().value += 1),
    dec: () => void (entry().value -= 1),
  };
}
