// SQLite runs its transactions one after another, in arrival order, except an idle release due
// now: it goes ahead of those waiting, so a seat falls free on time even behind thousands of
// transactions of a mass disconnect (invariant 4: within a second of its deadline).
import path from 'node:path';
import { expect, it } from 'vitest';
import { SqliteSeatStore } from '../../server/store/sqlite-store';
import { tempDir } from '../support/harness';
import { claimant, grant, newLicense } from './store-dialects';

it('an idle release due now runs ahead of the transactions waiting, and each still runs once', async () => {
  const store = SqliteSeatStore.open(path.join(tempDir('seats-order-'), 'seats.db'));
  try {
    await store.migrate();
    const license = await newLicense(store, { seats: 5000, idleTimeoutSec: 1 });
    await grant(store, license, claimant('gone'), 1000, 'gone-s');
    await store.detach('gone-s', 1000);
    const order: string[] = [];
    // 3,000 admissions wait to run; the release of the seat due at 2000 comes after them all.
    const admissions = Array.from({ length: 3000 }, (_, i) =>
      store.admit({ licenseId: license.id, socketId: `s${i}`, nodeId: 'n', claimant: claimant(`k${i}`), now: 3000 }).then((o) => {
        order.push(o.kind);
      }),
    );
    const release = store.expireLicense(license.id, 3000).then((ended) => {
      order.push(`released ${ended.map((e) => e.session.sessionRef).join()}`);
    });
    await Promise.all([...admissions, release]);
    expect(order.indexOf('released gone')).toBeLessThan(64);
    expect(order.filter((o) => o === 'granted')).toHaveLength(3000);
    expect((await store.getLicense(license.id))?.seatsInUse).toBe(3000);
  } finally {
    await store.close();
  }
});

// A mass disconnect's closes are read in one poll phase of the event loop, a second and more:
// what waits for the turn's end (setImmediate) waits for all of it. A marker queued before the
// work shows whether it ran before the turn ended.
async function openWith(n: number) {
  const store = SqliteSeatStore.open(path.join(tempDir('seats-turn-'), 'seats.db'));
  await store.migrate();
  const license = await newLicense(store, { seats: 5000, idleTimeoutSec: 60 });
  for (let i = 0; i < n; i++) await grant(store, license, claimant(`k${i}`), 1000, `s${i}`);
  return { store, license };
}

function turnEnded(): () => boolean {
  let ended = false;
  setImmediate(() => (ended = true));
  return () => ended;
}

it("a full batch of detaches commits at once, not at the turn's end", async () => {
  const { store } = await openWith(500);
  try {
    const ended = turnEnded();
    const seenBefore: boolean[] = [];
    await Promise.all(Array.from({ length: 500 }, (_, i) => store.detach(`s${i}`, 2000).then((o) => seenBefore.push(!ended() && o?.session.state === 'idle'))));
    expect(seenBefore.filter(Boolean)).toHaveLength(500);
  } finally {
    await store.close();
  }
});

it("detaches whose first waited 50 ms commit with the next one, not at the turn's end", async () => {
  const { store } = await openWith(3);
  try {
    const ended = turnEnded();
    const first = store.detach('s0', 2000).then(() => !ended());
    const second = store.detach('s1', 2010).then(() => !ended());
    // The turn goes on (the loop reading closes); the third comes 60 ms after the first.
    const third = store.detach('s2', 2060).then(() => !ended());
    expect(await Promise.all([first, second, third])).toEqual([true, true, true]);
    // A lone detach still waits for the rest of its turn.
    const { store: other } = await openWith(1);
    try {
      const ended2 = turnEnded();
      expect(await other.detach('s0', 2000).then(() => !ended2())).toBe(false);
    } finally {
      await other.close();
    }
  } finally {
    await store.close();
  }
});

it("an idle release due now runs at once, not at the turn's end", async () => {
  const { store, license } = await openWith(1);
  try {
    await store.detach('s0', 2000);
    const ended = turnEnded();
    const released = await store.expireLicense(license.id, 62_000).then((e) => ({ n: e.length, before: !ended() }));
    expect(released).toEqual({ n: 1, before: true });
  } finally {
    await store.close();
  }
});
