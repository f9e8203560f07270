// Serves the admin dashboard (/admin) and the demo app (/demo). Their TypeScript is bundled with
// esbuild once per process, in memory, on first use: a fresh clone needs no build step, and the
// pages load nothing from outside the server, so they work offline under a strict CSP.
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type express from 'express';
import type { Request, Response } from 'express';
import { SignJWT } from 'jose';
import { z } from 'zod';
import { type AdminLimits, ErrorCode, safeText } from '../../shared';
import type { SeatServerConfig } from '../config';
import { DEMO_LICENSE_ID } from '../demo-setup';
import { OPERATOR } from '../seats/actor';
import type { Reads } from '../seats/reads';
import { SeatError } from '../seats/seat-error';
import { jsonBody } from './body';
import { methodNotAllowed, sendError } from './errors';
import { landingPage, securityHeaders } from './html';

/** The project folder: the nearest above this module with a package.json (it may run bundled, from dist/). */
function projectRoot(dir: string): string {
  for (let d = dir; ; d = path.dirname(d)) {
    if (existsSync(path.join(d, 'package.json'))) return d;
    if (path.dirname(d) === d) throw new Error(`no package.json above ${dir}`);
  }
}

const ROOT = projectRoot(import.meta.dirname);

interface Asset {
  body: Buffer;
  type: string;
}

let bundling: Promise<Map<string, Asset>> | undefined;

/** The pages' files by path (`dashboard/index.html`, `dashboard/app.js`, ...), built once per process. */
export function clientAssets(): Promise<Map<string, Asset>> {
  bundling ??= buildClient().catch((err: unknown) => {
    bundling = undefined; // let the next request try again
    throw err;
  });
  return bundling;
}

async function buildClient(): Promise<Map<string, Asset>> {
  const esbuild = await import('esbuild');
  const result = await esbuild.build({
    absWorkingDir: ROOT,
    entryPoints: { 'dashboard/app': 'client/dashboard/main.ts', 'demo/app': 'client/demo/main.ts', 'summary/app': 'client/summary/main.ts' },
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2020', 'chrome100', 'firefox100', 'safari15'],
    minify: true,
    legalComments: 'none',
    write: false,
    outdir: path.join(ROOT, 'public/build'),
    logLevel: 'silent',
  });
  const assets = new Map<string, Asset>();
  for (const file of result.outputFiles) {
    const rel = path.relative(path.join(ROOT, 'public/build'), file.path).split(path.sep).join('/');
    assets.set(rel, { body: Buffer.from(file.contents), type: rel.endsWith('.css') ? 'text/css' : 'text/javascript' });
  }
  for (const page of ['dashboard', 'demo', 'summary']) {
    assets.set(`${page}/index.html`, { body: await readFile(path.join(ROOT, 'client', page, 'index.html')), type: 'text/html' });
  }
  return assets;
}

/** The placeholder in client/dashboard/index.html that carries the server's bounds (AdminLimits). */
const LIMITS_META = '<meta name="seat-limits" content="" />';

function serve(file: string, onError: (err: unknown) => void, limits?: AdminLimits) {
  return async (_req: Request, res: Response) => {
    securityHeaders(res);
    try {
      const asset = (await clientAssets()).get(file);
      if (!asset) return void res.status(404).type('text/plain').send('not found');
      if (!limits) return void res.type(asset.type).send(asset.body);
      // Numbers only, so the attribute needs no escaping beyond its quotes.
      const meta = `<meta name="seat-limits" content="${JSON.stringify(limits).replaceAll('"', '&quot;')}" />`;
      res.type(asset.type).send(asset.body.toString('utf8').replace(LIMITS_META, meta));
    } catch (err) {
      onError(err);
      res.status(500).type('text/plain').send('the page could not be built; see the server log');
    }
  };
}

const DemoTokenBody = z.strictObject({ name: safeText(z.string().trim().min(1).max(60)).optional() });
const SID_COOKIE = 'demo_sid';

function cookie(req: Request, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [k, v] = part.trim().split('=');
    if (k === name && v) {
      try {
        return decodeURIComponent(v);
      } catch {
        return undefined; // not percent-encoding: as if there were no cookie
      }
    }
  }
  return undefined;
}

/** Mounts the pages; pass it as `createSeatServer({ routes })`. */
export function mountPages(
  app: express.Express,
  { reads, config, onError = () => {} }: { reads: Pick<Reads, 'findLicense'>; config: SeatServerConfig; onError?: (err: unknown) => void },
): void {
  // Start bundling now, so the first page view does not wait for it.
  clientAssets().catch(onError);

  // The start page: links to what the server offers.
  const landing = landingPage({ demo: config.demo });
  app.get('/', (_req, res) => {
    securityHeaders(res);
    res.type('html').send(landing);
  });

  const limits: AdminLimits = {
    idleTimeoutSec: { min: config.idleTimeoutMinSec, max: config.idleTimeoutMaxSec },
    inactivityTimeoutSec: { min: config.inactivityTimeoutMinSec, max: config.inactivityTimeoutMaxSec },
  };
  app.get(['/admin', '/admin/'], serve('dashboard/index.html', onError, limits));
  // Without script the sign-in form posts here: the token stays out of the URL, and is ignored.
  app.post(['/admin', '/admin/'], (_req, res) => res.redirect(303, '/admin'));
  app.get('/admin/app.js', serve('dashboard/app.js', onError));
  app.get('/admin/app.css', serve('dashboard/app.css', onError));
  // A license's printable usage summary: it reads the API with the dashboard's token, as the dashboard does.
  app.get('/admin/licenses/:id/summary', serve('summary/index.html', onError));
  app.get('/admin/summary.js', serve('summary/app.js', onError));
  app.get('/admin/summary.css', serve('summary/app.css', onError));

  if (!config.demo) {
    // The demo's pages are then the app's plain 404; its token endpoint answers in JSON.
    app.all('/demo/token', (_req, res) => sendError(res, new SeatError(ErrorCode.NotFound, 'the demo is off (DEMO=off)')));
    return;
  }

  app.get(['/demo', '/demo/'], serve('demo/index.html', onError));
  app.get('/demo/app.js', serve('demo/app.js', onError));
  app.get('/demo/app.css', serve('demo/app.css', onError));

  // Demo only: signs a client token for the demo license, as a customer's portal would. The
  // portal session id lives in a cookie, so every tab of one browser shares one seat.
  const demoToken = app.route('/demo/token');
  demoToken.post(jsonBody('optional', 1024), async (req, res) => {
    res.set('Cache-Control', 'no-store');
    const body = DemoTokenBody.safeParse(req.body ?? {});
    if (!body.success) {
      const issue = body.error.issues[0];
      const unsafe = issue?.code === 'custom';
      return void res.status(unsafe ? 422 : 400).json({
        error: unsafe
          ? { code: ErrorCode.OutOfRange, message: `name: ${issue.message}` }
          : { code: ErrorCode.BadRequest, message: 'send { "name": "..." } (1 to 60 characters) or nothing' },
      });
    }
    try {
      // The server's own page signs for its own demo license: it reads it as the operator.
      const license = await reads.findLicense(OPERATOR, DEMO_LICENSE_ID);
      if (!license) {
        return void res.status(404).json({
          error: { code: ErrorCode.NotFound, message: 'there is no demo license: it is created on the first start of an empty database with the demo on' },
        });
      }
      let sid = cookie(req, SID_COOKIE);
      if (!sid || !/^[A-Za-z0-9-]{8,64}$/.test(sid)) {
        sid = randomUUID();
        res.cookie(SID_COOKIE, sid, { httpOnly: true, sameSite: 'strict', path: '/demo' });
      }
      const token = await new SignJWT({
        lic: license.id,
        sid,
        sub: `demo-${sid.slice(0, 8)}`,
        name: body.data.name ?? `Demo user ${sid.slice(0, 4)}`,
        app: 'Demo WebUI',
      })
        .setProtectedHeader({ alg: 'HS256' })
        .setIssuedAt()
        .setExpirationTime('10m')
        .sign(new TextEncoder().encode(license.secret));
      res.json({ token, licenseId: license.id });
    } catch (err) {
      onError(err);
      res.status(503).json({ error: { code: ErrorCode.Unavailable, message: 'the seat service is unavailable; retry shortly' } });
    }
  });
  demoToken.all(methodNotAllowed(['POST']));
}
