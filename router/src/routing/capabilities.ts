// What a request needs of a model beyond text: image input, tool calling, structured output. A model that
// declares `capabilities` in config only gets requests whose needs it meets; one that declares none is
// assumed to take anything (configs written before capabilities existed keep working).
import type { Capability } from '../config/vocabulary.ts';

export { CAPABILITIES, type Capability } from '../config/vocabulary.ts';

const IMAGE_PARTS = new Set(['image_url', 'input_image', 'image']);

/** The capabilities a chat request needs, in CAPABILITIES order. */
export function requiredCapabilities(body: {
  messages?: ReadonlyArray<{ content?: unknown }>;
  tools?: unknown;
  functions?: unknown;
  response_format?: unknown;
}): Capability[] {
  const needs: Capability[] = [];
  const hasImage = (body.messages ?? []).some((m) => {
    const content = m.content;
    return (
      Array.isArray(content) &&
      content.some(
        (p) => p !== null && typeof p === 'object' && IMAGE_PARTS.has(String((p as { type?: unknown }).type)),
      )
    );
  });
  if (hasImage) needs.push('vision');
  if (
    (Array.isArray(body.tools) && body.tools.length > 0) ||
    (Array.isArray(body.functions) && body.functions.length > 0)
  )
    needs.push('tools');
  const format = body.response_format as { type?: unknown } | null | undefined;
  if (format && typeof format === 'object' && format.type === 'json_schema') needs.push('json_schema');
  return needs;
}

/** The needs a model does not meet (none when it declares no capabilities). */
export function missingCapabilities(
  model: { capabilities?: readonly Capability[] | undefined } | undefined,
  needs: readonly Capability[],
): Capability[] {
  if (!model?.capabilities || needs.length === 0) return [];
  return needs.filter((n) => !model.capabilities!.includes(n));
}
