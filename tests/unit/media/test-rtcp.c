/* test-rtcp.c — tests for media/rtcp.c.
 *
 * The compound packets below are shaped after Chrome's RTCP (after SRTCP
 * unprotect), commented field by field. */
#include <glib.h>
#include <string.h>

#include "rtcp.h"

/* Sender's compound: SR with one report block, then SDES CNAME. */
static const uint8_t sr_sdes[] = {
  /* SR, RFC 3550 §6.4.1 */
  0x81, 0xc8, 0x00, 0x0c, /* V=2 P=0 RC=1, PT=200, length 12 (52 bytes) */
  0x12, 0x34, 0x56, 0x78, /* sender SSRC */
  0xe8, 0xf1, 0x2a, 0x3b, /* NTP timestamp, most significant word */
  0x80, 0x00, 0x00, 0x00, /* NTP timestamp, least significant word (.5 s) */
  0x00, 0x01, 0x5f, 0x90, /* RTP timestamp 90000 */
  0x00, 0x00, 0x01, 0x2c, /* sender's packet count 300 */
  0x00, 0x03, 0xa9, 0x80, /* sender's octet count 240000 */
  0x3c, 0x5f, 0x8a, 0x12, /* report block: SSRC_1 */
  0x0a,                   /*   fraction lost 10/256 */
  0x00, 0x00, 0x05,       /*   cumulative lost 5 */
  0x00, 0x01, 0x1a, 0x2b, /*   extended highest seq: 1 cycle, 6699 */
  0x00, 0x00, 0x00, 0x20, /*   interarrival jitter 32 */
  0xf1, 0x2a, 0x3b, 0x80, /*   LSR */
  0x00, 0x00, 0x80, 0x00, /*   DLSR 0.5 s */
  /* SDES, RFC 3550 §6.5 */
  0x81, 0xca, 0x00, 0x06, /* V=2 P=0 SC=1, PT=202, length 6 (28 bytes) */
  0x12, 0x34, 0x56, 0x78, /* chunk SSRC */
  0x01, 0x10,             /* CNAME, 16 bytes */
  '4', 'T', 'O', 'k', '4', '2', 'm', 'S', 'j', 'X', 'C', 'k', 'V', 'I', 'a', '6',
  0x00, 0x00,             /* end of list, pad to 32 bits */
};

/* Receiver's compound: empty RR, then REMB (draft-alvestrand-rmcat-remb). */
static const uint8_t rr_remb[] = {
  0x80, 0xc9, 0x00, 0x01, /* V=2 RC=0, PT=201, length 1 (8 bytes) */
  0x87, 0x65, 0x43, 0x21, /* sender SSRC */
  0x8f, 0xce, 0x00, 0x05, /* V=2 FMT=15 (AFB), PT=206, length 5 (24 bytes) */
  0x87, 0x65, 0x43, 0x21, /* sender SSRC */
  0x00, 0x00, 0x00, 0x00, /* media source: 0 */
  'R', 'E', 'M', 'B',     /* unique identifier */
  0x01,                   /* Num SSRC 1 */
  0x0e, 0xdc, 0x6c,       /* BR Exp 3, mantissa 187500: 1.5 Mbit/s */
  0x3c, 0x5f, 0x8a, 0x12, /* SSRC feedback */
};

/* Reduced-size feedback (RFC 5506) as Chrome sends it: NACK, PLI, FIR,
 * transport-cc, then BYE and an APP packet. */
static const uint8_t feedback[] = {
  0x81, 0xcd, 0x00, 0x04, /* FMT=1 NACK, PT=205, length 4 (20 bytes) */
  0x87, 0x65, 0x43, 0x21, /* sender SSRC */
  0x3c, 0x5f, 0x8a, 0x12, /* media source SSRC */
  0x1a, 0x2b, 0x00, 0x05, /* PID 6699, BLP bits 0 and 2: 6700, 6702 */
  0xff, 0xff, 0x80, 0x00, /* PID 65535, BLP bit 15: 15 (wraps) */
  0x81, 0xce, 0x00, 0x02, /* FMT=1 PLI, PT=206, length 2 (12 bytes) */
  0x87, 0x65, 0x43, 0x21, /* sender SSRC */
  0xde, 0xad, 0xbe, 0xef, /* media source SSRC */
  0x84, 0xce, 0x00, 0x04, /* FMT=4 FIR, PT=206, length 4 (20 bytes) */
  0x87, 0x65, 0x43, 0x21, /* sender SSRC */
  0x00, 0x00, 0x00, 0x00, /* media source: 0 (RFC 5104 §4.3.1.2) */
  0xde, 0xad, 0xbe, 0xef, /* FCI: SSRC */
  0x07, 0x00, 0x00, 0x00, /*      seq nr 7, reserved */
  0x8f, 0xcd, 0x00, 0x05, /* FMT=15 transport-cc, PT=205, length 5 */
  0x87, 0x65, 0x43, 0x21, /* sender SSRC */
  0x3c, 0x5f, 0x8a, 0x12, /* media source SSRC */
  0x00, 0x10, 0x00, 0x02, /* base seq 16, status count 2 */
  0x00, 0x12, 0x34, 0x01, /* reference time, fb pkt count 1 */
  0x20, 0x02, 0x04, 0x04, /* run-length chunk: 2 x small delta; deltas */
  0x81, 0xcb, 0x00, 0x01, /* SC=1 BYE, PT=203, length 1 */
  0x3c, 0x5f, 0x8a, 0x12, /* SSRC */
  0x80, 0xcc, 0x00, 0x02, /* subtype 0 APP, PT=204, length 2 */
  0x87, 0x65, 0x43, 0x21, /* SSRC */
  'C', 'A', 'U', '0',     /* name */
};

/* Packet boundaries of the arrays above, for the truncation tests. */
static const size_t sr_sdes_ends[] = { 52, 80 };
static const size_t rr_remb_ends[] = { 8, 32 };
static const size_t feedback_ends[] = { 20, 32, 52, 76, 84, 96 };

static void
check_every_prefix (const uint8_t *buf, size_t len, const size_t *ends, size_t n_ends)
{
  g_assert_cmpuint (ends[n_ends - 1], ==, len);
  for (size_t n = 0; n <= len; n++) {
    uint8_t *copy = g_memdup2 (buf, n ? n : 1);
    RtcpIter it;
    RtcpPacket p;
    size_t got = 0, complete = 0;
    bool boundary = n == 0;
    for (size_t i = 0; i < n_ends; i++) {
      if (ends[i] <= n)
        complete++;
      if (ends[i] == n)
        boundary = true;
    }
    rtcp_iter_init (&it, copy, n);
    while (rtcp_iter_next (&it, &p)) {
      got++;
      /* every accessor on whatever came out stays inside the copy */
      RtcpReportBlock rb;
      uint16_t seqs[64];
      uint32_t ssrcs[4];
      uint64_t br;
      size_t ns;
      for (unsigned i = 0; i < rtcp_report_block_count (&p); i++)
        g_assert_true (rtcp_get_report_block (&p, i, &rb));
      rtcp_nack_get_seqs (&p, seqs, G_N_ELEMENTS (seqs));
      rtcp_remb_parse (&p, &br, ssrcs, G_N_ELEMENTS (ssrcs), &ns);
      rtcp_sr_parse (&p, NULL, NULL, NULL, NULL);
    }
    g_assert_cmpuint (got, ==, complete);
    g_assert_cmpint (it.error, ==, !boundary);
    g_free (copy);
  }
}

static void
test_sr_sdes (void)
{
  RtcpIter it;
  RtcpPacket p;
  RtcpReportBlock rb;
  uint64_t ntp;
  uint32_t ts, packets, octets;

  rtcp_iter_init (&it, sr_sdes, sizeof sr_sdes);
  g_assert_true (rtcp_iter_next (&it, &p));
  g_assert_cmpuint (p.type, ==, RTCP_SR);
  g_assert_cmpuint (p.count, ==, 1);
  g_assert_cmpuint (p.len, ==, 52);
  g_assert_true (p.data == sr_sdes);
  g_assert_cmpuint (p.sender_ssrc, ==, 0x12345678);
  g_assert_cmpuint (p.media_ssrc, ==, 0);
  g_assert_true (rtcp_sr_parse (&p, &ntp, &ts, &packets, &octets));
  g_assert_cmpuint (ntp, ==, 0xe8f12a3b80000000ull);
  g_assert_cmpuint (ts, ==, 90000);
  g_assert_cmpuint (packets, ==, 300);
  g_assert_cmpuint (octets, ==, 240000);
  g_assert_cmpuint (rtcp_report_block_count (&p), ==, 1);
  g_assert_true (rtcp_get_report_block (&p, 0, &rb));
  g_assert_false (rtcp_get_report_block (&p, 1, &rb));
  g_assert_cmpuint (rb.ssrc, ==, 0x3c5f8a12);
  g_assert_cmpuint (rb.fraction_lost, ==, 10);
  g_assert_cmpint (rb.cumulative_lost, ==, 5);
  g_assert_cmpuint (rb.ext_highest_seq, ==, 0x11a2b);
  g_assert_cmpuint (rb.jitter, ==, 32);
  g_assert_cmpuint (rb.lsr, ==, 0xf12a3b80);
  g_assert_cmpuint (rb.dlsr, ==, 0x8000);
  g_assert_cmpuint (rtcp_nack_get_seqs (&p, (uint16_t[4]) { 0 }, 4), ==, 0);

  /* round trip: write what was parsed, compare the bytes */
  uint8_t out[128];
  size_t n = rtcp_write_sr (out, sizeof out, p.sender_ssrc, ntp, ts, packets, octets, &rb, 1);
  g_assert_cmpmem (out, n, sr_sdes, 52);

  g_assert_true (rtcp_iter_next (&it, &p));
  g_assert_cmpuint (p.type, ==, RTCP_SDES);
  g_assert_cmpuint (p.count, ==, 1);
  g_assert_cmpuint (p.len, ==, 28);
  g_assert_cmpuint (p.sender_ssrc, ==, 0x12345678);
  g_assert_false (rtcp_sr_parse (&p, &ntp, NULL, NULL, NULL));
  g_assert_cmpuint (rtcp_report_block_count (&p), ==, 0);
  n += rtcp_write_sdes_cname (out + n, sizeof out - n, 0x12345678, "4TOk42mSjXCkVIa6");
  g_assert_cmpmem (out, n, sr_sdes, sizeof sr_sdes);

  g_assert_false (rtcp_iter_next (&it, &p));
  g_assert_false (it.error);
  check_every_prefix (sr_sdes, sizeof sr_sdes, sr_sdes_ends, G_N_ELEMENTS (sr_sdes_ends));
}

static void
test_rr_remb (void)
{
  RtcpIter it;
  RtcpPacket p;
  uint64_t br;
  uint32_t ssrcs[4];
  size_t n_ssrcs;

  rtcp_iter_init (&it, rr_remb, sizeof rr_remb);
  g_assert_true (rtcp_iter_next (&it, &p));
  g_assert_cmpuint (p.type, ==, RTCP_RR);
  g_assert_cmpuint (p.sender_ssrc, ==, 0x87654321);
  g_assert_cmpuint (rtcp_report_block_count (&p), ==, 0);
  g_assert_false (rtcp_remb_parse (&p, &br, ssrcs, 4, &n_ssrcs));
  uint8_t out[64];
  size_t n = rtcp_write_rr (out, sizeof out, 0x87654321, NULL, 0);

  g_assert_true (rtcp_iter_next (&it, &p));
  g_assert_cmpuint (p.type, ==, RTCP_PSFB);
  g_assert_cmpuint (p.count, ==, RTCP_PSFB_AFB);
  g_assert_cmpuint (p.media_ssrc, ==, 0);
  g_assert_true (rtcp_remb_parse (&p, &br, ssrcs, 4, &n_ssrcs));
  g_assert_cmpuint (br, ==, 1500000);
  g_assert_cmpuint (n_ssrcs, ==, 1);
  g_assert_cmpuint (ssrcs[0], ==, 0x3c5f8a12);
  /* fewer slots than SSRCs; no slots at all */
  g_assert_true (rtcp_remb_parse (&p, &br, NULL, 0, &n_ssrcs));
  g_assert_cmpuint (n_ssrcs, ==, 0);

  n += rtcp_write_remb (out + n, sizeof out - n, 0x87654321, br, ssrcs, 1);
  g_assert_cmpmem (out, n, rr_remb, sizeof rr_remb);
  g_assert_false (rtcp_iter_next (&it, &p));
  g_assert_false (it.error);
  check_every_prefix (rr_remb, sizeof rr_remb, rr_remb_ends, G_N_ELEMENTS (rr_remb_ends));

  /* REMB bitrate saturates instead of overflowing (exp 63) */
  uint8_t big[24];
  memcpy (big, rr_remb + 8, 24);
  big[17] = (63 << 2) | 0x03;
  big[18] = big[19] = 0xff;
  rtcp_iter_init (&it, big, sizeof big);
  g_assert_true (rtcp_iter_next (&it, &p));
  g_assert_true (rtcp_remb_parse (&p, &br, NULL, 0, NULL));
  g_assert_cmpuint (br, ==, UINT64_MAX);
  /* Num SSRC larger than the packet */
  big[16] = 2;
  g_assert_false (rtcp_remb_parse (&p, &br, ssrcs, 4, &n_ssrcs));
  /* not "REMB" */
  big[16] = 1;
  big[12] = 'X';
  g_assert_false (rtcp_remb_parse (&p, &br, ssrcs, 4, &n_ssrcs));

  /* writer: exact powers and the 18-bit mantissa boundary */
  static const uint64_t rates[] = { 0, 1, 0x3ffff, 0x40000, 30000, 2500000, 1ull << 40 };
  for (size_t i = 0; i < G_N_ELEMENTS (rates); i++) {
    uint8_t w[24];
    g_assert_cmpuint (rtcp_write_remb (w, sizeof w, 1, rates[i], NULL, 0), ==, 20);
    rtcp_iter_init (&it, w, 20);
    g_assert_true (rtcp_iter_next (&it, &p));
    g_assert_true (rtcp_remb_parse (&p, &br, NULL, 0, NULL));
    g_assert_cmpuint (br, ==, rates[i]);   /* all exactly representable */
  }
  uint8_t w[24];
  g_assert_cmpuint (rtcp_write_remb (w, sizeof w, 1, 0x40001, NULL, 0), ==, 20);
  rtcp_iter_init (&it, w, 20);
  g_assert_true (rtcp_iter_next (&it, &p));
  g_assert_true (rtcp_remb_parse (&p, &br, NULL, 0, NULL));
  g_assert_cmpuint (br, ==, 0x40000);      /* rounded down */
}

static void
test_feedback (void)
{
  RtcpIter it;
  RtcpPacket p;
  uint16_t seqs[32];
  uint8_t out[64];

  rtcp_iter_init (&it, feedback, sizeof feedback);

  g_assert_true (rtcp_iter_next (&it, &p));         /* NACK */
  g_assert_cmpuint (p.type, ==, RTCP_RTPFB);
  g_assert_cmpuint (p.count, ==, RTCP_RTPFB_NACK);
  g_assert_cmpuint (p.sender_ssrc, ==, 0x87654321);
  g_assert_cmpuint (p.media_ssrc, ==, 0x3c5f8a12);
  g_assert_cmpuint (rtcp_nack_get_seqs (&p, seqs, 32), ==, 5);
  g_assert_cmpuint (seqs[0], ==, 6699);
  g_assert_cmpuint (seqs[1], ==, 6700);
  g_assert_cmpuint (seqs[2], ==, 6702);
  g_assert_cmpuint (seqs[3], ==, 65535);
  g_assert_cmpuint (seqs[4], ==, 15);
  g_assert_cmpuint (rtcp_nack_get_seqs (&p, seqs, 2), ==, 2);
  g_assert_cmpuint (rtcp_nack_get_seqs (&p, seqs, 0), ==, 0);
  size_t n = rtcp_write_nack (out, sizeof out, 0x87654321, 0x3c5f8a12,
                              (const uint16_t[]) { 6699, 6700, 6702, 65535, 15 }, 5);
  g_assert_cmpmem (out, n, feedback, 20);

  g_assert_true (rtcp_iter_next (&it, &p));         /* PLI */
  g_assert_cmpuint (p.type, ==, RTCP_PSFB);
  g_assert_cmpuint (p.count, ==, RTCP_PSFB_PLI);
  g_assert_cmpuint (p.media_ssrc, ==, 0xdeadbeef);
  g_assert_cmpuint (rtcp_nack_get_seqs (&p, seqs, 32), ==, 0);
  n = rtcp_write_pli (out, sizeof out, 0x87654321, 0xdeadbeef);
  g_assert_cmpmem (out, n, feedback + 20, 12);

  g_assert_true (rtcp_iter_next (&it, &p));         /* FIR */
  g_assert_cmpuint (p.count, ==, RTCP_PSFB_FIR);
  g_assert_cmpuint (p.media_ssrc, ==, 0);
  n = rtcp_write_fir (out, sizeof out, 0x87654321, 0xdeadbeef, 7);
  g_assert_cmpmem (out, n, feedback + 32, 20);

  g_assert_true (rtcp_iter_next (&it, &p));         /* transport-cc: passed through */
  g_assert_cmpuint (p.type, ==, RTCP_RTPFB);
  g_assert_cmpuint (p.count, ==, RTCP_RTPFB_TWCC);
  g_assert_cmpuint (p.len, ==, 24);
  g_assert_cmpuint (rtcp_nack_get_seqs (&p, seqs, 32), ==, 0);

  g_assert_true (rtcp_iter_next (&it, &p));         /* BYE */
  g_assert_cmpuint (p.type, ==, RTCP_BYE);
  g_assert_cmpuint (p.sender_ssrc, ==, 0x3c5f8a12);

  g_assert_true (rtcp_iter_next (&it, &p));         /* APP */
  g_assert_cmpuint (p.type, ==, RTCP_APP);
  g_assert_cmpuint (p.sender_ssrc, ==, 0x87654321);

  g_assert_false (rtcp_iter_next (&it, &p));
  g_assert_false (it.error);
  check_every_prefix (feedback, sizeof feedback, feedback_ends, G_N_ELEMENTS (feedback_ends));
}

static void
test_set_media_ssrc (void)
{
  uint8_t buf[sizeof feedback];
  memcpy (buf, feedback, sizeof buf);
  RtcpIter it;
  RtcpPacket p;
  rtcp_iter_init (&it, buf, sizeof buf);
  while (rtcp_iter_next (&it, &p))
    if (p.type == RTCP_PSFB || p.type == RTCP_RTPFB)
      rtcp_set_media_ssrc (buf + (p.data - buf), 0x01020304);
  g_assert_false (it.error);

  rtcp_iter_init (&it, buf, sizeof buf);
  g_assert_true (rtcp_iter_next (&it, &p));
  g_assert_cmpuint (p.media_ssrc, ==, 0x01020304);   /* NACK */
  g_assert_true (rtcp_iter_next (&it, &p));
  g_assert_cmpuint (p.media_ssrc, ==, 0x01020304);   /* PLI */
  g_assert_true (rtcp_iter_next (&it, &p));
  g_assert_cmpuint (p.media_ssrc, ==, 0);            /* FIR: header stays 0 */
  g_assert_cmpmem (p.data + 12, 5, ((const uint8_t[]) { 1, 2, 3, 4, 7 }), 5);
  /* nothing else changed */
  g_assert_cmpmem (buf + 12, 20 - 12, feedback + 12, 20 - 12);
  g_assert_cmpmem (buf + 76, sizeof buf - 76, feedback + 76, sizeof buf - 76);
}

static void
test_malformed (void)
{
  RtcpIter it;
  RtcpPacket p;
  uint8_t b[sizeof sr_sdes];

#define EXPECT_ERROR_AFTER(buf, len, good)                 \
  do {                                                     \
    unsigned got_ = 0;                                     \
    rtcp_iter_init (&it, (buf), (len));                    \
    while (rtcp_iter_next (&it, &p))                       \
      got_++;                                              \
    g_assert_cmpuint (got_, ==, (good));                   \
    g_assert_true (it.error);                              \
  } while (0)

  memcpy (b, sr_sdes, sizeof b);
  b[0] = 0x41;                                   /* version 1 */
  EXPECT_ERROR_AFTER (b, sizeof b, 0);

  memcpy (b, sr_sdes, sizeof b);
  b[3] = 0x40;                                   /* length past the buffer */
  EXPECT_ERROR_AFTER (b, sizeof b, 0);

  memcpy (b, sr_sdes, sizeof b);
  b[0] = 0x82;                                   /* RC=2, room for one block */
  EXPECT_ERROR_AFTER (b, sizeof b, 0);

  memcpy (b, sr_sdes, sizeof b);
  b[52] = 0xa1;                                  /* SDES P=1, last byte 0 */
  EXPECT_ERROR_AFTER (b, sizeof b, 1);
  b[79] = 0x19;                                  /* 25 > 24 bytes after header */
  EXPECT_ERROR_AFTER (b, sizeof b, 1);
  b[79] = 0x04;                                  /* 4: valid padding */
  rtcp_iter_init (&it, b, sizeof b);
  g_assert_true (rtcp_iter_next (&it, &p));
  g_assert_true (rtcp_iter_next (&it, &p));
  g_assert_false (rtcp_iter_next (&it, &p));
  g_assert_false (it.error);

  /* padded RR: P=1, 4 bytes of padding; a report-block count that would
   * only fit by reading the padding is refused */
  static const uint8_t padded_rr[] = {
    0xa0, 0xc9, 0x00, 0x02, 0x87, 0x65, 0x43, 0x21, 0x00, 0x00, 0x00, 0x04,
  };
  rtcp_iter_init (&it, padded_rr, sizeof padded_rr);
  g_assert_true (rtcp_iter_next (&it, &p));
  g_assert_cmpuint (p.len, ==, 12);
  g_assert_cmpuint (rtcp_report_block_count (&p), ==, 0);

  /* feedback shorter than its 12-byte common header */
  static const uint8_t short_pli[] = { 0x81, 0xce, 0x00, 0x01, 0, 0, 0, 1, 0, 0, 0, 2 };
  EXPECT_ERROR_AFTER (short_pli, 8, 0);
  /* BYE claiming 2 SSRCs with room for one */
  static const uint8_t short_bye[] = { 0x82, 0xcb, 0x00, 0x01, 0, 0, 0, 1 };
  EXPECT_ERROR_AFTER (short_bye, sizeof short_bye, 0);
  /* 3 stray bytes after a good packet */
  uint8_t tail[sizeof rr_remb + 3];
  memcpy (tail, rr_remb, sizeof rr_remb);
  memset (tail + sizeof rr_remb, 0x80, 3);
  EXPECT_ERROR_AFTER (tail, sizeof tail, 2);
  /* a hand-made RtcpPacket with a bogus count is bounded by its length */
  RtcpPacket fake = { .type = RTCP_RR, .count = 31, .data = rr_remb, .len = 8 };
  g_assert_cmpuint (rtcp_report_block_count (&fake), ==, 0);
  rtcp_iter_init (&it, NULL, 10);
  g_assert_false (rtcp_iter_next (&it, &p));
  g_assert_false (it.error);
#undef EXPECT_ERROR_AFTER
}

/* Every writer returns 0 and writes nothing when one byte short. */
static void
test_writers_capacity (void)
{
  RtcpReportBlock rb[2] = {
    { .ssrc = 1, .fraction_lost = 255, .cumulative_lost = -5, .ext_highest_seq = 70000,
      .jitter = 9, .lsr = 10, .dlsr = 11 },
    { .ssrc = 2, .cumulative_lost = 0x7fffffff },
  };
  uint32_t ssrcs[] = { 5, 6, 7 };
  uint16_t seqs[] = { 1, 2, 40, 41, 41, 100 };
  uint8_t buf[256];
  size_t need;

#define CHECK_CAP(call_with_cap)                                   \
  do {                                                             \
    size_t cap = sizeof buf;                                       \
    need = (call_with_cap);                                        \
    g_assert_cmpuint (need, >, 0);                                 \
    cap = need - 1;                                                \
    memset (buf, 0xee, sizeof buf);                                \
    g_assert_cmpuint ((call_with_cap), ==, 0);                     \
    for (size_t i_ = 0; i_ < sizeof buf; i_++)                     \
      g_assert_cmpuint (buf[i_], ==, 0xee);                        \
    cap = need;                                                    \
    g_assert_cmpuint ((call_with_cap), ==, need);                  \
  } while (0)

  CHECK_CAP (rtcp_write_pli (buf, cap, 1, 2));
  g_assert_cmpuint (need, ==, 12);
  CHECK_CAP (rtcp_write_fir (buf, cap, 1, 2, 3));
  g_assert_cmpuint (need, ==, 20);
  CHECK_CAP (rtcp_write_nack (buf, cap, 1, 2, seqs, G_N_ELEMENTS (seqs)));
  g_assert_cmpuint (need, ==, 12 + 3 * 4);        /* {1,2} {40,41} {100} */
  CHECK_CAP (rtcp_write_remb (buf, cap, 1, 1000000, ssrcs, 3));
  g_assert_cmpuint (need, ==, 32);
  CHECK_CAP (rtcp_write_rr (buf, cap, 1, rb, 2));
  g_assert_cmpuint (need, ==, 56);
  CHECK_CAP (rtcp_write_sr (buf, cap, 1, 2, 3, 4, 5, rb, 2));
  g_assert_cmpuint (need, ==, 76);
  CHECK_CAP (rtcp_write_sdes_cname (buf, cap, 1, "abc"));
  g_assert_cmpuint (need, ==, 16);                /* 4 + 4 + 2 + 3 + 1 = 14 -> 16 */
#undef CHECK_CAP

  /* RR round trip, incl. the 24-bit clamp of cumulative_lost */
  size_t n = rtcp_write_rr (buf, sizeof buf, 0xabc, rb, 2);
  RtcpIter it;
  RtcpPacket p;
  RtcpReportBlock got;
  rtcp_iter_init (&it, buf, n);
  g_assert_true (rtcp_iter_next (&it, &p));
  g_assert_cmpuint (rtcp_report_block_count (&p), ==, 2);
  g_assert_true (rtcp_get_report_block (&p, 0, &got));
  g_assert_cmpuint (got.ssrc, ==, 1);
  g_assert_cmpuint (got.fraction_lost, ==, 255);
  g_assert_cmpint (got.cumulative_lost, ==, -5);
  g_assert_cmpuint (got.ext_highest_seq, ==, 70000);
  g_assert_cmpuint (got.jitter, ==, 9);
  g_assert_cmpuint (got.lsr, ==, 10);
  g_assert_cmpuint (got.dlsr, ==, 11);
  g_assert_true (rtcp_get_report_block (&p, 1, &got));
  g_assert_cmpint (got.cumulative_lost, ==, 0x7fffff);

  /* NACK packing: duplicates folded, runs of 17 split, unsorted kept */
  uint16_t run[20];
  for (unsigned i = 0; i < 20; i++)
    run[i] = (uint16_t) (65530 + i);
  n = rtcp_write_nack (buf, sizeof buf, 1, 2, run, 20);
  g_assert_cmpuint (n, ==, 12 + 2 * 4);
  rtcp_iter_init (&it, buf, n);
  g_assert_true (rtcp_iter_next (&it, &p));
  uint16_t back[40];
  g_assert_cmpuint (rtcp_nack_get_seqs (&p, back, 40), ==, 20);
  g_assert_cmpmem (back, sizeof run, run, sizeof run);

  /* arguments that cannot be encoded */
  g_assert_cmpuint (rtcp_write_nack (buf, sizeof buf, 1, 2, seqs, 0), ==, 0);
  g_assert_cmpuint (rtcp_write_rr (buf, sizeof buf, 1, rb, 32), ==, 0);
  char long_name[300];
  memset (long_name, 'x', sizeof long_name - 1);
  long_name[sizeof long_name - 1] = 0;
  g_assert_cmpuint (rtcp_write_sdes_cname (buf, sizeof buf, 1, long_name), ==, 0);
  g_assert_cmpuint (rtcp_write_sdes_cname (buf, sizeof buf, 1, NULL), ==, 0);

  /* SDES padding for every CNAME length mod 4, parsed back */
  for (size_t l = 0; l < 8; l++) {
    char name[9] = "abcdefgh";
    name[l] = 0;
    n = rtcp_write_sdes_cname (buf, sizeof buf, 0x55, name);
    g_assert_cmpuint (n % 4, ==, 0);
    g_assert_cmpuint (n, >=, 4 + 4 + 2 + l + 1);
    g_assert_cmpuint (n, <, 4 + 4 + 2 + l + 1 + 4);
    g_assert_cmpuint (buf[9], ==, l);
    g_assert_cmpmem (buf + 10, l, name, l);
    g_assert_cmpuint (buf[10 + l], ==, 0);
    rtcp_iter_init (&it, buf, n);
    g_assert_true (rtcp_iter_next (&it, &p));
    g_assert_cmpuint (p.sender_ssrc, ==, 0x55);
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/media/rtcp/sr-sdes", test_sr_sdes);
  g_test_add_func ("/media/rtcp/rr-remb", test_rr_remb);
  g_test_add_func ("/media/rtcp/feedback", test_feedback);
  g_test_add_func ("/media/rtcp/set-media-ssrc", test_set_media_ssrc);
  g_test_add_func ("/media/rtcp/malformed", test_malformed);
  g_test_add_func ("/media/rtcp/writers-capacity", test_writers_capacity);
  return g_test_run ();
}
