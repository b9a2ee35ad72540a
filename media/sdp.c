/* sdp.c — WebRTC offer/answer on top of GstSDPMessage.  See sdp.h. */
#include "sdp.h"

#include <string.h>
#include <gst/sdp/sdp.h>

G_DEFINE_QUARK (media-sdp-error-quark, media_sdp_error)

#define MAX_TOKEN      64     /* mid, encoding name: RFC 5888 / RFC 4566 tokens */
#define MAX_MSID_ID    64     /* RFC 8830 §2 msid-id 1*64token-char */
#define MAX_CNAME      255    /* RFC 3550 §6.5: SDES items are at most 255 octets */
#define MAX_FMTP       1024
#define MAX_ICE_CRED   256    /* RFC 8839 §5.4 */

static const gchar *const allowed_extmaps[] = {
  "urn:ietf:params:rtp-hdrext:ssrc-audio-level",                 /* RFC 6464 */
  "urn:ietf:params:rtp-hdrext:sdes:mid",                         /* RFC 9143 §15 */
  "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time",
  NULL,
};

#define RID_EXTMAP_URI "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id"   /* RFC 8852 */

static const gchar *const allowed_video_fb[] = {
  "nack", "nack pli", "ccm fir", "goog-remb", NULL,
};

/* ---------------------------------------------------------------- helpers */

static gboolean
str_in (const gchar *s, const gchar *const *set)
{
  for (; *set; set++)
    if (g_strcmp0 (s, *set) == 0)
      return TRUE;
  return FALSE;
}

/* RFC 4566 token-char. */
static gboolean
is_token (const gchar *s, gsize max)
{
  gsize n = 0;

  if (s == NULL || *s == '\0')
    return FALSE;
  for (; *s; s++, n++)
    if (n >= max || !(g_ascii_isalnum (*s) || strchr ("!#$%&'*+-.^_`{|}~", *s)))
      return FALSE;
  return TRUE;
}

/* Printable ASCII, spaces allowed: text we echo into SDP we write. */
static gboolean
is_printable (const gchar *s, gsize max)
{
  gsize n = 0;

  for (; *s; s++, n++)
    if (n >= max || (guchar) *s < 0x20 || (guchar) *s > 0x7e)
      return FALSE;
  return TRUE;
}

/* Printable, no blanks: ids we only carry (webrtcbin's msid has an '@',
 * which RFC 8830's token-char does not allow). */
static gboolean
is_word (const gchar *s, gsize max)
{
  return s && *s && is_printable (s, max) && strchr (s, ' ') == NULL;
}

/* RFC 8839 §5.4 ice-char = ALPHA / DIGIT / "+" / "/". */
static gboolean
is_ice_cred (const gchar *s, gsize min, gsize max)
{
  gsize n;

  if (s == NULL)
    return FALSE;
  for (n = 0; s[n]; n++)
    if (n >= max || !(g_ascii_isalnum (s[n]) || s[n] == '+' || s[n] == '/'))
      return FALSE;
  return n >= min;
}

/* Strict decimal: digits only, no sign, no blanks, no overflow. */
static gboolean
parse_uint (const gchar *s, gsize n, guint64 max, guint64 *out)
{
  guint64 v = 0;
  gsize i;

  if (n == 0 || n > 20)
    return FALSE;
  for (i = 0; i < n; i++) {
    if (!g_ascii_isdigit (s[i]))
      return FALSE;
    v = v * 10 + (guint64) (s[i] - '0');
    if (v > max)
      return FALSE;
  }
  *out = v;
  return TRUE;
}

/* Splits "N rest" at the first space: N strictly decimal <= max. */
static gboolean
parse_leading_uint (const gchar *value, guint64 max, guint64 *out, const gchar **rest)
{
  const gchar *sp = strchr (value, ' ');
  gsize n = sp ? (gsize) (sp - value) : strlen (value);

  if (!parse_uint (value, n, max, out))
    return FALSE;
  *rest = sp ? sp + 1 : value + n;
  return TRUE;
}

static const gchar *
attr_value (const GstSDPAttribute *a)
{
  return a->value ? a->value : "";
}

void
media_sdp_codec_free (MediaSdpCodec *codec)
{
  if (codec == NULL)
    return;
  g_free (codec->encoding);
  g_free (codec->fmtp);
  if (codec->rtcp_fb)
    g_ptr_array_unref (codec->rtcp_fb);
  g_free (codec);
}

static MediaSdpCodec *
codec_new (void)
{
  MediaSdpCodec *c = g_new0 (MediaSdpCodec, 1);
  c->rtcp_fb = g_ptr_array_new_with_free_func (g_free);
  return c;
}

MediaSdpCodec *
media_sdp_codec_copy (const MediaSdpCodec *codec)
{
  MediaSdpCodec *c;

  g_return_val_if_fail (codec != NULL, NULL);
  c = codec_new ();
  c->payload_type = codec->payload_type;
  c->encoding = g_strdup (codec->encoding);
  c->clock_rate = codec->clock_rate;
  c->channels = codec->channels;
  c->fmtp = g_strdup (codec->fmtp);
  for (guint i = 0; codec->rtcp_fb && i < codec->rtcp_fb->len; i++)
    g_ptr_array_add (c->rtcp_fb, g_strdup (g_ptr_array_index (codec->rtcp_fb, i)));
  return c;
}

static void
extmap_free (MediaSdpExtmap *e)
{
  g_free (e->uri);
  g_free (e);
}

static void
section_free (MediaSdpSection *s)
{
  g_free (s->mid);
  g_free (s->kind);
  g_ptr_array_unref (s->codecs);
  media_sdp_codec_free (s->chosen);
  g_array_unref (s->ssrcs);
  g_free (s->cname);
  g_free (s->msid_stream);
  g_free (s->msid_track);
  g_ptr_array_unref (s->extmaps);
  g_free (s->proto);
  g_strfreev (s->formats);
  g_free (s->ice_ufrag);
  g_free (s->ice_pwd);
  g_ptr_array_unref (s->candidates);
  g_ptr_array_unref (s->rids);
  g_array_unref (s->sim_ssrcs);
  g_free (s);
}

static MediaSdpSection *
section_new (guint index)
{
  MediaSdpSection *s = g_new0 (MediaSdpSection, 1);
  s->index = index;
  s->codecs = g_ptr_array_new_with_free_func ((GDestroyNotify) media_sdp_codec_free);
  s->ssrcs = g_array_new (FALSE, FALSE, sizeof (guint32));
  s->extmaps = g_ptr_array_new_with_free_func ((GDestroyNotify) extmap_free);
  s->candidates = g_ptr_array_new_with_free_func (g_free);
  s->rids = g_ptr_array_new_with_free_func (g_free);
  s->sim_ssrcs = g_array_new (FALSE, FALSE, sizeof (guint32));
  return s;
}

void
media_sdp_description_free (MediaSdpDescription *d)
{
  if (d == NULL)
    return;
  g_free (d->ice_ufrag);
  g_free (d->ice_pwd);
  g_free (d->fingerprint_hash);
  g_free (d->fingerprint);
  g_ptr_array_unref (d->sections);
  g_ptr_array_unref (d->candidates);
  g_free (d);
}

const gchar *
media_sdp_direction_to_string (MediaSdpDirection direction)
{
  switch (direction) {
    case MEDIA_SDP_SENDRECV: return "sendrecv";
    case MEDIA_SDP_SENDONLY: return "sendonly";
    case MEDIA_SDP_RECVONLY: return "recvonly";
    case MEDIA_SDP_INACTIVE: return "inactive";
  }
  return "inactive";
}

const gchar *
media_sdp_setup_to_string (MediaSdpSetup setup)
{
  switch (setup) {
    case MEDIA_SDP_SETUP_ACTPASS: return "actpass";
    case MEDIA_SDP_SETUP_ACTIVE: return "active";
    case MEDIA_SDP_SETUP_PASSIVE: return "passive";
  }
  return "actpass";
}

/* ------------------------------------------------------------- candidates */

gchar *
media_sdp_normalize_candidate (const char *candidate)
{
  g_autofree gchar *copy = NULL;
  g_auto (GStrv) fields = NULL;
  const gchar *s;

  if (candidate == NULL)
    return NULL;
  copy = g_strstrip (g_strdup (candidate));
  s = copy;
  if (g_str_has_prefix (s, "a="))
    s += 2;
  if (*s == '\0' || strlen (s) > MEDIA_SDP_MAX_CANDIDATE || !is_printable (s, MEDIA_SDP_MAX_CANDIDATE))
    return NULL;
  if (!g_str_has_prefix (s, "candidate:"))
    return NULL;
  /* RFC 8839 §5.1: foundation component transport priority address port "typ" type */
  fields = g_strsplit (s, " ", 9);
  if (g_strv_length (fields) < 8 || g_strcmp0 (fields[6], "typ") != 0 || fields[0][10] == '\0')
    return NULL;
  return g_strdup (s);
}

/* c= address and port for a candidate: IPv4/IPv6 literals only (an mDNS
 * name or anything else gives FALSE, and the caller writes 0.0.0.0 9). */
static gboolean
candidate_address (const gchar *candidate, gchar **addrtype, gchar **address, guint *port)
{
  g_auto (GStrv) f = g_strsplit (candidate, " ", 7);
  guint64 p;
  gboolean v4 = TRUE, v6 = TRUE;

  if (g_strv_length (f) < 6 || !parse_uint (f[5], strlen (f[5]), 65535, &p) || p == 0)
    return FALSE;
  for (const gchar *c = f[4]; *c; c++) {
    v4 = v4 && (g_ascii_isdigit (*c) || *c == '.');
    v6 = v6 && (g_ascii_isxdigit (*c) || *c == ':' || *c == '.');
  }
  v6 = v6 && strchr (f[4], ':') != NULL;
  if (f[4][0] == '\0' || strlen (f[4]) > 45 || !(v4 || v6))
    return FALSE;
  *addrtype = g_strdup (v6 ? "IP6" : "IP4");
  *address = g_strdup (f[4]);
  *port = (guint) p;
  return TRUE;
}

/* ------------------------------------------------------------------ parse */

typedef struct {
  /* one value of an attribute that may appear at session and media level */
  gchar *value;
  const gchar *what;
} Unique;

/* Records @value for a "must be equal everywhere" attribute. */
static gboolean
unique_set (Unique *u, const gchar *value, gboolean ascii_case, GError **error)
{
  if (u->value == NULL) {
    u->value = g_strdup (value);
    return TRUE;
  }
  if (ascii_case ? g_ascii_strcasecmp (u->value, value) == 0 : strcmp (u->value, value) == 0)
    return TRUE;
  g_set_error (error, MEDIA_SDP_ERROR, MEDIA_SDP_ERROR_INVALID,
               "conflicting a=%s values", u->what);
  return FALSE;
}

static gboolean
parse_setup (const gchar *v, MediaSdpSetup *out)
{
  if (g_ascii_strcasecmp (v, "actpass") == 0)
    *out = MEDIA_SDP_SETUP_ACTPASS;
  else if (g_ascii_strcasecmp (v, "active") == 0)
    *out = MEDIA_SDP_SETUP_ACTIVE;
  else if (g_ascii_strcasecmp (v, "passive") == 0)
    *out = MEDIA_SDP_SETUP_PASSIVE;
  else
    return FALSE;           /* holdconn or garbage */
  return TRUE;
}

/* RFC 8122 §5: "hash-func HEX:HEX:..."; the length must fit the hash. */
static gboolean
parse_fingerprint (const gchar *v, gchar **hash, gchar **hex)
{
  static const struct { const gchar *name; guint bytes; } hashes[] = {
    { "sha-1", 20 }, { "sha-224", 28 }, { "sha-256", 32 }, { "sha-384", 48 }, { "sha-512", 64 },
  };
  const gchar *sp = strchr (v, ' ');
  g_autofree gchar *name = NULL;
  guint bytes = 0;
  gsize n;

  if (sp == NULL)
    return FALSE;
  name = g_ascii_strdown (v, sp - v);
  for (guint i = 0; i < G_N_ELEMENTS (hashes); i++)
    if (strcmp (name, hashes[i].name) == 0)
      bytes = hashes[i].bytes;
  v = sp + 1;
  n = strlen (v);
  if (bytes == 0 || n != bytes * 3 - 1)
    return FALSE;
  for (gsize i = 0; i < n; i++)
    if ((i % 3 == 2) ? v[i] != ':' : !g_ascii_isxdigit (v[i]))
      return FALSE;
  *hash = g_steal_pointer (&name);
  *hex = g_ascii_strup (v, -1);
  return TRUE;
}

static MediaSdpCodec *
section_codec (MediaSdpSection *s, guint64 pt)
{
  for (guint i = 0; i < s->codecs->len; i++) {
    MediaSdpCodec *c = g_ptr_array_index (s->codecs, i);
    if (c->payload_type == pt)
      return c;
  }
  return NULL;
}

static gboolean
is_rtp_proto (const gchar *proto)
{
  return proto && strstr (proto, "RTP/") != NULL;
}

/* DTLS-SRTP profiles (RFC 5764 §8): plain RTP/AVP cannot be relayed. */
static gboolean
is_srtp_proto (const gchar *proto)
{
  return g_str_has_suffix (proto, "RTP/SAVPF") || g_str_has_suffix (proto, "RTP/SAVP");
}

/* "enc/clock[/channels]" of a=rtpmap. */
static gboolean
parse_rtpmap (const gchar *v, MediaSdpCodec *c)
{
  g_auto (GStrv) p = g_strsplit (v, "/", 4);
  guint n = g_strv_length (p);
  guint64 clock, ch = 0;

  if (n < 2 || n > 3 || !is_token (p[0], 32))
    return FALSE;
  if (!parse_uint (p[1], strlen (p[1]), G_MAXINT32, &clock) || clock == 0)
    return FALSE;
  if (n == 3 && (!parse_uint (p[2], strlen (p[2]), 255, &ch) || ch == 0))
    return FALSE;
  c->encoding = g_strdup (p[0]);
  c->clock_rate = (guint) clock;
  c->channels = (guint) ch;
  return TRUE;
}

static gboolean
parse_msid (const gchar *v, gchar **stream, gchar **track)
{
  g_auto (GStrv) p = g_strsplit (v, " ", 3);

  /* RFC 8830 §2; "-" and an absent appdata are Chromium's forms too */
  if (p[0] == NULL || !is_word (p[0], MAX_MSID_ID))
    return FALSE;
  if (p[1] != NULL && (!is_word (p[1], MAX_MSID_ID) || p[2] != NULL))
    return FALSE;
  g_free (*stream);
  g_free (*track);
  *stream = g_strdup (p[0]);
  *track = g_strdup (p[1]);
  return TRUE;
}

#define FAIL(code, ...) \
  G_STMT_START { g_set_error (error, MEDIA_SDP_ERROR, code, __VA_ARGS__); goto fail; } G_STMT_END

/* Everything of one m-section: formats first (they say which rtpmaps count),
 * then the attributes in any order. */
/* RFC 8851 §10 rid-id: 1*(alpha-numeric / "-" / "_"), here at most
 * MEDIA_SDP_MAX_RID characters. */
static gboolean
is_rid (const gchar *s)
{
  gsize n = 0;

  for (; s[n] != '\0'; n++)
    if (n >= MEDIA_SDP_MAX_RID || !(g_ascii_isalnum (s[n]) || s[n] == '-' || s[n] == '_'))
      return FALSE;
  return n > 0;
}

/* RFC 8853 §5.1: "send" SP sc-str-list [SP "recv" SP sc-str-list], the
 * list ';'-separated streams of ','-separated alternatives, "~" marking a
 * paused one.  Keeps the first alternative of each stream when it is
 * declared by an a=rid send line and not paused, at most
 * MEDIA_SDP_MAX_LAYERS, no duplicates.  A single layer is no simulcast. */
static void
parse_simulcast (const gchar *v, const GPtrArray *declared, GPtrArray *out)
{
  g_auto (GStrv) parts = g_strsplit (v, " ", 5);
  g_auto (GStrv) streams = NULL;

  for (guint i = 0; parts[i] != NULL && parts[i + 1] != NULL; i += 2) {
    if (strcmp (parts[i], "send") != 0)
      continue;
    streams = g_strsplit (parts[i + 1], ";", 16);
    break;
  }
  if (streams == NULL)
    return;
  for (guint i = 0; streams[i] != NULL && out->len < MEDIA_SDP_MAX_LAYERS; i++) {
    g_auto (GStrv) alts = g_strsplit (streams[i], ",", 2);
    const gchar *rid = alts[0];
    gboolean known = FALSE;

    if (rid == NULL || rid[0] == '~')
      continue;
    for (guint j = 0; j < declared->len; j++)
      known = known || strcmp (g_ptr_array_index (declared, j), rid) == 0;
    for (guint j = 0; j < out->len; j++)
      known = known && strcmp (g_ptr_array_index (out, j), rid) != 0;
    if (known)
      g_ptr_array_add (out, g_strdup (rid));
  }
  if (out->len < 2)
    g_ptr_array_set_size (out, 0);
}

static MediaSdpSection *
parse_section (const GstSDPMedia *m, guint index, Unique *fp, Unique *setup,
               gboolean *end_of_candidates, GError **error)
{
  MediaSdpSection *s = section_new (index);
  g_autoptr (GArray) secondary = g_array_new (FALSE, FALSE, sizeof (guint32));
  g_autoptr (GArray) all_ssrcs = g_array_new (FALSE, FALSE, sizeof (guint32));
  g_autoptr (GPtrArray) ssrc_attrs = g_ptr_array_new (); /* const gchar* "N attr" */
  g_autoptr (GPtrArray) send_rids = g_ptr_array_new_with_free_func (g_free); /* a=rid send */
  const gchar *simulcast = NULL;
  gboolean rtp = is_rtp_proto (gst_sdp_media_get_proto (m));
  gboolean have_dir = FALSE;
  gchar *msid_stream = NULL, *msid_track = NULL;

  s->kind = g_strdup (gst_sdp_media_get_media (m) ? gst_sdp_media_get_media (m) : "");
  if (!is_token (s->kind, 32))
    FAIL (MEDIA_SDP_ERROR_INVALID, "m-line %u: bad media type", index);
  s->direction = MEDIA_SDP_SENDRECV;
  s->proto = g_strdup (gst_sdp_media_get_proto (m) ? gst_sdp_media_get_proto (m) : "");
  if (!is_printable (s->proto, MAX_TOKEN) || strchr (s->proto, ' '))
    FAIL (MEDIA_SDP_ERROR_INVALID, "m-line %u: bad proto", index);
  s->formats = g_new0 (gchar *, gst_sdp_media_formats_len (m) + 1);
  for (guint i = 0; i < gst_sdp_media_formats_len (m); i++) {
    const gchar *f = gst_sdp_media_get_format (m, i);
    if (!is_token (f, MAX_TOKEN))
      FAIL (MEDIA_SDP_ERROR_INVALID, "m-line %u: bad format", index);
    s->formats[i] = g_strdup (f);
  }

  if (rtp) {
    for (guint i = 0; i < gst_sdp_media_formats_len (m); i++) {
      const gchar *f = gst_sdp_media_get_format (m, i);
      guint64 pt;
      MediaSdpCodec *c;

      if (!parse_uint (f, strlen (f), 127, &pt))
        FAIL (MEDIA_SDP_ERROR_INVALID, "m-line %u: payload type '%.8s' not in 0..127", index, f);
      if (section_codec (s, pt))
        FAIL (MEDIA_SDP_ERROR_INVALID, "m-line %u: payload type %u listed twice", index, (guint) pt);
      c = codec_new ();
      c->payload_type = (guint8) pt;
      g_ptr_array_add (s->codecs, c);
    }
  }

  for (guint i = 0; i < gst_sdp_media_attributes_len (m); i++) {
    const GstSDPAttribute *a = gst_sdp_media_get_attribute (m, i);
    const gchar *k = a->key ? a->key : "", *v = attr_value (a), *rest;
    guint64 n;

    if (strcmp (k, "mid") == 0) {
      if (!is_token (v, MAX_TOKEN) || (s->mid && strcmp (s->mid, v) != 0))
        FAIL (MEDIA_SDP_ERROR_INVALID, "m-line %u: bad or repeated a=mid", index);
      g_free (s->mid);
      s->mid = g_strdup (v);
    } else if (strcmp (k, "bundle-only") == 0) {
      s->bundle_only = TRUE;
    } else if (strcmp (k, "rtcp-rsize") == 0) {
      s->rtcp_rsize = TRUE;
    } else if (strcmp (k, "sendrecv") == 0 || strcmp (k, "sendonly") == 0 ||
               strcmp (k, "recvonly") == 0 || strcmp (k, "inactive") == 0) {
      MediaSdpDirection d = k[0] == 'i' ? MEDIA_SDP_INACTIVE : k[0] == 'r' ? MEDIA_SDP_RECVONLY
                          : k[4] == 'o' ? MEDIA_SDP_SENDONLY : MEDIA_SDP_SENDRECV;
      if (have_dir && d != s->direction)
        FAIL (MEDIA_SDP_ERROR_INVALID, "m-line %u: conflicting directions", index);
      have_dir = TRUE;
      s->direction = d;
    } else if (strcmp (k, "ice-ufrag") == 0 || strcmp (k, "ice-pwd") == 0) {
      gboolean ufrag = k[4] == 'u';
      gchar **slot = ufrag ? &s->ice_ufrag : &s->ice_pwd;
      if (!is_ice_cred (v, ufrag ? 4 : 22, MAX_ICE_CRED) || (*slot && strcmp (*slot, v) != 0))
        FAIL (MEDIA_SDP_ERROR_INVALID, "m-line %u: bad or repeated a=%s", index, k);
      g_free (*slot);
      *slot = g_strdup (v);
    } else if (strcmp (k, "fingerprint") == 0) {
      g_autofree gchar *hash = NULL, *hex = NULL, *both = NULL;
      if (!parse_fingerprint (v, &hash, &hex))
        FAIL (MEDIA_SDP_ERROR_INVALID, "m-line %u: bad a=fingerprint", index);
      both = g_strconcat (hash, " ", hex, NULL);
      if (!unique_set (fp, both, FALSE, error))
        goto fail;
    } else if (strcmp (k, "setup") == 0) {
      MediaSdpSetup su;
      if (!parse_setup (v, &su))
        FAIL (MEDIA_SDP_ERROR_INVALID, "m-line %u: bad a=setup", index);
      /* a rejected section's transport attributes do not matter */
      if (gst_sdp_media_get_port (m) != 0 || gst_sdp_media_get_attribute_val (m, "bundle-only"))
        if (!unique_set (setup, media_sdp_setup_to_string (su), FALSE, error))
          goto fail;
    } else if (strcmp (k, "rtpmap") == 0 && rtp) {
      MediaSdpCodec *c;
      if (!parse_leading_uint (v, 127, &n, &rest))
        FAIL (MEDIA_SDP_ERROR_INVALID, "m-line %u: bad a=rtpmap", index);
      if ((c = section_codec (s, n)) == NULL)
        continue;              /* a map for a format not on the m-line: ignored */
      if (c->encoding != NULL || !parse_rtpmap (rest, c))
        FAIL (MEDIA_SDP_ERROR_INVALID, "m-line %u: bad or repeated a=rtpmap:%u", index, (guint) n);
    } else if (strcmp (k, "fmtp") == 0 && rtp) {
      MediaSdpCodec *c;
      if (!parse_leading_uint (v, 127, &n, &rest) || (c = section_codec (s, n)) == NULL)
        continue;
      if (c->fmtp != NULL || !is_printable (rest, MAX_FMTP))
        FAIL (MEDIA_SDP_ERROR_INVALID, "m-line %u: bad or repeated a=fmtp:%u", index, (guint) n);
      c->fmtp = g_strdup (rest);
    } else if (strcmp (k, "rtcp-fb") == 0 && rtp) {
      gboolean wildcard = g_str_has_prefix (v, "* ");
      if (!wildcard && !parse_leading_uint (v, 127, &n, &rest))
        continue;
      if (wildcard)
        rest = v + 2;
      if (!is_printable (rest, MAX_TOKEN))
        continue;
      for (guint j = 0; j < s->codecs->len; j++) {
        MediaSdpCodec *c = g_ptr_array_index (s->codecs, j);
        if ((wildcard || c->payload_type == n) && c->rtcp_fb->len < 32)
          g_ptr_array_add (c->rtcp_fb, g_strdup (rest));
      }
    } else if (strcmp (k, "extmap") == 0) {
      MediaSdpExtmap *e;
      const gchar *sp = strchr (v, ' '), *slash = strchr (v, '/');
      gsize idlen = (slash && (!sp || slash < sp)) ? (gsize) (slash - v) : sp ? (gsize) (sp - v) : 0;
      g_autofree gchar *uri = NULL;
      /* RFC 8285 §8: id[/direction] URI [attributes] */
      if (sp == NULL || !parse_uint (v, idlen, 255, &n) || n == 0)
        FAIL (MEDIA_SDP_ERROR_INVALID, "m-line %u: bad a=extmap", index);
      rest = sp + 1;
      sp = strchr (rest, ' ');
      uri = sp ? g_strndup (rest, sp - rest) : g_strdup (rest);
      if (*uri == '\0' || !is_printable (uri, 256))
        FAIL (MEDIA_SDP_ERROR_INVALID, "m-line %u: bad a=extmap URI", index);
      for (guint j = 0; j < s->extmaps->len; j++)
        if (((MediaSdpExtmap *) g_ptr_array_index (s->extmaps, j))->id == n)
          FAIL (MEDIA_SDP_ERROR_INVALID, "m-line %u: a=extmap id %u twice", index, (guint) n);
      e = g_new0 (MediaSdpExtmap, 1);
      e->id = (guint8) n;
      e->uri = g_steal_pointer (&uri);
      g_ptr_array_add (s->extmaps, e);
    } else if (strcmp (k, "ssrc") == 0) {
      guint32 ssrc;
      if (!parse_leading_uint (v, G_MAXUINT32, &n, &rest))
        FAIL (MEDIA_SDP_ERROR_INVALID, "m-line %u: bad a=ssrc", index);
      ssrc = (guint32) n;
      if (all_ssrcs->len < 64) {
        gboolean seen = FALSE;
        for (guint j = 0; j < all_ssrcs->len; j++)
          seen = seen || g_array_index (all_ssrcs, guint32, j) == ssrc;
        if (!seen)
          g_array_append_val (all_ssrcs, ssrc);
      }
      g_ptr_array_add (ssrc_attrs, (gpointer) v);
    } else if (strcmp (k, "ssrc-group") == 0) {
      g_auto (GStrv) p = g_strsplit (v, " ", 66);
      guint np = g_strv_length (p);
      if (np < 2 || !is_token (p[0], 32))
        FAIL (MEDIA_SDP_ERROR_INVALID, "m-line %u: bad a=ssrc-group", index);
      for (guint j = 1; j < np; j++) {
        if (!parse_uint (p[j], strlen (p[j]), G_MAXUINT32, &n))
          FAIL (MEDIA_SDP_ERROR_INVALID, "m-line %u: bad SSRC in a=ssrc-group", index);
        /* RFC 4588 §8.1 FID and RFC 5956 FEC-FR: the first is the media SSRC */
        if (j > 1 && (strcmp (p[0], "FID") == 0 || strcmp (p[0], "FEC-FR") == 0)) {
          guint32 ssrc = (guint32) n;
          g_array_append_val (secondary, ssrc);
        }
        /* Simulcast by SSRC (Chromium's legacy form, munged SDP). */
        if (strcmp (p[0], "SIM") == 0 && s->sim_ssrcs->len < MEDIA_SDP_MAX_LAYERS &&
            np - 1 <= MEDIA_SDP_MAX_LAYERS && np > 2) {
          guint32 ssrc = (guint32) n;
          g_array_append_val (s->sim_ssrcs, ssrc);
        }
      }
    } else if (strcmp (k, "rid") == 0) {
      /* RFC 8851 §10: rid-id SP rid-dir [SP rid-pt-param-list]; only the
       * send ones of a publish offer matter, bad ones are ignored. */
      g_auto (GStrv) p = g_strsplit (v, " ", 3);
      if (p[0] != NULL && p[1] != NULL && strcmp (p[1], "send") == 0 &&
          is_rid (p[0]) && send_rids->len < 16)
        g_ptr_array_add (send_rids, g_strdup (p[0]));
    } else if (strcmp (k, "simulcast") == 0) {
      simulcast = v;
    } else if (strcmp (k, "msid") == 0) {
      if (!parse_msid (v, &msid_stream, &msid_track))
        FAIL (MEDIA_SDP_ERROR_INVALID, "m-line %u: bad a=msid", index);
    } else if (strcmp (k, "candidate") == 0) {
      g_autofree gchar *full = g_strconcat ("candidate:", v, NULL);
      gchar *norm = media_sdp_normalize_candidate (full);
      if (norm && s->candidates->len < 64)
        g_ptr_array_add (s->candidates, norm);
      else
        g_free (norm);
    } else if (strcmp (k, "end-of-candidates") == 0) {
      *end_of_candidates = TRUE;
    }
  }

  /* media SSRCs: everything but FID/FEC-FR secondaries */
  for (guint i = 0; i < all_ssrcs->len; i++) {
    guint32 ssrc = g_array_index (all_ssrcs, guint32, i);
    gboolean sec = FALSE;
    for (guint j = 0; j < secondary->len; j++)
      sec = sec || g_array_index (secondary, guint32, j) == ssrc;
    if (!sec)
      g_array_append_val (s->ssrcs, ssrc);
  }
  if (s->ssrcs->len > 0) {
    guint32 first = g_array_index (s->ssrcs, guint32, 0);
    for (guint i = 0; i < ssrc_attrs->len; i++) {
      const gchar *v = g_ptr_array_index (ssrc_attrs, i), *rest;
      guint64 n;
      if (!parse_leading_uint (v, G_MAXUINT32, &n, &rest) || n != first)
        continue;
      if (g_str_has_prefix (rest, "cname:") && s->cname == NULL &&
          is_printable (rest + 6, MAX_CNAME) && rest[6] != '\0')
        s->cname = g_strdup (rest + 6);
      else if (g_str_has_prefix (rest, "msid:") && msid_stream == NULL)
        parse_msid (rest + 5, &msid_stream, &msid_track);   /* informational: ignore bad ones */
    }
  }
  s->msid_stream = msid_stream;
  s->msid_track = msid_track;
  msid_stream = msid_track = NULL;
  if (simulcast != NULL)
    parse_simulcast (simulcast, send_rids, s->rids);

  /* formats without a (sane) rtpmap: static types we do not relay, or a
   * broken dynamic one; either way nothing to negotiate */
  for (guint i = s->codecs->len; i-- > 0;)
    if (((MediaSdpCodec *) g_ptr_array_index (s->codecs, i))->encoding == NULL)
      g_ptr_array_remove_index (s->codecs, i);

  if (s->mid == NULL)
    s->mid = g_strdup_printf ("%u", index);
  s->rejected = gst_sdp_media_get_port (m) == 0 && !s->bundle_only;

  if (!s->rejected && rtp && gst_sdp_media_get_attribute_val (m, "rtcp-mux") == NULL)
    FAIL (MEDIA_SDP_ERROR_INVALID, "m-line %u: a=rtcp-mux is required", index);
  return s;

fail:
  g_free (msid_stream);
  g_free (msid_track);
  section_free (s);
  return NULL;
}

static MediaSdpSection *
find_mid (MediaSdpDescription *d, const gchar *mid)
{
  for (guint i = 0; i < d->sections->len; i++) {
    MediaSdpSection *s = g_ptr_array_index (d->sections, i);
    if (strcmp (s->mid, mid) == 0)
      return s;
  }
  return NULL;
}

/* Transport credentials and candidates are the BUNDLE-tagged section's
 * (RFC 9143 §7.2).  Chromium (balanced bundle policy) and aiortc gather a
 * socket per m-line before BUNDLE is agreed: the other sections' candidates
 * belong to transports that close once our answer arrives. */
static void
use_transport (MediaSdpDescription *d, MediaSdpSection *t)
{
  g_free (d->ice_ufrag);
  g_free (d->ice_pwd);
  d->ice_ufrag = g_strdup (t->ice_ufrag);
  d->ice_pwd = g_strdup (t->ice_pwd);
  g_ptr_array_set_size (d->candidates, 0);
  for (guint j = 0; j < t->candidates->len; j++) {
    const gchar *c = g_ptr_array_index (t->candidates, j);
    if (!g_ptr_array_find_with_equal_func (d->candidates, c, g_str_equal, NULL))
      g_ptr_array_add (d->candidates, g_strdup (c));
  }
}

/* Pre-scan for what GstSDPMessage would silently accept: NUL bytes and
 * control characters (a lone CR could smuggle a line into SDP we echo). */
static gboolean
check_bytes (const char *sdp, gsize len)
{
  for (gsize i = 0; i < len; i++) {
    guchar c = (guchar) sdp[i];
    if (c == '\r' && i + 1 < len && sdp[i + 1] == '\n')
      continue;
    if (c == '\r' && i + 1 == len)
      continue;
    if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f)
      return FALSE;
  }
  return TRUE;
}

MediaSdpDescription *
media_sdp_parse (const char *sdp, gsize len, gsize max_len, GError **error)
{
  GstSDPMessage *msg = NULL;
  MediaSdpDescription *d = NULL;
  MediaSdpSection *transport = NULL;
  Unique fp = { NULL, "fingerprint" }, setup = { NULL, "setup" };
  const gchar *session_ufrag = NULL, *session_pwd = NULL;
  g_auto (GStrv) bundle = NULL;
  guint n_media, n_live = 0, n_bundles = 0;

  g_return_val_if_fail (sdp != NULL || len == 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (len > max_len || len > G_MAXUINT)
    FAIL (MEDIA_SDP_ERROR_TOO_LARGE, "SDP of %" G_GSIZE_FORMAT " bytes, limit %" G_GSIZE_FORMAT,
          len, max_len);
  if (len < 4 || memcmp (sdp, "v=0", 3) != 0 || (sdp[3] != '\r' && sdp[3] != '\n'))
    FAIL (MEDIA_SDP_ERROR_PARSE, "SDP must start with v=0");
  if (!check_bytes (sdp, len))
    FAIL (MEDIA_SDP_ERROR_PARSE, "SDP contains NUL or control characters");
  gst_sdp_message_new (&msg);
  if (gst_sdp_message_parse_buffer ((const guint8 *) sdp, (guint) len, msg) != GST_SDP_OK)
    FAIL (MEDIA_SDP_ERROR_PARSE, "SDP does not parse");

  n_media = gst_sdp_message_medias_len (msg);
  if (n_media == 0)
    FAIL (MEDIA_SDP_ERROR_INVALID, "SDP has no m-line");
  if (n_media > MEDIA_SDP_MAX_SECTIONS)
    FAIL (MEDIA_SDP_ERROR_INVALID, "SDP has %u m-lines, limit %u", n_media, MEDIA_SDP_MAX_SECTIONS);

  d = g_new0 (MediaSdpDescription, 1);
  d->sections = g_ptr_array_new_with_free_func ((GDestroyNotify) section_free);
  d->candidates = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; i < gst_sdp_message_attributes_len (msg); i++) {
    const GstSDPAttribute *a = gst_sdp_message_get_attribute (msg, i);
    const gchar *k = a->key ? a->key : "", *v = attr_value (a);

    if (strcmp (k, "ice-ufrag") == 0 || strcmp (k, "ice-pwd") == 0) {
      gboolean ufrag = k[4] == 'u';
      const gchar **slot = ufrag ? &session_ufrag : &session_pwd;
      if (!is_ice_cred (v, ufrag ? 4 : 22, MAX_ICE_CRED) || (*slot && strcmp (*slot, v) != 0))
        FAIL (MEDIA_SDP_ERROR_INVALID, "bad or repeated session a=%s", k);
      *slot = v;
    } else if (strcmp (k, "ice-lite") == 0) {
      d->ice_lite = TRUE;
    } else if (strcmp (k, "fingerprint") == 0) {
      g_autofree gchar *hash = NULL, *hex = NULL, *both = NULL;
      if (!parse_fingerprint (v, &hash, &hex))
        FAIL (MEDIA_SDP_ERROR_INVALID, "bad session a=fingerprint");
      both = g_strconcat (hash, " ", hex, NULL);
      if (!unique_set (&fp, both, FALSE, error))
        goto fail;
    } else if (strcmp (k, "setup") == 0) {
      MediaSdpSetup su;
      if (!parse_setup (v, &su))
        FAIL (MEDIA_SDP_ERROR_INVALID, "bad session a=setup");
      if (!unique_set (&setup, media_sdp_setup_to_string (su), FALSE, error))
        goto fail;
    } else if (strcmp (k, "group") == 0 && g_str_has_prefix (v, "BUNDLE")) {
      if (v[6] != ' ' && v[6] != '\0')
        continue;
      if (++n_bundles > 1)
        FAIL (MEDIA_SDP_ERROR_INVALID, "more than one a=group:BUNDLE");
      bundle = g_strsplit (v[6] ? v + 7 : "", " ", MEDIA_SDP_MAX_SECTIONS + 2);
    } else if (strcmp (k, "end-of-candidates") == 0) {
      d->end_of_candidates = TRUE;
    }
  }

  for (guint i = 0; i < n_media; i++) {
    MediaSdpSection *s = parse_section (gst_sdp_message_get_media (msg, i), i, &fp, &setup,
                                        &d->end_of_candidates, error);
    if (s == NULL)
      goto fail;
    if (find_mid (d, s->mid)) {
      section_free (s);
      FAIL (MEDIA_SDP_ERROR_INVALID, "m-line %u: duplicate mid", i);
    }
    /* RFC 9143 §9.1.1: an SSRC names one source in the whole BUNDLE group,
     * and the room routes by it */
    for (guint j = 0; j < d->sections->len && !s->rejected; j++) {
      MediaSdpSection *o = g_ptr_array_index (d->sections, j);
      for (guint a = 0; a < s->ssrcs->len && !o->rejected; a++)
        for (guint b = 0; b < o->ssrcs->len; b++)
          if (g_array_index (s->ssrcs, guint32, a) == g_array_index (o->ssrcs, guint32, b)) {
            section_free (s);
            FAIL (MEDIA_SDP_ERROR_INVALID, "m-line %u: SSRC also used by m-line %u", i, j);
          }
    }
    g_ptr_array_add (d->sections, s);
    if (!s->rejected)
      n_live++;
    /* RFC 8839 §5.4: media-level credentials override the session's */
    if (s->ice_ufrag == NULL)
      s->ice_ufrag = g_strdup (session_ufrag);
    if (s->ice_pwd == NULL)
      s->ice_pwd = g_strdup (session_pwd);
  }

  /* RFC 9143: with several live sections all must share one BUNDLE group;
   * the first live mid of the group is the offerer's tag (the transport). */
  d->bundle = bundle != NULL;
  if (bundle) {
    if (g_strv_length (bundle) > MEDIA_SDP_MAX_SECTIONS)
      FAIL (MEDIA_SDP_ERROR_INVALID, "a=group:BUNDLE too long");
    for (guint i = 0; bundle[i]; i++) {
      MediaSdpSection *s = find_mid (d, bundle[i]);
      if (s == NULL)
        FAIL (MEDIA_SDP_ERROR_INVALID, "a=group:BUNDLE names unknown mid '%.64s'", bundle[i]);
      if (transport == NULL && !s->rejected)
        transport = s;
    }
  }
  for (guint i = 0; i < d->sections->len; i++) {
    MediaSdpSection *s = g_ptr_array_index (d->sections, i);
    if (s->rejected)
      continue;
    if (n_live > 1 && (bundle == NULL || !g_strv_contains ((const gchar *const *) bundle, s->mid)))
      FAIL (MEDIA_SDP_ERROR_INVALID, "m-line %u (mid %s) is not in the BUNDLE group", i, s->mid);
    if (s->bundle_only && (bundle == NULL || !g_strv_contains ((const gchar *const *) bundle, s->mid)))
      FAIL (MEDIA_SDP_ERROR_INVALID, "bundle-only m-line %u outside a BUNDLE group", i);
    if (transport == NULL)
      transport = s;
  }
  if (transport == NULL)
    transport = g_ptr_array_index (d->sections, 0);
  use_transport (d, transport);
  if (d->ice_ufrag == NULL || d->ice_pwd == NULL)
    FAIL (MEDIA_SDP_ERROR_INVALID, "no ICE ufrag/pwd");

  if (fp.value == NULL)
    FAIL (MEDIA_SDP_ERROR_INVALID, "no DTLS fingerprint");
  {
    const gchar *sp = strchr (fp.value, ' ');
    d->fingerprint_hash = g_strndup (fp.value, sp - fp.value);
    d->fingerprint = g_strdup (sp + 1);
  }
  d->setup = MEDIA_SDP_SETUP_ACTIVE;    /* RFC 4145 §4: absent means active */
  if (setup.value)
    parse_setup (setup.value, &d->setup);

  g_free (fp.value);
  g_free (setup.value);
  gst_sdp_message_free (msg);
  return d;

fail:
  g_free (fp.value);
  g_free (setup.value);
  if (msg)
    gst_sdp_message_free (msg);
  media_sdp_description_free (d);
  return NULL;
}

/* ------------------------------------------------------------ negotiation */

MediaSdpSetup
media_sdp_answer_setup (MediaSdpSetup offered, MediaSdpSetup preferred)
{
  switch (offered) {
    case MEDIA_SDP_SETUP_ACTIVE: return MEDIA_SDP_SETUP_PASSIVE;
    case MEDIA_SDP_SETUP_PASSIVE: return MEDIA_SDP_SETUP_ACTIVE;
    case MEDIA_SDP_SETUP_ACTPASS: break;
  }
  return preferred == MEDIA_SDP_SETUP_ACTIVE ? MEDIA_SDP_SETUP_ACTIVE : MEDIA_SDP_SETUP_PASSIVE;
}

/* Value of @key in an fmtp string "a=1;b=2" (RFC 4566 §6 format-specific). */
static gchar *
fmtp_get (const gchar *fmtp, const gchar *key)
{
  g_auto (GStrv) params = NULL;

  if (fmtp == NULL)
    return NULL;
  params = g_strsplit (fmtp, ";", 64);
  for (guint i = 0; params[i]; i++) {
    gchar *p = g_strstrip (params[i]), *eq = strchr (p, '=');
    if (eq && (gsize) (eq - p) == strlen (key) && g_ascii_strncasecmp (p, key, eq - p) == 0)
      return g_strdup (g_strstrip (eq + 1));
  }
  return NULL;
}

/* H.264 rank (RFC 6184 §8.1): 0 = unusable, 3 = 42e01f, 2 = constrained
 * baseline (profile_idc 0x42 with constraint_set1), 1 = no profile-level-id
 * (webrtcbin + openh264; the default 420010 is baseline and openh264 emits
 * constrained baseline).  Only packetization-mode=1. */
static guint
h264_rank (const MediaSdpCodec *c)
{
  g_autofree gchar *mode = fmtp_get (c->fmtp, "packetization-mode");
  g_autofree gchar *plid = fmtp_get (c->fmtp, "profile-level-id");
  guint64 v;

  if (g_strcmp0 (mode, "1") != 0)
    return 0;
  if (plid == NULL)
    return 1;
  if (strlen (plid) != 6 || !g_ascii_isxdigit (plid[0]))
    return 0;
  v = g_ascii_strtoull (plid, NULL, 16);
  if (v == 0x42e01f)
    return 3;
  if ((v >> 16) == 0x42 && ((v >> 8) & 0x40))
    return 2;
  return 0;
}

static gboolean
codec_is (const MediaSdpCodec *c, const gchar *enc, guint clock, guint channels)
{
  return g_ascii_strcasecmp (c->encoding, enc) == 0 && c->clock_rate == clock &&
         (channels == 0 || c->channels == channels);
}

/* RFC 5761 §4: with rtcp-mux, PTs 64..95 look like RTCP 192..223. */
static gboolean
pt_usable (const MediaSdpCodec *c)
{
  return c->payload_type < 64 || c->payload_type > 95;
}

/* The codec we relay for @s, or NULL. */
static const MediaSdpCodec *
choose_codec (const MediaSdpSection *s)
{
  const MediaSdpCodec *best = NULL;
  guint best_rank = 0;

  for (guint i = 0; i < s->codecs->len; i++) {
    const MediaSdpCodec *c = g_ptr_array_index (s->codecs, i);
    guint rank = 0;

    if (!pt_usable (c))
      continue;
    if (strcmp (s->kind, "audio") == 0 && codec_is (c, "opus", 48000, 2))
      return c;
    if (strcmp (s->kind, "video") == 0) {
      if (codec_is (c, "VP8", 90000, 0))
        return c;
      if (codec_is (c, "H264", 90000, 0))
        rank = h264_rank (c);
      if (rank > best_rank) {
        best = c;
        best_rank = rank;
      }
    }
  }
  return best;
}

/* The chosen copy keeps only the feedback we answer. */
static MediaSdpCodec *
codec_for_relay (const MediaSdpCodec *offered, const gchar *kind)
{
  MediaSdpCodec *c = media_sdp_codec_copy (offered);

  for (guint i = c->rtcp_fb->len; i-- > 0;) {
    const gchar *fb = g_ptr_array_index (c->rtcp_fb, i);
    gboolean dup = FALSE;
    for (guint j = 0; j < i; j++)
      dup = dup || strcmp (fb, g_ptr_array_index (c->rtcp_fb, j)) == 0;
    if (strcmp (kind, "video") != 0 || !str_in (fb, allowed_video_fb) || dup)
      g_ptr_array_remove_index (c->rtcp_fb, i);
  }
  return c;
}

/* ----------------------------------------------------------------- writing */

static gboolean
check_local (const MediaSdpLocal *local, GError **error)
{
  g_autofree gchar *hash = NULL, *hex = NULL, *fp = NULL;

  if (local == NULL || !is_ice_cred (local->ice_ufrag, 4, MAX_ICE_CRED) ||
      !is_ice_cred (local->ice_pwd, 22, MAX_ICE_CRED) || local->fingerprint == NULL)
    goto fail;
  fp = g_strconcat ("sha-256 ", local->fingerprint, NULL);
  if (!parse_fingerprint (fp, &hash, &hex))
    goto fail;
  for (guint i = 0; local->candidates && local->candidates[i]; i++) {
    g_autofree gchar *c = media_sdp_normalize_candidate (local->candidates[i]);
    if (c == NULL)
      goto fail;
  }
  return TRUE;

fail:
  g_set_error (error, MEDIA_SDP_ERROR, MEDIA_SDP_ERROR_INVALID,
               "bad local ICE credentials, fingerprint or candidate");
  return FALSE;
}

static GstSDPMessage *
message_new (const MediaSdpLocal *local)
{
  GstSDPMessage *msg;
  g_autofree gchar *id = g_strdup_printf ("%" G_GUINT64_FORMAT, local->session_id);
  g_autofree gchar *version = g_strdup_printf ("%" G_GUINT64_FORMAT, local->session_version);

  gst_sdp_message_new (&msg);
  gst_sdp_message_set_version (msg, "0");
  gst_sdp_message_set_origin (msg, "-", id, version, "IN", "IP4", "127.0.0.1");
  gst_sdp_message_set_session_name (msg, "-");
  gst_sdp_message_add_time (msg, "0", "0", NULL);
  return msg;
}

/* Where the shared transport is: the first candidate's address, else the
 * RFC 8840 §4.1.1 placeholder 0.0.0.0:9. */
typedef struct {
  gchar *addrtype, *address;
  guint port;
} Connection;

static void
connection_init (Connection *conn, const MediaSdpLocal *local)
{
  g_autofree gchar *first = NULL;

  if (local->candidates && local->candidates[0])
    first = media_sdp_normalize_candidate (local->candidates[0]);
  if (first == NULL || !candidate_address (first, &conn->addrtype, &conn->address, &conn->port)) {
    conn->addrtype = g_strdup ("IP4");
    conn->address = g_strdup ("0.0.0.0");
    conn->port = 9;
  }
}

static void
connection_clear (Connection *conn)
{
  g_free (conn->addrtype);
  g_free (conn->address);
}

/* ICE, DTLS and mux attributes of a live section; candidates in the first. */
static void
add_transport (GstSDPMedia *m, const MediaSdpLocal *local, MediaSdpSetup setup,
               gboolean rtcp_rsize, gboolean first)
{
  g_autofree gchar *fp = g_strconcat ("sha-256 ", local->fingerprint, NULL);

  gst_sdp_media_add_attribute (m, "ice-ufrag", local->ice_ufrag);
  gst_sdp_media_add_attribute (m, "ice-pwd", local->ice_pwd);
  gst_sdp_media_add_attribute (m, "ice-options", "trickle");
  gst_sdp_media_add_attribute (m, "fingerprint", fp);
  gst_sdp_media_add_attribute (m, "setup", media_sdp_setup_to_string (setup));
  gst_sdp_media_add_attribute (m, "rtcp-mux", NULL);
  if (rtcp_rsize)
    gst_sdp_media_add_attribute (m, "rtcp-rsize", NULL);
  if (!first)
    return;
  for (guint i = 0; local->candidates && local->candidates[i]; i++) {
    g_autofree gchar *c = media_sdp_normalize_candidate (local->candidates[i]);
    gst_sdp_media_add_attribute (m, "candidate", c + strlen ("candidate:"));
  }
  if (local->end_of_candidates)
    gst_sdp_media_add_attribute (m, "end-of-candidates", NULL);
}

/* rtpmap, fmtp and rtcp-fb of one codec. */
static void
add_codec (GstSDPMedia *m, const MediaSdpCodec *c, const gchar *fmtp, const GPtrArray *fb)
{
  g_autofree gchar *pt = g_strdup_printf ("%u", c->payload_type);
  g_autofree gchar *map = c->channels
    ? g_strdup_printf ("%u %s/%u/%u", c->payload_type, c->encoding, c->clock_rate, c->channels)
    : g_strdup_printf ("%u %s/%u", c->payload_type, c->encoding, c->clock_rate);

  gst_sdp_media_add_format (m, pt);
  gst_sdp_media_add_attribute (m, "rtpmap", map);
  if (fmtp && *fmtp) {
    g_autofree gchar *v = g_strdup_printf ("%u %s", c->payload_type, fmtp);
    gst_sdp_media_add_attribute (m, "fmtp", v);
  }
  for (guint i = 0; fb && i < fb->len; i++) {
    g_autofree gchar *v = g_strdup_printf ("%u %s", c->payload_type,
                                           (const gchar *) g_ptr_array_index (fb, i));
    gst_sdp_media_add_attribute (m, "rtcp-fb", v);
  }
}

/* For H.264 the answer keeps the parameters that describe what we accept;
 * sprop-parameter-sets describe the offerer's own stream (RFC 6184 §8.2.2). */
static gchar *
answer_fmtp (const MediaSdpCodec *c)
{
  GString *s;
  static const gchar *const keep[] = {
    "level-asymmetry-allowed", "packetization-mode", "profile-level-id", NULL,
  };

  if (g_ascii_strcasecmp (c->encoding, "H264") != 0)
    return g_strdup (c->fmtp);
  s = g_string_new (NULL);
  for (guint i = 0; keep[i]; i++) {
    g_autofree gchar *v = fmtp_get (c->fmtp, keep[i]);
    if (v)
      g_string_append_printf (s, "%s%s=%s", s->len ? ";" : "", keep[i], v);
  }
  return g_string_free (s, s->len == 0);
}

static void
add_extmaps (GstSDPMedia *m, const GPtrArray *extmaps)
{
  for (guint i = 0; extmaps && i < extmaps->len; i++) {
    const MediaSdpExtmap *e = g_ptr_array_index (extmaps, i);
    if (e->id > 0 && str_in (e->uri, allowed_extmaps)) {
      g_autofree gchar *v = g_strdup_printf ("%u %s", e->id, e->uri);
      gst_sdp_media_add_attribute (m, "extmap", v);
    }
  }
}

/* RFC 8853 §5.3: the answer mirrors the offered send streams as recv. */
static void
add_simulcast_recv (GstSDPMedia *m, const MediaSdpSection *s)
{
  GString *list = g_string_new ("recv ");

  for (guint i = 0; i < s->extmaps->len; i++) {
    const MediaSdpExtmap *e = g_ptr_array_index (s->extmaps, i);
    if (strcmp (e->uri, RID_EXTMAP_URI) == 0) {
      g_autofree gchar *v = g_strdup_printf ("%u %s", e->id, e->uri);
      gst_sdp_media_add_attribute (m, "extmap", v);
    }
  }
  for (guint i = 0; i < s->rids->len; i++) {
    const gchar *rid = g_ptr_array_index (s->rids, i);
    g_autofree gchar *v = g_strdup_printf ("%s recv", rid);
    gst_sdp_media_add_attribute (m, "rid", v);
    g_string_append_printf (list, "%s%s", i > 0 ? ";" : "", rid);
  }
  gst_sdp_media_add_attribute (m, "simulcast", list->str);
  g_string_free (list, TRUE);
}

static void
add_media (GstSDPMessage *msg, GstSDPMedia *m)
{
  gst_sdp_message_add_media (msg, m);   /* copies */
  gst_sdp_media_free (m);
}

static gchar *
message_finish (GstSDPMessage *msg)
{
  gchar *text = gst_sdp_message_as_text (msg);
  gst_sdp_message_free (msg);
  return text;
}

/* An answer's rejected section (RFC 8829 §5.3.1): port 0 and the mid.
 * The proto and one format are copied, because an m-line needs them.
 * Peers check rejected sections too: webrtcbin 1.22 wants a media-level
 * a=setup on every section, aiortc 1.4 rtcp-mux on every audio/video one
 * (ICE credentials it takes from the session level, answer_session_transport). */
static void
answer_rejected_section (GstSDPMedia *m, const MediaSdpSection *s, MediaSdpSetup setup)
{
  gst_sdp_media_set_port_info (m, 0, 1);
  gst_sdp_media_set_proto (m, s->proto[0] ? s->proto : "UDP/TLS/RTP/SAVPF");
  gst_sdp_media_add_format (m, s->formats[0] ? s->formats[0] : "0");
  gst_sdp_media_add_connection (m, "IN", "IP4", "0.0.0.0", 0, 0);
  gst_sdp_media_add_attribute (m, "mid", s->mid);
  gst_sdp_media_add_attribute (m, "setup", media_sdp_setup_to_string (setup));
  if (is_rtp_proto (s->proto))
    gst_sdp_media_add_attribute (m, "rtcp-mux", NULL);
}

/* Session-level copies of an answer's transport (RFC 8839 §5.4, RFC 8122
 * §5): aiortc 1.4 wants ICE credentials and a setup role on every
 * m-section, rejected ones included, and reads them from here for those. */
static void
answer_session_transport (GstSDPMessage *msg, const MediaSdpLocal *local, MediaSdpSetup setup)
{
  g_autofree gchar *fp = g_strconcat ("sha-256 ", local->fingerprint, NULL);

  gst_sdp_message_add_attribute (msg, "ice-ufrag", local->ice_ufrag);
  gst_sdp_message_add_attribute (msg, "ice-pwd", local->ice_pwd);
  gst_sdp_message_add_attribute (msg, "fingerprint", fp);
  gst_sdp_message_add_attribute (msg, "setup", media_sdp_setup_to_string (setup));
}

gchar *
media_sdp_create_publish_answer (MediaSdpDescription *offer, const MediaSdpLocal *local,
                                 GError **error)
{
  GstSDPMessage *msg;
  Connection conn;
  GString *group;
  MediaSdpSection *tag = NULL;
  MediaSdpSetup setup;

  g_return_val_if_fail (offer != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);
  if (!check_local (local, error))
    return NULL;

  for (guint i = 0; i < offer->sections->len; i++) {
    MediaSdpSection *s = g_ptr_array_index (offer->sections, i);
    const MediaSdpCodec *c = NULL;

    g_clear_pointer (&s->chosen, media_sdp_codec_free);
    if (!s->rejected && (s->direction == MEDIA_SDP_SENDRECV || s->direction == MEDIA_SDP_SENDONLY) &&
        is_srtp_proto (s->proto))
      c = choose_codec (s);
    if (c)
      s->chosen = codec_for_relay (c, s->kind);
    if (s->chosen && tag == NULL)
      tag = s;
  }
  if (tag == NULL) {
    g_set_error (error, MEDIA_SDP_ERROR, MEDIA_SDP_ERROR_NO_CODEC,
                 "no offered m-line sends Opus, VP8 or H.264 (packetization-mode=1)");
    return NULL;
  }

  /* we rejected the offerer's tag: the transport moves (RFC 9143 §7.3.2) */
  use_transport (offer, tag);
  setup = media_sdp_answer_setup (offer->setup, local->setup);
  connection_init (&conn, local);
  msg = message_new (local);
  group = g_string_new ("BUNDLE");
  for (guint i = 0; i < offer->sections->len; i++) {
    MediaSdpSection *s = g_ptr_array_index (offer->sections, i);
    GstSDPMedia *m;

    gst_sdp_media_new (&m);
    gst_sdp_media_set_media (m, s->kind);
    if (s->chosen == NULL) {
      answer_rejected_section (m, s, setup);
      add_media (msg, m);
      continue;
    }
    g_autofree gchar *fmtp = answer_fmtp (s->chosen);
    gst_sdp_media_set_port_info (m, conn.port, 1);
    gst_sdp_media_set_proto (m, s->proto);
    gst_sdp_media_add_connection (m, "IN", conn.addrtype, conn.address, 0, 0);
    gst_sdp_media_add_attribute (m, "mid", s->mid);
    gst_sdp_media_add_attribute (m, "recvonly", NULL);
    add_transport (m, local, setup, s->rtcp_rsize, s == tag);
    add_codec (m, s->chosen, fmtp, s->chosen->rtcp_fb);
    add_extmaps (m, s->extmaps);
    if (s->rids->len > 0)
      add_simulcast_recv (m, s);
    add_media (msg, m);
    g_string_append_printf (group, " %s", s->mid);
  }
  /* Only answer a BUNDLE group the offer had (RFC 9143 §7.3). */
  if (offer->bundle)
    gst_sdp_message_add_attribute (msg, "group", group->str);
  answer_session_transport (msg, local, setup);
  g_string_free (group, TRUE);
  connection_clear (&conn);
  return message_finish (msg);
}

/* Placeholder codec of an inactive slot that has none (a port-0 m-line
 * still needs a format). */
static const MediaSdpCodec *
placeholder_codec (const gchar *kind)
{
  static const MediaSdpCodec opus = { 111, (gchar *) "opus", 48000, 2, NULL, NULL };
  static const MediaSdpCodec vp8 = { 96, (gchar *) "VP8", 90000, 0, NULL, NULL };
  return strcmp (kind, "audio") == 0 ? &opus : &vp8;
}

static gboolean
codec_valid (const MediaSdpCodec *c)
{
  return c->payload_type <= 127 && is_token (c->encoding, 32) && c->clock_rate > 0 &&
         c->channels <= 255 && (c->fmtp == NULL || is_printable (c->fmtp, MAX_FMTP));
}

gboolean
media_sdp_codec_equal (const MediaSdpCodec *a, const MediaSdpCodec *b)
{
  return g_ascii_strcasecmp (a->encoding, b->encoding) == 0 && a->clock_rate == b->clock_rate &&
         a->channels == b->channels && g_strcmp0 (a->fmtp, b->fmtp) == 0;
}

/* Tracks of one offer must be well formed, and the bundled ones must agree
 * on payload types and extension ids: a BUNDLE group is one RTP session
 * (RFC 9143 §9.1.2, §9.1.4), and Chromium refuses an offer where a PT or an
 * extmap id means two things. */
static gboolean
check_tracks (const MediaSdpOfferTrack *tracks, guint n_tracks, GError **error)
{
  if (n_tracks == 0 || n_tracks > MEDIA_SDP_MAX_SECTIONS)
    FAIL (MEDIA_SDP_ERROR_INVALID, "a subscribe offer needs 1..%u tracks", MEDIA_SDP_MAX_SECTIONS);
  for (guint i = 0; i < n_tracks; i++) {
    const MediaSdpOfferTrack *t = &tracks[i];

    if (!is_token (t->mid, 32) || (g_strcmp0 (t->kind, "audio") != 0 && g_strcmp0 (t->kind, "video") != 0))
      FAIL (MEDIA_SDP_ERROR_INVALID, "track %u: bad mid or kind", i);
    if ((t->active && t->codec == NULL) || (t->codec && !codec_valid (t->codec)))
      FAIL (MEDIA_SDP_ERROR_INVALID, "track %u: missing or bad codec", i);
    if ((t->cname && !is_word (t->cname, MAX_CNAME)) ||
        (t->msid_stream && !is_word (t->msid_stream, MAX_MSID_ID)) ||
        (t->msid_track && !is_word (t->msid_track, MAX_MSID_ID)))
      FAIL (MEDIA_SDP_ERROR_INVALID, "track %u: bad cname or msid", i);
    for (guint j = 0; j < i; j++) {
      const MediaSdpOfferTrack *u = &tracks[j];
      if (strcmp (t->mid, u->mid) == 0)
        FAIL (MEDIA_SDP_ERROR_INVALID, "track %u: duplicate mid %s", i, t->mid);
      if (!t->active || !u->active)
        continue;
      if (t->ssrc == u->ssrc)
        FAIL (MEDIA_SDP_ERROR_INVALID, "SSRC %u used by mids %s and %s", t->ssrc, t->mid, u->mid);
      if (t->codec->payload_type == u->codec->payload_type && !media_sdp_codec_equal (t->codec, u->codec))
        FAIL (MEDIA_SDP_ERROR_INVALID, "payload type %u means %s in mid %s and %s in mid %s",
              t->codec->payload_type, t->codec->encoding, t->mid, u->codec->encoding, u->mid);
      for (guint a = 0; t->extmaps && a < t->extmaps->len; a++)
        for (guint b = 0; u->extmaps && b < u->extmaps->len; b++) {
          const MediaSdpExtmap *x = g_ptr_array_index (t->extmaps, a);
          const MediaSdpExtmap *y = g_ptr_array_index (u->extmaps, b);
          if (!str_in (x->uri, allowed_extmaps) || !str_in (y->uri, allowed_extmaps))
            continue;
          if ((x->id == y->id) != (strcmp (x->uri, y->uri) == 0))
            FAIL (MEDIA_SDP_ERROR_INVALID, "extmap id %u / %s differs between mids %s and %s",
                  x->id, x->uri, t->mid, u->mid);
        }
    }
  }
  return TRUE;

fail:
  return FALSE;
}

gchar *
media_sdp_create_subscribe_offer (const MediaSdpOfferTrack *tracks, guint n_tracks,
                                  const MediaSdpLocal *local, GError **error)
{
  GstSDPMessage *msg;
  Connection conn;
  GString *group;
  gboolean first = TRUE;
  g_autoptr (GPtrArray) video_fb = g_ptr_array_new ();

  g_return_val_if_fail (tracks != NULL || n_tracks == 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);
  if (!check_local (local, error) || !check_tracks (tracks, n_tracks, error))
    return NULL;

  for (guint i = 0; allowed_video_fb[i]; i++)
    g_ptr_array_add (video_fb, (gpointer) allowed_video_fb[i]);
  connection_init (&conn, local);
  msg = message_new (local);
  group = g_string_new ("BUNDLE");
  for (guint i = 0; i < n_tracks; i++) {
    const MediaSdpOfferTrack *t = &tracks[i];
    const MediaSdpCodec *c = t->codec ? t->codec : placeholder_codec (t->kind);
    gboolean video = strcmp (t->kind, "video") == 0;
    GstSDPMedia *m;

    /* An inactive slot stays in the BUNDLE group on the shared port: were
     * it rejected (port 0), Chromium would drop the bundle transport when
     * the slot is the BUNDLE tag, or when every slot is inactive, and build
     * a new one on the next offer (JSEP §5.2.2; RFC 9143 §7.2). */
    gst_sdp_media_new (&m);
    gst_sdp_media_set_media (m, t->kind);
    gst_sdp_media_set_port_info (m, conn.port, 1);
    gst_sdp_media_set_proto (m, "UDP/TLS/RTP/SAVPF");
    gst_sdp_media_add_connection (m, "IN", conn.addrtype, conn.address, 0, 0);
    gst_sdp_media_add_attribute (m, "mid", t->mid);
    gst_sdp_media_add_attribute (m, t->active ? "sendonly" : "inactive", NULL);
    add_transport (m, local, local->setup, TRUE, first);
    add_codec (m, c, c->fmtp, video ? video_fb : NULL);
    if (t->active) {
      g_autofree gchar *msid = g_strdup_printf ("%s %s", t->msid_stream ? t->msid_stream : "-",
                                                t->msid_track ? t->msid_track : t->mid);
      g_autofree gchar *cname = g_strdup_printf ("%u cname:%s", t->ssrc,
                                                 t->cname ? t->cname : "cau");
      g_autofree gchar *ssrc_msid = g_strdup_printf ("%u msid:%s", t->ssrc, msid);

      add_extmaps (m, t->extmaps);
      gst_sdp_media_add_attribute (m, "msid", msid);
      gst_sdp_media_add_attribute (m, "ssrc", cname);
      gst_sdp_media_add_attribute (m, "ssrc", ssrc_msid);
    }
    g_string_append_printf (group, " %s", t->mid);
    first = FALSE;
    add_media (msg, m);
  }
  gst_sdp_message_add_attribute (msg, "group", group->str);
  gst_sdp_message_add_attribute (msg, "msid-semantic", "WMS *");
  g_string_free (group, TRUE);
  connection_clear (&conn);
  return message_finish (msg);
}

/* ------------------------------------------------------- subscribe answer */

static MediaSdpDescription *
parse_answer (const char *sdp, gsize len, gsize max_len, guint n_offered,
              const gchar *const *offered_mids, const MediaSdpOfferTrack *tracks, GError **error)
{
  MediaSdpDescription *d = media_sdp_parse (sdp, len, max_len, error);

  if (d == NULL)
    return NULL;
  if (d->setup == MEDIA_SDP_SETUP_ACTPASS)
    FAIL (MEDIA_SDP_ERROR_INVALID, "an answer cannot be a=setup:actpass (RFC 5763 §5)");
  if (d->sections->len != n_offered)
    FAIL (MEDIA_SDP_ERROR_INVALID, "answer has %u m-lines, offer had %u", d->sections->len, n_offered);
  for (guint i = 0; i < n_offered; i++) {
    MediaSdpSection *s = g_ptr_array_index (d->sections, i);
    const MediaSdpOfferTrack *t = tracks ? &tracks[i] : NULL;
    const gchar *mid = t ? t->mid : offered_mids[i];

    if (g_strcmp0 (s->mid, mid) != 0)
      FAIL (MEDIA_SDP_ERROR_INVALID, "m-line %u: mid %s, offered %s", i, s->mid, mid);
    if (t && g_strcmp0 (s->kind, t->kind) != 0)
      FAIL (MEDIA_SDP_ERROR_INVALID, "m-line %u: kind changed", i);
    if (s->rejected)
      continue;
    /* An inactive slot must be answered inactive (RFC 3264 §6.1). */
    if (t && !t->active && s->direction != MEDIA_SDP_INACTIVE)
      FAIL (MEDIA_SDP_ERROR_INVALID, "m-line %u: inactive slot answered as %s", i,
            media_sdp_direction_to_string (s->direction));
    if (t && !t->active)
      continue;
    if (s->direction != MEDIA_SDP_RECVONLY && s->direction != MEDIA_SDP_INACTIVE)
      FAIL (MEDIA_SDP_ERROR_INVALID, "m-line %u: answer is %s, offer was sendonly", i,
            media_sdp_direction_to_string (s->direction));
    if (s->direction == MEDIA_SDP_INACTIVE && s->codecs->len == 0)
      continue;
    if (s->codecs->len == 0)
      FAIL (MEDIA_SDP_ERROR_INVALID, "m-line %u: no codec in the answer", i);
    if (t) {
      /* RFC 3264 §6.1: the answer lists a subset of the offered formats */
      for (guint j = 0; j < s->codecs->len; j++) {
        const MediaSdpCodec *c = g_ptr_array_index (s->codecs, j);
        if (c->payload_type != t->codec->payload_type ||
            g_ascii_strcasecmp (c->encoding, t->codec->encoding) != 0 ||
            c->clock_rate != t->codec->clock_rate)
          FAIL (MEDIA_SDP_ERROR_INVALID, "m-line %u: answered codec %u %s was not offered",
                i, c->payload_type, c->encoding);
      }
    }
    s->chosen = media_sdp_codec_copy (g_ptr_array_index (s->codecs, 0));
  }
  return d;

fail:
  media_sdp_description_free (d);
  return NULL;
}

MediaSdpDescription *
media_sdp_parse_subscribe_answer (const char *sdp, gsize len, gsize max_len, guint n_offered,
                                  const gchar *const *offered_mids, GError **error)
{
  g_return_val_if_fail (offered_mids != NULL || n_offered == 0, NULL);
  for (guint i = 0; i < n_offered; i++)
    g_return_val_if_fail (offered_mids[i] != NULL, NULL);
  return parse_answer (sdp, len, max_len, n_offered, offered_mids, NULL, error);
}

MediaSdpDescription *
media_sdp_parse_subscribe_answer_for_tracks (const char *sdp, gsize len, gsize max_len,
                                             const MediaSdpOfferTrack *tracks, guint n_tracks,
                                             GError **error)
{
  g_return_val_if_fail (tracks != NULL || n_tracks == 0, NULL);
  if (!check_tracks (tracks, n_tracks, error))
    return NULL;
  return parse_answer (sdp, len, max_len, n_tracks, NULL, tracks, error);
}

/* ------------------------------------------------------------ WHEP view */

/* choose_codec, but H.264 first when @video_encoding says so and it is
 * offered. */
static const MediaSdpCodec *
choose_view_codec (const MediaSdpSection *s, const gchar *video_encoding)
{
  const MediaSdpCodec *best = NULL;
  guint best_rank = 0;

  if (strcmp (s->kind, "video") != 0 || g_strcmp0 (video_encoding, "H264") != 0)
    return choose_codec (s);
  for (guint i = 0; i < s->codecs->len; i++) {
    const MediaSdpCodec *c = g_ptr_array_index (s->codecs, i);
    guint rank = pt_usable (c) && codec_is (c, "H264", 90000, 0) ? h264_rank (c) : 0;

    if (rank > best_rank) {
      best = c;
      best_rank = rank;
    }
  }
  return best != NULL ? best : choose_codec (s);
}

gchar *
media_sdp_create_view_answer (MediaSdpDescription *offer, const MediaSdpLocal *local,
                              const MediaSdpViewSend *sends, const gchar *video_encoding,
                              GError **error)
{
  GstSDPMessage *msg;
  Connection conn;
  GString *group;
  MediaSdpSection *tag = NULL;
  MediaSdpSetup setup;

  g_return_val_if_fail (offer != NULL && sends != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);
  if (!check_local (local, error))
    return NULL;

  for (guint i = 0; i < offer->sections->len; i++) {
    MediaSdpSection *s = g_ptr_array_index (offer->sections, i);
    const MediaSdpCodec *c = NULL;

    g_clear_pointer (&s->chosen, media_sdp_codec_free);
    if (!s->rejected && (s->direction == MEDIA_SDP_RECVONLY || s->direction == MEDIA_SDP_SENDRECV) &&
        is_srtp_proto (s->proto) && sends[i].ssrc != 0)
      c = choose_view_codec (s, video_encoding);
    if (c)
      s->chosen = codec_for_relay (c, s->kind);
    if (s->chosen && tag == NULL)
      tag = s;
  }
  if (tag == NULL) {
    g_set_error (error, MEDIA_SDP_ERROR, MEDIA_SDP_ERROR_NO_CODEC,
                 "no offered m-line receives Opus, VP8 or H.264 (packetization-mode=1)");
    return NULL;
  }

  use_transport (offer, tag);
  setup = media_sdp_answer_setup (offer->setup, local->setup);
  connection_init (&conn, local);
  msg = message_new (local);
  group = g_string_new ("BUNDLE");
  for (guint i = 0; i < offer->sections->len; i++) {
    MediaSdpSection *s = g_ptr_array_index (offer->sections, i);
    const MediaSdpViewSend *send = &sends[i];
    GstSDPMedia *m;

    gst_sdp_media_new (&m);
    gst_sdp_media_set_media (m, s->kind);
    if (s->chosen == NULL) {
      answer_rejected_section (m, s, setup);
      add_media (msg, m);
      continue;
    }
    g_autofree gchar *fmtp = answer_fmtp (s->chosen);
    g_autofree gchar *msid = g_strdup_printf ("%s %s", send->msid_stream ? send->msid_stream : "-",
                                              send->msid_track ? send->msid_track : s->mid);
    g_autofree gchar *cname = g_strdup_printf ("%u cname:%s", send->ssrc,
                                               send->cname ? send->cname : "cau");
    g_autofree gchar *ssrc_msid = g_strdup_printf ("%u msid:%s", send->ssrc, msid);

    gst_sdp_media_set_port_info (m, conn.port, 1);
    gst_sdp_media_set_proto (m, s->proto);
    gst_sdp_media_add_connection (m, "IN", conn.addrtype, conn.address, 0, 0);
    gst_sdp_media_add_attribute (m, "mid", s->mid);
    gst_sdp_media_add_attribute (m, "sendonly", NULL);
    add_transport (m, local, setup, s->rtcp_rsize, s == tag);
    add_codec (m, s->chosen, fmtp, s->chosen->rtcp_fb);
    gst_sdp_media_add_attribute (m, "msid", msid);
    gst_sdp_media_add_attribute (m, "ssrc", cname);
    gst_sdp_media_add_attribute (m, "ssrc", ssrc_msid);
    add_media (msg, m);
    g_string_append_printf (group, " %s", s->mid);
  }
  if (offer->bundle)
    gst_sdp_message_add_attribute (msg, "group", group->str);
  gst_sdp_message_add_attribute (msg, "msid-semantic", "WMS *");
  answer_session_transport (msg, local, setup);
  g_string_free (group, TRUE);
  connection_clear (&conn);
  return message_finish (msg);
}
