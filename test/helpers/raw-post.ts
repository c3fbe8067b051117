// An HTTP POST written on a plain TCP socket, from a chosen local address, on a
// connection of its own. Not through node:http: jest runs test files one after
// another in one process, and an interceptor an earlier file's nock left on
// http.ClientRequest would refuse (or answer) it; a raw socket is never
// intercepted. Resolves with the status (0: refused, reset, or no answer within
// `timeoutMs`) and how long it took.
import { connect } from 'node:net';
import { performance } from 'node:perf_hooks';

export interface RawPost {
  port: number;
  path: string;
  headers: Record<string, string>;
  body: string;
  /** The address it comes from (127.0.0.2: another host than 127.0.0.1). */
  from: string;
  timeoutMs: number;
}

export function rawPost({ port, path, headers, body, from, timeoutMs }: RawPost): Promise<{ status: number; ms: number }> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    let answer = '';
    let done = false;
    const finish = (status: number) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ status, ms: Math.round(performance.now() - t0) });
    };
    const socket = connect({ host: '127.0.0.1', port, localAddress: from }, () => {
      const head = Object.entries({ ...headers, host: `127.0.0.1:${port}`, connection: 'close', 'content-length': String(Buffer.byteLength(body)) })
        .map(([k, v]) => `${k}: ${v}\r\n`)
        .join('');
      socket.write(`POST ${path} HTTP/1.1\r\n${head}\r\n${body}`);
    });
    const timer = setTimeout(() => finish(0), timeoutMs);
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      answer += chunk;
      const line = /^HTTP\/1\.[01] (\d{3})/.exec(answer);
      if (line && answer.includes('\r\n\r\n')) finish(Number(line[1]));
    });
    socket.on('error', () => finish(0));
    socket.on('close', () => finish(0));
  });
}
