/* whip-sdp.h — the pure parts of WHIP and WHEP (whip.c): checking an
 * offer before it reaches the media plane, and reading a trickle-ICE SDP
 * fragment (RFC 8840).  No I/O, no GLib main loop; fuzzed by
 * tests/fuzz/fuzz-whip.c, unit-tested by tests/unit/signaling/test-whip-sdp.c.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  SIGNALING_WHIP_INGEST,      /* WHIP: the client publishes */
  SIGNALING_WHIP_EGRESS,      /* WHEP: the client watches   */
} SignalingWhipDirection;

/* Bounds of what a client sends (bytes). */
#define SIGNALING_WHIP_MAX_SDPFRAG 16384
#define SIGNALING_WHIP_MAX_SDPFRAG_LINE 1024

/* @text (NUL-terminated) is an SDP offer that starts with "v=0", parses
 * (GstSDPMessage) and suits @direction: among its audio and video m-lines
 * (rejected ones, at port 0 and not bundle-only, and data channels are
 * skipped) at least one sends (WHIP: sendonly or sendrecv; no direction
 * attribute is sendrecv, RFC 3264 §5.1) or receives (WHEP: recvonly or
 * sendrecv), and none goes the other way only (recvonly in a WHIP offer,
 * sendonly in a WHEP one); inactive ones are allowed.
 * *@out_ufrag (transfer full, may be NULL): its ice-ufrag, from the first
 * m-line that has one, else the session level.  FALSE + *@out_message
 * (transfer full) saying why, for a 400 reply. */
gboolean signaling_whip_check_offer (const char *text, SignalingWhipDirection direction,
                                     char **out_ufrag, char **out_message);

/* A trickle-ICE SDP fragment (RFC 8840 §9, as WHIP sends it, RFC 9725
 * §4.3.1). */
typedef struct {
  char *ufrag;                /* a=ice-ufrag, or NULL                        */
  char *pwd;                  /* a=ice-pwd, or NULL                          */
  GPtrArray *candidates;      /* char*: "candidate:..." without "a=", in order */
  gboolean end_of_candidates; /* a=end-of-candidates                         */
} SignalingSdpFrag;

void signaling_sdpfrag_clear (SignalingSdpFrag *frag);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (SignalingSdpFrag, signaling_sdpfrag_clear)

/* Reads @text (NUL-terminated, at most SIGNALING_WHIP_MAX_SDPFRAG bytes):
 * lines end with CRLF or LF; empty lines are skipped; every other line is
 * an a=, m= or c= line of at most SIGNALING_WHIP_MAX_SDPFRAG_LINE bytes.
 * Attributes other than ice-ufrag, ice-pwd, candidate and
 * end-of-candidates (ice-options, group, mid, ...) are read over.  Fills
 * @frag (zeroed by the caller; clear it in any case).  FALSE + *@out_message
 * (transfer full) for anything else, or an ice-ufrag or ice-pwd given twice
 * with different values. */
gboolean signaling_whip_parse_sdpfrag (const char *text, SignalingSdpFrag *frag,
                                       char **out_message);

G_END_DECLS
