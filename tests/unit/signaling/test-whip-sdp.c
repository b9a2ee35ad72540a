/* Tests signaling/whip-sdp.c: WHIP/WHEP offer checks on real captured
 * offers (Chromium 156, webrtcbin 1.22, aiortc 1.4 from
 * tests/unit/media/sdp/) and hand-written edge cases, every truncated
 * prefix of a real offer, and trickle-ICE SDP fragments (RFC 8840). */
#include <string.h>

#include "whip-sdp.h"

#ifndef CAU_SOURCE_ROOT
#error "CAU_SOURCE_ROOT must be defined"
#endif

static char *
read_sdp (const char *name)
{
  g_autofree char *path = g_build_filename (CAU_SOURCE_ROOT, "tests", "unit", "media", "sdp",
                                            name, NULL);
  g_autoptr (GError) error = NULL;
  char *text = NULL;

  g_file_get_contents (path, &text, NULL, &error);
  g_assert_no_error (error);
  return text;
}

/* @text with every "a=@from" line turned into "a=@to". */
static char *
replace_attribute (const char *text, const char *from, const char *to)
{
  g_autofree char *pattern = g_strdup_printf ("a=%s\r\n", from);
  g_autofree char *replacement = g_strdup_printf ("a=%s\r\n", to);
  g_autoptr (GString) out = g_string_new (text);

  g_string_replace (out, pattern, replacement, 0);
  return g_string_free (g_steal_pointer (&out), FALSE);
}

static gboolean
check (const char *text, SignalingWhipDirection direction, char **out_ufrag, char **out_message)
{
  g_autofree char *ufrag = NULL, *message = NULL;
  gboolean ok = signaling_whip_check_offer (text, direction, &ufrag, &message);

  /* Exactly one of the two is set: a ufrag may be absent, a refusal always says why. */
  g_assert_true (ok ? message == NULL : message != NULL && ufrag == NULL);
  if (out_ufrag)
    *out_ufrag = g_steal_pointer (&ufrag);
  if (out_message)
    *out_message = g_steal_pointer (&message);
  return ok;
}

static void
test_real_offers (void)
{
  g_autofree char *chromium = read_sdp ("chromium-156-opus-vp8-h264-datachannel.sdp");
  g_autofree char *webrtcbin = read_sdp ("webrtcbin-1.22-opus-vp8.sdp");
  g_autofree char *aiortc = read_sdp ("aiortc-1.4-opus-vp8-h264-datachannel.sdp");
  g_autofree char *answer = read_sdp ("chromium-156-subscribe-answer.sdp");
  g_autofree char *ufrag = NULL, *message = NULL;

  /* Publishing offers: Chromium sendonly (with a data channel, skipped),
   * webrtcbin sendrecv with a bundle-only second m-line, aiortc. */
  g_assert_true (check (chromium, SIGNALING_WHIP_INGEST, &ufrag, NULL));
  g_assert_cmpstr (ufrag, ==, "hTP3");
  g_clear_pointer (&ufrag, g_free);
  g_assert_true (check (webrtcbin, SIGNALING_WHIP_INGEST, &ufrag, NULL));
  g_assert_cmpstr (ufrag, ==, "cjvWiycdRba9DD9c7HvjJmbsSXIyS6DM");
  g_clear_pointer (&ufrag, g_free);
  g_assert_true (check (aiortc, SIGNALING_WHIP_INGEST, NULL, NULL));

  /* Chromium's sendonly offer is no WHEP offer... */
  g_assert_false (check (chromium, SIGNALING_WHIP_EGRESS, NULL, &message));
  g_assert_nonnull (strstr (message, "sendonly"));
  g_clear_pointer (&message, g_free);
  /* ...but sendrecv ones serve both. */
  g_assert_true (check (webrtcbin, SIGNALING_WHIP_EGRESS, NULL, NULL));

  /* A recvonly SDP (with an inactive m-line) receives: WHEP yes, WHIP no. */
  g_assert_true (check (answer, SIGNALING_WHIP_EGRESS, &ufrag, NULL));
  g_assert_cmpstr (ufrag, ==, "1xv1");
  g_assert_false (check (answer, SIGNALING_WHIP_INGEST, NULL, &message));
  g_assert_nonnull (strstr (message, "recvonly"));
}

static void
test_directions (void)
{
  g_autofree char *chromium = read_sdp ("chromium-156-opus-vp8-h264-datachannel.sdp");
  g_autofree char *recvonly = replace_attribute (chromium, "sendonly", "recvonly");
  g_autofree char *inactive = replace_attribute (chromium, "sendonly", "inactive");
  g_autofree char *undirected = replace_attribute (chromium, "sendonly", "x-nothing");
  g_autofree char *message = NULL;

  g_assert_true (check (recvonly, SIGNALING_WHIP_EGRESS, NULL, NULL));
  g_assert_false (check (recvonly, SIGNALING_WHIP_INGEST, NULL, NULL));
  /* Everything inactive: nothing to publish or watch. */
  g_assert_false (check (inactive, SIGNALING_WHIP_INGEST, NULL, &message));
  g_assert_nonnull (strstr (message, "no audio or video"));
  g_assert_false (check (inactive, SIGNALING_WHIP_EGRESS, NULL, NULL));
  /* No direction attribute is sendrecv. */
  g_assert_true (check (undirected, SIGNALING_WHIP_INGEST, NULL, NULL));
  g_assert_true (check (undirected, SIGNALING_WHIP_EGRESS, NULL, NULL));
}

static void
test_bad_offers (void)
{
  static const char *const bad[] = {
    "",
    "hello",
    "{\"sdp\":\"v=0\"}",
    "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n",                     /* no media */
    "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
    "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n",                   /* data only */
    "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
    "m=audio 0 UDP/TLS/RTP/SAVPF 111\r\na=sendonly\r\n",                      /* rejected */
    "v=1\r\n",
  };

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++) {
    g_autofree char *message = NULL;

    g_test_message ("bad offer %zu", i);
    g_assert_false (check (bad[i], SIGNALING_WHIP_INGEST, NULL, &message));
    g_assert_cmpuint (strlen (message), >, 0);
  }
  /* A session-level ufrag is found when no m-line has one. */
  {
    g_autofree char *ufrag = NULL;

    g_assert_true (check ("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
                          "a=ice-ufrag:sess\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n"
                          "a=sendonly\r\n", SIGNALING_WHIP_INGEST, &ufrag, NULL));
    g_assert_cmpstr (ufrag, ==, "sess");
  }
}

/* No prefix of a real offer crashes or is half-accepted with a message. */
static void
test_truncated (void)
{
  g_autofree char *chromium = read_sdp ("chromium-156-opus-vp8-h264-datachannel.sdp");
  gsize length = strlen (chromium);
  guint accepted = 0;

  for (gsize cut = 0; cut <= length; cut++) {
    g_autofree char *prefix = g_strndup (chromium, cut);

    for (int d = 0; d < 2; d++)
      if (check (prefix, d ? SIGNALING_WHIP_EGRESS : SIGNALING_WHIP_INGEST, NULL, NULL))
        accepted++;
  }
  /* The whole offer (and prefixes past its first sendonly audio section)
   * is accepted for WHIP; short prefixes are not. */
  g_assert_cmpuint (accepted, >, 0);
  {
    g_autofree char *start = g_strndup (chromium, 20);

    g_assert_false (check (start, SIGNALING_WHIP_INGEST, NULL, NULL));
  }
}

/* ---- trickle fragments ---------------------------------------------------- */

/* RFC 8840 §9's example fragment, as a WHIP client sends it (§4.3.1 of RFC 9725). */
#define FRAGMENT \
  "a=ice-options:trickle ice2\r\n" \
  "a=group:BUNDLE 0 1\r\n" \
  "m=audio 9 RTP/AVP 0\r\n" \
  "a=mid:0\r\n" \
  "a=ice-ufrag:EsAw\r\n" \
  "a=ice-pwd:P2uYro0UCOQ4zxjKXaWCBui1\r\n" \
  "a=candidate:1387637174 1 udp 2122260223 192.0.2.1 61764 typ host generation 0 ufrag EsAw network-id 1\r\n" \
  "a=candidate:3471623853 1 udp 2122194687 198.51.100.2 61765 typ host generation 0 ufrag EsAw network-id 2\r\n" \
  "a=end-of-candidates\r\n"

static void
test_sdpfrag (void)
{
  g_auto (SignalingSdpFrag) frag = { 0 };
  g_autofree char *message = NULL;

  g_assert_true (signaling_whip_parse_sdpfrag (FRAGMENT, &frag, &message));
  g_assert_null (message);
  g_assert_cmpstr (frag.ufrag, ==, "EsAw");
  g_assert_cmpstr (frag.pwd, ==, "P2uYro0UCOQ4zxjKXaWCBui1");
  g_assert_cmpuint (frag.candidates->len, ==, 2);
  g_assert_cmpstr (frag.candidates->pdata[0], ==,
                   "candidate:1387637174 1 udp 2122260223 192.0.2.1 61764 typ host generation 0 "
                   "ufrag EsAw network-id 1");
  g_assert_true (g_str_has_prefix (frag.candidates->pdata[1], "candidate:3471623853 "));
  g_assert_true (frag.end_of_candidates);
  signaling_sdpfrag_clear (&frag);

  /* LF line ends, no final newline, blank lines, candidates only. */
  g_assert_true (signaling_whip_parse_sdpfrag ("\na=candidate:1 1 udp 1 127.0.0.1 9 typ host\n\n"
                                               "a=candidate:2 1 udp 1 127.0.0.1 10 typ host",
                                               &frag, &message));
  g_assert_cmpuint (frag.candidates->len, ==, 2);
  g_assert_null (frag.ufrag);
  g_assert_false (frag.end_of_candidates);
  signaling_sdpfrag_clear (&frag);

  /* The same ufrag twice is fine (one per m-line). */
  g_assert_true (signaling_whip_parse_sdpfrag ("a=ice-ufrag:x\r\nm=video 9 RTP/AVP 96\r\n"
                                               "a=ice-ufrag:x\r\n", &frag, &message));
  signaling_sdpfrag_clear (&frag);
}

static void
test_bad_sdpfrag (void)
{
  g_autofree char *digits = g_strnfill (1020, '1');
  g_autofree char *long_line = g_strdup_printf ("a=candidate:%s", digits);
  g_autofree char *huge = g_strnfill (SIGNALING_WHIP_MAX_SDPFRAG + 1, '\n');
  const char *const bad[] = {
    "v=0\r\n",                                  /* not a fragment line */
    "hello",
    "a",
    "a=ice-ufrag:one\r\na=ice-ufrag:two\r\n",   /* two ICE sessions */
    "a=ice-pwd:one\r\na=ice-pwd:two\r\n",
    "a=ice-ufrag:\r\n",
    "a=candidate:1\r\rb=x\r\n",                 /* a bare CR inside a line */
    long_line,
    huge,
  };

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++) {
    g_auto (SignalingSdpFrag) frag = { 0 };
    g_autofree char *message = NULL;

    g_test_message ("bad fragment %zu", i);
    g_assert_false (signaling_whip_parse_sdpfrag (bad[i], &frag, &message));
    g_assert_nonnull (message);
  }
  /* Every prefix of the example parses or is refused, never crashes. */
  for (gsize cut = 0; cut <= strlen (FRAGMENT); cut++) {
    g_autofree char *prefix = g_strndup (FRAGMENT, cut);
    g_auto (SignalingSdpFrag) frag = { 0 };
    g_autofree char *message = NULL;

    if (signaling_whip_parse_sdpfrag (prefix, &frag, &message))
      g_assert_cmpuint (frag.candidates->len, <=, 2);
    else
      g_assert_nonnull (message);
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/whip-sdp/real-offers", test_real_offers);
  g_test_add_func ("/whip-sdp/directions", test_directions);
  g_test_add_func ("/whip-sdp/bad-offers", test_bad_offers);
  g_test_add_func ("/whip-sdp/truncated", test_truncated);
  g_test_add_func ("/whip-sdp/sdpfrag", test_sdpfrag);
  g_test_add_func ("/whip-sdp/bad-sdpfrag", test_bad_sdpfrag);
  return g_test_run ();
}
