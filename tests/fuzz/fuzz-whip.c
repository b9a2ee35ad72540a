/* fuzz-whip.c — signaling/whip-sdp.c: the first byte picks what the rest
 * is: a WHIP offer (0), a WHEP offer (1) or a trickle-ICE SDP fragment
 * (anything else).  A refusal always says why; an acceptance never does. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "whip-sdp.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  char *text, *message = NULL, *ufrag = NULL;
  gboolean ok;

  if (size == 0)
    return 0;
  text = malloc (size);
  if (text == NULL)
    return 0;
  memcpy (text, data + 1, size - 1);
  text[size - 1] = '\0';
  if (data[0] < 2) {
    ok = signaling_whip_check_offer (text, data[0] == 0 ? SIGNALING_WHIP_INGEST
                                                        : SIGNALING_WHIP_EGRESS,
                                     &ufrag, &message);
    if (ok ? message != NULL : message == NULL || ufrag != NULL)
      abort ();
  } else {
    SignalingSdpFrag frag = { 0 };

    ok = signaling_whip_parse_sdpfrag (text, &frag, &message);
    if (ok ? message != NULL || frag.candidates == NULL : message == NULL)
      abort ();
    for (guint i = 0; ok && i < frag.candidates->len; i++)
      if (strncmp (frag.candidates->pdata[i], "candidate:", 10) != 0)
        abort ();
    signaling_sdpfrag_clear (&frag);
  }
  g_free (message);
  g_free (ufrag);
  free (text);
  return 0;
}
