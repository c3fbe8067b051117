// A fresh QueueScenario (test/helpers/queue-app.ts) for every test of a file: started before it, closed after it, and the fake
// GitHub must have seen nothing wrong. Apart from queue-app.ts, which the bench also imports (it cannot load jest's globals).
import { afterEach, beforeEach, expect } from '@jest/globals';
import { QueueScenario } from './queue-app.js';

/** Call at the top level of a test file; `use` receives each test's scenario. */
export function queueScenarioEachTest(use: (q: QueueScenario) => void): void {
  let current: QueueScenario;
  beforeEach(async () => {
    current = await QueueScenario.start();
    use(current);
  });
  afterEach(async () => {
    await current.close();
    expect(current.fake.problems).toEqual([]);
  });
}
