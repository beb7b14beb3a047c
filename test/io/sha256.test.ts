// sha256File: the same digest on this thread and on a thread of its own; unreadable files are NpyErrors.
import { createHash } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { NpyError } from '../../src/io/errors.ts';
import { sha256File } from '../../src/io/sha256.ts';
import { makeTempDir } from './helpers.ts';

const tmp = makeTempDir();
test.after(() => tmp.cleanup());
// more than one 4 MiB read, and not a multiple of it
const bytes = Uint8Array.from({ length: (9 << 20) + 123 }, (_, i) => (i * 2654435761) >>> 24);
const file = tmp.file('blob.bin', bytes);
const want = createHash('sha256').update(bytes).digest('hex');

test('sha256File: the digest of the bytes, on this thread and on a hashing thread', async () => {
  assert.is(await sha256File(file), want);
  assert.is(await sha256File(file, { threadMinBytes: 0 }), want);
  const empty = tmp.file('empty.bin', new Uint8Array(0));
  assert.is(await sha256File(empty, { threadMinBytes: 0 }), createHash('sha256').digest('hex'));
});

test('sha256File: a missing file or a folder is an NpyError naming it, on either thread', async () => {
  for (const threadMinBytes of [undefined, 0]) {
    for (const path of [tmp.file('missing.bin'), tmp.dir]) {
      try {
        await sha256File(path, { threadMinBytes });
        assert.unreachable('accepted');
      } catch (e) {
        assert.instance(e, NpyError);
        assert.match((e as Error).message, path);
      }
    }
  }
});

test.run();
