/* media-harness.c — the media engine alone, driven over stdin/stdout with
 * one JSON object per line, for the multi-party integration tests
 * (test_speaker.py, test_view.py; media_harness.py speaks this): real
 * WebRTC peers publish, subscribe and view in one room, and the test calls
 * the issue-6 operations (unpublish, source enable, Last-N, WHEP view)
 * without going through signaling.
 *
 * stdin:  {"op":"publish","participant":P,"sdp":S,"screen_mids":[..]?}
 *         {"op":"subscribe-offer","participant":P}
 *         {"op":"subscribe-answer","participant":P,"sdp":S}
 *         {"op":"view","participant":P,"sdp":S}
 *         {"op":"candidate","participant":P,"pc":"publish"|"subscribe","candidate":C|null}
 *         {"op":"unpublish","participant":P}
 *         {"op":"source","participant":P,"source":S|null,"enabled":B}
 *         {"op":"last-n","n":N}   {"op":"remove","participant":P}   {"op":"stats"}
 *         {"op":"record-start","recording":R,"directory":D,"key_dir":K}
 *         {"op":"record-stop"}
 * stdout: {"op":"ready"}
 *         {"op":"publish-answer"|"subscribe-offer"|"view-answer","participant":P,"sdp":S}
 *         {"op":"subscribe-answered","participant":P}
 *         {"op":"error","request":OP,"participant":P,"message":M}
 *         {"op":"track-added"|"track-removed","participant":P,"track":T,"kind":K,"source":S}
 *         {"op":"active-speaker","participant":P|null}
 *         {"op":"state","participant":P,"pc":PC,"state":S}
 *         {"op":"candidate","participant":P,"pc":PC,"candidate":C|null}
 *         {"op":"stats",...}
 *         {"op":"record-event","event":E,"detail":D}
 *         {"op":"record-done","files":[{participant,file,duration_ms,has_audio,has_video,
 *                                        size}],"error":M|null}
 * Participants are added on first use.  Exits when stdin closes. */
#include <stdio.h>
#include <string.h>
#include <gio/gio.h>
#include <jansson.h>

#include "media.h"
#include "vault.h"

#define ROOM "room"

static MediaEngine *engine;
static GHashTable *participants;
static GMainLoop *loop;

static void
emit (json_t *msg)
{
  char *text = json_dumps (msg, JSON_COMPACT);

  fputs (text, stdout);
  fputc ('\n', stdout);
  fflush (stdout);
  free (text);
  json_decref (msg);
}

typedef struct {
  char *request;
  char *participant;
} Pending;

static Pending *
pending_new (const char *request, const char *participant)
{
  Pending *p = g_new0 (Pending, 1);

  p->request = g_strdup (request);
  p->participant = g_strdup (participant);
  return p;
}

static void
pending_free (Pending *p)
{
  g_free (p->request);
  g_free (p->participant);
  g_free (p);
}

static void
emit_error (const char *request, const char *participant, const char *message)
{
  emit (json_pack ("{s:s, s:s?, s:s?, s:s}", "op", "error", "request", request, "participant",
                   participant, "message", message));
}

static void
on_sdp (const char *sdp, GPtrArray *tracks, const GError *error, gpointer user_data)
{
  Pending *p = user_data;
  const char *op = g_strcmp0 (p->request, "publish") == 0 ? "publish-answer"
                   : g_strcmp0 (p->request, "view") == 0 ? "view-answer"
                                                         : "subscribe-offer";

  if (error != NULL)
    emit_error (p->request, p->participant, error->message);
  else
    emit (json_pack ("{s:s, s:s, s:s}", "op", op, "participant", p->participant, "sdp", sdp));
  pending_free (p);
}

static void
on_done (const GError *error, gpointer user_data)
{
  Pending *p = user_data;

  if (error != NULL)
    emit_error (p->request, p->participant, error->message);
  else if (g_strcmp0 (p->request, "subscribe-answer") == 0)
    emit (json_pack ("{s:s, s:s}", "op", "subscribe-answered", "participant", p->participant));
  pending_free (p);
}

static void
on_track (const char *op, const MediaTrackInfo *t)
{
  emit (json_pack ("{s:s, s:s, s:s, s:s, s:s, s:s}", "op", op, "participant", t->participant_id,
                   "track", t->track_id, "kind", t->kind, "codec", t->codec, "source",
                   t->source));
}

static void
on_track_added (const char *room_id, const MediaTrackInfo *track, gpointer user_data)
{
  on_track ("track-added", track);
}

static void
on_track_removed (const char *room_id, const MediaTrackInfo *track, gpointer user_data)
{
  on_track ("track-removed", track);
}

static void
on_active_speaker (const char *room_id, const char *participant_id, gpointer user_data)
{
  emit (json_pack ("{s:s, s:s?}", "op", "active-speaker", "participant", participant_id));
}

static void
on_candidate (const char *participant_id, MediaPcKind pc, const char *candidate,
              const char *mid, guint mline_index, gpointer user_data)
{
  emit (json_pack ("{s:s, s:s, s:s, s:s?}", "op", "candidate", "participant", participant_id,
                   "pc", media_pc_kind_to_string (pc), "candidate", candidate));
}

static void
on_state (const char *participant_id, MediaPcKind pc, MediaState state, gpointer user_data)
{
  emit (json_pack ("{s:s, s:s, s:s, s:s}", "op", "state", "participant", participant_id, "pc",
                   media_pc_kind_to_string (pc), "state", media_state_to_string (state)));
}

static const char *record_events[] = { "started", "disk-low", "failed" };

static void
on_record_event (const char *room_id, const char *recording_id, MediaRecordingEvent event,
                 const char *detail, gpointer user_data)
{
  emit (json_pack ("{s:s, s:s, s:s?}", "op", "record-event", "event", record_events[event],
                   "detail", detail));
}

static void
on_record_done (const char *room_id, const char *recording_id, GPtrArray *files,
                const GError *error, gpointer user_data)
{
  json_t *list = json_array ();

  for (guint i = 0; i < files->len; i++) {
    MediaRecordingFile *f = g_ptr_array_index (files, i);

    json_array_append_new (list, json_pack ("{s:s, s:s, s:I, s:b, s:b, s:I}",
                                            "participant", f->participant_id,
                                            "file", f->file_name,
                                            "duration_ms", (json_int_t) f->duration_ms,
                                            "has_audio", f->has_audio,
                                            "has_video", f->has_video,
                                            "size", (json_int_t) f->size));
  }
  emit (json_pack ("{s:s, s:o, s:s?}", "op", "record-done", "files", list, "error",
                   error != NULL ? error->message : NULL));
}

static void
record_start (json_t *msg)
{
  static guint8 key[32];
  g_autoptr (GError) error = NULL;
  g_autofree char *key_id = NULL;
  MediaRecordingOptions options = { 0 };
  const char *key_dir = json_string_value (json_object_get (msg, "key_dir"));

  if (key_dir == NULL || !cau_vault_key_load (key_dir, key, &key_id, &error)) {
    emit_error ("record-start", NULL, error != NULL ? error->message : "key_dir missing");
    return;
  }
  options.directory = json_string_value (json_object_get (msg, "directory"));
  options.server_key = key;
  options.key_id = key_id;
  media_engine_start_recording (engine, ROOM, json_string_value (json_object_get (msg, "recording")),
                                &options, on_record_event, on_record_done, NULL);
}

static void
ensure_participant (const char *participant)
{
  static const MediaParticipantCallbacks callbacks = {
    .local_candidate = on_candidate,
    .state_changed = on_state,
  };

  if (g_hash_table_contains (participants, participant))
    return;
  g_hash_table_add (participants, g_strdup (participant));
  media_engine_add_participant (engine, ROOM, participant, &callbacks, NULL, NULL);
}

static void
handle (json_t *msg)
{
  const char *op = json_string_value (json_object_get (msg, "op"));
  const char *participant = json_string_value (json_object_get (msg, "participant"));
  const char *sdp = json_string_value (json_object_get (msg, "sdp"));

  if (op == NULL) {
    emit_error (NULL, NULL, "no op");
    return;
  }
  if (g_strcmp0 (op, "stats") == 0) {
    MediaStats s;

    media_engine_get_stats (engine, &s);
    emit (json_pack ("{s:s, s:I, s:I, s:I, s:I, s:I, s:I}", "op", "stats",
                     "rtp_packets_in", (json_int_t) s.rtp_packets_in,
                     "rtp_packets_out", (json_int_t) s.rtp_packets_out,
                     "plis_sent", (json_int_t) s.plis_sent,
                     "dropped_unknown", (json_int_t) s.dropped_unknown,
                     "dropped_malformed", (json_int_t) s.dropped_malformed,
                     "speaker_changes", (json_int_t) s.speaker_changes));
    return;
  }
  if (g_strcmp0 (op, "record-start") == 0) {
    record_start (msg);
    return;
  }
  if (g_strcmp0 (op, "record-stop") == 0) {
    media_engine_stop_recording (engine, ROOM);
    return;
  }
  if (g_strcmp0 (op, "last-n") == 0) {
    media_engine_set_last_n (engine, ROOM,
                             (guint) json_integer_value (json_object_get (msg, "n")));
    return;
  }
  if (participant == NULL) {
    emit_error (op, NULL, "no participant");
    return;
  }
  ensure_participant (participant);
  if (g_strcmp0 (op, "publish") == 0) {
    json_t *mids = json_object_get (msg, "screen_mids");
    g_autoptr (GPtrArray) screen = g_ptr_array_new ();
    MediaPublishOptions options = { NULL };
    size_t i;
    json_t *v;

    json_array_foreach (mids, i, v)
      if (json_is_string (v))
        g_ptr_array_add (screen, (gpointer) json_string_value (v));
    g_ptr_array_add (screen, NULL);
    options.screen_mids = (const char *const *) screen->pdata;
    media_engine_publish_with_options (engine, ROOM, participant, sdp ? sdp : "", &options,
                                       on_sdp, pending_new (op, participant));
  } else if (g_strcmp0 (op, "subscribe-offer") == 0) {
    media_engine_subscribe_offer (engine, ROOM, participant, on_sdp,
                                  pending_new (op, participant));
  } else if (g_strcmp0 (op, "subscribe-answer") == 0) {
    media_engine_subscribe_answer (engine, ROOM, participant, sdp ? sdp : "", on_done,
                                   pending_new (op, participant));
  } else if (g_strcmp0 (op, "view") == 0) {
    media_engine_view (engine, ROOM, participant, sdp ? sdp : "", on_sdp,
                       pending_new (op, participant));
  } else if (g_strcmp0 (op, "candidate") == 0) {
    const char *pc = json_string_value (json_object_get (msg, "pc"));

    media_engine_add_remote_candidate (engine, ROOM, participant,
                                       g_strcmp0 (pc, "subscribe") == 0 ? MEDIA_PC_SUBSCRIBE
                                                                        : MEDIA_PC_PUBLISH,
                                       json_string_value (json_object_get (msg, "candidate")),
                                       NULL, NULL);
  } else if (g_strcmp0 (op, "unpublish") == 0) {
    media_engine_unpublish (engine, ROOM, participant);
  } else if (g_strcmp0 (op, "source") == 0) {
    media_engine_set_source_enabled (engine, ROOM, participant,
                                     json_string_value (json_object_get (msg, "source")),
                                     json_is_true (json_object_get (msg, "enabled")));
  } else if (g_strcmp0 (op, "remove") == 0) {
    media_engine_remove_participant (engine, ROOM, participant);
    g_hash_table_remove (participants, participant);
  } else {
    emit_error (op, participant, "unknown op");
  }
}

static gboolean
on_stdin (GIOChannel *channel, GIOCondition condition, gpointer user_data)
{
  g_autofree char *line = NULL;
  gsize len = 0;
  GIOStatus status = g_io_channel_read_line (channel, &line, &len, NULL, NULL);
  json_error_t jerr;
  json_t *msg;

  if (status == G_IO_STATUS_EOF || status == G_IO_STATUS_ERROR) {
    g_main_loop_quit (loop);
    return G_SOURCE_REMOVE;
  }
  if (status != G_IO_STATUS_NORMAL || line == NULL)
    return G_SOURCE_CONTINUE;
  msg = json_loads (line, 0, &jerr);
  if (msg == NULL) {
    emit_error (NULL, NULL, "bad JSON");
    return G_SOURCE_CONTINUE;
  }
  handle (msg);
  json_decref (msg);
  return G_SOURCE_CONTINUE;
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  gchar *addresses[] = { (gchar *) "127.0.0.1", NULL };
  MediaConfig config = {
    .workers = 1,
    .ice_addresses = addresses,
    .max_participants = 16,
    .max_bitrate_kbps = 1500,
  };
  MediaRoomCallbacks room_callbacks = {
    .track_added = on_track_added,
    .track_removed = on_track_removed,
    .active_speaker = on_active_speaker,
  };
  GIOChannel *channel;

  engine = media_engine_new (&config, &error);
  if (engine == NULL) {
    fprintf (stderr, "media engine: %s\n", error->message);
    return 1;
  }
  participants = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  media_engine_open_room (engine, ROOM, &room_callbacks, NULL);
  loop = g_main_loop_new (NULL, FALSE);
  channel = g_io_channel_unix_new (0);
  g_io_add_watch (channel, G_IO_IN | G_IO_HUP | G_IO_ERR, on_stdin, NULL);
  emit (json_pack ("{s:s}", "op", "ready"));
  g_main_loop_run (loop);
  g_io_channel_unref (channel);
  media_engine_free (engine);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_hash_table_unref (participants);
  g_main_loop_unref (loop);
  return 0;
}
