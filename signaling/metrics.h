/* metrics.h — signaling counters and the Prometheus text of /metrics. */
#pragma once

#include <glib.h>

#include "media.h"
#include "protocol.h"

G_BEGIN_DECLS

/* Touched only on the main (signaling) context: plain integers. */
typedef struct {
  guint64 sockets_open;
  guint64 sockets_total;
  guint64 sockets_refused_origin;
  guint64 messages_total;
  guint64 errors_total[SIGNALING_ERROR_N_CODES];
  guint64 rooms;
  guint64 participants;
} SignalingMetrics;

/* Prometheus text exposition format 0.0.4 for @metrics and, when @media is
 * not NULL, the media plane's counters.  (transfer full) */
char *signaling_metrics_render (const SignalingMetrics *metrics, const MediaStats *media);

G_END_DECLS
