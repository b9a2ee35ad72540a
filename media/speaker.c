/* speaker.c — unpublish, source enable/disable (mute), the active speaker
 * (RFC 6464 audio levels, speaker-detector.h) and Last-N.  Runs on the
 * room's worker (room.h); the packet-path hooks (media_speaker_audio_level,
 * media_speaker_release) take no lock and allocate nothing.
 *
 * Gates on a track's forwarding (forward.c, in this order):
 *   disabled            a muted source: packets are parsed and counted
 *                       (receiver stats, NACK) but neither recorded nor
 *                       forwarded, and its audio levels are not read, so a
 *                       muted participant cannot be the active speaker;
 *   last_n_off          a camera outside the N most recent speakers: still
 *                       recorded, not forwarded;
 *   resume_at_keyframe  video that resumed forwarding: held until the first
 *                       packet of a key frame (one was requested at once),
 *                       so subscribers never get a delta frame whose
 *                       reference they lack.
 * When forwarding resumes, every subscriber slot of the track switches
 * source on its rewriters (rtp.h) with a timestamp step of the paused time:
 * sequence numbers and VP8 PictureIDs continue without a gap, so receivers
 * do not NACK what was never sent.
 */
#include "room-priv.h"

#define AUDIO_LEVEL_URI "urn:ietf:params:rtp-hdrext:ssrc-audio-level"

enum {
  SOURCE_MICROPHONE = 1 << 0,
  SOURCE_CAMERA = 1 << 1,
  SOURCE_SCREEN = 1 << 2,
  SOURCE_ALL = SOURCE_MICROPHONE | SOURCE_CAMERA | SOURCE_SCREEN,
};

static guint
source_bit (const char *source)
{
  if (g_strcmp0 (source, "microphone") == 0)
    return SOURCE_MICROPHONE;
  if (g_strcmp0 (source, "camera") == 0)
    return SOURCE_CAMERA;
  if (g_strcmp0 (source, "screen") == 0)
    return SOURCE_SCREEN;
  return 0;
}

/* ---- forwarding gates ---------------------------------------------------- */

/* Forwarding starts again after a pause: every slot continues its
 * sequence, with the paused time as timestamp step; video waits for a key
 * frame, asked for now. */
static void
track_resume (MediaTrack *track, gint64 now_us)
{
  gint64 paused = track->paused_at_us > 0 ? now_us - track->paused_at_us : 0;
  guint64 step = (guint64) MAX (paused, 0) * track->codec->clock_rate / G_USEC_PER_SEC;

  step = CLAMP (step, 1, G_MAXINT32);
  for (guint i = 0; i < track->slots->len; i++) {
    MediaSlot *s = g_ptr_array_index (track->slots, i);

    rtp_rewriter_switch_source_with_step (&s->rewriter, (guint32) step);
    if (s->vp8)
      rtp_vp8_rewriter_switch_source (&s->vp8_rewriter);
    if (track->video)
      s->want_keyframe = TRUE;
  }
  if (track->video) {
    track->resume_at_keyframe = TRUE;
    media_track_request_keyframe (track, TRUE);
  }
}

static void
track_set_gates (MediaTrack *track, gboolean disabled, gboolean last_n_off, gint64 now_us)
{
  gboolean was = !track->disabled && !track->last_n_off;
  gboolean is = !disabled && !last_n_off;

  track->disabled = disabled;
  track->last_n_off = last_n_off;
  if (was && !is)
    track->paused_at_us = now_us;
  else if (!was && is)
    track_resume (track, now_us);
}

gboolean
media_speaker_release (MediaTrack *track, const uint8_t *packet, const RtpHeader *h)
{
  gboolean key;

  if (track->last_n_off)
    return FALSE;
  if (!track->resume_at_keyframe && track->view_waiting == NULL)
    return TRUE;
  key = media_packet_starts_keyframe (track->codec, packet, h, TRUE);
  if (track->resume_at_keyframe) {
    if (!key)
      return FALSE;
    track->resume_at_keyframe = FALSE;
  }
  if (key && track->view_waiting != NULL)
    media_view_take_waiting (track);
  return TRUE;
}

/* ---- active speaker ------------------------------------------------------ */

typedef struct {
  MediaRoomCallbacks callbacks;
  gpointer user_data;
  gchar *room_id;
  gchar *participant_id;
} SpeakerEvent;

static void
speaker_event_free (gpointer data)
{
  SpeakerEvent *e = data;

  g_free (e->room_id);
  g_free (e->participant_id);
  g_free (e);
}

static gboolean
speaker_event_dispatch (gpointer data)
{
  SpeakerEvent *e = data;

  if (e->callbacks.active_speaker != NULL)
    e->callbacks.active_speaker (e->room_id, e->participant_id, e->user_data);
  return G_SOURCE_REMOVE;
}

static MediaParticipant *
entry_participant (const SpeakerEntry *entry)
{
  if (entry == NULL)
    return NULL;
  return (MediaParticipant *) ((const char *) entry - G_STRUCT_OFFSET (MediaParticipant, speaker));
}

/* The dominant speaker changed (@dominant, or NULL): counted, logged and
 * told to signaling. */
static void
speaker_announce (MediaRoom *room, MediaParticipant *dominant)
{
  SpeakerEvent *e = g_new0 (SpeakerEvent, 1);

  MEDIA_STAT_ADD (room->env.stats, speaker_changes, 1);
  g_info ("room %s: active speaker %s", room->id, dominant ? dominant->id : "(none)");
  e->callbacks = room->callbacks;
  e->user_data = room->user_data;
  e->room_id = g_strdup (room->id);
  e->participant_id = g_strdup (dominant ? dominant->id : NULL);
  g_main_context_invoke_full (room->env.control, G_PRIORITY_DEFAULT, speaker_event_dispatch,
                              e, speaker_event_free);
}

static void apply_last_n (MediaRoom *room, gint64 now_us);

/* One decision step: every participant's levels folded into its score,
 * then the detector's hysteresis. */
static void
speaker_decide (MediaRoom *room, gint64 now_us)
{
  guint steps = 1;
  const SpeakerEntry *top = NULL;
  MediaParticipant *dominant;

  if (room->next_speaker_decision_us != 0 && now_us > room->next_speaker_decision_us)
    steps += (guint) MIN ((now_us - room->next_speaker_decision_us) / SPEAKER_STEP_US, 100);
  room->next_speaker_decision_us = now_us + SPEAKER_STEP_US;
  for (guint i = 0; i < room->order->len; i++) {
    MediaParticipant *p = g_ptr_array_index (room->order, i);
    float score = speaker_entry_step (&p->speaker, steps);

    if (score > 0.0f && (top == NULL || score > top->score))
      top = &p->speaker;
  }
  if (speaker_detector_decide (&room->speaker, top, now_us)) {
    dominant = entry_participant (room->speaker.dominant);
    if (dominant != NULL)
      dominant->last_spoke_us = now_us;
    speaker_announce (room, dominant);
    apply_last_n (room, now_us);
    media_view_refresh (room);
    return;
  }
  dominant = entry_participant (room->speaker.dominant);
  if (dominant != NULL)
    dominant->last_spoke_us = now_us;
}

void
media_speaker_audio_level (MediaTrack *track, const uint8_t *packet, const RtpHeader *h,
                           gint64 now_us)
{
  MediaRoom *room = track->owner->room;
  const uint8_t *data;
  size_t len;

  if (!rtp_find_extension (packet, h, track->audio_level_id, &data, &len) || len < 1)
    return;
  speaker_entry_add_level (&track->owner->speaker, data[0]);
  if (now_us >= room->next_speaker_decision_us)
    speaker_decide (room, now_us);
}

void
media_speaker_tick (MediaRoom *room)
{
  gint64 now_us = g_get_monotonic_time ();

  if (now_us >= room->next_speaker_decision_us)
    speaker_decide (room, now_us);
  media_view_tick (room);
}

/* ---- Last-N -------------------------------------------------------------- */

typedef struct {
  MediaParticipant *p;
  guint order;
} Ranked;

static gint
ranked_compare (gconstpointer a, gconstpointer b)
{
  const Ranked *x = a, *y = b;

  if (x->p->last_spoke_us != y->p->last_spoke_us)
    return x->p->last_spoke_us > y->p->last_spoke_us ? -1 : 1;
  return x->order < y->order ? -1 : x->order > y->order;
}

GPtrArray *
media_speaker_rank (MediaRoom *room)
{
  g_autoptr (GArray) ranked = g_array_new (FALSE, FALSE, sizeof (Ranked));
  GPtrArray *out = g_ptr_array_new ();

  for (guint i = 0; i < room->order->len; i++) {
    Ranked r = { g_ptr_array_index (room->order, i), i };

    if (r.p->tracks->len > 0)
      g_array_append_val (ranked, r);
  }
  g_array_sort (ranked, ranked_compare);
  for (guint i = 0; i < ranked->len; i++)
    g_ptr_array_add (out, g_array_index (ranked, Ranked, i).p);
  return out;
}

static gboolean
participant_has_camera (MediaParticipant *p)
{
  for (guint i = 0; i < p->tracks->len; i++)
    if (source_bit (((MediaTrack *) g_ptr_array_index (p->tracks, i))->source) == SOURCE_CAMERA)
      return TRUE;
  return FALSE;
}

/* Camera video of the room->last_n most recent speakers (then join order)
 * is forwarded, the others' not. */
static void
apply_last_n (MediaRoom *room, gint64 now_us)
{
  g_autoptr (GPtrArray) ranked = media_speaker_rank (room);
  guint cameras = 0;

  for (guint i = 0; i < ranked->len; i++) {
    MediaParticipant *p = g_ptr_array_index (ranked, i);
    gboolean in;

    if (!participant_has_camera (p))
      continue;
    in = room->last_n == 0 || cameras < room->last_n;
    cameras++;
    for (guint j = 0; j < p->tracks->len; j++) {
      MediaTrack *t = g_ptr_array_index (p->tracks, j);

      if (source_bit (t->source) != SOURCE_CAMERA || t->last_n_off == !in)
        continue;
      g_debug ("room %s: Last-N %s camera of %s", room->id, in ? "forwards" : "holds", p->id);
      track_set_gates (t, t->disabled, !in, now_us);
    }
  }
}

void
media_room_set_last_n (MediaRoom *room, guint last_n)
{
  g_info ("room %s: Last-N %u", room->id, last_n);
  room->last_n = last_n;
  apply_last_n (room, g_get_monotonic_time ());
}

/* ---- hooks from room.c ----------------------------------------------------- */

void
media_speaker_room_changed (MediaRoom *room)
{
  apply_last_n (room, g_get_monotonic_time ());
  media_view_refresh (room);
}

void
media_speaker_published (MediaParticipant *p, const MediaSdpDescription *offer)
{
  gint64 now_us = g_get_monotonic_time ();

  for (guint i = 0; i < p->tracks->len; i++) {
    MediaTrack *t = g_ptr_array_index (p->tracks, i);

    t->audio_level_id = 0;
    for (guint j = 0; !t->video && j < offer->sections->len; j++) {
      MediaSdpSection *s = g_ptr_array_index (offer->sections, j);

      if (g_strcmp0 (s->mid, t->mid) != 0)
        continue;
      for (guint k = 0; k < s->extmaps->len; k++) {
        MediaSdpExtmap *e = g_ptr_array_index (s->extmaps, k);

        if (g_strcmp0 (e->uri, AUDIO_LEVEL_URI) == 0)
          t->audio_level_id = e->id;
      }
    }
    if ((source_bit (t->source) & p->disabled_sources) && !t->disabled)
      track_set_gates (t, TRUE, t->last_n_off, now_us);
  }
  media_speaker_room_changed (p->room);
}

void
media_speaker_participant_leaving (MediaParticipant *p)
{
  if (speaker_detector_forget (&p->room->speaker, &p->speaker))
    speaker_announce (p->room, NULL);
}

/* ---- unpublish and mute ------------------------------------------------------ */

void
media_room_unpublish (MediaRoom *room, const char *participant_id)
{
  g_autoptr (GError) error = NULL;
  MediaParticipant *p = media_room_lookup (room, participant_id, &error);

  if (p == NULL) {
    g_info ("room %s: unpublish: %s", room->id, error->message);
    return;
  }
  if (p->publish == NULL && p->tracks->len == 0)
    return;
  g_info ("room %s participant %s unpublished (%u tracks)", room->id, p->id, p->tracks->len);
  media_speaker_participant_leaving (p);
  speaker_entry_init (&p->speaker);
  media_participant_drop_publish (p);
  media_speaker_room_changed (room);
}

void
media_room_set_source_enabled (MediaRoom *room, const char *participant_id,
                               const char *source, gboolean enabled)
{
  g_autoptr (GError) error = NULL;
  MediaParticipant *p = media_room_lookup (room, participant_id, &error);
  guint bits = source != NULL ? source_bit (source) : SOURCE_ALL;
  gint64 now_us = g_get_monotonic_time ();

  if (p == NULL) {
    g_info ("room %s: set_source_enabled: %s", room->id, error->message);
    return;
  }
  if (bits == 0) {
    g_warning ("room %s: set_source_enabled: unknown source '%s'", room->id, source);
    return;
  }
  if (enabled)
    p->disabled_sources &= ~bits;
  else
    p->disabled_sources |= bits;
  for (guint i = 0; i < p->tracks->len; i++) {
    MediaTrack *t = g_ptr_array_index (p->tracks, i);

    if ((source_bit (t->source) & bits) && t->disabled == enabled)
      track_set_gates (t, !enabled, t->last_n_off, now_us);
  }
  g_info ("room %s participant %s: %s %s", room->id, p->id, source ? source : "all sources",
          enabled ? "enabled" : "disabled");
  media_view_refresh (room);
}
