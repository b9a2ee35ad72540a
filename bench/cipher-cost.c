/* cipher-cost — what one AES-128-GCM seal of a forwarded packet costs when
 * each packet goes to another subscriber's key, through OpenSSL 3.0's EVP
 * layer and without it (docs/performance.md, step 11).  Not part of caud;
 * a measurement aid.
 *
 *   cipher-cost [CONTEXTS [EVICT_KB [PACKETS]]]
 *
 * Keys CONTEXTS (320) contexts, then seals PACKETS (200 000) packets of a
 * 12-byte header (the AAD) and a 1188-byte payload, packet i with context
 * i % CONTEXTS, in two ways:
 *   evp     as media/srtp-openssl.c does: EVP_EncryptInit_ex() for the IV,
 *           EVP_EncryptUpdate() for the AAD and the payload,
 *           EVP_EncryptFinal_ex(), EVP_CIPHER_CTX_ctrl() for the tag;
 *   direct  the provider's own functions, taken from its dispatch table
 *           (OSSL_PROVIDER_query_operation), on contexts made with its own
 *           newctx: the same work without the EVP layer's parameter
 *           lookups.
 * Before each seal it writes one byte per cache line of EVICT_KB (0) KiB of
 * other memory, a stand-in for what the kernel's send and the other
 * subscribers' state push out of the cache between two visits of one
 * subscriber.  Only the seal is timed (two clock reads, the same for both
 * ways).  It checks that both ways give the same ciphertext and tags, and
 * prints the mean µs per seal, three rounds each.
 *
 *   taskset -c 1 build-bench/bench/cipher-cost 320 0
 *   taskset -c 1 build-bench/bench/cipher-cost 320 1024
 */
#include <openssl/core_dispatch.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/provider.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define AAD_LEN 12
#define PAYLOAD_LEN 1188
#define IV_LEN 12
#define TAG_LEN 16
#define ROUNDS 3

typedef struct {
  OSSL_FUNC_cipher_newctx_fn *newctx;
  OSSL_FUNC_cipher_freectx_fn *freectx;
  OSSL_FUNC_cipher_encrypt_init_fn *einit;
  OSSL_FUNC_cipher_update_fn *update;
  OSSL_FUNC_cipher_final_fn *final;
  OSSL_FUNC_cipher_get_ctx_params_fn *get_ctx_params;
  void *provctx;
} Provider;

static uint8_t *evict;
static size_t evict_len;

static double
now (void)
{
  struct timespec t;

  clock_gettime (CLOCK_MONOTONIC, &t);
  return (double) t.tv_sec + (double) t.tv_nsec * 1e-9;
}

static void
evict_cache (void)
{
  for (size_t i = 0; i < evict_len; i += 64)
    evict[i]++;
}

static void
die (const char *what)
{
  fprintf (stderr, "cipher-cost: %s failed\n", what);
  exit (1);
}

/* The default provider's AES-128-GCM functions. */
static Provider
provider_functions (void)
{
  EVP_CIPHER *cipher = EVP_CIPHER_fetch (NULL, "AES-128-GCM", NULL);
  const OSSL_PROVIDER *prov;
  const OSSL_ALGORITHM *alg;
  const OSSL_DISPATCH *d = NULL;
  Provider p = { 0 };
  int no_cache;

  if (cipher == NULL)
    die ("EVP_CIPHER_fetch");
  prov = EVP_CIPHER_get0_provider (cipher);
  for (alg = OSSL_PROVIDER_query_operation (prov, OSSL_OP_CIPHER, &no_cache);
       alg != NULL && alg->algorithm_names != NULL; alg++)
    if (strncmp (alg->algorithm_names, "AES-128-GCM:", 12) == 0 ||
        strcmp (alg->algorithm_names, "AES-128-GCM") == 0) {
      d = alg->implementation;
      break;
    }
  if (d == NULL)
    die ("finding AES-128-GCM in the provider");
  for (; d->function_id != 0; d++)
    switch (d->function_id) {
    case OSSL_FUNC_CIPHER_NEWCTX: p.newctx = OSSL_FUNC_cipher_newctx (d); break;
    case OSSL_FUNC_CIPHER_FREECTX: p.freectx = OSSL_FUNC_cipher_freectx (d); break;
    case OSSL_FUNC_CIPHER_ENCRYPT_INIT: p.einit = OSSL_FUNC_cipher_encrypt_init (d); break;
    case OSSL_FUNC_CIPHER_UPDATE: p.update = OSSL_FUNC_cipher_update (d); break;
    case OSSL_FUNC_CIPHER_FINAL: p.final = OSSL_FUNC_cipher_final (d); break;
    case OSSL_FUNC_CIPHER_GET_CTX_PARAMS:
      p.get_ctx_params = OSSL_FUNC_cipher_get_ctx_params (d);
      break;
    default: break;
    }
  if (p.newctx == NULL || p.freectx == NULL || p.einit == NULL || p.update == NULL ||
      p.final == NULL || p.get_ctx_params == NULL)
    die ("finding the provider's cipher functions");
  p.provctx = OSSL_PROVIDER_get0_provider_ctx (prov);
  EVP_CIPHER_free (cipher);
  return p;
}

static void
make_key (uint8_t key[16], unsigned k)
{
  for (unsigned i = 0; i < 16; i++)
    key[i] = (uint8_t) (k * 31 + i);
}

static void
make_iv (uint8_t iv[IV_LEN], unsigned i)
{
  memset (iv, 0x5a, IV_LEN);
  iv[8] = (uint8_t) (i >> 24);
  iv[9] = (uint8_t) (i >> 16);
  iv[10] = (uint8_t) (i >> 8);
  iv[11] = (uint8_t) i;
}

static int
seal_evp (EVP_CIPHER_CTX *c, const uint8_t *iv, const uint8_t *aad, const uint8_t *in,
          uint8_t *out, uint8_t *tag)
{
  int n;

  return EVP_EncryptInit_ex (c, NULL, NULL, NULL, iv) == 1 &&
         EVP_EncryptUpdate (c, NULL, &n, aad, AAD_LEN) == 1 &&
         EVP_EncryptUpdate (c, out, &n, in, PAYLOAD_LEN) == 1 &&
         EVP_EncryptFinal_ex (c, out + PAYLOAD_LEN, &n) == 1 &&
         EVP_CIPHER_CTX_ctrl (c, EVP_CTRL_AEAD_GET_TAG, TAG_LEN, tag) == 1;
}

static int
seal_direct (const Provider *p, void *ctx, const uint8_t *iv, const uint8_t *aad,
             const uint8_t *in, uint8_t *out, uint8_t *tag)
{
  OSSL_PARAM params[] = {
    OSSL_PARAM_octet_string (OSSL_CIPHER_PARAM_AEAD_TAG, tag, TAG_LEN),
    OSSL_PARAM_END,
  };
  size_t n;

  return p->einit (ctx, NULL, 0, iv, IV_LEN, NULL) == 1 &&
         p->update (ctx, NULL, &n, AAD_LEN, aad, AAD_LEN) == 1 &&
         p->update (ctx, out, &n, PAYLOAD_LEN, in, PAYLOAD_LEN) == 1 &&
         p->final (ctx, out + PAYLOAD_LEN, &n, 0) == 1 &&
         p->get_ctx_params (ctx, params) == 1;
}

int
main (int argc, char **argv)
{
  unsigned contexts = argc > 1 ? (unsigned) strtoul (argv[1], NULL, 10) : 320;
  size_t evict_kb = argc > 2 ? strtoul (argv[2], NULL, 10) : 0;
  unsigned packets = argc > 3 ? (unsigned) strtoul (argv[3], NULL, 10) : 200000;
  EVP_CIPHER_CTX **evp;
  void **direct;
  Provider p = provider_functions ();
  uint8_t key[16], iv[IV_LEN], aad[AAD_LEN], in[PAYLOAD_LEN];
  uint8_t out_evp[PAYLOAD_LEN + TAG_LEN], out_direct[PAYLOAD_LEN + TAG_LEN];
  uint8_t tag_evp[TAG_LEN], tag_direct[TAG_LEN];

  if (contexts == 0 || packets == 0) {
    fprintf (stderr, "usage: cipher-cost [CONTEXTS [EVICT_KB [PACKETS]]]\n");
    return 2;
  }
  evict_len = evict_kb * 1024;
  evict = calloc (1, evict_len + 64);
  evp = calloc (contexts, sizeof *evp);
  direct = calloc (contexts, sizeof *direct);
  if (evict == NULL || evp == NULL || direct == NULL)
    die ("calloc");
  for (unsigned k = 0; k < contexts; k++) {
    make_key (key, k);
    evp[k] = EVP_CIPHER_CTX_new ();
    if (evp[k] == NULL || EVP_EncryptInit_ex (evp[k], EVP_aes_128_gcm (), NULL, key, NULL) != 1)
      die ("keying an EVP context");
    direct[k] = p.newctx (p.provctx);
    if (direct[k] == NULL || p.einit (direct[k], key, sizeof key, NULL, 0, NULL) != 1)
      die ("keying a provider context");
  }
  for (unsigned i = 0; i < sizeof in; i++)
    in[i] = (uint8_t) (i * 7);
  memset (aad, 0x80, sizeof aad);

  /* Both ways must seal alike, or the timing compares different work. */
  for (unsigned i = 0; i < 2 * contexts && i < packets; i++) {
    make_iv (iv, i);
    if (!seal_evp (evp[i % contexts], iv, aad, in, out_evp, tag_evp) ||
        !seal_direct (&p, direct[i % contexts], iv, aad, in, out_direct, tag_direct))
      die ("a seal");
    if (memcmp (out_evp, out_direct, PAYLOAD_LEN) != 0 ||
        memcmp (tag_evp, tag_direct, TAG_LEN) != 0) {
      fprintf (stderr, "cipher-cost: evp and direct seal packet %u differently\n", i);
      return 1;
    }
  }

  printf ("contexts %u, evict %zu KiB between seals, %u packets per round\n", contexts,
          evict_kb, packets);
  for (int round = 0; round < ROUNDS; round++) {
    double t_evp = 0, t_direct = 0, t0;

    for (unsigned i = 0; i < packets; i++) {
      make_iv (iv, i);
      evict_cache ();
      t0 = now ();
      if (!seal_evp (evp[i % contexts], iv, aad, in, out_evp, tag_evp))
        die ("an EVP seal");
      t_evp += now () - t0;
    }
    for (unsigned i = 0; i < packets; i++) {
      make_iv (iv, i);
      evict_cache ();
      t0 = now ();
      if (!seal_direct (&p, direct[i % contexts], iv, aad, in, out_direct, tag_direct))
        die ("a direct seal");
      t_direct += now () - t0;
    }
    printf ("round %d: evp %.3f us  direct %.3f us  per seal\n", round + 1,
            t_evp / packets * 1e6, t_direct / packets * 1e6);
  }
  for (unsigned k = 0; k < contexts; k++) {
    EVP_CIPHER_CTX_free (evp[k]);
    p.freectx (direct[k]);
  }
  free (evp);
  free (direct);
  free (evict);
  return 0;
}
