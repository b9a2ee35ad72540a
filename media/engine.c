/* engine.c — the media plane's worker threads and its public API (media.h).
 *
 * Every public function runs on the control context and only posts a
 * closure to the worker that owns the room (DESIGN.md "Threads and loops").
 * The control-side table of rooms is touched only on the control context. */
#include "media.h"

#include <string.h>
#include <agent.h>
#include <interfaces.h>

#include "certificate.h"
#include "media-priv.h"
#include "poller.h"
#include "room.h"
#include "room-priv.h"
#include "srtp.h"


typedef struct {
  guint index;
  GThread *thread;
  GMainContext *context;
  GMainLoop *loop;
  MediaPoller *poller;      /* connected peers' sockets; NULL with CAU_NICE_RECV */
  guint n_rooms;            /* control side: rooms placed here */
} MediaWorker;

typedef struct {
  MediaRoom *room;          /* owned by the worker; freed there */
  MediaWorker *worker;
} RoomEntry;

struct MediaEngine {
  MediaConfig config;
  gchar **addresses;
  GMainContext *control;
  MediaCertificate *certificate;
  MediaStats stats;
  MediaWorker *workers;
  guint n_workers;
  GHashTable *rooms;        /* room id → RoomEntry*, control context only */
};

static gpointer
worker_main (gpointer data)
{
  MediaWorker *w = data;

  g_main_context_push_thread_default (w->context);
  g_main_loop_run (w->loop);
  g_main_context_pop_thread_default (w->context);
  return NULL;
}

/* Every non-loopback interface plus 127.0.0.1 unless configured: libnice
 * never gathers loopback on its own (LAB-NOTES). */
static gchar **
resolve_addresses (const MediaConfig *config)
{
  GPtrArray *out = g_ptr_array_new ();

  if (config->ice_addresses != NULL && config->ice_addresses[0] != NULL) {
    for (guint i = 0; config->ice_addresses[i] != NULL; i++) {
      gchar *address = g_strstrip (g_strdup (config->ice_addresses[i]));

      if (*address != '\0')
        g_ptr_array_add (out, address);
      else
        g_free (address);
    }
  } else {
    GList *ips = nice_interfaces_get_local_ips (FALSE);

    for (GList *l = ips; l != NULL; l = l->next) {
      const char *ip = l->data;

      /* IPv6 link-local addresses need a scope and are of no use to a
       * browser on another machine. */
      if (g_str_has_prefix (ip, "fe80:") || strchr (ip, '%') != NULL)
        continue;
      g_ptr_array_add (out, g_strdup (ip));
    }
    g_list_free_full (ips, g_free);
    g_ptr_array_add (out, g_strdup ("127.0.0.1"));
  }
  g_ptr_array_add (out, NULL);
  return (gchar **) g_ptr_array_free (out, FALSE);
}

MediaEngine *
media_engine_new (const MediaConfig *config, GError **error)
{
  MediaEngine *engine;

  g_return_val_if_fail (config != NULL, NULL);

  if (!media_srtp_global_init (error))
    return NULL;

  engine = g_new0 (MediaEngine, 1);
  engine->config = *config;
  engine->config.ice_addresses = NULL;
  engine->addresses = resolve_addresses (config);
  engine->control = g_main_context_ref_thread_default ();
  engine->rooms = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  engine->certificate = media_certificate_new (error);
  if (engine->certificate == NULL) {
    media_engine_free (engine);
    return NULL;
  }
  if (engine->config.max_bitrate_kbps == 0)
    engine->config.max_bitrate_kbps = 1500;

  engine->n_workers = config->workers != 0 ? config->workers : g_get_num_processors ();
  engine->workers = g_new0 (MediaWorker, engine->n_workers);
  for (guint i = 0; i < engine->n_workers; i++) {
    MediaWorker *w = &engine->workers[i];
    g_autofree gchar *name = g_strdup_printf ("cau-media-%u", i);

    w->index = i;
    w->context = g_main_context_new ();
    w->loop = g_main_loop_new (w->context, FALSE);
    if (g_getenv ("CAU_NICE_RECV") == NULL)
      w->poller = media_poller_new (w->context, &engine->stats);
    w->thread = g_thread_new (name, worker_main, w);
  }
  {
    g_autofree gchar *joined = g_strjoinv (",", engine->addresses);

    g_message ("media: %u workers, ICE addresses %s, UDP ports %u-%u, DTLS fingerprint %s",
               engine->n_workers, joined, config->port_min, config->port_max,
               media_certificate_get_fingerprint (engine->certificate));
  }
  return engine;
}

/* ---- posting to workers ----------------------------------------------- */

typedef enum {
  OP_OPEN_ROOM,
  OP_CLOSE_ROOM,
  OP_ADD_PARTICIPANT,
  OP_REMOVE_PARTICIPANT,
  OP_PUBLISH,
  OP_SUBSCRIBE_OFFER,
  OP_SUBSCRIBE_ANSWER,
  OP_CANDIDATE,
  OP_KEYFRAME,
  OP_UNPUBLISH,
  OP_SET_SOURCE_ENABLED,
  OP_SET_LAST_N,
  OP_SET_MAX_LAYER,
  OP_VIEW,
  OP_START_RECORDING,
  OP_STOP_RECORDING,
  OP_QUIT,
} OpKind;

typedef struct {
  OpKind kind;
  MediaEngine *engine;
  MediaWorker *worker;
  MediaRoom *room;
  gchar *room_id;
  gchar *participant_id;
  gchar *sdp;
  gchar **screen_mids;      /* OP_PUBLISH */
  gchar *publisher_id;      /* OP_SET_MAX_LAYER */
  gchar *track_id;          /* OP_SET_MAX_LAYER: track; OP_SET_SOURCE_ENABLED: source */
  gint value;               /* OP_SET_MAX_LAYER: layer; OP_SET_LAST_N: n;
                             * OP_SET_SOURCE_ENABLED: enabled */
  MediaPcKind pc;
  MediaRoomCallbacks room_callbacks;
  MediaParticipantCallbacks participant_callbacks;
  MediaSdpCallback sdp_cb;
  MediaDoneCallback done_cb;
  gpointer user_data;
  GDestroyNotify notify;
  RoomEntry *entry;         /* OP_OPEN_ROOM: where to store the new room */
  MediaRecordingSession *recording;  /* OP_START_RECORDING (reference moved to the room) */
} Op;

static void
op_free (gpointer data)
{
  Op *op = data;

  g_free (op->room_id);
  g_free (op->participant_id);
  g_free (op->sdp);
  g_strfreev (op->screen_mids);
  g_free (op->publisher_id);
  g_free (op->track_id);
  if (op->recording != NULL)
    media_recording_session_refuse (op->recording,
                                    g_error_new (MEDIA_ERROR, MEDIA_ERROR_NOT_FOUND,
                                                 "the media engine stopped"));
  if (op->kind == OP_CLOSE_ROOM)
    g_free (op->entry);
  g_free (op);
}

static gboolean
op_run (gpointer data)
{
  Op *op = data;
  MediaEngine *e = op->engine;

  switch (op->kind) {
  case OP_OPEN_ROOM: {
    MediaRoomEnv env = {
      .worker = op->worker->context,
      .control = e->control,
      .certificate = e->certificate,
      .stats = &e->stats,
      .config = &e->config,
      .addresses = (const char *const *) e->addresses,
      .poller = op->worker->poller,
    };
    op->entry->room = media_room_new (&env, op->room_id, &op->room_callbacks,
                                      op->user_data);
    break;
  }
  case OP_CLOSE_ROOM:
    media_room_free (op->room);
    break;
  case OP_ADD_PARTICIPANT:
    media_room_add_participant (op->room, op->participant_id, &op->participant_callbacks,
                                op->user_data, op->notify);
    break;
  case OP_REMOVE_PARTICIPANT:
    media_room_remove_participant (op->room, op->participant_id);
    break;
  case OP_PUBLISH:
    media_room_publish (op->room, op->participant_id, op->sdp,
                        (const char *const *) op->screen_mids, op->sdp_cb, op->user_data);
    break;
  case OP_SUBSCRIBE_OFFER:
    media_room_subscribe_offer (op->room, op->participant_id, op->sdp_cb, op->user_data);
    break;
  case OP_SUBSCRIBE_ANSWER:
    media_room_subscribe_answer (op->room, op->participant_id, op->sdp, op->done_cb,
                                 op->user_data);
    break;
  case OP_CANDIDATE:
    media_room_add_remote_candidate (op->room, op->participant_id, op->pc, op->sdp,
                                     op->done_cb, op->user_data);
    break;
  case OP_KEYFRAME:
    media_room_request_keyframe (op->room, op->participant_id);
    break;
  case OP_UNPUBLISH:
    media_room_unpublish (op->room, op->participant_id);
    break;
  case OP_SET_SOURCE_ENABLED:
    media_room_set_source_enabled (op->room, op->participant_id, op->track_id, op->value != 0);
    break;
  case OP_SET_LAST_N:
    media_room_set_last_n (op->room, (guint) op->value);
    break;
  case OP_SET_MAX_LAYER:
    media_room_set_max_layer (op->room, op->participant_id, op->publisher_id, op->track_id,
                              op->value);
    break;
  case OP_VIEW:
    media_room_view (op->room, op->participant_id, op->sdp, op->sdp_cb, op->user_data);
    break;
  case OP_START_RECORDING:
    media_recording_start (op->room, g_steal_pointer (&op->recording));
    break;
  case OP_STOP_RECORDING:
    media_recording_stop (op->room);
    break;
  case OP_QUIT:
    g_main_loop_quit (op->worker->loop);
    break;
  }
  return G_SOURCE_REMOVE;
}

static void
op_post (Op *op)
{
  g_main_context_invoke_full (op->worker->context, G_PRIORITY_DEFAULT, op_run, op, op_free);
}

/* The room's op, or NULL after delivering NOT_FOUND to whichever callback
 * the caller gave (so every one-shot callback runs exactly once). */
static Op *
op_for_room (MediaEngine *engine, OpKind kind, const char *room_id,
             const char *participant_id, MediaSdpCallback sdp_cb,
             MediaDoneCallback done_cb, gpointer user_data)
{
  RoomEntry *entry = g_hash_table_lookup (engine->rooms, room_id);
  Op *op;

  if (entry == NULL) {
    GError *error = g_error_new (MEDIA_ERROR, MEDIA_ERROR_NOT_FOUND,
                                 "no room '%s'", room_id);

    if (sdp_cb != NULL)
      media_post_sdp (engine->control, sdp_cb, user_data, NULL, NULL, error);
    else
      media_post_done (engine->control, done_cb, user_data, error);
    return NULL;
  }
  op = g_new0 (Op, 1);
  op->kind = kind;
  op->engine = engine;
  op->worker = entry->worker;
  op->entry = entry;
  op->participant_id = g_strdup (participant_id);
  op->sdp_cb = sdp_cb;
  op->done_cb = done_cb;
  op->user_data = user_data;
  return op;
}

void
media_engine_open_room (MediaEngine *engine, const char *room_id,
                        const MediaRoomCallbacks *callbacks, gpointer user_data)
{
  RoomEntry *entry;
  MediaWorker *worker;
  Op *op;

  g_return_if_fail (engine != NULL && room_id != NULL);
  if (g_hash_table_contains (engine->rooms, room_id))
    return;

  worker = &engine->workers[0];
  for (guint i = 1; i < engine->n_workers; i++)
    if (engine->workers[i].n_rooms < worker->n_rooms)
      worker = &engine->workers[i];
  worker->n_rooms++;

  entry = g_new0 (RoomEntry, 1);
  entry->worker = worker;
  g_hash_table_insert (engine->rooms, g_strdup (room_id), entry);

  op = g_new0 (Op, 1);
  op->kind = OP_OPEN_ROOM;
  op->engine = engine;
  op->worker = worker;
  op->entry = entry;
  op->room_id = g_strdup (room_id);
  if (callbacks != NULL)
    op->room_callbacks = *callbacks;
  op->user_data = user_data;
  op_post (op);
}

/* OP_OPEN_ROOM stores the MediaRoom into the entry on the worker; ops posted
 * after it run after it (one context, FIFO at one priority), so they read
 * the pointer through the entry rather than copying it at post time. */
static gboolean
op_run_deferred (gpointer data)
{
  Op *op = data;

  op->room = op->entry->room;
  return op_run (op);
}

/* Posts an op made by op_for_room() (which found its entry). */
static void
engine_dispatch (Op *op)
{
  g_main_context_invoke_full (op->worker->context, G_PRIORITY_DEFAULT, op_run_deferred,
                              op, op_free);
}

void
media_engine_close_room (MediaEngine *engine, const char *room_id)
{
  RoomEntry *entry;
  Op *op;

  g_return_if_fail (engine != NULL && room_id != NULL);
  entry = g_hash_table_lookup (engine->rooms, room_id);
  if (entry == NULL)
    return;
  op = g_new0 (Op, 1);
  op->kind = OP_CLOSE_ROOM;
  op->engine = engine;
  op->worker = entry->worker;
  entry->worker->n_rooms--;
  /* The entry outlives the deferred read of its room pointer: op_free frees it. */
  op->entry = entry;
  {
    gpointer stolen_key = NULL;

    g_hash_table_steal_extended (engine->rooms, room_id, &stolen_key, NULL);
    g_free (stolen_key);
  }
  g_main_context_invoke_full (op->worker->context, G_PRIORITY_DEFAULT, op_run_deferred,
                              op, op_free);
}

void
media_engine_add_participant (MediaEngine *engine, const char *room_id,
                              const char *participant_id,
                              const MediaParticipantCallbacks *callbacks,
                              gpointer user_data, GDestroyNotify notify)
{
  Op *op;

  g_return_if_fail (engine != NULL && room_id != NULL && participant_id != NULL);
  op = op_for_room (engine, OP_ADD_PARTICIPANT, room_id, participant_id, NULL, NULL, NULL);
  if (op == NULL) {
    g_warning ("media: add participant %s to unknown room %s", participant_id, room_id);
    if (notify != NULL)
      notify (user_data);
    return;
  }
  if (callbacks != NULL)
    op->participant_callbacks = *callbacks;
  op->user_data = user_data;
  op->notify = notify;
  engine_dispatch (op);
}

void
media_engine_remove_participant (MediaEngine *engine, const char *room_id,
                                 const char *participant_id)
{
  Op *op;

  g_return_if_fail (engine != NULL && room_id != NULL && participant_id != NULL);
  op = op_for_room (engine, OP_REMOVE_PARTICIPANT, room_id, participant_id, NULL, NULL, NULL);
  if (op != NULL)
    engine_dispatch (op);
}

void
media_engine_publish (MediaEngine *engine, const char *room_id, const char *participant_id,
                      const char *offer_sdp, MediaSdpCallback callback, gpointer user_data)
{
  media_engine_publish_with_options (engine, room_id, participant_id, offer_sdp, NULL,
                                     callback, user_data);
}

void
media_engine_publish_with_options (MediaEngine *engine, const char *room_id,
                                   const char *participant_id, const char *offer_sdp,
                                   const MediaPublishOptions *options,
                                   MediaSdpCallback callback, gpointer user_data)
{
  Op *op;

  g_return_if_fail (engine != NULL && room_id != NULL && participant_id != NULL);
  g_return_if_fail (offer_sdp != NULL && callback != NULL);
  op = op_for_room (engine, OP_PUBLISH, room_id, participant_id, callback, NULL, user_data);
  if (op == NULL)
    return;
  op->sdp = g_strdup (offer_sdp);
  if (options != NULL && options->screen_mids != NULL)
    op->screen_mids = g_strdupv ((gchar **) options->screen_mids);
  engine_dispatch (op);
}

void
media_engine_unpublish (MediaEngine *engine, const char *room_id, const char *participant_id)
{
  Op *op;

  g_return_if_fail (engine != NULL && room_id != NULL && participant_id != NULL);
  op = op_for_room (engine, OP_UNPUBLISH, room_id, participant_id, NULL, NULL, NULL);
  if (op != NULL)
    engine_dispatch (op);
}

void
media_engine_set_source_enabled (MediaEngine *engine, const char *room_id,
                                 const char *participant_id, const char *source,
                                 gboolean enabled)
{
  Op *op;

  g_return_if_fail (engine != NULL && room_id != NULL && participant_id != NULL);
  op = op_for_room (engine, OP_SET_SOURCE_ENABLED, room_id, participant_id, NULL, NULL, NULL);
  if (op == NULL)
    return;
  op->track_id = g_strdup (source);
  op->value = enabled ? 1 : 0;
  engine_dispatch (op);
}

void
media_engine_set_last_n (MediaEngine *engine, const char *room_id, guint last_n)
{
  Op *op;

  g_return_if_fail (engine != NULL && room_id != NULL);
  op = op_for_room (engine, OP_SET_LAST_N, room_id, NULL, NULL, NULL, NULL);
  if (op == NULL)
    return;
  op->value = (gint) MIN (last_n, (guint) G_MAXINT);
  engine_dispatch (op);
}

void
media_engine_set_max_layer (MediaEngine *engine, const char *room_id,
                            const char *subscriber_id, const char *publisher_id,
                            const char *track_id, gint max_layer)
{
  Op *op;

  g_return_if_fail (engine != NULL && room_id != NULL && subscriber_id != NULL);
  g_return_if_fail (publisher_id != NULL && track_id != NULL);
  op = op_for_room (engine, OP_SET_MAX_LAYER, room_id, subscriber_id, NULL, NULL, NULL);
  if (op == NULL)
    return;
  op->publisher_id = g_strdup (publisher_id);
  op->track_id = g_strdup (track_id);
  op->value = max_layer;
  engine_dispatch (op);
}

void
media_engine_view (MediaEngine *engine, const char *room_id, const char *participant_id,
                   const char *offer_sdp, MediaSdpCallback callback, gpointer user_data)
{
  Op *op;

  g_return_if_fail (engine != NULL && room_id != NULL && participant_id != NULL);
  g_return_if_fail (offer_sdp != NULL && callback != NULL);
  op = op_for_room (engine, OP_VIEW, room_id, participant_id, callback, NULL, user_data);
  if (op == NULL)
    return;
  op->sdp = g_strdup (offer_sdp);
  engine_dispatch (op);
}

void
media_engine_subscribe_offer (MediaEngine *engine, const char *room_id,
                              const char *participant_id, MediaSdpCallback callback,
                              gpointer user_data)
{
  Op *op;

  g_return_if_fail (engine != NULL && room_id != NULL && participant_id != NULL);
  g_return_if_fail (callback != NULL);
  op = op_for_room (engine, OP_SUBSCRIBE_OFFER, room_id, participant_id, callback, NULL,
                    user_data);
  if (op != NULL)
    engine_dispatch (op);
}

void
media_engine_subscribe_answer (MediaEngine *engine, const char *room_id,
                               const char *participant_id, const char *answer_sdp,
                               MediaDoneCallback callback, gpointer user_data)
{
  Op *op;

  g_return_if_fail (engine != NULL && room_id != NULL && participant_id != NULL);
  g_return_if_fail (answer_sdp != NULL);
  op = op_for_room (engine, OP_SUBSCRIBE_ANSWER, room_id, participant_id, NULL, callback,
                    user_data);
  if (op == NULL)
    return;
  op->sdp = g_strdup (answer_sdp);
  engine_dispatch (op);
}

void
media_engine_add_remote_candidate (MediaEngine *engine, const char *room_id,
                                   const char *participant_id, MediaPcKind pc,
                                   const char *candidate, MediaDoneCallback callback,
                                   gpointer user_data)
{
  Op *op;

  g_return_if_fail (engine != NULL && room_id != NULL && participant_id != NULL);
  op = op_for_room (engine, OP_CANDIDATE, room_id, participant_id, NULL, callback,
                    user_data);
  if (op == NULL)
    return;
  op->pc = pc;
  op->sdp = g_strdup (candidate);
  engine_dispatch (op);
}

void
media_engine_request_keyframe (MediaEngine *engine, const char *room_id,
                               const char *publisher_id)
{
  Op *op;

  g_return_if_fail (engine != NULL && room_id != NULL);
  op = op_for_room (engine, OP_KEYFRAME, room_id, publisher_id, NULL, NULL, NULL);
  if (op != NULL)
    engine_dispatch (op);
}

void
media_engine_start_recording (MediaEngine *engine, const char *room_id,
                              const char *recording_id, const MediaRecordingOptions *options,
                              MediaRecordingEventFunc on_event, MediaRecordingDoneFunc on_done,
                              gpointer user_data)
{
  MediaRecordingSession *session;
  RoomEntry *entry;
  Op *op;

  g_return_if_fail (engine != NULL && room_id != NULL && recording_id != NULL);
  g_return_if_fail (options != NULL && options->directory != NULL);
  g_return_if_fail (options->server_key != NULL && options->key_id != NULL);
  session = media_recording_session_new (engine->control, room_id, recording_id, options,
                                         on_event, on_done, user_data);
  entry = g_hash_table_lookup (engine->rooms, room_id);
  if (entry == NULL) {
    media_recording_session_refuse (session, g_error_new (MEDIA_ERROR, MEDIA_ERROR_NOT_FOUND,
                                                          "no room '%s'", room_id));
    return;
  }
  op = op_for_room (engine, OP_START_RECORDING, room_id, NULL, NULL, NULL, NULL);
  op->recording = session;
  engine_dispatch (op);
}

void
media_engine_stop_recording (MediaEngine *engine, const char *room_id)
{
  Op *op;

  g_return_if_fail (engine != NULL && room_id != NULL);
  if (!g_hash_table_contains (engine->rooms, room_id))
    return;
  op = op_for_room (engine, OP_STOP_RECORDING, room_id, NULL, NULL, NULL, NULL);
  engine_dispatch (op);
}

const char *
media_engine_get_fingerprint (MediaEngine *engine)
{
  g_return_val_if_fail (engine != NULL, NULL);
  return media_certificate_get_fingerprint (engine->certificate);
}

void
media_engine_get_stats (MediaEngine *engine, MediaStats *out)
{
  g_return_if_fail (engine != NULL && out != NULL);
#define COPY(f) out->f = MEDIA_STAT_GET (&engine->stats, f)
  COPY (rooms);
  COPY (peers);
  COPY (rtp_packets_in);
  COPY (rtp_packets_out);
  COPY (rtp_bytes_in);
  COPY (rtp_bytes_out);
  COPY (rtcp_packets_in);
  COPY (rtcp_packets_out);
  COPY (nack_retransmits);
  COPY (plis_sent);
  COPY (dropped_malformed);
  COPY (dropped_srtp);
  COPY (dropped_unknown);
  COPY (dtls_failures);
  COPY (layer_switches);
  COPY (speaker_changes);
  COPY (consent_expired);
  COPY (gso_sends);
  COPY (gso_datagrams);
#undef COPY
}

void
media_engine_free (MediaEngine *engine)
{
  GHashTableIter iter;
  gpointer key, value;

  if (engine == NULL)
    return;

  /* Close every room, then stop each worker after its rooms are gone. */
  if (engine->rooms != NULL) {
    g_autoptr (GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);

    g_hash_table_iter_init (&iter, engine->rooms);
    while (g_hash_table_iter_next (&iter, &key, &value))
      g_ptr_array_add (ids, g_strdup (key));
    for (guint i = 0; i < ids->len; i++)
      media_engine_close_room (engine, g_ptr_array_index (ids, i));
  }
  for (guint i = 0; i < engine->n_workers; i++) {
    Op *op = g_new0 (Op, 1);

    op->kind = OP_QUIT;
    op->engine = engine;
    op->worker = &engine->workers[i];
    op_post (op);
  }
  for (guint i = 0; i < engine->n_workers; i++) {
    MediaWorker *w = &engine->workers[i];

    g_thread_join (w->thread);
    media_poller_free (w->poller);
    g_main_loop_unref (w->loop);
    g_main_context_unref (w->context);
  }
  /* Closing the rooms handed their recorders to finishing threads: every
   * file gets its last data and final chunk before this returns. */
  media_recording_wait_finished ();
  g_free (engine->workers);
  if (engine->rooms != NULL)
    g_hash_table_unref (engine->rooms);
  if (engine->certificate != NULL)
    media_certificate_unref (engine->certificate);
  g_strfreev (engine->addresses);
  g_main_context_unref (engine->control);
  g_free (engine);
}
