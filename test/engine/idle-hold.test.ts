// Invariant 4 in the engine: an idle seat is held until its deadline and released by its own timer.
import { describe, expect, it } from 'vitest';
import type { DomainEvent } from '../../server/seats/hooks';
import { engineWithLicense } from '../support/engine';
import { until } from '../support/harness';

describe('idle hold', () => {
  it('holds an idle seat until its deadline, then releases it by its own timer', async () => {
    const { engine, admit, events, store, lic } = await engineWithLicense({ seats: 1, idleTimeoutSec: 1 });
    const a = await admit({ sid: 'p' });
    const t2 = await admit({ sid: 'p' });
    await engine.detach(a.socketId);
    expect(events.at(-1)?.type).toBe('session.detached');
    await engine.detach(t2.socketId);
    const idle = events.at(-1);
    expect(idle?.type).toBe('session.idle');
    const deadline = (idle as Extract<DomainEvent, { type: 'session.idle' }>).session.expiresAt!;
    expect((await store.getLicense(lic.id))?.seatsInUse).toBe(1);
    await until(() => events.some((e) => e.type === 'session.ended'), 3000, 5);
    const late = Date.now() - deadline;
    expect(late).toBeGreaterThanOrEqual(0);
    expect(late).toBeLessThan(1000);
    expect(events.at(-1)).toMatchObject({ type: 'session.ended', reason: 'idle_timeout', seatsInUse: 0 });
    expect((await store.getLicense(lic.id))?.seatsInUse).toBe(0);
  });
});
