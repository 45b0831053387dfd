import ts from 'typescript';
import { readFileSync, writeFileSync } from 'node:fs';
import { execSync } from 'node:child_process';
const files = execSync("grep -rl 'new ApiError(' router/src")
  .toString()
  .trim()
  .split('\n')
  .filter((f) => !f.endsWith('http/errors.ts'));
const catalog = new Map<string, { status: string; type: string; where: string[] }>();
const manual: string[] = [];
for (const file of files) {
  const text = readFileSync(file, 'utf8');
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const edits: Array<[number, number, string]> = [];
  const visit = (node: ts.Node) => {
    if (ts.isNewExpression(node) && node.expression.getText() === 'ApiError') {
      const a = node.arguments!.map((x) => x);
      const lit = (n?: ts.Expression) => (n && (ts.isStringLiteral(n) || ts.isNumericLiteral(n)) ? n.text : undefined);
      const status = lit(a[0]);
      const type = lit(a[2]) ?? (a[2] ? undefined : 'invalid_request_error');
      const code = lit(a[3]);
      if (!status || !type || !code) {
        manual.push(
          `${file}:${sf.getLineAndCharacterOfPosition(node.getStart()).line + 1} ${node.getText().slice(0, 120).replace(/\n/g, ' ')}`,
        );
      } else {
        const prev = catalog.get(code);
        if (prev && (prev.status !== status || prev.type !== type))
          manual.push(`CONFLICT ${code}: ${prev.status}/${prev.type} vs ${status}/${type} at ${file}`);
        catalog.set(code, { status, type, where: [...(prev?.where ?? []), file] });
        const opts: string[] = [];
        if (a[4] && a[4].getText() !== 'null') opts.push(`param: ${a[4].getText()}`);
        if (a[5]) opts.push(`headers: ${a[5].getText()}`);
        const repl = `apiError('${code}', ${a[1]!.getText()}${opts.length ? `, { ${opts.join(', ')} }` : ''})`;
        edits.push([node.getStart(), node.getEnd(), repl]);
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  let out = text;
  for (const [s, e, r] of edits.sort((x, y) => y[0] - x[0])) out = out.slice(0, s) + r + out.slice(e);
  if (edits.length) writeFileSync(file, out);
  console.log(file, edits.length);
}
console.log(
  JSON.stringify(Object.fromEntries([...catalog].map(([k, v]) => [k, { status: Number(v.status), type: v.type }]))),
);
console.log(manual.join('\n'));
