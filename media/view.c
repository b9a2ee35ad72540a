/* view.c — WHEP viewers (media_engine_view): a subscribe peer connection
 * on which the *client* offers (recvonly audio/video m-lines, as a WHEP
 * player or webrtcbin writes them) and the server answers sendonly.  The
 * viewer never renegotiates: the server binds each of its m-lines ("view
 * slots") to a publisher's track and re-binds them as the room changes.
 *
 * Binding rule.  Publishers are ranked by media_speaker_rank(): the
 * dominant speaker first, then by the last time each was the dominant
 * speaker, then in join order (so before anyone spoke, the first
 * publisher — a briefing's first presenter — leads).  Only tracks that
 * are not disabled (muted) and whose codec is the one answered on the
 * slot are candidates.
 *   audio slots, in m-line order: the microphones of the ranked
 *     publishers, one each (one audio m-line = the current speaker's
 *     voice);
 *   video slots: the cameras of the ranked publishers, in order, one each;
 *     when a screen share exists (the best-ranked sharer's) and the client
 *     offered at least two video m-lines, the second video slot shows it
 *     (with one video m-line the speaker's camera wins; with no camera at
 *     all the screen share takes the first free slot).
 *   A slot with no candidate keeps what it had (possibly nothing).
 * The binding is recomputed when a publisher publishes, unpublishes or
 * leaves, a source is enabled or disabled, and when the dominant speaker
 * changes (so its hysteresis also paces the viewer's switches).
 *
 * Switching.  An audio slot switches at once.  A video slot waits for the
 * new track's next key frame (asked for at once, and again every second):
 * until then it keeps forwarding the old track, so the picture never
 * freezes on a delta frame of the new source.  At the switch the slot's
 * rewriters (rtp.h) continue its SSRC, sequence numbers, timestamps (one
 * frame or 20 ms later) and VP8 PictureID/TL0PICIDX: to the viewer it is
 * one stream.
 *
 * Codec.  A slot only carries tracks of the codec answered on it: video is
 * answered in the codec of the best-ranked publisher's camera when the
 * client offers it (VP8 first otherwise, as for publishers).
 *
 * Limits.  One audio m-line carries one voice: the first words of a new
 * speaker, before the detector moves (about a second), are not heard.
 * Publishers with different video codecs cannot all reach one viewer.
 * Last-N (speaker.c) holds cameras outside the N, also for view slots.
 * A second offer from the same viewer (ICE restart) is refused.
 */
#include <string.h>

#include "room-priv.h"

/* ---- pending switches ---------------------------------------------------- */

static void
slot_cancel_pending (MediaSlot *slot)
{
  MediaTrack *next = slot->view_next;

  if (next == NULL)
    return;
  slot->view_next = NULL;
  g_ptr_array_remove_fast (next->view_waiting, slot);
  if (next->view_waiting->len == 0)
    g_clear_pointer (&next->view_waiting, g_ptr_array_unref);
}

void
media_view_slot_freed (MediaSlot *slot)
{
  slot_cancel_pending (slot);
}

void
media_speaker_track_freed (MediaTrack *track)
{
  if (track->view_waiting == NULL)
    return;
  for (guint i = 0; i < track->view_waiting->len; i++)
    ((MediaSlot *) g_ptr_array_index (track->view_waiting, i))->view_next = NULL;
  g_clear_pointer (&track->view_waiting, g_ptr_array_unref);
}

/* Moves @slot onto @track now: the next packet it forwards continues its
 * stream. */
static void
slot_switch (MediaSlot *slot, MediaTrack *track)
{
  if (slot->track != NULL)
    g_ptr_array_remove_fast (slot->track->slots, slot);
  if (slot->rewriter.started)
    rtp_rewriter_switch_source_with_step (&slot->rewriter,
                                          track->codec->clock_rate / (track->video ? 30 : 50));
  if (slot->vp8)
    rtp_vp8_rewriter_switch_source (&slot->vp8_rewriter);
  slot->track = track;
  slot->negotiated = TRUE;
  slot->want_keyframe = track->video;
  g_ptr_array_add (track->slots, slot);
  g_debug ("room %s viewer %s slot %s: now %s/%s", track->owner->room->id, slot->subscriber->id,
           slot->mid, track->owner->id, track->id);
}

void
media_view_take_waiting (MediaTrack *track)
{
  g_autoptr (GPtrArray) waiting = g_steal_pointer (&track->view_waiting);

  for (guint i = 0; i < waiting->len; i++) {
    MediaSlot *slot = g_ptr_array_index (waiting, i);

    slot->view_next = NULL;
    slot_switch (slot, track);
  }
}

static void
slot_bind (MediaSlot *slot, MediaTrack *track)
{
  MediaTrack *target = slot->view_next != NULL ? slot->view_next : slot->track;

  if (track == NULL) {
    slot_cancel_pending (slot);
    return;
  }
  if (track == target)
    return;
  slot_cancel_pending (slot);
  if (track == slot->track)
    return;
  if (!track->video) {
    slot_switch (slot, track);
    return;
  }
  slot->view_next = track;
  if (track->view_waiting == NULL)
    track->view_waiting = g_ptr_array_new ();
  g_ptr_array_add (track->view_waiting, slot);
  media_track_request_keyframe (track, TRUE);
}

/* ---- the binding rule ---------------------------------------------------- */

static gboolean
track_fits (const MediaTrack *track, const MediaSlot *slot)
{
  return !track->disabled && g_strcmp0 (track->kind, slot->kind) == 0 &&
         g_ascii_strcasecmp (track->codec->encoding, slot->codec_out->encoding) == 0 &&
         track->codec->clock_rate == slot->codec_out->clock_rate;
}

/* The first track of @p that fits @slot with @source. */
static MediaTrack *
participant_track (MediaParticipant *p, const MediaSlot *slot, const char *source)
{
  for (guint i = 0; i < p->tracks->len; i++) {
    MediaTrack *t = g_ptr_array_index (p->tracks, i);

    if (g_strcmp0 (t->source, source) == 0 && track_fits (t, slot))
      return t;
  }
  return NULL;
}

static void
viewer_bind (MediaParticipant *viewer, GPtrArray *ranked)
{
  g_autoptr (GPtrArray) audio = g_ptr_array_new ();
  g_autoptr (GPtrArray) video = g_ptr_array_new ();
  guint next_audio = 0, next_camera = 0;
  MediaTrack *screen = NULL;
  gboolean screen_placed = FALSE;

  for (guint i = 0; i < viewer->slots->len; i++) {
    MediaSlot *s = g_ptr_array_index (viewer->slots, i);

    if (s->view)
      g_ptr_array_add (g_strcmp0 (s->kind, "audio") == 0 ? audio : video, s);
  }
  for (guint i = 0; i < audio->len; i++) {
    MediaSlot *s = g_ptr_array_index (audio, i);
    MediaTrack *t = NULL;

    while (t == NULL && next_audio < ranked->len)
      t = participant_track (g_ptr_array_index (ranked, next_audio++), s, "microphone");
    slot_bind (s, t);
  }
  if (video->len == 0)
    return;
  for (guint i = 0; i < ranked->len && screen == NULL; i++)
    screen = participant_track (g_ptr_array_index (ranked, i),
                                g_ptr_array_index (video, MIN (video->len - 1, 1)), "screen");
  for (guint i = 0; i < video->len; i++) {
    MediaSlot *s = g_ptr_array_index (video, i);
    MediaTrack *t = NULL;

    if (i == 1 && screen != NULL && !screen_placed) {
      slot_bind (s, screen);
      screen_placed = TRUE;
      continue;
    }
    while (t == NULL && next_camera < ranked->len)
      t = participant_track (g_ptr_array_index (ranked, next_camera++), s, "camera");
    if (t == NULL && screen != NULL && !screen_placed && track_fits (screen, s)) {
      t = screen;
      screen_placed = TRUE;
    }
    slot_bind (s, t);
  }
}

void
media_view_refresh (MediaRoom *room)
{
  g_autoptr (GPtrArray) ranked = NULL;

  for (guint i = 0; i < room->order->len; i++) {
    MediaParticipant *p = g_ptr_array_index (room->order, i);

    if (!p->viewer)
      continue;
    if (ranked == NULL)
      ranked = media_speaker_rank (room);
    viewer_bind (p, ranked);
  }
}

void
media_view_tick (MediaRoom *room)
{
  for (guint i = 0; i < room->order->len; i++) {
    MediaParticipant *p = g_ptr_array_index (room->order, i);

    for (guint j = 0; p->viewer && j < p->slots->len; j++) {
      MediaSlot *s = g_ptr_array_index (p->slots, j);

      if (s->view_next != NULL)
        media_track_request_keyframe (s->view_next, FALSE);
    }
  }
}

/* ---- the offer ------------------------------------------------------------- */

static guint32
random_ssrc (const MediaSdpViewSend *sends, guint n)
{
  for (;;) {
    guint32 ssrc = g_random_int ();
    gboolean used = ssrc == 0;

    for (guint i = 0; i < n && !used; i++)
      used = sends[i].ssrc == ssrc;
    if (!used)
      return ssrc;
  }
}

/* The codec of the best-ranked publisher's video (camera first), or NULL:
 * the view answers it when the client offers it, so that the slots can be
 * bound (a slot only carries tracks of its own codec). */
static const char *
room_video_encoding (MediaRoom *room)
{
  g_autoptr (GPtrArray) ranked = media_speaker_rank (room);
  const char *screen = NULL;

  for (guint i = 0; i < ranked->len; i++) {
    MediaParticipant *p = g_ptr_array_index (ranked, i);

    for (guint j = 0; j < p->tracks->len; j++) {
      MediaTrack *t = g_ptr_array_index (p->tracks, j);

      if (t->video && g_strcmp0 (t->source, "camera") == 0)
        return t->codec->encoding;
      if (t->video && screen == NULL)
        screen = t->codec->encoding;
    }
  }
  return screen;
}

void
media_room_view (MediaRoom *room, const char *participant_id, const char *offer_sdp,
                 MediaSdpCallback callback, gpointer user_data)
{
  GError *error = NULL;
  MediaParticipant *p;
  g_autoptr (MediaSdpDescription) offer = NULL;
  g_autofree MediaSdpViewSend *sends = NULL;
  g_autofree gchar *stream = NULL;
  g_auto (GStrv) candidates = NULL;
  g_auto (GStrv) track_ids = NULL;
  MediaPeer *peer = NULL;
  MediaSdpLocal local;
  MediaSdpSetup setup;
  gchar *answer = NULL;
  guint n;

  p = media_room_lookup (room, participant_id, &error);
  if (p == NULL)
    goto fail;
  if (p->viewer || p->subscribe != NULL) {
    g_set_error (&error, MEDIA_ERROR, MEDIA_ERROR_STATE, "participant '%s' already %s",
                 participant_id, p->viewer ? "views" : "has a subscribe connection");
    goto fail;
  }
  offer = media_sdp_parse (offer_sdp, strlen (offer_sdp), SDP_MAX_LEN, &error);
  if (offer == NULL) {
    error = media_sdp_error_to_media (error);
    goto fail;
  }
  n = offer->sections->len;
  sends = g_new0 (MediaSdpViewSend, n);
  track_ids = g_new0 (gchar *, n + 1);
  stream = g_strdup_printf ("%s-view", room->id);
  for (guint i = 0; i < n; i++) {
    MediaSdpSection *s = g_ptr_array_index (offer->sections, i);

    sends[i].ssrc = random_ssrc (sends, n);
    sends[i].cname = "cau";
    sends[i].msid_stream = stream;
    track_ids[i] = g_strdup_printf ("%s-%s", s->kind, s->mid);
    sends[i].msid_track = track_ids[i];
  }
  /* RFC 8445 §6.1.1: the client offers, so it controls ICE. */
  peer = media_participant_new_peer (p, MEDIA_PC_SUBSCRIBE, FALSE, &error);
  if (peer == NULL)
    goto fail;
  setup = offer->setup == MEDIA_SDP_SETUP_PASSIVE ? MEDIA_SDP_SETUP_ACTIVE
                                                  : MEDIA_SDP_SETUP_PASSIVE;
  candidates = media_peer_get_local_candidates (peer);
  media_participant_local_description (p, peer, setup, candidates, &local);
  local.session_version = 1;
  answer = media_sdp_create_view_answer (offer, &local, sends, room_video_encoding (room),
                                         &error);
  if (answer == NULL) {
    error = media_sdp_error_to_media (error);
    goto fail;
  }
  if (!media_peer_set_remote (peer, offer->ice_ufrag, offer->ice_pwd, offer->fingerprint_hash,
                              offer->fingerprint, setup == MEDIA_SDP_SETUP_ACTIVE, &error))
    goto fail;
  for (guint i = 0; i < offer->candidates->len; i++)
    media_peer_add_remote_candidate (peer, g_ptr_array_index (offer->candidates, i));
  if (offer->end_of_candidates)
    media_peer_remote_gathering_done (peer);

  for (guint i = 0; i < n; i++) {
    MediaSdpSection *s = g_ptr_array_index (offer->sections, i);
    MediaSlot *slot;

    if (s->chosen == NULL)
      continue;
    slot = g_new0 (MediaSlot, 1);
    slot->subscriber = p;
    slot->view = TRUE;
    slot->mid = g_strdup (s->mid);
    slot->kind = g_strdup (s->kind);
    slot->codec_out = media_sdp_codec_copy (s->chosen);
    slot->vp8 = g_ascii_strcasecmp (slot->codec_out->encoding, "VP8") == 0;
    slot->ssrc_out = sends[i].ssrc;
    rtp_rewriter_init (&slot->rewriter, slot->ssrc_out);
    rtp_vp8_rewriter_init (&slot->vp8_rewriter);
    if (g_strcmp0 (s->kind, "video") == 0)
      slot->sent = nack_log_new (media_video_nack_slots (room->env.config));
    g_ptr_array_add (p->slots, slot);
    g_info ("room %s viewer %s: mid %s %s (%s, pt %u, ssrc %08x)", room->id, p->id, s->mid,
            s->kind, slot->codec_out->encoding, slot->codec_out->payload_type, slot->ssrc_out);
  }
  p->subscribe = peer;
  p->viewer = TRUE;
  media_view_refresh (room);
  media_post_sdp (room->env.control, callback, user_data, answer, NULL, NULL);
  return;

fail:
  g_free (answer);
  if (peer != NULL)
    media_peer_free (peer);
  g_info ("room %s participant %s view refused: %s", room->id, participant_id, error->message);
  media_post_sdp (room->env.control, callback, user_data, NULL, NULL, error);
}
