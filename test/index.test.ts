// The public API as a user imports it: by package name, through package.json "exports" (dist/).
import { test } from 'uvu';
import * as assert from 'uvu/assert';

test('the package name resolves to the built API with the documented names', async () => {
  const api = await import('isotropy-toolkit');
  for (const name of [
    'readEmbeddings', 'openNpy', 'matrixSource', 'writeNpy', 'NpyWriter', 'parseNpyHeader', 'NpyError',
    'analyze', 'analyzeShards', 'collectStats', 'transformFile', 'ANALYSIS_SCHEMA',
    'StatsAccumulator', 'isoScore', 'avgCosine', 'partitionIsotropy', 'spectrumSummary', 'correlationMatrix',
    'isobn', 'isobnScale', 'RunningIsoBN', 'whitenMap', 'abttMap', 'standardizeMap', 'parseTransforms', 'TRANSFORM_NAMES',
  ]) {
    assert.ok(name in api, `${name} is exported`);
  }
});

test('the API end to end on an in-memory matrix', async () => {
  const { analyze, matrixSource, isoScore } = await import('isotropy-toolkit');
  const rows = [[1, 0], [0, 1], [-1, 0], [0, -1]];
  const a = await analyze([matrixSource(rows)], { transforms: 'none' });
  assert.is(a.results[0].isoScore, 1);
  assert.is(a.results[0].avgCosine, -1 / 3);
  assert.is(isoScore([2, 2]), 1);
});

test('isotropy-toolkit/layers and /probe resolve; the main entry point loads no tfjs', async () => {
  const layers = await import('isotropy-toolkit/layers');
  for (const name of ['IsoBN', 'isoBN', 'fileIO', 'LayerError']) assert.ok(name in layers, `layers: ${name}`);
  const probe = await import('isotropy-toolkit/probe');
  for (const name of ['probe', 'probeFiles', 'readLabels', 'encodeLabels', 'formatProbe', 'PROBE_SCHEMA', 'ProbeError']) assert.ok(name in probe, `probe: ${name}`);
  const { spawnSync } = await import('node:child_process');
  const r = spawnSync(process.execPath, ['--input-type=module', '-e',
    "import 'isotropy-toolkit'; import { createRequire } from 'node:module'; const c = createRequire(import.meta.url).cache; " +
    "process.stdout.write(String(Object.keys(c).filter((k) => k.includes('@tensorflow')).length));"], { encoding: 'utf8' });
  assert.is(r.stdout, '0', r.stderr);
});

test('CommonJS require() by name (Node >= 20.19; the tslab notebook kernel) loads the main entry, /layers, /probe, /encoder', async () => {
  const { spawnSync } = await import('node:child_process');
  // A CommonJS script, as tslab runs a notebook cell: require() through "exports" (the "default"
  // condition) into the ES modules; the report's charts come through renderFigures (vega, which
  // /report loads statically, has a top-level await that require() cannot wait for).
  const script = [
    "const api = require('isotropy-toolkit');",
    "const out = [typeof api.analyze, typeof api.renderFigures, typeof api.StatsAccumulator];",
    "for (const sub of ['layers', 'probe', 'encoder']) out.push(sub + ':' + Object.keys(require('isotropy-toolkit/' + sub)).length);",
    "const rows = [[1, 0], [0, 1], [-1, 0], [0, -1]];",
    "api.analyze([api.matrixSource(rows)], { transforms: 'none' })",
    "  .then((a) => api.renderFigures(a, { only: ['spectrum'], png: false }))",
    "  .then((f) => { out.push(f.figures.map((x) => x.id).join()); process.stdout.write(out.join(' ')); });",
  ].join('\n');
  const r = spawnSync(process.execPath, ['--input-type=commonjs', '-e', script], { encoding: 'utf8', cwd: process.cwd() });
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /^function function function layers:\d+ probe:\d+ encoder:\d+ spectrum$/);
});

test.run();
