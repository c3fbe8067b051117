// Issue 18 item 2: anyone who can reach the trigger opens idle and slow
// connections by the thousand. The trigger is a real process with 1024
// descriptors (scaled down from the incident's 20,000 connections): its probes
// must keep reaching the healthy revision, and a signed delivery still gets its 202.
import Database from 'better-sqlite3';
import { connect, type Socket } from 'node:net';
import type { TempRepo } from '../helpers/git-repo.js';
import { announce, deployReport, itReporting, makeTrunk, runTrigger, waitFor, writeConfig, type TriggerProcess } from '../helpers/deploy.js';

const FLOOD = 1500;
const MAX_FILES = 1024;

/** Open a connection that never finishes its request: half stop inside the headers, half inside a declared body. */
function idle(port: number, slowBody: boolean): Promise<Socket> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.on('error', () => {}); // evicted or refused: what the trigger is allowed to do
    socket.once('connect', () => {
      socket.write(slowBody ? 'POST /hooks/trunk-updated HTTP/1.1\r\nHost: x\r\nContent-Length: 60000\r\n\r\n{"a":' : 'GET / HTTP/1.1\r\nHost: x\r\n');
      resolve(socket);
    });
    socket.once('close', () => resolve(socket));
  });
}

describe('a flood of idle and slow connections', () => {
  let trunk: TempRepo;
  let setup: ReturnType<typeof writeConfig>;
  let trigger: TriggerProcess | null = null;
  const sockets: Socket[] = [];
  const it = itReporting(() => deployReport(setup.config, trigger?.stderr() ?? ''));

  beforeAll(() => {
    trunk = makeTrunk();
    setup = writeConfig({ remote: trunk.dir });
  });

  afterAll(async () => {
    for (const s of sockets) s.destroy();
    if (trigger) {
      trigger.child.kill('SIGTERM');
      await trigger.exit;
    }
    setup.remove();
    trunk.remove();
  });

  // Read-only: the trigger in the other process is the writer.
  const read = <T>(sql: string, ...params: unknown[]): T[] => {
    const db = new Database(setup.config.state, { readonly: true, fileMustExist: true });
    try {
      return db.prepare(sql).all(...params) as T[];
    } finally {
      db.close();
    }
  };
  const state = (sha: string) => read<{ state: string }>('SELECT state FROM revisions WHERE sha = ?', sha)[0]?.state;

  it(`keeps a healthy revision healthy and answers a signed delivery within a second while ${FLOOD} connections are held open`, async () => {
    const sha = trunk.git('rev-parse', 'HEAD').trim();
    trigger = runTrigger(setup.file, { maxFiles: MAX_FILES, args: ['--stop-services-on-exit'] }); // its SIGTERM at the end stops the service too
    const url = await trigger.url;
    const port = Number(new URL(url).port);
    await waitFor('the first revision healthy', () => state(sha) === 'healthy');

    const floodStart = Date.now();
    for (let i = 0; i < FLOOD; i += 100) {
      sockets.push(...(await Promise.all(Array.from({ length: 100 }, (_, j) => idle(port, (i + j) % 2 === 1)))));
    }
    // Long enough for the breaker (3 failures, every 100 ms) many times over.
    await new Promise((r) => setTimeout(r, 3000));

    const t0 = Date.now();
    const res = await Promise.race([announce(url, sha), new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no answer to a signed delivery within 5 s')), 5000).unref())]);
    const ms = Date.now() - t0;
    expect(res.status).toBe(202);
    expect(ms).toBeLessThan(1000);

    expect(state(sha)).toBe('healthy');
    const probes = read<{ ok: number }>('SELECT ok FROM health WHERE sha = ? AND at >= ?', sha, floodStart);
    expect(probes.length).toBeGreaterThan(5);
    // The trigger kept its descriptors: its probes reached the revision.
    expect(probes.filter((p) => p.ok === 1).length).toBeGreaterThan(probes.length / 2);
    expect(read('SELECT 1 FROM revision_history WHERE sha = ? AND state = ?', sha, 'bad')).toEqual([]);
  });
});
