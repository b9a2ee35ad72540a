/* speaker.c — active speaker (RFC 6464), Last-N, source enable/disable and
 * unpublish.  PLACEHOLDER: the issue-6 media helper replaces these bodies. */
#include "room-priv.h"

void
media_room_unpublish (MediaRoom *room, const char *participant_id)
{
  g_warning ("room %s: unpublish of %s not implemented yet", room->id, participant_id);
}

void
media_room_set_source_enabled (MediaRoom *room, const char *participant_id,
                               const char *source, gboolean enabled)
{
  g_warning ("room %s: set_source_enabled not implemented yet", room->id);
}

void
media_room_set_last_n (MediaRoom *room, guint last_n)
{
  g_warning ("room %s: Last-N not implemented yet", room->id);
}
