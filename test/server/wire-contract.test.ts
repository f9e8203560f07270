// STYLE 12: the wire contract's event names and payloads are type-tested, so a renamed event breaks the build.
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { AdminServerToClientEvents, ServerToClientEvents, SeatGrantedPayload } from '../../shared';
import { DenyReason, EndReason } from '../../shared';

describe('wire contract types', () => {
  it('pins the event names and payloads', () => {
    expectTypeOf<Parameters<ServerToClientEvents['seat:granted']>[0]>().toEqualTypeOf<SeatGrantedPayload>();
    expectTypeOf<keyof ServerToClientEvents>().toEqualTypeOf<
      'seat:granted' | 'seat:denied' | 'session:ended' | 'seat:error' | 'seat:warning' | 'seat:warning-cleared' | 'seat:receipt' | 'seat:queued' | 'seat:demand'
    >();
    expectTypeOf<SeatGrantedPayload>().toHaveProperty('idleTimeoutSec');
    expectTypeOf<keyof AdminServerToClientEvents>().toMatchTypeOf<string>();
    expect(Object.values(DenyReason)).toEqual(expect.arrayContaining(['no_free_seats', 'license_suspended', 'kicked']));
    expect(Object.values(EndReason)).toEqual(expect.arrayContaining(['kicked', 'ended_by_app', 'license_suspended', 'seats_reduced']));
  });
});
