/* session-caud.c — the caud back end of session.h: docs/protocol.md over
 * one WSS socket (libsoup-3.0), JSON with jansson.
 *
 * join carries the room kind when asked; a caud without room kinds refuses
 * the member (invalid-field, field "kind") and is asked again without it.
 * Publisher:  join → joined → (caller) publish → publish-answer, then a
 *             trickle end-of-candidates (our offer carries every candidate).
 * Subscriber: join → joined → subscribe-offer (version v) → (caller) answer
 *             → subscribe-answer {sdp, version v} → ok, then end-of-candidates.
 * A publisher in a room with other publishers also gets subscribe-offers
 * (caud gives every participant both connections); they are handed to the
 * subscribe_offer callback as for a subscriber.
 *
 * The server's certificate is self-signed for benchmarks: it is accepted
 * without checking (bench only, never production code). */
#include <string.h>

#include <jansson.h>
#include <libsoup/soup.h>

#include "session-priv.h"

#define CAUD_CONNECT_TIMEOUT_S 30

typedef struct {
  BenchSession base;
  SoupSession *soup;
  GCancellable *cancellable;
  SoupWebsocketConnection *ws;
  gulong message_id, closed_id;
  guint timeout_id;
  gint64 next_id;
  json_int_t offer_version;   /* the outstanding subscribe-offer's, 0 = none */
  gboolean joined;
  gboolean answered_once;     /* trickle end-of-candidates sent for subscribe */
  json_int_t join_id;         /* the outstanding join's id */
  gboolean kind_refused;      /* caud has no room kinds: join without "kind" */
  gchar *participant_id;      /* ours, from joined */
  gboolean host;              /* joined as the room's host */
  gboolean awaiting_floor;    /* a publisher that joined a briefing as a viewer */
} CaudSession;

static SoupSession *shared_soup;

static void
caud_send (CaudSession *s, json_t *msg)
{
  g_autofree char *text = NULL;

  if (s->ws == NULL ||
      soup_websocket_connection_get_state (s->ws) != SOUP_WEBSOCKET_STATE_OPEN) {
    json_decref (msg);
    return;
  }
  text = json_dumps (msg, JSON_COMPACT);
  json_decref (msg);
  if (text != NULL)
    soup_websocket_connection_send_text (s->ws, text);
}

static json_int_t
caud_next_id (CaudSession *s)
{
  return ++s->next_id;
}

static void
caud_send_end_of_candidates (CaudSession *s, const char *pc)
{
  caud_send (s, json_pack ("{s:s, s:s, s:n}", "type", "trickle", "pc", pc, "candidate"));
}

static void
caud_send_join (CaudSession *s)
{
  json_t *msg;

  s->join_id = caud_next_id (s);
  msg = json_pack ("{s:s, s:I, s:s, s:s}", "type", "join", "id", s->join_id,
                   "room", s->base.room,
                   "name", s->base.role == BENCH_ROLE_PUBLISHER ? "bench-pub" : "bench-sub");
  if (s->base.room_kind != NULL && !s->kind_refused)
    json_object_set_new (msg, "kind", json_string (s->base.room_kind));
  caud_send (s, msg);
}

/* The host of a briefing gives the floor to every other bench publisher
 * (joined with the name "bench-pub") as a viewer: the audio scenario's
 * speakers, a consult-like room of publishers. */
static void
caud_maybe_grant (CaudSession *s, json_t *participant)
{
  const char *id = json_string_value (json_object_get (participant, "id"));

  if (!s->host || id == NULL ||
      g_strcmp0 (json_string_value (json_object_get (participant, "name")), "bench-pub") != 0 ||
      g_strcmp0 (json_string_value (json_object_get (participant, "role")), "viewer") != 0)
    return;
  caud_send (s, json_pack ("{s:s, s:I, s:s, s:s}", "type", "floor", "id", caud_next_id (s),
                           "action", "grant", "participant", id));
}

static void
caud_on_message (SoupWebsocketConnection *ws, gint type, GBytes *message, gpointer user_data)
{
  CaudSession *s = user_data;
  BenchSession *base = &s->base;
  gsize len;
  const char *data = g_bytes_get_data (message, &len);
  json_error_t jerr;
  json_t *msg;
  const char *kind = NULL;

  if (type != SOUP_WEBSOCKET_DATA_TEXT || base->failed)
    return;
  msg = json_loadb (data, len, 0, &jerr);
  if (msg == NULL || json_unpack (msg, "{s:s}", "type", &kind) != 0) {
    json_decref (msg);
    bench_session_emit_failed (base, BENCH_SESSION_ERROR_PROTOCOL,
                               "caud sent a message without a type");
    return;
  }

  if (strcmp (kind, "joined") == 0) {
    const char *role = json_string_value (json_object_get (msg, "role"));
    json_t *others = json_object_get (msg, "participants"), *o;
    size_t i;

    s->joined = TRUE;
    base->simulcast = json_is_true (json_object_get (msg, "simulcast"));
    s->participant_id = g_strdup (json_string_value (json_object_get (msg, "participant")));
    s->host = g_strcmp0 (role, "host") == 0;
    g_clear_handle_id (&s->timeout_id, g_source_remove);
    json_array_foreach (others, i, o)
      caud_maybe_grant (s, o);
    if (base->role == BENCH_ROLE_PUBLISHER && g_strcmp0 (role, "viewer") == 0) {
      /* The host grants it the floor when it sees us (caud_maybe_grant). */
      s->awaiting_floor = TRUE;
    } else if (base->callbacks.ready != NULL) {
      base->callbacks.ready (base, base->user_data);
    }
  } else if (strcmp (kind, "participant-joined") == 0) {
    caud_maybe_grant (s, json_object_get (msg, "participant"));
  } else if (strcmp (kind, "participant-updated") == 0) {
    json_t *who = json_object_get (msg, "participant");

    if (s->awaiting_floor && s->participant_id != NULL &&
        g_strcmp0 (json_string_value (json_object_get (who, "id")), s->participant_id) == 0 &&
        g_strcmp0 (json_string_value (json_object_get (who, "role")), "presenter") == 0) {
      s->awaiting_floor = FALSE;
      if (base->callbacks.ready != NULL)
        base->callbacks.ready (base, base->user_data);
    }
  } else if (strcmp (kind, "publish-answer") == 0) {
    const char *sdp = NULL;

    if (json_unpack (msg, "{s:s}", "sdp", &sdp) != 0) {
      bench_session_emit_failed (base, BENCH_SESSION_ERROR_PROTOCOL,
                                 "publish-answer without sdp");
    } else {
      caud_send_end_of_candidates (s, "publish");
      if (base->callbacks.publish_answer != NULL)
        base->callbacks.publish_answer (base, sdp, base->user_data);
    }
  } else if (strcmp (kind, "subscribe-offer") == 0) {
    const char *sdp = NULL;
    json_int_t version = 0;

    if (json_unpack (msg, "{s:s, s:I}", "sdp", &sdp, "version", &version) != 0) {
      bench_session_emit_failed (base, BENCH_SESSION_ERROR_PROTOCOL,
                                 "subscribe-offer without sdp/version");
    } else {
      s->offer_version = version;
      if (base->callbacks.subscribe_offer != NULL)
        base->callbacks.subscribe_offer (base, sdp, base->user_data);
    }
  } else if (strcmp (kind, "error") == 0) {
    const char *code = "?", *text = "", *field = NULL;
    json_int_t ref = -1;

    json_unpack (msg, "{s?s, s?s, s?s, s?I}", "code", &code, "message", &text,
                 "field", &field, "ref", &ref);
    if (!s->joined && !s->kind_refused && ref == s->join_id && base->room_kind != NULL &&
        g_strcmp0 (code, "invalid-field") == 0 && g_strcmp0 (field, "kind") == 0) {
      /* A caud from before room kinds: its rooms are all one kind. */
      s->kind_refused = TRUE;
      caud_send_join (s);
      json_decref (msg);
      return;
    }
    bench_session_emit_failed (base, BENCH_SESSION_ERROR_REFUSED, "caud error %s: %s",
                               code, text);
  }
  /* trickle (candidates are in the SDP), ok, connection-state, participant-*,
   * track-*: nothing to do. */
  json_decref (msg);
}

static void
caud_on_closed (SoupWebsocketConnection *ws, gpointer user_data)
{
  CaudSession *s = user_data;

  bench_session_emit_failed (&s->base, BENCH_SESSION_ERROR_CONNECT,
                             "caud closed the WebSocket (code %u)",
                             soup_websocket_connection_get_close_code (ws));
}

static gboolean
caud_on_accept_certificate (SoupMessage *msg, GTlsCertificate *cert,
                            GTlsCertificateFlags errors, gpointer user_data)
{
  return TRUE;
}

static gboolean
caud_on_timeout (gpointer user_data)
{
  CaudSession *s = user_data;

  s->timeout_id = 0;
  bench_session_emit_failed (&s->base, BENCH_SESSION_ERROR_TIMEOUT,
                             "no 'joined' from caud within %d s", CAUD_CONNECT_TIMEOUT_S);
  return G_SOURCE_REMOVE;
}

static void
caud_on_connected (GObject *source, GAsyncResult *result, gpointer user_data)
{
  CaudSession *s;
  g_autoptr (GError) error = NULL;
  SoupWebsocketConnection *ws;

  ws = soup_session_websocket_connect_finish (SOUP_SESSION (source), result, &error);
  if (ws == NULL && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;   /* freed meanwhile */
  s = user_data;
  if (ws == NULL) {
    bench_session_emit_failed (&s->base, BENCH_SESSION_ERROR_CONNECT, "WebSocket %s: %s",
                               s->base.url, error->message);
    return;
  }
  s->ws = ws;
  /* SDP of many m-lines and many candidates: well above the 1 MiB default? No,
   * but be explicit about the largest message we accept. */
  soup_websocket_connection_set_max_incoming_payload_size (ws, 256 * 1024);
  soup_websocket_connection_set_keepalive_interval (ws, 0);
  s->message_id = g_signal_connect (ws, "message", G_CALLBACK (caud_on_message), s);
  s->closed_id = g_signal_connect (ws, "closed", G_CALLBACK (caud_on_closed), s);
  caud_send_join (s);
}

static void
caud_publish (BenchSession *base, const char *offer_sdp)
{
  CaudSession *s = (CaudSession *) base;

  caud_send (s, json_pack ("{s:s, s:I, s:s}", "type", "publish", "id", caud_next_id (s),
                           "sdp", offer_sdp));
}

static void
caud_answer (BenchSession *base, const char *answer_sdp)
{
  CaudSession *s = (CaudSession *) base;

  if (s->offer_version == 0) {
    g_warning ("bench: subscribe answer with no caud offer outstanding");
    return;
  }
  caud_send (s, json_pack ("{s:s, s:I, s:s, s:I}", "type", "subscribe-answer",
                           "id", caud_next_id (s), "sdp", answer_sdp,
                           "version", s->offer_version));
  s->offer_version = 0;
  if (!s->answered_once) {
    s->answered_once = TRUE;
    caud_send_end_of_candidates (s, "subscribe");
  }
}

static void
caud_free (BenchSession *base)
{
  CaudSession *s = (CaudSession *) base;

  g_clear_handle_id (&s->timeout_id, g_source_remove);
  g_cancellable_cancel (s->cancellable);
  g_clear_object (&s->cancellable);
  if (s->ws != NULL) {
    g_signal_handler_disconnect (s->ws, s->message_id);
    g_signal_handler_disconnect (s->ws, s->closed_id);
    if (soup_websocket_connection_get_state (s->ws) == SOUP_WEBSOCKET_STATE_OPEN) {
      caud_send (s, json_pack ("{s:s, s:I}", "type", "leave", "id", caud_next_id (s)));
      soup_websocket_connection_close (s->ws, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
    }
    g_clear_object (&s->ws);
  }
  g_clear_object (&s->soup);
  g_free (s->participant_id);
  bench_session_clear_base (base);
  g_free (s);
}

static const BenchSessionOps caud_ops = {
  .publish = caud_publish,
  .answer = caud_answer,
  .free = caud_free,
};

BenchSession *
bench_session_caud_new (const char *url, const char *room, BenchRole role,
                        const BenchSessionCallbacks *callbacks, gpointer user_data)
{
  CaudSession *s = g_new0 (CaudSession, 1);
  SoupMessage *msg;

  bench_session_init_base (&s->base, &caud_ops, BENCH_BACKEND_CAUD, url, room, role,
                           callbacks, user_data);
  msg = soup_message_new (SOUP_METHOD_GET, url);
  if (msg == NULL) {
    g_printerr ("cau-bench: bad caud URL '%s' (want wss://HOST:PORT/ws)\n", url);
    bench_session_clear_base (&s->base);
    g_free (s);
    return NULL;
  }
  /* One SoupSession for every participant: one connection each anyway (a
   * WebSocket is never pooled), but one TLS database and resolver. */
  if (shared_soup == NULL) {
    shared_soup = soup_session_new_with_options ("max-conns", 4096,
                                                 "max-conns-per-host", 4096,
                                                 "timeout", 30, NULL);
    g_object_add_weak_pointer (G_OBJECT (shared_soup), (gpointer *) &shared_soup);
    s->soup = shared_soup;
  } else {
    s->soup = g_object_ref (shared_soup);
  }
  g_signal_connect (msg, "accept-certificate", G_CALLBACK (caud_on_accept_certificate), NULL);
  s->cancellable = g_cancellable_new ();
  s->timeout_id = g_timeout_add_seconds (CAUD_CONNECT_TIMEOUT_S, caud_on_timeout, s);
  soup_session_websocket_connect_async (s->soup, msg, NULL, NULL, G_PRIORITY_DEFAULT,
                                        s->cancellable, caud_on_connected, s);
  g_object_unref (msg);
  return &s->base;
}
