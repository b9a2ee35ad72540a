/* room.h — a room on its worker: participants, their peers and tracks, and
 * the selective forwarding between them.
 *
 * Every function here runs on the room's worker context (engine.c posts to
 * it).  Results and notifications go back to the control context through
 * the MediaSdpCallback / MediaDoneCallback given, or the room and
 * participant callbacks, always posted (never invoked inline).
 */
#pragma once

#include "media.h"
#include "certificate.h"

G_BEGIN_DECLS

typedef struct MediaRoom MediaRoom;

/* What a room needs from its engine; owned by the engine, outlives rooms. */
typedef struct {
  GMainContext *worker;         /* where the room runs */
  GMainContext *control;        /* where callbacks are delivered */
  MediaCertificate *certificate;
  MediaStats *stats;
  const MediaConfig *config;
  const char *const *addresses; /* resolved ICE addresses */
  struct MediaPoller *poller;   /* the worker's (poller.h); NULL: libnice reads */
} MediaRoomEnv;

MediaRoom *media_room_new (const MediaRoomEnv *env, const char *room_id,
                           const MediaRoomCallbacks *callbacks, gpointer user_data);
/* Removes every participant (no track_removed events), frees the room. */
void media_room_free (MediaRoom *room);

void media_room_add_participant (MediaRoom *room, const char *participant_id,
                                 const MediaParticipantCallbacks *callbacks,
                                 gpointer user_data, GDestroyNotify notify);
void media_room_remove_participant (MediaRoom *room, const char *participant_id);
void media_room_publish (MediaRoom *room, const char *participant_id,
                         const char *offer_sdp, const char *const *screen_mids,
                         MediaSdpCallback callback, gpointer user_data);
void media_room_subscribe_offer (MediaRoom *room, const char *participant_id,
                                 MediaSdpCallback callback, gpointer user_data);
void media_room_subscribe_answer (MediaRoom *room, const char *participant_id,
                                  const char *answer_sdp, MediaDoneCallback callback,
                                  gpointer user_data);
void media_room_add_remote_candidate (MediaRoom *room, const char *participant_id,
                                      MediaPcKind pc, const char *candidate,
                                      MediaDoneCallback callback, gpointer user_data);
void media_room_request_keyframe (MediaRoom *room, const char *publisher_id);

/* Issue 6; see media.h for what each does. */
void media_room_unpublish (MediaRoom *room, const char *participant_id);          /* speaker.c */
void media_room_set_source_enabled (MediaRoom *room, const char *participant_id,
                                    const char *source, gboolean enabled);      /* speaker.c */
void media_room_set_last_n (MediaRoom *room, guint last_n);                      /* speaker.c */
void media_room_set_max_layer (MediaRoom *room, const char *subscriber_id,
                               const char *publisher_id, const char *track_id,
                               gint max_layer);                                  /* simulcast.c */
void media_room_view (MediaRoom *room, const char *participant_id, const char *offer_sdp,
                      MediaSdpCallback callback, gpointer user_data);           /* view.c */

/* Delivers @callback(@error, @user_data) on the control context (error may
 * be NULL).  Takes ownership of @error.  Used by engine.c for errors found
 * before reaching a worker. */
void media_post_done (GMainContext *control, MediaDoneCallback callback,
                      gpointer user_data, GError *error);
void media_post_sdp (GMainContext *control, MediaSdpCallback callback,
                     gpointer user_data, gchar *sdp, GPtrArray *tracks, GError *error);

G_END_DECLS
