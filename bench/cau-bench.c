/* cau-bench.c — WebRTC load generator for caud and Janus (issue 3).
 *
 * Many peers in one process on one thread (the default GMainContext), so
 * that it can be pinned to one core.  Peers are media/'s MediaPeer (libnice
 * ICE, OpenSSL DTLS, libsrtp2); signaling goes through bench/session.h.
 *
 * Publishers send VP8-shaped video (key frame every few seconds) and
 * Opus-shaped audio, driven by one timer.  Video leaves through a pacer
 * modelled on libwebrtc's (traffic.h: 2.5 × the bitrate, 40 ms burst
 * interval by default), as a browser publisher sends it; --no-pacing sends
 * every frame's packets back-to-back as the encoder hands them over.  Subscribers receive with
 * MediaPeer's rtp_encrypted mode: most packets are counted from their clear
 * RTP header (loss and reordering by SSRC and sequence number), one in
 * --sample is decrypted to read the send stamp for the latency histograms:
 * to the moment cau-bench handles the packet ("lat_*"), and to the moment
 * the kernel queued it on the subscriber's socket ("relay_*", SIOCGSTAMPNS),
 * which leaves out cau-bench's own receive delay (its --batch-us wait and
 * main-loop work).
 *
 * Output: one JSON line per step on stdout; progress on stderr.
 * Scenarios:
 *   fanout   1 video publisher → N subscribers in one room
 *   consult  K rooms × 4 participants, each publishing and receiving the 3 others
 *   audio    one room, --speakers audio publishers (hearing each other) → N listeners
 *   briefing 1 publisher → N viewers in a briefing room, the publisher sending
 *            --simulcast-kbps layers (VP8 simulcast as Chromium sends it: one SSRC
 *            per layer, no a=ssrc in the offer, a=rid + a=simulcast:send, the
 *            sdes:mid and sdes:rtp-stream-id header extensions on every packet)
 *            when the server's `joined` says it accepts simulcast, else one
 *            layer at the top rate; viewers send REMB (--remb-kbps, cycled over
 *            the viewers) so that the server picks a layer per viewer, and each
 *            reports which layer it gets (a tag byte in the decrypted samples)
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include <jansson.h>

#include "certificate.h"
#include "peer.h"
#include "rtcp.h"
#include "rtp.h"
#include "sdp.h"
#include "srtp.h"

#include "poller.h"
#include "session.h"
#include "traffic.h"

#define MAX_RECV_STREAMS 64
#define STALL_LIMIT_US (200 * 1000)    /* a publisher further behind skips ahead */
#define KEYFRAME_MIN_GAP_US (500 * 1000)
#define MAX_PENDING_FRAMES 16            /* video frames waiting in the pacer */
#define MAX_LAYERS 3                     /* simulcast encodings */
#define MAX_REMB_CLASSES 8
/* RFC 8285 ids in the simulcast offer, as Chromium numbers them */
#define EXT_ID_MID 4
#define EXT_ID_RID 10
#define SIMULCAST_MID "1"                /* the video m-line's mid */
#define SLOW_CONTEXT_MS 5
#define LAYER_SAMPLE_US (100 * 1000)     /* briefing: one layer sample per viewer per 100 ms */

typedef enum { SCENARIO_FANOUT, SCENARIO_CONSULT, SCENARIO_AUDIO, SCENARIO_BRIEFING } Scenario;

typedef struct {
  BenchBackend backend;
  gchar *url;
  Scenario scenario;
  gchar *scenario_name;
  guint count;                 /* N (fanout/audio subscribers) or K (consult rooms) */
  gboolean step;
  gchar *steps;                /* explicit list "10,20,30" */
  guint start, max;
  gdouble warmup_s, window_s;
  guint video_kbps, audio_kbps, fps;
  gdouble keyframe_interval_s;
  guint sample;                /* decrypt 1 in N received packets */
  guint tick_ms;                /* 0 = 1 with pacing, 5 without */
  gdouble pacing_factor;        /* × --video-kbps; 0 = no pacing */
  gdouble pacing_burst_ms;
  gboolean no_pacing;
  gint batch_us;                /* -1 = auto */
  gint seq_start;               /* -1 = random */
  gchar *local_address;
  guint port_min, port_max;
  guint speakers;
  gchar *room_prefix;
  gboolean smoke;
  gdouble max_loss, max_p99;
  guint join_batch;
  gdouble connect_timeout_s;
  gchar *room_kind;             /* NULL: none sent */
  gchar *simulcast_kbps_list;
  guint simulcast_kbps[MAX_LAYERS];
  guint n_simulcast;            /* layers, low to high */
  gboolean no_simulcast;
  gboolean force_simulcast;
  gboolean recv_mmsg;
  gboolean link_loss;
  gchar *remb_kbps_list;
  guint remb_kbps[MAX_REMB_CLASSES];
  guint n_remb;                 /* 0: no REMB */
} Options;

typedef struct Bench Bench;

/* A video frame in the publisher's pacer queue: packets next..n-1 unsent. */
typedef struct {
  gboolean key;
  gsize bytes;
  guint n, next;
} PendingFrame;

/* One encoding of a publisher's video: the only one without simulcast. */
typedef struct {
  TrafficStream stream;
  TrafficPacer pacer;
  PendingFrame frames[MAX_PENDING_FRAMES];
  guint frame_head, n_frames;
  gsize frame_bytes, key_frame_bytes;
  gboolean keyframe_wanted;
  gint64 last_keyframe_us;
} VideoLayer;

static const char *const layer_rids[MAX_LAYERS + 1][MAX_LAYERS] = {
  { NULL }, { "h" }, { "l", "h" }, { "l", "m", "h" },
};

typedef struct {
  Bench *bench;
  guint index;
  guint room_index;
  gchar *room;
  BenchRole role;
  gboolean video;              /* publishes video as well as audio */
  guint expected_streams;      /* streams this participant should receive */
  BenchSession *session;
  gboolean started, failed, ready;

  /* publishing */
  MediaPeer *pub;
  MediaState pub_state;
  TrafficStream astream;
  VideoLayer layers[MAX_LAYERS];
  guint n_layers;
  gboolean simulcast;           /* layers sent as simulcast (the server took it) */
  gint64 next_frame_us, next_audio_us;
  guint64 frame_index;
  guint64 sent_pkts, sent_bytes;         /* in the window */
  guint64 total_sent;
  guint64 plis, firs, nacks;

  /* receiving */
  MediaPeer *sub;
  MediaState sub_state;
  guint64 sdp_version;
  TrafficRecvStream recv[MAX_RECV_STREAMS];
  guint n_recv;
  guint sample_counter;
  guint64 undecryptable;
  uint32_t rtcp_ssrc;
  gint64 next_rtcp_us;
  /* --recv-mmsg: the subscribe peer's own context (libnice agent, DTLS),
   * iterated every SLOW_CONTEXT_MS until the peer handed its socket to
   * bench.poller (media/poller.c, as caud's peers do), then never again:
   * the peer needs nothing more from its agent once connected (media's
   * poller reads and sends, and the peer answers and makes the RFC 7675
   * consent checks itself). */
  GMainContext *sub_ctx;
  gboolean sub_ctx_frozen;
  /* briefing viewers */
  guint remb_kbps;              /* REMB sent with each receiver report, 0: none */
  uint32_t video_ssrc;          /* the received stream whose samples carry a layer tag */
  guint64 rx_bytes;             /* RTP bytes received, all streams */
  guint64 rx_bytes_mark;        /* rx_bytes at the last receiver report */
  gint64 rx_mark_us;
  gint64 last_layer_sample_us;
  gint last_layer;              /* layer of the last tagged sample, -1: none yet */
  guint64 layer_samples[MAX_LAYERS];     /* in the window */
  guint64 layer_changes;                 /* in the window */
} Participant;

struct Bench {
  Options opt;
  MediaCertificate *cert;
  MediaStats stats;
  GMainLoop *loop;
  GPtrArray *participants;     /* Participant* */
  guint next_to_start;
  guint rooms;
  TrafficHistogram hist;         /* send stamp → handled in cau-bench */
  TrafficHistogram relay_hist;   /* send stamp → kernel receive on the socket */
  guint64 relay_sampled;
  gboolean measuring;
  guint64 lagging;             /* ticks where a publisher fell behind */
  guint64 sampled, sample_failed;
  gsize audio_bytes;
  guint keyframe_every;        /* frames */
  gint64 frame_us, audio_us;
  int exit_code;
  gboolean stop;
  MediaPoller *poller;         /* --recv-mmsg: subscribers' sockets */
  /* --recv-mmsg with caud: the signaling sessions (libsoup, one WebSocket
   * per participant) run in this context, iterated every SLOW_CONTEXT_MS
   * with it pushed as thread-default, so that a main-loop iteration does
   * not prepare and poll every participant's WebSocket. */
  GMainContext *sig_ctx;
};

static Bench bench;

static void participant_fail (Participant *p, const char *why);

/* Every call into session.h runs with Bench.sig_ctx (when set) as the
 * thread-default context, where libsoup attaches its sources. */
static void
sig_push (Bench *b)
{
  if (b->sig_ctx != NULL)
    g_main_context_push_thread_default (b->sig_ctx);
}

static void
sig_pop (Bench *b)
{
  if (b->sig_ctx != NULL)
    g_main_context_pop_thread_default (b->sig_ctx);
}

/* ---- publishing ----------------------------------------------------------- */

/* A video encoding of @kbps: frame sizes (a key frame is 4 delta frames,
 * the average is the bitrate) and its pacer (--pacing-factor × @kbps). */
static void
video_layer_init (VideoLayer *l, Bench *b, guint kbps)
{
  guint frames_per_interval = (guint) MAX (1, lround (b->opt.fps * b->opt.keyframe_interval_s));
  gdouble bytes_per_interval = kbps * 1000.0 / 8 * b->opt.keyframe_interval_s;

  memset (l, 0, sizeof *l);
  traffic_stream_init (&l->stream, g_random_int (),
                       (uint16_t) (b->opt.seq_start >= 0 ? (guint32) b->opt.seq_start
                                                         : g_random_int ()),
                       g_random_int ());
  l->frame_bytes = (gsize) (bytes_per_interval / (frames_per_interval + 3));
  l->key_frame_bytes = 4 * l->frame_bytes;
  traffic_pacer_init (&l->pacer, b->opt.pacing_factor * kbps * 1000,
                      (int64_t) (b->opt.pacing_burst_ms * 1000));
}

/* The next frame's packets join each layer's pacer queue (simulcast
 * encoders produce the layers' frames together). */
static void
queue_video_frame (Participant *p, gint64 now)
{
  Bench *b = p->bench;
  gboolean periodic = p->frame_index % b->keyframe_every == 0;

  for (guint i = 0; i < p->n_layers; i++) {
    VideoLayer *l = &p->layers[i];
    gboolean key = periodic;
    PendingFrame *f;

    if (l->keyframe_wanted && now - l->last_keyframe_us >= KEYFRAME_MIN_GAP_US)
      key = TRUE;
    if (key) {
      l->keyframe_wanted = FALSE;
      l->last_keyframe_us = now;
    }
    if (l->n_frames == MAX_PENDING_FRAMES) {
      /* Half a second behind: drop the oldest frame's rest, as libwebrtc's
       * pacer would drain it; the stream stays well-formed (end_frame). */
      traffic_stream_end_frame (&l->stream, 90000 / b->opt.fps);
      l->frame_head = (l->frame_head + 1) % MAX_PENDING_FRAMES;
      l->n_frames--;
      b->lagging++;
    }
    f = &l->frames[(l->frame_head + l->n_frames) % MAX_PENDING_FRAMES];
    f->key = key;
    f->bytes = key ? l->key_frame_bytes : l->frame_bytes;
    f->n = traffic_vp8_packet_count (f->bytes);
    f->next = 0;
    l->n_frames++;
  }
  p->frame_index++;
}

/* Sends what each layer's pacer allows of its queued frames; the stamp is
 * the send time, so the pacer's own queueing is the sender's, not the
 * relay's. */
static void
send_queued_video (Participant *p, gint64 now)
{
  Bench *b = p->bench;
  uint8_t buf[MEDIA_PEER_BUFFER_SIZE];

  for (guint i = 0; i < p->n_layers; i++) {
    VideoLayer *l = &p->layers[i];

    traffic_pacer_update (&l->pacer, now);
    while (l->n_frames > 0 && traffic_pacer_can_send (&l->pacer)) {
      PendingFrame *f = &l->frames[l->frame_head];
      size_t len = traffic_write_vp8 (&l->stream, buf, f->key, f->bytes, f->next, f->n,
                                      (uint64_t) now);

      traffic_pacer_sent (&l->pacer, len);
      if (media_peer_send_rtp (p->pub, buf, len)) {
        p->sent_pkts++;
        p->sent_bytes += len;
        p->total_sent++;
      }
      if (++f->next == f->n) {
        traffic_stream_end_frame (&l->stream, 90000 / b->opt.fps);
        l->frame_head = (l->frame_head + 1) % MAX_PENDING_FRAMES;
        l->n_frames--;
      }
    }
  }
}

static void
send_audio_packet (Participant *p, gint64 now)
{
  uint8_t buf[MEDIA_PEER_BUFFER_SIZE];
  size_t len = traffic_write_opus (&p->astream, buf, p->bench->audio_bytes, 960,
                                   (uint64_t) now);

  if (media_peer_send_rtp (p->pub, buf, len)) {
    p->sent_pkts++;
    p->sent_bytes += len;
    p->total_sent++;
  }
}

/* The first due time after @now, @period apart from @next: a publisher that
 * fell behind skips what it missed and keeps its phase. */
static gint64
skip_periods (gint64 next, gint64 now, gint64 period)
{
  return next > now ? next : next + ((now - next) / period + 1) * period;
}

/* One pacing tick: every connected publisher sends what is due. */
static gboolean
on_tick (gpointer user_data)
{
  Bench *b = user_data;
  gint64 now = g_get_monotonic_time ();

  for (guint i = 0; i < b->participants->len; i++) {
    Participant *p = g_ptr_array_index (b->participants, i);

    if (p->pub == NULL || p->pub_state != MEDIA_STATE_CONNECTED)
      continue;
    if (p->next_frame_us == 0) {
      /* Each publisher's camera and microphone run on their own clocks: start
       * them at a random phase, so that publishers who connected in the same
       * tick do not send in lockstep for the whole run. */
      p->next_frame_us = now + g_random_int_range (0, (gint32) b->frame_us);
      p->next_audio_us = now + g_random_int_range (0, (gint32) b->audio_us);
    }
    if (now - p->next_audio_us > STALL_LIMIT_US || now - p->next_frame_us > STALL_LIMIT_US) {
      b->lagging++;
      p->next_audio_us = skip_periods (p->next_audio_us, now, b->audio_us);
      p->next_frame_us = skip_periods (p->next_frame_us, now, b->frame_us);
    }
    while (p->video && p->next_frame_us <= now) {
      queue_video_frame (p, now);
      p->next_frame_us += b->frame_us;
    }
    if (p->video)
      send_queued_video (p, now);
    while (p->next_audio_us <= now) {
      send_audio_packet (p, now);
      p->next_audio_us += b->audio_us;
    }
  }
  return G_SOURCE_CONTINUE;
}

/* ---- receiving ------------------------------------------------------------ */

static TrafficRecvStream *
participant_recv_stream (Participant *p, uint32_t ssrc)
{
  for (guint i = 0; i < p->n_recv; i++)
    if (p->recv[i].ssrc == ssrc)
      return &p->recv[i];
  if (p->n_recv == MAX_RECV_STREAMS)
    return NULL;
  traffic_recv_init (&p->recv[p->n_recv], ssrc);
  if (p->bench->measuring)
    traffic_recv_window_begin (&p->recv[p->n_recv]);
  return &p->recv[p->n_recv++];
}

static void
on_sub_rtp (MediaPeer *peer, uint8_t *buf, size_t len, gpointer user_data)
{
  Participant *p = user_data;
  Bench *b = p->bench;
  uint32_t ssrc;
  uint16_t seq;
  TrafficRecvStream *r;
  gboolean latency_sample, layer_sample;

  /* media_peer guarantees a 12-byte RTP header (RFC 7983 demux). */
  seq = (uint16_t) ((buf[2] << 8) | buf[3]);
  ssrc = ((uint32_t) buf[8] << 24) | ((uint32_t) buf[9] << 16) | ((uint32_t) buf[10] << 8) |
         buf[11];
  r = participant_recv_stream (p, ssrc);
  if (r == NULL)
    return;
  traffic_recv_packet (r, seq, len);
  p->rx_bytes += len;

  /* libsrtp guesses the rollover counter from the last packet it decrypted
   * on this SSRC (RFC 3711 §3.3.1): decrypt the stream's first packet (ROC
   * 0 on both sides) and then at least every 8192 packets, or a stream whose
   * sequence number wraps between two decrypted packets could never be
   * authenticated again. */
  latency_sample = b->measuring && ++p->sample_counter >= b->opt.sample;
  /* briefing: a video-sized packet every LAYER_SAMPLE_US is decrypted for
   * its layer tag: samples uniform in time, so that the layer a viewer had
   * most of the window wins (a count of packets would favour the higher
   * layers, which send 2-6 times as many) */
  layer_sample = FALSE;
  if (b->opt.scenario == SCENARIO_BRIEFING && len > 300) {
    gint64 now = g_get_monotonic_time ();

    if (now - p->last_layer_sample_us >= LAYER_SAMPLE_US) {
      layer_sample = TRUE;
      p->last_layer_sample_us = now;
    }
  }
  if (r->total_received == 1 || r->since_unprotect >= 8192 || latency_sample || layer_sample) {
    size_t n = len;
    uint64_t sent_us;
    uint32_t counter;
    gboolean ok;

    gint64 rx_real;
    /* Asked on every decrypted packet: on libnice's path the first ask
     * turns the socket's timestamps on, well before the window. */
    gboolean have_rx = media_peer_get_receive_time (peer, &rx_real);

    r->since_unprotect = 0;
    ok = media_peer_unprotect_rtp (peer, buf, &n) &&
         traffic_read_stamp (buf, n, &sent_us, &counter);
    if (ok && layer_sample) {
      int layer = traffic_read_tag (buf, n);

      if (layer >= 0 && layer < MAX_LAYERS) {
        p->video_ssrc = ssrc;
        if (b->measuring) {
          p->layer_samples[layer]++;
          if (p->last_layer >= 0 && p->last_layer != layer)
            p->layer_changes++;
        }
        p->last_layer = layer;
      }
    }
    if (!latency_sample)
      return;
    p->sample_counter = 0;
    if (ok) {
      gint64 now = g_get_monotonic_time ();

      traffic_hist_add (&b->hist, now - (gint64) sent_us);
      b->sampled++;
      if (have_rx) {
        /* The kernel stamps in CLOCK_REALTIME, the sender in monotonic. */
        gint64 rx_mono = rx_real - (g_get_real_time () - g_get_monotonic_time ());

        traffic_hist_add (&b->relay_hist, rx_mono - (gint64) sent_us);
        b->relay_sampled++;
      }
    } else {
      b->sample_failed++;
    }
  }
}

/* A key frame on the layer with @ssrc, or on every layer when none has it
 * (Chromium's simulcast encoders take a PLI per layer). */
static void
want_keyframe (Participant *p, uint32_t ssrc)
{
  gboolean found = FALSE;

  for (guint i = 0; i < p->n_layers; i++)
    if (p->layers[i].stream.ssrc == ssrc) {
      p->layers[i].keyframe_wanted = TRUE;
      found = TRUE;
    }
  for (guint i = 0; i < p->n_layers && !found; i++)
    p->layers[i].keyframe_wanted = TRUE;
}

/* Publishers: PLI/FIR ask for a key frame (sent at the next frame, at most
 * every 500 ms, as a browser's encoder would); NACKs are counted only.
 * Subscribers ignore what the server sends (SR, nothing else expected). */
static void
on_pub_rtcp (MediaPeer *peer, uint8_t *buf, size_t len, gpointer user_data)
{
  Participant *p = user_data;
  RtcpIter it;
  RtcpPacket pkt;

  rtcp_iter_init (&it, buf, len);
  while (rtcp_iter_next (&it, &pkt)) {
    if (pkt.type == 206 && pkt.count == 1) {        /* RFC 4585 §6.3.1 PLI */
      p->plis++;
      want_keyframe (p, pkt.media_ssrc);
    } else if (pkt.type == 206 && pkt.count == 4) { /* RFC 5104 §4.3.1 FIR */
      p->firs++;
      /* the FCI's first entry names the encoder (header media SSRC is 0) */
      want_keyframe (p, pkt.len >= 16 ? ((uint32_t) pkt.data[12] << 24) |
                                        ((uint32_t) pkt.data[13] << 16) |
                                        ((uint32_t) pkt.data[14] << 8) | pkt.data[15]
                                      : 0);
    } else if (pkt.type == 205 && pkt.count == 1) { /* RFC 4585 §6.2.1 NACK */
      p->nacks++;
    }
  }
}

static void
on_sub_rtcp (MediaPeer *peer, uint8_t *buf, size_t len, gpointer user_data)
{
}

/* A viewer with a REMB class models a downlink of that capacity (unless
 * --no-link-loss): what it received since its last report beyond the
 * capacity is what that bottleneck would have dropped, reported as the
 * fraction lost (RFC 3550 §6.4.1, /256) in every report block, so that a
 * server that sends more than the REMB allows (e.g. probing a higher
 * layer) sees loss, as from a real constrained link.  cau-bench itself
 * drops nothing (the loss column stays what the server lost). */
static guint8
link_fraction_lost (Participant *p)
{
  gint64 now = g_get_monotonic_time ();
  guint64 bytes = p->rx_bytes - p->rx_bytes_mark;
  gint64 us = now - p->rx_mark_us;
  gdouble rate, capacity = p->remb_kbps * 1000.0;
  guint8 lost = 0;

  if (p->remb_kbps > 0 && p->bench->opt.link_loss && p->rx_mark_us != 0 && us > 0) {
    rate = bytes * 8.0 * G_USEC_PER_SEC / us;
    if (rate > capacity)
      lost = (guint8) MIN (255.0, 256.0 * (rate - capacity) / rate);
  }
  p->rx_bytes_mark = p->rx_bytes;
  p->rx_mark_us = now;
  return lost;
}

/* RTCP of one participant: as a subscriber a receiver report (RFC 3550
 * §6.4.2) for its streams, as a publisher a sender report per stream. */
static void
participant_send_rtcp (Participant *p)
{
  uint8_t buf[MEDIA_PEER_BUFFER_SIZE];

  if (p->sub != NULL && p->sub_state == MEDIA_STATE_CONNECTED && p->n_recv > 0) {
    RtcpReportBlock blocks[RTCP_MAX_REPORT_BLOCKS];
    guint n = MIN (p->n_recv, RTCP_MAX_REPORT_BLOCKS);
    size_t len;

    guint8 fraction_lost = link_fraction_lost (p);

    memset (blocks, 0, sizeof blocks);
    for (guint j = 0; j < n; j++) {
      blocks[j].ssrc = p->recv[j].ssrc;
      blocks[j].ext_highest_seq = (uint32_t) p->recv[j].max_ext;
      blocks[j].fraction_lost = fraction_lost;
    }
    len = rtcp_write_rr (buf, sizeof buf - MEDIA_SRTP_MAX_TRAILER, p->rtcp_ssrc, blocks, n);
    if (len > 0 && p->remb_kbps > 0) {
      /* REMB in the same compound packet, for every stream received, as
       * libwebrtc's receive side sends it. */
      uint32_t ssrcs[MAX_RECV_STREAMS];

      for (guint j = 0; j < p->n_recv; j++)
        ssrcs[j] = p->recv[j].ssrc;
      len += rtcp_write_remb (buf + len, sizeof buf - MEDIA_SRTP_MAX_TRAILER - len,
                              p->rtcp_ssrc, (uint64_t) p->remb_kbps * 1000, ssrcs, p->n_recv);
    }
    if (len > 0)
      media_peer_send_rtcp (p->sub, buf, len);
  }
  if (p->pub != NULL && p->pub_state == MEDIA_STATE_CONNECTED) {
    gint64 now = g_get_real_time ();
    /* NTP time (RFC 3550 §4): seconds since 1900 in 32.32 fixed point. */
    uint64_t ntp = ((uint64_t) (now / G_USEC_PER_SEC + 2208988800u) << 32) |
                   (uint64_t) ((now % G_USEC_PER_SEC) * 4294.967296);
    size_t len;

    len = rtcp_write_sr (buf, sizeof buf - MEDIA_SRTP_MAX_TRAILER, p->astream.ssrc, ntp,
                         p->astream.timestamp, (uint32_t) p->total_sent, 0, NULL, 0);
    if (len > 0)
      media_peer_send_rtcp (p->pub, buf, len);
    for (guint i = 0; p->video && i < p->n_layers; i++) {
      len = rtcp_write_sr (buf, sizeof buf - MEDIA_SRTP_MAX_TRAILER, p->layers[i].stream.ssrc,
                           ntp, p->layers[i].stream.timestamp, (uint32_t) p->total_sent, 0,
                           NULL, 0);
      if (len > 0)
        media_peer_send_rtcp (p->pub, buf, len);
    }
  }
}

/* About once a second per participant, each at its own randomised time
 * (RFC 3550 §6.3.5: 0.5 to 1.5 times the interval), as independent
 * browsers do.  Sending every participant's report in the same instant
 * would hand the server hundreds of RTCP packets at once, a burst no real
 * audience produces. */
static gboolean
on_rtcp_timer (gpointer user_data)
{
  Bench *b = user_data;
  gint64 now = g_get_monotonic_time ();

  for (guint i = 0; i < b->participants->len; i++) {
    Participant *p = g_ptr_array_index (b->participants, i);

    /* --recv-mmsg: once the peer handed its socket to bench.poller, its
     * own context is needed no more. */
    if (b->poller != NULL && !p->sub_ctx_frozen && p->sub != NULL &&
        media_peer_is_polled (p->sub))
      p->sub_ctx_frozen = TRUE;
    if (p->next_rtcp_us == 0)
      p->next_rtcp_us = now + g_random_int_range (0, G_USEC_PER_SEC);
    if (now < p->next_rtcp_us)
      continue;
    p->next_rtcp_us = now + g_random_int_range (G_USEC_PER_SEC / 2, 3 * G_USEC_PER_SEC / 2);
    participant_send_rtcp (p);
  }
  return G_SOURCE_CONTINUE;
}

/* ---- peers and signaling -------------------------------------------------- */

static void
on_pub_state (MediaPeer *peer, MediaState state, gpointer user_data)
{
  Participant *p = user_data;

  p->pub_state = state;
  if (state == MEDIA_STATE_FAILED)
    participant_fail (p, "publish connection failed");
}

static void
on_sub_state (MediaPeer *peer, MediaState state, gpointer user_data)
{
  Participant *p = user_data;

  p->sub_state = state;
  if (state == MEDIA_STATE_FAILED)
    participant_fail (p, "subscribe connection failed");
}

static const MediaPeerCallbacks pub_callbacks = {
  .state_changed = on_pub_state,
  .rtcp = on_pub_rtcp,
};

static const MediaPeerCallbacks sub_callbacks = {
  .state_changed = on_sub_state,
  .rtp = on_sub_rtp,
  .rtcp = on_sub_rtcp,
};

static MediaPeer *
participant_new_peer (Participant *p, gboolean publish)
{
  const char *addresses[] = { p->bench->opt.local_address, NULL };
  MediaPeerConfig config = {
    .context = !publish && p->sub_ctx != NULL ? p->sub_ctx : g_main_context_default (),
    .certificate = p->bench->cert,
    .port_min = p->bench->opt.port_min,
    .port_max = p->bench->opt.port_max,
    .addresses = addresses,
    .controlling = publish,       /* RFC 8445 §6.1.1: the offerer controls */
    .stats = &p->bench->stats,
    .rtp_encrypted = !publish,
    .poller = publish ? NULL : p->bench->poller,
  };
  g_autoptr (GError) error = NULL;
  MediaPeer *peer = media_peer_new (&config, publish ? &pub_callbacks : &sub_callbacks, p,
                                    &error);

  if (peer == NULL)
    g_printerr ("cau-bench: peer: %s\n", error->message);
  return peer;
}

static void
local_init (Participant *p, MediaPeer *peer, MediaSdpSetup setup, gchar **candidates,
            MediaSdpLocal *local)
{
  memset (local, 0, sizeof *local);
  media_peer_get_local_credentials (peer, &local->ice_ufrag, &local->ice_pwd);
  local->fingerprint = media_certificate_get_fingerprint (p->bench->cert);
  local->setup = setup;
  local->candidates = (const gchar *const *) candidates;
  local->end_of_candidates = TRUE;
  local->session_id = g_random_int () | ((guint64) g_random_int () << 31);
  local->session_version = ++p->sdp_version;
}

static void
apply_remote (Participant *p, MediaPeer *peer, MediaSdpDescription *remote,
              gboolean dtls_client)
{
  g_autoptr (GError) error = NULL;

  if (!media_peer_set_remote (peer, remote->ice_ufrag, remote->ice_pwd,
                              remote->fingerprint_hash, remote->fingerprint, dtls_client,
                              &error)) {
    participant_fail (p, error->message);
    return;
  }
  for (guint i = 0; i < remote->candidates->len; i++)
    media_peer_add_remote_candidate (peer, g_ptr_array_index (remote->candidates, i));
  if (remote->end_of_candidates)
    media_peer_remote_gathering_done (peer);
}

/* Turns the video section of a plain sendonly offer into Chromium's
 * simulcast offer (RFC 8853): no a=ssrc lines (the layers' SSRCs are
 * learnt from the packets' rid extension), the sdes:mid and
 * sdes:rtp-stream-id extensions, one a=rid per layer and
 * a=simulcast:send with the rids low to high. */
static gchar *
simulcast_offer (const gchar *plain, guint n_layers)
{
  g_auto (GStrv) lines = g_strsplit (plain, "\r\n", -1);
  GString *out = g_string_new (NULL);
  gboolean in_video = FALSE;
  guint n = g_strv_length (lines);

  if (n > 0 && *lines[n - 1] == '\0')
    g_clear_pointer (&lines[--n], g_free);     /* after the final CRLF */
  for (guint i = 0; i < n; i++) {
    const gchar *l = lines[i];
    gboolean last = i + 1 == n || g_str_has_prefix (lines[i + 1], "m=");

    if (g_str_has_prefix (l, "m="))
      in_video = g_str_has_prefix (l, "m=video");
    if (!(in_video && g_str_has_prefix (l, "a=ssrc")))
      g_string_append_printf (out, "%s\r\n", l);
    if (in_video && last) {
      g_string_append_printf (out, "a=extmap:%d urn:ietf:params:rtp-hdrext:sdes:mid\r\n",
                              EXT_ID_MID);
      g_string_append_printf (out,
                              "a=extmap:%d urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id\r\n",
                              EXT_ID_RID);
      for (guint j = 0; j < n_layers; j++)
        g_string_append_printf (out, "a=rid:%s send\r\n", layer_rids[n_layers][j]);
      g_string_append (out, "a=simulcast:send ");
      for (guint j = 0; j < n_layers; j++)
        g_string_append_printf (out, "%s%s", j > 0 ? ";" : "", layer_rids[n_layers][j]);
      g_string_append (out, "\r\n");
      in_video = FALSE;
    }
  }
  return g_string_free (out, FALSE);
}

/* The briefing publisher's encodings: simulcast when the server takes it
 * (and more than one layer is asked), else one at the top rate.  Each
 * layer's packets carry its index as tag, so viewers can tell them apart. */
static void
setup_layers (Participant *p, gboolean simulcast)
{
  Bench *b = p->bench;
  guint n = b->opt.n_simulcast;

  p->simulcast = simulcast && n > 1;
  if (!p->simulcast) {
    video_layer_init (&p->layers[0], b, b->opt.simulcast_kbps[n - 1]);
    traffic_stream_set_tag (&p->layers[0].stream, n - 1);
    p->n_layers = 1;
    return;
  }
  for (guint i = 0; i < n; i++) {
    video_layer_init (&p->layers[i], b, b->opt.simulcast_kbps[i]);
    traffic_stream_set_sdes (&p->layers[i].stream, EXT_ID_MID, SIMULCAST_MID, EXT_ID_RID,
                             layer_rids[n][i]);
    traffic_stream_set_tag (&p->layers[i].stream, i);
  }
  p->n_layers = n;
}

/* The publisher's offer: media_sdp_create_subscribe_offer() writes exactly a
 * browser-like sendonly offer (BUNDLE, ssrc/msid, rtcp-mux, actpass). */
static void
on_session_ready (BenchSession *session, gpointer user_data)
{
  Participant *p = user_data;
  MediaSdpCodec opus = { .payload_type = TRAFFIC_AUDIO_PT, .encoding = (gchar *) "opus",
                         .clock_rate = 48000, .channels = 2,
                         .fmtp = (gchar *) "minptime=10;useinbandfec=1" };
  MediaSdpCodec vp8 = { .payload_type = TRAFFIC_VIDEO_PT, .encoding = (gchar *) "VP8",
                        .clock_rate = 90000 };
  g_autofree gchar *stream = NULL;
  g_auto (GStrv) candidates = NULL;
  g_autofree gchar *offer = NULL;
  g_autoptr (GError) error = NULL;
  MediaSdpOfferTrack tracks[2];
  MediaSdpLocal local;

  if (p->role != BENCH_ROLE_PUBLISHER)
    return;
  if (p->bench->opt.scenario == SCENARIO_BRIEFING) {
    setup_layers (p, !p->bench->opt.no_simulcast &&
                       (p->bench->opt.force_simulcast || bench_session_get_simulcast (session)));
    g_printerr ("cau-bench: publisher %u sends %u video layer(s)%s\n", p->index, p->n_layers,
                p->simulcast ? " as simulcast" : "");
  }
  p->pub = participant_new_peer (p, TRUE);
  if (p->pub == NULL) {
    participant_fail (p, "no publish peer");
    return;
  }
  stream = g_strdup_printf ("bench%u", p->index);
  memset (tracks, 0, sizeof tracks);
  tracks[0] = (MediaSdpOfferTrack) { .mid = "0", .kind = "audio", .active = TRUE,
                                     .codec = &opus, .ssrc = p->astream.ssrc,
                                     .cname = stream, .msid_stream = stream,
                                     .msid_track = "a" };
  tracks[1] = (MediaSdpOfferTrack) { .mid = SIMULCAST_MID, .kind = "video", .active = TRUE,
                                     .codec = &vp8, .ssrc = p->layers[0].stream.ssrc,
                                     .cname = stream, .msid_stream = stream,
                                     .msid_track = "v" };
  candidates = media_peer_get_local_candidates (p->pub);
  local_init (p, p->pub, MEDIA_SDP_SETUP_ACTPASS, candidates, &local);
  offer = media_sdp_create_subscribe_offer (tracks, p->video ? 2 : 1, &local, &error);
  if (offer == NULL) {
    participant_fail (p, error->message);
    return;
  }
  if (p->simulcast) {
    gchar *sim = simulcast_offer (offer, p->n_layers);

    g_free (offer);
    offer = sim;
  }
  sig_push (p->bench);
  bench_session_publish (session, offer);
  sig_pop (p->bench);
}

static void
on_publish_answer (BenchSession *session, const char *sdp, gpointer user_data)
{
  Participant *p = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (MediaSdpDescription) answer = media_sdp_parse (sdp, strlen (sdp), 256 * 1024,
                                                            &error);

  if (answer == NULL) {
    participant_fail (p, error->message);
    return;
  }
  if (p->simulcast && strstr (sdp, "a=simulcast:recv") == NULL)
    g_printerr ("cau-bench: the server's answer has no a=simulcast:recv; it may take only "
                "one layer\n");
  /* RFC 5763 §5: an answer of passive makes us, the offerer, the client. */
  apply_remote (p, p->pub, answer, answer->setup == MEDIA_SDP_SETUP_PASSIVE);
}

/* The server's offer: media_sdp_create_publish_answer() chooses the codecs
 * and answers recvonly (its "publish" is the server's receiving side, which
 * is what a subscriber is here). */
static void
on_subscribe_offer (BenchSession *session, const char *sdp, gpointer user_data)
{
  Participant *p = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (MediaSdpDescription) offer = NULL;
  g_auto (GStrv) candidates = NULL;
  g_autofree gchar *answer = NULL;
  MediaSdpLocal local;
  MediaSdpSetup setup;

  offer = media_sdp_parse (sdp, strlen (sdp), 256 * 1024, &error);
  if (offer == NULL) {
    participant_fail (p, error->message);
    return;
  }
  if (p->sub == NULL) {
    if (p->bench->opt.recv_mmsg)
      p->sub_ctx = g_main_context_new ();
    p->sub = participant_new_peer (p, FALSE);
    if (p->sub == NULL) {
      participant_fail (p, "no subscribe peer");
      return;
    }
  }
  candidates = media_peer_get_local_candidates (p->sub);
  /* Be the DTLS client when the offer leaves the choice, as browsers are. */
  local_init (p, p->sub, MEDIA_SDP_SETUP_ACTIVE, candidates, &local);
  setup = media_sdp_answer_setup (offer->setup, MEDIA_SDP_SETUP_ACTIVE);
  answer = media_sdp_create_publish_answer (offer, &local, &error);
  if (answer == NULL) {
    participant_fail (p, error->message);
    return;
  }
  apply_remote (p, p->sub, offer, setup == MEDIA_SDP_SETUP_ACTIVE);
  if (!p->failed) {
    sig_push (p->bench);
    bench_session_answer (session, answer);
    sig_pop (p->bench);
  }
}

static void
on_session_failed (BenchSession *session, const GError *error, gpointer user_data)
{
  participant_fail (user_data, error->message);
}

static const BenchSessionCallbacks session_callbacks = {
  .ready = on_session_ready,
  .publish_answer = on_publish_answer,
  .subscribe_offer = on_subscribe_offer,
  .failed = on_session_failed,
};

static void
participant_fail (Participant *p, const char *why)
{
  if (p->failed)
    return;
  p->failed = TRUE;
  g_printerr ("cau-bench: participant %u (%s, room %s) failed: %s\n", p->index,
              p->role == BENCH_ROLE_PUBLISHER ? "publisher" : "subscriber", p->room, why);
}

static Participant *
participant_new (Bench *b, guint room_index, BenchRole role, gboolean video,
                 guint expected_streams)
{
  Participant *p = g_new0 (Participant, 1);

  p->bench = b;
  p->index = b->participants->len;
  p->room_index = room_index;
  p->room = g_strdup_printf ("%s-%s-%u", b->opt.room_prefix, b->opt.scenario_name,
                             room_index);
  p->role = role;
  p->video = video;
  p->expected_streams = expected_streams;
  p->rtcp_ssrc = g_random_int ();
  traffic_stream_init (&p->astream, g_random_int (),
                       (uint16_t) (b->opt.seq_start >= 0 ? (guint32) b->opt.seq_start
                                                         : g_random_int ()),
                       g_random_int ());
  video_layer_init (&p->layers[0], b, b->opt.video_kbps);
  p->n_layers = 1;
  p->last_layer = -1;
  g_ptr_array_add (b->participants, p);
  return p;
}

static void
participant_start (Participant *p)
{
  p->started = TRUE;
  sig_push (p->bench);
  p->session = bench_session_new (p->bench->opt.backend, p->bench->opt.url, p->room,
                                  p->bench->opt.room_kind,
                                  p->role, &session_callbacks, p);
  sig_pop (p->bench);
  if (p->session == NULL)
    participant_fail (p, "no signaling session");
}

static void
participant_free (Participant *p)
{
  sig_push (p->bench);
  g_clear_pointer (&p->session, bench_session_free);
  sig_pop (p->bench);
  g_clear_pointer (&p->pub, media_peer_free);
  g_clear_pointer (&p->sub, media_peer_free);
  g_clear_pointer (&p->sub_ctx, g_main_context_unref);
  g_free (p->room);
  g_free (p);
}

/* Connected, and receiving every stream it should. */
static gboolean
participant_check_ready (Participant *p)
{
  guint streams = 0;

  if (p->ready)
    return TRUE;
  if (p->failed || !p->started)
    return FALSE;
  if (p->role == BENCH_ROLE_PUBLISHER && p->pub_state != MEDIA_STATE_CONNECTED)
    return FALSE;
  if (p->expected_streams > 0) {
    if (p->sub_state != MEDIA_STATE_CONNECTED)
      return FALSE;
    for (guint i = 0; i < p->n_recv; i++)
      if (p->recv[i].total_received > 0)
        streams++;
    if (streams < p->expected_streams)
      return FALSE;
  }
  p->ready = TRUE;
  return TRUE;
}

/* ---- scenarios ------------------------------------------------------------ */

/* Adds participants so that the scenario has size @n (N or K). */
static void
scenario_grow (Bench *b, guint n)
{
  switch (b->opt.scenario) {
  case SCENARIO_FANOUT:
  case SCENARIO_BRIEFING:
    if (b->participants->len == 0)
      participant_new (b, 0, BENCH_ROLE_PUBLISHER, TRUE, 0);
    while (b->participants->len < 1 + n) {
      Participant *v = participant_new (b, 0, BENCH_ROLE_SUBSCRIBER, FALSE, 2);

      /* viewer k (from 0) gets REMB class k mod the list's length */
      if (b->opt.n_remb > 0)
        v->remb_kbps = b->opt.remb_kbps[(v->index - 1) % b->opt.n_remb];
    }
    break;
  case SCENARIO_AUDIO:
    if (b->participants->len == 0)
      for (guint i = 0; i < b->opt.speakers; i++)
        participant_new (b, 0, BENCH_ROLE_PUBLISHER, FALSE, b->opt.speakers - 1);
    while (b->participants->len < b->opt.speakers + n)
      participant_new (b, 0, BENCH_ROLE_SUBSCRIBER, FALSE, b->opt.speakers);
    break;
  case SCENARIO_CONSULT:
    /* Each participant publishes; caud offers it the other three's tracks
     * on the same session (a Janus back end must do the same). */
    while (b->rooms < n) {
      for (guint i = 0; i < 4; i++)
        participant_new (b, b->rooms, BENCH_ROLE_PUBLISHER, TRUE, 6);
      b->rooms++;
    }
    break;
  }
  if (b->opt.scenario != SCENARIO_CONSULT)
    b->rooms = 1;
}

/* One main-loop iteration, at most one per --batch-us.  Each iteration
 * polls every socket (hundreds of libnice agents), so iterating once per
 * arriving packet costs far more than the packet; waiting lets packets
 * queue in the sockets and libnice reads each socket dry per dispatch.
 * The price is up to --batch-us of extra measured latency (on average
 * half), the same for every server. */
static void
iterate_once (Bench *b)
{
  static gint64 last;
  gint64 now = g_get_monotonic_time ();
  /* auto: 10 µs per participant, at most 2 ms */
  gint64 batch = b->opt.batch_us >= 0 ? b->opt.batch_us
                                      : MIN (2000, 10 * (gint64) b->participants->len);

  if (batch > 0 && now - last < batch)
    g_usleep (batch - (now - last));
  last = g_get_monotonic_time ();
  g_main_context_iteration (NULL, TRUE);
}

static void
iterate_for (Bench *b, gdouble seconds)
{
  gint64 until = g_get_monotonic_time () + (gint64) (seconds * G_USEC_PER_SEC);

  while (g_get_monotonic_time () < until)
    iterate_once (b);
}

static gboolean
on_sig_context (gpointer user_data)
{
  Bench *b = user_data;

  sig_push (b);
  for (guint i = 0; i < 4096 && g_main_context_iteration (b->sig_ctx, FALSE); i++)
    ;
  sig_pop (b);
  return G_SOURCE_CONTINUE;
}

/* --recv-mmsg: runs what is due in the subscribe peers' contexts that are
 * still connecting. */
static gboolean
on_slow_context (gpointer user_data)
{
  Bench *b = user_data;

  for (guint i = 0; i < b->participants->len; i++) {
    Participant *p = g_ptr_array_index (b->participants, i);

    if (p->sub_ctx == NULL || p->sub_ctx_frozen)
      continue;
    for (guint j = 0; j < 64 && g_main_context_iteration (p->sub_ctx, FALSE); j++)
      ;
  }
  return G_SOURCE_CONTINUE;
}

/* Wakes the loop at least every 50 ms while we poll for conditions. */
static gboolean
on_wakeup (gpointer user_data)
{
  return G_SOURCE_CONTINUE;
}

/* Starts waiting participants, --join-batch at a time, until all are
 * ready or have failed, or the timeout.  Returns the number ready. */
static guint
connect_all (Bench *b, gdouble timeout_s)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) (timeout_s * G_USEC_PER_SEC);

  for (;;) {
    guint ready = 0, failed = 0, in_flight = 0, publishers_pending = 0;

    for (guint i = 0; i < b->participants->len; i++) {
      Participant *p = g_ptr_array_index (b->participants, i);

      if (participant_check_ready (p))
        ready++;
      else if (p->failed)
        failed++;
      else if (p->started)
        in_flight++;
      if (p->role == BENCH_ROLE_PUBLISHER && !p->ready && !p->failed)
        publishers_pending++;
    }
    while (b->next_to_start < b->participants->len && in_flight < b->opt.join_batch) {
      Participant *next = g_ptr_array_index (b->participants, b->next_to_start);

      /* Publishers first, and subscribers only once they are up: a
       * subscriber's offer needs the tracks, and in a briefing the first
       * joiner is the host, the one who may publish (and gives the other
       * publishers the floor). */
      if (next->role == BENCH_ROLE_SUBSCRIBER && publishers_pending > 0)
        break;
      participant_start (next);
      b->next_to_start++;
      in_flight++;
    }
    if (ready + failed == b->participants->len || failed > 0 ||
        g_get_monotonic_time () > deadline)
      return ready;
    iterate_once (b);
  }
}

static void
window_begin (Bench *b)
{
  b->measuring = TRUE;
  traffic_hist_reset (&b->hist);
  traffic_hist_reset (&b->relay_hist);
  b->sampled = b->sample_failed = b->relay_sampled = 0;
  b->lagging = 0;
  for (guint i = 0; i < b->participants->len; i++) {
    Participant *p = g_ptr_array_index (b->participants, i);

    p->sent_pkts = p->sent_bytes = 0;
    p->plis = p->firs = p->nacks = 0;
    memset (p->layer_samples, 0, sizeof p->layer_samples);
    p->layer_changes = 0;
    /* changes within the window only: before it, samples are rare (the
     * first packet, then one per 8192), so the layer a viewer ramped up to
     * during the warm-up would count as a change */
    p->last_layer = -1;
    /* Each subscriber samples every --sample-th packet from its own random
     * phase.  With one phase for all (every counter at 0), every
     * subscriber decrypted the same packets, so the whole window's
     * histogram came from ~50 packets per 2 500: whether it held a late
     * packet of a key frame, and so what p99 said, was luck. */
    p->sample_counter = g_random_int_range (0, (gint32) b->opt.sample);
    for (guint j = 0; j < p->n_recv; j++)
      traffic_recv_window_begin (&p->recv[j]);
  }
}

static gdouble
rusage_seconds (void)
{
  struct rusage ru;

  getrusage (RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
         ru.ru_stime.tv_usec / 1e6;
}

/* Which layer each viewer got in the window: the layer most of its
 * decrypted video samples were tagged with ("none": no tagged sample).
 * {simulcast, rids, viewers: {rid: count, none: count}, changes,
 *  by_remb: {"KBPS": {viewers: {...}, video_kbps: mean received}}} */
static json_t *
layer_report (Bench *b, gdouble elapsed)
{
  Participant *pub = NULL;
  guint n_rids;
  const char *const *rids;
  json_t *all, *by_remb = json_object (), *report;
  guint64 changes = 0;
  guint counts[MAX_LAYERS + 1] = { 0 };

  for (guint i = 0; i < b->participants->len && pub == NULL; i++) {
    Participant *p = g_ptr_array_index (b->participants, i);

    if (p->role == BENCH_ROLE_PUBLISHER)
      pub = p;
  }
  n_rids = b->opt.n_simulcast;
  rids = layer_rids[n_rids];
  for (guint i = 0; i < b->participants->len; i++) {
    Participant *p = g_ptr_array_index (b->participants, i);
    guint64 best = 0, video_bytes = 0;
    gint layer = -1;
    g_autofree gchar *key = NULL;
    json_t *group, *viewers;
    const char *name;

    if (p->role != BENCH_ROLE_SUBSCRIBER)
      continue;
    for (guint j = 0; j < MAX_LAYERS; j++)
      if (p->layer_samples[j] > best) {
        best = p->layer_samples[j];
        layer = (gint) j;
      }
    for (guint j = 0; j < p->n_recv; j++)
      if (p->video_ssrc != 0 && p->recv[j].ssrc == p->video_ssrc)
        video_bytes += p->recv[j].window_bytes;
    changes += p->layer_changes;
    counts[layer >= 0 && (guint) layer < n_rids ? (guint) layer : MAX_LAYERS]++;
    name = layer >= 0 && (guint) layer < n_rids ? rids[layer] : "none";

    key = g_strdup_printf ("%u", p->remb_kbps);
    group = json_object_get (by_remb, key);
    if (group == NULL) {
      group = json_pack ("{s:{}, s:i, s:f}", "viewers", "n", 0, "video_kbps", 0.0);
      json_object_set_new (by_remb, key, group);
    }
    viewers = json_object_get (group, "viewers");
    json_object_set_new (viewers, name,
                         json_integer (json_integer_value (json_object_get (viewers, name)) + 1));
    {
      json_int_t k = json_integer_value (json_object_get (group, "n"));
      gdouble mean = json_real_value (json_object_get (group, "video_kbps"));
      gdouble kbps = elapsed > 0 ? video_bytes * 8 / elapsed / 1000 : 0;

      /* running mean over the group's viewers */
      json_object_set_new (group, "video_kbps", json_real ((mean * k + kbps) / (k + 1)));
      json_object_set_new (group, "n", json_integer (k + 1));
    }
  }
  all = json_object ();
  for (guint j = 0; j < n_rids; j++)
    json_object_set_new (all, rids[j], json_integer (counts[j]));
  json_object_set_new (all, "none", json_integer (counts[MAX_LAYERS]));
  report = json_pack ("{s:b, s:i, s:o, s:I, s:o}",
                      "simulcast", pub != NULL && pub->simulcast,
                      "layers_sent", pub != NULL ? (int) pub->n_layers : 0,
                      "viewers", all,
                      "changes", (json_int_t) changes,
                      "by_remb", by_remb);
  return report;
}

/* Runs one step of size @n; prints its JSON line.  Returns TRUE when the
 * step passed (loss and p99 under the limits, everyone connected). */
static gboolean
run_step (Bench *b, guint n)
{
  guint ready, subscribers = 0, receivers = 0, streams_missing = 0;
  guint64 sent = 0, sent_bytes = 0, expected = 0, received = 0, recv_bytes = 0;
  guint64 reordered = 0, plis = 0, nacks = 0, expected_by_sent = 0;
  gint64 t0, t1;
  gdouble cpu0, cpu1, elapsed, cpu, loss, p50, p99, worst_loss = 0;
  gboolean pass;
  json_t *line;
  g_autofree char *text = NULL;
  g_autofree gchar *error = NULL;

  scenario_grow (b, n);
  g_printerr ("cau-bench: step %s n=%u: %u participants, connecting\n",
              b->opt.scenario_name, n, b->participants->len);
  ready = connect_all (b, b->opt.connect_timeout_s + 0.05 * b->participants->len);
  if (ready < b->participants->len)
    error = g_strdup_printf ("only %u of %u participants connected and receiving",
                             ready, b->participants->len);

  if (error == NULL) {
    g_printerr ("cau-bench: all connected; warm-up %.0f s, window %.0f s\n",
                b->opt.warmup_s, b->opt.window_s);
    iterate_for (b, b->opt.warmup_s);
  }
  window_begin (b);
  cpu0 = rusage_seconds ();
  t0 = g_get_monotonic_time ();
  if (error == NULL)
    iterate_for (b, b->opt.window_s);
  t1 = g_get_monotonic_time ();
  cpu1 = rusage_seconds ();
  b->measuring = FALSE;
  elapsed = (t1 - t0) / 1e6;
  cpu = cpu1 - cpu0;

  /* Per room: what its publishers sent times how many receive each. */
  for (guint i = 0; i < b->participants->len; i++) {
    Participant *p = g_ptr_array_index (b->participants, i);

    if (p->role == BENCH_ROLE_SUBSCRIBER)
      subscribers++;
    if (p->expected_streams > 0)
      receivers++;
    sent += p->sent_pkts;
    sent_bytes += p->sent_bytes;
    plis += p->plis + p->firs;
    nacks += p->nacks;
    if (p->expected_streams > 0) {
      guint active = 0;

      for (guint j = 0; j < p->n_recv; j++) {
        TrafficRecvStream *r = &p->recv[j];
        guint64 e = traffic_recv_window_expected (r);
        gdouble l;

        if (r->window_received > 0)
          active++;
        expected += e;
        received += r->window_received;
        recv_bytes += r->window_bytes;
        reordered += r->window_reordered;
        l = e > 0 ? 100.0 * (gdouble) (e - MIN (e, r->window_received)) / e : 0;
        worst_loss = MAX (worst_loss, l);
      }
      if (active < p->expected_streams)
        streams_missing += p->expected_streams - active;
    }
  }
  for (guint i = 0; i < b->participants->len; i++) {
    Participant *p = g_ptr_array_index (b->participants, i);

    if (p->role != BENCH_ROLE_PUBLISHER)
      continue;
    for (guint j = 0; j < b->participants->len; j++) {
      Participant *q = g_ptr_array_index (b->participants, j);

      if (q != p && q->room_index == p->room_index && q->expected_streams > 0)
        expected_by_sent += p->sent_pkts;
    }
  }
  loss = expected > 0 ? 100.0 * (gdouble) (expected - MIN (expected, received)) / expected
                      : 100.0;
  p50 = traffic_hist_quantile (&b->hist, 0.50);
  p99 = traffic_hist_quantile (&b->hist, 0.99);
  if (error == NULL && streams_missing > 0)
    error = g_strdup_printf ("%u streams got nothing in the window", streams_missing);
  pass = error == NULL && loss <= b->opt.max_loss && p99 >= 0 && p99 <= b->opt.max_p99;

  line = json_pack ("{s:s, s:s, s:i, s:i, s:i, s:i, s:f, s:I, s:I, s:I, s:I, s:f, s:f,"
                    " s:I, s:f, s:f, s:f, s:f, s:I, s:f, s:f, s:f, s:I, s:I, s:I, s:I, s:b}",
                    "server", bench_backend_to_string (b->opt.backend),
                    "scenario", b->opt.scenario_name,
                    "n", (int) n,
                    "rooms", (int) b->rooms,
                    "subscribers", (int) subscribers,
                    "receivers", (int) receivers,
                    "window_s", elapsed,
                    "sent_pkts", (json_int_t) sent,
                    "expected_pkts", (json_int_t) expected,
                    "expected_by_sent", (json_int_t) expected_by_sent,
                    "received_pkts", (json_int_t) received,
                    "loss_pct", loss,
                    "worst_stream_loss_pct", worst_loss,
                    "reordered", (json_int_t) reordered,
                    "in_mbps", sent_bytes * 8 / elapsed / 1e6,
                    "out_pps", received / elapsed,
                    "out_mbps", recv_bytes * 8 / elapsed / 1e6,
                    "lat_p50_ms", p50,
                    "lat_samples", (json_int_t) b->sampled,
                    "lat_p99_ms", p99,
                    "gen_cpu_pct", 100.0 * cpu / elapsed,
                    "gen_ns_per_pkt", received + sent > 0 ? cpu * 1e9 / (received + sent) : 0,
                    "plis", (json_int_t) plis,
                    "nacks", (json_int_t) nacks,
                    "gen_lag_events", (json_int_t) b->lagging,
                    "sample_failed", (json_int_t) b->sample_failed,
                    "pass", pass);
  if (line == NULL) {
    /* json_pack refuses NaN and infinity (a step whose window never
     * started: elapsed 0, nothing expected).  Report the step as failed
     * instead of crashing on a NULL line. */
    line = json_pack ("{s:s, s:s, s:i, s:b}", "server", bench_backend_to_string (b->opt.backend),
                      "scenario", b->opt.scenario_name, "n", (int) n, "pass", 0);
    pass = FALSE;
    if (error == NULL)
      error = g_strdup ("the step could not be measured (no measured window)");
  }
  json_object_set_new (line, "lat_p90_ms", json_real (traffic_hist_quantile (&b->hist, 0.90)));
  json_object_set_new (line, "lat_p999_ms", json_real (traffic_hist_quantile (&b->hist, 0.999)));
  json_object_set_new (line, "lat_max_ms", json_real (traffic_hist_quantile (&b->hist, 1.0)));
  /* send stamp → kernel receive on the subscriber's socket (see the top) */
  json_object_set_new (line, "relay_samples", json_integer ((json_int_t) b->relay_sampled));
  json_object_set_new (line, "relay_p50_ms", json_real (traffic_hist_quantile (&b->relay_hist, 0.50)));
  json_object_set_new (line, "relay_p90_ms", json_real (traffic_hist_quantile (&b->relay_hist, 0.90)));
  json_object_set_new (line, "relay_p99_ms", json_real (traffic_hist_quantile (&b->relay_hist, 0.99)));
  json_object_set_new (line, "relay_p999_ms", json_real (traffic_hist_quantile (&b->relay_hist, 0.999)));
  json_object_set_new (line, "relay_max_ms", json_real (traffic_hist_quantile (&b->relay_hist, 1.0)));
  json_object_set_new (line, "pacing_factor", json_real (b->opt.pacing_factor));
  json_object_set_new (line, "pacing_burst_ms", json_real (b->opt.pacing_burst_ms));
  json_object_set_new (line, "recv_mmsg", json_boolean (b->poller != NULL));
  if (b->poller != NULL) {
    guint polled = 0;

    for (guint i = 0; i < b->participants->len; i++) {
      Participant *q = g_ptr_array_index (b->participants, i);

      polled += q->sub != NULL && media_peer_is_polled (q->sub);
    }
    json_object_set_new (line, "recv_mmsg_polled_peers", json_integer (polled));
  }
  if (b->opt.scenario == SCENARIO_BRIEFING || b->opt.n_remb > 0) {
    json_t *layers = layer_report (b, elapsed);

    if (b->opt.smoke && b->opt.scenario == SCENARIO_BRIEFING &&
        (!json_is_true (json_object_get (layers, "simulcast")) ||
         json_integer_value (json_object_get (json_object_get (layers, "viewers"), "none")) != 0)) {
      pass = FALSE;
      json_object_set_new (line, "pass", json_false ());
      if (error == NULL)
        error = g_strdup ("briefing smoke: no simulcast, or a viewer got no layer-tagged video");
    }
    json_object_set_new (line, "layers", layers);
  }
  if (error != NULL)
    json_object_set_new (line, "error", json_string (error));
  text = json_dumps (line, JSON_COMPACT | JSON_REAL_PRECISION (6));
  json_decref (line);
  printf ("%s\n", text);
  fflush (stdout);
  return pass;
}

static GArray *
step_sizes (Bench *b)
{
  GArray *sizes = g_array_new (FALSE, FALSE, sizeof (guint));

  if (b->opt.steps != NULL) {
    g_auto (GStrv) parts = g_strsplit (b->opt.steps, ",", -1);

    for (guint i = 0; parts[i] != NULL; i++) {
      guint v = (guint) g_ascii_strtoull (parts[i], NULL, 10);

      if (v > 0)
        g_array_append_val (sizes, v);
    }
  } else if (b->opt.step) {
    for (guint v = b->opt.start; v <= b->opt.max; v *= 2)
      g_array_append_val (sizes, v);
  } else {
    g_array_append_val (sizes, b->opt.count);
  }
  return sizes;
}

/* ---- main ----------------------------------------------------------------- */

/* "150,500,1500" → @out (at most @max values, each 1..100000, or 0 when
 * @zero_ok); FALSE on anything else or an empty list. */
static gboolean
parse_kbps_list (const char *list, gboolean zero_ok, guint *out, guint max, guint *n)
{
  g_auto (GStrv) parts = g_strsplit (list, ",", -1);

  *n = 0;
  for (guint i = 0; parts[i] != NULL; i++) {
    guint64 v;

    if (*n == max || !g_ascii_string_to_unsigned (g_strstrip (parts[i]), 10, zero_ok ? 0 : 1,
                                                  100000, &v, NULL))
      return FALSE;
    out[(*n)++] = (guint) v;
  }
  return *n > 0;
}

static gboolean
parse_options (int argc, char **argv, Options *o, GError **error)
{
  g_autofree gchar *server = NULL;
  g_autofree gchar *scenario = NULL;
  guint count = 0;
  GOptionEntry entries[] = {
    { "server", 0, 0, G_OPTION_ARG_STRING, &server, "caud (default) or janus", "NAME" },
    { "url", 0, 0, G_OPTION_ARG_STRING, &o->url,
      "caud: wss://HOST:PORT/ws, janus: http://HOST:PORT/janus", "URL" },
    { "scenario", 0, 0, G_OPTION_ARG_STRING, &scenario, "fanout, consult, audio or briefing",
      "NAME" },
    { "count", 'n', 0, G_OPTION_ARG_INT, &count,
      "subscribers (fanout, audio) or rooms (consult)", "N" },
    { "step", 0, 0, G_OPTION_ARG_NONE, &o->step,
      "double N from --start until it fails or passes --max", NULL },
    { "steps", 0, 0, G_OPTION_ARG_STRING, &o->steps, "explicit sizes, e.g. 10,20,30", "LIST" },
    { "start", 0, 0, G_OPTION_ARG_INT, &o->start, "first N with --step (10)", "N" },
    { "max", 0, 0, G_OPTION_ARG_INT, &o->max, "largest N with --step (640)", "N" },
    { "warmup", 0, 0, G_OPTION_ARG_DOUBLE, &o->warmup_s,
      "seconds before each window (5; briefing 8, for the server's layer choice)", "S" },
    { "window", 0, 0, G_OPTION_ARG_DOUBLE, &o->window_s, "measured seconds per step (10)", "S" },
    { "video-kbps", 0, 0, G_OPTION_ARG_INT, &o->video_kbps, "video bitrate (1500)", "K" },
    { "audio-kbps", 0, 0, G_OPTION_ARG_INT, &o->audio_kbps, "audio bitrate (40)", "K" },
    { "fps", 0, 0, G_OPTION_ARG_INT, &o->fps, "video frames per second (30)", "N" },
    { "keyframe-interval", 0, 0, G_OPTION_ARG_DOUBLE, &o->keyframe_interval_s,
      "seconds between key frames (3)", "S" },
    { "sample", 0, 0, G_OPTION_ARG_INT, &o->sample,
      "decrypt 1 in N received packets for latency (50)", "N" },
    { "tick-ms", 0, 0, G_OPTION_ARG_INT, &o->tick_ms,
      "send timer (1 with pacing, 5 without)", "MS" },
    { "pacing-factor", 0, 0, G_OPTION_ARG_DOUBLE, &o->pacing_factor,
      "video pacing rate as a multiple of --video-kbps, as libwebrtc's pacer (2.5; 0 = none)",
      "F" },
    { "pacing-burst-ms", 0, 0, G_OPTION_ARG_DOUBLE, &o->pacing_burst_ms,
      "pacer burst interval: libwebrtc 40 since 2023, 5 before (40)", "MS" },
    { "no-pacing", 0, 0, G_OPTION_ARG_NONE, &o->no_pacing,
      "send each frame's packets back-to-back (the old bursty mode)", NULL },
    { "batch-us", 0, 0, G_OPTION_ARG_INT, &o->batch_us,
      "at most one main-loop iteration per this many µs (default: 10 per participant, at most 2000; 0 = no wait)",
      "US" },
    { "local-address", 0, 0, G_OPTION_ARG_STRING, &o->local_address,
      "the generator's ICE address (127.0.0.1)", "IP" },
    { "port-min", 0, 0, G_OPTION_ARG_INT, &o->port_min, "generator UDP ports (0 = any)", "P" },
    { "port-max", 0, 0, G_OPTION_ARG_INT, &o->port_max, "", "P" },
    { "seq-start", 0, 0, G_OPTION_ARG_INT, &o->seq_start,
      "publishers' first RTP sequence number (default random; e.g. 65000 to wrap soon)", "N" },
    { "speakers", 0, 0, G_OPTION_ARG_INT, &o->speakers, "audio: publishers (4)", "N" },
    { "room-prefix", 0, 0, G_OPTION_ARG_STRING, &o->room_prefix, "room names (bench)", "S" },
    { "max-loss", 0, 0, G_OPTION_ARG_DOUBLE, &o->max_loss, "pass: loss %% at most (1)", "P" },
    { "max-p99", 0, 0, G_OPTION_ARG_DOUBLE, &o->max_p99, "pass: p99 ms at most (50)", "MS" },
    { "join-batch", 0, 0, G_OPTION_ARG_INT, &o->join_batch,
      "participants connecting at once (20)", "N" },
    { "connect-timeout", 0, 0, G_OPTION_ARG_DOUBLE, &o->connect_timeout_s,
      "seconds for a step's participants to connect (30, + 50 ms each)", "S" },
    { "room-kind", 0, 0, G_OPTION_ARG_STRING, &o->room_kind,
      "caud room kind sent with join (briefing but in consult; none: not sent)", "KIND" },
    { "simulcast-kbps", 0, 0, G_OPTION_ARG_STRING, &o->simulcast_kbps_list,
      "briefing: the publisher's layers low to high, 1 to 3 (150,500,1500)", "LIST" },
    { "no-simulcast", 0, 0, G_OPTION_ARG_NONE, &o->no_simulcast,
      "briefing: one layer at the top rate even when the server takes simulcast", NULL },
    { "recv-mmsg", 0, 0, G_OPTION_ARG_NONE, &o->recv_mmsg,
      "subscribers' sockets read with epoll + recvmmsg instead of libnice once connected "
      "(STUN consent checks answered by cau-bench)", NULL },
    { "no-link-loss", 0, G_OPTION_FLAG_REVERSE, G_OPTION_ARG_NONE, &o->link_loss,
      "viewers with a REMB do not report what they receive beyond it as loss", NULL },
    { "simulcast", 0, 0, G_OPTION_ARG_NONE, &o->force_simulcast,
      "briefing: offer simulcast even when the server does not say it takes it", NULL },
    { "remb-kbps", 0, 0, G_OPTION_ARG_STRING, &o->remb_kbps_list,
      "fanout, briefing: REMB each viewer sends, cycled over the viewers, 0 = none "
      "(briefing 0,800,300; fanout none)", "LIST" },
    { "smoke", 0, 0, G_OPTION_ARG_NONE, &o->smoke,
      "1 publisher, 3 subscribers, 5 s: exit 1 unless all receive with < 5 % loss", NULL },
    { NULL }
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("- WebRTC load generator for caud and Janus");

  o->start = 10;
  o->max = 640;
  o->warmup_s = -1;
  o->window_s = 10;
  o->video_kbps = 1500;
  o->audio_kbps = 40;
  o->fps = 30;
  o->keyframe_interval_s = 3;
  o->sample = 50;
  o->tick_ms = 0;
  o->pacing_factor = 2.5;
  o->pacing_burst_ms = 40;
  o->batch_us = -1;
  o->seq_start = -1;
  o->speakers = 4;
  o->max_loss = 1;
  o->max_p99 = 50;
  o->join_batch = 20;
  o->link_loss = TRUE;
  o->connect_timeout_s = 30;
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, error))
    return FALSE;

  o->backend = BENCH_BACKEND_CAUD;
  if (server != NULL && g_strcmp0 (server, "janus") == 0)
    o->backend = BENCH_BACKEND_JANUS;
  else if (server != NULL && g_strcmp0 (server, "caud") != 0)
    goto bad;
  if (o->url == NULL)
    o->url = g_strdup (o->backend == BENCH_BACKEND_CAUD ? "wss://127.0.0.1:8443/ws"
                                                        : "http://198.18.0.1:8088/janus");
  if (o->smoke) {
    /* fanout, or briefing when asked (then also: simulcast sent, and every
     * viewer got tagged video) */
    if (g_strcmp0 (scenario, "briefing") != 0) {
      g_clear_pointer (&scenario, g_free);
      scenario = g_strdup ("fanout");
    }
    count = 3;
    o->step = FALSE;
    g_clear_pointer (&o->steps, g_free);
    o->warmup_s = 1;
    o->window_s = 4;
    o->max_loss = 5;
    o->max_p99 = 1000;
  }
  o->scenario_name = g_strdup (scenario != NULL ? scenario : "fanout");
  if (g_strcmp0 (o->scenario_name, "fanout") == 0)
    o->scenario = SCENARIO_FANOUT;
  else if (g_strcmp0 (o->scenario_name, "consult") == 0)
    o->scenario = SCENARIO_CONSULT;
  else if (g_strcmp0 (o->scenario_name, "audio") == 0)
    o->scenario = SCENARIO_AUDIO;
  else if (g_strcmp0 (o->scenario_name, "briefing") == 0)
    o->scenario = SCENARIO_BRIEFING;
  else
    goto bad;
  if (o->warmup_s < 0)
    o->warmup_s = o->scenario == SCENARIO_BRIEFING ? 8 : 5;
  /* A consult room holds 12: the one-room scenarios are briefings, where
   * the host (the first publisher to join) gives the other publishers the
   * floor (session-caud.c). */
  if (o->room_kind == NULL && o->scenario != SCENARIO_CONSULT)
    o->room_kind = g_strdup ("briefing");
  if (g_strcmp0 (o->room_kind, "none") == 0)
    g_clear_pointer (&o->room_kind, g_free);
  if (!parse_kbps_list (o->simulcast_kbps_list != NULL ? o->simulcast_kbps_list : "150,500,1500",
                        FALSE, o->simulcast_kbps, MAX_LAYERS, &o->n_simulcast))
    goto bad;
  if (o->remb_kbps_list == NULL && o->scenario == SCENARIO_BRIEFING)
    o->remb_kbps_list = g_strdup ("0,800,300");
  if (o->remb_kbps_list != NULL &&
      !parse_kbps_list (o->remb_kbps_list, TRUE, o->remb_kbps, MAX_REMB_CLASSES, &o->n_remb))
    goto bad;
  o->count = count > 0 ? count : 10;
  if (o->no_pacing)
    o->pacing_factor = 0;
  if (o->pacing_factor < 0 || o->pacing_burst_ms < 0)
    goto bad;
  if (o->tick_ms == 0)
    o->tick_ms = o->pacing_factor > 0 ? 1 : 5;
  if (o->local_address == NULL)
    o->local_address = g_strdup ("127.0.0.1");
  if (o->room_prefix == NULL)
    o->room_prefix = g_strdup_printf ("bench%04x", g_random_int_range (0, 0xffff));
  if (o->fps == 0 || o->fps > 120 || o->sample == 0 || o->speakers < 1 ||
      o->speakers > 16 || o->join_batch == 0 || o->keyframe_interval_s <= 0)
    goto bad;
  return TRUE;

bad:
  g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
               "bad --server, --scenario or numeric option");
  return FALSE;
}

int
main (int argc, char **argv)
{
  Bench *b = &bench;
  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) sizes = NULL;
  guint tick_id, rtcp_id, wake_id, slow_id = 0, sig_id = 0;
  gboolean all_passed = TRUE;

  /* Two sockets per peer (UDP + the signaling TCP): the default soft limit
   * of 1024 descriptors ends a fan-out near 500. */
  {
    struct rlimit rl;

    if (getrlimit (RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
      rl.rlim_cur = rl.rlim_max;
      setrlimit (RLIMIT_NOFILE, &rl);
    }
  }
  if (!parse_options (argc, argv, &b->opt, &error)) {
    g_printerr ("cau-bench: %s\n", error->message);
    return 2;
  }
  if (!media_srtp_global_init (&error) || (b->cert = media_certificate_new (&error)) == NULL) {
    g_printerr ("cau-bench: %s\n", error->message);
    return 2;
  }

  /* Frame sizes: video_layer_init(). */
  b->keyframe_every = (guint) MAX (1, lround (b->opt.fps * b->opt.keyframe_interval_s));
  b->audio_bytes = MAX (TRAFFIC_STAMP_LEN + 1, b->opt.audio_kbps * 1000 / 8 / 50);
  b->frame_us = G_USEC_PER_SEC / b->opt.fps;
  b->audio_us = 20000;
  b->participants = g_ptr_array_new ();

  /* Default priority: with batched iterations a higher one would be the only
   * source dispatched (GLib dispatches the highest ready priority only). */
  if (b->opt.recv_mmsg) {
    b->poller = media_poller_new (g_main_context_default (), NULL);
    if (b->poller == NULL) {
      g_printerr ("cau-bench: --recv-mmsg: no epoll\n");
      return 2;
    }
    media_poller_set_receive_timestamps (b->poller, TRUE);
    slow_id = g_timeout_add (SLOW_CONTEXT_MS, on_slow_context, b);
    if (b->opt.backend == BENCH_BACKEND_CAUD) {
      /* (session-janus.c retries from timers on the default context) */
      b->sig_ctx = g_main_context_new ();
      sig_id = g_timeout_add (SLOW_CONTEXT_MS, on_sig_context, b);
    }
  }
  tick_id = g_timeout_add (b->opt.tick_ms, on_tick, b);
  rtcp_id = g_timeout_add (10, on_rtcp_timer, b);
  wake_id = g_timeout_add (50, on_wakeup, b);

  sizes = step_sizes (b);
  for (guint i = 0; i < sizes->len; i++) {
    if (!run_step (b, g_array_index (sizes, guint, i))) {
      all_passed = FALSE;
      break;
    }
  }

  g_source_remove (tick_id);
  g_source_remove (rtcp_id);
  if (slow_id != 0)
    g_source_remove (slow_id);
  for (guint i = 0; i < b->participants->len; i++)
    participant_free (g_ptr_array_index (b->participants, i));
  /* emptied, not freed: iterate_once() reads its length */
  g_ptr_array_set_size (b->participants, 0);
  iterate_for (b, 0.3);   /* let the leave messages go out */
  g_ptr_array_unref (b->participants);
  g_source_remove (wake_id);
  if (sig_id != 0)
    g_source_remove (sig_id);
  g_clear_pointer (&b->sig_ctx, g_main_context_unref);
  g_clear_pointer (&b->poller, media_poller_free);
  media_certificate_unref (b->cert);

  /* A stepped run ends by failing a step: that is its result, not an error. */
  if (b->opt.smoke || (!b->opt.step && b->opt.steps == NULL))
    return all_passed ? 0 : 1;
  return 0;
}
