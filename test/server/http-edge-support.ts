// Helpers of the HTTP-edge suites (request bodies, parser refusals, paths and methods, shown text,
// echoed ids, the start page): raw and node:http requests that send what fetch will not, and the
// contract's error shape { error: { code, message } }.
import http from 'node:http';
import net from 'node:net';
import { expect } from 'vitest';
import { mountPages } from '../../server/http/pages';
import type { SeatServerOptions } from '../../server/seat-server';
import { OPERATOR_TOKEN } from '../support/harness';

export const AUTH = `Bearer ${OPERATOR_TOKEN}`;
export const withPages: SeatServerOptions['routes'] = (app, ctx) => mountPages(app, ctx);

export interface Reply {
  status: number;
  headers: Record<string, string>;
  text: string;
  json: any;
}

/** Writes `request` as is to a fresh connection and reads the reply until the server closes or `waitMs` passes. */
export function raw(url: string, request: string | Buffer, waitMs = 3000): Promise<Reply> {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), '127.0.0.1');
    const chunks: Buffer[] = [];
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      const all = Buffer.concat(chunks).toString('utf8');
      const at = all.indexOf('\r\n\r\n');
      if (at < 0) return reject(new Error(`no HTTP reply: ${JSON.stringify(all.slice(0, 200))}`));
      const [statusLine, ...lines] = all.slice(0, at).split('\r\n');
      const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
      let text = all.slice(at + 4);
      if (headers['transfer-encoding'] === 'chunked') {
        let out = '';
        for (let rest = text; ; ) {
          const eol = rest.indexOf('\r\n');
          const size = parseInt(rest.slice(0, eol), 16);
          if (!size) break;
          out += rest.slice(eol + 2, eol + 2 + size);
          rest = rest.slice(eol + 2 + size + 2);
        }
        text = out;
      }
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      resolve({ status: Number(statusLine!.split(' ')[1]), headers, text, json });
    };
    const timer = setTimeout(done, waitMs);
    socket.on('data', (d) => chunks.push(d));
    socket.on('close', done);
    socket.on('error', () => {}); // a reset after the reply still leaves the reply read
    socket.write(request);
  });
}

/** A request through node:http, which (unlike fetch) sends any body with any method. */
export function request(url: string, method: string, path: string, opts: { body?: string; headers?: Record<string, string> } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    // node:http sends a GET's or DELETE's body without a length unless told one.
    const length: Record<string, string> =
      opts.body === undefined || opts.headers?.['transfer-encoding'] ? {} : { 'content-length': String(Buffer.byteLength(opts.body)) };
    const req = http.request(`${url}${path}`, { method, headers: { authorization: AUTH, ...length, ...opts.headers } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.on('end', () => {
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode!, headers: res.headers as Record<string, string>, text, json });
      });
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** A refusal in the contract's shape, with this status and code (and a message matching `message`). */
export function expectError(r: { status: number; json?: any; body?: any }, status: number, code: string, message?: RegExp | string) {
  const body = r.json ?? r.body;
  expect(r.status, JSON.stringify(body)).toBe(status);
  expect(body, 'the contract error shape').toMatchObject({ error: { code, message: expect.any(String) } });
  if (message !== undefined) expect(body.error.message).toMatch(message);
}
