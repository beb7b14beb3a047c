// Runs the real, built `isotropy` binary (dist/cli/main.js, built by `npm test`).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as assert from 'uvu/assert';

export const BIN = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface Run { code: number | null; stdout: string; stderr: string }

/** `isotropy ...args` from the repository root, with no terminal (plain progress lines). */
export function isotropy(...args: string[]): Run {
  return isotropyIn(ROOT, ...args);
}

/** `isotropy ...args` run from the folder `cwd`. */
export function isotropyIn(cwd: string, ...args: string[]): Run {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', env: { ...process.env, ISOTROPY_DEBUG: '' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * stderr without the progress lines (`label: done/total rows (p%), t s...`), which appear only when
 * a step takes over a second: on a busy machine any step may, so no test may depend on them.
 */
export function withoutProgress(stderr: string): string {
  return stderr.split('\n').filter((l) => !/: \d+\/\d+ \w+ \(\d+%\), [\d.]+ s/.test(l)).join('\n');
}

/**
 * What every refused command must show a user: exit 2, nothing on stdout, one line on stderr
 * (progress lines aside) that starts with "isotropy: " and matches every pattern, no stack
 * trace, no temp file named.
 */
export function failsCleanly(r: Run, ...patterns: RegExp[]): void {
  assert.is(r.code, 2, `exit code, stderr: ${r.stderr}`);
  assert.is(r.stdout, '', 'nothing on stdout');
  assert.not.match(r.stderr, /\n\s+at /, 'no stack trace');
  assert.is(withoutProgress(r.stderr).trimEnd().split('\n').length, 1, `one line: ${r.stderr}`);
  assert.match(withoutProgress(r.stderr), /^isotropy: /);
  for (const p of patterns) assert.match(r.stderr.trimEnd(), p);
  assert.not.match(r.stderr, '.tmp-');
}
