/* recording.c — a room's recording: one MediaRecorder per publishing
 * participant, started and stopped on the room's worker, finished (EOS
 * drain, vault close) on threads of their own so that the worker never
 * waits; events and the final report posted to the control context.
 *
 * The session is shared between the worker (which owns the room's pointer
 * to it) and the finishing threads (which add files): its file list and
 * counters are under its mutex; everything else is written once at
 * creation. */
#include <errno.h>
#include <string.h>
#include <sys/statvfs.h>

#include "recorder.h"
#include "room-priv.h"
#include "thread-set.h"

struct MediaRecordingSession {
  gint ref;
  GMainContext *control;
  char *room_id;
  char *recording_id;
  char *directory;
  char *key_id;
  guint8 key[32];
  guint64 min_free_bytes;
  MediaRecordingEventFunc on_event;
  MediaRecordingDoneFunc on_done;
  gpointer user_data;
  gboolean started_posted;  /* worker only */
  gboolean stopping;        /* worker only: no new recorders */
  gint64 origin_us;         /* monotonic start, shared by the files */

  GMutex lock;
  GPtrArray *files;         /* MediaRecordingFile*, owned */
  guint pending;            /* recorders still finishing */
  gboolean stopped;
  gboolean done_posted;
  GError *error;
};

static MediaRecordingSession *
session_ref (MediaRecordingSession *s)
{
  g_atomic_int_inc (&s->ref);
  return s;
}

static void
session_unref (MediaRecordingSession *s)
{
  if (!g_atomic_int_dec_and_test (&s->ref))
    return;
  memset (s->key, 0, sizeof s->key);
  g_main_context_unref (s->control);
  g_ptr_array_unref (s->files);
  g_clear_error (&s->error);
  g_mutex_clear (&s->lock);
  g_free (s->room_id);
  g_free (s->recording_id);
  g_free (s->directory);
  g_free (s->key_id);
  g_free (s);
}

MediaRecordingSession *
media_recording_session_new (GMainContext *control, const char *room_id,
                             const char *recording_id, const MediaRecordingOptions *options,
                             MediaRecordingEventFunc on_event, MediaRecordingDoneFunc on_done,
                             gpointer user_data)
{
  MediaRecordingSession *s = g_new0 (MediaRecordingSession, 1);

  s->ref = 1;
  s->control = g_main_context_ref (control);
  s->room_id = g_strdup (room_id);
  s->recording_id = g_strdup (recording_id);
  s->directory = g_strdup (options->directory);
  s->key_id = g_strdup (options->key_id);
  memcpy (s->key, options->server_key, sizeof s->key);
  s->min_free_bytes = options->min_free_bytes;
  s->on_event = on_event;
  s->on_done = on_done;
  s->user_data = user_data;
  s->files = g_ptr_array_new_with_free_func ((GDestroyNotify) media_recording_file_free);
  g_mutex_init (&s->lock);
  return s;
}

/* ---- posting to the control context --------------------------------------- */

typedef struct {
  MediaRecordingSession *session;
  gboolean done;
  MediaRecordingEvent event;
  char *detail;
} Posted;

static gboolean
posted_dispatch (gpointer data)
{
  Posted *p = data;
  MediaRecordingSession *s = p->session;

  if (!p->done) {
    if (s->on_event != NULL)
      s->on_event (s->room_id, s->recording_id, p->event, p->detail, s->user_data);
  } else if (s->on_done != NULL) {
    s->on_done (s->room_id, s->recording_id, s->files, s->error, s->user_data);
  }
  return G_SOURCE_REMOVE;
}

static void
posted_free (gpointer data)
{
  Posted *p = data;

  session_unref (p->session);
  g_free (p->detail);
  g_free (p);
}

static void
session_post (MediaRecordingSession *s, gboolean done, MediaRecordingEvent event,
              const char *detail)
{
  Posted *p = g_new0 (Posted, 1);
  GSource *source = g_idle_source_new ();

  p->session = session_ref (s);
  p->done = done;
  p->event = event;
  p->detail = g_strdup (detail);
  g_source_set_priority (source, G_PRIORITY_DEFAULT);
  g_source_set_callback (source, posted_dispatch, p, posted_free);
  g_source_attach (source, s->control);
  g_source_unref (source);
}

/* Posts on_done once, when stopped and no recorder is still finishing.
 * Called with the lock held. */
static void
session_maybe_done_locked (MediaRecordingSession *s)
{
  if (s->stopped && s->pending == 0 && !s->done_posted) {
    s->done_posted = TRUE;
    session_post (s, TRUE, 0, NULL);
  }
}

void
media_recording_session_refuse (MediaRecordingSession *s, GError *error)
{
  g_mutex_lock (&s->lock);
  if (s->error == NULL)
    s->error = error;
  else
    g_error_free (error);
  s->stopped = TRUE;
  session_maybe_done_locked (s);
  g_mutex_unlock (&s->lock);
  session_unref (s);
}

/* ---- finishing threads --------------------------------------------------- */

/* Finishing threads that have not ended, for media_recording_wait_finished(). */
static MediaThreadSet finishing;

typedef struct {
  MediaRecordingSession *session;
  MediaRecorder *recorder;
} FinishJob;

static gpointer
finish_thread (gpointer data)
{
  FinishJob *job = data;
  MediaRecordingSession *s = job->session;
  GError *error = NULL;
  MediaRecordingFile *file = media_recorder_finish (job->recorder, &error);

  g_info ("recording %s: %s closed (%" G_GINT64_FORMAT " ms, %" G_GUINT64_FORMAT
          " bytes, %" G_GUINT64_FORMAT " packets dropped)", s->recording_id, file->file_name,
          file->duration_ms, file->size, file->dropped_packets);
  g_mutex_lock (&s->lock);
  g_ptr_array_add (s->files, file);
  if (error != NULL && s->error == NULL)
    s->error = error;
  else
    g_clear_error (&error);
  s->pending--;
  session_maybe_done_locked (s);
  g_mutex_unlock (&s->lock);
  session_unref (s);
  media_thread_set_leave (&finishing, job);
  g_free (job);
  return NULL;
}

void
media_recording_wait_finished (void)
{
  media_thread_set_join_all (&finishing, NULL, NULL);
}

/* Detaches @p's recorder (worker) and finishes it on its own thread. */
static void
participant_finish_recorder (MediaParticipant *p)
{
  MediaRecordingSession *s = p->room->recording;
  FinishJob *job;

  if (p->recorder == NULL)
    return;
  for (guint i = 0; i < p->tracks->len; i++)
    ((MediaTrack *) g_ptr_array_index (p->tracks, i))->record_index = 0;
  job = g_new0 (FinishJob, 1);
  job->session = session_ref (s);
  job->recorder = g_steal_pointer (&p->recorder);
  g_mutex_lock (&s->lock);
  s->pending++;
  g_mutex_unlock (&s->lock);
  media_thread_set_start (&finishing, "cau-rec-finish", finish_thread, job);
}

/* ---- starting a participant's file ------------------------------------ */

static char *
sanitize (const char *id)
{
  char *out = g_strndup (id, 64);

  for (char *c = out; *c != '\0'; c++)
    if (!g_ascii_isalnum (*c) && *c != '-' && *c != '_')
      *c = '_';
  return out;
}

static void
participant_start_recorder (MediaParticipant *p)
{
  MediaRecordingSession *s = p->room->recording;
  MediaRecorderTrackSpec specs[MEDIA_RECORDER_MAX_TRACKS];
  MediaTrack *tracks[MEDIA_RECORDER_MAX_TRACKS];
  g_autofree char *rid = NULL, *pid = NULL, *file_name = NULL;
  g_autoptr (GError) error = NULL;
  guint n = 0;

  if (s == NULL || s->stopping || p->recorder != NULL)
    return;
  for (guint i = 0; i < p->tracks->len && n < MEDIA_RECORDER_MAX_TRACKS; i++) {
    MediaTrack *t = g_ptr_array_index (p->tracks, i);

    if (!media_recorder_supports (t->video, t->codec->encoding))
      continue;
    specs[n] = (MediaRecorderTrackSpec) {
      .video = t->video,
      .encoding = t->codec->encoding,
      .clock_rate = t->codec->clock_rate,
      .payload_type = t->codec->payload_type,
    };
    tracks[n++] = t;
  }
  if (n == 0)
    return;
  rid = sanitize (s->recording_id);
  pid = sanitize (p->id);
  p->recording_files++;
  file_name = p->recording_files == 1
                  ? g_strdup_printf ("%s-%s.mkv.cauv", rid, pid)
                  : g_strdup_printf ("%s-%s-%u.mkv.cauv", rid, pid, p->recording_files);
  p->recorder = media_recorder_new (p->id, s->directory, file_name, s->key, s->key_id,
                                    s->origin_us, specs, n, &error);
  if (p->recorder == NULL) {
    g_warning ("room %s: recording %s of participant %s did not start: %s", p->room->id,
               s->recording_id, p->id, error->message);
    p->room->recording_failed = TRUE;
    return;
  }
  for (guint i = 0; i < n; i++) {
    tracks[i]->record_index = i + 1;
    if (tracks[i]->n_layers > 0)
      media_simulcast_record_start (tracks[i]);
    /* LAB-NOTES: joined mid-stream, the file needs a key frame first. */
    media_track_request_keyframe (tracks[i], TRUE);
  }
  g_info ("room %s: recording %s of participant %s into %s", p->room->id, s->recording_id,
          p->id, file_name);
  if (!s->started_posted) {
    s->started_posted = TRUE;
    session_post (s, FALSE, MEDIA_RECORDING_STARTED, file_name);
  }
}

/* ---- the room's side (worker) --------------------------------------------- */

static gboolean
disk_low (MediaRecordingSession *s, char **detail)
{
  struct statvfs st;
  guint64 avail;

  if (statvfs (s->directory, &st) != 0) {
    *detail = g_strdup_printf ("cannot check free space in %s: %s", s->directory,
                               g_strerror (errno));
    return TRUE;
  }
  avail = (guint64) st.f_bavail * (guint64) st.f_frsize;
  if (avail < s->min_free_bytes) {
    *detail = g_strdup_printf ("%" G_GUINT64_FORMAT " MiB free, below %" G_GUINT64_FORMAT " MiB",
                               avail >> 20, s->min_free_bytes >> 20);
    return TRUE;
  }
  return FALSE;
}

void
media_recording_start (MediaRoom *room, MediaRecordingSession *s)
{
  g_autofree char *detail = NULL;

  if (room->recording != NULL) {
    media_recording_session_refuse (s, g_error_new (MEDIA_ERROR, MEDIA_ERROR_STATE,
                                                    "room %s is already recording", room->id));
    return;
  }
  if (disk_low (s, &detail)) {
    session_post (s, FALSE, MEDIA_RECORDING_DISK_LOW, detail);
    media_recording_session_refuse (s, g_error_new (MEDIA_ERROR, MEDIA_ERROR_INTERNAL,
                                                    "not enough disk space: %s", detail));
    return;
  }
  room->recording = s;
  room->recording_failed = FALSE;
  s->origin_us = g_get_monotonic_time ();
  for (guint i = 0; i < room->order->len; i++)
    participant_start_recorder (g_ptr_array_index (room->order, i));
}

void
media_recording_stop (MediaRoom *room)
{
  MediaRecordingSession *s = room->recording;

  if (s == NULL)
    return;
  s->stopping = TRUE;
  for (guint i = 0; i < room->order->len; i++)
    participant_finish_recorder (g_ptr_array_index (room->order, i));
  room->recording = NULL;
  g_mutex_lock (&s->lock);
  s->stopped = TRUE;
  session_maybe_done_locked (s);
  g_mutex_unlock (&s->lock);
  session_unref (s);
}

void
media_recording_participant_published (MediaParticipant *p)
{
  if (p->room->recording != NULL && p->recorder == NULL)
    participant_start_recorder (p);
}

void
media_recording_participant_leaving (MediaParticipant *p)
{
  if (p->room->recording != NULL)
    participant_finish_recorder (p);
}

void
media_recording_tick (MediaRoom *room)
{
  MediaRecordingSession *s = room->recording;
  g_autofree char *detail = NULL;
  gboolean failed = room->recording_failed;

  if (s == NULL)
    return;
  for (guint i = 0; i < room->order->len; i++) {
    MediaParticipant *p = g_ptr_array_index (room->order, i);

    if (p->recorder == NULL)
      continue;
    if (media_recorder_has_failed (p->recorder))
      failed = TRUE;
    media_recorder_end_silent_tracks (p->recorder, g_get_monotonic_time ());
    for (guint j = 0; j < p->tracks->len; j++) {
      MediaTrack *t = g_ptr_array_index (p->tracks, j);

      if (t->record_index != 0 && media_recorder_wants_keyframe (p->recorder, t->record_index - 1))
        media_track_request_keyframe (t, FALSE);
    }
  }
  if (failed) {
    session_post (s, FALSE, MEDIA_RECORDING_FAILED, "a recording pipeline failed");
    media_recording_stop (room);
    return;
  }
  if (disk_low (s, &detail)) {
    g_warning ("room %s: recording %s stopped: %s", room->id, s->recording_id, detail);
    session_post (s, FALSE, MEDIA_RECORDING_DISK_LOW, detail);
    media_recording_stop (room);
  }
}

void
media_recording_push (MediaParticipant *p, MediaTrack *track, const uint8_t *packet,
                      size_t len, const RtpHeader *h, gint64 now_us)
{
  guint index = track->record_index - 1;

  if (track->video && media_recorder_wants_keyframe (p->recorder, index)) {
    const uint8_t *payload = packet + h->payload_offset;
    gboolean key = g_ascii_strcasecmp (track->codec->encoding, "H264") == 0
                       ? rtp_h264_is_keyframe (payload, h->payload_len)
                       : rtp_vp8_is_keyframe (payload, h->payload_len);

    if (key)
      media_recorder_note_keyframe (p->recorder, index);
  }
  media_recorder_push_rtp (p->recorder, index, packet, len, now_us);
}

void
media_recording_note_sender_report (MediaParticipant *p, MediaTrack *track, guint64 ntp,
                                    guint32 rtp_ts, gint64 now_us)
{
  media_recorder_note_sender_report (p->recorder, track->record_index - 1, ntp, rtp_ts, now_us);
}
