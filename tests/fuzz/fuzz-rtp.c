/* fuzz-rtp.c — libFuzzer target for media/rtp.c and media/rtp-stats.c.
 *
 * The input is one datagram: it is classified and parsed; when it parses,
 * every RFC 8285 extension id is looked up and the key-frame detectors run
 * on its payload; the rewriter runs on a writable copy.  The same bytes are
 * then read as a stream of 4-byte records (seq, ts step, op) driving the
 * rewriter, the receiver statistics and the NACK gap detector, whose
 * invariants are checked with __builtin_trap(). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rtp-stats.h"
#include "rtp.h"

#define CHECK(cond) do { if (!(cond)) __builtin_trap (); } while (0)

static volatile uint8_t sink;

static void
touch (const uint8_t *p, size_t n)
{
  uint8_t acc = 0;
  for (size_t i = 0; i < n; i++)
    acc ^= p[i];
  sink = acc;
}

static void
fuzz_packet (const uint8_t *data, size_t size)
{
  (void) media_packet_classify (data, size);
  rtp_vp8_is_keyframe (data, size);
  rtp_h264_is_keyframe (data, size);

  /* VP8 descriptor rewriter on an exact-size copy of the whole input */
  if (size > 0) {
    uint8_t *payload = malloc (size);
    RtpVp8Rewriter vp8;

    memcpy (payload, data, size);
    rtp_vp8_rewriter_init (&vp8);
    if (rtp_vp8_rewriter_apply (&vp8, payload, size)) {
      rtp_vp8_rewriter_switch_source (&vp8);
      (void) rtp_vp8_rewriter_apply (&vp8, payload, size);
    }
    free (payload);
  }

  RtpHeader h;
  if (!rtp_parse (data, size, &h))
    return;
  CHECK (h.version == 2);
  CHECK (h.header_len >= 12 && h.header_len <= size);
  CHECK (h.payload_offset == h.header_len);
  CHECK (h.payload_offset + h.payload_len <= size);
  CHECK (!h.extension || h.ext_offset + h.ext_len == h.header_len);

  for (unsigned id = 0; id < 256; id++) {
    const uint8_t *ext;
    size_t len;
    if (rtp_find_extension (data, &h, (uint8_t) id, &ext, &len)) {
      CHECK (ext >= data + h.ext_offset && ext + len <= data + h.ext_offset + h.ext_len);
      touch (ext, len);
    }
  }
  rtp_vp8_is_keyframe (data + h.payload_offset, h.payload_len);
  rtp_h264_is_keyframe (data + h.payload_offset, h.payload_len);

  /* rewriter on an exact-size heap copy so ASan catches any overflow */
  uint8_t *copy = malloc (size);
  if (copy == NULL)
    return;
  memcpy (copy, data, size);
  RtpRewriter rw;
  rtp_rewriter_init (&rw, 0x11223344);
  CHECK (rtp_rewriter_apply (&rw, copy, &h));
  RtpHeader h2;
  CHECK (rtp_parse (copy, size, &h2));
  CHECK (h2.ssrc == 0x11223344 && h2.seq == h.seq && h2.timestamp == h.timestamp);
  CHECK (memcmp (copy + 12, data + 12, size - 12) == 0);
  rtp_rewriter_switch_source_with_step (&rw, 3000);
  CHECK (rtp_rewriter_apply (&rw, copy, &h2));
  CHECK (rtp_parse (copy, size, &h2));
  CHECK (h2.seq == (uint16_t) (h.seq + 1));
  rtp_set_payload_type (copy, h.payload_type);
  rtp_set_marker (copy, h.marker);
  free (copy);
}

static void
fuzz_stream (const uint8_t *data, size_t size)
{
  RtpRewriter rw;
  RtpSourceStats st;
  uint8_t pkt[12] = { 0x80, 0x60 };
  uint16_t seq = 0;
  uint32_t ts = 0;
  uint64_t now = 1000000;
  bool have_out = false;
  uint16_t prev_out = 0;

  rtp_rewriter_init (&rw, 1);
  rtp_source_stats_init (&st, 1, 90000);
  for (size_t i = 0; i + 4 <= size; i += 4) {
    const uint8_t *r = data + i;
    uint8_t op = r[3];
    seq = (op & 0x80) ? (uint16_t) ((r[0] << 8) | r[1]) : (uint16_t) (seq + (int8_t) r[0]);
    ts += (uint32_t) r[2] * 100u;
    now += (uint64_t) (op & 0x0f) * 7000u;

    if ((op & 0x30) == 0x30)
      rtp_rewriter_switch_source_with_step (&rw, r[2]);
    rtp_set_seq (pkt, seq);
    rtp_set_timestamp (pkt, ts);
    RtpHeader h;
    CHECK (rtp_parse (pkt, sizeof pkt, &h));
    bool switching = rw.switching || !rw.started;
    uint16_t last_before = rw.last_seq_out;
    if (rtp_rewriter_apply (&rw, pkt, &h)) {
      RtpHeader o;
      CHECK (rtp_parse (pkt, sizeof pkt, &o));
      CHECK (o.ssrc == 1);
      if (switching && have_out)
        CHECK (o.seq == (uint16_t) (last_before + 1));
      have_out = true;
      prev_out = o.seq;
    }
    (void) prev_out;

    rtp_source_stats_update (&st, seq, ts, now);
    if (op & 0x40) {
      uint16_t miss[RTP_STATS_NACK_WINDOW];
      size_t n = rtp_source_stats_take_missing (&st, miss, (op & 0x0f) * 20u);
      CHECK (n <= (op & 0x0fu) * 20u);
      for (size_t k = 0; k < n; k++)
        CHECK ((uint16_t) (st.max_seq - miss[k]) < RTP_STATS_NACK_WINDOW);
    }
    if ((op & 0x30) == 0x10)
      rtp_source_stats_note_sr (&st, (uint64_t) ts << 20, now);
    if ((op & 0x30) == 0x20) {
      RtcpReportBlock rb;
      rtp_source_stats_report_block (&st, now, &rb);
      CHECK (rb.cumulative_lost >= -0x800000 && rb.cumulative_lost <= 0x7fffff);
    }
  }
}

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  fuzz_packet (data, size);
  fuzz_stream (data, size);
  return 0;
}
