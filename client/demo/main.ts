// The demo app at /demo: a WebUI-style app on the client SDK. It shows its seat state, and what a
// denial, a kick and an app-side end look like. Its tokens come from the demo-only /demo/token.
import { SeatClient } from '../sdk';
import { $, fill, h } from '../dashboard/dom';
import './style.css';

const REASONS: Record<string, string> = {
  kicked: 'An administrator kicked this session.',
  ended_by_app: 'The app ended this session.',
  license_suspended: 'The license was suspended.',
  seats_reduced: 'The license lost seats, and this session was one of the newest.',
  ended: 'The session ended.',
  inactive: 'Released after a while without activity. Move the mouse or press a key to come back.',
  deactivated: 'This device was deactivated.',
  no_free_seats: 'Every seat of the license is taken.',
};

async function token(): Promise<string> {
  const res = await fetch('/demo/token', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  const body = (await res.json()) as { token?: string; error?: { message: string } };
  if (!res.ok || !body.token) {
    log(`token refused: ${body.error?.message ?? res.status}`);
    throw new Error(body.error?.message ?? `HTTP ${res.status}`);
  }
  return body.token;
}

function log(text: string): void {
  const list = $('#log');
  list.prepend(h('li', {}, h('time', {}, new Date().toLocaleTimeString()), ' ', text));
  while (list.childElementCount > 50) list.lastElementChild?.remove();
}

/** Seconds left of the pending inactivity warning, ticking in the warning banner. */
let countdown: ReturnType<typeof setInterval> | undefined;

function showWarning(client: SeatClient): void {
  const banner = $('#warning');
  clearInterval(countdown);
  const warning = client.warning;
  banner.hidden = !warning;
  if (!warning) return;
  const tick = () => {
    const left = Math.max(0, Math.ceil((Date.parse(warning.releasesAt) - Date.now()) / 1000));
    fill($('#warning-text'), `No activity for a while: this seat goes to others in ${left} s. Move the mouse or press a key to keep it.`);
  };
  tick();
  countdown = setInterval(tick, 1000);
}

function show(client: SeatClient): void {
  const seat = $('#seat');
  seat.dataset.state = client.state;
  fill($('#state'), client.state);
  ($('#end') as HTMLButtonElement).disabled = client.state !== 'granted';
  showWarning(client);
  $('#again').hidden = !(client.state === 'denied' || client.state === 'ended');
  const facts: [string, string | number][] = [];
  let headline = '';
  let message = '';
  switch (client.state) {
    case 'connecting':
      headline = 'Asking the seat server for a seat…';
      break;
    case 'granted': {
      const g = client.grant!;
      headline = g.resumed ? 'Granted: this tab joined a seat its session already held.' : 'Granted: this tab took a new seat.';
      facts.push(['seats in use (at grant)', `${g.seatsInUse} of ${g.seats}`], ['session', g.sessionId], ['idle hold', `${g.idleTimeoutSec} s`]);
      break;
    }
    case 'denied': {
      const d = client.denial;
      // A kick's cool-down is not a full license: say when this browser may come back.
      headline = d?.retryAfterSec ? `Kicked a moment ago: try again in ${d.retryAfterSec} s.` : 'Denied: no seat for this browser.';
      message = d?.message ?? client.lastError?.message ?? '';
      if (d) facts.push(['reason', d.reason], ['seats in use', `${d.seatsInUse} of ${d.seats}`]);
      else if (client.lastError) facts.push(['reason', client.lastError.reason]);
      break;
    }
    case 'ended': {
      const e = client.ended!;
      headline = `Ended: ${REASONS[e.reason] ?? e.reason}`;
      message = e.message;
      facts.push(['reason', e.reason]);
      break;
    }
    case 'offline':
      headline = 'Offline: the connection is gone; the SDK retries.';
      break;
  }
  fill($('#headline'), headline);
  fill($('#message'), message);
  fill($('#facts'), facts.map(([k, v]) => [h('dt', {}, k), h('dd', {}, String(v))]));
}

function start(): void {
  const open = () => new SeatClient({ url: location.origin, token, trackActivity: true });
  let client = open();
  const wire = (c: SeatClient) => {
    c.on('state', (next, prev) => {
      log(`${prev} → ${next}`);
      show(c);
    });
    c.on('granted', (g) => log(`granted (resumed: ${g.resumed}, ${g.seatsInUse}/${g.seats} seats in use)`));
    c.on('denied', (d) => log(`denied: ${d.reason}: ${d.message}`));
    c.on('ended', (e) => log(`session ended: ${e.reason}${e.message ? `: ${e.message}` : ''}`));
    c.on('warning', (w) => {
      log(`warning: ${w.message} (at ${new Date(w.releasesAt).toLocaleTimeString()})`);
      showWarning(c);
    });
    c.on('warning-cleared', () => {
      log('warning cleared: activity arrived in time');
      showWarning(c);
    });
    c.on('error', (e) => log(`error: ${'reason' in e ? e.reason : e.code}: ${e.message}`));
    show(c);
  };
  wire(client);
  $('#end').addEventListener('click', () => {
    client.endSession().catch((err: Error) => log(`could not end the session: ${err.message}`));
  });
  $('#again').addEventListener('click', () => {
    client.close();
    client = open();
    wire(client);
  });
  addEventListener('pagehide', () => client.close());
}

start();
