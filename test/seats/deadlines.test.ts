// The engine's idle deadlines: a heap and one timer, and a check any seat move makes, so a seat
// falls due on time even while a long turn of the event loop keeps the timer from firing.
import { describe, expect, it } from 'vitest';
import { Deadlines } from '../../server/seats/deadlines';
import { until } from '../support/harness';

function deadlines(start = 1_000_000) {
  let now = start;
  const due: string[] = [];
  const d = new Deadlines(
    () => now,
    (licenseId) => due.push(licenseId),
  );
  return {
    d,
    due,
    advance: (ms: number) => {
      now += ms;
    },
    get now() {
      return now;
    },
  };
}

describe('Deadlines', () => {
  it('hands a license over by its timer once its earliest seat falls due, with all its seats due together once', async () => {
    const t = deadlines(Date.now());
    t.d.set('a', 'L1', t.now + 30);
    t.d.set('b', 'L1', t.now + 30);
    t.d.set('c', 'L2', t.now + 60_000);
    expect(t.d.size).toBe(3);
    await new Promise((r) => setTimeout(r, 10));
    expect(t.due).toEqual([]);
    t.advance(40);
    await until(() => t.due.length > 0, 2000, 5);
    expect(t.due).toEqual(['L1']);
    expect(t.d.size).toBe(1);
    t.d.stop();
  });

  it('a check hands over what is past its deadline while the timer has not fired, and nothing before', () => {
    const t = deadlines();
    t.d.set('a', 'L1', t.now + 600_000);
    t.d.set('b', 'L2', t.now + 700_000);
    t.d.check();
    expect(t.due).toEqual([]);
    t.advance(650_000);
    t.d.check();
    expect(t.due).toEqual(['L1']);
    t.d.check();
    expect(t.due).toEqual(['L1']);
    t.advance(100_000);
    t.d.check();
    expect(t.due).toEqual(['L1', 'L2']);
    expect(t.d.size).toBe(0);
    t.d.stop();
  });

  it('a deadline dropped (the session resumed) or moved falls due no more, or at its new time', () => {
    const t = deadlines();
    t.d.set('a', 'L1', t.now + 1000);
    t.d.set('b', 'L2', t.now + 1000);
    t.d.delete('a');
    t.d.set('b', 'L2', t.now + 5000);
    t.advance(2000);
    t.d.check();
    expect(t.due).toEqual([]);
    t.advance(3000);
    t.d.check();
    expect(t.due).toEqual(['L2']);
    t.d.stop();
  });

  it('sessions idling and resuming again and again leave a bounded heap behind', () => {
    const t = deadlines();
    // A hold by a receipt 30 days away: its stale entries would not reach the top for a month.
    for (let i = 0; i < 20_000; i++) {
      t.d.set(`s${i % 100}`, 'L1', t.now + 30 * 86_400_000 + i);
      if (i % 2 === 0) t.d.delete(`s${i % 100}`);
    }
    expect(t.d.size).toBeLessThanOrEqual(100);
    expect(t.d.queued).toBeLessThanOrEqual(2 * 100 + 1024 + 1);
    t.advance(31 * 86_400_000);
    t.d.check();
    expect(t.due).toEqual(['L1']);
    t.d.stop();
  });

  it('hands nothing over once stopped', () => {
    const t = deadlines();
    t.d.set('a', 'L1', t.now + 10);
    t.d.stop();
    t.advance(100);
    t.d.check();
    t.d.set('b', 'L1', t.now - 1);
    t.d.check();
    expect(t.due).toEqual([]);
  });
});
