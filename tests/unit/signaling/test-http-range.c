/* Tests signaling/http-range.c: every form of RFC 9110 §14.1.2 single
 * ranges, what is ignored, what is unsatisfiable, and every truncated prefix
 * of a valid header. */
#include <string.h>

#include "http-range.h"

typedef struct {
  const char *header;
  guint64 size;
  SignalingRange expected;
  guint64 first, last;
} Case;

static const Case cases[] = {
  { NULL, 100, SIGNALING_RANGE_NONE },
  { "", 100, SIGNALING_RANGE_NONE },
  { "bytes=0-99", 100, SIGNALING_RANGE_OK, 0, 99 },
  { "bytes=0-0", 100, SIGNALING_RANGE_OK, 0, 0 },
  { "bytes=10-", 100, SIGNALING_RANGE_OK, 10, 99 },
  { "bytes=10-1000", 100, SIGNALING_RANGE_OK, 10, 99 },          /* clamped to the end */
  { "bytes=-10", 100, SIGNALING_RANGE_OK, 90, 99 },
  { "bytes=-1000", 100, SIGNALING_RANGE_OK, 0, 99 },             /* more than there is */
  { "bytes= 5-9 ", 100, SIGNALING_RANGE_OK, 5, 9 },
  { "bytes=99-99", 100, SIGNALING_RANGE_OK, 99, 99 },
  { "bytes=0-18446744073709551615", 100, SIGNALING_RANGE_OK, 0, 99 },
  { "bytes=100-", 100, SIGNALING_RANGE_UNSATISFIABLE },
  { "bytes=100-200", 100, SIGNALING_RANGE_UNSATISFIABLE },
  { "bytes=-0", 100, SIGNALING_RANGE_UNSATISFIABLE },
  { "bytes=0-", 0, SIGNALING_RANGE_UNSATISFIABLE },
  { "bytes=-5", 0, SIGNALING_RANGE_UNSATISFIABLE },
  /* ignored: the whole representation */
  { "bytes=0-1,5-6", 100, SIGNALING_RANGE_NONE },
  { "items=0-1", 100, SIGNALING_RANGE_NONE },
  { "Bytes=0-1", 100, SIGNALING_RANGE_NONE },
  { "bytes=5-4", 100, SIGNALING_RANGE_NONE },
  { "bytes=-", 100, SIGNALING_RANGE_NONE },
  { "bytes=a-5", 100, SIGNALING_RANGE_NONE },
  { "bytes=5-b", 100, SIGNALING_RANGE_NONE },
  { "bytes=+5-9", 100, SIGNALING_RANGE_NONE },
  { "bytes=5 -9", 100, SIGNALING_RANGE_NONE },
  { "bytes=0x10-", 100, SIGNALING_RANGE_NONE },
  { "bytes=18446744073709551616-", 100, SIGNALING_RANGE_NONE },  /* 2^64 */
  { "bytes=--5", 100, SIGNALING_RANGE_NONE },
  { "bytes=5", 100, SIGNALING_RANGE_NONE },
};

static void
test_cases (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++) {
    const Case *c = &cases[i];
    guint64 first = 12345, last = 67890;
    SignalingRange got = signaling_http_range_parse (c->header, c->size, &first, &last);

    g_test_message ("%s / %" G_GUINT64_FORMAT, c->header ? c->header : "(null)", c->size);
    g_assert_cmpint (got, ==, c->expected);
    if (got == SIGNALING_RANGE_OK) {
      g_assert_cmpuint (first, ==, c->first);
      g_assert_cmpuint (last, ==, c->last);
    } else {
      g_assert_cmpuint (first, ==, 12345);     /* untouched */
      g_assert_cmpuint (last, ==, 67890);
    }
  }
}

/* Every prefix of a valid header parses to something coherent. */
static void
test_prefixes (void)
{
  const char *full = "bytes=1048570-1048600";

  for (gsize n = 0; n <= strlen (full); n++) {
    g_autofree char *prefix = g_strndup (full, n);
    guint64 first, last;
    SignalingRange got = signaling_http_range_parse (prefix, 3 * 1048576, &first, &last);

    if (got == SIGNALING_RANGE_OK)
      g_assert_true (first <= last && last < 3 * 1048576);
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/signaling/http-range/cases", test_cases);
  g_test_add_func ("/signaling/http-range/prefixes", test_prefixes);
  return g_test_run ();
}
