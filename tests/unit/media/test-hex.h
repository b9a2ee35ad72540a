/* test-hex.h — hex test vectors for the media unit tests (RFC appendices
 * print keys and packets in hex; spaces between bytes are allowed). */
#pragma once

#include <glib.h>

static inline gsize
hex_decode (const char *hex, guint8 *out, gsize cap)
{
  gsize n = 0;

  for (const char *p = hex; *p != '\0';)
    {
      if (*p == ' ')
        {
          p++;
          continue;
        }
      g_assert_cmpuint (n, <, cap);
      out[n++] = (guint8) (g_ascii_xdigit_value (p[0]) << 4 | g_ascii_xdigit_value (p[1]));
      p += 2;
    }
  return n;
}

static inline void
assert_hex (const guint8 *got, gsize len, const char *want_hex)
{
  guint8 want[256];
  gsize want_len = hex_decode (want_hex, want, sizeof want);

  g_assert_cmpmem (got, len, want, want_len);
}
