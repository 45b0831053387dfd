// The runbooks page the stack's Prometheus serves (console template consoles/runbooks.html), generated from
// docs/runbooks.md: each alert's runbook_url opens its section where the alert came from, no repository host needed.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Marked } from 'marked';

export const RUNBOOKS_MARKDOWN = fileURLToPath(new URL('../../docs/runbooks.md', import.meta.url));
/** The console page, relative to Prometheus's external URL. */
export const RUNBOOKS_CONSOLE = 'consoles/runbooks.html';

/** A heading's anchor: its text in lower case (the alert name, as GitHub's Markdown anchors have it). */
export const runbookAnchor = (heading: string) =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9 _-]/g, '')
    .replace(/ /g, '-');

/** Headings (level 2) of the runbooks file: one per alert. */
export function runbookSections(markdown = readFileSync(RUNBOOKS_MARKDOWN, 'utf8')): string[] {
  return [...markdown.matchAll(/^## (.+)$/gm)].map((m) => runbookAnchor(m[1]!));
}

export function runbooksConsole(markdown = readFileSync(RUNBOOKS_MARKDOWN, 'utf8')): string {
  const marked = new Marked({
    renderer: {
      heading({ tokens, depth, text }) {
        return `<h${depth} id="${runbookAnchor(text)}">${this.parser.parseInline(tokens)}</h${depth}>\n`;
      },
    },
  });
  const html = marked.parse(markdown, { async: false });
  // Console pages are Go templates: literal braces in the text must not start an action.
  const body = html.replaceAll('{{', '{{ "{{" }}');
  return `{{/* Generated from docs/runbooks.md by prometheus/src/generate.ts (make prometheus-config). Do not edit by hand. */}}
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>llm-router runbooks</title>
<style>
  body { font: 15px/1.5 system-ui, sans-serif; max-width: 860px; margin: 24px auto; padding: 0 16px; color: #1d2330; }
  h2 { margin-top: 32px; border-top: 1px solid #e2e5ec; padding-top: 16px; }
  h2:target { background: #fff6d6; }
  code { background: #f1f3f7; padding: 1px 4px; border-radius: 3px; }
  nav a { margin-right: 12px; }
</style>
</head>
<body>
<nav><a href="{{ pathPrefix }}/consoles/llm-router-overview.html">Overview dashboard</a><a href="{{ pathPrefix }}/classic/alerts">Alerts</a></nav>
${body}</body>
</html>
`;
}
