// The one body rule of every JSON endpoint: a body that is present is read and checked, whatever
// its content type and value. Present means a Content-Length above 0 or a Transfer-Encoding
// (RFC 9112 section 6.3); `Content-Length: 0` is no body.
import express, { type RequestHandler } from 'express';
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
    if (rule === 'none') return next(new SeatError(ErrorCode.BadRequest, `a ${req.method} request takes no body`));
    if (!req.is('application/json')) {
      return next(new SeatError(ErrorCode.BadRequest, 'send the body as JSON, with content-type: application/json'));
    }
    parse(req, res, (err?: unknown) => {
      if (err) return next(err);
      const body: unknown = req.body;
      if (typeof body !== 'object' || body === null || Array.isArray(body)) {
        return next(new SeatError(ErrorCode.BadRequest, `the body must be a JSON object, not ${kindOf(body)}`));
      }
      next();
    });
  };
}
