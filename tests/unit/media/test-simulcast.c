/* test-simulcast.c — media/simulcast.c without peers: layers from a real
 * Chromium 156 simulcast offer, SSRCs learned from the mid/rid header
 * extensions, ranking by measured bitrate (not by rid), and each
 * subscriber slot's target layer from its REMB, the 2 s hold before going
 * up, probing, and media_room_set_max_layer; the recorder's layer (the
 * best one flowing) and its switch at key frames onto one stream.
 * (Switching a slot at the key frame needs connected peers:
 * tests/browser/simulcast.) */
#include <string.h>

#include "room-priv.h"

#define MAX_SDP (32 * 1024)
#define SEC G_USEC_PER_SEC

typedef struct {
  MediaStats stats;
  MediaConfig config;
  MediaRoom *room;
  MediaParticipant *pub, *sub;
  MediaTrack *track;
  MediaSlot *slot;
  MediaSdpDescription *offer;
} Fixture;

static gchar *
load_sample (const gchar *name, gsize *len)
{
  const gchar *srcdir = g_getenv ("G_TEST_SRCDIR");
  g_autofree gchar *here = g_path_get_dirname (__FILE__);
  g_autofree gchar *path = g_build_filename (srcdir ? srcdir : here, "sdp", name, NULL);
  g_autoptr (GError) error = NULL;
  gchar *text = NULL;

  if (!g_file_test (path, G_FILE_TEST_EXISTS)) {
    g_free (path);
    path = g_build_filename (here, "sdp", name, NULL);
  }
  g_file_get_contents (path, &text, len, &error);
  g_assert_no_error (error);
  return text;
}

static MediaParticipant *
participant_new (MediaRoom *room, const char *id)
{
  MediaParticipant *p = g_new0 (MediaParticipant, 1);

  p->room = room;
  p->id = g_strdup (id);
  p->tracks = g_ptr_array_new ();
  p->slots = g_ptr_array_new ();
  g_hash_table_insert (room->participants, p->id, p);
  g_ptr_array_add (room->order, p);
  return p;
}

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  gsize len;
  g_autofree gchar *text = load_sample ("chromium-156-simulcast-offer.sdp", &len);
  g_autoptr (GError) error = NULL;
  MediaSdpSection *video;
  MediaRoomEnv env = { 0 };

  f->config.max_bitrate_kbps = 1500;
  env.stats = &f->stats;
  env.config = &f->config;
  /* The room's parts this file uses, without a worker or peers. */
  f->room = g_new0 (MediaRoom, 1);
  f->room->env = env;
  f->room->id = g_strdup ("room");
  f->room->participants = g_hash_table_new (g_str_hash, g_str_equal);
  f->room->order = g_ptr_array_new ();
  f->pub = participant_new (f->room, "pub");
  f->sub = participant_new (f->room, "sub");

  f->offer = media_sdp_parse (text, len, MAX_SDP, &error);
  g_assert_no_error (error);
  video = g_ptr_array_index (f->offer->sections, 1);
  g_assert_cmpstr (video->kind, ==, "video");

  f->track = g_new0 (MediaTrack, 1);
  f->track->owner = f->pub;
  f->track->id = g_strdup ("v1");
  f->track->mid = g_strdup (video->mid);
  f->track->kind = g_strdup ("video");
  f->track->video = TRUE;
  f->track->source = "camera";
  f->track->codec = media_sdp_codec_copy (g_ptr_array_index (video->codecs, 0));
  f->track->slots = g_ptr_array_new ();
  g_assert_cmpstr (f->track->codec->encoding, ==, "VP8");
  media_simulcast_track_setup (f->track, video);
  g_ptr_array_add (f->pub->tracks, f->track);

  f->slot = g_new0 (MediaSlot, 1);
  f->slot->subscriber = f->sub;
  f->slot->mid = g_strdup ("1");
  f->slot->kind = g_strdup ("video");
  f->slot->track = f->track;
  f->slot->negotiated = TRUE;
  media_simulcast_slot_init (f->slot);
  g_ptr_array_add (f->track->slots, f->slot);
  g_ptr_array_add (f->sub->slots, f->slot);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  for (guint i = 0; i < f->room->order->len; i++) {
    MediaParticipant *p = g_ptr_array_index (f->room->order, i);

    media_simulcast_participant_clear (p);
    g_ptr_array_unref (p->tracks);
    g_ptr_array_unref (p->slots);
    g_free (p->id);
    g_free (p);
  }
  g_free (f->slot->mid);
  g_free (f->slot->kind);
  g_free (f->slot);
  media_simulcast_track_clear (f->track);
  media_sdp_codec_free (f->track->codec);
  g_ptr_array_unref (f->track->slots);
  g_free (f->track->id);
  g_free (f->track->mid);
  g_free (f->track->kind);
  g_free (f->track);
  media_sdp_description_free (f->offer);
  g_hash_table_unref (f->room->participants);
  g_ptr_array_unref (f->room->order);
  g_free (f->room->id);
  g_free (f->room);
}

/* An RTP packet of @ssrc with RFC 8285 one-byte extensions: sdes:mid
 * (id 4 in the offer) = @mid and rtp-stream-id (id 10) = @rid when not
 * NULL; @payload_len bytes of payload.  Returns its length. */
static size_t
make_packet (uint8_t *buf, guint32 ssrc, guint16 seq, const char *mid, const char *rid,
             size_t payload_len)
{
  size_t n = 16, ext;

  memset (buf, 0, 1500);
  buf[0] = 0x90;                    /* V=2, X=1 */
  buf[1] = 96;
  buf[2] = seq >> 8;
  buf[3] = seq & 0xff;
  buf[8] = ssrc >> 24;
  buf[9] = ssrc >> 16;
  buf[10] = ssrc >> 8;
  buf[11] = ssrc;
  buf[12] = 0xbe;
  buf[13] = 0xde;
  if (mid) {
    buf[n++] = (4 << 4) | (strlen (mid) - 1);
    memcpy (buf + n, mid, strlen (mid));
    n += strlen (mid);
  }
  if (rid) {
    buf[n++] = (10 << 4) | (strlen (rid) - 1);
    memcpy (buf + n, rid, strlen (rid));
    n += strlen (rid);
  }
  while ((n - 16) % 4 != 0 || n == 16)
    buf[n++] = 0;
  ext = (n - 16) / 4;
  buf[14] = ext >> 8;
  buf[15] = ext & 0xff;
  return n + payload_len;
}

static MediaTrack *
learn (Fixture *f, guint32 ssrc, const char *mid, const char *rid, gint *layer)
{
  uint8_t buf[1500];
  size_t len = make_packet (buf, ssrc, 1, mid, rid, 100);
  RtpHeader h;

  g_assert_true (rtp_parse (buf, len, &h));
  *layer = -2;
  return media_simulcast_learn (f->pub, buf, &h, layer);
}

/* One second of traffic: @bytes[i] bytes to layer i, then the tick. */
static void
second_of (Fixture *f, const guint bytes[3])
{
  for (guint i = 0; i < f->track->n_layers; i++) {
    MediaLayer *l = &f->track->layers[i];
    RtpHeader h = { .seq = 0 };

    for (guint sent = 0; sent < bytes[i]; sent += 1000) {
      h.seq++;
      media_simulcast_note_packet (f->track, (gint) i, &h, 1000, g_get_monotonic_time ());
    }
    l->window_start_us -= SEC;      /* as if the window had lasted a second */
  }
  media_simulcast_tick (f->room);
}

static void
learn_all (Fixture *f)
{
  gint layer;

  g_assert_true (learn (f, 100, "1", "l", &layer) == f->track);
  g_assert_cmpint (layer, ==, 0);
  g_assert_true (learn (f, 200, "1", "m", &layer) == f->track);
  g_assert_cmpint (layer, ==, 1);
  g_assert_true (learn (f, 300, NULL, "h", &layer) == f->track);  /* mid is optional */
  g_assert_cmpint (layer, ==, 2);
}

/* A renegotiation with the same rids keeps each layer's learned SSRC and
 * leaks nothing (the ASan pass runs this under LeakSanitizer: each layer's
 * fresh rid string used to be overwritten by the old layer's copy). */
static void
test_renegotiate (Fixture *f, gconstpointer data)
{
  MediaSdpSection *video = g_ptr_array_index (f->offer->sections, 1);

  learn_all (f);
  for (int round = 0; round < 2; round++) {
    media_simulcast_track_setup (f->track, video);
    g_assert_cmpuint (f->track->n_layers, ==, 3);
    g_assert_cmpstr (f->track->layers[0].rid, ==, "l");
    g_assert_cmpstr (f->track->layers[2].rid, ==, "h");
    g_assert_cmpint (media_simulcast_layer_by_ssrc (f->track, 100), ==, 0);
    g_assert_cmpint (media_simulcast_layer_by_ssrc (f->track, 200), ==, 1);
    g_assert_cmpint (media_simulcast_layer_by_ssrc (f->track, 300), ==, 2);
  }
}

static void
test_layers (Fixture *f, gconstpointer data)
{
  gint layer;

  g_assert_cmpuint (f->track->n_layers, ==, 3);
  g_assert_cmpstr (f->track->layers[0].rid, ==, "l");
  g_assert_cmpstr (f->track->layers[1].rid, ==, "m");
  g_assert_cmpstr (f->track->layers[2].rid, ==, "h");
  g_assert_cmpuint (f->track->rid_ext_id, ==, 10);
  g_assert_cmpuint (f->track->mid_ext_id, ==, 4);
  g_assert_cmpuint (f->track->ssrc, ==, 0);

  /* Not this track's mid, an unknown rid, no rid: nothing learned. */
  g_assert_null (learn (f, 100, "0", "l", &layer));
  g_assert_null (learn (f, 100, "1", "x", &layer));
  g_assert_null (learn (f, 100, "1", "ll", &layer));
  g_assert_null (learn (f, 100, "1", NULL, &layer));
  g_assert_cmpint (media_simulcast_layer_by_ssrc (f->track, 100), ==, -1);
  g_assert_cmpint (media_simulcast_layer_by_ssrc (f->track, 0), ==, -1);

  learn_all (f);
  g_assert_cmpint (media_simulcast_layer_by_ssrc (f->track, 100), ==, 0);
  g_assert_cmpint (media_simulcast_layer_by_ssrc (f->track, 200), ==, 1);
  g_assert_cmpint (media_simulcast_layer_by_ssrc (f->track, 300), ==, 2);
  /* A sender restart: the rid moves to a new SSRC. */
  g_assert_true (learn (f, 201, "1", "m", &layer) == f->track);
  g_assert_cmpint (media_simulcast_layer_by_ssrc (f->track, 200), ==, -1);
  g_assert_cmpint (media_simulcast_layer_by_ssrc (f->track, 201), ==, 1);
}

/* Ranked by bitrate whatever the rids say; a silent layer drops out. */
static void
test_rank (Fixture *f, gconstpointer data)
{
  const guint normal[3] = { 15000, 50000, 150000 };
  const guint upside_down[3] = { 150000, 50000, 15000 };
  const guint m_paused[3] = { 15000, 0, 150000 };

  learn_all (f);
  second_of (f, normal);
  g_assert_cmpuint (f->track->n_ranked, ==, 3);
  g_assert_cmpuint (f->track->rank[0], ==, 0);
  g_assert_cmpuint (f->track->rank[2], ==, 2);
  g_assert_cmpuint (f->track->layers[2].bitrate_bps, <=, 1200000);
  g_assert_cmpuint (f->track->layers[2].bitrate_bps, >, 1100000);

  for (guint i = 0; i < 10; i++)
    second_of (f, upside_down);
  g_assert_cmpuint (f->track->rank[0], ==, 2);
  g_assert_cmpuint (f->track->rank[1], ==, 1);
  g_assert_cmpuint (f->track->rank[2], ==, 0);

  second_of (f, m_paused);
  g_assert_cmpuint (f->track->n_ranked, ==, 2);
  g_assert_cmpuint (f->track->layers[1].bitrate_bps, ==, 0);
}

static void
test_choice (Fixture *f, gconstpointer data)
{
  const guint normal[3] = { 15000, 50000, 150000 };   /* 120 k, 400 k, 1.2 M bit/s */

  learn_all (f);
  /* Nothing measured yet: the first layer with an SSRC. */
  media_simulcast_tick (f->room);
  g_assert_cmpint (f->slot->target_layer, ==, 0);
  media_simulcast_slot_init (f->slot);

  /* No REMB, no loss: the top layer at once (a first choice). */
  second_of (f, normal);
  g_assert_cmpint (f->slot->target_layer, ==, 2);

  /* Down at once on the REMB itself; below the lowest layer, the lowest. */
  media_simulcast_note_remb (f->sub, 500000);
  g_assert_cmpint (f->slot->target_layer, ==, 1);
  media_simulcast_note_remb (f->sub, 50000);
  g_assert_cmpint (f->slot->target_layer, ==, 0);

  /* Up only after the estimate has allowed it for 2 s. */
  media_simulcast_note_remb (f->sub, 5000000);
  g_assert_cmpint (f->slot->target_layer, ==, 0);
  g_assert_cmpint (f->slot->up_since_us, !=, 0);
  f->slot->up_since_us -= 2 * SEC + 1;
  media_simulcast_note_remb (f->sub, 5000000);
  g_assert_cmpint (f->slot->target_layer, ==, 2);
  /* A dip below, back up: the hold starts over. */
  media_simulcast_note_remb (f->sub, 500000);
  g_assert_cmpint (f->slot->target_layer, ==, 1);
  media_simulcast_note_remb (f->sub, 5000000);
  g_assert_cmpint (f->slot->target_layer, ==, 1);

  /* A cap applies at once both ways; AUTO lifts it. */
  media_room_set_max_layer (f->room, "sub", "pub", "v1", 0);
  g_assert_cmpint (f->slot->target_layer, ==, 0);
  media_room_set_max_layer (f->room, "sub", "pub", "v1", 1);
  g_assert_cmpint (f->slot->target_layer, ==, 1);
  media_room_set_max_layer (f->room, "sub", "pub", "v1", MEDIA_LAYER_AUTO);
  g_assert_cmpint (f->slot->target_layer, ==, 2);
  /* Unknown ids are ignored. */
  media_room_set_max_layer (f->room, "nobody", "pub", "v1", 0);
  media_room_set_max_layer (f->room, "sub", "pub", "v9", 0);
  g_assert_cmpint (f->slot->target_layer, ==, 2);
  g_assert_cmpuint (f->stats.layer_switches, ==, 0);   /* targets only: nothing forwarded */
}

/* A REMB well above the current layer (a receiver clamped near what it
 * receives) probes the next layer after the hold. */
static void
test_probe (Fixture *f, gconstpointer data)
{
  const guint normal[3] = { 15000, 50000, 150000 };   /* 120 k, 400 k, 1.2 M bit/s */

  learn_all (f);
  second_of (f, normal);
  media_simulcast_note_remb (f->sub, 300000);
  g_assert_cmpint (f->slot->target_layer, ==, 0);
  f->slot->layer = 0;                /* as if the switch had happened */

  /* 300 k >= 1.4 × 120 k: held, then probed although 400 k does not fit. */
  media_simulcast_note_remb (f->sub, 300000);
  g_assert_cmpint (f->slot->target_layer, ==, 0);
  f->slot->up_since_us -= 2 * SEC + 1;
  media_simulcast_note_remb (f->sub, 300000);
  g_assert_cmpint (f->slot->target_layer, ==, 1);
  g_assert_cmpint (f->slot->probe_at_us, !=, 0);
  f->slot->layer = 1;
  /* The REMB catching up is no reason to go down; a fall is. */
  media_simulcast_note_remb (f->sub, 290000);
  g_assert_cmpint (f->slot->target_layer, ==, 1);
  media_simulcast_note_remb (f->sub, 200000);
  g_assert_cmpint (f->slot->target_layer, ==, 0);
  g_assert_cmpint (f->slot->probe_hold_us, ==, 4 * SEC);     /* failed: longer hold */

  /* Next probe, after the longer hold: a REMB rising after 3 s keeps it... */
  f->slot->layer = 0;
  media_simulcast_note_remb (f->sub, 300000);
  f->slot->up_since_us -= 2 * SEC + 1;
  media_simulcast_note_remb (f->sub, 300000);
  g_assert_cmpint (f->slot->target_layer, ==, 0);            /* 4 s now */
  f->slot->up_since_us -= 2 * SEC;
  media_simulcast_note_remb (f->sub, 300000);
  g_assert_cmpint (f->slot->target_layer, ==, 1);
  f->slot->layer = 1;
  f->slot->probe_at_us -= 3 * SEC + 1;
  media_simulcast_note_remb (f->sub, 330000);
  g_assert_cmpint (f->slot->target_layer, ==, 1);
  /* ...a flat one (a cap, not an estimate) ends it, with a longer hold. */
  media_simulcast_note_remb (f->sub, 300000);
  g_assert_cmpint (f->slot->target_layer, ==, 0);
  g_assert_cmpint (f->slot->probe_hold_us, ==, 8 * SEC);

  /* Loss stops probing. */
  f->slot->layer = 0;
  f->slot->fraction_lost = 256 / 20;
  media_simulcast_note_remb (f->sub, 300000);
  f->slot->up_since_us = 1;
  media_simulcast_note_remb (f->sub, 300000);
  g_assert_cmpint (f->slot->target_layer, ==, 0);
}

/* GCC's loss part: > 10 % loss lowers the estimate, < 2 % raises it. */
static void
test_loss (Fixture *f, gconstpointer data)
{
  const guint normal[3] = { 15000, 50000, 150000 };
  guint64 before;

  learn_all (f);
  second_of (f, normal);
  g_assert_cmpint (f->slot->target_layer, ==, 2);
  f->slot->layer = 2;
  f->slot->fraction_lost = 256 / 4;                  /* 25 % */
  second_of (f, normal);
  /* × (1 − 0.5 · 0.25) of the 1.2 M it receives: the medium layer. */
  g_assert_cmpuint (f->sub->loss_bps, <, 1200000);
  g_assert_cmpuint (f->sub->loss_bps, >, 900000);
  g_assert_cmpint (f->slot->target_layer, ==, 1);
  f->slot->fraction_lost = 0;
  before = f->sub->loss_bps;
  second_of (f, normal);
  g_assert_cmpuint (f->sub->loss_bps, ==, before * 108 / 100);
}

/* Chromium's older form: a=ssrc-group:SIM gives the layers' SSRCs. */
static void
test_ssrc_group (void)
{
  gsize len;
  g_autofree gchar *text = load_sample ("webrtcbin-1.22-opus-vp8.sdp", &len);
  g_autoptr (GString) s = g_string_new (text);
  g_autoptr (MediaSdpDescription) d = NULL;
  g_autoptr (GError) error = NULL;
  MediaTrack track = { .video = TRUE };
  MediaSdpSection *v = NULL;

  g_assert_cmpuint (g_string_replace (s, "a=rtpmap:96 VP8/90000\r\n",
                                      "a=ssrc-group:SIM 11 22 33\r\na=ssrc:11 cname:x\r\n"
                                      "a=ssrc:22 cname:x\r\na=ssrc:33 cname:x\r\n"
                                      "a=rtpmap:96 VP8/90000\r\n", 1), ==, 1);
  d = media_sdp_parse (s->str, s->len, MAX_SDP, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < d->sections->len; i++)
    if (g_strcmp0 (((MediaSdpSection *) g_ptr_array_index (d->sections, i))->kind, "video") == 0)
      v = g_ptr_array_index (d->sections, i);
  g_assert_nonnull (v);
  track.codec = media_sdp_codec_copy (g_ptr_array_index (v->codecs, 0));
  track.ssrc = 11;
  media_simulcast_track_setup (&track, v);
  g_assert_cmpuint (track.n_layers, ==, 3);
  g_assert_cmpuint (track.ssrc, ==, 0);
  g_assert_null (track.layers[0].rid);
  g_assert_cmpint (media_simulcast_layer_by_ssrc (&track, 11), ==, 0);
  g_assert_cmpint (media_simulcast_layer_by_ssrc (&track, 33), ==, 2);
  g_assert_cmpint (media_simulcast_layer_by_ssrc (&track, 44), ==, -1);
  media_simulcast_track_clear (&track);
  g_assert_cmpuint (track.n_layers, ==, 0);

  /* Without a group or rids: no layers, the plain path. */
  g_string_replace (s, "a=ssrc-group:SIM 11 22 33\r\n", "", 1);
  g_clear_pointer (&d, media_sdp_description_free);
  d = media_sdp_parse (s->str, s->len, MAX_SDP, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < d->sections->len; i++)
    if (g_strcmp0 (((MediaSdpSection *) g_ptr_array_index (d->sections, i))->kind, "video") == 0)
      v = g_ptr_array_index (d->sections, i);
  track.ssrc = 11;
  media_simulcast_track_setup (&track, v);
  g_assert_cmpuint (track.n_layers, ==, 0);
  g_assert_cmpuint (track.ssrc, ==, 11);
  media_sdp_codec_free (track.codec);
}

/* ---- the recorded layer ---------------------------------------------------- */

typedef struct {
  guint32 ssrc;
  guint16 seq;
  guint32 ts;
  guint16 picture_id;
} Recorded;

/* A packet of @layer (SSRCs 100, 200, 300 from learn_all()) at @now:
 * VP8 with a 15-bit PictureID, a key frame's first packet when @key, a
 * padding-only packet when @padding; noted as forward.c does, then offered
 * to the recorder.  Returns whether it was recorded, and then what the
 * recorder saw in @rec. */
static gboolean
record_at (Fixture *f, gint layer, guint16 seq, guint32 ts, guint16 picture_id, gboolean key,
           gboolean padding, gint64 now, Recorded *rec)
{
  uint8_t buf[1500], out[1500];
  size_t len = make_packet (buf, 100 * (guint32) (layer + 1), seq, NULL, NULL, padding ? 0 : 10);
  uint8_t *payload = buf + len - 10;
  RtpHeader h, oh;

  buf[4] = ts >> 24;
  buf[5] = ts >> 16;
  buf[6] = ts >> 8;
  buf[7] = ts;
  if (!padding) {
    payload[0] = 0x90;                          /* X, S, partition 0 */
    payload[1] = 0x80;                          /* I */
    payload[2] = 0x80 | ((picture_id >> 8) & 0x7f);
    payload[3] = picture_id & 0xff;
    payload[4] = key ? 0x00 : 0x01;             /* frame tag: P = 0 is a key frame */
    payload[7] = 0x9d;                          /* a key frame's start code */
    payload[8] = 0x01;
    payload[9] = 0x2a;
  }
  g_assert_true (rtp_parse (buf, len, &h));
  media_simulcast_note_packet (f->track, layer, &h, len, (guint64) now);
  if (!media_simulcast_record_packet (f->track, layer, buf, len, &h, now, out))
    return FALSE;
  g_assert_true (rtp_parse (out, len, &oh));
  g_assert_cmpuint (oh.payload_len, ==, h.payload_len);
  rec->ssrc = oh.ssrc;
  rec->seq = oh.seq;
  rec->ts = oh.timestamp;
  rec->picture_id = padding ? 0 : ((out[oh.payload_offset + 2] & 0x7f) << 8) |
                                      out[oh.payload_offset + 3];
  return TRUE;
}

static void
test_record (Fixture *f, gconstpointer data)
{
  const gint64 t0 = 1000 * SEC;
  Recorded a, b;
  guint32 ssrc;

  learn_all (f);
  media_simulcast_record_start (f->track);
  g_assert_cmpint (f->track->record_layer, ==, -1);

  /* Not measured yet: the last declared layer that sends ("h"), from its
   * first key frame; the others' key frames are not taken. */
  g_assert_false (record_at (f, 2, 5000, 90000, 700, FALSE, FALSE, t0, &a));
  g_assert_cmpint (f->track->record_target, ==, 2);
  g_assert_false (record_at (f, 0, 100, 10, 30, TRUE, FALSE, t0, &a));
  g_assert_true (record_at (f, 2, 5001, 93000, 701, TRUE, FALSE, t0 + 33000, &a));
  g_assert_cmpint (f->track->record_layer, ==, 2);
  ssrc = a.ssrc;
  g_assert_true (record_at (f, 2, 5002, 96000, 702, FALSE, FALSE, t0 + 66000, &b));
  g_assert_cmpuint (b.ssrc, ==, ssrc);
  g_assert_cmpuint (b.seq, ==, (guint16) (a.seq + 1));
  g_assert_cmpuint (b.ts, ==, a.ts + 3000);
  g_assert_cmpuint (b.picture_id, ==, (a.picture_id + 1) & 0x7fff);
  a = b;

  /* "h" stops (the publisher is short of CPU): a second later only "l"
   * flows; the recorder moves down at its key frame, on the same stream. */
  g_assert_false (record_at (f, 0, 101, 20, 31, FALSE, FALSE, t0 + SEC, &b));
  g_assert_cmpint (f->track->record_target, ==, 2);       /* "h" still counts */
  g_assert_false (record_at (f, 0, 102, 30, 32, FALSE, FALSE, t0 + SEC + 100000, &b));
  g_assert_cmpint (f->track->record_target, ==, 0);
  g_assert_cmpint (f->track->record_layer, ==, 2);
  g_assert_true (record_at (f, 0, 103, 40, 33, TRUE, FALSE, t0 + SEC + 166000, &b));
  g_assert_cmpint (f->track->record_layer, ==, 0);
  g_assert_cmpuint (b.ssrc, ==, ssrc);
  g_assert_cmpuint (b.seq, ==, (guint16) (a.seq + 1));
  g_assert_cmpuint (b.ts, ==, a.ts + 90000);               /* 1.1 s, capped at 1 s */
  g_assert_cmpuint (b.picture_id, ==, (a.picture_id + 1) & 0x7fff);
  a = b;
  /* A late packet of "h": not recorded. */
  g_assert_false (record_at (f, 2, 5003, 99000, 703, FALSE, FALSE, t0 + SEC + 170000, &b));
  g_assert_cmpint (f->track->record_target, ==, 2);       /* it sends media again */
  f->track->layers[2].last_media_us = 0;
  g_assert_true (record_at (f, 0, 104, 3040, 34, FALSE, FALSE, t0 + SEC + 200000, &b));
  g_assert_cmpint (f->track->record_target, ==, 0);
  g_assert_cmpuint (b.seq, ==, (guint16) (a.seq + 1));
  g_assert_cmpuint (b.ts, ==, a.ts + 3000);
  a = b;

  /* Padding-only packets (bandwidth probes) do not make a layer flow. */
  g_assert_false (record_at (f, 1, 7000, 0, 0, FALSE, TRUE, t0 + SEC + 210000, &b));
  g_assert_cmpint (f->track->record_target, ==, 0);

  /* Measured: the highest *ranked* layer flowing, whatever the rids say. */
  f->track->n_ranked = 2;
  f->track->rank[0] = 1;
  f->track->rank[1] = 0;
  g_assert_false (record_at (f, 1, 7001, 100, 900, FALSE, FALSE, t0 + SEC + 233000, &b));
  g_assert_cmpint (f->track->record_target, ==, 0);
  f->track->rank[0] = 0;
  f->track->rank[1] = 1;
  g_assert_false (record_at (f, 1, 7002, 3100, 901, FALSE, FALSE, t0 + SEC + 266000, &b));
  g_assert_cmpint (f->track->record_target, ==, 1);
  g_assert_true (record_at (f, 0, 105, 6040, 35, FALSE, FALSE, t0 + SEC + 270000, &b));
  g_assert_true (record_at (f, 1, 7003, 6100, 902, TRUE, FALSE, t0 + SEC + 300000, &b));
  g_assert_cmpint (f->track->record_layer, ==, 1);
  g_assert_cmpuint (b.ssrc, ==, ssrc);
  g_assert_cmpuint (b.seq, ==, (guint16) (a.seq + 2));

  /* A new recording is a new stream: nothing until a key frame. */
  media_simulcast_record_start (f->track);
  g_assert_false (record_at (f, 1, 7004, 9100, 903, FALSE, FALSE, t0 + SEC + 333000, &b));
  g_assert_true (record_at (f, 1, 7005, 12100, 904, TRUE, FALSE, t0 + SEC + 366000, &b));
  g_assert_cmpuint (b.seq, ==, 7005);             /* a new stream starts as it comes */
  g_assert_cmpuint (f->stats.layer_switches, ==, 0);       /* slots' switches only */
}

/* Each layer's NACK ring (and each subscriber's log) holds NACK_MAX_AGE_MS
 * of packets at the REMB ceiling: 1000-byte packets, a power of two in
 * [128, 2048]. */
static void
test_nack_slots (void)
{
  static const struct { guint kbps; unsigned slots; } cases[] = {
    { 0, 128 }, { 300, 128 }, { 1024, 128 }, { 1032, 256 }, { 1500, 256 },
    { 2048, 256 }, { 2500, 512 }, { 4000, 512 }, { 8000, 1024 }, { 100000, 2048 },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      MediaConfig config = { .max_bitrate_kbps = cases[i].kbps };

      g_assert_cmpuint (media_video_nack_slots (&config), ==, cases[i].slots);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(path, fn) \
  g_test_add ("/media/simulcast/" path, Fixture, NULL, fixture_setup, fn, fixture_teardown)
  ADD ("layers", test_layers);
  ADD ("renegotiate", test_renegotiate);
  ADD ("rank", test_rank);
  ADD ("choice", test_choice);
  ADD ("probe", test_probe);
  ADD ("loss", test_loss);
  ADD ("record", test_record);
  g_test_add_func ("/media/simulcast/ssrc-group", test_ssrc_group);
  g_test_add_func ("/media/simulcast/nack-slots", test_nack_slots);
  return g_test_run ();
}
