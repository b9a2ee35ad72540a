/* compose.c — the post-call composition of a recording (media.h,
 * media_compose_recording).
 *
 *   vault reader → appsrc → decodebin ─ video → videoconvert → videoscale → compositor (grid)
 *        (per participant file)       └ audio → audioconvert → audioresample → audiomixer
 *   compositor → videoconvert → vp8enc ─┐
 *   audiomixer → audioconvert → opusenc ┴→ matroskamux → appsink → vault writer
 *
 * Participant files are decrypted chunk by chunk into the appsrcs (no
 * plaintext temporary file).  Their timestamps share the recording's
 * origin (recorder.h), so a participant who joined late lands at the right
 * time in the grid.  The pipeline runs on a thread of its own with its own
 * GMainContext; progress is the share of encrypted input consumed. */
#include <string.h>
#include <glib/gstdio.h>
#include <gst/gst.h>
#include <gst/app/gstappsrc.h>
#include <gst/app/gstappsink.h>

#include "media.h"
#include "thread-set.h"
#include "vault.h"

#define GRID_WIDTH 1280
#define GRID_HEIGHT 720
#define READ_SIZE (64 * 1024)
#define STALL_US (60 * G_USEC_PER_SEC)

typedef struct Compose Compose;

typedef struct {
  Compose *compose;
  CauVaultReader *reader;
  guint64 offset;
  GstElement *src;
  guint index;
} ComposeInput;

struct Compose {
  char *recording_id;
  char *directory;
  char *file_name;
  char *path;
  GMainContext *caller;
  MediaComposeProgressFunc progress;
  MediaComposeDoneFunc done;
  gpointer user_data;

  GMainContext *context;    /* the composition thread's */
  GMainLoop *loop;
  GstElement *pipeline;
  GstElement *compositor, *mixer, *mux;
  GstPad *mux_video_pad, *mux_audio_pad;
  ComposeInput *inputs;
  guint n_inputs;
  guint cols, rows;
  guint n_video, n_audio;   /* compositor / audiomixer pads linked */
  guint n_no_more_pads;
  guint64 total_bytes;      /* plaintext bytes of every input */
  guint64 fed_bytes;        /* atomic */
  int last_percent;
  guint64 out_bytes;        /* atomic: written by the appsink */
  guint64 last_activity;    /* fed + out at the last tick that saw a change */
  gint64 last_activity_us;
  CauVaultWriter *writer;   /* written from the appsink's thread only */
  GError *error;            /* first failure; guarded by lock */
  gboolean finishing;       /* outcome decided, later failures dropped; guarded by lock */
  GMutex lock;

  MediaRecordingFile *result;
};

/* Compositions whose thread has not finished, so that
 * media_compose_cancel_all() can stop them and wait for them. */
static MediaThreadSet running;

/* ---- back to the caller ---------------------------------------------------- */

typedef struct {
  Compose *compose;
  int percent;              /* < 0: done */
} ComposePosted;

static void compose_free (Compose *c);

static gboolean
posted_dispatch (gpointer data)
{
  ComposePosted *p = data;
  Compose *c = p->compose;

  if (p->percent >= 0) {
    if (c->progress != NULL)
      c->progress (c->recording_id, p->percent, c->user_data);
  } else {
    if (c->done != NULL)
      c->done (c->recording_id, c->error == NULL ? c->result : NULL, c->error, c->user_data);
    compose_free (c);
  }
  return G_SOURCE_REMOVE;
}

static void
compose_post (Compose *c, int percent)
{
  ComposePosted *p = g_new0 (ComposePosted, 1);
  GSource *source = g_idle_source_new ();

  p->compose = c;
  p->percent = percent;
  g_source_set_callback (source, posted_dispatch, p, g_free);
  g_source_attach (source, c->caller);
  g_source_unref (source);
}

static gboolean
quit_loop (gpointer data)
{
  g_main_loop_quit (data);
  return G_SOURCE_REMOVE;
}

/* Keeps the first error and stops the composition.  The loop is quit from
 * inside the composition's context: a g_main_loop_quit() made before the
 * thread enters g_main_loop_run() would be lost. */
static void
compose_fail (Compose *c, GError *error)
{
  GSource *source;

  g_mutex_lock (&c->lock);
  if (c->error == NULL && !c->finishing)
    c->error = error;
  else
    g_error_free (error);
  g_mutex_unlock (&c->lock);
  if (c->loop == NULL)
    return;
  source = g_idle_source_new ();
  g_source_set_priority (source, G_PRIORITY_HIGH);   /* before the progress tick */
  g_source_set_callback (source, quit_loop, g_main_loop_ref (c->loop),
                         (GDestroyNotify) g_main_loop_unref);
  g_source_attach (source, c->context);
  g_source_unref (source);
}

/* ---- inputs: decrypted on demand ------------------------------------------ */

static void
input_need_data (GstAppSrc *src, guint length, gpointer user_data)
{
  ComposeInput *in = user_data;
  GError *error = NULL;
  GstBuffer *buffer = gst_buffer_new_allocate (NULL, READ_SIZE, NULL);
  GstMapInfo map;
  gssize n;

  gst_buffer_map (buffer, &map, GST_MAP_WRITE);
  n = cau_vault_reader_read (in->reader, in->offset, map.data, READ_SIZE, &error);
  gst_buffer_unmap (buffer, &map);
  if (n <= 0) {
    gst_buffer_unref (buffer);
    if (n < 0)
      compose_fail (in->compose, error);
    gst_app_src_end_of_stream (src);
    return;
  }
  gst_buffer_set_size (buffer, (gsize) n);
  GST_BUFFER_OFFSET (buffer) = in->offset;
  in->offset += (guint64) n;
  __atomic_fetch_add (&in->compose->fed_bytes, (guint64) n, __ATOMIC_RELAXED);
  gst_app_src_push_buffer (src, buffer);
}

static gboolean
link_chain (GstElement *pipeline, GstPad *from, const char *const *factories, GstPad *to,
            GstElement **last_caps, GstCaps *caps)
{
  GstElement *prev = NULL;
  GstPad *sink;
  gboolean ok;

  for (guint i = 0; factories[i] != NULL; i++) {
    GstElement *e = gst_element_factory_make (factories[i], NULL);

    if (e == NULL)
      return FALSE;
    if (g_strcmp0 (factories[i], "capsfilter") == 0 && caps != NULL)
      g_object_set (e, "caps", caps, NULL);
    gst_bin_add (GST_BIN (pipeline), e);
    gst_element_sync_state_with_parent (e);
    if (prev == NULL) {
      sink = gst_element_get_static_pad (e, "sink");
      ok = gst_pad_link (from, sink) == GST_PAD_LINK_OK;
      gst_object_unref (sink);
    } else {
      ok = gst_element_link (prev, e);
    }
    if (!ok)
      return FALSE;
    prev = e;
  }
  {
    GstPad *src = gst_element_get_static_pad (prev, "src");

    ok = gst_pad_link (src, to) == GST_PAD_LINK_OK;
    gst_object_unref (src);
  }
  (void) last_caps;
  return ok;
}

/* matroskademux starts each file's segment at its first timestamp, so
 * every input would start at running time 0; the files' timestamps all
 * count from the recording's start, so keep them as running times. */
static GstPadProbeReturn
absolute_segment_probe (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  GstEvent *event = GST_PAD_PROBE_INFO_EVENT (info);
  const GstSegment *segment;
  GstSegment copy;

  if (GST_EVENT_TYPE (event) != GST_EVENT_SEGMENT)
    return GST_PAD_PROBE_OK;
  gst_event_parse_segment (event, &segment);
  if (segment->format != GST_FORMAT_TIME || segment->start == 0)
    return GST_PAD_PROBE_OK;
  gst_segment_copy_into (segment, &copy);
  copy.start = 0;
  copy.time = 0;
  copy.position = 0;
  copy.base = 0;
  gst_event_unref (event);
  GST_PAD_PROBE_INFO_DATA (info) = gst_event_new_segment (&copy);
  return GST_PAD_PROBE_OK;
}

static void
decode_pad_added (GstElement *decodebin, GstPad *pad, gpointer user_data)
{
  ComposeInput *in = user_data;
  Compose *c = in->compose;
  g_autoptr (GstCaps) caps = gst_pad_get_current_caps (pad);
  const char *name = caps != NULL ? gst_structure_get_name (gst_caps_get_structure (caps, 0)) : "";

  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, absolute_segment_probe, NULL, NULL);

  if (g_str_has_prefix (name, "video/")) {
    static const char *const video[] = { "queue", "videoconvert", "videoscale", "capsfilter", NULL };
    guint cell_w = GRID_WIDTH / c->cols, cell_h = GRID_HEIGHT / c->rows;
    g_autoptr (GstCaps) cell = gst_caps_new_simple ("video/x-raw", "width", G_TYPE_INT,
                                                    (int) cell_w, "height", G_TYPE_INT,
                                                    (int) cell_h, "pixel-aspect-ratio",
                                                    GST_TYPE_FRACTION, 1, 1, NULL);
    GstPad *sink = gst_element_request_pad_simple (c->compositor, "sink_%u");

    g_object_set (sink, "xpos", (int) ((in->index % c->cols) * cell_w), "ypos",
                  (int) ((in->index / c->cols) * cell_h), NULL);
    if (!link_chain (c->pipeline, pad, video, sink, NULL, cell))
      compose_fail (c, g_error_new (MEDIA_ERROR, MEDIA_ERROR_INTERNAL,
                                    "composition: cannot link a video input"));
    else
      c->n_video++;
    gst_object_unref (sink);
  } else if (g_str_has_prefix (name, "audio/")) {
    static const char *const audio[] = { "queue", "audioconvert", "audioresample", NULL };
    GstPad *sink = gst_element_request_pad_simple (c->mixer, "sink_%u");

    if (!link_chain (c->pipeline, pad, audio, sink, NULL, NULL))
      compose_fail (c, g_error_new (MEDIA_ERROR, MEDIA_ERROR_INTERNAL,
                                    "composition: cannot link an audio input"));
    else
      c->n_audio++;
    gst_object_unref (sink);
  }
}

/* Takes the muxer's pad for a kind no input has away before the muxer
 * starts (it waits for data on every pad), with the branch feeding it. */
static void
release_unused (Compose *c, GstPad **mux_pad)
{
  GstPad *peer = gst_pad_get_peer (*mux_pad);

  if (peer != NULL) {
    gst_pad_unlink (peer, *mux_pad);
    gst_object_unref (peer);
  }
  gst_element_release_request_pad (c->mux, *mux_pad);
  gst_object_unref (*mux_pad);
  *mux_pad = NULL;
}

/* Runs on the composition thread once every input's decodebin has
 * announced all its streams. */
static gboolean
check_inputs_complete (gpointer user_data)
{
  Compose *c = user_data;

  if (c->n_video == 0 && c->mux_video_pad != NULL)
    release_unused (c, &c->mux_video_pad);
  if (c->n_audio == 0 && c->mux_audio_pad != NULL)
    release_unused (c, &c->mux_audio_pad);
  if (c->mux_video_pad == NULL && c->mux_audio_pad == NULL)
    compose_fail (c, g_error_new (MEDIA_ERROR, MEDIA_ERROR_NO_CODEC,
                                  "composition: no input has audio or video"));
  return G_SOURCE_REMOVE;
}

static void
decode_no_more_pads (GstElement *decodebin, gpointer user_data)
{
  ComposeInput *in = user_data;
  Compose *c = in->compose;

  if ((guint) g_atomic_int_add ((gint *) &c->n_no_more_pads, 1) + 1 == c->n_inputs)
    g_main_context_invoke (c->context, check_inputs_complete, c);
}

/* ---- output ---------------------------------------------------------------- */

static GstFlowReturn
sink_new_sample (GstAppSink *sink, gpointer user_data)
{
  Compose *c = user_data;
  g_autoptr (GstSample) sample = gst_app_sink_pull_sample (sink);
  GstBuffer *buffer;
  GstMapInfo map;
  GError *error = NULL;
  gboolean ok;

  if (sample == NULL)
    return GST_FLOW_EOS;
  buffer = gst_sample_get_buffer (sample);
  if (buffer == NULL || !gst_buffer_map (buffer, &map, GST_MAP_READ))
    return GST_FLOW_OK;
  ok = cau_vault_writer_write (c->writer, map.data, map.size, &error);
  __atomic_fetch_add (&c->out_bytes, (guint64) map.size, __ATOMIC_RELAXED);
  gst_buffer_unmap (buffer, &map);
  if (!ok) {
    compose_fail (c, error);
    return GST_FLOW_ERROR;
  }
  return GST_FLOW_OK;
}

static gboolean
bus_watch (GstBus *bus, GstMessage *message, gpointer user_data)
{
  Compose *c = user_data;

  if (GST_MESSAGE_TYPE (message) == GST_MESSAGE_ERROR) {
    GError *error = NULL;

    gst_message_parse_error (message, &error, NULL);
    compose_fail (c, g_error_new (MEDIA_ERROR, MEDIA_ERROR_INTERNAL, "composition: %s",
                                  error->message));
    g_error_free (error);
  } else if (GST_MESSAGE_TYPE (message) == GST_MESSAGE_EOS) {
    g_main_loop_quit (c->loop);
  }
  return G_SOURCE_CONTINUE;
}

static gboolean
progress_tick (gpointer user_data)
{
  Compose *c = user_data;
  guint64 fed = __atomic_load_n (&c->fed_bytes, __ATOMIC_RELAXED);
  guint64 activity = fed + __atomic_load_n (&c->out_bytes, __ATOMIC_RELAXED);
  int percent = c->total_bytes > 0 ? (int) MIN (99, fed * 100 / c->total_bytes) : 0;
  gint64 now = g_get_monotonic_time ();

  /* A pipeline that neither reads nor writes for a minute is stuck (an
   * input the demuxer cannot finish, a muxer waiting on a stream that
   * never comes): fail rather than leave the chart at n % forever. */
  if (activity != c->last_activity || c->last_activity_us == 0) {
    c->last_activity = activity;
    c->last_activity_us = now;
  } else if (now - c->last_activity_us > STALL_US) {
    compose_fail (c, g_error_new (MEDIA_ERROR, MEDIA_ERROR_INTERNAL,
                                  "composition stalled at %d %%", MAX (percent, 0)));
    return G_SOURCE_CONTINUE;   /* the loop is quitting; compose_thread destroys us */
  }

  if (percent > c->last_percent) {
    c->last_percent = percent;
    compose_post (c, percent);
  }
  return G_SOURCE_CONTINUE;
}

static GstElement *
add (Compose *c, const char *factory)
{
  GstElement *e = gst_element_factory_make (factory, NULL);

  if (e == NULL) {
    compose_fail (c, g_error_new (MEDIA_ERROR, MEDIA_ERROR_INTERNAL,
                                  "GStreamer element %s is not installed", factory));
    return NULL;
  }
  gst_bin_add (GST_BIN (c->pipeline), e);
  return e;
}

static gboolean
compose_build (Compose *c)
{
  GstElement *vconv, *venc, *vq, *aconv, *aenc, *aq, *sink;
  GstAppSinkCallbacks sink_callbacks = { .new_sample = sink_new_sample };
  GstAppSrcCallbacks src_callbacks = { .need_data = input_need_data };
  g_autoptr (GstCaps) grid = NULL;
  GstPad *pad;

  c->pipeline = gst_pipeline_new (NULL);
  if ((c->compositor = add (c, "compositor")) == NULL || (vconv = add (c, "videoconvert")) == NULL ||
      (venc = add (c, "vp8enc")) == NULL || (vq = add (c, "queue")) == NULL ||
      (c->mixer = add (c, "audiomixer")) == NULL || (aconv = add (c, "audioconvert")) == NULL ||
      (aenc = add (c, "opusenc")) == NULL || (aq = add (c, "queue")) == NULL ||
      (c->mux = add (c, "matroskamux")) == NULL || (sink = add (c, "appsink")) == NULL)
    return FALSE;
  g_object_set (c->compositor, "background", 1 /* black */, NULL);
  g_object_set (venc, "deadline", (gint64) 1, "cpu-used", 8, "target-bitrate", 1500000,
                "keyframe-max-dist", 60, NULL);
  g_object_set (c->mux, "streamable", TRUE, "writing-app", "Cau", NULL);
  g_object_set (sink, "sync", FALSE, "async", FALSE, NULL);
  gst_app_sink_set_callbacks (GST_APP_SINK (sink), &sink_callbacks, c, NULL);
  grid = gst_caps_new_simple ("video/x-raw", "width", G_TYPE_INT, GRID_WIDTH, "height",
                              G_TYPE_INT, GRID_HEIGHT, "framerate", GST_TYPE_FRACTION, 25, 1,
                              NULL);
  if (!gst_element_link_filtered (c->compositor, vconv, grid) ||
      !gst_element_link_many (vconv, venc, vq, NULL) ||
      !gst_element_link_many (c->mixer, aconv, aenc, aq, NULL) ||
      !gst_element_link (c->mux, sink))
    goto link_failed;
  c->mux_video_pad = gst_element_request_pad_simple (c->mux, "video_%u");
  pad = gst_element_get_static_pad (vq, "src");
  if (gst_pad_link (pad, c->mux_video_pad) != GST_PAD_LINK_OK) {
    gst_object_unref (pad);
    goto link_failed;
  }
  gst_object_unref (pad);
  c->mux_audio_pad = gst_element_request_pad_simple (c->mux, "audio_%u");
  pad = gst_element_get_static_pad (aq, "src");
  if (gst_pad_link (pad, c->mux_audio_pad) != GST_PAD_LINK_OK) {
    gst_object_unref (pad);
    goto link_failed;
  }
  gst_object_unref (pad);

  for (guint i = 0; i < c->n_inputs; i++) {
    ComposeInput *in = &c->inputs[i];
    GstElement *decode;
    g_autoptr (GstCaps) mkv = gst_caps_new_empty_simple ("video/x-matroska");

    if ((in->src = add (c, "appsrc")) == NULL || (decode = add (c, "decodebin")) == NULL)
      return FALSE;
    g_object_set (in->src, "caps", mkv, "stream-type", 0 /* stream */, "format",
                  GST_FORMAT_BYTES, NULL);
    gst_app_src_set_callbacks (GST_APP_SRC (in->src), &src_callbacks, in, NULL);
    g_signal_connect (decode, "pad-added", G_CALLBACK (decode_pad_added), in);
    g_signal_connect (decode, "no-more-pads", G_CALLBACK (decode_no_more_pads), in);
    if (!gst_element_link (in->src, decode))
      goto link_failed;
  }
  return TRUE;

link_failed:
  compose_fail (c, g_error_new (MEDIA_ERROR, MEDIA_ERROR_INTERNAL,
                                "composition: cannot link the pipeline"));
  return FALSE;
}

static gpointer
compose_thread (gpointer data)
{
  Compose *c = data;
  GError *error = NULL;
  GSource *tick;
  GstBus *bus;
  gboolean failed;

  g_main_context_push_thread_default (c->context);
  if (compose_build (c)) {
    bus = gst_element_get_bus (c->pipeline);
    gst_bus_add_watch (bus, bus_watch, c);
    tick = g_timeout_source_new (250);
    g_source_set_callback (tick, progress_tick, c, NULL);
    g_source_attach (tick, c->context);
    if (gst_element_set_state (c->pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
      compose_fail (c, g_error_new (MEDIA_ERROR, MEDIA_ERROR_INTERNAL,
                                    "composition pipeline did not start"));
    else
      g_main_loop_run (c->loop);
    gst_element_set_state (c->pipeline, GST_STATE_NULL);
    g_source_destroy (tick);
    g_source_unref (tick);
    gst_bus_remove_watch (bus);
    gst_bus_set_flushing (bus, TRUE);   /* late stream-status messages (recorder.c) */
    gst_object_unref (bus);
  }
  /* The outcome is decided here: a cancel that comes later is dropped, and
   * the file is either closed or removed before the thread ends. */
  g_mutex_lock (&c->lock);
  c->finishing = TRUE;
  failed = c->error != NULL;
  g_mutex_unlock (&c->lock);
  if (!failed) {
    MediaRecordingFile *f = g_new0 (MediaRecordingFile, 1);

    if (cau_vault_writer_close (c->writer, &f->sha256, &f->size, &error)) {
      f->participant_id = NULL;
      f->file_name = g_strdup (c->file_name);
      f->started_at_us = g_get_real_time ();
      f->has_audio = c->n_audio > 0;
      f->has_video = c->n_video > 0;
      {
        gint64 pos = 0;

        if (gst_element_query_position (c->mux, GST_FORMAT_TIME, &pos))
          f->duration_ms = pos / GST_MSECOND;
      }
      c->result = f;
    } else {
      media_recording_file_free (f);
      c->error = error;
    }
  }
  if (c->error != NULL) {
    g_clear_pointer (&c->writer, cau_vault_writer_free);
    g_unlink (c->path);
  }
  g_main_context_pop_thread_default (c->context);
  /* Before the post: once posted, @c may be freed on the caller's side. */
  media_thread_set_leave (&running, c);
  compose_post (c, -1);
  return NULL;
}

static void
compose_free (Compose *c)
{
  for (guint i = 0; i < c->n_inputs; i++)
    cau_vault_reader_free (c->inputs[i].reader);
  g_free (c->inputs);
  if (c->mux_video_pad != NULL)
    gst_object_unref (c->mux_video_pad);
  if (c->mux_audio_pad != NULL)
    gst_object_unref (c->mux_audio_pad);
  if (c->pipeline != NULL)
    gst_object_unref (c->pipeline);
  cau_vault_writer_free (c->writer);
  media_recording_file_free (c->result);
  g_clear_error (&c->error);
  g_mutex_clear (&c->lock);
  if (c->loop != NULL)
    g_main_loop_unref (c->loop);
  if (c->context != NULL)
    g_main_context_unref (c->context);
  g_main_context_unref (c->caller);
  g_free (c->recording_id);
  g_free (c->directory);
  g_free (c->file_name);
  g_free (c->path);
  g_free (c);
}

void
media_compose_recording (const char *recording_id, const char *directory,
                         const char *const *file_names, const guint8 server_key[32],
                         const char *key_id, MediaComposeProgressFunc progress,
                         MediaComposeDoneFunc done, gpointer user_data)
{
  Compose *c;
  guint n;

  g_return_if_fail (recording_id != NULL && directory != NULL && file_names != NULL);
  g_return_if_fail (server_key != NULL && key_id != NULL);

  gst_init (NULL, NULL);
  c = g_new0 (Compose, 1);
  g_mutex_init (&c->lock);
  c->recording_id = g_strdup (recording_id);
  c->directory = g_strdup (directory);
  c->caller = g_main_context_ref_thread_default ();
  c->progress = progress;
  c->done = done;
  c->user_data = user_data;
  c->last_percent = -1;
  n = g_strv_length ((char **) file_names);
  c->inputs = g_new0 (ComposeInput, MAX (n, 1));
  c->n_inputs = n;
  {
    g_autofree char *safe = g_strdup (recording_id);

    for (char *p = safe; *p != '\0'; p++)
      if (!g_ascii_isalnum (*p) && *p != '-' && *p != '_')
        *p = '_';
    c->file_name = g_strdup_printf ("%s-composed.mkv.cauv", safe);
  }
  c->path = g_build_filename (directory, c->file_name, NULL);

  if (n == 0) {
    c->error = g_error_new (MEDIA_ERROR, MEDIA_ERROR_NOT_FOUND, "nothing to compose");
    compose_post (c, -1);
    return;
  }
  for (guint i = 0; i < n; i++) {
    g_autofree char *path = NULL;

    if (strchr (file_names[i], '/') != NULL || file_names[i][0] == '.') {
      c->error = g_error_new (MEDIA_ERROR, MEDIA_ERROR_NOT_FOUND, "bad file name %s",
                              file_names[i]);
      compose_post (c, -1);
      return;
    }
    path = g_build_filename (directory, file_names[i], NULL);
    c->inputs[i].compose = c;
    c->inputs[i].index = i;
    c->inputs[i].reader = cau_vault_reader_open (path, server_key, &c->error);
    if (c->inputs[i].reader == NULL) {
      compose_post (c, -1);
      return;
    }
    c->total_bytes += cau_vault_reader_get_size (c->inputs[i].reader);
  }
  c->cols = 1;
  while (c->cols * c->cols < n)
    c->cols++;
  c->rows = (n + c->cols - 1) / c->cols;
  c->writer = cau_vault_writer_new (c->path, server_key, key_id, &c->error);
  if (c->writer == NULL) {
    compose_post (c, -1);
    return;
  }
  c->context = g_main_context_new ();
  c->loop = g_main_loop_new (c->context, FALSE);
  media_thread_set_start (&running, "cau-compose", compose_thread, c);
}

/* media_thread_set_join_all()'s cancel: under the set's lock, so @job
 * (a Compose) is alive. */
static void
cancel_one (gpointer job, gpointer unused)
{
  Compose *c = job;

  g_message ("composition of %s cancelled: the server is stopping", c->recording_id);
  compose_fail (c, g_error_new (MEDIA_ERROR, MEDIA_ERROR_CANCELLED,
                                "composition of %s cancelled: the server is stopping",
                                c->recording_id));
}

void
media_compose_cancel_all (void)
{
  media_thread_set_join_all (&running, cancel_one, NULL);
}
