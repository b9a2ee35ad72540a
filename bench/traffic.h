/* traffic.h — synthetic media for the load generator, and what a receiver
 * counts.  Plain C over byte buffers (STYLE.md §1): no GLib, no I/O.
 *
 * Every payload ends with a 16-byte stamp: "CAUB", the sender's monotonic
 * clock in µs (big endian, 8 bytes) and the publisher's own packet counter
 * (4 bytes).  It sits at the end so that the VP8 descriptor and frame tag
 * at the start stay what a real encoder writes (the server rewrites
 * PictureID in place; it never touches the tail). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TRAFFIC_STAMP_LEN 16
#define TRAFFIC_MAX_PAYLOAD 1200          /* per RTP packet, as browsers do */
#define TRAFFIC_VIDEO_PT 96
#define TRAFFIC_AUDIO_PT 111

/* ---- sending ------------------------------------------------------------ */

#define TRAFFIC_MAX_EXT 16

typedef struct {
  uint32_t ssrc;
  uint16_t seq;
  uint32_t timestamp;
  uint16_t picture_id;      /* VP8, 15 bits */
  uint32_t counter;         /* packets written, goes into the stamp */
  /* RTP header extension block written after the fixed header (X=1), as
   * traffic_stream_set_sdes() builds it; ext_len 0: none. */
  uint8_t ext[TRAFFIC_MAX_EXT];
  size_t ext_len;
  /* Written as the payload's byte just before the stamp when not 0, so
   * that a receiver that decrypts a packet can tell which simulcast layer
   * it came from (traffic_read_tag); see traffic_stream_set_tag. */
  uint8_t tag;
} TrafficStream;

void traffic_stream_init (TrafficStream *s, uint32_t ssrc, uint16_t first_seq,
                          uint32_t first_ts);

/* Puts an RFC 8285 §4.2 one-byte-header extension block on every packet of
 * @s: the RFC 8843 §15 sdes:mid element (@mid_id, @mid) and the RFC 8852
 * sdes:rtp-stream-id element (@rid_id, @rid), as a browser's simulcast
 * encodings carry them; an id of 0 leaves that element out.  Ids 1..14,
 * values 1..4 characters.  False (nothing changed) otherwise. */
bool traffic_stream_set_sdes (TrafficStream *s, uint8_t mid_id, const char *mid, uint8_t rid_id,
                              const char *rid);

/* Marks @s's packets with layer @layer (0..15): see TrafficStream.tag.
 * For video streams (an Opus packet of the minimum size would lose its TOC
 * byte to the tag). */
void traffic_stream_set_tag (TrafficStream *s, unsigned layer);

/* The layer written by traffic_stream_set_tag() into a (decrypted) RTP
 * packet of @len bytes that carries a stamp, or -1 when it carries none. */
int traffic_read_tag (const uint8_t *rtp, size_t len);

/* Writes packet @index (0-based) of @n_packets of one VP8 frame of
 * @frame_bytes payload bytes in total into @buf (capacity >= 12 +
 * TRAFFIC_MAX_PAYLOAD) and returns its length.  RFC 7741 §4.2 descriptor
 * with a 15-bit PictureID (S=1 on the first packet), on the first packet of
 * a key frame the RFC 6386 §9.1 frame tag with P=0 and the 9d 01 2a start
 * code (so rtp_vp8_is_keyframe() matches), marker on the last packet.  The
 * stream's seq advances per packet; call traffic_stream_end_frame() after
 * the last to advance the timestamp by @ts_step and the PictureID. */
size_t traffic_write_vp8 (TrafficStream *s, uint8_t *buf, bool keyframe, size_t frame_bytes,
                          unsigned index, unsigned n_packets, uint64_t now_us);
void traffic_stream_end_frame (TrafficStream *s, uint32_t ts_step);

/* Packets one frame of @frame_bytes needs. */
unsigned traffic_vp8_packet_count (size_t frame_bytes);

/* One Opus-shaped packet (TOC byte, filler, stamp) of @payload_bytes
 * (>= TRAFFIC_STAMP_LEN + 1); timestamp advances by @ts_step. */
size_t traffic_write_opus (TrafficStream *s, uint8_t *buf, size_t payload_bytes,
                           uint32_t ts_step, uint64_t now_us);

/* Reads the stamp at the end of a decrypted RTP packet.  False when the
 * packet is too short or the magic is absent. */
bool traffic_read_stamp (const uint8_t *rtp, size_t len, uint64_t *sent_us,
                         uint32_t *counter);

/* ---- pacing --------------------------------------------------------------- */

/* A leaky-bucket pacer modelled on libwebrtc's PacingController
 * (modules/pacing/pacing_controller.{h,cc}): media "debt" grows by each
 * packet sent and drains at the pacing rate; a packet may go while the debt
 * drains in less than the burst interval, so after a quiet spell up to
 * burst × rate bytes (plus one packet) leave back-to-back, then one packet
 * per size / rate.  libwebrtc paces at 2.5 × the target bitrate (goog_cc's
 * pacing factor) with a 40 ms burst interval (PacingController::
 * kDefaultBurstInterval; releases before 2023 processed every 5 ms and sent
 * 5 ms of budget each time, kDefaultMinPacketLimit).  Audio is not paced
 * there, and is not paced here. */
typedef struct {
  double rate_bytes_per_us;  /* 0: no pacing, every packet may go at once */
  int64_t burst_us;
  double debt_bytes;
  int64_t last_us;
} TrafficPacer;

void traffic_pacer_init (TrafficPacer *p, double rate_bps, int64_t burst_us);
/* Drains the debt for the time since the last call (the first call only
 * starts the clock). */
void traffic_pacer_update (TrafficPacer *p, int64_t now_us);
/* Whether one more packet may be sent now. */
bool traffic_pacer_can_send (const TrafficPacer *p);
void traffic_pacer_sent (TrafficPacer *p, size_t bytes);

/* ---- receiving ---------------------------------------------------------- */

/* Per incoming SSRC.  Loss and reordering from the RTP sequence number only
 * (RFC 3550 §A.1 extended sequence numbers), so the SRTP packet need not be
 * decrypted. */
typedef struct {
  uint32_t ssrc;
  bool started;
  uint64_t max_ext;         /* highest extended seq seen */
  /* the measured window */
  bool window_open;
  bool window_started;
  uint64_t window_base;     /* first extended seq in the window */
  uint64_t window_received;
  uint64_t window_bytes;
  uint64_t window_reordered;
  uint64_t total_received;
  uint32_t since_unprotect; /* packets since the receiver last decrypted one */
} TrafficRecvStream;

void traffic_recv_init (TrafficRecvStream *r, uint32_t ssrc);
/* Accounts one packet with sequence number @seq and wire length @len. */
void traffic_recv_packet (TrafficRecvStream *r, uint16_t seq, size_t len);
/* Starts counting a window at the next packet. */
void traffic_recv_window_begin (TrafficRecvStream *r);
/* Packets expected in the window (highest - first + 1), 0 if none came. */
uint64_t traffic_recv_window_expected (const TrafficRecvStream *r);

/* ---- latency histogram: 0.1 ms buckets up to 1 s, then one overflow ---- */

#define TRAFFIC_HIST_BUCKETS 10001

typedef struct {
  uint32_t buckets[TRAFFIC_HIST_BUCKETS];
  uint64_t count;
} TrafficHistogram;

void traffic_hist_reset (TrafficHistogram *h);
void traffic_hist_add (TrafficHistogram *h, int64_t latency_us);
/* The @q quantile (0..1) in ms (bucket upper bound); -1 when empty. */
double traffic_hist_quantile (const TrafficHistogram *h, double q);
