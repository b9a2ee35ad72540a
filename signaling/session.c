/* session.c — one WebSocket: limits, validation, dispatch. */
#include "session.h"

#include <string.h>

#define RATE_LIMIT_PER_SECOND 50
/* libsoup stops reading a frame over this and closes with 1009 itself; a
 * frame between our limit and this is read, answered with `too-large`, and
 * the socket closed by us with 1009 — so clients usually learn why. */
#define LIBSOUP_LIMIT_FACTOR 2
#define KEEPALIVE_SECONDS 20

SignalingRequest *
signaling_request_new (SignalingSession *session, json_t *ref)
{
  SignalingRequest *request = g_new0 (SignalingRequest, 1);

  request->context = session->context;
  request->serial = session->serial;
  request->ref = ref ? json_incref (ref) : NULL;
  return request;
}

SignalingSession *
signaling_request_get_session (SignalingRequest *request)
{
  return g_hash_table_lookup (request->context->sessions, &request->serial);
}

void
signaling_request_free (SignalingRequest *request)
{
  if (request == NULL)
    return;
  json_decref (request->ref);
  g_free (request);
}

SignalingSession *
signaling_session_ref (SignalingSession *session)
{
  g_atomic_int_inc (&session->refcount);
  return session;
}

void
signaling_session_unref (SignalingSession *session)
{
  if (session == NULL || !g_atomic_int_dec_and_test (&session->refcount))
    return;
  g_clear_object (&session->connection);
  g_ptr_array_unref (session->tracks);
  g_clear_pointer (&session->principal, signaling_principal_free);
  g_free (session->lobby_room);
  g_free (session->patient_id);
  g_free (session->participant_id);
  g_free (session->name);
  g_free (session->remote_address);
  g_free (session);
}

static gboolean
is_open (SignalingSession *session)
{
  return session->connection != NULL
         && soup_websocket_connection_get_state (session->connection) == SOUP_WEBSOCKET_STATE_OPEN;
}

void
signaling_session_send (SignalingSession *session, json_t *message)
{
  char *text;

  if (!is_open (session)) {
    json_decref (message);
    return;
  }
  text = json_dumps (message, JSON_COMPACT);
  json_decref (message);
  if (text == NULL)
    return;
  soup_websocket_connection_send_text (session->connection, text);
  free (text);
}

void
signaling_session_send_text (SignalingSession *session, const char *text)
{
  if (is_open (session))
    soup_websocket_connection_send_text (session->connection, text);
}

void
signaling_session_send_error (SignalingSession *session, SignalingErrorCode code,
                              const json_t *ref, const char *field, const char *format, ...)
{
  g_autofree char *text = NULL;
  json_t *message;
  va_list args;

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);

  session->context->metrics.errors_total[code]++;
  signaling_log (code == SIGNALING_ERROR_INTERNAL ? G_LOG_LEVEL_WARNING : G_LOG_LEVEL_INFO,
                 session, "error %s%s%s: %s", signaling_error_code_to_string (code),
                 field ? " field=" : "", field ? field : "", text);

  message = json_pack ("{s:s, s:s, s:s}", "type", "error",
                       "code", signaling_error_code_to_string (code), "message", text);
  if (ref)
    json_object_set (message, "ref", (json_t *) ref);
  if (field && *field)
    json_object_set_new (message, "field", json_string (field));
  signaling_session_send (session, message);
}

void
signaling_session_send_media_error (SignalingSession *session, const GError *error,
                                    const json_t *ref)
{
  SignalingErrorCode code = SIGNALING_ERROR_INTERNAL;
  const char *field = NULL;

  if (error->domain == MEDIA_ERROR) {
    switch ((MediaError) error->code) {
    case MEDIA_ERROR_BAD_SDP: code = SIGNALING_ERROR_BAD_SDP; field = "sdp"; break;
    case MEDIA_ERROR_NO_CODEC: code = SIGNALING_ERROR_NO_CODEC; field = "sdp"; break;
    case MEDIA_ERROR_NOT_FOUND:
    case MEDIA_ERROR_STATE: code = SIGNALING_ERROR_BAD_STATE; break;
    case MEDIA_ERROR_BAD_CANDIDATE: code = SIGNALING_ERROR_INVALID_FIELD; field = "candidate"; break;
    case MEDIA_ERROR_INTERNAL:
    case MEDIA_ERROR_CANCELLED: break;
    }
  }
  if (code == SIGNALING_ERROR_INTERNAL) {
    /* Details go to the log only. */
    signaling_log (G_LOG_LEVEL_WARNING, session, "media failure: %s", error->message);
    signaling_session_send_error (session, code, ref, NULL, "the media server failed");
  } else {
    signaling_session_send_error (session, code, ref, field, "%s", error->message);
  }
}

static void
set_payload_limit (SignalingSession *session, gsize limit)
{
  if (session->connection)
    soup_websocket_connection_set_max_incoming_payload_size (session->connection,
                                                             limit * LIBSOUP_LIMIT_FACTOR);
}

void
signaling_session_close (SignalingSession *session, gushort code, const char *reason)
{
  signaling_session_ref (session);
  if (session->state == SESSION_JOINED)
    signaling_room_leave (session);
  else if (session->state == SESSION_IN_LOBBY)
    signaling_room_leave_lobby (session);
  session->state = SESSION_LEFT;
  if (session->connection
      && soup_websocket_connection_get_state (session->connection) == SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_close (session->connection, code, reason);
  signaling_session_unref (session);
}

/* Token-less fixed window of one second (monotonic clock).  Over the limit,
 * messages are dropped and one `rate-limited` error is sent per window. */
static gboolean
check_rate (SignalingSession *session)
{
  gint64 now = g_get_monotonic_time ();

  if (now - session->rate_window_start >= G_USEC_PER_SEC) {
    session->rate_window_start = now;
    session->rate_count = 0;
    session->rate_error_sent = FALSE;
  }
  if (++session->rate_count <= RATE_LIMIT_PER_SECOND)
    return TRUE;
  if (!session->rate_error_sent) {
    session->rate_error_sent = TRUE;
    signaling_session_send_error (session, SIGNALING_ERROR_RATE_LIMITED, NULL, NULL,
                                  "more than %d messages per second", RATE_LIMIT_PER_SECOND);
  }
  return FALSE;
}

/* ---- message handlers (the message is valid per protocol.c) ---- */

void
signaling_audit_session (SignalingSession *session, const char *action, const char *outcome,
                         const char *detail)
{
  const char *room_id = session->room ? session->room->id : session->lobby_room;

  if (session->context->api == NULL || session->principal == NULL)
    return;
  signaling_api_audit (session->context->api, session->principal, session->remote_address,
                       action, "Encounter", room_id, session->patient_id, outcome, detail);
}

/* The protocol's code for an authentication failure of the API's domain. */
static SignalingErrorCode
auth_error_code (const GError *error)
{
  static const struct {
    const char *text;
    SignalingErrorCode code;
  } codes[] = {
    { "unauthenticated", SIGNALING_ERROR_UNAUTHENTICATED },
    { "token-invalid", SIGNALING_ERROR_TOKEN_INVALID },
    { "token-expired", SIGNALING_ERROR_TOKEN_EXPIRED },
    { "token-revoked", SIGNALING_ERROR_TOKEN_REVOKED },
    { "forbidden", SIGNALING_ERROR_FORBIDDEN },
  };
  const char *text;

  if (error->domain != SIGNALING_AUTH_ERROR)
    return SIGNALING_ERROR_INTERNAL;
  text = signaling_auth_error_code_string (error->code);
  for (gsize i = 0; i < G_N_ELEMENTS (codes); i++)
    if (g_strcmp0 (text, codes[i].text) == 0)
      return codes[i].code;
  return SIGNALING_ERROR_TOKEN_INVALID;
}

/* Refuses a join: audited (when we know who asked, or the room exists) and
 * answered with @code. */
static void
refuse_join (SignalingSession *session, SignalingErrorCode code, json_t *ref, const char *room_id,
             const char *message)
{
  if (session->context->api)
    signaling_api_audit (session->context->api, session->principal, session->remote_address,
                         "join", "Encounter", room_id, session->patient_id, "denied",
                         signaling_error_code_to_string (code));
  signaling_session_send_error (session, code, ref, NULL, "%s", message);
}

/* Closes any other live connection of the same patient invitation: a
 * patient reconnecting after a dropped link takes over, and one invitation
 * never has two live connections. */
static void
replace_earlier_connection (SignalingSession *session)
{
  g_autoptr (GPtrArray) earlier = g_ptr_array_new_with_free_func (
      (GDestroyNotify) signaling_session_unref);
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, session->context->sessions);
  while (g_hash_table_iter_next (&iter, NULL, &value)) {
    SignalingSession *other = value;

    if (other != session && other->principal
        && other->principal->role == RECORDS_ROLE_PATIENT
        && (other->state == SESSION_IN_LOBBY || other->state == SESSION_JOINED)
        && g_strcmp0 (other->principal->invitation_id, session->principal->invitation_id) == 0)
      g_ptr_array_add (earlier, signaling_session_ref (other));
  }
  for (guint i = 0; i < earlier->len; i++) {
    SignalingSession *other = g_ptr_array_index (earlier, i);

    signaling_session_send_error (other, SIGNALING_ERROR_REPLACED, NULL, NULL,
                                  "the same invitation connected again from elsewhere");
    signaling_audit_session (other, "leave", "success", "replaced");
    signaling_session_close (other, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION, "replaced");
  }
}

static const char *
join_refusal_message (SignalingErrorCode code)
{
  switch (code) {
  case SIGNALING_ERROR_ROOM_LOCKED:
    return "a host has locked this room";
  case SIGNALING_ERROR_ROOM_FULL:
    return "the room has its maximum of participants";
  case SIGNALING_ERROR_PRESENTERS_FULL:
    return "the briefing has its maximum of presenters";
  default:
    return "the join was refused";
  }
}

static gboolean
join_room (SignalingSession *session, const char *room_id, const SignalingJoinSpec *spec,
           const char *name, json_t *ref)
{
  SignalingErrorCode code;

  if (!signaling_room_join (session->context, session, room_id, spec, name, ref, &code)) {
    refuse_join (session, code, ref, room_id, join_refusal_message (code));
    return FALSE;
  }
  set_payload_limit (session, SIGNALING_MAX_MESSAGE_AFTER_JOIN);
  return TRUE;
}

/* A plain room (not a consultation, not a stored briefing), created with
 * the `kind` of its first join. */
static SignalingJoinSpec
plain_room_spec (json_t *message)
{
  SignalingJoinSpec spec = { .kind = SIGNALING_ROOM_CONSULT, .plain = TRUE };
  const char *kind = json_string_value (json_object_get (message, "kind"));

  if (g_strcmp0 (kind, "briefing") == 0)
    spec.kind = SIGNALING_ROOM_BRIEFING;
  return spec;
}

/* Moves the consultation's status on, ignoring moves its state machine
 * refuses (e.g. a consultation already in progress). */
static void
advance_consultation (SignalingSession *session, const char *consultation_id, const char *status)
{
  g_autoptr (GError) error = NULL;

  if (!records_consultation_set_status (session->context->store, consultation_id, status,
                                        signaling_principal_actor_id (session->principal),
                                        &error)
      && !g_error_matches (error, RECORDS_ERROR, RECORDS_ERROR_INVALID))
    signaling_log (G_LOG_LEVEL_WARNING, session, "cannot set consultation status: %s",
                   error->message);
}

static gboolean
is_consultation (SignalingContext *context, const char *room_id)
{
  g_autoptr (RecordsConsultation) consultation = NULL;

  if (context->store == NULL)
    return FALSE;
  consultation = records_consultation_get (context->store, room_id, NULL);
  return consultation != NULL;
}

/* A signed-in join of a stored briefing: clinical staff (the policy's
 * BRIEFING_JOIN), as viewers; its creator as the host, whose join makes the
 * briefing live.  Patients, administrators and auditors are refused. */
static void
join_briefing (SignalingSession *session, const char *room_id, const char *host_user_id,
               json_t *ref)
{
  SignalingJoinSpec spec = { .kind = SIGNALING_ROOM_BRIEFING, .host_user_id = host_user_id };
  SignalingPolicyTarget target = { 0 };
  g_autoptr (GError) error = NULL;

  if (!signaling_policy_allows (session->principal, SIGNALING_OP_BRIEFING_JOIN, &target)) {
    refuse_join (session, SIGNALING_ERROR_FORBIDDEN, ref, room_id,
                 "briefings are for clinical staff");
    return;
  }
  spec.host = g_strcmp0 (session->principal->user_id, host_user_id) == 0;
  if (join_room (session, room_id, &spec, session->principal->display_name, ref) && spec.host
      && !records_briefing_set_status (session->context->store, room_id, "live",
                                       session->principal->user_id, &error)
      && !g_error_matches (error, RECORDS_ERROR, RECORDS_ERROR_INVALID)
      && !g_error_matches (error, RECORDS_ERROR, RECORDS_ERROR_CONFLICT))
    signaling_log (G_LOG_LEVEL_WARNING, session, "cannot set the briefing live: %s",
                   error->message);
}

/* A join with a token: the consultation (or briefing) whose id is the room decides. */
static void
join_authenticated (SignalingSession *session, json_t *message, const char *room_id,
                    const char *token, json_t *ref)
{
  SignalingContext *context = session->context;
  g_autoptr (GError) error = NULL;
  g_autoptr (RecordsConsultation) consultation = NULL;
  g_autofree char *briefing_host = NULL;
  SignalingPolicyTarget target = { 0 };
  SignalingJoinSpec spec = { .kind = SIGNALING_ROOM_CONSULT };
  SignalingErrorCode code;

  session->principal = signaling_api_authenticate_token (context->api, token, &error);
  if (session->principal == NULL) {
    refuse_join (session, auth_error_code (error), ref, room_id, error->message);
    return;
  }
  if (signaling_briefing_lookup (context, room_id, &briefing_host)) {
    join_briefing (session, room_id, briefing_host, ref);
    return;
  }
  consultation = records_consultation_get (context->store, room_id, NULL);
  if (consultation == NULL) {
    /* A signed-in user may use a plain room where those are allowed. */
    if (context->anonymous_rooms && session->principal->role != RECORDS_ROLE_PATIENT) {
      spec = plain_room_spec (message);
      join_room (session, room_id, &spec, session->principal->display_name, ref);
      return;
    }
    refuse_join (session, SIGNALING_ERROR_FORBIDDEN, ref, room_id,
                 "no consultation of yours has this id");
    return;
  }
  session->patient_id = g_strdup (consultation->patient_id);
  target.consultation = consultation;
  if (!signaling_policy_allows (session->principal, SIGNALING_OP_ROOM_JOIN, &target)) {
    refuse_join (session, SIGNALING_ERROR_FORBIDDEN, ref, room_id,
                 "you are not on this consultation's care team");
    return;
  }
  if (g_strcmp0 (consultation->status, "finished") == 0
      || g_strcmp0 (consultation->status, "cancelled") == 0) {
    refuse_join (session, SIGNALING_ERROR_FORBIDDEN, ref, room_id,
                 "this consultation has ended");
    return;
  }

  if (session->principal->role == RECORDS_ROLE_PATIENT) {
    g_autoptr (RecordsPatient) patient = NULL;

    /* A locked room takes no newcomers, not even into its lobby. */
    if (!signaling_room_check_join (context, room_id, &spec, &code)
        && code == SIGNALING_ERROR_ROOM_LOCKED) {
      refuse_join (session, code, ref, room_id, join_refusal_message (code));
      return;
    }
    patient = records_patient_get (context->store, consultation->patient_id, NULL);
    replace_earlier_connection (session);
    session->name = g_strdup (patient ? patient->name : "patient");
    signaling_room_enter_lobby (session, room_id, ref);
    signaling_audit_session (session, "join", "success", "lobby");
    if (g_strcmp0 (consultation->status, "planned") == 0)
      advance_consultation (session, room_id, "arrived");
    return;
  }
  /* The care team hosts its consultation. */
  spec.host = TRUE;
  if (join_room (session, room_id, &spec, session->principal->display_name, ref)
      && (g_strcmp0 (consultation->status, "planned") == 0
          || g_strcmp0 (consultation->status, "arrived") == 0))
    advance_consultation (session, room_id, "in-progress");
}

static void
handle_join (SignalingSession *session, json_t *message, json_t *ref)
{
  SignalingContext *context = session->context;
  const char *room_id = json_string_value (json_object_get (message, "room"));
  const char *token = json_string_value (json_object_get (message, "token"));
  g_autofree char *briefing_host = NULL;
  SignalingJoinSpec spec;

  if (session->state != SESSION_NOT_JOINED) {
    signaling_session_send_error (session, SIGNALING_ERROR_ALREADY_JOINED, ref, NULL,
                                  "this socket has already joined a room");
    return;
  }
  if (token && *token && context->api && context->store) {
    join_authenticated (session, message, room_id, token, ref);
    return;
  }
  /* Without a token: only plain (non-consultation) rooms, and only where the
   * operator allowed them. */
  if (!context->anonymous_rooms
      || is_consultation (context, room_id)
      || signaling_briefing_lookup (context, room_id, &briefing_host)) {
    refuse_join (session, SIGNALING_ERROR_UNAUTHENTICATED, ref, room_id,
                 "joining this room needs a sign-in token");
    return;
  }
  spec = plain_room_spec (message);
  join_room (session, room_id, &spec, json_string_value (json_object_get (message, "name")), ref);
}

static void
on_published (const char *sdp, GPtrArray *tracks, const GError *error, gpointer user_data)
{
  SignalingRequest *request = user_data;
  SignalingSession *session = signaling_request_get_session (request);

  if (session == NULL || session->state != SESSION_JOINED)
    goto out;
  if (error) {
    signaling_session_send_media_error (session, error, request->ref);
    goto out;
  }
  signaling_log (G_LOG_LEVEL_INFO, session, "publish answered, %u tracks",
                 tracks ? tracks->len : 0);
  {
    json_t *answer = json_pack ("{s:s, s:s}", "type", "publish-answer", "sdp", sdp);
    if (request->ref)
      json_object_set (answer, "ref", request->ref);
    signaling_session_send (session, answer);
  }
out:
  signaling_request_free (request);
}

static void
handle_publish (SignalingSession *session, json_t *message, json_t *ref)
{
  json_t *sources = json_object_get (message, "sources");
  g_autoptr (GPtrArray) screen_mids = g_ptr_array_new ();
  MediaPublishOptions options = { 0 };
  const char *mid;
  json_t *source;

  if (!signaling_moderation_may_publish (session, ref))
    return;
  if (session->context->engine == NULL) {
    signaling_session_send_error (session, SIGNALING_ERROR_INTERNAL, ref, NULL,
                                  "no media plane");
    return;
  }
  /* `sources`: mid → "camera" | "screen" (validated by protocol.c). */
  json_object_foreach (sources, mid, source)
    if (strcmp (json_string_value (source), "screen") == 0)
      g_ptr_array_add (screen_mids, (gpointer) mid);
  g_ptr_array_add (screen_mids, NULL);
  options.screen_mids = (const char *const *) screen_mids->pdata;
  media_engine_publish_with_options (session->context->engine, session->room->id,
                                     session->participant_id,
                                     json_string_value (json_object_get (message, "sdp")),
                                     &options, on_published,
                                     signaling_request_new (session, ref));
}

static void
on_candidate_added (const GError *error, gpointer user_data)
{
  SignalingRequest *request = user_data;
  SignalingSession *session = signaling_request_get_session (request);

  if (error && session && session->state == SESSION_JOINED)
    signaling_session_send_media_error (session, error, request->ref);
  signaling_request_free (request);
}

static void
handle_trickle (SignalingSession *session, json_t *message, json_t *ref)
{
  const char *pc = json_string_value (json_object_get (message, "pc"));
  json_t *candidate = json_object_get (message, "candidate");
  const char *line = NULL;

  /* null, or an empty candidate string (what some browsers send last), is
   * end-of-candidates (RFC 8838 §4). */
  if (json_is_object (candidate)) {
    line = json_string_value (json_object_get (candidate, "candidate"));
    if (line && *line == '\0')
      line = NULL;
  }
  if (session->context->engine == NULL)
    return;
  media_engine_add_remote_candidate (session->context->engine, session->room->id,
                                     session->participant_id,
                                     strcmp (pc, "publish") == 0 ? MEDIA_PC_PUBLISH
                                                                 : MEDIA_PC_SUBSCRIBE,
                                     line, on_candidate_added,
                                     signaling_request_new (session, ref));
}

static void
handle_mute (SignalingSession *session, json_t *message, json_t *ref)
{
  gboolean muted = json_is_true (json_object_get (message, "muted"));
  const char *kind = json_string_value (json_object_get (message, "kind"));
  json_t *reply;

  if (strcmp (kind, "audio") == 0)
    session->audio_muted = muted;
  else if (strcmp (kind, "video") == 0)
    session->video_muted = muted;
  else
    session->screen_muted = muted;
  /* The server stops forwarding too (and resumes: the only way to undo a
   * host's mute-participant). */
  if (session->context->engine)
    media_engine_set_source_enabled (session->context->engine, session->room->id,
                                     session->participant_id,
                                     signaling_moderation_source_for_kind (kind), !muted);

  reply = json_pack ("{s:s}", "type", "ok");
  if (ref)
    json_object_set (reply, "ref", ref);
  signaling_session_send (session, reply);
  signaling_moderation_participant_updated (session, FALSE);
}

static void
handle_keyframe (SignalingSession *session, json_t *message, json_t *ref)
{
  const char *publisher = json_string_value (json_object_get (message, "participant"));

  if (publisher) {
    SignalingSession *other = g_hash_table_lookup (session->context->participants, publisher);

    if (other == NULL || other->room != session->room) {
      signaling_session_send_error (session, SIGNALING_ERROR_INVALID_FIELD, ref, "participant",
                                    "no such participant in this room");
      return;
    }
  }
  if (session->context->engine)
    media_engine_request_keyframe (session->context->engine, session->room->id, publisher);
}

static void
handle_leave (SignalingSession *session, json_t *ref)
{
  json_t *reply = json_pack ("{s:s}", "type", "left");

  if (ref)
    json_object_set (reply, "ref", ref);
  signaling_session_send (session, reply);
  signaling_session_close (session, SOUP_WEBSOCKET_CLOSE_NORMAL, "left");
}

static void
dispatch (SignalingSession *session, SignalingMessageType type, json_t *message)
{
  json_t *ref = signaling_protocol_get_id (message);

  if (type == SIGNALING_MESSAGE_PING) {
    json_t *reply = json_pack ("{s:s}", "type", "pong");
    if (ref)
      json_object_set (reply, "ref", ref);
    signaling_session_send (session, reply);
    return;
  }
  if (type == SIGNALING_MESSAGE_JOIN) {
    handle_join (session, message, ref);
    return;
  }
  if (type == SIGNALING_MESSAGE_LEAVE && session->state == SESSION_IN_LOBBY) {
    handle_leave (session, ref);
    return;
  }
  if (session->state != SESSION_JOINED) {
    signaling_session_send_error (session, SIGNALING_ERROR_NOT_JOINED, ref, NULL,
                                  "%s needs join first", signaling_message_type_to_string (type));
    return;
  }

  switch (type) {
  case SIGNALING_MESSAGE_PUBLISH:
    handle_publish (session, message, ref);
    break;
  case SIGNALING_MESSAGE_SUBSCRIBE_ANSWER:
    signaling_room_subscribe_answer (session, json_string_value (json_object_get (message, "sdp")),
                                     json_integer_value (json_object_get (message, "version")),
                                     ref);
    break;
  case SIGNALING_MESSAGE_TRICKLE:
    handle_trickle (session, message, ref);
    break;
  case SIGNALING_MESSAGE_MUTE:
    handle_mute (session, message, ref);
    break;
  case SIGNALING_MESSAGE_KEYFRAME:
    handle_keyframe (session, message, ref);
    break;
  case SIGNALING_MESSAGE_LEAVE:
    handle_leave (session, ref);
    break;
  case SIGNALING_MESSAGE_ADMIT:
  case SIGNALING_MESSAGE_DENY:
    signaling_room_admit (session, json_string_value (json_object_get (message, "participant")),
                          type == SIGNALING_MESSAGE_ADMIT, ref);
    break;
  case SIGNALING_MESSAGE_RECORD:
    signaling_recording_handle_record (session,
                                       json_string_value (json_object_get (message, "action")),
                                       ref);
    break;
  case SIGNALING_MESSAGE_CONSENT:
    signaling_recording_handle_consent (session,
                                        json_is_true (json_object_get (message, "granted")), ref);
    break;
  case SIGNALING_MESSAGE_RAISE_HAND:
  case SIGNALING_MESSAGE_FLOOR:
  case SIGNALING_MESSAGE_MUTE_PARTICIPANT:
  case SIGNALING_MESSAGE_REMOVE_PARTICIPANT:
  case SIGNALING_MESSAGE_LOCK:
  case SIGNALING_MESSAGE_LAYER:
  case SIGNALING_MESSAGE_LAST_N:
    signaling_moderation_handle (session, type, message, ref);
    break;
  default:
    g_assert_not_reached ();
  }
}

static void
on_message (SoupWebsocketConnection *connection, gint data_type, GBytes *data, gpointer user_data)
{
  SignalingSession *session = user_data;
  SignalingProtocolError error;
  SignalingMessageType type;
  json_t *message, *parsed = NULL;
  gsize size, limit;
  const char *bytes;

  if (session->state == SESSION_LEFT)
    return;
  session->context->metrics.messages_total++;
  if (!check_rate (session))
    return;

  signaling_session_ref (session);
  bytes = g_bytes_get_data (data, &size);
  limit = session->state == SESSION_JOINED ? SIGNALING_MAX_MESSAGE_AFTER_JOIN
                                           : SIGNALING_MAX_MESSAGE_BEFORE_JOIN;
  if (data_type != SOUP_WEBSOCKET_DATA_TEXT) {
    signaling_session_send_error (session, SIGNALING_ERROR_BAD_JSON, NULL, NULL,
                                  "binary messages are not accepted");
    goto out;
  }

  message = signaling_protocol_parse (bytes, size, limit, &type, &parsed, &error);
  if (message == NULL) {
    signaling_session_send_error (session, error.code, signaling_protocol_get_id (parsed),
                                  error.field[0] ? error.field : NULL, "%s", error.message);
    json_decref (parsed);
    if (error.code == SIGNALING_ERROR_TOO_LARGE)
      signaling_session_close (session, SOUP_WEBSOCKET_CLOSE_TOO_BIG, "message too large");
    goto out;
  }
  signaling_log (G_LOG_LEVEL_DEBUG, session, "received %s (%zu bytes)",
                 signaling_message_type_to_string (type), (size_t) size);
  dispatch (session, type, message);
  json_decref (message);

out:
  signaling_session_unref (session);
}

static void
on_closed (SoupWebsocketConnection *connection, gpointer user_data)
{
  SignalingSession *session = user_data;
  SignalingContext *context = session->context;

  signaling_log (G_LOG_LEVEL_INFO, session, "socket closed (code %u)",
                 soup_websocket_connection_get_close_code (connection));
  signaling_session_ref (session);
  if (session->state == SESSION_JOINED)
    signaling_room_leave (session);
  else if (session->state == SESSION_IN_LOBBY)
    signaling_room_leave_lobby (session);
  session->state = SESSION_LEFT;
  g_signal_handlers_disconnect_by_data (connection, session);
  g_clear_object (&session->connection);
  context->metrics.sockets_open--;
  g_hash_table_remove (context->sessions, &session->serial);
  signaling_session_unref (session);
}

static void
on_error (SoupWebsocketConnection *connection, GError *error, gpointer user_data)
{
  SignalingSession *session = user_data;

  /* libsoup closes with 1009 by itself when a frame is over its limit. */
  if (g_error_matches (error, SOUP_WEBSOCKET_ERROR, SOUP_WEBSOCKET_CLOSE_TOO_BIG))
    session->context->metrics.errors_total[SIGNALING_ERROR_TOO_LARGE]++;
  signaling_log (G_LOG_LEVEL_INFO, session, "socket error: %s", error->message);
}

SignalingSession *
signaling_session_new_detached (SignalingContext *context, const char *remote_address)
{
  SignalingSession *session = g_new0 (SignalingSession, 1);

  session->refcount = 1;
  session->context = context;
  session->serial = ++context->next_serial;
  session->detached = TRUE;
  session->remote_address = g_strdup (remote_address);
  session->tracks = g_ptr_array_new_with_free_func ((GDestroyNotify) media_track_info_free);
  session->rate_window_start = g_get_monotonic_time ();
  g_hash_table_insert (context->sessions, &session->serial, session);
  return session;
}

SignalingSession *
signaling_session_new (SignalingContext *context, SoupWebsocketConnection *connection,
                       const char *remote_address)
{
  SignalingSession *session = g_new0 (SignalingSession, 1);
  GObjectClass *klass = G_OBJECT_GET_CLASS (connection);

  session->refcount = 1;
  session->context = context;
  session->serial = ++context->next_serial;
  session->connection = g_object_ref (connection);
  session->remote_address = g_strdup (remote_address);
  session->tracks = g_ptr_array_new_with_free_func ((GDestroyNotify) media_track_info_free);
  session->rate_window_start = g_get_monotonic_time ();

  set_payload_limit (session, SIGNALING_MAX_MESSAGE_BEFORE_JOIN);
  soup_websocket_connection_set_keepalive_interval (connection, KEEPALIVE_SECONDS);
  /* libsoup ≥ 3.6 can also drop a peer that stops answering pings. */
  if (g_object_class_find_property (klass, "keepalive-pong-timeout"))
    g_object_set (connection, "keepalive-pong-timeout", (guint) (2 * KEEPALIVE_SECONDS), NULL);

  g_signal_connect (connection, "message", G_CALLBACK (on_message), session);
  g_signal_connect (connection, "closed", G_CALLBACK (on_closed), session);
  g_signal_connect (connection, "error", G_CALLBACK (on_error), session);

  /* The context's table holds the session's reference from now on. */
  g_hash_table_insert (context->sessions, &session->serial, session);
  context->metrics.sockets_open++;
  context->metrics.sockets_total++;
  signaling_log (G_LOG_LEVEL_INFO, session, "socket opened from %s",
                 remote_address ? remote_address : "?");
  return session;
}
