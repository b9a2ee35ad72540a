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
  c->mask = slots - 1;
  c->max_packet = max_packet;
  c->slots = calloc (slots, sizeof *c->slots);
  c->data = malloc ((size_t) slots * max_packet);
  if (c->slots == NULL || c->data == NULL) {
    nack_cache_free (c);
    return NULL;
  }
  return c;
}

void
nack_cache_free (NackCache *c)
{
  if (c == NULL)
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
