/* recording.c — recording consultation rooms (docs/protocol.md
 * "Recording"): the `record` and `consent` messages, the media engine's
 * recorder, the rows of the files it writes, and the composition after the
 * call.
 *
 * One recording per room at a time.  While it runs it is in
 * context->recordings (by room); once stopped it waits in
 * context->recordings_closing (by recording id) until the media engine
 * reports the files it closed, then the composition starts and the
 * recording is forgotten (the composition's callbacks find their row by
 * the recording id).
 *
 * Rows: the composed file's row is made at start (status "recording"), so
 * that a crash leaves a trace even when nobody published; each publisher
 * gets its row when recording starts or when its first track arrives.  The
 * media engine's report then completes them; a row whose file never
 * appeared is deleted.
 *
 * Media callbacks carry the context: it is looked up in a set of live
 * contexts first, so a callback that arrives after the server was freed
 * (a test's next server, say) does nothing.
 */
#include "recording.h"

#include <string.h>

#include "records.h"
#include "session.h"

struct SignalingRecording {
  SignalingContext *context;
  char *room_id;               /* = the consultation id */
  char *id;                    /* the recording (session) id of the protocol */
  char *patient_id;
  char *started_at;
  char *composed_row_id;
  GHashTable *rows;            /* participant id → row id */
  GHashTable *names;           /* participant id → display name */
  gboolean media_stopped;      /* the engine stopped it itself */
};

static GHashTable *live_contexts;

/* A composition waiting in context->compose_queue. */
typedef struct {
  char *session_id;
  GStrv names;
} ComposeJob;

static void
compose_job_free (gpointer data)
{
  ComposeJob *job = data;

  g_free (job->session_id);
  g_strfreev (job->names);
  g_free (job);
}

/* UTC ISO-8601 with milliseconds, as records keeps times (transfer full). */
static char *
now_text (void)
{
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();

  return g_date_time_format (now, "%Y-%m-%dT%H:%M:%S.%fZ");
}

void
signaling_recording_context_init (SignalingContext *context)
{
  if (live_contexts == NULL)
    live_contexts = g_hash_table_new (NULL, NULL);
  g_hash_table_add (live_contexts, context);
  context->recordings = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                               (GDestroyNotify) signaling_recording_free);
  context->recordings_closing = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                                       (GDestroyNotify) signaling_recording_free);
  context->compose_queue = g_queue_new ();
}

void
signaling_recording_context_clear (SignalingContext *context)
{
  if (live_contexts)
    g_hash_table_remove (live_contexts, context);
  g_clear_pointer (&context->recordings, g_hash_table_destroy);
  g_clear_pointer (&context->recordings_closing, g_hash_table_destroy);
  if (context->compose_queue)
    g_queue_free_full (g_steal_pointer (&context->compose_queue), compose_job_free);
}

static gboolean
context_alive (SignalingContext *context)
{
  return live_contexts && g_hash_table_contains (live_contexts, context);
}

void
signaling_recording_free (SignalingRecording *recording)
{
  if (recording == NULL)
    return;
  g_free (recording->room_id);
  g_free (recording->id);
  g_free (recording->patient_id);
  g_free (recording->started_at);
  g_free (recording->composed_row_id);
  g_hash_table_destroy (recording->rows);
  g_hash_table_destroy (recording->names);
  g_free (recording);
}

json_t *
signaling_recording_describe (SignalingContext *context, const char *room_id)
{
  SignalingRecording *recording = context->recordings
                                      ? g_hash_table_lookup (context->recordings, room_id)
                                      : NULL;

  if (recording == NULL)
    return json_null ();
  return json_pack ("{s:s, s:s}", "id", recording->id, "started_at", recording->started_at);
}

static void
recording_log (GLogLevelFlags level, const SignalingRecording *recording, const char *format,
               ...) G_GNUC_PRINTF (3, 4);

static void
recording_log (GLogLevelFlags level, const SignalingRecording *recording, const char *format,
               ...)
{
  g_autofree char *text = NULL;
  va_list args;

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);
  g_log_structured (G_LOG_DOMAIN, level, "CAU_ROOM", recording->room_id, "CAU_RECORDING",
                    recording->id, "MESSAGE", "[room=%s recording=%s] %s", recording->room_id,
                    recording->id, text);
}

/* One audit event about the recording, as @session (NULL: the system). */
static void
audit_recording (SignalingContext *context, SignalingSession *session,
                 const SignalingRecording *recording, const char *outcome, const char *detail)
{
  if (context->api == NULL)
    return;
  if (session)
    signaling_audit_session (session, "record", outcome, detail);
  else
    signaling_api_audit_system (context->api, "record", "Encounter", recording->room_id,
                                recording->patient_id, outcome, detail);
}

static void
reply_ok (SignalingSession *session, json_t *ref)
{
  json_t *reply = json_pack ("{s:s}", "type", "ok");

  if (ref)
    json_object_set (reply, "ref", ref);
  signaling_session_send (session, reply);
}

/* Adds the row of @participant_id's file, once. */
static void
add_participant_row (SignalingRecording *recording, const char *participant_id, const char *name)
{
  SignalingContext *context = recording->context;
  g_autoptr (GError) error = NULL;
  RecordsRecording row = { 0 };
  g_autofree char *file_name = NULL;

  if (g_hash_table_contains (recording->rows, participant_id))
    return;
  file_name = signaling_recording_participant_file (recording->id, participant_id);
  row.consultation_id = recording->room_id;
  row.session_id = recording->id;
  row.kind = (char *) "participant";
  row.participant_id = (char *) participant_id;
  row.participant_name = (char *) name;
  row.file_name = file_name;
  row.status = (char *) "recording";
  row.compose_progress = -1;
  row.key_id = context->recording_key_id;
  if (!records_recording_create (context->store, &row, &error)) {
    recording_log (G_LOG_LEVEL_WARNING, recording, "cannot file participant %s: %s",
                   participant_id, error->message);
    return;
  }
  g_hash_table_insert (recording->rows, g_strdup (participant_id), g_strdup (row.id));
  if (name)
    g_hash_table_insert (recording->names, g_strdup (participant_id), g_strdup (name));
  g_free (row.id);
  g_free (row.patient_id);
  g_free (row.started_at);
  g_free (row.ended_at);
}

void
signaling_recording_track_added (SignalingContext *context, SignalingSession *publisher)
{
  SignalingRecording *recording;

  if (context->recordings == NULL || publisher->room == NULL)
    return;
  recording = g_hash_table_lookup (context->recordings, publisher->room->id);
  if (recording)
    add_participant_row (recording, publisher->participant_id, publisher->name);
}

static void
broadcast_stopped (SignalingContext *context, SignalingRecording *recording, const char *reason)
{
  SignalingRoom *room = signaling_room_find (context, recording->room_id);

  signaling_room_broadcast (room, NULL,
                            json_pack ("{s:s, s:s, s:s}", "type", "recording-stopped",
                                       "recording", recording->id, "reason", reason));
}

/* Ends the running recording of @room_id: everyone is told why, the media
 * engine finalises the files (unless it stopped by itself), and the
 * recording waits for its files in recordings_closing. */
static void
stop_recording (SignalingContext *context, const char *room_id, const char *reason,
                SignalingSession *by)
{
  SignalingRecording *recording = NULL;
  g_autofree char *detail = NULL;
  char *key = NULL;

  if (!g_hash_table_steal_extended (context->recordings, room_id, (gpointer *) &key,
                                    (gpointer *) &recording))
    return;
  g_hash_table_insert (context->recordings_closing, recording->id, recording);
  recording_log (G_LOG_LEVEL_INFO, recording, "stopped (%s)", reason);
  broadcast_stopped (context, recording, reason);
  detail = g_strdup_printf ("stop %s: %s", recording->id, reason);
  audit_recording (context, by, recording, "success", detail);
  if (!recording->media_stopped && context->engine)
    media_engine_stop_recording (context->engine, recording->room_id);
}

/* ---- the media engine's side ------------------------------------------ */

static void
update_composed (SignalingContext *context, const char *recording_id,
                 void (*change) (RecordsRecording *row, gconstpointer data), gconstpointer data)
{
  g_autoptr (GPtrArray) rows = NULL;
  g_autoptr (GError) error = NULL;

  rows = records_recording_list_for_session (context->store, recording_id, &error);
  for (guint i = 0; rows && i < rows->len; i++) {
    RecordsRecording *row = rows->pdata[i];

    if (strcmp (row->kind, "composed") != 0)
      continue;
    change (row, data);
    if (!records_recording_update (context->store, row, &error))
      g_warning ("recording %s: cannot update the composed file's row: %s", recording_id,
                 error->message);
    return;
  }
  if (error)
    g_warning ("recording %s: %s", recording_id, error->message);
}

static void
set_progress (RecordsRecording *row, gconstpointer data)
{
  row->compose_progress = GPOINTER_TO_INT (data);
}

static void
on_compose_progress (const char *recording_id, int percent, gpointer user_data)
{
  SignalingContext *context = user_data;

  if (!context_alive (context) || context->store == NULL)
    return;
  update_composed (context, recording_id, set_progress, GINT_TO_POINTER (CLAMP (percent, 0, 100)));
}

typedef struct {
  const MediaRecordingFile *file;
  const GError *error;
  const char *key_id;
} ComposeResult;

/* A composed row whose composition the server's stop left undone (not
 * failed): the next start composes it (signaling_recording_resume_compositions). */
static void
mark_undone (RecordsRecording *row)
{
  g_free (row->status);
  row->status = g_strdup ("interrupted");
  row->compose_progress = -1;
  g_free (row->ended_at);
  row->ended_at = now_text ();
}

static void
set_composed (RecordsRecording *row, gconstpointer data)
{
  const ComposeResult *result = data;

  if (g_error_matches (result->error, MEDIA_ERROR, MEDIA_ERROR_CANCELLED)) {
    mark_undone (row);
    return;
  }
  row->compose_progress = -1;
  g_free (row->ended_at);
  row->ended_at = now_text ();
  if (result->error || result->file == NULL) {
    g_free (row->status);
    row->status = g_strdup ("failed");
    return;
  }
  g_free (row->status);
  row->status = g_strdup ("complete");
  if (result->file->file_name) {
    g_free (row->file_name);
    row->file_name = g_strdup (result->file->file_name);
  }
  g_free (row->sha256);
  row->sha256 = g_strdup (result->file->sha256);
  row->size = (gint64) result->file->size;
  row->duration_ms = result->file->duration_ms;
}

/* Compositions run one at a time: each decodes every participant's video
 * and encodes the grid (minutes of a core per hour of call), the relay
 * needs the rest of the machine, and a server stopped at the end of a
 * clinic day leaves several to its next start. */
#define MAX_COMPOSITIONS 1

static void on_composed (const char *recording_id, MediaRecordingFile *composed,
                         const GError *error, gpointer user_data);

/* Starts queued compositions while fewer than MAX_COMPOSITIONS run; none
 * once the server is stopping (their rows say "recording": the next start
 * composes them). */
static void
compose_next (SignalingContext *context)
{
  while (!context->shutting_down && context->composing < MAX_COMPOSITIONS
         && !g_queue_is_empty (context->compose_queue)) {
    ComposeJob *job = g_queue_pop_head (context->compose_queue);

    context->composing++;
    media_compose_recording (job->session_id, context->recording_directory,
                             (const char *const *) job->names, context->recording_key,
                             context->recording_key_id, on_compose_progress, on_composed,
                             context);
    compose_job_free (job);
  }
}

/* Composes @names (NULL-terminated participant file names) into recording
 * @session_id's composed file, now or after the compositions before it. */
static void
compose_enqueue (SignalingContext *context, const char *session_id, const char *const *names)
{
  ComposeJob *job = g_new0 (ComposeJob, 1);

  job->session_id = g_strdup (session_id);
  job->names = g_strdupv ((char **) names);
  g_queue_push_tail (context->compose_queue, job);
  if (context->composing >= MAX_COMPOSITIONS)
    g_message ("recording %s: composition queued behind %u running and %u waiting",
               session_id, context->composing, g_queue_get_length (context->compose_queue) - 1);
  compose_next (context);
}

static void
on_composed (const char *recording_id, MediaRecordingFile *composed, const GError *error,
             gpointer user_data)
{
  SignalingContext *context = user_data;
  ComposeResult result = { composed, error, NULL };

  if (!context_alive (context))
    return;
  if (context->composing > 0)
    context->composing--;
  if (g_error_matches (error, MEDIA_ERROR, MEDIA_ERROR_CANCELLED))
    g_message ("recording %s: composition cancelled; the next start composes it again",
               recording_id);
  else if (error)
    g_warning ("recording %s: composition failed: %s", recording_id, error->message);
  else
    g_message ("recording %s: composed", recording_id);
  if (context->store != NULL)
    update_composed (context, recording_id, set_composed, &result);
  compose_next (context);
}

/* Completes the row of each file the engine closed; deletes rows whose
 * file never appeared; returns the file names to compose (transfer
 * container, strings borrowed from @files). */
static GPtrArray *
file_rows (SignalingRecording *recording, GPtrArray *files, const GError *error)
{
  SignalingContext *context = recording->context;
  GPtrArray *names = g_ptr_array_new ();
  g_autofree char *now = now_text ();
  GHashTableIter iter;
  gpointer key, value;

  for (guint i = 0; files && i < files->len; i++) {
    const MediaRecordingFile *file = files->pdata[i];
    g_autoptr (RecordsRecording) row = NULL;
    g_autoptr (GError) local = NULL;
    const char *row_id;

    add_participant_row (recording, file->participant_id,
                         g_hash_table_lookup (recording->names, file->participant_id));
    row_id = g_hash_table_lookup (recording->rows, file->participant_id);
    if (row_id == NULL || (row = records_recording_get (context->store, row_id, &local)) == NULL)
      continue;
    g_free (row->file_name);
    row->file_name = g_strdup (file->file_name);
    g_free (row->status);
    row->status = g_strdup (file->sha256 ? "complete" : "failed");
    g_free (row->sha256);
    row->sha256 = g_strdup (file->sha256);
    row->size = (gint64) file->size;
    row->duration_ms = MAX (file->duration_ms, 0);
    g_free (row->ended_at);
    row->ended_at = g_strdup (now);
    if (!records_recording_update (context->store, row, &local))
      recording_log (G_LOG_LEVEL_WARNING, recording, "cannot file %s: %s", file->file_name,
                     local->message);
    else if (file->sha256 && (file->has_audio || file->has_video))
      /* A participant who left before any media reached the file (a
       * header-only Matroska) has nothing to compose: demuxing it would
       * fail the whole composition. */
      g_ptr_array_add (names, file->file_name);
    if (file->dropped_packets > 0)
      recording_log (G_LOG_LEVEL_WARNING, recording,
                     "participant %s: %" G_GUINT64_FORMAT " packets dropped (recorder queue full)",
                     file->participant_id, file->dropped_packets);
    g_hash_table_remove (recording->rows, file->participant_id);
  }
  /* Rows left: participants whose file never opened. */
  g_hash_table_iter_init (&iter, recording->rows);
  while (g_hash_table_iter_next (&iter, &key, &value)) {
    g_autoptr (GError) local = NULL;

    if (!records_recording_delete (context->store, value, &local))
      recording_log (G_LOG_LEVEL_WARNING, recording, "cannot drop an empty row: %s",
                     local->message);
  }
  g_hash_table_remove_all (recording->rows);
  if (error)
    recording_log (G_LOG_LEVEL_WARNING, recording, "the recorder reported: %s", error->message);
  return names;
}

static void
on_recording_done (const char *room_id, const char *recording_id, GPtrArray *files,
                   const GError *error, gpointer user_data)
{
  SignalingContext *context = user_data;
  SignalingRecording *recording;
  g_autoptr (GPtrArray) names = NULL;
  g_autoptr (GError) local = NULL;

  if (!context_alive (context))
    return;
  recording = g_hash_table_lookup (context->recordings_closing, recording_id);
  if (recording == NULL) {
    /* Stopped by the engine without an event first: tell the room. */
    recording = g_hash_table_lookup (context->recordings, room_id);
    if (recording == NULL || strcmp (recording->id, recording_id) != 0)
      return;
    recording->media_stopped = TRUE;
    stop_recording (context, room_id, "failed", NULL);
  }
  g_hash_table_steal (context->recordings_closing, recording_id);

  names = file_rows (recording, files, error);
  recording_log (G_LOG_LEVEL_INFO, recording, "%u file(s) closed", names->len);
  if (names->len == 0) {
    /* Nobody published: nothing to compose, no composed row to keep. */
    if (!records_recording_delete (context->store, recording->composed_row_id, &local))
      recording_log (G_LOG_LEVEL_WARNING, recording, "cannot drop the composed row: %s",
                     local->message);
  } else {
    /* The composed row: composing from progress 0, or, at shutdown, left
     * undone for the next start (no composition then: minutes of a core
     * per hour of call). */
    g_autoptr (RecordsRecording) composed = records_recording_get (
        context->store, recording->composed_row_id, &local);

    if (composed) {
      if (context->shutting_down)
        mark_undone (composed);
      else
        composed->compose_progress = 0;
      if (!records_recording_update (context->store, composed, &local))
        recording_log (G_LOG_LEVEL_WARNING, recording, "%s", local->message);
    }
    if (context->shutting_down) {
      recording_log (G_LOG_LEVEL_MESSAGE, recording,
                     "%u file(s) closed; composition left to the next start (the server is "
                     "stopping)", names->len);
    } else {
      g_ptr_array_add (names, NULL);
      compose_enqueue (context, recording->id, (const char *const *) names->pdata);
    }
  }
  signaling_recording_free (recording);
}

static void
on_recording_event (const char *room_id, const char *recording_id, MediaRecordingEvent event,
                    const char *detail, gpointer user_data)
{
  SignalingContext *context = user_data;
  SignalingRecording *recording;

  if (!context_alive (context))
    return;
  recording = g_hash_table_lookup (context->recordings, room_id);
  if (recording == NULL || strcmp (recording->id, recording_id) != 0)
    return;
  switch (event) {
  case MEDIA_RECORDING_STARTED:
    recording_log (G_LOG_LEVEL_INFO, recording, "first file opened%s%s", detail ? ": " : "",
                   detail ? detail : "");
    break;
  case MEDIA_RECORDING_DISK_LOW:
    recording_log (G_LOG_LEVEL_WARNING, recording,
                   "stopped: less than %" G_GUINT64_FORMAT " MiB free in %s%s%s",
                   context->recording_min_free_bytes / (1024 * 1024),
                   context->recording_directory, detail ? " — " : "", detail ? detail : "");
    recording->media_stopped = TRUE;
    stop_recording (context, room_id, "disk-low", NULL);
    break;
  case MEDIA_RECORDING_FAILED:
    recording_log (G_LOG_LEVEL_WARNING, recording, "stopped: the recorder failed%s%s",
                   detail ? ": " : "", detail ? detail : "");
    recording->media_stopped = TRUE;
    stop_recording (context, room_id, "failed", NULL);
    break;
  }
}

/* ---- the messages ----------------------------------------------------- */

/* The consultation of @session's room when @session may record it; else
 * NULL after answering forbidden (audited). */
static RecordsConsultation *
consultation_for_record (SignalingSession *session, json_t *ref)
{
  SignalingContext *context = session->context;
  g_autoptr (RecordsConsultation) consultation = NULL;
  SignalingPolicyTarget target = { 0 };

  if (session->principal && context->store)
    consultation = records_consultation_get (context->store, session->room->id, NULL);
  target.consultation = consultation;
  if (consultation == NULL
      || !signaling_policy_allows (session->principal, SIGNALING_OP_RECORD, &target)) {
    if (session->principal)
      signaling_audit_session (session, "record", "denied",
                               signaling_operation_to_string (SIGNALING_OP_RECORD));
    signaling_session_send_error (session, SIGNALING_ERROR_FORBIDDEN, ref, NULL,
                                  consultation ? "only the care team records a consultation"
                                               : "only consultation rooms are recorded");
    return NULL;
  }
  return g_steal_pointer (&consultation);
}

/* Asks the patient(s) in @room for their consent. */
static void
request_consent (SignalingRoom *room, SignalingSession *by)
{
  for (guint i = 0; i < room->members->len; i++) {
    SignalingSession *member = g_ptr_array_index (room->members, i);

    if (member->principal && member->principal->role == RECORDS_ROLE_PATIENT)
      signaling_session_send (member, json_pack ("{s:s, s:s, s:s, s:s}", "type",
                                                 "consent-request", "purpose", "recording",
                                                 "by", by->participant_id, "by_name",
                                                 by->name ? by->name : ""));
  }
}

static void
start_recording (SignalingSession *session, json_t *ref)
{
  SignalingContext *context = session->context;
  g_autoptr (RecordsConsultation) consultation = NULL;
  g_autoptr (RecordsConsent) consent = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *detail = NULL;
  RecordsRecording composed = { 0 };
  SignalingRecording *recording;
  MediaRecordingOptions options = { 0 };
  guint64 free_bytes;

  if ((consultation = consultation_for_record (session, ref)) == NULL)
    return;
  if (context->recording_directory == NULL || context->engine == NULL) {
    signaling_session_send_error (session, SIGNALING_ERROR_BAD_STATE, ref, NULL,
                                  "recording is not available on this server");
    return;
  }
  if (context->shutting_down) {
    /* A message read while caud waits for the files of the recordings it
     * stopped (signaling_server_wait_recordings). */
    signaling_session_send_error (session, SIGNALING_ERROR_BAD_STATE, ref, NULL,
                                  "the server is stopping");
    return;
  }
  if (g_hash_table_contains (context->recordings, session->room->id)) {
    signaling_session_send_error (session, SIGNALING_ERROR_BAD_STATE, ref, NULL,
                                  "this consultation is already being recorded");
    return;
  }
  {
    GHashTableIter iter;
    gpointer value;

    g_hash_table_iter_init (&iter, context->recordings_closing);
    while (g_hash_table_iter_next (&iter, NULL, &value))
      if (strcmp (((SignalingRecording *) value)->room_id, session->room->id) == 0) {
        signaling_session_send_error (session, SIGNALING_ERROR_BAD_STATE, ref, NULL,
                                      "the last recording is still being closed; try again");
        return;
      }
  }

  /* Consent first: the patient's latest decision for this consultation. */
  consent = records_consent_current (context->store, consultation->patient_id, consultation->id,
                                     "recording", &error);
  if (consent == NULL && !g_error_matches (error, RECORDS_ERROR, RECORDS_ERROR_NOT_FOUND)) {
    signaling_log (G_LOG_LEVEL_WARNING, session, "consent lookup failed: %s", error->message);
    signaling_session_send_error (session, SIGNALING_ERROR_INTERNAL, ref, NULL,
                                  "internal error");
    return;
  }
  if (consent == NULL || !consent->granted) {
    signaling_audit_session (session, "record", "denied", "consent-required");
    signaling_session_send_error (session, SIGNALING_ERROR_CONSENT_REQUIRED, ref, NULL,
                                  "the patient has not consented to recording; they have "
                                  "been asked");
    request_consent (session->room, session);
    return;
  }

  free_bytes = signaling_recording_free_bytes (context->recording_directory);
  if (context->recording_min_free_bytes > 0 && free_bytes < context->recording_min_free_bytes) {
    g_warning ("[room=%s] recording refused: %" G_GUINT64_FORMAT " MiB free in %s, %"
               G_GUINT64_FORMAT " MiB needed (recording-min-free-mb)", session->room->id,
               free_bytes / (1024 * 1024), context->recording_directory,
               context->recording_min_free_bytes / (1024 * 1024));
    signaling_audit_session (session, "record", "failure", "disk-low");
    signaling_session_send_error (session, SIGNALING_ERROR_DISK_LOW, ref, NULL,
                                  "not enough free disk space to record");
    return;
  }

  recording = g_new0 (SignalingRecording, 1);
  recording->context = context;
  recording->room_id = g_strdup (session->room->id);
  recording->id = g_uuid_string_random ();
  recording->patient_id = g_strdup (consultation->patient_id);
  recording->rows = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  recording->names = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);

  composed.consultation_id = recording->room_id;
  composed.session_id = recording->id;
  composed.kind = (char *) "composed";
  composed.file_name = signaling_recording_composed_file (recording->id);
  composed.status = (char *) "recording";
  composed.compose_progress = -1;
  composed.key_id = context->recording_key_id;
  if (!records_recording_create (context->store, &composed, &error)) {
    g_free (composed.file_name);
    signaling_recording_free (recording);
    signaling_log (G_LOG_LEVEL_WARNING, session, "cannot file the recording: %s",
                   error->message);
    signaling_session_send_error (session, SIGNALING_ERROR_INTERNAL, ref, NULL,
                                  "internal error");
    return;
  }
  recording->composed_row_id = g_steal_pointer (&composed.id);
  recording->started_at = g_steal_pointer (&composed.started_at);
  g_free (composed.file_name);
  g_free (composed.patient_id);
  g_free (composed.ended_at);
  g_hash_table_insert (context->recordings, recording->room_id, recording);

  for (guint i = 0; i < session->room->members->len; i++) {
    SignalingSession *member = g_ptr_array_index (session->room->members, i);

    if (member->tracks->len > 0)
      add_participant_row (recording, member->participant_id, member->name);
  }

  options.directory = context->recording_directory;
  options.server_key = context->recording_key;
  options.key_id = context->recording_key_id;
  options.min_free_bytes = context->recording_min_free_bytes;
  media_engine_start_recording (context->engine, recording->room_id, recording->id, &options,
                                on_recording_event, on_recording_done, context);

  recording_log (G_LOG_LEVEL_INFO, recording, "started by %s", session->participant_id);
  detail = g_strdup_printf ("start %s", recording->id);
  audit_recording (context, session, recording, "success", detail);
  reply_ok (session, ref);
  signaling_room_broadcast (session->room, NULL,
                            json_pack ("{s:s, s:s, s:s, s:s, s:s}", "type", "recording-started",
                                       "recording", recording->id, "by",
                                       session->participant_id, "by_name",
                                       session->name ? session->name : "", "started_at",
                                       recording->started_at));
}

void
signaling_recording_handle_record (SignalingSession *session, const char *action, json_t *ref)
{
  SignalingContext *context = session->context;
  g_autoptr (RecordsConsultation) consultation = NULL;

  if (strcmp (action, "start") == 0) {
    start_recording (session, ref);
    return;
  }
  if ((consultation = consultation_for_record (session, ref)) == NULL)
    return;
  if (!g_hash_table_contains (context->recordings, session->room->id)) {
    signaling_session_send_error (session, SIGNALING_ERROR_BAD_STATE, ref, NULL,
                                  "this consultation is not being recorded");
    return;
  }
  reply_ok (session, ref);
  stop_recording (context, session->room->id, "stopped", session);
}

void
signaling_recording_handle_consent (SignalingSession *session, gboolean granted, json_t *ref)
{
  SignalingContext *context = session->context;
  g_autoptr (GError) error = NULL;
  g_autoptr (RecordsConsultation) consultation = NULL;
  RecordsConsent consent = { 0 };

  if (session->principal == NULL || session->principal->role != RECORDS_ROLE_PATIENT
      || context->store == NULL
      || (consultation = records_consultation_get (context->store, session->room->id,
                                                   NULL)) == NULL
      || !signaling_policy_in_consultation (session->principal, consultation)) {
    signaling_session_send_error (session, SIGNALING_ERROR_FORBIDDEN, ref, NULL,
                                  "only the consultation's patient gives or withdraws consent");
    return;
  }
  consent.patient_id = consultation->patient_id;
  consent.consultation_id = consultation->id;
  consent.purpose = (char *) "recording";
  consent.granted = granted;
  consent.recorded_by = (char *) "patient";
  consent.method = (char *) "electronic";
  if (!records_consent_create (context->store, &consent, &error)) {
    signaling_log (G_LOG_LEVEL_WARNING, session, "cannot store consent: %s", error->message);
    signaling_session_send_error (session, SIGNALING_ERROR_INTERNAL, ref, NULL,
                                  "internal error");
    return;
  }
  if (context->api)
    signaling_api_audit (context->api, session->principal, session->remote_address, "create",
                         "Consent", consent.id, consultation->patient_id, "success",
                         granted ? "recording granted in the call"
                                 : "recording withdrawn in the call");
  signaling_log (G_LOG_LEVEL_INFO, session, "recording consent %s",
                 granted ? "granted" : "withdrawn");
  g_free (consent.id);
  g_free (consent.at);
  reply_ok (session, ref);
  signaling_room_broadcast (session->room, NULL,
                            json_pack ("{s:s, s:s, s:b}", "type", "consent-updated", "purpose",
                                       "recording", "granted", granted));
  if (!granted && g_hash_table_contains (context->recordings, session->room->id))
    stop_recording (context, session->room->id, "consent-withdrawn", session);
}

void
signaling_recording_consent_changed (const RecordsConsent *consent, gpointer user_data)
{
  SignalingContext *context = user_data;
  g_autoptr (GPtrArray) rooms = NULL;
  GHashTableIter iter;
  gpointer value;

  if (!context_alive (context) || consent->granted
      || g_strcmp0 (consent->purpose, "recording") != 0)
    return;
  rooms = g_ptr_array_new_with_free_func (g_free);
  g_hash_table_iter_init (&iter, context->recordings);
  while (g_hash_table_iter_next (&iter, NULL, &value)) {
    SignalingRecording *recording = value;

    if (g_strcmp0 (recording->patient_id, consent->patient_id) == 0
        && (consent->consultation_id == NULL
            || g_strcmp0 (consent->consultation_id, recording->room_id) == 0))
      g_ptr_array_add (rooms, g_strdup (recording->room_id));
  }
  for (guint i = 0; i < rooms->len; i++) {
    SignalingRoom *room = signaling_room_find (context, rooms->pdata[i]);

    signaling_room_broadcast (room, NULL,
                              json_pack ("{s:s, s:s, s:b}", "type", "consent-updated", "purpose",
                                         "recording", "granted", FALSE));
    stop_recording (context, rooms->pdata[i], "consent-withdrawn", NULL);
  }
}

void
signaling_recording_member_left (SignalingContext *context, SignalingRoom *room)
{
  if (context->recordings == NULL || !g_hash_table_contains (context->recordings, room->id))
    return;
  for (guint i = 0; i < room->members->len; i++) {
    SignalingSession *member = g_ptr_array_index (room->members, i);

    if (member->principal && member->principal->role != RECORDS_ROLE_PATIENT)
      return;
  }
  stop_recording (context, room->id, "ended", NULL);
}

/* ---- shutdown and the next start ----------------------------------------- */

void
signaling_recording_stop_all (SignalingContext *context, const char *reason)
{
  g_autoptr (GPtrArray) rooms = g_ptr_array_new_with_free_func (g_free);
  GHashTableIter iter;
  gpointer key;

  if (context->recordings == NULL)
    return;
  g_hash_table_iter_init (&iter, context->recordings);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    g_ptr_array_add (rooms, g_strdup (key));
  for (guint i = 0; i < rooms->len; i++)
    stop_recording (context, rooms->pdata[i], reason, NULL);
}

guint
signaling_recording_count_open (SignalingContext *context)
{
  if (context->recordings == NULL)
    return 0;
  return g_hash_table_size (context->recordings) + g_hash_table_size (context->recordings_closing);
}

/* The participant files of recording @session_id to compose again, or
 * NULL (logged) when it should not be: a file still being written, one
 * that could not be read after a crash, or one missing on disk.  A file
 * cut by a crash and recovered (its SHA-256 filled from what it holds) is
 * composed up to its last whole chunk.  Transfer full. */
static GPtrArray *
files_to_compose_again (SignalingContext *context, const char *session_id)
{
  g_autoptr (GPtrArray) rows = NULL;
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GError) error = NULL;

  rows = records_recording_list_for_session (context->store, session_id, &error);
  if (rows == NULL) {
    g_warning ("recording %s: %s", session_id, error->message);
    return NULL;
  }
  for (guint i = 0; i < rows->len; i++) {
    const RecordsRecording *row = rows->pdata[i];
    g_autofree char *path = NULL;

    if (strcmp (row->kind, "participant") != 0 || strcmp (row->status, "failed") == 0)
      continue;
    if (strcmp (row->status, "complete") != 0
        && (strcmp (row->status, "interrupted") != 0 || row->sha256 == NULL)) {
      g_message ("recording %s: not composed again: participant file %s is %s%s", session_id,
                 row->file_name, row->status, row->sha256 ? "" : " and unreadable");
      return NULL;
    }
    if (row->sha256 == NULL || row->duration_ms <= 0)
      continue;   /* nothing reached the file (header only) */
    path = g_build_filename (context->recording_directory, row->file_name, NULL);
    if (!g_file_test (path, G_FILE_TEST_IS_REGULAR)) {
      g_warning ("recording %s: not composed again: %s is missing", session_id, row->file_name);
      return NULL;
    }
    g_ptr_array_add (names, g_strdup (row->file_name));
  }
  return g_steal_pointer (&names);
}

void
signaling_recording_resume_compositions (SignalingContext *context)
{
  g_autoptr (GPtrArray) rows = NULL;
  g_autoptr (GError) error = NULL;

  if (context->store == NULL || context->recording_directory == NULL)
    return;
  rows = records_recording_list_compositions (context->store, "interrupted", &error);
  if (rows == NULL) {
    g_warning ("recordings: cannot list the compositions left undone: %s", error->message);
    return;
  }
  for (guint i = 0; i < rows->len; i++) {
    RecordsRecording *composed = rows->pdata[i];
    g_autofree char *file_name = signaling_recording_composed_file (composed->session_id);
    g_autofree char *path = g_build_filename (context->recording_directory, file_name, NULL);
    g_autoptr (GPtrArray) names = NULL;
    g_autoptr (GError) local = NULL;

    /* A composition that died with the process left its file: its row was
     * recovered from it, and it is not tried again by itself. */
    if (g_file_test (path, G_FILE_TEST_EXISTS))
      continue;
    names = files_to_compose_again (context, composed->session_id);
    if (names == NULL || names->len == 0)
      continue;
    g_free (composed->status);
    composed->status = g_strdup ("recording");
    composed->compose_progress = 0;
    g_clear_pointer (&composed->ended_at, g_free);
    if (!records_recording_update (context->store, composed, &local)) {
      g_warning ("recording %s: %s", composed->session_id, local->message);
      continue;
    }
    g_message ("recording %s: composing its %u file(s) again (the last stop left it undone)",
               composed->session_id, names->len);
    g_ptr_array_add (names, NULL);
    compose_enqueue (context, composed->session_id, (const char *const *) names->pdata);
  }
}
