// The app in a process of its own, as `npm start` runs it (src/index.ts with
// Probot configured from the environment), but listening on 127.0.0.1 port 0:
// prints `LISTENING <port>` once it takes webhooks. Tests kill it with SIGKILL.
//   npx tsx test/helpers/app-process.ts
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createNodeMiddleware, createProbot } from 'probot';
import app from '../../src/index.js';

const probot = createProbot({ env: process.env });
const middleware = await createNodeMiddleware(app, { probot, webhooksPath: '/webhooks' });
const server = createServer((req, res) => {
  void middleware(req, res, () => {
    res.writeHead(404).end();
  });
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`LISTENING ${(server.address() as AddressInfo).port}\n`);
});
