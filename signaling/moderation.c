/* moderation.c — issue 6 in signaling: raised hands, the floor of a
 * briefing, host moderation (mute, remove, lock), simulcast layer requests
 * and Last-N.  Everything runs on the signaling context; the media calls
 * are fire-and-forget operations of the engine (media/media.h).
 *
 * Who may do what (docs/protocol.md, "Rooms, roles and moderation"):
 *   raise-hand, layer              anyone in the room
 *   floor                          the host of a briefing
 *   mute-participant, remove-participant, lock, last-n   a host
 * A host-only message from anyone else gets `not-host`.  Moderation in a
 * signed-in room (consultation, stored briefing) is audited with the
 * acting host as the actor and the target's participant id as detail.
 */
#include "room.h"

#include <string.h>

const char *
signaling_moderation_source_for_kind (const char *kind)
{
  if (g_strcmp0 (kind, "audio") == 0)
    return "microphone";
  if (g_strcmp0 (kind, "screen") == 0)
    return "screen";
  return "camera";
}

static void
send_ok (SignalingSession *session, json_t *ref)
{
  json_t *reply = json_pack ("{s:s}", "type", "ok");

  if (ref)
    json_object_set (reply, "ref", ref);
  signaling_session_send (session, reply);
}

void
signaling_moderation_participant_updated (SignalingSession *member, gboolean to_self)
{
  if (member->room == NULL)
    return;
  signaling_room_broadcast (member->room, to_self ? NULL : member,
                            json_pack ("{s:s, s:o}", "type", "participant-updated", "participant",
                                       signaling_room_describe_participant (member, FALSE)));
}

void
signaling_moderation_room_updated (SignalingRoom *room)
{
  signaling_room_broadcast (room, NULL,
                            json_pack ("{s:s, s:o}", "type", "room-updated", "room_state",
                                       signaling_room_describe_state (room)));
}

gboolean
signaling_moderation_may_publish (SignalingSession *session, json_t *ref)
{
  if (session->role != SIGNALING_ROLE_VIEWER)
    return TRUE;
  signaling_session_send_error (session, SIGNALING_ERROR_FLOOR_REQUIRED, ref, NULL,
                                "viewers of a briefing receive only: raise your hand and wait "
                                "for the host to give you the floor");
  return FALSE;
}

static gboolean
require_host (SignalingSession *session, SignalingMessageType type, json_t *ref)
{
  if (session->role == SIGNALING_ROLE_HOST)
    return TRUE;
  signaling_session_send_error (session, SIGNALING_ERROR_NOT_HOST, ref, NULL,
                                "only a host may send %s",
                                signaling_message_type_to_string (type));
  return FALSE;
}

/* The member named by @message's `participant`, or NULL after answering
 * invalid-field. */
static SignalingSession *
require_member (SignalingSession *session, json_t *message, json_t *ref)
{
  const char *id = json_string_value (json_object_get (message, "participant"));
  SignalingSession *member = signaling_room_find_member (session->room, id);

  if (member == NULL)
    signaling_session_send_error (session, SIGNALING_ERROR_INVALID_FIELD, ref, "participant",
                                  "no such participant in this room");
  return member;
}

/* ---- raise-hand ---- */

static void
handle_raise_hand (SignalingSession *session, json_t *message, json_t *ref)
{
  gboolean raised = json_is_true (json_object_get (message, "raised"));

  send_ok (session, ref);
  if (session->hand_raised == raised)
    return;
  session->hand_raised = raised;
  signaling_log (G_LOG_LEVEL_INFO, session, "hand %s", raised ? "raised" : "lowered");
  signaling_moderation_participant_updated (session, FALSE);
}

/* ---- floor ---- */

static void
handle_floor (SignalingSession *session, json_t *message, json_t *ref)
{
  SignalingContext *context = session->context;
  SignalingRoom *room = session->room;
  gboolean grant = strcmp (json_string_value (json_object_get (message, "action")), "grant") == 0;
  SignalingSession *target;

  if (!require_host (session, SIGNALING_MESSAGE_FLOOR, ref))
    return;
  if (room->kind != SIGNALING_ROOM_BRIEFING) {
    signaling_session_send_error (session, SIGNALING_ERROR_BAD_STATE, ref, NULL,
                                  "floor control is for briefings: everyone in a consult may "
                                  "publish");
    return;
  }
  target = require_member (session, message, ref);
  if (target == NULL)
    return;
  if (target->role == SIGNALING_ROLE_HOST) {
    signaling_session_send_error (session, SIGNALING_ERROR_INVALID_FIELD, ref, "participant",
                                  "a host always holds the floor");
    return;
  }

  if (grant) {
    if (target->role == SIGNALING_ROLE_PRESENTER) {
      send_ok (session, ref);
      return;
    }
    if (signaling_room_count_presenters (room) >= SIGNALING_BRIEFING_MAX_PRESENTERS) {
      signaling_session_send_error (session, SIGNALING_ERROR_PRESENTERS_FULL, ref, NULL,
                                    "a briefing has at most %d presenters (the host included): "
                                    "take the floor back from one first",
                                    SIGNALING_BRIEFING_MAX_PRESENTERS);
      return;
    }
    target->role = SIGNALING_ROLE_PRESENTER;
    target->hand_raised = FALSE;
  } else {
    if (target->role == SIGNALING_ROLE_VIEWER) {
      send_ok (session, ref);
      return;
    }
    target->role = SIGNALING_ROLE_VIEWER;
    /* Its tracks go away: track_removed → track-removed to the others. */
    if (context->engine)
      media_engine_unpublish (context->engine, room->id, target->participant_id);
  }
  signaling_log (G_LOG_LEVEL_INFO, session, "floor %s %s", grant ? "given to" : "taken from",
                 target->participant_id);
  signaling_audit_session (session, grant ? "floor-grant" : "floor-revoke", "success",
                           target->participant_id);
  send_ok (session, ref);
  signaling_moderation_participant_updated (target, TRUE);
  signaling_moderation_room_updated (room);
}

/* ---- mute-participant ---- */

static void
handle_mute_participant (SignalingSession *session, json_t *message, json_t *ref)
{
  SignalingContext *context = session->context;
  const char *kind = json_string_value (json_object_get (message, "kind"));
  SignalingSession *target;

  if (!require_host (session, SIGNALING_MESSAGE_MUTE_PARTICIPANT, ref))
    return;
  target = require_member (session, message, ref);
  if (target == NULL)
    return;

  if (strcmp (kind, "audio") == 0)
    target->audio_muted = TRUE;
  else if (strcmp (kind, "video") == 0)
    target->video_muted = TRUE;
  else
    target->screen_muted = TRUE;
  if (context->engine)
    media_engine_set_source_enabled (context->engine, session->room->id, target->participant_id,
                                     signaling_moderation_source_for_kind (kind), FALSE);
  signaling_log (G_LOG_LEVEL_INFO, session, "muted %s of %s", kind, target->participant_id);
  {
    g_autofree char *detail = g_strdup_printf ("%s %s", target->participant_id, kind);

    signaling_audit_session (session, "mute-participant", "success", detail);
  }
  send_ok (session, ref);
  signaling_session_send (target, json_pack ("{s:s, s:s, s:s}", "type", "muted-by-host",
                                             "kind", kind, "by", session->participant_id));
  signaling_moderation_participant_updated (target, TRUE);
}

/* ---- remove-participant ---- */

static void
handle_remove_participant (SignalingSession *session, json_t *message, json_t *ref)
{
  SignalingSession *target;

  if (!require_host (session, SIGNALING_MESSAGE_REMOVE_PARTICIPANT, ref))
    return;
  target = require_member (session, message, ref);
  if (target == NULL)
    return;
  if (target == session) {
    signaling_session_send_error (session, SIGNALING_ERROR_INVALID_FIELD, ref, "participant",
                                  "to remove yourself, send leave");
    return;
  }

  signaling_session_ref (target);
  signaling_log (G_LOG_LEVEL_INFO, session, "removes %s", target->participant_id);
  signaling_audit_session (session, "remove-participant", "success", target->participant_id);
  send_ok (session, ref);
  signaling_session_send_error (target, SIGNALING_ERROR_REMOVED, NULL, NULL,
                                "a host removed you from this room");
  /* participant-left to the others comes from leaving the room. */
  signaling_session_close (target, SOUP_WEBSOCKET_CLOSE_NORMAL, "removed");
  signaling_session_unref (target);
}

/* ---- lock ---- */

static void
handle_lock (SignalingSession *session, json_t *message, json_t *ref)
{
  gboolean locked = json_is_true (json_object_get (message, "locked"));

  if (!require_host (session, SIGNALING_MESSAGE_LOCK, ref))
    return;
  send_ok (session, ref);
  if (session->room->locked == locked)
    return;
  session->room->locked = locked;
  signaling_log (G_LOG_LEVEL_INFO, session, "room %s", locked ? "locked" : "unlocked");
  signaling_audit_session (session, locked ? "lock" : "unlock", "success", NULL);
  signaling_moderation_room_updated (session->room);
}

/* ---- layer ---- */

static gint
layer_from_string (const char *layer)
{
  if (strcmp (layer, "low") == 0)
    return 0;
  if (strcmp (layer, "medium") == 0)
    return 1;
  if (strcmp (layer, "high") == 0)
    return 2;
  return MEDIA_LAYER_AUTO;
}

static void
handle_layer (SignalingSession *session, json_t *message, json_t *ref)
{
  const char *track_id = json_string_value (json_object_get (message, "track"));
  const char *layer = json_string_value (json_object_get (message, "layer"));
  SignalingSession *publisher;
  MediaTrackInfo *track = NULL;

  publisher = require_member (session, message, ref);
  if (publisher == NULL)
    return;
  if (publisher == session) {
    signaling_session_send_error (session, SIGNALING_ERROR_INVALID_FIELD, ref, "participant",
                                  "you do not receive your own tracks");
    return;
  }
  for (guint i = 0; i < publisher->tracks->len; i++) {
    MediaTrackInfo *own = g_ptr_array_index (publisher->tracks, i);

    if (strcmp (own->track_id, track_id) == 0)
      track = own;
  }
  if (track == NULL || strcmp (track->kind, "video") != 0) {
    signaling_session_send_error (session, SIGNALING_ERROR_INVALID_FIELD, ref, "track",
                                  "that participant publishes no video track with this id");
    return;
  }
  if (session->context->engine)
    media_engine_set_max_layer (session->context->engine, session->room->id,
                                session->participant_id, publisher->participant_id, track_id,
                                layer_from_string (layer));
  signaling_log (G_LOG_LEVEL_DEBUG, session, "layer %s for %s/%s", layer,
                 publisher->participant_id, track_id);
  send_ok (session, ref);
}

/* ---- last-n ---- */

static void
handle_last_n (SignalingSession *session, json_t *message, json_t *ref)
{
  guint n = (guint) json_integer_value (json_object_get (message, "n"));

  if (!require_host (session, SIGNALING_MESSAGE_LAST_N, ref))
    return;
  send_ok (session, ref);
  if (session->room->last_n == n)
    return;
  session->room->last_n = n;
  if (session->context->engine)
    media_engine_set_last_n (session->context->engine, session->room->id, n);
  signaling_log (G_LOG_LEVEL_INFO, session, "last-n %u", n);
  signaling_moderation_room_updated (session->room);
}

void
signaling_moderation_handle (SignalingSession *session, SignalingMessageType type,
                             json_t *message, json_t *ref)
{
  g_return_if_fail (session->state == SESSION_JOINED && session->room != NULL);

  switch (type) {
  case SIGNALING_MESSAGE_RAISE_HAND:
    handle_raise_hand (session, message, ref);
    break;
  case SIGNALING_MESSAGE_FLOOR:
    handle_floor (session, message, ref);
    break;
  case SIGNALING_MESSAGE_MUTE_PARTICIPANT:
    handle_mute_participant (session, message, ref);
    break;
  case SIGNALING_MESSAGE_REMOVE_PARTICIPANT:
    handle_remove_participant (session, message, ref);
    break;
  case SIGNALING_MESSAGE_LOCK:
    handle_lock (session, message, ref);
    break;
  case SIGNALING_MESSAGE_LAYER:
    handle_layer (session, message, ref);
    break;
  case SIGNALING_MESSAGE_LAST_N:
    handle_last_n (session, message, ref);
    break;
  default:
    g_assert_not_reached ();
  }
}
