/** Numbers as the report prints them: 3 significant digits, grouped integers, "—" for null. */
export function formatNumber(v: number | null | undefined): string {
  if (v === null || v === undefined) return '—';
  if (!Number.isFinite(v)) return String(v);
  if (Number.isInteger(v) && Math.abs(v) < 1e6) return v.toLocaleString('en-US').replace('-', '−');
  const a = Math.abs(v);
  let s: string;
  if (a >= 1e6 || (a > 0 && a < 1e-3)) s = v.toExponential(2).replace('e+', 'e');
  else if (a >= 100) s = Math.round(v).toLocaleString('en-US');
  else s = String(Number(v.toPrecision(3)));
  return s.replace('-', '−');
}

/**
 * The change from `before` to `after` in a few characters: a relative change ("+36%", "−2.1%")
 * when before is not 0, a factor ("×4.2e11") when that would pass ±1000%, the signed difference
 * when before is 0; "no change" for a difference within rounding (1e-9 relative); "" when either
 * is missing.
 */
export function formatChange(before: number | null, after: number | null): string {
  if (before === null || after === null || !Number.isFinite(before) || !Number.isFinite(after)) return '';
  const d = after - before;
  if (Math.abs(d) <= 1e-9 * Math.max(Math.abs(before), Math.abs(after))) return 'no change';
  if (before === 0) return `${d > 0 ? '+' : ''}${formatNumber(d)}`;
  const pct = (100 * d) / Math.abs(before);
  if (Math.abs(pct) >= 1000 && after / before > 0) return `×${formatNumber(after / before)}`;
  const p = Math.abs(pct) >= 10 ? pct.toFixed(0) : Math.abs(pct) >= 0.1 ? pct.toFixed(1) : String(Number(pct.toPrecision(1)));
  return `${pct > 0 ? '+' : ''}${p.replace('-', '−')}%`;
}
