/* protocol.h — validation of client → server signaling messages.
 *
 * Pure functions over jansson values: no I/O, no GLib main loop, no
 * allocation beyond the parsed json_t.  Each message type has a static
 * table of members (JSON type, bounds, required/optional); members not in
 * the table are refused so that typos do not go unnoticed.  See
 * docs/protocol.md, which this file implements.
 */
#pragma once

#include <glib.h>
#include <jansson.h>

G_BEGIN_DECLS

/* Hard limits (bytes of the WebSocket text payload). */
#define SIGNALING_MAX_MESSAGE_BEFORE_JOIN 4096
#define SIGNALING_MAX_MESSAGE_AFTER_JOIN  65536
#define SIGNALING_MAX_SDP                 32768
/* `last-n`: 0 (everyone) to this. */
#define SIGNALING_MAX_LAST_N              100

typedef enum {
  SIGNALING_MESSAGE_JOIN,
  SIGNALING_MESSAGE_PUBLISH,
  SIGNALING_MESSAGE_SUBSCRIBE_ANSWER,
  SIGNALING_MESSAGE_TRICKLE,
  SIGNALING_MESSAGE_MUTE,
  SIGNALING_MESSAGE_KEYFRAME,
  SIGNALING_MESSAGE_LEAVE,
  SIGNALING_MESSAGE_PING,
  SIGNALING_MESSAGE_ADMIT,
  SIGNALING_MESSAGE_DENY,
  SIGNALING_MESSAGE_RECORD,
  SIGNALING_MESSAGE_CONSENT,
  /* Issue 6: floor control and moderation (signaling/moderation.c). */
  SIGNALING_MESSAGE_RAISE_HAND,
  SIGNALING_MESSAGE_FLOOR,
  SIGNALING_MESSAGE_MUTE_PARTICIPANT,
  SIGNALING_MESSAGE_REMOVE_PARTICIPANT,
  SIGNALING_MESSAGE_LOCK,
  SIGNALING_MESSAGE_LAYER,
  SIGNALING_MESSAGE_LAST_N,
  SIGNALING_MESSAGE_N_TYPES
} SignalingMessageType;

/* Stable error codes of docs/protocol.md. */
typedef enum {
  SIGNALING_ERROR_BAD_JSON,
  SIGNALING_ERROR_TOO_LARGE,
  SIGNALING_ERROR_UNKNOWN_TYPE,
  SIGNALING_ERROR_INVALID_FIELD,
  SIGNALING_ERROR_NOT_JOINED,
  SIGNALING_ERROR_ALREADY_JOINED,
  SIGNALING_ERROR_BAD_SDP,
  SIGNALING_ERROR_NO_CODEC,
  SIGNALING_ERROR_BAD_STATE,
  SIGNALING_ERROR_ROOM_FULL,
  SIGNALING_ERROR_RATE_LIMITED,
  SIGNALING_ERROR_UNAUTHORIZED,      /* Origin refused at the upgrade           */
  SIGNALING_ERROR_UNAUTHENTICATED,   /* no token where one is needed            */
  SIGNALING_ERROR_TOKEN_INVALID,
  SIGNALING_ERROR_TOKEN_EXPIRED,
  SIGNALING_ERROR_TOKEN_REVOKED,
  SIGNALING_ERROR_FORBIDDEN,         /* not on this consultation's care team    */
  SIGNALING_ERROR_ADMISSION_DENIED,  /* a care-team member turned the patient away */
  SIGNALING_ERROR_REPLACED,          /* the same invitation connected again     */
  SIGNALING_ERROR_NOT_IN_LOBBY,      /* admit/deny of someone not waiting       */
  SIGNALING_ERROR_CONSENT_REQUIRED,  /* record start without the patient's consent */
  SIGNALING_ERROR_DISK_LOW,          /* record start with too little free space */
  SIGNALING_ERROR_FLOOR_REQUIRED,    /* a briefing viewer's publish             */
  SIGNALING_ERROR_PRESENTERS_FULL,   /* a floor grant beyond the presenter limit */
  SIGNALING_ERROR_ROOM_LOCKED,       /* a join while the host locked the room   */
  SIGNALING_ERROR_REMOVED,           /* the host removed you from the room      */
  SIGNALING_ERROR_NOT_HOST,          /* a host-only message from a non-host     */
  SIGNALING_ERROR_INTERNAL,
  SIGNALING_ERROR_N_CODES
} SignalingErrorCode;

/* What went wrong with one message.  @field is "" or the member's path
 * ("candidate.sdpMid"); @message is for humans. */
typedef struct {
  SignalingErrorCode code;
  char field[64];
  char message[160];
} SignalingProtocolError;

/* "bad-json", "too-large", ... (static strings). */
const char *signaling_error_code_to_string (SignalingErrorCode code);
/* "join", "publish", ... (static strings). */
const char *signaling_message_type_to_string (SignalingMessageType type);

/* Checks @message (any json_t, may be NULL) against the table of its type.
 * On success stores the type in @type_out and returns TRUE.  On failure
 * fills @error and returns FALSE. */
gboolean signaling_protocol_validate (const json_t *message,
                                      SignalingMessageType *type_out,
                                      SignalingProtocolError *error);

/* Parses @len bytes of @data (not NUL-terminated) as one JSON object,
 * refusing more than @max_len bytes (too-large) and duplicate keys
 * (bad-json), then validates it.  Returns (transfer full) the object (the
 * caller owns the json_t) with @type_out set, or NULL with @error set.
 * When the object parsed but did not validate, *@parsed_out (if not NULL)
 * receives a new reference to it so that the caller can echo its `id`. */
json_t *signaling_protocol_parse (const char *data, size_t len, size_t max_len,
                                  SignalingMessageType *type_out,
                                  json_t **parsed_out,
                                  SignalingProtocolError *error);

/* The message's `id` if present and valid (a string or an integer), else
 * NULL.  (transfer none) */
json_t *signaling_protocol_get_id (const json_t *message);

G_END_DECLS
