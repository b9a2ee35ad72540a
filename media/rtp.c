/* rtp.c — RTP header codec and helpers; see rtp.h for the contracts. */
#include "rtp.h"

#include <string.h>

#include "byte-order.h"

MediaPacketClass
media_packet_classify (const uint8_t *buf, size_t len)
{
  if (buf == NULL || len == 0)
    return MEDIA_PACKET_UNKNOWN;

  uint8_t b0 = buf[0];
  /* RFC 7983 §7: the first byte decides the protocol family. */
  if (b0 <= 3)
    return len >= 20 ? MEDIA_PACKET_STUN : MEDIA_PACKET_UNKNOWN; /* RFC 5389 §6 */
  if (b0 >= 20 && b0 <= 63)
    return len >= 13 ? MEDIA_PACKET_DTLS : MEDIA_PACKET_UNKNOWN; /* RFC 6347 §4.1 */
  if (b0 >= 128 && b0 <= 191) {
    if (len < 2)
      return MEDIA_PACKET_UNKNOWN;
    /* RFC 5761 §4: RTCP packet types 192..223 never collide with RTP
     * payload types once the marker bit is included. */
    if (buf[1] >= 192 && buf[1] <= 223)
      return len >= 8 ? MEDIA_PACKET_RTCP : MEDIA_PACKET_UNKNOWN;
    return len >= RTP_FIXED_HEADER_LEN ? MEDIA_PACKET_RTP : MEDIA_PACKET_UNKNOWN;
  }
  return MEDIA_PACKET_UNKNOWN;
}

bool
rtp_parse (const uint8_t *buf, size_t len, RtpHeader *out)
{
  if (buf == NULL || out == NULL || len < RTP_FIXED_HEADER_LEN)
    return false;

  /* RFC 3550 §5.1 fixed header. */
  RtpHeader h = { 0 };
  h.version = buf[0] >> 6;
  if (h.version != 2)
    return false;
  h.padding = (buf[0] & 0x20) != 0;
  h.extension = (buf[0] & 0x10) != 0;
  h.csrc_count = buf[0] & 0x0f;
  h.marker = (buf[1] & 0x80) != 0;
  h.payload_type = buf[1] & 0x7f;
  h.seq = rd16 (buf + 2);
  h.timestamp = rd32 (buf + 4);
  h.ssrc = rd32 (buf + 8);

  size_t off = RTP_FIXED_HEADER_LEN + 4u * h.csrc_count;
  if (off > len)
    return false;

  /* RFC 3550 §5.3.1: 16-bit profile, 16-bit length in 32-bit words. */
  if (h.extension) {
    if (len - off < 4)
      return false;
    h.ext_profile = rd16 (buf + off);
    size_t ext_words = rd16 (buf + off + 2);
    off += 4;
    if (ext_words * 4 > len - off)
      return false;
    h.ext_offset = off;
    h.ext_len = ext_words * 4;
    off += h.ext_len;
  }
  h.header_len = off;

  /* RFC 3550 §5.1 P bit: the last octet counts the padding, itself included. */
  size_t pad = 0;
  if (h.padding) {
    if (len == off)
      return false;
    pad = buf[len - 1];
    if (pad == 0 || pad > len - off)
      return false;
  }
  h.payload_offset = off;
  h.payload_len = len - off - pad;
  *out = h;
  return true;
}

void
rtp_set_ssrc (uint8_t *buf, uint32_t ssrc)
{
  wr32 (buf + 8, ssrc);
}

void
rtp_set_seq (uint8_t *buf, uint16_t seq)
{
  wr16 (buf + 2, seq);
}

void
rtp_set_timestamp (uint8_t *buf, uint32_t ts)
{
  wr32 (buf + 4, ts);
}

void
rtp_set_payload_type (uint8_t *buf, uint8_t pt)
{
  buf[1] = (uint8_t) ((buf[1] & 0x80) | (pt & 0x7f));
}

void
rtp_set_marker (uint8_t *buf, bool marker)
{
  buf[1] = (uint8_t) ((buf[1] & 0x7f) | (marker ? 0x80 : 0));
}

bool
rtp_find_extension (const uint8_t *buf, const RtpHeader *h, uint8_t id,
                    const uint8_t **data, size_t *len)
{
  if (buf == NULL || h == NULL || !h->extension || id == 0)
    return false;

  const uint8_t *p = buf + h->ext_offset;
  size_t n = h->ext_len, i = 0;

  if (h->ext_profile == 0xBEDE) {
    /* RFC 8285 §4.2 one-byte header: ID(4) L(4), L+1 data bytes. */
    if (id > 14)
      return false;
    while (i < n) {
      uint8_t eid = p[i] >> 4;
      size_t elen = (size_t) (p[i] & 0x0f) + 1;
      if (eid == 0) {          /* padding byte; its L must be 0 */
        i++;
        continue;
      }
      if (eid == 15)           /* reserved: stop processing (§4.2) */
        return false;
      i++;
      if (elen > n - i)
        return false;
      if (eid == id) {
        if (data)
          *data = p + i;
        if (len)
          *len = elen;
        return true;
      }
      i += elen;
    }
    return false;
  }

  if ((h->ext_profile & 0xfff0) == 0x1000) {
    /* RFC 8285 §4.3 two-byte header: ID(8) length(8), then data. */
    while (i < n) {
      uint8_t eid = p[i];
      if (eid == 0) {          /* padding byte */
        i++;
        continue;
      }
      if (n - i < 2)
        return false;
      size_t elen = p[i + 1];
      i += 2;
      if (elen > n - i)
        return false;
      if (eid == id) {
        if (data)
          *data = p + i;
        if (len)
          *len = elen;
        return true;
      }
      i += elen;
    }
    return false;
  }

  return false;
}

bool
rtp_vp8_is_keyframe (const uint8_t *payload, size_t len)
{
  if (payload == NULL || len < 1)
    return false;

  /* RFC 7741 §4.2 payload descriptor: X R N S R PID(3). */
  uint8_t b0 = payload[0];
  bool start = (b0 & 0x10) != 0;
  uint8_t pid = b0 & 0x07;
  if (!start || pid != 0)
    return false;

  size_t off = 1;
  if (b0 & 0x80) {
    /* X: I L T K RSV(4) */
    if (len < 2)
      return false;
    uint8_t x = payload[1];
    off = 2;
    if (x & 0x80) {            /* I: PictureID, 7 or 15 bits (M bit) */
      if (off >= len)
        return false;
      off += (payload[off] & 0x80) ? 2 : 1;
    }
    if (x & 0x40)              /* L: TL0PICIDX */
      off += 1;
    if (x & 0x30)              /* T or K: TID|Y|KEYIDX */
      off += 1;
  }

  /* RFC 7741 §4.3 / RFC 6386 §9.1: 3-byte frame tag, P (bit 0) = 0 for a
   * key frame, followed on key frames by the start code 9d 01 2a. */
  if (off > len || len - off < 6)
    return false;
  const uint8_t *vp8 = payload + off;
  if (vp8[0] & 0x01)
    return false;
  return vp8[3] == 0x9d && vp8[4] == 0x01 && vp8[5] == 0x2a;
}

static bool
h264_nal_is_key (uint8_t nal_type)
{
  return nal_type == 5 || nal_type == 7; /* IDR slice, SPS (H.264 Table 7-1) */
}

bool
rtp_h264_is_keyframe (const uint8_t *payload, size_t len)
{
  if (payload == NULL || len < 1)
    return false;

  uint8_t type = payload[0] & 0x1f;
  if (type >= 1 && type <= 23)        /* RFC 6184 §5.6 single NAL unit */
    return h264_nal_is_key (type);

  if (type == 24) {                   /* RFC 6184 §5.7.1 STAP-A */
    size_t off = 1;
    while (len - off >= 2) {
      size_t nalu_size = rd16 (payload + off);
      off += 2;
      if (nalu_size == 0 || nalu_size > len - off)
        return false;
      if (h264_nal_is_key (payload[off] & 0x1f))
        return true;
      off += nalu_size;
    }
    return false;
  }

  if (type == 28) {                   /* RFC 6184 §5.8 FU-A */
    if (len < 2)
      return false;
    uint8_t fu = payload[1];          /* S E R Type(5) */
    return (fu & 0x80) && h264_nal_is_key (fu & 0x1f);
  }

  /* STAP-B, MTAP, FU-B belong to interleaved mode, which WebRTC never
   * negotiates (packetization-mode 0 or 1). */
  return false;
}

/* ---- rewriter ------------------------------------------------------------ */

/* Once the newest input seq is this far past the current source's first
 * seq, serial comparison against it would soon be ambiguous; by then no
 * reordered packet from before the switch can still be in flight. */
#define REWRITER_BASE_HORIZON 0x4000

void
rtp_rewriter_init (RtpRewriter *rw, uint32_t ssrc_out)
{
  *rw = (RtpRewriter) { 0 };
  rw->ssrc_out = ssrc_out;
  rw->switch_ts_step = 1;
}

void
rtp_rewriter_switch_source (RtpRewriter *rw)
{
  rtp_rewriter_switch_source_with_step (rw, 1);
}

void
rtp_rewriter_switch_source_with_step (RtpRewriter *rw, uint32_t ts_step)
{
  rw->switching = true;
  rw->switch_ts_step = ts_step ? ts_step : 1;
}

bool
rtp_rewriter_apply (RtpRewriter *rw, uint8_t *buf, const RtpHeader *h)
{
  uint16_t seq_in = h->seq;
  uint32_t ts_in = h->timestamp;

  if (!rw->started || rw->switching) {
    if (!rw->started) {
      rw->seq_offset = 0;
      rw->ts_offset = 0;
    } else {
      rw->seq_offset = (uint16_t) (rw->last_seq_out + 1u - seq_in);
      rw->ts_offset = rw->last_ts_out + rw->switch_ts_step - ts_in;
    }
    rw->started = true;
    rw->switching = false;
    rw->switch_ts_step = 1;
    rw->base_seq_in = seq_in;
    rw->base_active = true;
    rw->last_seq_in = seq_in;
    rw->last_ts_in = ts_in;
    rw->last_seq_out = (uint16_t) (seq_in + rw->seq_offset);
    rw->last_ts_out = ts_in + rw->ts_offset;
  } else if (rtp_seq_newer (seq_in, rw->last_seq_in)) {
    rw->last_seq_in = seq_in;
    rw->last_ts_in = ts_in;
    rw->last_seq_out = (uint16_t) (seq_in + rw->seq_offset);
    rw->last_ts_out = ts_in + rw->ts_offset;
    if (rw->base_active &&
        (uint16_t) (seq_in - rw->base_seq_in) >= REWRITER_BASE_HORIZON)
      rw->base_active = false;
  } else {
    /* Reordered or duplicate: how far behind the newest input? */
    uint16_t behind = (uint16_t) (rw->last_seq_in - seq_in);
    if (behind >= 0x8000)
      return false;
    if (rw->base_active &&
        behind > (uint16_t) (rw->last_seq_in - rw->base_seq_in))
      return false;            /* before the switch point */
  }

  rtp_set_ssrc (buf, rw->ssrc_out);
  rtp_set_seq (buf, (uint16_t) (seq_in + rw->seq_offset));
  rtp_set_timestamp (buf, ts_in + rw->ts_offset);
  return true;
}

/* ---- VP8 payload descriptor continuity ------------------------------------ */

void
rtp_vp8_rewriter_init (RtpVp8Rewriter *rw)
{
  memset (rw, 0, sizeof *rw);
}

void
rtp_vp8_rewriter_switch_source (RtpVp8Rewriter *rw)
{
  rw->switching = true;
}

/* RFC 7741 §4.2:
 *   byte 0: X R N S R PID(3)
 *   X=1 → byte: I L T K RSV(4)
 *   I=1 → PictureID: M=0: 7 bits; M=1: 15 bits (two bytes)
 *   L=1 → TL0PICIDX (one byte)
 *   T|K → TID(2) Y KEYIDX(5) (one byte, not rewritten) */
bool
rtp_vp8_rewriter_apply (RtpVp8Rewriter *rw, uint8_t *payload, size_t len)
{
  size_t off = 1;
  uint8_t x_byte;
  uint8_t *pid_ptr = NULL, *tl0_ptr = NULL;
  bool long_pid = false;
  uint16_t pid_in = 0, pid_out;
  uint8_t tl0_in = 0;

  if (len < 1)
    return false;
  if (!(payload[0] & 0x80))
    return true;                       /* no extension: nothing to carry */
  if (len < 2)
    return false;
  x_byte = payload[1];
  off = 2;
  if (x_byte & 0x80) {                 /* I: PictureID */
    if (len < off + 1)
      return false;
    long_pid = (payload[off] & 0x80) != 0;
    if (long_pid) {
      if (len < off + 2)
        return false;
      pid_in = (uint16_t) (((payload[off] & 0x7f) << 8) | payload[off + 1]);
      pid_ptr = payload + off;
      off += 2;
    } else {
      pid_in = payload[off] & 0x7f;
      pid_ptr = payload + off;
      off += 1;
    }
  }
  if (x_byte & 0x40) {                 /* L: TL0PICIDX */
    if (len < off + 1)
      return false;
    tl0_in = payload[off];
    tl0_ptr = payload + off;
    off += 1;
  }
  if (x_byte & 0x30) {                 /* T or K: TID/Y/KEYIDX */
    if (len < off + 1)
      return false;
  }

  if (!rw->started || rw->switching) {
    if (rw->started && rw->have_picture_id && pid_ptr != NULL)
      rw->picture_id_offset = (uint16_t) ((rw->last_picture_id_out + 1u - pid_in) & 0x7fff);
    else if (!rw->started)
      rw->picture_id_offset = 0;
    if (rw->started && rw->have_tl0 && tl0_ptr != NULL)
      rw->tl0_offset = (uint8_t) (rw->last_tl0_out + 1u - tl0_in);
    else if (!rw->started)
      rw->tl0_offset = 0;
    rw->started = true;
    rw->switching = false;
  }

  if (pid_ptr != NULL) {
    if (long_pid) {
      pid_out = (uint16_t) ((pid_in + rw->picture_id_offset) & 0x7fff);
      pid_ptr[0] = (uint8_t) (0x80 | (pid_out >> 8));
      pid_ptr[1] = (uint8_t) (pid_out & 0xff);
    } else {
      pid_out = (uint16_t) ((pid_in + rw->picture_id_offset) & 0x7f);
      pid_ptr[0] = (uint8_t) pid_out;
    }
    /* Newer (mod 2^15) or the first: remember for the next switch. */
    if (!rw->have_picture_id ||
        ((uint16_t) (pid_out - rw->last_picture_id_out) & 0x7fff) < 0x4000) {
      rw->last_picture_id_out = pid_out;
      rw->have_picture_id = true;
    }
  }
  if (tl0_ptr != NULL) {
    uint8_t tl0_out = (uint8_t) (tl0_in + rw->tl0_offset);

    *tl0_ptr = tl0_out;
    if (!rw->have_tl0 || (uint8_t) (tl0_out - rw->last_tl0_out) < 0x80) {
      rw->last_tl0_out = tl0_out;
      rw->have_tl0 = true;
    }
  }
  return true;
}
