/* test-nack-cache.c — tests for media/nack-cache.c. */
#include <glib.h>
#include <string.h>

#include "nack-cache.h"

/* An RTP packet as it leaves the SFU: rewritten header, VP8 payload. */
static const uint8_t sent_packet[] = {
  0x80, 0xe0, 0x00, 0x2a, /* V=2, M=1 PT=96, seq 42 */
  0x00, 0x00, 0x75, 0x30, /* timestamp 30000 */
  0x00, 0x00, 0x00, 0x07, /* subscriber SSRC 7 */
  0x10,                   /* VP8 descriptor S=1 PID=0 */
  0x51, 0x42, 0x00,       /* inter frame tag */
  0xaa, 0xbb, 0xcc,       /* partition data */
};

static void
test_new_arguments (void)
{
  g_assert_null (nack_cache_new (0, 1500));
  g_assert_null (nack_cache_new (3, 1500));
  g_assert_null (nack_cache_new (1000, 1500));
  g_assert_null (nack_cache_new (131072, 1500));
  g_assert_null (nack_cache_new (1024, 0));
  g_assert_null (nack_cache_new (65536, SIZE_MAX / 2));
  NackCache *c = nack_cache_new (1, 16);
  g_assert_nonnull (c);
  nack_cache_unref (c);
  nack_cache_unref (NULL);
}

static void
test_put_get (void)
{
  NackCache *c = nack_cache_new (1024, 1500);
  size_t len = 0;
  uint8_t pkt[sizeof sent_packet];
  memcpy (pkt, sent_packet, sizeof pkt);

  g_assert_null (nack_cache_get (c, 42, 0, 1000, &len));      /* never stored */
  nack_cache_put (c, 42, pkt, sizeof pkt, 5000);
  memset (pkt, 0, sizeof pkt);                                /* cache holds a copy */
  const uint8_t *got = nack_cache_get (c, 42, 5100, 1000, &len);
  g_assert_nonnull (got);
  g_assert_cmpmem (got, len, sent_packet, sizeof sent_packet);
  g_assert_null (nack_cache_get (c, 43, 5100, 1000, &len));
  g_assert_null (nack_cache_get (c, 42 + 1024, 5100, 1000, &len)); /* same slot, other seq */

  /* age: exactly max_age is still served, one ms more is not */
  g_assert_nonnull (nack_cache_get (c, 42, 6000, 1000, NULL));
  g_assert_null (nack_cache_get (c, 42, 6001, 1000, &len));
  /* a clock that went backwards counts as fresh */
  g_assert_nonnull (nack_cache_get (c, 42, 10, 1000, &len));

  nack_cache_clear (c);
  g_assert_null (nack_cache_get (c, 42, 5000, 1000, &len));
  nack_cache_unref (c);
}

static void
test_overwrite_and_wrap (void)
{
  NackCache *c = nack_cache_new (16, 64);
  size_t len;
  uint8_t pkt[64];

  /* 40 packets through 16 slots, seq wrapping at 65535 */
  for (unsigned i = 0; i < 40; i++) {
    uint16_t seq = (uint16_t) (65520 + i);
    memset (pkt, (int) i, sizeof pkt);
    nack_cache_put (c, seq, pkt, 10 + i, 1000 + i);
  }
  for (unsigned i = 0; i < 40; i++) {
    uint16_t seq = (uint16_t) (65520 + i);
    const uint8_t *got = nack_cache_get (c, seq, 1100, 1000, &len);
    if (i < 40 - 16) {
      g_assert_null (got);                                     /* overwritten */
    } else {
      g_assert_nonnull (got);
      g_assert_cmpuint (len, ==, 10 + i);
      g_assert_cmpuint (got[0], ==, i);
      g_assert_cmpuint (got[len - 1], ==, i);
    }
  }

  /* oversize packet: not stored, and the older one in its slot is gone */
  uint8_t big[65] = { 0 };
  uint16_t last = (uint16_t) (65520 + 39);
  g_assert_nonnull (nack_cache_get (c, last, 1100, 1000, &len));
  nack_cache_put (c, (uint16_t) (last + 16), big, sizeof big, 1200);
  g_assert_null (nack_cache_get (c, last, 1200, 1000, &len));
  g_assert_null (nack_cache_get (c, (uint16_t) (last + 16), 1200, 1000, &len));
  /* exactly max_packet fits */
  nack_cache_put (c, 7, big, 64, 1300);
  g_assert_nonnull (nack_cache_get (c, 7, 1300, 1000, &len));
  g_assert_cmpuint (len, ==, 64);
  /* a NULL or empty packet empties the slot */
  nack_cache_put (c, 7, NULL, 0, 1300);
  g_assert_null (nack_cache_get (c, 7, 1300, 1000, &len));
  nack_cache_unref (c);
}

/* A publisher's packet as received: its own seq 1000, SSRC 0x11111111,
 * VP8 PictureID 0x8123 (M=1). */
static void
make_received (uint8_t *pkt, size_t len, uint16_t seq, uint32_t ssrc, uint8_t fill)
{
  memset (pkt, fill, len);
  pkt[0] = 0x80, pkt[1] = 0x60;
  pkt[2] = (uint8_t) (seq >> 8), pkt[3] = (uint8_t) seq;
  pkt[8] = (uint8_t) (ssrc >> 24), pkt[9] = (uint8_t) (ssrc >> 16);
  pkt[10] = (uint8_t) (ssrc >> 8), pkt[11] = (uint8_t) ssrc;
  pkt[12] = 0x90, pkt[13] = 0x80, pkt[14] = 0x81, pkt[15] = 0x23;
}

/* The same packet as forwarded to one subscriber: seq, SSRC, PT and
 * PictureID rewritten in place, the rest untouched. */
static void
make_sent (uint8_t *out, const uint8_t *received, size_t len, uint16_t seq)
{
  memcpy (out, received, len);
  out[1] = 0x61;
  out[2] = (uint8_t) (seq >> 8), out[3] = (uint8_t) seq;
  out[8] = 0, out[9] = 0, out[10] = 0, out[11] = 7;
  out[14] = 0x80, out[15] = 0x05;
}

static void
test_log_rebuilds_sent_packet (void)
{
  NackCache *received = nack_cache_new (512, 1300);
  NackLog *log = nack_log_new (512);
  uint8_t in[1200], sent[1200], out[1500];

  g_assert_null (nack_log_new (0));
  g_assert_null (nack_log_new (100));
  g_assert_nonnull (log);
  make_received (in, sizeof in, 1000, 0x11111111, 0x5a);
  in[sizeof in - 1] = 0xee;
  nack_cache_put (received, 1000, in, sizeof in, 5000);
  make_sent (sent, in, sizeof in, 42);
  g_assert_true (nack_log_put (log, 42, received, 1000, sent, 16, sizeof sent, 5000));

  /* The track's cache may go first: the log keeps its own reference. */
  nack_cache_unref (received);
  g_assert_cmpuint (nack_log_get (log, 42, 5100, 1000, out, sizeof out), ==, sizeof sent);
  g_assert_cmpmem (out, sizeof sent, sent, sizeof sent);
  g_assert_cmpuint (nack_log_get (log, 43, 5100, 1000, out, sizeof out), ==, 0);
  g_assert_cmpuint (nack_log_get (log, 42 + 512, 5100, 1000, out, sizeof out), ==, 0);
  /* too old; a clock gone backwards is fresh; no room in @out */
  g_assert_cmpuint (nack_log_get (log, 42, 6001, 1000, out, sizeof out), ==, 0);
  g_assert_cmpuint (nack_log_get (log, 42, 10, 1000, out, sizeof out), ==, sizeof sent);
  g_assert_cmpuint (nack_log_get (log, 42, 5100, 1000, out, sizeof sent - 1), ==, 0);

  nack_log_clear (log);
  g_assert_cmpuint (nack_log_get (log, 42, 5100, 1000, out, sizeof out), ==, 0);
  nack_log_free (log);
  nack_log_free (NULL);
}

/* Nothing is rebuilt from a source packet that is not the one logged. */
static void
test_log_refuses_stale_source (void)
{
  NackCache *received = nack_cache_new (16, 1300);
  NackLog *log = nack_log_new (64);
  uint8_t in[300], sent[300], out[1500];

  make_received (in, sizeof in, 1000, 0x11111111, 1);
  nack_cache_put (received, 1000, in, sizeof in, 5000);
  make_sent (sent, in, sizeof in, 42);

  /* put refuses: no such source packet, another length, a prefix over the
   * packet or over NACK_LOG_MAX_PREFIX; each empties the slot */
  g_assert_true (nack_log_put (log, 42, received, 1000, sent, 16, sizeof sent, 5000));
  g_assert_false (nack_log_put (log, 42, received, 1001, sent, 16, sizeof sent, 5000));
  g_assert_cmpuint (nack_log_get (log, 42, 5000, 1000, out, sizeof out), ==, 0);
  g_assert_false (nack_log_put (log, 42, received, 1000, sent, 16, sizeof sent - 1, 5000));
  g_assert_false (nack_log_put (log, 42, received, 1000, sent, sizeof sent + 1, sizeof sent, 5000));
  g_assert_false (nack_log_put (log, 42, received, 1000, sent, NACK_LOG_MAX_PREFIX + 1,
                                sizeof sent, 5000));
  g_assert_false (nack_log_put (log, 42, NULL, 1000, sent, 16, sizeof sent, 5000));
  g_assert_true (nack_log_put (log, 42, received, 1000, sent, NACK_LOG_MAX_PREFIX, sizeof sent,
                               5000));
  g_assert_cmpuint (nack_log_get (log, 42, 5000, 1000, out, sizeof out), ==, sizeof sent);
  g_assert_cmpmem (out, sizeof sent, sent, sizeof sent);

  /* the source's slot now holds another sequence number */
  make_received (in, sizeof in, 1016, 0x11111111, 2);
  nack_cache_put (received, 1016, in, sizeof in, 5001);
  g_assert_cmpuint (nack_log_get (log, 42, 5001, 1000, out, sizeof out), ==, 0);

  /* same sequence number from another SSRC (a publisher that restarted) */
  make_received (in, sizeof in, 1000, 0x11111111, 3);
  nack_cache_put (received, 1000, in, sizeof in, 5002);
  make_sent (sent, in, sizeof in, 43);
  g_assert_true (nack_log_put (log, 43, received, 1000, sent, 16, sizeof sent, 5002));
  make_received (in, sizeof in, 1000, 0x22222222, 4);
  nack_cache_put (received, 1000, in, sizeof in, 5003);
  g_assert_cmpuint (nack_log_get (log, 43, 5003, 1000, out, sizeof out), ==, 0);

  nack_cache_unref (received);
  nack_log_free (log);
}

/* One log, packets from five caches (say a view that switched sources):
 * the first cache's entries go when the fifth comes; the others stay. */
static void
test_log_sources (void)
{
  NackCache *caches[NACK_LOG_SOURCES + 1];
  NackLog *log = nack_log_new (64);
  uint8_t in[200], sent[200], out[1500];

  for (unsigned i = 0; i <= NACK_LOG_SOURCES; i++) {
    caches[i] = nack_cache_new (16, 1300);
    make_received (in, sizeof in, (uint16_t) (100 + i), 0x1000 + i, (uint8_t) i);
    nack_cache_put (caches[i], (uint16_t) (100 + i), in, sizeof in, 5000);
    make_sent (sent, in, sizeof in, (uint16_t) i);
    g_assert_true (nack_log_put (log, (uint16_t) i, caches[i], (uint16_t) (100 + i), sent, 16,
                                 sizeof sent, 5000));
    nack_cache_unref (caches[i]);
  }
  g_assert_cmpuint (nack_log_get (log, 0, 5000, 1000, out, sizeof out), ==, 0);
  for (unsigned i = 1; i <= NACK_LOG_SOURCES; i++) {
    g_assert_cmpuint (nack_log_get (log, (uint16_t) i, 5000, 1000, out, sizeof out), ==,
                      sizeof sent);
    g_assert_cmpuint (out[sizeof sent - 1], ==, i);
  }
  nack_log_free (log);         /* frees the caches it still holds (ASan: no leak) */
}

/* A publisher leaves: the log lets its ring go once nothing was put from
 * it for max_age (its entries could not be served anyway), and a ring
 * still in use stays. */
static void
test_log_release_idle (void)
{
  NackCache *left = nack_cache_new (16, 1300), *live = nack_cache_new (16, 1300);
  NackLog *log = nack_log_new (64);
  uint8_t in[200], sent[200], out[1500];

  make_received (in, sizeof in, 100, 0x1000, 1);
  nack_cache_put (left, 100, in, sizeof in, 5000);
  make_sent (sent, in, sizeof in, 1);
  g_assert_true (nack_log_put (log, 1, left, 100, sent, 16, sizeof sent, 5000));
  nack_cache_unref (left);     /* the publisher's track is gone: the log holds the last ref */

  make_received (in, sizeof in, 200, 0x2000, 2);
  nack_cache_put (live, 200, in, sizeof in, 5900);
  make_sent (sent, in, sizeof in, 2);
  g_assert_true (nack_log_put (log, 2, live, 200, sent, 16, sizeof sent, 5900));

  nack_log_release_idle (log, 6000, 1000);      /* 1000 ms: not yet */
  g_assert_cmpuint (nack_log_get (log, 1, 6000, 1000, out, sizeof out), ==, sizeof sent);
  nack_log_release_idle (log, 6001, 1000);      /* frees `left` (ASan: no leak, no use after) */
  g_assert_cmpuint (nack_log_get (log, 1, 5500, 1000, out, sizeof out), ==, 0);
  g_assert_cmpuint (nack_log_get (log, 2, 6001, 1000, out, sizeof out), ==, sizeof sent);
  g_assert_cmpuint (out[sizeof sent - 1], ==, 2);
  nack_log_release_idle (NULL, 6001, 1000);

  nack_cache_unref (live);
  nack_log_free (log);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/media/nack-cache/new-arguments", test_new_arguments);
  g_test_add_func ("/media/nack-cache/put-get", test_put_get);
  g_test_add_func ("/media/nack-cache/overwrite-wrap", test_overwrite_and_wrap);
  g_test_add_func ("/media/nack-log/rebuilds-sent-packet", test_log_rebuilds_sent_packet);
  g_test_add_func ("/media/nack-log/refuses-stale-source", test_log_refuses_stale_source);
  g_test_add_func ("/media/nack-log/sources", test_log_sources);
  g_test_add_func ("/media/nack-log/release-idle", test_log_release_idle);
  return g_test_run ();
}
