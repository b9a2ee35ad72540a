/* media.h — public interface of Cầu's media plane (the SFU).
 *
 * The media plane owns every WebRTC peer connection on the server side:
 * ICE (libnice), DTLS (OpenSSL), SRTP (libsrtp2), and the selective
 * forwarding of RTP between the participants of a room.
 *
 * Threads.  media_engine_new() starts a fixed pool of worker threads, each
 * running its own GMainContext.  A room is pinned to one worker for its whole
 * life; all of its peers, timers and forwarding run there, so the packet path
 * takes no lock.  Every function in this header is called from the
 * *control context* (the GMainContext that was thread-default when the engine
 * was created, i.e. signaling's main loop); it posts a closure to the room's
 * worker and returns at once.  Every callback is delivered back on the
 * control context, exactly once for the one-shot callbacks.
 *
 * Identifiers.  Rooms and participants are identified by strings chosen by
 * the caller (signaling).  A participant has at most two peer connections:
 * MEDIA_PC_PUBLISH (client offers, server answers recvonly) and
 * MEDIA_PC_SUBSCRIBE (server offers sendonly, client answers), as in
 * docs/protocol.md.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define MEDIA_ERROR (media_error_quark ())
GQuark media_error_quark (void);

typedef enum {
  MEDIA_ERROR_BAD_SDP,           /* SDP does not parse or breaks a rule */
  MEDIA_ERROR_NO_CODEC,          /* no m-line offers a codec we relay   */
  MEDIA_ERROR_NOT_FOUND,         /* unknown room or participant         */
  MEDIA_ERROR_STATE,             /* call out of order (answer w/o offer) */
  MEDIA_ERROR_BAD_CANDIDATE,     /* ICE candidate does not parse        */
  MEDIA_ERROR_INTERNAL,          /* libnice/OpenSSL/libsrtp2 failure    */
  MEDIA_ERROR_CANCELLED,         /* stopped by media_compose_cancel_all() */
} MediaError;

typedef enum {
  MEDIA_PC_PUBLISH = 0,
  MEDIA_PC_SUBSCRIBE = 1,
} MediaPcKind;

typedef enum {
  MEDIA_STATE_NEW,
  MEDIA_STATE_CONNECTING,   /* ICE checking / DTLS handshake    */
  MEDIA_STATE_CONNECTED,    /* DTLS done, SRTP keys installed    */
  MEDIA_STATE_FAILED,       /* ICE failed or DTLS failed/refused */
  MEDIA_STATE_CLOSED,
} MediaState;

const char *media_pc_kind_to_string (MediaPcKind pc);      /* "publish" / "subscribe" */
const char *media_state_to_string (MediaState state);      /* "new", "connecting", ... */

typedef struct {
  guint workers;          /* worker threads; 0 = one per online core          */
  guint port_min;         /* UDP port range for ICE host candidates (0 = any) */
  guint port_max;
  gchar **ice_addresses;  /* NULL-terminated IPs to gather on (copied, not
                           * modified); NULL or empty = every non-loopback
                           * interface plus 127.0.0.1                          */
  guint max_bitrate_kbps; /* REMB ceiling advertised to publishers            */
  guint max_participants; /* per room                                          */
} MediaConfig;

typedef struct MediaEngine MediaEngine;

/* A track as seen by signaling.  Strings are owned by the struct. */
typedef struct {
  gchar *participant_id;  /* publisher */
  gchar *track_id;        /* stable within the participant, e.g. "a0", "v0" */
  gchar *kind;            /* "audio" or "video" */
  gchar *codec;           /* "opus", "VP8", "H264" */
  gchar *source;          /* "microphone", "camera" or "screen" (see
                           * MediaPublishOptions) */
  guint layers;           /* simulcast layers the publisher offered: 1 when it
                           * sends one encoding, up to 3 (rid) */
} MediaTrackInfo;

void media_track_info_free (MediaTrackInfo *info);

/* Counters for /metrics.  Read with relaxed atomics; approximate. */
typedef struct {
  guint64 rooms;
  guint64 peers;
  guint64 rtp_packets_in;
  guint64 rtp_packets_out;
  guint64 rtp_bytes_in;
  guint64 rtp_bytes_out;
  guint64 rtcp_packets_in;
  guint64 rtcp_packets_out;
  guint64 nack_retransmits;
  guint64 plis_sent;
  guint64 dropped_malformed;   /* garbage, truncated, unparsable packets   */
  guint64 dropped_srtp;        /* authentication / replay failures         */
  guint64 dropped_unknown;     /* RTP for an SSRC we cannot place           */
  guint64 dtls_failures;
  guint64 layer_switches;      /* simulcast layer changes of subscriber slots */
  guint64 speaker_changes;     /* active-speaker changes, all rooms */
  guint64 consent_expired;     /* peers failed: 30 s without an answer to
                                * RFC 7675 consent checks */
  guint64 gso_sends;           /* UDP GSO sends (poller.c) ...            */
  guint64 gso_datagrams;       /* ... and the datagrams they carried      */
} MediaStats;

/* (transfer full) on success; NULL + @error when a worker, the DTLS
 * certificate or a library fails to start. */
MediaEngine *media_engine_new (const MediaConfig *config, GError **error);

/* Stops the workers, closes every peer.  One-shot callbacks still pending
 * are dropped without being called (their user_data is not freed: callers
 * that care identify requests by id rather than own them through the
 * callback).  Participant destroy notifies are posted to the control
 * context; iterate it once after this to run them. */
void media_engine_free (MediaEngine *engine);

/* The SHA-256 fingerprint of the engine's DTLS certificate, "AB:CD:..". */
const char *media_engine_get_fingerprint (MediaEngine *engine);

void media_engine_get_stats (MediaEngine *engine, MediaStats *stats);

/* Per-participant notifications, delivered on the control context.
 * Any member may be NULL. */
typedef struct {
  /* A local ICE candidate for @pc ("candidate:..." attribute value without
   * the "a=" prefix), or @candidate == NULL for end-of-candidates.
   * Candidates are also present in the SDP returned to the caller; this
   * exists for trickle. */
  void (*local_candidate) (const char *participant_id, MediaPcKind pc,
                           const char *candidate, const char *mid,
                           guint mline_index, gpointer user_data);
  void (*state_changed)   (const char *participant_id, MediaPcKind pc,
                           MediaState state, gpointer user_data);
} MediaParticipantCallbacks;

/* Room-wide notifications, delivered on the control context. */
typedef struct {
  void (*track_added)   (const char *room_id, const MediaTrackInfo *track,
                         gpointer user_data);
  void (*track_removed) (const char *room_id, const MediaTrackInfo *track,
                         gpointer user_data);
  /* The dominant speaker changed (RFC 6464 audio levels): @participant_id,
   * or NULL when nobody has spoken for a while.  Rate-limited by the
   * detector (no more than a few changes per second). */
  void (*active_speaker) (const char *room_id, const char *participant_id,
                          gpointer user_data);
} MediaRoomCallbacks;

/* Creates the room on the least loaded worker if it does not exist.  The
 * callbacks are installed once per room (the first call wins); the room
 * lives until media_engine_close_room(). */
void media_engine_open_room (MediaEngine *engine, const char *room_id,
                             const MediaRoomCallbacks *callbacks,
                             gpointer user_data);
void media_engine_close_room (MediaEngine *engine, const char *room_id);

/* Adds a participant with no peer connection yet.  @notify frees
 * @user_data after the participant is removed and no callback is pending. */
void media_engine_add_participant (MediaEngine *engine, const char *room_id,
                                   const char *participant_id,
                                   const MediaParticipantCallbacks *callbacks,
                                   gpointer user_data, GDestroyNotify notify);

/* Closes the participant's peers; its tracks are removed (track_removed
 * fires for each) and its subscriptions end. */
void media_engine_remove_participant (MediaEngine *engine, const char *room_id,
                                      const char *participant_id);

/* @sdp: (transfer none) or NULL on error.  @tracks: (element-type
 * MediaTrackInfo) (transfer none) the participant's published tracks after
 * this negotiation, NULL for subscribe callbacks. */
typedef void (*MediaSdpCallback) (const char *sdp, GPtrArray *tracks,
                                  const GError *error, gpointer user_data);
typedef void (*MediaDoneCallback) (const GError *error, gpointer user_data);

/* Publish: the client's offer (sendonly/sendrecv m-lines) → the server's
 * recvonly answer, with ICE candidates already gathered into it.  A second
 * call renegotiates the same peer connection (ICE restart when the ufrag
 * changes).  New tracks fire track_added for the room. */
void media_engine_publish (MediaEngine *engine, const char *room_id,
                           const char *participant_id, const char *offer_sdp,
                           MediaSdpCallback callback, gpointer user_data);

/* Subscribe: builds a server offer carrying one sendonly m-line per track of
 * every other participant (m-lines of removed tracks stay, inactive, bundled,
 * and are reused).  msid is "<participant_id> <track_id>".  The caller must
 * deliver the answer with media_engine_subscribe_answer() before asking for
 * another offer; asking while one is pending fails with MEDIA_ERROR_STATE. */
void media_engine_subscribe_offer (MediaEngine *engine, const char *room_id,
                                   const char *participant_id,
                                   MediaSdpCallback callback, gpointer user_data);
/* A refused answer (bad SDP, wrong m-lines) leaves the offer outstanding, so
 * the client may answer again. */
void media_engine_subscribe_answer (MediaEngine *engine, const char *room_id,
                                    const char *participant_id,
                                    const char *answer_sdp,
                                    MediaDoneCallback callback, gpointer user_data);

/* Trickle: a remote candidate ("candidate:..." with or without "a="), or
 * NULL for end-of-candidates.  Candidates that do not parse, or that use
 * mDNS ".local" names or TCP, are ignored (counted); @callback may be NULL. */
void media_engine_add_remote_candidate (MediaEngine *engine, const char *room_id,
                                        const char *participant_id, MediaPcKind pc,
                                        const char *candidate,
                                        MediaDoneCallback callback, gpointer user_data);

/* Asks every publisher in the room (or only @publisher_id) for a key frame
 * (RFC 4585 §6.3.1 PLI). */
void media_engine_request_keyframe (MediaEngine *engine, const char *room_id,
                                    const char *publisher_id);

/* ---- multi-party rooms and briefings (issue 6) ------------------------ */

/* What signaling knows about an offer that SDP does not say. */
typedef struct {
  /* NULL-terminated mids of the offer's video m-lines that carry a screen
   * share (source "screen" rather than "camera"); NULL = none. */
  const char *const *screen_mids;
} MediaPublishOptions;

/* media_engine_publish() with options (@options may be NULL). */
void media_engine_publish_with_options (MediaEngine *engine, const char *room_id,
                                        const char *participant_id, const char *offer_sdp,
                                        const MediaPublishOptions *options,
                                        MediaSdpCallback callback, gpointer user_data);

/* Closes the participant's publish peer connection: its tracks are removed
 * (track_removed fires for each, subscribers' m-lines go inactive); its
 * subscribe peer connection stays.  Used when a briefing host takes the
 * floor back.  A later publish starts a new peer connection. */
void media_engine_unpublish (MediaEngine *engine, const char *room_id,
                             const char *participant_id);

/* Stops (@enabled FALSE) or resumes forwarding the participant's tracks of
 * @source ("microphone", "camera", "screen"; NULL = all) to every
 * subscriber and the recorder: self mute and host mute.  Packets still
 * arrive and are counted; resuming a video source asks for a key frame. */
void media_engine_set_source_enabled (MediaEngine *engine, const char *room_id,
                                      const char *participant_id, const char *source,
                                      gboolean enabled);

/* Last-N: forward camera video only of the @last_n most recent speakers
 * (0 = everyone, the default).  Audio and screen shares are always
 * forwarded.  A speaker entering the N gets a key frame request. */
void media_engine_set_last_n (MediaEngine *engine, const char *room_id, guint last_n);

/* Simulcast layers: 0 is the lowest resolution, up to layers - 1. */
#define MEDIA_LAYER_AUTO (-1)
/* A subscriber's ceiling for one publisher's video track (thumbnails low,
 * speaker high): the forwarder sends the best layer at or below @max_layer
 * that the subscriber's estimated downlink allows.  MEDIA_LAYER_AUTO (the
 * default) = no ceiling.  Unknown ids are ignored. */
void media_engine_set_max_layer (MediaEngine *engine, const char *room_id,
                                 const char *subscriber_id, const char *publisher_id,
                                 const char *track_id, gint max_layer);

/* WHEP (draft-ietf-wish-whep): the client offers recvonly audio/video
 * m-lines; the server answers sendonly, binding them to the room's
 * presenters' tracks (documented in media/view.c), and re-binds them when
 * the presenter changes, so the viewer never renegotiates.  The participant
 * must have been added; it has a subscribe peer connection only. */
void media_engine_view (MediaEngine *engine, const char *room_id,
                        const char *participant_id, const char *offer_sdp,
                        MediaSdpCallback callback, gpointer user_data);

/* ---- recording (media/recording.c, media/recorder.c, media/compose.c) -- */

typedef struct {
  const char *directory;          /* absolute; exists; files are created inside */
  const guint8 *server_key;       /* 32 bytes (cau_vault_key_load); copied */
  const char *key_id;
  guint64 min_free_bytes;         /* stop with MEDIA_RECORDING_DISK_LOW below this */
} MediaRecordingOptions;

typedef enum {
  MEDIA_RECORDING_STARTED,        /* first file opened */
  MEDIA_RECORDING_DISK_LOW,       /* stopped itself: not enough free space */
  MEDIA_RECORDING_FAILED,         /* a pipeline failed; stopped */
} MediaRecordingEvent;

typedef struct {
  char *participant_id;
  char *file_name;                /* relative to directory, e.g. "<recording>-<participant>.mkv.cauv" */
  gint64 started_at_us;           /* wall clock (g_get_real_time), for the row */
  gint64 duration_ms;
  char *sha256;                   /* hex of the encrypted file */
  guint64 size;                   /* bytes on disk */
  gboolean has_audio, has_video;
  guint64 dropped_packets;        /* the bounded queue was full */
} MediaRecordingFile;
void media_recording_file_free (MediaRecordingFile *file);

typedef void (*MediaRecordingEventFunc) (const char *room_id, const char *recording_id,
                                         MediaRecordingEvent event, const char *detail,
                                         gpointer user_data);
typedef void (*MediaRecordingDoneFunc) (const char *room_id, const char *recording_id,
                                        GPtrArray *files /* MediaRecordingFile*, transfer none */,
                                        const GError *error, gpointer user_data);

/* Records every published track of @room_id (and of publishers who join
 * later) until stopped: one file per participant (a participant who leaves
 * and publishes again gets a second file), audio and video in sync,
 * Matroska in the vault format.  Asks each publisher for a key frame at
 * start.  Callbacks run on the control context; on_done runs exactly once
 * per start (also when the start is refused: unknown room, already
 * recording, disk low), after the last file is closed.  Closing the room
 * stops the recording.  Forwarding never waits for a recorder: the
 * hand-off is a bounded queue. */
void media_engine_start_recording (MediaEngine *engine, const char *room_id,
                                   const char *recording_id, const MediaRecordingOptions *options,
                                   MediaRecordingEventFunc on_event, MediaRecordingDoneFunc on_done,
                                   gpointer user_data);
/* Stops and finalises every file; on_done (given at start) then reports them. */
void media_engine_stop_recording (MediaEngine *engine, const char *room_id);

/* After the call: composes the per-participant files into one file (video
 * grid with compositor, audio with audiomixer; VP8 + Opus in Matroska),
 * encrypted the same way, on a thread of its own.  The composed file is
 * "<recording_id>-composed.mkv.cauv" in @directory.  progress is 0–100;
 * done gets the composed file (transfer none) or an error.  Both run on
 * the context that was thread-default when this was called. */
typedef void (*MediaComposeProgressFunc) (const char *recording_id, int percent, gpointer user_data);
typedef void (*MediaComposeDoneFunc) (const char *recording_id, MediaRecordingFile *composed,
                                      const GError *error, gpointer user_data);
void media_compose_recording (const char *recording_id, const char *directory,
                              const char *const *file_names, const guint8 server_key[32],
                              const char *key_id, MediaComposeProgressFunc progress,
                              MediaComposeDoneFunc done, gpointer user_data);
/* Cancels every composition that is still running and waits for their
 * threads to end.  Each removes its partial file and reports
 * MEDIA_ERROR_CANCELLED to its done callback, which is posted to its
 * caller's context as usual (and runs only if that context runs again).
 * For the server's shutdown: once this returns, no composition reads or
 * writes a file or calls OpenSSL or GStreamer, so the process may exit. */
void media_compose_cancel_all (void);

G_END_DECLS
