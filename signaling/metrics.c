/* metrics.c — Prometheus text for /metrics. */
#include "metrics.h"

static void
add (GString *out, const char *name, const char *type, const char *help, guint64 value)
{
  g_string_append_printf (out, "# HELP %s %s\n# TYPE %s %s\n%s %" G_GUINT64_FORMAT "\n", name,
                          help, name, type, name, value);
}

char *
signaling_metrics_render (const SignalingMetrics *metrics, const MediaStats *media)
{
  GString *out = g_string_new (NULL);

  g_return_val_if_fail (metrics != NULL, NULL);

  add (out, "cau_signaling_sockets", "gauge", "Open WebSocket connections.",
       metrics->sockets_open);
  add (out, "cau_signaling_sockets_total", "counter", "WebSocket connections accepted.",
       metrics->sockets_total);
  add (out, "cau_signaling_sockets_refused_total", "counter",
       "WebSocket upgrades refused because Origin did not match Host.",
       metrics->sockets_refused_origin);
  add (out, "cau_signaling_messages_total", "counter", "Signaling messages received.",
       metrics->messages_total);
  add (out, "cau_signaling_rooms", "gauge", "Rooms with at least one participant.",
       metrics->rooms);
  add (out, "cau_signaling_participants", "gauge", "Joined participants.",
       metrics->participants);
  g_string_append (out, "# HELP cau_signaling_errors_total Errors sent to clients, by code.\n"
                        "# TYPE cau_signaling_errors_total counter\n");
  for (int code = 0; code < SIGNALING_ERROR_N_CODES; code++)
    g_string_append_printf (out, "cau_signaling_errors_total{code=\"%s\"} %" G_GUINT64_FORMAT "\n",
                            signaling_error_code_to_string (code), metrics->errors_total[code]);

  if (media) {
    add (out, "cau_media_rooms", "gauge", "Rooms in the media plane.", media->rooms);
    add (out, "cau_media_peers", "gauge", "Peer connections.", media->peers);
    g_string_append (out, "# HELP cau_media_rtp_packets_total RTP packets.\n"
                          "# TYPE cau_media_rtp_packets_total counter\n");
    g_string_append_printf (out, "cau_media_rtp_packets_total{direction=\"in\"} %" G_GUINT64_FORMAT "\n"
                                 "cau_media_rtp_packets_total{direction=\"out\"} %" G_GUINT64_FORMAT "\n",
                            media->rtp_packets_in, media->rtp_packets_out);
    g_string_append (out, "# HELP cau_media_rtp_bytes_total RTP bytes.\n"
                          "# TYPE cau_media_rtp_bytes_total counter\n");
    g_string_append_printf (out, "cau_media_rtp_bytes_total{direction=\"in\"} %" G_GUINT64_FORMAT "\n"
                                 "cau_media_rtp_bytes_total{direction=\"out\"} %" G_GUINT64_FORMAT "\n",
                            media->rtp_bytes_in, media->rtp_bytes_out);
    g_string_append (out, "# HELP cau_media_rtcp_packets_total RTCP packets.\n"
                          "# TYPE cau_media_rtcp_packets_total counter\n");
    g_string_append_printf (out, "cau_media_rtcp_packets_total{direction=\"in\"} %" G_GUINT64_FORMAT "\n"
                                 "cau_media_rtcp_packets_total{direction=\"out\"} %" G_GUINT64_FORMAT "\n",
                            media->rtcp_packets_in, media->rtcp_packets_out);
    add (out, "cau_media_nack_retransmits_total", "counter",
         "RTP packets resent in answer to NACK.", media->nack_retransmits);
    add (out, "cau_media_plis_sent_total", "counter", "PLIs sent to publishers.",
         media->plis_sent);
    add (out, "cau_media_dtls_failures_total", "counter", "Failed DTLS handshakes.",
         media->dtls_failures);
    add (out, "cau_media_speaker_changes_total", "counter",
         "Active-speaker changes (RFC 6464 audio levels), all rooms.", media->speaker_changes);
    add (out, "cau_media_consent_expired_total", "counter",
         "Peer connections ended after 30 s without an answer to RFC 7675 consent checks.",
         media->consent_expired);
    add (out, "cau_media_gso_sends_total", "counter",
         "UDP GSO sends: a subscriber's run of equal-sized datagrams in one send.",
         media->gso_sends);
    add (out, "cau_media_gso_datagrams_total", "counter",
         "Datagrams carried by UDP GSO sends.", media->gso_datagrams);
    add (out, "cau_media_layer_switches_total", "counter",
         "Simulcast layer switches of subscriber slots.", media->layer_switches);
    g_string_append (out, "# HELP cau_media_dropped_packets_total Packets dropped, by reason.\n"
                          "# TYPE cau_media_dropped_packets_total counter\n");
    g_string_append_printf (out,
                            "cau_media_dropped_packets_total{reason=\"malformed\"} %" G_GUINT64_FORMAT "\n"
                            "cau_media_dropped_packets_total{reason=\"srtp\"} %" G_GUINT64_FORMAT "\n"
                            "cau_media_dropped_packets_total{reason=\"unknown\"} %" G_GUINT64_FORMAT "\n",
                            media->dropped_malformed, media->dropped_srtp, media->dropped_unknown);
  }
  return g_string_free (out, FALSE);
}
