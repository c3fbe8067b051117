// src/index.ts installs its webhook body guard process-wide (on Node's request
// diagnostics channel), and jest runs several test files in one worker: a
// guard an earlier file left, with that file's WEBHOOK_SECRET, would take the
// webhook requests of this file's own servers first. A test with a server of
// its own stands it aside (it passes every request on) while it runs.
import { channel } from 'node:diagnostics_channel';

type Held = { current: unknown } | undefined;

/** Stand aside a guard an earlier test file left in this worker; returns the function that puts it back. */
export function standAsideLeftGuard(): () => void {
  const left = (channel('http.server.request.start') as unknown as Record<symbol, Held>)[Symbol.for('merge-gate.webhook-body-guard')];
  if (!left) return () => undefined;
  const before = left.current;
  const quiet = () => undefined;
  left.current = { guard: { handle: async () => false }, log: { debug: quiet, info: quiet, warn: quiet, error: quiet } };
  return () => {
    left.current = before;
  };
}
