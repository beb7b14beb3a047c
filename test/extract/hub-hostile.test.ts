// The hub client against a slow, stuck or hostile server on 127.0.0.1, concurrent downloads into one
// cache, and processes killed mid-download. Timeouts are made small through the options; nothing
// asserts how long anything took (the `bounded` wrapper of withHub only keeps a hang from hanging CI).
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { resolveModel, type HubOptions } from '../../src/extract/hub.js';
import { BIN, ROOT } from '../cli/run.js';
import { COMMIT, filesIn, tinyBert, withHub, type FakeHub } from './fake-hub.js';
import { rejects } from './st-helpers.js';

const ID = 'test-org/tiny-bert';
const ENV = ['HF_HOME', 'HF_HUB_CACHE', 'HF_HUB_OFFLINE', 'HF_ENDPOINT', 'HF_TOKEN', 'HF_HUB_DOWNLOAD_TIMEOUT', 'ISOTROPY_DOWNLOAD_DEADLINE'];
const savedEnv = { ...process.env };
test.before.each(() => {
  for (const k of ENV) delete process.env[k];
});
test.after.each(() => {
  for (const k of ENV) {
    if (savedEnv[k] === undefined) delete process.env[k];
    else process.env[k] = savedEnv[k];
  }
});

const snapshotOf = (cacheDir: string) => join(cacheDir, 'models--test-org--tiny-bert', 'snapshots', COMMIT);
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Leftovers of a download in a folder: locks, parts and temp files. */
function leftovers(dir: string): string[] {
  return existsSync(dir) ? filesIn(dir).filter((f) => /\.(lock|incomplete)$|\.tmp-/.test(f)) : [];
}

/** Writes `chunk` as fast as the client takes it, forever (until the connection closes). */
function endless(res: ServerResponse, chunk: Buffer): void {
  let open = true;
  res.on('close', () => (open = false));
  const pump = (): void => {
    while (open && res.write(chunk));
    if (open) res.once('drain', pump);
  };
  pump();
}

/**
 * Caches config and tokenizer first (the weights answered 404), then forgets that the weights are
 * missing, so that the next call's only download is model.safetensors.
 */
async function cacheAllButWeights(hub: FakeHub, cacheDir: string, opts: HubOptions): Promise<void> {
  const saved = hub.override;
  hub.override = ({ file, res }) => {
    if (!file.startsWith('model.safetensors')) return false;
    res.writeHead(404, { 'x-error-code': 'EntryNotFound' }).end();
    return true;
  };
  await rejects(resolveModel(ID, opts), 'has no safetensors weights');
  rmSync(join(cacheDir, 'models--test-org--tiny-bert', '.no_exist'), { recursive: true, force: true });
  hub.override = saved;
}

test('headers never sent: fails after the idle timeout, and a complete cached snapshot stands in', async () => {
  await withHub(tinyBert, async ({ hub, opts }) => {
    hub.override = ({ file }) => file === 'config.json'; // never answers
    await rejects(resolveModel(ID, { ...opts, idleTimeoutMs: 300 }), `no answer from ${hub.endpoint}/${ID}/resolve/main/config.json within 0.3 s`, 'HF_HUB_DOWNLOAD_TIMEOUT', '--offline');
    process.env.HF_HUB_DOWNLOAD_TIMEOUT = '0.2';
    await rejects(resolveModel(ID, opts), 'within 0.2 s');
    hub.override = null;
    const first = await resolveModel(ID, opts);
    hub.override = ({ file }) => file === 'config.json';
    assert.equal(await resolveModel(ID, opts), { ...first, source: 'cache' }, 'a stuck hub is like an unreachable one');
    process.env.HF_HUB_DOWNLOAD_TIMEOUT = 'soon';
    await rejects(resolveModel(ID, opts), 'HF_HUB_DOWNLOAD_TIMEOUT is "soon"; expected a number of seconds');
  });
});

test('0 turns the limits off (no instant timeout), through the options and the environment', async () => {
  await withHub(tinyBert, async ({ opts }) => {
    assert.is((await resolveModel(ID, { ...opts, idleTimeoutMs: 0, deadlineMs: 0 })).source, 'download');
    process.env.HF_HUB_DOWNLOAD_TIMEOUT = '0';
    process.env.ISOTROPY_DOWNLOAD_DEADLINE = '0';
    assert.is((await resolveModel(ID, opts)).source, 'cache');
    process.env.ISOTROPY_DOWNLOAD_DEADLINE = '-5';
    await rejects(resolveModel(ID, opts), 'ISOTROPY_DOWNLOAD_DEADLINE is "-5"; expected a number of seconds (0 or more)');
  });
});

test('an endless body stops at the announced size, or at the size the safetensors header gives', async () => {
  await withHub(tinyBert, async ({ hub, root, cacheDir, opts }) => {
    await cacheAllButWeights(hub, cacheDir, opts);
    const size = readFileSync(join(root, 'served', 'model.safetensors')).length;
    hub.override = ({ file, res, body, headers }) => {
      if (file !== 'model.safetensors') return false;
      const chunked = { ...headers };
      delete chunked['content-length'];
      res.writeHead(200, chunked); // chunked, X-Linked-Size announced
      res.write(body);
      endless(res, Buffer.alloc(65536, 7));
      return true;
    };
    await rejects(resolveModel(ID, opts), `${ID}: model.safetensors from`, `is longer than announced (${size} bytes); the partial file was removed`);
    assert.equal(leftovers(snapshotOf(cacheDir)), []);
    assert.not.ok(existsSync(join(snapshotOf(cacheDir), 'model.safetensors')));

    hub.integrity = false; // nothing announced at all: the file's own header bounds it
    await rejects(resolveModel(ID, opts), `is longer than its safetensors header says (${size} bytes)`);
    assert.equal(leftovers(snapshotOf(cacheDir)), []);
  });
});

test('a trickle outlives no deadline; a stall ends at the idle timeout; both keep the part and resume', async () => {
  await withHub(tinyBert, async ({ hub, root, cacheDir, opts }) => {
    await cacheAllButWeights(hub, cacheDir, opts);
    const original = readFileSync(join(root, 'served', 'model.safetensors'));
    const timers: NodeJS.Timeout[] = [];
    hub.override = ({ file, res, body, headers }) => {
      if (file !== 'model.safetensors') return false;
      res.writeHead(200, headers);
      res.write(body.subarray(0, 1000));
      let at = 1000;
      const t = setInterval(() => res.write(body.subarray(at, ++at)), 20); // a byte every 20 ms: never idle
      timers.push(t);
      res.on('close', () => clearInterval(t));
      return true;
    };
    const partial = join(snapshotOf(cacheDir), 'model.safetensors.incomplete');
    await rejects(
      resolveModel(ID, { ...opts, idleTimeoutMs: 5000, deadlineMs: 1500 }),
      'download interrupted: model.safetensors',
      'the download deadline of 1.5 s (--download-deadline or ISOTROPY_DOWNLOAD_DEADLINE',
      `the part is kept in ${partial}`,
    );
    assert.ok(statSync(partial).size >= 1000);

    hub.override = ({ file, req, res, body, headers }) => {
      if (file !== 'model.safetensors' || req.headers.range !== undefined) return false;
      res.writeHead(200, headers);
      res.write(body.subarray(0, 5000)); // then nothing
      return true;
    };
    rmSync(partial);
    await rejects(resolveModel(ID, { ...opts, idleTimeoutMs: 300 }), 'download interrupted: model.safetensors', 'no data for 0.3 s (HF_HUB_DOWNLOAD_TIMEOUT');
    assert.is(statSync(partial).size, 5000);
    const r = await resolveModel(ID, { ...opts, idleTimeoutMs: 300 });
    assert.is(hub.log.filter((q) => q.file === 'model.safetensors').at(-1)?.range, 'bytes=5000-');
    assert.ok(readFileSync(join(r.folder, 'model.safetensors')).equals(original));
    assert.equal(leftovers(r.folder), []);
    for (const t of timers) clearInterval(t);
  });
});

test('a Content-Length shorter than the body never leaves a truncated file in the cache', async () => {
  await withHub(tinyBert, async ({ hub, root, cacheDir, opts }) => {
    const served = (f: string) => readFileSync(join(root, 'served', f));
    /** Answers `file` with the whole body but a Content-Length `short` bytes too small, raw on the socket. */
    const shortLength = (file: string, short: number, extra: (body: Buffer) => Record<string, string>) => {
      hub.override = ({ file: f, req, body }) => {
        if (f !== file || req.headers.range !== undefined) return false;
        const head = { 'content-length': String(body.length - short), 'x-repo-commit': COMMIT, ...extra(body) };
        req.socket.end(Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\n${Object.entries(head).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`), body]));
        return true;
      };
    };
    const snapshot = snapshotOf(cacheDir);

    // The git blob id of a file kept in git catches it.
    const sha1 = (b: Buffer) => createHash('sha1').update(`blob ${b.length}\0`).update(b).digest('hex');
    shortLength('config.json', 10, (b) => ({ etag: `"${sha1(b)}"` }));
    await rejects(resolveModel(ID, opts), `${ID}: config.json from`, 'is corrupt (git blob id', 'it was removed and nothing was cached');
    // Without any hash, a JSON file must at least parse.
    shortLength('config.json', 10, () => ({}));
    await rejects(resolveModel(ID, opts), 'config.json from', 'is corrupt (not valid JSON');
    assert.not.ok(existsSync(join(snapshot, 'config.json')));

    await cacheAllButWeights(hub, cacheDir, opts);
    // The hub's sha256 catches it ...
    shortLength('model.safetensors', 100, (b) => ({ etag: `"${sha256(b)}"` }));
    await rejects(resolveModel(ID, opts), 'model.safetensors from', 'is corrupt (sha256');
    // ... and without one, the exact safetensors layout does.
    shortLength('model.safetensors', 100, () => ({}));
    await rejects(resolveModel(ID, opts), 'model.safetensors from', 'is corrupt (not a valid safetensors file', 'past the end of the data', 'the file is truncated');
    assert.not.ok(existsSync(join(snapshot, 'model.safetensors')));
    assert.equal(leftovers(snapshot), []);

    // With the hub's X-Linked-Size the short body is an interrupted download, resumed next time.
    shortLength('model.safetensors', 100, (b) => ({ 'x-linked-size': String(b.length), 'x-linked-etag': `"${sha256(b)}"` }));
    await rejects(resolveModel(ID, opts), 'download interrupted: model.safetensors', 'connection closed early');
    const r = await resolveModel(ID, opts);
    assert.ok(readFileSync(join(r.folder, 'model.safetensors')).equals(served('model.safetensors')));
    assert.equal(leftovers(r.folder), []);
  });
});

test('a wrong sha256 or a body longer than the linked size: refused, removed, nothing cached', async () => {
  await withHub(tinyBert, async ({ hub, root, cacheDir, opts }) => {
    await cacheAllButWeights(hub, cacheDir, opts);
    const wrong = sha256(Buffer.from('something else'));
    hub.override = ({ file, res, body, headers }) => {
      if (file !== 'model.safetensors') return false;
      res.writeHead(200, { ...headers, etag: `"${wrong}"`, 'x-linked-etag': `"${wrong}"` }).end(body);
      return true;
    };
    await rejects(resolveModel(ID, opts), `is corrupt (sha256 ${sha256(readFileSync(join(root, 'served', 'model.safetensors')))}, the hub says ${wrong})`);
    assert.not.ok(existsSync(join(snapshotOf(cacheDir), 'model.safetensors')));
    assert.equal(leftovers(snapshotOf(cacheDir)), []);

    hub.override = ({ file, res, body, headers }) => {
      if (file !== 'model.safetensors') return false;
      res.writeHead(200, { ...headers, 'x-linked-size': String(body.length - 10) }).end(body);
      return true;
    };
    await rejects(resolveModel(ID, opts), 'is longer than announced');
    assert.equal(leftovers(snapshotOf(cacheDir)), []);
  });
});

test('two downloads of one model at once in one process: each file is fetched once, both get it whole', async () => {
  await withHub(tinyBert, async ({ hub, root, opts }) => {
    hub.override = ({ file, req, res, body, headers }) => {
      if (file !== 'model.safetensors' || req.headers.range !== undefined) return false;
      setTimeout(() => res.writeHead(200, headers).end(body), 200); // slow enough to overlap
      return true;
    };
    const [a, b] = await Promise.all([resolveModel(ID, opts), resolveModel(ID, opts)]);
    assert.is(a.folder, b.folder);
    assert.is(hub.log.filter((q) => q.file === 'model.safetensors').length, 1);
    assert.is(hub.log.filter((q) => q.file === 'vocab.txt').length, 1);
    for (const f of ['config.json', 'vocab.txt', 'model.safetensors']) {
      assert.ok(readFileSync(join(a.folder, f)).equals(readFileSync(join(root, 'served', f))), f);
    }
    assert.equal(leftovers(join(a.folder, '..', '..')), []);
  });
});

/** A child process running resolveModel(id) against `endpoint`, printing the result as JSON (the built module: `npm test` builds first). */
function child(root: string, endpoint: string, cacheDir: string, idleMs = 10_000) {
  const script = join(root, 'child.mjs');
  writeFileSync(
    script,
    `import { resolveModel } from ${JSON.stringify(pathToFileURL(join(ROOT, 'dist/extract/hub.js')).href)};\n` +
      `try { process.stdout.write(JSON.stringify(await resolveModel(${JSON.stringify(ID)}, { endpoint: ${JSON.stringify(endpoint)}, cacheDir: ${JSON.stringify(cacheDir)}, idleTimeoutMs: ${idleMs} }))); }\n` +
      `catch (e) { process.stderr.write(String(e.message)); process.exitCode = 2; }\n`,
  );
  const p = spawn(process.execPath, [script], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  p.stdout.on('data', (b) => (stdout += b));
  p.stderr.on('data', (b) => (stderr += b));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) =>
    p.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  return { process: p, done };
}

async function until(what: string, cond: () => boolean): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

test('two processes downloading the same model into one cache: one download per file, both succeed', async () => {
  await withHub(tinyBert, async ({ hub, root, cacheDir, opts }) => {
    hub.override = ({ file, req, res, body, headers }) => {
      if (file !== 'model.safetensors' || req.headers.range !== undefined) return false;
      res.writeHead(200, headers);
      res.write(body.subarray(0, 1000));
      setTimeout(() => res.end(body.subarray(1000)), 800);
      return true;
    };
    const runs = await Promise.all([child(root, opts.endpoint!, cacheDir).done, child(root, opts.endpoint!, cacheDir).done]);
    for (const r of runs) assert.is(r.code, 0, r.stderr);
    assert.equal(JSON.parse(runs[0].stdout).folder, JSON.parse(runs[1].stdout).folder);
    assert.is(hub.log.filter((q) => q.file === 'model.safetensors').length, 1, 'one download of the weights');
    const folder = JSON.parse(runs[0].stdout).folder as string;
    assert.ok(readFileSync(join(folder, 'model.safetensors')).equals(readFileSync(join(root, 'served', 'model.safetensors'))));
    assert.equal(leftovers(cacheDir), []);
  }, 40_000);
});

test('SIGINT and SIGTERM remove the lock and keep only the resumable part; after kill -9 the next run takes the lock over', async () => {
  await withHub(tinyBert, async ({ hub, root, cacheDir, opts }) => {
    await cacheAllButWeights(hub, cacheDir, opts);
    hub.override = ({ file, req, res, body, headers }) => {
      if (file !== 'model.safetensors' || req.headers.range !== undefined) return false;
      res.writeHead(200, headers);
      res.write(body.subarray(0, 3000)); // then stalls
      return true;
    };
    const snapshot = snapshotOf(cacheDir);
    const partial = join(snapshot, 'model.safetensors.incomplete');
    const lockFile = join(snapshot, 'model.safetensors.lock');
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGKILL'] as const) {
      rmSync(partial, { force: true });
      const c = child(root, opts.endpoint!, cacheDir);
      await until('the child to start downloading', () => existsSync(partial) && statSync(partial).size === 3000);
      c.process.kill(signal);
      const r = await c.done;
      assert.is(r.signal, signal, `${signal}: dies of the signal (${r.code} ${r.stderr})`);
      assert.ok(existsSync(partial), `${signal}: the resumable part stays`);
      assert.is(existsSync(lockFile), signal === 'SIGKILL', `${signal}: the lock is removed unless kill -9`);
    }
    // A ref written by a process killed midway leaves a temp file: swept by the next run.
    const deadPid = spawnSync(process.execPath, ['-e', '']).pid!;
    const refs = join(cacheDir, 'models--test-org--tiny-bert', 'refs');
    writeFileSync(join(refs, `main.tmp-${deadPid}-0a0b0c0d`), COMMIT);
    hub.override = null;
    const r = await resolveModel(ID, { ...opts, deadlineMs: 10_000 });
    assert.is(hub.log.filter((q) => q.file === 'model.safetensors').at(-1)?.range, 'bytes=3000-', 'the part is resumed');
    assert.ok(readFileSync(join(r.folder, 'model.safetensors')).equals(readFileSync(join(root, 'served', 'model.safetensors'))));
    assert.equal(leftovers(cacheDir), []);
  }, 40_000);
});

test('a lock of a dead process or an abandoned one is taken over; a live one is waited for until the deadline', async () => {
  await withHub(tinyBert, async ({ hub, cacheDir, opts }) => {
    await cacheAllButWeights(hub, cacheDir, opts);
    const lockFile = join(snapshotOf(cacheDir), 'model.safetensors.lock');
    // The parent of this test process is alive and is not us.
    writeFileSync(lockFile, JSON.stringify({ pid: process.ppid, host: hostname(), token: 'theirs' }));
    await rejects(
      resolveModel(ID, { ...opts, deadlineMs: 1500 }),
      `the download deadline of 1.5 s`,
      `passed while process ${process.ppid} on ${hostname()} was downloading model.safetensors into the same cache (lock ${lockFile})`,
    );
    assert.ok(existsSync(lockFile), 'a live lock is left alone');

    // Not refreshed for minutes (its owner on another host is gone): taken over.
    writeFileSync(lockFile, JSON.stringify({ pid: 1, host: 'elsewhere', token: 'theirs' }));
    const old = new Date(Date.now() - 10 * 60_000);
    utimesSync(lockFile, old, old);
    await resolveModel(ID, opts);
    assert.not.ok(existsSync(lockFile));

    // Its owner on this host is dead.
    rmSync(join(snapshotOf(cacheDir), 'model.safetensors'));
    const deadPid = spawnSync(process.execPath, ['-e', '']).pid!;
    writeFileSync(lockFile, JSON.stringify({ pid: deadPid, host: hostname(), token: 'theirs' }));
    await resolveModel(ID, opts);
    assert.equal(leftovers(cacheDir), []);
  });
});

test('HF_ENDPOINT that is not an http(s) URL: one clear line, through the API and the CLI', async () => {
  process.env.HF_ENDPOINT = 'not a url';
  await rejects(resolveModel('org/name', { cacheDir: '/nonexistent-cache' }), 'HF_ENDPOINT "not a url" is not an http(s) URL of a hub');
  await rejects(resolveModel('org/name', { endpoint: 'ftp://example.org', cacheDir: '/nonexistent-cache' }), 'the hub endpoint option "ftp://example.org" is not an http(s) URL');
  // Offline, the endpoint is never used.
  await rejects(resolveModel('org/name', { cacheDir: '/nonexistent-cache', offline: true }), 'is not in the cache');
  const r = spawnSync(process.execPath, [BIN, 'extract', '--model', 'org/name', '--input', 'README.md', '--out', join(ROOT, 'test-artifacts-none.npy')], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, HF_ENDPOINT: 'not a url', HF_HOME: '/nonexistent-home', ISOTROPY_DEBUG: '' },
  });
  assert.is(r.status, 2, r.stderr);
  assert.is(r.stderr, 'isotropy: HF_ENDPOINT "not a url" is not an http(s) URL of a hub: set it to an address like https://huggingface.co (or a mirror\'s), or unset it\n');
});

test.run();
