// Readers of the status page take turns and a bounded part of the thread
// (readers.ts), on a virtual clock.
import { ReaderBudget } from '../../src/deploy/readers.js';

function virtual() {
  let now = 0;
  const waits: number[] = [];
  return { clock: () => now, wait: async (ms: number) => void (waits.push(ms), (now += ms)), work: (ms: number) => void (now += ms), waits, at: () => now };
}

describe('ReaderBudget', () => {
  it('spaces renders so readers take at most their share of the thread', async () => {
    const v = virtual();
    const budget = new ReaderBudget({ share: 0.25, clock: v.clock, wait: v.wait });
    const starts: number[] = [];
    const render = () => {
      starts.push(v.at());
      v.work(40); // a render of 40 ms
      return 'page';
    };
    expect(await Promise.all([budget.run(render), budget.run(render), budget.run(render)])).toEqual(['page', 'page', 'page']);
    // Each 40 ms render is followed by 120 ms left to the rest of the trigger: a quarter of the thread.
    expect(starts).toEqual([0, 160, 320]);
  });

  it('answers null (503) beyond maxWaiting readers, and takes readers again once they are served', async () => {
    const v = virtual();
    const budget = new ReaderBudget({ maxWaiting: 2, clock: v.clock, wait: v.wait });
    const runs = [budget.run(() => 1), budget.run(() => 2), budget.run(() => 3)];
    expect(await Promise.all(runs)).toEqual([1, 2, null]);
    expect(await budget.run(() => 4)).toBe(4);
  });

  it('a render that throws frees its turn', async () => {
    const budget = new ReaderBudget();
    await expect(budget.run(() => {
      throw new Error('boom');
    })).rejects.toThrow('boom');
    expect(await budget.run(() => 'next')).toBe('next');
  });
});
