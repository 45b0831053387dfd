// The Node flags the router's production build runs with: docker/Dockerfile's ENTRYPOINT, `make router-prod`,
// the build's hashbang (router/build.ts) and the benchmarks take them from here (router/test/node-flags.test.ts
// checks the Dockerfile and the Makefile). Workers forked by --workers inherit them (cluster uses execArgv).
// V8 reads both when the heap is set up (v8.setFlagsFromString at run time has no effect), hence launch flags.
//
// They favour memory over throughput at high concurrency, for what an LLM router holds: many long streams at once.
// --max-semi-space-size=8: V8's young generation grows to two 16 MB semi-spaces under load, all of it resident.
//   Capped at 8 MB (12 MB rounds up to 16), 1,000 open streams peak at 127-149 MB (16 runs, two sessions); with a
//   16 MB cap (and the second flag) 140-163 MB, over 150 in 2 of 8 runs (`make bench-memory`). What it costs is CPU once many
//   short requests are in flight at once: with a zero-latency upstream, CPU per request 114/126-146/161 us at
//   128/256/512 connections against 106/105-107/127 with a 16 MB cap (same-run A/Bs, alternating rounds; 64
//   connections: 96 vs 92). A scavenge comes every ~300 requests (27 KB allocated each), about as long as a
//   request then stays in flight, so their objects survive two scavenges and are promoted (--trace-gc-nvp,
//   256 connections, fixed sizes: ~950 KB promoted a scavenge and 20 us of pauses a request with 8 MB, 56 KB and
//   5 us with 16 MB). Real LLM requests stay in flight for seconds: promoted with either size.
// --no-parallel-scavenge: young-generation GC on the main thread only. With the cap alone, `make bench-memory`
//   (which also scrapes /metrics at each new peak) still read 145-150 MB in 3 runs of 6: the helper threads'
//   transient memory during the burst of 1,000 new streams. With both, 128-145 MB in 12 of 12 runs.
// Until the log stopped piling up buffers under load, the second flag was --single-threaded-gc, which also
// takes marking and sweeping off the helper threads: GC time per request 14.5 us against 9.9 with
// --no-parallel-scavenge and 9.3 with the cap alone (256 connections, same run). docs/performance.md.
export const ROUTER_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=8', '--no-parallel-scavenge'];
