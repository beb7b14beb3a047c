import { existsSync, mkdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadCheckpoint } from '../../src/extract/checkpoint.js';
import { resolveModel } from '../../src/extract/hub.js';
import { ExtractError } from '../../src/extract/types.js';
import { COMMIT, OTHER_COMMIT, filesIn, tinyBert, withHub } from './fake-hub.js';
import { rejects, tempDir, writeTinyModel } from './st-helpers.js';

const savedEnv = { ...process.env };
function restoreEnv(): void {
  for (const k of ['HF_HOME', 'HF_HUB_CACHE', 'HF_HUB_OFFLINE', 'HF_ENDPOINT', 'HF_TOKEN']) {
    if (savedEnv[k] === undefined) delete process.env[k];
    else process.env[k] = savedEnv[k];
  }
}
test.after.each(restoreEnv);
test.before.each(() => {
  for (const k of ['HF_HOME', 'HF_HUB_CACHE', 'HF_HUB_OFFLINE', 'HF_ENDPOINT', 'HF_TOKEN']) delete process.env[k];
});

test('download into the hub cache layout, then serve from the cache online, offline and with the hub gone', async () => {
  await withHub(tinyBert, async ({ hub, root, cacheDir, opts }) => {
    const progress: Array<[string, number, number | null]> = [];
    const first = await resolveModel('test-org/tiny-bert', { ...opts, onProgress: (f, d, t) => progress.push([f, d, t]) });
    const repoDir = join(cacheDir, 'models--test-org--tiny-bert');
    const snapshot = join(repoDir, 'snapshots', COMMIT);
    assert.equal(first, { folder: snapshot, repo: 'test-org/tiny-bert', revision: 'main', commit: COMMIT, source: 'download' });
    assert.is(readFileSync(join(repoDir, 'refs', 'main'), 'utf8'), COMMIT);
    assert.equal(filesIn(snapshot), ['config.json', 'model.safetensors', 'tokenizer_config.json', 'vocab.txt']);
    for (const f of filesIn(snapshot)) assert.ok(readFileSync(join(snapshot, f)).equals(readFileSync(join(root, 'served', f))), f);
    // Python's "this file does not exist" markers, so neither tool asks again.
    assert.equal(filesIn(join(repoDir, '.no_exist', COMMIT)), ['merges.txt', 'special_tokens_map.json', 'tokenizer.json', 'vocab.json']);
    const size = statSync(join(snapshot, 'model.safetensors')).size;
    assert.equal(progress.filter(([f]) => f === 'model.safetensors').at(-1), ['model.safetensors', size, size]);
    assert.ok(hub.log.every((r) => r.range === undefined && r.auth === undefined));
    assert.is((await loadCheckpoint(first.folder)).config.modelType, 'bert');

    const requests = hub.log.length;
    const second = await resolveModel('test-org/tiny-bert', opts);
    assert.equal(second, { ...first, source: 'cache' });
    assert.equal(
      hub.log.slice(requests).map((r) => r.file),
      ['config.json'],
      'an up-to-date cache costs one small request',
    );

    await hub.close();
    const logged = hub.log.length;
    assert.equal(await resolveModel('test-org/tiny-bert', { ...opts, offline: true }), second);
    // The hub is unreachable: the cached snapshot of the revision stands in, as in Python.
    assert.equal(await resolveModel('test-org/tiny-bert', opts), second);
    process.env.HF_HUB_OFFLINE = '1';
    process.env.HF_HOME = join(cacheDir, '..', 'home');
    mkdirSync(process.env.HF_HOME);
    await rejects(resolveModel('test-org/tiny-bert', { endpoint: hub.endpoint }), `is not in the cache at ${join(process.env.HF_HOME, 'hub')}`);
    process.env.HF_HUB_CACHE = cacheDir;
    assert.equal((await resolveModel('test-org/tiny-bert')).source, 'cache');
    assert.is(hub.log.length, logged, 'no request while offline');
  });
});

test('an interrupted download keeps its part and the next call resumes it with a Range request', async () => {
  await withHub(tinyBert, async ({ hub, root, cacheDir, opts }) => {
    const original = readFileSync(join(root, 'served', 'model.safetensors'));
    hub.drop = { file: 'model.safetensors', bytes: 30_000, times: 1 };
    const err = await rejects(
      resolveModel('test-org/tiny-bert', opts),
      'test-org/tiny-bert: download interrupted: model.safetensors',
      `of ${original.length} bytes`,
      'run the same command again to resume',
    );
    assert.ok(err instanceof ExtractError);
    const target = join(cacheDir, 'models--test-org--tiny-bert', 'snapshots', COMMIT, 'model.safetensors');
    assert.not.ok(existsSync(target), 'no half file under the final name');
    const partSize = statSync(`${target}.incomplete`).size;
    assert.ok(partSize > 0 && partSize <= 30_000, `part of ${partSize} bytes`);

    const progress: number[] = [];
    const again = await resolveModel('test-org/tiny-bert', { ...opts, onProgress: (f, d) => f === 'model.safetensors' && progress.push(d) });
    assert.is(again.source, 'download');
    const weightRequests = hub.log.filter((r) => r.file === 'model.safetensors');
    assert.is(weightRequests.length, 2);
    assert.is(weightRequests[1].range, `bytes=${partSize}-`);
    assert.is(progress[0], partSize, 'progress counts the resumed part as done');
    assert.ok(readFileSync(target).equals(original), 'the resumed file equals the original');
    assert.not.ok(existsSync(`${target}.incomplete`));
  });
});

test('a server that ignores Range restarts the file from zero; a stale longer part is replaced', async () => {
  await withHub(tinyBert, async ({ hub, root, cacheDir, opts }) => {
    const original = readFileSync(join(root, 'served', 'model.safetensors'));
    const snapshot = join(cacheDir, 'models--test-org--tiny-bert', 'snapshots', COMMIT);
    mkdirSync(snapshot, { recursive: true });
    writeFileSync(join(snapshot, 'model.safetensors.incomplete'), Buffer.alloc(1000, 7));
    hub.ignoreRange = true;
    await resolveModel('test-org/tiny-bert', opts);
    assert.ok(readFileSync(join(snapshot, 'model.safetensors')).equals(original));
    assert.is(hub.log.find((r) => r.file === 'model.safetensors')?.range, 'bytes=1000-');

    rmSync(join(snapshot, 'model.safetensors'));
    writeFileSync(join(snapshot, 'model.safetensors.incomplete'), Buffer.alloc(original.length + 10, 7));
    hub.ignoreRange = false;
    const before = hub.log.length;
    await resolveModel('test-org/tiny-bert', opts);
    assert.equal(
      hub.log.slice(before).filter((r) => r.file === 'model.safetensors').map((r) => r.range),
      [`bytes=${original.length + 10}-`, undefined],
      'a 416 answer, then a download from zero',
    );
    assert.ok(readFileSync(join(snapshot, 'model.safetensors')).equals(original));
  });
});

test('offline with an empty cache fails without any request', async () => {
  await withHub(tinyBert, async ({ hub, cacheDir, opts }) => {
    await rejects(
      resolveModel('test-org/tiny-bert', { ...opts, offline: true }),
      `test-org/tiny-bert is not in the cache at ${cacheDir} and --offline forbids downloading`,
    );
    // A snapshot without weights is not enough either.
    const snapshot = join(cacheDir, 'models--test-org--tiny-bert', 'snapshots', COMMIT);
    mkdirSync(snapshot, { recursive: true });
    writeFileSync(join(snapshot, 'config.json'), '{}');
    mkdirSync(join(cacheDir, 'models--test-org--tiny-bert', 'refs'));
    writeFileSync(join(cacheDir, 'models--test-org--tiny-bert', 'refs', 'main'), COMMIT);
    await rejects(resolveModel('test-org/tiny-bert', { ...opts, offline: true }), 'only partly: missing model.safetensors, tokenizer.json or vocab.txt or vocab.json');
    assert.is(hub.log.length, 0);
  });
});

test('unknown model id, unknown revision, private repo (401 and with a token), unreachable hub', async () => {
  await withHub(
    (root) => ({ ...tinyBert(root), 'me/secret': { dir: join(root, 'served'), private: true } }),
    async ({ hub, cacheDir, opts }) => {
      await rejects(resolveModel('test-org/nope', opts), `test-org/nope: model id not found on ${hub.endpoint}`, 'HF_TOKEN');
      await rejects(resolveModel('test-org/tiny-bert', { ...opts, revision: 'v9' }), 'revision "v9" not found');
      const denied = await rejects(resolveModel('me/secret', opts), 'me/secret', 'HF_TOKEN');
      assert.ok(denied instanceof ExtractError);
      await rejects(resolveModel('me/secret', { ...opts, token: 'wrong' }), 'the token in HF_TOKEN cannot read it');
      process.env.HF_TOKEN = 'secret';
      process.env.HF_ENDPOINT = hub.endpoint;
      const ok = await resolveModel('me/secret', { cacheDir });
      assert.is(ok.source, 'download');
      assert.ok(hub.log.filter((r) => r.repo === 'me/secret').at(-1)?.auth === 'Bearer secret');
      assert.ok(existsSync(join(cacheDir, 'models--me--secret', 'snapshots', COMMIT, 'model.safetensors')));

      await hub.close();
      await rejects(
        resolveModel('test-org/other', opts),
        `cannot reach ${hub.endpoint}/test-org/other/resolve/main/config.json`,
        '--offline',
        'HF_ENDPOINT',
      );
    },
  );
});

test('redirects: the commit comes from the first hop, the token never reaches the CDN, resume works there too', async () => {
  await withHub(
    (root) => ({ 'me/secret': { dir: tinyBert(root)['test-org/tiny-bert'].dir, private: true } }),
    async ({ hub, root, cacheDir, opts }) => {
      hub.redirect = true;
      hub.drop = { file: 'model.safetensors', bytes: 20_000, times: 1 };
      const withToken = { ...opts, token: 'secret' };
      await rejects(resolveModel('me/secret', withToken), 'download interrupted');
      const r = await resolveModel('me/secret', withToken);
      assert.is(r.commit, COMMIT);
      assert.is(r.folder, join(cacheDir, 'models--me--secret', 'snapshots', COMMIT));
      assert.ok(readFileSync(join(r.folder, 'model.safetensors')).equals(readFileSync(join(root, 'served', 'model.safetensors'))));
      assert.ok(hub.log.length > 0 && hub.log.every((q) => q.auth === 'Bearer secret'), 'the hub gets the token');
      assert.equal(
        hub.cdnLog.map((q) => [q.file, q.auth]),
        [['tokenizer_config.json', undefined], ['vocab.txt', undefined], ['model.safetensors', undefined], ['model.safetensors', undefined]],
      );
      assert.is(hub.cdnLog.at(-1)?.range, 'bytes=20000-');
    },
  );
});

test('sharded weights: index and every shard are downloaded and load', async () => {
  await withHub(
    (root) => tinyBert(root, { modelType: 'roberta', prefix: 'roberta.', heads: true, shards: 3 }),
    async ({ hub, opts }) => {
      const r = await resolveModel('test-org/tiny-bert', opts);
      assert.equal(filesIn(r.folder), [
        'config.json', 'merges.txt', 'model-00001-of-00003.safetensors', 'model-00002-of-00003.safetensors',
        'model-00003-of-00003.safetensors', 'model.safetensors.index.json', 'tokenizer_config.json', 'vocab.json',
      ]);
      const weightFiles = hub.log.map((r) => r.file).filter((f) => f.startsWith('model'));
      assert.equal(weightFiles.slice(0, 2), ['model.safetensors', 'model.safetensors.index.json']);
      assert.is((await loadCheckpoint(r.folder)).config.modelType, 'roberta');
      await hub.close();
      assert.is((await resolveModel('test-org/tiny-bert', { ...opts, offline: true })).folder, r.folder);
    },
  );
});

test('repos without safetensors or without a tokenizer are refused with the reason', async () => {
  await withHub(
    (root) => {
      const pt = join(root, 'pt');
      writeTinyModel(pt, { modelType: 'bert' });
      rmSync(join(pt, 'model.safetensors'));
      writeFileSync(join(pt, 'pytorch_model.bin'), 'pickle');
      const notok = join(root, 'notok');
      writeTinyModel(notok, { modelType: 'bert', tokenizer: false });
      return { 'org/pt-only': { dir: pt }, 'org/no-tokenizer': { dir: notok } };
    },
    async ({ opts }) => {
      await rejects(resolveModel('org/pt-only', opts), 'org/pt-only: revision main has no safetensors weights', 'never unpickles', 'safe_serialization=True');
      await rejects(resolveModel('org/no-tokenizer', opts), 'org/no-tokenizer: revision main has no tokenizer');
    },
  );
});

test('no x-repo-commit header: the revision name stands in for the commit', async () => {
  await withHub(
    (root) => ({ bare: { dir: tinyBert(root)['test-org/tiny-bert'].dir, commit: null } }),
    async ({ hub, cacheDir, opts }) => {
      const r = await resolveModel('bare', opts);
      assert.equal(r, { folder: join(cacheDir, 'models--bare', 'snapshots', 'main'), repo: 'bare', revision: 'main', commit: 'main', source: 'download' });
      await hub.close();
      assert.is((await resolveModel('bare', { ...opts, offline: true })).folder, r.folder);
    },
  );
});

test('a commit-hash revision with a complete snapshot needs no request; a python-made snapshot with symlinks is read', async () => {
  await withHub(tinyBert, async ({ hub, root, cacheDir, opts }) => {
    // The layout huggingface_hub writes: content in blobs/, snapshot entries are relative symlinks.
    const repoDir = join(cacheDir, 'models--test-org--tiny-bert');
    const snapshot = join(repoDir, 'snapshots', OTHER_COMMIT);
    mkdirSync(join(repoDir, 'blobs'), { recursive: true });
    mkdirSync(snapshot, { recursive: true });
    for (const f of ['config.json', 'model.safetensors', 'vocab.txt']) {
      writeFileSync(join(repoDir, 'blobs', `etag-${f}`), readFileSync(join(root, 'served', f)));
      symlinkSync(join('..', '..', 'blobs', `etag-${f}`), join(snapshot, f));
    }
    mkdirSync(join(repoDir, 'refs'));
    writeFileSync(join(repoDir, 'refs', 'v1'), OTHER_COMMIT);

    const pinned = await resolveModel('test-org/tiny-bert', { ...opts, revision: OTHER_COMMIT });
    assert.equal(pinned, { folder: snapshot, repo: 'test-org/tiny-bert', revision: OTHER_COMMIT, commit: OTHER_COMMIT, source: 'cache' });
    const tagged = await resolveModel('test-org/tiny-bert', { ...opts, revision: 'v1', offline: true });
    assert.is(tagged.folder, snapshot);
    assert.is(hub.log.length, 0);
    assert.is((await loadCheckpoint(snapshot)).weights.layers.length, 2);
  });
});

test('a local folder is used as is; anything else must look like a model id', async () => {
  const tmp = tempDir('hub-local');
  try {
    const m = writeTinyModel(tmp.path('my model'), { modelType: 'bert' });
    const r = await resolveModel(m.dir, { endpoint: 'http://127.0.0.1:9', offline: false });
    assert.equal(r, { folder: m.dir, repo: null, revision: null, commit: null, source: 'local' });
    const rel = relative(process.cwd(), m.dir);
    assert.is((await resolveModel(rel)).folder, m.dir);
    await rejects(resolveModel(join(m.dir, 'config.json')), 'is a file, not a model folder');
    for (const bad of ['a/b/c', './missing-folder', '../x', 'a--b', 'org/-name', 'na me', '', 'org/']) {
      await rejects(resolveModel(bad, { offline: true }), 'no such folder and not a model id');
    }
    await rejects(resolveModel('org/name', { offline: true, revision: '../../etc' }), 'is not a valid branch');
  } finally {
    tmp.cleanup();
  }
});

test.run();
