// The gathering of PostgreSQL's one-trip seat moves (`Gathered` in server/store/one-trip-seats.ts),
// on its own: which moves go in which call, what a failed call does, and that a call that hangs
// does not hold back the moves behind it. The calls here are functions that answer when told to;
// test/store/one-trip-seats.test.ts runs the same gathering against PostgreSQL's functions.
import { describe, expect, it } from 'vitest';
import { CROWD, Gathered } from '../../server/store/one-trip-seats';

/** A call that answers when the test says so. */
function pending<T>() {
  let answer!: (v: T) => void;
  let fail!: (e: unknown) => void;
  const promise = new Promise<T>((resolve, reject) => ((answer = resolve), (fail = reject)));
  return { promise, answer, fail };
}

function recorder(opts: { stuckMs?: number; most?: number; failMany?: boolean; bad?: number; thread?: () => boolean } = {}) {
  const calls: Array<{ kind: 'alone' | 'many'; moves: number[]; onThread: boolean; call: ReturnType<typeof pending<unknown>> }> = [];
  const gathered = new Gathered<number, string>(
    async (move, onThread) => {
      if (move === opts.bad) throw new Error(`move ${move} is bad`);
      const call = pending<unknown>();
      calls.push({ kind: 'alone', moves: [move], onThread, call });
      await call.promise;
      return `alone ${move}`;
    },
    async (_licenseId, moves, onThread) => {
      const call = pending<unknown>();
      calls.push({ kind: 'many', moves, onThread, call });
      await call.promise;
      if (opts.failMany || (opts.bad !== undefined && moves.includes(opts.bad))) throw new Error('the call failed');
      return moves.map((m) => `many ${m}`);
    },
    { stuckMs: opts.stuckMs, most: opts.most, thread: opts.thread },
  );
  /** Answers every call made so far that has not been answered, and lets the next ones start. */
  const answerAll = async () => {
    for (const c of calls) c.call.answer(undefined);
    await new Promise((resolve) => setImmediate(resolve));
  };
  return { gathered, calls, answerAll };
}

describe('gathered seat moves', () => {
  it('sends a move at once, and those that come while it is in flight together after it, 64 at most a call, in order', async () => {
    const { gathered, calls, answerAll } = recorder();
    const replies = Array.from({ length: 150 }, (_, i) => gathered.call('lic', i));
    // Another license's move does not wait for this one's.
    const other = gathered.call('other', 1000);
    expect(calls.map((c) => [c.kind, c.moves.length])).toEqual([['alone', 1], ['alone', 1]]);
    for (let round = 0; round < 4; round++) await answerAll();
    expect(calls.map((c) => [c.kind, c.moves.length])).toEqual([['alone', 1], ['alone', 1], ['many', 64], ['many', 64], ['many', 21]]);
    expect(calls.slice(2).flatMap((c) => c.moves)).toEqual(Array.from({ length: 149 }, (_, i) => i + 1));
    expect(await Promise.all(replies)).toEqual(Array.from({ length: 150 }, (_, i) => (i === 0 ? 'alone 0' : `many ${i}`)));
    expect(await other).toBe('alone 1000');
  });

  it('takes as many moves a call as it is given (the detaches take 1,000)', async () => {
    const { gathered, calls, answerAll } = recorder({ most: 1000 });
    const replies = Array.from({ length: 2500 }, (_, i) => gathered.call('lic', i));
    for (let round = 0; round < 4; round++) await answerAll();
    expect(calls.map((c) => [c.kind, c.moves.length])).toEqual([['alone', 1], ['many', 1000], ['many', 1000], ['many', 499]]);
    expect((await Promise.all(replies)).at(-1)).toBe('many 2499');
  });

  it('runs each move of a failed call alone: a bad move fails only itself', async () => {
    const { gathered, calls, answerAll } = recorder({ bad: 3 });
    const replies = Array.from({ length: 5 }, (_, i) => gathered.call('lic', i).catch((e: Error) => e.message));
    for (let round = 0; round < 4; round++) await answerAll();
    expect(calls.map((c) => [c.kind, c.moves])).toEqual([['alone', [0]], ['many', [1, 2, 3, 4]], ['alone', [1]], ['alone', [2]], ['alone', [4]]]);
    expect(await Promise.all(replies)).toEqual(['alone 0', 'alone 1', 'alone 2', 'move 3 is bad', 'alone 4']);
  });

  it('lets the moves behind a call that hangs go on without it, and sends none twice when it returns', async () => {
    const { gathered, calls, answerAll } = recorder({ stuckMs: 50 });
    const first = gathered.call('lic', 0);
    const behind = [gathered.call('lic', 1), gathered.call('lic', 2)];
    await new Promise((resolve) => setTimeout(resolve, 120));
    // The first call still hangs; the two behind it went in a call of their own.
    expect(calls.map((c) => [c.kind, c.moves])).toEqual([['alone', [0]], ['many', [1, 2]]]);
    calls[1]!.call.answer(undefined);
    expect(await Promise.all(behind)).toEqual(['many 1', 'many 2']);
    // A move that comes now goes at once. The hung call's return sends nothing, nor does it free the
    // license for the next move while move 3's call is in flight: move 4 still waits for that one.
    const later = gathered.call('lic', 3);
    calls[0]!.call.answer(undefined);
    expect(await first).toBe('alone 0');
    const last = gathered.call('lic', 4);
    await new Promise((resolve) => setImmediate(resolve));
    expect(calls.map((c) => [c.kind, c.moves])).toEqual([['alone', [0]], ['many', [1, 2]], ['alone', [3]]]);
    await answerAll();
    await answerAll();
    expect(await later).toBe('alone 3');
    expect(await last).toBe('alone 4');
    expect(calls.map((c) => [c.kind, c.moves])).toEqual([['alone', [0]], ['many', [1, 2]], ['alone', [3]], ['alone', [4]]]);
  });
  it('with a thread, the moves that come while a call on the loop is in flight go through the thread at once, together, and those after wait for that call', async () => {
    const { gathered, calls, answerAll } = recorder({ thread: () => true, most: 1000 });
    expect(gathered.threadAt).toBe(-Infinity);
    const first = gathered.call('lic', 0);
    // One callback's moves (a turn's worth), then the microtask that sends them.
    const next = Array.from({ length: 10 }, (_, i) => gathered.call('lic', i + 1));
    await Promise.resolve();
    expect(calls.map((c) => [c.kind, c.moves.length, c.onThread])).toEqual([['alone', 1, false], ['many', 10, true]]);
    expect(gathered.threadAt).toBeGreaterThan(0);
    // Those that come now wait for the thread's call, and go through the thread after it.
    const later = Array.from({ length: 5 }, (_, i) => gathered.call('lic', 100 + i));
    await Promise.resolve();
    expect(calls).toHaveLength(2);
    calls[1]!.call.answer(undefined);
    await new Promise((resolve) => setImmediate(resolve));
    expect(calls.map((c) => [c.kind, c.moves.length, c.onThread])).toEqual([['alone', 1, false], ['many', 10, true], ['many', 5, true]]);
    await answerAll();
    // The loop's call, answered last, answers its own move and holds back nothing.
    expect(await Promise.all([first, ...next, ...later])).toEqual(['alone 0', ...Array.from({ length: 10 }, (_, i) => `many ${i + 1}`), ...Array.from({ length: 5 }, (_, i) => `many ${100 + i}`)]);
    // Once nothing is in flight, a move goes on the loop again.
    void gathered.call('lic', 7);
    expect(calls.at(-1)).toMatchObject({ kind: 'alone', moves: [7], onThread: false });
    await answerAll();
  });

  it('moves one at a time, each answered before the next, all go on the loop; and none goes through a thread that may not be used', async () => {
    const { gathered, calls, answerAll } = recorder({ thread: () => true });
    for (let i = 0; i < 3; i++) {
      const reply = gathered.call('lic', i);
      await answerAll();
      expect(await reply).toBe(`alone ${i}`);
    }
    expect(calls.every((c) => !c.onThread)).toBe(true);
    const off = recorder({ thread: () => false });
    const replies = Array.from({ length: 4 }, (_, i) => off.gathered.call('lic', i));
    await off.answerAll();
    await off.answerAll();
    expect(off.calls.map((c) => [c.kind, c.moves.length, c.onThread])).toEqual([['alone', 1, false], ['many', 3, false]]);
    expect(await Promise.all(replies)).toEqual(['alone 0', 'many 1', 'many 2', 'many 3']);
    expect(off.gathered.threadAt).toBe(-Infinity);
  });
  it('with a thread, a license’s first move goes through it once CROWD other licenses’ calls are in flight on the loop', async () => {
    const { gathered, calls, answerAll } = recorder({ thread: () => true });
    const replies = Array.from({ length: CROWD + 2 }, (_, i) => gathered.call(`lic-${i}`, i));
    expect(calls.map((c) => c.onThread)).toEqual([...Array.from({ length: CROWD }, () => false), true, true]);
    expect(gathered.threadAt).toBeGreaterThan(0);
    await answerAll();
    expect(await Promise.all(replies)).toEqual(Array.from({ length: CROWD + 2 }, (_, i) => `alone ${i}`));
    // Answered, nothing is in flight: the next goes on the loop again.
    void gathered.call('lic-x', 99);
    expect(calls.at(-1)).toMatchObject({ moves: [99], onThread: false });
    await answerAll();
  });
});
