/* test-dtls.c — media/dtls.c and media/certificate.c: two real OpenSSL
 * peers in one process on one GMainContext.
 *
 * Each side's send() queues the datagram; an idle source delivers the queue
 * to the other side's media_dtls_handle_packet(), so no call re-enters the
 * instance that is sending.  The queue can drop datagrams to simulate loss.
 */
#include <string.h>

#include <glib.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <srtp2/srtp.h>

#include "certificate.h"
#include "dtls.h"
#include "srtp.h"

typedef struct Fixture Fixture;

typedef struct {
  Fixture *fx;
  int index;
  MediaCertificate *cert;
  MediaDtls *dtls;
  int done_calls;
  gboolean ok;
  GError *error;
  int closed_calls;
  guint datagrams_sent;
  gsize max_datagram;
  GPtrArray *sent;            /* GBytes of every datagram sent */
  gboolean free_in_done;
} Side;

struct Fixture {
  GMainContext *context;
  Side side[2];               /* 0 = client, 1 = server */
  GQueue queue;               /* Delivery */
  GSource *deliver_source;
  guint counter;              /* datagrams offered to the wire */
  guint drop_every;           /* 0 = no loss */
  guint drop_until;           /* loss applies to the first N datagrams */
  guint dropped;
  gboolean deliver;           /* FALSE: a black hole */
  gboolean garbage_between;   /* feed noise before each real datagram */
  guint drop_server_datagram; /* drop the server's Nth datagram (1-based) */
};

typedef struct {
  int to;
  GBytes *bytes;
} Delivery;

static const guint8 noise_datagrams[][24] = {
  { 0x16, 0xfe, 0xfd },                                   /* header cut short */
  { 0x17, 0xfe, 0xfd, 0, 1, 0, 0, 0, 0, 0, 9, 0xff, 0xff, 1, 2, 3 }, /* length past end */
  { 0x3f, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 1, 2 },        /* type 63 */
  { 0x16, 0x03, 0x03, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 1, 2 },        /* TLS, not DTLS */
  { 0x14, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0x16 },     /* trailing byte */
};
static const gsize noise_lengths[] = { 3, 16, 15, 15, 15 };

static void deliver_all_soon (Fixture *fx);

static gboolean
deliver_cb (gpointer data)
{
  Fixture *fx = data;
  Delivery *d;

  g_source_unref (fx->deliver_source);
  fx->deliver_source = NULL;
  while ((d = g_queue_pop_head (&fx->queue)) != NULL)
    {
      Side *to = &fx->side[d->to];
      if (to->dtls != NULL)
        {
          if (fx->garbage_between)
            for (gsize i = 0; i < G_N_ELEMENTS (noise_lengths); i++)
              media_dtls_handle_packet (to->dtls, noise_datagrams[i], noise_lengths[i]);
          gsize len;
          const guint8 *buf = g_bytes_get_data (d->bytes, &len);
          media_dtls_handle_packet (to->dtls, buf, len);
        }
      g_bytes_unref (d->bytes);
      g_free (d);
    }
  return G_SOURCE_REMOVE;
}

static void
deliver_all_soon (Fixture *fx)
{
  if (fx->deliver_source != NULL)
    return;
  fx->deliver_source = g_idle_source_new ();
  g_source_set_callback (fx->deliver_source, deliver_cb, fx, NULL);
  g_source_attach (fx->deliver_source, fx->context);
}

static void
on_send (const uint8_t *buf, size_t len, gpointer user_data)
{
  Side *side = user_data;
  Fixture *fx = side->fx;
  Delivery *d;

  g_assert_cmpuint (len, >, 0);
  g_assert_cmpuint (buf[0], >=, 20);
  g_assert_cmpuint (buf[0], <=, 63);                  /* RFC 7983 demux range */
  side->datagrams_sent++;
  side->max_datagram = MAX (side->max_datagram, len);
  g_ptr_array_add (side->sent, g_bytes_new (buf, len));

  fx->counter++;
  if (!fx->deliver)
    return;
  if (side->index == 1 && side->datagrams_sent == fx->drop_server_datagram)
    {
      fx->dropped++;
      return;
    }
  if (fx->drop_every != 0 && fx->counter <= fx->drop_until
      && fx->counter % fx->drop_every == 0)
    {
      fx->dropped++;
      return;
    }
  d = g_new0 (Delivery, 1);
  d->to = 1 - side->index;
  d->bytes = g_bytes_new (buf, len);
  g_queue_push_tail (&fx->queue, d);
  deliver_all_soon (fx);
}

static void
on_done (MediaDtls *dtls, gboolean ok, const GError *error, gpointer user_data)
{
  Side *side = user_data;

  g_assert_true (dtls == side->dtls);
  side->done_calls++;
  side->ok = ok;
  g_assert_true (ok == (error == NULL));
  if (error != NULL)
    side->error = g_error_copy (error);
  if (ok)
    g_assert_true (media_dtls_is_established (dtls));
  if (side->free_in_done)
    {
      media_dtls_free (side->dtls);
      side->dtls = NULL;
    }
}

static void
on_closed (MediaDtls *dtls, gpointer user_data)
{
  Side *side = user_data;

  side->closed_calls++;
}

static void
fixture_setup (Fixture *fx, gconstpointer data)
{
  GError *error = NULL;

  fx->context = g_main_context_new ();
  g_queue_init (&fx->queue);
  fx->deliver = TRUE;
  for (int i = 0; i < 2; i++)
    {
      Side *side = &fx->side[i];
      side->fx = fx;
      side->index = i;
      side->cert = media_certificate_new (&error);
      g_assert_no_error (error);
      side->sent = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
      side->dtls = media_dtls_new (side->cert, fx->context, on_send, on_done, side);
      g_assert_nonnull (side->dtls);
      media_dtls_set_closed_func (side->dtls, on_closed);
    }
}

static void
fixture_teardown (Fixture *fx, gconstpointer data)
{
  Delivery *d;

  for (int i = 0; i < 2; i++)
    {
      Side *side = &fx->side[i];
      media_dtls_free (side->dtls);
      media_certificate_unref (side->cert);
      g_clear_error (&side->error);
      g_ptr_array_unref (side->sent);
    }
  while ((d = g_queue_pop_head (&fx->queue)) != NULL)
    {
      g_bytes_unref (d->bytes);
      g_free (d);
    }
  if (fx->deliver_source != NULL)
    {
      g_source_destroy (fx->deliver_source);
      g_source_unref (fx->deliver_source);
    }
  while (g_main_context_iteration (fx->context, FALSE))
    ;
  g_main_context_unref (fx->context);
}

static void
set_fingerprint (Side *to, Side *of)
{
  GError *error = NULL;

  g_assert_true (media_dtls_set_remote_fingerprint (to->dtls, "sha-256",
                                                    media_certificate_get_fingerprint (of->cert),
                                                    &error));
  g_assert_no_error (error);
}

static gboolean
both_done (Fixture *fx)
{
  return fx->side[0].done_calls > 0 && fx->side[1].done_calls > 0;
}

/* Iterates the context until @until holds or @timeout_ms passes. */
static gboolean
run_until (Fixture *fx, gboolean (*until) (Fixture *), guint timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;

  while (!until (fx))
    {
      if (g_get_monotonic_time () > deadline)
        return FALSE;
      g_main_context_iteration (fx->context, FALSE);
      if (!g_main_context_pending (fx->context))
        g_usleep (1000);
    }
  return TRUE;
}

/* Let the context settle for @ms (trailing retransmissions, alerts). */
static void
run_for (Fixture *fx, guint ms)
{
  gint64 end = g_get_monotonic_time () + (gint64) ms * 1000;

  while (g_get_monotonic_time () < end)
    {
      g_main_context_iteration (fx->context, FALSE);
      g_usleep (1000);
    }
}

static void
start_both (Fixture *fx)
{
  media_dtls_start (fx->side[1].dtls, MEDIA_DTLS_ROLE_SERVER);
  media_dtls_start (fx->side[0].dtls, MEDIA_DTLS_ROLE_CLIENT);
}

/* Both sides export keys; they pair up and drive working SRTP. */
static void
check_keys_and_srtp (Fixture *fx)
{
  guint8 c_local[MEDIA_SRTP_MAX_KEY_SALT_LEN], c_remote[MEDIA_SRTP_MAX_KEY_SALT_LEN];
  guint8 s_local[MEDIA_SRTP_MAX_KEY_SALT_LEN], s_remote[MEDIA_SRTP_MAX_KEY_SALT_LEN];
  size_t c_len = sizeof c_local, s_len = sizeof s_local;
  MediaSrtpProfile c_profile = 0, s_profile = 0;
  MediaSrtp *client, *server;
  guint8 pkt[200 + MEDIA_SRTP_MAX_TRAILER];
  size_t len;
  GError *error = NULL;

  g_assert_true (media_dtls_get_srtp_keys (fx->side[0].dtls, &c_profile, c_local, c_remote, &c_len));
  g_assert_true (media_dtls_get_srtp_keys (fx->side[1].dtls, &s_profile, s_local, s_remote, &s_len));
  g_assert_cmpint (c_profile, ==, s_profile);
  g_assert_cmpuint (c_len, ==, s_len);
  g_assert_cmpmem (c_local, c_len, s_remote, s_len);
  g_assert_cmpmem (c_remote, c_len, s_local, s_len);
  g_assert_cmpint (memcmp (c_local, c_remote, c_len), !=, 0);
  g_test_message ("negotiated %s, %zu-byte key||salt",
                  media_srtp_profile_to_string (c_profile), c_len);

  /* too small a buffer is refused */
  {
    size_t small = c_len - 1;
    g_assert_false (media_dtls_get_srtp_keys (fx->side[0].dtls, NULL, c_local, c_remote, &small));
  }

  client = media_srtp_new (c_profile, c_local, c_len, c_remote, c_len, &error);
  g_assert_no_error (error);
  server = media_srtp_new (s_profile, s_local, s_len, s_remote, s_len, &error);
  g_assert_no_error (error);

  for (int dir = 0; dir < 2; dir++)
    {
      MediaSrtp *tx = dir == 0 ? client : server, *rx = dir == 0 ? server : client;
      static const guint8 hdr[12] = { 0x80, 0x6f, 0x00, 0x2a, 0, 0, 0x10, 0, 0xde, 0xad, 0xbe, 0xef };
      memcpy (pkt, hdr, 12);
      memset (pkt + 12, 0xa5, 188);
      len = 200;
      g_assert_cmpint (media_srtp_protect_rtp (tx, pkt, &len, sizeof pkt), ==, 0);
      g_assert_cmpint (media_srtp_unprotect_rtp (rx, pkt, &len), ==, 0);
      g_assert_cmpuint (len, ==, 200);
      g_assert_cmpmem (pkt, 12, hdr, 12);
    }
  media_srtp_free (client);
  media_srtp_free (server);
}

/* ---- tests ------------------------------------------------------------ */

static void
test_certificate (void)
{
  GError *error = NULL;
  MediaCertificate *a = media_certificate_new (&error), *b;
  const char *fp;
  X509 *x509;
  guint8 md[32];
  unsigned int md_len;
  char *hex;

  g_assert_no_error (error);
  fp = media_certificate_get_fingerprint (a);
  g_assert_cmpuint (strlen (fp), ==, 32 * 3 - 1);
  for (int i = 0; fp[i] != '\0'; i++)
    {
      if (i % 3 == 2)
        g_assert_cmpint (fp[i], ==, ':');
      else
        g_assert_true (g_ascii_isxdigit (fp[i]) && !g_ascii_islower (fp[i]));
    }

  /* it is the SHA-256 of the DER certificate */
  x509 = media_certificate_get_x509 (a);
  g_assert_cmpint (X509_digest (x509, EVP_sha256 (), md, &md_len), ==, 1);
  hex = g_malloc (md_len * 3);
  for (unsigned int i = 0; i < md_len; i++)
    g_snprintf (hex + 3 * i, 4, i + 1 < md_len ? "%02X:" : "%02X", md[i]);
  g_assert_cmpstr (hex, ==, fp);
  g_free (hex);

  /* ECDSA P-256, CN=cau, self-signed, valid about 30 days */
  {
    EVP_PKEY *key = X509_get0_pubkey (x509);
    char cn[16];
    int days = 0, secs = 0;
    g_assert_cmpint (EVP_PKEY_get_base_id (key), ==, EVP_PKEY_EC);
    g_assert_cmpint (EVP_PKEY_get_bits (key), ==, 256);
    g_assert_cmpint (X509_NAME_get_text_by_NID (X509_get_subject_name (x509), NID_commonName,
                                                cn, sizeof cn), ==, 3);
    g_assert_cmpstr (cn, ==, "cau");
    g_assert_cmpint (X509_NAME_cmp (X509_get_subject_name (x509), X509_get_issuer_name (x509)), ==, 0);
    g_assert_cmpint (X509_verify (x509, key), ==, 1);
    g_assert_cmpint (ASN1_TIME_diff (&days, &secs, NULL, X509_get0_notAfter (x509)), ==, 1);
    g_assert_cmpint (days, >=, 29);
    g_assert_cmpint (days, <=, 30);
  }

  /* fresh key and serial each time */
  b = media_certificate_new (&error);
  g_assert_no_error (error);
  g_assert_cmpstr (media_certificate_get_fingerprint (b), !=, fp);
  g_assert_cmpint (ASN1_INTEGER_cmp (X509_get0_serialNumber (x509),
                                     X509_get0_serialNumber (media_certificate_get_x509 (b))), !=, 0);

  g_assert_true (media_certificate_ref (b) == b);
  media_certificate_unref (b);
  media_certificate_unref (b);
  media_certificate_unref (a);
}

static void
test_handshake (Fixture *fx, gconstpointer data)
{
  set_fingerprint (&fx->side[0], &fx->side[1]);
  set_fingerprint (&fx->side[1], &fx->side[0]);
  g_assert_false (media_dtls_is_established (fx->side[0].dtls));
  start_both (fx);
  g_assert_cmpuint (fx->side[0].datagrams_sent, >=, 1);   /* ClientHello now */
  g_assert_cmpuint (fx->side[1].datagrams_sent, ==, 0);

  g_assert_true (run_until (fx, both_done, 10000));
  g_assert_no_error (fx->side[0].error);
  g_assert_no_error (fx->side[1].error);
  g_assert_true (fx->side[0].ok && fx->side[1].ok);
  g_assert_true (media_dtls_is_established (fx->side[0].dtls));
  g_assert_true (media_dtls_is_established (fx->side[1].dtls));
  g_assert_cmpuint (fx->side[0].max_datagram, <=, MEDIA_DTLS_MTU);
  g_assert_cmpuint (fx->side[1].max_datagram, <=, MEDIA_DTLS_MTU);
  g_test_message ("handshake: client sent %u datagrams, server %u",
                  fx->side[0].datagrams_sent, fx->side[1].datagrams_sent);
  check_keys_and_srtp (fx);

  /* the same fingerprint again (a re-offer) is fine, a new one is not */
  set_fingerprint (&fx->side[0], &fx->side[1]);
  {
    GError *error = NULL;
    g_assert_false (media_dtls_set_remote_fingerprint (fx->side[0].dtls, "sha-256",
                                                       media_certificate_get_fingerprint (fx->side[0].cert),
                                                       &error));
    g_assert_error (error, MEDIA_DTLS_ERROR, MEDIA_DTLS_ERROR_STATE);
    g_clear_error (&error);
  }

  run_for (fx, 200);
  g_assert_cmpint (fx->side[0].done_calls, ==, 1);
  g_assert_cmpint (fx->side[1].done_calls, ==, 1);
}

/* The ClientHello reaches the server before its media_dtls_start(). */
static void
test_server_starts_late (Fixture *fx, gconstpointer data)
{
  set_fingerprint (&fx->side[0], &fx->side[1]);
  set_fingerprint (&fx->side[1], &fx->side[0]);
  media_dtls_start (fx->side[0].dtls, MEDIA_DTLS_ROLE_CLIENT);
  run_for (fx, 50);
  g_assert_cmpuint (fx->side[1].datagrams_sent, ==, 0);
  media_dtls_start (fx->side[1].dtls, MEDIA_DTLS_ROLE_SERVER);
  g_assert_cmpuint (fx->side[1].datagrams_sent, >, 0);    /* answered at once */
  g_assert_true (run_until (fx, both_done, 10000));
  g_assert_true (fx->side[0].ok && fx->side[1].ok);
  check_keys_and_srtp (fx);
}

static void
test_wrong_fingerprint_at_client (Fixture *fx, gconstpointer data)
{
  /* the client expects its own certificate: the server's is rejected */
  set_fingerprint (&fx->side[0], &fx->side[0]);
  set_fingerprint (&fx->side[1], &fx->side[0]);
  start_both (fx);
  g_assert_true (run_until (fx, both_done, 10000));
  g_assert_false (fx->side[0].ok);
  g_assert_false (fx->side[1].ok);
  g_assert_error (fx->side[0].error, MEDIA_DTLS_ERROR, MEDIA_DTLS_ERROR_FINGERPRINT);
  g_assert_error (fx->side[1].error, MEDIA_DTLS_ERROR, MEDIA_DTLS_ERROR_HANDSHAKE);
  g_test_message ("server saw: %s", fx->side[1].error->message);
  g_assert_false (media_dtls_is_established (fx->side[0].dtls));
  {
    guint8 k1[64], k2[64];
    size_t n = sizeof k1;
    g_assert_false (media_dtls_get_srtp_keys (fx->side[0].dtls, NULL, k1, k2, &n));
  }
}

static void
test_wrong_fingerprint_at_server (Fixture *fx, gconstpointer data)
{
  set_fingerprint (&fx->side[0], &fx->side[1]);
  set_fingerprint (&fx->side[1], &fx->side[1]);
  start_both (fx);
  g_assert_true (run_until (fx, both_done, 10000));
  g_assert_false (fx->side[0].ok);
  g_assert_false (fx->side[1].ok);
  g_assert_error (fx->side[1].error, MEDIA_DTLS_ERROR, MEDIA_DTLS_ERROR_FINGERPRINT);
  g_assert_error (fx->side[0].error, MEDIA_DTLS_ERROR, MEDIA_DTLS_ERROR_HANDSHAKE);
  g_test_message ("client saw: %s", fx->side[0].error->message);
}

static gboolean
client_done (Fixture *fx)
{
  return fx->side[0].done_calls > 0;
}

static gboolean
server_done (Fixture *fx)
{
  return fx->side[1].done_calls > 0;
}

static gboolean
client_closed (Fixture *fx)
{
  return fx->side[0].closed_calls > 0;
}

static gboolean
server_closed (Fixture *fx)
{
  return fx->side[1].closed_calls > 0;
}

/* The server learns the client's fingerprint only after the handshake. */
static void
test_late_fingerprint (Fixture *fx, gconstpointer data)
{
  set_fingerprint (&fx->side[0], &fx->side[1]);
  start_both (fx);
  g_assert_true (run_until (fx, client_done, 10000));
  g_assert_true (fx->side[0].ok);
  run_for (fx, 100);
  g_assert_cmpint (fx->side[1].done_calls, ==, 0);        /* still waiting */
  g_assert_false (media_dtls_is_established (fx->side[1].dtls));

  set_fingerprint (&fx->side[1], &fx->side[0]);
  g_assert_cmpint (fx->side[1].done_calls, ==, 0);        /* not from inside the setter */
  g_assert_true (run_until (fx, server_done, 1000));
  g_assert_true (fx->side[1].ok);
  check_keys_and_srtp (fx);
}

static void
test_late_wrong_fingerprint (Fixture *fx, gconstpointer data)
{
  set_fingerprint (&fx->side[0], &fx->side[1]);
  start_both (fx);
  g_assert_true (run_until (fx, client_done, 10000));
  g_assert_true (fx->side[0].ok);

  set_fingerprint (&fx->side[1], &fx->side[1]);           /* wrong */
  g_assert_true (run_until (fx, server_done, 1000));
  g_assert_false (fx->side[1].ok);
  g_assert_error (fx->side[1].error, MEDIA_DTLS_ERROR, MEDIA_DTLS_ERROR_FINGERPRINT);
  /* the server's close_notify tells the client, which had succeeded */
  g_assert_true (run_until (fx, client_closed, 1000));
  g_assert_false (media_dtls_is_established (fx->side[0].dtls));
}

static void
test_packet_loss (Fixture *fx, gconstpointer data)
{
  gint64 start;

  fx->drop_every = 3;
  fx->drop_until = 24;
  set_fingerprint (&fx->side[0], &fx->side[1]);
  set_fingerprint (&fx->side[1], &fx->side[0]);
  start = g_get_monotonic_time ();
  start_both (fx);
  g_assert_true (run_until (fx, both_done, 25000));
  g_assert_true (fx->side[0].ok);
  g_assert_true (fx->side[1].ok);
  g_assert_cmpuint (fx->dropped, >, 0);
  g_test_message ("completed after dropping %u of %u datagrams in %.1f s",
                  fx->dropped, fx->counter,
                  (g_get_monotonic_time () - start) / 1e6);
  check_keys_and_srtp (fx);
}

static gboolean
both_established_and_idle (Fixture *fx)
{
  return both_done (fx) && g_queue_is_empty (&fx->queue);
}

static void
test_garbage (Fixture *fx, gconstpointer data)
{
  GRand *rand = g_rand_new_with_seed (5764);
  guint8 buf[1500];

  set_fingerprint (&fx->side[0], &fx->side[1]);
  set_fingerprint (&fx->side[1], &fx->side[0]);

  /* before start: noise is dropped, not queued */
  for (gsize i = 0; i < G_N_ELEMENTS (noise_lengths); i++)
    media_dtls_handle_packet (fx->side[1].dtls, noise_datagrams[i], noise_lengths[i]);
  media_dtls_handle_packet (fx->side[1].dtls, buf, 0);
  g_assert_cmpuint (media_dtls_get_dropped_packets (fx->side[1].dtls), ==,
                    G_N_ELEMENTS (noise_lengths) + 1);

  /* during the handshake: noise before every real datagram */
  fx->garbage_between = TRUE;
  start_both (fx);
  g_assert_true (run_until (fx, both_established_and_idle, 10000));
  g_assert_true (fx->side[0].ok && fx->side[1].ok);
  fx->garbage_between = FALSE;

  /* after: random bytes, and well-formed record headers around random
   * bodies (epoch 0 and 1, every content type): OpenSSL drops them */
  for (int i = 0; i < 3000; i++)
    {
      gsize n = g_rand_int_range (rand, 1, sizeof buf);
      for (gsize j = 0; j < n; j++)
        buf[j] = (guint8) g_rand_int (rand);
      if (i % 2 == 1 && n >= 13)
        {
          buf[0] = 20 + i % 4;
          buf[1] = 0xfe;
          buf[2] = 0xfd;
          buf[3] = 0;
          buf[4] = (i / 2) % 2;                       /* epoch */
          buf[11] = (guint8) ((n - 13) >> 8);
          buf[12] = (guint8) (n - 13);
        }
      media_dtls_handle_packet (fx->side[(i / 3) % 2].dtls, buf, n);
    }
  run_for (fx, 100);
  g_test_message ("dropped as malformed: client %" G_GUINT64_FORMAT
                  ", server %" G_GUINT64_FORMAT,
                  media_dtls_get_dropped_packets (fx->side[0].dtls),
                  media_dtls_get_dropped_packets (fx->side[1].dtls));
  g_assert_cmpuint (media_dtls_get_dropped_packets (fx->side[0].dtls), >, 0);
  g_assert_cmpuint (media_dtls_get_dropped_packets (fx->side[1].dtls), >, 0);
  g_assert_true (media_dtls_is_established (fx->side[0].dtls));
  g_assert_true (media_dtls_is_established (fx->side[1].dtls));
  g_assert_cmpint (fx->side[0].closed_calls + fx->side[1].closed_calls, ==, 0);
  check_keys_and_srtp (fx);
  g_rand_free (rand);
}

/* The server's final flight (ChangeCipherSpec, Finished) is lost: the
 * server is done, the client retransmits its last flight, and the
 * established server must answer it (RFC 6347 §4.2.4). */
static void
test_retransmitted_finished (Fixture *fx, gconstpointer data)
{
  guint client_sent;

  fx->drop_server_datagram = 2;
  set_fingerprint (&fx->side[0], &fx->side[1]);
  set_fingerprint (&fx->side[1], &fx->side[0]);
  start_both (fx);
  g_assert_true (run_until (fx, server_done, 10000));
  g_assert_true (fx->side[1].ok);
  g_assert_cmpint (fx->side[0].done_calls, ==, 0);
  g_assert_true (run_until (fx, client_done, 5000));
  g_assert_true (fx->side[0].ok);
  g_assert_cmpuint (fx->dropped, ==, 1);
  g_assert_cmpuint (fx->side[1].datagrams_sent, >=, 3);     /* answered */
  g_test_message ("client sent %u datagrams, server %u",
                  fx->side[0].datagrams_sent, fx->side[1].datagrams_sent);

  /* a byte-identical replay of the client's flight is a DTLS replay
   * (same record sequence numbers): dropped by OpenSSL, harmless */
  client_sent = fx->side[0].sent->len;
  for (guint i = 1; i < client_sent; i++)
    {
      gsize len;
      const guint8 *buf = g_bytes_get_data (g_ptr_array_index (fx->side[0].sent, i), &len);
      media_dtls_handle_packet (fx->side[1].dtls, buf, len);
    }
  run_for (fx, 200);
  g_assert_true (media_dtls_is_established (fx->side[0].dtls));
  g_assert_true (media_dtls_is_established (fx->side[1].dtls));
  g_assert_cmpint (fx->side[0].done_calls, ==, 1);
  g_assert_cmpint (fx->side[1].done_calls, ==, 1);
  check_keys_and_srtp (fx);
}

static void
test_close_notify (Fixture *fx, gconstpointer data)
{
  guint sent;

  set_fingerprint (&fx->side[0], &fx->side[1]);
  set_fingerprint (&fx->side[1], &fx->side[0]);
  start_both (fx);
  g_assert_true (run_until (fx, both_established_and_idle, 10000));

  sent = fx->side[0].datagrams_sent;
  media_dtls_close (fx->side[0].dtls);
  g_assert_cmpuint (fx->side[0].datagrams_sent, ==, sent + 1);  /* close_notify */
  g_assert_false (media_dtls_is_established (fx->side[0].dtls));
  media_dtls_close (fx->side[0].dtls);                          /* idempotent */
  g_assert_cmpuint (fx->side[0].datagrams_sent, ==, sent + 1);

  g_assert_true (run_until (fx, server_closed, 1000));
  g_assert_false (media_dtls_is_established (fx->side[1].dtls));
  g_assert_cmpint (fx->side[0].closed_calls, ==, 0);
  g_assert_cmpint (fx->side[1].done_calls, ==, 1);
  g_assert_true (fx->side[1].ok);
}

/* Nobody answers: retransmissions, then done(FALSE, TIMEOUT). */
static void
test_timeout (Fixture *fx, gconstpointer data)
{
  gint64 start = g_get_monotonic_time ();
  double elapsed;

  fx->deliver = FALSE;
  set_fingerprint (&fx->side[0], &fx->side[1]);
  media_dtls_set_handshake_timeout (fx->side[0].dtls, 1500);
  media_dtls_start (fx->side[0].dtls, MEDIA_DTLS_ROLE_CLIENT);
  g_assert_true (run_until (fx, client_done, 5000));
  elapsed = (g_get_monotonic_time () - start) / 1e6;
  g_assert_false (fx->side[0].ok);
  g_assert_error (fx->side[0].error, MEDIA_DTLS_ERROR, MEDIA_DTLS_ERROR_TIMEOUT);
  g_assert_cmpfloat (elapsed, >=, 1.4);
  /* ClientHello at 0, then retransmitted at 0.4 s and 1.2 s */
  g_assert_cmpuint (fx->side[0].datagrams_sent, >=, 2);
  g_test_message ("timed out after %.2f s, %u ClientHellos", elapsed,
                  fx->side[0].datagrams_sent);
  run_for (fx, 600);                       /* no timer left running */
  g_assert_cmpint (fx->side[0].done_calls, ==, 1);
}

static void
test_fingerprint_formats (Fixture *fx, gconstpointer data)
{
  GError *error = NULL;
  MediaDtls *d = fx->side[0].dtls;
  const char *fp = media_certificate_get_fingerprint (fx->side[1].cert);
  g_autofree char *lower = g_ascii_strdown (fp, -1);
  g_autofree char *short_fp = g_strndup (fp, strlen (fp) - 3);
  g_autofree char *bad_sep = g_strdup (fp);
  guint8 md[EVP_MAX_MD_SIZE];
  unsigned int md_len;
  GString *sha512 = g_string_new (NULL);

  g_assert_false (media_dtls_set_remote_fingerprint (d, "md5", fp, &error));
  g_assert_error (error, MEDIA_DTLS_ERROR, MEDIA_DTLS_ERROR_INVALID_FINGERPRINT);
  g_clear_error (&error);
  g_assert_false (media_dtls_set_remote_fingerprint (d, "sha-256", short_fp, &error));
  g_assert_error (error, MEDIA_DTLS_ERROR, MEDIA_DTLS_ERROR_INVALID_FINGERPRINT);
  g_clear_error (&error);
  bad_sep[2] = '-';
  g_assert_false (media_dtls_set_remote_fingerprint (d, "sha-256", bad_sep, &error));
  g_clear_error (&error);
  g_assert_false (media_dtls_set_remote_fingerprint (d, "sha-1", fp, &error));   /* too long */
  g_clear_error (&error);
  g_assert_false (media_dtls_set_remote_fingerprint (d, "sha-256", "", &error));
  g_clear_error (&error);
  g_assert_true (media_dtls_set_remote_fingerprint (d, "SHA-256", lower, &error));
  g_assert_no_error (error);

  /* the handshake works with a sha-512 fingerprint too */
  g_assert_cmpint (X509_digest (media_certificate_get_x509 (fx->side[1].cert), EVP_sha512 (),
                                md, &md_len), ==, 1);
  for (unsigned int i = 0; i < md_len; i++)
    g_string_append_printf (sha512, i ? ":%02x" : "%02x", md[i]);
  g_assert_true (media_dtls_set_remote_fingerprint (d, "sha-512", sha512->str, &error));
  g_assert_no_error (error);
  g_string_free (sha512, TRUE);

  set_fingerprint (&fx->side[1], &fx->side[0]);
  start_both (fx);
  g_assert_true (run_until (fx, both_done, 10000));
  g_assert_true (fx->side[0].ok && fx->side[1].ok);
}

/* done() may free the instance (the peer connection tears down). */
static void
test_free_in_done (Fixture *fx, gconstpointer data)
{
  fx->side[0].free_in_done = TRUE;
  fx->side[1].free_in_done = TRUE;
  set_fingerprint (&fx->side[0], &fx->side[1]);
  set_fingerprint (&fx->side[1], &fx->side[1]);           /* server fails */
  start_both (fx);
  g_assert_true (run_until (fx, both_done, 10000));
  g_assert_null (fx->side[0].dtls);
  g_assert_null (fx->side[1].dtls);
  run_for (fx, 100);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/media/dtls/certificate", test_certificate);
#define ADD(path, fn) \
  g_test_add ("/media/dtls/" path, Fixture, NULL, fixture_setup, fn, fixture_teardown)
  ADD ("handshake", test_handshake);
  ADD ("server-starts-late", test_server_starts_late);
  ADD ("wrong-fingerprint-at-client", test_wrong_fingerprint_at_client);
  ADD ("wrong-fingerprint-at-server", test_wrong_fingerprint_at_server);
  ADD ("late-fingerprint", test_late_fingerprint);
  ADD ("late-wrong-fingerprint", test_late_wrong_fingerprint);
  ADD ("packet-loss", test_packet_loss);
  ADD ("garbage", test_garbage);
  ADD ("retransmitted-finished", test_retransmitted_finished);
  ADD ("close-notify", test_close_notify);
  ADD ("timeout", test_timeout);
  ADD ("fingerprint-formats", test_fingerprint_formats);
  ADD ("free-in-done", test_free_in_done);
#undef ADD
  return g_test_run ();
}
