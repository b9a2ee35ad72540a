/* test-srtp.c — media/srtp.c against libsrtp2 and an independent reference.
 *
 * The reference is RFC 3711 written out with OpenSSL's AES-CTR and
 * HMAC-SHA1: key derivation (§4.3.1, checked against Appendix B.3), then
 * AES-CM encryption (§4.1.1) and the HMAC-SHA1 tag (§4.2) of one packet,
 * compared byte for byte with what libsrtp produced through MediaSrtp.
 */
#include <string.h>

#include <glib.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <srtp2/srtp.h>

#include "dtls.h"
#include "srtp.h"
#include "srtp-openssl.h"

/* ---- helpers ---------------------------------------------------------- */

/* hex_decode() and assert_hex() */
#include "test-hex.h"

/* AES-128 in counter mode over zeros (= keystream), or over @in. */
static void
aes_ctr (const guint8 *key, const guint8 iv[16], const guint8 *in, guint8 *out, gsize len)
{
  EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new ();
  guint8 *zeros = g_malloc0 (len);
  int n = 0;

  g_assert_nonnull (ctx);
  g_assert_cmpint (EVP_EncryptInit_ex (ctx, EVP_aes_128_ctr (), NULL, key, iv), ==, 1);
  g_assert_cmpint (EVP_EncryptUpdate (ctx, out, &n, in != NULL ? in : zeros, (int) len), ==, 1);
  g_assert_cmpint (n, ==, (int) len);
  EVP_CIPHER_CTX_free (ctx);
  g_free (zeros);
}

/* RFC 3711 §4.3.1 with key_derivation_rate 0 (so r = 0):
 * x = (label << 48) XOR master_salt, IV = x * 2^16, out = AES-CM keystream. */
static void
reference_derive (const guint8 master_key[16], const guint8 master_salt[14],
                  guint8 label, guint8 *out, gsize len)
{
  guint8 iv[16] = { 0 };

  memcpy (iv, master_salt, 14);
  iv[7] ^= label;      /* key_id = label || r(48 bits) is right-aligned in 14 bytes */
  aes_ctr (master_key, iv, NULL, out, len);
}

/* RFC 3711 Appendix B.3 */
#define B3_MASTER_KEY  "E1F97A0D3E018BE0D64FA32C06DE4139"
#define B3_MASTER_SALT "0EC675AD498AFEEBB6960B3AABE6"
#define B3_CIPHER_KEY  "C61E7A93744F39EE10734AFE3FF7A087"
#define B3_CIPHER_SALT "30CBBC08863D8C85D49DB34A9AE1"
#define B3_AUTH_KEY    "CEBE321F6FF7716B6FD4AB49AF256A15"   /* first 128 of its bits */

static void
test_kdf_rfc3711_b3 (void)
{
  guint8 mk[16], ms[14], out[20];

  hex_decode (B3_MASTER_KEY, mk, sizeof mk);
  hex_decode (B3_MASTER_SALT, ms, sizeof ms);

  reference_derive (mk, ms, 0x00, out, 16);
  assert_hex (out, 16, B3_CIPHER_KEY);
  reference_derive (mk, ms, 0x02, out, 14);
  assert_hex (out, 14, B3_CIPHER_SALT);
  reference_derive (mk, ms, 0x01, out, 20);
  assert_hex (out, 16, B3_AUTH_KEY);
}

/* A 12-byte RTP header (RFC 3550 §5.1) + payload. */
static gsize
make_rtp (guint8 *buf, guint16 seq, guint32 ssrc, gsize payload_len)
{
  buf[0] = 0x80;                      /* V=2 P=0 X=0 CC=0 */
  buf[1] = 0x60;                      /* M=0 PT=96 */
  buf[2] = seq >> 8;
  buf[3] = seq & 0xff;
  buf[4] = 0x00; buf[5] = 0x01; buf[6] = 0xe2; buf[7] = 0x40;   /* timestamp 123456 */
  buf[8] = ssrc >> 24; buf[9] = ssrc >> 16; buf[10] = ssrc >> 8; buf[11] = ssrc;
  for (gsize i = 0; i < payload_len; i++)
    buf[12 + i] = (guint8) (i * 7 + seq);
  return 12 + payload_len;
}

/* An RTCP receiver report with one report block (RFC 3550 §6.4.2). */
static gsize
make_rtcp_rr (guint8 *buf, guint32 ssrc)
{
  static const guint8 rr[32] = {
    0x81, 0xc9, 0x00, 0x07,             /* V=2 RC=1 PT=201 length=7 */
    0, 0, 0, 0,                         /* sender SSRC, filled below */
    0x11, 0x22, 0x33, 0x44,             /* source SSRC */
    0x05, 0x00, 0x00, 0x02,             /* fraction lost, cumulative lost */
    0x00, 0x00, 0x10, 0x00,             /* extended highest seq */
    0x00, 0x00, 0x00, 0x20,             /* jitter */
    0x00, 0x00, 0x00, 0x00,             /* LSR */
    0x00, 0x00, 0x00, 0x00,             /* DLSR */
  };
  memcpy (buf, rr, sizeof rr);
  buf[4] = ssrc >> 24; buf[5] = ssrc >> 16; buf[6] = ssrc >> 8; buf[7] = ssrc;
  return sizeof rr;
}

static void
make_key (guint8 *key, gsize len, guint8 seed)
{
  for (gsize i = 0; i < len; i++)
    key[i] = (guint8) (seed + i * 13);
}

static const MediaSrtpProfile all_profiles[] = {
  MEDIA_SRTP_AES128_CM_SHA1_80, MEDIA_SRTP_AES128_CM_SHA1_32,
  MEDIA_SRTP_AEAD_AES_128_GCM, MEDIA_SRTP_AEAD_AES_256_GCM,
};

/* Two sessions facing each other: a's local key is b's remote key. */
static void
make_pair (MediaSrtpProfile profile, MediaSrtp **a, MediaSrtp **b)
{
  guint8 ka[MEDIA_SRTP_MAX_KEY_SALT_LEN], kb[MEDIA_SRTP_MAX_KEY_SALT_LEN];
  size_t k, s;
  GError *error = NULL;

  g_assert_true (media_srtp_profile_get_key_lengths (profile, &k, &s));
  make_key (ka, k + s, 0x10);
  make_key (kb, k + s, 0x80);
  *a = media_srtp_new (profile, ka, k + s, kb, k + s, &error);
  g_assert_no_error (error);
  *b = media_srtp_new (profile, kb, k + s, ka, k + s, &error);
  g_assert_no_error (error);
}

/* ---- known answer ----------------------------------------------------- */

/* libsrtp's output for the B.3 master key equals RFC 3711 computed by hand. */
static void
check_known_answer (MediaSrtpProfile profile, gsize tag_len)
{
  guint8 master[30], mk[16], ms[14];
  guint8 cipher_key[16], cipher_salt[14], auth_key[20];
  guint8 peer_key[30] = { 0 };
  guint8 pkt[12 + 160 + MEDIA_SRTP_MAX_TRAILER], plain[12 + 160];
  guint8 want[12 + 160 + 20], mac_in[12 + 160 + 4], mac[EVP_MAX_MD_SIZE];
  guint8 iv[16] = { 0 };
  const guint32 ssrc = 0xcafebabe;
  const guint16 seq = 0x1234;
  unsigned int mac_len = 0;
  size_t len;
  MediaSrtp *srtp;
  GError *error = NULL;

  hex_decode (B3_MASTER_KEY B3_MASTER_SALT, master, sizeof master);
  memcpy (mk, master, 16);
  memcpy (ms, master + 16, 14);
  reference_derive (mk, ms, 0x00, cipher_key, 16);
  reference_derive (mk, ms, 0x02, cipher_salt, 14);
  reference_derive (mk, ms, 0x01, auth_key, 20);

  len = make_rtp (plain, seq, ssrc, 160);
  memcpy (pkt, plain, len);

  srtp = media_srtp_new (profile, master, 30, peer_key, 30, &error);
  g_assert_no_error (error);
  g_assert_cmpint (media_srtp_protect_rtp (srtp, pkt, &len, sizeof pkt), ==, srtp_err_status_ok);
  g_assert_cmpuint (len, ==, 12 + 160 + tag_len);

  /* §4.1.1: IV = (k_s * 2^16) XOR (SSRC * 2^64) XOR (i * 2^16), i = ROC || SEQ */
  memcpy (iv, cipher_salt, 14);
  iv[4] ^= ssrc >> 24; iv[5] ^= ssrc >> 16; iv[6] ^= ssrc >> 8; iv[7] ^= ssrc;
  iv[12] ^= seq >> 8; iv[13] ^= seq & 0xff;          /* ROC = 0 */
  memcpy (want, plain, 12);
  aes_ctr (cipher_key, iv, plain + 12, want + 12, 160);

  /* §4.2: tag = HMAC-SHA1(auth key, header || ciphertext || ROC), truncated */
  memcpy (mac_in, want, 12 + 160);
  memset (mac_in + 12 + 160, 0, 4);
  HMAC (EVP_sha1 (), auth_key, 20, mac_in, sizeof mac_in, mac, &mac_len);
  g_assert_cmpuint (mac_len, ==, 20);
  memcpy (want + 12 + 160, mac, tag_len);

  g_assert_cmpmem (pkt, len, want, 12 + 160 + tag_len);
  media_srtp_free (srtp);
}

static void
test_known_answer_80 (void)
{
  check_known_answer (MEDIA_SRTP_AES128_CM_SHA1_80, 10);
}

static void
test_known_answer_32 (void)
{
  check_known_answer (MEDIA_SRTP_AES128_CM_SHA1_32, 4);
}

/* ---- per-profile behaviour ------------------------------------------- */

static void
test_roundtrip (gconstpointer data)
{
  MediaSrtpProfile profile = GPOINTER_TO_INT (data);
  guint8 buf[1500], plain[1500];
  size_t len, plain_len;
  MediaSrtp *a, *b;

  if (!media_srtp_profile_is_supported (profile))
    {
      g_test_skip ("libsrtp here does not support this profile");
      return;
    }
  make_pair (profile, &a, &b);

  for (guint16 seq = 65530; seq != 10; seq++)    /* crosses the ROC wrap */
    {
      plain_len = make_rtp (plain, seq, 0x1111, 200 + seq % 50);
      memcpy (buf, plain, plain_len);
      len = plain_len;
      g_assert_cmpint (media_srtp_protect_rtp (a, buf, &len, sizeof buf), ==, 0);
      g_assert_cmpuint (len, >, plain_len);
      g_assert_cmpint (memcmp (buf + 12, plain + 12, 16), !=, 0);   /* encrypted */
      g_assert_cmpint (media_srtp_unprotect_rtp (b, buf, &len), ==, 0);
      g_assert_cmpmem (buf, len, plain, plain_len);
    }

  /* RTCP both ways */
  for (int i = 0; i < 5; i++)
    {
      plain_len = make_rtcp_rr (plain, 0x2222);
      memcpy (buf, plain, plain_len);
      len = plain_len;
      g_assert_cmpint (media_srtp_protect_rtcp (b, buf, &len, sizeof buf), ==, 0);
      g_assert_cmpuint (len, >, plain_len);
      g_assert_cmpint (media_srtp_unprotect_rtcp (a, buf, &len), ==, 0);
      g_assert_cmpmem (buf, len, plain, plain_len);
    }

  /* a session does not accept its own output (keys are directional) */
  len = make_rtp (buf, 100, 0x3333, 100);
  g_assert_cmpint (media_srtp_protect_rtp (a, buf, &len, sizeof buf), ==, 0);
  g_assert_cmpint (media_srtp_unprotect_rtp (a, buf, &len), ==, srtp_err_status_auth_fail);

  media_srtp_free (a);
  media_srtp_free (b);
}

static void
test_tamper (gconstpointer data)
{
  MediaSrtpProfile profile = GPOINTER_TO_INT (data);
  guint8 buf[600], copy[600];
  size_t len, protected_len;
  MediaSrtp *a, *b;

  if (!media_srtp_profile_is_supported (profile))
    {
      g_test_skip ("libsrtp here does not support this profile");
      return;
    }
  make_pair (profile, &a, &b);

  len = make_rtp (buf, 1, 0x1111, 300);
  g_assert_cmpint (media_srtp_protect_rtp (a, buf, &len, sizeof buf), ==, 0);
  protected_len = len;
  memcpy (copy, buf, len);

  /* one flipped bit anywhere (header, payload, tag) fails authentication */
  for (gsize pos = 0; pos < protected_len; pos += 37)
    {
      memcpy (buf, copy, protected_len);
      buf[pos] ^= 0x01;
      len = protected_len;
      int status = media_srtp_unprotect_rtp (b, buf, &len);
      g_assert_cmpint (status, !=, 0);
    }
  memcpy (buf, copy, protected_len);
  buf[40] ^= 0x80;
  len = protected_len;
  g_assert_cmpint (media_srtp_unprotect_rtp (b, buf, &len), ==, srtp_err_status_auth_fail);

  /* the untouched packet still passes, once */
  memcpy (buf, copy, protected_len);
  len = protected_len;
  g_assert_cmpint (media_srtp_unprotect_rtp (b, buf, &len), ==, 0);

  /* RTCP tamper */
  len = make_rtcp_rr (buf, 0x1111);
  g_assert_cmpint (media_srtp_protect_rtcp (a, buf, &len, sizeof buf), ==, 0);
  buf[10] ^= 0x04;
  g_assert_cmpint (media_srtp_unprotect_rtcp (b, buf, &len), ==, srtp_err_status_auth_fail);

  media_srtp_free (a);
  media_srtp_free (b);
}

static void
test_replay (gconstpointer data)
{
  MediaSrtpProfile profile = GPOINTER_TO_INT (data);
  guint8 buf[400], copy[400], old[400], too_old[400];
  size_t len, copy_len, old_len, too_old_len;
  MediaSrtp *a, *b;

  if (!media_srtp_profile_is_supported (profile))
    {
      g_test_skip ("libsrtp here does not support this profile");
      return;
    }
  make_pair (profile, &a, &b);

  /* the sender's own window also rejects protecting far behind (1100) */
  len = make_rtp (buf, 5000, 0x7777, 20);
  g_assert_cmpint (media_srtp_protect_rtp (a, buf, &len, sizeof buf), ==, 0);
  len = make_rtp (buf, 3900, 0x7777, 20);
  g_assert_cmpint (media_srtp_protect_rtp (a, buf, &len, sizeof buf), ==, srtp_err_status_replay_old);

  /* outbound allow_repeat_tx: the same seq is protected twice (NACK resend) */
  len = make_rtp (buf, 500, 0x1111, 100);
  g_assert_cmpint (media_srtp_protect_rtp (a, buf, &len, sizeof buf), ==, 0);
  memcpy (copy, buf, len);
  copy_len = len;
  len = make_rtp (buf, 500, 0x1111, 100);
  g_assert_cmpint (media_srtp_protect_rtp (a, buf, &len, sizeof buf), ==, 0);
  g_assert_cmpmem (buf, len, copy, copy_len);          /* deterministic */

  /* inbound replay protection */
  len = copy_len;
  memcpy (buf, copy, len);
  g_assert_cmpint (media_srtp_unprotect_rtp (b, buf, &len), ==, 0);
  len = copy_len;
  memcpy (buf, copy, len);
  g_assert_cmpint (media_srtp_unprotect_rtp (b, buf, &len), ==, srtp_err_status_replay_fail);

  /* a late packet inside the 1024-packet window is accepted, one past the
   * window is too old */
  too_old_len = make_rtp (too_old, 400, 0x1111, 100);
  g_assert_cmpint (media_srtp_protect_rtp (a, too_old, &too_old_len, sizeof too_old), ==, 0);
  old_len = make_rtp (old, 501 + 10, 0x1111, 100);
  g_assert_cmpint (media_srtp_protect_rtp (a, old, &old_len, sizeof old), ==, 0);
  for (guint16 seq = 501; seq < 501 + 1000; seq++)
    {
      if (seq == 511)
        continue;
      len = make_rtp (buf, seq, 0x1111, 20);
      g_assert_cmpint (media_srtp_protect_rtp (a, buf, &len, sizeof buf), ==, 0);
      g_assert_cmpint (media_srtp_unprotect_rtp (b, buf, &len), ==, 0);
    }
  memcpy (buf, old, old_len);
  len = old_len;
  g_assert_cmpint (media_srtp_unprotect_rtp (b, buf, &len), ==, 0);   /* 990 behind */

  memcpy (buf, too_old, too_old_len);                                 /* 1100 behind */
  len = too_old_len;
  g_assert_cmpint (media_srtp_unprotect_rtp (b, buf, &len), ==, srtp_err_status_replay_old);

  /* RTCP replay */
  len = make_rtcp_rr (buf, 0x1111);
  g_assert_cmpint (media_srtp_protect_rtcp (a, buf, &len, sizeof buf), ==, 0);
  memcpy (copy, buf, len);
  copy_len = len;
  g_assert_cmpint (media_srtp_unprotect_rtcp (b, buf, &len), ==, 0);
  memcpy (buf, copy, copy_len);
  len = copy_len;
  g_assert_cmpint (media_srtp_unprotect_rtcp (b, buf, &len), ==, srtp_err_status_replay_fail);

  media_srtp_free (a);
  media_srtp_free (b);
}

/* ---- bad input -------------------------------------------------------- */

static void
test_bad_keys (void)
{
  guint8 key[64] = { 0 };
  GError *error = NULL;

  g_assert_null (media_srtp_new (MEDIA_SRTP_AES128_CM_SHA1_80, key, 16, key, 30, &error));
  g_assert_error (error, MEDIA_DTLS_ERROR, MEDIA_DTLS_ERROR_SRTP);
  g_clear_error (&error);
  g_assert_null (media_srtp_new (MEDIA_SRTP_AEAD_AES_128_GCM, key, 30, key, 30, &error));
  g_assert_error (error, MEDIA_DTLS_ERROR, MEDIA_DTLS_ERROR_SRTP);
  g_clear_error (&error);
  g_assert_null (media_srtp_new (5, key, 30, key, 30, &error));
  g_assert_error (error, MEDIA_DTLS_ERROR, MEDIA_DTLS_ERROR_SRTP);
  g_clear_error (&error);
}

static void
test_small_buffer (void)
{
  guint8 buf[12 + 100 + MEDIA_SRTP_MAX_TRAILER];
  size_t len;
  MediaSrtp *a, *b;

  make_pair (MEDIA_SRTP_AES128_CM_SHA1_80, &a, &b);
  len = make_rtp (buf, 1, 1, 100);
  g_assert_cmpint (media_srtp_protect_rtp (a, buf, &len, sizeof buf - 1), ==,
                   srtp_err_status_bad_param);
  g_assert_cmpuint (len, ==, 112);
  g_assert_cmpint (media_srtp_protect_rtp (a, buf, &len, sizeof buf), ==, 0);
  len = 11;
  g_assert_cmpint (media_srtp_protect_rtp (a, buf, &len, sizeof buf), ==,
                   srtp_err_status_bad_param);
  len = 7;
  g_assert_cmpint (media_srtp_protect_rtcp (a, buf, &len, sizeof buf), ==,
                   srtp_err_status_bad_param);
  media_srtp_free (a);
  media_srtp_free (b);
}

/* Every truncated prefix of real SRTP/SRTCP, random bytes, and headers whose
 * CSRC count or extension length points past the end: never ok, never a
 * crash (run under ASan for the full value). */
static void
test_garbage (gconstpointer data)
{
  MediaSrtpProfile profile = GPOINTER_TO_INT (data);
  guint8 good[300], buf[300];
  size_t good_len, len;
  MediaSrtp *a, *b;
  GRand *rand;

  if (!media_srtp_profile_is_supported (profile))
    {
      g_test_skip ("libsrtp here does not support this profile");
      return;
    }
  make_pair (profile, &a, &b);

  good_len = make_rtp (good, 7, 0x4444, 120);
  g_assert_cmpint (media_srtp_protect_rtp (a, good, &good_len, sizeof good), ==, 0);
  for (size_t cut = 0; cut < good_len; cut++)
    {
      /* exact-size heap copy so ASan sees any over-read */
      guint8 *p = g_memdup2 (good, MAX (cut, 1));
      len = cut;
      g_assert_cmpint (media_srtp_unprotect_rtp (b, p, &len), !=, 0);
      g_free (p);
    }

  good_len = make_rtcp_rr (good, 0x4444);
  g_assert_cmpint (media_srtp_protect_rtcp (a, good, &good_len, sizeof good), ==, 0);
  for (size_t cut = 0; cut < good_len; cut++)
    {
      guint8 *p = g_memdup2 (good, MAX (cut, 1));
      len = cut;
      g_assert_cmpint (media_srtp_unprotect_rtcp (b, p, &len), !=, 0);
      g_free (p);
    }

  /* CC = 15 on a 20-byte packet; X bit with extension length 0xffff */
  len = make_rtp (buf, 8, 0x4444, 8);
  buf[0] = 0x8f;
  g_assert_cmpint (media_srtp_unprotect_rtp (b, buf, &len), !=, 0);
  len = make_rtp (buf, 9, 0x4444, 8);
  buf[0] = 0x90;
  buf[12] = 0xbe; buf[13] = 0xde; buf[14] = 0xff; buf[15] = 0xff;
  g_assert_cmpint (media_srtp_unprotect_rtp (b, buf, &len), !=, 0);

  rand = g_rand_new_with_seed (3711);
  for (int i = 0; i < 5000; i++)
    {
      gsize n = g_rand_int_range (rand, 0, 200);
      guint8 *p = g_malloc (MAX (n, 1));
      for (gsize j = 0; j < n; j++)
        p[j] = (guint8) g_rand_int (rand);
      if (i % 2 == 0 && n > 0)
        p[0] = 0x80 | (p[0] & 0x3f);     /* version 2, so libsrtp looks deeper */
      len = n;
      if (i % 4 < 2)
        g_assert_cmpint (media_srtp_unprotect_rtp (b, p, &len), !=, 0);
      else
        g_assert_cmpint (media_srtp_unprotect_rtcp (b, p, &len), !=, 0);
      g_free (p);
    }
  g_rand_free (rand);

  /* after all that, the session still works */
  len = make_rtp (buf, 10, 0x4444, 50);
  g_assert_cmpint (media_srtp_protect_rtp (a, buf, &len, sizeof buf), ==, 0);
  g_assert_cmpint (media_srtp_unprotect_rtp (b, buf, &len), ==, 0);

  media_srtp_free (a);
  media_srtp_free (b);
}

static void
test_strings (void)
{
  g_assert_cmpstr (media_srtp_status_to_string (srtp_err_status_ok), ==, "ok");
  g_assert_cmpstr (media_srtp_status_to_string (srtp_err_status_replay_fail), ==,
                   "replayed packet");
  g_assert_cmpstr (media_srtp_status_to_string (9999), ==, "unknown libsrtp status");
  g_assert_cmpstr (media_srtp_profile_to_string (MEDIA_SRTP_AEAD_AES_128_GCM), ==,
                   "SRTP_AEAD_AES_128_GCM");
  g_assert_cmpstr (media_srtp_profile_to_string (3), ==, "unknown");
}

static void
test_profiles_supported (void)
{
  g_assert_true (media_srtp_profile_is_supported (MEDIA_SRTP_AES128_CM_SHA1_80));
  g_assert_true (media_srtp_profile_is_supported (MEDIA_SRTP_AES128_CM_SHA1_32));
  g_assert_false (media_srtp_profile_is_supported (3));
  g_assert_false (media_srtp_profile_is_supported (1000));
  for (gsize i = 0; i < G_N_ELEMENTS (all_profiles); i++)
    g_test_message ("%s: %s", media_srtp_profile_to_string (all_profiles[i]),
                    media_srtp_profile_is_supported (all_profiles[i])
                    ? "supported" : "NOT supported");
}

/* ---- no OpenSSL cipher ----------------------------------------------------- */

/* Run by the meson test media/srtp-provider-fallback, whose OPENSSL_CONF
 * loads only OpenSSL's base provider, which has no ciphers: no profile has
 * an OpenSSL transform then (a warning for each cipher says so), and every
 * session is made on libsrtp2 and passes test_roundtrip(). */
static void
test_provider_fallback (void)
{
  if (g_getenv ("CAU_TEST_NO_OPENSSL_CIPHERS") == NULL)
    {
      g_test_skip ("run by the meson test media/srtp-provider-fallback");
      return;
    }
  g_test_expect_message ("cau-media", G_LOG_LEVEL_WARNING, "*AES-128-CTR*libsrtp2*");
  g_test_expect_message ("cau-media", G_LOG_LEVEL_WARNING, "*AES-128-GCM*libsrtp2*");
  g_test_expect_message ("cau-media", G_LOG_LEVEL_WARNING, "*AES-256-GCM*libsrtp2*");
  for (gsize i = 0; i < G_N_ELEMENTS (all_profiles); i++)
    g_assert_false (media_srtp_openssl_profile_is_supported (all_profiles[i]));
  g_test_assert_expected_messages ();

  for (gsize i = 0; i < G_N_ELEMENTS (all_profiles); i++)
    {
      MediaSrtp *a, *b;

      if (!media_srtp_profile_is_supported (all_profiles[i]))
        continue;
      make_pair (all_profiles[i], &a, &b);
      g_assert_cmpstr (media_srtp_get_backend (a), ==, "libsrtp");
      g_assert_cmpstr (media_srtp_get_backend (b), ==, "libsrtp");
      media_srtp_free (a);
      media_srtp_free (b);
      /* the whole round trip, on the sessions libsrtp2 now makes */
      test_roundtrip (GINT_TO_POINTER (all_profiles[i]));
    }
}

/* ---- cost ------------------------------------------------------------- */

/* Per-packet protect cost of a 1200-byte RTP packet, for the benchmark
 * notes; printed, never asserted. */
static void
test_protect_cost (void)
{
  guint8 buf[1200 + MEDIA_SRTP_MAX_TRAILER], tmpl[1200];
  const int packets = g_test_slow () ? 200000 : 20000;

  for (gsize i = 0; i < G_N_ELEMENTS (all_profiles); i++)
    {
      MediaSrtp *a, *b;
      gint64 start, protect_us, unprotect_us = 0;
      size_t len;

      if (!media_srtp_profile_is_supported (all_profiles[i]))
        continue;
      make_pair (all_profiles[i], &a, &b);
      make_rtp (tmpl, 0, 0x5555, 1200 - 12);
      start = g_get_monotonic_time ();
      for (int n = 0; n < packets; n++)
        {
          memcpy (buf, tmpl, 1200);                 /* as a forwarder would */
          buf[2] = (guint8) (n >> 8);
          buf[3] = (guint8) n;
          len = 1200;
          g_assert_cmpint (media_srtp_protect_rtp (a, buf, &len, sizeof buf), ==, 0);
        }
      protect_us = g_get_monotonic_time () - start;
      /* unprotect: a fresh stream, timing only the call */
      tmpl[11] = 0x66;
      for (int n = 0; n < packets; n++)
        {
          memcpy (buf, tmpl, 1200);
          buf[2] = (guint8) (n >> 8);
          buf[3] = (guint8) n;
          len = 1200;
          g_assert_cmpint (media_srtp_protect_rtp (a, buf, &len, sizeof buf), ==, 0);
          start = g_get_monotonic_time ();
          g_assert_cmpint (media_srtp_unprotect_rtp (b, buf, &len), ==, 0);
          unprotect_us += g_get_monotonic_time () - start;
        }
      g_test_message ("%-24s protect %.3f us/packet (incl. a 1200-byte memcpy), "
                      "unprotect %.3f us/packet, 1200-byte RTP, %d packets",
                      media_srtp_profile_to_string (all_profiles[i]),
                      (double) protect_us / packets, (double) unprotect_us / packets,
                      packets);
      media_srtp_free (a);
      media_srtp_free (b);
    }
}

static void
add_per_profile (const char *name, GTestDataFunc func)
{
  for (gsize i = 0; i < G_N_ELEMENTS (all_profiles); i++)
    {
      g_autofree char *path = g_strdup_printf ("/media/srtp/%s/%s", name,
                                               media_srtp_profile_to_string (all_profiles[i]));
      g_test_add_data_func (path, GINT_TO_POINTER (all_profiles[i]), func);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_assert_true (media_srtp_global_init (NULL));

  g_test_add_func ("/media/srtp/kdf-rfc3711-b3", test_kdf_rfc3711_b3);
  g_test_add_func ("/media/srtp/known-answer/SRTP_AES128_CM_SHA1_80", test_known_answer_80);
  g_test_add_func ("/media/srtp/known-answer/SRTP_AES128_CM_SHA1_32", test_known_answer_32);
  g_test_add_func ("/media/srtp/profiles-supported", test_profiles_supported);
  add_per_profile ("roundtrip", test_roundtrip);
  add_per_profile ("tamper", test_tamper);
  add_per_profile ("replay", test_replay);
  add_per_profile ("garbage", test_garbage);
  g_test_add_func ("/media/srtp/bad-keys", test_bad_keys);
  g_test_add_func ("/media/srtp/small-buffer", test_small_buffer);
  g_test_add_func ("/media/srtp/strings", test_strings);
  g_test_add_func ("/media/srtp/protect-cost", test_protect_cost);
  g_test_add_func ("/media/srtp/provider-fallback", test_provider_fallback);
  return g_test_run ();
}
