/* view.c — WHEP viewers: a client-offered subscribe peer connection.
 * PLACEHOLDER: the issue-6 WHIP/WHEP helper replaces this body. */
#include "room-priv.h"

void
media_room_view (MediaRoom *room, const char *participant_id, const char *offer_sdp,
                 MediaSdpCallback callback, gpointer user_data)
{
  media_post_sdp (room->env.control, callback, user_data, NULL, NULL,
                  g_error_new (MEDIA_ERROR, MEDIA_ERROR_STATE, "WHEP viewing not implemented yet"));
}
