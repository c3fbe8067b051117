// A tiny sample service for the deploy trigger. Its behaviour comes from its
// own content (the file behaviour.txt in the revision), so a landed change can
// make a revision healthy, unhealthy, noisy or crashing:
//   healthy    answers GET /healthz with 200
//   unhealthy  answers GET /healthz with 500
//   degrades   healthy for its first three health checks, then 500
//   errors     healthy, but reports an error to SIGNAL_URL every 50 ms
//   crash      exits with code 1 shortly after starting, never answering
//   slow       takes two seconds before it listens (a slow start)
//   prints     healthy, but prints to stdout in a loop, as fast as it is let
//   held       does not listen until a file named `release` appears beside its
//              checkout (a start that lasts exactly as long as a test needs)
// It reads PORT, REVISION and SIGNAL_URL from the environment only.
import { createServer } from 'node:http';
import { existsSync, readFileSync } from 'node:fs';

const port = Number(process.env.PORT);
const revision = process.env.REVISION ?? 'unknown';
let behaviour = 'healthy';
try {
  behaviour = readFileSync(new URL('./behaviour.txt', import.meta.url), 'utf8').trim() || 'healthy';
} catch {
  // no file: healthy
}
let checks = 0;

const healthy = () => behaviour !== 'unhealthy' && !(behaviour === 'degrades' && checks > 3);

const server = createServer((req, res) => {
  if (req.url === '/healthz') {
    checks++;
    res.writeHead(healthy() ? 200 : 500, { 'content-type': 'text/plain' });
    res.end(healthy() ? 'ok\n' : 'unhealthy\n');
    return;
  }
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ revision, behaviour }) + '\n');
});

const listen = () => server.listen(port, '127.0.0.1', () => console.log(`revision ${revision} listening on ${port} (${behaviour})`));
if (behaviour === 'crash') setTimeout(() => process.exit(1), 300);
else if (behaviour === 'held') {
  const release = new URL('../release', import.meta.url);
  const wait = setInterval(() => existsSync(release) && (clearInterval(wait), listen()), 25);
} else setTimeout(listen, behaviour === 'slow' ? 2000 : 0);

if (behaviour === 'errors' && process.env.SIGNAL_URL) {
  setInterval(() => {
    fetch(process.env.SIGNAL_URL, { method: 'POST', body: 'simulated error' }).catch(() => {});
  }, 50);
}

if (behaviour === 'prints') {
  const chunk = `${'x'.repeat(1023)}\n`.repeat(64);
  const spam = () => process.stdout.write(chunk, spam); // the callback: as fast as the pipe takes it
  spam();
}

process.on('SIGTERM', () => {
  console.log(`revision ${revision} stopping`);
  server.close();
  process.exit(0);
});
