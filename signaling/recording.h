/* recording.h — recording consultations, as signaling sees it.
 *
 * recording-files.c: the rows' side of files after a crash (restart
 * recovery).  recording.c: the WebSocket `record` and `consent` messages,
 * the recording of each consultation room through the media engine, the
 * composition after the call and the `recording-*` events
 * (docs/protocol.md "Recording").  recording-api.c: listing and playback
 * over HTTPS (api-priv.h).
 *
 * Threads: the main (signaling) context only.
 */
#pragma once

#include <glib.h>

#include "store.h"

G_BEGIN_DECLS

/* Where recordings go and how they are sealed; directory NULL = recording
 * is off (a `record start` is refused). */
typedef struct {
  const char *directory;          /* absolute, exists                   */
  const guint8 *server_key;       /* 32 bytes (cau_vault_key_load)       */
  const char *key_id;
  guint64 min_free_bytes;         /* refuse / stop below this            */
} SignalingRecordingOptions;

/* The file name of a participant's file and of the composed file of
 * recording @session_id (transfer full). */
char *signaling_recording_participant_file (const char *session_id, const char *participant_id);
char *signaling_recording_composed_file (const char *session_id);

/* At start, before serving: rows left "recording" by a crash become
 * "interrupted"; for each whose file can be read (the vault reader walks
 * it up to its last whole chunk) the row gets the file's SHA-256, size and
 * a duration (from started_at to the file's last write, which the writer
 * does at least once a second).  *@out_count (may be NULL): rows marked.
 * FALSE + @error only when the store fails; unreadable files are logged. */
gboolean signaling_recording_recover (RecordsStore *store, const char *directory,
                                      const guint8 server_key[32], guint *out_count,
                                      GError **error);

/* Free bytes for an unprivileged writer on the file system of @directory,
 * or G_MAXUINT64 when unknown. */
guint64 signaling_recording_free_bytes (const char *directory);

G_END_DECLS
