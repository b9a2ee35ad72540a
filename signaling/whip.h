/* whip.h — WHIP (RFC 9725) and WHEP endpoints of briefings (whip.c). */
#pragma once

#include "signaling-priv.h"

G_BEGIN_DECLS

/* Sets up / tears down @context's table of WHIP and WHEP sessions
 * (server.c; clear after every session has left, e.g. after shutdown). */
void signaling_whip_context_init (SignalingContext *context);
void signaling_whip_context_clear (SignalingContext *context);

/* Adds /whip/ and /whep/ to @soup.  Needs @context->api and ->store. */
void signaling_whip_attach (SignalingContext *context, SoupServer *soup);

/* The API's briefing listener (SignalingApiBriefingFunc; @context is the
 * SignalingContext): an ended briefing's WHIP and WHEP sessions end. */
void signaling_whip_briefing_ended (const RecordsBriefing *briefing, gpointer context);

G_END_DECLS
