/* whip-sdp.c — offer checks and trickle-ICE fragments for WHIP/WHEP (see
 * whip-sdp.h). */
#include "whip-sdp.h"

#include <gst/sdp/sdp.h>
#include <string.h>

gboolean
signaling_whip_check_offer (const char *text, SignalingWhipDirection direction,
                            char **out_ufrag, char **out_message)
{
  g_autoptr (GstSDPMessage) sdp = NULL;
  const char *ufrag = NULL;
  guint n_media, n_suitable = 0;

  g_return_val_if_fail (text != NULL && out_ufrag != NULL && out_message != NULL, FALSE);
  *out_ufrag = NULL;
  *out_message = NULL;
  if (!g_str_has_prefix (text, "v=0")) {
    *out_message = g_strdup ("the body is not an SDP offer (it must start with v=0)");
    return FALSE;
  }
  if (gst_sdp_message_new (&sdp) != GST_SDP_OK
      || gst_sdp_message_parse_buffer ((const guint8 *) text, strlen (text), sdp) != GST_SDP_OK) {
    *out_message = g_strdup ("the SDP offer does not parse");
    return FALSE;
  }
  n_media = gst_sdp_message_medias_len (sdp);
  for (guint i = 0; i < n_media; i++) {
    const GstSDPMedia *media = gst_sdp_message_get_media (sdp, i);
    const char *kind = gst_sdp_media_get_media (media);
    gboolean sendrecv = gst_sdp_media_get_attribute_val (media, "sendrecv") != NULL;
    gboolean sends = sendrecv || gst_sdp_media_get_attribute_val (media, "sendonly") != NULL;
    gboolean receives = sendrecv || gst_sdp_media_get_attribute_val (media, "recvonly") != NULL;
    gboolean inactive = gst_sdp_media_get_attribute_val (media, "inactive") != NULL;
    gboolean rejected = gst_sdp_media_get_port (media) == 0
                        && gst_sdp_media_get_attribute_val (media, "bundle-only") == NULL;

    if (ufrag == NULL)
      ufrag = gst_sdp_media_get_attribute_val (media, "ice-ufrag");
    /* Data channels and rejected sections carry no media to judge. */
    if (rejected || (g_strcmp0 (kind, "audio") != 0 && g_strcmp0 (kind, "video") != 0))
      continue;
    /* No direction attribute is sendrecv (RFC 3264 §5.1). */
    if (!sends && !receives && !inactive)
      sends = receives = TRUE;
    if (direction == SIGNALING_WHIP_INGEST && receives && !sends) {
      *out_message = g_strdup_printf ("media section %u is recvonly: a WHIP offer publishes", i);
      return FALSE;
    }
    if (direction == SIGNALING_WHIP_EGRESS && sends && !receives) {
      *out_message = g_strdup_printf ("media section %u is sendonly: a WHEP offer receives", i);
      return FALSE;
    }
    if (direction == SIGNALING_WHIP_INGEST ? sends : receives)
      n_suitable++;
  }
  if (n_suitable == 0) {
    *out_message = g_strdup (direction == SIGNALING_WHIP_INGEST
                                 ? "the SDP offer has no audio or video section that sends"
                                 : "the SDP offer has no audio or video section that receives");
    return FALSE;
  }
  if (ufrag == NULL)
    ufrag = gst_sdp_message_get_attribute_val (sdp, "ice-ufrag");
  *out_ufrag = g_strdup (ufrag);
  return TRUE;
}

void
signaling_sdpfrag_clear (SignalingSdpFrag *frag)
{
  g_clear_pointer (&frag->ufrag, g_free);
  g_clear_pointer (&frag->pwd, g_free);
  g_clear_pointer (&frag->candidates, g_ptr_array_unref);
  frag->end_of_candidates = FALSE;
}

/* Sets *@slot to @value, or checks that it already is @value. */
static gboolean
set_once (char **slot, const char *value)
{
  if (*slot != NULL)
    return strcmp (*slot, value) == 0;
  *slot = g_strdup (value);
  return TRUE;
}

gboolean
signaling_whip_parse_sdpfrag (const char *text, SignalingSdpFrag *frag, char **out_message)
{
  const char *line = text;

  g_return_val_if_fail (text != NULL && frag != NULL && out_message != NULL, FALSE);
  *out_message = NULL;
  if (frag->candidates == NULL)
    frag->candidates = g_ptr_array_new_with_free_func (g_free);
  if (strlen (text) > SIGNALING_WHIP_MAX_SDPFRAG) {
    *out_message = g_strdup ("the SDP fragment is over 16384 bytes");
    return FALSE;
  }
  while (*line != '\0') {
    const char *end = strchr (line, '\n');
    gsize length = end ? (gsize) (end - line) : strlen (line);
    g_autofree char *copy = NULL;

    if (length > 0 && line[length - 1] == '\r')
      length--;
    if (length > SIGNALING_WHIP_MAX_SDPFRAG_LINE) {
      *out_message = g_strdup ("a line of the SDP fragment is over 1024 bytes");
      return FALSE;
    }
    copy = g_strndup (line, length);
    line = end ? end + 1 : line + strlen (line);
    if (*copy == '\0')
      continue;
    if (length < 2 || copy[1] != '=' || strchr ("amc", copy[0]) == NULL
        || strchr (copy, '\r') != NULL) {
      *out_message = g_strdup ("an SDP fragment holds only a=, m= and c= lines");
      return FALSE;
    }
    if (g_str_has_prefix (copy, "a=ice-ufrag:")) {
      if (copy[12] == '\0' || !set_once (&frag->ufrag, copy + 12)) {
        *out_message = g_strdup ("a=ice-ufrag is empty or given twice");
        return FALSE;
      }
    } else if (g_str_has_prefix (copy, "a=ice-pwd:")) {
      if (copy[10] == '\0' || !set_once (&frag->pwd, copy + 10)) {
        *out_message = g_strdup ("a=ice-pwd is empty or given twice");
        return FALSE;
      }
    } else if (g_str_has_prefix (copy, "a=candidate:")) {
      g_ptr_array_add (frag->candidates, g_strdup (copy + 2));
    } else if (strcmp (copy, "a=end-of-candidates") == 0) {
      frag->end_of_candidates = TRUE;
    }
  }
  return TRUE;
}
