// One table of user-visible strings, Vietnamese first (the default) and English.
// Language choice: `?lang=` in the URL, else the last choice kept in localStorage,
// else Vietnamese. Elements marked with data-i18n (text) or data-i18n-aria (aria-label)
// are translated by applyTranslations(); views that build text themselves listen for
// the 'languagechange' event on `i18nEvents`.

const STRINGS = {
  vi: {
    'app.title': 'Cầu — Hội chẩn trực tuyến',
    'app.tagline': 'Hội chẩn và khám bệnh từ xa',
    'app.skip': 'Bỏ qua tới nội dung chính',
    'lang.label': 'Ngôn ngữ',
    'lang.switch': 'English',
    'lang.switch.aria': 'Chuyển sang tiếng Anh',

    'join.heading': 'Tham gia phòng khám trực tuyến',
    'join.room': 'Mã phòng',
    'join.room.hint': 'Chữ cái không dấu, chữ số, dấu - hoặc _ (tối đa 64 ký tự)',
    'join.name': 'Tên hiển thị',
    'join.name.hint': 'Ví dụ: BS. Lan — Khoa Tim mạch',
    'join.submit': 'Vào phòng',
    'join.joining': 'Đang kết nối…',
    'join.privacy': 'Camera và micrô chỉ được dùng trong cuộc gọi này.',
    'join.invalid.room': 'Mã phòng chỉ gồm chữ cái không dấu, chữ số, - hoặc _ (1–64 ký tự).',
    'join.invalid.name': 'Hãy nhập tên hiển thị (1–64 ký tự).',

    'call.room': 'Phòng {room}',
    'call.you': '{name} (bạn)',
    'call.alone': 'Đang chờ người khác vào phòng…',
    'call.participants': '{n} người trong phòng',
    'call.mic.mute': 'Tắt micrô',
    'call.mic.unmute': 'Bật micrô',
    'call.cam.off': 'Tắt camera',
    'call.cam.on': 'Bật camera',
    'call.leave': 'Rời phòng',
    'call.leaving': 'Đang rời phòng…',
    'call.left': 'Bạn đã rời phòng.',
    'call.audio.blocked': 'Bấm để nghe âm thanh',
    'call.muted.audio': 'Micrô đang tắt',
    'call.muted.video': 'Camera đang tắt',
    'call.no.video': 'Không có hình',
    'call.grid': 'Người tham gia',
    'call.controls': 'Điều khiển cuộc gọi',

    'conn.publish': 'Gửi đi',
    'conn.subscribe': 'Nhận về',
    'conn.server': 'máy chủ',
    'conn.new': 'Chưa kết nối',
    'conn.connecting': 'Đang kết nối',
    'conn.connected': 'Đã kết nối',
    'conn.disconnected': 'Mất kết nối',
    'conn.failed': 'Kết nối thất bại',
    'conn.closed': 'Đã đóng',
    'conn.none': '—',

    'banner.close': 'Đóng thông báo',
    'error.bad-json': 'Máy chủ không hiểu tin nhắn vừa gửi.',
    'error.too-large': 'Tin nhắn quá lớn; kết nối đã bị đóng.',
    'error.unknown-type': 'Máy chủ không nhận ra yêu cầu này.',
    'error.invalid-field': 'Thông tin không hợp lệ{field}.',
    'error.not-joined': 'Bạn chưa vào phòng.',
    'error.already-joined': 'Bạn đã ở trong phòng rồi.',
    'error.bad-sdp': 'Không thiết lập được phiên âm thanh/hình ảnh (SDP không hợp lệ).',
    'error.no-codec': 'Trình duyệt không có bộ mã hoá mà máy chủ hỗ trợ (Opus, VP8, H.264).',
    'error.bad-state': 'Trạng thái cuộc gọi không khớp với máy chủ.',
    'error.room-full': 'Phòng đã đủ người.',
    'error.rate-limited': 'Gửi yêu cầu quá nhanh; hãy thử lại sau giây lát.',
    'error.unauthorized': 'Bạn không có quyền vào phòng này.',
    'error.internal': 'Máy chủ gặp lỗi. Vui lòng thử lại.',
    'error.unknown': 'Đã có lỗi xảy ra ({code}).',
    'error.socket-closed': 'Mất kết nối tới máy chủ.',
    'error.socket-failed': 'Không kết nối được tới máy chủ.',
    'error.media-denied': 'Không dùng được camera hoặc micrô. Hãy cấp quyền cho trình duyệt.',
    'error.media-missing': 'Không tìm thấy camera hoặc micrô.',
    'error.webrtc': 'Không thiết lập được kết nối âm thanh/hình ảnh.',
    'error.field': ' (trường “{field}”)',
  },
  en: {
    'app.title': 'Cầu — Online consultation',
    'app.tagline': 'Remote consultation and care',
    'app.skip': 'Skip to main content',
    'lang.label': 'Language',
    'lang.switch': 'Tiếng Việt',
    'lang.switch.aria': 'Switch to Vietnamese',

    'join.heading': 'Join an online consultation',
    'join.room': 'Room code',
    'join.room.hint': 'Unaccented letters, digits, - or _ (at most 64 characters)',
    'join.name': 'Display name',
    'join.name.hint': 'For example: Dr. Lan — Cardiology',
    'join.submit': 'Join',
    'join.joining': 'Connecting…',
    'join.privacy': 'Your camera and microphone are used only in this call.',
    'join.invalid.room': 'The room code may only contain unaccented letters, digits, - or _ (1–64 characters).',
    'join.invalid.name': 'Please enter a display name (1–64 characters).',

    'call.room': 'Room {room}',
    'call.you': '{name} (you)',
    'call.alone': 'Waiting for others to join…',
    'call.participants': '{n} in the room',
    'call.mic.mute': 'Mute microphone',
    'call.mic.unmute': 'Unmute microphone',
    'call.cam.off': 'Turn camera off',
    'call.cam.on': 'Turn camera on',
    'call.leave': 'Leave',
    'call.leaving': 'Leaving…',
    'call.left': 'You left the room.',
    'call.audio.blocked': 'Tap to hear audio',
    'call.muted.audio': 'Microphone off',
    'call.muted.video': 'Camera off',
    'call.no.video': 'No video',
    'call.grid': 'Participants',
    'call.controls': 'Call controls',

    'conn.publish': 'Sending',
    'conn.subscribe': 'Receiving',
    'conn.server': 'server',
    'conn.new': 'Not connected',
    'conn.connecting': 'Connecting',
    'conn.connected': 'Connected',
    'conn.disconnected': 'Disconnected',
    'conn.failed': 'Connection failed',
    'conn.closed': 'Closed',
    'conn.none': '—',

    'banner.close': 'Dismiss message',
    'error.bad-json': 'The server could not read the last message.',
    'error.too-large': 'A message was too large; the connection was closed.',
    'error.unknown-type': 'The server did not recognise this request.',
    'error.invalid-field': 'Invalid input{field}.',
    'error.not-joined': 'You have not joined the room yet.',
    'error.already-joined': 'You are already in the room.',
    'error.bad-sdp': 'Could not set up the audio/video session (invalid SDP).',
    'error.no-codec': 'Your browser offers no codec the server relays (Opus, VP8, H.264).',
    'error.bad-state': 'The call got out of step with the server.',
    'error.room-full': 'The room is full.',
    'error.rate-limited': 'Too many requests; please try again in a moment.',
    'error.unauthorized': 'You are not allowed to join this room.',
    'error.internal': 'The server had a problem. Please try again.',
    'error.unknown': 'Something went wrong ({code}).',
    'error.socket-closed': 'The connection to the server was lost.',
    'error.socket-failed': 'Could not connect to the server.',
    'error.media-denied': 'Camera or microphone unavailable. Please allow access in your browser.',
    'error.media-missing': 'No camera or microphone was found.',
    'error.webrtc': 'Could not set up the audio/video connection.',
    'error.field': ' (field “{field}”)',
  },
};

export const LANGUAGES = Object.keys(STRINGS);
const STORAGE_KEY = 'cau.lang';

export const i18nEvents = new EventTarget();

let current = initialLanguage();

function initialLanguage() {
  const fromUrl = new URLSearchParams(location.search).get('lang');
  if (fromUrl && STRINGS[fromUrl]) {
    remember(fromUrl);
    return fromUrl;
  }
  try {
    const saved = localStorage.getItem(STORAGE_KEY);
    if (saved && STRINGS[saved]) return saved;
  } catch { /* storage may be disabled; fall through */ }
  return 'vi';
}

function remember(lang) {
  try { localStorage.setItem(STORAGE_KEY, lang); } catch { /* not fatal */ }
}

export function getLanguage() {
  return current;
}

export function setLanguage(lang) {
  if (!STRINGS[lang] || lang === current) return;
  current = lang;
  remember(lang);
  applyTranslations(document);
  i18nEvents.dispatchEvent(new Event('languagechange'));
}

/** Translate `key`, replacing {name} placeholders from `params`. Falls back to
 *  Vietnamese, then to the key itself, so a missing string is visible but harmless. */
export function t(key, params = {}) {
  const text = STRINGS[current][key] ?? STRINGS.vi[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (m, name) => (name in params ? String(params[name]) : m));
}

/** The localized text for a server error `code` (docs/protocol.md, "Errors"). */
export function errorText(code, field) {
  const key = `error.${code}`;
  if (!(key in STRINGS.vi)) return t('error.unknown', { code });
  return t(key, { field: field ? t('error.field', { field }) : '' });
}

export function applyTranslations(root) {
  document.documentElement.lang = current;
  document.title = t('app.title');
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll('[data-i18n-aria]')) {
    el.setAttribute('aria-label', t(el.dataset.i18nAria));
  }
  for (const el of root.querySelectorAll('[data-i18n-title]')) el.title = t(el.dataset.i18nTitle);
}
