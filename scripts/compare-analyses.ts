/**
 * Compares the metrics of two `isotropy.analysis/v1` JSON files (or objects): every number of every
 * result (nulls must match), relative to the second one. Values that are rounding noise around
 * zero (the eigenvalues a projection removed, the mean after centring, the spread of standardized
 * stds) are compared on the scale they derive from: a floor of 1e-3 of that scale (the largest
 * eigenvalue, the total spread, the mean std, 1 for dimensionless metrics) under |reference|;
 * the condition number l_max / l_min through its inverse, like the eigenvalues it comes from.
 *
 * Used by the sharded-analysis tests and scripts/slurm-test.sh:
 *   node --import tsx scripts/compare-analyses.ts merged.json whole.json [tolerance, default 1e-10]
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

type Json = null | number | string | boolean | Json[] | { [k: string]: Json };

/** The largest relative difference of two analyses' results and where it is. */
export function compareAnalyses(got: any, want: any): { rel: number; where: string; count: number } {
  let rel = 0, where = '', count = 0;
  const note = (e: number, w: string) => { count++; if (e > rel || Number.isNaN(e)) { rel = Number.isNaN(e) ? Infinity : e; where = w; } };
  if (got.results.length !== want.results.length) return { rel: Infinity, where: `${got.results.length} results vs ${want.results.length}`, count: 0 };
  want.results.forEach((w: any, k: number) => {
    const g = got.results[k];
    const eig0 = Math.abs(w.spectrum.eigenvalues[0]);
    const spread = Math.sqrt(w.spectrum.eigenvalues.reduce((s: number, v: number) => s + Math.max(0, v), 0));
    const floorOf = (path: string): number => {
      if (path.startsWith('spectrum.eigenvalues')) return 1e-3 * eig0;
      if (path === 'meanNorm') return 1e-3 * spread;
      if (/^std\.(mean|std|min|max)$/.test(path)) return 1e-3 * Math.abs(w.std.mean);
      if (/^(scale|params)/.test(path) || path === 'spectrum.effectiveRank') return 1e-300;
      return 1e-3;
    };
    const walk = (a: Json | undefined, b: Json, path: string) => {
      if (b === null || typeof b !== 'object') {
        if (typeof b === 'number') {
          if (typeof a !== 'number') return note(Infinity, `${w.transform} ${path}: ${a} vs ${b}`);
          // l_max / l_min is as exact as l_min is against l_max: compare l_min / l_max like the eigenvalues.
          if (path === 'spectrum.condition') return note(Math.abs(1 / a - 1 / b) / Math.max(1 / b, 1e-3), `${w.transform} ${path}: ${a} vs ${b}`);
          return note(Math.abs(a - b) / Math.max(Math.abs(b), floorOf(path)), `${w.transform} ${path}: ${a} vs ${b}`);
        }
        if (a !== b) note(Infinity, `${w.transform} ${path}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
        return;
      }
      if (a === null || typeof a !== 'object') return note(Infinity, `${w.transform} ${path}: ${JSON.stringify(a)} vs an object`);
      for (const key of Object.keys(b)) {
        if (key === 'nullReasons') continue;
        // After whitening W'^T W' = n I: any basis is an eigenbasis, so I(W) is whatever the
        // eigensolver's rounding picks (null where the spectrum is found degenerate).
        if (w.transform === 'whiten' && key === 'partitionIsotropy' && !path) continue;
        walk((a as any)[key], (b as any)[key], path ? `${path}.${key}` : key);
      }
    };
    walk(g, w, '');
  });
  return { rel, where, count };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [a, b, tol = '1e-10'] = process.argv.slice(2);
  const r = compareAnalyses(JSON.parse(readFileSync(a, 'utf8')), JSON.parse(readFileSync(b, 'utf8')));
  const ok = r.rel <= Number(tol);
  console.log(`${ok ? 'agree' : 'DIFFER'}: ${r.count} numbers, largest relative difference ${r.rel.toExponential(2)} (tolerance ${tol})${r.where ? ` at ${r.where}` : ''}`);
  process.exitCode = ok ? 0 : 1;
}
