/* speaker-detector.c — see speaker-detector.h. */
#include "speaker-detector.h"

#include <stddef.h>

void
speaker_entry_init (SpeakerEntry *e)
{
  e->energy_sum = 0;
  e->packets = 0;
  e->score = 0.0f;
}

void
speaker_entry_add_level (SpeakerEntry *e, uint8_t level_byte)
{
  uint8_t level = level_byte & 0x7f;

  if (e->packets == UINT32_MAX)
    return;
  e->packets++;
  if (level < SPEAKER_FLOOR_LEVEL)
    e->energy_sum += (uint32_t) (SPEAKER_FLOOR_LEVEL - level);
}

float
speaker_entry_step (SpeakerEntry *e, unsigned steps)
{
  float instant = e->packets > 0 ? (float) e->energy_sum / (float) e->packets : 0.0f;

  if (steps == 0)
    return e->score;
  e->score = 0.7f * e->score + 0.3f * instant;
  /* Steps without any packet: silence.  Past 40 of them the score is 0. */
  for (unsigned i = 1; i < steps && i < 40; i++)
    e->score *= 0.7f;
  if (steps >= 40 || e->score < 0.01f)
    e->score = 0.0f;
  e->energy_sum = 0;
  e->packets = 0;
  return e->score;
}

void
speaker_detector_init (SpeakerDetector *d)
{
  d->dominant = NULL;
  d->challenger = NULL;
  d->challenger_since_us = 0;
  d->quiet_since_us = 0;
}

bool
speaker_detector_decide (SpeakerDetector *d, const SpeakerEntry *top, int64_t now_us)
{
  const SpeakerEntry *dom = d->dominant;
  float dom_score = dom != NULL ? dom->score : 0.0f;
  bool top_speaks = top != NULL && top->score >= SPEAKER_ACTIVE_SCORE;

  /* The dominant speaker went quiet: dropped after a while if nobody
   * else speaks (someone who does will take over below). */
  if (dom != NULL && dom_score < SPEAKER_ACTIVE_SCORE) {
    if (d->quiet_since_us == 0)
      d->quiet_since_us = now_us;
    else if (now_us - d->quiet_since_us >= SPEAKER_SILENCE_US && !top_speaks) {
      d->dominant = NULL;
      d->challenger = NULL;
      d->quiet_since_us = 0;
      return true;
    }
  } else {
    d->quiet_since_us = 0;
  }

  if (!top_speaks || top == dom ||
      (dom != NULL && top->score <= SPEAKER_RATIO * dom_score + SPEAKER_MARGIN)) {
    d->challenger = NULL;
    return false;
  }
  if (d->challenger != top) {
    d->challenger = top;
    d->challenger_since_us = now_us;
    return false;
  }
  if (now_us - d->challenger_since_us < (dom == NULL ? SPEAKER_FIRST_HOLD_US : SPEAKER_HOLD_US))
    return false;
  d->dominant = top;
  d->challenger = NULL;
  d->quiet_since_us = 0;
  return true;
}

bool
speaker_detector_forget (SpeakerDetector *d, const SpeakerEntry *e)
{
  if (d->challenger == e)
    d->challenger = NULL;
  if (d->dominant != e)
    return false;
  d->dominant = NULL;
  d->quiet_since_us = 0;
  return true;
}
