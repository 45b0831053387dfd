// Routing conventions clients use, shared by the router (which reads them) and the load generator (which sends them).

/** `"model": "router/<policy>"` asks the router to classify with that policy. */
export const POLICY_MODEL_PREFIX = 'router/';

/** NVIDIA's body extension: `"nim-llm-router": {"policy": ..., "routing_strategy": "triton" | "manual", "model": ...}`. */
export const NIM_EXTENSION_KEY = 'nim-llm-router';
