// Cost-quality curves as a small SVG (no plotting dependency): one panel per data set, quality against the share
// of strong calls, one line per router, the weak and strong models as dashed levels.
import type { CurvePoint } from './metrics.ts';

export interface PlotPanel {
  title: string;
  weak: number;
  strong: number;
  lines: Array<{ name: string; curve: CurvePoint[] }>;
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#7f7f7f', '#17becf'];
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function curvesSvg(panels: PlotPanel[]): string {
  const W = 380;
  const H = 300;
  const m = { l: 48, r: 12, t: 28, b: 40 };
  // One colour per router across panels (a set may have a line the others lack: the subject ceiling), one legend.
  const names = [...new Set(panels.flatMap((p) => p.lines.map((l) => l.name)))];
  const color = (name: string) => COLORS[names.indexOf(name) % COLORS.length];
  const legendH = 18 * Math.ceil(names.length / 3) + 10;
  const width = W * panels.length;
  const height = H + legendH;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
  ];
  panels.forEach((p, k) => {
    const x0 = k * W + m.l;
    const pw = W - m.l - m.r;
    const ph = H - m.t - m.b;
    // The y range fits the routers, not the oracle (which rises far above the strong model): it is clipped.
    const qs = p.lines.filter((l) => l.name !== 'oracle').flatMap((l) => l.curve.map((c) => c.quality));
    const lo = Math.max(0, Math.min(p.weak, ...qs) - 0.02);
    const hi = Math.min(1, Math.max(p.strong, ...qs) + 0.02);
    const sx = (v: number) => x0 + v * pw;
    const sy = (v: number) => m.t + (1 - (v - lo) / (hi - lo)) * ph;
    out.push(`<text x="${x0 + pw / 2}" y="16" text-anchor="middle" font-weight="bold">${esc(p.title)}</text>`);
    out.push(`<rect x="${x0}" y="${m.t}" width="${pw}" height="${ph}" fill="none" stroke="#999"/>`);
    out.push(`<clipPath id="panel${k}"><rect x="${x0}" y="${m.t}" width="${pw}" height="${ph}"/></clipPath>`);
    for (let i = 0; i <= 4; i++) {
      const v = i / 4;
      out.push(`<text x="${sx(v)}" y="${m.t + ph + 14}" text-anchor="middle">${v * 100}%</text>`);
      const q = lo + ((hi - lo) * i) / 4;
      out.push(`<text x="${x0 - 4}" y="${sy(q) + 4}" text-anchor="end">${q.toFixed(2)}</text>`);
    }
    out.push(`<text x="${x0 + pw / 2}" y="${m.t + ph + 30}" text-anchor="middle">strong-model calls</text>`);
    for (const [name, v] of [
      ['weak', p.weak],
      ['strong', p.strong],
    ] as const) {
      out.push(`<line x1="${sx(0)}" x2="${sx(1)}" y1="${sy(v)}" y2="${sy(v)}" stroke="#555" stroke-dasharray="4 3"/>`);
      out.push(`<text x="${sx(1) - 2}" y="${sy(v) - 3}" text-anchor="end" fill="#555">${name}</text>`);
    }
    p.lines.forEach((l) => {
      const d = l.curve.map((c, j) => `${j ? 'L' : 'M'}${sx(c.strongShare).toFixed(1)},${sy(c.quality).toFixed(1)}`);
      out.push(
        `<path d="${d.join('')}" fill="none" stroke="${color(l.name)}" stroke-width="1.6" clip-path="url(#panel${k})"/>`,
      );
    });
  });
  names.forEach((name, i) => {
    const x = 12 + (i % 3) * 260;
    const y = H + 8 + Math.floor(i / 3) * 18;
    out.push(`<line x1="${x}" x2="${x + 22}" y1="${y}" y2="${y}" stroke="${color(name)}" stroke-width="3"/>`);
    out.push(`<text x="${x + 28}" y="${y + 4}">${esc(name)}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
