/* media-priv.h — helpers shared inside media/ only. */
#pragma once

#include "media.h"

/* Engine-wide counters are bumped from every worker: relaxed atomics, no
 * ordering needed, read approximately by /metrics. */
#define MEDIA_STAT_ADD(stats, field, n) \
  __atomic_fetch_add (&(stats)->field, (guint64) (n), __ATOMIC_RELAXED)
#define MEDIA_STAT_SUB(stats, field, n) \
  __atomic_fetch_sub (&(stats)->field, (guint64) (n), __ATOMIC_RELAXED)
#define MEDIA_STAT_GET(stats, field) \
  __atomic_load_n (&(stats)->field, __ATOMIC_RELAXED)
