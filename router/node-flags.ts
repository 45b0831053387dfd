// The Node flags the router's production build runs with: docker/Dockerfile's ENTRYPOINT, `make router-prod`,
// the build's hashbang (router/build.ts) and the benchmarks take them from here (router/test/node-flags.test.ts
// checks the Dockerfile and the Makefile). Workers forked by --workers inherit them (cluster uses execArgv).
// V8 reads both when the heap is set up (v8.setFlagsFromString at run time has no effect), hence launch flags.
//
// --max-semi-space-size=8: V8's young generation grows to two 16 MB semi-spaces under load, all of it resident.
//   Capped at 8 MB, 1,000 open streams peak ~13 MB lower (127-128 vs 137-148 MB, alternating runs) at +1.6% CPU
//   per request (12 rounds): request garbage dies within a few ms, so a smaller nursery promotes little more.
// --single-threaded-gc: no GC helper threads. A burst of 1,000 new streams made long parallel scavenges whose
//   transient memory put 1 run in 3 at 140-152 MB (126-141 MB the others); on the main thread only, 6 of 6 runs
//   at 128-134 MB, and CPU per request fell (97.7 vs 102.4 us, 12 rounds, 2 cores): helpers competed with the
//   main thread for the cores instead of shortening its pauses.
export const ROUTER_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=8', '--single-threaded-gc'];
