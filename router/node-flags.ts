// The Node flags the router's production build runs with: docker/Dockerfile's ENTRYPOINT, `make router-prod`,
// the build's hashbang (router/build.ts) and the benchmarks take them from here (router/test/node-flags.test.ts
// checks the Dockerfile and the Makefile). Workers forked by --workers inherit them (cluster uses execArgv).
// V8 reads both when the heap is set up (v8.setFlagsFromString at run time has no effect), hence launch flags.
//
// They favour memory over a little peak throughput, for what an LLM router holds: many long streams at once.
// --max-semi-space-size=8: V8's young generation grows to two 16 MB semi-spaces under load, all of it resident.
//   Capped at 8 MB (12 MB rounds up to 16), 1,000 open streams peak at 126-136 MB against 139-148 MB without
//   (scratch A/B harness, alternating, 10 runs each). It is also the cheapest size for CPU at 256 connections:
//   GC time per request 9.0 us with 8 MB, 14.9 with V8's 16 MB (half the scavenges, each 3x longer: more of the
//   requests in flight survive), 23 with 4 MB (same-run A/Bs, both with --no-parallel-scavenge). Beyond that it
//   costs: at 512 connections scavenges took 25-34 us a request against 8-13 with V8's defaults (--trace-gc).
// --no-parallel-scavenge: young-generation GC on the main thread only. With the cap alone, `make bench-memory`
//   (which also scrapes /metrics at each new peak) still read 145-150 MB in 3 runs of 6: the helper threads'
//   transient memory during the burst of 1,000 new streams. With both, 128-145 MB in 12 of 12 runs.
// Until the log stopped piling up buffers under load, the second flag was --single-threaded-gc, which also
// takes marking and sweeping off the helper threads: GC time per request 14.5 us against 9.9 with
// --no-parallel-scavenge and 9.3 with the cap alone (256 connections, same run). README: Performance.
export const ROUTER_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=8', '--no-parallel-scavenge'];
