/* media.c — the media plane's small shared definitions (media.h). */
#include "media.h"

G_DEFINE_QUARK (cau-media-error-quark, media_error)

const char *
media_pc_kind_to_string (MediaPcKind pc)
{
  return pc == MEDIA_PC_PUBLISH ? "publish" : "subscribe";
}

const char *
media_state_to_string (MediaState state)
{
  switch (state) {
  case MEDIA_STATE_NEW: return "new";
  case MEDIA_STATE_CONNECTING: return "connecting";
  case MEDIA_STATE_CONNECTED: return "connected";
  case MEDIA_STATE_FAILED: return "failed";
  case MEDIA_STATE_CLOSED: return "closed";
  default: return "unknown";
  }
}
