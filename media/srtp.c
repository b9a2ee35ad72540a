/* srtp.c — SRTP sessions: on OpenSSL (srtp-openssl.c) where it has the
 * profile's ciphers, else (or with CAU_SRTP_BACKEND=libsrtp) on libsrtp2. */
#include "srtp.h"
#include "srtp-openssl.h"
#include "dtls.h"

#include <string.h>
#include <openssl/crypto.h>
#include <srtp2/srtp.h>

/* RFC 3550 §5.1 fixed header, RFC 3550 §6.4.1 RTCP header + sender SSRC. */
#define RTP_MIN_LEN 12
#define RTCP_MIN_LEN 8
/* No UDP payload is larger; keeps every length inside libsrtp's int. */
#define SRTP_MAX_PACKET 65535

G_STATIC_ASSERT (MEDIA_SRTP_MAX_TRAILER == SRTP_MAX_TRAILER_LEN);
G_STATIC_ASSERT (MEDIA_SRTP_MAX_KEY_SALT_LEN == SRTP_AES_GCM_256_KEY_LEN_WSALT);

/* A session is either on the OpenSSL transform, one per direction (tx,
 * rx), or on libsrtp2, whose one wildcard (ssrc_any_*) template per srtp_t
 * makes the two directions two libsrtp sessions (outbound, inbound); never
 * a mix.  Both give the same bytes and verdicts (tests/unit/media/
 * test-srtp-openssl.c checks this against libsrtp2). */
struct MediaSrtp {
  srtp_t inbound;                       /* NULL when rx is set */
  srtp_t outbound;                      /* NULL when tx is set */
  MediaSrtpOpenssl *tx;
  MediaSrtpOpenssl *rx;
  MediaSrtpProfile profile;
};

/* CAU_SRTP_BACKEND=libsrtp keeps a session on libsrtp2 (before/after
 * benchmarks; a safety valve).  Read per session, so a test can switch. */
static gboolean
use_openssl (MediaSrtpProfile profile)
{
  const char *backend = g_getenv ("CAU_SRTP_BACKEND");

  if (backend != NULL && g_ascii_strcasecmp (backend, "libsrtp") == 0)
    return FALSE;
  if (backend != NULL && *backend != '\0' && g_ascii_strcasecmp (backend, "openssl") != 0)
    {
      static gsize warned = 0;

      if (g_once_init_enter (&warned))
        {
          g_warning ("CAU_SRTP_BACKEND=%s is neither 'libsrtp' nor 'openssl'; using openssl",
                     backend);
          g_once_init_leave (&warned, 1);
        }
    }
  return media_srtp_openssl_profile_is_supported (profile);
}

/* MediaSrtpOpensslStatus → the libsrtp status libsrtp gives for the same
 * packet, so callers see one set of codes whichever side protected. */
static srtp_err_status_t
status_from_openssl (MediaSrtpOpensslStatus status)
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
  return srtp_err_status_fail;
}

static srtp_err_status_t global_status = srtp_err_status_ok;

static gpointer
global_init_once (gpointer data)
{
  global_status = srtp_init ();
  return NULL;
}

gboolean
media_srtp_global_init (GError **error)
{
  static GOnce once = G_ONCE_INIT;

  g_once (&once, global_init_once, NULL);
  if (global_status != srtp_err_status_ok)
    {
      g_set_error (error, MEDIA_DTLS_ERROR, MEDIA_DTLS_ERROR_SRTP,
                   "srtp_init failed: %s",
                   media_srtp_status_to_string (global_status));
      return FALSE;
    }
  return TRUE;
}

gboolean
media_srtp_profile_get_key_lengths (MediaSrtpProfile profile,
                                    size_t *key_len, size_t *salt_len)
{
  size_t k, s;

  switch (profile)
    {
    case MEDIA_SRTP_AES128_CM_SHA1_80:
    case MEDIA_SRTP_AES128_CM_SHA1_32:
      k = SRTP_AES_128_KEY_LEN;
      s = SRTP_SALT_LEN;
      break;
    case MEDIA_SRTP_AEAD_AES_128_GCM:          /* RFC 7714 §12 */
      k = SRTP_AES_128_KEY_LEN;
      s = SRTP_AEAD_SALT_LEN;
      break;
    case MEDIA_SRTP_AEAD_AES_256_GCM:
      k = SRTP_AES_256_KEY_LEN;
      s = SRTP_AEAD_SALT_LEN;
      break;
    default:
      return FALSE;
    }
  if (key_len != NULL)
    *key_len = k;
  if (salt_len != NULL)
    *salt_len = s;
  return TRUE;
}

const char *
media_srtp_profile_to_string (MediaSrtpProfile profile)
{
  switch (profile)
    {
    case MEDIA_SRTP_AES128_CM_SHA1_80: return "SRTP_AES128_CM_SHA1_80";
    case MEDIA_SRTP_AES128_CM_SHA1_32: return "SRTP_AES128_CM_SHA1_32";
    case MEDIA_SRTP_AEAD_AES_128_GCM: return "SRTP_AEAD_AES_128_GCM";
    case MEDIA_SRTP_AEAD_AES_256_GCM: return "SRTP_AEAD_AES_256_GCM";
    default: return "unknown";
    }
}

/* RFC 5764 §4.1.2: the _32 profile shortens only the SRTP tag; SRTCP keeps
 * 80 bits.  GCM uses a 16-octet tag for both (RFC 7714 §14.2). */
static gboolean
set_crypto_policies (MediaSrtpProfile profile, srtp_crypto_policy_t *rtp,
                     srtp_crypto_policy_t *rtcp)
{
  switch (profile)
    {
    case MEDIA_SRTP_AES128_CM_SHA1_80:
      srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80 (rtp);
      srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80 (rtcp);
      return TRUE;
    case MEDIA_SRTP_AES128_CM_SHA1_32:
      srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32 (rtp);
      srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80 (rtcp);
      return TRUE;
    case MEDIA_SRTP_AEAD_AES_128_GCM:
      srtp_crypto_policy_set_aes_gcm_128_16_auth (rtp);
      srtp_crypto_policy_set_aes_gcm_128_16_auth (rtcp);
      return TRUE;
    case MEDIA_SRTP_AEAD_AES_256_GCM:
      srtp_crypto_policy_set_aes_gcm_256_16_auth (rtp);
      srtp_crypto_policy_set_aes_gcm_256_16_auth (rtcp);
      return TRUE;
    default:
      return FALSE;
    }
}

gboolean
media_srtp_policy_init (srtp_policy_t *policy, MediaSrtpProfile profile, uint8_t *key,
                        gboolean outbound)
{
  memset (policy, 0, sizeof *policy);
  if (!set_crypto_policies (profile, &policy->rtp, &policy->rtcp))
    return FALSE;
  policy->ssrc.type = outbound ? ssrc_any_outbound : ssrc_any_inbound;
  policy->key = key;
  policy->window_size = MEDIA_SRTP_REPLAY_WINDOW;
  /* A NACK retransmission re-protects the same sequence number. */
  policy->allow_repeat_tx = outbound ? 1 : 0;
  return TRUE;
}

MediaSrtp *
media_srtp_new (MediaSrtpProfile profile,
                const uint8_t *local_key, size_t local_key_len,
                const uint8_t *remote_key, size_t remote_key_len,
                GError **error)
{
  srtp_policy_t inbound, outbound;
  /* libsrtp reads the key through a non-const pointer and keeps no
   * reference after srtp_create(); copies keep our API const-correct. */
  uint8_t local_copy[MEDIA_SRTP_MAX_KEY_SALT_LEN];
  uint8_t remote_copy[MEDIA_SRTP_MAX_KEY_SALT_LEN];
  size_t key_len, salt_len;
  srtp_err_status_t status;
  MediaSrtp *srtp = NULL;

  g_return_val_if_fail (local_key != NULL, NULL);
  g_return_val_if_fail (remote_key != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!media_srtp_global_init (error))
    return NULL;

  if (!media_srtp_profile_get_key_lengths (profile, &key_len, &salt_len))
    {
      g_set_error (error, MEDIA_DTLS_ERROR, MEDIA_DTLS_ERROR_SRTP,
                   "unknown SRTP profile %d", (int) profile);
      goto out;
    }
  if (local_key_len != key_len + salt_len || remote_key_len != key_len + salt_len)
    {
      g_set_error (error, MEDIA_DTLS_ERROR, MEDIA_DTLS_ERROR_SRTP,
                   "%s needs %zu-byte keys, got %zu (local) and %zu (remote)",
                   media_srtp_profile_to_string (profile), key_len + salt_len,
                   local_key_len, remote_key_len);
      goto out;
    }

  memcpy (local_copy, local_key, local_key_len);
  memcpy (remote_copy, remote_key, remote_key_len);

  media_srtp_policy_init (&inbound, profile, remote_copy, FALSE);
  media_srtp_policy_init (&outbound, profile, local_copy, TRUE);

  srtp = g_new0 (MediaSrtp, 1);
  srtp->profile = profile;
  if (use_openssl (profile))
    {
      srtp->tx = media_srtp_openssl_new (profile, local_key, local_key_len, error);
      if (srtp->tx != NULL)
        srtp->rx = media_srtp_openssl_new (profile, remote_key, remote_key_len, error);
      if (srtp->rx == NULL)
        {
          media_srtp_openssl_free (srtp->tx);
          g_clear_pointer (&srtp, g_free);
        }
      goto out;
    }
  status = srtp_create (&srtp->inbound, &inbound);
  if (status == srtp_err_status_ok)
    {
      status = srtp_create (&srtp->outbound, &outbound);
      if (status != srtp_err_status_ok)
        srtp_dealloc (srtp->inbound);
    }
  if (status != srtp_err_status_ok)
    {
      g_set_error (error, MEDIA_DTLS_ERROR, MEDIA_DTLS_ERROR_SRTP,
                   "srtp_create (%s) failed: %s",
                   media_srtp_profile_to_string (profile),
                   media_srtp_status_to_string (status));
      g_clear_pointer (&srtp, g_free);
    }

out:
  /* Wipe our copies of the master keys; libsrtp has derived its own. */
  OPENSSL_cleanse (local_copy, sizeof local_copy);
  OPENSSL_cleanse (remote_copy, sizeof remote_copy);
  return srtp;
}

void
media_srtp_free (MediaSrtp *srtp)
{
  if (srtp == NULL)
    return;
  if (srtp->inbound != NULL)
    srtp_dealloc (srtp->inbound);
  if (srtp->outbound != NULL)
    srtp_dealloc (srtp->outbound);
  media_srtp_openssl_free (srtp->tx);
  media_srtp_openssl_free (srtp->rx);
  g_free (srtp);
}

MediaSrtpProfile
media_srtp_get_profile (MediaSrtp *srtp)
{
  g_return_val_if_fail (srtp != NULL, 0);
  return srtp->profile;
}

const char *
media_srtp_get_backend (MediaSrtp *srtp)
{
  g_return_val_if_fail (srtp != NULL, NULL);
  return srtp->tx != NULL ? "openssl" : "libsrtp";
}

int
media_srtp_protect_rtp (MediaSrtp *srtp, uint8_t *buf, size_t *len, size_t cap)
{
  g_return_val_if_fail (len != NULL, srtp_err_status_bad_param);
  return media_srtp_protect_rtp_split (srtp, buf, *len, NULL, 0, len, cap);
}

int
media_srtp_protect_rtp_split (MediaSrtp *srtp, uint8_t *buf, size_t head, const uint8_t *rest,
                              size_t rest_len, size_t *len, size_t cap)
{
  size_t n = head + rest_len;
  int out;
  srtp_err_status_t status;

  g_return_val_if_fail (srtp != NULL && buf != NULL && len != NULL,
                        srtp_err_status_bad_param);
  g_return_val_if_fail (rest != NULL || rest_len == 0, srtp_err_status_bad_param);
  if (n < RTP_MIN_LEN || n > SRTP_MAX_PACKET || cap < n + MEDIA_SRTP_MAX_TRAILER)
    return srtp_err_status_bad_param;
  if (srtp->tx != NULL)
    return status_from_openssl (media_srtp_openssl_protect_rtp_split (srtp->tx, buf, head, rest,
                                                                      rest_len, len, cap));
  /* libsrtp2 protects in place only. */
  if (rest_len > 0)
    memcpy (buf + head, rest, rest_len);
  out = (int) n;
  status = srtp_protect (srtp->outbound, buf, &out);
  if (status == srtp_err_status_ok)
    *len = (size_t) out;
  return status;
}

int
media_srtp_unprotect_rtp (MediaSrtp *srtp, uint8_t *buf, size_t *len)
{
  int n;
  srtp_err_status_t status;

  g_return_val_if_fail (srtp != NULL && buf != NULL && len != NULL,
                        srtp_err_status_bad_param);
  if (*len < RTP_MIN_LEN || *len > SRTP_MAX_PACKET)
    return srtp_err_status_bad_param;
  if (srtp->rx != NULL)
    return status_from_openssl (media_srtp_openssl_unprotect_rtp (srtp->rx, buf, len));
  n = (int) *len;
  status = srtp_unprotect (srtp->inbound, buf, &n);
  if (status == srtp_err_status_ok)
    *len = (size_t) n;
  return status;
}

int
media_srtp_protect_rtcp (MediaSrtp *srtp, uint8_t *buf, size_t *len, size_t cap)
{
  int n;
  srtp_err_status_t status;

  g_return_val_if_fail (srtp != NULL && buf != NULL && len != NULL,
                        srtp_err_status_bad_param);
  if (*len < RTCP_MIN_LEN || *len > SRTP_MAX_PACKET
      || cap < *len + MEDIA_SRTP_MAX_TRAILER)
    return srtp_err_status_bad_param;
  if (srtp->tx != NULL)
    return status_from_openssl (media_srtp_openssl_protect_rtcp (srtp->tx, buf, len, cap));
  n = (int) *len;
  status = srtp_protect_rtcp (srtp->outbound, buf, &n);
  if (status == srtp_err_status_ok)
    *len = (size_t) n;
  return status;
}

int
media_srtp_unprotect_rtcp (MediaSrtp *srtp, uint8_t *buf, size_t *len)
{
  int n;
  srtp_err_status_t status;

  g_return_val_if_fail (srtp != NULL && buf != NULL && len != NULL,
                        srtp_err_status_bad_param);
  if (*len < RTCP_MIN_LEN || *len > SRTP_MAX_PACKET)
    return srtp_err_status_bad_param;
  if (srtp->rx != NULL)
    return status_from_openssl (media_srtp_openssl_unprotect_rtcp (srtp->rx, buf, len));
  n = (int) *len;
  status = srtp_unprotect_rtcp (srtp->inbound, buf, &n);
  if (status == srtp_err_status_ok)
    *len = (size_t) n;
  return status;
}

/* Creates a session with @profile and sends one RTP packet through it and
 * back; libsrtp built on a crypto back end without AES-GCM fails here. */
static gboolean
probe_profile (MediaSrtpProfile profile)
{
  uint8_t key[MEDIA_SRTP_MAX_KEY_SALT_LEN] = { 0x42 };
  uint8_t packet[RTP_MIN_LEN + 16 + MEDIA_SRTP_MAX_TRAILER] = {
    0x80, 0x60, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x12, 0x34, 0x56, 0x78,
  };
  size_t key_len, salt_len, len = RTP_MIN_LEN + 16;
  MediaSrtp *tx, *rx;
  gboolean ok;

  if (!media_srtp_profile_get_key_lengths (profile, &key_len, &salt_len))
    return FALSE;
  tx = media_srtp_new (profile, key, key_len + salt_len, key, key_len + salt_len, NULL);
  rx = media_srtp_new (profile, key, key_len + salt_len, key, key_len + salt_len, NULL);
  ok = tx != NULL && rx != NULL
    && media_srtp_protect_rtp (tx, packet, &len, sizeof packet) == srtp_err_status_ok
    && media_srtp_unprotect_rtp (rx, packet, &len) == srtp_err_status_ok
    && len == RTP_MIN_LEN + 16;
  media_srtp_free (tx);
  media_srtp_free (rx);
  return ok;
}

static gboolean supported[9];

static gpointer
probe_once (gpointer data)
{
  static const MediaSrtpProfile all[] = {
    MEDIA_SRTP_AES128_CM_SHA1_80, MEDIA_SRTP_AES128_CM_SHA1_32,
    MEDIA_SRTP_AEAD_AES_128_GCM, MEDIA_SRTP_AEAD_AES_256_GCM,
  };

  for (gsize i = 0; i < G_N_ELEMENTS (all); i++)
    {
      supported[all[i]] = probe_profile (all[i]);
      if (!supported[all[i]])
        g_info ("libsrtp %s: profile %s unavailable",
                srtp_get_version_string (), media_srtp_profile_to_string (all[i]));
    }
  return NULL;
}

gboolean
media_srtp_profile_is_supported (MediaSrtpProfile profile)
{
  static GOnce once = G_ONCE_INIT;

  if ((unsigned) profile >= G_N_ELEMENTS (supported))
    return FALSE;
  g_once (&once, probe_once, NULL);
  return supported[profile];
}

const char *
media_srtp_status_to_string (int status)
{
  switch ((srtp_err_status_t) status)
    {
    case srtp_err_status_ok: return "ok";
    case srtp_err_status_fail: return "unspecified failure";
    case srtp_err_status_bad_param: return "bad parameter";
    case srtp_err_status_alloc_fail: return "allocation failed";
    case srtp_err_status_dealloc_fail: return "deallocation failed";
    case srtp_err_status_init_fail: return "initialization failed";
    case srtp_err_status_terminus: return "can't process as much data as requested";
    case srtp_err_status_auth_fail: return "authentication failed";
    case srtp_err_status_cipher_fail: return "cipher failed";
    case srtp_err_status_replay_fail: return "replayed packet";
    case srtp_err_status_replay_old: return "packet too old for the replay window";
    case srtp_err_status_algo_fail: return "algorithm failed its self-test";
    case srtp_err_status_no_such_op: return "unsupported operation";
    case srtp_err_status_no_ctx: return "no stream context for this SSRC";
    case srtp_err_status_cant_check: return "cannot check authentication";
    case srtp_err_status_key_expired: return "key usage limit reached";
    case srtp_err_status_socket_err: return "socket error";
    case srtp_err_status_signal_err: return "signal error";
    case srtp_err_status_nonce_bad: return "bad nonce";
    case srtp_err_status_read_fail: return "read failed";
    case srtp_err_status_write_fail: return "write failed";
    case srtp_err_status_parse_err: return "parse error";
    case srtp_err_status_encode_err: return "encode error";
    case srtp_err_status_semaphore_err: return "semaphore error";
    case srtp_err_status_pfkey_err: return "PF_KEY error";
    case srtp_err_status_bad_mki: return "bad MKI";
    case srtp_err_status_pkt_idx_old: return "packet index too old";
    case srtp_err_status_pkt_idx_adv: return "packet index advanced too far";
    }
  return "unknown libsrtp status";
}
