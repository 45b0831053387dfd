// Plain aligned tables for benchmark output (numbers right-aligned).
export const fmt = (n: number, digits: number) =>
  Number.isFinite(n)
    ? n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
    : '-';

export function table(head: string[], rows: unknown[][]): void {
  const cells = [head, ...rows.map((r) => r.map(String))];
  const widths = head.map((_, i) => Math.max(...cells.map((r) => String(r[i]).length)));
  const numeric = (s: string) => /^[-\d.,]+/.test(s);
  for (const [n, row] of cells.entries()) {
    console.log(
      `  ${row.map((c, i) => (n > 0 && numeric(String(c)) ? String(c).padStart(widths[i]!) : String(c).padEnd(widths[i]!))).join('  ')}`,
    );
    if (n === 0) console.log(`  ${widths.map((w) => '-'.repeat(w)).join('  ')}`);
  }
}
