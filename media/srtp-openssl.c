/* srtp-openssl.c — SRTP/SRTCP protect and SRTP unprotect on OpenSSL (see srtp-openssl.h).
 *
 * The session ciphers (AES-128-CTR, AES-128/256-GCM) are called at the
 * provider that EVP_CIPHER_fetch() picks, through the functions it exports
 * (provider-cipher(7)), not through EVP_Encrypt*(): OpenSSL 3.0's wrappers
 * look the context's key and IV lengths up as OSSL_PARAMs on every IV
 * change and keep a second context to touch.  bench/cipher-cost, one
 * AES-128-GCM seal of 1200 bytes to each of 320 keys in turn: 0.43 µs
 * through EVP, 0.36 µs direct; with 1 MiB written between seals (a cold
 * cache, as in the fan-out) 0.60-0.67 µs against 0.49 µs
 * (docs/performance.md, step 11).  Key derivation, once per session, stays
 * on EVP.
 *
 * HMAC-SHA1 uses OpenSSL's SHA1_Init/Update/Final (deprecated in 3.0, hence
 * OPENSSL_SUPPRESS_DEPRECATED) on inner and outer states computed once per
 * session (RFC 2104: H(K^opad, H(K^ipad, text)) — the states after the
 * two pad blocks depend only on the key).  A packet's tag copies the two
 * SHA_CTX structs: no key setup, no allocation.  Measured here (OpenSSL
 * 3.0, 1214 bytes): this 0.65 µs; EVP_MAC_init(ctx, NULL, ...) re-init
 * 0.78 µs and 2 allocations (the EVP_MD_CTX copy dups the provider
 * context); EVP_MAC_CTX_dup 1.06 µs and 11 allocations; re-keying
 * 0.96 µs.  If the low-level SHA-1 API goes away, EVP_MAC re-init is the
 * fallback.
 */
#define OPENSSL_SUPPRESS_DEPRECATED

#include "srtp-openssl.h"
#include "dtls.h"

#include <limits.h>
#include <string.h>
#include <openssl/core_dispatch.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/provider.h>
#include <openssl/sha.h>

/* RFC 3550 §5.1 fixed header; RFC 3550 §6.4.1 header + sender SSRC. */
#define RTP_HEADER_LEN 12
#define RTCP_HEADER_LEN 8
#define MAX_PACKET 65535

#define AES_CM_SALT_LEN 14
#define GCM_SALT_LEN 12                 /* RFC 7714 §12 */
#define GCM_IV_LEN 12
#define GCM_TAG_LEN 16                  /* RFC 7714 §14.2: 16-octet tags */
#define HMAC_KEY_LEN 20                 /* RFC 3711 §8.2: n_a = 160 */
#define HMAC_TAG_LEN_80 10
#define HMAC_TAG_LEN_32 4
#define SRTCP_TRAILER_LEN 4
#define SRTCP_E_BIT 0x80000000u
#define SRTCP_INDEX_MAX 0x7fffffffu     /* RFC 3711 §3.4: 31 bits */

/* The sender refuses a sequence number this far behind the highest sent,
 * as libsrtp's replay database of MEDIA_SRTP_REPLAY_WINDOW entries does. */
#define SEND_WINDOW MEDIA_SRTP_REPLAY_WINDOW

#define SSRC_TABLE_INITIAL 8            /* slots; a power of two */

/* RFC 3711 §4.3.2 key derivation labels. */
enum {
  LABEL_RTP_ENCRYPTION = 0x00,
  LABEL_RTP_AUTH = 0x01,
  LABEL_RTP_SALT = 0x02,
  LABEL_RTCP_ENCRYPTION = 0x03,
  LABEL_RTCP_AUTH = 0x04,
  LABEL_RTCP_SALT = 0x05,
};

G_STATIC_ASSERT (MEDIA_SRTP_OPENSSL_MAX_TRAILER == SRTCP_TRAILER_LEN + GCM_TAG_LEN);
G_STATIC_ASSERT (MEDIA_SRTP_OPENSSL_MAX_TRAILER <= MEDIA_SRTP_MAX_TRAILER);

typedef struct {
  SHA_CTX inner;                        /* after (K XOR ipad) */
  SHA_CTX outer;                        /* after (K XOR opad) */
} HmacSha1;

/* One cipher as its provider implements it: the functions from the
 * provider's dispatch table.  @fetched holds the provider loaded. */
typedef struct {
  EVP_CIPHER *fetched;
  void *provctx;
  OSSL_FUNC_cipher_newctx_fn *newctx;
  OSSL_FUNC_cipher_freectx_fn *freectx;
  OSSL_FUNC_cipher_encrypt_init_fn *einit;
  OSSL_FUNC_cipher_decrypt_init_fn *dinit;
  OSSL_FUNC_cipher_update_fn *update;
  OSSL_FUNC_cipher_final_fn *final;
  OSSL_FUNC_cipher_get_ctx_params_fn *get_ctx_params;
  OSSL_FUNC_cipher_set_ctx_params_fn *set_ctx_params;
} CipherImpl;

typedef enum {
  CIPHER_AES_128_CTR,
  CIPHER_AES_128_GCM,
  CIPHER_AES_256_GCM,
  N_CIPHERS,
} CipherId;

/* A keyed cipher: the provider's context. */
typedef struct {
  const CipherImpl *impl;
  void *ctx;
} Cipher;

/* Keys of one of the two streams (SRTP or SRTCP), RFC 3711 §4.3. */
typedef struct {
  Cipher cipher;                        /* keyed once; each packet sets the IV */
  uint8_t salt[AES_CM_SALT_LEN];        /* GCM uses the first 12 */
  HmacSha1 auth;                        /* AES-CM only */
  size_t tag_len;
} SessionKeys;

/* The receiver's replay databases of one SSRC. */
#define REPLAY_WORDS (MEDIA_SRTP_REPLAY_WINDOW / 64)
G_STATIC_ASSERT (MEDIA_SRTP_REPLAY_WINDOW % 64 == 0);
#define SRTCP_WINDOW 128                /* libsrtp's rdb_bits_in_bitmask */

typedef struct {
  /* SRTP (libsrtp's srtp_rdbx_t bitmask): bit k set = index (highest - k)
   * was received */
  uint64_t rtp[REPLAY_WORDS];
  /* SRTCP (libsrtp's srtp_rdb_t): bit k of rtcp_bits[k / 64] set = index
   * rtcp_start + k was received; indices below rtcp_start are too old */
  uint32_t rtcp_start;
  uint64_t rtcp_bits[SRTCP_WINDOW / 64];
} ReplayDb;

/* State of one SSRC, as libsrtp keeps it per stream. */
typedef struct {
  uint32_t ssrc;
  gboolean used;
  /* highest packet index (ROC || SEQ, 48 bits) protected or received; 0
   * at first, like libsrtp's srtp_rdbx_t.index */
  uint64_t rtp_index;
  /* last SRTCP index sent; 0 before the first, so the first sent is 1 */
  uint32_t rtcp_index;
  /* unprotect only: made with the state */
  ReplayDb *replay;
} SsrcState;

struct MediaSrtpOpenssl {
  MediaSrtpProfile profile;
  gboolean aead;
  SessionKeys rtp;
  SessionKeys rtcp;
  SsrcState *slots;                     /* open addressing, linear probing */
  size_t n_slots;                       /* power of two, at most half full */
  size_t n_used;
};

/* ---- byte order ----------------------------------------------------------- */

static inline uint32_t
read_be32 (const uint8_t *p)
{
  return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 | (uint32_t) p[2] << 8 | p[3];
}

static inline void
write_be32 (uint8_t *p, uint32_t v)
{
  p[0] = (uint8_t) (v >> 24);
  p[1] = (uint8_t) (v >> 16);
  p[2] = (uint8_t) (v >> 8);
  p[3] = (uint8_t) v;
}

static inline void
xor_be32 (uint8_t *p, uint32_t v)
{
  p[0] ^= (uint8_t) (v >> 24);
  p[1] ^= (uint8_t) (v >> 16);
  p[2] ^= (uint8_t) (v >> 8);
  p[3] ^= (uint8_t) v;
}

/* ---- HMAC-SHA1 (RFC 2104) --------------------------------------------------- */

static void
hmac_sha1_init (HmacSha1 *h, const uint8_t *key, size_t key_len)
{
  uint8_t pad[SHA_CBLOCK];

  g_assert (key_len <= sizeof pad);
  memset (pad, 0x36, sizeof pad);
  for (size_t i = 0; i < key_len; i++)
    pad[i] ^= key[i];
  SHA1_Init (&h->inner);
  SHA1_Update (&h->inner, pad, sizeof pad);
  memset (pad, 0x5c, sizeof pad);
  for (size_t i = 0; i < key_len; i++)
    pad[i] ^= key[i];
  SHA1_Init (&h->outer);
  SHA1_Update (&h->outer, pad, sizeof pad);
  OPENSSL_cleanse (pad, sizeof pad);
}

/* Tag over @a || @b, truncated to @tag_len (RFC 3711 §4.2). */
static void
hmac_sha1_tag (const HmacSha1 *h, const uint8_t *a, size_t a_len,
               const uint8_t *b, size_t b_len, uint8_t *tag, size_t tag_len)
{
  SHA_CTX ctx;
  uint8_t digest[SHA_DIGEST_LENGTH];

  ctx = h->inner;
  SHA1_Update (&ctx, a, a_len);
  if (b_len > 0)
    SHA1_Update (&ctx, b, b_len);
  SHA1_Final (digest, &ctx);
  ctx = h->outer;
  SHA1_Update (&ctx, digest, sizeof digest);
  SHA1_Final (digest, &ctx);
  memcpy (tag, digest, tag_len);
}

/* ---- building blocks ---------------------------------------------------------- */

/* RFC 3711 §4.1.1: IV = (k_s · 2^16) XOR (SSRC · 2^64) XOR (i · 2^16). */
static void
aes_cm_iv (const uint8_t salt[AES_CM_SALT_LEN], uint32_t ssrc, uint64_t index,
           uint8_t iv[16])
{
  memcpy (iv, salt, AES_CM_SALT_LEN);
  iv[14] = 0;
  iv[15] = 0;
  xor_be32 (iv + 4, ssrc);
  xor_be32 (iv + 8, (uint32_t) (index >> 16));
  iv[12] ^= (uint8_t) (index >> 8);
  iv[13] ^= (uint8_t) index;
}

/* ---- the session ciphers, at the provider ------------------------------------ */

static const char *const cipher_names[N_CIPHERS] = {
  [CIPHER_AES_128_CTR] = "AES-128-CTR",
  [CIPHER_AES_128_GCM] = "AES-128-GCM",
  [CIPHER_AES_256_GCM] = "AES-256-GCM",
};

/* TRUE if @name is one of the ':'-separated @names. */
static gboolean
names_include (const char *names, const char *name)
{
  size_t len = strlen (name);

  for (const char *p = names; p != NULL; p = strchr (p, ':'))
    {
      if (*p == ':')
        p++;
      if (g_ascii_strncasecmp (p, name, len) == 0 && (p[len] == ':' || p[len] == '\0'))
        return TRUE;
    }
  return FALSE;
}

/* Fills @impl with the functions of the implementation of @name that
 * EVP_CIPHER_fetch() picks (of its provider, the one by that name).
 * FALSE, @impl cleared, if any is missing. */
static gboolean
cipher_impl_load (CipherImpl *impl, const char *name)
{
  const OSSL_PROVIDER *prov;
  const OSSL_ALGORITHM *algs, *alg;
  const OSSL_DISPATCH *d = NULL;
  int no_cache = 0;

  memset (impl, 0, sizeof *impl);
  impl->fetched = EVP_CIPHER_fetch (NULL, name, NULL);
  if (impl->fetched == NULL)
    return FALSE;
  prov = EVP_CIPHER_get0_provider (impl->fetched);
  algs = OSSL_PROVIDER_query_operation (prov, OSSL_OP_CIPHER, &no_cache);
  for (alg = algs; alg != NULL && alg->algorithm_names != NULL; alg++)
    if (names_include (alg->algorithm_names, name))
      {
        d = alg->implementation;
        break;
      }
  for (; d != NULL && d->function_id != 0; d++)
    switch (d->function_id)
      {
      case OSSL_FUNC_CIPHER_NEWCTX: impl->newctx = OSSL_FUNC_cipher_newctx (d); break;
      case OSSL_FUNC_CIPHER_FREECTX: impl->freectx = OSSL_FUNC_cipher_freectx (d); break;
      case OSSL_FUNC_CIPHER_ENCRYPT_INIT: impl->einit = OSSL_FUNC_cipher_encrypt_init (d); break;
      case OSSL_FUNC_CIPHER_DECRYPT_INIT: impl->dinit = OSSL_FUNC_cipher_decrypt_init (d); break;
      case OSSL_FUNC_CIPHER_UPDATE: impl->update = OSSL_FUNC_cipher_update (d); break;
      case OSSL_FUNC_CIPHER_FINAL: impl->final = OSSL_FUNC_cipher_final (d); break;
      case OSSL_FUNC_CIPHER_GET_CTX_PARAMS:
        impl->get_ctx_params = OSSL_FUNC_cipher_get_ctx_params (d);
        break;
      case OSSL_FUNC_CIPHER_SET_CTX_PARAMS:
        impl->set_ctx_params = OSSL_FUNC_cipher_set_ctx_params (d);
        break;
      default:
        break;
      }
  if (algs != NULL)
    OSSL_PROVIDER_unquery_operation (prov, OSSL_OP_CIPHER, algs);
  impl->provctx = OSSL_PROVIDER_get0_provider_ctx (prov);
  if (impl->newctx == NULL || impl->freectx == NULL || impl->einit == NULL
      || impl->dinit == NULL || impl->update == NULL || impl->final == NULL
      || impl->get_ctx_params == NULL || impl->set_ctx_params == NULL)
    {
      EVP_CIPHER_free (impl->fetched);
      memset (impl, 0, sizeof *impl);
      return FALSE;
    }
  return TRUE;
}

/* The implementation of @id, loaded on first use and kept; NULL if the
 * provider does not export it whole (then media/srtp.c uses libsrtp2). */
static const CipherImpl *
cipher_impl (CipherId id)
{
  static CipherImpl impls[N_CIPHERS];
  static gsize loaded;

  if (g_once_init_enter (&loaded))
    {
      for (int i = 0; i < N_CIPHERS; i++)
        if (!cipher_impl_load (&impls[i], cipher_names[i]))
          g_warning ("OpenSSL's provider does not export %s whole; SRTP with it uses libsrtp2",
                     cipher_names[i]);
      g_once_init_leave (&loaded, 1);
    }
  return impls[id].fetched != NULL ? &impls[id] : NULL;
}

static gboolean
cipher_init (Cipher *c, CipherId id, const uint8_t *key, size_t key_len)
{
  c->impl = cipher_impl (id);
  c->ctx = c->impl != NULL ? c->impl->newctx (c->impl->provctx) : NULL;
  return c->ctx != NULL && c->impl->einit (c->ctx, key, key_len, NULL, 0, NULL) == 1;
}

/* The provider wipes the key schedule. */
static void
cipher_clear (Cipher *c)
{
  if (c->ctx != NULL)
    c->impl->freectx (c->ctx);
  c->ctx = NULL;
}

/* A new IV, and with it a new message (GCM) or keystream (CTR). */
static gboolean
cipher_begin (const Cipher *c, gboolean encrypt, const uint8_t *iv, size_t iv_len)
{
  return (encrypt ? c->impl->einit : c->impl->dinit) (c->ctx, NULL, 0, iv, iv_len, NULL) == 1;
}

/* @len bytes of @in through the cipher into @out; @out NULL: @in is GCM's
 * additional authenticated data.  @in and @out are the same bytes or do
 * not overlap.  The output size given is @len, for the AAD too: the
 * provider refuses an input longer than it (EVP passes the same). */
static gboolean
cipher_update (const Cipher *c, uint8_t *out, const uint8_t *in, size_t len)
{
  size_t n = 0;

  if (len == 0)
    return TRUE;
  return c->impl->update (c->ctx, out, &n, len, in, len) == 1 && (out == NULL || n == len);
}

/* GCM's end of message: encrypting, its tag goes to @tag; decrypting,
 * @tag is checked (FALSE if it is wrong). */
static gboolean
cipher_finish_gcm (const Cipher *c, gboolean encrypt, uint8_t tag[GCM_TAG_LEN])
{
  OSSL_PARAM params[] = {
    OSSL_PARAM_octet_string (OSSL_CIPHER_PARAM_AEAD_TAG, tag, GCM_TAG_LEN),
    OSSL_PARAM_END,
  };
  size_t n = 0;

  if (encrypt)
    return c->impl->final (c->ctx, NULL, &n, 0) == 1
      && c->impl->get_ctx_params (c->ctx, params) == 1;
  return c->impl->set_ctx_params (c->ctx, params) == 1
    && c->impl->final (c->ctx, NULL, &n, 0) == 1;
}

/* ---- key derivation -------------------------------------------------------------- */

static const EVP_CIPHER *
ctr_cipher_for_key (size_t key_len)
{
  switch (key_len)
    {
    case 16: return EVP_aes_128_ctr ();
    case 32: return EVP_aes_256_ctr ();
    default: return NULL;
    }
}

/* @len bytes of AES-CTR keystream under @key from @iv, into @out. */
static gboolean
ctr_keystream (const uint8_t *key, size_t key_len, const uint8_t iv[16],
               uint8_t *out, size_t len)
{
  const EVP_CIPHER *cipher = ctr_cipher_for_key (key_len);
  EVP_CIPHER_CTX *ctx;
  int n = 0;
  gboolean ok;

  if (cipher == NULL || len > INT_MAX)
    return FALSE;
  ctx = EVP_CIPHER_CTX_new ();
  memset (out, 0, len);
  ok = ctx != NULL
    && EVP_EncryptInit_ex (ctx, cipher, NULL, key, iv) == 1
    && EVP_EncryptUpdate (ctx, out, &n, out, (int) len) == 1
    && n == (int) len;
  EVP_CIPHER_CTX_free (ctx);
  return ok;
}

gboolean
media_srtp_openssl_derive (const uint8_t *master_key, size_t master_key_len,
                           const uint8_t *master_salt, size_t master_salt_len,
                           uint8_t label, uint8_t *out, size_t out_len)
{
  uint8_t iv[16] = { 0 };

  g_return_val_if_fail (master_key != NULL && master_salt != NULL && out != NULL, FALSE);
  g_return_val_if_fail (master_salt_len <= AES_CM_SALT_LEN, FALSE);

  /* key_id = label || r with r = 0 (48 bits), right-aligned in the 112-bit
   * salt, so the label lands on octet 7 */
  memcpy (iv, master_salt, master_salt_len);
  iv[7] ^= label;
  return ctr_keystream (master_key, master_key_len, iv, out, out_len);
}

gboolean
media_srtp_openssl_aes_cm_keystream (const uint8_t key[16], const uint8_t salt[14],
                                     uint32_t ssrc, uint64_t index,
                                     uint8_t *out, size_t len)
{
  uint8_t iv[16];

  g_return_val_if_fail (key != NULL && salt != NULL && out != NULL, FALSE);
  aes_cm_iv (salt, ssrc, index, iv);
  return ctr_keystream (key, 16, iv, out, len);
}

/* ---- sessions ---------------------------------------------------------------- */

/* The session cipher of @profile; FALSE if caud has no transform for it. */
static gboolean
profile_cipher (MediaSrtpProfile profile, CipherId *id)
{
  switch (profile)
    {
    case MEDIA_SRTP_AES128_CM_SHA1_80:
    case MEDIA_SRTP_AES128_CM_SHA1_32:
      *id = CIPHER_AES_128_CTR;
      return TRUE;
    case MEDIA_SRTP_AEAD_AES_128_GCM:
      *id = CIPHER_AES_128_GCM;
      return TRUE;
    case MEDIA_SRTP_AEAD_AES_256_GCM:
      *id = CIPHER_AES_256_GCM;
      return TRUE;
    default:
      return FALSE;
    }
}

gboolean
media_srtp_openssl_profile_is_supported (MediaSrtpProfile profile)
{
  CipherId cipher;

  return profile_cipher (profile, &cipher) && cipher_impl (cipher) != NULL;
}

static gboolean
session_keys_init (SessionKeys *keys, MediaSrtpProfile profile, gboolean rtcp,
                   const uint8_t *cipher_key, const uint8_t *salt,
                   const uint8_t *auth_key)
{
  CipherId cipher;
  size_t key_len;

  if (!profile_cipher (profile, &cipher))
    return FALSE;
  key_len = cipher == CIPHER_AES_256_GCM ? 32 : 16;
  if (cipher != CIPHER_AES_128_CTR)
    keys->tag_len = GCM_TAG_LEN;
  else if (profile == MEDIA_SRTP_AES128_CM_SHA1_32 && !rtcp)
    keys->tag_len = HMAC_TAG_LEN_32;    /* RFC 5764 §4.1.2: only the SRTP tag is shortened */
  else
    keys->tag_len = HMAC_TAG_LEN_80;

  if (!cipher_init (&keys->cipher, cipher, cipher_key, key_len))
    return FALSE;
  if (cipher != CIPHER_AES_128_CTR)
    memcpy (keys->salt, salt, GCM_SALT_LEN);
  else
    {
      memcpy (keys->salt, salt, AES_CM_SALT_LEN);
      hmac_sha1_init (&keys->auth, auth_key, HMAC_KEY_LEN);
    }
  return TRUE;
}

static void
session_keys_clear (SessionKeys *keys)
{
  cipher_clear (&keys->cipher);
  OPENSSL_cleanse (keys, sizeof *keys);
}

static MediaSrtpOpenssl *
session_new (MediaSrtpProfile profile, GError **error)
{
  MediaSrtpOpenssl *tx;

  if (!media_srtp_openssl_profile_is_supported (profile))
    {
      g_set_error (error, MEDIA_DTLS_ERROR, MEDIA_DTLS_ERROR_SRTP,
                   "SRTP profile %d has no OpenSSL transform", (int) profile);
      return NULL;
    }
  tx = g_new0 (MediaSrtpOpenssl, 1);
  tx->profile = profile;
  tx->aead = profile == MEDIA_SRTP_AEAD_AES_128_GCM || profile == MEDIA_SRTP_AEAD_AES_256_GCM;
  tx->n_slots = SSRC_TABLE_INITIAL;
  tx->slots = g_new0 (SsrcState, tx->n_slots);
  return tx;
}

MediaSrtpOpenssl *
media_srtp_openssl_new_from_session_keys (MediaSrtpProfile profile,
                                          const uint8_t *cipher_key,
                                          const uint8_t *salt,
                                          const uint8_t *auth_key,
                                          GError **error)
{
  MediaSrtpOpenssl *tx;

  g_return_val_if_fail (cipher_key != NULL && salt != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  tx = session_new (profile, error);
  if (tx == NULL)
    return NULL;
  if (!tx->aead && auth_key == NULL)
    {
      g_set_error (error, MEDIA_DTLS_ERROR, MEDIA_DTLS_ERROR_SRTP,
                   "%s needs an authentication key", media_srtp_profile_to_string (profile));
      media_srtp_openssl_free (tx);
      return NULL;
    }
  if (!session_keys_init (&tx->rtp, profile, FALSE, cipher_key, salt, auth_key)
      || !session_keys_init (&tx->rtcp, profile, TRUE, cipher_key, salt, auth_key))
    {
      g_set_error (error, MEDIA_DTLS_ERROR, MEDIA_DTLS_ERROR_SRTP,
                   "OpenSSL cannot set up %s", media_srtp_profile_to_string (profile));
      media_srtp_openssl_free (tx);
      return NULL;
    }
  return tx;
}

MediaSrtpOpenssl *
media_srtp_openssl_new (MediaSrtpProfile profile, const uint8_t *key, size_t key_len,
                        GError **error)
{
  /* session keys: largest cipher key 32, salt 14, auth key 20 */
  uint8_t rtp_key[32], rtp_salt[AES_CM_SALT_LEN], rtp_auth[HMAC_KEY_LEN];
  uint8_t rtcp_key[32], rtcp_salt[AES_CM_SALT_LEN], rtcp_auth[HMAC_KEY_LEN];
  size_t master_key_len, master_salt_len, salt_len;
  const uint8_t *master_salt;
  MediaSrtpOpenssl *tx = NULL;
  gboolean derived;

  g_return_val_if_fail (key != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!media_srtp_openssl_profile_is_supported (profile)
      || !media_srtp_profile_get_key_lengths (profile, &master_key_len, &master_salt_len))
    {
      g_set_error (error, MEDIA_DTLS_ERROR, MEDIA_DTLS_ERROR_SRTP,
                   "SRTP profile %d has no OpenSSL transform", (int) profile);
      return NULL;
    }
  if (key_len != master_key_len + master_salt_len)
    {
      g_set_error (error, MEDIA_DTLS_ERROR, MEDIA_DTLS_ERROR_SRTP,
                   "%s needs a %zu-byte key, got %zu", media_srtp_profile_to_string (profile),
                   master_key_len + master_salt_len, key_len);
      return NULL;
    }
  master_salt = key + master_key_len;
  /* RFC 3711 §4.3.2 / RFC 7714 §12: session salts are 112 bits for AES-CM,
   * 96 for GCM; session encryption keys are as long as the master key */
  salt_len = master_salt_len;

  memset (rtp_salt, 0, sizeof rtp_salt);
  memset (rtcp_salt, 0, sizeof rtcp_salt);
  derived =
    media_srtp_openssl_derive (key, master_key_len, master_salt, master_salt_len,
                               LABEL_RTP_ENCRYPTION, rtp_key, master_key_len)
    && media_srtp_openssl_derive (key, master_key_len, master_salt, master_salt_len,
                                  LABEL_RTP_AUTH, rtp_auth, sizeof rtp_auth)
    && media_srtp_openssl_derive (key, master_key_len, master_salt, master_salt_len,
                                  LABEL_RTP_SALT, rtp_salt, salt_len)
    && media_srtp_openssl_derive (key, master_key_len, master_salt, master_salt_len,
                                  LABEL_RTCP_ENCRYPTION, rtcp_key, master_key_len)
    && media_srtp_openssl_derive (key, master_key_len, master_salt, master_salt_len,
                                  LABEL_RTCP_AUTH, rtcp_auth, sizeof rtcp_auth)
    && media_srtp_openssl_derive (key, master_key_len, master_salt, master_salt_len,
                                  LABEL_RTCP_SALT, rtcp_salt, salt_len);
  if (!derived)
    {
      g_set_error (error, MEDIA_DTLS_ERROR, MEDIA_DTLS_ERROR_SRTP,
                   "SRTP key derivation failed for %s", media_srtp_profile_to_string (profile));
      goto out;
    }

  tx = session_new (profile, error);
  if (tx == NULL)
    goto out;
  if (!session_keys_init (&tx->rtp, profile, FALSE, rtp_key, rtp_salt, rtp_auth)
      || !session_keys_init (&tx->rtcp, profile, TRUE, rtcp_key, rtcp_salt, rtcp_auth))
    {
      g_set_error (error, MEDIA_DTLS_ERROR, MEDIA_DTLS_ERROR_SRTP,
                   "OpenSSL cannot set up %s", media_srtp_profile_to_string (profile));
      media_srtp_openssl_free (tx);
      tx = NULL;
    }

out:
  OPENSSL_cleanse (rtp_key, sizeof rtp_key);
  OPENSSL_cleanse (rtp_salt, sizeof rtp_salt);
  OPENSSL_cleanse (rtp_auth, sizeof rtp_auth);
  OPENSSL_cleanse (rtcp_key, sizeof rtcp_key);
  OPENSSL_cleanse (rtcp_salt, sizeof rtcp_salt);
  OPENSSL_cleanse (rtcp_auth, sizeof rtcp_auth);
  return tx;
}

void
media_srtp_openssl_free (MediaSrtpOpenssl *tx)
{
  if (tx == NULL)
    return;
  session_keys_clear (&tx->rtp);
  session_keys_clear (&tx->rtcp);
  for (size_t i = 0; i < tx->n_slots; i++)
    g_free (tx->slots[i].replay);
  g_free (tx->slots);
  g_free (tx);
}

/* ---- per-SSRC state ------------------------------------------------------------ */

static inline size_t
ssrc_hash (uint32_t ssrc, size_t mask)
{
  return (size_t) ((ssrc * 0x9e3779b1u) >> 7) & mask;
}

static SsrcState *
ssrc_slot (SsrcState *slots, size_t n_slots, uint32_t ssrc)
{
  size_t mask = n_slots - 1;

  for (size_t i = ssrc_hash (ssrc, mask);; i = (i + 1) & mask)
    if (!slots[i].used || slots[i].ssrc == ssrc)
      return &slots[i];
}

static gboolean
ssrc_table_grow (MediaSrtpOpenssl *tx)
{
  size_t n_slots = tx->n_slots * 2;
  SsrcState *slots;

  if (n_slots > (1u << 24))
    return FALSE;
  slots = g_try_new0 (SsrcState, n_slots);
  if (slots == NULL)
    return FALSE;
  for (size_t i = 0; i < tx->n_slots; i++)
    if (tx->slots[i].used)
      *ssrc_slot (slots, n_slots, tx->slots[i].ssrc) = tx->slots[i];
  g_free (tx->slots);
  tx->slots = slots;
  tx->n_slots = n_slots;
  return TRUE;
}

/* The state of @ssrc, created at index 0 on first sight (libsrtp clones
 * its ssrc_any_outbound template then).  NULL only if the table is full
 * and cannot grow. */
static SsrcState *
ssrc_lookup (MediaSrtpOpenssl *tx, uint32_t ssrc)
{
  SsrcState *s = ssrc_slot (tx->slots, tx->n_slots, ssrc);

  if (s->used)
    return s;
  if ((tx->n_used + 1) * 2 > tx->n_slots)
    {
      if (!ssrc_table_grow (tx))
        return NULL;
      s = ssrc_slot (tx->slots, tx->n_slots, ssrc);
    }
  s->used = TRUE;
  s->ssrc = ssrc;
  tx->n_used++;
  return s;
}

/* RFC 3711 §3.3.1 and Appendix A: the index of @seq relative to the
 * highest index sent, exactly as libsrtp estimates it: while the highest
 * index is at most 2^15 the ROC is taken as 0 (no guess of ROC - 1 at the
 * start of a stream).  Returns index - highest; *index = the estimate. */
static int32_t
estimate_index (uint64_t highest, uint16_t seq, uint64_t *index)
{
  uint32_t roc = (uint32_t) (highest >> 16);
  int32_t highest_seq = (uint16_t) highest;
  int32_t delta;

  if (highest <= 0x8000)
    {
      *index = seq;
      return (int32_t) seq - highest_seq;
    }
  if (highest_seq < 0x8000)
    {
      if ((int32_t) seq - highest_seq > 0x8000)
        {
          roc--;
          delta = (int32_t) seq - highest_seq - 0x10000;
        }
      else
        delta = (int32_t) seq - highest_seq;
    }
  else
    {
      if (highest_seq - 0x8000 > (int32_t) seq)
        {
          roc++;
          delta = (int32_t) seq - highest_seq + 0x10000;
        }
      else
        delta = (int32_t) seq - highest_seq;
    }
  *index = (uint64_t) roc << 16 | seq;
  return delta;
}

/* RFC 3550 §5.1 / RFC 8285: header length including CSRCs and the
 * extension, or 0 if it runs past @len (libsrtp's bad_param cases). */
static size_t
rtp_header_len (const uint8_t *buf, size_t len)
{
  size_t hlen = RTP_HEADER_LEN + 4 * (size_t) (buf[0] & 0x0f);

  if (buf[0] & 0x10)
    {
      if (len < hlen + 4)
        return 0;
      hlen += 4 + 4 * (size_t) (buf[hlen + 2] << 8 | buf[hlen + 3]);
    }
  return len < hlen ? 0 : hlen;
}

/* What protect and unprotect read of an RTP packet of @n bytes: header
 * length, sequence number, SSRC.  FALSE (libsrtp's bad_param) when @n is
 * under 12 or over 65535, or the CSRCs or extension run past the end. */
static gboolean
rtp_fields (const uint8_t *buf, size_t n, size_t *hlen, uint16_t *seq, uint32_t *ssrc)
{
  if (n < RTP_HEADER_LEN || n > MAX_PACKET)
    return FALSE;
  *hlen = rtp_header_len (buf, n);
  if (*hlen == 0)
    return FALSE;
  *seq = (uint16_t) (buf[2] << 8 | buf[3]);
  *ssrc = read_be32 (buf + 8);
  return TRUE;
}

/* ---- protect ------------------------------------------------------------------- */

static gboolean
encrypt_in_place (const Cipher *c, uint8_t *p, size_t len)
{
  return cipher_update (c, p, p, len);
}

/* The payload of a split packet: buf[@from .. @head) in place, then @rest
 * into buf[@head ..).  Both ciphers here are streams (CTR; GCM's CTR with
 * GHASH over the ciphertext), so two updates give the bytes one would. */
static gboolean
encrypt_split (const Cipher *c, uint8_t *buf, size_t from, size_t head,
               const uint8_t *rest, size_t rest_len)
{
  return encrypt_in_place (c, buf + from, head - from)
    && cipher_update (c, buf + head, rest, rest_len);
}

/* RFC 7714 §8.1: IV = (00 00 || SSRC || ROC || SEQ) XOR salt, SEQ read
 * from the RTP header @rtp. */
static void
gcm_rtp_iv (const uint8_t salt[GCM_SALT_LEN], uint32_t ssrc, uint32_t roc,
            const uint8_t *rtp, uint8_t iv[GCM_IV_LEN])
{
  memcpy (iv, salt, GCM_IV_LEN);
  xor_be32 (iv + 2, ssrc);
  xor_be32 (iv + 6, roc);
  iv[10] ^= rtp[2];
  iv[11] ^= rtp[3];
}

/* RFC 7714 §9.1: IV = (00 00 || SSRC || 00 00 || 0 || 31-bit SRTCP index)
 * XOR salt. */
static void
gcm_rtcp_iv (const uint8_t salt[GCM_SALT_LEN], uint32_t ssrc, uint32_t index,
             uint8_t iv[GCM_IV_LEN])
{
  memcpy (iv, salt, GCM_IV_LEN);
  xor_be32 (iv + 2, ssrc);
  xor_be32 (iv + 8, index);
}

/* RFC 7714 §7.1 / §9.1, the half before the encryption: a fresh IV and
 * @aad authenticated (two pieces, the second may be empty).  Once the
 * payload is encrypted, cipher_finish_gcm() writes the tag. */
static gboolean
gcm_begin (const Cipher *c, const uint8_t iv[GCM_IV_LEN],
           const uint8_t *aad, size_t aad_len, const uint8_t *aad2, size_t aad2_len)
{
  return cipher_begin (c, TRUE, iv, GCM_IV_LEN)
    && cipher_update (c, NULL, aad, aad_len)
    && cipher_update (c, NULL, aad2, aad2_len);
}

/* Protects buf[0 .. @head) ‖ @rest[0 .. @rest_len) into @buf (rest_len 0:
 * in place).  The split form needs the whole RTP header in @head; when it
 * is not there the packet is joined first and protected in place. */
static MediaSrtpOpensslStatus
protect_rtp (MediaSrtpOpenssl *tx, uint8_t *buf, size_t head, const uint8_t *rest,
             size_t rest_len, size_t *len, size_t cap)
{
  const SessionKeys *keys = &tx->rtp;
  SsrcState *state;
  size_t n = head + rest_len, hlen;
  uint32_t ssrc, roc;
  uint16_t seq;
  uint64_t index;
  int32_t delta;

  if (n > MAX_PACKET || cap < n + MEDIA_SRTP_OPENSSL_MAX_TRAILER)
    return MEDIA_SRTP_OPENSSL_BAD_PARAM;
  /* A header that lies in buf[0 .. head) reads the same there as in the
   * joined packet; one that does not is read once the packet is joined. */
  if (!rtp_fields (buf, head, &hlen, &seq, &ssrc))
    {
      if (rest_len == 0)
        return MEDIA_SRTP_OPENSSL_BAD_PARAM;
      memcpy (buf + head, rest, rest_len);
      head = n;
      rest_len = 0;
      if (!rtp_fields (buf, head, &hlen, &seq, &ssrc))
        return MEDIA_SRTP_OPENSSL_BAD_PARAM;
    }

  state = ssrc_lookup (tx, ssrc);
  if (state == NULL)
    return MEDIA_SRTP_OPENSSL_CIPHER_FAIL;
  delta = estimate_index (state->rtp_index, seq, &index);
  /* A repeat inside the window is allowed (allow_repeat_tx): a NACK
   * retransmission gets the same index, so the same bytes. */
  if (delta <= -SEND_WINDOW)
    return MEDIA_SRTP_OPENSSL_REPLAY_OLD;
  roc = (uint32_t) (index >> 16);

  if (tx->aead)
    {
      /* §8.2: AAD = the header through the extension */
      uint8_t iv[GCM_IV_LEN];

      gcm_rtp_iv (keys->salt, ssrc, roc, buf, iv);
      if (!gcm_begin (&keys->cipher, iv, buf, hlen, NULL, 0)
          || !encrypt_split (&keys->cipher, buf, hlen, head, rest, rest_len)
          || !cipher_finish_gcm (&keys->cipher, TRUE, buf + n))
        return MEDIA_SRTP_OPENSSL_CIPHER_FAIL;
    }
  else
    {
      uint8_t iv[16], roc_be[4];

      aes_cm_iv (keys->salt, ssrc, index, iv);
      if (!cipher_begin (&keys->cipher, TRUE, iv, sizeof iv)
          || !encrypt_split (&keys->cipher, buf, hlen, head, rest, rest_len))
        return MEDIA_SRTP_OPENSSL_CIPHER_FAIL;
      /* §4.2: M = authenticated portion || ROC */
      write_be32 (roc_be, roc);
      hmac_sha1_tag (&keys->auth, buf, n, roc_be, sizeof roc_be, buf + n, keys->tag_len);
    }

  if (delta > 0)
    state->rtp_index += (uint16_t) delta;
  *len = n + keys->tag_len;
  return MEDIA_SRTP_OPENSSL_OK;
}

MediaSrtpOpensslStatus
media_srtp_openssl_protect_rtp (MediaSrtpOpenssl *tx, uint8_t *buf, size_t *len, size_t cap)
{
  g_return_val_if_fail (tx != NULL && buf != NULL && len != NULL,
                        MEDIA_SRTP_OPENSSL_BAD_PARAM);
  return protect_rtp (tx, buf, *len, NULL, 0, len, cap);
}

MediaSrtpOpensslStatus
media_srtp_openssl_protect_rtp_split (MediaSrtpOpenssl *tx, uint8_t *buf, size_t head,
                                      const uint8_t *rest, size_t rest_len, size_t *len,
                                      size_t cap)
{
  g_return_val_if_fail (tx != NULL && buf != NULL && len != NULL, MEDIA_SRTP_OPENSSL_BAD_PARAM);
  g_return_val_if_fail (rest != NULL || rest_len == 0, MEDIA_SRTP_OPENSSL_BAD_PARAM);
  return protect_rtp (tx, buf, head, rest, rest_len, len, cap);
}

MediaSrtpOpensslStatus
media_srtp_openssl_protect_rtcp (MediaSrtpOpenssl *tx, uint8_t *buf, size_t *len, size_t cap)
{
  const SessionKeys *keys;
  SsrcState *state;
  size_t n;
  uint32_t ssrc, index;
  uint8_t trailer[SRTCP_TRAILER_LEN];

  g_return_val_if_fail (tx != NULL && buf != NULL && len != NULL,
                        MEDIA_SRTP_OPENSSL_BAD_PARAM);
  n = *len;
  keys = &tx->rtcp;
  if (n < RTCP_HEADER_LEN || n > MAX_PACKET || cap < n + MEDIA_SRTP_OPENSSL_MAX_TRAILER)
    return MEDIA_SRTP_OPENSSL_BAD_PARAM;

  ssrc = read_be32 (buf + 4);
  state = ssrc_lookup (tx, ssrc);
  if (state == NULL)
    return MEDIA_SRTP_OPENSSL_CIPHER_FAIL;
  if (state->rtcp_index >= SRTCP_INDEX_MAX)
    return MEDIA_SRTP_OPENSSL_KEY_EXPIRED;
  index = state->rtcp_index + 1;
  /* §3.4: E = 1 (encrypted) || 31-bit SRTCP index */
  write_be32 (trailer, SRTCP_E_BIT | index);

  if (tx->aead)
    {
      /* RFC 7714 §9.1: AAD = first 8 octets || E || index; packet =
       * header || ciphertext || tag || E || index */
      uint8_t iv[GCM_IV_LEN];

      gcm_rtcp_iv (keys->salt, ssrc, index, iv);
      if (!gcm_begin (&keys->cipher, iv, buf, RTCP_HEADER_LEN, trailer, sizeof trailer)
          || !encrypt_in_place (&keys->cipher, buf + RTCP_HEADER_LEN, n - RTCP_HEADER_LEN)
          || !cipher_finish_gcm (&keys->cipher, TRUE, buf + n))
        return MEDIA_SRTP_OPENSSL_CIPHER_FAIL;
      memcpy (buf + n + keys->tag_len, trailer, sizeof trailer);
    }
  else
    {
      /* §3.4, §4.1.1: the SRTCP index takes the place of the packet index;
       * the tag covers the whole packet including E || index */
      uint8_t iv[16];

      aes_cm_iv (keys->salt, ssrc, index, iv);
      if (!cipher_begin (&keys->cipher, TRUE, iv, sizeof iv)
          || !encrypt_in_place (&keys->cipher, buf + RTCP_HEADER_LEN, n - RTCP_HEADER_LEN))
        return MEDIA_SRTP_OPENSSL_CIPHER_FAIL;
      memcpy (buf + n, trailer, sizeof trailer);
      hmac_sha1_tag (&keys->auth, buf, n + sizeof trailer, NULL, 0,
                     buf + n + sizeof trailer, keys->tag_len);
    }

  state->rtcp_index = index;
  *len = n + SRTCP_TRAILER_LEN + keys->tag_len;
  return MEDIA_SRTP_OPENSSL_OK;
}

/* ---- unprotect (RTP) ------------------------------------------------------------ */

/* libsrtp's srtp_rdbx_check(): newer is fine; older than the window, or
 * seen, is not. */
static MediaSrtpOpensslStatus
replay_check (const uint64_t *replay, int32_t delta)
{
  uint32_t k;

  if (delta > 0)
    return MEDIA_SRTP_OPENSSL_OK;
  k = (uint32_t) -delta;
  if (k >= MEDIA_SRTP_REPLAY_WINDOW)
    return MEDIA_SRTP_OPENSSL_REPLAY_OLD;
  if ((replay[k / 64] >> (k % 64)) & 1)
    return MEDIA_SRTP_OPENSSL_REPLAY_FAIL;
  return MEDIA_SRTP_OPENSSL_OK;
}

/* libsrtp's srtp_rdbx_add_index(): a newer index moves the window (bit k
 * becomes bit k + delta); either way the index's bit is set. */
static void
replay_add (uint64_t *replay, int32_t delta)
{
  uint32_t k = 0;

  if (delta > 0)
    {
      uint32_t words = (uint32_t) delta / 64, bits = (uint32_t) delta % 64;

      for (int i = REPLAY_WORDS - 1; i >= 0; i--)
        {
          int from = i - (int) words;
          uint64_t v = 0;

          if (from >= 0)
            {
              v = replay[from] << bits;
              if (bits != 0 && from >= 1)
                v |= replay[from - 1] >> (64 - bits);
            }
          replay[i] = v;
        }
    }
  else
    k = (uint32_t) -delta;
  replay[k / 64] |= (uint64_t) 1 << (k % 64);
}

/* The state of @ssrc, new on @rx, made once a packet of it authenticated:
 * with its replay databases.  NULL if the SSRC table cannot grow. */
static SsrcState *
rx_remember (MediaSrtpOpenssl *rx, uint32_t ssrc)
{
  SsrcState *state = ssrc_lookup (rx, ssrc);

  if (state != NULL)
    state->replay = g_new0 (ReplayDb, 1);
  return state;
}

/* RFC 7714 §7.2: decrypt @payload in place and check @tag over the AAD
 * (two pieces, the second may be empty) and the ciphertext.  FALSE on a
 * wrong tag (or an OpenSSL failure). */
static gboolean
gcm_open (const Cipher *c, const uint8_t iv[GCM_IV_LEN], const uint8_t *aad,
          size_t aad_len, const uint8_t *aad2, size_t aad2_len, uint8_t *payload,
          size_t payload_len, const uint8_t *tag)
{
  uint8_t tag_copy[GCM_TAG_LEN];     /* the parameter takes a non-const pointer */

  memcpy (tag_copy, tag, sizeof tag_copy);
  return cipher_begin (c, FALSE, iv, GCM_IV_LEN)
    && cipher_update (c, NULL, aad, aad_len)
    && cipher_update (c, NULL, aad2, aad2_len)
    && cipher_update (c, payload, payload, payload_len)
    && cipher_finish_gcm (c, FALSE, tag_copy);
}

MediaSrtpOpensslStatus
media_srtp_openssl_unprotect_rtp (MediaSrtpOpenssl *rx, uint8_t *buf, size_t *len)
{
  const SessionKeys *keys;
  SsrcState *state;
  MediaSrtpOpensslStatus status;
  size_t n, hlen, payload_len;
  uint32_t ssrc, roc;
  uint16_t seq;
  uint64_t index;
  int32_t delta;

  g_return_val_if_fail (rx != NULL && buf != NULL && len != NULL,
                        MEDIA_SRTP_OPENSSL_BAD_PARAM);
  n = *len;
  keys = &rx->rtp;
  if (!rtp_fields (buf, n, &hlen, &seq, &ssrc))
    return MEDIA_SRTP_OPENSSL_BAD_PARAM;

  state = ssrc_slot (rx->slots, rx->n_slots, ssrc);
  if (state->used)
    {
      delta = estimate_index (state->rtp_index, seq, &index);
      status = replay_check (state->replay->rtp, delta);
      if (status != MEDIA_SRTP_OPENSSL_OK)
        return status;
    }
  else
    {
      /* a new SSRC starts at ROC 0, with no replay check (libsrtp's
       * provisional stream from the ssrc_any_inbound template) */
      index = seq;
      delta = seq;
    }
  /* libsrtp2's verdicts for a packet too short for header and tag: its
   * bounds check wraps when the packet is shorter than the tag (only GCM's
   * 16 bytes can be), and the GCM decrypt then refuses it */
  if (n < keys->tag_len)
    return MEDIA_SRTP_OPENSSL_CIPHER_FAIL;
  if (hlen + keys->tag_len > n)
    return MEDIA_SRTP_OPENSSL_PARSE_ERR;
  payload_len = n - hlen - keys->tag_len;
  roc = (uint32_t) (index >> 16);

  if (rx->aead)
    {
      uint8_t iv[GCM_IV_LEN];

      gcm_rtp_iv (keys->salt, ssrc, roc, buf, iv);
      if (!gcm_open (&keys->cipher, iv, buf, hlen, NULL, 0, buf + hlen, payload_len,
                     buf + n - keys->tag_len))
        return MEDIA_SRTP_OPENSSL_AUTH_FAIL;
    }
  else
    {
      uint8_t iv[16], roc_be[4], tag[HMAC_TAG_LEN_80];

      /* §3.3: authenticate before anything else is done with the packet */
      write_be32 (roc_be, roc);
      hmac_sha1_tag (&keys->auth, buf, n - keys->tag_len, roc_be, sizeof roc_be, tag,
                     keys->tag_len);
      if (CRYPTO_memcmp (tag, buf + n - keys->tag_len, keys->tag_len) != 0)
        return MEDIA_SRTP_OPENSSL_AUTH_FAIL;
      aes_cm_iv (keys->salt, ssrc, index, iv);
      if (!cipher_begin (&keys->cipher, TRUE, iv, sizeof iv)
          || !encrypt_in_place (&keys->cipher, buf + hlen, payload_len))
        return MEDIA_SRTP_OPENSSL_CIPHER_FAIL;
    }

  if (!state->used)
    {
      state = rx_remember (rx, ssrc);
      if (state == NULL)
        return MEDIA_SRTP_OPENSSL_CIPHER_FAIL;
    }
  if (delta > 0)
    state->rtp_index += (uint16_t) delta;
  replay_add (state->replay->rtp, delta);
  *len = n - keys->tag_len;
  return MEDIA_SRTP_OPENSSL_OK;
}

/* ---- unprotect (RTCP) ----------------------------------------------------------- */

/* libsrtp's srtp_rdb_check(): above the window is fine; below it, or seen
 * inside it, is not. */
static MediaSrtpOpensslStatus
rtcp_replay_check (const ReplayDb *db, uint32_t index)
{
  uint32_t k;

  if (index >= db->rtcp_start + SRTCP_WINDOW)
    return MEDIA_SRTP_OPENSSL_OK;
  if (index < db->rtcp_start)
    return MEDIA_SRTP_OPENSSL_REPLAY_OLD;
  k = index - db->rtcp_start;
  if ((db->rtcp_bits[k / 64] >> (k % 64)) & 1)
    return MEDIA_SRTP_OPENSSL_REPLAY_FAIL;
  return MEDIA_SRTP_OPENSSL_OK;
}

/* libsrtp's srtp_rdb_add_index() after a passed check: an index above the
 * window moves the window up until it is the window's last (bit k becomes
 * bit k - shift); either way the index's bit is set. */
static void
rtcp_replay_add (ReplayDb *db, uint32_t index)
{
  uint32_t k = index - db->rtcp_start;

  if (k >= SRTCP_WINDOW)
    {
      uint32_t shift = k - (SRTCP_WINDOW - 1);
      uint64_t lo = db->rtcp_bits[0], hi = db->rtcp_bits[1];

      G_STATIC_ASSERT (SRTCP_WINDOW == 128);
      if (shift >= 128)
        lo = hi = 0;
      else if (shift >= 64)
        {
          lo = hi >> (shift - 64);
          hi = 0;
        }
      else
        {
          lo = lo >> shift | hi << (64 - shift);    /* shift is 1 .. 63 here */
          hi >>= shift;
        }
      db->rtcp_bits[0] = lo;
      db->rtcp_bits[1] = hi;
      db->rtcp_start += shift;
      k = SRTCP_WINDOW - 1;
    }
  db->rtcp_bits[k / 64] |= (uint64_t) 1 << (k % 64);
}

MediaSrtpOpensslStatus
media_srtp_openssl_unprotect_rtcp (MediaSrtpOpenssl *rx, uint8_t *buf, size_t *len)
{
  const SessionKeys *keys;
  SsrcState *state;
  MediaSrtpOpensslStatus status;
  const uint8_t *trailer;
  size_t n, body;
  uint32_t ssrc, word, index;

  g_return_val_if_fail (rx != NULL && buf != NULL && len != NULL,
                        MEDIA_SRTP_OPENSSL_BAD_PARAM);
  n = *len;
  keys = &rx->rtcp;
  /* §3.4: header || encrypted portion || E || index || tag (RFC 7714 §9:
   * header || ciphertext || tag || E || index) */
  if (n > MAX_PACKET || n < RTCP_HEADER_LEN + SRTCP_TRAILER_LEN + keys->tag_len)
    return MEDIA_SRTP_OPENSSL_BAD_PARAM;
  /* the header and encrypted portion: what is left once unprotected */
  body = n - SRTCP_TRAILER_LEN - keys->tag_len;
  trailer = rx->aead ? buf + body + GCM_TAG_LEN : buf + body;
  word = read_be32 (trailer);
  index = word & SRTCP_INDEX_MAX;
  /* An AES-CM session encrypts SRTCP, so E = 0 cannot be checked (libsrtp
   * refuses it before the replay check).  GCM's E = 0 is a packet that is
   * authenticated only, which libsrtp accepts with a valid tag. */
  if (!rx->aead && (word & SRTCP_E_BIT) == 0)
    return MEDIA_SRTP_OPENSSL_CANT_CHECK;

  ssrc = read_be32 (buf + 4);
  state = ssrc_slot (rx->slots, rx->n_slots, ssrc);
  /* a new SSRC passes: libsrtp checks it against its template's empty
   * database */
  if (state->used)
    {
      status = rtcp_replay_check (state->replay, index);
      if (status != MEDIA_SRTP_OPENSSL_OK)
        return status;
    }

  if (rx->aead)
    {
      /* RFC 7714 §9.1 (IV as protect's), §9.2 (E = 1: AAD = header || E ||
       * index) and §9.3 (E = 0: AAD = everything before the tag, then E ||
       * index; nothing is encrypted) */
      uint8_t iv[GCM_IV_LEN];
      gboolean ok;

      gcm_rtcp_iv (keys->salt, ssrc, index, iv);
      if (word & SRTCP_E_BIT)
        ok = gcm_open (&keys->cipher, iv, buf, RTCP_HEADER_LEN, trailer, SRTCP_TRAILER_LEN,
                       buf + RTCP_HEADER_LEN, body - RTCP_HEADER_LEN, buf + body);
      else
        ok = gcm_open (&keys->cipher, iv, buf, body, trailer, SRTCP_TRAILER_LEN,
                       buf + body, 0, buf + body);
      if (!ok)
        return MEDIA_SRTP_OPENSSL_AUTH_FAIL;
    }
  else
    {
      /* §3.3 and §3.4: the tag covers everything before it, E || index
       * included; then the encrypted portion is decrypted */
      uint8_t iv[16], tag[HMAC_TAG_LEN_80];

      hmac_sha1_tag (&keys->auth, buf, n - keys->tag_len, NULL, 0, tag, keys->tag_len);
      if (CRYPTO_memcmp (tag, buf + n - keys->tag_len, keys->tag_len) != 0)
        return MEDIA_SRTP_OPENSSL_AUTH_FAIL;
      aes_cm_iv (keys->salt, ssrc, index, iv);
      if (!cipher_begin (&keys->cipher, TRUE, iv, sizeof iv)
          || !encrypt_in_place (&keys->cipher, buf + RTCP_HEADER_LEN, body - RTCP_HEADER_LEN))
        return MEDIA_SRTP_OPENSSL_CIPHER_FAIL;
    }

  if (!state->used)
    {
      state = rx_remember (rx, ssrc);
      if (state == NULL)
        return MEDIA_SRTP_OPENSSL_CIPHER_FAIL;
    }
  rtcp_replay_add (state->replay, index);
  *len = body;
  return MEDIA_SRTP_OPENSSL_OK;
}
