/* fuzz-rtcp.c — libFuzzer target for media/rtcp.c.
 *
 * Iterates the input as a compound RTCP packet and calls every accessor on
 * every packet.  What parses is written back with the matching writer and
 * parsed again; the round trip must give the same values (checked with
 * __builtin_trap()).  rtcp_set_media_ssrc runs on an exact-size copy. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rtcp.h"

#define CHECK(cond) do { if (!(cond)) __builtin_trap (); } while (0)

static bool
reparse_one (const uint8_t *buf, size_t len, RtcpPacket *p)
{
  RtcpIter it;
  rtcp_iter_init (&it, buf, len);
  return rtcp_iter_next (&it, p) && p->len == len;
}

static bool
report_block_equal (const RtcpReportBlock *a, const RtcpReportBlock *b)
{
  /* field by field: the struct has padding after fraction_lost */
  return a->ssrc == b->ssrc && a->fraction_lost == b->fraction_lost &&
         a->cumulative_lost == b->cumulative_lost && a->ext_highest_seq == b->ext_highest_seq &&
         a->jitter == b->jitter && a->lsr == b->lsr && a->dlsr == b->dlsr;
}

static void
check_report_blocks (const RtcpPacket *p)
{
  RtcpReportBlock rb[RTCP_MAX_REPORT_BLOCKS];
  unsigned n = rtcp_report_block_count (p);
  CHECK (n <= RTCP_MAX_REPORT_BLOCKS);
  for (unsigned i = 0; i < n; i++)
    CHECK (rtcp_get_report_block (p, i, &rb[i]));
  CHECK (!rtcp_get_report_block (p, n, &rb[0]));

  uint8_t out[28 + 24 * RTCP_MAX_REPORT_BLOCKS];
  size_t len;
  if (p->type == RTCP_RR) {
    len = rtcp_write_rr (out, sizeof out, p->sender_ssrc, rb, n);
  } else {
    uint64_t ntp;
    uint32_t ts, packets, octets;
    CHECK (rtcp_sr_parse (p, &ntp, &ts, &packets, &octets));
    len = rtcp_write_sr (out, sizeof out, p->sender_ssrc, ntp, ts, packets, octets, rb, n);
    RtcpPacket q;
    CHECK (reparse_one (out, len, &q));
    uint64_t ntp2;
    uint32_t ts2, packets2, octets2;
    CHECK (rtcp_sr_parse (&q, &ntp2, &ts2, &packets2, &octets2));
    CHECK (ntp == ntp2 && ts == ts2 && packets == packets2 && octets == octets2);
  }
  CHECK (len > 0);
  RtcpPacket q;
  CHECK (reparse_one (out, len, &q));
  CHECK (q.sender_ssrc == p->sender_ssrc);
  CHECK (rtcp_report_block_count (&q) == n);
  for (unsigned i = 0; i < n; i++) {
    RtcpReportBlock b;
    CHECK (rtcp_get_report_block (&q, i, &b));
    CHECK (report_block_equal (&b, &rb[i]));
  }
}

static void
check_nack (const RtcpPacket *p)
{
  static uint16_t seqs[17 * 16384];
  size_t n = rtcp_nack_get_seqs (p, seqs, sizeof seqs / sizeof seqs[0]);
  if (p->type != RTCP_RTPFB || p->count != RTCP_RTPFB_NACK) {
    CHECK (n == 0);
    return;
  }
  if (n == 0)
    return;
  /* write back and expand again: the same set of seqs (order within a
   * PID+BLP run may differ, duplicates fold) */
  static uint8_t out[12 + 4 * 17 * 16384];
  size_t len = rtcp_write_nack (out, sizeof out, p->sender_ssrc, p->media_ssrc, seqs, n);
  CHECK (len > 0);
  RtcpPacket q;
  CHECK (reparse_one (out, len, &q));
  static uint16_t again[17 * 16384];
  size_t m = rtcp_nack_get_seqs (&q, again, sizeof again / sizeof again[0]);
  static uint8_t seen_a[65536 / 8], seen_b[65536 / 8];
  memset (seen_a, 0, sizeof seen_a);
  memset (seen_b, 0, sizeof seen_b);
  for (size_t i = 0; i < n; i++)
    seen_a[seqs[i] >> 3] |= (uint8_t) (1u << (seqs[i] & 7));
  for (size_t i = 0; i < m; i++)
    seen_b[again[i] >> 3] |= (uint8_t) (1u << (again[i] & 7));
  CHECK (memcmp (seen_a, seen_b, sizeof seen_a) == 0);
}

static void
check_remb (const RtcpPacket *p)
{
  uint64_t br;
  uint32_t ssrcs[255];
  size_t n;
  if (!rtcp_remb_parse (p, &br, ssrcs, 255, &n))
    return;
  CHECK (n <= 255);
  uint8_t out[20 + 4 * 255];
  size_t len = rtcp_write_remb (out, sizeof out, p->sender_ssrc, br, ssrcs, n);
  CHECK (len == 20 + 4 * n);
  RtcpPacket q;
  CHECK (reparse_one (out, len, &q));
  uint64_t br2;
  uint32_t ssrcs2[255];
  size_t n2;
  CHECK (rtcp_remb_parse (&q, &br2, ssrcs2, 255, &n2));
  CHECK (n2 == n && memcmp (ssrcs, ssrcs2, 4 * n) == 0);
  if (br != UINT64_MAX)
    CHECK (br2 == br);
  else
    CHECK (br2 <= br);
}

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  uint8_t *copy = malloc (size ? size : 1);
  if (copy == NULL)
    return 0;
  memcpy (copy, data, size);

  RtcpIter it;
  RtcpPacket p;
  size_t total = 0;
  rtcp_iter_init (&it, data, size);
  while (rtcp_iter_next (&it, &p)) {
    CHECK (p.data >= data && p.len >= 4 && p.data + p.len <= data + size);
    CHECK (p.len % 4 == 0);
    total += p.len;

    if (p.type == RTCP_SR || p.type == RTCP_RR)
      check_report_blocks (&p);
    else
      CHECK (rtcp_report_block_count (&p) == 0);
    check_nack (&p);
    check_remb (&p);
    uint64_t ntp;
    CHECK (rtcp_sr_parse (&p, &ntp, NULL, NULL, NULL) == (p.type == RTCP_SR));

    if (p.type == RTCP_RTPFB || p.type == RTCP_PSFB) {
      CHECK (p.len >= 12);
      uint8_t *w = copy + (p.data - data);
      rtcp_set_media_ssrc (w, 0xa1b2c3d4);
    }
  }
  CHECK (it.error || total == size);

  /* the rewritten copy still iterates the same way */
  RtcpIter it2;
  rtcp_iter_init (&it2, copy, size);
  size_t total2 = 0;
  while (rtcp_iter_next (&it2, &p)) {
    total2 += p.len;
    if (p.type == RTCP_RTPFB || (p.type == RTCP_PSFB && p.count != RTCP_PSFB_FIR))
      CHECK (p.media_ssrc == 0xa1b2c3d4);
  }
  CHECK (total2 == total && it2.error == it.error);
  free (copy);

  /* writers never exceed the capacity they are given */
  uint8_t small[64];
  size_t cap = size % sizeof small;
  uint16_t seqs[8] = { 0 };
  for (size_t i = 0; i < 8 && 2 * i + 1 < size; i++)
    seqs[i] = (uint16_t) ((data[2 * i] << 8) | data[2 * i + 1]);
  CHECK (rtcp_write_nack (small, cap, 1, 2, seqs, 8) <= cap);
  CHECK (rtcp_write_pli (small, cap, 1, 2) <= cap);
  CHECK (rtcp_write_fir (small, cap, 1, 2, 3) <= cap);
  CHECK (rtcp_write_remb (small, cap, 1, size * 1000003ull, NULL, 0) <= cap);
  char cname[64];
  size_t cl = size < sizeof cname ? size : sizeof cname - 1;
  for (size_t i = 0; i < cl; i++)
    cname[i] = (char) (data[i] | 1);
  cname[cl] = 0;
  CHECK (rtcp_write_sdes_cname (small, cap, 1, cname) <= cap);
  return 0;
}
