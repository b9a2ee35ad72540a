/* recorder.c — one participant's recording pipeline (recorder.h). */
#include "recorder.h"

#include <string.h>
#include <glib/gstdio.h>
#include <gst/gst.h>
#include <gst/app/gstappsrc.h>
#include <gst/app/gstappsink.h>

#include "vault.h"

#define JITTER_LATENCY_MS 200
#define FINISH_TIMEOUT_US (10 * G_USEC_PER_SEC)
/* Packets held while waiting for a track's first sender report. */
#define PENDING_MAX_PACKETS 4000
#define PENDING_MAX_US (4 * G_USEC_PER_SEC)
/* Sender-report times lie before arrival by the sender's own latency
 * (encoder, pacer); shifting the timeline by this keeps buffers ahead of
 * the pipeline clock so the jitter buffer never sees them late. */
#define TIMELINE_DELAY_US (500 * 1000)

/* Worker-only state, read by finish after the hand-off (thread creation
 * orders the accesses). */
typedef struct {
  GstElement *src;          /* NULL: unsupported, ignored */
  gboolean video;
  guint clock_rate;
  gboolean keyframe_seen;
  guint64 packets;
  gint64 first_us, last_us; /* arrival of first/last packet pushed */
  /* Timeline: anchor_us (monotonic) is the time of RTP timestamp
   * anchor_ext; extended timestamps unwrap the 32-bit field. */
  gboolean mapped;
  gint64 anchor_us;
  gint64 anchor_ext;
  guint32 last_rtp;
  gint64 last_ext;
  gboolean have_ext;
  GQueue pending;           /* GstBuffer* held until mapped */
  gboolean ended;           /* silent too long: EOS sent, packets dropped */
  gint64 pending_since_us;
} RecorderTrack;

struct MediaRecorder {
  char *participant_id;
  char *file_name;
  char *path;
  GstElement *pipeline;
  GstClockTime base_time;
  RecorderTrack tracks[MEDIA_RECORDER_MAX_TRACKS];
  guint n_tracks;
  gint64 started_at_us;
  gint64 created_us;        /* monotonic */
  guint64 dropped;          /* atomic */
  gint failed;              /* atomic */
  gboolean have_offset;     /* worker: the publisher's NTP clock → ours */
  gint64 ntp_offset_us;

  GMutex lock;              /* guards the writer and the fields below */
  GCond cond;
  CauVaultWriter *writer;
  GError *error;            /* first failure */
  gboolean eos;
};

static void
recorder_fail (MediaRecorder *rec, GError *error)
{
  g_mutex_lock (&rec->lock);
  if (rec->error == NULL) {
    g_warning ("recording %s: %s", rec->file_name, error->message);
    rec->error = error;
  } else {
    g_error_free (error);
  }
  g_atomic_int_set (&rec->failed, 1);
  g_cond_broadcast (&rec->cond);
  g_mutex_unlock (&rec->lock);
}

gboolean
media_recorder_supports (gboolean video, const char *encoding)
{
  if (encoding == NULL)
    return FALSE;
  if (video)
    return g_ascii_strcasecmp (encoding, "VP8") == 0 || g_ascii_strcasecmp (encoding, "H264") == 0;
  return g_ascii_strcasecmp (encoding, "opus") == 0;
}

/* ---- the muxer's output: into the vault --------------------------------- */

static GstFlowReturn
sink_new_sample (GstAppSink *sink, gpointer user_data)
{
  MediaRecorder *rec = user_data;
  g_autoptr (GstSample) sample = gst_app_sink_pull_sample (sink);
  GstBuffer *buffer;
  GstMapInfo map;
  GError *error = NULL;
  gboolean ok = TRUE;

  if (sample == NULL)
    return GST_FLOW_EOS;
  buffer = gst_sample_get_buffer (sample);
  if (buffer == NULL || !gst_buffer_map (buffer, &map, GST_MAP_READ))
    return GST_FLOW_OK;
  g_mutex_lock (&rec->lock);
  if (rec->writer != NULL)
    ok = cau_vault_writer_write (rec->writer, map.data, map.size, &error);
  g_mutex_unlock (&rec->lock);
  gst_buffer_unmap (buffer, &map);
  if (!ok) {
    recorder_fail (rec, error);
    return GST_FLOW_ERROR;
  }
  return GST_FLOW_OK;
}

static GstBusSyncReply
bus_sync (GstBus *bus, GstMessage *message, gpointer user_data)
{
  MediaRecorder *rec = user_data;

  switch (GST_MESSAGE_TYPE (message)) {
  case GST_MESSAGE_ERROR: {
    GError *error = NULL;
    g_autofree char *debug = NULL;

    gst_message_parse_error (message, &error, &debug);
    g_debug ("recording %s: pipeline error details: %s", rec->file_name,
             debug != NULL ? debug : "");
    recorder_fail (rec, g_error_new (MEDIA_ERROR, MEDIA_ERROR_INTERNAL,
                                     "recording pipeline: %s", error->message));
    g_error_free (error);
    break;
  }
  case GST_MESSAGE_EOS:
    g_mutex_lock (&rec->lock);
    rec->eos = TRUE;
    g_cond_broadcast (&rec->cond);
    g_mutex_unlock (&rec->lock);
    break;
  default:
    break;
  }
  /* A sync handler that drops a message owns it (GstBusSyncHandler): without
   * this unref every message of every recording, and through its source
   * every element and the pipeline itself, was leaked. */
  gst_message_unref (message);
  return GST_BUS_DROP;
}

/* ---- building ------------------------------------------------------------ */

static GstElement *
make (const char *factory, GError **error)
{
  GstElement *e = gst_element_factory_make (factory, NULL);

  if (e == NULL)
    g_set_error (error, MEDIA_ERROR, MEDIA_ERROR_INTERNAL,
                 "GStreamer element %s is not installed", factory);
  return e;
}

/* appsrc → rtpjitterbuffer → depayloader [→ parser] → queue → mux. */
static gboolean
recorder_add_branch (MediaRecorder *rec, RecorderTrack *track,
                     const MediaRecorderTrackSpec *spec, GstElement *mux, GError **error)
{
  GstElement *chain[6] = { NULL };
  guint n = 0;
  g_autoptr (GstCaps) caps = NULL;
  gboolean h264 = g_ascii_strcasecmp (spec->encoding, "H264") == 0;
  g_autofree char *encoding = g_ascii_strup (spec->encoding, -1);
  GstPad *src_pad, *mux_pad;
  gboolean linked;

  caps = gst_caps_new_simple ("application/x-rtp",
                              "media", G_TYPE_STRING, spec->video ? "video" : "audio",
                              "encoding-name", G_TYPE_STRING, encoding,
                              "clock-rate", G_TYPE_INT, (int) spec->clock_rate,
                              "payload", G_TYPE_INT, (int) spec->payload_type, NULL);
  if ((chain[n++] = make ("appsrc", error)) == NULL)
    goto fail;
  g_object_set (chain[0], "caps", caps, "format", GST_FORMAT_TIME, "is-live", TRUE,
                "do-timestamp", FALSE, "block", FALSE,
                "max-bytes", (guint64) MEDIA_RECORDER_QUEUE_BYTES,
                "leaky-type", 1 /* upstream: drop the new buffer */, NULL);
  if ((chain[n++] = make ("rtpjitterbuffer", error)) == NULL)
    goto fail;
  /* Default (slave) mode: push_rtp stamps each packet with its time on
   * the sender's clock, linear in the RTP timestamp, so the jitter buffer
   * sees no skew and keeps those times. */
  g_object_set (chain[1], "latency", JITTER_LATENCY_MS, NULL);
  if (!spec->video) {
    if ((chain[n++] = make ("rtpopusdepay", error)) == NULL ||
        (chain[n++] = make ("opusparse", error)) == NULL)
      goto fail;
  } else if (h264) {
    if ((chain[n++] = make ("rtph264depay", error)) == NULL ||
        (chain[n++] = make ("h264parse", error)) == NULL)
      goto fail;
  } else {
    if ((chain[n++] = make ("rtpvp8depay", error)) == NULL)
      goto fail;
    g_object_set (chain[n - 1], "wait-for-keyframe", TRUE, NULL);
  }
  if ((chain[n++] = make ("queue", error)) == NULL)
    goto fail;
  /* Enough to wait for the other track's first key frame. */
  g_object_set (chain[n - 1], "max-size-time", (guint64) 5 * GST_SECOND,
                "max-size-buffers", 0, "max-size-bytes", 0, NULL);
  for (guint i = 0; i < n; i++)
    gst_bin_add (GST_BIN (rec->pipeline), chain[i]);
  for (guint i = 0; i + 1 < n; i++) {
    if (!gst_element_link (chain[i], chain[i + 1])) {
      g_set_error (error, MEDIA_ERROR, MEDIA_ERROR_INTERNAL,
                   "recording: cannot link %s to %s", GST_ELEMENT_NAME (chain[i]),
                   GST_ELEMENT_NAME (chain[i + 1]));
      return FALSE;
    }
  }
  mux_pad = gst_element_request_pad_simple (mux, spec->video ? "video_%u" : "audio_%u");
  src_pad = gst_element_get_static_pad (chain[n - 1], "src");
  linked = mux_pad != NULL && gst_pad_link (src_pad, mux_pad) == GST_PAD_LINK_OK;
  gst_object_unref (src_pad);
  if (mux_pad != NULL)
    gst_object_unref (mux_pad);
  if (!linked) {
    g_set_error (error, MEDIA_ERROR, MEDIA_ERROR_INTERNAL, "recording: cannot link to the muxer");
    return FALSE;
  }
  track->src = chain[0];
  track->video = spec->video;
  return TRUE;

fail:
  for (guint i = 0; i < n; i++)
    if (chain[i] != NULL)
      gst_object_unref (gst_object_ref_sink (chain[i]));
  return FALSE;
}

static void
recorder_free (MediaRecorder *rec)
{
  for (guint i = 0; i < MEDIA_RECORDER_MAX_TRACKS; i++)
    g_queue_clear_full (&rec->tracks[i].pending, (GDestroyNotify) gst_buffer_unref);
  if (rec->pipeline != NULL) {
    GstBus *bus = gst_element_get_bus (rec->pipeline);

    gst_element_set_state (rec->pipeline, GST_STATE_NULL);
    /* Streaming threads post their stream-status (leave) messages as they
     * exit, possibly after the state change returned; a flushing bus drops
     * them instead of queueing them with references to our elements. */
    gst_bus_set_flushing (bus, TRUE);
    gst_bus_set_sync_handler (bus, NULL, NULL, NULL);
    gst_object_unref (bus);
    gst_object_unref (rec->pipeline);
  }
  cau_vault_writer_free (rec->writer);
  g_clear_error (&rec->error);
  g_mutex_clear (&rec->lock);
  g_cond_clear (&rec->cond);
  g_free (rec->participant_id);
  g_free (rec->file_name);
  g_free (rec->path);
  g_free (rec);
}

MediaRecorder *
media_recorder_new (const char *participant_id, const char *directory, const char *file_name,
                    const guint8 server_key[32], const char *key_id, gint64 origin_us,
                    const MediaRecorderTrackSpec *specs, guint n_specs, GError **error)
{
  MediaRecorder *rec;
  GstElement *mux, *sink;
  GstAppSinkCallbacks callbacks = { .new_sample = sink_new_sample };
  GstClock *clock;
  GstBus *bus;
  guint supported = 0;

  g_return_val_if_fail (participant_id != NULL && directory != NULL && file_name != NULL, NULL);
  g_return_val_if_fail (n_specs <= MEDIA_RECORDER_MAX_TRACKS, NULL);

  gst_init (NULL, NULL);
  rec = g_new0 (MediaRecorder, 1);
  g_mutex_init (&rec->lock);
  g_cond_init (&rec->cond);
  rec->participant_id = g_strdup (participant_id);
  rec->file_name = g_strdup (file_name);
  rec->path = g_build_filename (directory, file_name, NULL);
  rec->n_tracks = n_specs;
  for (guint i = 0; i < n_specs; i++)
    if (media_recorder_supports (specs[i].video, specs[i].encoding))
      supported++;
  if (supported == 0) {
    g_set_error (error, MEDIA_ERROR, MEDIA_ERROR_NO_CODEC,
                 "recording: no track in a codec the recorder supports");
    goto fail;
  }

  rec->pipeline = gst_pipeline_new (NULL);
  /* The relay stamps packets with g_get_monotonic_time(): the system
   * clock in its default monotonic mode is the same clock. */
  clock = gst_system_clock_obtain ();
  g_object_set (clock, "clock-type", GST_CLOCK_TYPE_MONOTONIC, NULL);
  gst_pipeline_use_clock (GST_PIPELINE (rec->pipeline), clock);
  gst_object_unref (clock);
  if ((mux = make ("matroskamux", error)) == NULL || (sink = make ("appsink", error)) == NULL)
    goto fail;
  /* Streamable: clusters of unknown size, no cues or seek head to write
   * back at the end; a cut file stays playable. */
  g_object_set (mux, "streamable", TRUE, "writing-app", "Cau", NULL);
  g_object_set (sink, "sync", FALSE, "async", FALSE, "emit-signals", FALSE, NULL);
  gst_app_sink_set_callbacks (GST_APP_SINK (sink), &callbacks, rec, NULL);
  gst_bin_add_many (GST_BIN (rec->pipeline), mux, sink, NULL);
  if (!gst_element_link (mux, sink)) {
    g_set_error (error, MEDIA_ERROR, MEDIA_ERROR_INTERNAL, "recording: cannot link the muxer");
    goto fail;
  }
  for (guint i = 0; i < n_specs; i++) {
    rec->tracks[i].clock_rate = MAX (specs[i].clock_rate, 1);
    if (!media_recorder_supports (specs[i].video, specs[i].encoding))
      continue;
    if (!recorder_add_branch (rec, &rec->tracks[i], &specs[i], mux, error))
      goto fail;
  }

  rec->writer = cau_vault_writer_new (rec->path, server_key, key_id, error);
  if (rec->writer == NULL)
    goto fail;

  bus = gst_element_get_bus (rec->pipeline);
  gst_bus_set_sync_handler (bus, bus_sync, rec, NULL);
  gst_object_unref (bus);
  /* Running time 0 is the recording's start for every participant. */
  gst_element_set_start_time (rec->pipeline, GST_CLOCK_TIME_NONE);
  gst_element_set_base_time (rec->pipeline, (GstClockTime) origin_us * 1000);
  if (gst_element_set_state (rec->pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    g_set_error (error, MEDIA_ERROR, MEDIA_ERROR_INTERNAL, "recording pipeline did not start");
    goto fail;
  }
  rec->base_time = gst_element_get_base_time (rec->pipeline);
  rec->started_at_us = g_get_real_time ();
  rec->created_us = g_get_monotonic_time ();
  return rec;

fail:
  if (rec->writer != NULL) {
    g_clear_pointer (&rec->writer, cau_vault_writer_free);
    g_unlink (rec->path);
  }
  recorder_free (rec);
  return NULL;
}

/* ---- the hand-off from the worker -------------------------------------- */

static gint64
ntp_to_us (guint64 ntp)
{
  return (gint64) (ntp >> 32) * G_USEC_PER_SEC +
         (gint64) (((ntp & 0xffffffffu) * G_USEC_PER_SEC) >> 32);
}

static gint64
track_extend (RecorderTrack *t, guint32 rtp)
{
  if (!t->have_ext) {
    t->have_ext = TRUE;
    t->last_ext = rtp;
  } else {
    t->last_ext += (gint32) (rtp - t->last_rtp);
  }
  t->last_rtp = rtp;
  return t->last_ext;
}

static guint32
packet_rtp_ts (GstBuffer *b)
{
  guint8 h[8] = { 0 };

  gst_buffer_extract (b, 0, h, sizeof h);
  return ((guint32) h[4] << 24) | ((guint32) h[5] << 16) | ((guint32) h[6] << 8) | h[7];
}

static void
track_send (MediaRecorder *rec, RecorderTrack *t, GstBuffer *buffer, gint64 ext)
{
  gint64 us = t->anchor_us + (ext - t->anchor_ext) * G_USEC_PER_SEC / (gint64) t->clock_rate +
              TIMELINE_DELAY_US;
  gint64 ns = us * 1000 - (gint64) rec->base_time;
  GstClockTime running = ns > 0 ? (GstClockTime) ns : 0;

  /* Bounded: a full queue drops the packet rather than waiting. */
  if (gst_app_src_get_current_level_bytes (GST_APP_SRC (t->src)) + gst_buffer_get_size (buffer) >
      MEDIA_RECORDER_QUEUE_BYTES) {
    __atomic_fetch_add (&rec->dropped, 1, __ATOMIC_RELAXED);
    gst_buffer_unref (buffer);
    return;
  }
  GST_BUFFER_PTS (buffer) = running;
  GST_BUFFER_DTS (buffer) = running;
  if (gst_app_src_push_buffer (GST_APP_SRC (t->src), buffer) != GST_FLOW_OK)
    __atomic_fetch_add (&rec->dropped, 1, __ATOMIC_RELAXED);
}

/* Sends what was held for @t once its timeline is known.  Held packets
 * went through track_extend in arrival order already: their extended
 * timestamps are recomputed relative to the newest. */
static void
track_flush_pending (MediaRecorder *rec, RecorderTrack *t)
{
  GstBuffer *b;

  while ((b = g_queue_pop_head (&t->pending)) != NULL) {
    gint64 ext = t->last_ext + (gint32) (packet_rtp_ts (b) - t->last_rtp);

    track_send (rec, t, b, ext);
  }
}

/* No sender report in time: time the track by arrival, anchored on the
 * held packet that arrived with the least delay relative to its RTP
 * timestamp (the first packets of a key frame arrive in a burst). */
static void
track_map_by_arrival (MediaRecorder *rec, RecorderTrack *t)
{
  gint64 best = G_MAXINT64;

  for (GList *l = t->pending.head; l != NULL; l = l->next) {
    GstBuffer *b = l->data;
    gint64 ext = t->last_ext + (gint32) (packet_rtp_ts (b) - t->last_rtp);
    gint64 arrival = (gint64) GST_BUFFER_OFFSET_END (b);
    gint64 base = arrival - ext * G_USEC_PER_SEC / (gint64) t->clock_rate;

    if (base < best) {
      best = base;
      t->anchor_ext = ext;
      t->anchor_us = arrival;
    }
  }
  t->mapped = TRUE;
  g_info ("recording %s: no sender report for a %s track in %d s; timing it by arrival",
             rec->file_name, t->video ? "video" : "audio", (int) (PENDING_MAX_US / G_USEC_PER_SEC));
  track_flush_pending (rec, t);
}

void
media_recorder_push_rtp (MediaRecorder *rec, guint index, const guint8 *packet, gsize len,
                         gint64 arrival_us)
{
  RecorderTrack *track;
  GstBuffer *buffer;
  gint64 ext;

  if (index >= rec->n_tracks || rec->tracks[index].src == NULL || len < 12)
    return;
  track = &rec->tracks[index];
  if (track->ended) {
    __atomic_fetch_add (&rec->dropped, 1, __ATOMIC_RELAXED);
    return;
  }
  buffer = gst_buffer_new_memdup (packet, len);
  ext = track_extend (track, ((guint32) packet[4] << 24) | ((guint32) packet[5] << 16) |
                                 ((guint32) packet[6] << 8) | packet[7]);
  if (track->packets++ == 0)
    track->first_us = arrival_us;
  track->last_us = arrival_us;
  if (track->mapped) {
    track_send (rec, track, buffer, ext);
    return;
  }
  if (g_queue_is_empty (&track->pending))
    track->pending_since_us = arrival_us;
  GST_BUFFER_OFFSET_END (buffer) = (guint64) arrival_us;
  g_queue_push_tail (&track->pending, buffer);
  if (g_queue_get_length (&track->pending) >= PENDING_MAX_PACKETS ||
      arrival_us - track->pending_since_us >= PENDING_MAX_US)
    track_map_by_arrival (rec, track);
}

void
media_recorder_note_sender_report (MediaRecorder *rec, guint index, guint64 ntp,
                                   guint32 rtp_ts, gint64 arrival_us)
{
  RecorderTrack *t;
  gint64 sr_ext, sr_us;

  if (index >= rec->n_tracks || rec->tracks[index].src == NULL)
    return;
  t = &rec->tracks[index];
  if (t->mapped)
    return;
  if (!t->have_ext)
    track_extend (t, rtp_ts);
  sr_ext = t->last_ext + (gint32) (rtp_ts - t->last_rtp);
  sr_us = ntp_to_us (ntp);
  /* RFC 3550 §6.4.1: an SR's NTP and RTP timestamps are the same instant
   * on the sender's clock, shared by all its tracks, which is what keeps
   * them in sync.  The sender's clock is only trusted for differences
   * (webrtcbin's SRs were seen seconds off in absolute terms): one offset
   * per participant maps it onto ours, the largest arrival delay among the
   * packets held so far, so that no packet is stamped before it arrived. */
  if (!rec->have_offset) {
    gint64 offset = arrival_us - sr_us;

    for (GList *l = t->pending.head; l != NULL; l = l->next) {
      GstBuffer *b = l->data;
      gint64 ext = t->last_ext + (gint32) (packet_rtp_ts (b) - t->last_rtp);
      gint64 sent = sr_us + (ext - sr_ext) * G_USEC_PER_SEC / (gint64) t->clock_rate;

      offset = MAX (offset, (gint64) GST_BUFFER_OFFSET_END (b) - sent);
    }
    rec->have_offset = TRUE;
    rec->ntp_offset_us = offset;
  }
  t->anchor_ext = sr_ext;
  t->anchor_us = sr_us + rec->ntp_offset_us;
  t->mapped = TRUE;
  g_debug ("recording %s: %s track on the sender's clock after %u packets (SR stamped %+.3f s "
           "from its arrival)", rec->file_name, t->video ? "video" : "audio",
           g_queue_get_length (&t->pending), (t->anchor_us - arrival_us) / 1e6);
  track_flush_pending (rec, t);
}

void
media_recorder_end_silent_tracks (MediaRecorder *rec, gint64 now_us)
{
  gboolean any_sent = FALSE;

  for (guint i = 0; i < rec->n_tracks; i++)
    if (rec->tracks[i].packets > 0)
      any_sent = TRUE;
  if (!any_sent || now_us - rec->created_us < MEDIA_RECORDER_SILENT_US)
    return;
  for (guint i = 0; i < rec->n_tracks; i++) {
    RecorderTrack *t = &rec->tracks[i];

    if (t->src == NULL || t->packets > 0 || t->ended)
      continue;
    t->ended = TRUE;
    gst_app_src_end_of_stream (GST_APP_SRC (t->src));
    g_info ("recording %s: no %s packet in %d s; recording without it", rec->file_name,
            t->video ? "video" : "audio", (int) (MEDIA_RECORDER_SILENT_US / G_USEC_PER_SEC));
  }
}

gboolean
media_recorder_wants_keyframe (MediaRecorder *rec, guint index)
{
  return index < rec->n_tracks && rec->tracks[index].src != NULL &&
         rec->tracks[index].video && !rec->tracks[index].keyframe_seen &&
         !rec->tracks[index].ended;
}

void
media_recorder_note_keyframe (MediaRecorder *rec, guint index)
{
  if (index < rec->n_tracks)
    rec->tracks[index].keyframe_seen = TRUE;
}

gboolean
media_recorder_has_failed (MediaRecorder *rec)
{
  return g_atomic_int_get (&rec->failed) != 0;
}

guint64
media_recorder_get_dropped (MediaRecorder *rec)
{
  return __atomic_load_n (&rec->dropped, __ATOMIC_RELAXED);
}

gpointer
media_recorder_get_source (MediaRecorder *rec, guint index)
{
  return index < rec->n_tracks ? rec->tracks[index].src : NULL;
}

/* ---- finishing ---------------------------------------------------------- */

void
media_recording_file_free (MediaRecordingFile *file)
{
  if (file == NULL)
    return;
  g_free (file->participant_id);
  g_free (file->file_name);
  g_free (file->sha256);
  g_free (file);
}

MediaRecordingFile *
media_recorder_finish (MediaRecorder *rec, GError **error)
{
  MediaRecordingFile *file = g_new0 (MediaRecordingFile, 1);
  gint64 first = G_MAXINT64, last = 0;
  gint64 deadline = g_get_monotonic_time () + FINISH_TIMEOUT_US;
  GError *close_error = NULL;
  CauVaultWriter *writer;

  for (guint i = 0; i < rec->n_tracks; i++) {
    RecorderTrack *t = &rec->tracks[i];

    if (t->src == NULL)
      continue;
    if (!g_queue_is_empty (&t->pending))
      track_map_by_arrival (rec, t);
    if (!t->ended)
      gst_app_src_end_of_stream (GST_APP_SRC (t->src));
    if (t->packets > 0) {
      first = MIN (first, t->first_us);
      last = MAX (last, t->last_us);
      if (t->video)
        file->has_video = TRUE;
      else
        file->has_audio = TRUE;
    }
  }
  /* Drain: the jitter buffers and the muxer push out what they hold. */
  g_mutex_lock (&rec->lock);
  while (!rec->eos && rec->error == NULL)
    if (!g_cond_wait_until (&rec->cond, &rec->lock, deadline))
      break;
  if (!rec->eos && rec->error == NULL)
    g_warning ("recording %s: no EOS after %d s; closing what was written", rec->file_name,
               (int) (FINISH_TIMEOUT_US / G_USEC_PER_SEC));
  g_mutex_unlock (&rec->lock);
  gst_element_set_state (rec->pipeline, GST_STATE_NULL);

  g_mutex_lock (&rec->lock);
  writer = g_steal_pointer (&rec->writer);
  g_mutex_unlock (&rec->lock);
  if (!cau_vault_writer_close (writer, &file->sha256, &file->size, &close_error))
    recorder_fail (rec, close_error);
  cau_vault_writer_free (writer);

  file->participant_id = g_strdup (rec->participant_id);
  file->file_name = g_strdup (rec->file_name);
  file->started_at_us = rec->started_at_us;
  file->duration_ms = last > first ? (last - first) / 1000 : 0;
  file->dropped_packets = media_recorder_get_dropped (rec);
  if (file->sha256 == NULL)
    cau_vault_file_sha256 (rec->path, &file->sha256, NULL);
  if (rec->error != NULL)
    g_propagate_error (error, g_steal_pointer (&rec->error));
  recorder_free (rec);
  return file;
}
