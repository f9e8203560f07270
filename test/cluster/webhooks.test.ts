// Webhooks on two nodes (server processes on one PostgreSQL and one Redis): both nodes run the
// delivery worker, yet each event reaches each receiver once (counted per event id), whichever
// node the seat moved on, one per request or in batches; a slow receiver delays no other webhook; and when the node delivering a
// webhook is killed, the other takes it over once its claim lapses, losing nothing.
import pg from 'pg';
import { expect, it } from 'vitest';
import { closeSocket, granted, sign, sleep, until } from '../support/harness';
import { describeWith } from '../support/services';
import { type Hit, type Receiver, signatureValid, startReceiver } from '../support/webhook-receiver';
import { clusterMissing, useCluster } from './cluster-support';

const WEBHOOK_ENV = {
  WEBHOOK_ALLOW_PRIVATE: 'on',
  WEBHOOK_POLL_MS: '50',
  WEBHOOK_TIMEOUT_MS: '1000',
  WEBHOOK_CLAIM_MS: '2500',
  WEBHOOK_RETRY_BASE_MS: '100',
  WEBHOOK_RETRY_MAX_MS: '400',
  WEBHOOK_GAP_WAIT_MS: '2000',
};

async function claimedBy(databaseUrl: string, webhookId: string): Promise<string | null> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ claimed_by: string | null }>('select claimed_by from webhooks where id = $1', [webhookId]);
    return rows[0]?.claimed_by ?? null;
  } finally {
    await client.end();
  }
}

/** The events a receiver got, in order: a batch's body is an array of them. */
const eventsOf = (r: Receiver): Array<Hit['body']> => r.hits.flatMap((h) => (Array.isArray(h.body) ? (h.body as Array<Hit['body']>) : [h.body]));

const countById = (ids: string[]) => ids.reduce((m, id) => m.set(id, (m.get(id) ?? 0) + 1), new Map<string, number>());

describeWith(clusterMissing())('webhooks on two nodes', { timeout: 90_000 }, () => {
  const { cluster } = useCluster(2, WEBHOOK_ENV);

  it('delivers each event once per webhook, whichever node the seats moved on', async () => {
    const [a, b] = cluster.nodes as [(typeof cluster.nodes)[0], (typeof cluster.nodes)[0]];
    const { license, admin } = await a.api.setup({ seats: 20, idleTimeoutSec: 1 });
    const receivers = await Promise.all([startReceiver(), startReceiver(), startReceiver()]);
    const hooks = [];
    // Created on either node; each is claimed by one of them. The third sends batches of up to 5.
    for (const [i, r] of receivers.entries()) {
      const node = i % 2 === 0 ? a : b;
      hooks.push(await node.api.as(admin.token).ok('POST', '/webhooks', { url: r.url, events: ['session.started', 'session.ended'], licenseId: license.id, batchSize: i === 2 ? 5 : 1 }));
    }
    const tabs = [];
    for (let i = 0; i < 8; i++) tabs.push(await granted((i % 2 === 0 ? a : b).url, await sign(license, { sid: `s${i}` })));
    for (const t of tabs) await closeSocket(t.socket);
    await until(() => receivers.every((r) => eventsOf(r).filter((e) => e.type === 'session.ended').length >= 8), 20_000);
    // A little longer: a second node sending too would show now.
    await sleep(1000);
    for (const [i, r] of receivers.entries()) {
      expect(r.hits.every((h) => h.status < 300 && Array.isArray(h.body) === (i === 2))).toBe(true);
      const counts = countById(eventsOf(r).map((e) => e.id));
      expect(counts.size).toBe(16);
      expect([...counts.values()].every((n) => n === 1), `receiver ${i}: ${JSON.stringify([...counts])}`).toBe(true);
      for (const h of r.hits) expect(signatureValid(hooks[i].secret, h.headers['seat-signature'], h.raw)).toBe(true);
      // Per session: started before ended.
      for (const t of tabs) {
        const mine = eventsOf(r).filter((e) => e.data.sessionId === t.grant.sessionId).map((e) => e.type);
        expect(mine).toEqual(['session.started', 'session.ended']);
      }
    }
  });

  it('a slow receiver delays no other webhook', async () => {
    const [a, b] = cluster.nodes as [(typeof cluster.nodes)[0], (typeof cluster.nodes)[0]];
    const { license, admin } = await a.api.setup({ seats: 20 });
    // Longer than the attempt timeout: every attempt to it times out and is retried.
    const slow = await startReceiver(async () => {
      await sleep(3000);
      return 200;
    });
    const fast = await startReceiver();
    const api = a.api.as(admin.token);
    await api.ok('POST', '/webhooks', { url: slow.url, events: ['session.started'], licenseId: license.id });
    await api.ok('POST', '/webhooks', { url: fast.url, events: ['session.started'], licenseId: license.id });
    await sleep(300);
    const sent = Date.now();
    for (let i = 0; i < 3; i++) await granted(b.url, await sign(license, { sid: `q${i}` }));
    await until(() => fast.accepted().length === 3, 5000);
    expect(Date.now() - sent).toBeLessThan(2500);
    // The slow one is still stuck on its first event, retrying.
    expect(slow.hits.length).toBeLessThanOrEqual(1);
  });

  it('when the node delivering a webhook is killed, the other takes it over once the claim lapses', async () => {
    const { license, admin } = await cluster.nodes[0]!.api.setup({ seats: 20 });
    const receiver = await startReceiver();
    const hook = await cluster.nodes[0]!.api.as(admin.token).ok('POST', '/webhooks', { url: receiver.url, events: ['session.started'], licenseId: license.id });
    let holder: string | null = null;
    await until(async () => (holder = await claimedBy(cluster.databaseUrl, hook.id)) !== null);
    const dead = holder === 'node-A' ? 0 : 1;
    const alive = cluster.nodes[1 - dead]!;
    await cluster.nodes[dead]!.kill9();
    const t = await granted(alive.url, await sign(license, { sid: 'after-kill' }));
    await until(() => receiver.accepted().length === 1, 10_000);
    expect(receiver.accepted()[0]!.body.data.sessionId).toBe(t.grant.sessionId);
    expect(await claimedBy(cluster.databaseUrl, hook.id)).toBe(dead === 0 ? 'node-B' : 'node-A');
    await cluster.restart(dead);
  });
});

