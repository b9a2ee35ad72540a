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

/* A publisher's incoming track. */
struct MediaTrack {
  MediaParticipant *owner;
  gchar *id;
  gchar *mid;
  gchar *kind;
  gboolean video;
  MediaSdpCodec *codec;     /* deep copy of the negotiated codec */
  guint32 ssrc;             /* 0 until known */
  RtpSourceStats stats;
  GPtrArray *slots;         /* MediaSlot* of subscribers receiving it */
  gint64 last_keyframe_request_us;
  guint8 fir_seq;
  guint64 target_bps;       /* REMB we advertise (loss-based, see room_tick) */
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
};

struct MediaRoom {
  MediaRoomEnv env;
  gchar *id;
  MediaRoomCallbacks callbacks;
  gpointer user_data;
  GHashTable *participants; /* id → MediaParticipant*, owned */
  GPtrArray *order;         /* MediaParticipant*, join order (not owned) */
  GSource *timer;
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
