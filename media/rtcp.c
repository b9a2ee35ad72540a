/* rtcp.c — RTCP reader and writers; see rtcp.h for the contracts. */
#include "rtcp.h"

#include <string.h>

#include "byte-order.h"

/* Length without the trailing padding (RFC 3550 §6.4.1 P bit).  Only
 * called on packets whose padding the iterator already checked; returns
 * 0 for a hand-made packet whose padding does not fit. */
static size_t
content_len (const RtcpPacket *p)
{
  if (p == NULL || p->data == NULL || p->len < RTCP_HEADER_LEN)
    return 0;
  if (!(p->data[0] & 0x20))
    return p->len;
  size_t pad = p->data[p->len - 1];
  if (pad == 0 || pad > p->len - RTCP_HEADER_LEN)
    return 0;
  return p->len - pad;
}

void
rtcp_iter_init (RtcpIter *it, const uint8_t *buf, size_t len)
{
  it->buf = buf;
  it->len = buf ? len : 0;
  it->pos = 0;
  it->error = false;
}

bool
rtcp_iter_next (RtcpIter *it, RtcpPacket *out)
{
  if (it->error || it->pos >= it->len)
    return false;

  const uint8_t *p = it->buf + it->pos;
  size_t left = it->len - it->pos;
  if (left < RTCP_HEADER_LEN || (p[0] >> 6) != 2)
    goto fail;

  /* RFC 3550 §6.4.1: length in 32-bit words minus one, header included. */
  size_t len = ((size_t) rd16 (p + 2) + 1) * 4;
  if (len > left)
    goto fail;

  RtcpPacket pkt = {
    .type = p[1],
    .count = p[0] & 0x1f,
    .data = p,
    .len = len,
  };
  size_t body = content_len (&pkt);
  if (body == 0)
    goto fail;

  switch (pkt.type) {
  case RTCP_SR:
    if (body < 28 + (size_t) RTCP_REPORT_BLOCK_LEN * pkt.count)
      goto fail;
    pkt.sender_ssrc = rd32 (p + 4);
    break;
  case RTCP_RR:
    if (body < 8 + (size_t) RTCP_REPORT_BLOCK_LEN * pkt.count)
      goto fail;
    pkt.sender_ssrc = rd32 (p + 4);
    break;
  case RTCP_SDES:                /* §6.5: chunks start with an SSRC/CSRC */
  case RTCP_BYE:                 /* §6.6: SC SSRC/CSRC identifiers */
    if (pkt.type == RTCP_BYE && body < 4 + 4 * (size_t) pkt.count)
      goto fail;
    if (pkt.count >= 1 && body >= 8)
      pkt.sender_ssrc = rd32 (p + 4);
    break;
  case RTCP_APP:                 /* §6.7: SSRC + 4-byte name */
    if (body < 12)
      goto fail;
    pkt.sender_ssrc = rd32 (p + 4);
    break;
  case RTCP_XR:                  /* RFC 3611 §2: SSRC of the sender */
    if (body >= 8)
      pkt.sender_ssrc = rd32 (p + 4);
    break;
  case RTCP_RTPFB:
  case RTCP_PSFB:                /* RFC 4585 §6.1 */
    if (body < RTCP_FB_HEADER_LEN)
      goto fail;
    pkt.sender_ssrc = rd32 (p + 4);
    pkt.media_ssrc = rd32 (p + 8);
    break;
  default:
    break;                       /* unknown types are passed through */
  }

  it->pos += len;
  *out = pkt;
  return true;

fail:
  it->error = true;
  return false;
}

/* ---- accessors ---------------------------------------------------------- */

static size_t
report_blocks_offset (const RtcpPacket *p)
{
  return p->type == RTCP_SR ? 28 : 8;
}

unsigned
rtcp_report_block_count (const RtcpPacket *p)
{
  if (p == NULL || (p->type != RTCP_SR && p->type != RTCP_RR))
    return 0;
  size_t body = content_len (p), off = report_blocks_offset (p);
  if (body < off)
    return 0;
  size_t fit = (body - off) / RTCP_REPORT_BLOCK_LEN;
  return p->count < fit ? p->count : (unsigned) fit;
}

bool
rtcp_get_report_block (const RtcpPacket *p, unsigned i, RtcpReportBlock *out)
{
  if (out == NULL || i >= rtcp_report_block_count (p))
    return false;
  const uint8_t *b = p->data + report_blocks_offset (p) + (size_t) i * RTCP_REPORT_BLOCK_LEN;
  out->ssrc = rd32 (b);
  out->fraction_lost = b[4];
  /* 24-bit two's complement (RFC 3550 §6.4.1 "cumulative number of
   * packets lost" may go negative with duplicates). */
  uint32_t cl = ((uint32_t) b[5] << 16) | ((uint32_t) b[6] << 8) | b[7];
  out->cumulative_lost = (cl & 0x800000) ? (int32_t) cl - 0x1000000 : (int32_t) cl;
  out->ext_highest_seq = rd32 (b + 8);
  out->jitter = rd32 (b + 12);
  out->lsr = rd32 (b + 16);
  out->dlsr = rd32 (b + 20);
  return true;
}

size_t
rtcp_nack_get_seqs (const RtcpPacket *p, uint16_t *seqs, size_t max)
{
  if (p == NULL || p->type != RTCP_RTPFB || p->count != RTCP_RTPFB_NACK)
    return 0;
  size_t body = content_len (p);
  if (body < RTCP_FB_HEADER_LEN || seqs == NULL)
    return 0;

  size_t n = 0;
  for (size_t off = RTCP_FB_HEADER_LEN; body - off >= 4 && n < max; off += 4) {
    uint16_t pid = rd16 (p->data + off);
    uint16_t blp = rd16 (p->data + off + 2);
    seqs[n++] = pid;
    for (unsigned bit = 0; bit < 16 && n < max; bit++)
      if (blp & (1u << bit))
        seqs[n++] = (uint16_t) (pid + bit + 1);
  }
  return n;
}

bool
rtcp_remb_parse (const RtcpPacket *p, uint64_t *bitrate_bps, uint32_t *ssrcs,
                 size_t max_ssrcs, size_t *n_ssrcs)
{
  if (p == NULL || p->type != RTCP_PSFB || p->count != RTCP_PSFB_AFB)
    return false;
  size_t body = content_len (p);
  if (body < 20 || memcmp (p->data + 12, "REMB", 4) != 0)
    return false;

  /* Num SSRC(8) BR Exp(6) BR Mantissa(18), then the SSRC feedback list. */
  const uint8_t *f = p->data + 16;
  size_t num = f[0];
  unsigned exp = f[1] >> 2;
  uint64_t mantissa = ((uint64_t) (f[1] & 0x03) << 16) | rd16 (f + 2);
  if (body - 20 < 4 * num)
    return false;

  uint64_t br;
  if (mantissa != 0 && exp > 0 && (mantissa >> (64 - exp)) != 0)
    br = UINT64_MAX;
  else
    br = mantissa << exp;
  if (bitrate_bps)
    *bitrate_bps = br;

  size_t n = 0;
  if (ssrcs != NULL)
    for (; n < num && n < max_ssrcs; n++)
      ssrcs[n] = rd32 (p->data + 20 + 4 * n);
  if (n_ssrcs)
    *n_ssrcs = n;
  return true;
}

bool
rtcp_sr_parse (const RtcpPacket *p, uint64_t *ntp, uint32_t *rtp_ts,
               uint32_t *packets, uint32_t *octets)
{
  if (p == NULL || p->type != RTCP_SR || content_len (p) < 28)
    return false;
  const uint8_t *d = p->data;
  if (ntp)
    *ntp = ((uint64_t) rd32 (d + 8) << 32) | rd32 (d + 12);
  if (rtp_ts)
    *rtp_ts = rd32 (d + 16);
  if (packets)
    *packets = rd32 (d + 20);
  if (octets)
    *octets = rd32 (d + 24);
  return true;
}

void
rtcp_set_media_ssrc (uint8_t *packet, uint32_t ssrc)
{
  if (packet[1] == RTCP_PSFB && (packet[0] & 0x1f) == RTCP_PSFB_FIR) {
    /* RFC 5104 §4.3.1.2: FCI entries of SSRC(4) seq(1) reserved(3). */
    size_t len = ((size_t) rd16 (packet + 2) + 1) * 4;
    if (packet[0] & 0x20) {         /* never write into the padding */
      size_t pad = packet[len - 1];
      len = pad <= len - RTCP_FB_HEADER_LEN ? len - pad : RTCP_FB_HEADER_LEN;
    }
    for (size_t off = RTCP_FB_HEADER_LEN; off + 8 <= len; off += 8)
      wr32 (packet + off, ssrc);
    return;
  }
  wr32 (packet + 8, ssrc);
}

/* ---- writers ------------------------------------------------------------ */

static void
write_header (uint8_t *buf, uint8_t count, uint8_t type, size_t len)
{
  buf[0] = (uint8_t) (0x80 | (count & 0x1f));
  buf[1] = type;
  wr16 (buf + 2, (uint16_t) (len / 4 - 1));
}

size_t
rtcp_write_pli (uint8_t *buf, size_t cap, uint32_t sender_ssrc, uint32_t media_ssrc)
{
  if (buf == NULL || cap < 12)
    return 0;
  write_header (buf, RTCP_PSFB_PLI, RTCP_PSFB, 12);
  wr32 (buf + 4, sender_ssrc);
  wr32 (buf + 8, media_ssrc);
  return 12;
}

size_t
rtcp_write_fir (uint8_t *buf, size_t cap, uint32_t sender_ssrc, uint32_t media_ssrc,
                uint8_t seq_nr)
{
  if (buf == NULL || cap < 20)
    return 0;
  write_header (buf, RTCP_PSFB_FIR, RTCP_PSFB, 20);
  wr32 (buf + 4, sender_ssrc);
  wr32 (buf + 8, 0);
  wr32 (buf + 12, media_ssrc);
  buf[16] = seq_nr;
  buf[17] = buf[18] = buf[19] = 0;
  return 20;
}

/* Walks @seqs grouping each run that fits one PID + BLP pair; writes each
 * pair at @out when it is non-NULL.  Returns the number of pairs. */
static size_t
nack_pack (const uint16_t *seqs, size_t n, uint8_t *out)
{
  size_t pairs = 0, i = 0;
  while (i < n) {
    uint16_t pid = seqs[i++];
    uint16_t blp = 0;
    while (i < n) {
      uint16_t d = (uint16_t) (seqs[i] - pid);
      if (d == 0) {
        i++;
        continue;
      }
      if (d > 16)
        break;
      blp |= (uint16_t) (1u << (d - 1));
      i++;
    }
    if (out) {
      wr16 (out + 4 * pairs, pid);
      wr16 (out + 4 * pairs + 2, blp);
    }
    pairs++;
  }
  return pairs;
}

size_t
rtcp_write_nack (uint8_t *buf, size_t cap, uint32_t sender_ssrc, uint32_t media_ssrc,
                 const uint16_t *seqs, size_t n)
{
  if (buf == NULL || seqs == NULL || n == 0)
    return 0;
  size_t pairs = nack_pack (seqs, n, NULL);
  /* The length field holds at most 65535 words; pairs <= n anyway. */
  if (pairs > 0xffff - 2)
    return 0;
  size_t len = RTCP_FB_HEADER_LEN + 4 * pairs;
  if (cap < len)
    return 0;
  write_header (buf, RTCP_RTPFB_NACK, RTCP_RTPFB, len);
  wr32 (buf + 4, sender_ssrc);
  wr32 (buf + 8, media_ssrc);
  nack_pack (seqs, n, buf + RTCP_FB_HEADER_LEN);
  return len;
}

size_t
rtcp_write_remb (uint8_t *buf, size_t cap, uint32_t sender_ssrc, uint64_t bitrate_bps,
                 const uint32_t *ssrcs, size_t n)
{
  if (buf == NULL || n > 255 || (n > 0 && ssrcs == NULL))
    return 0;
  size_t len = 20 + 4 * n;
  if (cap < len)
    return 0;

  unsigned exp = 0;
  while ((bitrate_bps >> exp) > 0x3ffff)
    exp++;
  uint32_t mantissa = (uint32_t) (bitrate_bps >> exp);

  write_header (buf, RTCP_PSFB_AFB, RTCP_PSFB, len);
  wr32 (buf + 4, sender_ssrc);
  wr32 (buf + 8, 0);               /* media source: unused, 0 (§2.2) */
  memcpy (buf + 12, "REMB", 4);
  buf[16] = (uint8_t) n;
  buf[17] = (uint8_t) ((exp << 2) | (mantissa >> 16));
  wr16 (buf + 18, (uint16_t) mantissa);
  for (size_t i = 0; i < n; i++)
    wr32 (buf + 20 + 4 * i, ssrcs[i]);
  return len;
}

static void
write_report_block (uint8_t *b, const RtcpReportBlock *rb)
{
  int32_t cl = rb->cumulative_lost;
  if (cl > 0x7fffff)
    cl = 0x7fffff;
  if (cl < -0x800000)
    cl = -0x800000;
  uint32_t w = (uint32_t) cl & 0xffffff;
  wr32 (b, rb->ssrc);
  b[4] = rb->fraction_lost;
  b[5] = (uint8_t) (w >> 16);
  b[6] = (uint8_t) (w >> 8);
  b[7] = (uint8_t) w;
  wr32 (b + 8, rb->ext_highest_seq);
  wr32 (b + 12, rb->jitter);
  wr32 (b + 16, rb->lsr);
  wr32 (b + 20, rb->dlsr);
}

size_t
rtcp_write_rr (uint8_t *buf, size_t cap, uint32_t sender_ssrc,
               const RtcpReportBlock *blocks, size_t n)
{
  if (buf == NULL || n > RTCP_MAX_REPORT_BLOCKS || (n > 0 && blocks == NULL))
    return 0;
  size_t len = 8 + RTCP_REPORT_BLOCK_LEN * n;
  if (cap < len)
    return 0;
  write_header (buf, (uint8_t) n, RTCP_RR, len);
  wr32 (buf + 4, sender_ssrc);
  for (size_t i = 0; i < n; i++)
    write_report_block (buf + 8 + RTCP_REPORT_BLOCK_LEN * i, &blocks[i]);
  return len;
}

size_t
rtcp_write_sr (uint8_t *buf, size_t cap, uint32_t sender_ssrc, uint64_t ntp,
               uint32_t rtp_ts, uint32_t packets, uint32_t octets,
               const RtcpReportBlock *blocks, size_t n)
{
  if (buf == NULL || n > RTCP_MAX_REPORT_BLOCKS || (n > 0 && blocks == NULL))
    return 0;
  size_t len = 28 + RTCP_REPORT_BLOCK_LEN * n;
  if (cap < len)
    return 0;
  write_header (buf, (uint8_t) n, RTCP_SR, len);
  wr32 (buf + 4, sender_ssrc);
  wr32 (buf + 8, (uint32_t) (ntp >> 32));
  wr32 (buf + 12, (uint32_t) ntp);
  wr32 (buf + 16, rtp_ts);
  wr32 (buf + 20, packets);
  wr32 (buf + 24, octets);
  for (size_t i = 0; i < n; i++)
    write_report_block (buf + 28 + RTCP_REPORT_BLOCK_LEN * i, &blocks[i]);
  return len;
}

size_t
rtcp_write_sdes_cname (uint8_t *buf, size_t cap, uint32_t ssrc, const char *cname)
{
  if (buf == NULL || cname == NULL)
    return 0;
  size_t clen = strlen (cname);
  if (clen > 255)
    return 0;
  /* header(4) SSRC(4) CNAME=1(1) length(1) text, then at least one null
   * octet ending the item list, up to the next 32-bit boundary (§6.5). */
  size_t chunk = 4 + 2 + clen + 1;
  chunk = (chunk + 3) & ~(size_t) 3;
  size_t len = 4 + chunk;
  if (cap < len)
    return 0;
  memset (buf, 0, len);
  write_header (buf, 1, RTCP_SDES, len);
  wr32 (buf + 4, ssrc);
  buf[8] = 1;                      /* CNAME */
  buf[9] = (uint8_t) clen;
  memcpy (buf + 10, cname, clen);
  return len;
}
