// Bytes fetched by a remote Parquet analysis against the file's size: a Hugging-Face-like file
// (id, text, a 384-d and a 768-d embedding column) written by DuckDB, served on 127.0.0.1 with
// HTTP Range, analysed by its 768-d column (two passes, then --one-pass).
//   (cd fixtures/formats && npm install) && node --import tsx bench/remote-parquet.ts [--rows 20000]
import { createRequire } from 'node:module';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyze } from '../src/index.js';
import { startRangeServer } from '../test/io/range-server.js';

const rows = Number(process.argv[process.argv.indexOf('--rows') + 1] || 20000) || 20000;
const require = createRequire(new URL('../fixtures/formats/package.json', import.meta.url));
const { DuckDBInstance } = require('@duckdb/node-api');
const dir = mkdtempSync(join(tmpdir(), 'isotropy-remote-'));
const file = join(dir, 'train.parquet');
const db = await DuckDBInstance.create(':memory:');
const con = await db.connect();
await con.run('SELECT setseed(0.5)');
await con.run(`COPY (SELECT i AS id, 'sentence ' || i || ' ' || repeat('lorem ipsum ', 15) AS text,
  list_transform(range(384), x -> random()::FLOAT)::FLOAT[384] AS emb_small,
  list_transform(range(768), x -> (random() * (1 + x % 7))::FLOAT)::FLOAT[768] AS embedding
  FROM range(${rows}) t(i)) TO '${file}' (FORMAT parquet, COMPRESSION zstd)`);
const body = new Uint8Array(readFileSync(file));
const server = await startRangeServer();
server.files.set('/train.parquet', { body, etag: 'bench' });
const url = `${server.url}/train.parquet`;
const mb = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;
console.log(`${rows} rows: id, text, emb_small FLOAT[384], embedding FLOAT[768]; DuckDB zstd; file ${mb(body.length)} (${body.length} bytes)`);
for (const onePass of [false, true]) {
  server.bytes.delete('/train.parquet');
  server.requests.delete('/train.parquet');
  const t0 = Date.now();
  const a = await analyze([url], { column: 'embedding', onePass, diagnostics: false, transforms: 'isobn' });
  const f = a.inputs[0].files![0];
  console.log(`analyze --column embedding${onePass ? ' --one-pass' : ''}: fetched ${mb(f.fetched!)} of ${mb(f.size!)} (${(100 * f.fetched! / f.size!).toFixed(1)}%), ` +
    `${server.requests.get('/train.parquet')} requests, ${((Date.now() - t0) / 1000).toFixed(1)} s; isoScore ${a.results[0].isoScore.toPrecision(6)}`);
}
await server.close();
rmSync(dir, { recursive: true, force: true });
