/* protocol.c — table-driven validation of signaling messages. */
#include "protocol.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

typedef enum {
  FIELD_STRING,
  FIELD_INTEGER,
  FIELD_BOOLEAN,
  FIELD_OBJECT,
  FIELD_ID,          /* string (≤ max chars) or integer (≥ 0) */
  FIELD_MAP,         /* object of ≤ max members: keys are tokens of 1–64
                      * characters (RFC 5888 identification-tag), values
                      * strings checked against FieldSpec.values */
} FieldType;

typedef enum {
  CHECK_NONE,
  CHECK_ROOM_ID,     /* [A-Za-z0-9_-]                             */
  CHECK_NAME,        /* no control characters (C0, DEL, C1)       */
  CHECK_ENUM,        /* one of FieldSpec.values                   */
  CHECK_CANDIDATE,   /* "" or an RFC 8839 §5.1 candidate-attribute */
} StringCheck;

typedef struct FieldSpec FieldSpec;
struct FieldSpec {
  const char *name;
  FieldType type;
  gboolean required;
  gboolean nullable;       /* JSON null accepted in place of the value      */
  json_int_t min, max;     /* string: length in characters; integer: value  */
  StringCheck check;
  const char *const *values;   /* CHECK_ENUM, NULL-terminated              */
  const FieldSpec *members;    /* FIELD_OBJECT, terminated by name == NULL  */
};

typedef struct {
  const char *type;
  const FieldSpec *fields;     /* besides `type` and `id`                   */
} MessageSpec;

/* Integers on the wire must survive a JavaScript number: 2^53 - 1. */
#define MAX_SAFE_INTEGER G_GINT64_CONSTANT (9007199254740991)

static const char *const pc_values[] = { "publish", "subscribe", NULL };
static const char *const kind_values[] = { "audio", "video", "screen", NULL };
static const char *const room_kinds[] = { "consult", "briefing", NULL };
static const char *const source_values[] = { "camera", "screen", NULL };

static const FieldSpec join_fields[] = {
  { "room", FIELD_STRING, TRUE, FALSE, 1, 64, CHECK_ROOM_ID },
  { "name", FIELD_STRING, TRUE, FALSE, 1, 64, CHECK_NAME },
  { "token", FIELD_STRING, FALSE, FALSE, 0, 4096 },
  { "kind", FIELD_STRING, FALSE, FALSE, 0, 16, CHECK_ENUM, room_kinds },
  { NULL }
};
static const FieldSpec publish_fields[] = {
  { "sdp", FIELD_STRING, TRUE, FALSE, 1, SIGNALING_MAX_SDP },
  { "sources", FIELD_MAP, FALSE, FALSE, 0, 16, CHECK_ENUM, source_values },
  { NULL }
};
static const FieldSpec subscribe_answer_fields[] = {
  { "sdp", FIELD_STRING, TRUE, FALSE, 1, SIGNALING_MAX_SDP },
  { "version", FIELD_INTEGER, TRUE, FALSE, 1, MAX_SAFE_INTEGER },
  { NULL }
};
/* RTCIceCandidate.toJSON(): usernameFragment is sent by current browsers. */
static const FieldSpec candidate_members[] = {
  { "candidate", FIELD_STRING, TRUE, FALSE, 0, 1024, CHECK_CANDIDATE },
  { "sdpMid", FIELD_STRING, FALSE, TRUE, 0, 64 },
  { "sdpMLineIndex", FIELD_INTEGER, FALSE, TRUE, 0, 1023 },
  { "usernameFragment", FIELD_STRING, FALSE, TRUE, 0, 256 },
  { NULL }
};
static const FieldSpec trickle_fields[] = {
  { "pc", FIELD_STRING, TRUE, FALSE, 0, 16, CHECK_ENUM, pc_values },
  { "candidate", FIELD_OBJECT, TRUE, TRUE, 0, 0, CHECK_NONE, NULL, candidate_members },
  { NULL }
};
static const FieldSpec mute_fields[] = {
  { "kind", FIELD_STRING, TRUE, FALSE, 0, 16, CHECK_ENUM, kind_values },
  { "muted", FIELD_BOOLEAN, TRUE, FALSE },
  { NULL }
};
static const FieldSpec keyframe_fields[] = {
  { "participant", FIELD_STRING, FALSE, FALSE, 1, 64, CHECK_ROOM_ID },
  { NULL }
};
static const FieldSpec admission_fields[] = {
  { "participant", FIELD_STRING, TRUE, FALSE, 1, 64, CHECK_ROOM_ID },
  { NULL }
};
static const char *const record_actions[] = { "start", "stop", NULL };
static const char *const consent_purposes[] = { "recording", NULL };
static const FieldSpec record_fields[] = {
  { "action", FIELD_STRING, TRUE, FALSE, 0, 8, CHECK_ENUM, record_actions },
  { NULL }
};
static const FieldSpec consent_fields[] = {
  { "purpose", FIELD_STRING, TRUE, FALSE, 0, 16, CHECK_ENUM, consent_purposes },
  { "granted", FIELD_BOOLEAN, TRUE, FALSE },
  { NULL }
};
static const FieldSpec raise_hand_fields[] = {
  { "raised", FIELD_BOOLEAN, TRUE, FALSE },
  { NULL }
};
static const char *const floor_actions[] = { "grant", "revoke", NULL };
static const FieldSpec floor_fields[] = {
  { "action", FIELD_STRING, TRUE, FALSE, 0, 8, CHECK_ENUM, floor_actions },
  { "participant", FIELD_STRING, TRUE, FALSE, 1, 64, CHECK_ROOM_ID },
  { NULL }
};
static const FieldSpec mute_participant_fields[] = {
  { "participant", FIELD_STRING, TRUE, FALSE, 1, 64, CHECK_ROOM_ID },
  { "kind", FIELD_STRING, TRUE, FALSE, 0, 16, CHECK_ENUM, kind_values },
  { NULL }
};
static const FieldSpec lock_fields[] = {
  { "locked", FIELD_BOOLEAN, TRUE, FALSE },
  { NULL }
};
static const char *const layer_values[] = { "low", "medium", "high", "auto", NULL };
static const FieldSpec layer_fields[] = {
  { "participant", FIELD_STRING, TRUE, FALSE, 1, 64, CHECK_ROOM_ID },
  { "track", FIELD_STRING, TRUE, FALSE, 1, 64, CHECK_ROOM_ID },
  { "layer", FIELD_STRING, TRUE, FALSE, 0, 8, CHECK_ENUM, layer_values },
  { NULL }
};
static const FieldSpec last_n_fields[] = {
  { "n", FIELD_INTEGER, TRUE, FALSE, 0, SIGNALING_MAX_LAST_N },
  { NULL }
};
static const FieldSpec no_fields[] = {
  { NULL }
};

/* Indexed by SignalingMessageType. */
static const MessageSpec message_specs[SIGNALING_MESSAGE_N_TYPES] = {
  [SIGNALING_MESSAGE_JOIN] = { "join", join_fields },
  [SIGNALING_MESSAGE_PUBLISH] = { "publish", publish_fields },
  [SIGNALING_MESSAGE_SUBSCRIBE_ANSWER] = { "subscribe-answer", subscribe_answer_fields },
  [SIGNALING_MESSAGE_TRICKLE] = { "trickle", trickle_fields },
  [SIGNALING_MESSAGE_MUTE] = { "mute", mute_fields },
  [SIGNALING_MESSAGE_KEYFRAME] = { "keyframe", keyframe_fields },
  [SIGNALING_MESSAGE_LEAVE] = { "leave", no_fields },
  [SIGNALING_MESSAGE_PING] = { "ping", no_fields },
  [SIGNALING_MESSAGE_ADMIT] = { "admit", admission_fields },
  [SIGNALING_MESSAGE_DENY] = { "deny", admission_fields },
  [SIGNALING_MESSAGE_RECORD] = { "record", record_fields },
  [SIGNALING_MESSAGE_CONSENT] = { "consent", consent_fields },
  [SIGNALING_MESSAGE_RAISE_HAND] = { "raise-hand", raise_hand_fields },
  [SIGNALING_MESSAGE_FLOOR] = { "floor", floor_fields },
  [SIGNALING_MESSAGE_MUTE_PARTICIPANT] = { "mute-participant", mute_participant_fields },
  [SIGNALING_MESSAGE_REMOVE_PARTICIPANT] = { "remove-participant", admission_fields },
  [SIGNALING_MESSAGE_LOCK] = { "lock", lock_fields },
  [SIGNALING_MESSAGE_LAYER] = { "layer", layer_fields },
  [SIGNALING_MESSAGE_LAST_N] = { "last-n", last_n_fields },
};

static const char *const error_codes[SIGNALING_ERROR_N_CODES] = {
  [SIGNALING_ERROR_BAD_JSON] = "bad-json",
  [SIGNALING_ERROR_TOO_LARGE] = "too-large",
  [SIGNALING_ERROR_UNKNOWN_TYPE] = "unknown-type",
  [SIGNALING_ERROR_INVALID_FIELD] = "invalid-field",
  [SIGNALING_ERROR_NOT_JOINED] = "not-joined",
  [SIGNALING_ERROR_ALREADY_JOINED] = "already-joined",
  [SIGNALING_ERROR_BAD_SDP] = "bad-sdp",
  [SIGNALING_ERROR_NO_CODEC] = "no-codec",
  [SIGNALING_ERROR_BAD_STATE] = "bad-state",
  [SIGNALING_ERROR_ROOM_FULL] = "room-full",
  [SIGNALING_ERROR_RATE_LIMITED] = "rate-limited",
  [SIGNALING_ERROR_UNAUTHORIZED] = "unauthorized",
  [SIGNALING_ERROR_UNAUTHENTICATED] = "unauthenticated",
  [SIGNALING_ERROR_TOKEN_INVALID] = "token-invalid",
  [SIGNALING_ERROR_TOKEN_EXPIRED] = "token-expired",
  [SIGNALING_ERROR_TOKEN_REVOKED] = "token-revoked",
  [SIGNALING_ERROR_FORBIDDEN] = "forbidden",
  [SIGNALING_ERROR_ADMISSION_DENIED] = "admission-denied",
  [SIGNALING_ERROR_REPLACED] = "replaced",
  [SIGNALING_ERROR_NOT_IN_LOBBY] = "not-in-lobby",
  [SIGNALING_ERROR_CONSENT_REQUIRED] = "consent-required",
  [SIGNALING_ERROR_DISK_LOW] = "disk-low",
  [SIGNALING_ERROR_FLOOR_REQUIRED] = "floor-required",
  [SIGNALING_ERROR_PRESENTERS_FULL] = "presenters-full",
  [SIGNALING_ERROR_ROOM_LOCKED] = "room-locked",
  [SIGNALING_ERROR_REMOVED] = "removed",
  [SIGNALING_ERROR_NOT_HOST] = "not-host",
  [SIGNALING_ERROR_INTERNAL] = "internal",
};

const char *
signaling_error_code_to_string (SignalingErrorCode code)
{
  if ((unsigned) code >= SIGNALING_ERROR_N_CODES)
    return "internal";
  return error_codes[code];
}

const char *
signaling_message_type_to_string (SignalingMessageType type)
{
  if ((unsigned) type >= SIGNALING_MESSAGE_N_TYPES)
    return "unknown";
  return message_specs[type].type;
}

static gboolean
set_error (SignalingProtocolError *error, SignalingErrorCode code, const char *field,
           const char *format, ...) G_GNUC_PRINTF (4, 5);

static gboolean
set_error (SignalingProtocolError *error, SignalingErrorCode code, const char *field,
           const char *format, ...)
{
  va_list args;

  error->code = code;
  g_strlcpy (error->field, field ? field : "", sizeof error->field);
  va_start (args, format);
  vsnprintf (error->message, sizeof error->message, format, args);
  va_end (args);
  return FALSE;
}

/* Counts UTF-8 characters of @s (@len bytes, already valid UTF-8 because
 * jansson checks it) and applies @check.  Returns FALSE on a refused
 * character.  NUL (\u0000) is refused everywhere. */
static gboolean
check_string (const char *s, size_t len, StringCheck check, json_int_t *chars_out)
{
  json_int_t chars = 0;

  for (size_t i = 0; i < len;) {
    unsigned char c = (unsigned char) s[i];
    gunichar u;
    size_t n;

    if (c < 0x80) {
      u = c;
      n = 1;
    } else {
      u = g_utf8_get_char_validated (s + i, (gssize) (len - i));
      if (u == (gunichar) -1 || u == (gunichar) -2)
        return FALSE;
      n = (size_t) (g_utf8_next_char (s + i) - (s + i));
    }
    if (u == 0)
      return FALSE;
    switch (check) {
    case CHECK_ROOM_ID:
      if (!(g_ascii_isalnum (u) || u == '_' || u == '-') || u >= 0x80)
        return FALSE;
      break;
    case CHECK_NAME:
      if (u < 0x20 || (u >= 0x7f && u <= 0x9f) || u == 0x2028 || u == 0x2029)
        return FALSE;
      break;
    default:
      break;
    }
    i += n;
    chars++;
  }
  *chars_out = chars;
  return TRUE;
}

static gboolean
is_token (const char *s, const char *extra)
{
  if (*s == '\0')
    return FALSE;
  for (; *s; s++)
    if (!g_ascii_isalnum (*s) && strchr (extra, *s) == NULL)
      return FALSE;
  return TRUE;
}

static gboolean
is_number (const char *s, guint digits, guint64 min, guint64 max)
{
  guint64 value;

  if (*s == '\0' || strlen (s) > digits)
    return FALSE;
  for (const char *c = s; *c; c++)
    if (!g_ascii_isdigit (*c))
      return FALSE;
  value = g_ascii_strtoull (s, NULL, 10);
  return value >= min && value <= max;
}

/* An IPv4 or IPv6 literal, or a host name (mDNS ".local" names included:
 * the media plane decides what it uses).  Digits-and-dots must be IPv4. */
static gboolean
is_connection_address (const char *s)
{
  unsigned char buffer[16];
  gboolean has_alpha = FALSE;

  if (strchr (s, ':'))
    return inet_pton (AF_INET6, s, buffer) == 1;
  for (const char *c = s; *c; c++)
    has_alpha |= g_ascii_isalpha (*c);
  if (!has_alpha)
    return inet_pton (AF_INET, s, buffer) == 1;
  return is_token (s, "-.") && strlen (s) <= 253;
}

/* RFC 8839 §5.1:  candidate:<foundation> <component> <transport> <priority>
 * <address> <port> typ <type> *(SP name SP value), with or without "a=".
 * Checked here so that garbage gets `invalid-field` instead of silence. */
static gboolean
check_candidate (const char *line)
{
  g_auto (GStrv) parts = NULL;
  guint n;

  if (*line == '\0')
    return TRUE;                      /* end-of-candidates */
  if (g_str_has_prefix (line, "a="))
    line += 2;
  if (!g_str_has_prefix (line, "candidate:"))
    return FALSE;
  parts = g_strsplit (line + strlen ("candidate:"), " ", -1);
  n = g_strv_length (parts);
  if (n < 8 || n % 2 != 0)
    return FALSE;
  return strlen (parts[0]) <= 32 && is_token (parts[0], "+/")
         && is_number (parts[1], 3, 1, 256)
         && is_token (parts[2], "-")
         && is_number (parts[3], 10, 0, G_MAXUINT32)
         && is_connection_address (parts[4])
         && is_number (parts[5], 5, 0, 65535)
         && strcmp (parts[6], "typ") == 0
         && is_token (parts[7], "-")
         && ({
              gboolean ok = TRUE;
              for (guint i = 8; i < n && ok; i++)
                ok = is_token (parts[i], "-_.+/:=");
              ok;
            });
}

static gboolean validate_members (const json_t *object, const FieldSpec *fields,
                                  const char *prefix, gboolean is_envelope,
                                  SignalingProtocolError *error);

static gboolean
validate_field (const json_t *value, const FieldSpec *spec, const char *path,
                SignalingProtocolError *error)
{
  json_int_t chars;

  if (json_is_null (value) && spec->nullable)
    return TRUE;

  switch (spec->type) {
  case FIELD_STRING:
    if (!json_is_string (value))
      return set_error (error, SIGNALING_ERROR_INVALID_FIELD, path, "%s must be a string", path);
    if (!check_string (json_string_value (value), json_string_length (value), spec->check, &chars))
      return set_error (error, SIGNALING_ERROR_INVALID_FIELD, path,
                        "%s contains a character that is not allowed", path);
    if (chars < spec->min || chars > spec->max)
      return set_error (error, SIGNALING_ERROR_INVALID_FIELD, path,
                        "%s must be %" JSON_INTEGER_FORMAT "–%" JSON_INTEGER_FORMAT
                        " characters long", path, spec->min, spec->max);
    if (spec->check == CHECK_CANDIDATE && !check_candidate (json_string_value (value)))
      return set_error (error, SIGNALING_ERROR_INVALID_FIELD, path,
                        "%s is not an ICE candidate (RFC 8839 §5.1)", path);
    if (spec->check == CHECK_ENUM) {
      for (const char *const *v = spec->values; *v; v++)
        if (strcmp (*v, json_string_value (value)) == 0)
          return TRUE;
      return set_error (error, SIGNALING_ERROR_INVALID_FIELD, path,
                        "%s is not one of the allowed values", path);
    }
    return TRUE;

  case FIELD_INTEGER:
    if (!json_is_integer (value))
      return set_error (error, SIGNALING_ERROR_INVALID_FIELD, path, "%s must be an integer", path);
    if (json_integer_value (value) < spec->min || json_integer_value (value) > spec->max)
      return set_error (error, SIGNALING_ERROR_INVALID_FIELD, path,
                        "%s must be between %" JSON_INTEGER_FORMAT " and %" JSON_INTEGER_FORMAT,
                        path, spec->min, spec->max);
    return TRUE;

  case FIELD_BOOLEAN:
    if (!json_is_boolean (value))
      return set_error (error, SIGNALING_ERROR_INVALID_FIELD, path, "%s must be a boolean", path);
    return TRUE;

  case FIELD_OBJECT:
    if (!json_is_object (value))
      return set_error (error, SIGNALING_ERROR_INVALID_FIELD, path, "%s must be an object%s",
                        path, spec->nullable ? " or null" : "");
    return validate_members (value, spec->members, path, FALSE, error);

  case FIELD_MAP: {
    const char *key;
    json_t *member;

    if (!json_is_object (value))
      return set_error (error, SIGNALING_ERROR_INVALID_FIELD, path, "%s must be an object", path);
    if ((json_int_t) json_object_size (value) > spec->max)
      return set_error (error, SIGNALING_ERROR_INVALID_FIELD, path,
                        "%s has more than %" JSON_INTEGER_FORMAT " members", path, spec->max);
    json_object_foreach ((json_t *) value, key, member) {
      char member_path[64];
      char shown[40];
      size_t key_len = strlen (key);
      gboolean ok = key_len >= 1 && key_len <= 64;

      for (size_t k = 0; ok && k < key_len; k++)
        ok = g_ascii_isalnum (key[k]) || strchr ("!#$%&'*+-.^_`{|}~", key[k]) != NULL;
      g_strlcpy (shown, key, sizeof shown);
      snprintf (member_path, sizeof member_path, "%s.%s", path, shown);
      if (!ok)
        return set_error (error, SIGNALING_ERROR_INVALID_FIELD, path,
                          "%s: member names must be tokens of 1–64 characters", path);
      if (!json_is_string (member))
        return set_error (error, SIGNALING_ERROR_INVALID_FIELD, member_path,
                          "%s must be a string", member_path);
      for (const char *const *v = spec->values; *v; v++)
        if (strcmp (*v, json_string_value (member)) == 0)
          goto next_member;
      return set_error (error, SIGNALING_ERROR_INVALID_FIELD, member_path,
                        "%s is not one of the allowed values", member_path);
    next_member:
      ;
    }
    return TRUE;
  }

  case FIELD_ID:
    if (json_is_integer (value)) {
      if (json_integer_value (value) < 0 || json_integer_value (value) > MAX_SAFE_INTEGER)
        return set_error (error, SIGNALING_ERROR_INVALID_FIELD, path,
                          "%s must be an integer from 0 to 2^53-1", path);
      return TRUE;
    }
    if (json_is_string (value)
        && check_string (json_string_value (value), json_string_length (value), CHECK_NONE, &chars)
        && chars <= spec->max)
      return TRUE;
    return set_error (error, SIGNALING_ERROR_INVALID_FIELD, path,
                      "%s must be a string of at most %" JSON_INTEGER_FORMAT
                      " characters or an integer ≥ 0", path, spec->max);
  }
  return set_error (error, SIGNALING_ERROR_INTERNAL, path, "bad field table");
}

static const FieldSpec id_field = { "id", FIELD_ID, FALSE, FALSE, 0, 64 };

static gboolean
validate_members (const json_t *object, const FieldSpec *fields, const char *prefix,
                  gboolean is_envelope, SignalingProtocolError *error)
{
  const char *key;
  json_t *value;
  char path[64];

  /* Unknown members first: a typo'd optional member should be named as such,
   * not silently ignored. */
  json_object_foreach ((json_t *) object, key, value) {
    const FieldSpec *spec;

    if (is_envelope && (strcmp (key, "type") == 0 || strcmp (key, "id") == 0))
      continue;
    for (spec = fields; spec->name; spec++)
      if (strcmp (spec->name, key) == 0)
        break;
    if (spec->name == NULL) {
      char shown[40];

      g_strlcpy (shown, key, sizeof shown);
      if (prefix)
        snprintf (path, sizeof path, "%s.%s", prefix, shown);
      else
        g_strlcpy (path, shown, sizeof path);
      return set_error (error, SIGNALING_ERROR_INVALID_FIELD, path, "unknown member %s", path);
    }
  }

  for (const FieldSpec *spec = fields; spec->name; spec++) {
    const json_t *member = json_object_get (object, spec->name);

    if (prefix)
      snprintf (path, sizeof path, "%s.%s", prefix, spec->name);
    else
      g_strlcpy (path, spec->name, sizeof path);
    if (member == NULL) {
      if (spec->required)
        return set_error (error, SIGNALING_ERROR_INVALID_FIELD, path, "%s is required", path);
      continue;
    }
    if (!validate_field (member, spec, path, error))
      return FALSE;
  }
  return TRUE;
}

json_t *
signaling_protocol_get_id (const json_t *message)
{
  SignalingProtocolError ignored;
  json_t *id;

  if (!json_is_object (message))
    return NULL;
  id = json_object_get (message, "id");
  if (id == NULL || !validate_field (id, &id_field, "id", &ignored))
    return NULL;
  return id;
}

gboolean
signaling_protocol_validate (const json_t *message, SignalingMessageType *type_out,
                             SignalingProtocolError *error)
{
  const json_t *type, *id;
  const char *name;
  guint i;

  g_return_val_if_fail (error != NULL, FALSE);

  if (!json_is_object (message))
    return set_error (error, SIGNALING_ERROR_BAD_JSON, NULL, "a message must be a JSON object");

  type = json_object_get (message, "type");
  if (!json_is_string (type))
    return set_error (error, SIGNALING_ERROR_UNKNOWN_TYPE, "type",
                      "type is missing or not a string");
  name = json_string_value (type);
  for (i = 0; i < SIGNALING_MESSAGE_N_TYPES; i++)
    if (strcmp (message_specs[i].type, name) == 0)
      break;
  if (i == SIGNALING_MESSAGE_N_TYPES)
    return set_error (error, SIGNALING_ERROR_UNKNOWN_TYPE, "type", "unknown message type");

  id = json_object_get (message, "id");
  if (id != NULL && !validate_field (id, &id_field, "id", error))
    return FALSE;

  if (!validate_members (message, message_specs[i].fields, NULL, TRUE, error))
    return FALSE;

  if (type_out)
    *type_out = (SignalingMessageType) i;
  return TRUE;
}

json_t *
signaling_protocol_parse (const char *data, size_t len, size_t max_len,
                          SignalingMessageType *type_out, json_t **parsed_out,
                          SignalingProtocolError *error)
{
  json_error_t json_error;
  json_t *message;

  g_return_val_if_fail (error != NULL, NULL);
  if (parsed_out)
    *parsed_out = NULL;

  if (len > max_len) {
    set_error (error, SIGNALING_ERROR_TOO_LARGE, NULL,
               "message of %zu bytes is over the limit of %zu", len, max_len);
    return NULL;
  }
  if (data == NULL && len > 0) {
    set_error (error, SIGNALING_ERROR_BAD_JSON, NULL, "no data");
    return NULL;
  }

  message = json_loadb (data ? data : "", len, JSON_REJECT_DUPLICATES, &json_error);
  if (message == NULL) {
    set_error (error, SIGNALING_ERROR_BAD_JSON, NULL, "not JSON: %s (at byte %d)",
               json_error.text, json_error.position);
    return NULL;
  }
  if (!signaling_protocol_validate (message, type_out, error)) {
    if (parsed_out)
      *parsed_out = message;
    else
      json_decref (message);
    return NULL;
  }
  return message;
}
