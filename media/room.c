/* room.c — participants, their peers, tracks and subscriber slots, and the
 * offer/answer that connects them.  Runs on the room's worker only
 * (room.h); the packet path is in forward.c. */
#include <string.h>

#include "room-priv.h"

/* ---- delivering results on the control context ----------------------- */

typedef struct {
  MediaSdpCallback sdp_cb;
  MediaDoneCallback done_cb;
  gpointer user_data;
  gchar *sdp;
  GPtrArray *tracks;
  GError *error;
} PostedResult;

static void
posted_result_free (gpointer data)
{
  PostedResult *r = data;

  g_free (r->sdp);
  if (r->tracks != NULL)
    g_ptr_array_unref (r->tracks);
  g_clear_error (&r->error);
  g_free (r);
}

static gboolean
posted_result_dispatch (gpointer data)
{
  PostedResult *r = data;

  if (r->sdp_cb != NULL)
    r->sdp_cb (r->sdp, r->tracks, r->error, r->user_data);
  else if (r->done_cb != NULL)
    r->done_cb (r->error, r->user_data);
  return G_SOURCE_REMOVE;
}

void
media_post_done (GMainContext *control, MediaDoneCallback callback,
                 gpointer user_data, GError *error)
{
  PostedResult *r;

  if (callback == NULL) {
    g_clear_error (&error);
    return;
  }
  r = g_new0 (PostedResult, 1);
  r->done_cb = callback;
  r->user_data = user_data;
  r->error = error;
  g_main_context_invoke_full (control, G_PRIORITY_DEFAULT, posted_result_dispatch,
                              r, posted_result_free);
}

void
media_post_sdp (GMainContext *control, MediaSdpCallback callback,
                gpointer user_data, gchar *sdp, GPtrArray *tracks, GError *error)
{
  PostedResult *r = g_new0 (PostedResult, 1);

  r->sdp_cb = callback;
  r->user_data = user_data;
  r->sdp = sdp;
  r->tracks = tracks;
  r->error = error;
  g_main_context_invoke_full (control, G_PRIORITY_DEFAULT, posted_result_dispatch,
                              r, posted_result_free);
}

void
media_track_info_free (MediaTrackInfo *info)
{
  if (info == NULL)
    return;
  g_free (info->participant_id);
  g_free (info->track_id);
  g_free (info->kind);
  g_free (info->codec);
  g_free (info->source);
  g_free (info);
}

static MediaTrackInfo *
track_info_new (const MediaTrack *track)
{
  MediaTrackInfo *info = g_new0 (MediaTrackInfo, 1);

  info->participant_id = g_strdup (track->owner->id);
  info->track_id = g_strdup (track->id);
  info->kind = g_strdup (track->kind);
  info->codec = g_strdup (track->codec->encoding);
  info->source = g_strdup (track->source);
  info->layers = MAX (1, track->n_layers);
  return info;
}

typedef enum {
  EVENT_CANDIDATE,
  EVENT_STATE,
  EVENT_TRACK_ADDED,
  EVENT_TRACK_REMOVED,
  EVENT_NOTIFY,
} EventKind;

typedef struct {
  EventKind kind;
  MediaParticipantCallbacks pcb;
  MediaRoomCallbacks rcb;
  gpointer user_data;
  GDestroyNotify notify;
  gchar *room_id;
  gchar *participant_id;
  MediaPcKind pc;
  MediaState state;
  gchar *candidate;
  gchar *mid;
  MediaTrackInfo *track;
} PostedEvent;

static void
posted_event_free (gpointer data)
{
  PostedEvent *e = data;

  g_free (e->room_id);
  g_free (e->participant_id);
  g_free (e->candidate);
  g_free (e->mid);
  media_track_info_free (e->track);
  g_free (e);
}

static gboolean
posted_event_dispatch (gpointer data)
{
  PostedEvent *e = data;

  switch (e->kind) {
  case EVENT_CANDIDATE:
    if (e->pcb.local_candidate != NULL)
      e->pcb.local_candidate (e->participant_id, e->pc, e->candidate, e->mid, 0,
                              e->user_data);
    break;
  case EVENT_STATE:
    if (e->pcb.state_changed != NULL)
      e->pcb.state_changed (e->participant_id, e->pc, e->state, e->user_data);
    break;
  case EVENT_TRACK_ADDED:
    if (e->rcb.track_added != NULL)
      e->rcb.track_added (e->room_id, e->track, e->user_data);
    break;
  case EVENT_TRACK_REMOVED:
    if (e->rcb.track_removed != NULL)
      e->rcb.track_removed (e->room_id, e->track, e->user_data);
    break;
  case EVENT_NOTIFY:
    if (e->notify != NULL)
      e->notify (e->user_data);
    break;
  }
  return G_SOURCE_REMOVE;
}

static void
post_event (MediaRoom *room, PostedEvent *e)
{
  g_main_context_invoke_full (room->env.control, G_PRIORITY_DEFAULT,
                              posted_event_dispatch, e, posted_event_free);
}

static void
post_track_event (MediaRoom *room, EventKind kind, const MediaTrack *track)
{
  PostedEvent *e = g_new0 (PostedEvent, 1);

  e->kind = kind;
  e->rcb = room->callbacks;
  e->user_data = room->user_data;
  e->room_id = g_strdup (room->id);
  e->track = track_info_new (track);
  post_event (room, e);
}

/* ---- helpers ---------------------------------------------------------- */

static guint32
random_ssrc (void)
{
  guint32 ssrc;

  do
    ssrc = g_random_int ();
  while (ssrc == 0);
  return ssrc;
}

static MediaParticipant *
room_lookup (MediaRoom *room, const char *participant_id, GError **error)
{
  MediaParticipant *p = g_hash_table_lookup (room->participants, participant_id);

  if (p == NULL)
    g_set_error (error, MEDIA_ERROR, MEDIA_ERROR_NOT_FOUND,
                 "no participant '%s' in room '%s'", participant_id, room->id);
  return p;
}

static GError *
sdp_error_to_media (GError *sdp_error)
{
  GError *error;
  MediaError code = MEDIA_ERROR_BAD_SDP;

  if (sdp_error->domain == MEDIA_SDP_ERROR && sdp_error->code == MEDIA_SDP_ERROR_NO_CODEC)
    code = MEDIA_ERROR_NO_CODEC;
  else if (sdp_error->domain == MEDIA_ERROR)
    code = sdp_error->code;
  error = g_error_new_literal (MEDIA_ERROR, code, sdp_error->message);
  g_error_free (sdp_error);
  return error;
}


static gboolean
room_tick (gpointer user_data)
{
  MediaRoom *room = user_data;

  for (guint i = 0; i < room->order->len; i++) {
    MediaParticipant *p = g_ptr_array_index (room->order, i);

    media_forward_publisher_reports (p);
    media_forward_keyframe_watch (p);
    media_forward_release_idle (p);
  }
  media_simulcast_tick (room);
  media_recording_tick (room);
  media_speaker_tick (room);
  return G_SOURCE_CONTINUE;
}

/* ---- peers ------------------------------------------------------------- */

static void
participant_post_state (MediaParticipant *p, MediaPcKind pc, MediaState state)
{
  PostedEvent *e = g_new0 (PostedEvent, 1);

  e->kind = EVENT_STATE;
  e->pcb = p->callbacks;
  e->user_data = p->user_data;
  e->participant_id = g_strdup (p->id);
  e->pc = pc;
  e->state = state;
  post_event (p->room, e);
}

static void
participant_post_candidate (MediaParticipant *p, MediaPcKind pc, const char *candidate)
{
  PostedEvent *e = g_new0 (PostedEvent, 1);

  e->kind = EVENT_CANDIDATE;
  e->pcb = p->callbacks;
  e->user_data = p->user_data;
  e->participant_id = g_strdup (p->id);
  e->pc = pc;
  e->candidate = g_strdup (candidate);
  e->mid = g_strdup ("0");
  post_event (p->room, e);
}

/* A peer's state change: logged with its selected pair, told to signaling,
 * and on connection the tracks it carries get a key frame at once. */
static void
participant_on_state (MediaParticipant *p, MediaPeer *peer, MediaPcKind pc, MediaState state)
{
  g_autofree gchar *pair = NULL;

  if (state == MEDIA_STATE_CONNECTED)
    pair = media_peer_describe_selected_pair (peer);
  g_info ("room %s participant %s %s %s%s%s", p->room->id, p->id,
          media_pc_kind_to_string (pc), media_state_to_string (state),
          pair ? " via " : "", pair ? pair : "");
  participant_post_state (p, pc, state);
  if (state != MEDIA_STATE_CONNECTED)
    return;
  if (pc == MEDIA_PC_PUBLISH) {
    for (guint i = 0; i < p->tracks->len; i++)
      media_track_request_keyframe (g_ptr_array_index (p->tracks, i), TRUE);
    return;
  }
  for (guint i = 0; i < p->slots->len; i++) {
    MediaSlot *s = g_ptr_array_index (p->slots, i);

    if (s->track != NULL)
      media_track_request_keyframe (s->track, TRUE);
  }
}

static void
publish_on_state (MediaPeer *peer, MediaState state, gpointer user_data)
{
  participant_on_state (user_data, peer, MEDIA_PC_PUBLISH, state);
}

static void
subscribe_on_state (MediaPeer *peer, MediaState state, gpointer user_data)
{
  participant_on_state (user_data, peer, MEDIA_PC_SUBSCRIBE, state);
}

static void
publish_on_candidate (MediaPeer *peer, const char *candidate, gpointer user_data)
{
  participant_post_candidate (user_data, MEDIA_PC_PUBLISH, candidate);
}

static void
subscribe_on_candidate (MediaPeer *peer, const char *candidate, gpointer user_data)
{
  participant_post_candidate (user_data, MEDIA_PC_SUBSCRIBE, candidate);
}

MediaPeer *
media_participant_new_peer (MediaParticipant *p, MediaPcKind pc, gboolean controlling,
                            GError **error)
{
  static const MediaPeerCallbacks publish_callbacks = {
    .state_changed = publish_on_state,
    .rtp = media_forward_publisher_rtp,
    .rtcp = media_forward_publisher_rtcp,
    .local_candidate = publish_on_candidate,
  };
  static const MediaPeerCallbacks subscribe_callbacks = {
    .state_changed = subscribe_on_state,
    .rtp = NULL, /* a subscriber sends no media to us */
    .rtcp = media_forward_subscriber_rtcp,
    .local_candidate = subscribe_on_candidate,
  };
  const MediaRoomEnv *env = &p->room->env;
  MediaPeerConfig config = {
    .context = env->worker,
    .certificate = env->certificate,
    .port_min = env->config->port_min,
    .port_max = env->config->port_max,
    .addresses = env->addresses,
    .controlling = controlling,
    .stats = env->stats,
    .poller = env->poller,
  };

  return media_peer_new (&config, pc == MEDIA_PC_PUBLISH ? &publish_callbacks
                                                         : &subscribe_callbacks,
                         p, error);
}

static MediaPeer *
participant_new_peer (MediaParticipant *p, MediaPcKind pc, GError **error)
{
  /* RFC 8445 §6.1.1: the offerer controls (we offer on subscribe). */
  return media_participant_new_peer (p, pc, pc == MEDIA_PC_SUBSCRIBE, error);
}

static void
local_description_init (MediaParticipant *p, MediaPeer *peer, MediaSdpSetup setup,
                        gchar **candidates, MediaSdpLocal *local)
{
  memset (local, 0, sizeof *local);
  media_peer_get_local_credentials (peer, &local->ice_ufrag, &local->ice_pwd);
  local->fingerprint = media_certificate_get_fingerprint (p->room->env.certificate);
  local->setup = setup;
  local->candidates = (const gchar *const *) candidates;
  local->end_of_candidates = TRUE;
  local->session_id = p->session_id;
}

/* ---- tracks and slots -------------------------------------------------- */

static void
slot_detach (MediaSlot *slot)
{
  if (slot->track != NULL)
    g_ptr_array_remove_fast (slot->track->slots, slot);
  slot->track = NULL;
  slot->negotiated = FALSE;
}

static void
slot_free (MediaSlot *slot)
{
  media_view_slot_freed (slot);
  slot_detach (slot);
  g_clear_pointer (&slot->codec_out, media_sdp_codec_free);
  nack_log_free (slot->sent);
  g_free (slot->mid);
  g_free (slot->kind);
  g_free (slot);
}

static void
slot_attach (MediaSlot *slot, MediaTrack *track)
{
  slot_detach (slot);
  slot->track = track;
  slot->fraction_lost = 0;
  slot->vp8 = g_ascii_strcasecmp (track->codec->encoding, "VP8") == 0;
  /* A reused m-line gets a new SSRC: Chromium 156 decodes a reactivated
   * receiver whose SSRC did not change but never renders it to its track
   * (seen in tests/browser (f)).  aiortc 1.4 binds an m-line to its first
   * SSRC for good, so it cannot follow this; browsers can. */
  slot->ssrc_out = random_ssrc ();
  rtp_rewriter_init (&slot->rewriter, slot->ssrc_out);
  rtp_vp8_rewriter_init (&slot->vp8_rewriter);
  media_simulcast_slot_init (slot);
  slot->packets_sent = 0;
  slot->octets_sent = 0;
  nack_log_clear (slot->sent);    /* its sequence numbers were another stream's */
  g_ptr_array_add (track->slots, slot);
}

static void
track_free (MediaTrack *track)
{
  media_speaker_track_freed (track);
  while (track->slots->len > 0)
    slot_detach (g_ptr_array_index (track->slots, 0));
  g_ptr_array_unref (track->slots);
  media_simulcast_track_clear (track);
  for (guint i = 0; i < MEDIA_MAX_LAYERS; i++)
    nack_cache_unref (track->received[i]);  /* the slots' logs may keep them a while */
  media_sdp_codec_free (track->codec);
  g_free (track->id);
  g_free (track->mid);
  g_free (track->kind);
  g_free (track);
}

static MediaTrack *
participant_find_track_by_mid (MediaParticipant *p, const char *mid)
{
  for (guint i = 0; i < p->tracks->len; i++) {
    MediaTrack *t = g_ptr_array_index (p->tracks, i);

    if (g_strcmp0 (t->mid, mid) == 0)
      return t;
  }
  return NULL;
}

/* Brings the participant's published tracks in line with a negotiated
 * publish offer: new sending sections become tracks, vanished ones go. */
static void
participant_update_tracks (MediaParticipant *p, MediaSdpDescription *offer,
                           const char *const *screen_mids)
{
  GPtrArray *keep = g_ptr_array_new ();

  for (guint i = 0; i < offer->sections->len; i++) {
    MediaSdpSection *s = g_ptr_array_index (offer->sections, i);
    MediaTrack *t;
    gboolean sending = s->direction == MEDIA_SDP_SENDONLY ||
                       s->direction == MEDIA_SDP_SENDRECV;

    if (s->chosen == NULL || !sending)
      continue;
    t = participant_find_track_by_mid (p, s->mid);
    if (t != NULL && g_strcmp0 (t->codec->encoding, s->chosen->encoding) == 0) {
      if (s->ssrcs->len > 0 && t->ssrc != g_array_index (s->ssrcs, guint32, 0)) {
        t->ssrc = g_array_index (s->ssrcs, guint32, 0);
        rtp_source_stats_init (&t->stats, t->ssrc, t->codec->clock_rate);
      }
      media_simulcast_track_setup (t, s);
      g_ptr_array_add (keep, t);
      continue;
    }
    if (t != NULL) {
      /* Same m-line, other codec: a new track for subscribers. */
      g_ptr_array_remove (p->tracks, t);
      post_track_event (p->room, EVENT_TRACK_REMOVED, t);
      track_free (t);
    }
    t = g_new0 (MediaTrack, 1);
    t->owner = p;
    t->mid = g_strdup (s->mid);
    t->kind = g_strdup (s->kind);
    t->video = g_strcmp0 (s->kind, "video") == 0;
    if (!t->video)
      t->source = "microphone";
    else if (screen_mids != NULL && g_strv_contains (screen_mids, s->mid))
      t->source = "screen";
    else
      t->source = "camera";
    t->id = g_strdup_printf ("%c%s", t->video ? 'v' : 'a', s->mid);
    t->codec = media_sdp_codec_copy (s->chosen);
    t->slots = g_ptr_array_new ();
    if (s->ssrcs->len > 0) {
      t->ssrc = g_array_index (s->ssrcs, guint32, 0);
      rtp_source_stats_init (&t->stats, t->ssrc, t->codec->clock_rate);
    }
    media_simulcast_track_setup (t, s);
    g_ptr_array_add (p->tracks, t);
    g_ptr_array_add (keep, t);
    post_track_event (p->room, EVENT_TRACK_ADDED, t);
    g_info ("room %s participant %s publishes %s %s (%s, pt %u, ssrc %08x, %u layers)",
            p->room->id, p->id, t->kind, t->id, t->codec->encoding, t->codec->payload_type,
            t->ssrc, MAX (1, t->n_layers));
  }

  for (guint i = p->tracks->len; i > 0; i--) {
    MediaTrack *t = g_ptr_array_index (p->tracks, i - 1);

    if (g_ptr_array_find (keep, t, NULL))
      continue;
    g_ptr_array_remove_index (p->tracks, i - 1);
    post_track_event (p->room, EVENT_TRACK_REMOVED, t);
    track_free (t);
  }
  g_ptr_array_unref (keep);
}

static GPtrArray *
participant_track_infos (MediaParticipant *p)
{
  GPtrArray *infos = g_ptr_array_new_with_free_func ((GDestroyNotify) media_track_info_free);

  for (guint i = 0; i < p->tracks->len; i++)
    g_ptr_array_add (infos, track_info_new (g_ptr_array_index (p->tracks, i)));
  return infos;
}

static gboolean
participant_receives_track (MediaParticipant *p, MediaTrack *track)
{
  for (guint i = 0; i < p->slots->len; i++)
    if (((MediaSlot *) g_ptr_array_index (p->slots, i))->track == track)
      return TRUE;
  return FALSE;
}

/* The payload type @codec already has in @p's subscribe session, the
 * publisher's own when it is free, or the first free dynamic one; -1 when
 * all are taken. */
static int
participant_choose_payload_type (MediaParticipant *p, const MediaSdpCodec *codec)
{
  const MediaSdpCodec *by_pt[128] = { NULL };
  int pt;

  for (guint i = 0; i < p->slots->len; i++) {
    MediaSlot *s = g_ptr_array_index (p->slots, i);

    if (s->codec_out != NULL)
      by_pt[s->codec_out->payload_type & 127] = s->codec_out;
  }
  for (pt = 0; pt < 128; pt++)
    if (by_pt[pt] != NULL && media_sdp_codec_equal (by_pt[pt], codec))
      return pt;
  if (by_pt[codec->payload_type & 127] == NULL)
    return codec->payload_type;
  /* RFC 3551 §6 dynamic range; 64..95 would clash with RTCP (RFC 5761 §4). */
  for (pt = 96; pt < 128; pt++)
    if (by_pt[pt] == NULL)
      return pt;
  for (pt = 35; pt < 64; pt++)
    if (by_pt[pt] == NULL)
      return pt;
  return -1;
}

/* Publishers pick payload type numbers independently (aiortc puts Opus at
 * 96 where Chromium puts VP8), but one BUNDLE session cannot use a number
 * for two codecs (RFC 9143 §9.1.2): each slot gets its own mapping, kept
 * while the slot carries the same track, and forward.c rewrites the PT. */
static gboolean
slot_assign_codec (MediaSlot *slot, GError **error)
{
  int pt;

  if (slot->track == NULL)
    return TRUE;
  /* A slot keeps its payload type while it carries the same codec, also
   * across a change of track. */
  if (slot->codec_out != NULL) {
    if (media_sdp_codec_equal (slot->codec_out, slot->track->codec))
      return TRUE;
    g_clear_pointer (&slot->codec_out, media_sdp_codec_free);
  }
  pt = participant_choose_payload_type (slot->subscriber, slot->track->codec);
  if (pt < 0) {
    g_set_error (error, MEDIA_ERROR, MEDIA_ERROR_INTERNAL,
                 "no free payload type for mid %s", slot->mid);
    return FALSE;
  }
  slot->codec_out = media_sdp_codec_copy (slot->track->codec);
  slot->codec_out->payload_type = (guint8) pt;
  return TRUE;
}

/* Assigns every track of the other participants to one of @p's slots,
 * reusing inactive slots of the same kind before adding m-lines. */
static void
participant_sync_slots (MediaParticipant *p)
{
  MediaRoom *room = p->room;

  for (guint i = 0; i < room->order->len; i++) {
    MediaParticipant *other = g_ptr_array_index (room->order, i);

    if (other == p)
      continue;
    for (guint j = 0; j < other->tracks->len; j++) {
      MediaTrack *t = g_ptr_array_index (other->tracks, j);
      MediaSlot *slot = NULL;

      if (participant_receives_track (p, t))
        continue;
      for (guint k = 0; k < p->slots->len && slot == NULL; k++) {
        MediaSlot *s = g_ptr_array_index (p->slots, k);

        if (s->track == NULL && g_strcmp0 (s->kind, t->kind) == 0)
          slot = s;
      }
      if (slot == NULL) {
        slot = g_new0 (MediaSlot, 1);
        slot->subscriber = p;
        slot->mid = g_strdup_printf ("%u", p->slots->len);
        slot->kind = g_strdup (t->kind);
        /* Only video is NACKed (our offers put "nack" on video m-lines
         * only): audio slots keep no retransmission log. */
        if (t->video)
          slot->sent = nack_log_new (media_video_nack_slots (p->room->env.config));
        g_ptr_array_add (p->slots, slot);
      }
      slot_attach (slot, t);
    }
  }
}

/* ---- the room's operations ------------------------------------------- */

MediaRoom *
media_room_new (const MediaRoomEnv *env, const char *room_id,
                const MediaRoomCallbacks *callbacks, gpointer user_data)
{
  MediaRoom *room = g_new0 (MediaRoom, 1);

  room->env = *env;
  room->id = g_strdup (room_id);
  if (callbacks != NULL)
    room->callbacks = *callbacks;
  room->user_data = user_data;
  room->participants = g_hash_table_new (g_str_hash, g_str_equal);
  room->order = g_ptr_array_new ();
  room->timer = g_timeout_source_new (1000);
  g_source_set_callback (room->timer, room_tick, room, NULL);
  g_source_attach (room->timer, env->worker);
  MEDIA_STAT_ADD (env->stats, rooms, 1);
  return room;
}

static void
participant_free (MediaParticipant *p, gboolean announce)
{
  MediaRoom *room = p->room;
  PostedEvent *e;

  /* Peers first: no packet callback may run on half-freed state. */
  g_clear_pointer (&p->publish, media_peer_free);
  g_clear_pointer (&p->subscribe, media_peer_free);
  media_recording_participant_leaving (p);
  g_ptr_array_unref (p->slots);
  for (guint i = 0; i < p->tracks->len; i++) {
    MediaTrack *t = g_ptr_array_index (p->tracks, i);

    if (announce)
      post_track_event (room, EVENT_TRACK_REMOVED, t);
    track_free (t);
  }
  g_ptr_array_unref (p->tracks);
  media_simulcast_participant_clear (p);

  /* Delivered after every event already posted for this participant. */
  e = g_new0 (PostedEvent, 1);
  e->kind = EVENT_NOTIFY;
  e->notify = p->notify;
  e->user_data = p->user_data;
  post_event (room, e);

  g_free (p->id);
  g_free (p);
}

void
media_room_free (MediaRoom *room)
{
  media_recording_stop (room);
  g_source_destroy (room->timer);
  g_source_unref (room->timer);
  for (guint i = 0; i < room->order->len; i++)
    participant_free (g_ptr_array_index (room->order, i), FALSE);
  g_ptr_array_unref (room->order);
  g_hash_table_unref (room->participants);
  MEDIA_STAT_SUB (room->env.stats, rooms, 1);
  g_free (room->id);
  g_free (room);
}

void
media_room_add_participant (MediaRoom *room, const char *participant_id,
                            const MediaParticipantCallbacks *callbacks,
                            gpointer user_data, GDestroyNotify notify)
{
  MediaParticipant *p;

  if (g_hash_table_contains (room->participants, participant_id)) {
    g_warning ("room %s: participant %s added twice", room->id, participant_id);
    return;
  }
  p = g_new0 (MediaParticipant, 1);
  p->room = room;
  p->id = g_strdup (participant_id);
  if (callbacks != NULL)
    p->callbacks = *callbacks;
  p->user_data = user_data;
  p->notify = notify;
  p->tracks = g_ptr_array_new ();
  p->slots = g_ptr_array_new_with_free_func ((GDestroyNotify) slot_free);
  p->session_id = g_random_int () | ((guint64) (g_random_int () & 0x7fffffff) << 32);
  p->rtcp_ssrc = random_ssrc ();
  g_hash_table_insert (room->participants, p->id, p);
  g_ptr_array_add (room->order, p);
}

void
media_room_remove_participant (MediaRoom *room, const char *participant_id)
{
  MediaParticipant *p = g_hash_table_lookup (room->participants, participant_id);

  if (p == NULL)
    return;
  media_speaker_participant_leaving (p);
  g_hash_table_remove (room->participants, participant_id);
  g_ptr_array_remove (room->order, p);
  participant_free (p, TRUE);
  media_speaker_room_changed (room);
}

void
media_room_publish (MediaRoom *room, const char *participant_id, const char *offer_sdp,
                    const char *const *screen_mids, MediaSdpCallback callback,
                    gpointer user_data)
{
  GError *error = NULL;
  MediaParticipant *p;
  g_autoptr (MediaSdpDescription) offer = NULL;
  g_auto (GStrv) candidates = NULL;
  MediaSdpLocal local;
  MediaSdpSetup setup;
  gchar *answer = NULL;
  gboolean created = FALSE;

  p = room_lookup (room, participant_id, &error);
  if (p == NULL)
    goto fail;
  offer = media_sdp_parse (offer_sdp, strlen (offer_sdp), SDP_MAX_LEN, &error);
  if (offer == NULL) {
    error = sdp_error_to_media (error);
    goto fail;
  }
  if (p->publish == NULL) {
    p->publish = participant_new_peer (p, MEDIA_PC_PUBLISH, &error);
    if (p->publish == NULL)
      goto fail;
    created = TRUE;
  }
  /* RFC 5763 §5: the answerer picks; we are the DTLS server unless the
   * client insists on being it. */
  setup = offer->setup == MEDIA_SDP_SETUP_PASSIVE ? MEDIA_SDP_SETUP_ACTIVE
                                                  : MEDIA_SDP_SETUP_PASSIVE;
  candidates = media_peer_get_local_candidates (p->publish);
  local_description_init (p, p->publish, setup, candidates, &local);
  local.session_version = 1;
  answer = media_sdp_create_publish_answer (offer, &local, &error);
  if (answer == NULL) {
    error = sdp_error_to_media (error);
    goto fail;
  }
  if (!media_peer_set_remote (p->publish, offer->ice_ufrag, offer->ice_pwd,
                              offer->fingerprint_hash, offer->fingerprint,
                              setup == MEDIA_SDP_SETUP_ACTIVE, &error))
    goto fail;
  for (guint i = 0; i < offer->candidates->len; i++)
    media_peer_add_remote_candidate (p->publish, g_ptr_array_index (offer->candidates, i));
  if (offer->end_of_candidates)
    media_peer_remote_gathering_done (p->publish);

  participant_update_tracks (p, offer, screen_mids);
  media_speaker_published (p, offer);
  media_recording_participant_published (p);
  media_post_sdp (room->env.control, callback, user_data, answer,
                  participant_track_infos (p), NULL);
  return;

fail:
  g_free (answer);
  if (created)
    g_clear_pointer (&p->publish, media_peer_free);
  g_info ("room %s participant %s publish refused: %s", room->id, participant_id,
          error->message);
  media_post_sdp (room->env.control, callback, user_data, NULL, NULL, error);
}

void
media_room_subscribe_offer (MediaRoom *room, const char *participant_id,
                            MediaSdpCallback callback, gpointer user_data)
{
  GError *error = NULL;
  MediaParticipant *p;
  g_auto (GStrv) candidates = NULL;
  g_autofree MediaSdpOfferTrack *offer_tracks = NULL;
  MediaSdpLocal local;
  gchar *offer;

  p = room_lookup (room, participant_id, &error);
  if (p == NULL)
    goto fail;
  if (p->offer_pending || p->viewer) {
    g_set_error (&error, MEDIA_ERROR, MEDIA_ERROR_STATE, p->viewer
                 ? "a WHEP viewer's media is negotiated by its own offer"
                 : "a subscribe offer is already waiting for its answer");
    goto fail;
  }
  participant_sync_slots (p);
  if (p->slots->len == 0) {
    g_set_error (&error, MEDIA_ERROR, MEDIA_ERROR_STATE, "nothing to subscribe to");
    goto fail;
  }
  if (p->subscribe == NULL) {
    p->subscribe = participant_new_peer (p, MEDIA_PC_SUBSCRIBE, &error);
    if (p->subscribe == NULL)
      goto fail;
  }

  offer_tracks = g_new0 (MediaSdpOfferTrack, p->slots->len);
  for (guint i = 0; i < p->slots->len; i++) {
    MediaSlot *s = g_ptr_array_index (p->slots, i);
    MediaSdpOfferTrack *o = &offer_tracks[i];

    o->mid = s->mid;
    o->kind = s->kind;
    o->active = s->track != NULL;
    if (!slot_assign_codec (s, &error))
      goto fail;
    o->codec = s->codec_out;
    if (s->track != NULL) {
      o->ssrc = s->ssrc_out;
      o->cname = s->track->owner->id;
      o->msid_stream = s->track->owner->id;
      o->msid_track = s->track->id;
      if (s->track->video)
        o->extmaps = media_simulcast_subscribe_extmaps ();
    }
  }
  candidates = media_peer_get_local_candidates (p->subscribe);
  local_description_init (p, p->subscribe, MEDIA_SDP_SETUP_ACTPASS, candidates, &local);
  local.session_version = ++p->subscribe_version;
  offer = media_sdp_create_subscribe_offer (offer_tracks, p->slots->len, &local, &error);
  if (offer == NULL) {
    error = sdp_error_to_media (error);
    goto fail;
  }
  p->offer_pending = TRUE;
  media_post_sdp (room->env.control, callback, user_data, offer, NULL, NULL);
  return;

fail:
  media_post_sdp (room->env.control, callback, user_data, NULL, NULL, error);
}

void
media_room_subscribe_answer (MediaRoom *room, const char *participant_id,
                             const char *answer_sdp, MediaDoneCallback callback,
                             gpointer user_data)
{
  GError *error = NULL;
  MediaParticipant *p;
  g_autoptr (MediaSdpDescription) answer = NULL;
  g_autofree const gchar **mids = NULL;

  p = room_lookup (room, participant_id, &error);
  if (p == NULL)
    goto fail;
  if (!p->offer_pending || p->subscribe == NULL) {
    g_set_error (&error, MEDIA_ERROR, MEDIA_ERROR_STATE, "no subscribe offer is outstanding");
    goto fail;
  }
  mids = g_new0 (const gchar *, p->slots->len + 1);
  for (guint i = 0; i < p->slots->len; i++)
    mids[i] = ((MediaSlot *) g_ptr_array_index (p->slots, i))->mid;
  answer = media_sdp_parse_subscribe_answer (answer_sdp, strlen (answer_sdp), SDP_MAX_LEN,
                                             p->slots->len, mids, &error);
  if (answer == NULL) {
    /* The offer stays outstanding: the client may send a corrected answer. */
    error = sdp_error_to_media (error);
    goto fail;
  }
  /* RFC 5763 §5: an answer of "active" makes us the DTLS server. */
  if (!media_peer_set_remote (p->subscribe, answer->ice_ufrag, answer->ice_pwd,
                              answer->fingerprint_hash, answer->fingerprint,
                              answer->setup == MEDIA_SDP_SETUP_PASSIVE, &error))
    goto fail;
  for (guint i = 0; i < answer->candidates->len; i++)
    media_peer_add_remote_candidate (p->subscribe, g_ptr_array_index (answer->candidates, i));
  if (answer->end_of_candidates)
    media_peer_remote_gathering_done (p->subscribe);

  p->offer_pending = FALSE;
  for (guint i = 0; i < p->slots->len; i++) {
    MediaSlot *s = g_ptr_array_index (p->slots, i);
    MediaSdpSection *sec = g_ptr_array_index (answer->sections, i);
    gboolean was = s->negotiated;

    s->negotiated = s->track != NULL && !sec->rejected &&
                    sec->direction != MEDIA_SDP_INACTIVE;
    g_debug ("room %s participant %s slot %s: %s%s%s ssrc %08x pt %d answered %s",
             room->id, p->id, s->mid, s->track ? s->track->owner->id : "-",
             s->track ? "/" : "", s->track ? s->track->id : "", s->ssrc_out,
             s->codec_out ? s->codec_out->payload_type : -1,
             s->negotiated ? "receiving" : "not receiving");
    if (s->negotiated && !was) {
      s->want_keyframe = s->track->video;
      media_track_request_keyframe (s->track, TRUE);
    }
  }
  media_post_done (room->env.control, callback, user_data, NULL);
  return;

fail:
  media_post_done (room->env.control, callback, user_data, error);
}

void
media_room_add_remote_candidate (MediaRoom *room, const char *participant_id,
                                 MediaPcKind pc, const char *candidate,
                                 MediaDoneCallback callback, gpointer user_data)
{
  GError *error = NULL;
  MediaParticipant *p;
  MediaPeer *peer;

  p = room_lookup (room, participant_id, &error);
  if (p == NULL)
    goto out;
  peer = pc == MEDIA_PC_PUBLISH ? p->publish : p->subscribe;
  if (peer == NULL) {
    g_set_error (&error, MEDIA_ERROR, MEDIA_ERROR_STATE,
                 "no %s connection to add a candidate to", media_pc_kind_to_string (pc));
    goto out;
  }
  if (candidate == NULL)
    media_peer_remote_gathering_done (peer);
  else if (!media_peer_add_remote_candidate (peer, candidate))
    g_debug ("room %s participant %s: candidate skipped", room->id, participant_id);
out:
  media_post_done (room->env.control, callback, user_data, error);
}

void
media_room_request_keyframe (MediaRoom *room, const char *publisher_id)
{
  for (guint i = 0; i < room->order->len; i++) {
    MediaParticipant *p = g_ptr_array_index (room->order, i);

    if (publisher_id != NULL && g_strcmp0 (p->id, publisher_id) != 0)
      continue;
    for (guint j = 0; j < p->tracks->len; j++)
      media_track_request_keyframe (g_ptr_array_index (p->tracks, j), FALSE);
  }
}

/* ---- for speaker.c and view.c ----------------------------------------- */

MediaParticipant *
media_room_lookup (MediaRoom *room, const char *participant_id, GError **error)
{
  return room_lookup (room, participant_id, error);
}

GError *
media_sdp_error_to_media (GError *sdp_error)
{
  return sdp_error_to_media (sdp_error);
}

void
media_participant_local_description (MediaParticipant *p, MediaPeer *peer, MediaSdpSetup setup,
                                     gchar **candidates, MediaSdpLocal *local)
{
  local_description_init (p, peer, setup, candidates, local);
}

void
media_participant_drop_publish (MediaParticipant *p)
{
  if (p->publish != NULL) {
    g_clear_pointer (&p->publish, media_peer_free);
    participant_post_state (p, MEDIA_PC_PUBLISH, MEDIA_STATE_CLOSED);
  }
  media_recording_participant_leaving (p);
  for (guint i = 0; i < p->tracks->len; i++) {
    MediaTrack *t = g_ptr_array_index (p->tracks, i);

    post_track_event (p->room, EVENT_TRACK_REMOVED, t);
    track_free (t);
  }
  g_ptr_array_set_size (p->tracks, 0);
}
