// What counts as the user doing something in a browser tab, for inactivity release (docs/contract.md,
// "Inactivity release"): pointer, key, wheel and scroll events, and the tab coming back into view.
// Listeners are passive and the report is throttled by the SeatClient, so tracking costs nothing
// noticeable however busy the page is.

/** The DOM events that count as activity. */
export const ACTIVITY_EVENTS = ['pointerdown', 'pointermove', 'keydown', 'wheel', 'scroll', 'touchstart'] as const;

interface EventSource {
  addEventListener(type: string, fn: () => void, opts?: { passive?: boolean; capture?: boolean }): void;
  removeEventListener(type: string, fn: () => void, opts?: { capture?: boolean }): void;
}

/**
 * Calls `onActivity` on each activity event of the page (at most what the browser fires; the
 * caller throttles). Returns a function that stops tracking. Outside a browser it tracks nothing.
 */
export function trackBrowserActivity(onActivity: () => void): () => void {
  const g = globalThis as unknown as { window?: EventSource; document?: EventSource & { visibilityState?: string } };
  const win = g.window;
  const doc = g.document;
  if (!win || !doc) return () => {};
  const opts = { passive: true, capture: true };
  const onVisible = () => {
    if (doc.visibilityState === 'visible') onActivity();
  };
  for (const type of ACTIVITY_EVENTS) win.addEventListener(type, onActivity, opts);
  doc.addEventListener('visibilitychange', onVisible, opts);
  return () => {
    for (const type of ACTIVITY_EVENTS) win.removeEventListener(type, onActivity, { capture: true });
    doc.removeEventListener('visibilitychange', onVisible, { capture: true });
  };
}
