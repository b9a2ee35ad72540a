/* test-sdp.c — tests for media/sdp.c.
 *
 * Fixtures in sdp/ are offers captured on this machine from real peers
 * (loopback only): GStreamer webrtcbin 1.22, aiortc 1.4.0 and Chromium 156
 * (headless, driven by playwright-core), plus Chromium's answer to one of
 * our subscribe offers.  Live round trips with webrtcbin and aiortc run
 * /usr/bin/python3 helpers below (loopback only, UPnP off): the peer
 * answers our subscribe offer, or accepts our answer to its publish offer.
 * They skip when the helper cannot run.
 */
#include "sdp.h"

#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include <glib/gstdio.h>

#define MAX_SDP (32 * 1024)     /* docs/protocol.md: SDP is limited to 32 KiB */

static const gchar *const CHROMIUM = "chromium-156-opus-vp8-h264-datachannel.sdp";
static const gchar *const AIORTC = "aiortc-1.4-opus-vp8-h264-datachannel.sdp";
static const gchar *const WB_VP8 = "webrtcbin-1.22-opus-vp8.sdp";
static const gchar *const WB_H264 = "webrtcbin-1.22-opus-h264.sdp";
static const gchar *const WB_BOTH = "webrtcbin-1.22-opus-vp8-h264.sdp";
static const gchar *const WB_DC = "webrtcbin-1.22-opus-vp8-datachannel.sdp";

static const gchar *const SIMULCAST = "chromium-156-simulcast-offer.sdp";
static const gchar *const samples[] = { CHROMIUM, AIORTC, WB_VP8, WB_H264, WB_BOTH, WB_DC,
                                        SIMULCAST, NULL };

static const gchar *local_candidates[] = {
  "candidate:1 1 udp 2130706431 127.0.0.1 20000 typ host", NULL,
};

static const MediaSdpLocal local = {
  "abcd", "0123456789012345678901",
  "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89",
  MEDIA_SDP_SETUP_PASSIVE, local_candidates, TRUE, 1, 1,
};

static gchar *
sample_path (const gchar *name)
{
  const gchar *srcdir = g_getenv ("G_TEST_SRCDIR");
  g_autofree gchar *here = g_path_get_dirname (__FILE__);
  gchar *path;

  if (srcdir) {
    path = g_build_filename (srcdir, "sdp", name, NULL);
    if (g_file_test (path, G_FILE_TEST_EXISTS))
      return path;
    g_free (path);
  }
  return g_build_filename (here, "sdp", name, NULL);
}

static gchar *
load (const gchar *name, gsize *len)
{
  g_autofree gchar *path = sample_path (name);
  g_autoptr (GError) error = NULL;
  gchar *text = NULL;

  g_file_get_contents (path, &text, len, &error);
  g_assert_no_error (error);
  return text;
}

static MediaSdpDescription *
parse_sample (const gchar *name)
{
  gsize len;
  g_autofree gchar *text = load (name, &len);
  g_autoptr (GError) error = NULL;
  MediaSdpDescription *d = media_sdp_parse (text, len, MAX_SDP, &error);

  g_assert_no_error (error);
  g_assert_nonnull (d);
  return d;
}

static MediaSdpSection *
section (MediaSdpDescription *d, guint i)
{
  g_assert_cmpuint (i, <, d->sections->len);
  return g_ptr_array_index (d->sections, i);
}

static gboolean
has_fb (const MediaSdpCodec *c, const gchar *fb)
{
  for (guint i = 0; i < c->rtcp_fb->len; i++)
    if (g_strcmp0 (g_ptr_array_index (c->rtcp_fb, i), fb) == 0)
      return TRUE;
  return FALSE;
}

/* Parses @text, which must succeed, and checks it mirrors @offer. */
static MediaSdpDescription *
check_answer_shape (MediaSdpDescription *offer, const gchar *text)
{
  g_autoptr (GError) error = NULL;
  MediaSdpDescription *a = media_sdp_parse (text, strlen (text), MAX_SDP, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (a->sections->len, ==, offer->sections->len);
  for (guint i = 0; i < a->sections->len; i++) {
    MediaSdpSection *as = section (a, i), *os = section (offer, i);
    g_assert_cmpstr (as->mid, ==, os->mid);
    g_assert_cmpstr (as->kind, ==, os->kind);
    g_assert_cmpint (as->rejected, ==, os->chosen == NULL);
    if (os->chosen) {
      g_assert_cmpint (as->direction, ==, MEDIA_SDP_RECVONLY);
      g_assert_cmpuint (as->codecs->len, ==, 1);
      g_assert_cmpuint (((MediaSdpCodec *) g_ptr_array_index (as->codecs, 0))->payload_type, ==,
                        os->chosen->payload_type);
    }
  }
  g_assert_cmpstr (a->ice_ufrag, ==, local.ice_ufrag);
  g_assert_cmpstr (a->fingerprint, ==, local.fingerprint);
  g_assert_cmpuint (a->candidates->len, ==, 1);
  g_assert_true (a->end_of_candidates);
  /* nothing we never negotiate */
  g_assert_null (strstr (text, "rtx/"));
  g_assert_null (strstr (text, "red/"));
  g_assert_null (strstr (text, "ulpfec"));
  g_assert_null (strstr (text, "transport-cc"));
  g_assert_null (strstr (text, "transport-wide-cc"));
  g_assert_null (strstr (text, "sctp"));
  return a;
}

static gchar *
answer (MediaSdpDescription *offer)
{
  g_autoptr (GError) error = NULL;
  gchar *text = media_sdp_create_publish_answer (offer, &local, &error);

  g_assert_no_error (error);
  g_assert_nonnull (text);
  return text;
}

/* ------------------------------------------------------------ real offers */

static void
test_chromium (void)
{
  g_autoptr (MediaSdpDescription) d = parse_sample (CHROMIUM);
  g_autoptr (MediaSdpDescription) a = NULL;
  g_autofree gchar *text = NULL;
  MediaSdpSection *audio, *video, *data;

  g_assert_cmpstr (d->ice_ufrag, ==, "hTP3");
  g_assert_cmpstr (d->fingerprint_hash, ==, "sha-256");
  g_assert_true (g_str_has_prefix (d->fingerprint, "3F:BD:E6"));
  g_assert_cmpint (d->setup, ==, MEDIA_SDP_SETUP_ACTPASS);
  g_assert_cmpuint (d->candidates->len, ==, 8);     /* the tag's only: 8 more per section */
  g_assert_true (g_str_has_suffix (g_ptr_array_index (d->candidates, 0), "127.0.0.1 41940 typ host generation 0 network-id 3 network-cost 50"));
  g_assert_cmpuint (d->sections->len, ==, 3);
  audio = section (d, 0);
  video = section (d, 1);
  data = section (d, 2);
  g_assert_cmpstr (audio->mid, ==, "0");
  g_assert_cmpint (audio->direction, ==, MEDIA_SDP_SENDONLY);
  g_assert_cmpuint (audio->codecs->len, ==, 8);
  g_assert_cmpuint (audio->ssrcs->len, ==, 1);
  g_assert_cmpuint (g_array_index (audio->ssrcs, guint32, 0), ==, 2956700348u);
  g_assert_cmpstr (audio->cname, ==, "Z6AmIQ5eBoh3OYPJ");
  g_assert_cmpstr (audio->msid_stream, ==, "f093eae7-ae2b-4d4a-8a47-d76a7a89f398");
  g_assert_cmpstr (audio->msid_track, ==, "1fc4c729-8758-4b44-b9d4-ee14b2cf462d");
  g_assert_cmpuint (audio->extmaps->len, ==, 4);
  /* FID: the rtx SSRC is not a media SSRC */
  g_assert_cmpuint (video->ssrcs->len, ==, 1);
  g_assert_cmpuint (g_array_index (video->ssrcs, guint32, 0), ==, 1346106114u);
  g_assert_cmpuint (video->codecs->len, ==, 23);
  g_assert_cmpstr (data->kind, ==, "application");
  g_assert_false (data->rejected);

  text = answer (d);
  a = check_answer_shape (d, text);
  g_assert_cmpstr (audio->chosen->encoding, ==, "opus");
  g_assert_cmpuint (audio->chosen->payload_type, ==, 111);
  g_assert_cmpuint (audio->chosen->rtcp_fb->len, ==, 0);
  g_assert_cmpstr (video->chosen->encoding, ==, "VP8");  /* VP8 before H.264 */
  g_assert_cmpuint (video->chosen->payload_type, ==, 96);
  g_assert_cmpuint (video->chosen->rtcp_fb->len, ==, 4);
  g_assert_true (has_fb (video->chosen, "nack pli"));
  g_assert_false (has_fb (video->chosen, "transport-cc"));
  g_assert_null (data->chosen);
  g_assert_true (section (a, 2)->rejected);
  g_assert_nonnull (strstr (text, "a=group:BUNDLE 0 1\r\n"));
  g_assert_nonnull (strstr (text, "m=application 0 UDP/DTLS/SCTP webrtc-datachannel\r\n"));
  g_assert_nonnull (strstr (text, "a=setup:passive\r\n"));
  g_assert_nonnull (strstr (text, "m=audio 20000 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 127.0.0.1\r\n"));
  /* extmaps: only the three we accept, with the offered ids */
  g_assert_nonnull (strstr (text, "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n"));
  g_assert_nonnull (strstr (text, "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"));
  g_assert_null (strstr (text, "video-orientation"));
  g_assert_null (strstr (text, "toffset"));
  g_assert_cmpuint (section (a, 1)->extmaps->len, ==, 2);
}

/* Without VP8, Chromium's H.264 42e01f packetization-mode=1 (PT 108) wins
 * over 42001f (102, plain baseline) and mode 0 (104, 114). */
static void
test_chromium_h264 (void)
{
  gsize len;
  g_autofree gchar *text = load (CHROMIUM, &len);
  g_autoptr (GString) s = g_string_new (text);
  g_autoptr (MediaSdpDescription) d = NULL;
  g_autoptr (MediaSdpDescription) a = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree gchar *ans = NULL;
  MediaSdpCodec *c;

  g_assert_cmpuint (g_string_replace (s, "SAVPF 96 97 102", "SAVPF 97 102", 1), ==, 1);
  d = media_sdp_parse (s->str, s->len, MAX_SDP, &error);
  g_assert_no_error (error);
  ans = answer (d);
  a = check_answer_shape (d, ans);
  c = section (d, 1)->chosen;
  g_assert_cmpstr (c->encoding, ==, "H264");
  g_assert_cmpuint (c->payload_type, ==, 108);
  g_assert_nonnull (strstr (ans, "a=fmtp:108 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f\r\n"));
}

static void
test_aiortc (void)
{
  g_autoptr (MediaSdpDescription) d = parse_sample (AIORTC);
  g_autoptr (MediaSdpDescription) a = NULL;
  g_autofree gchar *text = NULL;

  /* aiortc gives each m-line its own ICE credentials and socket: the
   * transport is the BUNDLE tag's, and only its candidates count */
  g_assert_cmpstr (d->ice_ufrag, ==, "mGjW");
  g_assert_cmpstr (d->ice_pwd, ==, "EOPsJTPMG0GyXaOUTLSHVP");
  g_assert_cmpstr (section (d, 1)->ice_ufrag, ==, "Hma6");
  g_assert_cmpuint (d->candidates->len, ==, 1);
  g_assert_true (g_str_has_suffix (g_ptr_array_index (d->candidates, 0), "57946 typ host"));
  g_assert_true (d->end_of_candidates);
  g_assert_cmpuint (section (d, 1)->ssrcs->len, ==, 1);
  g_assert_cmpuint (g_array_index (section (d, 1)->ssrcs, guint32, 0), ==, 2796346424u);

  text = answer (d);
  a = check_answer_shape (d, text);
  g_assert_cmpuint (section (d, 0)->chosen->payload_type, ==, 96);     /* opus at 96 */
  g_assert_cmpstr (section (d, 1)->chosen->encoding, ==, "VP8");
  g_assert_cmpuint (section (d, 1)->chosen->payload_type, ==, 97);
  g_assert_null (section (d, 2)->chosen);
  g_assert_nonnull (strstr (text, "m=application 0 DTLS/SCTP 5000\r\n"));
  g_assert_null (strstr (text, "rtcp-rsize"));                         /* not offered */
}

/* aiortc's tag rejected (audio without Opus): the transport moves to the
 * video section, with its own credentials and candidates. */
static void
test_aiortc_tag_moves (void)
{
  gsize len;
  g_autofree gchar *text = load (AIORTC, &len);
  g_autoptr (GString) s = g_string_new (text);
  g_autoptr (MediaSdpDescription) d = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree gchar *ans = NULL;

  g_assert_cmpuint (g_string_replace (s, "a=rtpmap:96 opus/48000/2", "a=rtpmap:96 speex/48000", 1), ==, 1);
  d = media_sdp_parse (s->str, s->len, MAX_SDP, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (d->ice_ufrag, ==, "mGjW");
  ans = answer (d);
  g_assert_null (section (d, 0)->chosen);
  g_assert_cmpstr (d->ice_ufrag, ==, "Hma6");
  g_assert_cmpstr (d->ice_pwd, ==, "ZJeNEjSunZNdfyGG0OF8xy");
  g_assert_cmpuint (d->candidates->len, ==, 1);
  g_assert_true (g_str_has_suffix (g_ptr_array_index (d->candidates, 0), "56459 typ host"));
  g_assert_nonnull (strstr (ans, "a=group:BUNDLE 1\r\n"));
}

static void
test_webrtcbin_vp8 (void)
{
  g_autoptr (MediaSdpDescription) d = parse_sample (WB_VP8);
  g_autoptr (MediaSdpDescription) a = NULL;
  g_autofree gchar *text = NULL;
  MediaSdpSection *video = section (d, 1);

  g_assert_true (video->bundle_only);
  g_assert_false (video->rejected);
  g_assert_cmpstr (video->mid, ==, "video1");
  g_assert_cmpint (video->direction, ==, MEDIA_SDP_SENDRECV);
  g_assert_cmpuint (g_array_index (video->ssrcs, guint32, 0), ==, 2222);
  g_assert_cmpstr (video->msid_track, ==, "webrtctransceiver1");   /* from a=ssrc msid: */
  text = answer (d);
  a = check_answer_shape (d, text);
  g_assert_cmpstr (section (d, 0)->chosen->encoding, ==, "OPUS");   /* as written */
  g_assert_cmpstr (video->chosen->encoding, ==, "VP8");
  g_assert_cmpuint (video->chosen->rtcp_fb->len, ==, 2);            /* nack pli, ccm fir */
  g_assert_nonnull (strstr (text, "a=group:BUNDLE audio0 video1\r\n"));
  g_assert_nonnull (strstr (text, "m=video 20000 UDP/TLS/RTP/SAVPF 96\r\n"));
}

static void
test_webrtcbin_h264 (void)
{
  g_autoptr (MediaSdpDescription) d = parse_sample (WB_H264);
  g_autoptr (MediaSdpDescription) a = NULL;
  g_autofree gchar *text = answer (d);
  MediaSdpCodec *c = section (d, 1)->chosen;

  a = check_answer_shape (d, text);
  /* openh264 via webrtcbin: packetization-mode=1, no profile-level-id */
  g_assert_cmpstr (c->encoding, ==, "H264");
  g_assert_cmpuint (c->payload_type, ==, 102);
  g_assert_nonnull (strstr (c->fmtp, "sprop-parameter-sets"));
  g_assert_nonnull (strstr (text, "a=fmtp:102 packetization-mode=1\r\n"));
  g_assert_null (strstr (text, "sprop-parameter-sets"));
}

static void
test_webrtcbin_vp8_and_h264 (void)
{
  g_autoptr (MediaSdpDescription) d = parse_sample (WB_BOTH);
  g_autoptr (MediaSdpDescription) a = NULL;
  g_autofree gchar *text = answer (d);

  a = check_answer_shape (d, text);
  g_assert_cmpstr (section (d, 1)->chosen->encoding, ==, "VP8");
  g_assert_cmpstr (section (d, 2)->chosen->encoding, ==, "H264");
  g_assert_nonnull (strstr (text, "a=group:BUNDLE audio0 video1 video2\r\n"));
}

static void
test_webrtcbin_datachannel (void)
{
  g_autoptr (MediaSdpDescription) d = parse_sample (WB_DC);
  g_autoptr (MediaSdpDescription) a = NULL;
  g_autofree gchar *text = answer (d);

  a = check_answer_shape (d, text);
  g_assert_true (section (d, 2)->bundle_only);
  g_assert_null (section (d, 2)->chosen);
  g_assert_nonnull (strstr (text, "a=group:BUNDLE audio0 video1\r\n"));
  g_assert_nonnull (strstr (text, "m=application 0 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\na=mid:application2\r\n"));
}

/* ------------------------------------------------------- DTLS role, setup */

static void
test_setup (void)
{
  gsize len;
  g_autofree gchar *text = load (WB_VP8, &len);
  g_autoptr (GString) s = g_string_new (text);
  g_autoptr (MediaSdpDescription) d = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree gchar *ans = NULL;

  g_assert_cmpint (media_sdp_answer_setup (MEDIA_SDP_SETUP_ACTPASS, MEDIA_SDP_SETUP_PASSIVE), ==, MEDIA_SDP_SETUP_PASSIVE);
  g_assert_cmpint (media_sdp_answer_setup (MEDIA_SDP_SETUP_ACTPASS, MEDIA_SDP_SETUP_ACTPASS), ==, MEDIA_SDP_SETUP_PASSIVE);
  g_assert_cmpint (media_sdp_answer_setup (MEDIA_SDP_SETUP_ACTPASS, MEDIA_SDP_SETUP_ACTIVE), ==, MEDIA_SDP_SETUP_ACTIVE);
  g_assert_cmpint (media_sdp_answer_setup (MEDIA_SDP_SETUP_ACTIVE, MEDIA_SDP_SETUP_ACTIVE), ==, MEDIA_SDP_SETUP_PASSIVE);
  g_assert_cmpint (media_sdp_answer_setup (MEDIA_SDP_SETUP_PASSIVE, MEDIA_SDP_SETUP_PASSIVE), ==, MEDIA_SDP_SETUP_ACTIVE);

  /* a client that offers passive gets an active answer */
  g_assert_cmpuint (g_string_replace (s, "a=setup:actpass", "a=setup:passive", 0), ==, 2);
  d = media_sdp_parse (s->str, s->len, MAX_SDP, &error);
  g_assert_no_error (error);
  g_assert_cmpint (d->setup, ==, MEDIA_SDP_SETUP_PASSIVE);
  ans = answer (d);
  g_assert_nonnull (strstr (ans, "a=setup:active\r\n"));
  g_assert_null (strstr (ans, "a=setup:passive"));

  /* holdconn is not a DTLS role */
  g_string_replace (s, "a=setup:passive", "a=setup:holdconn", 0);
  g_clear_pointer (&d, media_sdp_description_free);
  d = media_sdp_parse (s->str, s->len, MAX_SDP, &error);
  g_assert_error (error, MEDIA_SDP_ERROR, MEDIA_SDP_ERROR_INVALID);
}

/* -------------------------------------------------------------- subscribe */

typedef struct {
  MediaSdpDescription *publish;
  MediaSdpOfferTrack tracks[3];
} SubscribeFixture;

/* Tracks of the Chromium publisher, and an inactive slot. */
static void
subscribe_fixture (SubscribeFixture *f)
{
  MediaSdpSection *a, *v;

  f->publish = parse_sample (CHROMIUM);
  g_free (answer (f->publish));
  a = section (f->publish, 0);
  v = section (f->publish, 1);
  f->tracks[0] = (MediaSdpOfferTrack) { "0", "audio", TRUE, a->chosen, 1001, "cau-p1", "p1", "a0", a->extmaps };
  f->tracks[1] = (MediaSdpOfferTrack) { "1", "video", TRUE, v->chosen, 1002, "cau-p1", "p1", "v0", v->extmaps };
  f->tracks[2] = (MediaSdpOfferTrack) { "2", "video", FALSE, NULL, 0, NULL, NULL, NULL, NULL };
}

static gchar *
subscribe_offer (SubscribeFixture *f)
{
  MediaSdpLocal l = local;
  g_autoptr (GError) error = NULL;
  gchar *text;

  l.setup = MEDIA_SDP_SETUP_ACTPASS;
  text = media_sdp_create_subscribe_offer (f->tracks, G_N_ELEMENTS (f->tracks), &l, &error);
  g_assert_no_error (error);
  return text;
}

static void
test_subscribe_offer (void)
{
  SubscribeFixture f;
  g_autofree gchar *text = NULL, *golden = NULL;
  g_autoptr (MediaSdpDescription) d = NULL;
  g_autoptr (GError) error = NULL;
  gsize len;

  subscribe_fixture (&f);
  text = subscribe_offer (&f);
  /* byte for byte the offer Chromium 156 answered (see test_subscribe_chromium) */
  golden = load ("cau-subscribe-offer-for-chromium.sdp", &len);
  g_assert_cmpstr (text, ==, golden);

  d = media_sdp_parse (text, strlen (text), MAX_SDP, &error);
  g_assert_no_error (error);
  g_assert_cmpint (d->setup, ==, MEDIA_SDP_SETUP_ACTPASS);
  g_assert_cmpint (section (d, 0)->direction, ==, MEDIA_SDP_SENDONLY);
  g_assert_cmpuint (g_array_index (section (d, 1)->ssrcs, guint32, 0), ==, 1002);
  g_assert_cmpstr (section (d, 1)->msid_stream, ==, "p1");
  g_assert_cmpstr (section (d, 1)->msid_track, ==, "v0");
  g_assert_cmpuint (section (d, 1)->codecs->len, ==, 1);
  g_assert_cmpuint (((MediaSdpCodec *) g_ptr_array_index (section (d, 1)->codecs, 0))->rtcp_fb->len, ==, 4);
  /* an inactive slot stays bundled on the shared port (see sdp.c) */
  g_assert_false (section (d, 2)->rejected);
  g_assert_cmpint (section (d, 2)->direction, ==, MEDIA_SDP_INACTIVE);
  g_assert_cmpuint (section (d, 2)->ssrcs->len, ==, 0);
  g_assert_nonnull (strstr (text, "a=group:BUNDLE 0 1 2\r\n"));
  media_sdp_description_free (f.publish);
}

static void
test_subscribe_offer_errors (void)
{
  SubscribeFixture f;
  g_autoptr (MediaSdpDescription) aio = parse_sample (AIORTC);
  g_autoptr (GError) error = NULL;
  MediaSdpLocal l = local;
  gchar *text;

  subscribe_fixture (&f);
  text = media_sdp_create_subscribe_offer (f.tracks, 0, &l, &error);
  g_assert_null (text);
  g_assert_error (error, MEDIA_SDP_ERROR, MEDIA_SDP_ERROR_INVALID);
  g_clear_error (&error);

  /* aiortc's opus is PT 96, Chromium's VP8 is PT 96: one BUNDLE cannot
   * carry both (Chromium refuses such an offer); the caller must rewrite */
  g_free (answer (aio));
  f.tracks[0].codec = section (aio, 0)->chosen;
  f.tracks[0].extmaps = NULL;
  text = media_sdp_create_subscribe_offer (f.tracks, 2, &l, &error);
  g_assert_null (text);
  g_assert_error (error, MEDIA_SDP_ERROR, MEDIA_SDP_ERROR_INVALID);
  g_clear_error (&error);

  /* extmap id 1 is audio-level for Chromium's audio, sdes:mid for aiortc's */
  media_sdp_description_free (f.publish);
  subscribe_fixture (&f);
  f.tracks[1].codec = section (aio, 1)->chosen;
  f.tracks[1].extmaps = section (aio, 1)->extmaps;
  text = media_sdp_create_subscribe_offer (f.tracks, 2, &l, &error);
  g_assert_null (text);
  g_assert_error (error, MEDIA_SDP_ERROR, MEDIA_SDP_ERROR_INVALID);
  g_clear_error (&error);

  /* duplicate mids, bad msid (would inject) */
  media_sdp_description_free (f.publish);
  subscribe_fixture (&f);
  f.tracks[1].mid = "0";
  g_assert_null (media_sdp_create_subscribe_offer (f.tracks, 2, &l, &error));
  g_clear_error (&error);
  f.tracks[1].mid = "1";
  f.tracks[1].msid_stream = "p1 x";
  g_assert_null (media_sdp_create_subscribe_offer (f.tracks, 2, &l, &error));
  g_clear_error (&error);
  l.ice_pwd = "short";
  f.tracks[1].msid_stream = "p1";
  g_assert_null (media_sdp_create_subscribe_offer (f.tracks, 2, &l, &error));
  g_assert_error (error, MEDIA_SDP_ERROR, MEDIA_SDP_ERROR_INVALID);
  media_sdp_description_free (f.publish);
}

static void
check_subscribe_answer (SubscribeFixture *f, const gchar *text)
{
  const gchar *mids[] = { "0", "1", "2" };
  g_autoptr (GError) error = NULL;
  g_autoptr (MediaSdpDescription) a = NULL;
  g_autoptr (MediaSdpDescription) b = NULL;

  a = media_sdp_parse_subscribe_answer (text, strlen (text), MAX_SDP, 3, mids, &error);
  g_assert_no_error (error);
  b = media_sdp_parse_subscribe_answer_for_tracks (text, strlen (text), MAX_SDP, f->tracks, 3, &error);
  g_assert_no_error (error);
  g_assert_cmpint (b->setup, ==, MEDIA_SDP_SETUP_ACTIVE);    /* so the server is DTLS server */
  g_assert_cmpuint (section (b, 0)->chosen->payload_type, ==, 111);
  g_assert_cmpstr (section (b, 1)->chosen->encoding, ==, "VP8");
  g_assert_null (section (b, 2)->chosen);
  g_assert_nonnull (b->ice_ufrag);
}

static void
test_subscribe_chromium (void)
{
  SubscribeFixture f;
  gsize len;
  g_autofree gchar *text = load ("chromium-156-subscribe-answer.sdp", &len);
  g_autoptr (GString) s = g_string_new (text);
  g_autoptr (GError) error = NULL;
  const gchar *mids[] = { "0", "1", "2" }, *wrong[] = { "0", "2", "1" };
  MediaSdpDescription *d;

  subscribe_fixture (&f);
  check_subscribe_answer (&f, text);

  d = media_sdp_parse_subscribe_answer (text, len, MAX_SDP, 3, wrong, &error);
  g_assert_null (d);
  g_assert_error (error, MEDIA_SDP_ERROR, MEDIA_SDP_ERROR_INVALID);
  g_clear_error (&error);
  d = media_sdp_parse_subscribe_answer (text, len, MAX_SDP, 2, mids, &error);
  g_assert_null (d);
  g_clear_error (&error);
  /* a sendrecv answer to a sendonly offer */
  g_string_replace (s, "a=recvonly", "a=sendrecv", 1);
  d = media_sdp_parse_subscribe_answer (s->str, s->len, MAX_SDP, 3, mids, &error);
  g_assert_null (d);
  g_assert_error (error, MEDIA_SDP_ERROR, MEDIA_SDP_ERROR_INVALID);
  g_clear_error (&error);
  /* an answer that cannot choose */
  g_string_replace (s, "a=sendrecv", "a=recvonly", 1);
  g_string_replace (s, "a=setup:active", "a=setup:actpass", 0);
  d = media_sdp_parse_subscribe_answer (s->str, s->len, MAX_SDP, 3, mids, &error);
  g_assert_null (d);
  g_clear_error (&error);
  /* a codec that was not offered */
  g_string_assign (s, text);
  g_string_replace (s, "a=rtpmap:96 VP8/90000", "a=rtpmap:96 VP9/90000", 1);
  d = media_sdp_parse_subscribe_answer_for_tracks (s->str, s->len, MAX_SDP, f.tracks, 3, &error);
  g_assert_null (d);
  g_assert_error (error, MEDIA_SDP_ERROR, MEDIA_SDP_ERROR_INVALID);
  media_sdp_description_free (f.publish);
}

/* Live peers answer our offer.  The helpers print the answer on stdout. */
static const gchar webrtcbin_answer_py[] =
  "import sys, gi\n"
  "gi.require_version('Gst', '1.0'); gi.require_version('GstWebRTC', '1.0')\n"
  "gi.require_version('GstSdp', '1.0'); gi.require_version('Nice', '0.1')\n"
  "from gi.repository import Gst, GstWebRTC, GstSdp, GLib, Nice\n"
  "Gst.init(None)\n"
  "pipe = Gst.Pipeline.new('p'); wb = Gst.ElementFactory.make('webrtcbin', 'wb')\n"
  "wb.set_property('bundle-policy', 'max-bundle'); pipe.add(wb)\n"
  "ice = wb.get_property('ice-agent'); agent = ice.get_property('agent')\n"
  "agent.set_property('upnp', False); agent.set_property('ice-tcp', False)\n"
  "a = Nice.Address.new(); a.set_from_string('127.0.0.1'); agent.add_local_address(a)\n"
  "loop = GLib.MainLoop(); rc = [1]\n"
  "def fail(msg):\n"
  "    sys.stderr.write(msg + '\\n'); loop.quit(); return False\n"
  "def on_answer(p, _):\n"
  "    r = p.get_reply(); ans = r.get_value('answer') if r else None\n"
  "    if ans is None: return GLib.idle_add(fail, 'no answer')\n"
  "    sys.stdout.write(ans.sdp.as_text()); rc[0] = 0; GLib.idle_add(loop.quit)\n"
  "def on_remote(p, _):\n"
  "    r = p.get_reply()\n"
  "    if r is not None and r.has_field('error'): return GLib.idle_add(fail, r.to_string())\n"
  "    wb.emit('create-answer', None, Gst.Promise.new_with_change_func(on_answer, None))\n"
  "def start():\n"
  "    _, msg = GstSdp.SDPMessage.new_from_text(open(sys.argv[1]).read())\n"
  "    offer = GstWebRTC.WebRTCSessionDescription.new(GstWebRTC.WebRTCSDPType.OFFER, msg)\n"
  "    wb.emit('set-remote-description', offer, Gst.Promise.new_with_change_func(on_remote, None))\n"
  "    return False\n"
  "pipe.set_state(Gst.State.PLAYING)\n"
  "GLib.idle_add(start); GLib.timeout_add_seconds(20, fail, 'timeout')\n"
  "loop.run(); pipe.set_state(Gst.State.NULL); sys.exit(rc[0])\n";

static const gchar aiortc_answer_py[] =
  "import sys, asyncio, aioice.ice\n"
  "aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ['127.0.0.1']\n"
  "from aiortc import RTCPeerConnection, RTCConfiguration, RTCSessionDescription\n"
  "async def main():\n"
  "    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))\n"
  "    await pc.setRemoteDescription(RTCSessionDescription(open(sys.argv[1]).read(), 'offer'))\n"
  "    await pc.setLocalDescription(await pc.createAnswer())\n"
  "    sys.stdout.write(pc.localDescription.sdp)\n"
  "    await pc.close()\n"
  "asyncio.run(asyncio.wait_for(main(), 20))\n";

/* Runs @script on the offer; NULL (and the test skipped) when the peer is
 * not available here. */
static gchar *
live_answer (const gchar *script, const gchar *offer)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *path = NULL, *out = NULL, *err = NULL;
  gint fd, status = 0;

  if (!g_file_test ("/usr/bin/python3", G_FILE_TEST_IS_EXECUTABLE)) {
    g_test_skip ("no /usr/bin/python3");
    return NULL;
  }
  fd = g_file_open_tmp ("cau-sdp-XXXXXX.sdp", &path, &error);
  g_assert_no_error (error);
  close (fd);
  g_file_set_contents (path, offer, -1, &error);
  g_assert_no_error (error);
  {
    const gchar *argv[] = { "/usr/bin/python3", "-c", script, path, NULL };
    g_spawn_sync (NULL, (gchar **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err, &status, &error);
  }
  g_unlink (path);
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, NULL) || out == NULL || *out == '\0') {
    g_autofree gchar *msg = g_strdup_printf ("peer not available: %.300s", err ? err : "");
    g_test_skip (msg);
    return NULL;
  }
  return g_steal_pointer (&out);
}

static void
test_subscribe_live (gconstpointer script)
{
  SubscribeFixture f;
  g_autofree gchar *offer = NULL, *ans = NULL;

  subscribe_fixture (&f);
  offer = subscribe_offer (&f);
  ans = live_answer (script, offer);
  if (ans) {
    g_test_message ("answer:\n%s", ans);
    check_subscribe_answer (&f, ans);
  }
  media_sdp_description_free (f.publish);
}


/* Publish round trip: the peer writes its offer to argv[1], waits for our
 * answer in argv[2], applies it and prints "accepted" (or the error). */
static const gchar webrtcbin_publish_py[] =
  "import sys, os, gi\n"
  "gi.require_version('Gst', '1.0'); gi.require_version('GstWebRTC', '1.0'); gi.require_version('GstSdp', '1.0')\n"
  "gi.require_version('Nice', '0.1')\n"
  "from gi.repository import Gst, GstWebRTC, GstSdp, GLib, Nice\n"
  "Gst.init(None)\n"
  "audio = ('audiotestsrc is-live=true ! opusenc ! rtpopuspay pt=111 ssrc=1111 ! '\n"
  "         'application/x-rtp,media=audio,encoding-name=OPUS,payload=111,ssrc=(uint)1111 ! wb. ')\n"
  "vp8 = ('videotestsrc is-live=true ! vp8enc deadline=1 ! rtpvp8pay pt=96 ssrc=2222 ! '\n"
  "       'application/x-rtp,media=video,encoding-name=VP8,payload=96,ssrc=(uint)2222 ! wb. ')\n"
  "pipe = Gst.parse_launch('webrtcbin name=wb bundle-policy=max-bundle ' + audio + vp8)\n"
  "wb = pipe.get_by_name('wb')\n"
  "ice = wb.get_property('ice-agent')\n"
  "agent = ice.get_property('agent')\n"
  "agent.set_property('upnp', False)\n"
  "agent.set_property('ice-tcp', False)\n"
  "_addr = Nice.Address.new(); _addr.set_from_string('127.0.0.1'); agent.add_local_address(_addr)\n"
  "loop = GLib.MainLoop()\n"
  "def on_set(p, _):\n"
  "    ok = wb.get_property('signaling-state') == GstWebRTC.WebRTCSignalingState.STABLE\n"
  "    print('accepted' if ok else 'refused'); GLib.idle_add(loop.quit)\n"
  "def answer():\n"
  "    if not os.path.exists(sys.argv[2]): return True\n"
  "    _, msg = GstSdp.SDPMessage.new_from_text(open(sys.argv[2]).read())\n"
  "    d = GstWebRTC.WebRTCSessionDescription.new(GstWebRTC.WebRTCSDPType.ANSWER, msg)\n"
  "    wb.emit('set-remote-description', d, Gst.Promise.new_with_change_func(on_set, None))\n"
  "    return False\n"
  "def done():\n"
  "    sdp = wb.get_property('local-description').sdp.as_text()\n"
  "    tmp = sys.argv[1] + '.tmp'; open(tmp, 'w').write(sdp); os.rename(tmp, sys.argv[1])\n"
  "    GLib.timeout_add(50, answer)\n"
  "    return False\n"
  "def gathering(wb, pspec):\n"
  "    if wb.get_property('ice-gathering-state') == GstWebRTC.WebRTCICEGatheringState.COMPLETE:\n"
  "        GLib.idle_add(done)\n"
  "def on_offer(promise, _):\n"
  "    reply = promise.get_reply()\n"
  "    offer = reply.get_value('offer')\n"
  "    p = Gst.Promise.new(); wb.emit('set-local-description', offer, p); p.interrupt()\n"
  "def start():\n"
  "    wb.emit('create-data-channel', 'chat', None)\n"
  "    p = Gst.Promise.new_with_change_func(on_offer, None)\n"
  "    wb.emit('create-offer', None, p)\n"
  "    return False\n"
  "wb.connect('notify::ice-gathering-state', gathering)\n"
  "pipe.set_state(Gst.State.PLAYING)\n"
  "GLib.timeout_add(500, start)\n"
  "GLib.timeout_add(20000, lambda: (sys.stderr.write('timeout\\n'), loop.quit()))\n"
  "loop.run()\n"
  "pipe.set_state(Gst.State.NULL)\n";

static const gchar aiortc_publish_py[] =
  "import sys, os, asyncio, aioice.ice\n"
  "aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ['127.0.0.1']\n"
  "from aiortc import RTCPeerConnection, RTCConfiguration, RTCSessionDescription\n"
  "from aiortc.mediastreams import AudioStreamTrack, VideoStreamTrack\n"
  "async def main():\n"
  "    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))\n"
  "    pc.addTransceiver(AudioStreamTrack(), direction='sendonly')\n"
  "    pc.addTransceiver(VideoStreamTrack(), direction='sendonly')\n"
  "    pc.createDataChannel('chat')\n"
  "    await pc.setLocalDescription(await pc.createOffer())\n"
  "    tmp = sys.argv[1] + '.tmp'; open(tmp, 'w').write(pc.localDescription.sdp); os.rename(tmp, sys.argv[1])\n"
  "    while not os.path.exists(sys.argv[2]): await asyncio.sleep(0.05)\n"
  "    try:\n"
  "        await pc.setRemoteDescription(RTCSessionDescription(open(sys.argv[2]).read(), 'answer'))\n"
  "        print('accepted')\n"
  "    except Exception as e:\n"
  "        print('refused', e)\n"
  "    await pc.close()\n"
  "asyncio.run(asyncio.wait_for(main(), 20))\n";

static void
test_publish_live (gconstpointer script)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *dir = NULL, *offer_path = NULL, *answer_path = NULL, *offer = NULL;
  g_autofree gchar *ans = NULL, *out = NULL;
  g_autoptr (MediaSdpDescription) d = NULL;
  GPid pid;
  gint out_fd, status;
  gsize len;
  GIOChannel *ch;

  if (!g_file_test ("/usr/bin/python3", G_FILE_TEST_IS_EXECUTABLE)) {
    g_test_skip ("no /usr/bin/python3");
    return;
  }
  dir = g_dir_make_tmp ("cau-sdp-XXXXXX", &error);
  g_assert_no_error (error);
  offer_path = g_build_filename (dir, "offer.sdp", NULL);
  answer_path = g_build_filename (dir, "answer.sdp", NULL);
  {
    const gchar *argv[] = { "/usr/bin/python3", "-c", script, offer_path, answer_path, NULL };
    g_spawn_async_with_pipes (NULL, (gchar **) argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD |
                              G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &pid, NULL, &out_fd, NULL, &error);
    g_assert_no_error (error);
  }
  for (guint i = 0; i < 400 && !g_file_test (offer_path, G_FILE_TEST_EXISTS); i++)
    g_usleep (50 * 1000);
  if (g_file_get_contents (offer_path, &offer, &len, NULL)) {
    d = media_sdp_parse (offer, len, MAX_SDP, &error);
    g_assert_no_error (error);
    ans = answer (d);
    g_file_set_contents (answer_path, ans, -1, &error);
    g_assert_no_error (error);
  }
  ch = g_io_channel_unix_new (out_fd);
  g_io_channel_set_close_on_unref (ch, TRUE);
  g_io_channel_read_to_end (ch, &out, NULL, NULL);
  g_io_channel_unref (ch);
  waitpid (pid, &status, 0);
  g_spawn_close_pid (pid);
  g_unlink (offer_path);
  g_unlink (answer_path);
  g_rmdir (dir);
  if (offer == NULL || !g_spawn_check_wait_status (status, NULL)) {
    g_test_skip ("peer not available");
    return;
  }
  g_test_message ("offer:\n%s\nanswer:\n%s", offer, ans);
  g_assert_cmpstr (out, ==, "accepted\n");
}

/* ---------------------------------------------------------------- hostile */

static void
expect_error (const gchar *text, gsize len, gsize max, gint code)
{
  g_autoptr (GError) error = NULL;
  MediaSdpDescription *d = media_sdp_parse (text, len, max, &error);

  g_assert_null (d);
  g_assert_error (error, MEDIA_SDP_ERROR, code);
}

/* Replaces the @n-th (0 = all) occurrence of @from in the Chromium sample and
 * expects @code. */
static void
mutate (const gchar *from, const gchar *to, guint n, gint code)
{
  gsize len;
  g_autofree gchar *text = load (CHROMIUM, &len);
  g_autoptr (GString) s = g_string_new (text);

  g_assert_cmpuint (g_string_replace (s, from, to, n), >, 0);
  expect_error (s->str, s->len, MAX_SDP, code);
}

static void
test_hostile_fields (void)
{
  mutate ("a=ice-ufrag:hTP3\r\n", "", 0, MEDIA_SDP_ERROR_INVALID);
  mutate ("a=ice-pwd:QD4tO92Ogc8ZXWSeHn37vkRA\r\n", "", 0, MEDIA_SDP_ERROR_INVALID);
  mutate ("a=ice-ufrag:hTP3", "a=ice-ufrag:h$P3", 0, MEDIA_SDP_ERROR_INVALID);
  mutate ("a=ice-ufrag:hTP3", "a=ice-ufrag:hTP", 0, MEDIA_SDP_ERROR_INVALID);
  mutate ("a=ice-ufrag:hTP3\r\n", "a=ice-ufrag:hTP3\r\na=ice-ufrag:zzzz\r\n", 1, MEDIA_SDP_ERROR_INVALID);
  mutate ("a=fingerprint:", "a=x-fingerprint:", 0, MEDIA_SDP_ERROR_INVALID);
  mutate ("a=fingerprint:sha-256 3F", "a=fingerprint:sha-256 4F", 2, MEDIA_SDP_ERROR_INVALID);
  mutate ("a=fingerprint:sha-256 3F", "a=fingerprint:md5 3F", 0, MEDIA_SDP_ERROR_INVALID);
  mutate (":8B\r\n", ":8\r\n", 0, MEDIA_SDP_ERROR_INVALID);
  mutate ("SAVPF 111 63", "SAVPF 200 63", 1, MEDIA_SDP_ERROR_INVALID);
  mutate ("SAVPF 111 63", "SAVPF 111 111", 1, MEDIA_SDP_ERROR_INVALID);
  mutate ("SAVPF 111 63", "SAVPF -1 63", 1, MEDIA_SDP_ERROR_INVALID);
  mutate ("a=rtpmap:111 opus/48000/2", "a=rtpmap:111 opus/abc/2", 1, MEDIA_SDP_ERROR_INVALID);
  mutate ("a=rtpmap:111 opus/48000/2", "a=rtpmap:111 opus", 1, MEDIA_SDP_ERROR_INVALID);
  mutate ("a=rtpmap:111 opus/48000/2", "a=rtpmap:111 opus/99999999999999999999/2", 1, MEDIA_SDP_ERROR_INVALID);
  mutate ("a=rtpmap:111 opus/48000/2", "a=rtpmap:111 opus/48000/2\r\na=rtpmap:111 VP8/90000", 1, MEDIA_SDP_ERROR_INVALID);
  mutate ("a=ssrc:2956700348 cname", "a=ssrc:29567x0348 cname", 1, MEDIA_SDP_ERROR_INVALID);
  mutate ("a=ssrc:2956700348 cname", "a=ssrc:4294967296 cname", 1, MEDIA_SDP_ERROR_INVALID);
  mutate ("a=ssrc:2956700348 cname", "a=ssrc:-1 cname", 1, MEDIA_SDP_ERROR_INVALID);
  mutate ("a=ssrc:2956700348 cname", "a=ssrc:+2956700348 cname", 1, MEDIA_SDP_ERROR_INVALID);
  mutate ("a=ssrc-group:FID 1346106114", "a=ssrc-group:FID 0x1346106114", 1, MEDIA_SDP_ERROR_INVALID);
  mutate ("a=rtcp-mux\r\n", "", 1, MEDIA_SDP_ERROR_INVALID);
  mutate ("a=group:BUNDLE 0 1 2", "a=group:BUNDLE 0 1", 1, MEDIA_SDP_ERROR_INVALID);
  mutate ("a=group:BUNDLE 0 1 2\r\n", "", 1, MEDIA_SDP_ERROR_INVALID);
  mutate ("a=group:BUNDLE 0 1 2", "a=group:BUNDLE 0 1 2 7", 1, MEDIA_SDP_ERROR_INVALID);
  mutate ("a=mid:1", "a=mid:0", 1, MEDIA_SDP_ERROR_INVALID);
  mutate ("a=mid:1", "a=mid:1 2", 1, MEDIA_SDP_ERROR_INVALID);
  mutate ("a=setup:actpass", "a=setup:active", 1, MEDIA_SDP_ERROR_INVALID);
  mutate ("a=sendonly", "a=sendonly\r\na=recvonly", 1, MEDIA_SDP_ERROR_INVALID);
  mutate ("a=extmap:1 urn", "a=extmap:0 urn", 1, MEDIA_SDP_ERROR_INVALID);
  mutate ("a=ssrc:1346106114", "a=ssrc:2956700348", 0, MEDIA_SDP_ERROR_INVALID);
  mutate ("a=extmap:1 urn", "a=extmap:4 urn", 1, MEDIA_SDP_ERROR_INVALID);
  mutate ("v=0\r\n", "v=1\r\n", 1, MEDIA_SDP_ERROR_PARSE);
  mutate ("s=-\r\n", "s=-\rm=audio 9 RTP/AVP 0\r\n", 1, MEDIA_SDP_ERROR_PARSE);
  mutate ("s=-", "s=\x01", 1, MEDIA_SDP_ERROR_PARSE);
}

static void
test_hostile_sizes (void)
{
  gsize len;
  g_autofree gchar *text = load (CHROMIUM, &len);
  g_autoptr (GString) s = g_string_new (text);
  g_autoptr (GError) error = NULL;
  g_autofree gchar *nul = g_memdup2 (text, len);
  MediaSdpDescription *d;

  expect_error (text, len, len - 1, MEDIA_SDP_ERROR_TOO_LARGE);
  expect_error ("", 0, MAX_SDP, MEDIA_SDP_ERROR_PARSE);
  expect_error ("garbage", 7, MAX_SDP, MEDIA_SDP_ERROR_PARSE);
  nul[100] = '\0';
  expect_error (nul, len, MAX_SDP, MEDIA_SDP_ERROR_PARSE);

  /* 1 MB: refused by size, and also when the caller allows it */
  while (s->len < 1024 * 1024)
    g_string_append (s, "a=x-padding:0123456789012345678901234567890123456789\r\n");
  expect_error (s->str, s->len, MAX_SDP, MEDIA_SDP_ERROR_TOO_LARGE);
  d = media_sdp_parse (s->str, s->len, G_MAXSIZE, &error);
  if (d == NULL)
    g_clear_error (&error);
  media_sdp_description_free (d);

  /* one very long line */
  g_string_assign (s, text);
  g_string_append (s, "a=x-long:");
  for (guint i = 0; i < 200000; i++)
    g_string_append_c (s, 'A' + i % 26);
  g_string_append (s, "\r\n");
  d = media_sdp_parse (s->str, s->len, G_MAXSIZE, &error);
  g_assert_no_error (error);       /* unknown attributes are fine */
  media_sdp_description_free (d);

  /* 1000 m-lines */
  g_string_assign (s, "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"
                      "a=ice-ufrag:abcd\r\na=ice-pwd:0123456789012345678901\r\n"
                      "a=fingerprint:sha-256 AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89\r\n");
  for (guint i = 0; i < 1000; i++)
    g_string_append_printf (s, "m=audio 0 UDP/TLS/RTP/SAVPF 111\r\na=mid:%u\r\n", i);
  expect_error (s->str, s->len, G_MAXSIZE, MEDIA_SDP_ERROR_INVALID);

  /* no m-line */
  expect_error ("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n", 40, MAX_SDP, MEDIA_SDP_ERROR_INVALID);

  /* many attributes repeated: ssrc lines, rtcp-fb, candidates */
  g_string_assign (s, text);
  for (guint i = 0; i < 3000; i++)
    g_string_append_printf (s, "a=ssrc:%u cname:x\r\na=rtcp-fb:* nack\r\na=candidate:%u 1 udp 1 127.0.0.1 %u typ host\r\n",
                            i, i, 1 + i);
  d = media_sdp_parse (s->str, s->len, G_MAXSIZE, &error);
  g_assert_no_error (error);
  g_free (media_sdp_create_publish_answer (d, &local, NULL));
  media_sdp_description_free (d);
}

/* Every prefix of every sample parses or fails cleanly; those that parse
 * can be answered (or fail cleanly). */
static void
test_truncated (void)
{
  for (guint k = 0; samples[k]; k++) {
    gsize len;
    g_autofree gchar *text = load (samples[k], &len);

    for (gsize n = 0; n <= len; n++) {
      g_autofree gchar *copy = g_memdup2 (text, n);  /* exact size: ASan sees overreads */
      GError *error = NULL;
      MediaSdpDescription *d = media_sdp_parse (copy, n, MAX_SDP, &error);

      g_assert_true ((d == NULL) != (error == NULL));
      if (d) {
        g_free (media_sdp_create_publish_answer (d, &local, NULL));
        media_sdp_description_free (d);
      }
      g_clear_error (&error);
    }
  }
}

static void
test_no_codec (void)
{
  gsize len;
  g_autofree gchar *text = load (WB_VP8, &len);
  g_autoptr (GString) s = g_string_new (text);
  g_autoptr (MediaSdpDescription) d = NULL;
  g_autoptr (GError) error = NULL;

  g_string_replace (s, "OPUS/48000/2", "PCMU/8000", 0);
  g_string_replace (s, "VP8/90000", "VP9/90000", 0);
  d = media_sdp_parse (s->str, s->len, MAX_SDP, &error);
  g_assert_no_error (error);
  g_assert_null (media_sdp_create_publish_answer (d, &local, &error));
  g_assert_error (error, MEDIA_SDP_ERROR, MEDIA_SDP_ERROR_NO_CODEC);
  g_clear_error (&error);

  /* recvonly from the client: nothing to relay */
  g_string_assign (s, text);
  g_string_replace (s, "a=sendrecv", "a=recvonly", 0);
  g_clear_pointer (&d, media_sdp_description_free);
  d = media_sdp_parse (s->str, s->len, MAX_SDP, &error);
  g_assert_no_error (error);
  g_assert_null (media_sdp_create_publish_answer (d, &local, &error));
  g_assert_error (error, MEDIA_SDP_ERROR, MEDIA_SDP_ERROR_NO_CODEC);
  g_clear_error (&error);

  /* PT in the RTCP range with rtcp-mux (RFC 5761 §4) */
  g_string_assign (s, text);
  g_string_replace (s, "96", "72", 0);
  g_string_replace (s, "OPUS/48000/2", "PCMU/8000", 0);
  g_clear_pointer (&d, media_sdp_description_free);
  d = media_sdp_parse (s->str, s->len, MAX_SDP, &error);
  g_assert_no_error (error);
  g_assert_null (media_sdp_create_publish_answer (d, &local, &error));
  g_assert_error (error, MEDIA_SDP_ERROR, MEDIA_SDP_ERROR_NO_CODEC);
}

/* WHEP view: a Chromium player's recvonly offer (its sample with the
 * directions turned around) answered sendonly with our SSRCs. */
static void
test_view_answer (void)
{
  gsize len;
  g_autofree gchar *text = load (CHROMIUM, &len);
  g_autoptr (GString) s = g_string_new (text);
  g_autoptr (MediaSdpDescription) d = NULL;
  g_autoptr (MediaSdpDescription) a = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree gchar *out = NULL;
  MediaSdpViewSend sends[3] = {
    { 1001, "cau", "room-view", "audio-0" },
    { 1002, "cau", "room-view", "video-1" },
    { 1003, "cau", "room-view", "x" },
  };

  /* A publisher's (sendonly) offer is nothing to view with. */
  d = media_sdp_parse (s->str, s->len, MAX_SDP, &error);
  g_assert_no_error (error);
  g_assert_null (media_sdp_create_view_answer (d, &local, sends, NULL, &error));
  g_assert_error (error, MEDIA_SDP_ERROR, MEDIA_SDP_ERROR_NO_CODEC);
  g_clear_error (&error);
  g_clear_pointer (&d, media_sdp_description_free);

  g_string_replace (s, "a=sendonly", "a=recvonly", 0);
  d = media_sdp_parse (s->str, s->len, MAX_SDP, &error);
  g_assert_no_error (error);
  out = media_sdp_create_view_answer (d, &local, sends, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (section (d, 0)->chosen->encoding, ==, "opus");
  g_assert_cmpuint (section (d, 0)->chosen->payload_type, ==, 111);
  g_assert_cmpstr (section (d, 1)->chosen->encoding, ==, "VP8");
  g_assert_cmpuint (section (d, 1)->chosen->payload_type, ==, 96);
  g_assert_null (section (d, 2)->chosen);
  a = media_sdp_parse (out, strlen (out), MAX_SDP, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (a->sections->len, ==, 3);
  for (guint i = 0; i < 2; i++) {
    MediaSdpSection *as = section (a, i);

    g_assert_cmpstr (as->mid, ==, section (d, i)->mid);
    g_assert_false (as->rejected);
    g_assert_cmpint (as->direction, ==, MEDIA_SDP_SENDONLY);
    g_assert_cmpuint (as->codecs->len, ==, 1);
    g_assert_cmpuint (as->ssrcs->len, ==, 1);
    g_assert_cmpuint (g_array_index (as->ssrcs, guint32, 0), ==, sends[i].ssrc);
    g_assert_cmpstr (as->msid_stream, ==, "room-view");
    g_assert_cmpstr (as->msid_track, ==, sends[i].msid_track);
    g_assert_cmpuint (as->extmaps->len, ==, 0);
  }
  g_assert_true (has_fb (g_ptr_array_index (section (a, 1)->codecs, 0), "nack pli"));
  g_assert_true (section (a, 2)->rejected);
  g_assert_cmpint (a->setup, ==, MEDIA_SDP_SETUP_PASSIVE);
  g_assert_cmpstr (a->ice_ufrag, ==, local.ice_ufrag);
  g_assert_null (strstr (out, "rtx/"));
  g_assert_null (strstr (out, "transport-cc"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&a, media_sdp_description_free);

  /* a room of H.264 publishers: H.264 answered (Chromium offers it) */
  out = media_sdp_create_view_answer (d, &local, sends, "H264", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (section (d, 1)->chosen->encoding, ==, "H264");
  g_assert_nonnull (strstr (section (d, 1)->chosen->fmtp, "packetization-mode=1"));
  g_clear_pointer (&out, g_free);

  /* ssrc 0 rejects a section */
  sends[1].ssrc = 0;
  out = media_sdp_create_view_answer (d, &local, sends, NULL, &error);
  g_assert_no_error (error);
  a = media_sdp_parse (out, strlen (out), MAX_SDP, &error);
  g_assert_no_error (error);
  g_assert_false (section (a, 0)->rejected);
  g_assert_true (section (a, 1)->rejected);
  g_assert_null (section (d, 1)->chosen);
}

/* ------------------------------------------------------------- simulcast */

/* Parses @text with its "a=simulcast:send l;m;h" line replaced by @line
 * (NULL: removed) and returns the video section's rids joined by ','. */
static gchar *
rids_with (const gchar *simulcast_line, const gchar *extra_rid)
{
  gsize len;
  g_autofree gchar *text = load (SIMULCAST, &len);
  g_autoptr (GString) s = g_string_new (text);
  g_autoptr (MediaSdpDescription) d = NULL;
  g_autoptr (GError) error = NULL;
  GString *out = g_string_new ("");
  MediaSdpSection *v;

  g_string_replace (s, "a=simulcast:send l;m;h\r\n", simulcast_line ? simulcast_line : "", 1);
  if (extra_rid)
    g_string_replace (s, "a=rid:l send\r\n", extra_rid, 1);
  d = media_sdp_parse (s->str, s->len, MAX_SDP, &error);
  g_assert_no_error (error);
  v = section (d, 1);
  for (guint i = 0; i < v->rids->len; i++)
    g_string_append_printf (out, "%s%s", i ? "," : "", (gchar *) g_ptr_array_index (v->rids, i));
  return g_string_free (out, FALSE);
}

static void
test_simulcast_chromium (void)
{
  g_autoptr (MediaSdpDescription) d = parse_sample (SIMULCAST);
  g_autoptr (MediaSdpDescription) a = NULL;
  g_autofree gchar *text = NULL;
  MediaSdpSection *v = section (d, 1);

  g_assert_cmpuint (v->rids->len, ==, 3);
  g_assert_cmpstr (g_ptr_array_index (v->rids, 0), ==, "l");
  g_assert_cmpstr (g_ptr_array_index (v->rids, 1), ==, "m");
  g_assert_cmpstr (g_ptr_array_index (v->rids, 2), ==, "h");
  g_assert_cmpuint (v->sim_ssrcs->len, ==, 0);
  g_assert_cmpuint (v->ssrcs->len, ==, 0);          /* rid simulcast: no a=ssrc */
  g_assert_cmpuint (section (d, 0)->rids->len, ==, 0);

  text = answer (d);
  a = check_answer_shape (d, text);
  g_assert_nonnull (strstr (text, "a=rid:l recv\r\na=rid:m recv\r\na=rid:h recv\r\n"
                                  "a=simulcast:recv l;m;h\r\n"));
  g_assert_nonnull (strstr (text, "a=extmap:10 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id\r\n"));
  g_assert_nonnull (strstr (text, "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"));
  g_assert_null (strstr (text, "repaired-rtp-stream-id"));
  /* only the video section is simulcast */
  g_assert_cmpuint (section (a, 0)->rids->len, ==, 0);
  g_assert_true (strstr (text, "a=rid") > strstr (text, "m=video"));
  g_assert_true (strstr (text, "m=video") > strstr (text, "m=audio"));
}

/* Without a=simulcast the answer is what it was before simulcast existed:
 * the simulcast answer minus exactly its rid, simulcast and rtp-stream-id
 * lines. */
static void
test_simulcast_plain_unchanged (void)
{
  gsize len;
  g_autofree gchar *text = load (SIMULCAST, &len);
  g_autoptr (GString) plain = g_string_new (text);
  g_autoptr (MediaSdpDescription) sim = parse_sample (SIMULCAST);
  g_autoptr (MediaSdpDescription) d = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree gchar *sim_answer = answer (sim);
  g_autofree gchar *plain_answer = NULL;
  g_autoptr (GString) stripped = g_string_new (sim_answer);

  g_string_replace (plain, "a=simulcast:send l;m;h\r\n", "", 0);
  d = media_sdp_parse (plain->str, plain->len, MAX_SDP, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (section (d, 1)->rids->len, ==, 0);
  plain_answer = answer (d);
  g_assert_null (strstr (plain_answer, "a=rid"));
  g_assert_null (strstr (plain_answer, "simulcast"));
  g_assert_null (strstr (plain_answer, "rtp-stream-id"));
  g_string_replace (stripped, "a=rid:l recv\r\na=rid:m recv\r\na=rid:h recv\r\n"
                              "a=simulcast:recv l;m;h\r\n", "", 0);
  g_string_replace (stripped, "a=extmap:10 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id\r\n",
                    "", 0);
  g_assert_cmpstr (stripped->str, ==, plain_answer);
}

static void
test_simulcast_variants (void)
{
  struct { const gchar *line, *extra, *want; } cases[] = {
    { "a=simulcast:send l;m;h\r\n", NULL, "l,m,h" },
    { "a=simulcast:send h;m;l\r\n", NULL, "h,m,l" },          /* order is the offer's */
    { "a=simulcast:send l;~m;h\r\n", NULL, "l,h" },           /* paused: ignored */
    { "a=simulcast:send ~l;~m;h\r\n", NULL, "" },             /* one layer: no simulcast */
    { "a=simulcast:send l,m;h\r\n", NULL, "l,h" },            /* first alternative */
    { "a=simulcast:send l;m;x\r\n", NULL, "l,m" },            /* x not declared */
    { "a=simulcast:send l;l;m\r\n", NULL, "l,m" },            /* duplicate */
    { "a=simulcast:recv l;m;h\r\n", NULL, "" },               /* not sending */
    { "a=simulcast:recv a;b send l;m;h\r\n", NULL, "l,m,h" },
    { "a=simulcast:send l;m;h;q\r\n", "a=rid:l send\r\na=rid:q send\r\n", "l,m,h" }, /* ≤ 3 */
    { "a=simulcast:send l;m;h\r\n", "a=rid:l recv\r\n", "m,h" }, /* l not a send rid */
    { "a=simulcast:send l;m;h;abcdefghijklmnopq\r\n",
      "a=rid:l send\r\na=rid:abcdefghijklmnopq send\r\n", "l,m,h" },
    { "a=simulcast:send l;m;h;a*b\r\n", "a=rid:l send\r\na=rid:a*b send\r\n", "l,m,h" },
    { "a=simulcast:send\r\n", NULL, "" },
    { "a=simulcast:\r\n", NULL, "" },
    { "a=simulcast:send ;;;\r\n", NULL, "" },
    { NULL, NULL, "" },                                       /* rids alone: no simulcast */
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autofree gchar *got = rids_with (cases[i].line, cases[i].extra);
    g_assert_cmpstr (got, ==, cases[i].want);
  }
}

static void
test_simulcast_ssrc_group (void)
{
  gsize len;
  g_autofree gchar *text = load (WB_VP8, &len);
  g_autoptr (GString) s = g_string_new (text);
  g_autoptr (MediaSdpDescription) d = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree gchar *ans = NULL;
  MediaSdpSection *v = NULL;

  g_assert_cmpuint (g_string_replace (s, "a=rtpmap:96 VP8/90000\r\n",
                                      "a=ssrc-group:SIM 11 22 33\r\na=ssrc:11 cname:x\r\n"
                                      "a=ssrc:22 cname:x\r\na=ssrc:33 cname:x\r\n"
                                      "a=rtpmap:96 VP8/90000\r\n", 1), ==, 1);
  d = media_sdp_parse (s->str, s->len, MAX_SDP, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < d->sections->len; i++)
    if (g_strcmp0 (section (d, i)->kind, "video") == 0)
      v = section (d, i);
  g_assert_nonnull (v);
  g_assert_cmpuint (v->sim_ssrcs->len, ==, 3);
  g_assert_cmpuint (g_array_index (v->sim_ssrcs, guint32, 0), ==, 11);
  g_assert_cmpuint (g_array_index (v->sim_ssrcs, guint32, 2), ==, 33);
  g_assert_cmpuint (v->rids->len, ==, 0);
  ans = answer (d);
  g_assert_null (strstr (ans, "simulcast"));
}

static void
test_candidates (void)
{
  const gchar *good = "candidate:1 1 udp 2130706431 127.0.0.1 20000 typ host";
  g_autofree gchar *a = media_sdp_normalize_candidate ("  a=candidate:1 1 udp 2130706431 127.0.0.1 20000 typ host \r\n");
  g_autofree gchar *b = media_sdp_normalize_candidate (good);
  g_autofree gchar *long_one = g_strdup_printf ("%s generation 0 %0500d", good, 0);

  g_assert_cmpstr (a, ==, good);
  g_assert_cmpstr (b, ==, good);
  g_assert_null (media_sdp_normalize_candidate (NULL));
  g_assert_null (media_sdp_normalize_candidate (""));
  g_assert_null (media_sdp_normalize_candidate ("   "));
  g_assert_null (media_sdp_normalize_candidate ("a="));
  g_assert_null (media_sdp_normalize_candidate ("candidate:"));
  g_assert_null (media_sdp_normalize_candidate ("candidate:1 1 udp"));
  g_assert_null (media_sdp_normalize_candidate ("foo:1 1 udp 2130706431 127.0.0.1 20000 typ host"));
  g_assert_null (media_sdp_normalize_candidate ("candidate:1 1 udp 2130706431 127.0.0.1 20000 typ host\r\na=setup:active"));
  g_assert_null (media_sdp_normalize_candidate (long_one));
}

static void
test_bad_local (void)
{
  g_autoptr (MediaSdpDescription) d = parse_sample (WB_VP8);
  g_autoptr (GError) error = NULL;
  const gchar *evil[] = { "candidate:1 1 udp 1 127.0.0.1 9 typ host\r\na=x", NULL };
  MediaSdpLocal l = local;

  l.fingerprint = "AB:CD";
  g_assert_null (media_sdp_create_publish_answer (d, &l, &error));
  g_assert_error (error, MEDIA_SDP_ERROR, MEDIA_SDP_ERROR_INVALID);
  g_clear_error (&error);
  l = local;
  l.candidates = evil;
  g_assert_null (media_sdp_create_publish_answer (d, &l, &error));
  g_assert_error (error, MEDIA_SDP_ERROR, MEDIA_SDP_ERROR_INVALID);
  g_clear_error (&error);
  /* no candidates: 0.0.0.0 and port 9 */
  l = local;
  l.candidates = NULL;
  l.end_of_candidates = FALSE;
  {
    g_autofree gchar *text = media_sdp_create_publish_answer (d, &l, &error);
    g_assert_no_error (error);
    g_assert_nonnull (strstr (text, "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\n"));
    g_assert_null (strstr (text, "end-of-candidates"));
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/media/sdp/chromium", test_chromium);
  g_test_add_func ("/media/sdp/simulcast/chromium", test_simulcast_chromium);
  g_test_add_func ("/media/sdp/simulcast/plain-unchanged", test_simulcast_plain_unchanged);
  g_test_add_func ("/media/sdp/simulcast/variants", test_simulcast_variants);
  g_test_add_func ("/media/sdp/simulcast/ssrc-group", test_simulcast_ssrc_group);
  g_test_add_func ("/media/sdp/chromium-h264", test_chromium_h264);
  g_test_add_func ("/media/sdp/aiortc", test_aiortc);
  g_test_add_func ("/media/sdp/aiortc-tag-moves", test_aiortc_tag_moves);
  g_test_add_func ("/media/sdp/webrtcbin-vp8", test_webrtcbin_vp8);
  g_test_add_func ("/media/sdp/webrtcbin-h264", test_webrtcbin_h264);
  g_test_add_func ("/media/sdp/webrtcbin-vp8-h264", test_webrtcbin_vp8_and_h264);
  g_test_add_func ("/media/sdp/webrtcbin-datachannel", test_webrtcbin_datachannel);
  g_test_add_func ("/media/sdp/setup", test_setup);
  g_test_add_func ("/media/sdp/no-codec", test_no_codec);
  g_test_add_func ("/media/sdp/subscribe/offer", test_subscribe_offer);
  g_test_add_func ("/media/sdp/subscribe/offer-errors", test_subscribe_offer_errors);
  g_test_add_func ("/media/sdp/subscribe/chromium", test_subscribe_chromium);
  g_test_add_data_func ("/media/sdp/subscribe/webrtcbin-live", webrtcbin_answer_py, test_subscribe_live);
  g_test_add_data_func ("/media/sdp/subscribe/aiortc-live", aiortc_answer_py, test_subscribe_live);
  g_test_add_data_func ("/media/sdp/publish/webrtcbin-live", webrtcbin_publish_py, test_publish_live);
  g_test_add_data_func ("/media/sdp/publish/aiortc-live", aiortc_publish_py, test_publish_live);
  g_test_add_func ("/media/sdp/hostile/fields", test_hostile_fields);
  g_test_add_func ("/media/sdp/hostile/sizes", test_hostile_sizes);
  g_test_add_func ("/media/sdp/hostile/truncated", test_truncated);
  g_test_add_func ("/media/sdp/candidates", test_candidates);
  g_test_add_func ("/media/sdp/view-answer", test_view_answer);
  g_test_add_func ("/media/sdp/bad-local", test_bad_local);
  return g_test_run ();
}
