/* nack-cache.h — retransmission cache for one outgoing RTP stream, answering
 * generic NACKs (RFC 4585 §6.2.1) by resending the packets as last sent.
 *
 * Layer: media codec (STYLE.md §1): no GLib, no I/O.  All memory is taken
 * in nack_cache_new(); put and get never allocate.  Not thread-safe: one
 * cache per outgoing stream, used on the room's worker only.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct NackCache NackCache;

/* A ring of @slots packets (a power of two, 1..65536) of at most
 * @max_packet bytes each (> 0).  Returns NULL on bad arguments or when
 * memory is short.  (transfer full): free with nack_cache_free(). */
NackCache *nack_cache_new (unsigned slots, size_t max_packet);
void nack_cache_free (NackCache *c);  /* NULL is allowed */

/* Stores a copy of @pkt (@len bytes) as sequence @seq sent at @now_ms,
 * replacing whatever occupied its slot (seq modulo slots).  A packet
 * longer than max_packet is not stored, and the slot is emptied so that
 * no stale packet is served for a seq that has been re-sent. */
void nack_cache_put (NackCache *c, uint16_t seq, const uint8_t *pkt, size_t len, uint64_t now_ms);

/* The stored packet for @seq, with its length in *len; NULL when it was
 * never stored, has been overwritten, or was stored more than @max_age_ms
 * before @now_ms.  The pointer is valid until the next put or free. */
const uint8_t *nack_cache_get (NackCache *c, uint16_t seq, uint64_t now_ms, uint64_t max_age_ms,
                               size_t *len);

/* Forgets every packet (e.g. after the stream's SSRC changes). */
void nack_cache_clear (NackCache *c);

#ifdef __cplusplus
}
#endif
