// `isotropy extract` end to end: the real binary, the fixture checkpoints, a local "hub" on
// 127.0.0.1, and every output checked against the float64 reference forward pass.
import { createServer, type Server } from 'node:http';
import { createReadStream, existsSync, readFileSync, readdirSync, statSync, writeFileSync, mkdirSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readEmbeddings } from '../../src/io/index.ts';
import { loadTokenizer } from '../../src/extract/tokenizer.ts';
import { referenceForward, relMaxDiff } from './reference.ts';
import { tempDir } from './st-helpers.ts';
import { loadCheckpoint } from '../../src/extract/checkpoint.ts';
import { BIN, ROOT, isotropy } from '../cli/run.ts';

const BERT = 'fixtures/models/tiny-bert';
const ROBERTA = 'fixtures/models/tiny-roberta';
const tmp = tempDir('extract-cli');
test.after(() => tmp.cleanup());

const SENTENCES = [
  'The cat sat on the mat.',
  'Hello, world!',
  '',
  'IsoBN makes the embeddings of BERT more isotropic, they say.',
  'a',
  'the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the',
];
const input = join(tmp.dir, 'sentences.txt');
writeFileSync(input, SENTENCES.join('\n') + '\n');
const kept = SENTENCES.filter((s) => s.trim() !== '');

/** Reference vectors (float64, one sentence at a time) for the kept sentences. */
async function reference(folder: string, maxLength: number) {
  const ckpt = await loadCheckpoint(folder);
  const tok = await loadTokenizer(folder, ckpt.config.modelType);
  return kept.map((s) => referenceForward(ckpt, tok.encodeBatch([s], undefined, maxLength)));
}

test('extract from a local folder: every pooling, every layer, in input order, equal to the float64 reference', async () => {
  const out = join(tmp.dir, 'bert.npy');
  const r = isotropy('extract', '--model', BERT, '--input', input, '--out', out, '--pooling', 'cls,pooler,mean', '--layers', 'all', '--max-length', '32', '--batch-size', '2');
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stderr, /skipped 1 empty line/);
  assert.match(r.stderr, /1 of 5 sentence\(s\) were longer than --max-length 32 tokens and were truncated/);
  assert.match(r.stderr, /^backend: (native|wasm|tensorflow|cpu), \d+ thread\(s\)$/m);
  const ref = await reference(BERT, 32);
  const cls = await readEmbeddings(join(tmp.dir, 'bert.cls.npy'), { layer: 2 });
  assert.equal(cls.shape, [5, 3, 32]);
  for (const layer of [0, 1, 2]) {
    const got = await readEmbeddings(join(tmp.dir, 'bert.cls.npy'), { layer });
    const mean = await readEmbeddings(join(tmp.dir, 'bert.mean.npy'), { layer });
    kept.forEach((_, i) => {
      assert.ok(relMaxDiff(got.data.subarray(i * 32, (i + 1) * 32), ref[i].cls[layer][0]) < 1e-4, `cls layer ${layer} row ${i}`);
      assert.ok(relMaxDiff(mean.data.subarray(i * 32, (i + 1) * 32), ref[i].mean[layer][0]) < 1e-4, `mean layer ${layer} row ${i}`);
    });
  }
  const pooler = await readEmbeddings(join(tmp.dir, 'bert.pooler.npy'));
  assert.equal(pooler.shape, [5, 32]);
  kept.forEach((_, i) => assert.ok(relMaxDiff(pooler.data.subarray(i * 32, (i + 1) * 32), ref[i].pooler![0]) < 1e-4));

  const meta = JSON.parse(readFileSync(join(tmp.dir, 'bert.json'), 'utf8'));
  assert.is(meta.schema, 'isotropy.extract/v1');
  assert.is(meta.sentences, 5);
  assert.is(meta.skippedEmpty, 1);
  assert.is(meta.truncated, 1);
  assert.equal(meta.layers, [0, 1, 2]);
  assert.equal(meta.poolings, ['cls', 'pooler', 'mean']);
  assert.match(meta.input.sha256, /^[0-9a-f]{64}$/);
  assert.ok(['native', 'wasm', 'tensorflow', 'cpu'].includes(meta.backend));
  assert.equal(meta.outputs.map((o: any) => o.shape), [[5, 3, 32], [5, 32], [5, 3, 32]]);
  assert.equal(readdirSync(tmp.dir).filter((f) => f.includes('.tmp-')), []);

  // and the result feeds `isotropy analyze`
  const a = isotropy('analyze', join(tmp.dir, 'bert.pooler.npy'), '--json', '-q', '--no-report');
  assert.is(a.code, 0, a.stderr);
  assert.is(JSON.parse(a.stdout).inputs[0].rows, 5);
});

test('extract JSONL sentence pairs with RoBERTa: one (n, d) file of the last layer', async () => {
  const jsonl = join(tmp.dir, 'pairs.jsonl');
  writeFileSync(jsonl, [
    { premise: 'The cat sat on the mat.', hypothesis: 'A cat is sitting.' },
    { premise: 'Hello there.', hypothesis: '' },
    { premise: '   ', hypothesis: 'skipped' },
  ].map((o) => JSON.stringify(o)).join('\n') + '\n');
  const out = join(tmp.dir, 'rob.npy');
  const r = isotropy('extract', '--model', ROBERTA, '--input', jsonl, '--field', 'premise', '--pair-field', 'hypothesis', '--out', out, '-q');
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stderr, '');
  const got = await readEmbeddings(out);
  assert.equal(got.shape, [2, 32]);
  const ckpt = await loadCheckpoint(ROBERTA);
  const tok = await loadTokenizer(ROBERTA, 'roberta');
  const ref = referenceForward(ckpt, tok.encodeBatch(['The cat sat on the mat.'], ['A cat is sitting.'], 64));
  assert.ok(relMaxDiff(got.data.subarray(0, 32), ref.cls[2][0]) < 1e-4);
  const meta = JSON.parse(readFileSync(join(tmp.dir, 'rob.json'), 'utf8'));
  assert.is(meta.pairs, true);
  assert.is(meta.tokenizer, 'tokenizer.json');
});

/** A minimal hub: GET/HEAD {repo}/resolve/{rev}/{file} from a folder, with Range. */
async function startHub(folder: string, repo: string): Promise<{ server: Server; url: string; requests: string[] }> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    const prefix = `/${repo}/resolve/main/`;
    const file = req.url?.startsWith(prefix) ? join(folder, decodeURIComponent(req.url.slice(prefix.length))) : '';
    if (!file || !existsSync(file)) { res.writeHead(404, { 'x-error-code': 'EntryNotFound' }).end(); return; }
    const size = statSync(file).size;
    const m = /bytes=(\d+)-/.exec(req.headers.range ?? '');
    const start = m ? Number(m[1]) : 0;
    res.writeHead(m ? 206 : 200, {
      'content-length': String(size - start),
      'x-repo-commit': 'abcdefabcdefabcdefabcdefabcdefabcdefabcd',
      ...(m ? { 'content-range': `bytes ${start}-${size - 1}/${size}` } : {}),
    });
    if (req.method === 'HEAD') res.end();
    else createReadStream(file, { start }).pipe(res);
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests };
}

function isotropyAsync(env: Record<string, string>, ...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...process.env, ...env } });
    let stdout = '', stderr = '';
    p.stdout.on('data', (b) => (stdout += b));
    p.stderr.on('data', (b) => (stderr += b));
    const timer = setTimeout(() => p.kill(), 60_000);
    p.on('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
  });
}

test('extract by model id: downloads from HF_ENDPOINT into HF_HOME, then works --offline from the cache', async () => {
  const hub = await startHub(ROBERTA, 'acme/tiny-roberta');
  const env = { HF_ENDPOINT: hub.url, HF_HOME: join(tmp.dir, 'hf'), HF_HUB_CACHE: '', HF_HUB_OFFLINE: '' };
  try {
    const out = join(tmp.dir, 'hub.npy');
    const r = await isotropyAsync(env, 'extract', '--model', 'acme/tiny-roberta', '--input', input, '--out', out, '-q', '--download-deadline', '600');
    assert.is(r.code, 0, r.stderr);
    assert.match(r.stdout, /model acme\/tiny-roberta@abcdefabcd/);
    assert.ok(hub.requests.some((q) => q.includes('/acme/tiny-roberta/resolve/main/model.safetensors')));
    const meta = JSON.parse(readFileSync(join(tmp.dir, 'hub.json'), 'utf8'));
    assert.is(meta.repo, 'acme/tiny-roberta');
    assert.is(meta.commit, 'abcdefabcdefabcdefabcdefabcdefabcdefabcd');
    assert.ok(existsSync(join(tmp.dir, 'hf', 'hub', 'models--acme--tiny-roberta', 'refs', 'main')));
    const local = isotropy('extract', '--model', ROBERTA, '--input', input, '--out', join(tmp.dir, 'local.npy'), '-q');
    assert.is(local.code, 0, local.stderr);
    assert.equal(Array.from((await readEmbeddings(out)).data), Array.from((await readEmbeddings(join(tmp.dir, 'local.npy'))).data));
  } finally {
    hub.server.closeAllConnections();
    await new Promise((ok) => hub.server.close(ok));
  }
  const offline = await isotropyAsync({ HF_ENDPOINT: hub.url, HF_HOME: join(tmp.dir, 'hf') }, 'extract', '--model', 'acme/tiny-roberta', '--offline', '--input', input, '--out', join(tmp.dir, 'off.npy'), '-q');
  assert.is(offline.code, 0, offline.stderr);
  const missing = await isotropyAsync({ HF_ENDPOINT: hub.url, HF_HOME: join(tmp.dir, 'hf') }, 'extract', '--model', 'acme/other', '--offline', '--input', input, '--out', join(tmp.dir, 'x.npy'));
  assert.is(missing.code, 2);
  assert.match(missing.stderr, /^isotropy: .*acme\/other.*--offline/m);
});

test('bad models and inputs: one line, exit 2, no output files', () => {
  const bad = (args: string[], pattern: RegExp) => {
    const r = isotropy('extract', ...args);
    assert.is(r.code, 2, r.stderr);
    assert.ok(!/\n\s+at /.test(r.stderr), r.stderr);
    assert.match(r.stderr, pattern);
    assert.is(r.stdout, '');
  };
  const empty = join(tmp.dir, 'empty.txt');
  writeFileSync(empty, '\n\n');
  const outDir = join(tmp.dir, 'bad-out');
  mkdirSync(outDir);
  const out = join(outDir, 'e.npy');
  bad(['--model', join(tmp.dir, 'nowhere'), '--input', input, '--out', out, '--offline'], /nowhere/);
  bad(['--model', BERT, '--input', empty, '--out', out], /no sentences/);
  bad(['--model', BERT, '--input', join(tmp.dir, 'missing.txt'), '--out', out], /missing\.txt/);
  bad(['--model', BERT, '--input', input, '--out', out, '--pooling', 'max'], /unknown pooling "max"/);
  bad(['--model', BERT, '--input', input, '--out', out, '--layers', '7'], /layer 7 does not exist/);
  bad(['--model', BERT, '--input', input, '--out', out, '--max-length', '1000'], /--max-length 1000 is more than the 64 positions/);

  const noConfig = join(tmp.dir, 'no-config');
  mkdirSync(noConfig);
  copyFileSync(join(BERT, 'model.safetensors'), join(noConfig, 'model.safetensors'));
  bad(['--model', noConfig, '--input', input, '--out', out], /no config\.json/);

  const gpt = join(tmp.dir, 'gpt');
  mkdirSync(gpt);
  writeFileSync(join(gpt, 'config.json'), JSON.stringify({ model_type: 'gpt2' }));
  bad(['--model', gpt, '--input', input, '--out', out], /unsupported model_type "gpt2"/);

  const noPooler = join(tmp.dir, 'no-pooler');
  mkdirSync(noPooler);
  for (const f of readdirSync(ROBERTA)) copyFileSync(join(ROBERTA, f), join(noPooler, f));
  const st = readFileSync(join(ROBERTA, 'model.safetensors'));
  const headerLen = Number(st.readBigUInt64LE(0));
  const header = JSON.parse(st.subarray(8, 8 + headerLen).toString('utf8'));
  for (const k of Object.keys(header)) if (k.includes('pooler')) header[k.replace('pooler', 'poolex')] = header[k], delete header[k];
  const text = Buffer.from(JSON.stringify(header).padEnd(headerLen, ' '));
  writeFileSync(join(noPooler, 'model.safetensors'), Buffer.concat([st.subarray(0, 8), text, st.subarray(8 + headerLen)]));
  bad(['--model', noPooler, '--input', input, '--out', out, '--pooling', 'cls,pooler'], /no pooler weights .*use --pooling cls or mean/);

  const corrupt = join(tmp.dir, 'corrupt');
  mkdirSync(corrupt);
  for (const f of readdirSync(BERT)) copyFileSync(join(BERT, f), join(corrupt, f));
  const bytes = readFileSync(join(BERT, 'model.safetensors'));
  bytes.writeUInt32LE(0x7fffffff, 0);
  writeFileSync(join(corrupt, 'model.safetensors'), bytes);
  bad(['--model', corrupt, '--input', input, '--out', out], /model\.safetensors/);

  // What fuzzing found (issue 9): each is one line and exit 2, never a crash or all-NaN output.
  const variant = (name: string, edit: (dir: string) => void): string => {
    const dir = join(tmp.dir, name);
    mkdirSync(dir);
    for (const f of readdirSync(BERT)) copyFileSync(join(BERT, f), join(dir, f));
    edit(dir);
    return dir;
  };
  const withConfig = (name: string, patch: Record<string, unknown>) =>
    variant(name, (dir) => writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...JSON.parse(readFileSync(join(BERT, 'config.json'), 'utf8')), ...patch })));
  bad(['--model', withConfig('layers-2e31', { num_hidden_layers: 2147483648 }), '--input', input, '--out', out], /num_hidden_layers is 2147483648; expected an integer from 1 to 2147483647/);
  bad(['--model', withConfig('act-toString', { hidden_act: 'toString' }), '--input', input, '--out', out], /hidden_act "toString" is not supported/);
  const shortHeader = variant('short-header', (dir) => {
    const st = readFileSync(join(dir, 'model.safetensors'));
    st.writeBigUInt64LE(st.readBigUInt64LE(0) - 1n, 0);
    writeFileSync(join(dir, 'model.safetensors'), st);
  });
  bad(['--model', shortHeader, '--input', input, '--out', out], /model\.safetensors: the header describes \d+ data bytes but the file holds \d+/);
  const brokenTokenizer = variant('broken-tokenizer', (dir) => {
    const tj = JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8'));
    tj.post_processor.single = null;
    writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(tj));
  });
  bad(['--model', brokenTokenizer, '--input', input, '--out', out], /tokenizer\.json: the tokenizer fails on it/);
  assert.equal(readdirSync(outDir), []);
});

test('extract never writes over the model: --out m/config.npy (its sidecar is m/config.json), --out m/model.safetensors', () => {
  const m = join(tmp.dir, 'protected-model');
  mkdirSync(m);
  for (const f of readdirSync(BERT)) copyFileSync(join(BERT, f), join(m, f));
  for (const out of [join(m, 'config.npy'), join(m, 'model.safetensors')]) {
    const r = isotropy('extract', '--model', m, '--input', input, '--out', out);
    assert.is(r.code, 2, r.stderr);
    assert.match(r.stderr, /^isotropy: .*refusing to overwrite a file of the model[^\n]*\n$/);
  }
  for (const f of readdirSync(BERT)) assert.ok(readFileSync(join(m, f)).equals(readFileSync(join(BERT, f))), `${f} unchanged`);
  assert.equal(readdirSync(m).sort(), readdirSync(BERT).sort());
});

test.run();
