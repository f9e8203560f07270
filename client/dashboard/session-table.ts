// The selected license's session table at scale: searched, filtered, sorted and paged by the server
// (GET /licenses/:id/sessions?q&state&sort&order&limit&offset), so 10,000 sessions never sit in the
// DOM or travel at once. The board watches the license it shows (`admin:watch`), so it hears only
// that license's session events: one for a row on the page is patched in place by main.ts's
// renderSessions (keyed by session id, focus kept); a new session is placed at once where the
// page ends with the newest; anything else that may move the page (an ended session, a change
// under a filter or another sort) reads the page again, at most every RELOAD_MS, or every
// SHIFT_RELOAD_MS when the change lies off the page and only shifts it. A page read while a session
// event came in may predate it, so it is read once more. After a tab leaves (`detached`, `idle`)
// the page is read again too: across nodes those events can arrive out of order.
import type { SessionView } from '../../shared';
import { fill, h } from './dom';
import { api } from './rest';

export const PAGE_SIZE = 50;
const RELOAD_MS = 400;
/** A change off the page only shifts it by a row: read again less often (a searched read sorts the whole license). */
const SHIFT_RELOAD_MS = 2000;
const SEARCH_MS = 250;

export interface TableHost {
  /** The board's sessions by id (main.ts's state.sessions): pages read are put there. */
  sessions: Map<string, SessionView>;
  /** Sends `admin:watch` for the license (and `admin:unwatch` for `previous`). */
  watch(licenseId: string, previous: string | null): void;
  /** Redraws the rows (main.ts's renderSessions). */
  render(): void;
}

interface Query {
  q: string;
  state: '' | 'active' | 'idle';
  sort: 'startedAt' | 'user' | 'name' | 'app' | 'state';
  order: 'asc' | 'desc';
  offset: number;
}

interface PageReply {
  sessions: SessionView[];
  total: number;
  matched: number;
}

const SORTS: Record<Query['sort'], string> = { startedAt: 'Started', user: 'User', name: 'Name', app: 'App', state: 'State' };

export function sessionTable(host: TableHost) {
  let licenseId: string | null = null;
  let query: Query = { q: '', state: '', sort: 'startedAt', order: 'asc', offset: 0 };
  /** The page as the server last sent it; null until the first read of this license. */
  let page: { ids: string[]; total: number; matched: number } | null = null;
  let reloadTimer: ReturnType<typeof setTimeout> | undefined;
  let searchTimer: ReturnType<typeof setTimeout> | undefined;
  /** Reads answered out of order are dropped: only the newest request's page is shown. */
  let asked = 0;
  /** Session events of the shown license heard so far: a page read while one came in may predate it. */
  let changes = 0;

  const filtered = () => query.q !== '' || query.state !== '';

  async function load(): Promise<void> {
    if (!licenseId) return;
    const id = licenseId;
    const n = ++asked;
    const params = new URLSearchParams({ limit: String(PAGE_SIZE), offset: String(query.offset), sort: query.sort, order: query.order });
    if (query.q) params.set('q', query.q);
    if (query.state) params.set('state', query.state);
    const seen = changes;
    try {
      const reply = await api<PageReply>('GET', `/licenses/${encodeURIComponent(id)}/sessions?${params}`);
      if (n !== asked || id !== licenseId) return;
      // A page past the end (sessions ended meanwhile) steps back to the last one.
      if (reply.sessions.length === 0 && query.offset > 0 && reply.matched > 0) {
        query.offset = Math.floor((reply.matched - 1) / PAGE_SIZE) * PAGE_SIZE;
        return load();
      }
      for (const s of reply.sessions) host.sessions.set(s.id, s);
      page = { ids: reply.sessions.map((s) => s.id), total: reply.total, matched: reply.matched };
      fill(document.getElementById('sessions-error') ?? h('span'));
      // A session that started or ended while the page was read may be missing from it (or be on it
      // still): the page is read once more.
      if (changes !== seen) reloadSoon();
    } catch (err) {
      if (n !== asked) return;
      const box = document.getElementById('sessions-error');
      if (box) fill(box, `The sessions could not be read: ${(err as Error).message}`);
    }
    host.render();
  }

  let reloadDue = Infinity;
  function reloadSoon(ms = RELOAD_MS): void {
    const due = Date.now() + ms;
    if (reloadTimer && reloadDue <= due) return;
    clearTimeout(reloadTimer);
    reloadDue = due;
    reloadTimer = setTimeout(() => {
      reloadTimer = undefined;
      reloadDue = Infinity;
      void load();
    }, ms);
  }

  function set(change: Partial<Query>): void {
    query = { ...query, offset: 0, ...change };
    void load();
  }

  function pager(): void {
    const status = document.getElementById('sessions-range');
    if (!status) return;
    const prev = document.getElementById('sessions-prev') as HTMLButtonElement | null;
    const next = document.getElementById('sessions-next') as HTMLButtonElement | null;
    const matched = page?.matched ?? 0;
    const from = matched ? query.offset + 1 : 0;
    const to = Math.min(query.offset + PAGE_SIZE, matched);
    const of = page && filtered() ? `${matched.toLocaleString()} matching (of ${page.total.toLocaleString()})` : matched.toLocaleString();
    status.textContent = page ? `${from.toLocaleString()}–${to.toLocaleString()} of ${of}` : '';
    if (prev) prev.disabled = query.offset === 0;
    if (next) next.disabled = query.offset + PAGE_SIZE >= matched;
  }

  return {
    /** The search, filter, sort and paging controls above the table. */
    controls(): HTMLElement {
      const search = h('input', {
        id: 'sessions-search',
        type: 'search',
        value: query.q,
        placeholder: 'user, name, app, device…',
        oninput: (e: Event) => {
          const value = (e.target as HTMLInputElement).value.trim();
          clearTimeout(searchTimer);
          searchTimer = setTimeout(() => set({ q: value }), SEARCH_MS);
        },
      });
      const choose = <K extends 'state' | 'sort' | 'order'>(id: string, key: K, options: Record<string, string>) =>
        h(
          'select',
          { id, onchange: (e: Event) => set({ [key]: (e.target as HTMLSelectElement).value } as Partial<Query>) },
          Object.entries(options).map(([value, label]) => h('option', { value, selected: query[key] === value }, label)),
        );
      const step = (by: number) => () => {
        query.offset = Math.max(0, query.offset + by);
        void load();
      };
      return h(
        'div',
        { class: 'session-controls' },
        h('div', { class: 'field' }, h('label', { for: 'sessions-search' }, 'Search sessions'), search),
        h('div', { class: 'field' }, h('label', { for: 'sessions-state' }, 'State'), choose('sessions-state', 'state', { '': 'Any', active: 'Active', idle: 'Idle' })),
        h('div', { class: 'field' }, h('label', { for: 'sessions-sort' }, 'Sort by'), choose('sessions-sort', 'sort', SORTS)),
        h('div', { class: 'field' }, h('label', { for: 'sessions-order' }, 'Order'), choose('sessions-order', 'order', { asc: 'Ascending', desc: 'Descending' })),
        h(
          'div',
          { class: 'pager', role: 'group', 'aria-label': 'Sessions pages' },
          h('button', { type: 'button', id: 'sessions-prev', onclick: step(-PAGE_SIZE) }, 'Previous'),
          h('span', { id: 'sessions-range', class: 'muted' }),
          h('button', { type: 'button', id: 'sessions-next', onclick: step(PAGE_SIZE) }, 'Next'),
        ),
        h('p', { id: 'sessions-error', class: 'error', role: 'alert' }),
      );
    },

    /** The panel was built for `id`: watch it and read its first page (filters start afresh). */
    show(id: string): void {
      const previous = licenseId;
      if (previous !== id) {
        // Unwatched, the previous license's sessions would go stale here: forget them.
        if (previous) for (const [sid, s] of host.sessions) if (s.licenseId === previous) host.sessions.delete(sid);
        query = { q: '', state: '', sort: 'startedAt', order: 'asc', offset: 0 };
        page = null;
      }
      licenseId = id;
      host.watch(id, previous !== id ? previous : null);
      void load();
    },

    /** A new snapshot (after a reconnect): the server forgot what this board watched. */
    resubscribe(): void {
      if (!licenseId) return;
      host.watch(licenseId, null);
      void load();
    },

    /** A session event of the shown license: read the page again when it may have moved. */
    heard(s: SessionView, event: string): void {
      if (s.licenseId !== licenseId) return;
      changes++;
      // A session's tabs on several nodes leaving together are told by each node, and their words
      // can cross on the way: a tab's `detached` may come after the last one's `idle`. The page is
      // read again soon after such a change, so a row shows the store's state within a moment.
      if (event === 'detached' || event === 'idle') reloadSoon();
      const onPage = page?.ids.includes(s.id) ?? false;
      // A new session is the newest: shown at once where the unfiltered page by start time ends
      // with the newest (the last page oldest first, the first page newest first).
      if (page && !onPage && event === 'granted' && !filtered() && query.sort === 'startedAt') {
        page.total++;
        page.matched++;
        if (query.order === 'asc') {
          // Oldest first, the newest comes after every row here: nothing on this page moves.
          if (query.offset + page.ids.length === page.matched - 1 && page.ids.length < PAGE_SIZE) page.ids.push(s.id);
          return;
        }
        if (query.offset === 0) return void (page.ids = [s.id, ...page.ids].slice(0, PAGE_SIZE));
        return reloadSoon(SHIFT_RELOAD_MS);
      }
      // By start time unfiltered, a change of a session moves no row: its own (if here) is patched.
      if (filtered() || query.sort !== 'startedAt') reloadSoon();
    },

    /** A session of the shown license ended: its row goes now, the page fills up soon after. */
    removed(licenseIdOf: string, sessionId: string): void {
      if (licenseIdOf !== licenseId) return;
      changes++;
      if (!page?.ids.includes(sessionId)) return reloadSoon(SHIFT_RELOAD_MS);
      page.ids = page.ids.filter((id) => id !== sessionId);
      page.total = Math.max(0, page.total - 1);
      page.matched = Math.max(0, page.matched - 1);
      reloadSoon();
    },

    /** The rows to show, in the page's order: until the first page arrives, the newest known. */
    rows(id: string, known: () => SessionView[]): SessionView[] {
      const rows = page && id === licenseId ? page.ids.map((sid) => host.sessions.get(sid)).filter((s): s is SessionView => s !== undefined) : known().slice(0, PAGE_SIZE);
      pager();
      return rows;
    },

    /** What the empty table says. */
    emptyText(): string {
      return filtered() ? 'No sessions match.' : 'No sessions.';
    },
  };
}
