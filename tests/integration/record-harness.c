/* record-harness.c — the media engine alone, driven over stdin/stdout with
 * one JSON object per line, for the recording integration tests
 * (test_recording*.py): real WebRTC peers publish into one room and the
 * test starts and stops recording without going through signaling's
 * consent rules (tests/integration/record_common.py speaks this).
 *
 * stdin:  {"op":"publish","participant":P,"sdp":S}
 *         {"op":"candidate","participant":P,"candidate":C|null}
 *         {"op":"start","recording":R,"directory":D,"key_dir":K,"min_free":N}
 *         {"op":"stop"}   {"op":"stats"}   {"op":"remove","participant":P}
 * stdout: {"op":"ready"}  {"op":"publish-answer","participant":P,"sdp":S}
 *         {"op":"error","message":M}  {"op":"event","event":E,"detail":D}
 *         {"op":"done","files":[...],"error":M|null}  {"op":"stats",...}
 * Exits when stdin closes. */
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
static guint8 key[32];

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

static void
emit_error (const char *message)
{
  emit (json_pack ("{s:s, s:s}", "op", "error", "message", message));
}

static void
on_publish (const char *sdp, GPtrArray *tracks, const GError *error, gpointer user_data)
{
  char *participant = user_data;

  if (error != NULL)
    emit_error (error->message);
  else
    emit (json_pack ("{s:s, s:s, s:s}", "op", "publish-answer", "participant", participant,
                     "sdp", sdp));
  g_free (participant);
}

static const char *event_names[] = { "started", "disk-low", "failed" };

static void
on_event (const char *room_id, const char *recording_id, MediaRecordingEvent event,
          const char *detail, gpointer user_data)
{
  emit (json_pack ("{s:s, s:s, s:s?}", "op", "event", "event", event_names[event], "detail",
                   detail));
}

static void
on_done (const char *room_id, const char *recording_id, GPtrArray *files, const GError *error,
         gpointer user_data)
{
  json_t *list = json_array ();

  for (guint i = 0; i < files->len; i++) {
    MediaRecordingFile *f = g_ptr_array_index (files, i);

    json_array_append_new (list, json_pack ("{s:s, s:s, s:I, s:s, s:I, s:b, s:b, s:I}",
                                            "participant", f->participant_id,
                                            "file", f->file_name,
                                            "duration_ms", (json_int_t) f->duration_ms,
                                            "sha256", f->sha256 ? f->sha256 : "",
                                            "size", (json_int_t) f->size,
                                            "has_audio", f->has_audio,
                                            "has_video", f->has_video,
                                            "dropped", (json_int_t) f->dropped_packets));
  }
  emit (json_pack ("{s:s, s:o, s:s?}", "op", "done", "files", list, "error",
                   error != NULL ? error->message : NULL));
}

static void
handle (json_t *msg)
{
  const char *op = json_string_value (json_object_get (msg, "op"));
  const char *participant = json_string_value (json_object_get (msg, "participant"));

  if (g_strcmp0 (op, "publish") == 0 && participant != NULL) {
    const char *sdp = json_string_value (json_object_get (msg, "sdp"));

    if (!g_hash_table_contains (participants, participant)) {
      g_hash_table_add (participants, g_strdup (participant));
      media_engine_add_participant (engine, ROOM, participant, NULL, NULL, NULL);
    }
    media_engine_publish (engine, ROOM, participant, sdp != NULL ? sdp : "", on_publish,
                          g_strdup (participant));
  } else if (g_strcmp0 (op, "candidate") == 0 && participant != NULL) {
    media_engine_add_remote_candidate (engine, ROOM, participant, MEDIA_PC_PUBLISH,
                                       json_string_value (json_object_get (msg, "candidate")),
                                       NULL, NULL);
  } else if (g_strcmp0 (op, "remove") == 0 && participant != NULL) {
    media_engine_remove_participant (engine, ROOM, participant);
    g_hash_table_remove (participants, participant);
  } else if (g_strcmp0 (op, "start") == 0) {
    g_autoptr (GError) error = NULL;
    g_autofree char *key_id = NULL;
    MediaRecordingOptions options = { 0 };
    const char *key_dir = json_string_value (json_object_get (msg, "key_dir"));

    if (key_dir == NULL || !cau_vault_key_load (key_dir, key, &key_id, &error)) {
      emit_error (error != NULL ? error->message : "key_dir missing");
      return;
    }
    options.directory = json_string_value (json_object_get (msg, "directory"));
    options.server_key = key;
    options.key_id = key_id;
    options.min_free_bytes = (guint64) json_integer_value (json_object_get (msg, "min_free"));
    media_engine_start_recording (engine, ROOM,
                                  json_string_value (json_object_get (msg, "recording")),
                                  &options, on_event, on_done, NULL);
  } else if (g_strcmp0 (op, "stop") == 0) {
    media_engine_stop_recording (engine, ROOM);
  } else if (g_strcmp0 (op, "stats") == 0) {
    MediaStats s;

    media_engine_get_stats (engine, &s);
    emit (json_pack ("{s:s, s:I, s:I, s:I, s:I, s:I}", "op", "stats",
                     "rtp_packets_in", (json_int_t) s.rtp_packets_in,
                     "rtp_packets_out", (json_int_t) s.rtp_packets_out,
                     "dropped_unknown", (json_int_t) s.dropped_unknown,
                     "dropped_srtp", (json_int_t) s.dropped_srtp,
                     "dropped_malformed", (json_int_t) s.dropped_malformed));
  } else {
    emit_error ("unknown op");
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
    emit_error ("bad JSON");
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
  };
  GIOChannel *channel;

  engine = media_engine_new (&config, &error);
  if (engine == NULL) {
    fprintf (stderr, "media engine: %s\n", error->message);
    return 1;
  }
  participants = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  media_engine_open_room (engine, ROOM, NULL, NULL);
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
