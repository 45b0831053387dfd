// The words the config shares with the request path: endpoint names, model capabilities, session modes. A leaf
// module (no imports), so the config schema never imports the HTTP or routing layers.

/** The OpenAI endpoints the router serves (http/endpoints.ts describes each). */
export const ENDPOINTS = ['chat', 'completions', 'responses', 'embeddings'] as const;
export type EndpointName = (typeof ENDPOINTS)[number];

/** What a request may need of a model beyond text (routing/capabilities.ts reads a request's needs). */
export const CAPABILITIES = ['vision', 'tools', 'json_schema'] as const;
export type Capability = (typeof CAPABILITIES)[number];

/** What a later turn of a conversation may do to its model (routing/sessions.ts). */
export const SESSION_MODES = ['up', 'pin', 'off'] as const;
export type SessionMode = (typeof SESSION_MODES)[number];

/** The APIs a deployment may speak (providers/): OpenAI-compatible, Azure OpenAI, Anthropic, Gemini, Bedrock. */
export const PROVIDERS = ['openai', 'azure', 'anthropic', 'gemini', 'bedrock'] as const;
export type ProviderName = (typeof PROVIDERS)[number];
