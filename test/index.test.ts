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

test.run();
