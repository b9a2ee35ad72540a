/* simulcast.c — simulcast layers, downlink estimate, layer selection.
 * PLACEHOLDER: the issue-6 simulcast helper replaces these bodies. */
#include "room-priv.h"

void
media_room_set_max_layer (MediaRoom *room, const char *subscriber_id,
                          const char *publisher_id, const char *track_id, gint max_layer)
{
  g_message ("room %s: set_max_layer not implemented yet", room->id);
}
