/* nack-cache.c — retransmission ring; see nack-cache.h for the contracts. */
#include "nack-cache.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  bool used;
  uint16_t seq;
  size_t len;
  uint64_t stored_ms;
} NackSlot;

struct NackCache {
  unsigned refs;
  unsigned mask;
  size_t max_packet;
  NackSlot *slots;
  uint8_t *data;        /* slots × max_packet bytes */
};

NackCache *
nack_cache_new (unsigned slots, size_t max_packet)
{
  if (slots == 0 || slots > 65536 || (slots & (slots - 1)) != 0 || max_packet == 0 ||
      max_packet > SIZE_MAX / slots)
    return NULL;

  NackCache *c = calloc (1, sizeof *c);
  if (c == NULL)
    return NULL;
  c->refs = 1;
  c->mask = slots - 1;
  c->max_packet = max_packet;
  c->slots = calloc (slots, sizeof *c->slots);
  c->data = malloc ((size_t) slots * max_packet);
  if (c->slots == NULL || c->data == NULL) {
    nack_cache_unref (c);
    return NULL;
  }
  return c;
}

NackCache *
nack_cache_ref (NackCache *c)
{
  if (c != NULL)
    c->refs++;
  return c;
}

void
nack_cache_unref (NackCache *c)
{
  if (c == NULL || --c->refs > 0)
    return;
  free (c->slots);
  free (c->data);
  free (c);
}

void
nack_cache_clear (NackCache *c)
{
  if (c != NULL)
    memset (c->slots, 0, ((size_t) c->mask + 1) * sizeof *c->slots);
}

void
nack_cache_put (NackCache *c, uint16_t seq, const uint8_t *pkt, size_t len, uint64_t now_ms)
{
  if (c == NULL)
    return;
  NackSlot *s = &c->slots[seq & c->mask];
  if (pkt == NULL || len == 0 || len > c->max_packet) {
    s->used = false;
    return;
  }
  memcpy (c->data + (size_t) (seq & c->mask) * c->max_packet, pkt, len);
  s->used = true;
  s->seq = seq;
  s->len = len;
  s->stored_ms = now_ms;
}

const uint8_t *
nack_cache_get (NackCache *c, uint16_t seq, uint64_t now_ms, uint64_t max_age_ms, size_t *len)
{
  if (c == NULL)
    return NULL;
  const NackSlot *s = &c->slots[seq & c->mask];
  if (!s->used || s->seq != seq)
    return NULL;
  /* A clock that went backwards counts as age 0. */
  if (now_ms > s->stored_ms && now_ms - s->stored_ms > max_age_ms)
    return NULL;
  if (len)
    *len = s->len;
  return c->data + (size_t) (seq & c->mask) * c->max_packet;
}

/* ---- NackLog ---- */

typedef struct {
  bool used;
  uint8_t source;       /* index in NackLog.sources */
  uint8_t prefix_len;
  uint16_t seq;
  uint16_t source_seq;
  uint16_t len;
  uint32_t source_ssrc; /* of the source packet when logged */
  uint64_t stored_ms;
} NackLogEntry;

struct NackLog {
  unsigned mask;
  NackLogEntry *entries;
  uint8_t *prefixes;    /* slots × NACK_LOG_MAX_PREFIX bytes */
  NackCache *sources[NACK_LOG_SOURCES];
  uint64_t source_put_ms[NACK_LOG_SOURCES];   /* last put from each */
  unsigned next_evict;
};

static uint32_t
packet_ssrc (const uint8_t *pkt, size_t len)
{
  if (len < 12)
    return 0;
  return (uint32_t) pkt[8] << 24 | (uint32_t) pkt[9] << 16 | (uint32_t) pkt[10] << 8 | pkt[11];
}

NackLog *
nack_log_new (unsigned slots)
{
  if (slots == 0 || slots > 65536 || (slots & (slots - 1)) != 0)
    return NULL;

  NackLog *log = calloc (1, sizeof *log);
  if (log == NULL)
    return NULL;
  log->mask = slots - 1;
  log->entries = calloc (slots, sizeof *log->entries);
  log->prefixes = malloc ((size_t) slots * NACK_LOG_MAX_PREFIX);
  if (log->entries == NULL || log->prefixes == NULL) {
    nack_log_free (log);
    return NULL;
  }
  return log;
}

void
nack_log_free (NackLog *log)
{
  if (log == NULL)
    return;
  for (unsigned i = 0; i < NACK_LOG_SOURCES; i++)
    nack_cache_unref (log->sources[i]);
  free (log->entries);
  free (log->prefixes);
  free (log);
}

void
nack_log_clear (NackLog *log)
{
  if (log != NULL)
    memset (log->entries, 0, ((size_t) log->mask + 1) * sizeof *log->entries);
}

/* Drops source @i and the entries that use it. */
static void
log_drop_source (NackLog *log, unsigned i)
{
  for (unsigned k = 0; k <= log->mask; k++)
    if (log->entries[k].used && log->entries[k].source == i)
      log->entries[k].used = false;
  nack_cache_unref (log->sources[i]);
  log->sources[i] = NULL;
}

void
nack_log_release_idle (NackLog *log, uint64_t now_ms, uint64_t max_age_ms)
{
  if (log == NULL)
    return;
  for (unsigned i = 0; i < NACK_LOG_SOURCES; i++)
    if (log->sources[i] != NULL && now_ms > log->source_put_ms[i] &&
        now_ms - log->source_put_ms[i] > max_age_ms)
      log_drop_source (log, i);
}

/* The index of @source in log->sources, taking a reference when it is new;
 * the least recently added source and its entries make room. */
static unsigned
log_source_index (NackLog *log, NackCache *source)
{
  unsigned i;

  for (i = 0; i < NACK_LOG_SOURCES; i++)
    if (log->sources[i] == source)
      return i;
  for (i = 0; i < NACK_LOG_SOURCES; i++)
    if (log->sources[i] == NULL)
      break;
  if (i == NACK_LOG_SOURCES) {
    i = log->next_evict;
    log->next_evict = (log->next_evict + 1) % NACK_LOG_SOURCES;
    log_drop_source (log, i);
  }
  log->sources[i] = nack_cache_ref (source);
  return i;
}

bool
nack_log_put (NackLog *log, uint16_t seq, NackCache *source, uint16_t source_seq,
              const uint8_t *sent, size_t prefix_len, size_t len, uint64_t now_ms)
{
  if (log == NULL)
    return false;
  NackLogEntry *e = &log->entries[seq & log->mask];
  size_t source_len = 0;
  const uint8_t *src = source != NULL && sent != NULL
                         ? nack_cache_get (source, source_seq, now_ms, UINT64_MAX, &source_len)
                         : NULL;

  e->used = false;
  if (src == NULL || source_len != len || prefix_len > len || prefix_len > NACK_LOG_MAX_PREFIX ||
      len > UINT16_MAX)
    return false;
  memcpy (log->prefixes + (size_t) (seq & log->mask) * NACK_LOG_MAX_PREFIX, sent, prefix_len);
  e->source = (uint8_t) log_source_index (log, source);
  log->source_put_ms[e->source] = now_ms;
  e->prefix_len = (uint8_t) prefix_len;
  e->seq = seq;
  e->source_seq = source_seq;
  e->len = (uint16_t) len;
  e->source_ssrc = packet_ssrc (src, source_len);
  e->stored_ms = now_ms;
  e->used = true;
  return true;
}

size_t
nack_log_get (NackLog *log, uint16_t seq, uint64_t now_ms, uint64_t max_age_ms, uint8_t *out,
              size_t out_size)
{
  if (log == NULL || out == NULL)
    return 0;
  const NackLogEntry *e = &log->entries[seq & log->mask];
  size_t source_len = 0;
  const uint8_t *src;

  if (!e->used || e->seq != seq || e->len > out_size)
    return 0;
  /* A clock that went backwards counts as age 0. */
  if (now_ms > e->stored_ms && now_ms - e->stored_ms > max_age_ms)
    return 0;
  src = nack_cache_get (log->sources[e->source], e->source_seq, now_ms, UINT64_MAX, &source_len);
  if (src == NULL || source_len != e->len || packet_ssrc (src, source_len) != e->source_ssrc)
    return 0;
  memcpy (out, log->prefixes + (size_t) (seq & log->mask) * NACK_LOG_MAX_PREFIX, e->prefix_len);
  memcpy (out + e->prefix_len, src + e->prefix_len, e->len - e->prefix_len);
  return e->len;
}
