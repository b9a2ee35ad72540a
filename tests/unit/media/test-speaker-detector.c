/* test-speaker-detector.c — tests for media/speaker-detector.c, fed with
 * synthetic RFC 6464 levels on a synthetic clock: 20 ms audio packets,
 * a decision every SPEAKER_STEP_US, as media/speaker.c drives it. */
#include <glib.h>

#include "speaker-detector.h"

#define SILENCE 127
#define TONE 10          /* -10 dBov */
#define VOICE 30         /* -30 dBov */
#define NOISE 62         /* a quiet room's background */

typedef struct {
  SpeakerDetector d;
  SpeakerEntry e[3];
  int64_t now_us;
  guint changes;
  int64_t last_change_us;
} Room;

static void
room_init (Room *r)
{
  speaker_detector_init (&r->d);
  for (guint i = 0; i < G_N_ELEMENTS (r->e); i++)
    speaker_entry_init (&r->e[i]);
  r->now_us = 1000000;
  r->changes = 0;
  r->last_change_us = 0;
}

static int
dominant (const Room *r)
{
  for (guint i = 0; i < G_N_ELEMENTS (r->e); i++)
    if (r->d.dominant == &r->e[i])
      return (int) i;
  g_assert_null (r->d.dominant);
  return -1;
}

/* @ms of audio: 5 packets per step, participant i at levels[i] (negative:
 * sends no packet at all, as a muted or DTX sender). */
static void
run (Room *r, guint ms, const int levels[3])
{
  for (guint t = 0; t < ms; t += SPEAKER_STEP_US / 1000) {
    const SpeakerEntry *top = NULL;

    for (guint p = 0; p < 5; p++)
      for (guint i = 0; i < 3; i++)
        if (levels[i] >= 0)
          speaker_entry_add_level (&r->e[i], (uint8_t) levels[i]);
    r->now_us += SPEAKER_STEP_US;
    for (guint i = 0; i < 3; i++) {
      float s = speaker_entry_step (&r->e[i], 1);

      if (s > 0.0f && (top == NULL || s > top->score))
        top = &r->e[i];
    }
    if (speaker_detector_decide (&r->d, top, r->now_us)) {
      r->changes++;
      r->last_change_us = r->now_us;
    }
  }
}

static void
test_levels (void)
{
  SpeakerEntry e;

  speaker_entry_init (&e);
  g_assert_cmpfloat (speaker_entry_step (&e, 1), ==, 0.0f);
  /* The V bit does not change the level. */
  speaker_entry_add_level (&e, 0x80 | TONE);
  speaker_entry_add_level (&e, TONE);
  g_assert_cmpfloat_with_epsilon (speaker_entry_step (&e, 1),
                                  0.3f * (SPEAKER_FLOOR_LEVEL - TONE), 0.001f);
  /* Quieter than the floor counts as silence; a missing step decays. */
  speaker_entry_add_level (&e, NOISE);
  speaker_entry_add_level (&e, SILENCE);
  g_assert_cmpfloat_with_epsilon (speaker_entry_step (&e, 1),
                                  0.7f * 0.3f * (SPEAKER_FLOOR_LEVEL - TONE), 0.001f);
  g_assert_cmpfloat_with_epsilon (speaker_entry_step (&e, 3),
                                  0.7f * 0.7f * 0.7f * 0.7f * 0.3f * (SPEAKER_FLOOR_LEVEL - TONE),
                                  0.001f);
  g_assert_cmpfloat (speaker_entry_step (&e, 1000), ==, 0.0f);
  g_assert_cmpfloat (speaker_entry_step (&e, 0), ==, 0.0f);
}

static void
test_first_speaker_and_silence (void)
{
  Room r;
  const int quiet[3] = { SILENCE, NOISE, -1 };
  const int a_speaks[3] = { VOICE, NOISE, -1 };

  room_init (&r);
  run (&r, 5000, quiet);
  g_assert_cmpint (dominant (&r), ==, -1);
  g_assert_cmpuint (r.changes, ==, 0);

  /* A speaks: the floor after the first hold (plus the rise of the score). */
  int64_t start = r.now_us;
  run (&r, 2000, a_speaks);
  g_assert_cmpint (dominant (&r), ==, 0);
  g_assert_cmpuint (r.changes, ==, 1);
  g_assert_cmpint (r.last_change_us - start, >=, SPEAKER_FIRST_HOLD_US);
  g_assert_cmpint (r.last_change_us - start, <=, SPEAKER_FIRST_HOLD_US + 300000);

  /* Short silences (a breath) do not drop the speaker. */
  run (&r, 1000, quiet);
  run (&r, 1000, a_speaks);
  g_assert_cmpint (dominant (&r), ==, 0);
  g_assert_cmpuint (r.changes, ==, 1);

  /* Long silence: nobody, after SPEAKER_SILENCE_US and the decay. */
  start = r.now_us;
  run (&r, 6000, quiet);
  g_assert_cmpint (dominant (&r), ==, -1);
  g_assert_cmpuint (r.changes, ==, 2);
  g_assert_cmpint (r.last_change_us - start, >=, SPEAKER_SILENCE_US);
  g_assert_cmpint (r.last_change_us - start, <=, SPEAKER_SILENCE_US + 1000000);
}

static void
test_hysteresis (void)
{
  Room r;
  const int a_speaks[3] = { VOICE, SILENCE, SILENCE };
  const int b_speaks[3] = { SILENCE, VOICE, SILENCE };
  const int both[3] = { VOICE, VOICE + 2, SILENCE };
  const int b_louder[3] = { 45, TONE, SILENCE };

  room_init (&r);
  run (&r, 2000, a_speaks);
  g_assert_cmpint (dominant (&r), ==, 0);

  /* B interjects for 400 ms: not enough to take the floor. */
  run (&r, 400, b_speaks);
  run (&r, 1000, a_speaks);
  g_assert_cmpint (dominant (&r), ==, 0);
  g_assert_cmpuint (r.changes, ==, 1);

  /* Both talk about as loud: A keeps it (B is not clearly louder). */
  run (&r, 5000, both);
  g_assert_cmpint (dominant (&r), ==, 0);

  /* B clearly louder while A murmurs: B after the hold. */
  int64_t start = r.now_us;
  run (&r, 3000, b_louder);
  g_assert_cmpint (dominant (&r), ==, 1);
  g_assert_cmpuint (r.changes, ==, 2);
  g_assert_cmpint (r.last_change_us - start, >=, SPEAKER_HOLD_US);
  g_assert_cmpint (r.last_change_us - start, <=, SPEAKER_HOLD_US + 1000000);

  /* A takes over when B stops and A speaks: within about a second. */
  start = r.now_us;
  run (&r, 3000, a_speaks);
  g_assert_cmpint (dominant (&r), ==, 0);
  g_assert_cmpuint (r.changes, ==, 3);
  g_assert_cmpint (r.last_change_us - start, <=, 1500000);
}

static void
test_alternating_fast_is_rate_limited (void)
{
  Room r;
  const int a_speaks[3] = { TONE, SILENCE, SILENCE };
  const int c_speaks[3] = { SILENCE, SILENCE, TONE };

  room_init (&r);
  /* Speakers swapping every 200 ms: no flapping (at most the first pick). */
  for (guint i = 0; i < 50; i++)
    run (&r, 200, i % 2 ? c_speaks : a_speaks);
  g_test_message ("%u changes for 50 swaps", r.changes);
  g_assert_cmpuint (r.changes, <=, 1);
}

static void
test_forget (void)
{
  Room r;
  const int a_speaks[3] = { VOICE, SILENCE, SILENCE };
  const int c_speaks[3] = { VOICE, SILENCE, TONE };

  room_init (&r);
  run (&r, 2000, a_speaks);
  g_assert_cmpint (dominant (&r), ==, 0);
  g_assert_false (speaker_detector_forget (&r.d, &r.e[1]));
  g_assert_cmpint (dominant (&r), ==, 0);
  /* C challenges; forgetting the challenger restarts its hold. */
  run (&r, 300, c_speaks);
  g_assert_false (speaker_detector_forget (&r.d, &r.e[2]));
  g_assert_null (r.d.challenger);
  g_assert_true (speaker_detector_forget (&r.d, &r.e[0]));
  g_assert_cmpint (dominant (&r), ==, -1);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/speaker-detector/levels", test_levels);
  g_test_add_func ("/speaker-detector/first-speaker-and-silence", test_first_speaker_and_silence);
  g_test_add_func ("/speaker-detector/hysteresis", test_hysteresis);
  g_test_add_func ("/speaker-detector/alternating-fast", test_alternating_fast_is_rate_limited);
  g_test_add_func ("/speaker-detector/forget", test_forget);
  return g_test_run ();
}
