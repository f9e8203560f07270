// The demo on `npm start`: on an empty database with DEMO on, a demo tenant and license, and a
// banner telling a newcomer where the dashboard and the demo app are.
import { ErrorCode } from '../shared';
import type { SeatServer } from './seat-server';
import { OPERATOR } from './seats/actor';
import { SeatError } from './seats/seat-error';

export const DEMO_LICENSE_ID = 'demo';
export const DEMO_DENIED_MESSAGE = 'All demo seats are taken: close a demo tab in another browser, or kick a session on the dashboard.';

export interface DemoSetup {
  /** True when this start created the demo tenant and license. */
  created: boolean;
  /** Whether the demo license exists (false: the database had other licenses, so none was made). */
  present: boolean;
  /** The demo tenant's admin token, on creation only (it is stored hashed). */
  tenantAdminToken?: string;
  seats?: number;
  idleTimeoutSec?: number;
}

export async function setupDemo({ admin, reads, config }: Pick<SeatServer, 'admin' | 'reads' | 'config'>): Promise<DemoSetup> {
  const existing = await reads.findLicense(OPERATOR, DEMO_LICENSE_ID);
  if (existing) return { created: false, present: true, seats: existing.seats, idleTimeoutSec: existing.idleTimeoutSec };
  // Never add a demo to a database that is in real use.
  if ((await reads.licenses(OPERATOR)).length > 0) return { created: false, present: false };
  const tenant = await admin.createTenant(OPERATOR, 'Demo tenant');
  try {
    const license = await admin.createLicense(OPERATOR, {
      id: DEMO_LICENSE_ID,
      tenantId: tenant.id,
      name: 'Demo WebUI',
      seats: 3,
      idleTimeoutSec: config.idleTimeoutMinSec,
      deniedMessage: DEMO_DENIED_MESSAGE,
      // Leave a tab alone and its seat goes for inactivity, with a warning first (a quarter of the
      // timeout, at most a minute); do something and it comes back.
      inactivityTimeoutSec: config.inactivityTimeoutMinSec,
      inactivityWarningSec: Math.max(1, Math.min(60, Math.floor(config.inactivityTimeoutMinSec / 4))),
    });
    return { created: true, present: true, tenantAdminToken: tenant.adminToken, seats: license.seats, idleTimeoutSec: license.idleTimeoutSec };
  } catch (err) {
    // Another node created it first.
    if (err instanceof SeatError && err.code === ErrorCode.Conflict) return { created: false, present: true };
    throw err;
  }
}

/** What `npm start` prints: where to look and what to do. */
export function demoBanner(url: string, demo: DemoSetup | undefined): string {
  const lines = ['', `Seat dashboard: ${url}/admin  (sign in with an admin token: the operator's ADMIN_TOKEN or a tenant's)`];
  if (demo?.present) {
    lines.push(
      `Demo app:       ${url}/demo`,
      '',
      `  Open the demo in a few tabs (one seat per browser: tabs share it) and in other browsers or private`,
      `  windows (one seat each). The demo license has ${demo.seats ?? '?'} seats, so one browser too many sees the`,
      `  denial. Watch seats come and go on the dashboard; kick a session there, or end it from the demo.`,
    );
    if (demo.tenantAdminToken) {
      lines.push('', `Demo tenant admin token (shown once; it sees only the demo tenant):`, `  ${demo.tenantAdminToken}`);
    }
    lines.push('', 'Turn the demo off in production with DEMO=off.');
  } else if (demo) {
    lines.push('Demo: off for this database (it already has licenses); start on an empty database to get one.');
  }
  return `${lines.join('\n')}\n\n`;
}
