// Modal dialogs of the dashboard (the native <dialog>: focus is kept inside it, Escape cancels),
// and the one that shows a secret once, with a copy button.
import { h } from './dom';

/**
 * Opens `dialog` modally. Focus starts on `initial` and goes back to whatever had it when the
 * dialog closes (or to `fallback()` when that is gone meanwhile). Returns the function that closes it.
 */
export function openDialog(dialog: HTMLDialogElement, initial: HTMLElement, onClose: () => void, fallback?: () => HTMLElement | null): () => void {
  const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    if (dialog.open) dialog.close();
    dialog.remove();
    (opener?.isConnected ? opener : fallback?.())?.focus();
    onClose();
  };
  dialog.addEventListener('close', close);
  document.body.appendChild(dialog);
  dialog.showModal();
  initial.focus();
  return close;
}

/** Asks a yes-or-no question; Cancel has the focus, so Enter changes nothing. Resolves true only on `confirmLabel`. */
export function confirmDialog(title: string, lead: string, confirmLabel: string, extra: Node | null = null): Promise<boolean> {
  return new Promise((resolve) => {
    let answer = false;
    const cancel = h('button', { type: 'button', id: 'confirm-cancel', onclick: () => close() }, 'Cancel');
    const dialog = h(
      'dialog',
      { id: 'confirm-dialog', role: 'alertdialog', 'aria-labelledby': 'confirm-title', 'aria-describedby': 'confirm-lead' },
      h('h2', { id: 'confirm-title' }, title),
      h('p', { id: 'confirm-lead' }, lead),
      extra,
      h(
        'div',
        { class: 'row end' },
        cancel,
        h('button', { type: 'button', id: 'confirm-ok', class: 'danger solid', onclick: () => ((answer = true), close()) }, confirmLabel),
      ),
    );
    const close = openDialog(dialog, cancel, () => resolve(answer));
  });
}

/** Copies text: the Clipboard API where the page may use it, else the selected field's text. */
async function copy(field: HTMLInputElement | HTMLTextAreaElement): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(field.value);
    return true;
  } catch {
    field.select();
    return document.execCommand('copy');
  }
}

/**
 * Shows a secret the server gives only once (an admin token, a license secret), with a copy
 * button and a plain note that it cannot be shown again. `after` says what else to know.
 */
export function showOnce(title: string, label: string, value: string, after: string): Promise<void> {
  return new Promise((resolve) => {
    // A text area, so the whole value shows, wrapped (a long secret in one line ran out of sight),
    // in a monospace font with room below the line for its underscores.
    const field = h('textarea', { id: 'secret-value', readonly: true, rows: 2, spellcheck: 'false', autocomplete: 'off', 'aria-describedby': 'secret-note' }, value);
    const status = h('span', { id: 'copy-status', class: 'muted', role: 'status' });
    const copyButton = h(
      'button',
      {
        type: 'button',
        id: 'secret-copy',
        onclick: () => void copy(field).then((ok) => (status.textContent = ok ? 'Copied.' : 'Select the text and copy it yourself.')),
      },
      'Copy',
    );
    const dialog = h(
      'dialog',
      { id: 'secret-dialog', 'aria-labelledby': 'secret-title' },
      h('h2', { id: 'secret-title' }, title),
      h('label', { for: 'secret-value' }, label),
      h('div', { class: 'row' }, field, copyButton),
      h('p', { id: 'secret-note', class: 'once' }, h('strong', {}, 'Shown only once. '), 'Copy it now: it is not stored anywhere you can read it again. ', after),
      status,
      h('div', { class: 'row end' }, h('button', { type: 'button', id: 'secret-done', onclick: () => close() }, 'Done')),
    );
    const close = openDialog(dialog, copyButton, resolve);
  });
}
