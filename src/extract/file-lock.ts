/**
 * A lock file beside a file being downloaded (`<file>.lock`), so that two processes sharing a hub
 * cache never write the same `.incomplete` file at once (Python's hub client does the same with
 * its own locks). Node has no flock, so the lock is a file created exclusively (`wx`) holding the
 * owner's pid, host and a random token.
 *
 * A lock is stale, and is taken over, when its owner runs on this host and is gone (a `kill -9`,
 * a crash), or when it was not refreshed for {@link STALE_MS} (owners touch it every third of
 * that while they hold it, so this also covers owners on other hosts sharing the cache and pids
 * reused by another program). The owner removes it when done, and on SIGINT/SIGTERM/SIGHUP.
 */
import { randomBytes } from 'node:crypto';
import { open, readFile, stat, unlink, utimes } from 'node:fs/promises';
import { hostname } from 'node:os';
import { removeOnExit } from '../io/exit-cleanup.js';

/** A lock not refreshed for this long is abandoned. */
export const STALE_MS = 30_000;
const POLL_MS = 100;

/** Tokens of the locks this process holds: a lock with our pid but another token is a dead predecessor's (pid reuse, e.g. pid 1 in containers). */
const ownTokens = new Set<string>();

/** Who holds a lock, as written in the lock file. */
export interface LockOwner {
  pid: number;
  host: string;
  token: string;
}

/** A held lock; {@link release} it when done. */
export interface HeldLock {
  readonly path: string;
  release(): Promise<void>;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function readOwner(path: string): Promise<LockOwner | null> {
  const text = await readFile(path, 'utf8').catch(() => null);
  if (text === null) return null;
  try {
    const v = JSON.parse(text) as Partial<LockOwner>;
    if (Number.isSafeInteger(v.pid) && typeof v.host === 'string' && typeof v.token === 'string') return v as LockOwner;
  } catch {
    // being written right now, or garbage: judged by its age below
  }
  return null;
}

/** Whether the lock at `path` (which exists) can be taken over. */
async function isStale(path: string): Promise<boolean> {
  const info = await stat(path).catch(() => null);
  if (info === null) return true;
  if (Date.now() - info.mtimeMs > STALE_MS) return true;
  const owner = await readOwner(path);
  if (owner === null || owner.host !== hostname()) return false;
  return owner.pid === process.pid ? !ownTokens.has(owner.token) : !isAlive(owner.pid);
}

/**
 * Tries once to take the lock `path`, sweeping a stale one first.
 * @returns the held lock, or null when another live owner holds it.
 */
export async function tryLock(path: string): Promise<HeldLock | null> {
  const owner: LockOwner = { pid: process.pid, host: hostname(), token: randomBytes(8).toString('hex') };
  for (let attempt = 0; attempt < 2; attempt++) {
    let fh;
    try {
      fh = await open(path, 'wx');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      if (attempt > 0 || !(await isStale(path))) return null;
      await unlink(path).catch(() => undefined);
      continue;
    }
    const forget = removeOnExit(path);
    ownTokens.add(owner.token);
    try {
      await fh.writeFile(JSON.stringify(owner));
    } finally {
      await fh.close();
    }
    const refresh = setInterval(() => {
      const now = new Date();
      void utimes(path, now, now).catch(() => undefined);
    }, STALE_MS / 3);
    refresh.unref();
    return {
      path,
      release: async () => {
        clearInterval(refresh);
        // Only our own lock: had it been taken over as stale, the file is someone else's now.
        if ((await readOwner(path))?.token === owner.token) await unlink(path).catch(() => undefined);
        ownTokens.delete(owner.token);
        forget();
      },
    };
  }
  return null;
}

/**
 * Takes the lock `path`, waiting while another live process holds it.
 * @param deadline - `Date.now()` value after which to give up (Infinity: wait as long as it takes).
 * @param onWait - called at each poll while waiting (e.g. to show the other process's progress).
 * @returns the held lock, or the owner still holding it at the deadline.
 */
export async function lock(path: string, deadline: number, onWait?: () => void | Promise<void>): Promise<HeldLock | { heldBy: LockOwner | null }> {
  for (;;) {
    const held = await tryLock(path);
    if (held !== null) return held;
    if (Date.now() >= deadline) return { heldBy: await readOwner(path) };
    await onWait?.();
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, Math.min(POLL_MS, deadline - Date.now()))));
  }
}
