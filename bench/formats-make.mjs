// The Parquet and Arrow files of the format benchmark (run bench/formats-make.py first: it writes
// emb.npy and emb.csv). Parquet is written by DuckDB from the CSV and by parquet-wasm from Arrow
// (install both with `cd fixtures/formats && npm install`), Arrow by apache-arrow from the .npy.
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { FixedSizeList, Field, Float32, Table, makeData, makeVector, tableToIPC } from 'apache-arrow';

const dir = process.argv[2];
const raw = readFileSync(join(dir, 'emb.npy'));
const headerLen = raw.readUInt16LE(8);
const shape = /'shape': \((\d+), (\d+)\)/.exec(raw.subarray(10, 10 + headerLen).toString('latin1'));
const [N, D] = [Number(shape[1]), Number(shape[2])];
const data = new Float32Array(raw.buffer.slice(raw.byteOffset + 10 + headerLen, raw.byteOffset + raw.length));
const type = new FixedSizeList(D, new Field('item', new Float32(), false));
const batches = [];
for (let s = 0; s < N; s += 10_000) {
  const e = Math.min(N, s + 10_000);
  const child = makeData({ type: new Float32(), length: (e - s) * D, data: data.subarray(s * D, e * D) });
  batches.push(new Table({ emb: makeVector(makeData({ type, length: e - s, nullCount: 0, child })) }).batches[0]);
}
writeFileSync(join(dir, 'emb.arrow'), tableToIPC(new Table(batches), 'file'));

const require = createRequire(new URL('../fixtures/formats/package.json', import.meta.url));
const { DuckDBInstance } = await import(require.resolve('@duckdb/node-api'));
const db = await DuckDBInstance.create(':memory:');
const con = await db.connect();
const cols = Array.from({ length: D }, (_, i) => `column${String(i).padStart(3, '0')}`);
await con.run(`COPY (SELECT [${cols.join(', ')}]::FLOAT[${D}] AS emb FROM read_csv('${join(dir, 'emb.csv')}', header = false, columns = {${cols.map((c) => `'${c}': 'FLOAT'`).join(', ')}}))
  TO '${join(dir, 'emb.parquet')}' (FORMAT parquet, COMPRESSION snappy)`);
// and by arrow-rs (parquet-wasm), whose pages are about 1 MiB (DuckDB's hold a third of the column each)
const pq = await import(require.resolve('parquet-wasm/node'));
const props = new pq.WriterPropertiesBuilder().setCompression(pq.Compression.SNAPPY).build();
writeFileSync(join(dir, 'emb.arrowrs.parquet'), pq.writeParquet(pq.Table.fromIPCStream(tableToIPC(new Table(batches), 'stream')), props));
console.log('node part done');
