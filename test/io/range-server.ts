/**
 * A file server on 127.0.0.1 for the remote-input tests: HTTP Range like a CDN, bytes served
 * counted per path, and per-path misbehaviour (5xx first, a stall, a reset, no Range support,
 * lying headers, 403/404, redirects to a second origin).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Mode =
  | { kind: 'ok' }
  /** the first `count` requests get `status` (503 by default), then ok */
  | { kind: 'fail-first'; count: number; status?: number }
  /** the first `count` requests send headers and half the body, then nothing */
  | { kind: 'stall-first'; count: number }
  /** the first `count` requests are cut off (socket destroyed) mid-body */
  | { kind: 'reset-first'; count: number }
  /** Range ignored: 200 with the whole file */
  | { kind: 'no-range' }
  /** a 206 whose Content-Range names other bytes than asked */
  | { kind: 'wrong-range' }
  /** a 206 whose Content-Length says more than the range (and a body that long) */
  | { kind: 'long-body' }
  /** the total size changes after the first request */
  | { kind: 'grows' }
  | { kind: 'status'; status: number }
  /** 302 to the same path on the other server (a CDN) */
  | { kind: 'redirect'; to: string };

export interface Served {
  body: Uint8Array;
  mode?: Mode;
  etag?: string;
}

export interface RangeServer {
  url: string;
  origin: string;
  files: Map<string, Served>;
  /** body bytes sent per path */
  bytes: Map<string, number>;
  /** requests per path */
  requests: Map<string, number>;
  /** the Authorization header of each request, per path */
  auth: Map<string, (string | undefined)[]>;
  close(): Promise<void>;
}

export async function startRangeServer(): Promise<RangeServer> {
  const files = new Map<string, Served>();
  const bytes = new Map<string, number>();
  const requests = new Map<string, number>();
  const auth = new Map<string, (string | undefined)[]>();
  const sockets = new Set<import('node:net').Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const count = (m: Map<string, number>, k: string, v: number) => m.set(k, (m.get(k) ?? 0) + v);

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const path = decodeURIComponent(new URL(req.url!, 'http://x').pathname);
    const n = (requests.get(path) ?? 0) + 1;
    count(requests, path, 1);
    auth.set(path, [...(auth.get(path) ?? []), req.headers.authorization]);
    const f = files.get(path);
    if (!f) {
      res.writeHead(404).end('not found');
      return;
    }
    const mode = f.mode ?? { kind: 'ok' };
    const send = (status: number, headers: Record<string, string | number>, body: Uint8Array) => {
      res.writeHead(status, { ...(f.etag ? { etag: `"${f.etag}"` } : {}), ...headers });
      count(bytes, path, body.length);
      res.end(Buffer.from(body));
    };
    if (mode.kind === 'status') return void res.writeHead(mode.status).end();
    if (mode.kind === 'redirect') return void res.writeHead(302, { location: `${mode.to}${req.url}` }).end();
    if (mode.kind === 'fail-first' && n <= mode.count) return void res.writeHead(mode.status ?? 503).end('busy');
    const size = mode.kind === 'grows' && n > 1 ? f.body.length + 10 : f.body.length;
    const m = /^bytes=(\d+)-(\d+)?$/.exec(req.headers.range ?? '');
    if (!m || mode.kind === 'no-range') return send(200, { 'content-length': f.body.length }, f.body);
    const start = Number(m[1]);
    const end = Math.min(size - 1, m[2] === undefined ? size - 1 : Number(m[2]));
    if (start >= size) return void res.writeHead(416, { 'content-range': `bytes */${size}` }).end();
    let body = f.body.subarray(start, end + 1);
    let range = `bytes ${start}-${end}/${size}`;
    if (mode.kind === 'wrong-range') range = `bytes ${start + 1}-${end + 1}/${size}`;
    if (mode.kind === 'long-body') {
      body = f.body.subarray(start, Math.min(f.body.length, end + 101));
      return send(206, { 'content-range': range }, body);
    }
    if ((mode.kind === 'stall-first' || mode.kind === 'reset-first') && n <= mode.count) {
      res.writeHead(206, { 'content-range': range, 'content-length': body.length });
      const half = body.subarray(0, Math.floor(body.length / 2));
      count(bytes, path, half.length);
      res.write(Buffer.from(half));
      if (mode.kind === 'reset-first') {
        const t = setTimeout(() => req.socket.destroy(), 20);
        timers.add(t);
      }
      return; // stall: never ends (the client gives up; close() ends the socket)
    }
    send(206, { 'content-range': range, 'content-length': body.length }, body);
  };

  const server: Server = createServer(handle);
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;
  return {
    url: origin,
    origin,
    files,
    bytes,
    requests,
    auth,
    async close() {
      timers.forEach(clearTimeout);
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
