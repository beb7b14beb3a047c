#!/usr/bin/env node
/**
 * The package's `install` step: builds the optional OpenBLAS addon in native/ where the library is
 * present (headers + libopenblas), and otherwise leaves the portable TypeScript kernels in charge.
 *
 * It never fails the install: on any problem it prints one line on stderr,
 *   isotropy: native BLAS addon not built (<reason>); using the portable kernels
 * and exits 0. `ISOTROPY_NO_NATIVE=1` skips the build. The build's full output goes to
 * native/build/build.log.
 *
 * Where OpenBLAS is looked for: `pkg-config openblas` first (honours PKG_CONFIG_PATH), then the usual
 * system, Debian multiarch and Homebrew directories. node-gyp is the one npm bundles
 * (`npm_config_node_gyp`, set by npm during scripts), else npm's copy next to node, a local or PATH
 * node-gyp, else `npm exec --offline` (never a download). Node's headers come from the running node's
 * install prefix when it ships them (include/node), so no header download is needed either.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const API_VERSION = 4; // ISOTROPY_BLAS_API_VERSION in native/isotropy_blas.c
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const nativeDir = join(root, 'native');
const buildDir = join(nativeDir, 'build');
const addonPath = join(buildDir, 'Release', 'isotropy_blas.node');

function skip(reason) {
  const oneLine = String(reason).replace(/\s+/g, ' ').trim();
  process.stderr.write(`isotropy: native BLAS addon not built (${oneLine}); using the portable kernels\n`);
  process.exit(0);
}

process.on('uncaughtException', (e) => skip(`unexpected error: ${e && e.message ? e.message : e}`));

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  return { ok: !r.error && r.status === 0, status: r.status, error: r.error, out: `${r.stdout ?? ''}${r.stderr ?? ''}`, stdout: r.stdout ?? '' };
}

const isDir = (p) => { try { return statSync(p).isDirectory(); } catch { return false; } };
const subdirs = (p) => { try { return readdirSync(p, { withFileTypes: true }).filter((e) => e.isDirectory() || e.isSymbolicLink()).map((e) => join(p, e.name)).filter(isDir); } catch { return []; } };
const unique = (xs) => [...new Set(xs.filter(Boolean))];

/** Whether dir/cblas.h is OpenBLAS's (a reference CBLAS header lacks openblas_get_config). */
function openblasHeader(dir) {
  const h = join(dir, 'cblas.h');
  try { return readFileSync(h, 'utf8').includes('openblas_get_config'); } catch { return false; }
}

const LIB_FILES = process.platform === 'darwin' ? ['libopenblas.dylib'] : ['libopenblas.so'];
const hasLib = (dir, name = 'openblas') =>
  (process.platform === 'darwin' ? [`lib${name}.dylib`] : [`lib${name}.so`]).some((f) => existsSync(join(dir, f)));

/** OpenBLAS as pkg-config describes it, or null. */
function fromPkgConfig() {
  const cflags = run('pkg-config', ['--cflags-only-I', 'openblas']);
  const libs = run('pkg-config', ['--libs-only-L', '--libs-only-l', 'openblas']);
  if (!cflags.ok || !libs.ok) return null;
  const incs = cflags.stdout.split(/\s+/).filter((t) => t.startsWith('-I')).map((t) => t.slice(2));
  const includedir = run('pkg-config', ['--variable=includedir', 'openblas']).stdout.trim();
  const include = unique([...incs, includedir, includedir && join(includedir, 'openblas')]).find(openblasHeader);
  const libDirs = libs.stdout.split(/\s+/).filter((t) => t.startsWith('-L')).map((t) => t.slice(2));
  const libdir = run('pkg-config', ['--variable=libdir', 'openblas']).stdout.trim();
  const lib = (libs.stdout.split(/\s+/).find((t) => t.startsWith('-lopenblas')) ?? '-lopenblas').slice(2);
  const libDir = unique([...libDirs, libdir]).find((d) => hasLib(d, lib));
  return include && libDir ? { include, libDir, lib, via: 'pkg-config' } : null;
}

/** OpenBLAS found by looking in the usual places, or a reason why not. */
function fromSearch() {
  const bases = ['/usr/include', '/usr/local/include', '/opt/homebrew/opt/openblas/include',
    '/usr/local/opt/openblas/include', '/opt/OpenBLAS/include', '/opt/openblas/include'];
  const incCandidates = unique(bases.flatMap((b) => [b, ...subdirs(b).filter((d) => /openblas|linux-gnu|-linux/.test(d)),
    ...subdirs(b).filter((d) => /linux-gnu/.test(d)).flatMap((d) => subdirs(d).filter((e) => /openblas/.test(e)))]));
  const include = incCandidates.find(openblasHeader);
  const libBases = ['/usr/lib64', '/usr/lib', '/usr/local/lib', '/usr/local/lib64', '/opt/homebrew/opt/openblas/lib',
    '/usr/local/opt/openblas/lib', '/opt/OpenBLAS/lib', '/opt/openblas/lib'];
  const libCandidates = unique(libBases.flatMap((b) => [...subdirs(b).filter((d) => /linux-gnu|-linux/.test(d)), b,
    ...subdirs(b).filter((d) => /openblas/.test(d))]));
  const libDir = libCandidates.find((d) => hasLib(d));
  if (!include) {
    const other = incCandidates.some((d) => existsSync(join(d, 'cblas.h')));
    return { reason: other ? "cblas.h found but not OpenBLAS's; install libopenblas-dev" : 'OpenBLAS headers not found (no cblas.h); install libopenblas-dev or set PKG_CONFIG_PATH' };
  }
  if (!libDir) return { reason: `OpenBLAS headers in ${include} but no ${LIB_FILES.join('/')} found` };
  return { include, libDir, lib: 'openblas', via: 'search' };
}

/** rpath only when the dynamic loader would not find libopenblas on its own. */
function rpathFor(libDir) {
  if (process.platform === 'win32') return '';
  if (process.platform === 'linux') {
    const cache = run('ldconfig', ['-p']);
    const cache2 = cache.ok ? cache : run('/sbin/ldconfig', ['-p']);
    if (cache2.ok && /libopenblas[^\s]*\.so\.\d/.test(cache2.stdout)) return '';
  }
  return ['/usr/lib', '/lib', '/usr/lib64', '/lib64'].includes(libDir.replace(/\/+$/, '')) ? '' : libDir;
}

/** The node-gyp to run, as [command, ...leading args], or null. */
function findNodeGyp() {
  const fromEnv = process.env.npm_config_node_gyp;
  if (fromEnv && existsSync(fromEnv)) return /\.(c|m)?js$/.test(fromEnv) ? [process.execPath, fromEnv] : [fromEnv];
  const nodeBin = dirname(process.execPath);
  const bundled = [join(nodeBin, '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
    join(nodeBin, 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js')].find(existsSync);
  if (bundled) return [process.execPath, bundled];
  try { return [process.execPath, createRequire(join(root, 'package.json')).resolve('node-gyp/bin/node-gyp.js')]; } catch { /* not a local dependency */ }
  const exe = process.platform === 'win32' ? 'node-gyp.cmd' : 'node-gyp';
  const onPath = (process.env.PATH ?? '').split(delimiter).map((d) => join(d, exe)).find(existsSync);
  if (onPath) return [onPath];
  const npx = run('npm', ['exec', '--offline', '--yes=false', '--', 'node-gyp', '--version'], { timeout: 60_000 });
  return npx.ok ? ['npm', 'exec', '--offline', '--yes=false', '--', 'node-gyp'] : null;
}

/** --nodedir when the running node ships its headers (saves a download node-gyp could not make offline). */
function nodedirArgs() {
  if (process.env.npm_config_nodedir) return [];
  const prefix = join(dirname(process.execPath), '..');
  const inc = join(prefix, 'include', 'node');
  return existsSync(join(inc, 'node_api.h')) && existsSync(join(inc, 'common.gypi')) ? [`--nodedir=${prefix}`] : [];
}

/** The most telling line of a failed build's output. */
function firstError(out) {
  const lines = out.split('\n').map((l) => l.trim()).filter(Boolean);
  return lines.find((l) => /\berror\b:/i.test(l) && !l.startsWith('gyp'))
    ?? lines.find((l) => /^gyp ERR! stack \w*Error/.test(l))?.replace(/^gyp ERR! stack /, '')
    ?? lines.find((l) => /^gyp ERR!/.test(l) && !/ (cwd|node -v|node-gyp -v|command|System|not ok)\b/.test(l))
    ?? lines.at(-1) ?? 'no output';
}

function main() {
  const off = process.env.ISOTROPY_NO_NATIVE;
  if (off && off !== '0' && off.toLowerCase() !== 'false') skip(`ISOTROPY_NO_NATIVE=${off}`);
  if (!existsSync(join(nativeDir, 'binding.gyp'))) skip('native/binding.gyp missing from this copy of the package');

  const found = fromPkgConfig() ?? fromSearch();
  if (found.reason) skip(found.reason);

  const gyp = findNodeGyp();
  if (!gyp) skip('node-gyp not found (run the install through npm, or install node-gyp)');

  const args = [...gyp.slice(1), 'rebuild', ...nodedirArgs(), '--',
    `-Dblas_include_dir=${found.include}`, `-Dblas_lib_dir=${found.libDir}`, `-Dblas_lib=${found.lib}`,
    `-Dblas_rpath=${rpathFor(found.libDir)}`];
  const build = run(gyp[0], args, { cwd: nativeDir, timeout: 10 * 60_000 });
  mkdirSync(buildDir, { recursive: true });
  const log = join(buildDir, 'build.log');
  writeFileSync(log, `$ ${[gyp[0], ...args].join(' ')}\n(OpenBLAS via ${found.via}: ${found.include}, ${found.libDir})\n\n${build.out}`);
  if (!build.ok) {
    const why = build.error ? build.error.message : firstError(build.out);
    skip(`node-gyp failed: ${why.slice(0, 300)}; see native/build/build.log`);
  }

  // Load it in a child: a broken library must not take the install down, only this addon.
  const probe = run(process.execPath, ['-e',
    `const b = require(${JSON.stringify(addonPath)}); if (b.apiVersion !== ${API_VERSION}) throw new Error('apiVersion ' + b.apiVersion); process.stdout.write(b.info());`],
  { timeout: 60_000 });
  if (!probe.ok) {
    rmSync(addonPath, { force: true });
    skip(`built but does not load: ${firstError(probe.out).slice(0, 300)}`);
  }
  process.stdout.write(`isotropy: native BLAS addon built (${probe.stdout.trim()})\n`);
}

try {
  main();
} catch (e) {
  skip(`unexpected error: ${e && e.message ? e.message : e}`);
}
