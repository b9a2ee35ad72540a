/* rtp-stats.c — RFC 3550 receiver statistics and NACK gap detection;
 * see rtp-stats.h for the contracts. */
#include "rtp-stats.h"

#include <string.h>

/* RFC 3550 A.1 constants */
#define RTP_SEQ_MOD (1u << 16)
#define MAX_DROPOUT 3000
#define MAX_MISORDER 100

enum { SLOT_UNTRACKED = 0, SLOT_RECEIVED = 1, SLOT_MISSING = 2 };

#define SLOT(seq) ((uint16_t) (seq) % RTP_STATS_NACK_WINDOW)

static void
nack_reset (RtpSourceStats *s, uint16_t seq)
{
  memset (s->slot_state, SLOT_UNTRACKED, sizeof s->slot_state);
  memset (s->slot_tries, 0, sizeof s->slot_tries);
  s->slot_state[SLOT (seq)] = SLOT_RECEIVED;
}

/* max_seq moved forward by @delta (>= 1) to @seq. */
static void
nack_advance (RtpSourceStats *s, uint16_t old_max, uint16_t seq, uint16_t delta)
{
  if (delta > RTP_STATS_NACK_MAX_GAP) {
    nack_reset (s, seq);
    return;
  }
  for (uint16_t k = 1; k < delta; k++) {
    unsigned i = SLOT (old_max + k);
    s->slot_state[i] = SLOT_MISSING;
    s->slot_tries[i] = 0;
  }
  s->slot_state[SLOT (seq)] = SLOT_RECEIVED;
  s->slot_tries[SLOT (seq)] = 0;
}

/* RFC 3550 A.1 init_seq() */
static void
init_seq (RtpSourceStats *s, uint16_t seq)
{
  s->base_seq = seq;
  s->max_seq = seq;
  s->bad_seq = RTP_SEQ_MOD + 1;   /* so seq == bad_seq is false */
  s->cycles = 0;
  s->received = 0;
  s->received_prior = 0;
  s->expected_prior = 0;
  s->have_transit = false;
  nack_reset (s, seq);
}

void
rtp_source_stats_init (RtpSourceStats *s, uint32_t ssrc, uint32_t clock_rate)
{
  memset (s, 0, sizeof *s);
  s->ssrc = ssrc;
  s->clock_rate = clock_rate;
  s->nack_retry_us = RTP_STATS_NACK_RETRY_US;
}

/* Arrival time in RTP timestamp units, modulo 2^32 (RFC 3550 A.8). */
static uint32_t
arrival_rtp_units (const RtpSourceStats *s, uint64_t arrival_us)
{
  uint64_t sec = arrival_us / 1000000u, frac = arrival_us % 1000000u;
  return (uint32_t) (sec * s->clock_rate + frac * s->clock_rate / 1000000u);
}

/* RFC 3550 A.8: J += (|D| - J) / 16, kept scaled by 16. */
static void
update_jitter (RtpSourceStats *s, uint32_t rtp_ts, uint64_t arrival_us)
{
  uint32_t transit = arrival_rtp_units (s, arrival_us) - rtp_ts;
  if (s->have_transit) {
    int64_t d = (int32_t) (transit - s->transit);
    if (d < 0)
      d = -d;
    int64_t j = (int64_t) s->jitter_q4 + d - (((int64_t) s->jitter_q4 + 8) >> 4);
    s->jitter_q4 = j < 0 ? 0 : j > UINT32_MAX ? UINT32_MAX : (uint32_t) j;
  }
  s->transit = transit;
  s->have_transit = true;
}

void
rtp_source_stats_update (RtpSourceStats *s, uint16_t seq, uint32_t rtp_ts,
                         uint64_t arrival_us)
{
  s->last_arrival_us = arrival_us;

  if (!s->started) {
    s->started = true;
    init_seq (s, seq);
    s->received = 1;
    update_jitter (s, rtp_ts, arrival_us);
    return;
  }

  /* RFC 3550 A.1 update_seq() */
  uint16_t udelta = (uint16_t) (seq - s->max_seq);
  if (udelta < MAX_DROPOUT) {
    if (udelta > 0) {
      uint16_t old_max = s->max_seq;
      if (seq < s->max_seq)
        s->cycles += RTP_SEQ_MOD;
      s->max_seq = seq;
      nack_advance (s, old_max, seq, udelta);
      /* Jitter only on packets that advance: a late or repeated packet
       * tells more about the repair path than about the network. */
      update_jitter (s, rtp_ts, arrival_us);
    }
  } else if (udelta <= RTP_SEQ_MOD - MAX_MISORDER) {
    /* A very large jump: believe it only if the next packet follows it. */
    if (seq == s->bad_seq) {
      init_seq (s, seq);
      update_jitter (s, rtp_ts, arrival_us);
    } else {
      s->bad_seq = (uint32_t) (uint16_t) (seq + 1);
      return;
    }
  } else {
    /* duplicate or reordered */
    uint16_t back = (uint16_t) (s->max_seq - seq);
    if (back < RTP_STATS_NACK_WINDOW && s->slot_state[SLOT (seq)] != SLOT_UNTRACKED)
      s->slot_state[SLOT (seq)] = SLOT_RECEIVED;
  }
  s->received++;
}

void
rtp_source_stats_note_sr (RtpSourceStats *s, uint64_t ntp, uint64_t arrival_us)
{
  s->lsr = (uint32_t) (ntp >> 16);   /* middle 32 bits, RFC 3550 §6.4.1 */
  s->sr_arrival_us = arrival_us;
  s->have_sr = true;
}

uint32_t
rtp_source_stats_ext_highest_seq (const RtpSourceStats *s)
{
  return s->started ? s->cycles + s->max_seq : 0;
}

void
rtp_source_stats_report_block (RtpSourceStats *s, uint64_t now_us, RtcpReportBlock *out)
{
  memset (out, 0, sizeof *out);
  out->ssrc = s->ssrc;
  if (!s->started)
    return;

  /* RFC 3550 A.3 */
  uint32_t ext_max = s->cycles + s->max_seq;
  uint32_t expected = ext_max - s->base_seq + 1;
  int64_t lost = (int64_t) expected - (int64_t) s->received;
  if (lost > 0x7fffff)
    lost = 0x7fffff;
  if (lost < -0x800000)
    lost = -0x800000;

  uint32_t expected_interval = expected - s->expected_prior;
  uint32_t received_interval = s->received - s->received_prior;
  int64_t lost_interval = (int64_t) expected_interval - (int64_t) received_interval;
  s->expected_prior = expected;
  s->received_prior = s->received;

  out->fraction_lost = (expected_interval == 0 || lost_interval <= 0)
      ? 0 : (uint8_t) ((lost_interval << 8) / expected_interval);
  out->cumulative_lost = (int32_t) lost;
  out->ext_highest_seq = ext_max;
  out->jitter = s->jitter_q4 >> 4;

  if (s->have_sr) {
    out->lsr = s->lsr;
    /* DLSR in units of 1/65536 s (RFC 3550 §6.4.1). */
    uint64_t delay_us = now_us > s->sr_arrival_us ? now_us - s->sr_arrival_us : 0;
    uint64_t dlsr = (delay_us / 1000000u) * 65536u + (delay_us % 1000000u) * 65536u / 1000000u;
    out->dlsr = dlsr > UINT32_MAX ? UINT32_MAX : (uint32_t) dlsr;
  }
}

size_t
rtp_source_stats_take_missing_at (RtpSourceStats *s, uint64_t now_us,
                                  uint16_t *seqs, size_t max)
{
  size_t n = 0;
  if (!s->started || seqs == NULL)
    return 0;

  /* Oldest first: from max_seq - (window - 1) up to max_seq - 1. */
  for (unsigned back = RTP_STATS_NACK_WINDOW - 1; back >= 1 && n < max; back--) {
    uint16_t seq = (uint16_t) (s->max_seq - back);
    unsigned i = SLOT (seq);
    if (s->slot_state[i] != SLOT_MISSING)
      continue;
    if (s->slot_tries[i] == 0 ||
        (s->slot_tries[i] < RTP_STATS_NACK_MAX_TRIES &&
         now_us >= s->slot_asked_us[i] + s->nack_retry_us)) {
      s->slot_tries[i]++;
      s->slot_asked_us[i] = now_us;
      seqs[n++] = seq;
    }
  }
  return n;
}

size_t
rtp_source_stats_take_missing (RtpSourceStats *s, uint16_t *seqs, size_t max)
{
  return rtp_source_stats_take_missing_at (s, s->last_arrival_us, seqs, max);
}
