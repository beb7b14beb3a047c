// The golden fixtures (fixtures/make_golden.py -> fixtures/golden/expected.json) and how a result
// is checked against them, shared by the tests that run analyses on them.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { TransformResult } from '../../src/analyze/schema.ts';

export const GOLDEN_DIR = fileURLToPath(new URL('../../fixtures/golden/', import.meta.url));
export const golden = JSON.parse(readFileSync(`${GOLDEN_DIR}expected.json`, 'utf8'));

export interface GoldenCase {
  file: string;
  layer: number | null;
  dropNonfinite: boolean;
  rows: number;
  droppedRows: number;
  results: Record<string, any>;
}

type Leaf = [path: string, value: number | null];
export function leaves(o: unknown, prefix = ''): Leaf[] {
  if (o === null || typeof o === 'number') return [[prefix, o as number | null]];
  if (Array.isArray(o)) return o.flatMap((v, i) => leaves(v, `${prefix}[${i}]`));
  if (typeof o === 'object') return Object.entries(o as object).flatMap(([k, v]) => leaves(v, prefix ? `${prefix}.${k}` : k));
  return [];
}

export function get(o: unknown, path: string): unknown {
  return path.split(/\.|\[|\]/).filter(Boolean).reduce((v: any, k) => (v == null ? v : v[k]), o);
}

/** golden.test.ts's tolerance: 1e-6 relative, 1e-5 for what comes out of an eigensolver. */
export function goldenTolerance(path: string, transform: string): number {
  if (transform === 'whiten' || transform === 'abtt') return 1e-5;
  return /^(spectrum|isoScore|partitionIsotropy)/.test(path) ? 1e-5 : 1e-6;
}

/**
 * Every mismatch between `results` and the golden case (empty when all agree), with the golden
 * test's rules for unstable values; `tolerance` may loosen a path.
 */
export function goldenMismatches(c: GoldenCase, results: TransformResult[], tolerance = goldenTolerance): string[] {
  const out: string[] = [];
  const unstable = new Map<string, Set<string>>();
  for (const u of golden.unstable) if (u.file === c.file && u.layer === c.layer) unstable.set(u.transform, new Set(u.paths));
  for (const [transform, want] of Object.entries(c.results)) {
    const got = results.find((r) => r.transform === transform);
    if (!got) { out.push(`${transform} missing`); continue; }
    for (const [path, w] of leaves(want)) {
      if (path === 'remove') continue;
      const g = get(got, path) as number | null | undefined;
      const where = `${c.file} layer ${c.layer} ${transform} ${path}: got ${g}, numpy ${w}`;
      if (unstable.get(transform)?.has(path)) {
        if (path === 'partitionIsotropy' || path === 'spectrum.condition' || w === null) continue;
        if (!(typeof g === 'number' && Math.abs(g - w) < 1e-6)) out.push(where);
        continue;
      }
      // undefined for the data: null, never NaN
      if (w === null) { if (g !== null) out.push(where); continue; }
      const floor = path.startsWith('spectrum.eigenvalues') ? want.spectrum.eigenvalues[0] * 1e-3 : 1e-12;
      if (!(typeof g === 'number' && Math.abs(g - w) <= tolerance(path, transform) * Math.max(Math.abs(w), floor))) out.push(where);
    }
  }
  return out;
}
