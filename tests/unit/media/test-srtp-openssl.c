/* test-srtp-openssl.c — media/srtp-openssl.c against RFC vectors and libsrtp2.
 *
 * The oracle is a real libsrtp2 session, keyed identically (ssrc_any_outbound,
 * allow_repeat_tx, a 1024-packet window: what media_srtp_new() used to
 * protect with): every packet the OpenSSL transform protects must be
 * byte-identical to libsrtp2's output, every refusal the same refusal, and a
 * libsrtp2 receiver must unprotect the result.
 */
#include <stdlib.h>
#include <string.h>

#include <glib.h>
#include <openssl/crypto.h>
#include <srtp2/srtp.h>

#include "dtls.h"
#include "srtp.h"
#include "srtp-openssl.h"

/* ---- helpers ---------------------------------------------------------- */

/* hex_decode() and assert_hex() */
#include "test-hex.h"

static const MediaSrtpProfile all_profiles[] = {
  MEDIA_SRTP_AES128_CM_SHA1_80, MEDIA_SRTP_AES128_CM_SHA1_32,
  MEDIA_SRTP_AEAD_AES_128_GCM, MEDIA_SRTP_AEAD_AES_256_GCM,
};

static gsize
key_salt_len (MediaSrtpProfile profile)
{
  size_t k, s;

  g_assert_true (media_srtp_profile_get_key_lengths (profile, &k, &s));
  return k + s;
}

static srtp_t
libsrtp_session (MediaSrtpProfile profile, const guint8 *key, gboolean outbound)
{
  guint8 copy[MEDIA_SRTP_MAX_KEY_SALT_LEN];
  srtp_policy_t policy;
  srtp_t session = NULL;

  memcpy (copy, key, key_salt_len (profile));
  g_assert_true (media_srtp_policy_init (&policy, profile, copy, outbound));
  g_assert_cmpint (srtp_create (&session, &policy), ==, srtp_err_status_ok);
  return session;
}

static MediaSrtpOpenssl *
openssl_session (MediaSrtpProfile profile, const guint8 *key)
{
  GError *error = NULL;
  MediaSrtpOpenssl *tx = media_srtp_openssl_new (profile, key, key_salt_len (profile), &error);

  g_assert_no_error (error);
  g_assert_nonnull (tx);
  return tx;
}

/* The libsrtp status libsrtp gives where the transform gives @status. */
static int
as_libsrtp (MediaSrtpOpensslStatus status)
{
  switch (status)
    {
    case MEDIA_SRTP_OPENSSL_OK: return srtp_err_status_ok;
    case MEDIA_SRTP_OPENSSL_BAD_PARAM: return srtp_err_status_bad_param;
    case MEDIA_SRTP_OPENSSL_REPLAY_OLD: return srtp_err_status_replay_old;
    case MEDIA_SRTP_OPENSSL_KEY_EXPIRED: return srtp_err_status_key_expired;
    case MEDIA_SRTP_OPENSSL_CIPHER_FAIL: return srtp_err_status_cipher_fail;
    case MEDIA_SRTP_OPENSSL_REPLAY_FAIL: return srtp_err_status_replay_fail;
    case MEDIA_SRTP_OPENSSL_AUTH_FAIL: return srtp_err_status_auth_fail;
    case MEDIA_SRTP_OPENSSL_PARSE_ERR: return srtp_err_status_parse_err;
    case MEDIA_SRTP_OPENSSL_CANT_CHECK: return srtp_err_status_cant_check;
    }
  return -1;
}

static gboolean
skip_unsupported (MediaSrtpProfile profile)
{
  if (media_srtp_profile_is_supported (profile))
    return FALSE;
  g_test_skip ("libsrtp here does not support this profile (no oracle)");
  return TRUE;
}

/* ---- RFC vectors ------------------------------------------------------ */

/* RFC 3711 Appendix B.2: AES-CM keystream, session salt F0..FD, SSRC 0,
 * index 0; blocks 0000-0002 and FEFF-FF02 of the counter. */
static void
test_rfc3711_b2 (void)
{
  guint8 key[16], salt[14];
  gsize len = 0xff03 * 16;
  g_autofree guint8 *ks = g_malloc (len);

  hex_decode ("2B7E151628AED2A6ABF7158809CF4F3C", key, sizeof key);
  hex_decode ("F0F1F2F3F4F5F6F7F8F9FAFBFCFD", salt, sizeof salt);
  g_assert_true (media_srtp_openssl_aes_cm_keystream (key, salt, 0, 0, ks, len));
  assert_hex (ks, 48, "E03EAD0935C95E80E166B16DD92B4EB4"
                      "D23513162B02D0F72A43A2FE4A5F97AB"
                      "41E95B3BB0A2E8DD477901E4FCA894C0");
  assert_hex (ks + 0xfeff * 16, 48, "EC8CDF7398607CB0F2D21675EA9EA1E4"
                                    "362B7C3C6773516318A077D7FC5073AE"
                                    "6A2CC3787889374FBEB4C81B17BA6C44");

  /* SSRC and index land where §4.1.1 puts them: index 1 of SSRC 0 is
   * block 0x10000 further on, i.e. the salt's octet 13 XOR 1 */
  {
    guint8 a[16], b[16], salt2[14];

    memcpy (salt2, salt, 14);
    salt2[13] ^= 0x01;
    salt2[4] ^= 0xca;
    g_assert_true (media_srtp_openssl_aes_cm_keystream (key, salt, 0xca000000, 1, a, 16));
    g_assert_true (media_srtp_openssl_aes_cm_keystream (key, salt2, 0, 0, b, 16));
    g_assert_cmpmem (a, 16, b, 16);
  }
}

/* RFC 3711 Appendix B.3: key derivation. */
static void
test_rfc3711_b3 (void)
{
  guint8 mk[16], ms[14], out[20];

  hex_decode ("E1F97A0D3E018BE0D64FA32C06DE4139", mk, sizeof mk);
  hex_decode ("0EC675AD498AFEEBB6960B3AABE6", ms, sizeof ms);

  g_assert_true (media_srtp_openssl_derive (mk, 16, ms, 14, 0x00, out, 16));
  assert_hex (out, 16, "C61E7A93744F39EE10734AFE3FF7A087");
  g_assert_true (media_srtp_openssl_derive (mk, 16, ms, 14, 0x02, out, 14));
  assert_hex (out, 14, "30CBBC08863D8C85D49DB34A9AE1");
  g_assert_true (media_srtp_openssl_derive (mk, 16, ms, 14, 0x01, out, 20));
  assert_hex (out, 16, "CEBE321F6FF7716B6FD4AB49AF256A15");
}

/* RFC 7714 §16.1.1 / §16.2.1: "Gallia est omnis divisa in partes tres",
 * SSRC 5501a0b2, SEQ f17b, ROC 0, from session keys. */
#define RFC7714_PLAIN \
  "8040f17b8041f8d35501a0b2" \
  "47616c6c696120657374206f6d6e69732064697669736120696e207061727465732074726573"
#define RFC7714_SALT "517569642070726f2071756f"

static void
check_rfc7714 (MediaSrtpProfile profile, const char *key_hex, const char *want_hex)
{
  guint8 key[32], salt[12], buf[128], copy[128];
  size_t len, n;
  GError *error = NULL;
  MediaSrtpOpenssl *tx, *rx;

  hex_decode (key_hex, key, sizeof key);
  hex_decode (RFC7714_SALT, salt, sizeof salt);
  tx = media_srtp_openssl_new_from_session_keys (profile, key, salt, NULL, &error);
  g_assert_no_error (error);
  len = hex_decode (RFC7714_PLAIN, buf, sizeof buf);
  g_assert_cmpint (media_srtp_openssl_protect_rtp (tx, buf, &len, sizeof buf), ==,
                   MEDIA_SRTP_OPENSSL_OK);
  assert_hex (buf, len, want_hex);
  media_srtp_openssl_free (tx);

  /* and back: unprotect gives the plaintext; the same packet again is a
   * replay; with another (unseen) seq and a flipped tag bit it is refused */
  rx = media_srtp_openssl_new_from_session_keys (profile, key, salt, NULL, &error);
  g_assert_no_error (error);
  memcpy (copy, buf, len);
  n = len;
  g_assert_cmpint (media_srtp_openssl_unprotect_rtp (rx, buf, &n), ==, MEDIA_SRTP_OPENSSL_OK);
  assert_hex (buf, n, RFC7714_PLAIN);
  memcpy (buf, copy, len);
  n = len;
  g_assert_cmpint (media_srtp_openssl_unprotect_rtp (rx, buf, &n), ==,
                   MEDIA_SRTP_OPENSSL_REPLAY_FAIL);
  copy[3] ^= 1;
  copy[len - 1] ^= 0x80;
  n = len;
  g_assert_cmpint (media_srtp_openssl_unprotect_rtp (rx, copy, &n), ==,
                   MEDIA_SRTP_OPENSSL_AUTH_FAIL);
  media_srtp_openssl_free (rx);
}

static void
test_rfc7714_16 (void)
{
  check_rfc7714 (MEDIA_SRTP_AEAD_AES_128_GCM, "000102030405060708090a0b0c0d0e0f",
                 "8040f17b8041f8d35501a0b2"
                 "f24de3a3fb34de6cacba861c9d7e4bcabe633bd50d294e6f42a5f47a51c7d19b36de3adf8833"
                 "899d7f27beb16a9152cf765ee4390cce");
  check_rfc7714 (MEDIA_SRTP_AEAD_AES_256_GCM,
                 "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
                 "8040f17b8041f8d35501a0b2"
                 "32b1de78a822fe12ef9f78fa332e33aab18012389a58e2f3b50b2a0276ffae0f1ba63799b87b"
                 "7aa3db36dfffd6b0f9bb7878d7a76c13");
}

/* ---- packet for packet against libsrtp2 --------------------------------- */

typedef struct {
  guint32 ssrc;
  guint16 highest;      /* highest seq sent so far */
  gboolean started;
} GenStream;

/* A random RTP packet: header with random CSRCs / extension (sometimes
 * malformed), random payload of up to @max_payload bytes.  *fresh = the
 * sequence number is newer than any sent for the SSRC. */
static gsize
gen_rtp (GRand *rand, guint8 *buf, GenStream *streams, guint n_streams,
         gsize max_payload, gboolean *fresh)
{
  GenStream *s = &streams[g_rand_int_range (rand, 0, n_streams)];
  guint cc = g_rand_int_range (rand, 0, 8) == 0 ? g_rand_int_range (rand, 1, 16) : 0;
  gboolean x = g_rand_int_range (rand, 0, 4) == 0;
  gint r = g_rand_int_range (rand, 0, 100);
  guint16 seq;
  gsize hlen, payload, n;

  if (!s->started)
    {
      /* start anywhere, including just before the wrap */
      seq = g_rand_boolean (rand) ? (guint16) g_rand_int (rand)
                                  : (guint16) (65535 - g_rand_int_range (rand, 0, 200));
      s->started = TRUE;
      s->highest = seq;
      *fresh = TRUE;
    }
  else if (r < 70)                     /* in order */
    {
      seq = s->highest + 1;
      *fresh = TRUE;
    }
  else if (r < 80)                     /* a gap (loss), across the wrap at times */
    {
      seq = s->highest + (guint16) g_rand_int_range (rand, 2, 3000);
      *fresh = TRUE;
    }
  else if (r < 95)                     /* late or NACKed: inside the window */
    {
      seq = s->highest - (guint16) g_rand_int_range (rand, 0, 1024);
      *fresh = FALSE;
    }
  else                                 /* too late: outside */
    {
      seq = s->highest - (guint16) g_rand_int_range (rand, 1024, 20000);
      *fresh = FALSE;
    }
  if (*fresh)
    s->highest = seq;

  buf[0] = (guint8) (0x80 | (x ? 0x10 : 0) | cc);
  if (g_rand_int_range (rand, 0, 50) == 0)
    buf[0] = (guint8) g_rand_int (rand);          /* any version, P, X, CC */
  buf[1] = (guint8) g_rand_int (rand);
  buf[2] = (guint8) (seq >> 8);
  buf[3] = (guint8) seq;
  for (int i = 4; i < 8; i++)
    buf[i] = (guint8) g_rand_int (rand);
  buf[8] = (guint8) (s->ssrc >> 24);
  buf[9] = (guint8) (s->ssrc >> 16);
  buf[10] = (guint8) (s->ssrc >> 8);
  buf[11] = (guint8) s->ssrc;
  hlen = 12 + 4 * (gsize) (buf[0] & 0x0f);
  for (gsize i = 12; i < hlen; i++)
    buf[i] = (guint8) g_rand_int (rand);
  if (buf[0] & 0x10)
    {
      guint words = g_rand_int_range (rand, 0, 6);

      if (g_rand_int_range (rand, 0, 20) == 0)
        words = g_rand_int_range (rand, 0, 0x10000);    /* runs past the end */
      buf[hlen] = 0xbe;
      buf[hlen + 1] = 0xde;
      buf[hlen + 2] = (guint8) (words >> 8);
      buf[hlen + 3] = (guint8) words;
      hlen += 4;
      for (gsize i = 0; i < 4 * (gsize) MIN (words, 5); i++)
        buf[hlen + i] = (guint8) g_rand_int (rand);
      hlen += 4 * (gsize) MIN (words, 5);
    }
  payload = g_rand_int_range (rand, 0, (gint) max_payload + 1);
  if (g_rand_int_range (rand, 0, 30) == 0)
    payload = 0;
  n = hlen + payload;
  for (gsize i = hlen; i < n; i++)
    buf[i] = (guint8) g_rand_int (rand);
  if (g_rand_int_range (rand, 0, 40) == 0)
    n = g_rand_int_range (rand, 12, (gint) n + 1);      /* cut into the header */
  return n;
}

static gsize
gen_rtcp (GRand *rand, guint8 *buf, GenStream *streams, guint n_streams)
{
  GenStream *s = &streams[g_rand_int_range (rand, 0, n_streams)];
  gsize n = 8 + 4 * (gsize) g_rand_int_range (rand, 0, 100);

  if (g_rand_int_range (rand, 0, 10) == 0)
    n = g_rand_int_range (rand, 8, 400);                 /* not a multiple of 4 */
  for (gsize i = 0; i < n; i++)
    buf[i] = (guint8) g_rand_int (rand);
  buf[0] = 0x80 | (buf[0] & 0x1f);
  buf[1] = (guint8) g_rand_int_range (rand, 200, 208);
  buf[2] = (guint8) ((n / 4 - 1) >> 8);
  buf[3] = (guint8) (n / 4 - 1);
  buf[4] = (guint8) (s->ssrc >> 24);
  buf[5] = (guint8) (s->ssrc >> 16);
  buf[6] = (guint8) (s->ssrc >> 8);
  buf[7] = (guint8) s->ssrc;
  return n;
}

#define PACKET_CAP (1500 + MEDIA_SRTP_MAX_TRAILER)

static void
run_oracle (MediaSrtpProfile profile, guint32 seed, guint n_streams, guint packets)
{
  GRand *rand = g_rand_new_with_seed (seed);
  guint8 key[MEDIA_SRTP_MAX_KEY_SALT_LEN];
  guint8 plain[PACKET_CAP], ours[PACKET_CAP], theirs[PACKET_CAP], split[PACKET_CAP];
  GenStream *streams = g_new0 (GenStream, n_streams);
  srtp_t oracle, receiver;
  MediaSrtpOpenssl *tx, *tx_split;
  /* where each RTP packet is cut for the split protect: its own sequence,
   * so that the packets are those of the runs without it */
  GRand *cuts = g_rand_new_with_seed (seed ^ 0x5a5a5a5a);
  guint ok = 0, refused = 0, received = 0, rtcp_ok = 0, cut_early = 0, cut_late = 0;

  for (gsize i = 0; i < sizeof key; i++)
    key[i] = (guint8) g_rand_int (rand);
  for (guint i = 0; i < n_streams; i++)
    streams[i].ssrc = g_rand_int (rand);
  oracle = libsrtp_session (profile, key, TRUE);
  receiver = libsrtp_session (profile, key, FALSE);
  tx = openssl_session (profile, key);
  tx_split = openssl_session (profile, key);

  for (guint p = 0; p < packets; p++)
    {
      gboolean rtcp = g_rand_int_range (rand, 0, 8) == 0;
      gboolean fresh = TRUE;
      gsize n = rtcp ? gen_rtcp (rand, plain, streams, n_streams)
                     : gen_rtp (rand, plain, streams, n_streams, 1200, &fresh);
      size_t our_len = n;
      int their_len = (int) n, our_status, their_status, rx_status;

      memcpy (ours, plain, n);
      memcpy (theirs, plain, n);
      if (rtcp)
        {
          our_status = as_libsrtp (media_srtp_openssl_protect_rtcp (tx, ours, &our_len, sizeof ours));
          their_status = srtp_protect_rtcp (oracle, theirs, &their_len);
        }
      else
        {
          /* the relay's form: a head (where its rewriting happened) and
           * the rest of the received packet, joined only by the cipher */
          gsize head = (gsize) g_rand_int_range (cuts, 0, (gint32) n + 1);
          guint8 rest[PACKET_CAP];
          size_t split_len = 0;
          int split_status;

          our_status = as_libsrtp (media_srtp_openssl_protect_rtp (tx, ours, &our_len, sizeof ours));
          their_status = srtp_protect (oracle, theirs, &their_len);
          memcpy (split, plain, head);
          memcpy (rest, plain + head, n - head);
          split_status = as_libsrtp (media_srtp_openssl_protect_rtp_split (
              tx_split, split, head, rest, n - head, &split_len, sizeof split));
          if (split_status != our_status)
            g_error ("packet %u (%zu bytes cut at %zu): split status %d, in place %d", p, n,
                     head, split_status, our_status);
          if (split_status == srtp_err_status_ok)
            g_assert_cmpmem (split, split_len, ours, our_len);
          else
            g_assert_cmpmem (split, head, plain, head);
          cut_early += head < 12;
          cut_late += head >= 12 && head < n;
        }
      if (our_status != their_status)
        g_error ("packet %u (%s, %zu bytes, first byte %02x): status %d, libsrtp %d",
                 p, rtcp ? "RTCP" : "RTP", n, plain[0], our_status, their_status);
      if (our_status != srtp_err_status_ok)
        {
          refused++;
          /* a refusal leaves the packet alone */
          g_assert_cmpuint (our_len, ==, n);
          g_assert_cmpmem (ours, n, plain, n);
          continue;
        }
      g_assert_cmpmem (ours, our_len, theirs, (gsize) their_len);
      ok++;

      /* a libsrtp2 receiver takes it (unless it saw that index already) */
      their_len = (int) our_len;
      rx_status = rtcp ? srtp_unprotect_rtcp (receiver, ours, &their_len)
                       : srtp_unprotect (receiver, ours, &their_len);
      if (rx_status == srtp_err_status_ok)
        {
          g_assert_cmpmem (ours, (gsize) their_len, plain, n);
          received++;
          rtcp_ok += rtcp;
        }
      else
        {
          g_assert_false (fresh);
          g_assert_true (rx_status == srtp_err_status_replay_fail
                         || rx_status == srtp_err_status_replay_old);
        }
    }
  g_test_message ("%s seed %u, %u SSRCs: %u protected identically (%u received, %u of them "
                  "SRTCP), %u refused identically; split protect cut %u RTP packets before "
                  "byte 12, %u after",
                  media_srtp_profile_to_string (profile), seed, n_streams, ok, received,
                  rtcp_ok, refused, cut_early, cut_late);
  g_assert_cmpuint (cut_early, >, 0);
  g_assert_cmpuint (cut_late, >, 0);
  g_assert_cmpuint (ok, >, packets / 2);
  g_assert_cmpuint (refused, >, 0);
  media_srtp_openssl_free (tx);
  media_srtp_openssl_free (tx_split);
  g_rand_free (cuts);
  srtp_dealloc (oracle);
  srtp_dealloc (receiver);
  g_free (streams);
  g_rand_free (rand);
}

static void
test_oracle (gconstpointer data)
{
  MediaSrtpProfile profile = GPOINTER_TO_INT (data);

  if (skip_unsupported (profile))
    return;
  for (guint32 seed = 1; seed <= 4; seed++)
    run_oracle (profile, seed * 7919 + profile, 1 + seed, g_test_slow () ? 50000 : 6000);
  /* more SSRCs than the table's first size: it grows, nothing changes */
  run_oracle (profile, 4242 + profile, 40, 6000);
}

/* ---- unprotect, packet for packet against libsrtp2 ------------------------ */

#define HELD 32                         /* packets kept back for late delivery */

typedef struct {
  guint8 bytes[PACKET_CAP];
  gsize len;
} Held;

/* Keeps @packet (*n bytes) in @h and puts the one @h held there instead;
 * FALSE (nothing to deliver now) if @h was empty. */
static gboolean
hold_back (Held *h, guint8 *packet, gsize *n)
{
  Held tmp = *h;

  memcpy (h->bytes, packet, *n);
  h->len = *n;
  if (tmp.len == 0)
    return FALSE;
  memcpy (packet, tmp.bytes, tmp.len);
  *n = tmp.len;
  return TRUE;
}

/* What arrives at a receiver: what libsrtp2 protected (gen_rtp()'s streams,
 * with their gaps, late and repeated sequence numbers), sometimes with a
 * bit flipped (header, payload or tag) or cut short, sometimes held back
 * and delivered later or again.  libsrtp2's receiver and the transform
 * must give the same verdict, and on OK the same bytes. */
static void
run_unprotect_oracle (MediaSrtpProfile profile, guint32 seed, guint n_streams, guint packets)
{
  GRand *rand = g_rand_new_with_seed (seed);
  guint8 key[MEDIA_SRTP_MAX_KEY_SALT_LEN];
  guint8 plain[PACKET_CAP], ours[PACKET_CAP], theirs[PACKET_CAP];
  GenStream *streams = g_new0 (GenStream, n_streams);
  Held *held = g_new0 (Held, HELD);
  guint counts[32] = { 0 };
  srtp_t sender, receiver;
  MediaSrtpOpenssl *rx;

  for (gsize i = 0; i < sizeof key; i++)
    key[i] = (guint8) g_rand_int (rand);
  for (guint i = 0; i < n_streams; i++)
    streams[i].ssrc = g_rand_int (rand);
  sender = libsrtp_session (profile, key, TRUE);
  receiver = libsrtp_session (profile, key, FALSE);
  rx = openssl_session (profile, key);

  for (guint p = 0; p < packets; p++)
    {
      gboolean fresh;
      gsize n = gen_rtp (rand, plain, streams, n_streams, 1200, &fresh);
      int their_len = (int) n, our_status, their_status, r;
      size_t our_len;
      Held *h = &held[g_rand_int_range (rand, 0, HELD)];

      memcpy (theirs, plain, n);
      if (srtp_protect (sender, theirs, &their_len) != srtp_err_status_ok)
        continue;
      n = (gsize) their_len;
      r = g_rand_int_range (rand, 0, 100);
      if (r < 8)                        /* one bit flipped anywhere */
        theirs[g_rand_int_range (rand, 0, (gint) n)] ^= (guint8) (1 << g_rand_int_range (rand, 0, 8));
      else if (r < 11)                  /* cut short */
        n = g_rand_int_range (rand, 1, (gint) n);
      else if (r < 21)                  /* held back: deliver an older one now */
        {
          if (!hold_back (h, theirs, &n))
            continue;
        }
      else if (r < 24 && h->len > 0)    /* a copy of one delivered before */
        {
          memcpy (theirs, h->bytes, h->len);
          n = h->len;
        }

      memcpy (ours, theirs, n);
      our_len = n;
      their_len = (int) n;
      our_status = as_libsrtp (media_srtp_openssl_unprotect_rtp (rx, ours, &our_len));
      their_status = srtp_unprotect (receiver, theirs, &their_len);
      if (our_status != their_status)
        g_error ("%s seed %u packet %u (%zu bytes, first byte %02x): status %d, libsrtp %d",
                 media_srtp_profile_to_string (profile), seed, p, n, theirs[0],
                 our_status, their_status);
      counts[MIN ((guint) their_status, G_N_ELEMENTS (counts) - 1)]++;
      if (our_status == srtp_err_status_ok)
        g_assert_cmpmem (ours, our_len, theirs, (gsize) their_len);
    }
  g_test_message ("%s seed %u, %u SSRCs: same verdicts: %u ok, %u auth_fail, %u replay_fail, "
                  "%u replay_old, %u parse_err, %u bad_param",
                  media_srtp_profile_to_string (profile), seed, n_streams,
                  counts[srtp_err_status_ok], counts[srtp_err_status_auth_fail],
                  counts[srtp_err_status_replay_fail], counts[srtp_err_status_replay_old],
                  counts[srtp_err_status_parse_err], counts[srtp_err_status_bad_param]);
  /* every verdict was reached, and most packets got through */
  g_assert_cmpuint (counts[srtp_err_status_ok], >, packets / 2);
  g_assert_cmpuint (counts[srtp_err_status_auth_fail], >, 0);
  g_assert_cmpuint (counts[srtp_err_status_replay_fail], >, 0);
  g_assert_cmpuint (counts[srtp_err_status_replay_old], >, 0);
  g_assert_cmpuint (counts[srtp_err_status_bad_param] + counts[srtp_err_status_parse_err], >, 0);
  media_srtp_openssl_free (rx);
  srtp_dealloc (sender);
  srtp_dealloc (receiver);
  g_free (held);
  g_free (streams);
  g_rand_free (rand);
}

static void
test_unprotect_oracle (gconstpointer data)
{
  MediaSrtpProfile profile = GPOINTER_TO_INT (data);

  if (skip_unsupported (profile))
    return;
  for (guint32 seed = 1; seed <= 4; seed++)
    run_unprotect_oracle (profile, seed * 104729 + profile, seed, g_test_slow () ? 50000 : 4000);
  run_unprotect_oracle (profile, 777 + profile, 40, 4000);
}

/* ---- SRTCP unprotect, packet for packet against libsrtp2 ----------------- */

/* One packet (SRTCP if @rtcp) to both receivers: the same verdict, and on
 * OK the same bytes.  An SRTCP packet's verdict is counted in @counts. */
static void
receive_both (MediaSrtpOpenssl *rx, srtp_t receiver, gboolean rtcp, const guint8 *packet,
              gsize n, guint *counts, guint n_counts, const char *what, guint p)
{
  guint8 ours[PACKET_CAP], theirs[PACKET_CAP];
  size_t our_len = n;
  int their_len = (int) n, our_status, their_status;

  memcpy (ours, packet, n);
  memcpy (theirs, packet, n);
  if (rtcp)
    {
      our_status = as_libsrtp (media_srtp_openssl_unprotect_rtcp (rx, ours, &our_len));
      their_status = srtp_unprotect_rtcp (receiver, theirs, &their_len);
    }
  else
    {
      our_status = as_libsrtp (media_srtp_openssl_unprotect_rtp (rx, ours, &our_len));
      their_status = srtp_unprotect (receiver, theirs, &their_len);
    }
  if (our_status != their_status)
    g_error ("%s packet %u (%s, %zu bytes): status %d, libsrtp %d", what, p,
             rtcp ? "SRTCP" : "SRTP", n, our_status, their_status);
  if (rtcp)
    counts[MIN ((guint) their_status, n_counts - 1)]++;
  if (our_status == srtp_err_status_ok)
    g_assert_cmpmem (ours, our_len, theirs, (gsize) their_len);
}

/* What arrives at a receiver: SRTCP that libsrtp2 protected for a few
 * SSRCs (each with its own index from 1), among SRTP of the same SSRCs;
 * runs of SRTCP lost on the way (up to twice the 128-index window);
 * packets held back and delivered late or again, a bit flipped,
 * cut short, the E bit cleared.  For GCM also SRTCP from a sender that
 * only authenticates (E = 0, RFC 7714 §9.3), which a receiver takes.
 * libsrtp2's receiver and the transform must give the same verdict, and
 * on OK the same bytes. */
static void
run_rtcp_unprotect_oracle (MediaSrtpProfile profile, guint32 seed, guint n_streams,
                           guint packets)
{
  GRand *rand = g_rand_new_with_seed (seed);
  guint8 key[MEDIA_SRTP_MAX_KEY_SALT_LEN], copy[MEDIA_SRTP_MAX_KEY_SALT_LEN];
  guint8 packet[PACKET_CAP];
  GenStream *streams = g_new0 (GenStream, n_streams);
  GenStream *auth_streams = g_new0 (GenStream, n_streams);
  Held *held = g_new0 (Held, HELD);
  guint counts[32] = { 0 }, lost = 0, auth_only_ok = 0;
  gboolean aead = profile == MEDIA_SRTP_AEAD_AES_128_GCM
                  || profile == MEDIA_SRTP_AEAD_AES_256_GCM;
  srtp_t sender, receiver, auth_only = NULL;
  srtp_policy_t policy;
  MediaSrtpOpenssl *rx;

  for (gsize i = 0; i < sizeof key; i++)
    key[i] = (guint8) g_rand_int (rand);
  for (guint i = 0; i < n_streams; i++)
    {
      streams[i].ssrc = g_rand_int (rand);
      auth_streams[i].ssrc = g_rand_int (rand);
    }
  sender = libsrtp_session (profile, key, TRUE);
  receiver = libsrtp_session (profile, key, FALSE);
  rx = openssl_session (profile, key);
  if (aead)
    {
      memcpy (copy, key, sizeof copy);
      g_assert_true (media_srtp_policy_init (&policy, profile, copy, TRUE));
      policy.rtcp.sec_serv = sec_serv_auth;
      g_assert_cmpint (srtp_create (&auth_only, &policy), ==, srtp_err_status_ok);
    }

  for (guint p = 0; p < packets; p++)
    {
      gint r = g_rand_int_range (rand, 0, 100);
      gboolean from_auth_only = aead && g_rand_int_range (rand, 0, 10) == 0;
      Held *h = &held[g_rand_int_range (rand, 0, HELD)];
      gsize n, tag_len = aead ? 16 : 10, e_at;
      int len;

      if (g_rand_int_range (rand, 0, 5) == 0)
        {
          /* SRTP of the same SSRCs: the SSRC state is shared */
          gboolean fresh;

          len = (int) gen_rtp (rand, packet, streams, n_streams, 200, &fresh);
          if (srtp_protect (sender, packet, &len) == srtp_err_status_ok)
            receive_both (rx, receiver, FALSE, packet, (gsize) len, counts,
                          G_N_ELEMENTS (counts), "rtcp-oracle", p);
          continue;
        }
      len = (int) gen_rtcp (rand, packet, from_auth_only ? auth_streams : streams, n_streams);
      g_assert_cmpint (srtp_protect_rtcp (from_auth_only ? auth_only : sender, packet, &len), ==,
                       srtp_err_status_ok);
      n = (gsize) len;
      if (r < 1)                        /* lost, with the next 20-300 of its SSRC */
        {
          guint32 ssrc = (guint32) packet[4] << 24 | (guint32) packet[5] << 16
                         | (guint32) packet[6] << 8 | packet[7];
          guint run = g_rand_int_range (rand, 20, 300);

          for (guint k = 0; k < run; k++)
            {
              len = 8;
              memset (packet, 0, 8);
              packet[0] = 0x80;
              packet[1] = 201;
              packet[3] = 1;
              packet[4] = (guint8) (ssrc >> 24);
              packet[5] = (guint8) (ssrc >> 16);
              packet[6] = (guint8) (ssrc >> 8);
              packet[7] = (guint8) ssrc;
              g_assert_cmpint (srtp_protect_rtcp (from_auth_only ? auth_only : sender, packet,
                                                  &len), ==, srtp_err_status_ok);
            }
          lost += run + 1;
          continue;
        }
      e_at = aead ? n - 4 : n - tag_len - 4;
      if (r < 10)                       /* one bit flipped anywhere */
        packet[g_rand_int_range (rand, 0, (gint) n)] ^= (guint8) (1 << g_rand_int_range (rand, 0, 8));
      else if (r < 13)                  /* cut short, down to nothing */
        n = g_rand_int_range (rand, 0, (gint) n);
      else if (r < 16)                  /* E cleared */
        packet[e_at] &= 0x7f;
      else if (r < 26)                  /* held back: deliver an older one now */
        {
          if (!hold_back (h, packet, &n))
            continue;
        }
      else if (r < 30 && h->len > 0)    /* a copy of one delivered before */
        {
          memcpy (packet, h->bytes, h->len);
          n = h->len;
        }
      if (n < 8)
        {
          /* media_srtp_unprotect_rtcp() refuses these before either */
          size_t our_len = n;

          g_assert_cmpint (media_srtp_openssl_unprotect_rtcp (rx, packet, &our_len), ==,
                           MEDIA_SRTP_OPENSSL_BAD_PARAM);
          counts[srtp_err_status_bad_param]++;
          continue;
        }
      {
        guint ok_before = counts[srtp_err_status_ok];

        receive_both (rx, receiver, TRUE, packet, n, counts, G_N_ELEMENTS (counts),
                      "rtcp-oracle", p);
        if (from_auth_only && counts[srtp_err_status_ok] > ok_before)
          auth_only_ok++;
      }
    }
  g_test_message ("%s seed %u, %u SSRCs: same SRTCP verdicts: %u ok (%u authenticated only), "
                  "%u auth_fail, %u replay_fail, %u replay_old, %u cant_check, %u bad_param; "
                  "%u lost on the way",
                  media_srtp_profile_to_string (profile), seed, n_streams,
                  counts[srtp_err_status_ok], auth_only_ok, counts[srtp_err_status_auth_fail],
                  counts[srtp_err_status_replay_fail], counts[srtp_err_status_replay_old],
                  counts[srtp_err_status_cant_check], counts[srtp_err_status_bad_param], lost);
  /* every verdict was reached, and most packets got through */
  g_assert_cmpuint (counts[srtp_err_status_ok], >, packets / 2);
  g_assert_cmpuint (counts[srtp_err_status_auth_fail], >, 0);
  g_assert_cmpuint (counts[srtp_err_status_replay_fail], >, 0);
  g_assert_cmpuint (counts[srtp_err_status_replay_old], >, 0);
  g_assert_cmpuint (counts[srtp_err_status_bad_param], >, 0);
  if (aead)
    g_assert_cmpuint (auth_only_ok, >, 0);
  else
    g_assert_cmpuint (counts[srtp_err_status_cant_check], >, 0);
  media_srtp_openssl_free (rx);
  srtp_dealloc (sender);
  srtp_dealloc (receiver);
  if (auth_only != NULL)
    srtp_dealloc (auth_only);
  g_free (held);
  g_free (auth_streams);
  g_free (streams);
  g_rand_free (rand);
}

static void
test_rtcp_unprotect_oracle (gconstpointer data)
{
  MediaSrtpProfile profile = GPOINTER_TO_INT (data);

  if (skip_unsupported (profile))
    return;
  for (guint32 seed = 1; seed <= 4; seed++)
    run_rtcp_unprotect_oracle (profile, seed * 15485863u + profile, seed,
                               g_test_slow () ? 50000 : 4000);
  run_rtcp_unprotect_oracle (profile, 991 + profile, 40, 4000);
}

/* The SRTCP window's edges, each moved by an exact amount: indices 1-127
 * seen in a pattern, then index 127 + shift (the window moves by shift,
 * which crosses each 64-bit word boundary), then every index once more:
 * the same verdicts as libsrtp2's receiver. */
static void
test_rtcp_window (gconstpointer data)
{
  static const guint shifts[] = { 1, 2, 3, 31, 32, 33, 62, 63, 64, 65, 66, 126, 127, 128,
                                  129, 130, 190, 191, 192, 193, 194 };
  enum { MAX_INDEX = 127 + 194 + 1, LEN = 28 };
  MediaSrtpProfile profile = GPOINTER_TO_INT (data);
  guint8 key[MEDIA_SRTP_MAX_KEY_SALT_LEN];
  guint8 (*packets)[LEN + MEDIA_SRTP_MAX_TRAILER];
  gsize *lens;
  srtp_t sender;
  guint counts[32] = { 0 };

  if (skip_unsupported (profile))
    return;
  for (gsize i = 0; i < sizeof key; i++)
    key[i] = (guint8) (i * 13 + 1);
  packets = g_malloc ((MAX_INDEX + 1) * sizeof *packets);
  lens = g_new0 (gsize, MAX_INDEX + 1);
  sender = libsrtp_session (profile, key, TRUE);
  for (guint index = 1; index <= MAX_INDEX; index++)        /* libsrtp2 starts at 1 */
    {
      int len = LEN;

      memset (packets[index], (int) index, LEN);
      packets[index][0] = 0x80;
      packets[index][1] = 201;
      packets[index][2] = 0;
      packets[index][3] = LEN / 4 - 1;
      packets[index][4] = 0xca; packets[index][5] = 0xfe;
      packets[index][6] = 0xba; packets[index][7] = 0xbe;
      g_assert_cmpint (srtp_protect_rtcp (sender, packets[index], &len), ==, 0);
      lens[index] = (gsize) len;
    }
  for (gsize i = 0; i < G_N_ELEMENTS (shifts); i++)
    {
      srtp_t receiver = libsrtp_session (profile, key, FALSE);
      MediaSrtpOpenssl *rx = openssl_session (profile, key);
      guint top = 127 + shifts[i];

      for (guint index = 1; index < 128; index++)
        if (index % 3 != 0)
          receive_both (rx, receiver, TRUE, packets[index], lens[index], counts,
                        G_N_ELEMENTS (counts), "rtcp-window", index);
      receive_both (rx, receiver, TRUE, packets[top], lens[top], counts, G_N_ELEMENTS (counts),
                    "rtcp-window", top);
      for (guint index = 1; index <= MIN (top + 1, (guint) MAX_INDEX); index++)
        receive_both (rx, receiver, TRUE, packets[index], lens[index], counts,
                      G_N_ELEMENTS (counts), "rtcp-window", index);
      media_srtp_openssl_free (rx);
      srtp_dealloc (receiver);
    }
  g_test_message ("%s: same verdicts: %u ok, %u replay_fail, %u replay_old",
                  media_srtp_profile_to_string (profile), counts[srtp_err_status_ok],
                  counts[srtp_err_status_replay_fail], counts[srtp_err_status_replay_old]);
  g_assert_cmpuint (counts[srtp_err_status_ok], >, 0);
  g_assert_cmpuint (counts[srtp_err_status_replay_fail], >, 0);
  g_assert_cmpuint (counts[srtp_err_status_replay_old], >, 0);
  srtp_dealloc (sender);
  g_free (lens);
  g_free (packets);
}

/* A stream that runs through many wraps in order, with reordering at each
 * wrap: ROC 0 → 5 identical to libsrtp. */
static void
test_oracle_wraps (gconstpointer data)
{
  MediaSrtpProfile profile = GPOINTER_TO_INT (data);
  guint8 key[MEDIA_SRTP_MAX_KEY_SALT_LEN];
  guint8 ours[300], theirs[300];
  srtp_t oracle;
  MediaSrtpOpenssl *tx;
  guint32 ext = 65000;

  if (skip_unsupported (profile))
    return;
  for (gsize i = 0; i < sizeof key; i++)
    key[i] = (guint8) (i * 29 + 3);
  oracle = libsrtp_session (profile, key, TRUE);
  tx = openssl_session (profile, key);

  while (ext < 5 * 65536 + 1000)
    {
      /* every 997th step goes back 900 (across a wrap now and then) */
      guint32 use = ext % 997 == 0 ? ext - 900 : ext;
      guint16 seq = (guint16) use;
      size_t our_len = 12 + 40;
      int their_len = 12 + 40;

      memset (ours, 0, our_len);
      ours[0] = 0x80;
      ours[1] = 0x6f;
      ours[2] = (guint8) (seq >> 8);
      ours[3] = (guint8) seq;
      ours[8] = 0xde; ours[9] = 0xad; ours[10] = 0xbe; ours[11] = 0xef;
      memcpy (theirs, ours, our_len);
      g_assert_cmpint (media_srtp_openssl_protect_rtp (tx, ours, &our_len, sizeof ours), ==, 0);
      g_assert_cmpint (srtp_protect (oracle, theirs, &their_len), ==, 0);
      g_assert_cmpmem (ours, our_len, theirs, (gsize) their_len);
      ext += 1 + (ext % 7 == 0 ? 50 : 0);
    }
  media_srtp_openssl_free (tx);
  srtp_dealloc (oracle);
}

/* ---- repeat-tx, bounds ---------------------------------------------------- */

static gsize
make_rtp (guint8 *buf, guint16 seq, guint32 ssrc, gsize payload_len)
{
  buf[0] = 0x80;
  buf[1] = 0x60;
  buf[2] = (guint8) (seq >> 8);
  buf[3] = (guint8) seq;
  buf[4] = 0x00; buf[5] = 0x01; buf[6] = 0xe2; buf[7] = 0x40;
  buf[8] = (guint8) (ssrc >> 24); buf[9] = (guint8) (ssrc >> 16);
  buf[10] = (guint8) (ssrc >> 8); buf[11] = (guint8) ssrc;
  for (gsize i = 0; i < payload_len; i++)
    buf[12 + i] = (guint8) (i * 7 + seq);
  return 12 + payload_len;
}

/* A NACK retransmission re-protects a seq: the same bytes as the first
 * time, before and after newer packets were sent. */
static void
test_repeat_tx (gconstpointer data)
{
  MediaSrtpProfile profile = GPOINTER_TO_INT (data);
  guint8 key[MEDIA_SRTP_MAX_KEY_SALT_LEN] = { 0x5a, 0x11 };
  guint8 first[400], again[400], other[400];
  size_t first_len, again_len, other_len;
  MediaSrtpOpenssl *tx = openssl_session (profile, key);

  first_len = make_rtp (first, 65530, 0x1234, 300);
  g_assert_cmpint (media_srtp_openssl_protect_rtp (tx, first, &first_len, sizeof first), ==, 0);
  again_len = make_rtp (again, 65530, 0x1234, 300);
  g_assert_cmpint (media_srtp_openssl_protect_rtp (tx, again, &again_len, sizeof again), ==, 0);
  g_assert_cmpmem (again, again_len, first, first_len);

  /* across the wrap and 1000 packets on: still the same bytes */
  for (guint16 seq = 65531; seq != (guint16) (65530 + 1001); seq++)
    {
      other_len = make_rtp (other, seq, 0x1234, 10);
      g_assert_cmpint (media_srtp_openssl_protect_rtp (tx, other, &other_len, sizeof other), ==, 0);
    }
  again_len = make_rtp (again, 65530, 0x1234, 300);
  g_assert_cmpint (media_srtp_openssl_protect_rtp (tx, again, &again_len, sizeof again), ==, 0);
  g_assert_cmpmem (again, again_len, first, first_len);

  /* 1024 behind is refused, untouched */
  for (guint16 seq = (guint16) (65530 + 1001); seq != (guint16) (65530 + 1025); seq++)
    {
      other_len = make_rtp (other, seq, 0x1234, 10);
      g_assert_cmpint (media_srtp_openssl_protect_rtp (tx, other, &other_len, sizeof other), ==, 0);
    }
  again_len = make_rtp (again, 65530, 0x1234, 300);
  g_assert_cmpint (media_srtp_openssl_protect_rtp (tx, again, &again_len, sizeof again), ==,
                   MEDIA_SRTP_OPENSSL_REPLAY_OLD);
  g_assert_cmpuint (again_len, ==, 312);
  g_assert_cmpint (again[12], ==, 65530 & 0xff);

  media_srtp_openssl_free (tx);
}

/* Every prefix of a header with CSRCs and an extension, in an exact-size
 * heap buffer (ASan sees any read or write outside): the same status as
 * libsrtp; too small a capacity, too long a packet: refused, untouched. */
static void
test_bounds (gconstpointer data)
{
  MediaSrtpProfile profile = GPOINTER_TO_INT (data);
  guint8 key[MEDIA_SRTP_MAX_KEY_SALT_LEN] = { 0x77 };
  guint8 tmpl[12 + 8 + 12 + 30];
  MediaSrtpOpenssl *tx;
  srtp_t oracle;

  if (skip_unsupported (profile))
    return;
  tx = openssl_session (profile, key);
  oracle = libsrtp_session (profile, key, TRUE);

  make_rtp (tmpl, 100, 0x9999, sizeof tmpl - 12);
  tmpl[0] = 0x92;                                  /* X, CC = 2 */
  tmpl[20] = 0xbe; tmpl[21] = 0xde; tmpl[22] = 0; tmpl[23] = 2;   /* 8 bytes of extension */
  for (gsize cut = 0; cut <= sizeof tmpl; cut++)
    {
      gsize cap = cut + MEDIA_SRTP_OPENSSL_MAX_TRAILER;
      g_autofree guint8 *ours = g_malloc (cap);
      g_autofree guint8 *theirs = g_malloc (cut + MEDIA_SRTP_MAX_TRAILER);
      size_t our_len = cut;
      int their_len = (int) cut, our_status, their_status;

      memcpy (ours, tmpl, cut);
      memcpy (theirs, tmpl, cut);
      tmpl[3]++;                                     /* a new seq each time */
      our_status = as_libsrtp (media_srtp_openssl_protect_rtp (tx, ours, &our_len, cap));
      their_status = srtp_protect (oracle, theirs, &their_len);
      g_assert_cmpint (our_status, ==, their_status);
      g_assert_cmpint (our_status, ==, cut < 32 ? srtp_err_status_bad_param : srtp_err_status_ok);
      if (our_status == srtp_err_status_ok)
        g_assert_cmpmem (ours, our_len, theirs, (gsize) their_len);

      our_len = cut;
      their_len = (int) cut;
      memcpy (ours, tmpl, cut);
      memcpy (theirs, tmpl, cut);
      our_status = as_libsrtp (media_srtp_openssl_protect_rtcp (tx, ours, &our_len, cap));
      their_status = cut < 8 ? srtp_err_status_bad_param : srtp_protect_rtcp (oracle, theirs, &their_len);
      g_assert_cmpint (our_status, ==, their_status);
      if (our_status == srtp_err_status_ok)
        g_assert_cmpmem (ours, our_len, theirs, (gsize) their_len);
    }

  /* capacity one short of the trailer; longer than any UDP payload */
  {
    guint8 buf[200];
    size_t len = make_rtp (buf, 7, 1, 100);

    g_assert_cmpint (media_srtp_openssl_protect_rtp (tx, buf, &len, len + MEDIA_SRTP_OPENSSL_MAX_TRAILER - 1),
                     ==, MEDIA_SRTP_OPENSSL_BAD_PARAM);
    g_assert_cmpuint (len, ==, 112);
    g_assert_cmpint (media_srtp_openssl_protect_rtcp (tx, buf, &len, len + MEDIA_SRTP_OPENSSL_MAX_TRAILER - 1),
                     ==, MEDIA_SRTP_OPENSSL_BAD_PARAM);
    len = 65536;
    g_assert_cmpint (media_srtp_openssl_protect_rtp (tx, buf, &len, 70000), ==,
                     MEDIA_SRTP_OPENSSL_BAD_PARAM);
    g_assert_cmpint (media_srtp_openssl_protect_rtcp (tx, buf, &len, 70000), ==,
                     MEDIA_SRTP_OPENSSL_BAD_PARAM);
  }

  /* SRTCP unprotect reads nothing outside an exact-size buffer: every
   * length up to header + E || index + tag - 1 is refused untouched, the
   * next one is read (and fails its tag); one longer than any UDP payload
   * is refused */
  {
    MediaSrtpOpenssl *rx = openssl_session (profile, key);
    gsize tag_len = profile == MEDIA_SRTP_AES128_CM_SHA1_80
                    || profile == MEDIA_SRTP_AES128_CM_SHA1_32 ? 10 : 16;

    for (gsize n = 0; n <= 8 + 4 + tag_len; n++)
      {
        g_autofree guint8 *buf = g_malloc (n ? n : 1);
        size_t len = n;

        memset (buf, 0x80, n);
        g_assert_cmpint (media_srtp_openssl_unprotect_rtcp (rx, buf, &len), ==,
                         n < 8 + 4 + tag_len ? MEDIA_SRTP_OPENSSL_BAD_PARAM
                                             : MEDIA_SRTP_OPENSSL_AUTH_FAIL);
        g_assert_cmpuint (len, ==, n);
      }
    {
      guint8 buf[16] = { 0x80 };
      size_t len = 65536;

      g_assert_cmpint (media_srtp_openssl_unprotect_rtcp (rx, buf, &len), ==,
                       MEDIA_SRTP_OPENSSL_BAD_PARAM);
    }
    media_srtp_openssl_free (rx);
  }

  media_srtp_openssl_free (tx);
  srtp_dealloc (oracle);
}

static void
test_bad_keys (void)
{
  guint8 key[64] = { 0 };
  GError *error = NULL;

  g_assert_null (media_srtp_openssl_new (MEDIA_SRTP_AES128_CM_SHA1_80, key, 29, &error));
  g_assert_error (error, MEDIA_DTLS_ERROR, MEDIA_DTLS_ERROR_SRTP);
  g_clear_error (&error);
  g_assert_null (media_srtp_openssl_new (MEDIA_SRTP_AEAD_AES_256_GCM, key, 30, &error));
  g_assert_error (error, MEDIA_DTLS_ERROR, MEDIA_DTLS_ERROR_SRTP);
  g_clear_error (&error);
  g_assert_null (media_srtp_openssl_new (5, key, 30, &error));
  g_assert_error (error, MEDIA_DTLS_ERROR, MEDIA_DTLS_ERROR_SRTP);
  g_clear_error (&error);
  g_assert_false (media_srtp_openssl_profile_is_supported (3));
}

/* ---- MediaSrtp wiring ------------------------------------------------------ */

/* media_srtp_new() protects with OpenSSL unless CAU_SRTP_BACKEND=libsrtp;
 * both give the same bytes, and the libsrtp inbound side takes them. */
static void
test_backend_switch (gconstpointer data)
{
  MediaSrtpProfile profile = GPOINTER_TO_INT (data);
  guint8 ka[MEDIA_SRTP_MAX_KEY_SALT_LEN] = { 1, 2, 3 }, kb[MEDIA_SRTP_MAX_KEY_SALT_LEN] = { 9 };
  gsize kl = key_salt_len (profile);
  MediaSrtp *fast, *old, *peer, *fast_split, *old_split;
  guint8 x[1500], y[1500], plain[1500], fs[1500], os[1500];
  size_t xl, yl, fsl, osl;

  if (skip_unsupported (profile))
    return;
  g_unsetenv ("CAU_SRTP_BACKEND");
  fast = media_srtp_new (profile, ka, kl, kb, kl, NULL);
  fast_split = media_srtp_new (profile, ka, kl, kb, kl, NULL);
  peer = media_srtp_new (profile, kb, kl, ka, kl, NULL);
  g_setenv ("CAU_SRTP_BACKEND", "libsrtp", TRUE);
  old = media_srtp_new (profile, ka, kl, kb, kl, NULL);
  old_split = media_srtp_new (profile, ka, kl, kb, kl, NULL);
  g_unsetenv ("CAU_SRTP_BACKEND");
  g_assert_cmpstr (media_srtp_get_backend (fast), ==, "openssl");
  g_assert_cmpstr (media_srtp_get_backend (old), ==, "libsrtp");

  for (guint16 seq = 65000; seq != 1000; seq += 3)
    {
      gsize n = make_rtp (plain, seq, 0xabcd, 100 + seq % 900), head = 12 + seq % 9;

      xl = yl = n;
      memcpy (x, plain, n);
      memcpy (y, plain, n);
      /* the split form (the relay's) through either backend: the same bytes */
      memcpy (fs, plain, head);
      memcpy (os, plain, head);
      g_assert_cmpint (media_srtp_protect_rtp_split (fast_split, fs, head, plain + head,
                                                     n - head, &fsl, sizeof fs), ==, 0);
      g_assert_cmpint (media_srtp_protect_rtp_split (old_split, os, head, plain + head,
                                                     n - head, &osl, sizeof os), ==, 0);
      g_assert_cmpint (media_srtp_protect_rtp (fast, x, &xl, sizeof x), ==, 0);
      g_assert_cmpint (media_srtp_protect_rtp (old, y, &yl, sizeof y), ==, 0);
      g_assert_cmpmem (x, xl, y, yl);
      g_assert_cmpmem (fs, fsl, x, xl);
      g_assert_cmpmem (os, osl, x, xl);
      g_assert_cmpint (media_srtp_unprotect_rtp (peer, x, &xl), ==, 0);

      xl = 28;
      memset (x, seq, xl);
      x[0] = 0x81; x[1] = 0xc9; x[2] = 0; x[3] = 6;
      yl = xl;
      memcpy (y, x, xl);
      g_assert_cmpint (media_srtp_protect_rtcp (fast, x, &xl, sizeof x), ==, 0);
      g_assert_cmpint (media_srtp_protect_rtcp (old, y, &yl, sizeof y), ==, 0);
      g_assert_cmpmem (x, xl, y, yl);
      g_assert_cmpint (media_srtp_unprotect_rtcp (peer, x, &xl), ==, 0);
    }
  media_srtp_free (fast);
  media_srtp_free (old);
  media_srtp_free (fast_split);
  media_srtp_free (old_split);
  media_srtp_free (peer);
}

/* ---- allocation and cost ----------------------------------------------------- */

static gint openssl_allocations;

static void *
count_malloc (size_t n, const char *file, int line)
{
  g_atomic_int_inc (&openssl_allocations);
  return malloc (n);
}

static void *
count_realloc (void *p, size_t n, const char *file, int line)
{
  g_atomic_int_inc (&openssl_allocations);
  return realloc (p, n);
}

static void
count_free (void *p, const char *file, int line)
{
  free (p);
}

static gboolean counting_allocations;

/* Protect allocates nothing in OpenSSL once the SSRC is known (the counter
 * is installed before OpenSSL's first allocation, in main()). */
static void
test_no_allocation (gconstpointer data)
{
  MediaSrtpProfile profile = GPOINTER_TO_INT (data);
  guint8 key[MEDIA_SRTP_MAX_KEY_SALT_LEN] = { 0x31 };
  guint8 buf[1300];
  MediaSrtpOpenssl *tx;
  gint before;
  size_t len;

  if (!counting_allocations)
    {
      g_test_skip ("CRYPTO_set_mem_functions was refused");
      return;
    }
  tx = openssl_session (profile, key);
  len = make_rtp (buf, 1, 0x42, 1200 - 12);
  g_assert_cmpint (media_srtp_openssl_protect_rtp (tx, buf, &len, sizeof buf), ==, 0);
  before = openssl_allocations;
  for (guint16 seq = 2; seq < 3000; seq++)
    {
      len = make_rtp (buf, seq, 0x42, 1200 - 12);
      g_assert_cmpint (media_srtp_openssl_protect_rtp (tx, buf, &len, sizeof buf), ==, 0);
      len = 60;
      g_assert_cmpint (media_srtp_openssl_protect_rtcp (tx, buf + 4, &len, sizeof buf - 4), ==, 0);
    }
  g_assert_cmpint (openssl_allocations - before, ==, 0);
  media_srtp_openssl_free (tx);
}

/* µs per protect of a 1200-byte RTP packet, libsrtp2 vs OpenSSL.  The
 * header is untouched by protect, so the same buffer is reused with a new
 * seq (no memcpy in the loop).  Printed, never asserted. */
static void
test_protect_cost (void)
{
  const int packets = g_test_slow () ? 500000 : 50000;
  guint8 buf[1200 + MEDIA_SRTP_MAX_TRAILER];
  guint8 key[MEDIA_SRTP_MAX_KEY_SALT_LEN];

  for (gsize i = 0; i < sizeof key; i++)
    key[i] = (guint8) (i * 37 + 11);
  for (gsize i = 0; i < G_N_ELEMENTS (all_profiles); i++)
    {
      MediaSrtpProfile profile = all_profiles[i];
      double libsrtp_us = -1, openssl_us;
      gint64 start;

      make_rtp (buf, 0, 0x5555, 1200 - 12);
      if (media_srtp_profile_is_supported (profile))
        {
          srtp_t oracle = libsrtp_session (profile, key, TRUE);

          start = g_get_monotonic_time ();
          for (int n = 0; n < packets; n++)
            {
              int len = 1200;

              buf[2] = (guint8) (n >> 8);
              buf[3] = (guint8) n;
              g_assert_cmpint (srtp_protect (oracle, buf, &len), ==, 0);
            }
          libsrtp_us = (double) (g_get_monotonic_time () - start) / packets;
          srtp_dealloc (oracle);
        }

      {
        MediaSrtpOpenssl *tx = openssl_session (profile, key);

        start = g_get_monotonic_time ();
        for (int n = 0; n < packets; n++)
          {
            size_t len = 1200;

            buf[2] = (guint8) (n >> 8);
            buf[3] = (guint8) n;
            g_assert_cmpint (media_srtp_openssl_protect_rtp (tx, buf, &len, sizeof buf), ==, 0);
          }
        openssl_us = (double) (g_get_monotonic_time () - start) / packets;
        media_srtp_openssl_free (tx);
      }
      g_test_message ("%-24s 1200-byte RTP protect: libsrtp2 %.3f us, OpenSSL %.3f us "
                      "(%.1fx), %d packets", media_srtp_profile_to_string (profile),
                      libsrtp_us, openssl_us, libsrtp_us / openssl_us, packets);
    }
}

/* µs per unprotect of a 1200-byte RTP packet, libsrtp2 vs OpenSSL: 8192
 * packets protected once, each unprotected from a copy (the 1.2 KB memcpy
 * is in both figures) by a fresh receiver per round.  Printed, never
 * asserted. */
static void
test_unprotect_cost (void)
{
  enum { PACKETS = 8192, STRIDE = 1200 + MEDIA_SRTP_MAX_TRAILER };
  const int rounds = g_test_slow () ? 30 : 1;
  guint8 *packets = g_malloc (PACKETS * STRIDE);
  gsize *lens = g_new (gsize, PACKETS);
  guint8 work[STRIDE];
  guint8 key[MEDIA_SRTP_MAX_KEY_SALT_LEN];

  for (gsize i = 0; i < sizeof key; i++)
    key[i] = (guint8) (i * 37 + 11);
  for (gsize i = 0; i < G_N_ELEMENTS (all_profiles); i++)
    {
      MediaSrtpProfile profile = all_profiles[i];
      gint64 libsrtp_time = 0, openssl_time = 0, start;
      srtp_t sender;

      if (skip_unsupported (profile))
        continue;
      sender = libsrtp_session (profile, key, TRUE);
      for (int n = 0; n < PACKETS; n++)
        {
          int len = (int) make_rtp (packets + n * STRIDE, (guint16) n, 0x5555, 1200 - 12);

          g_assert_cmpint (srtp_protect (sender, packets + n * STRIDE, &len), ==, 0);
          lens[n] = (gsize) len;
        }
      srtp_dealloc (sender);
      for (int r = 0; r < rounds; r++)
        {
          srtp_t receiver = libsrtp_session (profile, key, FALSE);
          MediaSrtpOpenssl *rx = openssl_session (profile, key);

          start = g_get_monotonic_time ();
          for (int n = 0; n < PACKETS; n++)
            {
              int len = (int) lens[n];

              memcpy (work, packets + n * STRIDE, lens[n]);
              g_assert_cmpint (srtp_unprotect (receiver, work, &len), ==, 0);
            }
          libsrtp_time += g_get_monotonic_time () - start;
          start = g_get_monotonic_time ();
          for (int n = 0; n < PACKETS; n++)
            {
              size_t len = lens[n];

              memcpy (work, packets + n * STRIDE, lens[n]);
              g_assert_cmpint (media_srtp_openssl_unprotect_rtp (rx, work, &len), ==, 0);
            }
          openssl_time += g_get_monotonic_time () - start;
          srtp_dealloc (receiver);
          media_srtp_openssl_free (rx);
        }
      g_test_message ("%-24s 1200-byte RTP unprotect: libsrtp2 %.3f us, OpenSSL %.3f us "
                      "(%.1fx), %d packets", media_srtp_profile_to_string (profile),
                      (double) libsrtp_time / (rounds * PACKETS),
                      (double) openssl_time / (rounds * PACKETS),
                      (double) libsrtp_time / (double) openssl_time, rounds * PACKETS);
    }
  g_free (lens);
  g_free (packets);
}

/* µs per unprotect of an 80-byte SRTCP packet (a receiver report with a
 * feedback message, what each viewer sends), libsrtp2 vs OpenSSL, with the
 * receiving sessions warm (all packets to one) and cold (packet i to
 * session i % 512, as a relay meets each viewer's RTCP among everyone's
 * media; 16 without -m slow).  Packets are protected once, each
 * unprotected from a copy.  Printed, never asserted. */
static void
test_rtcp_unprotect_cost (void)
{
  enum { PACKETS = 8192, LEN = 80, SESSIONS = 512, STRIDE = LEN + MEDIA_SRTP_MAX_TRAILER };
  const int rounds = g_test_slow () ? 10 : 1;
  guint8 *packets = g_malloc (PACKETS * STRIDE);
  gsize *lens = g_new (gsize, PACKETS);
  srtp_t *receivers = g_new (srtp_t, SESSIONS);
  MediaSrtpOpenssl **rxs = g_new (MediaSrtpOpenssl *, SESSIONS);
  guint8 work[STRIDE];
  guint8 key[MEDIA_SRTP_MAX_KEY_SALT_LEN];

  for (gsize i = 0; i < sizeof key; i++)
    key[i] = (guint8) (i * 41 + 5);
  for (gsize i = 0; i < G_N_ELEMENTS (all_profiles); i++)
    {
      MediaSrtpProfile profile = all_profiles[i];
      srtp_t sender;

      if (skip_unsupported (profile))
        continue;
      sender = libsrtp_session (profile, key, TRUE);
      for (int n = 0; n < PACKETS; n++)
        {
          guint8 *p = packets + n * STRIDE;
          int len = LEN;

          for (int k = 0; k < LEN; k++)
            p[k] = (guint8) (n + k);
          p[0] = 0x81;
          p[1] = 201;
          p[2] = 0;
          p[3] = LEN / 4 - 1;
          p[4] = 0x11; p[5] = 0x22; p[6] = 0x33; p[7] = 0x44;
          g_assert_cmpint (srtp_protect_rtcp (sender, p, &len), ==, 0);
          lens[n] = (gsize) len;
        }
      srtp_dealloc (sender);
      for (int cold = 0; cold <= 1; cold++)
        {
          /* quick mode (the test suite) only checks that it runs */
          guint n_sessions = !cold ? 1 : g_test_slow () ? SESSIONS : 16;
          gint64 libsrtp_time = 0, openssl_time = 0, start;

          for (int r = 0; r < rounds; r++)
            {
              for (guint k = 0; k < n_sessions; k++)
                {
                  receivers[k] = libsrtp_session (profile, key, FALSE);
                  rxs[k] = openssl_session (profile, key);
                }
              start = g_get_monotonic_time ();
              for (int n = 0; n < PACKETS; n++)
                {
                  int len = (int) lens[n];

                  memcpy (work, packets + n * STRIDE, lens[n]);
                  g_assert_cmpint (srtp_unprotect_rtcp (receivers[n % n_sessions], work, &len),
                                   ==, 0);
                }
              libsrtp_time += g_get_monotonic_time () - start;
              start = g_get_monotonic_time ();
              for (int n = 0; n < PACKETS; n++)
                {
                  size_t len = lens[n];

                  memcpy (work, packets + n * STRIDE, lens[n]);
                  g_assert_cmpint (media_srtp_openssl_unprotect_rtcp (rxs[n % n_sessions], work,
                                                                      &len), ==, 0);
                  g_assert_cmpuint (len, ==, LEN);
                }
              openssl_time += g_get_monotonic_time () - start;
              for (guint k = 0; k < n_sessions; k++)
                {
                  srtp_dealloc (receivers[k]);
                  media_srtp_openssl_free (rxs[k]);
                }
            }
          g_test_message ("%-24s %d-byte SRTCP unprotect, %u session(s) in turn: libsrtp2 "
                          "%.3f us, OpenSSL %.3f us (%.1fx), %d packets",
                          media_srtp_profile_to_string (profile), LEN, n_sessions,
                          (double) libsrtp_time / (rounds * PACKETS),
                          (double) openssl_time / (rounds * PACKETS),
                          (double) libsrtp_time / (double) openssl_time, rounds * PACKETS);
        }
    }
  g_free (rxs);
  g_free (receivers);
  g_free (lens);
  g_free (packets);
}

static void
add_per_profile (const char *name, GTestDataFunc func)
{
  for (gsize i = 0; i < G_N_ELEMENTS (all_profiles); i++)
    {
      g_autofree char *path = g_strdup_printf ("/media/srtp-openssl/%s/%s", name,
                                               media_srtp_profile_to_string (all_profiles[i]));
      g_test_add_data_func (path, GINT_TO_POINTER (all_profiles[i]), func);
    }
}

int
main (int argc, char **argv)
{
  /* before anything can make OpenSSL allocate */
  counting_allocations = CRYPTO_set_mem_functions (count_malloc, count_realloc, count_free) == 1;

  g_test_init (&argc, &argv, NULL);
  g_assert_true (media_srtp_global_init (NULL));

  g_test_add_func ("/media/srtp-openssl/rfc3711-b2-keystream", test_rfc3711_b2);
  g_test_add_func ("/media/srtp-openssl/rfc3711-b3-kdf", test_rfc3711_b3);
  g_test_add_func ("/media/srtp-openssl/rfc7714-16-gcm", test_rfc7714_16);
  add_per_profile ("oracle", test_oracle);
  add_per_profile ("oracle-wraps", test_oracle_wraps);
  add_per_profile ("unprotect-oracle", test_unprotect_oracle);
  add_per_profile ("rtcp-unprotect-oracle", test_rtcp_unprotect_oracle);
  add_per_profile ("rtcp-window", test_rtcp_window);
  add_per_profile ("repeat-tx", test_repeat_tx);
  add_per_profile ("bounds", test_bounds);
  add_per_profile ("backend-switch", test_backend_switch);
  add_per_profile ("no-allocation", test_no_allocation);
  g_test_add_func ("/media/srtp-openssl/bad-keys", test_bad_keys);
  g_test_add_func ("/media/srtp-openssl/protect-cost", test_protect_cost);
  g_test_add_func ("/media/srtp-openssl/unprotect-cost", test_unprotect_cost);
  g_test_add_func ("/media/srtp-openssl/rtcp-unprotect-cost", test_rtcp_unprotect_cost);
  return g_test_run ();
}
