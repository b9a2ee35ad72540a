/* session-janus.c — the Janus back end of session.h: the VideoRoom plugin
 * (janus.plugin.videoroom, Janus 1.1.x) over Janus's plain-HTTP API, with
 * libsoup-3.0 and jansson.  bench/README.md lists the same flow.
 *
 * Every participant is one Janus session with one plugin handle (a
 * publisher has a second one for what it receives, below):
 *
 *   POST /janus              {"janus":"create"}            → session id S
 *   GET  /janus/S?maxev=N    long poll, always one outstanding (events)
 *   POST /janus/S            {"janus":"attach", plugin}    → handle id H
 *   POST /janus/S            {"janus":"keepalive"} every 25 s
 *
 * Publisher:  create room (sync; "already exists" 427 is fine) → join as
 *             publisher (event "joined") → ready().  publish(offer):
 *             configure + jsep offer → event "configured" with jsep answer
 *             → publish_answer(); trickle {"completed":true} once the
 *             configure is acked (every candidate is in the offer).
 * Subscriber: listparticipants (sync) until a participant with
 *             "publisher": true (PeerConnection up) is there, then join as
 *             subscriber with "streams":[{"feed":id}...] for every such
 *             publisher → event "attached" with jsep offer →
 *             subscribe_offer().  answer(sdp): start + jsep answer → event
 *             "started"; trickle completed after the first start's ack.
 *             "No such room" (426) and "No such feed" (428) mean the
 *             publisher is not up yet: retried from 200 ms growing to 1 s,
 *             for at most 30 s in all.  Later offers ("updated") go to
 *             subscribe_offer() again.  Publishers that come up after the
 *             subscriber joined are not added (the benchmark starts the
 *             publishers of a room first).
 * A publisher also receives the room's other publishers, as with caud:
 *             a second handle on the same Janus session joins as a
 *             multistream subscriber once another publisher is known
 *             ("joined"/"publishers" events) and subscribes to later ones;
 *             its offers go to subscribe_offer(), and bench_session_answer()
 *             on a publisher session answers them (see "a publisher's own
 *             subscription" below).
 *
 * Errors: a Janus error ({"janus":"error"} or a plugin "error_code") reaches
 * failed() as a GError in BENCH_SESSION_JANUS_ERROR whose code is Janus's
 * own (e.g. 428 JANUS_VIDEOROOM_ERROR_NO_SUCH_FEED, 458 no such session) and
 * whose message carries Janus's reason; HTTP failures, replies that do not
 * parse and timeouts use BENCH_SESSION_ERROR (session-priv.h).  A hangup or
 * detach of the handle, or the session timing out in Janus, is fatal too.
 *
 * Callbacks may free the session (bench_session_free()); the code below
 * returns without touching it after every callback (see `freed_flag`). */
#include <string.h>

#include <jansson.h>
#include <libsoup/soup.h>

#include "session-priv.h"

#define BENCH_SESSION_JANUS_ERROR (bench_session_janus_error_quark ())
G_DEFINE_QUARK (bench-session-janus-error-quark, bench_session_janus_error)

#define JANUS_PLUGIN "janus.plugin.videoroom"
#define JANUS_KEEPALIVE_S 25
#define JANUS_LONG_POLL_MAXEV 8
#define JANUS_SUBSCRIBE_WAIT_S 30
#define JANUS_RETRY_FIRST_MS 200
#define JANUS_RETRY_MAX_MS 1000
/* Room settings for rooms the benchmark creates. */
#define JANUS_ROOM_PUBLISHERS 4
#define JANUS_ROOM_BITRATE 3000000   /* bit/s cap (REMB) above the 1.5 Mbit/s sent */
/* VideoRoom error codes (janus_videoroom.c) the flow handles. */
#define JANUS_VIDEOROOM_ERROR_NO_SUCH_ROOM 426
#define JANUS_VIDEOROOM_ERROR_ROOM_EXISTS 427
#define JANUS_VIDEOROOM_ERROR_NO_SUCH_FEED 428

typedef enum {
  JANUS_STATE_CREATING,       /* session create sent                 */
  JANUS_STATE_ATTACHING,
  JANUS_STATE_CREATING_ROOM,  /* publisher                           */
  JANUS_STATE_JOINING,        /* publisher join sent                 */
  JANUS_STATE_READY,          /* publisher joined; may publish       */
  JANUS_STATE_PUBLISHING,     /* configure + offer sent              */
  JANUS_STATE_PUBLISHED,
  JANUS_STATE_LISTING,        /* subscriber listparticipants sent    */
  JANUS_STATE_WAITING,        /* subscriber retry timer              */
  JANUS_STATE_SUBSCRIBING,    /* subscriber join sent                */
  JANUS_STATE_OFFERED,        /* offer handed to subscribe_offer()   */
  JANUS_STATE_STARTING,       /* start + answer sent                 */
  JANUS_STATE_STARTED,
} JanusState;

/* The publisher's own subscription (a second VideoRoom handle). */
typedef enum {
  JANUS_SUB_NONE,             /* no handle yet                            */
  JANUS_SUB_ATTACHING,
  JANUS_SUB_ATTACHED,         /* handle, not joined (nothing to subscribe) */
  JANUS_SUB_JOINING,          /* join as subscriber sent                  */
  JANUS_SUB_CHANGING,         /* subscribe sent, waiting for the offer    */
  JANUS_SUB_OFFERED,          /* offer handed to subscribe_offer()        */
  JANUS_SUB_STARTING,         /* start + answer sent                      */
  JANUS_SUB_IDLE,             /* negotiated; may subscribe to more        */
} JanusSubState;

typedef struct {
  BenchSession base;
  SoupSession *api_soup;      /* requests: a small shared pool          */
  SoupSession *poll_soup;     /* long polls: one connection each        */
  GCancellable *cancellable;  /* cancels every request on free        */
  char *api;                  /* http://HOST:PORT/janus, no trailing / */
  json_int_t room_id;
  json_int_t session_id;
  json_int_t handle_id;
  guint64 next_transaction;
  JanusState state;
  gboolean polling;
  gboolean trickle_done;
  guint keepalive_id;
  guint retry_id;
  guint retry_ms;
  gint64 wait_deadline_us;    /* subscriber: give up waiting after this */
  gboolean *freed_flag;       /* set to TRUE by free while dispatching */

  /* Publisher only: the multistream subscriber handle that receives the
   * other publishers of the room (see "publisher's subscription" below). */
  json_int_t feed_id;         /* our own publisher id in the room        */
  json_int_t sub_handle_id;   /* 0 until attached                        */
  JanusSubState sub_state;
  GArray *sub_want;           /* json_int_t: other publishers up         */
  GArray *sub_have;           /* json_int_t: feeds in the subscription   */
  GArray *sub_pending;        /* json_int_t: subscribe sent, no offer yet */
  gboolean sub_trickle_done;
  guint sub_retry_id;
} JanusSession;

/* What a reply to one POST is for.  @data is plugindata.data (NULL when
 * the reply has none); both are borrowed. */
typedef void (*JanusReplyFunc) (JanusSession *s, json_t *reply, json_t *data);

typedef struct {
  JanusSession *s;            /* not valid once the request is cancelled */
  SoupSession *soup;
  GCancellable *cancellable;  /* NULL for fire and forget               */
  SoupMessage *msg;
  JanusReplyFunc on_reply;    /* NULL: fire and forget                  */
  const char *what;           /* for error messages                     */
  gboolean sub;               /* to a publisher's subscriber handle     */
} JanusRequest;

/* Shared by every participant (all on one thread, as session.h says).
 * Requests go through a pool of at most JANUS_API_CONNECTIONS keep-alive
 * connections, queueing when all are busy; long polls, which hold their
 * connection for up to 30 s, through a pool without limit.  With one pool
 * for both, libsoup 3.2 opened a new connection for most requests (20 for
 * 5 idle participants), which at hundreds of participants runs out of file
 * descriptors in the generator and gives Janus's HTTP server thousands of
 * connections. */
#define JANUS_API_CONNECTIONS 16
static SoupSession *shared_api_soup;
static SoupSession *shared_poll_soup;

static SoupSession *
janus_shared_soup (SoupSession **shared, int max_conns, guint idle_timeout_s)
{
  if (*shared != NULL)
    return g_object_ref (*shared);
  *shared = soup_session_new_with_options ("max-conns", max_conns,
                                           "max-conns-per-host", max_conns,
                                           /* > Janus's 30 s long poll */
                                           "timeout", 60,
                                           "idle-timeout", idle_timeout_s, NULL);
  g_object_add_weak_pointer (G_OBJECT (*shared), (gpointer *) shared);
  return *shared;
}

static void
janus_request_free (JanusRequest *req)
{
  g_clear_object (&req->msg);
  g_clear_object (&req->cancellable);
  g_clear_object (&req->soup);
  g_free (req);
}

static void
janus_request_send (JanusSession *s, SoupSession *soup, JanusRequest *req, gboolean cancellable,
                    GAsyncReadyCallback done)
{
  req->s = s;
  req->soup = g_object_ref (soup);
  req->cancellable = cancellable ? g_object_ref (s->cancellable) : NULL;
  soup_session_send_and_read_async (req->soup, req->msg, G_PRIORITY_DEFAULT, req->cancellable,
                                    done, req);
}

static void janus_poll (JanusSession *s);
static void janus_list_participants (JanusSession *s);
static void janus_retry_later (JanusSession *s, const char *why);
static void janus_sub_error (JanusSession *s, json_int_t code, const char *reason,
                             const char *what);
static void janus_sub_answer (JanusSession *s, const char *answer_sdp);

/* Errors that mean, for a subscriber asking for its offer, that the
 * publisher is not up yet (shared/LAB-NOTES.md: "No such feed"). */
static gboolean
janus_is_not_up_yet (JanusSession *s, json_int_t code)
{
  return s->state == JANUS_STATE_SUBSCRIBING &&
         (code == JANUS_VIDEOROOM_ERROR_NO_SUCH_FEED || code == JANUS_VIDEOROOM_ERROR_NO_SUCH_ROOM);
}

/* ---- failing ------------------------------------------------------------- */

/* A Janus-reported error: the GError's code is Janus's. */
static void
janus_fail_janus (JanusSession *s, json_int_t code, const char *reason, const char *what)
{
  g_autoptr (GError) error = NULL;
  BenchSession *base = &s->base;

  if (base->failed)
    return;
  base->failed = TRUE;
  error = g_error_new (BENCH_SESSION_JANUS_ERROR, (gint) code, "Janus error %" JSON_INTEGER_FORMAT
                       " while %s: %s", code, what, reason != NULL ? reason : "(no reason)");
  if (base->callbacks.failed != NULL)
    base->callbacks.failed (base, error, base->user_data);
}

/* Finds Janus's error in a reply or event: {"janus":"error","error":{code,
 * reason}} or plugindata.data {"error_code", "error"}. */
static gboolean
janus_find_error (json_t *reply, json_t *data, json_int_t *code, const char **reason)
{
  const char *kind = json_string_value (json_object_get (reply, "janus"));
  json_t *err;

  if (g_strcmp0 (kind, "error") == 0) {
    err = json_object_get (reply, "error");
    *code = json_integer_value (json_object_get (err, "code"));
    *reason = json_string_value (json_object_get (err, "reason"));
    return TRUE;
  }
  if (data != NULL && json_is_integer (json_object_get (data, "error_code"))) {
    *code = json_integer_value (json_object_get (data, "error_code"));
    *reason = json_string_value (json_object_get (data, "error"));
    return TRUE;
  }
  return FALSE;
}

static json_t *
janus_plugin_data (json_t *reply)
{
  return json_object_get (json_object_get (reply, "plugindata"), "data");
}

/* ---- requests ------------------------------------------------------------ */

static json_int_t
janus_room_id_from_name (const char *room)
{
  /* FNV-1a 64, cut to 53 bits so that JavaScript clients of the same Janus
   * would read the same number; 0 is not a valid room id. */
  guint64 h = G_GUINT64_CONSTANT (0xcbf29ce484222325);

  for (const guchar *p = (const guchar *) room; *p != '\0'; p++) {
    h ^= *p;
    h *= G_GUINT64_CONSTANT (0x100000001b3);
  }
  h &= (G_GUINT64_CONSTANT (1) << 53) - 1;
  return h == 0 ? 1 : (json_int_t) h;
}

/* @handle 0: the session's path. */
static char *
janus_path (JanusSession *s, json_int_t handle)
{
  if (handle != 0)
    return g_strdup_printf ("%s/%" JSON_INTEGER_FORMAT "/%" JSON_INTEGER_FORMAT, s->api,
                            s->session_id, handle);
  if (s->session_id != 0)
    return g_strdup_printf ("%s/%" JSON_INTEGER_FORMAT, s->api, s->session_id);
  return g_strdup (s->api);
}

/* Parses a Janus HTTP reply; fails the session and returns NULL on error. */
static json_t *
janus_parse_reply (JanusSession *s, SoupMessage *msg, GBytes *body, const char *what)
{
  gsize len = 0;
  const char *text = body != NULL ? g_bytes_get_data (body, &len) : NULL;
  json_error_t jerr;
  json_t *reply;
  guint status = soup_message_get_status (msg);

  if (status != SOUP_STATUS_OK) {
    bench_session_emit_failed (&s->base, BENCH_SESSION_ERROR_CONNECT,
                               "Janus HTTP %u %s while %s", status,
                               soup_message_get_reason_phrase (msg), what);
    return NULL;
  }
  reply = text != NULL ? json_loadb (text, len, 0, &jerr) : NULL;
  if (reply == NULL || !(json_is_object (reply) || json_is_array (reply))) {
    json_decref (reply);
    bench_session_emit_failed (&s->base, BENCH_SESSION_ERROR_PROTOCOL,
                               "Janus reply that is not JSON while %s", what);
    return NULL;
  }
  return reply;
}

static void
janus_on_post_reply (GObject *source, GAsyncResult *result, gpointer user_data)
{
  JanusRequest *req = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) body = NULL;
  JanusSession *s;
  json_t *reply, *data;
  json_int_t code;
  const char *reason;

  body = soup_session_send_and_read_finish (SOUP_SESSION (source), result, &error);
  if (req->on_reply == NULL ||
      (body == NULL && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)))
    goto out;   /* fire and forget, or freed meanwhile: req->s is gone */
  s = req->s;
  if (s->base.failed)
    goto out;
  if (body == NULL) {
    bench_session_emit_failed (&s->base, BENCH_SESSION_ERROR_CONNECT,
                               "Janus %s while %s: %s", s->api, req->what, error->message);
    goto out;
  }
  reply = janus_parse_reply (s, req->msg, body, req->what);
  if (reply == NULL)
    goto out;
  data = janus_plugin_data (reply);
  if (req->sub && janus_find_error (reply, data, &code, &reason))
    janus_sub_error (s, code, reason, req->what);
  else if (!janus_find_error (reply, data, &code, &reason) ||
      (s->state == JANUS_STATE_CREATING_ROOM && code == JANUS_VIDEOROOM_ERROR_ROOM_EXISTS) ||
      (s->state == JANUS_STATE_LISTING && code == JANUS_VIDEOROOM_ERROR_NO_SUCH_ROOM))
    req->on_reply (s, reply, data);
  else if (janus_is_not_up_yet (s, code))
    janus_retry_later (s, reason);
  else
    janus_fail_janus (s, code, reason, req->what);
  json_decref (reply);
out:
  janus_request_free (req);
}

/* POSTs @body (stolen) to the session (or handle) path.  "transaction" is
 * added here.  @on_reply runs only for a reply that is not an error (except
 * the two errors the flow expects, which it handles itself). */
static void
janus_post (JanusSession *s, json_int_t handle, json_t *body, const char *what,
            JanusReplyFunc on_reply)
{
  g_autofree char *path = janus_path (s, handle);
  g_autofree char *tx = g_strdup_printf ("cb%" G_GUINT64_FORMAT, ++s->next_transaction);
  g_autofree char *text = NULL;
  g_autoptr (GBytes) bytes = NULL;
  JanusRequest *req;
  gsize len;

  json_object_set_new (body, "transaction", json_string (tx));
  text = json_dumps (body, JSON_COMPACT);
  json_decref (body);
  len = strlen (text);
  bytes = g_bytes_new_take (g_steal_pointer (&text), len);
  req = g_new0 (JanusRequest, 1);
  req->on_reply = on_reply;
  req->what = what;
  req->sub = handle != 0 && handle == s->sub_handle_id;
  req->msg = soup_message_new (SOUP_METHOD_POST, path);
  soup_message_set_request_body_from_bytes (req->msg, "application/json", bytes);
  /* Fire-and-forget requests (the destroy in free) must outlive the
   * session, so they are not cancellable. */
  janus_request_send (s, s->api_soup, req, on_reply != NULL, janus_on_post_reply);
}

/* A "message" to the VideoRoom plugin on @handle, optionally with a jsep. */
static void
janus_message_to (JanusSession *s, json_int_t handle, json_t *request, const char *jsep_type,
                  const char *sdp, const char *what, JanusReplyFunc on_reply)
{
  json_t *body = json_pack ("{s:s, s:o}", "janus", "message", "body", request);

  if (jsep_type != NULL)
    json_object_set_new (body, "jsep", json_pack ("{s:s, s:s}", "type", jsep_type, "sdp", sdp));
  janus_post (s, handle, body, what, on_reply);
}

/* The same on our (main) handle. */
static void
janus_message (JanusSession *s, json_t *request, const char *jsep_type, const char *sdp,
               const char *what, JanusReplyFunc on_reply)
{
  janus_message_to (s, s->handle_id, request, jsep_type, sdp, what, on_reply);
}

static void
janus_on_ack (JanusSession *s, json_t *reply, json_t *data)
{
}

/* Half-trickle: every candidate is in our SDP; tell Janus there are no more. */
static void
janus_send_trickle_completed (JanusSession *s, json_t *reply, json_t *data)
{
  if (s->trickle_done)
    return;
  s->trickle_done = TRUE;
  janus_post (s, s->handle_id, json_pack ("{s:s, s:{s:b}}", "janus", "trickle",
                                  "candidate", "completed", TRUE),
              "sending end-of-candidates", janus_on_ack);
}

/* ---- subscriber ---------------------------------------------------------- */

static gboolean
janus_on_retry (gpointer user_data)
{
  JanusSession *s = user_data;

  s->retry_id = 0;
  janus_list_participants (s);
  return G_SOURCE_REMOVE;
}

/* The publisher is not up yet: ask again later, or give up at the deadline. */
static void
janus_retry_later (JanusSession *s, const char *why)
{
  if (g_get_monotonic_time () + (gint64) s->retry_ms * 1000 > s->wait_deadline_us) {
    bench_session_emit_failed (&s->base, BENCH_SESSION_ERROR_TIMEOUT,
                               "no publisher up in Janus room %" JSON_INTEGER_FORMAT
                               " ('%s') within %d s (%s)", s->room_id, s->base.room,
                               JANUS_SUBSCRIBE_WAIT_S, why);
    return;
  }
  s->state = JANUS_STATE_WAITING;
  s->retry_id = g_timeout_add (s->retry_ms, janus_on_retry, s);
  s->retry_ms = MIN (s->retry_ms * 3 / 2, JANUS_RETRY_MAX_MS);
}

static void
janus_on_participants (JanusSession *s, json_t *reply, json_t *data)
{
  json_t *participants = json_object_get (data, "participants");
  json_t *streams, *p;
  size_t i;

  if (data == NULL || json_is_integer (json_object_get (data, "error_code"))) {
    janus_retry_later (s, "no such room yet");
    return;
  }
  if (!json_is_array (participants)) {
    bench_session_emit_failed (&s->base, BENCH_SESSION_ERROR_PROTOCOL,
                               "listparticipants reply without participants");
    return;
  }
  streams = json_array ();
  json_array_foreach (participants, i, p) {
    json_t *publisher = json_object_get (p, "publisher");
    json_t *id = json_object_get (p, "id");

    /* "publisher" is true once the participant's PeerConnection is up
     * (its SDP is set and media started), which is what "No such feed"
     * is about; old releases sent the string "true". */
    if (json_is_integer (id) &&
        (json_is_true (publisher) || g_strcmp0 (json_string_value (publisher), "true") == 0))
      json_array_append_new (streams, json_pack ("{s:O}", "feed", id));
  }
  if (json_array_size (streams) == 0) {
    json_decref (streams);
    janus_retry_later (s, "no participant publishing yet");
    return;
  }
  s->state = JANUS_STATE_SUBSCRIBING;
  janus_message (s, json_pack ("{s:s, s:s, s:I, s:o}", "request", "join", "ptype", "subscriber",
                               "room", s->room_id, "streams", streams),
                 NULL, NULL, "joining as subscriber", janus_on_ack);
}

static void
janus_list_participants (JanusSession *s)
{
  s->state = JANUS_STATE_LISTING;
  janus_message (s, json_pack ("{s:s, s:I}", "request", "listparticipants", "room", s->room_id),
                 NULL, NULL, "listing participants", janus_on_participants);
}

static void
janus_on_start_acked (JanusSession *s, json_t *reply, json_t *data)
{
  janus_send_trickle_completed (s, reply, data);
}

static void
janus_answer (BenchSession *base, const char *answer_sdp)
{
  JanusSession *s = (JanusSession *) base;

  if (base->failed)
    return;
  /* A publisher's own offer is answered by Janus, never by us: an answer on
   * a publisher session is for its subscriber handle. */
  if (base->role == BENCH_ROLE_PUBLISHER) {
    janus_sub_answer (s, answer_sdp);
    return;
  }
  if (s->state != JANUS_STATE_OFFERED) {
    g_warning ("bench: Janus subscribe answer with no offer outstanding");
    return;
  }
  s->state = JANUS_STATE_STARTING;
  janus_message (s, json_pack ("{s:s}", "request", "start"), "answer", answer_sdp,
                 "starting the subscription", janus_on_start_acked);
}

/* ---- publisher ----------------------------------------------------------- */

static void
janus_on_room_ready (JanusSession *s, json_t *reply, json_t *data)
{
  s->state = JANUS_STATE_JOINING;
  janus_message (s, json_pack ("{s:s, s:s, s:I, s:s}", "request", "join", "ptype", "publisher",
                               "room", s->room_id, "display", "bench-pub"),
                 NULL, NULL, "joining as publisher", janus_on_ack);
}

static void
janus_create_room (JanusSession *s)
{
  g_autofree char *description = g_strdup_printf ("cau-bench %s", s->base.room);

  s->state = JANUS_STATE_CREATING_ROOM;
  janus_message (s, json_pack ("{s:s, s:I, s:s, s:i, s:i, s:s, s:s, s:b, s:b}",
                               "request", "create", "room", s->room_id,
                               "description", description,
                               "publishers", JANUS_ROOM_PUBLISHERS,
                               "bitrate", JANUS_ROOM_BITRATE,
                               "videocodec", "vp8", "audiocodec", "opus",
                               "record", FALSE, "permanent", FALSE),
                 NULL, NULL, "creating the room", janus_on_room_ready);
}

static void
janus_on_configure_acked (JanusSession *s, json_t *reply, json_t *data)
{
  janus_send_trickle_completed (s, reply, data);
}

static void
janus_publish (BenchSession *base, const char *offer_sdp)
{
  JanusSession *s = (JanusSession *) base;

  if (base->failed)
    return;
  if (s->state != JANUS_STATE_READY) {
    g_warning ("bench: Janus publish before the session is ready (or twice)");
    return;
  }
  s->state = JANUS_STATE_PUBLISHING;
  janus_message (s, json_pack ("{s:s, s:i}", "request", "configure",
                               "bitrate", JANUS_ROOM_BITRATE),
                 "offer", offer_sdp, "publishing", janus_on_configure_acked);
}

/* ---- a publisher's own subscription -------------------------------------- */

/* caud offers a publishing participant the other participants' tracks on
 * the same session; the VideoRoom equivalent is a second handle on the
 * same Janus session that joins as a multistream subscriber:
 *
 *   attach (once another publisher is known) → join ptype subscriber with
 *   "streams":[{"feed":F}...] for every other publisher → "attached" + jsep
 *   offer → subscribe_offer() → answer: start + jsep answer (trickle
 *   completed after the first start's ack).  Publishers that come later
 *   ("publishers" events): subscribe with their feeds → "updated" + jsep
 *   offer → answered with start again.  One change in flight at a time;
 *   more are made once the previous start is acked.
 *
 * Publishers come from the "joined" event's "publishers" and later
 * "publishers" events (never our own feed); "unpublished"/"leaving" take
 * a feed out of the lists only: Janus itself removes a gone publisher's
 * streams from subscriptions and sends an "updated" offer.  "No such
 * feed" (428, the publisher's PeerConnection is not up yet) undoes the
 * change and tries again after JANUS_RETRY_FIRST_MS. */

static gboolean
janus_feeds_has (GArray *feeds, json_int_t id)
{
  for (guint i = 0; i < feeds->len; i++)
    if (g_array_index (feeds, json_int_t, i) == id)
      return TRUE;
  return FALSE;
}

static void
janus_feeds_remove (GArray *feeds, json_int_t id)
{
  for (guint i = 0; i < feeds->len; i++)
    if (g_array_index (feeds, json_int_t, i) == id) {
      g_array_remove_index (feeds, i);
      return;
    }
}

static void janus_sub_reconcile (JanusSession *s);

static void
janus_sub_on_attached (JanusSession *s, json_t *reply, json_t *data)
{
  json_int_t id = json_integer_value (json_object_get (json_object_get (reply, "data"), "id"));

  if (id <= 0) {
    bench_session_emit_failed (&s->base, BENCH_SESSION_ERROR_PROTOCOL,
                               "Janus attach reply without a handle id (subscriber handle)");
    return;
  }
  s->sub_handle_id = id;
  s->sub_state = JANUS_SUB_ATTACHED;
  janus_sub_reconcile (s);
}

static gboolean
janus_sub_on_retry (gpointer user_data)
{
  JanusSession *s = user_data;

  s->sub_retry_id = 0;
  janus_sub_reconcile (s);
  return G_SOURCE_REMOVE;
}

static json_t *
janus_feeds_to_streams (GArray *feeds)
{
  json_t *streams = json_array ();

  for (guint i = 0; i < feeds->len; i++)
    json_array_append_new (streams, json_pack ("{s:I}", "feed",
                                               g_array_index (feeds, json_int_t, i)));
  return streams;
}

/* Makes the subscription follow sub_want, one step at a time. */
static void
janus_sub_reconcile (JanusSession *s)
{
  if (s->base.failed || s->sub_retry_id != 0)
    return;
  switch (s->sub_state) {
  case JANUS_SUB_NONE:
    if (s->sub_want->len == 0)
      return;
    s->sub_state = JANUS_SUB_ATTACHING;
    janus_post (s, 0, json_pack ("{s:s, s:s}", "janus", "attach", "plugin", JANUS_PLUGIN),
                "attaching the subscriber handle to " JANUS_PLUGIN, janus_sub_on_attached);
    return;
  case JANUS_SUB_ATTACHED:
    if (s->sub_want->len == 0)
      return;
    g_array_set_size (s->sub_have, 0);
    g_array_append_vals (s->sub_have, s->sub_want->data, s->sub_want->len);
    g_array_set_size (s->sub_pending, 0);
    g_array_append_vals (s->sub_pending, s->sub_want->data, s->sub_want->len);
    s->sub_state = JANUS_SUB_JOINING;
    janus_message_to (s, s->sub_handle_id,
                      json_pack ("{s:s, s:s, s:I, s:o}", "request", "join", "ptype", "subscriber",
                                 "room", s->room_id,
                                 "streams", janus_feeds_to_streams (s->sub_want)),
                      NULL, NULL, "joining as subscriber (publisher's own subscription)",
                      janus_on_ack);
    return;
  case JANUS_SUB_IDLE:
    g_array_set_size (s->sub_pending, 0);
    for (guint i = 0; i < s->sub_want->len; i++) {
      json_int_t id = g_array_index (s->sub_want, json_int_t, i);

      if (!janus_feeds_has (s->sub_have, id))
        g_array_append_val (s->sub_pending, id);
    }
    if (s->sub_pending->len == 0)
      return;
    g_array_append_vals (s->sub_have, s->sub_pending->data, s->sub_pending->len);
    s->sub_state = JANUS_SUB_CHANGING;
    janus_message_to (s, s->sub_handle_id,
                      json_pack ("{s:s, s:o}", "request", "subscribe",
                                 "streams", janus_feeds_to_streams (s->sub_pending)),
                      NULL, NULL, "subscribing to more publishers", janus_on_ack);
    return;
  default:
    return;   /* a change is in flight: again once it is done */
  }
}

/* An error on the subscriber handle (reply or event). */
static void
janus_sub_error (JanusSession *s, json_int_t code, const char *reason, const char *what)
{
  if ((code == JANUS_VIDEOROOM_ERROR_NO_SUCH_FEED || code == JANUS_VIDEOROOM_ERROR_NO_SUCH_ROOM) &&
      (s->sub_state == JANUS_SUB_JOINING || s->sub_state == JANUS_SUB_CHANGING)) {
    g_debug ("janus: session %" JSON_INTEGER_FORMAT ": %s (%s); trying again",
             s->session_id, what, reason != NULL ? reason : "no reason");
    for (guint i = 0; i < s->sub_pending->len; i++)
      janus_feeds_remove (s->sub_have, g_array_index (s->sub_pending, json_int_t, i));
    g_array_set_size (s->sub_pending, 0);
    s->sub_state = s->sub_state == JANUS_SUB_JOINING ? JANUS_SUB_ATTACHED : JANUS_SUB_IDLE;
    s->sub_retry_id = g_timeout_add (JANUS_RETRY_FIRST_MS, janus_sub_on_retry, s);
    return;
  }
  janus_fail_janus (s, code, reason, what);
}

static void
janus_sub_on_start_acked (JanusSession *s, json_t *reply, json_t *data)
{
  if (!s->sub_trickle_done) {
    s->sub_trickle_done = TRUE;
    janus_post (s, s->sub_handle_id, json_pack ("{s:s, s:{s:b}}", "janus", "trickle",
                                                "candidate", "completed", TRUE),
                "sending end-of-candidates (subscriber handle)", janus_on_ack);
  }
  /* Janus handles a handle's messages in order: the next change may go. */
  if (s->sub_state == JANUS_SUB_STARTING) {
    s->sub_state = JANUS_SUB_IDLE;
    janus_sub_reconcile (s);
  }
}

static void
janus_sub_answer (JanusSession *s, const char *answer_sdp)
{
  if (s->sub_state != JANUS_SUB_OFFERED) {
    g_warning ("bench: Janus subscribe answer with no offer outstanding (publisher)");
    return;
  }
  s->sub_state = JANUS_SUB_STARTING;
  janus_message_to (s, s->sub_handle_id, json_pack ("{s:s}", "request", "start"),
                    "answer", answer_sdp, "starting the publisher's subscription",
                    janus_sub_on_start_acked);
}

/* Events on the subscriber handle.  subscribe_offer() may free the
 * session: nothing touches it after the callback. */
static void
janus_sub_handle_event (JanusSession *s, json_t *event, const char *kind, json_t *data)
{
  BenchSession *base = &s->base;
  json_t *jsep = json_object_get (event, "jsep");
  const char *jsep_type = json_string_value (json_object_get (jsep, "type"));
  const char *sdp = json_string_value (json_object_get (jsep, "sdp"));
  const char *videoroom = json_string_value (json_object_get (data, "videoroom"));
  json_int_t code = 0;
  const char *reason = NULL;

  if (strcmp (kind, "hangup") == 0 || strcmp (kind, "detached") == 0) {
    const char *why = json_string_value (json_object_get (event, "reason"));

    bench_session_emit_failed (base, BENCH_SESSION_ERROR_REFUSED,
                               "Janus %s the subscriber handle%s%s",
                               strcmp (kind, "hangup") == 0 ? "hung up" : "detached",
                               why != NULL ? ": " : "", why != NULL ? why : "");
    return;
  }
  if (janus_find_error (event, data, &code, &reason)) {
    janus_sub_error (s, code, reason,
                     s->sub_state == JANUS_SUB_JOINING ? "joining as subscriber (publisher)" :
                     s->sub_state == JANUS_SUB_CHANGING ? "subscribing to more publishers" :
                     s->sub_state == JANUS_SUB_STARTING ? "starting the publisher's subscription" :
                     "in a VideoRoom event (subscriber handle)");
    return;
  }
  if (strcmp (kind, "event") != 0 || videoroom == NULL)
    return;   /* webrtcup, media, slowlink, keepalive... */
  if (jsep_type != NULL && sdp != NULL) {
    if (strcmp (jsep_type, "offer") == 0 &&
        (strcmp (videoroom, "attached") == 0 || strcmp (videoroom, "updated") == 0)) {
      g_array_set_size (s->sub_pending, 0);
      s->sub_state = JANUS_SUB_OFFERED;
      if (base->callbacks.subscribe_offer != NULL)
        base->callbacks.subscribe_offer (base, sdp, base->user_data);
      return;
    }
    bench_session_emit_failed (base, BENCH_SESSION_ERROR_PROTOCOL,
                               "unexpected jsep %s in Janus '%s' event (subscriber handle)",
                               jsep_type, videoroom);
    return;
  }
  /* "updated" with nothing to negotiate, or the start's "started". */
  if ((strcmp (videoroom, "updated") == 0 && s->sub_state == JANUS_SUB_CHANGING) ||
      (json_object_get (data, "started") != NULL && s->sub_state == JANUS_SUB_STARTING)) {
    g_array_set_size (s->sub_pending, 0);
    s->sub_state = JANUS_SUB_IDLE;
    janus_sub_reconcile (s);
  }
}

/* Publisher: other publishers from a "joined" or "event" event. */
static void
janus_sub_note_room (JanusSession *s, json_t *data)
{
  json_t *publishers = json_object_get (data, "publishers");
  const char *gone_keys[] = { "unpublished", "leaving", "kicked" };
  json_t *p;
  size_t i;

  json_array_foreach (publishers, i, p) {
    json_int_t id = json_integer_value (json_object_get (p, "id"));

    if (id > 0 && id != s->feed_id && !janus_feeds_has (s->sub_want, id))
      g_array_append_val (s->sub_want, id);
  }
  for (i = 0; i < G_N_ELEMENTS (gone_keys); i++) {
    json_t *gone = json_object_get (data, gone_keys[i]);

    /* Our own unpublishing/leaving says "ok" instead of an id. */
    if (json_is_integer (gone)) {
      janus_feeds_remove (s->sub_want, json_integer_value (gone));
      janus_feeds_remove (s->sub_have, json_integer_value (gone));
      janus_feeds_remove (s->sub_pending, json_integer_value (gone));
    }
  }
  janus_sub_reconcile (s);
}

/* ---- events (long poll) -------------------------------------------------- */

/* Handles one event.  Callbacks may fail or free the session: the caller
 * checks *@freed, then base.failed, before touching it again. */
static void
janus_handle_event (JanusSession *s, json_t *event, gboolean *freed)
{
  BenchSession *base = &s->base;
  const char *kind = json_string_value (json_object_get (event, "janus"));
  json_t *data = janus_plugin_data (event);
  json_t *jsep = json_object_get (event, "jsep");
  const char *jsep_type = json_string_value (json_object_get (jsep, "type"));
  const char *sdp = json_string_value (json_object_get (jsep, "sdp"));
  const char *videoroom = json_string_value (json_object_get (data, "videoroom"));
  json_int_t code = 0;
  const char *reason = NULL;

  if (kind == NULL) {
    bench_session_emit_failed (base, BENCH_SESSION_ERROR_PROTOCOL, "Janus event without 'janus'");
    return;
  }
  if (s->sub_handle_id != 0 &&
      json_integer_value (json_object_get (event, "sender")) == s->sub_handle_id) {
    janus_sub_handle_event (s, event, kind, data);
    return;
  }
  if (strcmp (kind, "webrtcup") == 0) {
    g_debug ("janus: session %" JSON_INTEGER_FORMAT " room '%s': PeerConnection up",
             s->session_id, base->room);
    return;
  }
  if (strcmp (kind, "hangup") == 0 || strcmp (kind, "detached") == 0) {
    const char *why = json_string_value (json_object_get (event, "reason"));

    bench_session_emit_failed (base, BENCH_SESSION_ERROR_REFUSED, "Janus %s the handle%s%s",
                               strcmp (kind, "hangup") == 0 ? "hung up" : "detached",
                               why != NULL ? ": " : "", why != NULL ? why : "");
    return;
  }
  if (strcmp (kind, "timeout") == 0) {
    bench_session_emit_failed (base, BENCH_SESSION_ERROR_TIMEOUT, "Janus timed the session out");
    return;
  }
  if (janus_find_error (event, data, &code, &reason)) {
    if (janus_is_not_up_yet (s, code))
      janus_retry_later (s, reason);
    else
      janus_fail_janus (s, code, reason,
                        s->state == JANUS_STATE_JOINING ? "joining as publisher" :
                        s->state == JANUS_STATE_PUBLISHING ? "publishing" :
                        s->state == JANUS_STATE_SUBSCRIBING ? "joining as subscriber" :
                        s->state == JANUS_STATE_STARTING ? "starting the subscription" :
                        "in a VideoRoom event");
    return;
  }
  /* keepalive (long poll with nothing to say), media, slowlink, trickle:
   * nothing to do. */
  if (strcmp (kind, "event") != 0 || videoroom == NULL)
    return;

  if (base->role == BENCH_ROLE_PUBLISHER) {
    if (strcmp (videoroom, "joined") == 0)
      s->feed_id = json_integer_value (json_object_get (data, "id"));
    janus_sub_note_room (s, data);
  }
  if (strcmp (videoroom, "joined") == 0 && s->state == JANUS_STATE_JOINING) {
    s->state = JANUS_STATE_READY;
    if (base->callbacks.ready != NULL)
      base->callbacks.ready (base, base->user_data);
    return;
  }
  if (jsep_type != NULL && sdp != NULL) {
    if (strcmp (jsep_type, "answer") == 0 && s->state == JANUS_STATE_PUBLISHING) {
      s->state = JANUS_STATE_PUBLISHED;
      if (base->callbacks.publish_answer != NULL)
        base->callbacks.publish_answer (base, sdp, base->user_data);
      return;
    }
    if (strcmp (jsep_type, "offer") == 0 &&
        (strcmp (videoroom, "attached") == 0 || strcmp (videoroom, "updated") == 0)) {
      gboolean first = s->state == JANUS_STATE_SUBSCRIBING;

      s->state = JANUS_STATE_OFFERED;
      /* A subscriber is "in the room" once Janus has made its offer. */
      if (first && base->callbacks.ready != NULL) {
        base->callbacks.ready (base, base->user_data);
        if (*freed || base->failed)
          return;
      }
      if (base->callbacks.subscribe_offer != NULL)
        base->callbacks.subscribe_offer (base, sdp, base->user_data);
      return;
    }
    bench_session_emit_failed (base, BENCH_SESSION_ERROR_PROTOCOL,
                               "unexpected jsep %s in Janus '%s' event", jsep_type, videoroom);
    return;
  }
  if (s->state == JANUS_STATE_STARTING && json_object_get (data, "started") != NULL)
    s->state = JANUS_STATE_STARTED;
  /* Other VideoRoom events (publishers, leaving, unpublished, talking,
   * configured without jsep): nothing to do. */
}

static void
janus_on_poll (GObject *source, GAsyncResult *result, gpointer user_data)
{
  JanusRequest *req = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) body = NULL;
  JanusSession *s;
  json_t *reply, *event;
  gboolean freed = FALSE;
  size_t i;

  body = soup_session_send_and_read_finish (SOUP_SESSION (source), result, &error);
  if (body == NULL && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    goto out;
  s = req->s;
  s->polling = FALSE;
  if (s->base.failed)
    goto out;
  if (body == NULL) {
    bench_session_emit_failed (&s->base, BENCH_SESSION_ERROR_CONNECT,
                               "Janus long poll %s: %s", s->api, error->message);
    goto out;
  }
  reply = janus_parse_reply (s, req->msg, body, "polling for events");
  if (reply == NULL)
    goto out;
  /* Several events come as an array, one as an object (maxev). */
  s->freed_flag = &freed;
  if (json_is_array (reply)) {
    json_array_foreach (reply, i, event) {
      janus_handle_event (s, event, &freed);
      if (freed || s->base.failed)
        break;
    }
  } else {
    janus_handle_event (s, reply, &freed);
  }
  json_decref (reply);
  if (freed)
    goto out;
  s->freed_flag = NULL;
  if (!s->base.failed)
    janus_poll (s);
out:
  janus_request_free (req);
}

/* Keeps one long poll outstanding: Janus answers it with up to @maxev
 * queued events, or {"janus":"keepalive"} after 30 s without any. */
static void
janus_poll (JanusSession *s)
{
  g_autofree char *path = janus_path (s, 0);
  g_autofree char *uri = g_strdup_printf ("%s?maxev=%d&rid=%" G_GINT64_FORMAT, path,
                                          JANUS_LONG_POLL_MAXEV, g_get_real_time () / 1000);
  JanusRequest *req;

  if (s->polling)
    return;
  s->polling = TRUE;
  req = g_new0 (JanusRequest, 1);
  req->what = "polling for events";
  req->msg = soup_message_new (SOUP_METHOD_GET, uri);
  janus_request_send (s, s->poll_soup, req, TRUE, janus_on_poll);
}

/* ---- session set-up ------------------------------------------------------ */

static gboolean
janus_on_keepalive (gpointer user_data)
{
  JanusSession *s = user_data;

  janus_post (s, 0, json_pack ("{s:s}", "janus", "keepalive"), "sending a keepalive",
              janus_on_ack);
  return G_SOURCE_CONTINUE;
}

static void
janus_on_attached (JanusSession *s, json_t *reply, json_t *data)
{
  json_int_t id = json_integer_value (json_object_get (json_object_get (reply, "data"), "id"));

  if (id <= 0) {
    bench_session_emit_failed (&s->base, BENCH_SESSION_ERROR_PROTOCOL,
                               "Janus attach reply without a handle id");
    return;
  }
  s->handle_id = id;
  if (s->base.role == BENCH_ROLE_PUBLISHER) {
    janus_create_room (s);
  } else {
    s->wait_deadline_us = g_get_monotonic_time () + JANUS_SUBSCRIBE_WAIT_S * G_USEC_PER_SEC;
    s->retry_ms = JANUS_RETRY_FIRST_MS;
    janus_list_participants (s);
  }
}

static void
janus_on_created (JanusSession *s, json_t *reply, json_t *data)
{
  json_int_t id = json_integer_value (json_object_get (json_object_get (reply, "data"), "id"));

  if (id <= 0) {
    bench_session_emit_failed (&s->base, BENCH_SESSION_ERROR_PROTOCOL,
                               "Janus create reply without a session id");
    return;
  }
  s->session_id = id;
  janus_poll (s);
  s->keepalive_id = g_timeout_add_seconds (JANUS_KEEPALIVE_S, janus_on_keepalive, s);
  s->state = JANUS_STATE_ATTACHING;
  janus_post (s, 0, json_pack ("{s:s, s:s}", "janus", "attach", "plugin", JANUS_PLUGIN),
              "attaching to " JANUS_PLUGIN, janus_on_attached);
}

static void
janus_free (BenchSession *base)
{
  JanusSession *s = (JanusSession *) base;

  if (s->freed_flag != NULL)
    *s->freed_flag = TRUE;
  g_clear_handle_id (&s->keepalive_id, g_source_remove);
  g_clear_handle_id (&s->retry_id, g_source_remove);
  g_clear_handle_id (&s->sub_retry_id, g_source_remove);
  g_cancellable_cancel (s->cancellable);
  g_clear_object (&s->cancellable);
  /* Leave politely: destroying the Janus session detaches the handle, which
   * leaves the room and hangs up the PeerConnection.  Not waited for. */
  if (s->session_id != 0)
    janus_post (s, 0, json_pack ("{s:s}", "janus", "destroy"), "destroying the session",
                NULL);
  g_clear_object (&s->api_soup);
  g_clear_object (&s->poll_soup);
  g_free (s->api);
  g_array_unref (s->sub_want);
  g_array_unref (s->sub_have);
  g_array_unref (s->sub_pending);
  bench_session_clear_base (base);
  g_free (s);
}

static const BenchSessionOps janus_ops = {
  .publish = janus_publish,
  .answer = janus_answer,
  .free = janus_free,
};

BenchSession *
bench_session_janus_new (const char *url, const char *room, BenchRole role,
                         const BenchSessionCallbacks *callbacks, gpointer user_data)
{
  g_autoptr (GUri) uri = NULL;
  JanusSession *s;

  g_return_val_if_fail (url != NULL && room != NULL, NULL);
  uri = g_uri_parse (url, SOUP_HTTP_URI_FLAGS, NULL);
  if (uri == NULL || g_strcmp0 (g_uri_get_scheme (uri), "http") != 0) {
    g_printerr ("cau-bench: bad Janus URL '%s' (want http://HOST:PORT/janus)\n", url);
    return NULL;
  }
  s = g_new0 (JanusSession, 1);
  bench_session_init_base (&s->base, &janus_ops, BENCH_BACKEND_JANUS, url, room, role,
                           callbacks, user_data);
  s->api = g_strdup (url);
  while (g_str_has_suffix (s->api, "/"))
    s->api[strlen (s->api) - 1] = '\0';
  s->room_id = janus_room_id_from_name (room);
  s->api_soup = janus_shared_soup (&shared_api_soup, JANUS_API_CONNECTIONS, 60);
  s->poll_soup = janus_shared_soup (&shared_poll_soup, 8192, 5);
  s->cancellable = g_cancellable_new ();
  s->sub_want = g_array_new (FALSE, FALSE, sizeof (json_int_t));
  s->sub_have = g_array_new (FALSE, FALSE, sizeof (json_int_t));
  s->sub_pending = g_array_new (FALSE, FALSE, sizeof (json_int_t));
  s->state = JANUS_STATE_CREATING;
  janus_post (s, 0, json_pack ("{s:s}", "janus", "create"), "creating a Janus session",
              janus_on_created);
  return &s->base;
}
