// The queue relay tells a license's waiting sockets their places in passes (server/realtime/
// queue-relay.ts): changes made in one turn, or while a pass is under way, are told by one pass
// after them, never by none.
import { describe, expect, it } from 'vitest';
import { Coalescer } from '../../server/realtime/queue-relay';

const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('the queue relay coalesces its passes', () => {
  it('changes in one turn: one pass per license, in the next turn', async () => {
    const runs: string[] = [];
    const c = new Coalescer(async (key) => void runs.push(key), () => {});
    c.soon('a');
    c.soon('a');
    c.soon('b');
    c.soon('a');
    expect(runs).toEqual([]);
    await turn();
    await turn();
    expect(runs.sort()).toEqual(['a', 'b']);
  });

  it('changes while a pass runs: exactly one more pass after it, which starts after the last change', async () => {
    const started: number[] = [];
    let open!: () => void;
    let gate = new Promise<void>((resolve) => (open = resolve));
    let changes = 0;
    const c = new Coalescer(
      async () => {
        started.push(changes);
        await gate;
      },
      () => {},
    );
    c.soon('a');
    await turn();
    expect(started).toEqual([0]);
    // Three changes while the first pass runs.
    for (let i = 0; i < 3; i++) {
      changes++;
      c.soon('a');
    }
    const first = open;
    gate = new Promise<void>((resolve) => (open = resolve));
    first();
    await turn();
    await turn();
    // One more pass, and it sees all three.
    expect(started).toEqual([0, 3]);
    open();
    await turn();
    await turn();
    expect(started).toEqual([0, 3]);
    // A pass that fails is reported, and does not stop the next change from being told.
    const errors: unknown[] = [];
    const failing = new Coalescer(
      async () => {
        started.push(-1);
        throw new Error('store away');
      },
      (err) => errors.push(err),
    );
    failing.soon('x');
    await turn();
    await turn();
    failing.soon('x');
    await turn();
    await turn();
    expect(errors).toHaveLength(2);
    expect(started.filter((s) => s === -1)).toHaveLength(2);
  });
});
