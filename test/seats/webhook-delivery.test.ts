// The webhooks' pure decisions (server/seats/decisions/webhook-delivery.ts) as table rows and
// properties: the events a seat history row makes, the signature, the retry schedule (at least
// 24 hours by default, bounded delays), and which addresses count as private.
import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  afterAttempt,
  eventOfAuditRow,
  eventsOfSeatRow,
  isPrivateAddress,
  retryDelay,
  rowFor,
  seatTypesFor,
  signatureHeader,
  WEBHOOK_EVENT_TYPES,
} from '../../server/seats/decisions/webhook-delivery';
import type { SeatOutboxRow } from '../../server/seats/webhook-store';

const row = (fields: Partial<SeatOutboxRow>): SeatOutboxRow => ({
  id: 7, licenseId: 'L', tenantId: 'T', sessionId: 'S', type: 'granted', reason: null, weight: 1, seatsInUse: 1, seats: 3, at: 0, ...fields,
});
const DEFAULTS = { baseMs: 1000, maxMs: 3_600_000, giveUpMs: 86_400_000 };

describe('events of a seat history row', () => {
  it.each([
    [row({ type: 'granted' }), ['session.started']],
    [row({ type: 'granted', seatsInUse: 3 }), ['session.started', 'license.full']],
    // Past a lowered seat count: not the grant that filled the license.
    [row({ type: 'granted', seatsInUse: 5, seats: 3 }), ['session.started']],
    // A weight of 2 that fills the seats and goes past them: full, and overage begins.
    [row({ type: 'granted', seatsInUse: 4, weight: 2, seats: 3 }), ['session.started', 'license.full', 'license.overage']],
    // The first grant past the seats (overage): overage begins; the next one past them does not again.
    [row({ type: 'granted', seatsInUse: 4, seats: 3 }), ['session.started', 'license.overage']],
    [row({ type: 'resumed' }), ['session.resumed']],
    [row({ type: 'idle' }), ['session.idle']],
    [row({ type: 'released', reason: 'kicked', seatsInUse: 0 }), ['session.ended']],
    [row({ type: 'denied', reason: 'no_free_seats', sessionId: null }), ['seat.denied']],
    [row({ type: 'queued', sessionId: null }), ['seat.queued']],
    [row({ type: 'requested', sessionId: null }), ['seat.requested']],
  ])('%o makes %o', (r, types) => {
    expect(eventsOfSeatRow(r, WEBHOOK_EVENT_TYPES).map((e) => e.type)).toEqual(types);
  });

  it('makes only what is subscribed, with stable ids and the data of each type', () => {
    const full = row({ seatsInUse: 3 });
    expect(eventsOfSeatRow(full, ['license.full']).map((e) => e.id)).toEqual(['evt_s7_0_full']);
    expect(eventsOfSeatRow(full, ['session.idle'])).toEqual([]);
    const [ended] = eventsOfSeatRow(row({ type: 'released', reason: 'idle_timeout', seatsInUse: 0 }), ['session.ended']);
    expect(ended).toEqual({ id: 'evt_s7_0', type: 'session.ended', at: '1970-01-01T00:00:00.000Z', tenantId: 'T', licenseId: 'L', data: { sessionId: 'S', weight: 1, seatsInUse: 0, seats: 3, reason: 'idle_timeout' } });
    expect(seatTypesFor(['license.full', 'session.ended']).sort()).toEqual(['granted', 'released']);
    expect(seatTypesFor(['license.changed'])).toEqual([]);
    expect(seatTypesFor(['seat.queued', 'seat.requested'])).toEqual(['queued', 'requested']);
  });

  it('turns a license.update audit entry into license.changed', () => {
    const e = eventOfAuditRow({ id: 4, licenseId: 'L', tenantId: 'T', actor: 'operator', at: 1_700_000_000_000, detail: { seats: 2, before: { seats: 5 }, endedSessions: 3 } });
    expect(e).toMatchObject({ id: `evt_a4_${(1_700_000_000_000).toString(36)}`, type: 'license.changed', data: { changes: { seats: 2 }, before: { seats: 5 }, endedSessions: 3, actor: 'operator' } });
  });
});

describe('whose row', () => {
  it.each([
    ['T', 'T', 0, 'deliver'], ['T', null, 0, 'deliver'], ['T', 'U', 0, 'skip'],
    // A license deleted a moment ago, its tenant not on record yet: wait, then only the operator's.
    [null, 'T', 59_999, 'wait'], [null, null, 59_999, 'wait'], [null, 'T', 60_000, 'skip'], [null, null, 60_000, 'deliver'],
  ] as const)('a row of tenant %s for a webhook of %s, %i ms later: %s', (rowTenant, hookTenant, later, expected) => {
    expect(rowFor({ tenantId: rowTenant, at: 0 }, hookTenant, later)).toBe(expected);
  });
});

describe('signature', () => {
  it("is Stripe's scheme: t=<unix seconds>,v1=<hex HMAC-SHA256 of \"t.body\">", () => {
    const header = signatureHeader('whsec_x', '{"a":1}', 1_700_000_000_999);
    const v1 = createHmac('sha256', 'whsec_x').update('1700000000.{"a":1}').digest('hex');
    expect(header).toBe(`t=1700000000,v1=${v1}`);
  });
});

describe('retries', () => {
  it.each([
    [1, 1000], [2, 2000], [3, 4000], [12, 2_048_000], [13, 3_600_000], [500, 3_600_000],
  ])('after %i failed attempts waits %i ms', (attempts, ms) => {
    expect(retryDelay(attempts, DEFAULTS)).toBe(ms);
  });

  it('delivers on any 2xx and retries anything else, a timeout included', () => {
    const d = { attempts: 0, createdAt: 0 };
    expect(afterAttempt(d, { responseStatus: 204 }, 10, DEFAULTS)).toEqual({ status: 'delivered', attempts: 1, nextAttemptAt: 10 });
    for (const result of [{ responseStatus: 500 }, { responseStatus: 301 }, { responseStatus: 410 }, { error: 'no answer within 10000 ms' }]) {
      expect(afterAttempt(d, result, 10, DEFAULTS)).toEqual({ status: 'pending', attempts: 1, nextAttemptAt: 1010 });
    }
  });

  it('retries a receiver that always fails for at least 24 hours by default, then fails it', () => {
    let d = { attempts: 0, createdAt: 0 };
    let now = 0;
    for (;;) {
      const next = afterAttempt(d, { responseStatus: 503 }, now, DEFAULTS);
      if (next.status === 'failed') break;
      d = { ...d, attempts: next.attempts };
      now = next.nextAttemptAt;
    }
    expect(now).toBeGreaterThanOrEqual(86_400_000);
    expect(now).toBeLessThan(86_400_000 + 3_600_000);
    expect(d.attempts).toBeLessThan(50);
  });

  it('never waits less than the base nor more than the cap, and never less after more failures', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10_000 }), fc.integer({ min: 1, max: 10_000_000 }), fc.integer({ min: 1, max: 10_000 }), (baseMs, extra, attempts) => {
        const s = { baseMs, maxMs: baseMs + extra };
        const wait = retryDelay(attempts, s);
        return wait >= baseMs && wait <= s.maxMs && retryDelay(attempts + 1, s) >= wait;
      }),
    );
  });
});

describe('private addresses', () => {
  it.each([
    ['127.0.0.1', true], ['10.0.0.8', true], ['172.16.0.1', true], ['172.31.255.255', true], ['192.168.0.1', true],
    ['169.254.169.254', true], ['100.64.0.1', true], ['0.0.0.0', true], ['::1', true], ['::', true], ['fc00::1', true],
    ['fd12:3456::1', true], ['fe80::1', true], ['::ffff:127.0.0.1', true], ['not-an-ip', true],
    // IPv6 forms of loopback and of IPv4 addresses inside: how URL writes [::ffff:127.0.0.1], the long
    // and compatible forms, translated, NAT64, 6to4, Teredo; and multicast, broadcast, documentation.
    ['::ffff:7f00:1', true], ['::ffff:a00:1', true], ['0:0:0:0:0:0:0:1', true], ['::127.0.0.1', true], ['::ffff:0:7f00:1', true],
    // The compatible forms in hex, as URL writes them ([::127.0.0.1] is [::7f00:1]); a public one is public.
    ['::7f00:1', true], ['::a00:1', true], ['::c0a8:1', true], ['::a9fe:a9fe', true], ['::808:808', false],
    ['64:ff9b::7f00:1', true], ['2002:7f00:1::1', true], ['2001::1', true], ['fe80::1%eth0', true],
    ['224.0.0.1', true], ['255.255.255.255', true], ['192.0.2.1', true], ['2001:db8::1', true],
    ['8.8.8.8', false], ['172.32.0.1', false], ['93.184.216.34', false], ['2606:4700::1111', false], ['::ffff:8.8.8.8', false],
  ])('%s is private: %s', (address, expected) => {
    expect(isPrivateAddress(address)).toBe(expected);
  });
});
