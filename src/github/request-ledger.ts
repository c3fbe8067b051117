// What accepted events asked the gate for, by queue key, until the work
// covering them is done: numbered (work that ran while more came in leaves
// those to their own run), and recorded once in the durable journal
// (src/intake), so a crash loses none.
import type { PendingJournal, PendingRequest } from '../intake/pending.js';

export class RequestLedger {
  /**
   * The latest request's number, by queue key: work clears the pending record only if no request came in
   * while it ran. Numbers come from one counter that never goes back, so a request after a `settle` (a pull
   * request closed and reopened during its evaluation) never looks like the one the evaluation started with.
   */
  private readonly requests = new Map<string, number>();
  private lastRequest = 0;
  /** Keys recorded as pending in the journal (spares a write per event of a burst). */
  private readonly recorded = new Set<string>();

  /** journal: none keeps the numbers in memory only. */
  constructor(private readonly journal?: PendingJournal) {}

  /** A request came in: numbered, and recorded once in the journal (before the webhook is answered: GitHub will not send it again). */
  note(key: string, request: PendingRequest): void {
    this.requests.set(key, ++this.lastRequest);
    if (this.journal && !this.recorded.has(key)) {
      this.journal.add(key, request);
      this.recorded.add(key);
    }
  }

  /** The latest request for `key`, read when work for it starts (see `done`). */
  seen(key: string): number | undefined {
    return this.requests.get(key);
  }

  /** The work for `key` succeeded having seen the requests up to `seen`; those that came in meanwhile have their own run queued. */
  done(key: string, seen: number | undefined): void {
    if (this.requests.get(key) === seen) this.settle(key);
  }

  /** Nothing is pending for `key` any more. */
  settle(key: string): void {
    this.requests.delete(key);
    if (this.recorded.delete(key)) this.journal?.remove(key);
  }
}
