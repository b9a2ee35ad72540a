/* Tests signaling/protocol.c: every message type valid, then each member
 * missing, of the wrong type, out of bounds, unknown; bad JSON; non-object;
 * oversized. */
#include <string.h>

#include "protocol.h"

/* Parses @text with the after-join limit and returns the error code, or -1
 * when valid; the field of the error is stored in @field (may be NULL). */
static int
check (const char *text, char *field, size_t field_size)
{
  SignalingProtocolError error;
  SignalingMessageType type;
  json_t *message = signaling_protocol_parse (text, strlen (text),
                                              SIGNALING_MAX_MESSAGE_AFTER_JOIN, &type, NULL,
                                              &error);
  if (message) {
    json_decref (message);
    return -1;
  }
  if (field)
    g_strlcpy (field, error.field, field_size);
  return error.code;
}

static void
assert_valid (const char *text)
{
  int code = check (text, NULL, 0);

  if (code != -1)
    g_error ("expected valid: %s (got %s)", text, signaling_error_code_to_string (code));
}

static void
assert_invalid (const char *text, SignalingErrorCode expected, const char *expected_field)
{
  char field[64] = "";
  int code = check (text, field, sizeof field);

  if (code != (int) expected)
    g_error ("%s: expected %s, got %s", text, signaling_error_code_to_string (expected),
             code < 0 ? "valid" : signaling_error_code_to_string (code));
  if (expected_field)
    g_assert_cmpstr (field, ==, expected_field);
}

#define CAND "candidate:1 1 udp 1 127.0.0.1 9 typ host"
#define TRICKLE(c) "{\"type\":\"trickle\",\"pc\":\"publish\",\"candidate\":{\"candidate\":\"" c "\"}}"

static const struct {
  SignalingMessageType type;
  const char *text;
} valid_messages[] = {
  { SIGNALING_MESSAGE_JOIN, "{\"type\":\"join\",\"id\":1,\"room\":\"kham-tim_01\",\"name\":\"BS. Lan\"}" },
  { SIGNALING_MESSAGE_JOIN, "{\"type\":\"join\",\"room\":\"r\",\"name\":\"Nguyễn Thị Hồng Hạnh\",\"token\":\"\"}" },
  { SIGNALING_MESSAGE_PUBLISH, "{\"type\":\"publish\",\"id\":\"a-1\",\"sdp\":\"v=0\\r\\n\"}" },
  { SIGNALING_MESSAGE_SUBSCRIBE_ANSWER, "{\"type\":\"subscribe-answer\",\"sdp\":\"v=0\",\"version\":3}" },
  { SIGNALING_MESSAGE_TRICKLE, "{\"type\":\"trickle\",\"pc\":\"publish\",\"candidate\":{\"candidate\":\"candidate:1 1 udp 1 127.0.0.1 5000 typ host\",\"sdpMid\":\"0\",\"sdpMLineIndex\":0,\"usernameFragment\":\"abcd\"}}" },
  { SIGNALING_MESSAGE_TRICKLE, "{\"type\":\"trickle\",\"pc\":\"subscribe\",\"candidate\":null}" },
  { SIGNALING_MESSAGE_TRICKLE, "{\"type\":\"trickle\",\"pc\":\"subscribe\",\"candidate\":{\"candidate\":\"\",\"sdpMid\":null,\"sdpMLineIndex\":null}}" },
  { SIGNALING_MESSAGE_TRICKLE, TRICKLE ("candidate:842163049 1 udp 1677729535 203.0.113.7 46154 typ srflx raddr 10.0.0.1 rport 46154 generation 0 ufrag abcd network-cost 999") },
  { SIGNALING_MESSAGE_TRICKLE, TRICKLE ("candidate:1 1 udp 2122262783 3f2a8c1e-1234-4abc-9def-0123456789ab.local 54321 typ host generation 0") },
  { SIGNALING_MESSAGE_TRICKLE, TRICKLE ("a=candidate:2 2 UDP 2122262783 2001:db8::1 54321 typ host") },
  { SIGNALING_MESSAGE_TRICKLE, TRICKLE ("candidate:a+/B 1 tcp 1518280447 192.168.1.2 9 typ host tcptype active") },
  { SIGNALING_MESSAGE_MUTE, "{\"type\":\"mute\",\"kind\":\"video\",\"muted\":false}" },
  { SIGNALING_MESSAGE_KEYFRAME, "{\"type\":\"keyframe\"}" },
  { SIGNALING_MESSAGE_KEYFRAME, "{\"type\":\"keyframe\",\"participant\":\"p0123456789ab\"}" },
  { SIGNALING_MESSAGE_LEAVE, "{\"type\":\"leave\",\"id\":9007199254740991}" },
  { SIGNALING_MESSAGE_PING, "{\"type\":\"ping\",\"id\":\"\"}" },
  { SIGNALING_MESSAGE_ADMIT, "{\"type\":\"admit\",\"participant\":\"p0123456789ab\"}" },
  { SIGNALING_MESSAGE_DENY, "{\"type\":\"deny\",\"participant\":\"p0123456789ab\",\"id\":3}" },
  { SIGNALING_MESSAGE_RECORD, "{\"type\":\"record\",\"action\":\"start\",\"id\":4}" },
  { SIGNALING_MESSAGE_CONSENT, "{\"type\":\"consent\",\"purpose\":\"recording\",\"granted\":false}" },
  /* issue 6: room kinds, floor control, moderation, layers */
  { SIGNALING_MESSAGE_JOIN, "{\"type\":\"join\",\"room\":\"giao-ban\",\"name\":\"a\",\"kind\":\"briefing\"}" },
  { SIGNALING_MESSAGE_JOIN, "{\"type\":\"join\",\"room\":\"r\",\"name\":\"a\",\"kind\":\"consult\"}" },
  { SIGNALING_MESSAGE_PUBLISH, "{\"type\":\"publish\",\"sdp\":\"v=0\",\"sources\":{\"1\":\"camera\",\"2\":\"screen\",\"{a.b}\":\"screen\"}}" },
  { SIGNALING_MESSAGE_PUBLISH, "{\"type\":\"publish\",\"sdp\":\"v=0\",\"sources\":{}}" },
  { SIGNALING_MESSAGE_MUTE, "{\"type\":\"mute\",\"kind\":\"screen\",\"muted\":false}" },
  { SIGNALING_MESSAGE_RAISE_HAND, "{\"type\":\"raise-hand\",\"id\":1,\"raised\":true}" },
  { SIGNALING_MESSAGE_FLOOR, "{\"type\":\"floor\",\"action\":\"grant\",\"participant\":\"p0123456789ab\"}" },
  { SIGNALING_MESSAGE_FLOOR, "{\"type\":\"floor\",\"action\":\"revoke\",\"participant\":\"p0123456789ab\"}" },
  { SIGNALING_MESSAGE_MUTE_PARTICIPANT, "{\"type\":\"mute-participant\",\"participant\":\"p0123456789ab\",\"kind\":\"screen\"}" },
  { SIGNALING_MESSAGE_REMOVE_PARTICIPANT, "{\"type\":\"remove-participant\",\"participant\":\"p0123456789ab\"}" },
  { SIGNALING_MESSAGE_LOCK, "{\"type\":\"lock\",\"locked\":false}" },
  { SIGNALING_MESSAGE_LAYER, "{\"type\":\"layer\",\"participant\":\"p0123456789ab\",\"track\":\"v0\",\"layer\":\"auto\"}" },
  { SIGNALING_MESSAGE_LAST_N, "{\"type\":\"last-n\",\"n\":0}" },
  { SIGNALING_MESSAGE_LAST_N, "{\"type\":\"last-n\",\"n\":100}" },
};

static void
test_valid (void)
{
  gboolean seen[SIGNALING_MESSAGE_N_TYPES] = { FALSE };

  for (gsize i = 0; i < G_N_ELEMENTS (valid_messages); i++) {
    SignalingProtocolError error;
    SignalingMessageType type;
    const char *text = valid_messages[i].text;
    json_t *message = signaling_protocol_parse (text, strlen (text), 4096, &type, NULL, &error);

    if (message == NULL)
      g_error ("%s: %s (%s)", text, error.message, error.field);
    g_assert_cmpint (type, ==, valid_messages[i].type);
    seen[type] = TRUE;
    json_decref (message);
  }
  for (int t = 0; t < SIGNALING_MESSAGE_N_TYPES; t++)
    g_assert_true (seen[t]);
}

/* Each case: the text, the expected code and the expected field. */
static const struct {
  const char *text;
  SignalingErrorCode code;
  const char *field;
} invalid_messages[] = {
  /* envelope */
  { "{}", SIGNALING_ERROR_UNKNOWN_TYPE, "type" },
  { "{\"type\":7}", SIGNALING_ERROR_UNKNOWN_TYPE, "type" },
  { "{\"type\":\"Join\"}", SIGNALING_ERROR_UNKNOWN_TYPE, "type" },
  { "{\"type\":\"ping\",\"id\":-1}", SIGNALING_ERROR_INVALID_FIELD, "id" },
  { "{\"type\":\"ping\",\"id\":9007199254740992}", SIGNALING_ERROR_INVALID_FIELD, "id" },
  { "{\"type\":\"ping\",\"id\":1.5}", SIGNALING_ERROR_INVALID_FIELD, "id" },
  { "{\"type\":\"ping\",\"id\":true}", SIGNALING_ERROR_INVALID_FIELD, "id" },
  { "{\"type\":\"ping\",\"id\":\"01234567890123456789012345678901234567890123456789012345678901234\"}", SIGNALING_ERROR_INVALID_FIELD, "id" },
  { "{\"type\":\"ping\",\"extra\":1}", SIGNALING_ERROR_INVALID_FIELD, "extra" },
  { "{\"type\":\"leave\",\"room\":\"x\"}", SIGNALING_ERROR_INVALID_FIELD, "room" },
  /* join */
  { "{\"type\":\"join\",\"name\":\"a\"}", SIGNALING_ERROR_INVALID_FIELD, "room" },
  { "{\"type\":\"join\",\"room\":\"r\"}", SIGNALING_ERROR_INVALID_FIELD, "name" },
  { "{\"type\":\"join\",\"room\":1,\"name\":\"a\"}", SIGNALING_ERROR_INVALID_FIELD, "room" },
  { "{\"type\":\"join\",\"room\":\"\",\"name\":\"a\"}", SIGNALING_ERROR_INVALID_FIELD, "room" },
  { "{\"type\":\"join\",\"room\":\"a/b\",\"name\":\"a\"}", SIGNALING_ERROR_INVALID_FIELD, "room" },
  { "{\"type\":\"join\",\"room\":\"phòng\",\"name\":\"a\"}", SIGNALING_ERROR_INVALID_FIELD, "room" },
  { "{\"type\":\"join\",\"room\":\"0123456789012345678901234567890123456789012345678901234567890123x\",\"name\":\"a\"}", SIGNALING_ERROR_INVALID_FIELD, "room" },
  { "{\"type\":\"join\",\"room\":\"r\",\"name\":\"\"}", SIGNALING_ERROR_INVALID_FIELD, "name" },
  { "{\"type\":\"join\",\"room\":\"r\",\"name\":null}", SIGNALING_ERROR_INVALID_FIELD, "name" },
  { "{\"type\":\"join\",\"room\":\"r\",\"name\":\"a\\nb\"}", SIGNALING_ERROR_INVALID_FIELD, "name" },
  { "{\"type\":\"join\",\"room\":\"r\",\"name\":\"a\\u0085b\"}", SIGNALING_ERROR_INVALID_FIELD, "name" },
  { "{\"type\":\"join\",\"room\":\"r\",\"name\":\"ĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐ\"}", SIGNALING_ERROR_INVALID_FIELD, "name" },
  { "{\"type\":\"join\",\"room\":\"r\",\"name\":\"a\",\"token\":5}", SIGNALING_ERROR_INVALID_FIELD, "token" },
  { "{\"type\":\"join\",\"room\":\"r\",\"name\":\"a\",\"Room\":\"r\"}", SIGNALING_ERROR_INVALID_FIELD, "Room" },
  /* admit / deny */
  { "{\"type\":\"admit\"}", SIGNALING_ERROR_INVALID_FIELD, "participant" },
  { "{\"type\":\"deny\",\"participant\":\"\"}", SIGNALING_ERROR_INVALID_FIELD, "participant" },
  { "{\"type\":\"admit\",\"participant\":\"p1/2\"}", SIGNALING_ERROR_INVALID_FIELD, "participant" },
  { "{\"type\":\"admit\",\"participant\":7}", SIGNALING_ERROR_INVALID_FIELD, "participant" },
  /* record / consent */
  { "{\"type\":\"record\"}", SIGNALING_ERROR_INVALID_FIELD, "action" },
  { "{\"type\":\"record\",\"action\":\"pause\"}", SIGNALING_ERROR_INVALID_FIELD, "action" },
  { "{\"type\":\"record\",\"action\":\"start\",\"who\":1}", SIGNALING_ERROR_INVALID_FIELD, "who" },
  { "{\"type\":\"consent\",\"purpose\":\"recording\"}", SIGNALING_ERROR_INVALID_FIELD, "granted" },
  { "{\"type\":\"consent\",\"purpose\":\"sharing\",\"granted\":true}", SIGNALING_ERROR_INVALID_FIELD, "purpose" },
  { "{\"type\":\"consent\",\"purpose\":\"recording\",\"granted\":\"yes\"}", SIGNALING_ERROR_INVALID_FIELD, "granted" },
  /* publish */
  { "{\"type\":\"publish\"}", SIGNALING_ERROR_INVALID_FIELD, "sdp" },
  { "{\"type\":\"publish\",\"sdp\":\"\"}", SIGNALING_ERROR_INVALID_FIELD, "sdp" },
  { "{\"type\":\"publish\",\"sdp\":{}}", SIGNALING_ERROR_INVALID_FIELD, "sdp" },
  { "{\"type\":\"publish\",\"sdp\":\"v=0\",\"type2\":1}", SIGNALING_ERROR_INVALID_FIELD, "type2" },
  /* subscribe-answer */
  { "{\"type\":\"subscribe-answer\",\"sdp\":\"v=0\"}", SIGNALING_ERROR_INVALID_FIELD, "version" },
  { "{\"type\":\"subscribe-answer\",\"version\":1}", SIGNALING_ERROR_INVALID_FIELD, "sdp" },
  { "{\"type\":\"subscribe-answer\",\"sdp\":\"v=0\",\"version\":\"1\"}", SIGNALING_ERROR_INVALID_FIELD, "version" },
  { "{\"type\":\"subscribe-answer\",\"sdp\":\"v=0\",\"version\":0}", SIGNALING_ERROR_INVALID_FIELD, "version" },
  { "{\"type\":\"subscribe-answer\",\"sdp\":\"v=0\",\"version\":1e3}", SIGNALING_ERROR_INVALID_FIELD, "version" },
  /* trickle */
  { "{\"type\":\"trickle\",\"candidate\":null}", SIGNALING_ERROR_INVALID_FIELD, "pc" },
  { "{\"type\":\"trickle\",\"pc\":\"publish\"}", SIGNALING_ERROR_INVALID_FIELD, "candidate" },
  { "{\"type\":\"trickle\",\"pc\":\"both\",\"candidate\":null}", SIGNALING_ERROR_INVALID_FIELD, "pc" },
  { "{\"type\":\"trickle\",\"pc\":\"publish\",\"candidate\":\"candidate:1\"}", SIGNALING_ERROR_INVALID_FIELD, "candidate" },
  { "{\"type\":\"trickle\",\"pc\":\"publish\",\"candidate\":{}}", SIGNALING_ERROR_INVALID_FIELD, "candidate.candidate" },
  { "{\"type\":\"trickle\",\"pc\":\"publish\",\"candidate\":{\"candidate\":1}}", SIGNALING_ERROR_INVALID_FIELD, "candidate.candidate" },
  { "{\"type\":\"trickle\",\"pc\":\"publish\",\"candidate\":{\"candidate\":\"" CAND "\",\"sdpMid\":0}}", SIGNALING_ERROR_INVALID_FIELD, "candidate.sdpMid" },
  { "{\"type\":\"trickle\",\"pc\":\"publish\",\"candidate\":{\"candidate\":\"" CAND "\",\"sdpMLineIndex\":-1}}", SIGNALING_ERROR_INVALID_FIELD, "candidate.sdpMLineIndex" },
  { "{\"type\":\"trickle\",\"pc\":\"publish\",\"candidate\":{\"candidate\":\"" CAND "\",\"sdpMLineIndex\":1024}}", SIGNALING_ERROR_INVALID_FIELD, "candidate.sdpMLineIndex" },
  { "{\"type\":\"trickle\",\"pc\":\"publish\",\"candidate\":{\"candidate\":\"" CAND "\",\"foo\":1}}", SIGNALING_ERROR_INVALID_FIELD, "candidate.foo" },
  { TRICKLE ("candidate:garbage \u2603 not a candidate"), SIGNALING_ERROR_INVALID_FIELD, "candidate.candidate" },
  { TRICKLE ("candidate:1 1 udp 1 999.1.1.1 9 typ host"), SIGNALING_ERROR_INVALID_FIELD, "candidate.candidate" },
  { TRICKLE ("candidate:1 1 udp 1 127.0.0.1 99999 typ host"), SIGNALING_ERROR_INVALID_FIELD, "candidate.candidate" },
  { TRICKLE ("candidate:1 1 udp 2122260223 127.0.0.1 1 typ"), SIGNALING_ERROR_INVALID_FIELD, "candidate.candidate" },
  { TRICKLE ("candidate:1 0 udp 1 127.0.0.1 9 typ host"), SIGNALING_ERROR_INVALID_FIELD, "candidate.candidate" },
  { TRICKLE ("candidate:1 1 udp 4294967296 127.0.0.1 9 typ host"), SIGNALING_ERROR_INVALID_FIELD, "candidate.candidate" },
  { TRICKLE ("candidate:1 1 udp 1 127.0.0.1 9 type host"), SIGNALING_ERROR_INVALID_FIELD, "candidate.candidate" },
  { TRICKLE ("candidate:1 1 udp 1 127.0.0.1 9 typ host generation"), SIGNALING_ERROR_INVALID_FIELD, "candidate.candidate" },
  { TRICKLE ("candidate:1  1 udp 1 127.0.0.1 9 typ host"), SIGNALING_ERROR_INVALID_FIELD, "candidate.candidate" },
  { TRICKLE ("candidate:1 1 udp 1 1:2:3 9 typ host"), SIGNALING_ERROR_INVALID_FIELD, "candidate.candidate" },
  { TRICKLE ("c"), SIGNALING_ERROR_INVALID_FIELD, "candidate.candidate" },
  /* mute */
  { "{\"type\":\"mute\",\"muted\":true}", SIGNALING_ERROR_INVALID_FIELD, "kind" },
  { "{\"type\":\"mute\",\"kind\":\"audio\"}", SIGNALING_ERROR_INVALID_FIELD, "muted" },
  { "{\"type\":\"mute\",\"kind\":\"camera\",\"muted\":true}", SIGNALING_ERROR_INVALID_FIELD, "kind" },
  /* issue 6 */
  { "{\"type\":\"join\",\"room\":\"r\",\"name\":\"a\",\"kind\":\"webinar\"}", SIGNALING_ERROR_INVALID_FIELD, "kind" },
  { "{\"type\":\"join\",\"room\":\"r\",\"name\":\"a\",\"kind\":1}", SIGNALING_ERROR_INVALID_FIELD, "kind" },
  { "{\"type\":\"publish\",\"sdp\":\"v=0\",\"sources\":[\"screen\"]}", SIGNALING_ERROR_INVALID_FIELD, "sources" },
  { "{\"type\":\"publish\",\"sdp\":\"v=0\",\"sources\":{\"1\":\"microphone\"}}", SIGNALING_ERROR_INVALID_FIELD, "sources.1" },
  { "{\"type\":\"publish\",\"sdp\":\"v=0\",\"sources\":{\"1\":true}}", SIGNALING_ERROR_INVALID_FIELD, "sources.1" },
  { "{\"type\":\"publish\",\"sdp\":\"v=0\",\"sources\":{\"a b\":\"screen\"}}", SIGNALING_ERROR_INVALID_FIELD, "sources" },
  { "{\"type\":\"publish\",\"sdp\":\"v=0\",\"sources\":{\"\":\"screen\"}}", SIGNALING_ERROR_INVALID_FIELD, "sources" },
  { "{\"type\":\"publish\",\"sdp\":\"v=0\",\"sources\":{\"0\":\"camera\",\"1\":\"camera\",\"2\":\"camera\",\"3\":\"camera\",\"4\":\"camera\",\"5\":\"camera\",\"6\":\"camera\",\"7\":\"camera\",\"8\":\"camera\",\"9\":\"camera\",\"10\":\"camera\",\"11\":\"camera\",\"12\":\"camera\",\"13\":\"camera\",\"14\":\"camera\",\"15\":\"camera\",\"16\":\"camera\"}}", SIGNALING_ERROR_INVALID_FIELD, "sources" },
  { "{\"type\":\"raise-hand\"}", SIGNALING_ERROR_INVALID_FIELD, "raised" },
  { "{\"type\":\"raise-hand\",\"raised\":\"yes\"}", SIGNALING_ERROR_INVALID_FIELD, "raised" },
  { "{\"type\":\"raise-hand\",\"raised\":true,\"hand\":\"left\"}", SIGNALING_ERROR_INVALID_FIELD, "hand" },
  { "{\"type\":\"floor\",\"participant\":\"p1\"}", SIGNALING_ERROR_INVALID_FIELD, "action" },
  { "{\"type\":\"floor\",\"action\":\"give\",\"participant\":\"p1\"}", SIGNALING_ERROR_INVALID_FIELD, "action" },
  { "{\"type\":\"floor\",\"action\":\"grant\"}", SIGNALING_ERROR_INVALID_FIELD, "participant" },
  { "{\"type\":\"floor\",\"action\":\"grant\",\"participant\":null}", SIGNALING_ERROR_INVALID_FIELD, "participant" },
  { "{\"type\":\"mute-participant\",\"participant\":\"p1\"}", SIGNALING_ERROR_INVALID_FIELD, "kind" },
  { "{\"type\":\"mute-participant\",\"participant\":\"p1\",\"kind\":\"all\"}", SIGNALING_ERROR_INVALID_FIELD, "kind" },
  { "{\"type\":\"mute-participant\",\"kind\":\"audio\"}", SIGNALING_ERROR_INVALID_FIELD, "participant" },
  { "{\"type\":\"remove-participant\"}", SIGNALING_ERROR_INVALID_FIELD, "participant" },
  { "{\"type\":\"remove-participant\",\"participant\":\"p1\",\"reason\":\"x\"}", SIGNALING_ERROR_INVALID_FIELD, "reason" },
  { "{\"type\":\"lock\"}", SIGNALING_ERROR_INVALID_FIELD, "locked" },
  { "{\"type\":\"lock\",\"locked\":0}", SIGNALING_ERROR_INVALID_FIELD, "locked" },
  { "{\"type\":\"layer\",\"participant\":\"p1\",\"track\":\"v0\"}", SIGNALING_ERROR_INVALID_FIELD, "layer" },
  { "{\"type\":\"layer\",\"participant\":\"p1\",\"track\":\"v0\",\"layer\":2}", SIGNALING_ERROR_INVALID_FIELD, "layer" },
  { "{\"type\":\"layer\",\"participant\":\"p1\",\"track\":\"v0\",\"layer\":\"ultra\"}", SIGNALING_ERROR_INVALID_FIELD, "layer" },
  { "{\"type\":\"layer\",\"participant\":\"p1\",\"layer\":\"low\"}", SIGNALING_ERROR_INVALID_FIELD, "track" },
  { "{\"type\":\"last-n\"}", SIGNALING_ERROR_INVALID_FIELD, "n" },
  { "{\"type\":\"last-n\",\"n\":-1}", SIGNALING_ERROR_INVALID_FIELD, "n" },
  { "{\"type\":\"last-n\",\"n\":101}", SIGNALING_ERROR_INVALID_FIELD, "n" },
  { "{\"type\":\"last-n\",\"n\":\"3\"}", SIGNALING_ERROR_INVALID_FIELD, "n" },
  { "{\"type\":\"mute\",\"kind\":\"audio\",\"muted\":1}", SIGNALING_ERROR_INVALID_FIELD, "muted" },
  /* keyframe */
  { "{\"type\":\"keyframe\",\"participant\":\"\"}", SIGNALING_ERROR_INVALID_FIELD, "participant" },
  { "{\"type\":\"keyframe\",\"participant\":7}", SIGNALING_ERROR_INVALID_FIELD, "participant" },
  /* not JSON objects */
  { "", SIGNALING_ERROR_BAD_JSON, "" },
  { "{", SIGNALING_ERROR_BAD_JSON, "" },
  { "[]", SIGNALING_ERROR_BAD_JSON, "" },
  { "\"join\"", SIGNALING_ERROR_BAD_JSON, "" },
  { "{\"type\":\"ping\"} {}", SIGNALING_ERROR_BAD_JSON, "" },
  { "{\"type\":\"ping\",\"type\":\"leave\"}", SIGNALING_ERROR_BAD_JSON, "" },
  { "{\"type\":\"join\",\"room\":\"r\",\"name\":\"a\\u0000b\"}", SIGNALING_ERROR_BAD_JSON, "" },
  { "{\"type\":\"ping\",\"x\":\"\xff\"}", SIGNALING_ERROR_BAD_JSON, "" },
};

static void
test_invalid (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (invalid_messages); i++)
    assert_invalid (invalid_messages[i].text, invalid_messages[i].code, invalid_messages[i].field);
}

static void
test_size_limits (void)
{
  SignalingProtocolError error;
  SignalingMessageType type;
  g_autoptr (GString) text = g_string_new ("{\"type\":\"publish\",\"sdp\":\"");
  json_t *message;

  /* SDP of exactly 32 KiB is fine after join, one more byte is not. */
  for (int i = 0; i < SIGNALING_MAX_SDP; i++)
    g_string_append_c (text, 'a');
  g_string_append (text, "\"}");
  assert_valid (text->str);

  /* The same message is too large before join. */
  message = signaling_protocol_parse (text->str, text->len, SIGNALING_MAX_MESSAGE_BEFORE_JOIN,
                                      &type, NULL, &error);
  g_assert_null (message);
  g_assert_cmpint (error.code, ==, SIGNALING_ERROR_TOO_LARGE);

  g_string_insert_c (text, 30, 'a');
  assert_invalid (text->str, SIGNALING_ERROR_INVALID_FIELD, "sdp");

  /* Exactly at the limit passes the size check (and then fails as JSON). */
  {
    g_autofree char *blob = g_strnfill (SIGNALING_MAX_MESSAGE_BEFORE_JOIN, ' ');
    message = signaling_protocol_parse (blob, SIGNALING_MAX_MESSAGE_BEFORE_JOIN,
                                        SIGNALING_MAX_MESSAGE_BEFORE_JOIN, &type, NULL, &error);
    g_assert_null (message);
    g_assert_cmpint (error.code, ==, SIGNALING_ERROR_BAD_JSON);
    message = signaling_protocol_parse (blob, SIGNALING_MAX_MESSAGE_BEFORE_JOIN,
                                        SIGNALING_MAX_MESSAGE_BEFORE_JOIN - 1, &type, NULL,
                                        &error);
    g_assert_cmpint (error.code, ==, SIGNALING_ERROR_TOO_LARGE);
  }
}

static void
test_id_echo (void)
{
  SignalingProtocolError error;
  SignalingMessageType type;
  json_t *parsed = NULL;
  const char *text = "{\"type\":\"mute\",\"id\":\"m1\",\"kind\":\"x\",\"muted\":true}";
  json_t *message = signaling_protocol_parse (text, strlen (text), 4096, &type, &parsed, &error);

  g_assert_null (message);
  g_assert_nonnull (parsed);
  g_assert_cmpstr (json_string_value (signaling_protocol_get_id (parsed)), ==, "m1");
  json_decref (parsed);

  text = "{\"type\":\"mute\",\"id\":-4,\"kind\":\"audio\",\"muted\":true}";
  message = signaling_protocol_parse (text, strlen (text), 4096, &type, &parsed, &error);
  g_assert_null (message);
  g_assert_null (signaling_protocol_get_id (parsed));
  json_decref (parsed);
}

static void
test_names (void)
{
  g_assert_cmpstr (signaling_error_code_to_string (SIGNALING_ERROR_TOO_LARGE), ==, "too-large");
  g_assert_cmpstr (signaling_error_code_to_string (SIGNALING_ERROR_N_CODES), ==, "internal");
  for (int c = 0; c < SIGNALING_ERROR_N_CODES; c++)
    g_assert_nonnull (signaling_error_code_to_string (c));
  g_assert_cmpstr (signaling_message_type_to_string (SIGNALING_MESSAGE_SUBSCRIBE_ANSWER), ==,
                   "subscribe-answer");
}

/* Every truncated prefix of every valid message must be refused cleanly. */
static void
test_truncated (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (valid_messages); i++) {
    const char *text = valid_messages[i].text;

    for (size_t len = 0; len < strlen (text); len++) {
      SignalingProtocolError error;
      SignalingMessageType type;
      json_t *message = signaling_protocol_parse (text, len, 4096, &type, NULL, &error);

      g_assert_null (message);
      g_assert_cmpint (error.code, ==, SIGNALING_ERROR_BAD_JSON);
    }
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/signaling/protocol/valid", test_valid);
  g_test_add_func ("/signaling/protocol/invalid", test_invalid);
  g_test_add_func ("/signaling/protocol/size-limits", test_size_limits);
  g_test_add_func ("/signaling/protocol/id-echo", test_id_echo);
  g_test_add_func ("/signaling/protocol/names", test_names);
  g_test_add_func ("/signaling/protocol/truncated", test_truncated);
  return g_test_run ();
}
