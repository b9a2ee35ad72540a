/* fuzz-signaling.c — libFuzzer target for signaling/protocol.c.
 *
 * The input is one WebSocket text payload.  It is parsed and validated with
 * the before-join and after-join limits.  Invariants (trap on violation):
 * an error code is in range and its field and message are NUL-terminated;
 * a message that validates re-validates to the same type, and survives a
 * dump → parse round trip with the same type. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "protocol.h"

#define CHECK(cond) do { if (!(cond)) __builtin_trap (); } while (0)

static void
fuzz_with_limit (const uint8_t *data, size_t size, size_t limit)
{
  SignalingProtocolError error;
  SignalingMessageType type, again;
  json_t *parsed = NULL;
  json_t *message = signaling_protocol_parse ((const char *) data, size, limit, &type, &parsed,
                                              &error);

  if (message == NULL) {
    CHECK ((unsigned) error.code < SIGNALING_ERROR_N_CODES);
    CHECK (memchr (error.field, '\0', sizeof error.field) != NULL);
    CHECK (memchr (error.message, '\0', sizeof error.message) != NULL);
    CHECK (signaling_error_code_to_string (error.code) != NULL);
    if (size > limit)
      CHECK (error.code == SIGNALING_ERROR_TOO_LARGE);
    /* The id echoed back, if any, must itself be a valid id. */
    if (parsed) {
      json_t *id = signaling_protocol_get_id (parsed);
      CHECK (id == NULL || json_is_string (id) || json_integer_value (id) >= 0);
      json_decref (parsed);
    }
    return;
  }
  CHECK (parsed == NULL);
  CHECK ((unsigned) type < SIGNALING_MESSAGE_N_TYPES);
  CHECK (signaling_protocol_validate (message, &again, &error));
  CHECK (again == type);

  {
    char *text = json_dumps (message, JSON_COMPACT);
    json_t *round;

    CHECK (text != NULL);
    round = signaling_protocol_parse (text, strlen (text), SIGNALING_MAX_MESSAGE_AFTER_JOIN * 2,
                                      &again, NULL, &error);
    CHECK (round != NULL);
    CHECK (again == type);
    json_decref (round);
    free (text);
  }
  json_decref (message);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  fuzz_with_limit (data, size, SIGNALING_MAX_MESSAGE_BEFORE_JOIN);
  fuzz_with_limit (data, size, SIGNALING_MAX_MESSAGE_AFTER_JOIN);
  return 0;
}
