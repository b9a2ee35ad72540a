// The error banner: one message at a time, localized by the server's error `code`
// (docs/protocol.md, "Errors") or by a client-side code (socket-closed, media-denied…).

import { errorText, i18nEvents } from './i18n.js';

const banner = document.getElementById('banner');
const text = document.getElementById('banner-text');
let shown = null; // {code, field} — kept so a language switch re-renders it

document.getElementById('banner-close').addEventListener('click', hideBanner);
i18nEvents.addEventListener('languagechange', render);

export function showError({ code, field }) {
  shown = { code, field };
  render();
  banner.hidden = false;
}

export function hideBanner() {
  shown = null;
  banner.hidden = true;
}

function render() {
  if (!shown) return;
  text.textContent = errorText(shown.code, shown.field);
  banner.dataset.code = shown.code;
}
