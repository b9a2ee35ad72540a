/* room.h — a signaling room: its participants, their names, mute state
 * and published tracks; broadcasts of who comes and goes; and the subscribe
 * renegotiation of every participant (one offer outstanding at a time).
 * Declared in signaling-priv.h. */
#pragma once

#include "signaling-priv.h"
