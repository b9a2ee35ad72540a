/* nack-cache.h — what answers generic NACKs (RFC 4585 §6.2.1) by resending
 * packets as they were last sent, in two parts:
 *
 *   NackCache  a ring of whole packets by sequence number: one per incoming
 *              stream (a publisher's video track or simulcast layer), the
 *              packets as received, stored once however many subscribers
 *              forward them.
 *   NackLog    one per outgoing stream (a subscriber's video m-line): for
 *              each sequence number sent, which cached packet it was and its
 *              first bytes as rewritten for this subscriber (RTP header,
 *              extensions, payload descriptor).  The forwarding rewrite is in
 *              place and keeps the length, so the rest of the packet is the
 *              cached one's, byte for byte.
 *
 * A log of 512 packets takes about 76 KiB where a cache of the rewritten
 * packets took 750 KiB per subscriber, and forwarding writes ~60 bytes per
 * subscriber instead of copying the whole packet again.
 *
 * Layer: media codec (STYLE.md §1): no GLib, no I/O.  All memory is taken
 * in the _new() functions; put and get never allocate.  Not thread-safe:
 * caches and logs of one room are used on its worker only.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct NackCache NackCache;

/* A ring of @slots packets (a power of two, 1..65536) of at most
 * @max_packet bytes each (> 0).  Returns NULL on bad arguments or when
 * memory is short.  (transfer full): one reference; a NackLog that
 * points into the cache holds one more. */
NackCache *nack_cache_new (unsigned slots, size_t max_packet);
NackCache *nack_cache_ref (NackCache *c);
void nack_cache_unref (NackCache *c);  /* NULL is allowed */

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

typedef struct NackLog NackLog;

/* Rewritten bytes kept per packet: the RTP header with CSRCs and
 * extensions, and a VP8 payload descriptor (at most 6 bytes). */
#define NACK_LOG_MAX_PREFIX 128
/* Caches one log refers to at once: the layers of one simulcast track, or
 * the track before and after a WHEP view switch. */
#define NACK_LOG_SOURCES 4

/* A log of @slots sent packets (a power of two, 1..65536).  NULL on bad
 * arguments or when memory is short.  (transfer full) */
NackLog *nack_log_new (unsigned slots);
void nack_log_free (NackLog *log);    /* NULL is allowed; unrefs its caches */

/* Records that @seq was sent as @len bytes: the first @prefix_len of
 * @sent (the packet as rewritten), then bytes [prefix_len, len) of the
 * packet @source holds as @source_seq, which must be there with the same
 * length.  Replaces what occupied @seq's slot; when the packet cannot be
 * logged (no such source packet, other length, @prefix_len over
 * NACK_LOG_MAX_PREFIX or over @len) the slot is emptied and false is
 * returned.  Keeps a reference to @source while an entry may use it; when
 * a fifth cache comes, the entries of the least recently added one are
 * dropped. */
bool nack_log_put (NackLog *log, uint16_t seq, NackCache *source, uint16_t source_seq,
                   const uint8_t *sent, size_t prefix_len, size_t len, uint64_t now_ms);

/* Rebuilds the packet sent as @seq into @out (@out_size bytes) and returns
 * its length; 0 when it was never logged, was overwritten, was logged more
 * than @max_age_ms before @now_ms, its source packet is gone or no longer
 * the same (another length or SSRC), or it does not fit. */
size_t nack_log_get (NackLog *log, uint16_t seq, uint64_t now_ms, uint64_t max_age_ms,
                     uint8_t *out, size_t out_size);

/* Forgets every entry (e.g. when the outgoing stream gets a new SSRC). */
void nack_log_clear (NackLog *log);

/* Lets go of each cache the log has put nothing from for more than
 * @max_age_ms (its entries could no longer be served), so that the ring
 * of a publisher who left is freed.  Call it now and then (caud: once a
 * second from the room's timer). */
void nack_log_release_idle (NackLog *log, uint64_t now_ms, uint64_t max_age_ms);

#ifdef __cplusplus
}
#endif
