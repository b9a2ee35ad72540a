/* http-range.h — the Range request header (RFC 9110 §14.1.2), pure.
 *
 * One byte range over a representation of @size bytes: "bytes=FIRST-LAST",
 * "bytes=FIRST-" and "bytes=-SUFFIX".  Several ranges, other units and bad
 * syntax are NONE (a server may answer any Range with the whole
 * representation, §14.2); a range that starts at or past the end, or an
 * empty suffix, is UNSATISFIABLE (416).  No allocation, no I/O; fuzzed by
 * tests/fuzz/fuzz-range.c.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  SIGNALING_RANGE_NONE,            /* absent or ignored: the whole representation */
  SIGNALING_RANGE_OK,              /* [*first, *last], last < size               */
  SIGNALING_RANGE_UNSATISFIABLE,   /* 416 with Content-Range: bytes * / size      */
} SignalingRange;

/* @header may be NULL.  *@first and *@last are set only for RANGE_OK. */
SignalingRange signaling_http_range_parse (const char *header, guint64 size, guint64 *first,
                                           guint64 *last);

G_END_DECLS
