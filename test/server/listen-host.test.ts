// HOST: the address the server listens on (default: every interface). Linux routes all of
// 127.0.0.0/8 to the loopback interface, so 127.0.0.2 is local yet distinct from 127.0.0.1.
import { describe, expect, it } from 'vitest';
import { granted, sign, startServer } from '../support/harness';

const reach = (url: string) =>
  fetch(`${url}/healthz`).then(
    (res) => res.status,
    (err: Error & { cause?: { code?: string } }) => err.cause?.code ?? err.message,
  );

describe('HOST', () => {
  it('listens only on the given address, and reports it in the url', async () => {
    const { url, api } = await startServer({ env: { HOST: '127.0.0.2' } });
    const port = new URL(url).port;
    expect(url).toBe(`http://127.0.0.2:${port}`);
    expect(await reach(`http://127.0.0.2:${port}`)).toBe(200);
    expect(await reach(`http://127.0.0.1:${port}`)).toBe('ECONNREFUSED');
    const { license } = await api.setup();
    await granted(url, await sign(license, { sid: 's' }));
  });

  it('unset or every interface: reachable on loopback, and the url says localhost', async () => {
    for (const env of [{}, { HOST: '0.0.0.0' }]) {
      const { url } = await startServer({ env });
      expect(url).toMatch(/^http:\/\/localhost:\d+$/);
      const port = new URL(url).port;
      expect(await reach(`http://127.0.0.1:${port}`)).toBe(200);
      expect(await reach(`http://127.0.0.2:${port}`)).toBe(200);
    }
  });
});
