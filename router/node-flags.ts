// The Node flags the router's production build runs with: docker/Dockerfile's ENTRYPOINT, `make router-prod`,
// the build's hashbang (router/build.ts) and the benchmarks take them from here (router/test/node-flags.test.ts
// checks the Dockerfile and the Makefile). Workers forked by --workers inherit them (cluster uses execArgv).
// V8 reads both when the heap is set up (v8.setFlagsFromString at run time has no effect), hence launch flags.
//
// They favour memory over peak throughput, for what an LLM router holds: many long streams at once.
// --max-semi-space-size=8: V8's young generation grows to two 16 MB semi-spaces under load, all of it resident.
//   Capped at 8 MB (12 MB rounds up to 16), 1,000 open streams peak ~13 MB lower.
// --single-threaded-gc: no GC helper threads. A burst of 1,000 new streams made long parallel scavenges whose
//   transient memory put about 1 run in 4 at 140-152 MB.
// Together: 1,000 streams peak at 127-141 MB in 16 of 16 runs (137-152 MB without). The cost is twice the
// scavenges: at 64 connections on a zero-latency upstream +5-11% CPU per request, at 256 connections (each
// request lives ~35 ms, so scavenges copy more) GC pauses 7 -> 24 us a request and +20% CPU. README: Performance.
export const ROUTER_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=8', '--single-threaded-gc'];
