// The one body rule of every JSON endpoint: a body that is present is read and checked, whatever
// its content type and value. Present means a Content-Length above 0 or a Transfer-Encoding
// (RFC 9112 section 6.3); `Content-Length: 0` is no body.
import type { Socket } from 'node:net';
import express, { type RequestHandler, type Response } from 'express';
import { ErrorCode } from '../../shared';
import { SeatError } from '../seats/seat-error';

/**
 * `none`: the endpoint takes no body, and refuses one (GET and HEAD). `optional`: no body, or a
 * JSON object. `required`: a JSON object. On success `req.body` is the object, or undefined.
 */
export type BodyRule = 'none' | 'optional' | 'required';

export function hasBody(headers: { 'content-length'?: string; 'transfer-encoding'?: string }): boolean {
  return headers['transfer-encoding'] !== undefined || Number(headers['content-length'] ?? 0) > 0;
}

/** The body's length as its Content-Length declares it; undefined without one (chunked). */
export function declaredLength(headers: { 'content-length'?: string; 'transfer-encoding'?: string }): number | undefined {
  const length = headers['content-length'];
  // With both, Transfer-Encoding wins (RFC 9112 6.3; Node's parser reads the body chunked).
  return length === undefined || headers['transfer-encoding'] !== undefined ? undefined : Number(length);
}

/** How long a closing connection still reads (and drops) what its client sends after the answer. */
const LINGER_MS = 1000;

/**
 * The answer about to be sent is the connection's last (`Connection: close`): a client that was
 * sending a body too large to read stops. Node ends the connection once the answer is written;
 * its read side is kept a moment (what still arrives is dropped), as the parser's refusals are in
 * errors.ts, so the client reads the answer instead of a reset that could discard it.
 */
export function closeAfterAnswer(res: Response | import('node:http').ServerResponse): void {
  res.shouldKeepAlive = false;
  const socket = res.socket as (Socket & { lingering?: true }) | null;
  if (!socket || socket.lingering) return;
  socket.lingering = true;
  // Node's server calls destroySoon() once the last answer is written.
  socket.destroySoon = function lingeringClose(this: Socket) {
    if (this.writable) this.end();
    setTimeout(() => this.destroy(), LINGER_MS).unref();
  };
}

function tooLarge(limitBytes: number): SeatError {
  return new SeatError(ErrorCode.PayloadTooLarge, `the body is larger than ${limitBytes} bytes`);
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'string' ? 'a string' : `a ${typeof value}`;
}

export function jsonBody(rule: BodyRule, limitBytes: number): RequestHandler {
  // strict: false lets every JSON value through to the check below, which names what came
  // instead of an object (body-parser's strict mode calls `0` "not valid JSON").
  const parse = express.json({ limit: limitBytes, strict: false });
  return (req, res, next) => {
    if (!hasBody(req.headers)) {
      req.body = undefined;
      if (rule === 'required') return next(new SeatError(ErrorCode.BadRequest, 'send a JSON object as the body (content-type: application/json)'));
      return next();
    }
    // A body refused unread that is over the limit, or of a length not declared, is not read off
    // the connection after the answer either: the connection closes instead.
    const declared = declaredLength(req.headers);
    const unread = () => {
      if (declared === undefined || declared > limitBytes) closeAfterAnswer(res);
    };
    if (rule === 'none') {
      unread();
      return next(new SeatError(ErrorCode.BadRequest, `a ${req.method} request takes no body`));
    }
    if (!req.is('application/json')) {
      unread();
      return next(new SeatError(ErrorCode.BadRequest, 'send the body as JSON, with content-type: application/json'));
    }
    // Declared over the limit: 413 at once, nothing read. (body-parser refuses it too, but only
    // after reading off all of it, which a client declaring 1 GB may take its time to send.)
    if (declared !== undefined && declared > limitBytes) {
      closeAfterAnswer(res);
      return next(tooLarge(limitBytes));
    }
    // Chunked: counted as it arrives, and refused the moment it passes the limit (body-parser stops
    // there too, but reads off the rest before answering). A compressed body's bytes as sent are
    // counted here; body-parser counts them once inflated.
    let answered = false;
    let received = 0;
    const count = (chunk: Buffer) => {
      received += chunk.length;
      if (received <= limitBytes || answered) return;
      answered = true;
      req.off('data', count);
      closeAfterAnswer(res);
      next(tooLarge(limitBytes));
    };
    if (declared === undefined) req.on('data', count);
    parse(req, res, (err?: unknown) => {
      req.off('data', count);
      if (answered) return;
      answered = true;
      if (err) {
        if ((err as { type?: unknown }).type === 'entity.too.large') closeAfterAnswer(res);
        return next(err);
      }
      const body: unknown = req.body;
      if (typeof body !== 'object' || body === null || Array.isArray(body)) {
        return next(new SeatError(ErrorCode.BadRequest, `the body must be a JSON object, not ${kindOf(body)}`));
      }
      next();
    });
  };
}
