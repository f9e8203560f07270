// A tiny DOM helper for the pages: elements from a tag, attributes and children. Strings always
// become text nodes, never markup, so names and messages from users cannot inject HTML.
export type Child = Node | string | number | null | undefined | false | Child[];
type Attrs = Record<string, string | number | boolean | null | undefined | EventListener>;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (typeof value === 'function') el.addEventListener(key.replace(/^on/, ''), value);
    else if (key === 'class') el.className = String(value);
    else if (value === true) el.setAttribute(key, '');
    else el.setAttribute(key, String(value));
  }
  append(el, children);
  return el;
}

function append(el: Node, children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** Replaces an element's children. */
export function fill(el: Element, ...children: Child[]): void {
  el.replaceChildren();
  append(el, children);
}

export function $(selector: string): HTMLElement {
  const el = document.querySelector<HTMLElement>(selector);
  if (!el) throw new Error(`missing ${selector}`);
  return el;
}

/** "in 4:05", "1:02:03" style countdown from milliseconds. */
export function countdown(ms: number): string {
  const s = Math.max(0, Math.ceil(ms / 1000));
  const hh = Math.floor(s / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return hh ? `${hh}:${String(mm).padStart(2, '0')}:${ss}` : `${mm}:${ss}`;
}

export function time(iso: string): string {
  const d = new Date(iso);
  const today = new Date().toDateString() === d.toDateString();
  return today ? d.toLocaleTimeString() : d.toLocaleString();
}

/**
 * Puts `el` right after `prev` in `parent` (first when `prev` is null), unless it is there already.
 * Moving an element blurs whatever inside it had focus: focus is given back, so a live update never
 * takes the keyboard user's place away.
 */
export function place(parent: Element, el: Element, prev: Element | null): void {
  const at = prev ? prev.nextElementSibling : parent.firstElementChild;
  if (at === el) return;
  const focused = document.activeElement instanceof HTMLElement && el.contains(document.activeElement) ? document.activeElement : null;
  parent.insertBefore(el, at);
  focused?.focus({ preventScroll: true });
}

/** Sets an element's text only when it differs, so unchanged cells are left alone. */
export function setText(el: Element, value: string): void {
  if (el.textContent !== value) el.textContent = value;
}

/** The longest run of characters a long identifier keeps unbroken (see setBreakable). */
const MAX_UNBROKEN = 24;

/** A dotted piece this short ('.uk', '.org', '.com') stays on the line of what comes before it. */
const SHORT_PIECE = 4;

/** Whether the dotted piece at `i` (from its '.' to the next break or the end) is SHORT_PIECE long or shorter. */
function shortPiece(chars: readonly string[], i: number): boolean {
  let n = 1;
  while (i + n < chars.length && !/[\s@/_|:.-]/.test(chars[i + n]!)) n++;
  return n <= SHORT_PIECE;
}

/**
 * Sets an identifier's text (an e-mail, a dotted or hyphenated id, a name) with line-break
 * opportunities where it reads best: after '@', '/', '_', '|' or ':', and before a '.' unless a
 * short piece follows it ('.uk', '.org', the '.co' of '.co.uk'); a hyphen and a space are ones
 * already. As a last resort, after every MAX_UNBROKEN characters of a run with none. A table column then narrows only down to the longest piece, instead of breaking
 * "wolfeschlegelsteinh|ausen@…" wherever the line ends. The breaks are <wbr> elements: the text
 * (textContent, what a screen reader says, what is copied) is the value unchanged. Only when it
 * differs, so unchanged cells are left alone.
 */
export function setBreakable(el: Element, value: string): void {
  if (el.textContent === value) return;
  const parts: Node[] = [];
  let piece = '';
  let run = 0;
  const cut = () => {
    if (piece) parts.push(document.createTextNode(piece), document.createElement('wbr'));
    piece = '';
    run = 0;
  };
  const chars = Array.from(value);
  for (const [i, ch] of chars.entries()) {
    if ((ch === '.' && !shortPiece(chars, i)) || (run >= MAX_UNBROKEN && !/[\s@/_|:.-]/.test(ch))) cut();
    piece += ch;
    run = /[\s-]/.test(ch) ? 0 : run + 1;
    if ('@/_|:'.includes(ch)) cut();
  }
  if (piece) parts.push(document.createTextNode(piece));
  el.replaceChildren(...parts);
}

/**
 * A number as an admin types it: decimal digits, an optional sign and fraction; NaN for anything
 * else. `Number()` (and a number input) also take `1e3`, `0x10` and `.5`, which the API refuses or
 * reads as another value than the one meant.
 */
export function typedNumber(raw: string): number {
  const text = raw.trim();
  return /^[+-]?\d+(\.\d+)?$/.test(text) ? Number(text) : Number.NaN;
}
