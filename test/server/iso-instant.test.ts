// `?since=` and `?until=` (denials, history): the ISO 8601 forms read, each as its instant, and
// what is refused (server/http/schemas.ts, `isoInstant`).
import { describe, expect, it } from 'vitest';
import { isoInstant } from '../../server/http/schemas';

const read = (text: string) => {
  const r = isoInstant.safeParse(text);
  return r.success ? new Date(r.data).toISOString() : 'refused';
};

describe('ISO 8601 instants in queries', () => {
  it.each([
    ['2026-11-29T04:50:18Z', '2026-11-29T04:50:18.000Z'],
    ['2026-11-29T04:50:18.123+01:00', '2026-11-29T03:50:18.123Z'],
    ['2026-11-29T04:50:18+0100', '2026-11-29T03:50:18.000Z'],
    ['2026-11-29T04:50:18-05', '2026-11-29T09:50:18.000Z'],
    ['2026-11-29T04:50Z', '2026-11-29T04:50:00.000Z'],
    ['2026-11-29T04:50:18', '2026-11-29T04:50:18.000Z'],
    ['2026-11-29T04:50', '2026-11-29T04:50:00.000Z'],
    ['2026-11-29', '2026-11-29T00:00:00.000Z'],
    ['20261129T045018Z', '2026-11-29T04:50:18.000Z'],
    ['20261129T045018,5+0100', '2026-11-29T03:50:18.500Z'],
    ['20261129T0450', '2026-11-29T04:50:00.000Z'],
    ['20261129', '2026-11-29T00:00:00.000Z'],
  ])('reads %s as %s', (text, instant) => {
    expect(read(text)).toBe(instant);
  });

  it.each(['yesterday', '', '1795927818000', '2026-02-30', '2026-02-30T00:00:00Z', '2026-11-29T25:00:00Z', '2026-11-29T04:60Z', '2026-13-01', '2026-11-29T04:50:18+25:00', '2026-11-29 04:50:18Z'])(
    'refuses %j',
    (text) => {
      expect(read(text)).toBe('refused');
    },
  );
});
