/* rtcp.h — RTCP compound-packet reader and writers (RFC 3550 §6, RFC 4585,
 * RFC 5104, draft-alvestrand-rmcat-remb).
 *
 * Layer: media codec (STYLE.md §1): plain C11 over caller-owned byte
 * buffers, no GLib, no I/O, no allocation.  The iterator validates each
 * packet's structure (version, length field, the minimum size of the known
 * types) before handing it out, so the accessors below only ever read
 * inside a packet that rtcp_iter_next() returned.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum {
  RTCP_SR = 200, RTCP_RR = 201, RTCP_SDES = 202, RTCP_BYE = 203,
  RTCP_APP = 204, RTCP_RTPFB = 205, RTCP_PSFB = 206, RTCP_XR = 207,
};

enum {
  RTCP_RTPFB_NACK = 1,   /* RFC 4585 §6.2.1 */
  RTCP_RTPFB_TWCC = 15,  /* draft-holmer-rmcat-transport-wide-cc-extensions §3.1 */
  RTCP_PSFB_PLI = 1,     /* RFC 4585 §6.3.1 */
  RTCP_PSFB_FIR = 4,     /* RFC 5104 §4.3.1 */
  RTCP_PSFB_AFB = 15,    /* RFC 4585 §6.4; REMB rides on it */
};

#define RTCP_HEADER_LEN 4
#define RTCP_FB_HEADER_LEN 12      /* RFC 4585 §6.1 common feedback header */
#define RTCP_REPORT_BLOCK_LEN 24   /* RFC 3550 §6.4.1 */
#define RTCP_MAX_REPORT_BLOCKS 31  /* 5-bit RC */

typedef struct {
  uint8_t type;          /* packet type, 200..207 or other */
  uint8_t count;         /* RC, SC or FMT: the 5 low bits of the first byte */
  const uint8_t *data;   /* points into the iterated buffer */
  size_t len;            /* whole packet incl. the 4-byte header and padding */
  /* SR, RR, APP, XR, RTPFB, PSFB: the sender's SSRC.  SDES and BYE: the
   * first chunk's / first listed SSRC when count >= 1.  Else 0. */
  uint32_t sender_ssrc;
  uint32_t media_ssrc;   /* RTPFB and PSFB only, else 0 */
} RtcpPacket;

typedef struct {
  const uint8_t *buf;
  size_t len;
  size_t pos;
  bool error;
} RtcpIter;

/* Iterates the packets of a compound RTCP packet (RFC 3550 §6.1) or of a
 * reduced-size one (RFC 5506: any packet type first, no SR/RR required). */
void rtcp_iter_init (RtcpIter *it, const uint8_t *buf, size_t len);

/* Returns the next packet in @out.  False at the end (it->error false) or
 * on a malformed packet (it->error true; iteration stops there, since the
 * length field that locates the next packet is not trustworthy).
 * Malformed: version != 2, fewer than 4 bytes left, a length field past
 * the buffer, a bad padding count (RFC 3550 §6.4.1), or a known type
 * shorter than its fixed part: SR 28 + 24·RC, RR 8 + 24·RC, BYE 4·SC,
 * APP 12, RTPFB/PSFB 12 bytes. */
bool rtcp_iter_next (RtcpIter *it, RtcpPacket *out);

/* ---- accessors (on a packet from rtcp_iter_next) --------------------- */

typedef struct {
  uint32_t ssrc;
  uint8_t fraction_lost;      /* fixed point, /256 */
  int32_t cumulative_lost;    /* 24-bit signed on the wire */
  uint32_t ext_highest_seq;
  uint32_t jitter;            /* RTP timestamp units */
  uint32_t lsr;               /* middle 32 bits of the last SR's NTP time */
  uint32_t dlsr;              /* 1/65536 s since that SR */
} RtcpReportBlock;

/* SR and RR (RFC 3550 §6.4.1/§6.4.2); 0 for any other type. */
unsigned rtcp_report_block_count (const RtcpPacket *p);
bool rtcp_get_report_block (const RtcpPacket *p, unsigned i, RtcpReportBlock *out);

/* RTPFB/NACK (RFC 4585 §6.2.1): expands every PID + BLP pair into
 * @seqs, in packet order, at most @max of them; returns how many were
 * written.  0 when @p is not a generic NACK. */
size_t rtcp_nack_get_seqs (const RtcpPacket *p, uint16_t *seqs, size_t max);

/* PSFB/AFB "REMB" (draft-alvestrand-rmcat-remb §2.2).  *bitrate_bps is the
 * mantissa << exp, saturated at UINT64_MAX.  Copies at most @max_ssrcs
 * SSRCs and sets *n_ssrcs to the number copied (@ssrcs may be NULL when
 * @max_ssrcs is 0; @n_ssrcs may be NULL).  False when @p is not a
 * well-formed REMB. */
bool rtcp_remb_parse (const RtcpPacket *p, uint64_t *bitrate_bps, uint32_t *ssrcs,
                      size_t max_ssrcs, size_t *n_ssrcs);

/* SR sender info (RFC 3550 §6.4.1).  Any out pointer may be NULL. */
bool rtcp_sr_parse (const RtcpPacket *p, uint64_t *ntp, uint32_t *rtp_ts,
                    uint32_t *packets, uint32_t *octets);

/* For an RTPFB or PSFB packet returned by rtcp_iter_next() (so at least 12
 * bytes, length field checked), writable at @packet: rewrites the media
 * source SSRC (RFC 4585 §6.1).  For FIR (RFC 5104 §4.3.1.2), whose header
 * media SSRC must stay 0, rewrites the SSRC of every FCI entry instead. */
void rtcp_set_media_ssrc (uint8_t *packet, uint32_t ssrc);

/* ---- writers -------------------------------------------------------------
 * Each writes one RTCP packet at @buf and returns its length, or 0 when
 * @cap is too small or the arguments cannot be encoded (noted per
 * function).  Nothing is written when 0 is returned.  Concatenate results
 * to build a compound packet. */

/* RFC 4585 §6.3.1: 12 bytes. */
size_t rtcp_write_pli (uint8_t *buf, size_t cap, uint32_t sender_ssrc, uint32_t media_ssrc);
/* RFC 5104 §4.3.1: 20 bytes; header media SSRC 0, target in the FCI. */
size_t rtcp_write_fir (uint8_t *buf, size_t cap, uint32_t sender_ssrc, uint32_t media_ssrc,
                       uint8_t seq_nr);
/* RFC 4585 §6.2.1: packs @seqs (ideally ascending) into PID + BLP pairs;
 * duplicates are folded.  0 when @n is 0. */
size_t rtcp_write_nack (uint8_t *buf, size_t cap, uint32_t sender_ssrc, uint32_t media_ssrc,
                        const uint16_t *seqs, size_t n);
/* REMB: 20 + 4·n bytes; the bitrate is rounded down to 18 bits of
 * mantissa.  0 when @n > 255. */
size_t rtcp_write_remb (uint8_t *buf, size_t cap, uint32_t sender_ssrc, uint64_t bitrate_bps,
                        const uint32_t *ssrcs, size_t n);
/* RFC 3550 §6.4.2: 8 + 24·n bytes; 0 when @n > 31.  cumulative_lost is
 * clamped to the 24-bit signed range. */
size_t rtcp_write_rr (uint8_t *buf, size_t cap, uint32_t sender_ssrc,
                      const RtcpReportBlock *blocks, size_t n);
/* RFC 3550 §6.4.1: 28 + 24·n bytes; 0 when @n > 31. */
size_t rtcp_write_sr (uint8_t *buf, size_t cap, uint32_t sender_ssrc, uint64_t ntp,
                      uint32_t rtp_ts, uint32_t packets, uint32_t octets,
                      const RtcpReportBlock *blocks, size_t n);
/* RFC 3550 §6.5.1: one chunk with a CNAME item, null-terminated and
 * padded to 32 bits.  0 when @cname is NULL or longer than 255 bytes. */
size_t rtcp_write_sdes_cname (uint8_t *buf, size_t cap, uint32_t ssrc, const char *cname);

#ifdef __cplusplus
}
#endif
