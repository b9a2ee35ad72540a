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

#define SDP_MAX_LEN (32 * 1024)
/* 512 packets: over 3 s of 1.5 Mbit/s video, well past NACK_MAX_AGE_MS. */
#define VIDEO_CACHE_SLOTS 512
#define NACK_MAX_AGE_MS 1000
#define KEYFRAME_MIN_INTERVAL_US (300 * G_TIME_SPAN_MILLISECOND)
#define MIN_BITRATE_BPS 100000

typedef struct MediaTrack MediaTrack;
typedef struct MediaParticipant MediaParticipant;
typedef struct MediaSlot MediaSlot;
typedef struct MediaRecorder MediaRecorder;
typedef struct MediaRecordingSession MediaRecordingSession;

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
  NackCache *cache;
  guint32 packets_sent;
  guint32 octets_sent;
  guint8 fraction_lost;     /* last receiver report, /256 */
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
};

/* forward.c */
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
/* Receiver reports and REMB to one publisher (called once a second). */
void media_forward_publisher_reports (MediaParticipant *p);
/* PLI (or FIR) to the track's publisher, rate-limited unless @force. */
void media_track_request_keyframe (MediaTrack *track, gboolean force);

/* recording.c: the room's recording (media_engine_start_recording). */
MediaRecordingSession *media_recording_session_new (GMainContext *control, const char *room_id,
                                                    const char *recording_id,
                                                    const MediaRecordingOptions *options,
                                                    MediaRecordingEventFunc on_event,
                                                    MediaRecordingDoneFunc on_done,
                                                    gpointer user_data);
/* Ends a session that never started: on_done gets @error (taken). */
void media_recording_session_refuse (MediaRecordingSession *session, GError *error);
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
