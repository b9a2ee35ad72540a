/* http-range.c — the Range request header (http-range.h). */
#include "http-range.h"

#include <string.h>

/* Decimal digits at @text up to @end (exclusive) as a value; FALSE when
 * empty, not all digits, or over 2^64 - 1. */
static gboolean
parse_decimal (const char *text, const char *end, guint64 *out)
{
  guint64 value = 0;

  if (text >= end)
    return FALSE;
  for (const char *c = text; c < end; c++) {
    guint64 digit;

    if (!g_ascii_isdigit (*c))
      return FALSE;
    digit = (guint64) (*c - '0');
    if (value > (G_MAXUINT64 - digit) / 10)
      return FALSE;
    value = value * 10 + digit;
  }
  *out = value;
  return TRUE;
}

SignalingRange
signaling_http_range_parse (const char *header, guint64 size, guint64 *first, guint64 *last)
{
  const char *spec, *dash, *end;
  guint64 a, b;

  if (header == NULL || strncmp (header, "bytes=", 6) != 0)
    return SIGNALING_RANGE_NONE;
  spec = header + 6;
  while (*spec == ' ')
    spec++;
  end = spec + strlen (spec);
  while (end > spec && end[-1] == ' ')
    end--;
  if (memchr (spec, ',', (size_t) (end - spec)) != NULL
      || (dash = memchr (spec, '-', (size_t) (end - spec))) == NULL)
    return SIGNALING_RANGE_NONE;

  if (dash == spec) {
    /* suffix-range: the last b bytes */
    if (!parse_decimal (dash + 1, end, &b))
      return SIGNALING_RANGE_NONE;
    if (b == 0 || size == 0)
      return SIGNALING_RANGE_UNSATISFIABLE;
    *first = b >= size ? 0 : size - b;
    *last = size - 1;
    return SIGNALING_RANGE_OK;
  }
  if (!parse_decimal (spec, dash, &a))
    return SIGNALING_RANGE_NONE;
  if (dash + 1 == end) {
    b = G_MAXUINT64;
  } else if (!parse_decimal (dash + 1, end, &b) || b < a) {
    return SIGNALING_RANGE_NONE;
  }
  if (a >= size)
    return SIGNALING_RANGE_UNSATISFIABLE;
  *first = a;
  *last = MIN (b, size - 1);
  return SIGNALING_RANGE_OK;
}
