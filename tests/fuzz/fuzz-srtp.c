/* fuzz-srtp.c — libFuzzer target for media/srtp-openssl.c.
 *
 * Input: one byte choosing the profile (low two bits), then records of
 *   flags | length (16 bits, big-endian) | that many bytes
 * (the last record takes what is left).  Flags: bit 0 RTCP; bit 1 the
 * record itself also arrives at the receivers, as a forged packet; bit 2
 * one bit of the protected packet is flipped on the way, at a place chosen
 * by bits 3-7.  Each record is protected by the OpenSSL transform in an
 * exact-size heap buffer (packet + trailer, so ASan sees any access
 * outside) and by an identically keyed libsrtp2 session: same verdict,
 * same bytes.  An RTP record is also protected split, as the relay does
 * (the head, cut at a place chosen by bits 3-7, in its buffer; the rest in
 * an exact-size buffer of its own), by a third session: the same verdict
 * and bytes as in place.  What was protected goes to a libsrtp2 receiver
 * and to the OpenSSL transform's unprotect (SRTP or SRTCP), again in an
 * exact-size buffer: same verdict, same bytes; unflipped, it must come
 * back as the original packet, or for RTP be refused only as a replay
 * (the input may repeat a sequence number).  Broken invariants trap.
 * Sessions are fresh for each input, so a crash replays alone. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <srtp2/srtp.h>

#include "srtp.h"
#include "srtp-openssl.h"

#define CHECK(cond) do { if (!(cond)) __builtin_trap (); } while (0)

#define MAX_RECORD 1500

static const MediaSrtpProfile profiles[4] = {
  MEDIA_SRTP_AES128_CM_SHA1_80, MEDIA_SRTP_AES128_CM_SHA1_32,
  MEDIA_SRTP_AEAD_AES_128_GCM, MEDIA_SRTP_AEAD_AES_256_GCM,
};

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

/* @packet (SRTCP if @rtcp) arrives at both receivers: the same verdict,
 * and on OK the same bytes, which are returned in a heap buffer (NULL
 * otherwise). */
static uint8_t *
receive (MediaSrtpOpenssl *rx, srtp_t receiver, int rtcp, const uint8_t *packet, size_t len,
         int *status, size_t *out_len)
{
  uint8_t *ours = malloc (len ? len : 1);
  uint8_t *theirs = malloc (len ? len : 1);
  size_t our_len = len;
  int their_len = (int) len, ours_status, theirs_status;

  CHECK (ours != NULL && theirs != NULL);
  if (len > 0)
    {
      memcpy (ours, packet, len);
      memcpy (theirs, packet, len);
    }
  if (rtcp)
    {
      ours_status = as_libsrtp (media_srtp_openssl_unprotect_rtcp (rx, ours, &our_len));
      theirs_status = len < 8 ? srtp_err_status_bad_param
                              : srtp_unprotect_rtcp (receiver, theirs, &their_len);
    }
  else
    {
      ours_status = as_libsrtp (media_srtp_openssl_unprotect_rtp (rx, ours, &our_len));
      theirs_status = len < 12 ? srtp_err_status_bad_param
                               : srtp_unprotect (receiver, theirs, &their_len);
    }
  CHECK (ours_status == theirs_status);
  if (ours_status == srtp_err_status_ok)
    CHECK (our_len == (size_t) their_len && memcmp (ours, theirs, our_len) == 0);
  free (theirs);
  *status = ours_status;
  if (ours_status != srtp_err_status_ok)
    {
      free (ours);
      return NULL;
    }
  *out_len = our_len;
  return ours;
}

/* @data protected by @tx_split with the packet cut at @cut: the verdict
 * @status and bytes @want (of @want_len) that protect in place gave. */
static void
protect_split (MediaSrtpOpenssl *tx_split, const uint8_t *data, size_t len, size_t cut,
               int status, const uint8_t *want, size_t want_len)
{
  size_t cap = len + MEDIA_SRTP_OPENSSL_MAX_TRAILER, out_len = 0;
  uint8_t *head = malloc (cap ? cap : 1);
  uint8_t *rest = malloc (len - cut ? len - cut : 1);

  CHECK (head != NULL && rest != NULL);
  memcpy (head, data, cut);
  memcpy (rest, data + cut, len - cut);
  CHECK (as_libsrtp (media_srtp_openssl_protect_rtp_split (tx_split, head, cut, rest, len - cut,
                                                           &out_len, cap)) == status);
  if (status == srtp_err_status_ok)
    CHECK (out_len == want_len && memcmp (head, want, want_len) == 0);
  else
    CHECK (cut == 0 || memcmp (head, data, cut) == 0);
  free (head);
  free (rest);
}

static void
one_record (MediaSrtpOpenssl *tx, MediaSrtpOpenssl *tx_split, MediaSrtpOpenssl *rx_openssl,
            srtp_t oracle, srtp_t receiver, int flags, const uint8_t *data, size_t len,
            int *dropped)
{
  int rtcp = flags & 1;
  size_t cap = len + MEDIA_SRTP_OPENSSL_MAX_TRAILER;
  uint8_t *ours = malloc (cap ? cap : 1);
  uint8_t *theirs = malloc (len + MEDIA_SRTP_MAX_TRAILER);
  size_t our_len = len;
  int their_len = (int) len, ours_status, theirs_status, rx;

  CHECK (ours != NULL && theirs != NULL);
  if (flags & 2)
    {
      /* a forged packet: refused alike (a valid tag is out of reach) */
      size_t forged_len;

      free (receive (rx_openssl, receiver, rtcp, data, len, &rx, &forged_len));
      CHECK (rx != srtp_err_status_ok);
    }
  if (len > 0)
    {
      memcpy (ours, data, len);
      memcpy (theirs, data, len);
    }
  if (rtcp)
    {
      ours_status = as_libsrtp (media_srtp_openssl_protect_rtcp (tx, ours, &our_len, cap));
      theirs_status = len < 8 ? srtp_err_status_bad_param
                              : srtp_protect_rtcp (oracle, theirs, &their_len);
    }
  else
    {
      ours_status = as_libsrtp (media_srtp_openssl_protect_rtp (tx, ours, &our_len, cap));
      theirs_status = len < 12 ? srtp_err_status_bad_param
                               : srtp_protect (oracle, theirs, &their_len);
      protect_split (tx_split, data, len, ((size_t) (flags >> 3) * 53) % (len + 1), ours_status,
                     ours, our_len);
    }
  CHECK (ours_status == theirs_status);
  if (ours_status != srtp_err_status_ok)
    {
      CHECK (our_len == len);
      CHECK (len == 0 || memcmp (ours, data, len) == 0);
      goto out;
    }
  CHECK (our_len <= cap);
  CHECK (our_len == (size_t) their_len && memcmp (ours, theirs, our_len) == 0);

  {
    size_t back_len = 0;
    uint8_t *back;

    if (flags & 4)
      ours[((size_t) (flags >> 3) * 37) % our_len] ^= (uint8_t) (1 << ((flags >> 3) & 7));
    back = receive (rx_openssl, receiver, rtcp, ours, our_len, &rx, &back_len);
    if (flags & 4)
      {
        CHECK (rx != srtp_err_status_ok);
        /* the receiver's highest index now lags the sender's: near a
         * wrap the two may guess different ROCs (RFC 3711 §3.3.1), and
         * the receiver then refuses a packet (as libsrtp2 does too) */
        if (!rtcp)
          *dropped = 1;
      }
    else if (rx == srtp_err_status_ok)
      CHECK (back_len == len && memcmp (back, data, len) == 0);
    else
      /* SRTCP indices only grow; an RTP sequence number may repeat */
      CHECK (!rtcp && (rx == srtp_err_status_replay_fail || rx == srtp_err_status_replay_old
                       || (*dropped && rx == srtp_err_status_auth_fail)));
    free (back);
  }

out:
  free (ours);
  free (theirs);
}

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  uint8_t key[MEDIA_SRTP_MAX_KEY_SALT_LEN];
  MediaSrtpProfile profile;
  size_t key_len, salt_len, pos = 1;
  srtp_policy_t policy;
  srtp_t oracle = NULL, receiver = NULL;
  MediaSrtpOpenssl *tx, *tx_split, *rx;
  int dropped = 0;

  if (size < 1)
    return 0;
  CHECK (media_srtp_global_init (NULL));
  profile = profiles[data[0] & 3];
  CHECK (media_srtp_profile_get_key_lengths (profile, &key_len, &salt_len));
  for (size_t i = 0; i < sizeof key; i++)
    key[i] = (uint8_t) (i * 61 + 17);

  tx = media_srtp_openssl_new (profile, key, key_len + salt_len, NULL);
  CHECK (tx != NULL);
  tx_split = media_srtp_openssl_new (profile, key, key_len + salt_len, NULL);
  CHECK (tx_split != NULL);
  rx = media_srtp_openssl_new (profile, key, key_len + salt_len, NULL);
  CHECK (rx != NULL);
  CHECK (media_srtp_policy_init (&policy, profile, key, 1));
  CHECK (srtp_create (&oracle, &policy) == srtp_err_status_ok);
  CHECK (media_srtp_policy_init (&policy, profile, key, 0));
  CHECK (srtp_create (&receiver, &policy) == srtp_err_status_ok);

  while (pos + 3 <= size)
    {
      int flags = data[pos];
      size_t len = (size_t) data[pos + 1] << 8 | data[pos + 2];

      pos += 3;
      if (len > size - pos)
        len = size - pos;
      if (len > MAX_RECORD)
        len = MAX_RECORD;
      one_record (tx, tx_split, rx, oracle, receiver, flags, data + pos, len, &dropped);
      pos += len;
    }

  media_srtp_openssl_free (tx);
  media_srtp_openssl_free (tx_split);
  media_srtp_openssl_free (rx);
  srtp_dealloc (oracle);
  srtp_dealloc (receiver);
  return 0;
}
