/* speaker-detector.h — the dominant speaker of a room from RFC 6464 audio
 * levels.
 *
 * Layer: media codec (STYLE.md §1).  Plain C11: no GLib, no I/O, no
 * allocation; the caller owns every struct (one SpeakerEntry per
 * participant, one SpeakerDetector per room) and calls from one thread.
 *
 * Levels.  Each audio packet's ssrc-audio-level byte is V(1) | level(7),
 * the level in -dBov: 0 is the loudest, 127 silence.  A packet's energy is
 * SPEAKER_FLOOR_LEVEL - level (0 when quieter than the floor), so a tone
 * or a voice at -20 dBov is worth 35 and the background noise of a quiet
 * room (-60 dBov and below) nothing; GStreamer's level element reports
 * digital silence as 59, Chromium as 127.  The V bit is not trusted (not
 * every sender sets it).
 *
 * Scores.  Every SPEAKER_STEP_US the caller folds each entry's packets
 * into a smoothed score (exponential, about 300 ms time constant):
 * score = 0.7 score + 0.3 mean energy of the step (0 when no packet came).
 *
 * Decision (hysteresis).  A participant whose score is at least
 * SPEAKER_ACTIVE_SCORE speaks.  The loudest speaker takes the floor when it
 * has been the loudest, and clearly louder than the current dominant
 * speaker (score > SPEAKER_RATIO x the dominant's + SPEAKER_MARGIN), for
 * SPEAKER_HOLD_US (SPEAKER_FIRST_HOLD_US when nobody holds it).  A dominant
 * speaker silent for SPEAKER_SILENCE_US, with nobody else speaking, is
 * dropped (dominant NULL).  So changes come at most every
 * SPEAKER_FIRST_HOLD_US, and a cough or a short interjection does not move
 * the floor.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SPEAKER_FLOOR_LEVEL 55                 /* -55 dBov */
#define SPEAKER_STEP_US (100 * 1000)
#define SPEAKER_ACTIVE_SCORE 8.0f
#define SPEAKER_RATIO 1.5f
#define SPEAKER_MARGIN 3.0f
#define SPEAKER_HOLD_US (700 * 1000)
#define SPEAKER_FIRST_HOLD_US (300 * 1000)
#define SPEAKER_SILENCE_US (3 * 1000 * 1000)

typedef struct {
  uint32_t energy_sum;   /* since the last step */
  uint32_t packets;
  float score;
} SpeakerEntry;

typedef struct {
  const SpeakerEntry *dominant;     /* NULL: nobody */
  const SpeakerEntry *challenger;   /* the loudest, while it waits for the hold */
  int64_t challenger_since_us;
  int64_t quiet_since_us;           /* the dominant speaker is silent since; 0: speaking */
} SpeakerDetector;

void speaker_entry_init (SpeakerEntry *e);
/* One packet's ssrc-audio-level byte (V bit and level). */
void speaker_entry_add_level (SpeakerEntry *e, uint8_t level_byte);
/* Folds the packets since the last call into the score, @steps times
 * SPEAKER_STEP_US later (1 normally; more when the caller fell behind: the
 * extra steps decay the score as silence).  Returns the new score. */
float speaker_entry_step (SpeakerEntry *e, unsigned steps);

void speaker_detector_init (SpeakerDetector *d);
/* After every entry has stepped: @top is the entry with the highest score
 * (NULL when there is none).  Returns true when d->dominant changed. */
bool speaker_detector_decide (SpeakerDetector *d, const SpeakerEntry *top, int64_t now_us);
/* @e goes away.  Returns true when it was the dominant speaker (now NULL). */
bool speaker_detector_forget (SpeakerDetector *d, const SpeakerEntry *e);

#ifdef __cplusplus
}
#endif
