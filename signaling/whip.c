/* whip.c — WHIP (RFC 9725) and WHEP (draft-ietf-wish-whep) endpoints of
 * briefings: a presenter publishes with any WHIP client (OBS, a GStreamer
 * webrtcbin pipeline), a viewer watches with any WHEP client.
 *
 *   POST    /whip/{briefing}             application/sdp offer → 201 answer
 *   PATCH   /whip/{briefing}/{resource}  application/trickle-ice-sdpfrag (RFC 8840)
 *   DELETE  /whip/{briefing}/{resource}  → 200, the tracks go away
 *   OPTIONS on either                    → 204 with Allow, Accept-Post / Accept-Patch
 *   (and the same under /whep/)
 *
 * A WHIP or WHEP session is a member of the briefing's signaling room
 * without a WebSocket (SignalingSession.detached): WSS members see it join
 * (`participant-joined`), publish (`track-added`) and leave.  Its media
 * participant is added by the room join as for any member; the offer goes
 * to media_engine_publish (WHIP) or media_engine_view (WHEP), whose answer
 * has every local candidate gathered already, so a client that does not
 * trickle (OBS) needs nothing more.
 *
 * Trickle ICE (RFC 9725 §4.3.1): PATCH with If-Match = the session's ETag
 * (or none) and candidates of the offer's ICE session → 204.  ICE restart
 * (If-Match "*") is not supported: 422, as §4.3.1 asks of a session that
 * supports trickle but not restarts.  A resource's URL carries 128 random
 * bits; PATCH and DELETE still need a Bearer token: the one that created
 * the session (accepted after it expired: OBS keeps one token for a whole
 * stream) or another valid token of the same user.  A session also ends
 * when its peer connection fails (signaling_whip_peer_ended), when the
 * briefing ends (signaling_whip_briefing_ended) and at shutdown.
 *
 * Who: WHIP — the briefing's host (policy briefing-publish) or a user who
 * holds the floor in its room, while the briefing has fewer than
 * SIGNALING_BRIEFING_MAX_PRESENTERS floor holders (409 presenters-full);
 * the WHIP member joins as a presenter.  WHEP — any clinical staff
 * (briefing-join), as a viewer.  Refusals are audited ("join" denied),
 * joins and leaves by the room as for WebSocket members.
 *
 * Threads: everything runs on signaling's main context.
 */
#include "whip.h"

#include "whip-sdp.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <string.h>

#define WHIP_CONTENT_TYPE "application/sdp"
#define TRICKLE_CONTENT_TYPE "application/trickle-ice-sdpfrag"
#define WHIP_MAX_SDP SIGNALING_MAX_SDP

typedef struct {
  char *id;                     /* 32 hex digits, the Location's last segment */
  char *briefing_id;
  SignalingWhipDirection direction;
  char *user_id;                /* whose token created it                    */
  char *token_sha256;           /* of that token: PATCH and DELETE may show it
                                 * again after it expired                    */
  char *etag;                   /* "\"<hex>\"": the current ICE session      */
  char *remote_ufrag;           /* the offer's ice-ufrag                     */
  gboolean answered;            /* the 201 went out                          */
  SignalingSession *session;    /* a reference; detached room member          */
} WhipResource;

/* A POST waiting for the media engine's answer. */
typedef struct {
  SignalingContext *context;
  char *resource_id;
  SoupServerMessage *msg;       /* a reference, paused */
  gulong disconnected_id;
  gboolean disconnected;
} WhipPending;

static const char *
direction_path (SignalingWhipDirection direction)
{
  return direction == SIGNALING_WHIP_INGEST ? "whip" : "whep";
}

/* ---- resources -------------------------------------------------------- */

static char *
random_hex (gsize bytes)
{
  guint8 buffer[32];
  GString *out = g_string_sized_new (bytes * 2);

  g_assert (bytes <= sizeof buffer);
  if (RAND_bytes (buffer, (int) bytes) != 1)
    g_error ("OpenSSL RAND_bytes failed");
  for (gsize i = 0; i < bytes; i++)
    g_string_append_printf (out, "%02x", buffer[i]);
  return g_string_free (out, FALSE);
}

static char *
new_etag (void)
{
  g_autofree char *hex = random_hex (8);

  return g_strdup_printf ("\"%s\"", hex);
}

/* Leaves the room (if still in it) and drops the session from the
 * context; the resource is freed by the table. */
static void
resource_free (WhipResource *resource)
{
  SignalingSession *session = resource->session;

  if (session != NULL) {
    if (session->state == SESSION_JOINED)
      signaling_room_leave (session);
    session->state = SESSION_LEFT;
    g_hash_table_remove (session->context->sessions, &session->serial);
    signaling_session_unref (session);
  }
  g_free (resource->id);
  g_free (resource->briefing_id);
  g_free (resource->user_id);
  g_free (resource->token_sha256);
  g_free (resource->etag);
  g_free (resource->remote_ufrag);
  g_free (resource);
}

static void
resource_remove (SignalingContext *context, WhipResource *resource)
{
  g_hash_table_remove (context->whip_resources, resource->id);
}

/* The live resource @id of @briefing_id in @direction, or NULL.  A
 * resource whose member was taken out of the room (removed by the host,
 * server shutting down) is dropped here. */
static WhipResource *
resource_find (SignalingContext *context, SignalingWhipDirection direction, const char *briefing_id,
               const char *id)
{
  WhipResource *resource = g_hash_table_lookup (context->whip_resources, id);

  if (resource == NULL || resource->direction != direction
      || strcmp (resource->briefing_id, briefing_id) != 0)
    return NULL;
  if (resource->session->state != SESSION_JOINED) {
    resource_remove (context, resource);
    return NULL;
  }
  return resource;
}

/* ---- replies ---------------------------------------------------------- */

static void
reply_error (SoupServerMessage *msg, guint status, const char *code, const char *message)
{
  signaling_api_reply_error (msg, status, code, message, NULL);
}

static void
set_header (SoupServerMessage *msg, const char *name, const char *value)
{
  soup_message_headers_replace (soup_server_message_get_response_headers (msg), name, value);
}

static void
reply_method_not_allowed (SoupServerMessage *msg, const char *allow)
{
  set_header (msg, "Allow", allow);
  reply_error (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "method-not-allowed",
               "method not allowed on this path");
}

/* TRUE when the request's Content-Type (parameters ignored) is @type. */
static gboolean
has_content_type (SoupServerMessage *msg, const char *type)
{
  const char *value = soup_message_headers_get_content_type (
      soup_server_message_get_request_headers (msg), NULL);

  return value != NULL && g_ascii_strcasecmp (value, type) == 0;
}

/* The body as a NUL-terminated string (transfer full), or NULL when it is
 * empty, over @max bytes, holds a NUL or is not UTF-8. */
static char *
body_text (SoupServerMessage *msg, gsize max)
{
  SoupMessageBody *body = soup_server_message_get_request_body (msg);
  g_autoptr (GBytes) bytes = body ? soup_message_body_flatten (body) : NULL;
  gsize length = 0;
  const char *data = bytes ? g_bytes_get_data (bytes, &length) : NULL;

  if (data == NULL || length == 0 || length > max || memchr (data, '\0', length) != NULL
      || !g_utf8_validate (data, (gssize) length, NULL))
    return NULL;
  return g_strndup (data, length);
}

/* ---- POST: a new session ---------------------------------------------- */

static void
pending_free (WhipPending *pending)
{
  if (pending->disconnected_id)
    g_signal_handler_disconnect (pending->msg, pending->disconnected_id);
  g_object_unref (pending->msg);
  g_free (pending->resource_id);
  g_free (pending);
}

static void
on_pending_disconnected (SoupServerMessage *msg, gpointer user_data)
{
  ((WhipPending *) user_data)->disconnected = TRUE;
}

/* The media engine's refusal as an HTTP reply. */
static void
reply_media_error (SoupServerMessage *msg, const GError *error)
{
  if (error->domain == MEDIA_ERROR) {
    switch ((MediaError) error->code) {
    case MEDIA_ERROR_BAD_SDP:
      reply_error (msg, SOUP_STATUS_BAD_REQUEST, "bad-sdp", error->message);
      return;
    case MEDIA_ERROR_NO_CODEC:
      reply_error (msg, SOUP_STATUS_BAD_REQUEST, "no-codec", error->message);
      return;
    case MEDIA_ERROR_NOT_FOUND:
    case MEDIA_ERROR_STATE:
      /* e.g. WHEP before the media plane can bind viewers. */
      reply_error (msg, SOUP_STATUS_SERVICE_UNAVAILABLE, "bad-state", error->message);
      return;
    case MEDIA_ERROR_BAD_CANDIDATE:
    case MEDIA_ERROR_INTERNAL:
    case MEDIA_ERROR_CANCELLED:
      break;
    }
  }
  g_warning ("WHIP/WHEP: media failure: %s", error->message);
  reply_error (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "internal", "the media server failed");
}

/* A WHIP publisher's first answer makes a planned briefing live. */
static void
mark_live (SignalingContext *context, WhipResource *resource)
{
  g_autoptr (RecordsBriefing) briefing = records_briefing_get (context->store,
                                                               resource->briefing_id, NULL);
  g_autoptr (GError) error = NULL;

  if (briefing == NULL || g_strcmp0 (briefing->status, "planned") != 0)
    return;
  if (!records_briefing_set_status (context->store, briefing->id, "live", resource->user_id,
                                    &error)) {
    g_warning ("briefing %s: cannot mark live: %s", briefing->id, error->message);
    return;
  }
  signaling_api_audit (context->api, resource->session->principal,
                       resource->session->remote_address, "update", "Briefing", briefing->id,
                       NULL, "success", "live");
}

static void
on_answer (const char *sdp, GPtrArray *tracks, const GError *error, gpointer user_data)
{
  WhipPending *pending = user_data;
  SignalingContext *context = pending->context;
  WhipResource *resource = g_hash_table_lookup (context->whip_resources, pending->resource_id);
  SoupServerMessage *msg = pending->msg;
  g_autofree char *location = NULL;

  if (resource == NULL) {
    /* Gone meanwhile: the briefing ended, or the server is shutting down. */
    reply_error (msg, SOUP_STATUS_NOT_FOUND, "not-found", "the briefing's session has ended");
  } else if (error != NULL || pending->disconnected) {
    if (error != NULL)
      reply_media_error (msg, error);
    signaling_log (G_LOG_LEVEL_INFO, resource->session, "%s offer refused: %s",
                   direction_path (resource->direction),
                   error ? error->message : "the client went away");
    resource_remove (context, resource);
  } else {
    resource->answered = TRUE;
    location = g_strdup_printf ("/%s/%s/%s", direction_path (resource->direction),
                                resource->briefing_id, resource->id);
    set_header (msg, "Location", location);
    set_header (msg, "ETag", resource->etag);
    set_header (msg, "Cache-Control", "no-store");
    /* No ICE servers are configured: no Link header (RFC 9725 §4.6). */
    soup_server_message_set_status (msg, SOUP_STATUS_CREATED, NULL);
    soup_server_message_set_response (msg, WHIP_CONTENT_TYPE, SOUP_MEMORY_COPY, sdp,
                                      strlen (sdp));
    signaling_log (G_LOG_LEVEL_INFO, resource->session, "%s session %s answered",
                   direction_path (resource->direction), resource->id);
    if (resource->direction == SIGNALING_WHIP_INGEST)
      mark_live (context, resource);
  }
  if (!pending->disconnected)
    soup_server_message_unpause (msg);
  pending_free (pending);
}

/* Who may publish into @briefing: its host (policy briefing-publish), or a
 * user who holds the floor in its room now (given by the host over the
 * WebSocket: `floor` grant). */
static gboolean
may_publish (SignalingContext *context, const SignalingPrincipal *who,
             const RecordsBriefing *briefing)
{
  SignalingPolicyTarget target = { .briefing = briefing };
  SignalingRoom *room;

  if (signaling_policy_allows (who, SIGNALING_OP_BRIEFING_PUBLISH, &target))
    return TRUE;
  room = signaling_room_find (context, briefing->id);
  if (room == NULL || !signaling_policy_allows (who, SIGNALING_OP_BRIEFING_JOIN, &target))
    return FALSE;
  for (guint i = 0; i < room->members->len; i++) {
    SignalingSession *member = g_ptr_array_index (room->members, i);

    if (!member->detached && member->role == SIGNALING_ROLE_PRESENTER
        && member->principal != NULL
        && g_strcmp0 (member->principal->user_id, who->user_id) == 0)
      return TRUE;
  }
  return FALSE;
}

static void
handle_post (SignalingContext *context, SoupServerMessage *msg, SignalingWhipDirection direction,
             const char *briefing_id)
{
  g_autoptr (SignalingPrincipal) who = NULL;
  g_autoptr (RecordsBriefing) briefing = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *source = signaling_api_client_address (msg);
  g_autofree char *offer = NULL, *ufrag = NULL, *problem = NULL;
  SignalingPolicyTarget target = { 0 };
  SignalingJoinSpec spec = { 0 };
  SignalingOperation op;
  SignalingSession *session;
  SignalingErrorCode code;
  WhipResource *resource;
  WhipPending *pending;

  /* 401 before anything about the request (RFC 6750 §3 WWW-Authenticate). */
  who = signaling_api_authenticate (context->api, msg);
  if (who == NULL)
    return;
  if (!has_content_type (msg, WHIP_CONTENT_TYPE)) {
    reply_error (msg, SOUP_STATUS_UNSUPPORTED_MEDIA_TYPE, "unsupported-media-type",
                 "the offer must be sent as application/sdp");
    return;
  }
  if (g_uuid_string_is_valid (briefing_id))
    briefing = records_briefing_get (context->store, briefing_id, &error);
  if (briefing == NULL) {
    if (error != NULL && !g_error_matches (error, RECORDS_ERROR, RECORDS_ERROR_NOT_FOUND)) {
      g_warning ("WHIP: cannot read briefing: %s", error->message);
      reply_error (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "internal", "internal error");
    } else {
      reply_error (msg, SOUP_STATUS_NOT_FOUND, "not-found", "no such briefing");
    }
    return;
  }
  op = direction == SIGNALING_WHIP_INGEST ? SIGNALING_OP_BRIEFING_PUBLISH : SIGNALING_OP_BRIEFING_JOIN;
  target.briefing = briefing;
  if (direction == SIGNALING_WHIP_INGEST ? !may_publish (context, who, briefing)
                               : !signaling_policy_allows (who, op, &target)) {
    signaling_api_audit (context->api, who, source, "join", "Briefing", briefing->id, NULL,
                         "denied", signaling_operation_to_string (op));
    reply_error (msg, SOUP_STATUS_FORBIDDEN, "forbidden",
                 direction == SIGNALING_WHIP_INGEST ? "only the briefing's host or a site holding the "
                                            "floor publishes into it"
                                          : "not allowed to watch this briefing");
    return;
  }
  if (g_strcmp0 (briefing->status, "ended") == 0) {
    reply_error (msg, 410, "briefing-ended", "the briefing has ended");
    return;
  }
  offer = body_text (msg, WHIP_MAX_SDP);
  if (offer == NULL) {
    reply_error (msg, SOUP_STATUS_BAD_REQUEST, "bad-sdp",
                 "the body must be an SDP offer of 1 to 32768 bytes of UTF-8");
    return;
  }
  if (!signaling_whip_check_offer (offer, direction, &ufrag, &problem)) {
    reply_error (msg, SOUP_STATUS_BAD_REQUEST, "bad-sdp", problem);
    return;
  }
  if (context->engine == NULL) {
    reply_error (msg, SOUP_STATUS_SERVICE_UNAVAILABLE, "bad-state", "no media plane");
    return;
  }

  /* A room member without a WebSocket. */
  session = signaling_session_new_detached (context, source);
  session->principal = g_steal_pointer (&who);
  /* A WHIP publisher joins holding the floor (it was allowed as the host or
   * a floor holder: a lock does not keep it out); a WHEP viewer as any
   * viewer. */
  spec.kind = SIGNALING_ROOM_BRIEFING;
  spec.host_user_id = briefing->host_id;
  spec.presenter = spec.admitted = direction == SIGNALING_WHIP_INGEST;
  if (!signaling_room_join (context, session, briefing->id, &spec,
                            session->principal->display_name, NULL, &code)) {
    g_hash_table_remove (context->sessions, &session->serial);
    /* presenters-full (four hold the floor), room-locked, room-full. */
    reply_error (msg, SOUP_STATUS_CONFLICT, signaling_error_code_to_string (code),
                 code == SIGNALING_ERROR_PRESENTERS_FULL
                     ? "the briefing has its maximum of presenters"
                     : code == SIGNALING_ERROR_ROOM_LOCKED ? "a host has locked the briefing"
                                                           : "the briefing's room is full");
    return;
  }
  resource = g_new0 (WhipResource, 1);
  resource->id = random_hex (16);
  resource->briefing_id = g_strdup (briefing->id);
  resource->direction = direction;
  resource->user_id = g_strdup (session->principal->user_id);
  resource->token_sha256 = g_compute_checksum_for_string (G_CHECKSUM_SHA256,
                                                          signaling_api_bearer_token (msg), -1);
  resource->etag = new_etag ();
  resource->remote_ufrag = g_steal_pointer (&ufrag);
  resource->session = signaling_session_ref (session);
  g_hash_table_insert (context->whip_resources, resource->id, resource);
  signaling_log (G_LOG_LEVEL_INFO, session, "%s session %s offered",
                 direction_path (direction), resource->id);

  pending = g_new0 (WhipPending, 1);
  pending->context = context;
  pending->resource_id = g_strdup (resource->id);
  pending->msg = g_object_ref (msg);
  pending->disconnected_id = g_signal_connect (msg, "disconnected",
                                               G_CALLBACK (on_pending_disconnected), pending);
  soup_server_message_pause (msg);
  if (direction == SIGNALING_WHIP_INGEST)
    media_engine_publish (context->engine, briefing->id, session->participant_id, offer,
                          on_answer, pending);
  else
    media_engine_view (context->engine, briefing->id, session->participant_id, offer, on_answer,
                       pending);
}

/* ---- PATCH and DELETE on a session ------------------------------------ */

/* TRUE when @msg shows the very token that created @resource (compared
 * by SHA-256 in constant time). */
static gboolean
shows_creating_token (SoupServerMessage *msg, const WhipResource *resource)
{
  const char *token = signaling_api_bearer_token (msg);
  g_autofree char *digest = NULL;

  if (token == NULL)
    return FALSE;
  digest = g_compute_checksum_for_string (G_CHECKSUM_SHA256, token, -1);
  return CRYPTO_memcmp (digest, resource->token_sha256, strlen (digest)) == 0;
}

/* The resource a PATCH or DELETE names, after authenticating the caller;
 * NULL after replying 401/404/403.  The caller is the session's owner when
 * it shows the token that created the session — also after that token
 * expired, so that a client configured with one token (OBS) can still end
 * a long session — or another valid token of the same user. */
static WhipResource *
authorise_resource (SignalingContext *context, SoupServerMessage *msg, SignalingWhipDirection direction,
                    const char *briefing_id, const char *resource_id)
{
  g_autoptr (SignalingPrincipal) who = NULL;
  WhipResource *resource = resource_find (context, direction, briefing_id, resource_id);

  if (resource != NULL && resource->answered && shows_creating_token (msg, resource))
    return resource;
  who = signaling_api_authenticate (context->api, msg);
  if (who == NULL)
    return NULL;
  if (resource == NULL || !resource->answered) {
    reply_error (msg, SOUP_STATUS_NOT_FOUND, "not-found", "no such session");
    return NULL;
  }
  if (g_strcmp0 (who->user_id, resource->user_id) != 0) {
    g_autofree char *source = signaling_api_client_address (msg);

    signaling_api_audit (context->api, who, source, "leave", "Briefing", briefing_id, NULL,
                         "denied", "not the session's owner");
    reply_error (msg, SOUP_STATUS_FORBIDDEN, "forbidden", "this session is someone else's");
    return NULL;
  }
  return resource;
}

static void
handle_delete (SignalingContext *context, SoupServerMessage *msg, SignalingWhipDirection direction,
               const char *briefing_id, const char *resource_id)
{
  WhipResource *resource = authorise_resource (context, msg, direction, briefing_id,
                                               resource_id);

  if (resource == NULL)
    return;
  signaling_log (G_LOG_LEVEL_INFO, resource->session, "%s session %s deleted",
                 direction_path (direction), resource->id);
  resource_remove (context, resource);   /* leaves the room: track-removed, participant-left */
  set_header (msg, "Cache-Control", "no-store");
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
}

/* Trickle ICE (RFC 8840 SDP fragment): every a=candidate line goes to the
 * media engine; a=end-of-candidates ends them.  An ice-ufrag other than
 * the session's is refused (candidates of another ICE session). */
static void
handle_patch (SignalingContext *context, SoupServerMessage *msg, SignalingWhipDirection direction,
              const char *briefing_id, const char *resource_id)
{
  WhipResource *resource = authorise_resource (context, msg, direction, briefing_id,
                                               resource_id);
  const char *if_match_header;
  g_autofree char *if_match = NULL;
  g_autofree char *text = NULL;
  g_autofree char *problem = NULL;
  g_auto (SignalingSdpFrag) frag = { 0 };
  MediaPcKind pc = direction == SIGNALING_WHIP_INGEST ? MEDIA_PC_PUBLISH : MEDIA_PC_SUBSCRIBE;

  if (resource == NULL)
    return;
  if (!has_content_type (msg, TRICKLE_CONTENT_TYPE)) {
    reply_error (msg, SOUP_STATUS_UNSUPPORTED_MEDIA_TYPE, "unsupported-media-type",
                 "a PATCH carries application/trickle-ice-sdpfrag");
    return;
  }
  if_match_header = soup_message_headers_get_one (soup_server_message_get_request_headers (msg),
                                                  "If-Match");
  if (if_match_header != NULL)
    if_match = g_strstrip (g_strdup (if_match_header));
  if (if_match != NULL && strcmp (if_match, "*") == 0) {
    /* RFC 9725 §4.3.1: trickle supported, ICE restart not. */
    reply_error (msg, 422, "ice-restart-unsupported",
                 "ICE restarts are not supported: start a new session (DELETE, then POST)");
    return;
  }
  if (if_match != NULL && strcmp (if_match, resource->etag) != 0) {
    reply_error (msg, SOUP_STATUS_PRECONDITION_FAILED, "etag-mismatch",
                 "If-Match does not name this session's current ICE session");
    return;
  }
  text = body_text (msg, SIGNALING_WHIP_MAX_SDPFRAG);
  if (text == NULL) {
    reply_error (msg, SOUP_STATUS_BAD_REQUEST, "bad-sdpfrag",
                 "the body must be an SDP fragment of 1 to 16384 bytes of UTF-8");
    return;
  }
  if (!signaling_whip_parse_sdpfrag (text, &frag, &problem)) {
    reply_error (msg, SOUP_STATUS_BAD_REQUEST, "bad-sdpfrag", problem);
    return;
  }
  if (frag.ufrag != NULL && resource->remote_ufrag != NULL
      && strcmp (frag.ufrag, resource->remote_ufrag) != 0) {
    reply_error (msg, SOUP_STATUS_BAD_REQUEST, "bad-sdpfrag",
                 "ice-ufrag is not this session's (an ICE restart needs If-Match: *)");
    return;
  }
  for (guint i = 0; i < frag.candidates->len; i++)
    media_engine_add_remote_candidate (context->engine, briefing_id,
                                       resource->session->participant_id, pc,
                                       frag.candidates->pdata[i], NULL, NULL);
  if (frag.end_of_candidates)
    media_engine_add_remote_candidate (context->engine, briefing_id,
                                       resource->session->participant_id, pc, NULL, NULL, NULL);
  signaling_log (G_LOG_LEVEL_DEBUG, resource->session, "trickle: %u candidates%s",
                 frag.candidates->len, frag.end_of_candidates ? ", end" : "");
  set_header (msg, "Cache-Control", "no-store");
  soup_server_message_set_status (msg, SOUP_STATUS_NO_CONTENT, NULL);
}

/* ---- routing ---------------------------------------------------------- */

static void
reply_options (SoupServerMessage *msg, gboolean endpoint)
{
  if (endpoint) {
    set_header (msg, "Allow", "OPTIONS, POST");
    set_header (msg, "Accept-Post", WHIP_CONTENT_TYPE);
  } else {
    set_header (msg, "Allow", "OPTIONS, PATCH, DELETE");
    set_header (msg, "Accept-Patch", TRICKLE_CONTENT_TYPE);
  }
  /* No ICE servers configured: no Link headers (RFC 9725 §4.6). */
  soup_server_message_set_status (msg, SOUP_STATUS_NO_CONTENT, NULL);
}

static void
handle_request (SoupServer *soup, SoupServerMessage *msg, const char *path, GHashTable *query,
                gpointer user_data)
{
  SignalingContext *context = user_data;
  const char *method = soup_server_message_get_method (msg);
  SignalingWhipDirection direction = g_str_has_prefix (path, "/whip/") ? SIGNALING_WHIP_INGEST : SIGNALING_WHIP_EGRESS;
  g_auto (GStrv) segments = NULL;
  guint n;

  if (strlen (path) > 256) {
    reply_error (msg, SOUP_STATUS_NOT_FOUND, "not-found", "no such endpoint");
    return;
  }
  segments = g_strsplit (path + 6, "/", 3);
  n = g_strv_length (segments);
  for (guint i = 0; i < n; i++)
    if (*segments[i] == '\0')
      n = 0;
  if (n == 0 || n > 2) {
    reply_error (msg, SOUP_STATUS_NOT_FOUND, "not-found", "no such endpoint");
    return;
  }
  if (strcmp (method, "OPTIONS") == 0) {
    reply_options (msg, n == 1);
    return;
  }
  if (n == 1) {
    if (strcmp (method, "POST") != 0)
      reply_method_not_allowed (msg, "OPTIONS, POST");
    else
      handle_post (context, msg, direction, segments[0]);
    return;
  }
  if (strcmp (method, "DELETE") == 0)
    handle_delete (context, msg, direction, segments[0], segments[1]);
  else if (strcmp (method, "PATCH") == 0)
    handle_patch (context, msg, direction, segments[0], segments[1]);
  else
    reply_method_not_allowed (msg, "OPTIONS, PATCH, DELETE");
}

/* Refuses an offer over the limit from its headers, before libsoup reads
 * it; a body without a Content-Length is refused too. */
static void
handle_request_early (SoupServer *soup, SoupServerMessage *msg, const char *path,
                      GHashTable *query, gpointer user_data)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);

  if (soup_message_headers_get_encoding (headers) == SOUP_ENCODING_CHUNKED
      || soup_message_headers_get_content_length (headers) > WHIP_MAX_SDP) {
    reply_error (msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, "too-large",
                 "a body of at most 32768 bytes, with a Content-Length");
    set_header (msg, "Connection", "close");
  }
}

/* ---- lifecycle -------------------------------------------------------- */

void
signaling_whip_attach (SignalingContext *context, SoupServer *soup)
{
  g_return_if_fail (context != NULL && SOUP_IS_SERVER (soup));
  g_return_if_fail (context->api != NULL && context->store != NULL);
  soup_server_add_early_handler (soup, "/whip/", handle_request_early, context, NULL);
  soup_server_add_early_handler (soup, "/whep/", handle_request_early, context, NULL);
  soup_server_add_handler (soup, "/whip/", handle_request, context, NULL);
  soup_server_add_handler (soup, "/whep/", handle_request, context, NULL);
}

void
signaling_whip_context_init (SignalingContext *context)
{
  context->whip_resources = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                                   (GDestroyNotify) resource_free);
}

void
signaling_whip_context_clear (SignalingContext *context)
{
  g_clear_pointer (&context->whip_resources, g_hash_table_destroy);
}

void
signaling_whip_peer_ended (SignalingContext *context, const char *participant_id)
{
  GHashTableIter iter;
  gpointer value;

  g_return_if_fail (context != NULL && participant_id != NULL);
  if (context->whip_resources == NULL)
    return;
  g_hash_table_iter_init (&iter, context->whip_resources);
  while (g_hash_table_iter_next (&iter, NULL, &value)) {
    WhipResource *resource = value;

    if (g_strcmp0 (resource->session->participant_id, participant_id) == 0) {
      signaling_log (G_LOG_LEVEL_INFO, resource->session,
                     "%s session %s: its peer connection ended",
                     direction_path (resource->direction), resource->id);
      g_hash_table_iter_remove (&iter);
      return;
    }
  }
}

void
signaling_whip_briefing_ended (const RecordsBriefing *briefing, gpointer user_data)
{
  SignalingContext *context = user_data;
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, context->whip_resources);
  while (g_hash_table_iter_next (&iter, NULL, &value)) {
    WhipResource *resource = value;

    if (strcmp (resource->briefing_id, briefing->id) == 0) {
      signaling_log (G_LOG_LEVEL_INFO, resource->session, "%s session %s: the briefing ended",
                     direction_path (resource->direction), resource->id);
      g_hash_table_iter_remove (&iter);
    }
  }
}
