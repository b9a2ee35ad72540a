/* rtp.h — RTP header codec, RFC 8285 header extensions, key-frame detection,
 * first-byte demultiplexing and per-subscriber SSRC/seq/ts rewriting.
 *
 * Layer: media codec (STYLE.md §1).  Plain C11 over caller-owned byte
 * buffers: no GLib, no I/O, no allocation.  Every function that reads
 * network bytes takes the buffer length and checks it before each read;
 * the writers (rtp_set_*) assume a buffer already accepted by rtp_parse().
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- demultiplexing ---------------------------------------------------- */

typedef enum {
  MEDIA_PACKET_UNKNOWN,
  MEDIA_PACKET_STUN,
  MEDIA_PACKET_DTLS,
  MEDIA_PACKET_RTP,
  MEDIA_PACKET_RTCP,
} MediaPacketClass;

/* Classifies a datagram received on the one ICE 5-tuple.
 *
 * RFC 7983 §7 first-byte ranges: 0..3 STUN (needs the 20-byte STUN header),
 * 20..63 DTLS (needs the 13-byte DTLS record header), 128..191 RTP/RTCP.
 * RTP versus RTCP by RFC 5761 §4: a second byte of 192..223 (RTCP packet
 * types 192..223, i.e. M bit + PT 64..95) is RTCP and needs at least 8
 * bytes; anything else is RTP and needs the 12-byte fixed header.
 * ZRTP (16..19) and TURN channels (64..79) are MEDIA_PACKET_UNKNOWN: the
 * server neither speaks ZRTP nor is a TURN server.  Never reads past @len. */
MediaPacketClass media_packet_classify (const uint8_t *buf, size_t len);

/* ---- RTP header (RFC 3550 §5.1) ----------------------------------------- */

typedef struct {
  uint8_t version;
  bool padding;
  bool extension;
  uint8_t csrc_count;
  bool marker;
  uint8_t payload_type;
  uint16_t seq;
  uint32_t timestamp;
  uint32_t ssrc;
  size_t header_len;           /* fixed + CSRC + extension (header and data) */
  uint16_t ext_profile;        /* 0xBEDE one-byte, 0x100x two-byte; 0 if none */
  size_t ext_offset, ext_len;  /* extension data, after the 4-byte ext header */
  size_t payload_offset, payload_len; /* payload without padding */
} RtpHeader;

#define RTP_FIXED_HEADER_LEN 12

/* Parses the RTP header of @buf (@len bytes) into @out.  Returns false —
 * and leaves @out unspecified — when the version is not 2, the packet is
 * shorter than its fixed header, CSRC list or extension claim, or the
 * padding count (RFC 3550 §5.1 P bit) is 0 or larger than what follows the
 * header.  An empty payload is valid (e.g. padding-only probe packets). */
bool rtp_parse (const uint8_t *buf, size_t len, RtpHeader *out);

/* In-place writers for a packet already accepted by rtp_parse(): the fixed
 * header is known to be 12 bytes long.  rtp_set_payload_type keeps the
 * marker bit. */
void rtp_set_ssrc (uint8_t *buf, uint32_t ssrc);
void rtp_set_seq (uint8_t *buf, uint16_t seq);
void rtp_set_timestamp (uint8_t *buf, uint32_t ts);
void rtp_set_payload_type (uint8_t *buf, uint8_t pt);
void rtp_set_marker (uint8_t *buf, bool marker);

/* RFC 8285 header extensions.  @h must come from rtp_parse() on the same
 * @buf.  Finds the first element with @id (one-byte form §4.2: 1..14;
 * two-byte form §4.3: 1..255) and points *data and *len at its bytes inside
 * @buf.  False when the packet has no RFC 8285 extension block, @id is
 * absent or out of range for the form, or the block is malformed before the
 * element is reached (an element running past the block). */
bool rtp_find_extension (const uint8_t *buf, const RtpHeader *h, uint8_t id,
                         const uint8_t **data, size_t *len);

/* ---- key frames ---------------------------------------------------------- */

/* True only for the first packet of a VP8 key frame: RFC 7741 §4.2 payload
 * descriptor with S=1 and PID=0, then the VP8 payload header (RFC 7741 §4.3,
 * RFC 6386 §9.1) with P=0 (key frame) and the 0x9d 0x01 0x2a start code. */
bool rtp_vp8_is_keyframe (const uint8_t *payload, size_t len);

/* True when an H.264 RTP payload (RFC 6184 §5.6–5.8, non-interleaved mode)
 * carries or starts an IDR slice (type 5) or an SPS (type 7): a single NAL
 * unit, any NAL unit inside a STAP-A (24), or an FU-A (28) with S=1. */
bool rtp_h264_is_keyframe (const uint8_t *payload, size_t len);

/* ---- sequence numbers (RFC 1982 serial arithmetic, RFC 3550 §A.1) -------- */

static inline bool
rtp_seq_newer (uint16_t a, uint16_t b)
{
  return (int16_t) (uint16_t) (a - b) > 0;
}

static inline bool
rtp_ts_newer (uint32_t a, uint32_t b)
{
  return (int32_t) (uint32_t) (a - b) > 0;
}

/* ---- per-subscriber rewriting -------------------------------------------- */

/* A subscriber's outgoing stream keeps its own SSRC and continuous seq/ts
 * even when its source changes (another publisher, another simulcast
 * layer).  out = in + offset (mod 2^16 / 2^32); the offsets are chosen at
 * the first packet of each source.  Plain value type: no allocation, one
 * per outgoing stream, touched only on the room's worker. */
typedef struct {
  uint32_t ssrc_out;
  bool started;
  bool switching;          /* next packet begins a new source */
  uint16_t seq_offset;     /* out = in + offset */
  uint32_t ts_offset;
  uint16_t last_seq_out;   /* highest sent */
  uint32_t last_ts_out;    /* timestamp of the highest sent */
  uint16_t last_seq_in;    /* highest received from the current source */
  uint32_t last_ts_in;
  /* additions to the agreed API */
  uint32_t switch_ts_step; /* ts gap placed at the next switch (>= 1) */
  uint16_t base_seq_in;    /* first seq of the current source */
  bool base_active;        /* base_seq_in still near enough to compare */
} RtpRewriter;

void rtp_rewriter_init (RtpRewriter *rw, uint32_t ssrc_out);

/* The next packet handed to rtp_rewriter_apply() starts a new source: its
 * seq becomes last_seq_out + 1 and its timestamp last_ts_out + 1.  A step
 * of one tick is always monotonic and never wrong about the clock rate; a
 * caller that knows the real elapsed time (e.g. 3000 for one 30 fps frame
 * at 90 kHz, 960 for 20 ms of Opus) should use
 * rtp_rewriter_switch_source_with_step() so that receivers' jitter
 * estimates stay sane. */
void rtp_rewriter_switch_source (RtpRewriter *rw);
void rtp_rewriter_switch_source_with_step (RtpRewriter *rw, uint32_t ts_step);

/* Rewrites SSRC, seq and timestamp of @buf in place (@h from rtp_parse()
 * on @buf).  The very first packet passes seq and ts through unchanged.
 * Reordered packets keep their relative position; both fields wrap.
 * Returns false — the packet must be dropped, nothing was written — for a
 * packet of the current source older than that source's first packet (its
 * output seq would collide with the previous source's), or more than 2^15
 * behind the newest. */
bool rtp_rewriter_apply (RtpRewriter *rw, uint8_t *buf, const RtpHeader *h);


/* ---- VP8 payload descriptor continuity ------------------------------------ */

/* Receivers assemble VP8 frames by PictureID and TL0PICIDX (RFC 7741 §4.2),
 * not only by sequence number: Chromium's reference finder holds back every
 * frame whose PictureID lies "before" the last one it saw on that SSRC.
 * When an outgoing stream switches source, those fields must continue too,
 * as seq and timestamp do.  out = in + offset (PictureID mod 2^15, or 2^7
 * for a 7-bit field; TL0PICIDX mod 2^8). */
typedef struct {
  bool started;
  bool switching;
  uint16_t picture_id_offset;
  uint8_t tl0_offset;
  uint16_t last_picture_id_out;  /* 15-bit */
  uint8_t last_tl0_out;
  bool have_picture_id;
  bool have_tl0;
} RtpVp8Rewriter;

void rtp_vp8_rewriter_init (RtpVp8Rewriter *rw);
/* The next packet starts a new source (call with rtp_rewriter_switch_source). */
void rtp_vp8_rewriter_switch_source (RtpVp8Rewriter *rw);
/* Rewrites PictureID and TL0PICIDX of the VP8 payload at @payload in place.
 * Returns false for a payload too short for the descriptor it announces
 * (the packet should be dropped); a descriptor without those fields is left
 * as it is. */
bool rtp_vp8_rewriter_apply (RtpVp8Rewriter *rw, uint8_t *payload, size_t len);

#ifdef __cplusplus
}
#endif
