// The server's own small HTML pages (the start page, "not found" and error pages) and the
// security headers every page is served with: a strict CSP with no inline script or style.
import type { Response } from 'express';

export const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

export function securityHeaders(res: Response): void {
  res.set({
    'Content-Security-Policy': CSP,
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'X-Frame-Options': 'DENY',
    'Cache-Control': 'no-cache',
  });
}

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

function document(title: string, body: string, stylesheet?: string): string {
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8" />',
    '<meta name="viewport" content="width=device-width, initial-scale=1" />',
    `<title>${escapeHtml(title)}</title>`,
    '<link rel="icon" href="data:," />',
    ...(stylesheet ? [`<link rel="stylesheet" href="${stylesheet}" />`] : []),
    '</head>',
    `<body>${body}</body>`,
    '</html>',
    '',
  ].join('\n');
}

/** A page with a heading and one line of text (escaped), and a link to the start page. */
export function sendPage(res: Response, page: { title: string; text: string }): void {
  securityHeaders(res);
  res
    .type('html')
    .send(document(page.title, `<main><h1>${escapeHtml(page.title)}</h1><p>${escapeHtml(page.text)}</p><p><a href="/">Start page</a></p></main>`));
}

export const notFoundPage = { title: 'Not found', text: 'There is nothing at this address.' };

/**
 * The start page at `/`: what the server offers, as links. Styled with the dashboard's own
 * stylesheet (`/admin/app.css`), so it looks like the dashboard.
 */
export function landingPage(opts: { demo: boolean }): string {
  const link = (href: string, label: string, what: string) =>
    `<li><a href="${href}">${escapeHtml(label)}</a> <span class="muted">${escapeHtml(what)}</span></li>`;
  const links = [
    link('/admin', 'Seat dashboard', 'live seats, sessions, kicks and denials; sign in with an admin token'),
    ...(opts.demo ? [link('/demo', 'Demo app', 'a small web app that takes a seat of the demo license')] : []),
    link('/api/openapi.json', 'REST API', 'the OpenAPI document of /api/v1'),
    link('/healthz', 'Health', '200 while the server and its database answer'),
  ];
  return document(
    'Live seat server',
    [
      '<header class="top"><h1>Live seat server</h1></header>',
      '<main>',
      '<section class="panel">',
      '<p>Concurrent-seat licenses, enforced live over WebSockets.</p>',
      `<ul id="links" class="links">${links.join('')}</ul>`,
      '</section>',
      '</main>',
    ].join(''),
    '/admin/app.css',
  );
}
