/* traffic.c — see traffic.h. */
#include "traffic.h"

#include <string.h>

static const uint8_t stamp_magic[4] = { 'C', 'A', 'U', 'B' };

static void
put16 (uint8_t *p, uint16_t v)
{
  p[0] = (uint8_t) (v >> 8);
  p[1] = (uint8_t) v;
}

static void
put32 (uint8_t *p, uint32_t v)
{
  p[0] = (uint8_t) (v >> 24);
  p[1] = (uint8_t) (v >> 16);
  p[2] = (uint8_t) (v >> 8);
  p[3] = (uint8_t) v;
}

static uint32_t
get32 (const uint8_t *p)
{
  return ((uint32_t) p[0] << 24) | ((uint32_t) p[1] << 16) | ((uint32_t) p[2] << 8) | p[3];
}

void
traffic_stream_init (TrafficStream *s, uint32_t ssrc, uint16_t first_seq, uint32_t first_ts)
{
  memset (s, 0, sizeof *s);
  s->ssrc = ssrc;
  s->seq = first_seq;
  s->timestamp = first_ts;
  s->picture_id = (uint16_t) (ssrc & 0x7fff);
}

#define TAG_MARK 0xa0   /* high nibble of the tag byte; low nibble: layer */

bool
traffic_stream_set_sdes (TrafficStream *s, uint8_t mid_id, const char *mid, uint8_t rid_id,
                         const char *rid)
{
  uint8_t block[TRAFFIC_MAX_EXT];
  size_t n = 4;
  const struct { uint8_t id; const char *value; } elems[2] = { { mid_id, mid }, { rid_id, rid } };

  for (unsigned i = 0; i < 2; i++) {
    size_t len;

    if (elems[i].id == 0)
      continue;
    len = elems[i].value != NULL ? strlen (elems[i].value) : 0;
    if (elems[i].id > 14 || len < 1 || len > 4)
      return false;
    /* RFC 8285 §4.2: ID (4 bits), length - 1 (4 bits), data */
    block[n++] = (uint8_t) (elems[i].id << 4 | (len - 1));
    memcpy (block + n, elems[i].value, len);
    n += len;
  }
  if (n == 4) {
    s->ext_len = 0;
    return true;
  }
  while (n % 4 != 0)
    block[n++] = 0;             /* padding */
  block[0] = 0xbe;              /* "defined by profile": 0xBEDE */
  block[1] = 0xde;
  put16 (block + 2, (uint16_t) ((n - 4) / 4));
  memcpy (s->ext, block, n);
  s->ext_len = n;
  return true;
}

void
traffic_stream_set_tag (TrafficStream *s, unsigned layer)
{
  s->tag = (uint8_t) (TAG_MARK | (layer & 0x0f));
}

int
traffic_read_tag (const uint8_t *rtp, size_t len)
{
  uint8_t t;

  if (len < 12 + TRAFFIC_STAMP_LEN + 1)
    return -1;
  t = rtp[len - TRAFFIC_STAMP_LEN - 1];
  return (t & 0xf0) == TAG_MARK ? t & 0x0f : -1;
}

/* RFC 3550 §5.1 fixed header, no CSRC, then the stream's extension block
 * if any.  Returns the header's length. */
static size_t
write_header (TrafficStream *s, uint8_t *buf, uint8_t pt, bool marker)
{
  buf[0] = (uint8_t) (0x80 | (s->ext_len > 0 ? 0x10 : 0));
  buf[1] = (uint8_t) ((marker ? 0x80 : 0) | pt);
  put16 (buf + 2, s->seq);
  put32 (buf + 4, s->timestamp);
  put32 (buf + 8, s->ssrc);
  s->seq++;
  memcpy (buf + 12, s->ext, s->ext_len);
  return 12 + s->ext_len;
}

static void
write_stamp (TrafficStream *s, uint8_t *end, uint64_t now_us)
{
  uint8_t *p = end - TRAFFIC_STAMP_LEN;

  if (s->tag != 0)
    p[-1] = s->tag;

  memcpy (p, stamp_magic, 4);
  put32 (p + 4, (uint32_t) (now_us >> 32));
  put32 (p + 8, (uint32_t) now_us);
  put32 (p + 12, s->counter);
  s->counter++;
}

unsigned
traffic_vp8_packet_count (size_t frame_bytes)
{
  /* Each packet carries up to TRAFFIC_MAX_PAYLOAD - 4 (descriptor) bytes. */
  size_t per = TRAFFIC_MAX_PAYLOAD - 4;
  unsigned n = (unsigned) ((frame_bytes + per - 1) / per);

  return n == 0 ? 1 : n;
}

size_t
traffic_write_vp8 (TrafficStream *s, uint8_t *buf, bool keyframe, size_t frame_bytes,
                   unsigned index, unsigned n_packets, uint64_t now_us)
{
  size_t per = (frame_bytes + n_packets - 1) / n_packets;
  size_t body, len, hlen;
  uint8_t *p;

  /* + 1: room for the tag byte before the stamp, after the frame tag */
  if (per < 10 + 1 + TRAFFIC_STAMP_LEN)
    per = 10 + 1 + TRAFFIC_STAMP_LEN;
  /* the extension block counts against the payload: same packet sizes */
  if (per > TRAFFIC_MAX_PAYLOAD - 4 - s->ext_len)
    per = TRAFFIC_MAX_PAYLOAD - 4 - s->ext_len;
  body = per;
  hlen = write_header (s, buf, TRAFFIC_VIDEO_PT, index + 1 == n_packets);
  p = buf + hlen;
  /* RFC 7741 §4.2: X=1, S on the first packet, PID 0; I=1; M=1 + 15-bit
   * PictureID. */
  p[0] = (uint8_t) (0x80 | (index == 0 ? 0x10 : 0));
  p[1] = 0x80;
  p[2] = (uint8_t) (0x80 | ((s->picture_id >> 8) & 0x7f));
  p[3] = (uint8_t) s->picture_id;
  p += 4;
  memset (p, 0, body);
  if (index == 0) {
    /* RFC 6386 §9.1 frame tag: P = !keyframe, version 0, show_frame 1,
     * first partition size (19 bits, any plausible value). */
    uint32_t tag = (keyframe ? 0u : 1u) | (1u << 4) | ((uint32_t) (body / 2) << 5);

    p[0] = (uint8_t) tag;
    p[1] = (uint8_t) (tag >> 8);
    p[2] = (uint8_t) (tag >> 16);
    if (keyframe) {
      /* start code, then 640x360 (14-bit width/height, no scaling) */
      p[3] = 0x9d;
      p[4] = 0x01;
      p[5] = 0x2a;
      p[6] = 640 & 0xff;
      p[7] = 640 >> 8;
      p[8] = 360 & 0xff;
      p[9] = 360 >> 8;
    }
  }
  len = hlen + 4 + body;
  write_stamp (s, buf + len, now_us);
  return len;
}

void
traffic_stream_end_frame (TrafficStream *s, uint32_t ts_step)
{
  s->timestamp += ts_step;
  s->picture_id = (uint16_t) ((s->picture_id + 1) & 0x7fff);
}

size_t
traffic_write_opus (TrafficStream *s, uint8_t *buf, size_t payload_bytes, uint32_t ts_step,
                    uint64_t now_us)
{
  size_t len, hlen;

  if (payload_bytes < TRAFFIC_STAMP_LEN + 1)
    payload_bytes = TRAFFIC_STAMP_LEN + 1;
  if (payload_bytes > TRAFFIC_MAX_PAYLOAD - s->ext_len)
    payload_bytes = TRAFFIC_MAX_PAYLOAD - s->ext_len;
  hlen = write_header (s, buf, TRAFFIC_AUDIO_PT, false);
  memset (buf + hlen, 0, payload_bytes);
  /* RFC 6716 §3.1 TOC: config 15 (SILK+CELT hybrid FB 20 ms), mono, code 0 */
  buf[hlen] = 15 << 3;
  len = hlen + payload_bytes;
  write_stamp (s, buf + len, now_us);
  s->timestamp += ts_step;
  return len;
}

bool
traffic_read_stamp (const uint8_t *rtp, size_t len, uint64_t *sent_us, uint32_t *counter)
{
  const uint8_t *p;

  if (len < 12 + TRAFFIC_STAMP_LEN)
    return false;
  p = rtp + len - TRAFFIC_STAMP_LEN;
  if (memcmp (p, stamp_magic, 4) != 0)
    return false;
  *sent_us = ((uint64_t) get32 (p + 4) << 32) | get32 (p + 8);
  *counter = get32 (p + 12);
  return true;
}

void
traffic_pacer_init (TrafficPacer *p, double rate_bps, int64_t burst_us)
{
  memset (p, 0, sizeof *p);
  p->rate_bytes_per_us = rate_bps > 0 ? rate_bps / 8 / 1e6 : 0;
  p->burst_us = burst_us;
  p->last_us = -1;
}

void
traffic_pacer_update (TrafficPacer *p, int64_t now_us)
{
  if (p->last_us >= 0 && now_us > p->last_us) {
    p->debt_bytes -= p->rate_bytes_per_us * (double) (now_us - p->last_us);
    if (p->debt_bytes < 0)
      p->debt_bytes = 0;
  }
  if (now_us > p->last_us)
    p->last_us = now_us;
}

bool
traffic_pacer_can_send (const TrafficPacer *p)
{
  /* libwebrtc's NextSendTime(): send now while debt / rate < burst, and
   * always once the debt is paid (so a burst interval of 0 sends one
   * packet at a time). */
  if (p->rate_bytes_per_us <= 0 || p->debt_bytes <= 0)
    return true;
  return p->debt_bytes / p->rate_bytes_per_us < (double) p->burst_us;
}

void
traffic_pacer_sent (TrafficPacer *p, size_t bytes)
{
  if (p->rate_bytes_per_us > 0)
    p->debt_bytes += (double) bytes;
}

void
traffic_recv_init (TrafficRecvStream *r, uint32_t ssrc)
{
  memset (r, 0, sizeof *r);
  r->ssrc = ssrc;
}

void
traffic_recv_packet (TrafficRecvStream *r, uint16_t seq, size_t len)
{
  uint64_t ext;
  bool late = false;

  if (!r->started) {
    r->started = true;
    /* Start one cycle up so that early reordered packets stay positive. */
    ext = (1u << 16) + seq;
    r->max_ext = ext;
  } else {
    int16_t delta = (int16_t) (uint16_t) (seq - (uint16_t) r->max_ext);

    ext = (uint64_t) ((int64_t) r->max_ext + delta);
    if (delta > 0)
      r->max_ext = ext;
    else
      late = true;   /* older than the newest (or a duplicate of it) */
  }
  r->total_received++;
  r->since_unprotect++;
  if (!r->window_open)
    return;
  if (!r->window_started) {
    /* First packet of a stream that began during the window. */
    r->window_started = true;
    r->window_base = ext;
  }
  if (ext < r->window_base)
    return;   /* from before the window, arriving late */
  if (late)
    r->window_reordered++;
  r->window_received++;
  r->window_bytes += len;
}

void
traffic_recv_window_begin (TrafficRecvStream *r)
{
  r->window_open = true;
  /* The window holds the packets after the newest one seen so far. */
  r->window_started = r->started;
  r->window_base = r->max_ext + 1;
  r->window_received = 0;
  r->window_bytes = 0;
  r->window_reordered = 0;
}

uint64_t
traffic_recv_window_expected (const TrafficRecvStream *r)
{
  if (!r->window_started || r->max_ext < r->window_base)
    return 0;
  return r->max_ext - r->window_base + 1;
}

void
traffic_hist_reset (TrafficHistogram *h)
{
  memset (h, 0, sizeof *h);
}

void
traffic_hist_add (TrafficHistogram *h, int64_t latency_us)
{
  int64_t b = latency_us < 0 ? 0 : latency_us / 100;

  if (b >= TRAFFIC_HIST_BUCKETS)
    b = TRAFFIC_HIST_BUCKETS - 1;
  h->buckets[b]++;
  h->count++;
}

double
traffic_hist_quantile (const TrafficHistogram *h, double q)
{
  uint64_t target, seen = 0;

  if (h->count == 0)
    return -1;
  target = (uint64_t) (q * (double) h->count);
  if (target >= h->count)
    target = h->count - 1;
  for (unsigned i = 0; i < TRAFFIC_HIST_BUCKETS; i++) {
    seen += h->buckets[i];
    if (seen > target)
      return (i + 1) * 0.1;
  }
  return TRAFFIC_HIST_BUCKETS * 0.1;
}
