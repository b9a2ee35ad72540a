/* test-recorder.c — media/recorder.c and media/compose.c with synthetic RTP:
 * an in-process GStreamer pipeline (test sources → encoders → payloaders)
 * feeds the recorder the way the relay does; the vault file is then
 * decrypted through records/vault.c and decoded with GStreamer. */
#include <string.h>
#include <glib/gstdio.h>
#include <gst/gst.h>
#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>

#include "recorder.h"
#include "vault.h"

typedef struct {
  char *dir;
  guint8 key[32];
  char *key_id;
} Fixture;

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  f->dir = g_dir_make_tmp ("test-recorder-XXXXXX", &error);
  g_assert_no_error (error);
  g_assert_true (cau_vault_key_load (f->dir, f->key, &f->key_id, &error));
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  g_autoptr (GDir) d = g_dir_open (f->dir, 0, NULL);
  const char *name;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL) {
    g_autofree char *p = g_build_filename (f->dir, name, NULL);

    g_unlink (p);
  }
  g_rmdir (f->dir);
  g_free (f->dir);
  g_free (f->key_id);
}

/* ---- the synthetic publisher ------------------------------------------------ */

typedef struct {
  MediaRecorder *rec;
  guint index;
  guint packets;
} Feed;

static GstFlowReturn
feed_sample (GstAppSink *sink, gpointer user_data)
{
  Feed *feed = user_data;
  g_autoptr (GstSample) sample = gst_app_sink_pull_sample (sink);
  GstBuffer *b = gst_sample_get_buffer (sample);
  GstMapInfo map;

  gst_buffer_map (b, &map, GST_MAP_READ);
  if (feed->packets == 0 && map.size >= 12) {
    /* A sender report with the first packet, as a browser's would come:
     * its RTP timestamp and "now" on an NTP scale are the same instant. */
    gint64 now = g_get_monotonic_time ();
    guint64 ntp = ((guint64) (now / G_USEC_PER_SEC) << 32) |
                  (((guint64) (now % G_USEC_PER_SEC) << 32) / G_USEC_PER_SEC);
    guint32 ts = ((guint32) map.data[4] << 24) | ((guint32) map.data[5] << 16) |
                 ((guint32) map.data[6] << 8) | map.data[7];

    media_recorder_note_sender_report (feed->rec, feed->index, ntp, ts, now);
  }
  media_recorder_push_rtp (feed->rec, feed->index, map.data, map.size, g_get_monotonic_time ());
  gst_buffer_unmap (b, &map);
  feed->packets++;
  return GST_FLOW_OK;
}

/* Runs @description (with appsinks named "a" and/or "v") to EOS, feeding
 * their RTP to @rec as tracks 0 (audio) and 1 (video). */
static void
publish (MediaRecorder *rec, const char *description, guint *audio_packets,
         guint *video_packets)
{
  g_autoptr (GError) error = NULL;
  GstElement *pipe = gst_parse_launch (description, &error);
  GstAppSinkCallbacks cb = { .new_sample = feed_sample };
  Feed feeds[2] = { { rec, 0, 0 }, { rec, 1, 0 } };
  const char *names[2] = { "a", "v" };
  GstBus *bus;
  GstMessage *msg;

  g_assert_no_error (error);
  for (int i = 0; i < 2; i++) {
    GstElement *sink = gst_bin_get_by_name (GST_BIN (pipe), names[i]);

    if (sink == NULL)
      continue;
    g_object_set (sink, "sync", FALSE, NULL);
    gst_app_sink_set_callbacks (GST_APP_SINK (sink), &cb, &feeds[i], NULL);
    gst_object_unref (sink);
  }
  g_assert_cmpint (gst_element_set_state (pipe, GST_STATE_PLAYING), !=, GST_STATE_CHANGE_FAILURE);
  bus = gst_element_get_bus (pipe);
  msg = gst_bus_timed_pop_filtered (bus, 60 * GST_SECOND, GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  g_assert_nonnull (msg);
  g_assert_cmpint (GST_MESSAGE_TYPE (msg), ==, GST_MESSAGE_EOS);
  gst_message_unref (msg);
  gst_object_unref (bus);
  gst_element_set_state (pipe, GST_STATE_NULL);
  gst_object_unref (pipe);
  *audio_packets = feeds[0].packets;
  *video_packets = feeds[1].packets;
}

/* ---- decoding the vault file -------------------------------------------------- */

typedef struct {
  CauVaultReader *reader;
  guint64 offset;
  GMutex lock;
  GstClockTime first[2], last[2];   /* [0] audio, [1] video: decoded PTS */
  guint buffers[2];
  GstElement *pipe;
} Decode;

static void
decode_need_data (GstAppSrc *src, guint length, gpointer user_data)
{
  Decode *d = user_data;
  GstBuffer *b = gst_buffer_new_allocate (NULL, 65536, NULL);
  GstMapInfo map;
  gssize n;

  gst_buffer_map (b, &map, GST_MAP_WRITE);
  n = cau_vault_reader_read (d->reader, d->offset, map.data, 65536, NULL);
  gst_buffer_unmap (b, &map);
  if (n <= 0) {
    gst_buffer_unref (b);
    gst_app_src_end_of_stream (src);
    return;
  }
  gst_buffer_set_size (b, n);
  d->offset += n;
  gst_app_src_push_buffer (src, b);
}

static GstPadProbeReturn
decoded_probe (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  Decode *d = g_object_get_data (G_OBJECT (pad), "decode");
  int kind = GPOINTER_TO_INT (user_data);
  GstBuffer *b = GST_PAD_PROBE_INFO_BUFFER (info);
  GstClockTime end;

  if (!GST_BUFFER_PTS_IS_VALID (b))
    return GST_PAD_PROBE_OK;
  end = GST_BUFFER_PTS (b) + (GST_BUFFER_DURATION_IS_VALID (b) ? GST_BUFFER_DURATION (b) : 0);
  g_mutex_lock (&d->lock);
  if (d->buffers[kind]++ == 0)
    d->first[kind] = GST_BUFFER_PTS (b);
  d->first[kind] = MIN (d->first[kind], GST_BUFFER_PTS (b));
  d->last[kind] = MAX (d->last[kind], end);
  g_mutex_unlock (&d->lock);
  return GST_PAD_PROBE_OK;
}

static void
decode_pad_added (GstElement *decodebin, GstPad *pad, gpointer user_data)
{
  Decode *d = user_data;
  g_autoptr (GstCaps) caps = gst_pad_get_current_caps (pad);
  const char *name = gst_structure_get_name (gst_caps_get_structure (caps, 0));
  int kind = g_str_has_prefix (name, "video/") ? 1 : 0;
  GstElement *q = gst_element_factory_make ("queue", NULL);
  GstElement *sink = gst_element_factory_make ("fakesink", NULL);
  GstPad *qsink;

  g_object_set (sink, "sync", FALSE, NULL);
  gst_bin_add_many (GST_BIN (d->pipe), q, sink, NULL);
  gst_element_link (q, sink);
  gst_element_sync_state_with_parent (q);
  gst_element_sync_state_with_parent (sink);
  qsink = gst_element_get_static_pad (q, "sink");
  g_assert_cmpint (gst_pad_link (pad, qsink), ==, GST_PAD_LINK_OK);
  g_object_set_data (G_OBJECT (qsink), "decode", d);
  gst_pad_add_probe (qsink, GST_PAD_PROBE_TYPE_BUFFER, decoded_probe, GINT_TO_POINTER (kind), NULL);
  gst_object_unref (qsink);
}

/* Decodes the whole file; fills @d's first/last/buffers. */
static void
decode_file (Fixture *f, const char *file_name, Decode *d)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = g_build_filename (f->dir, file_name, NULL);
  GstElement *src, *decodebin;
  GstAppSrcCallbacks cb = { .need_data = decode_need_data };
  g_autoptr (GstCaps) caps = gst_caps_new_empty_simple ("video/x-matroska");
  GstBus *bus;
  GstMessage *msg;

  memset (d, 0, sizeof *d);
  g_mutex_init (&d->lock);
  d->reader = cau_vault_reader_open (path, f->key, &error);
  g_assert_no_error (error);
  d->pipe = gst_pipeline_new (NULL);
  src = gst_element_factory_make ("appsrc", NULL);
  decodebin = gst_element_factory_make ("decodebin", NULL);
  g_object_set (src, "caps", caps, "format", GST_FORMAT_BYTES, NULL);
  gst_app_src_set_callbacks (GST_APP_SRC (src), &cb, d, NULL);
  g_signal_connect (decodebin, "pad-added", G_CALLBACK (decode_pad_added), d);
  gst_bin_add_many (GST_BIN (d->pipe), src, decodebin, NULL);
  gst_element_link (src, decodebin);
  gst_element_set_state (d->pipe, GST_STATE_PLAYING);
  bus = gst_element_get_bus (d->pipe);
  msg = gst_bus_timed_pop_filtered (bus, 60 * GST_SECOND, GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  g_assert_nonnull (msg);
  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
    GError *e = NULL;

    gst_message_parse_error (msg, &e, NULL);
    g_error ("decoding %s: %s", file_name, e->message);
  }
  gst_message_unref (msg);
  gst_object_unref (bus);
  gst_element_set_state (d->pipe, GST_STATE_NULL);
  gst_object_unref (d->pipe);
  cau_vault_reader_free (d->reader);
  g_mutex_clear (&d->lock);
}

static double
span_s (Decode *d, int kind)
{
  return (double) (d->last[kind] - d->first[kind]) / GST_SECOND;
}

/* ---- tests -------------------------------------------------------------------- */

static const MediaRecorderTrackSpec opus_vp8[] = {
  { FALSE, "opus", 48000, 111 },
  { TRUE, "VP8", 90000, 96 },
};

/* 50 Opus buffers of 20 ms and 10 video frames make a second. */
#define AV_SOURCE(abuffers, vframes, venc, vpay) \
  "audiotestsrc is-live=true samplesperbuffer=960 num-buffers=" abuffers " " \
  "! audio/x-raw,rate=48000,channels=2 ! opusenc ! rtpopuspay pt=111 ! appsink name=a " \
  "videotestsrc is-live=true num-buffers=" vframes " " \
  "! video/x-raw,width=320,height=240,framerate=10/1 ! " venc " ! " vpay " ! appsink name=v"

static void
test_opus_vp8 (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  MediaRecorder *rec;
  MediaRecordingFile *file;
  guint audio = 0, video = 0;
  Decode d;
  g_autofree char *sha = NULL;
  g_autofree char *path = g_build_filename (f->dir, "r1-p1.mkv.cauv", NULL);

  rec = media_recorder_new ("p1", f->dir, "r1-p1.mkv.cauv", f->key, f->key_id,
                            g_get_monotonic_time (), opus_vp8, 2, &error);
  g_assert_no_error (error);
  g_assert_true (media_recorder_wants_keyframe (rec, 1));
  g_assert_false (media_recorder_wants_keyframe (rec, 0));
  /* 3 s: 150 × 20 ms of Opus, 30 frames of VP8 at 10 fps. */
  publish (rec, AV_SOURCE ("150", "30", "vp8enc deadline=1 keyframe-max-dist=10", "rtpvp8pay pt=96"),
           &audio, &video);
  g_assert_cmpuint (audio, >=, 150);
  g_assert_cmpuint (video, >=, 30);
  g_assert_false (media_recorder_has_failed (rec));
  file = media_recorder_finish (rec, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (file->participant_id, ==, "p1");
  g_assert_cmpstr (file->file_name, ==, "r1-p1.mkv.cauv");
  g_assert_true (file->has_audio);
  g_assert_true (file->has_video);
  g_assert_cmpuint (file->dropped_packets, ==, 0);
  g_assert_cmpint (file->duration_ms, >, 2500);
  g_assert_cmpint (file->duration_ms, <, 4000);
  g_assert_true (cau_vault_file_sha256 (path, &sha, &error));
  g_assert_cmpstr (sha, ==, file->sha256);
  {
    g_autoptr (CauVaultReader) r = cau_vault_reader_open (path, f->key, &error);

    g_assert_no_error (error);
    g_assert_true (cau_vault_reader_is_complete (r));
    g_assert_true (cau_vault_reader_verify (r, &error));
  }
  media_recording_file_free (file);

  decode_file (f, "r1-p1.mkv.cauv", &d);
  g_test_message ("audio %u buffers %.3f s, video %u frames %.3f s", d.buffers[0],
                  span_s (&d, 0), d.buffers[1], span_s (&d, 1));
  g_assert_cmpuint (d.buffers[0], >=, 140);
  g_assert_cmpuint (d.buffers[1], >=, 25);
  g_assert_cmpfloat_with_epsilon (span_s (&d, 0), 3.0, 0.3);
  g_assert_cmpfloat_with_epsilon (span_s (&d, 1), 3.0, 0.3);
}

static void
test_h264 (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  static const MediaRecorderTrackSpec specs[] = {
    { FALSE, "OPUS", 48000, 111 },
    { TRUE, "H264", 90000, 102 },
  };
  MediaRecorder *rec;
  MediaRecordingFile *file;
  guint audio = 0, video = 0;
  Decode d;

  if (gst_registry_check_feature_version (gst_registry_get (), "openh264enc", 1, 0, 0) == FALSE) {
    g_test_skip ("openh264enc is not installed");
    return;
  }
  rec = media_recorder_new ("p2", f->dir, "r2-p2.mkv.cauv", f->key, f->key_id,
                            g_get_monotonic_time (), specs, 2, &error);
  g_assert_no_error (error);
  publish (rec, AV_SOURCE ("100", "20", "openh264enc gop-size=10", "rtph264pay pt=102 config-interval=-1"),
           &audio, &video);
  file = media_recorder_finish (rec, &error);
  g_assert_no_error (error);
  g_assert_true (file->has_video);
  media_recording_file_free (file);
  decode_file (f, "r2-p2.mkv.cauv", &d);
  g_test_message ("audio %.3f s, video %u frames %.3f s", span_s (&d, 0), d.buffers[1],
                  span_s (&d, 1));
  g_assert_cmpuint (d.buffers[1], >=, 15);
  g_assert_cmpfloat_with_epsilon (span_s (&d, 1), 2.0, 0.3);
  g_assert_cmpfloat_with_epsilon (span_s (&d, 0), 2.0, 0.3);
}

static void
test_refused (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  static const MediaRecorderTrackSpec g722[] = { { FALSE, "G722", 8000, 9 } };
  g_autofree char *existing = g_build_filename (f->dir, "y.mkv.cauv", NULL);
  MediaRecorder *rec;

  rec = media_recorder_new ("p", f->dir, "x.mkv.cauv", f->key, f->key_id,
                            g_get_monotonic_time (), g722, 1, &error);
  g_assert_null (rec);
  g_assert_error (error, MEDIA_ERROR, MEDIA_ERROR_NO_CODEC);
  g_clear_error (&error);
  /* An existing file is never overwritten. */
  g_assert_true (g_file_set_contents (existing, "x", 1, NULL));
  rec = media_recorder_new ("p", f->dir, "y.mkv.cauv", f->key, f->key_id,
                            g_get_monotonic_time (), opus_vp8, 2, &error);
  g_assert_null (rec);
  g_assert_error (error, CAU_VAULT_ERROR, CAU_VAULT_ERROR_IO);
}

/* The hand-off never waits: with the pipeline stalled (its source pad
 * blocked), a burst three times the queue is accepted at once, the excess
 * dropped and counted, and the file still closes once it drains. */
static GstPadProbeReturn
block_probe (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  return GST_PAD_PROBE_OK;
}

static void
test_bounded_queue (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  MediaRecorder *rec;
  MediaRecordingFile *file;
  guint8 packet[1200] = { 0x80, 96 };
  gint64 now = g_get_monotonic_time ();
  guint n = 3 * MEDIA_RECORDER_QUEUE_BYTES / sizeof packet;
  guint capacity = MEDIA_RECORDER_QUEUE_BYTES / sizeof packet;
  GstPad *pad;
  gulong probe;

  rec = media_recorder_new ("p3", f->dir, "r3-p3.mkv.cauv", f->key, f->key_id, now, opus_vp8, 2,
                            &error);
  g_assert_no_error (error);
  pad = gst_element_get_static_pad (media_recorder_get_source (rec, 1), "src");
  probe = gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BLOCK_DOWNSTREAM, block_probe, NULL, NULL);
  for (guint i = 0; i < n; i++) {
    packet[2] = i >> 8;
    packet[3] = i;
    media_recorder_push_rtp (rec, 1, packet, sizeof packet, now);
  }
  /* Out-of-range tracks are ignored. */
  media_recorder_push_rtp (rec, 7, packet, sizeof packet, now);
  g_test_message ("%u pushed, %" G_GUINT64_FORMAT " dropped", n, media_recorder_get_dropped (rec));
  /* One packet may be in the blocked pad, the rest of the queue is full. */
  g_assert_cmpuint (media_recorder_get_dropped (rec), >=, n - capacity - 1);
  g_assert_cmpuint (media_recorder_get_dropped (rec), <=, n - capacity + 1);
  gst_pad_remove_probe (pad, probe);
  gst_object_unref (pad);
  file = media_recorder_finish (rec, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (file->dropped_packets, >=, n - capacity - 1);
  media_recording_file_free (file);
}

/* A video track that never sends is ended after a while, so the audio is
 * muxed and written during the call rather than held back for it. */
static void
test_silent_track (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = g_build_filename (f->dir, "r6-p.mkv.cauv", NULL);
  const char *audio_only = "audiotestsrc is-live=true samplesperbuffer=960 num-buffers=100 "
                           "! opusenc ! rtpopuspay pt=111 ! appsink name=a";
  MediaRecorder *rec;
  MediaRecordingFile *file;
  guint audio, video;
  guint64 before, after;

  rec = media_recorder_new ("p", f->dir, "r6-p.mkv.cauv", f->key, f->key_id,
                            g_get_monotonic_time (), opus_vp8, 2, &error);
  g_assert_no_error (error);
  publish (rec, audio_only, &audio, &video);
  {
    g_autoptr (CauVaultReader) r = cau_vault_reader_open (path, f->key, &error);

    g_assert_no_error (error);
    before = cau_vault_reader_get_size (r);
  }
  /* Too early: nothing ends. */
  media_recorder_end_silent_tracks (rec, g_get_monotonic_time ());
  g_assert_true (media_recorder_wants_keyframe (rec, 1));
  media_recorder_end_silent_tracks (rec, g_get_monotonic_time () + MEDIA_RECORDER_SILENT_US);
  g_assert_false (media_recorder_wants_keyframe (rec, 1));
  publish (rec, audio_only, &audio, &video);
  /* The muxer's output reaches the file within about a second (the
   * vault's chunk interval); a slow (sanitizer) build gets up to ten more
   * 2 s bursts. */
  for (int i = 0; i < 10; i++) {
    g_autoptr (CauVaultReader) r = cau_vault_reader_open (path, f->key, &error);

    g_assert_no_error (error);
    after = cau_vault_reader_get_size (r);
    if (after > before + 3000)
      break;
    /* Keep audio flowing so the writer gets a write past its interval. */
    publish (rec, audio_only, &audio, &video);
  }
  g_test_message ("written while waiting for video: %" G_GUINT64_FORMAT " bytes; after ending "
                  "it: %" G_GUINT64_FORMAT, before, after);
  /* Held back while the muxer waited; at least a second of Opus (~4 kB)
   * flushed once the video track was ended. */
  g_assert_cmpuint (before, <, 1000);
  g_assert_cmpuint (after, >, before + 3000);
  file = media_recorder_finish (rec, &error);
  g_assert_no_error (error);
  g_assert_true (file->has_audio);
  g_assert_false (file->has_video);
  media_recording_file_free (file);
}

/* ---- composition -------------------------------------------------------------- */

typedef struct {
  GMainLoop *loop;
  int last_percent;
  guint progress_calls;
  MediaRecordingFile *composed;
  GError *error;
} ComposeWait;

static void
on_progress (const char *recording_id, int percent, gpointer user_data)
{
  ComposeWait *w = user_data;

  g_assert_cmpint (percent, >, w->last_percent);
  g_assert_cmpint (percent, <=, 100);
  w->last_percent = percent;
  w->progress_calls++;
}

static void
on_composed (const char *recording_id, MediaRecordingFile *composed, const GError *error,
             gpointer user_data)
{
  ComposeWait *w = user_data;

  g_assert_cmpstr (recording_id, ==, "r4");
  if (composed != NULL) {
    w->composed = g_new0 (MediaRecordingFile, 1);
    w->composed->file_name = g_strdup (composed->file_name);
    w->composed->sha256 = g_strdup (composed->sha256);
    w->composed->size = composed->size;
  }
  if (error != NULL)
    w->error = g_error_copy (error);
  g_main_loop_quit (w->loop);
}

/* Records two participants' files, @names[0] then @names[1] (same origin). */
static void
record_two (Fixture *f, const char *const *names)
{
  g_autoptr (GError) error = NULL;
  gint64 origin = g_get_monotonic_time ();

  for (int i = 0; i < 2; i++) {
    guint audio, video;
    MediaRecorder *rec = media_recorder_new (names[i], f->dir, names[i], f->key, f->key_id,
                                             origin, opus_vp8, 2, &error);

    g_assert_no_error (error);
    publish (rec, AV_SOURCE ("100", "20", "vp8enc deadline=1 keyframe-max-dist=10", "rtpvp8pay pt=96"),
             &audio, &video);
    media_recording_file_free (media_recorder_finish (rec, &error));
    g_assert_no_error (error);
  }
}

static void
test_compose (Fixture *f, gconstpointer data)
{
  const char *names[] = { "r4-a.mkv.cauv", "r4-b.mkv.cauv", NULL };
  ComposeWait w = { .last_percent = -1 };
  Decode d;

  record_two (f, names);
  for (int i = 0; i < 2; i++) {
    decode_file (f, names[i], &d);
    g_test_message ("%s: video %.3f..%.3f s", names[i], (double) d.first[1] / GST_SECOND,
                    (double) d.last[1] / GST_SECOND);
  }
  w.loop = g_main_loop_new (NULL, FALSE);
  media_compose_recording ("r4", f->dir, names, f->key, f->key_id, on_progress, on_composed, &w);
  g_main_loop_run (w.loop);
  g_main_loop_unref (w.loop);
  g_assert_no_error (w.error);
  g_assert_nonnull (w.composed);
  g_assert_cmpstr (w.composed->file_name, ==, "r4-composed.mkv.cauv");
  g_assert_cmpuint (strlen (w.composed->sha256), ==, 64);
  g_assert_cmpuint (w.progress_calls, >, 0);
  decode_file (f, "r4-composed.mkv.cauv", &d);
  g_test_message ("composed: audio %.3f s, video %u frames %.3f s (%.3f..%.3f)", span_s (&d, 0),
                  d.buffers[1], span_s (&d, 1), (double) d.first[1] / GST_SECOND,
                  (double) d.last[1] / GST_SECOND);
  /* B was recorded after A (same origin): the grid spans both, ~4 s. */
  g_assert_cmpuint (d.buffers[1], >, 0);
  g_assert_cmpuint (d.buffers[0], >, 0);
  g_assert_cmpfloat (span_s (&d, 1), >, 3.0);
  media_recording_file_free (w.composed);
  media_compose_cancel_all ();          /* nothing runs: returns at once */
  {
    g_autofree char *composed = g_build_filename (f->dir, "r4-composed.mkv.cauv", NULL);

    g_assert_true (g_file_test (composed, G_FILE_TEST_EXISTS));
  }
}

/* The server's shutdown (server/main.c): a composition cancelled before its
 * thread has entered its loop still stops, its thread has ended when
 * media_compose_cancel_all() returns (its partial file, which exists from
 * the call on, is gone by then), and its done callback then reports
 * MEDIA_ERROR_CANCELLED on the caller's context. */
static void
test_compose_cancel (Fixture *f, gconstpointer data)
{
  const char *names[] = { "r4-a.mkv.cauv", "r4-b.mkv.cauv", NULL };
  g_autofree char *composed = g_build_filename (f->dir, "r4-composed.mkv.cauv", NULL);
  ComposeWait w = { .last_percent = -1 };

  record_two (f, names);
  w.loop = g_main_loop_new (NULL, FALSE);
  media_compose_recording ("r4", f->dir, names, f->key, f->key_id, on_progress, on_composed, &w);
  g_assert_true (g_file_test (composed, G_FILE_TEST_EXISTS));
  media_compose_cancel_all ();
  g_assert_false (g_file_test (composed, G_FILE_TEST_EXISTS));
  g_main_loop_run (w.loop);
  g_main_loop_unref (w.loop);
  g_assert_error (w.error, MEDIA_ERROR, MEDIA_ERROR_CANCELLED);
  g_assert_null (w.composed);
  /* It stopped at its loop's first turn: the 250 ms progress tick never
   * ran (a quit lost before the loop started would compose it all). */
  g_assert_cmpuint (w.progress_calls, ==, 0);
  g_clear_error (&w.error);
  /* the inputs are untouched */
  for (int i = 0; i < 2; i++) {
    g_autofree char *path = g_build_filename (f->dir, names[i], NULL);
    g_autoptr (GError) error = NULL;
    g_autoptr (CauVaultReader) reader = cau_vault_reader_open (path, f->key, &error);

    g_assert_no_error (error);
    g_assert_true (cau_vault_reader_verify (reader, &error));
    g_assert_true (cau_vault_reader_is_complete (reader));
  }
}

/* Inputs with one kind only: the composed file has that kind only (the
 * muxer does not wait for the other). */
static void
compose_one_kind (Fixture *f, gboolean video)
{
  g_autoptr (GError) error = NULL;
  const char *names[] = { "r5-x.mkv.cauv", NULL };
  const MediaRecorderTrackSpec *spec = &opus_vp8[video ? 1 : 0];
  ComposeWait w = { .last_percent = -1 };
  MediaRecorder *rec;
  guint audio, video_packets;
  Decode d;

  rec = media_recorder_new ("x", f->dir, names[0], f->key, f->key_id, g_get_monotonic_time (),
                            spec, 1, &error);
  g_assert_no_error (error);
  /* Track 0 of the recorder is the only one: feed the chosen kind as "a". */
  publish (rec, video ? "videotestsrc is-live=true num-buffers=20 ! video/x-raw,width=320,height=240,"
                        "framerate=10/1 ! vp8enc deadline=1 ! rtpvp8pay pt=96 ! appsink name=a"
                      : "audiotestsrc is-live=true samplesperbuffer=960 num-buffers=100 ! opusenc "
                        "! rtpopuspay pt=111 ! appsink name=a",
           &audio, &video_packets);
  media_recording_file_free (media_recorder_finish (rec, &error));
  g_assert_no_error (error);
  w.loop = g_main_loop_new (NULL, FALSE);
  media_compose_recording ("r4", f->dir, names, f->key, f->key_id, on_progress, on_composed, &w);
  g_main_loop_run (w.loop);
  g_main_loop_unref (w.loop);
  g_assert_no_error (w.error);
  g_assert_nonnull (w.composed);
  decode_file (f, "r4-composed.mkv.cauv", &d);
  g_test_message ("composed %s only: audio %u buffers, video %u frames", video ? "video" : "audio",
                  d.buffers[0], d.buffers[1]);
  if (video) {
    g_assert_cmpuint (d.buffers[1], >, 10);
    g_assert_cmpuint (d.buffers[0], ==, 0);
  } else {
    g_assert_cmpuint (d.buffers[0], >, 50);
    g_assert_cmpuint (d.buffers[1], ==, 0);
  }
  media_recording_file_free (w.composed);
}

static void
test_compose_audio_only (Fixture *f, gconstpointer data)
{
  compose_one_kind (f, FALSE);
}

static void
test_compose_video_only (Fixture *f, gconstpointer data)
{
  compose_one_kind (f, TRUE);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  gst_init (&argc, &argv);
#define ADD(name, fn) g_test_add ("/recorder/" name, Fixture, NULL, fixture_setup, fn, fixture_teardown)
  ADD ("opus-vp8", test_opus_vp8);
  ADD ("h264", test_h264);
  ADD ("refused", test_refused);
  ADD ("bounded-queue", test_bounded_queue);
  ADD ("silent-track", test_silent_track);
  ADD ("compose", test_compose);
  ADD ("compose-cancel", test_compose_cancel);
  ADD ("compose-audio-only", test_compose_audio_only);
  ADD ("compose-video-only", test_compose_video_only);
#undef ADD
  return g_test_run ();
}
