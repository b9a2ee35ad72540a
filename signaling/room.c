/* room.c — rooms, membership broadcasts, media room callbacks, and the
 * per-participant subscribe renegotiation. */
#include "room.h"

#include <openssl/rand.h>
#include <string.h>

static const MediaRoomCallbacks room_callbacks;
static const MediaParticipantCallbacks participant_callbacks;

SignalingRoom *
signaling_room_find (SignalingContext *context, const char *room_id)
{
  return g_hash_table_lookup (context->rooms, room_id);
}

void
signaling_room_free (SignalingRoom *room)
{
  if (room == NULL)
    return;
  g_ptr_array_unref (room->members);
  g_free (room->host_user_id);
  g_free (room->active_speaker);
  g_free (room->id);
  g_free (room);
}

const char *
signaling_room_kind_to_string (SignalingRoomKind kind)
{
  return kind == SIGNALING_ROOM_BRIEFING ? "briefing" : "consult";
}

const char *
signaling_role_to_string (SignalingRole role)
{
  switch (role) {
  case SIGNALING_ROLE_HOST: return "host";
  case SIGNALING_ROLE_PRESENTER: return "presenter";
  case SIGNALING_ROLE_VIEWER: return "viewer";
  case SIGNALING_ROLE_PARTICIPANT: break;
  }
  return "participant";
}

SignalingSession *
signaling_room_find_member (SignalingRoom *room, const char *participant_id)
{
  for (guint i = 0; room && i < room->members->len; i++) {
    SignalingSession *member = g_ptr_array_index (room->members, i);

    if (g_strcmp0 (member->participant_id, participant_id) == 0)
      return member;
  }
  return NULL;
}

static gboolean
holds_floor (SignalingSession *member)
{
  return member->role == SIGNALING_ROLE_HOST || member->role == SIGNALING_ROLE_PRESENTER;
}

guint
signaling_room_count_presenters (SignalingRoom *room)
{
  guint count = 0;

  if (room->kind != SIGNALING_ROOM_BRIEFING)
    return 0;
  for (guint i = 0; i < room->members->len; i++)
    if (holds_floor (g_ptr_array_index (room->members, i)))
      count++;
  return count;
}

static guint
count_role (SignalingRoom *room, SignalingRole role)
{
  guint count = 0;

  for (guint i = 0; i < room->members->len; i++)
    if (((SignalingSession *) g_ptr_array_index (room->members, i))->role == role)
      count++;
  return count;
}

json_t *
signaling_room_describe_state (SignalingRoom *room)
{
  json_t *presenters = json_array ();

  /* Hosts first, then presenters, each in join order. */
  for (int pass = 0; pass < 2 && room->kind == SIGNALING_ROOM_BRIEFING; pass++) {
    for (guint i = 0; i < room->members->len; i++) {
      SignalingSession *member = g_ptr_array_index (room->members, i);

      if (member->role == (pass == 0 ? SIGNALING_ROLE_HOST : SIGNALING_ROLE_PRESENTER))
        json_array_append_new (presenters, json_string (member->participant_id));
    }
  }
  return json_pack ("{s:b, s:i, s:o, s:s?}", "locked", room->locked, "last_n",
                    (int) room->last_n, "presenters", presenters, "active_speaker",
                    room->active_speaker);
}

static json_t *
describe_track (const MediaTrackInfo *track)
{
  return json_pack ("{s:s, s:s, s:s, s:s, s:i}", "id", track->track_id, "kind", track->kind,
                    "codec", track->codec, "source",
                    track->source ? track->source
                                  : (g_strcmp0 (track->kind, "audio") == 0 ? "microphone"
                                                                           : "camera"),
                    "layers", (int) MAX (track->layers, 1));
}

json_t *
signaling_room_describe_participant (SignalingSession *session, gboolean with_tracks)
{
  json_t *out = json_pack ("{s:s, s:s, s:s, s:b, s:b, s:b, s:b}", "id", session->participant_id,
                           "name", session->name, "role", signaling_role_to_string (session->role),
                           "audio_muted", session->audio_muted,
                           "video_muted", session->video_muted,
                           "screen_muted", session->screen_muted,
                           "hand_raised", session->hand_raised);

  if (with_tracks) {
    json_t *tracks = json_array ();

    for (guint i = 0; i < session->tracks->len; i++)
      json_array_append_new (tracks, describe_track (g_ptr_array_index (session->tracks, i)));
    json_object_set_new (out, "tracks", tracks);
  }
  return out;
}

void
signaling_room_broadcast (SignalingRoom *room, SignalingSession *except, json_t *message)
{
  /* Serialised once: a briefing's broadcasts go to a hundred members. */
  char *text = room ? json_dumps (message, JSON_COMPACT) : NULL;

  json_decref (message);
  if (text) {
    /* Sending can close a socket and shrink the array: iterate over a copy. */
    g_autoptr (GPtrArray) members = g_ptr_array_new_full (room->members->len,
                                                          (GDestroyNotify) signaling_session_unref);

    for (guint i = 0; i < room->members->len; i++)
      g_ptr_array_add (members, signaling_session_ref (g_ptr_array_index (room->members, i)));
    for (guint i = 0; i < members->len; i++) {
      SignalingSession *member = g_ptr_array_index (members, i);

      if (member != except)
        signaling_session_send_text (member, text);
    }
  }
  free (text);
}

/* "p" + 12 hex digits of OpenSSL randomness; unique among live participants. */
static char *
new_participant_id (SignalingContext *context)
{
  for (;;) {
    unsigned char bytes[6];
    char *id;

    if (RAND_bytes (bytes, sizeof bytes) != 1)
      g_error ("OpenSSL RAND_bytes failed");
    id = g_strdup_printf ("p%02x%02x%02x%02x%02x%02x", bytes[0], bytes[1], bytes[2], bytes[3],
                          bytes[4], bytes[5]);
    if (!g_hash_table_contains (context->participants, id))
      return id;
    g_free (id);
  }
}

/* Anyone in a room but a patient: anonymous rooms have no lobby, and a
 * staff member got in only through the care-team policy. */
static gboolean
is_care_team (SignalingSession *session)
{
  return session->principal == NULL || session->principal->role != RECORDS_ROLE_PATIENT;
}

static gboolean
others_have_tracks (SignalingSession *session)
{
  for (guint i = 0; i < session->room->members->len; i++) {
    SignalingSession *member = g_ptr_array_index (session->room->members, i);

    if (member != session && member->tracks->len > 0)
      return TRUE;
  }
  return FALSE;
}

static void
record_event (SignalingSession *session, RecordsCallEvent event)
{
  g_autoptr (GError) error = NULL;

  signaling_audit_session (session, event == RECORDS_CALL_EVENT_JOIN ? "join" : "leave",
                           "success", NULL);
  if (session->context->store == NULL)
    return;
  if (!records_store_add_call_event (session->context->store, session->room->id,
                                     session->participant_id, event,
                                     event == RECORDS_CALL_EVENT_JOIN ? session->name : NULL,
                                     &error))
    signaling_log (G_LOG_LEVEL_WARNING, session, "cannot record call event: %s", error->message);
}

/* The consult limit: max-participants, never above 12. */
static guint
consult_limit (SignalingContext *context)
{
  return MIN (context->max_participants, SIGNALING_CONSULT_MAX_PARTICIPANTS);
}

gboolean
signaling_room_check_join (SignalingContext *context, const char *room_id,
                           const SignalingJoinSpec *spec, SignalingErrorCode *code)
{
  SignalingRoom *room = signaling_room_find (context, room_id);

  if (room == NULL)
    return TRUE;
  if (room->locked && !spec->host && !spec->admitted) {
    *code = SIGNALING_ERROR_ROOM_LOCKED;
    return FALSE;
  }
  if (room->kind == SIGNALING_ROOM_BRIEFING) {
    /* A host by right always gets in; a presenter needs a free seat;
     * everyone else joins as a viewer. */
    if (spec->presenter && !spec->host
        && signaling_room_count_presenters (room) >= SIGNALING_BRIEFING_MAX_PRESENTERS) {
      *code = SIGNALING_ERROR_PRESENTERS_FULL;
      return FALSE;
    }
    if (!spec->host && !spec->presenter
        && count_role (room, SIGNALING_ROLE_VIEWER) >= context->max_briefing_viewers) {
      *code = SIGNALING_ERROR_ROOM_FULL;
      return FALSE;
    }
  } else if (room->members->len >= consult_limit (context)) {
    *code = SIGNALING_ERROR_ROOM_FULL;
    return FALSE;
  }
  return TRUE;
}

gboolean
signaling_room_join (SignalingContext *context, SignalingSession *session, const char *room_id,
                     const SignalingJoinSpec *spec, const char *name, const json_t *ref,
                     SignalingErrorCode *code)
{
  SignalingRoom *room = signaling_room_find (context, room_id);
  gboolean created = FALSE;
  json_t *reply, *others;

  if (!signaling_room_check_join (context, room_id, spec, code))
    return FALSE;
  if (room == NULL) {
    room = g_new0 (SignalingRoom, 1);
    room->id = g_strdup (room_id);
    room->members = g_ptr_array_new_with_free_func ((GDestroyNotify) signaling_session_unref);
    room->kind = spec->kind;
    room->plain = spec->plain;
    room->host_user_id = g_strdup (spec->host_user_id);
    g_hash_table_insert (context->rooms, room->id, room);
    context->metrics.rooms++;
    created = TRUE;
  }

  if (session->participant_id == NULL) {
    session->participant_id = new_participant_id (context);
    g_hash_table_insert (context->participants, session->participant_id, session);
  }
  if (session->name == NULL)
    session->name = g_strdup (name);
  /* Hosts: by right (care team, the briefing's creator), or a plain room's
   * first joiner. */
  if (spec->host || (room->plain && room->members->len == 0))
    session->role = SIGNALING_ROLE_HOST;
  else if (spec->presenter && room->kind == SIGNALING_ROOM_BRIEFING)
    session->role = SIGNALING_ROLE_PRESENTER;
  else
    session->role = room->kind == SIGNALING_ROOM_BRIEFING ? SIGNALING_ROLE_VIEWER
                                                          : SIGNALING_ROLE_PARTICIPANT;
  session->hand_raised = FALSE;
  session->room = room;
  session->state = SESSION_JOINED;
  g_ptr_array_add (room->members, signaling_session_ref (session));
  context->metrics.participants++;

  if (context->engine) {
    if (created) {
      media_engine_open_room (context->engine, room->id, &room_callbacks, context);
      if (room->last_n > 0)
        media_engine_set_last_n (context->engine, room->id, room->last_n);
    }
    media_engine_add_participant (context->engine, room->id, session->participant_id,
                                  &participant_callbacks, context, NULL);
  }
  record_event (session, RECORDS_CALL_EVENT_JOIN);
  signaling_log (G_LOG_LEVEL_INFO, session, "joined %s %s as %s (%u in room)",
                 signaling_room_kind_to_string (room->kind), created ? "(new)" : "",
                 signaling_role_to_string (session->role), room->members->len);

  others = json_array ();
  for (guint i = 0; i < room->members->len; i++) {
    SignalingSession *member = g_ptr_array_index (room->members, i);

    if (member != session)
      json_array_append_new (others, signaling_room_describe_participant (member, TRUE));
  }
  reply = json_pack ("{s:s, s:s, s:s, s:o, s:[], s:s, s:s, s:o, s:b}", "type", "joined",
                     "room", room->id, "participant", session->participant_id,
                     "participants", others, "ice_servers",
                     "kind", signaling_room_kind_to_string (room->kind),
                     "role", signaling_role_to_string (session->role),
                     "room_state", signaling_room_describe_state (room),
                     "simulcast", TRUE);
  if (is_care_team (session))
    json_object_set_new (reply, "lobby", signaling_room_describe_lobby (context, room->id));
  json_object_set_new (reply, "recording", signaling_recording_describe (context, room->id));
  if (ref)
    json_object_set (reply, "ref", (json_t *) ref);
  signaling_session_send (session, reply);

  signaling_room_broadcast (room, session,
                            json_pack ("{s:s, s:o}", "type", "participant-joined", "participant",
                                       signaling_room_describe_participant (session, TRUE)));
  if (room->kind == SIGNALING_ROOM_BRIEFING && holds_floor (session) && !created)
    signaling_moderation_room_updated (room);
  if (others_have_tracks (session))
    signaling_room_renegotiate (session);
  return TRUE;
}

/* A plain room's host left: the next member in join order takes over. */
static void
pass_host_on (SignalingRoom *room)
{
  SignalingSession *next;

  if (!room->plain || room->members->len == 0
      || count_role (room, SIGNALING_ROLE_HOST) > 0)
    return;
  next = g_ptr_array_index (room->members, 0);
  next->role = SIGNALING_ROLE_HOST;
  next->hand_raised = FALSE;
  signaling_log (G_LOG_LEVEL_INFO, next, "is the room's host now");
  signaling_moderation_participant_updated (next, TRUE);
}

void
signaling_room_leave (SignalingSession *session)
{
  SignalingContext *context = session->context;
  SignalingRoom *room = session->room;

  g_return_if_fail (session->state == SESSION_JOINED && room != NULL);

  signaling_session_ref (session);
  signaling_log (G_LOG_LEVEL_INFO, session, "left (%u remain)", room->members->len - 1);
  record_event (session, RECORDS_CALL_EVENT_LEAVE);
  if (context->engine)
    media_engine_remove_participant (context->engine, room->id, session->participant_id);

  g_hash_table_remove (context->participants, session->participant_id);
  session->state = SESSION_LEFT;
  session->room = NULL;
  g_ptr_array_remove (room->members, session);
  context->metrics.participants--;
  signaling_recording_member_left (context, room);

  if (room->members->len == 0) {
    if (context->engine)
      media_engine_close_room (context->engine, room->id);
    context->metrics.rooms--;
    g_hash_table_remove (context->rooms, room->id);   /* frees room */
  } else {
    gboolean floor_changed = room->kind == SIGNALING_ROOM_BRIEFING && holds_floor (session);

    if (g_strcmp0 (room->active_speaker, session->participant_id) == 0)
      g_clear_pointer (&room->active_speaker, g_free);
    signaling_room_broadcast (room, NULL,
                              json_pack ("{s:s, s:s}", "type", "participant-left",
                                         "participant", session->participant_id));
    if (session->role == SIGNALING_ROLE_HOST)
      pass_host_on (room);
    if (floor_changed)
      signaling_moderation_room_updated (room);
  }
  signaling_session_unref (session);
}

/* ---- subscribe renegotiation ---- */

static void
on_subscribe_offer (const char *sdp, GPtrArray *tracks, const GError *error, gpointer user_data)
{
  SignalingRequest *request = user_data;
  SignalingSession *session = signaling_request_get_session (request);

  if (session == NULL || session->state != SESSION_JOINED
      || session->subscribe_state != SUBSCRIBE_OFFER_REQUESTED)
    goto out;
  if (error && session->subscribe_version == 0
      && g_error_matches (error, MEDIA_ERROR, MEDIA_ERROR_STATE)) {
    /* The first offer raced with the tracks going away (a publisher that
     * left, or lost the floor, before this idle-time request reached the
     * media plane): nothing to offer.  Asked again only when tracks came
     * meanwhile (dirty), so that this cannot loop. */
    gboolean due = session->subscribe_dirty;

    signaling_log (G_LOG_LEVEL_INFO, session, "no subscribe offer: %s", error->message);
    session->subscribe_state = SUBSCRIBE_IDLE;
    session->subscribe_dirty = FALSE;
    if (due)
      signaling_room_renegotiate (session);
    goto out;
  }
  if (error) {
    /* Not retried: a retry could loop on a persistent media failure.  The
     * next track change asks again. */
    signaling_log (G_LOG_LEVEL_WARNING, session, "subscribe offer failed: %s", error->message);
    session->subscribe_state = SUBSCRIBE_IDLE;
    session->subscribe_dirty = FALSE;
    goto out;
  }
  session->subscribe_state = SUBSCRIBE_OFFER_SENT;
  session->subscribe_version++;
  signaling_log (G_LOG_LEVEL_INFO, session, "subscribe offer version %" G_GINT64_FORMAT,
                 session->subscribe_version);
  signaling_session_send (session, json_pack ("{s:s, s:s, s:I}", "type", "subscribe-offer",
                                              "sdp", sdp, "version",
                                              (json_int_t) session->subscribe_version));
out:
  signaling_request_free (request);
}

static void renegotiate_now (SignalingSession *session);

static gboolean
renegotiate_idle (gpointer data)
{
  SignalingSession *session = data;

  session->renegotiate_queued = FALSE;
  renegotiate_now (session);
  return G_SOURCE_REMOVE;
}

/* Track changes come in bursts (a participant who leaves removes two tracks
 * at once): they are coalesced into one offer by asking from an idle. */
void
signaling_room_renegotiate (SignalingSession *session)
{
  /* A detached (WHIP/WHEP) member cannot answer a subscribe offer. */
  if (session->state != SESSION_JOINED || session->context->engine == NULL || session->detached)
    return;
  if (session->renegotiate_queued)
    return;
  session->renegotiate_queued = TRUE;
  g_idle_add_full (G_PRIORITY_DEFAULT_IDLE, renegotiate_idle,
                   signaling_session_ref (session),
                   (GDestroyNotify) signaling_session_unref);
}

static void
renegotiate_now (SignalingSession *session)
{
  if (session->state != SESSION_JOINED || session->context->engine == NULL)
    return;
  if (session->subscribe_state != SUBSCRIBE_IDLE) {
    session->subscribe_dirty = TRUE;
    return;
  }
  /* Nothing to receive and nothing received before: no offer needed. */
  if (session->subscribe_version == 0 && !others_have_tracks (session))
    return;
  session->subscribe_state = SUBSCRIBE_OFFER_REQUESTED;
  session->subscribe_dirty = FALSE;
  media_engine_subscribe_offer (session->context->engine, session->room->id,
                                session->participant_id, on_subscribe_offer,
                                signaling_request_new (session, NULL));
}

static void
on_subscribe_answered (const GError *error, gpointer user_data)
{
  SignalingRequest *request = user_data;
  SignalingSession *session = signaling_request_get_session (request);

  if (session == NULL || session->state != SESSION_JOINED
      || session->subscribe_state != SUBSCRIBE_ANSWER_PENDING)
    goto out;
  if (error) {
    /* The offer stays outstanding: the client may answer it again. */
    session->subscribe_state = SUBSCRIBE_OFFER_SENT;
    signaling_session_send_media_error (session, error, request->ref);
    goto out;
  }
  session->subscribe_state = SUBSCRIBE_IDLE;
  {
    json_t *reply = json_pack ("{s:s}", "type", "ok");
    if (request->ref)
      json_object_set (reply, "ref", request->ref);
    signaling_session_send (session, reply);
  }
  if (session->subscribe_dirty)
    signaling_room_renegotiate (session);
out:
  signaling_request_free (request);
}

void
signaling_room_subscribe_answer (SignalingSession *session, const char *sdp, gint64 version,
                                 json_t *ref)
{
  if (session->subscribe_state != SUBSCRIBE_OFFER_SENT) {
    signaling_session_send_error (session, SIGNALING_ERROR_BAD_STATE, ref, NULL,
                                  "no subscribe offer is waiting for an answer");
    return;
  }
  if (version != session->subscribe_version) {
    signaling_session_send_error (session, SIGNALING_ERROR_BAD_STATE, ref, "version",
                                  "the outstanding offer is version %" G_GINT64_FORMAT,
                                  session->subscribe_version);
    return;
  }
  session->subscribe_state = SUBSCRIBE_ANSWER_PENDING;
  media_engine_subscribe_answer (session->context->engine, session->room->id,
                                 session->participant_id, sdp, on_subscribe_answered,
                                 signaling_request_new (session, ref));
}

static void
renegotiate_others (SignalingRoom *room, const char *publisher_id)
{
  for (guint i = 0; i < room->members->len; i++) {
    SignalingSession *member = g_ptr_array_index (room->members, i);

    if (g_strcmp0 (member->participant_id, publisher_id) != 0)
      signaling_room_renegotiate (member);
  }
}

/* ---- media callbacks (control context) ---- */

static void
on_track_added (const char *room_id, const MediaTrackInfo *track, gpointer user_data)
{
  SignalingContext *context = user_data;
  SignalingRoom *room = signaling_room_find (context, room_id);
  SignalingSession *publisher = g_hash_table_lookup (context->participants, track->participant_id);
  MediaTrackInfo *copy;

  /* A publisher that left meanwhile: its tracks are being removed anyway. */
  if (room == NULL || publisher == NULL || publisher->room != room)
    return;
  copy = g_new0 (MediaTrackInfo, 1);
  copy->participant_id = g_strdup (track->participant_id);
  copy->track_id = g_strdup (track->track_id);
  copy->kind = g_strdup (track->kind);
  copy->codec = g_strdup (track->codec);
  copy->source = g_strdup (track->source);
  copy->layers = track->layers;
  g_ptr_array_add (publisher->tracks, copy);
  signaling_log (G_LOG_LEVEL_INFO, publisher, "track %s added (%s %s)", track->track_id,
                 track->kind, track->codec);

  signaling_room_broadcast (room, publisher,
                            json_pack ("{s:s, s:s, s:o}", "type", "track-added", "participant",
                                       track->participant_id, "track", describe_track (track)));
  signaling_recording_track_added (context, publisher);
  renegotiate_others (room, track->participant_id);
}

static void
on_track_removed (const char *room_id, const MediaTrackInfo *track, gpointer user_data)
{
  SignalingContext *context = user_data;
  SignalingRoom *room = signaling_room_find (context, room_id);
  SignalingSession *publisher = g_hash_table_lookup (context->participants, track->participant_id);

  if (room == NULL)
    return;
  if (publisher && publisher->room == room) {
    for (guint i = 0; i < publisher->tracks->len; i++) {
      MediaTrackInfo *own = g_ptr_array_index (publisher->tracks, i);

      if (g_strcmp0 (own->track_id, track->track_id) == 0) {
        g_ptr_array_remove_index (publisher->tracks, i);
        break;
      }
    }
  }
  signaling_room_broadcast (room, publisher,
                            json_pack ("{s:s, s:s, s:o}", "type", "track-removed", "participant",
                                       track->participant_id, "track", describe_track (track)));
  renegotiate_others (room, track->participant_id);
}

static void
on_local_candidate (const char *participant_id, MediaPcKind pc, const char *candidate,
                    const char *mid, guint mline_index, gpointer user_data)
{
  SignalingContext *context = user_data;
  SignalingSession *session = g_hash_table_lookup (context->participants, participant_id);
  json_t *value;

  if (session == NULL)
    return;
  if (candidate)
    value = json_pack ("{s:s, s:s?, s:i}", "candidate", candidate, "sdpMid", mid,
                       "sdpMLineIndex", (int) mline_index);
  else
    value = json_null ();
  signaling_session_send (session, json_pack ("{s:s, s:s, s:o}", "type", "trickle", "pc",
                                              media_pc_kind_to_string (pc), "candidate", value));
}

static void
on_state_changed (const char *participant_id, MediaPcKind pc, MediaState state, gpointer user_data)
{
  SignalingContext *context = user_data;
  SignalingSession *session = g_hash_table_lookup (context->participants, participant_id);

  if (session == NULL)
    return;
  signaling_log (state == MEDIA_STATE_FAILED ? G_LOG_LEVEL_WARNING : G_LOG_LEVEL_INFO, session,
                 "%s peer connection %s", media_pc_kind_to_string (pc),
                 media_state_to_string (state));
  signaling_session_send (session, json_pack ("{s:s, s:s, s:s}", "type", "connection-state",
                                              "pc", media_pc_kind_to_string (pc), "state",
                                              media_state_to_string (state)));
  /* A WHIP/WHEP client has no socket to close: a dead peer ends it. */
  if (session->detached && (state == MEDIA_STATE_FAILED || state == MEDIA_STATE_CLOSED))
    signaling_whip_peer_ended (context, participant_id);
}

/* The media plane's dominant speaker changed: everyone in the room hears of it. */
static void
on_active_speaker (const char *room_id, const char *participant_id, gpointer user_data)
{
  SignalingContext *context = user_data;
  SignalingRoom *room = signaling_room_find (context, room_id);

  if (room == NULL || g_strcmp0 (room->active_speaker, participant_id) == 0)
    return;
  /* A participant who left meanwhile is nobody. */
  if (participant_id && signaling_room_find_member (room, participant_id) == NULL)
    participant_id = NULL;
  g_free (room->active_speaker);
  room->active_speaker = g_strdup (participant_id);
  signaling_room_broadcast (room, NULL,
                            json_pack ("{s:s, s:s?}", "type", "active-speaker", "participant",
                                       participant_id));
}

static const MediaRoomCallbacks room_callbacks = {
  .track_added = on_track_added,
  .track_removed = on_track_removed,
  .active_speaker = on_active_speaker,
};

static const MediaParticipantCallbacks participant_callbacks = {
  .local_candidate = on_local_candidate,
  .state_changed = on_state_changed,
};

/* ---- the lobby ---- */

json_t *
signaling_room_describe_lobby (SignalingContext *context, const char *room_id)
{
  GPtrArray *waiting = g_hash_table_lookup (context->lobbies, room_id);
  json_t *out = json_array ();

  for (guint i = 0; waiting && i < waiting->len; i++) {
    SignalingSession *session = g_ptr_array_index (waiting, i);

    json_array_append_new (out, json_pack ("{s:s, s:s}", "id", session->participant_id,
                                           "name", session->name));
  }
  return out;
}

/* Tells the care team in @room_id's room who is waiting now. */
static void
lobby_changed (SignalingContext *context, const char *room_id)
{
  SignalingRoom *room = signaling_room_find (context, room_id);
  g_autoptr (GPtrArray) members = NULL;
  json_t *message;

  if (room == NULL)
    return;
  message = json_pack ("{s:s, s:o}", "type", "lobby-updated", "waiting",
                       signaling_room_describe_lobby (context, room_id));
  members = g_ptr_array_new_full (room->members->len, (GDestroyNotify) signaling_session_unref);
  for (guint i = 0; i < room->members->len; i++)
    g_ptr_array_add (members, signaling_session_ref (g_ptr_array_index (room->members, i)));
  for (guint i = 0; i < members->len; i++) {
    SignalingSession *member = g_ptr_array_index (members, i);

    if (is_care_team (member))
      signaling_session_send (member, json_incref (message));
  }
  json_decref (message);
}

void
signaling_room_enter_lobby (SignalingSession *session, const char *room_id, const json_t *ref)
{
  SignalingContext *context = session->context;
  GPtrArray *waiting = g_hash_table_lookup (context->lobbies, room_id);
  json_t *reply;

  g_return_if_fail (session->state == SESSION_NOT_JOINED);

  if (waiting == NULL) {
    waiting = g_ptr_array_new_with_free_func ((GDestroyNotify) signaling_session_unref);
    g_hash_table_insert (context->lobbies, g_strdup (room_id), waiting);
  }
  session->participant_id = new_participant_id (context);
  g_hash_table_insert (context->participants, session->participant_id, session);
  session->lobby_room = g_strdup (room_id);
  session->state = SESSION_IN_LOBBY;
  g_ptr_array_add (waiting, signaling_session_ref (session));
  signaling_log (G_LOG_LEVEL_INFO, session, "waiting in the lobby of %s", room_id);

  reply = json_pack ("{s:s, s:s, s:s}", "type", "lobby", "room", room_id,
                     "participant", session->participant_id);
  if (ref)
    json_object_set (reply, "ref", (json_t *) ref);
  signaling_session_send (session, reply);
  lobby_changed (context, room_id);
}

void
signaling_room_leave_lobby (SignalingSession *session)
{
  SignalingContext *context = session->context;
  g_autofree char *room_id = g_steal_pointer (&session->lobby_room);
  GPtrArray *waiting;

  g_return_if_fail (session->state == SESSION_IN_LOBBY && room_id != NULL);

  session->state = SESSION_LEFT;
  g_hash_table_remove (context->participants, session->participant_id);
  waiting = g_hash_table_lookup (context->lobbies, room_id);
  if (waiting) {
    g_ptr_array_remove (waiting, session);      /* may drop the last reference but ours */
    if (waiting->len == 0)
      g_hash_table_remove (context->lobbies, room_id);
  }
  lobby_changed (context, room_id);
}

/* The policy's word on @member admitting patients to its room (anonymous
 * rooms have no lobby to admit from). */
static gboolean
may_admit (SignalingSession *member)
{
  g_autoptr (RecordsConsultation) consultation = NULL;
  SignalingPolicyTarget target = { 0 };

  if (member->principal == NULL || member->context->store == NULL)
    return FALSE;
  consultation = records_consultation_get (member->context->store, member->room->id, NULL);
  target.consultation = consultation;
  return consultation
         && signaling_policy_allows (member->principal, SIGNALING_OP_ROOM_ADMIT, &target);
}

void
signaling_room_admit (SignalingSession *member, const char *participant_id, gboolean admit,
                      json_t *ref)
{
  SignalingContext *context = member->context;
  SignalingSession *patient = g_hash_table_lookup (context->participants, participant_id);
  GPtrArray *waiting;
  SignalingErrorCode code;
  json_t *reply;

  if (!is_care_team (member) || !may_admit (member)) {
    signaling_session_send_error (member, SIGNALING_ERROR_FORBIDDEN, ref, NULL,
                                  "only the care team admits from the lobby");
    return;
  }
  if (patient == NULL || patient->state != SESSION_IN_LOBBY
      || g_strcmp0 (patient->lobby_room, member->room->id) != 0) {
    signaling_session_send_error (member, SIGNALING_ERROR_NOT_IN_LOBBY, ref, "participant",
                                  "nobody with that id waits in this room's lobby");
    return;
  }

  signaling_session_ref (patient);
  waiting = g_hash_table_lookup (context->lobbies, member->room->id);
  g_ptr_array_remove (waiting, patient);
  if (waiting->len == 0)
    g_hash_table_remove (context->lobbies, member->room->id);
  g_clear_pointer (&patient->lobby_room, g_free);
  signaling_audit_session (member, admit ? "admit" : "deny", "success", participant_id);

  reply = json_pack ("{s:s}", "type", "ok");
  if (ref)
    json_object_set (reply, "ref", ref);
  signaling_session_send (member, reply);
  lobby_changed (context, member->room->id);

  if (admit) {
    SignalingJoinSpec spec = { .kind = member->room->kind, .admitted = TRUE };

    patient->state = SESSION_NOT_JOINED;
    if (!signaling_room_join (context, patient, member->room->id, &spec, NULL, NULL, &code)) {
      patient->state = SESSION_LEFT;
      g_hash_table_remove (context->participants, patient->participant_id);
      signaling_session_send_error (patient, code, NULL, NULL, "the room is full");
      signaling_session_close (patient, SOUP_WEBSOCKET_CLOSE_NORMAL, "room full");
    }
  } else {
    patient->state = SESSION_LEFT;
    g_hash_table_remove (context->participants, patient->participant_id);
    signaling_session_send_error (patient, SIGNALING_ERROR_ADMISSION_DENIED, NULL, NULL,
                                  "the care team did not admit you to this consultation");
    signaling_session_close (patient, SOUP_WEBSOCKET_CLOSE_NORMAL, "not admitted");
  }
  signaling_session_unref (patient);
}
