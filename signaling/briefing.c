/* briefing.c — what signaling asks records about briefing rooms (see
 * signaling-priv.h). */
#include "signaling-priv.h"

gboolean
signaling_briefing_lookup (SignalingContext *context, const char *room_id, char **host_user_id)
{
  g_autoptr (RecordsBriefing) briefing = NULL;
  g_autoptr (GError) error = NULL;

  g_return_val_if_fail (context != NULL, FALSE);
  if (host_user_id != NULL)
    *host_user_id = NULL;
  /* Briefing ids are UUIDs made by records: anything else is not one, and
   * costs no query. */
  if (context->store == NULL || room_id == NULL || !g_uuid_string_is_valid (room_id))
    return FALSE;
  briefing = records_briefing_get (context->store, room_id, &error);
  if (briefing == NULL) {
    if (!g_error_matches (error, RECORDS_ERROR, RECORDS_ERROR_NOT_FOUND))
      g_warning ("cannot read briefing %s: %s", room_id, error->message);
    return FALSE;
  }
  if (g_strcmp0 (briefing->status, "ended") == 0)
    return FALSE;
  if (host_user_id != NULL)
    *host_user_id = g_steal_pointer (&briefing->host_id);
  return TRUE;
}
