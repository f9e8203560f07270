// Node liveness on its own (no socket.io): what this node missed while cut off reaches the
// transports as domain events on the stream, not as callbacks into them.
import { describe, expect, it, onTestFinished } from 'vitest';
import { parseConfig } from '../../server/config';
import { wireSeats } from '../../server/seat-server';
import type { DomainEvent } from '../../server/seats/hooks';
import { SqliteSeatStore } from '../../server/store/sqlite-store';
import { sign, until } from '../support/harness';

async function node(opts: { cluster: boolean }) {
  const store = SqliteSeatStore.open(':memory:');
  await store.migrate();
  const config = parseConfig({}, { adminToken: 'operator-token-for-tests', nodeId: 'node-a', heartbeatIntervalMs: 20, nodeTimeoutMs: 60, logLevel: 'silent' });
  const local = new Set<string>();
  const parts = wireSeats(store, config, { cluster: opts.cluster, localSessions: () => local });
  await parts.start();
  onTestFinished(async () => {
    await parts.stop();
    await store.close();
  });
  const events: DomainEvent[] = [];
  parts.events.subscribe((e) => events.push(e));
  const license = await parts.admin.createLicense({ kind: 'operator' }, { seats: 2, idleTimeoutSec: 300 });
  const admit = async (sid: string) => {
    const result = await parts.engine.admit(await parts.auth.authenticate(await sign(license, { sid })), `sock-${sid}`);
    if (!('granted' in result)) throw new Error('expected a grant');
    local.add(result.session.id);
    return result.session.id;
  };
  return { store, events, admit, license, auth: parts.auth };
}

describe('node liveness', () => {
  it('a session of this node ended elsewhere (Redis away) is found on a beat: session.ended-elsewhere with the reason and message', async () => {
    const { store, events, admit } = await node({ cluster: true });
    const sessionId = await admit('p');
    // Another node ends it, straight in the shared store: no event on this node's stream.
    await store.endSession(sessionId, 'ended_by_app', Date.now());
    await until(() => events.some((e) => e.type === 'session.ended-elsewhere'));
    expect(events.find((e) => e.type === 'session.ended-elsewhere')).toEqual({
      type: 'session.ended-elsewhere',
      sessionId,
      reason: 'ended_by_app',
      message: 'Your session was ended',
    });
    expect(events.some((e) => e.type === 'session.ended')).toBe(false);
  });

  it('on one node there is nobody else to end a session: no reconcile', async () => {
    const { store, events, admit } = await node({ cluster: false });
    const sessionId = await admit('p');
    await store.endSession(sessionId, 'ended_by_app', Date.now());
    await new Promise((r) => setTimeout(r, 150));
    expect(events.some((e) => e.type === 'session.ended-elsewhere')).toBe(false);
  });

  it('a dead node\'s tab of a session with a tab here too: session.detached, the session live with one tab fewer', async () => {
    const { store, events, admit, license, auth } = await node({ cluster: true });
    const sessionId = await admit('shared');
    // The same session's second tab, and another session, on a node that then goes silent.
    const { claimant } = await auth.authenticate(await sign(license, { sid: 'shared' }));
    const { claimant: other } = await auth.authenticate(await sign(license, { sid: 'on-dead' }));
    await store.heartbeat('node-x', Date.now());
    expect(await store.admit({ licenseId: license.id, socketId: 'sock-x', nodeId: 'node-x', now: Date.now(), claimant })).toMatchObject({ kind: 'granted', resumed: true });
    expect(await store.admit({ licenseId: license.id, socketId: 'sock-y', nodeId: 'node-x', now: Date.now(), claimant: other })).toMatchObject({ kind: 'granted' });
    await until(() => events.some((e) => e.type === 'session.detached'));
    const told = events.filter((e) => e.type === 'session.detached' || e.type === 'session.idle').map((e) => 'session' in e && [e.type, e.session.sessionRef, e.session.state, e.session.sockets]);
    expect(told).toEqual(expect.arrayContaining([['session.detached', 'shared', 'active', 1], ['session.idle', 'on-dead', 'idle', 0]]));
    expect(told).toHaveLength(2);
    expect((await store.getSession(sessionId))?.sockets).toBe(1);
  });

  it('taken for dead by another node (its heartbeat row gone): node.declared-dead', async () => {
    const { store, events } = await node({ cluster: true });
    // Another node reaps every node but itself, as it would a silent one.
    await store.reapNodes({ deadBefore: Date.now() + 60_000, now: Date.now(), keep: 'node-b', allOthers: true });
    await until(() => events.some((e) => e.type === 'node.declared-dead'));
  });
});
