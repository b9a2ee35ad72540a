/* session.h — one signaling WebSocket connection.
 *
 * State machine: not-joined → joined → left.  Before `join` a message may be
 * at most 4 KiB, after it 64 KiB; at most 50 messages per second are
 * processed.  Every client message is validated by protocol.c before it is
 * acted on.  See docs/protocol.md.
 *
 * The type is declared in signaling-priv.h; server.c creates sessions with
 * signaling_session_new() when a WebSocket is accepted.
 */
#pragma once

#include "signaling-priv.h"
