/* simulcast.c — simulcast layers, downlink estimate, layer selection.
 *
 * A simulcast publisher (RFC 8853; Chromium with three rids) sends one
 * video track as 2..3 encodings, each on its own SSRC.  This file keeps,
 * per track, the layers (SSRC learned from the rid header extension of
 * RFC 8852, or given by a=ssrc-group:SIM), their receive stats and a
 * measured bitrate over ~1 s windows, and ranks the sending layers by that
 * bitrate (whatever the rids are called).  Per subscriber it keeps a
 * downlink estimate: the subscriber's REMB (draft-alvestrand-rmcat-remb)
 * bounded by a loss-based estimate from its receiver reports (the loss half
 * of GCC, draft-ietf-rmcat-gcc-02 §6).  Per subscriber slot it chooses a
 * target layer — the highest ranked layer whose bitrate fits the slot's
 * share of the estimate, capped by media_room_set_max_layer — going down at
 * once and up only after the estimate has allowed it for 2 s, asks the
 * publisher for a key frame of that layer and switches at that key frame,
 * continuing the subscriber's SSRC, seq, timestamp and VP8 PictureID.
 * The recorder gets the same treatment with its own choice: the highest
 * ranked layer that is actually flowing.
 *
 * Runs on the room's worker only, like forward.c; no allocation on the
 * packet path. */
#include <string.h>

#include "rtcp.h"
#include "room-priv.h"

#define RID_URI "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id"
#define MID_URI "urn:ietf:params:rtp-hdrext:sdes:mid"
#define ABS_SEND_TIME_URI "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"
#define UP_HOLD_US (2 * G_USEC_PER_SEC)       /* estimate must allow a higher layer this long */
#define WINDOW_US (900 * G_TIME_SPAN_MILLISECOND) /* bitrate window (the tick is 1 s) */
#define LOSS_MAX_BPS G_GUINT64_CONSTANT (20000000) /* loss-based estimate ceiling and start */
#define PROBE_GRACE_US (10 * G_USEC_PER_SEC)  /* a probe's time to let the REMB catch up */
#define PROBE_HOLD_MAX_US (32 * G_USEC_PER_SEC)
#define PROBE_RISE_US (3 * G_USEC_PER_SEC)    /* by then a probed REMB has risen 5 % */
#define RECORD_FLOWING_US G_USEC_PER_SEC      /* a layer with media this recent may be recorded */

/* ---- layers of a publisher's track -------------------------------------- */

static guint8
section_extmap_id (const MediaSdpSection *section, const char *uri)
{
  for (guint i = 0; i < section->extmaps->len; i++) {
    const MediaSdpExtmap *e = g_ptr_array_index (section->extmaps, i);

    if (strcmp (e->uri, uri) == 0)
      return e->id;
  }
  return 0;
}

static void
layer_set_ssrc (MediaTrack *track, MediaLayer *layer, guint32 ssrc)
{
  layer->ssrc = ssrc;
  rtp_source_stats_init (&layer->stats, ssrc, track->codec->clock_rate);
  layer->window_bytes = 0;
  layer->window_start_us = g_get_monotonic_time ();
  layer->bitrate_bps = 0;
}

void
media_simulcast_track_clear (MediaTrack *track)
{
  for (guint i = 0; i < track->n_layers; i++)
    g_clear_pointer (&track->layers[i].rid, g_free);
  memset (track->layers, 0, sizeof track->layers);
  track->n_layers = 0;
  track->n_ranked = 0;
}

void
media_simulcast_track_setup (MediaTrack *track, const MediaSdpSection *section)
{
  MediaLayer old[MEDIA_MAX_LAYERS];
  guint n_old = track->n_layers;

  if (!track->video)
    return;
  memcpy (old, track->layers, sizeof old);
  memset (track->layers, 0, sizeof track->layers);
  track->n_layers = 0;
  track->n_ranked = 0;
  track->rid_ext_id = section_extmap_id (section, RID_URI);
  track->mid_ext_id = section_extmap_id (section, MID_URI);
  track->abs_send_time_id = section_extmap_id (section, ABS_SEND_TIME_URI);
  /* Layer indices may change: the recording chooses again (its stream,
   * the rewriters, continues). */
  track->record_layer = -1;
  track->record_target = -1;

  if (section->rids->len >= 2 && track->rid_ext_id != 0) {
    for (guint i = 0; i < section->rids->len && i < MEDIA_MAX_LAYERS; i++) {
      MediaLayer *l = &track->layers[track->n_layers++];
      const char *rid = g_ptr_array_index (section->rids, i);

      /* A renegotiation keeps what was learned about the same rid (its
       * rid string stays in old[] and is freed below). */
      for (guint j = 0; j < n_old; j++)
        if (g_strcmp0 (old[j].rid, rid) == 0)
          *l = old[j];
      l->rid = g_strdup (rid);
    }
  } else if (section->sim_ssrcs->len >= 2) {
    for (guint i = 0; i < section->sim_ssrcs->len && i < MEDIA_MAX_LAYERS; i++)
      layer_set_ssrc (track, &track->layers[track->n_layers++],
                      g_array_index (section->sim_ssrcs, guint32, i));
  }
  for (guint j = 0; j < n_old; j++)
    g_free (old[j].rid);
  if (track->n_layers > 0)
    track->ssrc = 0;
  /* Until bitrates are measured: the offer's order (Chromium: l, m, h). */
  for (guint i = 0; i < track->n_layers; i++)
    track->rank[i] = i;
}

gint
media_simulcast_layer_by_ssrc (const MediaTrack *track, guint32 ssrc)
{
  for (guint i = 0; i < track->n_layers; i++)
    if (track->layers[i].ssrc == ssrc && ssrc != 0)
      return (gint) i;
  return -1;
}

static gboolean
ext_equals (const uint8_t *data, size_t len, const char *s)
{
  /* RFC 8852 §3.3 / RFC 9143 §15: the value, possibly NUL-padded. */
  while (len > 0 && data[len - 1] == 0)
    len--;
  return s != NULL && strlen (s) == len && memcmp (data, s, len) == 0;
}

MediaTrack *
media_simulcast_learn (MediaParticipant *p, const uint8_t *packet, const RtpHeader *h,
                       gint *layer)
{
  for (guint i = 0; i < p->tracks->len; i++) {
    MediaTrack *t = g_ptr_array_index (p->tracks, i);
    const uint8_t *data;
    size_t len;

    if (t->n_layers == 0 || t->rid_ext_id == 0 || h->payload_type != t->codec->payload_type)
      continue;
    if (!rtp_find_extension (packet, h, t->rid_ext_id, &data, &len))
      continue;
    if (t->mid_ext_id != 0) {
      const uint8_t *mid;
      size_t mid_len;

      if (rtp_find_extension (packet, h, t->mid_ext_id, &mid, &mid_len) &&
          !ext_equals (mid, mid_len, t->mid))
        continue;
    }
    for (guint j = 0; j < t->n_layers; j++) {
      MediaLayer *l = &t->layers[j];

      if (!ext_equals (data, len, l->rid))
        continue;
      layer_set_ssrc (t, l, h->ssrc);
      g_debug ("room %s: learned SSRC %08x for track %s/%s layer %s", p->room->id, h->ssrc,
               p->id, t->id, l->rid);
      media_simulcast_request_keyframe (t, (gint) j, TRUE);
      *layer = (gint) j;
      return t;
    }
  }
  return NULL;
}

void
media_simulcast_note_packet (MediaTrack *track, gint layer, const RtpHeader *h, size_t len,
                             guint64 now_us)
{
  MediaLayer *l = &track->layers[layer];

  rtp_source_stats_update (&l->stats, h->seq, h->timestamp, now_us);
  l->window_bytes += len;
  /* Padding-only packets (bandwidth probes) do not make a layer flow. */
  if (h->payload_len > 0)
    l->last_media_us = (gint64) now_us;
}

/* Measured bitrates, and the rank of the layers that send. */
static void
track_update_layers (MediaTrack *track, gint64 now)
{
  guint n = 0;

  for (guint i = 0; i < track->n_layers; i++) {
    MediaLayer *l = &track->layers[i];
    gint64 elapsed = now - l->window_start_us;
    guint64 bps;

    if (l->ssrc == 0 || elapsed < WINDOW_US)
      continue;
    /* Smoothed, so that a publisher short of CPU or bandwidth for a second
     * does not reorder its layers; a silent window drops the layer at once. */
    bps = l->window_bytes * 8 * G_USEC_PER_SEC / (guint64) elapsed;
    l->bitrate_bps = bps == 0 || l->bitrate_bps == 0 ? bps : (l->bitrate_bps * 7 + bps * 3) / 10;
    l->window_bytes = 0;
    l->window_start_us = now;
  }
  for (guint i = 0; i < track->n_layers; i++) {
    guint j;

    if (track->layers[i].bitrate_bps == 0)
      continue;
    /* insertion by bitrate, ascending; ties keep the offer's order */
    for (j = n; j > 0 && track->layers[track->rank[j - 1]].bitrate_bps >
                             track->layers[i].bitrate_bps; j--)
      track->rank[j] = track->rank[j - 1];
    track->rank[j] = i;
    n++;
  }
  track->n_ranked = n;
}

void
media_simulcast_request_keyframe (MediaTrack *track, gint layer, gboolean force)
{
  uint8_t buf[64];
  gint64 now = g_get_monotonic_time ();
  MediaPeer *peer = track->owner->publish;
  MediaLayer *l;
  size_t n;

  if (layer < 0 || (guint) layer >= track->n_layers || peer == NULL)
    return;
  l = &track->layers[layer];
  if (l->ssrc == 0)
    return;
  if (!force && now - l->last_keyframe_request_us < KEYFRAME_MIN_INTERVAL_US)
    return;
  l->last_keyframe_request_us = now;
  if (!media_codec_has_feedback (track->codec, "nack pli") &&
      media_codec_has_feedback (track->codec, "ccm fir"))
    n = rtcp_write_fir (buf, sizeof buf, track->owner->rtcp_ssrc, l->ssrc, l->fir_seq++);
  else
    n = rtcp_write_pli (buf, sizeof buf, track->owner->rtcp_ssrc, l->ssrc);
  if (n > 0 && media_peer_send_rtcp (peer, buf, n))
    MEDIA_STAT_ADD (track->owner->room->env.stats, plis_sent, 1);
}

/* ---- header extensions towards subscribers -------------------------------- */

const GPtrArray *
media_simulcast_subscribe_extmaps (void)
{
  static GPtrArray *list;
  static MediaSdpExtmap abs_send_time = {
    MEDIA_SUBSCRIBE_ABS_SEND_TIME_ID, (gchar *) ABS_SEND_TIME_URI,
  };

  if (g_once_init_enter (&list)) {
    GPtrArray *l = g_ptr_array_new ();

    g_ptr_array_add (l, &abs_send_time);
    g_once_init_leave (&list, l);
  }
  return list;
}

void
media_simulcast_rewrite_extensions (const MediaTrack *track, uint8_t *packet, const RtpHeader *h)
{
  uint8_t ast[3];
  const uint8_t *data;
  size_t len;
  gboolean have = FALSE;

  if (h->ext_profile != 0xBEDE || h->ext_len == 0)
    return;
  if (track->abs_send_time_id != 0 &&
      rtp_find_extension (packet, h, track->abs_send_time_id, &data, &len) && len == 3) {
    memcpy (ast, data, 3);
    have = TRUE;
  }
  memset (packet + h->ext_offset, 0, h->ext_len);   /* RFC 8285 §4.2: 0 is padding */
  if (have && h->ext_len >= 4) {
    packet[h->ext_offset] = (MEDIA_SUBSCRIBE_ABS_SEND_TIME_ID << 4) | 2;
    memcpy (packet + h->ext_offset + 1, ast, 3);
  }
}

/* ---- subscriber slots ------------------------------------------------------ */

static void participant_select_layers (MediaParticipant *p, gint64 now);

void
media_simulcast_slot_init (MediaSlot *slot)
{
  slot->layer = -1;
  slot->target_layer = -1;
  slot->up_since_us = 0;
  slot->probe_at_us = 0;
  slot->probe_hold_us = 0;
  slot->layer_track = slot->track;
}

/* A slot re-bound to another track without slot_attach (WHEP view slots
 * follow the speaker): its layer state is the old track's. */
static inline void
slot_sync (MediaSlot *slot)
{
  if (G_UNLIKELY (slot->layer_track != slot->track)) {
    gint64 last = slot->last_forward_us;

    media_simulcast_slot_init (slot);
    slot->last_forward_us = last;
  }
}

gboolean
media_simulcast_slot_accept (MediaSlot *slot, gint layer, const uint8_t *packet,
                             const RtpHeader *h, gint64 now_us)
{
  MediaPeer *peer = slot->subscriber->subscribe;
  MediaTrack *track = slot->track;

  slot_sync (slot);
  if (slot->target_layer < 0 && slot->negotiated)
    participant_select_layers (slot->subscriber, now_us);
  if (layer == slot->layer) {
    slot->last_forward_us = now_us;
    return TRUE;
  }
  if (layer != slot->target_layer || !slot->negotiated || peer == NULL ||
      media_peer_get_state (peer) != MEDIA_STATE_CONNECTED ||
      !media_packet_starts_keyframe (track->codec, packet, h, FALSE))
    return FALSE;

  /* The target layer's key frame: switch here.  The timestamp gap is the
   * wall-clock time since the last forwarded packet (layers have their own
   * RTP timestamp bases), at least one tick. */
  if (slot->rewriter.started) {
    gint64 elapsed = now_us - slot->last_forward_us;
    guint64 step = elapsed > 0 ? (guint64) elapsed * track->codec->clock_rate / G_USEC_PER_SEC : 1;

    rtp_rewriter_switch_source_with_step (&slot->rewriter,
                                          (guint32) CLAMP (step, 1, track->codec->clock_rate));
    rtp_vp8_rewriter_switch_source (&slot->vp8_rewriter);
  }
  if (slot->layer >= 0)
    MEDIA_STAT_ADD (slot->subscriber->room->env.stats, layer_switches, 1);
  g_debug ("room %s subscriber %s slot %s: layer %d -> %d of %s/%s", slot->subscriber->room->id,
           slot->subscriber->id, slot->mid, slot->layer, layer, track->owner->id, track->id);
  slot->layer = layer;
  slot->last_forward_us = now_us;
  return TRUE;
}

void
media_simulcast_track_resume (MediaTrack *track)
{
  track->resume_at_keyframe = FALSE;
  for (guint i = 0; i < track->slots->len; i++) {
    MediaSlot *slot = g_ptr_array_index (track->slots, i);

    slot->layer = -1;
    if (slot->target_layer >= 0)
      media_simulcast_request_keyframe (track, slot->target_layer, FALSE);
  }
}

/* ---- the recorded layer ---------------------------------------------------- */

void
media_simulcast_record_start (MediaTrack *track)
{
  track->record_layer = -1;
  track->record_target = -1;
  track->record_last_us = 0;
  rtp_rewriter_init (&track->record_rewriter, g_random_int ());
  rtp_vp8_rewriter_init (&track->record_vp8_rewriter);
}

static inline gboolean
layer_flowing (const MediaLayer *l, gint64 now_us)
{
  return l->ssrc != 0 && l->last_media_us != 0 && now_us - l->last_media_us < RECORD_FLOWING_US;
}

/* The recorder's target: the highest ranked layer flowing; before the
 * first measurement (or with no ranked layer flowing), the last declared
 * one flowing (Chromium declares l, m, h). */
static void
record_choose (MediaTrack *track, gint64 now_us)
{
  gint want = -1;

  for (gint i = (gint) track->n_ranked - 1; i >= 0 && want < 0; i--)
    if (layer_flowing (&track->layers[track->rank[i]], now_us))
      want = (gint) track->rank[i];
  for (gint i = (gint) track->n_layers - 1; i >= 0 && want < 0; i--)
    if (layer_flowing (&track->layers[i], now_us))
      want = i;
  if (want == track->record_target)
    return;
  g_debug ("room %s: recording of %s/%s: target layer %d -> %d", track->owner->room->id,
           track->owner->id, track->id, track->record_target, want);
  track->record_target = want;
  if (want >= 0 && want != track->record_layer)
    media_simulcast_request_keyframe (track, want, FALSE);
}

gboolean
media_simulcast_record_packet (MediaTrack *track, gint layer, const uint8_t *packet, size_t len,
                               const RtpHeader *h, gint64 now_us, uint8_t *out)
{
  if (track->record_layer >= (gint) track->n_layers)
    track->record_layer = -1;
  record_choose (track, now_us);
  if (layer != track->record_layer) {
    if (layer != track->record_target ||
        !media_packet_starts_keyframe (track->codec, packet, h, FALSE))
      return FALSE;
    /* As for a slot: the timestamp gap is the wall-clock time since the
     * last recorded packet, at least one tick. */
    if (track->record_rewriter.started) {
      gint64 elapsed = now_us - track->record_last_us;
      guint64 step = elapsed > 0 ? (guint64) elapsed * track->codec->clock_rate / G_USEC_PER_SEC
                                 : 1;

      rtp_rewriter_switch_source_with_step (&track->record_rewriter,
                                            (guint32) CLAMP (step, 1, track->codec->clock_rate));
      rtp_vp8_rewriter_switch_source (&track->record_vp8_rewriter);
    }
    g_debug ("room %s: recording of %s/%s: layer %d -> %d", track->owner->room->id,
             track->owner->id, track->id, track->record_layer, layer);
    track->record_layer = layer;
  }
  memcpy (out, packet, len);
  if (!rtp_rewriter_apply (&track->record_rewriter, out, h))
    return FALSE;
  if (h->payload_len > 0 && g_ascii_strcasecmp (track->codec->encoding, "VP8") == 0 &&
      !rtp_vp8_rewriter_apply (&track->record_vp8_rewriter, out + h->payload_offset,
                               h->payload_len))
    return FALSE;
  track->record_last_us = now_us;
  return TRUE;
}

/* ---- the downlink estimate and the choice of layers ------------------------ */

static guint64
participant_estimate (const MediaParticipant *p)
{
  guint64 loss = p->loss_bps != 0 ? p->loss_bps : LOSS_MAX_BPS;

  return p->remb_bps != 0 ? MIN (p->remb_bps, loss) : loss;
}

static gint
slot_max_layer (const MediaSlot *slot)
{
  g_autofree gchar *key = NULL;
  gpointer v;

  if (slot->subscriber->max_layers == NULL)
    return MEDIA_LAYER_AUTO;
  key = g_strconcat (slot->track->owner->id, "\n", slot->track->id, NULL);
  v = g_hash_table_lookup (slot->subscriber->max_layers, key);
  return v == NULL ? MEDIA_LAYER_AUTO : GPOINTER_TO_INT (v) - 2;
}

static gboolean
slot_is_simulcast (MediaSlot *slot)
{
  if (slot->track == NULL || slot->track->n_layers == 0 || !slot->negotiated)
    return FALSE;
  slot_sync (slot);
  return TRUE;
}

/* A receiver's REMB cannot rise much above what it receives (libwebrtc's
 * AIMD caps it near 1.5 × the incoming rate), so a subscriber moved down
 * by its REMB would stay there once its link recovers.  A slot whose
 * budget is set by REMB, that loses nothing and whose REMB sits well above
 * its layer (≥ 1.4 ×) is therefore *probed*: after the hold it gets the next
 * layer up, and for PROBE_GRACE_US goes back down only when the REMB falls
 * below 90 % of its value at the probe, has not risen 5 % after 3 s (a
 * flat REMB is a cap, not an estimate catching up), or loss appears (a
 * receiver ramping up to the new rate is not a congested one).  A probe
 * that has to be undone doubles the hold before the next one (up to 32 s);
 * one that holds resets it. */
static gboolean
slot_may_probe (const MediaSlot *slot, guint64 budget, gint cur, gint cap)
{
  const MediaParticipant *p = slot->subscriber;
  const MediaTrack *t = slot->track;

  return cur >= 0 && cur < cap && slot->layer == slot->target_layer &&
         p->remb_bps != 0 && (p->loss_bps == 0 || p->remb_bps <= p->loss_bps) &&
         slot->fraction_lost < 256 / 50 &&
         budget >= t->layers[t->rank[cur]].bitrate_bps * 14 / 10;
}

static void
slot_select (MediaSlot *slot, guint64 budget, gint64 now)
{
  MediaTrack *t = slot->track;
  gint cap = slot_max_layer (slot);
  gint best = 0, cur = -1, want;
  gboolean probe = FALSE;
  gint64 hold = UP_HOLD_US;

  if (t->n_ranked == 0) {
    /* Nothing measured yet: start on the first layer that has an SSRC. */
    for (guint i = 0; i < t->n_layers && slot->target_layer < 0; i++)
      if (t->layers[i].ssrc != 0) {
        slot->target_layer = (gint) i;
        media_simulcast_request_keyframe (t, slot->target_layer, FALSE);
      }
    return;
  }
  if (slot->probe_hold_us == 0)
    slot->probe_hold_us = UP_HOLD_US;
  if (cap < 0 || cap >= (gint) t->n_ranked)
    cap = (gint) t->n_ranked - 1;
  for (gint i = 0; i <= cap; i++) {
    if (t->layers[t->rank[i]].bitrate_bps <= budget)
      best = i;
    if ((gint) t->rank[i] == slot->target_layer)
      cur = i;
  }
  for (gint i = cap + 1; i < (gint) t->n_ranked; i++)
    if ((gint) t->rank[i] == slot->target_layer)
      cur = i;

  if (slot->probe_at_us != 0 && cur >= 0 && best < cur) {
    gint64 age = now - slot->probe_at_us;
    /* A receiver taking more raises its REMB (libwebrtc: ~8 % a second);
     * one that stays flat (a REMB that is a cap, not an estimate) does not. */
    gboolean rising = age < PROBE_RISE_US || budget >= slot->probe_budget * 105 / 100;

    if (age < PROBE_GRACE_US && cur <= cap && rising &&
        budget >= slot->probe_budget * 9 / 10 && slot->fraction_lost < 256 / 10)
      return;                           /* the REMB is still catching up */
    if (cur <= cap)                     /* the probe failed, not a cap change */
      slot->probe_hold_us = MIN (slot->probe_hold_us * 2, PROBE_HOLD_MAX_US);
    slot->probe_at_us = 0;
  } else if (slot->probe_at_us != 0 && now - slot->probe_at_us >= PROBE_GRACE_US) {
    slot->probe_at_us = 0;              /* it held: the next probe may come sooner */
    slot->probe_hold_us = UP_HOLD_US;
  }
  if (cur >= 0 && best <= cur && slot->probe_at_us == 0 && slot_may_probe (slot, budget, cur, cap)) {
    best = cur + 1;
    probe = TRUE;
    hold = slot->probe_hold_us;
  }
  want = (gint) t->rank[best];

  if (cur < 0 || best < cur || slot->target_layer < 0) {
    /* First choice, a silent target, or down: at once. */
    slot->up_since_us = 0;
  } else if (best > cur) {
    if (slot->up_since_us == 0)
      slot->up_since_us = now;
    if (now - slot->up_since_us < hold)
      return;
    slot->up_since_us = 0;
    if (probe) {
      slot->probe_at_us = now;
      slot->probe_budget = budget;
    }
  } else {
    slot->up_since_us = 0;
    return;
  }
  if (want == slot->target_layer)
    return;
  g_debug ("room %s subscriber %s slot %s: target layer %d -> %d (%" G_GUINT64_FORMAT
           " bit/s, budget %" G_GUINT64_FORMAT "%s)", slot->subscriber->room->id,
           slot->subscriber->id, slot->mid, slot->target_layer, want,
           t->layers[want].bitrate_bps, budget, probe ? ", probe" : "");
  slot->target_layer = want;
  if (want != slot->layer)
    media_simulcast_request_keyframe (t, want, TRUE);
}

/* Each simulcast slot of @p gets an equal share of its estimate. */
static void
participant_select_layers (MediaParticipant *p, gint64 now)
{
  guint n = 0;
  guint64 budget;

  for (guint i = 0; i < p->slots->len; i++)
    n += slot_is_simulcast (g_ptr_array_index (p->slots, i));
  if (n == 0)
    return;
  budget = participant_estimate (p) / n;
  for (guint i = 0; i < p->slots->len; i++) {
    MediaSlot *s = g_ptr_array_index (p->slots, i);

    if (slot_is_simulcast (s))
      slot_select (s, budget, now);
  }
}

/* GCC's loss-based controller (draft-ietf-rmcat-gcc-02 §6) on the worst
 * fraction lost that @p reports for the video it receives: > 10 % loss →
 * × (1 − 0.5·loss) of what it receives now, < 2 % → × 1.08 per second. */
static void
participant_update_loss_estimate (MediaParticipant *p)
{
  guint worst = 0;
  guint64 receiving = 0;
  gboolean any = FALSE;

  for (guint i = 0; i < p->slots->len; i++) {
    MediaSlot *s = g_ptr_array_index (p->slots, i);

    if (s->track == NULL || !s->negotiated || !s->track->video)
      continue;
    any = TRUE;
    worst = MAX (worst, s->fraction_lost);
    if (s->track->n_layers > 0 && s->layer >= 0)
      receiving += s->track->layers[s->layer].bitrate_bps;
  }
  if (!any)
    return;
  if (p->loss_bps == 0)
    p->loss_bps = LOSS_MAX_BPS;
  if (worst > 256 / 10) {
    guint64 base = receiving > 0 ? MIN (p->loss_bps, receiving) : p->loss_bps;

    p->loss_bps = base - base * worst / 512;
  } else if (worst < 256 / 50) {
    p->loss_bps = p->loss_bps * 108 / 100;
  }
  p->loss_bps = CLAMP (p->loss_bps, MIN_BITRATE_BPS, LOSS_MAX_BPS);
}

void
media_simulcast_note_remb (MediaParticipant *subscriber, guint64 bps)
{
  guint64 old = subscriber->remb_bps;

  /* Logged when it moves by a quarter or more (Chromium sends one a second). */
  if (old == 0 || bps > old + old / 4 || bps < old - old / 4)
    g_debug ("room %s subscriber %s: REMB %" G_GUINT64_FORMAT " bit/s", subscriber->room->id,
             subscriber->id, bps);
  subscriber->remb_bps = MAX (bps, 1);
  participant_select_layers (subscriber, g_get_monotonic_time ());
}

void
media_simulcast_tick (MediaRoom *room)
{
  gint64 now = g_get_monotonic_time ();

  for (guint i = 0; i < room->order->len; i++) {
    MediaParticipant *p = g_ptr_array_index (room->order, i);

    for (guint j = 0; j < p->tracks->len; j++) {
      MediaTrack *t = g_ptr_array_index (p->tracks, j);

      if (t->n_layers > 0)
        track_update_layers (t, now);
    }
  }
  for (guint i = 0; i < room->order->len; i++) {
    MediaParticipant *p = g_ptr_array_index (room->order, i);

    participant_update_loss_estimate (p);
    participant_select_layers (p, now);
    /* The recorded layer: a target gone silent moves down even when no
     * packet arrives; a pending switch whose key frame got lost asks again. */
    for (guint j = 0; j < p->tracks->len; j++) {
      MediaTrack *t = g_ptr_array_index (p->tracks, j);

      if (t->n_layers == 0 || t->record_index == 0 || p->recorder == NULL)
        continue;
      record_choose (t, now);
      if (t->record_target >= 0 && t->record_target != t->record_layer)
        media_simulcast_request_keyframe (t, t->record_target, FALSE);
    }
    /* A pending switch whose key frame got lost: ask again. */
    for (guint j = 0; j < p->slots->len; j++) {
      MediaSlot *s = g_ptr_array_index (p->slots, j);

      if (slot_is_simulcast (s) && s->target_layer >= 0 && s->target_layer != s->layer)
        media_simulcast_request_keyframe (s->track, s->target_layer, FALSE);
    }
  }
}

void
media_simulcast_participant_clear (MediaParticipant *p)
{
  g_clear_pointer (&p->max_layers, g_hash_table_unref);
}

void
media_room_set_max_layer (MediaRoom *room, const char *subscriber_id,
                          const char *publisher_id, const char *track_id, gint max_layer)
{
  MediaParticipant *p = g_hash_table_lookup (room->participants, subscriber_id);

  if (p == NULL || publisher_id == NULL || track_id == NULL)
    return;
  if (max_layer < 0)
    max_layer = MEDIA_LAYER_AUTO;
  if (p->max_layers == NULL)
    p->max_layers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_hash_table_insert (p->max_layers, g_strconcat (publisher_id, "\n", track_id, NULL),
                       GINT_TO_POINTER (MIN (max_layer, MEDIA_MAX_LAYERS - 1) + 2));
  /* An explicit request is no estimate change: no hold before going up. */
  for (guint i = 0; i < p->slots->len; i++) {
    MediaSlot *s = g_ptr_array_index (p->slots, i);

    if (slot_is_simulcast (s) && g_strcmp0 (s->track->owner->id, publisher_id) == 0 &&
        g_strcmp0 (s->track->id, track_id) == 0)
      s->up_since_us = 1;
  }
  participant_select_layers (p, g_get_monotonic_time ());
}
