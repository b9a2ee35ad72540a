/* view.c — WHEP viewers: a client-offered subscribe peer connection.
 * PLACEHOLDER for media_room_view; the waiting-slot bookkeeping is real. */
#include "room-priv.h"

void
media_view_slot_freed (MediaSlot *slot)
{
  MediaTrack *next = slot->view_next;

  if (next == NULL)
    return;
  slot->view_next = NULL;
  g_ptr_array_remove_fast (next->view_waiting, slot);
  if (next->view_waiting->len == 0)
    g_clear_pointer (&next->view_waiting, g_ptr_array_unref);
}

void
media_speaker_track_freed (MediaTrack *track)
{
  if (track->view_waiting == NULL)
    return;
  for (guint i = 0; i < track->view_waiting->len; i++)
    ((MediaSlot *) g_ptr_array_index (track->view_waiting, i))->view_next = NULL;
  g_clear_pointer (&track->view_waiting, g_ptr_array_unref);
}

void
media_view_take_waiting (MediaTrack *track)
{
}

void
media_view_refresh (MediaRoom *room)
{
}

void
media_room_view (MediaRoom *room, const char *participant_id, const char *offer_sdp,
                 MediaSdpCallback callback, gpointer user_data)
{
  media_post_sdp (room->env.control, callback, user_data, NULL, NULL,
                  g_error_new (MEDIA_ERROR, MEDIA_ERROR_STATE, "WHEP viewing not implemented yet"));
}
