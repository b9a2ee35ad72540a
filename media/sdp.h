/* sdp.h — SDP offer/answer for Cầu's two peer connections (docs/protocol.md).
 *
 * Parsing and writing go through GStreamer's GstSDPMessage; this layer adds
 * the WebRTC rules on top (JSEP, RFC 8829; BUNDLE, RFC 9143; DTLS-SRTP,
 * RFC 5763/8842; ICE, RFC 8839) and the server's codec policy:
 *
 *   audio  Opus 48000/2
 *   video  VP8, else H.264 packetization-mode=1 (42e01f preferred, then any
 *          constrained-baseline 42xxxx, then an H.264 without profile-level-id
 *          as webrtcbin/openh264 writes it)
 *   never  rtx, red, ulpfec, flexfec (not negotiated, their SSRCs ignored)
 *   rtcp-fb (video) nack, nack pli, ccm fir, goog-remb
 *   extmap  ssrc-audio-level, sdes:mid, abs-send-time (the offered ids kept);
 *           sdes:rtp-stream-id too on a simulcast publish section
 *   simulcast  up to 3 send rids (RFC 8851, RFC 8853) accepted as recv
 *
 * Everything here is plain data and pure functions: no I/O, no global state,
 * safe to call from any thread.  The structs below are public because the
 * peer and room code read them; treat a parsed description as read-only
 * except for what the functions here fill in.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define MEDIA_SDP_ERROR (media_sdp_error_quark ())
GQuark media_sdp_error_quark (void);

typedef enum {
  MEDIA_SDP_ERROR_PARSE,      /* not SDP at all (GstSDPMessage refused it, NUL bytes, no v=) */
  MEDIA_SDP_ERROR_INVALID,    /* SDP, but breaks a WebRTC rule (no ICE/fingerprint, no BUNDLE, ...) */
  MEDIA_SDP_ERROR_NO_CODEC,   /* nothing we relay was offered / could be negotiated */
  MEDIA_SDP_ERROR_TOO_LARGE,  /* longer than the caller's max_len */
} MediaSdpError;

typedef enum {
  MEDIA_SDP_SENDRECV,
  MEDIA_SDP_SENDONLY,
  MEDIA_SDP_RECVONLY,
  MEDIA_SDP_INACTIVE,
} MediaSdpDirection;

/* RFC 4145 §4 / RFC 5763 §5 a=setup.  The role is the writer's: an answer of
 * ACTIVE means the answerer is the DTLS client. */
typedef enum {
  MEDIA_SDP_SETUP_ACTPASS,
  MEDIA_SDP_SETUP_ACTIVE,
  MEDIA_SDP_SETUP_PASSIVE,
} MediaSdpSetup;

/* Limits applied by the parser. */
#define MEDIA_SDP_MAX_SECTIONS   32
#define MEDIA_SDP_MAX_CANDIDATE  512
#define MEDIA_SDP_MAX_LAYERS     3
#define MEDIA_SDP_MAX_RID        16   /* Chromium's limit; RFC 8851 sets none */

typedef struct {
  guint8 payload_type;
  gchar *encoding;        /* as written in a=rtpmap: "opus", "OPUS", "VP8", "H264", ... */
  guint clock_rate;
  guint channels;         /* 0 if absent */
  gchar *fmtp;            /* NULL or the a=fmtp parameter string (after "PT ") */
  GPtrArray *rtcp_fb;     /* gchar*: "nack", "nack pli", "ccm fir", "goog-remb", ... */
} MediaSdpCodec;

typedef struct {
  guint8 id;              /* 1..255 (RFC 8285) */
  gchar *uri;
} MediaSdpExtmap;

typedef struct {
  guint index;            /* m-line index */
  gchar *mid;             /* never NULL: a=mid, or the index as a string when absent */
  gchar *kind;            /* "audio", "video", or other ("application", ...) */
  gboolean rejected;      /* port 0 and not bundle-only */
  gboolean bundle_only;
  MediaSdpDirection direction;
  GPtrArray *codecs;      /* MediaSdpCodec*, every offered format with an rtpmap, in m-line order */
  MediaSdpCodec *chosen;  /* after negotiation: the codec relayed for this section (owned by
                           * the section, a copy with rtcp-fb already filtered), or NULL */
  GArray *ssrcs;          /* guint32 media SSRCs; secondaries of FID / FEC-FR groups excluded */
  gchar *cname;           /* cname of the first media SSRC, or NULL */
  gchar *msid_stream;     /* a=msid, else a=ssrc:N msid: of the first media SSRC; or NULL */
  gchar *msid_track;
  GPtrArray *extmaps;     /* MediaSdpExtmap*, all offered */
  /* Additions to the agreed API: aiortc gives every m-line its own ICE
   * credentials and candidates, so the transport depends on which section
   * ends up BUNDLE-tagged (see media_sdp_create_publish_answer). */
  gchar *proto;           /* m-line proto, e.g. "UDP/TLS/RTP/SAVPF" */
  gchar **formats;        /* m-line formats as written */
  gboolean rtcp_rsize;    /* a=rtcp-rsize present (RFC 5506) */
  gchar *ice_ufrag;       /* media-level a=ice-ufrag / a=ice-pwd, else the session's */
  gchar *ice_pwd;
  GPtrArray *candidates;  /* gchar* "candidate:..." of this section (at most 64) */
  /* Simulcast (issue 6).  @rids: gchar*, the send rids of a=simulcast:send
   * (RFC 8853) that an a=rid:<id> send line declares (RFC 8851), in the
   * a=simulcast order, first alternative of each stream, paused (~) ones
   * left out, at most MEDIA_SDP_MAX_LAYERS; empty without simulcast.
   * @sim_ssrcs: guint32, the SSRCs of an a=ssrc-group:SIM (at most
   * MEDIA_SDP_MAX_LAYERS), empty when absent. */
  GPtrArray *rids;
  GArray *sim_ssrcs;
} MediaSdpSection;

typedef struct {
  gchar *ice_ufrag;           /* the BUNDLE transport's section, else session level */
  gchar *ice_pwd;
  gboolean ice_lite;
  gchar *fingerprint_hash;    /* lower case, e.g. "sha-256" */
  gchar *fingerprint;         /* upper-case hex with colons, "AB:CD:..." */
  MediaSdpSetup setup;        /* ACTIVE if absent (RFC 4145 §4 default) */
  GPtrArray *sections;        /* MediaSdpSection*, in m-line order */
  GPtrArray *candidates;      /* gchar* "candidate:..." (no "a="), of the BUNDLE transport's
                               * section only (deviation: other sections' candidates are
                               * for sockets the peer closes once BUNDLE is agreed) */
  gboolean end_of_candidates;
  gboolean bundle;            /* addition: the SDP had an a=group:BUNDLE */
} MediaSdpDescription;

void media_sdp_description_free (MediaSdpDescription *d);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MediaSdpDescription, media_sdp_description_free)

MediaSdpCodec *media_sdp_codec_copy (const MediaSdpCodec *codec);
void media_sdp_codec_free (MediaSdpCodec *codec);
/* Same encoding (case-insensitive), clock rate, channels and fmtp: the
 * same codec whatever its payload type. */
gboolean media_sdp_codec_equal (const MediaSdpCodec *a, const MediaSdpCodec *b);

/* Parses and validates an SDP from the network.  @sdp need not be
 * NUL-terminated; @len is its length.  Rules, in the order checked:
 * @len <= @max_len (TOO_LARGE); no NUL byte, starts with v=0, GstSDPMessage
 * accepts it (PARSE); 1..MEDIA_SDP_MAX_SECTIONS m-lines; unique mids;
 * payload types 0..127 and well-formed a=rtpmap; strict decimal SSRCs; ICE
 * ufrag (4..256 ice-chars) and pwd (22..256) for the BUNDLE transport; one
 * fingerprint (all copies equal) with a known hash and matching length; one
 * a=setup value (not holdconn); every non-rejected section in one
 * a=group:BUNDLE when there are several; a=rtcp-mux on every non-rejected
 * audio/video section (INVALID otherwise).
 * Returns: (transfer full) the description, or NULL with @error set. */
MediaSdpDescription *media_sdp_parse (const char *sdp, gsize len, gsize max_len,
                                      GError **error);

typedef struct {
  const gchar *ice_ufrag, *ice_pwd;
  const gchar *fingerprint;           /* sha-256, "AB:CD:..." */
  MediaSdpSetup setup;                /* what we write (see media_sdp_answer_setup for answers) */
  const gchar *const *candidates;     /* NULL-terminated "candidate:..." strings, may be NULL */
  gboolean end_of_candidates;
  guint64 session_id, session_version;
} MediaSdpLocal;

/* The a=setup an answerer writes for an offer's @offered, honouring
 * @preferred when the offer leaves the choice (actpass): RFC 5763 §5.
 * actpass → @preferred if ACTIVE, else PASSIVE; active → PASSIVE;
 * passive → ACTIVE.  PASSIVE means the server is the DTLS server. */
MediaSdpSetup media_sdp_answer_setup (MediaSdpSetup offered, MediaSdpSetup preferred);

/* Publish: chooses per offered section the codec we relay (sets
 * section->chosen on @offer), and writes the recvonly answer: the same
 * m-lines in the same order with the same mids; a section is rejected
 * (port 0, a=mid, and a=rtcp-mux on audio/video: aiortc 1.4 needs it) when
 * the offer rejected it, it is not sending, its kind or codecs are
 * unsupported.  ICE credentials, fingerprint and setup are also written at
 * session level (aiortc 1.4 needs them for rejected sections).  a=group:BUNDLE of the accepted mids;
 * ice-ufrag/pwd, fingerprint, setup (media_sdp_answer_setup (offer->setup,
 * local->setup)), rtcp-mux and (if offered) rtcp-rsize on every accepted
 * section; all accepted sections share one c=/port (RFC 9143 §7.3), the
 * first candidate's address and port, or 0.0.0.0 and 9; the candidates and
 * a=end-of-candidates (when asked) go in the first accepted section.
 * A section with simulcast rids (section->rids) answers a=rid:<id> recv
 * for each and a=simulcast:recv <id>;<id>;..., in the offer's order, and
 * keeps the sdes:rtp-stream-id extmap; other sections are answered as
 * without simulcast support.
 * Codecs whose payload type is 64..95 are never chosen: with rtcp-mux they
 * collide with RTCP packet types (RFC 5761 §4).
 * @offer's ice_ufrag/ice_pwd/candidates are set to those of the first
 * accepted section, the answer's BUNDLE tag: they change when we rejected
 * the offerer's tag.
 * Fails with NO_CODEC when no section can be accepted, INVALID for a bad
 * @local.  Returns: (transfer full) the SDP text. */
gchar *media_sdp_create_publish_answer (MediaSdpDescription *offer,
                                        const MediaSdpLocal *local,
                                        GError **error);

/* Subscribe: one m-line per outgoing track, in array order (the caller keeps
 * the order stable and reuses inactive slots). */
typedef struct {
  const gchar *mid;            /* e.g. "0", "1", ...; unique, 1..32 chars of [A-Za-z0-9_.-] */
  const gchar *kind;           /* "audio" / "video" */
  gboolean active;             /* FALSE: a=inactive, no ssrc (still bundled) */
  const MediaSdpCodec *codec;  /* the publisher's negotiated codec (PT/encoding/clock/channels/fmtp);
                                * may be NULL for an inactive slot (a placeholder is written) */
  guint32 ssrc;                /* server-chosen SSRC for this subscriber stream */
  const gchar *cname;
  const gchar *msid_stream;    /* publisher participant id */
  const gchar *msid_track;     /* track id */
  const GPtrArray *extmaps;    /* MediaSdpExtmap*, may be NULL: which ones to offer.  Only the
                                * three supported URIs are written, and one id must mean one URI
                                * across the whole offer (INVALID otherwise) */
} MediaSdpOfferTrack;

/* Writes the sendonly subscribe offer: a=group:BUNDLE of every mid, setup
 * local->setup (normally ACTPASS), the candidates in the first section;
 * video sections offer nack, nack pli, ccm fir and goog-remb, which the
 * server terminates itself.  Inactive slots keep their mid and the shared
 * port with a=inactive, so the bundle transport survives when the BUNDLE
 * tag's track, or every track, goes away (Chromium 156 builds a new
 * transport when the tag m-line is rejected).  INVALID: @n_tracks == 0, a bad field, two active
 * tracks with one SSRC, or with one payload type for different codecs, or
 * one extmap id for different URIs (a BUNDLE group is one RTP session,
 * RFC 9143 §9.1; Chromium refuses such offers).  Publishers pick their own
 * PTs (aiortc: opus 96, Chromium: VP8 96), so the forwarder must map PTs
 * (and extension ids) per subscriber to mix publishers of different kinds.
 * Returns: (transfer full) the SDP text. */
gchar *media_sdp_create_subscribe_offer (const MediaSdpOfferTrack *tracks, guint n_tracks,
                                         const MediaSdpLocal *local, GError **error);

/* Parses a client's answer to our subscribe offer (media_sdp_parse rules)
 * and checks it against what we offered: @n_offered m-lines with
 * @offered_mids in order, each recvonly, inactive or rejected, setup not
 * actpass.  For each accepted section, section->chosen is a copy of the
 * answer's first codec.  Returns: (transfer full) or NULL with @error. */
MediaSdpDescription *media_sdp_parse_subscribe_answer (const char *sdp, gsize len, gsize max_len,
                                                       guint n_offered,
                                                       const gchar *const *offered_mids,
                                                       GError **error);

/* As media_sdp_parse_subscribe_answer, and also checks the codecs: every
 * accepted section of an active track answers that track's payload type
 * with the same encoding and clock rate (and only formats that were
 * offered).  Active tracks the client rejected are left with chosen NULL. */
MediaSdpDescription *media_sdp_parse_subscribe_answer_for_tracks (const char *sdp, gsize len,
                                                                  gsize max_len,
                                                                  const MediaSdpOfferTrack *tracks,
                                                                  guint n_tracks,
                                                                  GError **error);

/* WHEP view (media/view.c): what the server sends on one offered m-line. */
typedef struct {
  guint32 ssrc;                /* 0: reject this section */
  const gchar *cname;
  const gchar *msid_stream;
  const gchar *msid_track;
} MediaSdpViewSend;

/* WHEP view: the client offers recvonly (or sendrecv) m-lines and the
 * server sends.  Chooses per offered section the codec we relay (as
 * media_sdp_create_publish_answer: Opus, VP8, else H.264; sets
 * section->chosen on @offer) and writes the sendonly answer: the same
 * m-lines, mids and order; a section is rejected when the offer rejected
 * it, it does not receive, its kind or codecs are unsupported, or
 * sends[i].ssrc is 0.  Accepted sections carry a=sendonly, the chosen codec
 * with the client's payload type and the feedback both sides know, msid
 * and a=ssrc (cname, msid) from @sends (indexed like offer->sections),
 * no header extensions; transport, BUNDLE and setup as in the publish
 * answer.  @video_encoding "H264" (what the room's publishers send) makes
 * video sections prefer an offered H.264 to VP8; NULL or "VP8": VP8 first.
 * Fails with NO_CODEC when no section can be accepted.
 * Returns: (transfer full) the SDP text. */
gchar *media_sdp_create_view_answer (MediaSdpDescription *offer, const MediaSdpLocal *local,
                                     const MediaSdpViewSend *sends, const gchar *video_encoding,
                                     GError **error);

/* Candidate strings from trickle: strips surrounding blanks and a leading
 * "a=", requires "candidate:" and at least the 8 fields of RFC 8839 §5.1,
 * refuses control characters (they would inject SDP lines), empty strings
 * and strings over MEDIA_SDP_MAX_CANDIDATE bytes.
 * Returns: (transfer full) the normalised string, or NULL. */
gchar *media_sdp_normalize_candidate (const char *candidate);

const gchar *media_sdp_direction_to_string (MediaSdpDirection direction);
const gchar *media_sdp_setup_to_string (MediaSdpSetup setup);

G_END_DECLS
