/* fuzz-sdp.c — libFuzzer target for media/sdp.c (STYLE.md §12).
 *
 * Feeds the input to media_sdp_parse as a client's offer; when it parses,
 * answers it as a publish offer and re-reads it as a subscribe answer to the
 * mids it names, then re-parses our own answer (which must parse).  The input
 * is also tried as a trickled candidate string.  Corpus: corpus/sdp/, seeded
 * with the SDPs captured from Chromium, aiortc and webrtcbin
 * (tests/unit/media/sdp/).
 */
#include "sdp.h"

#include <stdint.h>
#include <string.h>

#define MAX_SDP (64 * 1024)

static const gchar *const candidates[] = {
  "candidate:1 1 udp 2130706431 127.0.0.1 20000 typ host", NULL,
};

static const MediaSdpLocal local = {
  "abcd", "0123456789012345678901",
  "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89",
  MEDIA_SDP_SETUP_PASSIVE, candidates, TRUE, 1, 1,
};

static void
fuzz_answer (MediaSdpDescription *offer)
{
  gchar *answer = media_sdp_create_publish_answer (offer, &local, NULL);
  MediaSdpDescription *again;
  GError *error = NULL;

  if (answer == NULL)
    return;
  again = media_sdp_parse (answer, strlen (answer), MAX_SDP, &error);
  if (again == NULL)
    g_error ("our own answer does not parse: %s\n%s", error->message, answer);
  media_sdp_description_free (again);
  g_free (answer);
}

static void
fuzz_subscribe_answer (const uint8_t *data, size_t size, MediaSdpDescription *d)
{
  const gchar *mids[MEDIA_SDP_MAX_SECTIONS + 1] = { NULL };
  MediaSdpDescription *a;

  for (guint i = 0; i < d->sections->len; i++)
    mids[i] = ((MediaSdpSection *) g_ptr_array_index (d->sections, i))->mid;
  a = media_sdp_parse_subscribe_answer ((const char *) data, size, MAX_SDP, d->sections->len,
                                        mids, NULL);
  media_sdp_description_free (a);
}

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  MediaSdpDescription *d = media_sdp_parse ((const char *) data, size, MAX_SDP, NULL);

  if (d) {
    fuzz_subscribe_answer (data, size, d);
    fuzz_answer (d);
    media_sdp_description_free (d);
  }
  if (size <= 1024) {
    gchar *s = g_strndup ((const gchar *) data, size);
    g_free (media_sdp_normalize_candidate (s));
    g_free (s);
  }
  return 0;
}
