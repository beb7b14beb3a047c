/** Numbers as the report prints them: 3 significant digits, grouped integers, "n/a" for null or NaN. */
export function formatNumber(v: number | null | undefined): string {
  if (v === null || v === undefined || Number.isNaN(v)) return 'n/a';
  if (!Number.isFinite(v)) return v > 0 ? '∞' : '−∞';
  if (Number.isInteger(v) && Math.abs(v) < 1e6) return v.toLocaleString('en-US').replace('-', '−');
  const a = Math.abs(v);
  let s: string;
  if (a >= 1e6 || (a > 0 && a < 1e-3)) s = v.toExponential(2).replace('e+', 'e');
  else if (a >= 100) s = Math.round(v).toLocaleString('en-US');
  else s = String(Number(v.toPrecision(3)));
  return s.replace('-', '−');
}

/** A factor >= 1 in a few characters: "2.3", "275", "4,200", "1e7", "3.2e11". */
export function formatFactor(f: number): string {
  if (f < 10) return String(Number(f.toPrecision(2)));
  if (f < 1e4) return Math.round(f).toLocaleString('en-US');
  const [m, e] = f.toExponential(1).split('e');
  return `${m.replace(/\.0$/, '')}e${Number(e)}`;
}

/**
 * The change from `before` to `after` in a few characters:
 * - a ratio ("×275", "/1e7") for metrics that span orders of magnitude (`ratio`), and for any
 *   metric whose value grows past ±1000% or shrinks below 1/100 of itself without changing sign;
 * - else a relative change ("+36%", "−2.1%"), or the signed difference when before is 0;
 * - "no change" for a difference within rounding (1e-9 relative); "" when either is missing.
 */
export function formatChange(before: number | null, after: number | null, opts: { ratio?: boolean } = {}): string {
  if (before === null || after === null || !Number.isFinite(before) || !Number.isFinite(after)) return '';
  const d = after - before;
  if (Math.abs(d) <= 1e-9 * Math.max(Math.abs(before), Math.abs(after))) return 'no change';
  if (before === 0) return `${d > 0 ? '+' : ''}${formatNumber(d)}`;
  const q = after / before;
  const pct = (100 * d) / Math.abs(before);
  if (q > 0 && (opts.ratio || pct >= 1000 || q < 0.01)) return q >= 1 ? `×${formatFactor(q)}` : `/${formatFactor(1 / q)}`;
  const p = Math.abs(pct) >= 10 ? pct.toFixed(0) : Math.abs(pct) >= 0.1 ? pct.toFixed(1) : String(Number(pct.toPrecision(1)));
  return `${pct > 0 ? '+' : ''}${p.replace('-', '−')}%`;
}
