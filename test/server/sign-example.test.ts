// The README's token signer (examples/sign-token.ts, `npm run sign`) as a user runs it: its token
// takes a seat on a real server, and a mistyped claims JSON or lifetime is told in one line with
// the usage (exit 2), not thrown as a stack trace.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { connectAndAdmit, startServer } from '../support/harness';

const ROOT = path.resolve(import.meta.dirname, '../..');

/** Runs the signer with `args`: its exit code, output and errors. */
async function signer(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'examples/sign-token.ts', ...args], { cwd: ROOT });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const { code, stdout, stderr } = e as { code: number; stdout: string; stderr: string };
    return { code, stdout, stderr };
  }
}

describe('npm run sign', () => {
  it('signs a token that takes a seat', { timeout: 30_000 }, async () => {
    const { url, api } = await startServer();
    const { license } = await api.setup({ seats: 1, seatKey: ['device'] });
    const { code, stdout } = await signer([license.id, license.secret, '{"dev":"till-1"}', '30d']);
    expect(code).toBe(0);
    const { result } = await connectAndAdmit(url, stdout.trim());
    expect(result).toMatchObject({ kind: 'granted', payload: { licenseId: license.id } });
  });

  it.each([
    ['claims that are not JSON', ['lic', 'secret', '{dev:till-1}'], 'the claims are not JSON: {dev:till-1}'],
    ['claims that are not an object', ['lic', 'secret', '["till-1"]'], 'the claims must be a JSON object'],
    ['a lifetime that is no time span', ['lic', 'secret', '{"dev":"till-1"}', 'a month'], 'the lifetime is not a time span such as 30m, 8h or 30d: a month'],
  ])('refuses %s in one line, with the usage', { timeout: 30_000 }, async (_, args, problem) => {
    const { code, stdout, stderr } = await signer(args);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain(problem);
    expect(stderr).toContain('usage: npm run sign');
    expect(stderr).not.toMatch(/\n\s+at /);
  });
});
