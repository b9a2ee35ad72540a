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
  nack_cache_free (c);
  nack_cache_free (NULL);
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
  nack_cache_free (c);
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
  nack_cache_free (c);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/media/nack-cache/new-arguments", test_new_arguments);
  g_test_add_func ("/media/nack-cache/put-get", test_put_get);
  g_test_add_func ("/media/nack-cache/overwrite-wrap", test_overwrite_and_wrap);
  return g_test_run ();
}
