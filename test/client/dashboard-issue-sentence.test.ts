// The dashboard's forms say the REST API's refusals in their own words (client/dashboard/
// settings-fields.ts): a wrong type, a bound broken (zod's words, for a number with one bound or
// text), and the server's own `must be between` for a number with both. The messages are zod's
// and the server's as they come in `details.issues`.
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { fieldNamed, issueSentence } from '../../client/dashboard/settings-fields';

const said = (schema: z.ZodType, value: unknown) => schema.safeParse(value).error!.issues[0]!.message;

describe('issueSentence', () => {
  const seats = fieldNamed('seats')!;
  const grace = fieldNamed('offlineGraceSec')!;
  const denied = fieldNamed('deniedMessage')!;

  it('says a wrong type as such', () => {
    expect(issueSentence(seats, said(z.number(), 'two'))).toBe('Seats must be a number.');
    expect(issueSentence(grace, said(z.number().int(), 1.5))).toBe('Offline grace must be a whole number of seconds.');
    expect(issueSentence(denied, said(z.string(), 3))).toBe('Denied message must be text.');
  });

  it('says a broken bound as the bound, not as a wrong type', () => {
    expect(issueSentence(seats, said(z.number().int().min(0), -1))).toBe("Seats can't be negative.");
    expect(issueSentence(grace, said(z.number().int().min(5), 1))).toBe('Offline grace must be at least 5.');
    expect(issueSentence(grace, said(z.number().int().max(9), 10))).toBe('Offline grace can be at most 9.');
    expect(issueSentence(denied, said(z.string().min(1), ''))).toBe(denied.empty);
    expect(issueSentence(denied, said(z.string().max(2), 'abc'))).toBe('Denied message can be at most 2 characters.');
  });

  it("says the server's own bounds of a number that has both", () => {
    expect(issueSentence(grace, 'must be between 0 and 2592000 seconds')).toMatch(/^Offline grace .*0.*2592000/);
  });
});
