// Outputs appear whole or not at all, and their temp files do not outlive the process: removed on
// failure and on SIGINT/SIGTERM, swept by the next run after a kill -9; messages never name them.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { NpyWriter, checkOutputPath, describeFsError, quote, sweepStaleTemps, writeFileAtomic } from '../../src/io/index.ts';
import { openNpy } from '../../src/io/npy-reader.ts';
import { makeTempDir, rejects } from './helpers.ts';

const tmp = makeTempDir();
test.after(() => tmp.cleanup());
const IO = fileURLToPath(new URL('../../src/io/index.ts', import.meta.url));
let dirs = 0;
function freshDir(): string {
  const dir = join(tmp.dir, `d${dirs++}`);
  mkdirSync(dir);
  return dir;
}

/**
 * A child process that opens an NpyWriter on `dest`, prints "ready" once its temp file exists,
 * then waits to be killed. Resolves with how it ended.
 */
function writerChild(dest: string, signal: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  const script = `import { NpyWriter } from ${JSON.stringify(IO)};
const w = await NpyWriter.create(${JSON.stringify(dest)}, 1000, 4);
await w.write(new Float64Array(400), 100);
process.stdout.write('ready\\n');
setInterval(() => {}, 1000);`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    child.stdout.on('data', (b: Buffer) => { if (b.toString().includes('ready')) child.kill(signal); });
    child.on('error', reject);
    child.on('exit', (code, sig) => resolve({ code, signal: sig }));
  });
}

const temps = (dir: string) => readdirSync(dir).filter((f) => f.includes('.tmp-'));

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  test(`${signal} while writing: the temp file is removed and the process still dies of the signal`, async () => {
    const dir = freshDir();
    const end = await writerChild(join(dir, 'out.npy'), signal);
    assert.is(end.signal, signal);
    assert.equal(readdirSync(dir), []);
  });
}

test('kill -9 leaves a temp file; the next write to that output sweeps it (and only stale ones of dead processes)', async () => {
  const dir = freshDir();
  const dest = join(dir, 'out.npy');
  const end = await writerChild(dest, 'SIGKILL');
  assert.is(end.signal, 'SIGKILL');
  const [left] = temps(dir);
  assert.ok(left, 'kill -9 left a temp file');
  // a young one is left alone (its writer may be alive on another host sharing the folder)
  assert.equal(await sweepStaleTemps(dest), []);
  const old = new Date(Date.now() - 10 * 60_000);
  utimesSync(join(dir, left), old, old);
  // ours (a live pid) and other outputs' temp files stay
  const mine = `out.npy.tmp-${process.pid}-0123456789ab`;
  const other = 'other.npy.tmp-999999-0123456789ab';
  writeFileSync(join(dir, mine), 'x');
  writeFileSync(join(dir, other), 'x');
  utimesSync(join(dir, mine), old, old);
  await writeFileAtomic(dest, 'done');
  assert.is(readFileSync(dest, 'utf8'), 'done');
  assert.equal(readdirSync(dir).sort(), ['other.npy.tmp-999999-0123456789ab', mine, 'out.npy'].sort());
});

test('a failing write removes its temp file, and no message names a temp file', async () => {
  const dir = freshDir();
  const dest = join(dir, 'r.npy');
  const w = await NpyWriter.create(dest, 2, 2);
  await w.write(new Float64Array(4), 2);
  // the target becomes a folder before the rename: the rename fails
  mkdirSync(dest);
  const err = await rejects(w.commit(), `${dest}: could not finish writing: `);
  assert.not.match(err.message, '.tmp-');
  assert.equal(temps(dir), []);
  const e = { code: 'EACCES', message: `EACCES: permission denied, rename '${dest}.tmp-1-abcdefabcdef' -> '${dest}'` };
  assert.is(describeFsError(e), 'permission denied (EACCES)');
  assert.is(describeFsError({ code: 'EWHATEVER', message: 'x.tmp-2-aaaaaaaaaaaa' }), 'EWHATEVER');
});

test('checkOutputPath: before any work, without creating anything', async () => {
  const dir = freshDir();
  const input = join(dir, 'in.npy');
  writeFileSync(input, 'x');
  await rejects(checkOutputPath(input, [input]), 'refusing to overwrite the input file');
  await rejects(checkOutputPath(join(dir, 'no', 'such', 'o.npy')), 'the output folder', 'does not exist');
  await rejects(checkOutputPath(dir), 'is a directory');
  await rejects(checkOutputPath(join(input, 'o.npy')), 'is not a folder');
  await checkOutputPath(join(dir, 'fine.npy'), [input]);
  assert.equal(readdirSync(dir), ['in.npy']);
  assert.not.ok(existsSync(join(dir, 'fine.npy')));
});

test('a PyTorch file (torch.save zip) is recognised and given the conversion line', async () => {
  // the first local header of a torch.save archive: PK\x03\x04 ... name "archive/data.pkl"
  const name = Buffer.from('archive/data.pkl', 'latin1');
  const head = Buffer.alloc(30);
  head.writeUInt32LE(0x04034b50, 0);
  head.writeUInt16LE(name.length, 26);
  const p = tmp.file('emb.pt', new Uint8Array(Buffer.concat([head, name, Buffer.alloc(64)])));
  const err = await rejects(openNpy(p), `${p}: is a PyTorch file`, "np.save('emb.npy', t.detach().cpu().float().numpy())");
  assert.not.match(err.message, 'npz');
  // any other zip is still the .npz hint
  const other = Buffer.from('arr_0.npy', 'latin1');
  const head2 = Buffer.alloc(30);
  head2.writeUInt32LE(0x04034b50, 0);
  head2.writeUInt16LE(other.length, 26);
  await rejects(openNpy(tmp.file('a.npz', new Uint8Array(Buffer.concat([head2, other, Buffer.alloc(64)])))), 'an .npz from np.savez?');
});

test('messages quote at most ~100 characters of any header: a 20,000-entry shape, a 1 MB descr', async () => {
  const npy = (header: string) => {
    const padded = header + ' '.repeat((64 - ((10 + header.length + 1) % 64)) % 64) + '\n';
    const b = Buffer.alloc(10 + padded.length + 16);
    b.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 2, 0]);
    b.writeUInt32LE(padded.length, 8);
    Buffer.from(padded, 'latin1').copy(b, 12);
    return new Uint8Array(b);
  };
  const shape = `(${Array.from({ length: 20000 }, () => '2').join(', ')})`;
  const e1 = await rejects(openNpy(tmp.file('wide-shape.npy', npy(`{'descr': '<f4', 'fortran_order': False, 'shape': ${shape}, }`))), 'expected a 2-D');
  assert.ok(e1.message.length < 400, `${e1.message.length} characters`);
  const e2 = await rejects(openNpy(tmp.file('big-descr.npy', npy(`{'descr': '${'x'.repeat(1_000_000)}', 'fortran_order': False, 'shape': (2, 2), }`))), 'not supported');
  assert.ok(e2.message.length < 400, `${e2.message.length} characters`);
  assert.match(e2.message, '(1000000 characters)');
  const e3 = await rejects(openNpy(tmp.file('junk.npy', npy(`{'descr': '<f4', ${'z'.repeat(50_000)}}`))), 'unparseable');
  assert.ok(e3.message.length < 400, `${e3.message.length} characters`);
  assert.is(quote('a\u2028b'), '"a\\u2028b"');
});

test.run();
