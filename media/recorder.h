/* recorder.h — one participant's recording: a GStreamer pipeline fed with
 * the publisher's cleartext RTP, muxed to Matroska and written to a vault
 * file (records/vault.h).
 *
 *   appsrc (RTP) → rtpjitterbuffer → depayloader [→ parser] → queue ─┐
 *   appsrc (RTP) → rtpjitterbuffer → depayloader [→ parser] → queue ─┴→
 *        matroskamux streamable=true → appsink → CauVaultWriter
 *
 * Opus (rtpopusdepay, opusparse), VP8 (rtpvp8depay) and H.264
 * (rtph264depay, h264parse, avc/au).  The muxer runs in streamable (live)
 * mode: no seek head or cues to rewrite at the end, so a file cut anywhere
 * (kill -9) plays up to its last flushed vault chunk (≤ 1 s behind).
 *
 * Timestamps.  Audio and video leave a sender with different latencies
 * (the video encoder and pacer add 100–250 ms), so arrival times do not
 * keep them in sync.  Each track is put on the sender's clock instead: its
 * first RTCP sender report (media_recorder_note_sender_report) maps RTP
 * timestamps to the sender's NTP time, and one offset per participant maps
 * that onto the pipeline clock (the monotonic clock the relay reads).
 * Packets are held (bounded, ≤ 4 s) until their track's first report; a
 * track without one by then is timed by arrival.  rtpjitterbuffer
 * reorders and keeps those times (they are linear in the RTP timestamps).
 *
 * Threads.  media_recorder_push_rtp() and _note_sender_report() are
 * called on the room's worker (one thread at a time) and never block: the appsrc queue is bounded (MEDIA_RECORDER_QUEUE_BYTES per
 * track); when it is full the packet is dropped and counted.  The pipeline
 * runs on GStreamer's own streaming threads; the appsink writes the vault
 * from the muxer's thread.  media_recorder_finish() blocks (EOS drain) and
 * must not run on a worker.
 */
#pragma once

#include "media.h"

G_BEGIN_DECLS

#define MEDIA_RECORDER_QUEUE_BYTES (2 * 1024 * 1024)
#define MEDIA_RECORDER_MAX_TRACKS 4
/* A track that has sent nothing this long after the file started, while
 * another has, is ended (the muxer would otherwise wait for it). */
#define MEDIA_RECORDER_SILENT_US (5 * G_USEC_PER_SEC)

typedef struct MediaRecorder MediaRecorder;

typedef struct {
  gboolean video;
  const char *encoding;      /* "opus", "VP8", "H264" (any case) */
  guint clock_rate;
  guint8 payload_type;
} MediaRecorderTrackSpec;

/* TRUE when the recorder can depayload @encoding of that kind. */
gboolean media_recorder_supports (gboolean video, const char *encoding);

/* Creates @directory/@file_name (must not exist) and starts the pipeline
 * (PLAYING).  @origin_us: monotonic time of the recording's start, shared
 * by every participant's file: timestamps in the file count from it, so
 * files of one recording line up (compose.c).  Unsupported tracks in @specs are skipped; their index is
 * still reserved (push_rtp ignores it).  NULL + error when no track is
 * supported, an element is missing or the file cannot be created.
 * (transfer full) */
MediaRecorder *media_recorder_new (const char *participant_id, const char *directory,
                                   const char *file_name, const guint8 server_key[32],
                                   const char *key_id, gint64 origin_us,
                                   const MediaRecorderTrackSpec *specs, guint n_specs,
                                   GError **error);

/* Hands one cleartext RTP packet of track @index to the pipeline.  Any
 * thread; never blocks; the packet is copied.  @arrival_us: monotonic time
 * (g_get_monotonic_time) of its arrival. */
void media_recorder_push_rtp (MediaRecorder *rec, guint index, const guint8 *packet,
                              gsize len, gint64 arrival_us);

/* Ends every track that has sent nothing MEDIA_RECORDER_SILENT_US after
 * the file started while another track has (a camera that never sends):
 * the muxer waits for data on every track, so a silent one would hold the
 * others back.  Its later packets are dropped (counted).  Worker only,
 * called once a second. */
void media_recorder_end_silent_tracks (MediaRecorder *rec, gint64 now_us);

/* The publisher's RTCP sender report for track @index (RFC 3550 §6.4.1):
 * @ntp (64-bit NTP) and @rtp_ts are the same instant.  Worker only. */
void media_recorder_note_sender_report (MediaRecorder *rec, guint index, guint64 ntp,
                                        guint32 rtp_ts, gint64 arrival_us);

/* Video track @index has not yet received a key frame start (the relay
 * then asks the publisher for one, RFC 4585 §6.3.1).  Worker only. */
gboolean media_recorder_wants_keyframe (MediaRecorder *rec, guint index);
/* Called by the relay when a packet of @index starts a key frame. */
void media_recorder_note_keyframe (MediaRecorder *rec, guint index);

/* TRUE once the pipeline posted an error or the vault could not be
 * written; the recorder should then be finished.  Any thread. */
gboolean media_recorder_has_failed (MediaRecorder *rec);
guint64 media_recorder_get_dropped (MediaRecorder *rec);
/* The appsrc of track @index (transfer none), or NULL: for tests, which
 * block its pad to stand for a pipeline that falls behind. */
gpointer media_recorder_get_source (MediaRecorder *rec, guint index);

/* Ends every stream, waits for the muxer to drain (bounded), closes the
 * vault file and frees @rec.  Returns the file's description (transfer
 * full), also when the pipeline failed (then @error is set as well and
 * the file holds what was written).  Blocking; never on a worker. */
MediaRecordingFile *media_recorder_finish (MediaRecorder *rec, GError **error);

G_END_DECLS
