// One interface over the APIs deployments speak. The request path (routing, attempts, streaming, metrics) works in
// OpenAI's shape; a provider says how one attempt looks on its wire: the path under the deployment's base, its auth
// headers, the body, and how its plain answers and streams read back as OpenAI's. OpenAI-compatible upstreams need
// none of the translations: their answers and streams pass through byte for byte (providers/openai.ts).
import type { EndpointName, ProviderName } from '../config/vocabulary.ts';

export interface ProviderDeployment {
  /** The model name the upstream expects. */
  model: string;
  api_key?: string | undefined;
  anthropic_version: string;
  api_version: string;
  azure_deployment?: string | undefined;
  aws_region?: string | undefined;
  aws_access_key_id?: string | undefined;
  aws_secret_access_key?: string | undefined;
  aws_session_token?: string | undefined;
}

/** Turns a provider's event stream into OpenAI chat chunks, event by event (state kept across pushes). */
export interface StreamTranslator {
  /** Upstream text as it arrives -> OpenAI event-stream text to pass on (whole events only). */
  push(text: string): string;
  /** What is left when the upstream ends. */
  flush(): string;
  /** A binary stream (AWS's event-stream framing): raw bytes instead of text. */
  pushBytes?(chunk: Uint8Array): string;
}

export interface Provider {
  name: ProviderName;
  /** Endpoints it can serve (a model with such deployments serves no others). */
  endpoints: readonly EndpointName[];
  /** Path (and query) of an endpoint under the deployment's base path (some APIs stream at another path). */
  path(endpoint: EndpointName, dep: ProviderDeployment, stream: boolean): string;
  /** Auth (and version) headers. */
  headers(dep: ProviderDeployment): Record<string, string>;
  /** The upstream body from the client's OpenAI body; absent: the OpenAI body as it is (with the model set). */
  body?(openai: Record<string, unknown>, dep: ProviderDeployment, stream: boolean): string;
  /** A plain 2xx answer -> the OpenAI answer the client gets; absent: passed through. */
  answer?(json: Record<string, unknown>, model: string): Record<string, unknown>;
  /** A stream's translator; absent: passed through byte for byte. */
  stream?(model: string): StreamTranslator;
  /** An upstream status as the client should see it (e.g. Anthropic's 529 overloaded -> 503). */
  status?(status: number): number;
  /** Headers that sign the request (AWS SigV4), computed from all of it; `origin`: the deployment's api_base. */
  sign?(
    dep: ProviderDeployment,
    req: { origin: string; path: string; headers: Record<string, string>; body: string },
  ): Promise<Record<string, string>>;
  /** What a stream's content-type must be (default: text/event-stream). */
  streamContentType?: RegExp;
}
