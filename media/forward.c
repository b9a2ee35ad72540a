/* forward.c — the packet path of a room: RTP from publishers fanned out to
 * subscriber slots, RTCP terminated and regenerated in both directions.
 * Runs on the room's worker; takes no lock and allocates nothing. */
#include <string.h>

#include "rtcp.h"
#include "room-priv.h"

static guint64
now_ms (void)
{
  return (guint64) (g_get_monotonic_time () / 1000);
}

gboolean
media_codec_has_feedback (const MediaSdpCodec *codec, const char *fb)
{
  for (guint i = 0; codec->rtcp_fb != NULL && i < codec->rtcp_fb->len; i++)
    if (g_strcmp0 (g_ptr_array_index (codec->rtcp_fb, i), fb) == 0)
      return TRUE;
  return FALSE;
}

gboolean
media_packet_starts_keyframe (const MediaSdpCodec *codec, const uint8_t *packet,
                              const RtpHeader *h, gboolean otherwise)
{
  const uint8_t *payload = packet + h->payload_offset;

  if (g_ascii_strcasecmp (codec->encoding, "VP8") == 0)
    return rtp_vp8_is_keyframe (payload, h->payload_len);
  if (g_ascii_strcasecmp (codec->encoding, "H264") == 0)
    return rtp_h264_is_keyframe (payload, h->payload_len);
  return otherwise;
}

/* ---- RTCP towards publishers ----------------------------------------- */

/* RFC 4585 §6.3.1 PLI, or RFC 5104 §4.3.1 FIR when the publisher negotiated
 * only that.  Rate-limited per track: a burst of joining subscribers costs
 * the publisher one key frame, not one each. */
void
media_track_request_keyframe (MediaTrack *track, gboolean force)
{
  uint8_t buf[MEDIA_PEER_BUFFER_SIZE];
  gint64 now = g_get_monotonic_time ();
  MediaPeer *peer = track->owner->publish;
  size_t n;

  if (track->n_layers > 0) {
    /* Simulcast: the layers some slot or the recorder forwards or waits
     * for, else all. */
    gboolean any = FALSE;

    if (track->record_index != 0 && track->record_target >= 0) {
      media_simulcast_request_keyframe (track, track->record_target, force);
      any = TRUE;
    }

    for (guint i = 0; i < track->slots->len; i++) {
      MediaSlot *s = g_ptr_array_index (track->slots, i);

      if (s->target_layer >= 0) {
        media_simulcast_request_keyframe (track, s->target_layer, force);
        any = TRUE;
      }
    }
    for (guint i = 0; !any && i < track->n_layers; i++)
      media_simulcast_request_keyframe (track, (gint) i, force);
    return;
  }
  if (!track->video || track->ssrc == 0 || peer == NULL)
    return;
  if (!force && now - track->last_keyframe_request_us < KEYFRAME_MIN_INTERVAL_US)
    return;
  track->last_keyframe_request_us = now;
  if (!media_codec_has_feedback (track->codec, "nack pli") &&
      media_codec_has_feedback (track->codec, "ccm fir"))
    n = rtcp_write_fir (buf, sizeof buf, track->owner->rtcp_ssrc, track->ssrc,
                        track->fir_seq++);
  else
    n = rtcp_write_pli (buf, sizeof buf, track->owner->rtcp_ssrc, track->ssrc);
  if (n > 0 && media_peer_send_rtcp (peer, buf, n))
    MEDIA_STAT_ADD (track->owner->room->env.stats, plis_sent, 1);
}

/* RFC 4585 §6.2.1 generic NACK for gaps seen on the uplink. */
static void
track_nack_missing (MediaTrack *track, gint layer)
{
  uint16_t seqs[32];
  uint8_t buf[MEDIA_PEER_BUFFER_SIZE];
  size_t n_missing, n;
  RtpSourceStats *stats = layer >= 0 ? &track->layers[layer].stats : &track->stats;
  guint32 ssrc = layer >= 0 ? track->layers[layer].ssrc : track->ssrc;

  if (!track->video || !media_codec_has_feedback (track->codec, "nack"))
    return;
  n_missing = rtp_source_stats_take_missing (stats, seqs, G_N_ELEMENTS (seqs));
  if (n_missing == 0)
    return;
  n = rtcp_write_nack (buf, sizeof buf, track->owner->rtcp_ssrc, ssrc,
                       seqs, n_missing);
  if (n > 0)
    media_peer_send_rtcp (track->owner->publish, buf, n);
}

/* ---- the forwarding path ---------------------------------------------- */

static MediaTrack *
participant_track_for_packet (MediaParticipant *p, const uint8_t *packet, const RtpHeader *h,
                              gint *layer)
{
  MediaTrack *by_pt = NULL;
  guint n_by_pt = 0;

  *layer = -1;
  for (guint i = 0; i < p->tracks->len; i++) {
    MediaTrack *t = g_ptr_array_index (p->tracks, i);

    if (t->n_layers > 0) {
      if ((*layer = media_simulcast_layer_by_ssrc (t, h->ssrc)) >= 0)
        return t;
      continue;
    }
    if (t->ssrc == h->ssrc)
      return t;
    if (t->ssrc == 0 && t->codec->payload_type == h->payload_type) {
      by_pt = t;
      n_by_pt++;
    }
  }
  /* A simulcast layer's first packets carry its rid (RFC 8852). */
  {
    MediaTrack *by_rid = media_simulcast_learn (p, packet, h, layer);

    if (by_rid != NULL)
      return by_rid;
  }
  /* An offer without a=ssrc (or a new SSRC after a sender restart): learn
   * the SSRC from the payload type when exactly one silent track uses it. */
  if (n_by_pt == 1) {
    by_pt->ssrc = h->ssrc;
    rtp_source_stats_init (&by_pt->stats, h->ssrc, by_pt->codec->clock_rate);
    g_debug ("room %s: learned SSRC %08x for track %s/%s", p->room->id, h->ssrc,
             p->id, by_pt->id);
    media_track_request_keyframe (by_pt, TRUE);
    return by_pt;
  }
  return NULL;
}

void
media_forward_keyframe_watch (MediaParticipant *p)
{
  for (guint i = 0; i < p->slots->len; i++) {
    MediaSlot *s = g_ptr_array_index (p->slots, i);

    if (s->want_keyframe && s->negotiated && s->track != NULL && s->track->n_layers > 0)
      media_simulcast_request_keyframe (s->track, s->target_layer, FALSE);
    else if (s->want_keyframe && s->negotiated && s->track != NULL)
      media_track_request_keyframe (s->track, FALSE);
  }
}

void
media_forward_release_idle (MediaParticipant *p)
{
  guint64 now = now_ms ();

  for (guint i = 0; i < p->slots->len; i++)
    nack_log_release_idle (((MediaSlot *) g_ptr_array_index (p->slots, i))->sent, now,
                           NACK_MAX_AGE_MS);
}

/* Packets counted as 1000 bytes (VP8 at these rates sends 1100-1200), a
 * power of two within [128, 2048]: 256 at the default 1500 kbit/s, which
 * holds 1.6 s of 1200-byte packets.  The rings used to have 512 entries
 * whatever the ceiling: 750 KiB per published video track. */
unsigned
media_video_nack_slots (const MediaConfig *config)
{
  guint64 bytes_per_s = (guint64) config->max_bitrate_kbps * 1000 / 8;
  guint64 packets = bytes_per_s * NACK_MAX_AGE_MS / 1000 / 1000;
  unsigned slots = 128;

  while (slots < packets && slots < 2048)
    slots *= 2;
  return slots;
}

/* The cache of @track's packets as received (@layer's, for simulcast),
 * made on first use; stores @packet.  NULL for audio, and when memory is
 * short (then nothing is retransmitted). */
static NackCache *
track_keep_packet (MediaTrack *track, gint layer, const uint8_t *packet, size_t len,
                   const RtpHeader *h, guint64 now)
{
  NackCache **cache = &track->received[layer >= 0 ? layer : 0];

  if (!track->video)
    return NULL;
  if (*cache == NULL)
    *cache = nack_cache_new (media_video_nack_slots (track->owner->room->env.config),
                             MEDIA_PEER_BUFFER_SIZE - 256);
  nack_cache_put (*cache, h->seq, packet, len, now);
  return *cache;
}

/* The bytes slot_send_rtp() may rewrite: the RTP header with its
 * extensions, and a VP8 payload descriptor (at most 6 bytes, RFC 7741). */
static size_t
rewritten_prefix (const MediaSlot *slot, const RtpHeader *h)
{
  return h->payload_offset + (slot->vp8 ? MIN (h->payload_len, 6) : 0);
}

/* @received: the track's cache that holds @packet (NACKs are answered
 * from it), or NULL. */
static void
slot_send_rtp (MediaSlot *slot, const uint8_t *packet, size_t len, const RtpHeader *h,
               NackCache *received, guint64 now)
{
  uint8_t out[MEDIA_PEER_BUFFER_SIZE];
  MediaPeer *peer = slot->subscriber->subscribe;
  size_t prefix;
  gboolean keyframe;

  if (!slot->negotiated || peer == NULL || media_peer_get_state (peer) != MEDIA_STATE_CONNECTED)
    return;
  /* Only the bytes this subscriber's copy changes are copied; the rest of
   * the packet is protected straight from @packet when it is sent. */
  prefix = rewritten_prefix (slot, h);
  memcpy (out, packet, prefix);
  if (!rtp_rewriter_apply (&slot->rewriter, out, h))
    return;
  /* A padding-only packet (Chromium probes its bandwidth with them when no
   * rtx is negotiated) has no payload descriptor, but its seq must reach
   * the subscriber: dropping it after the seq rewrite reads as loss. */
  if (slot->vp8 && h->payload_len > 0 &&
      !rtp_vp8_rewriter_apply (&slot->vp8_rewriter, out + h->payload_offset,
                               prefix - h->payload_offset))
    return;
  if (slot->codec_out->payload_type != h->payload_type)
    rtp_set_payload_type (out, slot->codec_out->payload_type);
  if (slot->track->video)
    media_simulcast_rewrite_extensions (slot->track, out, h);
  if (slot->sent != NULL)
    nack_log_put (slot->sent, (uint16_t) ((out[2] << 8) | out[3]), received, h->seq, out,
                  prefix, len, now);
  /* The rewriting leaves the codec's payload as it was. */
  keyframe = slot->want_keyframe &&
             media_packet_starts_keyframe (slot->codec_out, packet, h, TRUE);
  if (media_peer_send_rtp_split (peer, out, prefix, packet + prefix, len - prefix)) {
    slot->packets_sent++;
    slot->octets_sent += (guint32) h->payload_len;
    if (keyframe)
      slot->want_keyframe = FALSE;
  }
}

void
media_forward_publisher_rtp (MediaPeer *peer, uint8_t *buf, size_t len, gpointer user_data)
{
  MediaParticipant *p = user_data;
  MediaStats *stats = p->room->env.stats;
  RtpHeader h;
  MediaTrack *track;
  NackCache *received;
  guint64 now, now_us;
  gint layer;

  if (!rtp_parse (buf, len, &h)) {
    MEDIA_STAT_ADD (stats, dropped_malformed, 1);
    return;
  }
  track = participant_track_for_packet (p, buf, &h, &layer);
  if (track == NULL) {
    MEDIA_STAT_ADD (stats, dropped_unknown, 1);
    return;
  }
  if (h.payload_type != track->codec->payload_type) {
    /* rtx, red, fec or a codec we did not negotiate. */
    MEDIA_STAT_ADD (stats, dropped_unknown, 1);
    return;
  }
  /* One clock read per received packet, shared by the stats and the cache. */
  now_us = (guint64) g_get_monotonic_time ();
  now = now_us / 1000;
  if (layer >= 0) {
    media_simulcast_note_packet (track, layer, &h, len, now_us);
    track_nack_missing (track, layer);
    if (track->disabled)
      return;
    /* The recorder takes the best layer flowing, rewritten onto one
     * continuous stream (simulcast.c). */
    if (track->record_index != 0 && p->recorder != NULL) {
      uint8_t rec[MEDIA_PEER_BUFFER_SIZE];
      RtpHeader rec_h;

      if (media_simulcast_record_packet (track, layer, buf, len, &h, (gint64) now_us, rec) &&
          rtp_parse (rec, len, &rec_h))
        media_recording_push (p, track, rec, len, &rec_h, (gint64) now_us);
    }
    /* Resumed video: each slot waits for a key frame of its own layer. */
    if (track->resume_at_keyframe)
      media_simulcast_track_resume (track);
    if ((track->last_n_off || track->view_waiting != NULL) &&
        !media_speaker_release (track, buf, &h))
      return;
    received = track_keep_packet (track, layer, buf, len, &h, now);
    for (guint i = 0; i < track->slots->len; i++) {
      MediaSlot *slot = g_ptr_array_index (track->slots, i);

      /* Most slots neither forward nor wait for this layer: no call. */
      if (slot->layer != layer && slot->target_layer != layer && slot->target_layer >= 0 &&
          slot->layer_track == track)
        continue;
      if (media_simulcast_slot_accept (slot, layer, buf, &h, (gint64) now_us))
        slot_send_rtp (slot, buf, len, &h, received, now);
    }
    return;
  }
  rtp_source_stats_update (&track->stats, h.seq, h.timestamp, now_us);
  track_nack_missing (track, -1);
  /* speaker.c: a disabled source is counted only; audio levels; Last-N
   * and resumed video wait for a key frame. */
  if (track->disabled)
    return;
  if (track->audio_level_id != 0)
    media_speaker_audio_level (track, buf, &h, (gint64) now_us);
  if (track->record_index != 0 && p->recorder != NULL)
    media_recording_push (p, track, buf, len, &h, (gint64) now_us);
  if ((track->last_n_off || track->resume_at_keyframe || track->view_waiting != NULL) &&
      !media_speaker_release (track, buf, &h))
    return;

  received = track_keep_packet (track, -1, buf, len, &h, now);
  for (guint i = 0; i < track->slots->len; i++)
    slot_send_rtp (g_ptr_array_index (track->slots, i), buf, len, &h, received, now);
}

/* The publisher's sender report, translated for each subscriber so that
 * their audio and video stay in sync (RFC 3550 §6.4.1). */
static void
track_forward_sender_report (MediaTrack *track, gint layer, guint64 ntp, guint32 rtp_ts)
{
  uint8_t buf[MEDIA_PEER_BUFFER_SIZE];

  for (guint i = 0; i < track->slots->len; i++) {
    MediaSlot *slot = g_ptr_array_index (track->slots, i);
    MediaPeer *peer = slot->subscriber->subscribe;
    size_t n;

    if (!slot->negotiated || !slot->rewriter.started || peer == NULL)
      continue;
    if (layer >= 0 && slot->layer != layer)
      continue;  /* simulcast: only the layer this slot forwards */
    n = rtcp_write_sr (buf, sizeof buf, slot->ssrc_out, ntp,
                       rtp_ts + slot->rewriter.ts_offset, slot->packets_sent,
                       slot->octets_sent, NULL, 0);
    if (n > 0)
      media_peer_send_rtcp (peer, buf, n);
  }
}

void
media_forward_publisher_rtcp (MediaPeer *peer, uint8_t *buf, size_t len, gpointer user_data)
{
  MediaParticipant *p = user_data;
  RtcpIter it;
  RtcpPacket pkt;

  rtcp_iter_init (&it, buf, len);
  while (rtcp_iter_next (&it, &pkt)) {
    if (pkt.type == RTCP_SR) {
      guint64 ntp;
      guint32 rtp_ts, packets, octets;

      if (!rtcp_sr_parse (&pkt, &ntp, &rtp_ts, &packets, &octets))
        continue;
      for (guint i = 0; i < p->tracks->len; i++) {
        MediaTrack *t = g_ptr_array_index (p->tracks, i);

        gint layer = media_simulcast_layer_by_ssrc (t, pkt.sender_ssrc);

        if (layer >= 0) {
          rtp_source_stats_note_sr (&t->layers[layer].stats, ntp,
                                    (guint64) g_get_monotonic_time ());
          track_forward_sender_report (t, layer, ntp, rtp_ts);
          /* The recorded layer's, on the recorded stream's timestamps. */
          if (t->record_index != 0 && p->recorder != NULL && layer == t->record_layer &&
              t->record_rewriter.started)
            media_recording_note_sender_report (p, t, ntp, rtp_ts + t->record_rewriter.ts_offset,
                                                g_get_monotonic_time ());
        } else if (t->ssrc != 0 && t->ssrc == pkt.sender_ssrc) {
          rtp_source_stats_note_sr (&t->stats, ntp, (guint64) g_get_monotonic_time ());
          track_forward_sender_report (t, -1, ntp, rtp_ts);
          if (t->record_index != 0 && p->recorder != NULL)
            media_recording_note_sender_report (p, t, ntp, rtp_ts, g_get_monotonic_time ());
        }
      }
    }
  }
  if (it.error)
    MEDIA_STAT_ADD (p->room->env.stats, dropped_malformed, 1);
}

static MediaSlot *
participant_slot_by_ssrc (MediaParticipant *p, guint32 ssrc)
{
  for (guint i = 0; i < p->slots->len; i++) {
    MediaSlot *s = g_ptr_array_index (p->slots, i);

    if (s->ssrc_out == ssrc)
      return s;
  }
  return NULL;
}

/* RFC 4585 §6.2.1: answer a subscriber's NACK from its log of sent packets
 * (the same packet, same sequence number: no rtx is negotiated). */
static void
slot_answer_nack (MediaSlot *slot, const RtcpPacket *pkt)
{
  uint16_t seqs[64];
  size_t n = rtcp_nack_get_seqs (pkt, seqs, G_N_ELEMENTS (seqs));
  guint64 now = now_ms ();
  MediaStats *stats = slot->subscriber->room->env.stats;

  if (slot->sent == NULL)
    return;
  for (size_t i = 0; i < n; i++) {
    uint8_t out[MEDIA_PEER_BUFFER_SIZE];
    /* Room left for SRTP's tag. */
    size_t plen = nack_log_get (slot->sent, seqs[i], now, NACK_MAX_AGE_MS, out, sizeof out - 256);

    if (plen == 0)
      continue;
    if (media_peer_send_rtp (slot->subscriber->subscribe, out, plen))
      MEDIA_STAT_ADD (stats, nack_retransmits, 1);
  }
}

void
media_forward_subscriber_rtcp (MediaPeer *peer, uint8_t *buf, size_t len, gpointer user_data)
{
  MediaParticipant *p = user_data;
  RtcpIter it;
  RtcpPacket pkt;

  rtcp_iter_init (&it, buf, len);
  while (rtcp_iter_next (&it, &pkt)) {
    MediaSlot *slot;

    switch (pkt.type) {
    case RTCP_RR:
    case RTCP_SR: {
      guint n = rtcp_report_block_count (&pkt);

      for (guint i = 0; i < n; i++) {
        RtcpReportBlock block;

        if (!rtcp_get_report_block (&pkt, i, &block))
          break;
        slot = participant_slot_by_ssrc (p, block.ssrc);
        if (slot != NULL)
          slot->fraction_lost = block.fraction_lost;
      }
      break;
    }
    case RTCP_PSFB: {
      uint64_t remb;

      /* REMB's header media SSRC is 0: it is about the whole session. */
      if (pkt.count == RTCP_PSFB_AFB && rtcp_remb_parse (&pkt, &remb, NULL, 0, NULL)) {
        media_simulcast_note_remb (p, remb);
        break;
      }
      slot = participant_slot_by_ssrc (p, pkt.media_ssrc);
      if (slot == NULL || slot->track == NULL)
        break;
      if ((pkt.count == RTCP_PSFB_PLI || pkt.count == RTCP_PSFB_FIR) &&
          slot->track->n_layers > 0)
        media_simulcast_request_keyframe (slot->track, slot->layer >= 0 ? slot->layer
                                                                        : slot->target_layer,
                                          FALSE);
      else if (pkt.count == RTCP_PSFB_PLI || pkt.count == RTCP_PSFB_FIR)
        media_track_request_keyframe (slot->track, FALSE);
      break;
    }
    case RTCP_RTPFB:
      slot = participant_slot_by_ssrc (p, pkt.media_ssrc);
      if (slot != NULL && pkt.count == RTCP_RTPFB_NACK)
        slot_answer_nack (slot, &pkt);
      break;
    default:
      break;
    }
  }
  if (it.error)
    MEDIA_STAT_ADD (p->room->env.stats, dropped_malformed, 1);
}

/* ---- periodic RTCP ----------------------------------------------------- */

/* Once a second: receiver reports and REMB to every publisher.  The REMB
 * value follows the worst subscriber's loss, like the loss-based half of
 * GCC (draft-ietf-rmcat-gcc-02 §6): > 10 % loss backs off 15 %, < 2 %
 * grows 8 %, bounded by the configured ceiling. */
void
media_forward_publisher_reports (MediaParticipant *p)
{
  uint8_t buf[MEDIA_PEER_BUFFER_SIZE];
  RtcpReportBlock blocks[16];
  guint32 ssrcs[16];
  size_t n_blocks = 0, n_ssrcs = 0, n = 0, m;
  guint64 max_bps = (guint64) p->room->env.config->max_bitrate_kbps * 1000;
  guint64 remb = 0;
  guint64 now_us = (guint64) g_get_monotonic_time ();

  if (p->publish == NULL || media_peer_get_state (p->publish) != MEDIA_STATE_CONNECTED)
    return;

  for (guint i = 0; i < p->tracks->len && n_blocks < G_N_ELEMENTS (blocks); i++) {
    MediaTrack *t = g_ptr_array_index (p->tracks, i);
    guint worst = 0, best = 256;

    if (t->n_layers > 0) {
      /* Simulcast: a report and a REMB entry per layer; the REMB follows
       * the best subscriber, the others get lower layers instead. */
      for (guint l = 0; l < t->n_layers; l++) {
        if (t->layers[l].ssrc == 0 || n_blocks >= G_N_ELEMENTS (blocks))
          continue;
        rtp_source_stats_report_block (&t->layers[l].stats, now_us, &blocks[n_blocks++]);
        ssrcs[n_ssrcs++] = t->layers[l].ssrc;
      }
      for (guint j = 0; j < t->slots->len; j++) {
        MediaSlot *s = g_ptr_array_index (t->slots, j);

        if (s->negotiated)
          best = MIN (best, s->fraction_lost);
      }
      if (best == 256)
        best = 0;
      if (t->target_bps == 0)
        t->target_bps = max_bps;
      if (best > 256 / 10)
        t->target_bps = t->target_bps * 85 / 100;
      else if (best < 256 / 50)
        t->target_bps = t->target_bps * 108 / 100;
      t->target_bps = CLAMP (t->target_bps, MIN_BITRATE_BPS, MAX (max_bps, MIN_BITRATE_BPS));
      remb = remb == 0 ? t->target_bps : MIN (remb, t->target_bps);
      continue;
    }
    if (t->ssrc == 0)
      continue;
    rtp_source_stats_report_block (&t->stats, now_us, &blocks[n_blocks++]);
    if (!t->video)
      continue;
    for (guint j = 0; j < t->slots->len; j++) {
      MediaSlot *s = g_ptr_array_index (t->slots, j);

      worst = MAX (worst, s->fraction_lost);
    }
    if (t->target_bps == 0)
      t->target_bps = max_bps;
    if (worst > 256 / 10)
      t->target_bps = t->target_bps * 85 / 100;
    else if (worst < 256 / 50)
      t->target_bps = t->target_bps * 108 / 100;
    t->target_bps = CLAMP (t->target_bps, MIN_BITRATE_BPS, MAX (max_bps, MIN_BITRATE_BPS));
    remb = remb == 0 ? t->target_bps : MIN (remb, t->target_bps);
    ssrcs[n_ssrcs++] = t->ssrc;
  }
  if (n_blocks == 0)
    return;

  n = rtcp_write_rr (buf, sizeof buf, p->rtcp_ssrc, blocks, n_blocks);
  if (n == 0)
    return;
  if (n_ssrcs > 0) {
    m = rtcp_write_remb (buf + n, sizeof buf - 256 - n, p->rtcp_ssrc, remb, ssrcs, n_ssrcs);
    n += m;
  }
  media_peer_send_rtcp (p->publish, buf, n);
}
