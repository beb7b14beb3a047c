/**
 * The HTTP request both remote readers use: a GET that follows redirects by hand (so that a token
 * goes to one origin only, never to a CDN a redirect points to), with a timer on the headers, and
 * the header parsing that Range reads and downloads need. Used by the remote ByteSource
 * (http-source.ts) and by the model hub client (src/extract/hub-client.ts).
 */

/** Longest delay setTimeout honours; longer ones fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** Redirects followed before giving up. */
const MAX_HOPS = 10;

/** Why a request was aborted by us: no answer for the idle time, or the caller's deadline passed. */
export class HttpExpired extends Error {
  constructor(readonly kind: 'idle' | 'deadline') {
    super(kind);
  }
}

/** A request that got no response: unreachable, reset, or aborted by a timer ({@link HttpExpired} in `expired`). */
export class HttpNoAnswer extends Error {
  constructor(
    readonly url: string,
    /** the timer that fired, or null when the network failed */
    readonly expired: HttpExpired | null,
    /** the network error's code or message (`ECONNREFUSED`, ...) */
    readonly causeText: string,
  ) {
    super(expired ? `no answer from ${url} (${expired.kind})` : `cannot reach ${url} (${causeText})`);
  }
}

/** Limits of one request. */
export interface HttpTimers {
  /** milliseconds without headers (or, for body reads, without a byte) before the request fails; Infinity for none */
  idleMs: number;
  /** Date.now() after which the request fails; Infinity (default) for none */
  deadline?: number;
}

/** A response and where it came from. */
export interface FollowedResponse {
  res: Response;
  /** the URL that answered (after redirects) */
  url: string;
  /** aborts the request and its body; also the signal the idle timer of body reads uses */
  abort: AbortController;
}

/**
 * Aborts `ac` after the idle time or at the deadline, whichever comes first; returns the timer
 * (undefined when there is no limit, or one longer than setTimeout can wait).
 */
export function armTimer(ac: AbortController, t: HttpTimers): NodeJS.Timeout | undefined {
  const left = (t.deadline ?? Infinity) - Date.now();
  const kind = left <= t.idleMs ? 'deadline' : 'idle';
  const delay = Math.max(0, Math.min(left, t.idleMs));
  if (delay > MAX_TIMER_MS) return undefined;
  return setTimeout(() => ac.abort(new HttpExpired(kind)), delay);
}

/** The code (`ECONNRESET`) or message of a failed fetch's cause, for messages. */
export function describeCause(err: unknown): string {
  const cause = (err as { cause?: unknown }).cause;
  const c = cause as { code?: string; message?: string } | undefined;
  if (c?.code !== undefined) return c.code;
  if (c?.message !== undefined) return c.message;
  return err instanceof Error ? err.message : String(err);
}

/**
 * GETs `url`, following up to 10 redirects by hand. `token` is sent as `Authorization: Bearer`
 * only to `tokenOrigin` (default: the origin of `url`), so a redirect to another host never sees
 * it. `onHop` sees every response, redirects included (the hub puts headers on the first hop).
 * Asks for `accept-encoding: identity`, so that lengths and ranges count the bytes we get.
 *
 * @returns the final response (any status), its URL and its abort controller, or null after too
 *   many redirects
 * @throws HttpNoAnswer when the server cannot be reached or sends no headers in time
 */
export async function fetchFollowing(
  url: string,
  opts: HttpTimers & {
    headers?: Record<string, string>;
    token?: string;
    tokenOrigin?: string;
    onHop?: (res: Response, url: string, sameOrigin: boolean) => void;
  },
): Promise<FollowedResponse | null> {
  const origin = opts.tokenOrigin ?? new URL(url).origin;
  for (let hop = 0; hop <= MAX_HOPS; hop++) {
    const headers: Record<string, string> = { 'accept-encoding': 'identity', 'user-agent': 'isotropy-toolkit', ...opts.headers };
    const sameOrigin = new URL(url).origin === origin;
    if (opts.token && sameOrigin) headers.authorization = `Bearer ${opts.token}`;
    const abort = new AbortController();
    if (Date.now() >= (opts.deadline ?? Infinity)) throw new HttpNoAnswer(url, new HttpExpired('deadline'), 'deadline');
    const timer = armTimer(abort, opts);
    let res: Response;
    try {
      res = await fetch(url, { headers, redirect: 'manual', signal: abort.signal });
    } catch (err) {
      const why = abort.signal.reason;
      throw new HttpNoAnswer(url, why instanceof HttpExpired ? why : null, describeCause(err));
    } finally {
      clearTimeout(timer);
    }
    opts.onHop?.(res, url, sameOrigin);
    const location = res.headers.get('location');
    if (res.status >= 300 && res.status < 400 && location !== null) {
      await discardBody(res);
      url = new URL(location, url).toString();
      continue;
    }
    return { res, url, abort };
  }
  return null;
}

/** Lets the connection be reused or closed without reading a body we do not want. */
export async function discardBody(res: Response): Promise<void> {
  await res.body?.cancel().catch(() => undefined);
}

/** An ETag's value without W/ and quotes, lower-case, or null for none or a weak one. */
export function etagValue(v: string | null): string | null {
  if (v === null || v.startsWith('W/')) return null;
  return v.trim().replace(/^"(.*)"$/, '$1').toLowerCase();
}

/** A header holding a whole number of bytes, or null. */
export function sizeHeader(v: string | null): number | null {
  return v !== null && /^\d{1,15}$/.test(v.trim()) ? Number(v.trim()) : null;
}

/** Content-Length, or null when absent or when the body is compressed (it then says nothing of the bytes we get). */
export function contentLength(res: Response): number | null {
  const enc = res.headers.get('content-encoding');
  if (enc !== null && enc !== 'identity') return null;
  return sizeHeader(res.headers.get('content-length'));
}

/** `Content-Range: bytes START-END/TOTAL` (TOTAL may be `*`), or null when absent or malformed. */
export function parseContentRange(v: string | null): { start: number; end: number; total: number | null } | null {
  const m = v === null ? null : /^bytes (\d{1,15})-(\d{1,15})\/(\d{1,15}|\*)$/.exec(v.trim());
  if (m === null) return null;
  return { start: Number(m[1]), end: Number(m[2]), total: m[3] === '*' ? null : Number(m[3]) };
}
