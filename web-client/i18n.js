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

    'nav.label': 'Điều hướng',
    'nav.worklist': 'Lịch hôm nay',
    'nav.patients': 'Bệnh nhân',
    'nav.schedule': 'Đặt lịch',
    'nav.logout': 'Đăng xuất',
    'nav.user': '{name} · {role}',

    'role.clinician': 'Bác sĩ tuyến huyện',
    'role.specialist': 'Chuyên gia',
    'role.nurse': 'Điều dưỡng',
    'role.administrator': 'Quản trị',
    'role.auditor': 'Kiểm toán',

    'login.heading': 'Đăng nhập',
    'login.username': 'Tên đăng nhập',
    'login.password': 'Mật khẩu',
    'login.submit': 'Đăng nhập',
    'login.busy': 'Đang đăng nhập…',
    'login.missing': 'Hãy nhập tên đăng nhập và mật khẩu.',
    'login.patient.hint': 'Vào phòng bằng mã phòng',
    'login.expired': 'Phiên đăng nhập đã hết hạn. Vui lòng đăng nhập lại.',
    'login.loggedout': 'Bạn đã đăng xuất.',

    'worklist.heading': 'Lịch hội chẩn hôm nay',
    'worklist.schedule': 'Đặt lịch hội chẩn',
    'worklist.refresh': 'Làm mới',
    'worklist.loading': 'Đang tải…',
    'worklist.empty': 'Hôm nay chưa có buổi hội chẩn nào.',
    'worklist.count': '{n} buổi hội chẩn',
    'worklist.join': 'Vào phòng',
    'worklist.chart': 'Hồ sơ',

    'status.planned': 'Đã lên lịch',
    'status.arrived': 'Bệnh nhân đang chờ',
    'status.in-progress': 'Đang diễn ra',
    'status.finished': 'Đã kết thúc',
    'status.cancelled': 'Đã huỷ',

    'patients.heading': 'Bệnh nhân',
    'patients.new': 'Thêm bệnh nhân',
    'patients.search.label': 'Tìm theo tên, CCCD hoặc số thẻ BHYT',
    'patients.search.hint': 'Ví dụ: Nguyễn Thị Hoa, 038185001234 hoặc DN4380123456789',
    'patients.search.submit': 'Tìm',
    'patients.results': 'Kết quả tìm kiếm',
    'patients.loading': 'Đang tìm…',
    'patients.empty': 'Không tìm thấy bệnh nhân nào.',
    'patients.count': 'Tìm thấy {n} bệnh nhân',
    'patients.born': 'Sinh {date}',

    'patient.name': 'Họ và tên',
    'patient.cccd': 'Số CCCD',
    'patient.cccd.hint': '12 chữ số: mã tỉnh (3 số), thế kỷ và giới tính (1 số), năm sinh (2 số), 6 số ngẫu nhiên',
    'patient.bhyt': 'Số thẻ BHYT',
    'patient.bhyt.optional': 'Số thẻ BHYT (nếu có)',
    'patient.bhyt.hint': '15 ký tự: mã đối tượng (2 chữ cái), mức hưởng (1–5), mã tỉnh (2 số), mã số BHXH (10 số)',
    'patient.birth_date': 'Ngày sinh',
    'patient.sex': 'Giới tính',
    'patient.phone': 'Điện thoại',
    'patient.phone.optional': 'Điện thoại (nếu có)',
    'patient.address': 'Địa chỉ',
    'patient.address.optional': 'Địa chỉ (nếu có)',
    'patient.new.heading': 'Thêm bệnh nhân',
    'patient.new.submit': 'Lưu hồ sơ',
    'patient.saving': 'Đang lưu…',
    'patient.created': 'Đã lưu hồ sơ bệnh nhân.',
    'patient.fix': 'Hãy sửa các trường được đánh dấu.',
    'patient.invalid.name': 'Hãy nhập họ và tên.',
    'patient.invalid.cccd': 'Số CCCD gồm đúng 12 chữ số.',
    'patient.invalid.bhyt': 'Số thẻ BHYT gồm 2 chữ cái, 1 số từ 1–5 và 12 chữ số.',
    'patient.invalid.birth_date': 'Hãy chọn ngày sinh.',
    'patient.none': '—',

    'sex.male': 'Nam',
    'sex.female': 'Nữ',
    'sex.other': 'Khác',
    'sex.unknown': 'Không rõ',

    'chart.schedule': 'Đặt lịch hội chẩn',
    'chart.loading': 'Đang tải hồ sơ…',
    'chart.identity': 'Thông tin hành chính',
    'chart.consultations': 'Các lần hội chẩn',
    'chart.consultations.empty': 'Chưa có lần hội chẩn nào.',
    'chart.consents': 'Đồng ý của bệnh nhân',
    'chart.consents.empty': 'Chưa ghi nhận đồng ý nào.',

    'consent.method': 'Hình thức',
    'consent.grant': 'Ghi nhận đồng ý ghi hình',
    'consent.withdraw': 'Ghi nhận rút lại đồng ý',
    'consent.recording.granted': 'Ghi hình: bệnh nhân đã đồng ý ({method}, {at}).',
    'consent.recording.withdrawn': 'Ghi hình: bệnh nhân không đồng ý ({method}, {at}).',
    'consent.recording.none': 'Ghi hình: chưa hỏi ý kiến bệnh nhân.',
    'consent.saved': 'Đã ghi nhận.',
    'consent.row.granted': '{purpose}: đồng ý',
    'consent.row.withdrawn': '{purpose}: không đồng ý',
    'consent.row.detail': '{method} · {at}',
    'purpose.recording': 'Ghi hình',
    'purpose.sharing': 'Chia sẻ dữ liệu',
    'purpose.treatment': 'Điều trị',
    'method.verbal': 'Bằng lời',
    'method.written': 'Bằng văn bản',
    'method.electronic': 'Điện tử',

    'consult.reason': 'Lý do: {reason}',
    'consult.invite': 'Sao chép liên kết cho bệnh nhân',
    'consult.invite.busy': 'Đang tạo liên kết…',
    'consult.invite.label': 'Liên kết mời bệnh nhân',
    'consult.invite.copied': 'Đã sao chép liên kết. Hiệu lực đến {at}.',
    'consult.invite.ready': 'Hãy sao chép liên kết này. Hiệu lực đến {at}.',

    'schedule.heading': 'Đặt lịch hội chẩn',
    'schedule.patient': 'Bệnh nhân',
    'schedule.patient.hint': 'Tìm theo tên, CCCD hoặc số thẻ BHYT rồi chọn.',
    'schedule.patient.change': 'Đổi bệnh nhân',
    'schedule.patient.pick': 'Chọn {name}',
    'schedule.date': 'Ngày',
    'schedule.time': 'Giờ',
    'schedule.reason': 'Lý do hội chẩn',
    'schedule.specialists': 'Mời chuyên gia',
    'schedule.specialists.none': 'Không có chuyên gia nào để mời.',
    'schedule.submit': 'Đặt lịch',
    'schedule.saving': 'Đang đặt lịch…',
    'schedule.created': 'Đã đặt lịch hội chẩn.',
    'schedule.invalid.patient_id': 'Hãy chọn bệnh nhân.',
    'schedule.invalid.scheduled_at': 'Hãy chọn ngày và giờ.',
    'schedule.invalid.reason': 'Hãy nhập lý do hội chẩn.',

    'pj.heading': 'Buổi khám trực tuyến của bạn',
    'pj.who': '{name} · hẹn lúc {at}',
    'pj.checking': 'Đang kiểm tra liên kết…',
    'pj.connecting': 'Đang kết nối…',
    'pj.waiting': 'Vui lòng chờ bác sĩ cho bạn vào phòng.',
    'pj.left': 'Bạn đã rời buổi khám.',
    'pj.retry': 'Thử lại',
    'pj.leave': 'Rời phòng chờ',

    'lobby.heading': 'Phòng chờ',
    'lobby.admit': 'Cho vào',
    'lobby.deny': 'Từ chối',
    'lobby.admit.aria': 'Cho {name} vào phòng',
    'lobby.deny.aria': 'Từ chối {name}',
    'lobby.arrived': '{name} đang chờ vào phòng.',
    'lobby.patient': 'Bệnh nhân',
    'call.consultation': 'Hội chẩn: {name}',
    'call.consultation.plain': 'Buổi hội chẩn',

    'error.invalid-credentials': 'Tên đăng nhập hoặc mật khẩu không đúng.',
    'error.account-locked': 'Tài khoản tạm khoá do nhập sai nhiều lần. Hãy thử lại sau {minutes} phút.',
    'error.unauthenticated': 'Bạn cần đăng nhập.',
    'error.token-invalid': 'Phiên đăng nhập không hợp lệ. Vui lòng đăng nhập lại.',
    'error.token-expired': 'Phiên đăng nhập đã hết hạn. Vui lòng đăng nhập lại.',
    'error.token-revoked': 'Phiên đăng nhập đã kết thúc. Vui lòng đăng nhập lại.',
    'error.forbidden': 'Bạn không có quyền thực hiện việc này.',
    'error.not-found': 'Không tìm thấy.',
    'error.conflict': 'Dữ liệu trùng với một hồ sơ đã có{field}.',
    'error.invalid-cccd': 'Số CCCD không hợp lệ.',
    'error.invalid-bhyt': 'Số thẻ BHYT không hợp lệ.',
    'error.invitation-not-found': 'Liên kết mời không tồn tại. Hãy hỏi lại cơ sở y tế.',
    'error.invitation-expired': 'Liên kết mời đã hết hạn. Hãy xin liên kết mới.',
    'error.invitation-revoked': 'Liên kết mời đã bị thu hồi.',
    'error.admission-denied': 'Bác sĩ chưa cho bạn vào phòng lúc này.',
    'error.replaced': 'Liên kết này vừa được mở ở nơi khác; kết nối ở đây đã đóng.',
    'error.network': 'Không kết nối được tới máy chủ.',
    'error.not-in-lobby': 'Người này không còn ở phòng chờ.',
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

    'nav.label': 'Navigation',
    'nav.worklist': 'Today',
    'nav.patients': 'Patients',
    'nav.schedule': 'Schedule',
    'nav.logout': 'Log out',
    'nav.user': '{name} · {role}',

    'role.clinician': 'District clinician',
    'role.specialist': 'Specialist',
    'role.nurse': 'Nurse',
    'role.administrator': 'Administrator',
    'role.auditor': 'Auditor',

    'login.heading': 'Log in',
    'login.username': 'Username',
    'login.password': 'Password',
    'login.submit': 'Log in',
    'login.busy': 'Logging in…',
    'login.missing': 'Please enter your username and password.',
    'login.patient.hint': 'Join a room with a room code',
    'login.expired': 'Your session has expired. Please log in again.',
    'login.loggedout': 'You have logged out.',

    'worklist.heading': "Today's consultations",
    'worklist.schedule': 'Schedule a consultation',
    'worklist.refresh': 'Refresh',
    'worklist.loading': 'Loading…',
    'worklist.empty': 'No consultations today.',
    'worklist.count': '{n} consultation(s)',
    'worklist.join': 'Join',
    'worklist.chart': 'Chart',

    'status.planned': 'Scheduled',
    'status.arrived': 'Patient waiting',
    'status.in-progress': 'In progress',
    'status.finished': 'Finished',
    'status.cancelled': 'Cancelled',

    'patients.heading': 'Patients',
    'patients.new': 'New patient',
    'patients.search.label': 'Search by name, CCCD or BHYT number',
    'patients.search.hint': 'For example: Nguyễn Thị Hoa, 038185001234 or DN4380123456789',
    'patients.search.submit': 'Search',
    'patients.results': 'Search results',
    'patients.loading': 'Searching…',
    'patients.empty': 'No patients found.',
    'patients.count': '{n} patient(s) found',
    'patients.born': 'Born {date}',

    'patient.name': 'Full name',
    'patient.cccd': 'CCCD (citizen ID)',
    'patient.cccd.hint': '12 digits: province code (3), century and sex (1), birth year (2), 6 random digits',
    'patient.bhyt': 'BHYT (health insurance) number',
    'patient.bhyt.optional': 'BHYT (health insurance) number, if any',
    'patient.bhyt.hint': '15 characters: beneficiary code (2 letters), benefit level (1–5), province code (2 digits), social-insurance number (10 digits)',
    'patient.birth_date': 'Date of birth',
    'patient.sex': 'Sex',
    'patient.phone': 'Phone',
    'patient.phone.optional': 'Phone, if any',
    'patient.address': 'Address',
    'patient.address.optional': 'Address, if any',
    'patient.new.heading': 'New patient',
    'patient.new.submit': 'Save record',
    'patient.saving': 'Saving…',
    'patient.created': 'Patient record saved.',
    'patient.fix': 'Please correct the marked fields.',
    'patient.invalid.name': 'Please enter the full name.',
    'patient.invalid.cccd': 'A CCCD number has exactly 12 digits.',
    'patient.invalid.bhyt': 'A BHYT number has 2 letters, a digit 1–5 and 12 digits.',
    'patient.invalid.birth_date': 'Please choose the date of birth.',
    'patient.none': '—',

    'sex.male': 'Male',
    'sex.female': 'Female',
    'sex.other': 'Other',
    'sex.unknown': 'Unknown',

    'chart.schedule': 'Schedule a consultation',
    'chart.loading': 'Loading the chart…',
    'chart.identity': 'Identity',
    'chart.consultations': 'Consultations',
    'chart.consultations.empty': 'No consultations yet.',
    'chart.consents': 'Consents',
    'chart.consents.empty': 'No consent recorded yet.',

    'consent.method': 'How it was given',
    'consent.grant': 'Record consent to recording',
    'consent.withdraw': 'Record withdrawal of consent',
    'consent.recording.granted': 'Recording: the patient consented ({method}, {at}).',
    'consent.recording.withdrawn': 'Recording: the patient did not consent ({method}, {at}).',
    'consent.recording.none': 'Recording: the patient has not been asked yet.',
    'consent.saved': 'Recorded.',
    'consent.row.granted': '{purpose}: granted',
    'consent.row.withdrawn': '{purpose}: withdrawn',
    'consent.row.detail': '{method} · {at}',
    'purpose.recording': 'Recording',
    'purpose.sharing': 'Data sharing',
    'purpose.treatment': 'Treatment',
    'method.verbal': 'Verbal',
    'method.written': 'Written',
    'method.electronic': 'Electronic',

    'consult.reason': 'Reason: {reason}',
    'consult.invite': 'Copy patient invitation link',
    'consult.invite.busy': 'Creating the link…',
    'consult.invite.label': 'Patient invitation link',
    'consult.invite.copied': 'Link copied. Valid until {at}.',
    'consult.invite.ready': 'Copy this link. Valid until {at}.',

    'schedule.heading': 'Schedule a consultation',
    'schedule.patient': 'Patient',
    'schedule.patient.hint': 'Search by name, CCCD or BHYT number, then choose.',
    'schedule.patient.change': 'Change patient',
    'schedule.patient.pick': 'Choose {name}',
    'schedule.date': 'Date',
    'schedule.time': 'Time',
    'schedule.reason': 'Reason for the consultation',
    'schedule.specialists': 'Invite specialists',
    'schedule.specialists.none': 'No specialists to invite.',
    'schedule.submit': 'Schedule',
    'schedule.saving': 'Scheduling…',
    'schedule.created': 'Consultation scheduled.',
    'schedule.invalid.patient_id': 'Please choose a patient.',
    'schedule.invalid.scheduled_at': 'Please choose a date and time.',
    'schedule.invalid.reason': 'Please enter the reason.',

    'pj.heading': 'Your online consultation',
    'pj.who': '{name} · scheduled {at}',
    'pj.checking': 'Checking your link…',
    'pj.connecting': 'Connecting…',
    'pj.waiting': 'Please wait: the doctor will let you in shortly.',
    'pj.left': 'You left the consultation.',
    'pj.retry': 'Try again',
    'pj.leave': 'Leave the waiting room',

    'lobby.heading': 'Waiting room',
    'lobby.admit': 'Admit',
    'lobby.deny': 'Deny',
    'lobby.admit.aria': 'Admit {name}',
    'lobby.deny.aria': 'Deny {name}',
    'lobby.arrived': '{name} is waiting to join.',
    'lobby.patient': 'Patient',
    'call.consultation': 'Consultation: {name}',
    'call.consultation.plain': 'Consultation',

    'error.invalid-credentials': 'Wrong username or password.',
    'error.account-locked': 'The account is locked after too many failed attempts. Try again in {minutes} minute(s).',
    'error.unauthenticated': 'Please log in.',
    'error.token-invalid': 'Your session is not valid. Please log in again.',
    'error.token-expired': 'Your session has expired. Please log in again.',
    'error.token-revoked': 'Your session has ended. Please log in again.',
    'error.forbidden': 'You are not allowed to do this.',
    'error.not-found': 'Not found.',
    'error.conflict': 'This duplicates an existing record{field}.',
    'error.invalid-cccd': 'The CCCD number is not valid.',
    'error.invalid-bhyt': 'The BHYT number is not valid.',
    'error.invitation-not-found': 'This invitation link does not exist. Please ask your clinic again.',
    'error.invitation-expired': 'This invitation link has expired. Please ask for a new one.',
    'error.invitation-revoked': 'This invitation link was withdrawn.',
    'error.admission-denied': 'The doctor did not let you in at this time.',
    'error.replaced': 'This link was opened somewhere else; this window was disconnected.',
    'error.network': 'Could not reach the server.',
    'error.not-in-lobby': 'This person is no longer in the waiting room.',
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

/** The localized text for a server error `code` (docs/protocol.md and docs/api.md,
 *  "Errors"); `params` fill placeholders such as {minutes}. */
export function errorText(code, field, params = {}) {
  const key = `error.${code}`;
  if (!(key in STRINGS.vi)) return t('error.unknown', { code });
  return t(key, { ...params, field: field ? t('error.field', { field }) : '' });
}

/** True when `key` has a translation. */
export function hasText(key) {
  return key in STRINGS.vi;
}

/** The BCP 47 locale for dates and numbers in the current language. */
export function locale() {
  return current === 'vi' ? 'vi-VN' : 'en-GB';
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
