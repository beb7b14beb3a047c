// A strict TypeScript project that depends on the package compiles against our declarations
// without skipLibCheck: no type of tfjs (or anything else we use inside) leaks into the public
// entries' .d.ts in a way a consumer must compile. Runs tsc on dist/ (built by `npm test`).
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** A consumer project in a temp folder with `main.ts`; returns tsc's exit status and output. */
function compile(main: string, compilerOptions: Record<string, unknown>, listFiles = false): { status: number | null; out: string } {
  const dir = mkdtempSync(join(tmpdir(), 'isotropy-consumer-'));
  try {
    mkdirSync(join(dir, 'node_modules'));
    symlinkSync(ROOT, join(dir, 'node_modules', 'isotropy-toolkit'), 'dir');
    symlinkSync(join(ROOT, 'node_modules', '@types'), join(dir, 'node_modules', '@types'), 'dir');
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', type: 'module', private: true }));
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { strict: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', noEmit: true, skipLibCheck: false, ...compilerOptions },
      files: ['main.ts'],
    }));
    writeFileSync(join(dir, 'main.ts'), main);
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const r = spawnSync(process.execPath, [tsc, '-p', dir, ...(listFiles ? ['--listFiles'] : [])], { encoding: 'utf8' });
    return { status: r.status, out: `${r.stdout}${r.stderr}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('the root entry: strict, no skipLibCheck, only node\'s types: compiles, and pulls in no tfjs declaration', () => {
  const r = compile(`
import { analyze, matrixSource, StatsAccumulator, ResourceError, type Analysis, type TransformResult, type BackendName } from 'isotropy-toolkit';
const acc = new StatsAccumulator(2);
acc.push(new Float32Array([1, 2, 3, 4]), 2);
const run: Promise<Analysis> = analyze([matrixSource(new Float64Array(8), 4, 2)], { maxMemory: '1G' });
const iso = (r: TransformResult): number | null => r.isoScore;
const b: BackendName = 'wasm';
export { run, iso, b, ResourceError };
`, { types: ['node'] }, true);
  assert.is(r.status, 0, r.out);
  assert.not.match(r.out, '@tensorflow');
});

test('the ./report and ./encoder entries compile for a strict consumer too (with the @types their libraries depend on)', () => {
  const r = compile(`
import { renderReport } from 'isotropy-toolkit/report';
import type { Encoder } from 'isotropy-toolkit/encoder';
export { renderReport };
export type { Encoder };
`, {});
  assert.is(r.status, 0, r.out);
});

test.run();
