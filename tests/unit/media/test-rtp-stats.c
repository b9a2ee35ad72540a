/* test-rtp-stats.c — tests for media/rtp-stats.c (RFC 3550 A.1, A.3, A.8
 * receiver statistics and NACK gap detection). */
#include <glib.h>
#include <string.h>

#include "rtp-stats.h"

#define VIDEO_RATE 90000
#define FRAME_US 33333u            /* 30 fps */
#define FRAME_TS 3000u

/* A 30 fps video stream, one packet per frame, perfectly paced. */
static void
feed_range (RtpSourceStats *s, uint16_t first, unsigned count, uint64_t t0_us)
{
  for (unsigned i = 0; i < count; i++)
    rtp_source_stats_update (s, (uint16_t) (first + i), 1000u + FRAME_TS * i,
                             t0_us + (uint64_t) FRAME_US * i);
}

static void
test_no_loss (void)
{
  RtpSourceStats s;
  RtcpReportBlock rb;
  rtp_source_stats_init (&s, 0xdeadbeef, VIDEO_RATE);

  rtp_source_stats_report_block (&s, 0, &rb);
  g_assert_cmpuint (rb.ssrc, ==, 0xdeadbeef);
  g_assert_cmpuint (rb.ext_highest_seq, ==, 0);
  g_assert_cmpint (rb.cumulative_lost, ==, 0);

  feed_range (&s, 1000, 100, 5000000);
  rtp_source_stats_report_block (&s, 9000000, &rb);
  g_assert_cmpuint (rb.ssrc, ==, 0xdeadbeef);
  g_assert_cmpuint (rb.fraction_lost, ==, 0);
  g_assert_cmpint (rb.cumulative_lost, ==, 0);
  g_assert_cmpuint (rb.ext_highest_seq, ==, 1099);
  g_assert_cmpuint (rb.jitter, <=, 1);       /* only clock rounding */
  g_assert_cmpuint (rb.lsr, ==, 0);
  g_assert_cmpuint (rb.dlsr, ==, 0);
}

static void
test_loss_intervals (void)
{
  RtpSourceStats s;
  RtcpReportBlock rb;
  rtp_source_stats_init (&s, 1, VIDEO_RATE);

  /* 100 packets, every tenth lost */
  for (unsigned i = 0; i < 100; i++)
    if (i % 10 != 5)
      rtp_source_stats_update (&s, (uint16_t) (200 + i), FRAME_TS * i, (uint64_t) FRAME_US * i);
  rtp_source_stats_report_block (&s, 4000000, &rb);
  g_assert_cmpuint (rb.fraction_lost, ==, 10 * 256 / 100);
  g_assert_cmpint (rb.cumulative_lost, ==, 10);
  g_assert_cmpuint (rb.ext_highest_seq, ==, 299);

  /* next interval: no loss, so fraction 0, cumulative unchanged */
  for (unsigned i = 100; i < 150; i++)
    rtp_source_stats_update (&s, (uint16_t) (200 + i), FRAME_TS * i, (uint64_t) FRAME_US * i);
  rtp_source_stats_report_block (&s, 6000000, &rb);
  g_assert_cmpuint (rb.fraction_lost, ==, 0);
  g_assert_cmpint (rb.cumulative_lost, ==, 10);

  /* empty interval */
  rtp_source_stats_report_block (&s, 7000000, &rb);
  g_assert_cmpuint (rb.fraction_lost, ==, 0);

  /* duplicates push cumulative below zero (RFC 3550 §6.4.1) */
  for (unsigned i = 0; i < 15; i++)
    rtp_source_stats_update (&s, 349, FRAME_TS * 149, 8000000);
  rtp_source_stats_report_block (&s, 9000000, &rb);
  g_assert_cmpint (rb.cumulative_lost, ==, -5);
  g_assert_cmpuint (rb.fraction_lost, ==, 0);
}

static void
test_wrap_and_restart (void)
{
  RtpSourceStats s;
  RtcpReportBlock rb;
  rtp_source_stats_init (&s, 1, VIDEO_RATE);
  feed_range (&s, 65530, 11, 0);               /* 65530 .. 4 */
  g_assert_cmpuint (rtp_source_stats_ext_highest_seq (&s), ==, 65536 + 4);
  /* a late packet from before the wrap does not move the cycle count */
  rtp_source_stats_update (&s, 65534, 0, 400000);
  g_assert_cmpuint (rtp_source_stats_ext_highest_seq (&s), ==, 65536 + 4);
  rtp_source_stats_report_block (&s, 500000, &rb);
  g_assert_cmpuint (rb.ext_highest_seq, ==, 65540);
  g_assert_cmpint (rb.cumulative_lost, ==, -1);   /* one duplicate */

  /* RFC 3550 A.1: one wild jump is ignored ... */
  rtp_source_stats_update (&s, 30000, 0, 600000);
  g_assert_cmpuint (rtp_source_stats_ext_highest_seq (&s), ==, 65540);
  /* ... a second, unrelated one too ... */
  rtp_source_stats_update (&s, 40000, 0, 610000);
  g_assert_cmpuint (rtp_source_stats_ext_highest_seq (&s), ==, 65540);
  /* ... but a confirmed one restarts the source */
  rtp_source_stats_update (&s, 40001, 0, 620000);
  g_assert_cmpuint (rtp_source_stats_ext_highest_seq (&s), ==, 40001);
  rtp_source_stats_update (&s, 40002, 3000, 653333);
  rtp_source_stats_report_block (&s, 700000, &rb);
  g_assert_cmpint (rb.cumulative_lost, ==, 0);
  g_assert_cmpuint (rb.ext_highest_seq, ==, 40002);
  g_assert_cmpuint (rb.fraction_lost, ==, 0);
}

static void
test_jitter (void)
{
  RtpSourceStats s;
  RtcpReportBlock rb;
  rtp_source_stats_init (&s, 1, VIDEO_RATE);
  /* every other packet 1 ms late: |D| = 90 ticks each time (RFC 3550
   * A.8), so the estimate converges to 90 */
  for (unsigned i = 0; i < 400; i++)
    rtp_source_stats_update (&s, (uint16_t) i, FRAME_TS * i,
                             (uint64_t) FRAME_US * i + (i % 2 ? 1000 : 0) + 1000000);
  rtp_source_stats_report_block (&s, 20000000, &rb);
  g_assert_cmpuint (rb.jitter, >=, 85);
  g_assert_cmpuint (rb.jitter, <=, 91);

  /* arrival times near 2^64 / clock-rate boundaries do not overflow */
  rtp_source_stats_init (&s, 1, 48000);
  uint64_t t0 = UINT64_C (1) << 50;
  for (unsigned i = 0; i < 50; i++)
    rtp_source_stats_update (&s, (uint16_t) i, 960u * i, t0 + 20000u * i);
  rtp_source_stats_report_block (&s, t0 + 2000000, &rb);
  g_assert_cmpuint (rb.jitter, <=, 1);
}

static void
test_sr (void)
{
  RtpSourceStats s;
  RtcpReportBlock rb;
  rtp_source_stats_init (&s, 1, VIDEO_RATE);
  feed_range (&s, 0, 10, 0);
  rtp_source_stats_note_sr (&s, 0xe8f12a3b80000000ull, 1000000);
  rtp_source_stats_report_block (&s, 1500000, &rb);
  g_assert_cmpuint (rb.lsr, ==, 0x2a3b8000);
  g_assert_cmpuint (rb.dlsr, ==, 32768);          /* 0.5 s in 1/65536 s */
  /* report earlier than the SR's arrival (clock confusion): DLSR 0 */
  rtp_source_stats_report_block (&s, 900000, &rb);
  g_assert_cmpuint (rb.dlsr, ==, 0);
}

static void
test_nack_gaps (void)
{
  RtpSourceStats s;
  uint16_t seqs[16];
  size_t n;
  rtp_source_stats_init (&s, 1, VIDEO_RATE);

  static const uint16_t arrive[] = { 65533, 65534, 65535, 1, 2, 5 };  /* 0, 3, 4 lost */
  for (size_t i = 0; i < G_N_ELEMENTS (arrive); i++)
    rtp_source_stats_update (&s, arrive[i], 0, 1000 * i);
  n = rtp_source_stats_take_missing (&s, seqs, 16);
  g_assert_cmpuint (n, ==, 3);
  g_assert_cmpuint (seqs[0], ==, 0);
  g_assert_cmpuint (seqs[1], ==, 3);
  g_assert_cmpuint (seqs[2], ==, 4);
  /* reported once: not again right away */
  g_assert_cmpuint (rtp_source_stats_take_missing (&s, seqs, 16), ==, 0);

  /* 3 arrives (retransmission); 60 ms later nothing is due yet */
  rtp_source_stats_update (&s, 3, 0, 10000);
  rtp_source_stats_update (&s, 6, 0, 60000);
  g_assert_cmpuint (rtp_source_stats_take_missing (&s, seqs, 16), ==, 0);
  /* past the retry interval: one retry for 0 and 4, not for 3 */
  rtp_source_stats_update (&s, 7, 0, 200000);
  n = rtp_source_stats_take_missing (&s, seqs, 16);
  g_assert_cmpuint (n, ==, 2);
  g_assert_cmpuint (seqs[0], ==, 0);
  g_assert_cmpuint (seqs[1], ==, 4);
  /* and never a third time */
  g_assert_cmpuint (rtp_source_stats_take_missing_at (&s, 10000000, seqs, 16), ==, 0);

  /* @max is honoured; the rest comes on the next call */
  rtp_source_stats_update (&s, 12, 0, 300000);     /* 8..11 missing */
  n = rtp_source_stats_take_missing (&s, seqs, 3);
  g_assert_cmpuint (n, ==, 3);
  g_assert_cmpuint (seqs[0], ==, 8);
  g_assert_cmpuint (seqs[2], ==, 10);
  n = rtp_source_stats_take_missing (&s, seqs, 16);
  g_assert_cmpuint (n, ==, 1);
  g_assert_cmpuint (seqs[0], ==, 11);
  g_assert_cmpuint (rtp_source_stats_take_missing (&s, NULL, 16), ==, 0);
}

static void
test_nack_bounds (void)
{
  RtpSourceStats s;
  uint16_t seqs[300];
  rtp_source_stats_init (&s, 1, VIDEO_RATE);

  /* nothing before the first packet */
  g_assert_cmpuint (rtp_source_stats_take_missing (&s, seqs, 300), ==, 0);

  /* a jump wider than the gap bound is a restart, not 99 losses */
  rtp_source_stats_update (&s, 100, 0, 0);
  rtp_source_stats_update (&s, 100 + RTP_STATS_NACK_MAX_GAP + 1, 0, 1000);
  g_assert_cmpuint (rtp_source_stats_take_missing (&s, seqs, 300), ==, 0);
  /* exactly the bound is still NACKed */
  uint16_t top = 100 + RTP_STATS_NACK_MAX_GAP + 1;
  rtp_source_stats_update (&s, (uint16_t) (top + RTP_STATS_NACK_MAX_GAP), 0, 2000);
  g_assert_cmpuint (rtp_source_stats_take_missing (&s, seqs, 300), ==,
                    RTP_STATS_NACK_MAX_GAP - 1);

  /* a gap that slid out of the window before anyone asked is forgotten */
  rtp_source_stats_init (&s, 1, VIDEO_RATE);
  rtp_source_stats_update (&s, 0, 0, 0);
  rtp_source_stats_update (&s, 2, 0, 0);           /* 1 missing */
  for (uint16_t q = 3; q < 3 + RTP_STATS_NACK_WINDOW; q++)
    rtp_source_stats_update (&s, q, 0, 0);
  g_assert_cmpuint (rtp_source_stats_take_missing (&s, seqs, 300), ==, 0);

  /* a very late packet (outside the window) changes nothing */
  rtp_source_stats_update (&s, 1, 0, 0);
  g_assert_cmpuint (rtp_source_stats_take_missing (&s, seqs, 300), ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/media/rtp-stats/no-loss", test_no_loss);
  g_test_add_func ("/media/rtp-stats/loss-intervals", test_loss_intervals);
  g_test_add_func ("/media/rtp-stats/wrap-restart", test_wrap_and_restart);
  g_test_add_func ("/media/rtp-stats/jitter", test_jitter);
  g_test_add_func ("/media/rtp-stats/sr", test_sr);
  g_test_add_func ("/media/rtp-stats/nack-gaps", test_nack_gaps);
  g_test_add_func ("/media/rtp-stats/nack-bounds", test_nack_bounds);
  return g_test_run ();
}
