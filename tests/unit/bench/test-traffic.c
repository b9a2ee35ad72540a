/* test-traffic.c — bench/traffic.c: the synthetic VP8/Opus packets parse as
 * RTP, key frames are key frames to caud's detector, the stamp survives,
 * and receiver loss/reordering counting across a sequence wrap. */
#include <glib.h>
#include <string.h>

#include "rtp.h"
#include "traffic.h"

static void
test_vp8_frames (void)
{
  TrafficStream s;
  uint8_t buf[12 + TRAFFIC_MAX_PAYLOAD];
  unsigned n = traffic_vp8_packet_count (24000);
  RtpHeader h;

  traffic_stream_init (&s, 0x01020304, 65534, 1000);
  g_assert_cmpuint (n, ==, 21);
  for (unsigned i = 0; i < n; i++) {
    size_t len = traffic_write_vp8 (&s, buf, true, 24000, i, n, 123456789);
    uint64_t sent;
    uint32_t counter;

    g_assert_cmpuint (len, <=, 12 + TRAFFIC_MAX_PAYLOAD);
    g_assert_true (rtp_parse (buf, len, &h));
    g_assert_cmpuint (h.ssrc, ==, 0x01020304);
    g_assert_cmpuint (h.payload_type, ==, TRAFFIC_VIDEO_PT);
    g_assert_cmpuint (h.seq, ==, (uint16_t) (65534 + i));     /* wraps after 1 */
    g_assert_cmpuint (h.timestamp, ==, 1000);
    g_assert_true (h.marker == (i + 1 == n));
    g_assert_true (rtp_vp8_is_keyframe (buf + h.payload_offset, h.payload_len) == (i == 0));
    g_assert_true (traffic_read_stamp (buf, len, &sent, &counter));
    g_assert_cmpuint (sent, ==, 123456789);
    g_assert_cmpuint (counter, ==, i);
  }
  traffic_stream_end_frame (&s, 3000);
  /* A delta frame's first packet is not a key frame. */
  {
    size_t len = traffic_write_vp8 (&s, buf, false, 6000, 0, 6, 1);

    g_assert_true (rtp_parse (buf, len, &h));
    g_assert_cmpuint (h.timestamp, ==, 4000);
    g_assert_false (rtp_vp8_is_keyframe (buf + h.payload_offset, h.payload_len));
  }
}

static void
test_opus (void)
{
  TrafficStream s;
  uint8_t buf[12 + TRAFFIC_MAX_PAYLOAD];
  RtpHeader h;
  size_t len;
  uint64_t sent;
  uint32_t counter;

  traffic_stream_init (&s, 7, 10, 0);
  len = traffic_write_opus (&s, buf, 100, 960, 42);
  g_assert_cmpuint (len, ==, 112);
  g_assert_true (rtp_parse (buf, len, &h));
  g_assert_cmpuint (h.payload_type, ==, TRAFFIC_AUDIO_PT);
  g_assert_true (traffic_read_stamp (buf, len, &sent, &counter));
  g_assert_cmpuint (sent, ==, 42);
  len = traffic_write_opus (&s, buf, 100, 960, 43);
  g_assert_true (rtp_parse (buf, len, &h));
  g_assert_cmpuint (h.timestamp, ==, 960);
  /* Not stamped: too short, or no magic. */
  g_assert_false (traffic_read_stamp (buf, 20, &sent, &counter));
  buf[len - TRAFFIC_STAMP_LEN] = 'X';
  g_assert_false (traffic_read_stamp (buf, len, &sent, &counter));
}

/* A simulcast layer's packets: mid and rid header extensions that caud's
 * parser finds, the key frame still detected behind them, packets no
 * larger than without extensions, and the layer tag read back. */
static void
test_simulcast_layer (void)
{
  TrafficStream s;
  uint8_t buf[12 + TRAFFIC_MAX_PAYLOAD];
  unsigned n = traffic_vp8_packet_count (24000);
  RtpHeader h;
  const uint8_t *data;
  size_t len, elen;

  traffic_stream_init (&s, 0x0a0b0c0d, 100, 5000);
  g_assert_false (traffic_stream_set_sdes (&s, 15, "0", 10, "h"));      /* id > 14 */
  g_assert_false (traffic_stream_set_sdes (&s, 4, "1", 10, "toolong"));
  g_assert_cmpuint (s.ext_len, ==, 0);
  g_assert_true (traffic_stream_set_sdes (&s, 4, "1", 10, "h"));
  g_assert_cmpuint (s.ext_len, ==, 8);                                  /* 4 + 4, no padding */
  traffic_stream_set_tag (&s, 2);
  for (unsigned i = 0; i < n; i++) {
    uint64_t sent;
    uint32_t counter;

    len = traffic_write_vp8 (&s, buf, true, 24000, i, n, 77);
    g_assert_cmpuint (len, <=, 12 + TRAFFIC_MAX_PAYLOAD);
    g_assert_true (rtp_parse (buf, len, &h));
    g_assert_true (h.extension);
    g_assert_cmpuint (h.ext_profile, ==, 0xbede);
    g_assert_cmpuint (h.header_len, ==, 20);
    g_assert_true (rtp_find_extension (buf, &h, 4, &data, &elen));
    g_assert_cmpuint (elen, ==, 1);
    g_assert_cmpint (data[0], ==, '1');
    g_assert_true (rtp_find_extension (buf, &h, 10, &data, &elen));
    g_assert_cmpuint (elen, ==, 1);
    g_assert_cmpint (data[0], ==, 'h');
    g_assert_true (rtp_vp8_is_keyframe (buf + h.payload_offset, h.payload_len) == (i == 0));
    g_assert_true (traffic_read_stamp (buf, len, &sent, &counter));
    g_assert_cmpuint (sent, ==, 77);
    g_assert_cmpint (traffic_read_tag (buf, len), ==, 2);
  }
  /* odd lengths are padded to a word */
  g_assert_true (traffic_stream_set_sdes (&s, 4, "10", 10, "mid"));
  g_assert_cmpuint (s.ext_len, ==, 4 + 8);
  len = traffic_write_vp8 (&s, buf, false, 600, 0, 1, 1);
  g_assert_true (rtp_parse (buf, len, &h));
  g_assert_true (rtp_find_extension (buf, &h, 10, &data, &elen));
  g_assert_cmpuint (elen, ==, 3);
  g_assert_cmpmem (data, 3, "mid", 3);
  /* untagged streams read as no layer */
  traffic_stream_init (&s, 1, 1, 1);
  len = traffic_write_vp8 (&s, buf, false, 600, 0, 1, 1);
  g_assert_cmpint (traffic_read_tag (buf, len), ==, -1);
  g_assert_cmpint (traffic_read_tag (buf, 20), ==, -1);
}

static void
test_recv_loss_across_wrap (void)
{
  TrafficRecvStream r;

  traffic_recv_init (&r, 1);
  traffic_recv_packet (&r, 65530, 100);        /* before the window */
  traffic_recv_window_begin (&r);
  /* 65531..65535, 0..9 with 3 lost (65533, 2, 5) and 7 arriving after 8 */
  for (uint32_t v = 65531; v < 65536 + 10; v++) {
    uint16_t seq = (uint16_t) v;

    if (seq == 65533 || seq == 2 || seq == 5 || seq == 7)
      continue;
    traffic_recv_packet (&r, seq, 100);
    if (seq == 8)
      traffic_recv_packet (&r, 7, 100);
  }
  g_assert_cmpuint (traffic_recv_window_expected (&r), ==, 15);
  g_assert_cmpuint (r.window_received, ==, 12);
  g_assert_cmpuint (r.window_reordered, ==, 1);
  g_assert_cmpuint (r.window_bytes, ==, 1200);
  /* A late packet from before the window is not counted in it. */
  traffic_recv_packet (&r, 65529, 100);
  g_assert_cmpuint (r.window_received, ==, 12);
}

static void
test_histogram (void)
{
  static TrafficHistogram h;

  traffic_hist_reset (&h);
  g_assert_cmpfloat (traffic_hist_quantile (&h, 0.5), <, 0);
  for (int i = 0; i < 99; i++)
    traffic_hist_add (&h, 1000);               /* 1 ms */
  traffic_hist_add (&h, 40000);                /* 40 ms */
  g_assert_cmpfloat_with_epsilon (traffic_hist_quantile (&h, 0.5), 1.1, 1e-9);
  g_assert_cmpfloat_with_epsilon (traffic_hist_quantile (&h, 0.99), 40.1, 1e-9);
  traffic_hist_add (&h, 5 * G_USEC_PER_SEC);   /* overflow bucket */
  g_assert_cmpfloat (traffic_hist_quantile (&h, 1.0), >=, 1000);
}

/* libwebrtc's pacer arithmetic at 2.5 × 1.5 Mbit/s = 3.75 Mbit/s (468.75
 * bytes per ms): how many 1200-byte packets leave at once, and when the
 * next may follow.  Times are given, never read from a clock. */
static unsigned
send_while_allowed (TrafficPacer *p, int64_t now_us, unsigned max)
{
  unsigned n = 0;

  traffic_pacer_update (p, now_us);
  while (n < max && traffic_pacer_can_send (p)) {
    traffic_pacer_sent (p, 1200);
    n++;
  }
  return n;
}

static void
test_pacer (void)
{
  TrafficPacer p;

  /* 40 ms burst interval: 16 packets while debt < 18 750 bytes. */
  traffic_pacer_init (&p, 3750000, 40000);
  g_assert_cmpuint (send_while_allowed (&p, 1000000, 21), ==, 16);
  /* 19 200 bytes of debt: below 18 750 again after 960 µs. */
  g_assert_cmpuint (send_while_allowed (&p, 1000900, 5), ==, 0);
  g_assert_cmpuint (send_while_allowed (&p, 1001000, 5), ==, 1);
  g_assert_cmpuint (send_while_allowed (&p, 1002000, 5), ==, 0);
  g_assert_cmpuint (send_while_allowed (&p, 1003560, 5), ==, 1);
  /* After a quiet second the debt is gone: a whole burst again. */
  g_assert_cmpuint (send_while_allowed (&p, 2003560, 21), ==, 16);

  /* The pre-2023 5 ms budget: two packets, then one per 2.56 ms. */
  traffic_pacer_init (&p, 3750000, 5000);
  g_assert_cmpuint (send_while_allowed (&p, 0, 21), ==, 2);
  g_assert_cmpuint (send_while_allowed (&p, 100, 21), ==, 0);
  g_assert_cmpuint (send_while_allowed (&p, 1000, 21), ==, 1);
  g_assert_cmpuint (send_while_allowed (&p, 3560, 21), ==, 1);

  /* Burst interval 0: one packet, then the next once its 2 560 µs of
   * debt are paid. */
  traffic_pacer_init (&p, 3750000, 0);
  g_assert_cmpuint (send_while_allowed (&p, 0, 21), ==, 1);
  g_assert_cmpuint (send_while_allowed (&p, 2000, 21), ==, 0);
  g_assert_cmpuint (send_while_allowed (&p, 2560, 21), ==, 1);

  /* Rate 0: no pacing, everything at once (the old bursty mode). */
  traffic_pacer_init (&p, 0, 40000);
  g_assert_cmpuint (send_while_allowed (&p, 0, 21), ==, 21);

  /* A clock that goes backwards neither drains nor adds debt. */
  traffic_pacer_init (&p, 3750000, 5000);
  g_assert_cmpuint (send_while_allowed (&p, 5000, 21), ==, 2);
  g_assert_cmpuint (send_while_allowed (&p, 4000, 21), ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/bench/traffic/vp8-frames", test_vp8_frames);
  g_test_add_func ("/bench/traffic/opus", test_opus);
  g_test_add_func ("/bench/traffic/simulcast-layer", test_simulcast_layer);
  g_test_add_func ("/bench/traffic/recv-loss-across-wrap", test_recv_loss_across_wrap);
  g_test_add_func ("/bench/traffic/histogram", test_histogram);
  g_test_add_func ("/bench/traffic/pacer", test_pacer);
  return g_test_run ();
}
