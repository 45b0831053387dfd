// The upstream body as text: the client's JSON with only its top-level "model" value replaced, so a long prompt
// is not serialised a second time (a cost that grows with the prompt) and everything else reaches the
// upstream as the client wrote it. The text is one JSON.parse already accepted, so the scan below only has to be
// right on valid JSON; wherever it cannot tell safely it answers undefined and the caller serialises the object.

const QUOTE = 34;
const BACKSLASH = 92;
const OPEN_BRACE = 123;
const CLOSE_BRACE = 125;
const OPEN_BRACKET = 91;
const CLOSE_BRACKET = 93;
const COMMA = 44;
const COLON = 58;

const isSpace = (c: number) => c === 32 || c === 10 || c === 13 || c === 9;

function skipSpace(text: string, i: number): number {
  while (isSpace(text.charCodeAt(i))) i++;
  return i;
}

/** The index of the quote that closes the string opened at `open`, or -1. */
function stringEnd(text: string, open: number): number {
  for (let from = open + 1; ; ) {
    const q = text.indexOf('"', from);
    if (q === -1) return -1;
    let slashes = 0;
    while (text.charCodeAt(q - 1 - slashes) === BACKSLASH) slashes++;
    if (slashes % 2 === 0) return q;
    from = q + 1;
  }
}

/**
 * Where the value of the top-level "model" key is (its quotes included), or undefined when that cannot be told
 * safely: no such key, a value that is not a string, the key twice, or a top-level key written with an escape
 * (it could spell "model").
 */
function topLevelModelSpan(text: string): { start: number; end: number } | undefined {
  let i = skipSpace(text, 0);
  if (text.charCodeAt(i) !== OPEN_BRACE) return undefined;
  let depth = 0;
  let keyNext = false;
  let span: { start: number; end: number } | undefined;
  for (; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const end = stringEnd(text, i);
      if (end === -1) return undefined;
      if (depth === 1 && keyNext) {
        keyNext = false;
        for (let k = i + 1; k < end; k++) if (text.charCodeAt(k) === BACKSLASH) return undefined;
        if (end - i === 6 && text.startsWith('model', i + 1)) {
          if (span) return undefined;
          const colon = skipSpace(text, end + 1);
          if (text.charCodeAt(colon) !== COLON) return undefined;
          const value = skipSpace(text, colon + 1);
          if (text.charCodeAt(value) !== QUOTE) return undefined;
          const valueEnd = stringEnd(text, value);
          if (valueEnd === -1) return undefined;
          span = { start: value, end: valueEnd + 1 };
          i = valueEnd;
          continue;
        }
      }
      i = end;
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      depth++;
      if (depth === 1) keyNext = true;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      if (--depth === 0) return span;
    } else if (c === COMMA && depth === 1) keyNext = true;
  }
  return undefined;
}

/** `text` (a JSON object) with its top-level "model" set to `model`, or undefined where the span is not safe. */
export function withModel(text: string, model: string): string | undefined {
  const span = topLevelModelSpan(text);
  return span && text.slice(0, span.start) + JSON.stringify(model) + text.slice(span.end);
}
