// What Node's HTTP parser refuses, answered in the contract's shape { error: { code, message } }
// with connection: close: headers over 16 KB (431), malformed requests and a missing Host (400), a
// request that does not arrive in time (408); and an unknown Expect is ignored, not a bare 417.
import type net from 'node:net';
import express from 'express';
import { describe, expect, it, onTestFinished } from 'vitest';
import { createHttpServer } from '../../server/http/errors';
import { startServer } from '../support/harness';
import { AUTH, expectError, raw } from './http-edge-support';

describe("what Node's parser refuses", () => {
  it('headers over 16 KB get 431 in the error shape, with connection: close', async () => {
    const { url } = await startServer();
    const r = await raw(url, `GET /api/v1/licenses HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${'x'.repeat(20_000)}\r\n\r\n`);
    expect(r.status).toBe(431);
    expect(r.headers.connection).toBe('close');
    expect(r.headers['content-type']).toMatch(/^application\/json/);
    expect(Number(r.headers['content-length'])).toBe(Buffer.byteLength(r.text));
    expectError(r, 431, 'headers_too_large', /headers are larger than/);
    // fetch reads it too.
    const viaFetch = await fetch(`${url}/api/v1/licenses`, { headers: { authorization: `Bearer ${'x'.repeat(20_000)}` } });
    expect(viaFetch.status).toBe(431);
    expect(await viaFetch.json()).toMatchObject({ error: { code: 'headers_too_large' } });
  });

  it('malformed requests and a missing Host get 400 in the error shape', async () => {
    const { url } = await startServer();
    for (const bad of [
      'GARBAGE\r\n\r\n',
      'GET /api/v1/licenses HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n',
      'POST /api/v1/licenses HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}',
      'GET /api/v1/licenses HTTP/1.1\r\n\r\n',
    ]) {
      const r = await raw(url, bad);
      expect(r.headers.connection, bad).toBe('close');
      expectError(r, 400, 'bad_request');
    }
  });

  it('a request that does not arrive in time gets 408 in the error shape', async () => {
    const app = express();
    const server = createHttpServer(app, { headersTimeout: 300, requestTimeout: 300, connectionsCheckingInterval: 50 });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const r = await raw(`http://127.0.0.1:${(server.address() as net.AddressInfo).port}`, 'GET / HTTP/1.1\r\nHost: x\r\n', 3000);
    expectError(r, 408, 'request_timeout');
    expect(r.headers.connection).toBe('close');
  });

  it('an unknown Expect is ignored rather than answered with an empty 417', async () => {
    const { url } = await startServer();
    const r = await raw(url, `GET /api/v1/licenses HTTP/1.1\r\nHost: x\r\nAuthorization: ${AUTH}\r\nExpect: something\r\nConnection: close\r\n\r\n`);
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ licenses: [] });
  });
});
