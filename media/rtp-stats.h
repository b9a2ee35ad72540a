/* rtp-stats.h — receiver statistics for one incoming RTP source (RFC 3550
 * Appendix A.1 sequence validation, A.3 loss, A.8 interarrival jitter) and
 * gap detection for generic NACK (RFC 4585 §6.2.1).
 *
 * Layer: media codec (STYLE.md §1).  A plain value type, no allocation, no
 * GLib; one per incoming SSRC, touched only on the room's worker.  The
 * fields are public only so it can live inline in another struct: read
 * them through the functions below.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rtcp.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Sequence numbers tracked for NACK: the newest RTP_STATS_NACK_WINDOW. */
#define RTP_STATS_NACK_WINDOW 256
/* A forward jump bigger than this is a restart, not a loss burst: its gap
 * is not NACKed. */
#define RTP_STATS_NACK_MAX_GAP 64
/* A missing seq is reported at most this many times. */
#define RTP_STATS_NACK_MAX_TRIES 2
/* Default pause before the one retry (rtp_source_stats_take_missing). */
#define RTP_STATS_NACK_RETRY_US 100000

typedef struct {
  uint32_t ssrc;
  uint32_t clock_rate;        /* Hz, e.g. 90000 video, 48000 Opus */
  bool started;               /* at least one packet seen */

  /* RFC 3550 A.1 */
  uint16_t max_seq;
  uint32_t cycles;            /* shifted count of seq wrap-arounds */
  uint32_t base_seq;
  uint32_t bad_seq;
  uint32_t received;
  uint32_t expected_prior;
  uint32_t received_prior;

  /* RFC 3550 A.8, jitter kept scaled by 16 */
  bool have_transit;
  uint32_t transit;
  uint32_t jitter_q4;

  /* last SR (RFC 3550 §6.4.1 LSR/DLSR) */
  bool have_sr;
  uint32_t lsr;
  uint64_t sr_arrival_us;

  uint64_t last_arrival_us;

  /* NACK: per slot (seq % window) 0 = not tracked, 1 = received,
   * 2 = missing; tries and last request time for missing ones. */
  uint32_t nack_retry_us;
  uint8_t slot_state[RTP_STATS_NACK_WINDOW];
  uint8_t slot_tries[RTP_STATS_NACK_WINDOW];
  uint64_t slot_asked_us[RTP_STATS_NACK_WINDOW];
} RtpSourceStats;

void rtp_source_stats_init (RtpSourceStats *s, uint32_t ssrc, uint32_t clock_rate);

/* Records one packet (after SRTP unprotect).  @arrival_us on a monotonic
 * clock.  Per RFC 3550 A.1, a jump of more than 3000 ahead or 100 behind
 * is ignored unless the next packet confirms it, in which case the source
 * restarts.  No probation period (A.1 MIN_SEQUENTIAL): SRTP already proves
 * where the packet came from. */
void rtp_source_stats_update (RtpSourceStats *s, uint16_t seq, uint32_t rtp_ts,
                              uint64_t arrival_us);

/* Notes a sender report: @ntp is the SR's 64-bit NTP timestamp. */
void rtp_source_stats_note_sr (RtpSourceStats *s, uint64_t ntp, uint64_t arrival_us);

/* Fills @out for an RR/SR about this source (RFC 3550 A.3) and starts a new
 * interval for fraction_lost.  Before the first packet only ssrc is set. */
void rtp_source_stats_report_block (RtpSourceStats *s, uint64_t now_us, RtcpReportBlock *out);

/* Up to @max sequence numbers worth NACKing now, oldest first.  A gap is
 * reported when first seen, retried once after nack_retry_us (measured on
 * the arrival clock: the time of the last packet, or @now_us for the _at
 * variant), then never again; gaps wider than RTP_STATS_NACK_MAX_GAP and
 * seqs older than the window are not reported. */
size_t rtp_source_stats_take_missing (RtpSourceStats *s, uint16_t *seqs, size_t max);
size_t rtp_source_stats_take_missing_at (RtpSourceStats *s, uint64_t now_us,
                                         uint16_t *seqs, size_t max);

/* Extended highest sequence number (cycles + max_seq), 0 before any packet. */
uint32_t rtp_source_stats_ext_highest_seq (const RtpSourceStats *s);

#ifdef __cplusplus
}
#endif
