// The Node flags the router's production build runs with: docker/Dockerfile's ENTRYPOINT, `make router-prod`,
// the build's hashbang (router/build.ts) and the benchmarks take them from here (router/test/node-flags.test.ts
// checks the Dockerfile and the Makefile). Workers forked by --workers inherit them (cluster uses execArgv).
//
// --max-semi-space-size=8: V8's young generation grows to two 16 MB semi-spaces under load, all of it resident.
// Capped at 8 MB, 1,000 open streams peak at 127-128 MB instead of 137-148 MB (4 alternating runs each), at
// +1.6% CPU per request (105.2 vs 106.9 us, 12 rounds): short-lived request garbage dies within a few ms, so
// a smaller nursery promotes little more. V8 reads the size when the heap is set up: v8.setFlagsFromString at
// run time has no effect, hence a launch flag.
export const ROUTER_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=8'];
