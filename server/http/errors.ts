// Refusals at the HTTP edge, all in the contract's shape `{ error: { code, message } }`: errors
// raised while express reads a request (body parsing, path decoding), paths and methods that do
// not exist, and what Node's HTTP parser refuses before express sees a request at all.
import http from 'node:http';
import type { Duplex } from 'node:stream';
import type { ErrorRequestHandler, Request, RequestHandler, Response } from 'express';
import { ErrorCode } from '../../shared';
import { SeatError } from '../seats/seat-error';
import { closeAfterAnswer, declaredLength } from './body';
import { notFoundPage, sendPage } from './html';

const STATUS: Partial<Record<string, number>> = {
  [ErrorCode.BadRequest]: 400,
  [ErrorCode.PayloadTooLarge]: 413,
  [ErrorCode.HeadersTooLarge]: 431,
  [ErrorCode.RequestTimeout]: 408,
  [ErrorCode.Unauthorized]: 401,
  [ErrorCode.Forbidden]: 403,
  [ErrorCode.NotFound]: 404,
  [ErrorCode.MethodNotAllowed]: 405,
  [ErrorCode.Conflict]: 409,
  [ErrorCode.OutOfRange]: 422,
  [ErrorCode.RateLimited]: 429,
  [ErrorCode.Unavailable]: 503,
};

export const statusOf = (err: SeatError): number => STATUS[err.code] ?? 500;

export function sendError(res: Response, err: SeatError): void {
  if (res.headersSent) return void res.destroy();
  res.status(statusOf(err)).json({
    error: { code: err.code, message: err.message, ...(err.details ? { details: err.details } : {}) },
  });
}

/**
 * The SeatError for an error raised while express read the request: the body (body-parser's
 * typed errors) or the path (a parameter that is not valid percent-encoding). Undefined for
 * anything else, which is the server's own failure.
 */
export function requestError(err: unknown): SeatError | undefined {
  if (err instanceof SeatError) return err;
  const e = (err ?? {}) as { type?: unknown; status?: unknown; limit?: unknown; code?: unknown; errno?: unknown };
  // router's decodeParam: a URIError with status 400 (its message quotes the whole parameter).
  if (err instanceof URIError && e.status === 400) return new SeatError(ErrorCode.BadRequest, 'the path is not valid: bad percent-encoding');
  // body-parser's inflater failing on a body that is not what its content-encoding says: zlib's
  // error (Z_DATA_ERROR, Z_BUF_ERROR, a brotli ERR_…, each with its errno) as a 400 with no type.
  if (e.status === 400 && e.type === undefined && typeof e.code === 'string' && typeof e.errno === 'number') {
    return new SeatError(ErrorCode.BadRequest, 'the body could not be decompressed as its content-encoding says');
  }
  switch (e.type) {
    case 'entity.parse.failed':
      return new SeatError(ErrorCode.BadRequest, 'the body is not valid JSON');
    case 'entity.too.large':
      return new SeatError(ErrorCode.PayloadTooLarge, `the body is larger than ${String(e.limit)} bytes`);
    case 'charset.unsupported':
      return new SeatError(ErrorCode.BadRequest, 'send the body as UTF-8 JSON');
    case 'encoding.unsupported':
      return new SeatError(ErrorCode.BadRequest, 'the content-encoding is not supported: send the body as is, or gzip, deflate or br');
    case 'request.size.invalid':
      return new SeatError(ErrorCode.BadRequest, 'the body is not as long as its content-length says');
    case 'request.aborted':
      return new SeatError(ErrorCode.BadRequest, 'the request was aborted before its body arrived');
  }
  return undefined;
}

/** Whether a request anywhere on the server is answered in JSON: the API and the demo's token endpoint. */
export function wantsJson(req: Request): boolean {
  return /^\/(?:api(?:\/|$)|demo\/token\/?$)/i.test(req.path);
}

/** A path that exists answered for a method it does not serve: 405 with `Allow` (OPTIONS: 204). */
export function methodNotAllowed(methods: readonly string[]): RequestHandler {
  const allow = [...new Set(methods.flatMap((m) => (m === 'GET' ? ['GET', 'HEAD'] : [m])))].join(', ');
  return (req, res) => {
    res.set('Allow', allow);
    if (req.method === 'OPTIONS') return void res.status(204).end();
    sendError(res, new SeatError(ErrorCode.MethodNotAllowed, `${req.method} is not allowed here; allowed: ${allow}`));
  };
}

/** The last handler of the app: 404 in JSON under /api and /demo/token, a small page elsewhere. */
export const notFound: RequestHandler = (req, res) => {
  if (wantsJson(req)) return sendError(res, new SeatError(ErrorCode.NotFound, 'no such endpoint'));
  sendPage(res.status(404), notFoundPage);
};

/**
 * A router's error handler under /api: refusals in the contract's shape, anything else logged and
 * answered 503 (the store, most likely, is away: retry).
 */
export function apiErrorHandler(onError: (err: unknown) => void): ErrorRequestHandler {
  return (err, _req, res, _next) => {
    const refusal = requestError(err);
    if (refusal) return sendError(res, refusal);
    onError(err);
    sendError(res, new SeatError(ErrorCode.Unavailable, 'the seat service is unavailable; retry shortly'));
  };
}

/** The app's last error handler: request errors get their status, anything else is logged and a 500. */
export function finalErrorHandler(onError: (err: unknown) => void): ErrorRequestHandler {
  return (err, req, res, _next) => {
    let refusal = requestError(err);
    if (!refusal) {
      onError(err);
      refusal = new SeatError(ErrorCode.Internal, 'the server failed to answer; see its log');
    }
    if (res.headersSent) return void res.destroy();
    if (wantsJson(req)) return sendError(res, refusal);
    sendPage(res.status(statusOf(refusal)), { title: http.STATUS_CODES[statusOf(refusal)] ?? 'Error', text: refusal.message });
  };
}

// ---- before express: Node's HTTP parser ----

/** What Node's parser refused, as status, code and message. */
function parserRefusal(err: NodeJS.ErrnoException & { reason?: unknown }): [number, ErrorCode, string] {
  switch (err.code) {
    case 'HPE_HEADER_OVERFLOW':
      return [431, ErrorCode.HeadersTooLarge, `the request's headers are larger than ${http.maxHeaderSize} bytes`];
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return [413, ErrorCode.PayloadTooLarge, 'the chunk extensions of the body are too large'];
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return [408, ErrorCode.RequestTimeout, 'the request did not arrive in time'];
  }
  const reason = typeof err.reason === 'string' ? `: ${err.reason.slice(0, 100)}` : '';
  return [400, ErrorCode.BadRequest, `the request is not valid HTTP/1.1${reason}`];
}

/** A complete HTTP/1.1 response with a JSON error, written straight to a socket. */
export function rawErrorResponse(status: number, code: ErrorCode, message: string): string {
  const body = JSON.stringify({ error: { code, message } });
  return [
    `HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? 'Error'}`,
    `Date: ${new Date().toUTCString()}`,
    'Content-Type: application/json; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Cache-Control: no-store',
    'Connection: close',
    '',
    body,
  ].join('\r\n');
}

/**
 * The http server for the app: what Node's parser refuses (headers over 16 KB, malformed
 * requests, timeouts) is answered with a JSON error and `Connection: close` instead of Node's
 * empty one; a request without `Host` is refused the same way (Node's own refusal of it has no
 * body); an `Expect` other than `100-continue` is ignored, as RFC 9110 allows, instead of 417.
 * With `maxBodyBytes`, whatever answers a request that declares a longer body (a 413, but also a
 * 401, 404 or 405 decided before the body) closes the connection rather than reading it off.
 */
export function createHttpServer(app: http.RequestListener, options: http.ServerOptions = {}, limits: { maxBodyBytes?: number } = {}): http.Server {
  const { maxBodyBytes } = limits;
  const server = http.createServer({ ...options, requireHostHeader: false }, (req, res) => {
    if (maxBodyBytes !== undefined && (declaredLength(req.headers) ?? 0) > maxBodyBytes) closeAfterAnswer(res);
    if (req.headers.host === undefined && req.httpVersion === '1.1') {
      res.shouldKeepAlive = false;
      res.writeHead(400, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
      return void res.end(JSON.stringify({ error: { code: ErrorCode.BadRequest, message: 'an HTTP/1.1 request needs a Host header' } }));
    }
    app(req, res);
  });
  // After socket.io attaches it wraps the 'request' listeners; emitting 'request' reaches both.
  server.on('checkExpectation', (req, res) => server.emit('request', req, res));

  const answered = new WeakSet<Duplex>();
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    // The parser stays failed, so every later chunk of the same request repeats the error.
    if (answered.has(socket)) return;
    answered.add(socket);
    // As Node does: answer only when no response of this connection has begun.
    const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (err.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) return void socket.destroy();
    const [status, code, message] = parserRefusal(err);
    socket.end(rawErrorResponse(status, code, message));
    // end() lets the client read the answer; a client that never closes its side is let go.
    setTimeout(() => socket.destroy(), 1000).unref();
  });
  return server;
}
