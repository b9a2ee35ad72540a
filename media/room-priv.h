/* room-priv.h — the state of a room, shared by room.c (participants,
 * negotiation) and forward.c (the packet path and RTCP).  Worker-only. */
#pragma once

#include "media-priv.h"
#include "nack-cache.h"
#include "peer.h"
#include "room.h"
#include "rtp.h"
#include "rtp-stats.h"
#include "sdp.h"
#include "speaker-detector.h"

#define SDP_MAX_LEN (32 * 1024)
/* NACKs are answered for packets sent at most this long ago.  The packets
 * are kept once per publisher's track (or layer) as received, and each
 * subscriber's m-line logs how it rewrote them (nack-cache.h); both rings
 * have media_video_nack_slots() entries. */
#define NACK_MAX_AGE_MS 1000
#define KEYFRAME_MIN_INTERVAL_US (300 * G_TIME_SPAN_MILLISECOND)
#define MIN_BITRATE_BPS 100000

#define MEDIA_MAX_LAYERS 3

typedef struct MediaTrack MediaTrack;
typedef struct MediaParticipant MediaParticipant;
typedef struct MediaSlot MediaSlot;
typedef struct MediaRecorder MediaRecorder;
typedef struct MediaRecordingSession MediaRecordingSession;

/* One simulcast layer (encoding) of a publisher's video track
 * (simulcast.c).  Its SSRC is learned from the rid header extension
 * (RFC 8852) or given by a=ssrc-group:SIM. */
typedef struct {
  gchar *rid;               /* NULL for an a=ssrc-group:SIM layer */
  guint32 ssrc;             /* 0 until known */
  RtpSourceStats stats;
  guint64 window_bytes;     /* RTP bytes since window_start_us */
  gint64 window_start_us;
  guint64 bitrate_bps;      /* smoothed (EWMA 0.3 per ~1 s window); 0: silent in the
                             * last window (paused by the publisher) */
  gint64 last_keyframe_request_us;
  guint8 fir_seq;
  gint64 last_media_us;     /* last packet with a payload, 0: none */
} MediaLayer;

/* A publisher's incoming track. */
struct MediaTrack {
  MediaParticipant *owner;
  gchar *id;
  gchar *mid;
  gchar *kind;
  gboolean video;
  const char *source;       /* static: "microphone", "camera", "screen" */
  MediaSdpCodec *codec;     /* deep copy of the negotiated codec */
  guint32 ssrc;             /* 0 until known */
  RtpSourceStats stats;
  GPtrArray *slots;         /* MediaSlot* of subscribers receiving it */
  gint64 last_keyframe_request_us;
  guint8 fir_seq;
  guint64 target_bps;       /* REMB we advertise (loss-based, see room_tick) */
  guint record_index;       /* 1 + index in the owner's recorder; 0: not recorded */
  /* speaker.c: source enable, Last-N, active speaker, view switches */
  gboolean disabled;        /* not forwarded nor recorded (set_source_enabled) */
  gboolean last_n_off;      /* camera outside the room's Last-N: not forwarded */
  gboolean resume_at_keyframe; /* video resumed: forwarding waits for a key frame */
  GPtrArray *view_waiting;  /* MediaSlot* (view) switching to this track at its next key frame */
  gint64 paused_at_us;      /* when forwarding last stopped (timestamp step on resume) */
  guint8 audio_level_id;    /* RFC 6464 extmap id from the publish offer; 0: none */
  /* video: the packets as received, for the subscribers' NACKs; index 0
   * for a plain track, the layer's index for simulcast (made on first use) */
  NackCache *received[MEDIA_MAX_LAYERS];
  /* Simulcast (simulcast.c): n_layers 0 for a plain track, which uses
   * ssrc/stats above; else 2..3 layers and ssrc stays 0. */
  MediaLayer layers[MEDIA_MAX_LAYERS];
  guint n_layers;
  guint rank[MEDIA_MAX_LAYERS]; /* layer indices by measured bitrate, lowest first */
  guint n_ranked;               /* layers currently sending (ranked) */
  guint8 rid_ext_id;            /* negotiated sdes:rtp-stream-id id, 0: none */
  guint8 mid_ext_id;            /* negotiated sdes:mid id, 0: none */
  guint8 abs_send_time_id;      /* the publisher's abs-send-time id, 0: none */
  /* Recording of a simulcast track (simulcast.c): the recorder gets one
   * continuous stream, the best layer flowing, switched at key frames. */
  gint record_layer;            /* layer recorded now, -1: none yet */
  gint record_target;           /* layer wanted, -1: none flowing */
  gint64 record_last_us;        /* when the last packet was recorded */
  RtpRewriter record_rewriter;
  RtpVp8Rewriter record_vp8_rewriter;
};

/* One m-line of a subscriber's subscribe peer connection. */
struct MediaSlot {
  MediaParticipant *subscriber;
  gchar *mid;
  gchar *kind;
  MediaTrack *track;        /* NULL: inactive */
  MediaSdpCodec *codec_out; /* the track's codec with this session's PT */
  gboolean negotiated;      /* the client answered the offer carrying @track */
  gboolean want_keyframe;   /* video: no key frame forwarded since (re)start */
  guint32 ssrc_out;
  RtpRewriter rewriter;
  gboolean vp8;             /* the track is VP8: carry PictureID/TL0PICIDX */
  RtpVp8Rewriter vp8_rewriter;
  NackLog *sent;            /* video: what was sent, for NACKs; NULL for audio */
  guint32 packets_sent;
  guint32 octets_sent;
  guint8 fraction_lost;     /* last receiver report, /256 */
  /* view.c: a WHEP slot, bound by the server rather than by an offer */
  gboolean view;
  MediaTrack *view_next;    /* switches to this track at its next key frame */
  /* Simulcast (simulcast.c), for a slot of a track with layers. */
  gint layer;               /* layer index forwarded now, -1: none yet */
  gint target_layer;        /* layer index wanted, -1: none chosen */
  gint64 up_since_us;       /* since when a higher layer would fit, 0: not */
  gint64 last_forward_us;   /* when the last packet was forwarded */
  gint64 probe_at_us;       /* when a probe (below) moved the target up, 0: none */
  guint64 probe_budget;     /* the budget then */
  gint64 probe_hold_us;     /* hold before the next probe: doubles after a failed one */
  MediaTrack *layer_track;  /* the track layer/target_layer refer to: a slot moved
                             * to another track (view.c) starts over */
};

struct MediaParticipant {
  MediaRoom *room;
  gchar *id;
  MediaParticipantCallbacks callbacks;
  gpointer user_data;
  GDestroyNotify notify;

  MediaPeer *publish;
  MediaPeer *subscribe;
  GPtrArray *tracks;        /* MediaTrack*, owned */
  GPtrArray *slots;         /* MediaSlot*, owned */
  gboolean offer_pending;
  guint64 subscribe_version;
  guint64 session_id;
  guint32 rtcp_ssrc;        /* our sender SSRC in RTCP towards this client */
  MediaRecorder *recorder;  /* while the room records and this participant publishes */
  guint recording_files;    /* files started for this participant (naming) */
  /* speaker.c */
  SpeakerEntry speaker;     /* audio activity (speaker-detector.h) */
  gint64 last_spoke_us;     /* last time it was the dominant speaker; 0: never */
  guint disabled_sources;   /* SPEAKER_SOURCE_* bits: new tracks start disabled */
  gboolean viewer;          /* view.c: a WHEP viewer (client-offered subscribe peer) */
  /* Downlink estimate of the subscribe connection (simulcast.c). */
  guint64 remb_bps;         /* last REMB from the subscriber, 0: none */
  guint64 loss_bps;         /* loss-based estimate (GCC), 0: not started */
  GHashTable *max_layers;   /* "publisher\ntrack" → GINT_TO_POINTER (layer + 2) */
};

struct MediaRoom {
  MediaRoomEnv env;
  gchar *id;
  MediaRoomCallbacks callbacks;
  gpointer user_data;
  GHashTable *participants; /* id → MediaParticipant*, owned */
  GPtrArray *order;         /* MediaParticipant*, join order (not owned) */
  GSource *timer;
  MediaRecordingSession *recording;  /* NULL: not recording (recording.c) */
  gboolean recording_failed;
  /* speaker.c */
  SpeakerDetector speaker;
  guint last_n;             /* 0: everyone's camera is forwarded */
  gint64 next_speaker_decision_us;
};

/* forward.c */
/* Entries of a video NACK ring: NACK_MAX_AGE_MS of packets at the REMB
 * ceiling we advertise to publishers (@config->max_bitrate_kbps). */
unsigned media_video_nack_slots (const MediaConfig *config);
/* @fb ("nack", "nack pli", "ccm fir", ...) was negotiated for @codec. */
gboolean media_codec_has_feedback (const MediaSdpCodec *codec, const char *fb);
/* TRUE for the first packet of a key frame of @codec (VP8: RFC 7741;
 * H.264: IDR or SPS, rtp.h); @otherwise for a codec that cannot be
 * inspected (callers that must not wait forever pass TRUE). */
gboolean media_packet_starts_keyframe (const MediaSdpCodec *codec, const uint8_t *packet,
                                       const RtpHeader *h, gboolean otherwise);
void media_forward_publisher_rtp (MediaPeer *peer, uint8_t *buf, size_t len,
                                  gpointer participant);
void media_forward_publisher_rtcp (MediaPeer *peer, uint8_t *buf, size_t len,
                                   gpointer participant);
void media_forward_subscriber_rtcp (MediaPeer *peer, uint8_t *buf, size_t len,
                                    gpointer participant);
/* Asks again for a key frame for every video slot of @p that has not
 * forwarded one since it started (called once a second): the first key
 * frame, or the answer to a PLI, may be lost on a weak link. */
void media_forward_keyframe_watch (MediaParticipant *p);
/* Once a second: @p's m-lines let go of the received-packet rings they sent
 * nothing from for over NACK_MAX_AGE_MS (publishers who left or switched
 * away), so that those rings are freed. */
void media_forward_release_idle (MediaParticipant *p);
/* Receiver reports and REMB to one publisher (called once a second). */
void media_forward_publisher_reports (MediaParticipant *p);
/* PLI (or FIR) to the track's publisher, rate-limited unless @force. */
void media_track_request_keyframe (MediaTrack *track, gboolean force);

/* room.c, for speaker.c and view.c */
MediaParticipant *media_room_lookup (MediaRoom *room, const char *participant_id, GError **error);
GError *media_sdp_error_to_media (GError *sdp_error);
MediaPeer *media_participant_new_peer (MediaParticipant *p, MediaPcKind pc, gboolean controlling,
                                       GError **error);
void media_participant_local_description (MediaParticipant *p, MediaPeer *peer,
                                          MediaSdpSetup setup, gchar **candidates,
                                          MediaSdpLocal *local);
/* Closes the publish peer (state CLOSED posted) and removes every track
 * (track_removed posted for each); the subscribe peer stays. */
void media_participant_drop_publish (MediaParticipant *p);

/* speaker.c: hooks of room.c and forward.c */
/* After a publish negotiation: audio-level extension ids, disabled
 * sources, Last-N and view bindings for the new tracks. */
void media_speaker_published (MediaParticipant *p, const MediaSdpDescription *offer);
/* Before the participant is freed (it may be the dominant speaker). */
void media_speaker_participant_leaving (MediaParticipant *p);
/* After a participant left: Last-N and view bindings. */
void media_speaker_room_changed (MediaRoom *room);
/* From track_free() and slot_free(): forget pending view switches. */
void media_speaker_track_freed (MediaTrack *track);
void media_view_slot_freed (MediaSlot *slot);
/* Once a second (room_tick): silence timeout of the dominant speaker. */
void media_speaker_tick (MediaRoom *room);
/* The packet path, for a track with audio_level_id != 0, not disabled. */
void media_speaker_audio_level (MediaTrack *track, const uint8_t *packet, const RtpHeader *h,
                                gint64 now_us);
/* The packet path, for a track with last_n_off, resume_at_keyframe or
 * a view slot waiting: FALSE when the packet must not be fanned out. */
gboolean media_speaker_release (MediaTrack *track, const uint8_t *packet, const RtpHeader *h);
/* Publishers (participants with tracks), the dominant speaker first, then
 * by the last time each was the dominant speaker, then in join order.
 * (transfer container) */
GPtrArray *media_speaker_rank (MediaRoom *room);
/* view.c: re-binds the room's WHEP slots (publishers or speaker changed). */
void media_view_refresh (MediaRoom *room);
/* view.c, once a second: key frames again for slots still waiting. */
void media_view_tick (MediaRoom *room);
/* view.c: @track's key frame begins: its waiting view slots switch to it. */
void media_view_take_waiting (MediaTrack *track);
/* simulcast.c */
/* Sets up @track's layers from its publish section (rids or SIM group,
 * rid/mid extension ids).  Layers already known by rid keep their SSRC. */
void media_simulcast_track_setup (MediaTrack *track, const MediaSdpSection *section);
void media_simulcast_track_clear (MediaTrack *track);
/* The simulcast track and layer of a packet of @p whose SSRC no track
 * knows yet, from its mid and rid header extensions; NULL if none. */
MediaTrack *media_simulcast_learn (MediaParticipant *p, const uint8_t *packet,
                                   const RtpHeader *h, gint *layer);
/* The layer of @track with @ssrc, or -1. */
gint media_simulcast_layer_by_ssrc (const MediaTrack *track, guint32 ssrc);
/* Per received packet of layer @layer: stats and bitrate window. */
void media_simulcast_note_packet (MediaTrack *track, gint layer, const RtpHeader *h,
                                  size_t len, guint64 now_us);
/* Whether @slot forwards this packet of @layer; switches the slot to its
 * target layer at a key frame of that layer (rewriters told). */
gboolean media_simulcast_slot_accept (MediaSlot *slot, gint layer, const uint8_t *packet,
                                      const RtpHeader *h, gint64 now_us);
/* A new subscriber slot on a simulcast track: no layer yet, target chosen. */
void media_simulcast_slot_init (MediaSlot *slot);
/* PLI/FIR for one layer, rate-limited per layer unless @force. */
void media_simulcast_request_keyframe (MediaTrack *track, gint layer, gboolean force);
/* A subscriber's REMB. */
void media_simulcast_note_remb (MediaParticipant *subscriber, guint64 bps);
/* Once a second: bitrates, ranking, estimates, layer choices. */
void media_simulcast_tick (MediaRoom *room);
void media_simulcast_participant_clear (MediaParticipant *p);
/* Subscribers' video m-lines offer abs-send-time with this id: without
 * it Chromium's receive-side estimate (its REMB) works from RTP timestamps,
 * where the publisher's pacing looks like queueing, and falls to tens of
 * kbit/s.  (transfer none) the MediaSdpExtmap* list to offer. */
#define MEDIA_SUBSCRIBE_ABS_SEND_TIME_ID 3
const GPtrArray *media_simulcast_subscribe_extmaps (void);
/* A forwarded video packet's RFC 8285 one-byte extension block, in place
 * and at the same size: the publisher's abs-send-time under
 * MEDIA_SUBSCRIBE_ABS_SEND_TIME_ID, everything else padding (the
 * publisher's ids mean nothing in the subscriber's session). */
void media_simulcast_rewrite_extensions (const MediaTrack *track, uint8_t *packet,
                                         const RtpHeader *h);
/* @track's recording starts (recording.c): no layer yet, a new stream. */
void media_simulcast_record_start (MediaTrack *track);
/* Whether the recorder takes this packet of @layer.  It follows the
 * highest ranked layer that sent media in the last second (ranked by
 * bitrate as for slots; the offer's order until measured), asking for a
 * key frame of that layer when the choice changes and switching at it.
 * When TRUE, @out (at least @len bytes) holds the packet rewritten onto
 * the recorded stream: one SSRC, continuous seq, timestamp and VP8
 * PictureID/TL0PICIDX, so the recorder never sees a layer change.  A
 * sender report of track->record_layer maps through
 * track->record_rewriter.ts_offset. */
gboolean media_simulcast_record_packet (MediaTrack *track, gint layer, const uint8_t *packet,
                                        size_t len, const RtpHeader *h, gint64 now_us,
                                        uint8_t *out);
/* Forwarding of @track resumes (speaker.c's resume_at_keyframe): every
 * slot waits for a key frame of its target layer, which is requested. */
void media_simulcast_track_resume (MediaTrack *track);

/* recording.c: the room's recording (media_engine_start_recording). */
MediaRecordingSession *media_recording_session_new (GMainContext *control, const char *room_id,
                                                    const char *recording_id,
                                                    const MediaRecordingOptions *options,
                                                    MediaRecordingEventFunc on_event,
                                                    MediaRecordingDoneFunc on_done,
                                                    gpointer user_data);
/* Ends a session that never started: on_done gets @error (taken). */
void media_recording_session_refuse (MediaRecordingSession *session, GError *error);
/* Waits until every recorder handed to a finishing thread has closed its
 * file (media_engine_free(), after the workers stopped: a file is then
 * whole on disk before the process may exit). */
void media_recording_wait_finished (void);
/* Takes the session's reference; refuses it when the room already records. */
void media_recording_start (MediaRoom *room, MediaRecordingSession *session);
void media_recording_stop (MediaRoom *room);
void media_recording_participant_published (MediaParticipant *p);
void media_recording_participant_leaving (MediaParticipant *p);
/* Once a second: key frames still wanted, failed pipelines, disk space. */
void media_recording_tick (MediaRoom *room);
/* The relay's hook (forward.c): the publisher's cleartext packet, before
 * any rewriting, for a track with record_index != 0. */
void media_recording_push (MediaParticipant *p, MediaTrack *track, const uint8_t *packet,
                           size_t len, const RtpHeader *h, gint64 now_us);
void media_recording_note_sender_report (MediaParticipant *p, MediaTrack *track, guint64 ntp,
                                         guint32 rtp_ts, gint64 now_us);
