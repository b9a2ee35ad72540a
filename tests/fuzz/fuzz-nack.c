/* fuzz-nack.c — media/nack-cache.c, the retransmission store of the relay's
 * fast path, against a plain model of it.
 *
 * The input is a script of 8-byte operations on five track caches (16
 * packets each, so that slots are overwritten often) and one subscriber's
 * log (32 entries, at most NACK_LOG_SOURCES caches):
 *
 *   byte 0  op % 6: 0 a track stores a packet; 1 the log records a sent
 *           packet; 2 a NACK asks the log for one; 3 the log is cleared;
 *           4 a track is replaced by a new one (its publisher renegotiated
 *           or left: the old cache lives on while the log refers to it);
 *           5 the clock moves on and the log lets idle caches go
 *   byte 1  which track (% 5)
 *   2..3    a sequence number (log or cache)
 *   4..5    the source's sequence number (log put), a length (cache put)
 *   6       a prefix length (log put), fill byte and SSRC (cache put)
 *   7       milliseconds the clock moves on before the operation
 *
 * Every answer of nack_log_get() must be exactly the model's: the packet as
 * sent (its logged first bytes, then the source packet's rest) while the
 * entry and its source packet are still those that were logged, else 0.
 * Memory errors are ASan's to find. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nack-cache.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

#define TRACKS 5
#define CACHE_SLOTS 16
#define LOG_SLOTS 32
#define MAX_PACKET 300
#define MAX_GENERATIONS 64
#define MAX_AGE_MS 1000

typedef struct {
  bool used;
  uint16_t seq;
  size_t len;
  uint8_t bytes[MAX_PACKET];
  uint64_t stored_ms;
} ModelSlot;

/* One track cache as the model sees it. */
typedef struct {
  NackCache *cache;           /* the real one: used only while its track holds it */
  ModelSlot slots[CACHE_SLOTS];
} ModelCache;

typedef struct {
  bool used;
  uint16_t seq;
  int gen;                    /* index in the model's caches */
  uint16_t source_seq;
  size_t len;
  size_t prefix_len;
  uint8_t prefix[NACK_LOG_MAX_PREFIX];
  uint32_t ssrc;
  uint64_t stored_ms;
} ModelEntry;

typedef struct {
  ModelCache caches[MAX_GENERATIONS];
  int n_caches;
  int track[TRACKS];          /* the generation each track holds */
  ModelEntry entries[LOG_SLOTS];
  int sources[NACK_LOG_SOURCES];   /* generations, -1: free */
  uint64_t source_put_ms[NACK_LOG_SOURCES];
  unsigned next_evict;
  uint64_t now;
} Model;

static uint32_t
ssrc_of (const uint8_t *p, size_t len)
{
  return len < 12 ? 0 : (uint32_t) p[8] << 24 | (uint32_t) p[9] << 16 | (uint32_t) p[10] << 8 | p[11];
}

static int
new_generation (Model *m)
{
  ModelCache *c = &m->caches[m->n_caches];

  memset (c, 0, sizeof *c);
  c->cache = nack_cache_new (CACHE_SLOTS, MAX_PACKET);
  if (c->cache == NULL)
    abort ();
  return m->n_caches++;
}

/* The model's nack_cache_get(): the packet stored as @seq, any age. */
static const uint8_t *
model_cache_get (const ModelCache *c, uint16_t seq, size_t *len)
{
  const ModelSlot *s = &c->slots[seq % CACHE_SLOTS];

  if (!s->used || s->seq != seq)
    return NULL;
  *len = s->len;
  return s->bytes;
}

/* The log's choice of a source index (nack-cache.h: the least recently
 * added cache gives way, with its entries). */
static int
model_source_index (Model *m, int gen)
{
  int i;

  for (i = 0; i < NACK_LOG_SOURCES; i++)
    if (m->sources[i] == gen)
      return i;
  for (i = 0; i < NACK_LOG_SOURCES; i++)
    if (m->sources[i] < 0)
      break;
  if (i == NACK_LOG_SOURCES) {
    i = (int) m->next_evict;
    m->next_evict = (m->next_evict + 1) % NACK_LOG_SOURCES;
    for (int k = 0; k < LOG_SLOTS; k++)
      if (m->entries[k].used && m->entries[k].gen == m->sources[i])
        m->entries[k].used = false;
  }
  m->sources[i] = gen;
  return i;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  static Model m;
  NackLog *log = nack_log_new (LOG_SLOTS);
  uint8_t pkt[MAX_PACKET], out[MAX_PACKET + 16];

  if (log == NULL)
    abort ();
  memset (&m, 0, sizeof m);
  for (int i = 0; i < NACK_LOG_SOURCES; i++)
    m.sources[i] = -1;
  for (int t = 0; t < TRACKS; t++)
    m.track[t] = new_generation (&m);
  m.now = 1000;

  for (size_t off = 0; off + 8 <= size; off += 8) {
    const uint8_t *op = data + off;
    int t = op[1] % TRACKS;
    ModelCache *c = &m.caches[m.track[t]];
    uint16_t seq = (uint16_t) (op[2] << 8 | op[3]);
    uint16_t arg = (uint16_t) (op[4] << 8 | op[5]);

    m.now += op[7];
    switch (op[0] % 6) {
    case 0: {                   /* a track stores a packet */
      size_t len = arg % (MAX_PACKET + 40);      /* some too long for the cache */
      ModelSlot *s = &c->slots[seq % CACHE_SLOTS];

      memset (pkt, op[6], sizeof pkt);
      if (len >= 12)
        pkt[8] = pkt[9] = pkt[10] = 0, pkt[11] = (uint8_t) (op[6] & 3);   /* few SSRCs */
      nack_cache_put (c->cache, seq, pkt, len, m.now);
      s->used = len > 0 && len <= MAX_PACKET;
      if (s->used) {
        s->seq = seq;
        s->len = len;
        memcpy (s->bytes, pkt, len);
        s->stored_ms = m.now;
      }
      break;
    }
    case 1: {                   /* the log records a sent packet */
      size_t src_len = 0, prefix_len = op[6] % (NACK_LOG_MAX_PREFIX + 8);
      const uint8_t *src = model_cache_get (c, arg, &src_len);
      ModelEntry *e = &m.entries[seq % LOG_SLOTS];
      bool expect = src != NULL && prefix_len <= src_len && prefix_len <= NACK_LOG_MAX_PREFIX;
      bool ok;

      /* "as rewritten": the source's bytes with the first ones changed */
      if (src != NULL)
        memcpy (pkt, src, src_len);
      for (size_t i = 0; i < prefix_len && i < sizeof pkt; i++)
        pkt[i] ^= (uint8_t) (0x5a + i);
      ok = nack_log_put (log, seq, c->cache, arg, pkt, prefix_len, src_len, m.now);
      if (ok != expect)
        __builtin_trap ();
      e->used = false;
      if (!ok)
        break;
      m.source_put_ms[model_source_index (&m, m.track[t])] = m.now;
      e->used = true;
      e->seq = seq;
      e->gen = m.track[t];
      e->source_seq = arg;
      e->len = src_len;
      e->prefix_len = prefix_len;
      memcpy (e->prefix, pkt, prefix_len);
      e->ssrc = ssrc_of (src, src_len);
      e->stored_ms = m.now;
      break;
    }
    case 2: {                   /* a NACK for @seq */
      const ModelEntry *e = &m.entries[seq % LOG_SLOTS];
      size_t out_size = op[6] % 2 ? sizeof out : (size_t) (op[4] % sizeof out);
      size_t got = nack_log_get (log, seq, m.now, MAX_AGE_MS, out, out_size);
      size_t want = 0, src_len = 0;
      const uint8_t *src = NULL;

      if (e->used && e->seq == seq && e->len <= out_size &&
          !(m.now > e->stored_ms && m.now - e->stored_ms > MAX_AGE_MS))
        src = model_cache_get (&m.caches[e->gen], e->source_seq, &src_len);
      if (src != NULL && src_len == e->len && ssrc_of (src, src_len) == e->ssrc)
        want = e->len;
      if (got != want)
        __builtin_trap ();
      if (want > 0 && (memcmp (out, e->prefix, e->prefix_len) != 0 ||
                       memcmp (out + e->prefix_len, src + e->prefix_len,
                               e->len - e->prefix_len) != 0))
        __builtin_trap ();
      break;
    }
    case 3:
      nack_log_clear (log);
      for (int k = 0; k < LOG_SLOTS; k++)
        m.entries[k].used = false;
      break;
    case 4:                     /* the track's cache is replaced */
      if (m.n_caches == MAX_GENERATIONS)
        break;
      nack_cache_unref (c->cache);  /* the log may still hold it */
      m.track[t] = new_generation (&m);
      break;
    default:                    /* the clock moves; idle caches are let go */
      m.now += (uint64_t) op[6] * 16;
      nack_log_release_idle (log, m.now, MAX_AGE_MS);
      for (int i = 0; i < NACK_LOG_SOURCES; i++)
        if (m.sources[i] >= 0 && m.now > m.source_put_ms[i] &&
            m.now - m.source_put_ms[i] > MAX_AGE_MS) {
          for (int k = 0; k < LOG_SLOTS; k++)
            if (m.entries[k].used && m.entries[k].gen == m.sources[i])
              m.entries[k].used = false;
          m.sources[i] = -1;
        }
      break;
    }
  }

  nack_log_free (log);
  for (int t = 0; t < TRACKS; t++)
    nack_cache_unref (m.caches[m.track[t]].cache);
  return 0;
}
