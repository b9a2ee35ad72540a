/* test-rtp.c — tests for media/rtp.c.
 *
 * The packets below are shaped after what Chrome and Firefox send over a
 * WebRTC connection (after SRTP unprotect), commented field by field. */
#include <glib.h>
#include <string.h>

#include "rtp.h"

/* Opus from Chrome with three one-byte header extensions. */
static const uint8_t opus_packet[] = {
  0x90,                   /* V=2 P=0 X=1 CC=0 */
  0x6f,                   /* M=0 PT=111 (opus) */
  0x1a, 0x2b,             /* seq 6699 */
  0x00, 0x00, 0xe1, 0x40, /* timestamp 57664 */
  0x3c, 0x5f, 0x8a, 0x12, /* SSRC 0x3c5f8a12 */
  0xbe, 0xde, 0x00, 0x03, /* RFC 8285 one-byte profile, 3 words */
  0x10, 0xff,             /* id 1 L=0: ssrc-audio-level V=1 level 127 */
  0x22, 0x12, 0x34, 0x56, /* id 2 L=2: abs-send-time 0x123456 */
  0x31, 0x00, 0x05,       /* id 3 L=1: transport-wide seq 5 */
  0x00, 0x00, 0x00,       /* padding to the word boundary */
  0x78, 0x0b, 0x3e, 0x1f, /* Opus TOC (config 15, stereo=0, code 0) + frame */
  0x9a, 0x54, 0xc2, 0x01,
};

/* First packet of a VP8 key frame from Chrome, with RTP padding. */
static const uint8_t vp8_key_packet[] = {
  0xb0,                   /* V=2 P=1 X=1 CC=0 */
  0x60,                   /* M=0 PT=96 (VP8) */
  0x00, 0x01,             /* seq 1 */
  0x5a, 0x0c, 0x7f, 0x00, /* timestamp */
  0xde, 0xad, 0xbe, 0xef, /* SSRC */
  0xbe, 0xde, 0x00, 0x01, /* one-byte profile, 1 word */
  0x40, 0x30,             /* id 4 L=0: sdes:mid "0" */
  0x00, 0x00,             /* padding */
  0x90,                   /* VP8 descriptor: X=1 N=0 S=1 PID=0 */
  0x80,                   /* I=1 L=0 T=0 K=0 */
  0x80, 0x01,             /* M=1 15-bit PictureID 1 */
  0x50, 0x42, 0x00,       /* frame tag: P=0 (key), show_frame=1 */
  0x9d, 0x01, 0x2a,       /* key-frame start code (RFC 6386 §9.1) */
  0x80, 0x02, 0xe0, 0x01, /* 640 x 480 */
  0x00, 0x00, 0x03,       /* RTP padding: 3 bytes, count included */
};

/* H.264 from a mixer: two CSRCs, no extension, marker set. */
static const uint8_t h264_csrc_packet[] = {
  0x82,                   /* V=2 P=0 X=0 CC=2 */
  0xe6,                   /* M=1 PT=102 (H264) */
  0xff, 0xff,             /* seq 65535 */
  0xff, 0xff, 0xff, 0xf0, /* timestamp near wrap */
  0x00, 0x00, 0x00, 0x01, /* SSRC 1 */
  0x00, 0x00, 0x00, 0x0a, /* CSRC 10 */
  0x00, 0x00, 0x00, 0x0b, /* CSRC 11 */
  0x78,                   /* STAP-A, NRI=3 */
  0x00, 0x04,             /* NAL size 4 */
  0x67, 0x42, 0xc0, 0x1f, /* SPS: profile baseline, level 3.1 */
  0x00, 0x02,             /* NAL size 2 */
  0x68, 0xce,             /* PPS */
};

/* Two-byte extension form (RFC 8285 §4.3), as Firefox sends for long
 * RIDs: profile 0x1000, appbits 0. */
static const uint8_t two_byte_ext_packet[] = {
  0x90, 0x60, 0x00, 0x10, /* V=2 X=1, PT 96, seq 16 */
  0x00, 0x00, 0x10, 0x00, /* timestamp 4096 */
  0x11, 0x22, 0x33, 0x44, /* SSRC */
  0x10, 0x00, 0x00, 0x02, /* profile 0x1000, 2 words */
  0x00,                   /* padding byte */
  0x05, 0x00,             /* id 5, length 0 (allowed in two-byte form) */
  0x0a, 0x02, 'h', 'i',   /* id 10, length 2: rid "hi" */
  0x00,                   /* padding */
  0x01,                   /* payload */
};

static void
check_every_prefix (const uint8_t *pkt, size_t len)
{
  RtpHeader full;
  g_assert_true (rtp_parse (pkt, len, &full));
  for (size_t n = 0; n < len; n++) {
    /* a heap copy of exactly n bytes, so ASan sees any over-read */
    uint8_t *copy = g_memdup2 (pkt, n ? n : 1);
    RtpHeader h;
    bool ok = rtp_parse (n ? copy : NULL, n, &h);
    if (n < full.header_len)
      g_assert_false (ok);
    if (ok) {
      g_assert_cmpuint (h.payload_offset + h.payload_len, <=, n);
      g_assert_cmpuint (h.header_len, ==, full.header_len);
    }
    g_free (copy);
  }
}

static void
test_classify (void)
{
  /* STUN Binding request: type 0x0001, length 0, magic cookie, txid. */
  static const uint8_t stun[20] = { 0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42, 1, 2, 3,
                                    4, 5, 6, 7, 8, 9, 10, 11, 12 };
  /* DTLS 1.2 handshake record header + first bytes. */
  static const uint8_t dtls[13] = { 0x16, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x40 };
  /* RTCP RR header + sender SSRC. */
  static const uint8_t rtcp[8] = { 0x80, 0xc9, 0x00, 0x01, 0x11, 0x22, 0x33, 0x44 };
  /* TURN ChannelData 0x4000. */
  static const uint8_t turn[8] = { 0x40, 0x00, 0x00, 0x04, 1, 2, 3, 4 };

  g_assert_cmpint (media_packet_classify (stun, sizeof stun), ==, MEDIA_PACKET_STUN);
  g_assert_cmpint (media_packet_classify (stun, 19), ==, MEDIA_PACKET_UNKNOWN);
  g_assert_cmpint (media_packet_classify (dtls, sizeof dtls), ==, MEDIA_PACKET_DTLS);
  g_assert_cmpint (media_packet_classify (dtls, 12), ==, MEDIA_PACKET_UNKNOWN);
  g_assert_cmpint (media_packet_classify (rtcp, sizeof rtcp), ==, MEDIA_PACKET_RTCP);
  g_assert_cmpint (media_packet_classify (rtcp, 7), ==, MEDIA_PACKET_UNKNOWN);
  g_assert_cmpint (media_packet_classify (opus_packet, sizeof opus_packet), ==, MEDIA_PACKET_RTP);
  g_assert_cmpint (media_packet_classify (opus_packet, 11), ==, MEDIA_PACKET_UNKNOWN);
  /* PT 96 with marker = second byte 224: RTP, not RTCP (RFC 5761 §4). */
  g_assert_cmpint (media_packet_classify (h264_csrc_packet, 12), ==, MEDIA_PACKET_RTP);
  g_assert_cmpint (media_packet_classify (turn, sizeof turn), ==, MEDIA_PACKET_UNKNOWN);
  g_assert_cmpint (media_packet_classify (NULL, 0), ==, MEDIA_PACKET_UNKNOWN);
  g_assert_cmpint (media_packet_classify (rtcp, 1), ==, MEDIA_PACKET_UNKNOWN);
}

static void
test_parse_opus (void)
{
  RtpHeader h;
  g_assert_true (rtp_parse (opus_packet, sizeof opus_packet, &h));
  g_assert_cmpuint (h.version, ==, 2);
  g_assert_false (h.padding);
  g_assert_true (h.extension);
  g_assert_cmpuint (h.csrc_count, ==, 0);
  g_assert_false (h.marker);
  g_assert_cmpuint (h.payload_type, ==, 111);
  g_assert_cmpuint (h.seq, ==, 6699);
  g_assert_cmpuint (h.timestamp, ==, 57664);
  g_assert_cmpuint (h.ssrc, ==, 0x3c5f8a12);
  g_assert_cmpuint (h.ext_profile, ==, 0xbede);
  g_assert_cmpuint (h.ext_offset, ==, 16);
  g_assert_cmpuint (h.ext_len, ==, 12);
  g_assert_cmpuint (h.header_len, ==, 28);
  g_assert_cmpuint (h.payload_offset, ==, 28);
  g_assert_cmpuint (h.payload_len, ==, 8);
  check_every_prefix (opus_packet, sizeof opus_packet);
}

static void
test_parse_padding_and_csrc (void)
{
  RtpHeader h;
  g_assert_true (rtp_parse (vp8_key_packet, sizeof vp8_key_packet, &h));
  g_assert_true (h.padding);
  g_assert_cmpuint (h.header_len, ==, 20);
  g_assert_cmpuint (h.payload_len, ==, sizeof vp8_key_packet - 20 - 3);
  check_every_prefix (vp8_key_packet, sizeof vp8_key_packet);

  g_assert_true (rtp_parse (h264_csrc_packet, sizeof h264_csrc_packet, &h));
  g_assert_cmpuint (h.csrc_count, ==, 2);
  g_assert_true (h.marker);
  g_assert_cmpuint (h.payload_type, ==, 102);
  g_assert_cmpuint (h.seq, ==, 65535);
  g_assert_cmpuint (h.header_len, ==, 20);
  g_assert_cmpuint (h.ext_profile, ==, 0);
  g_assert_cmpuint (h.payload_len, ==, 11);
  check_every_prefix (h264_csrc_packet, sizeof h264_csrc_packet);
  check_every_prefix (two_byte_ext_packet, sizeof two_byte_ext_packet);
}

static void
test_parse_malformed (void)
{
  uint8_t p[sizeof opus_packet];
  RtpHeader h;

  memcpy (p, opus_packet, sizeof p);
  p[0] = (p[0] & 0x3f) | 0x40;          /* version 1 */
  g_assert_false (rtp_parse (p, sizeof p, &h));

  memcpy (p, opus_packet, sizeof p);
  p[15] = 0x08;                         /* extension claims 8 words */
  g_assert_false (rtp_parse (p, sizeof p, &h));

  memcpy (p, opus_packet, sizeof p);
  p[0] |= 0x0f;                         /* 15 CSRCs: 72 bytes > 36 */
  g_assert_false (rtp_parse (p, sizeof p, &h));

  memcpy (p, opus_packet, sizeof p);
  p[0] |= 0x20;                         /* P=1, last byte 0x01 = count 1: ok */
  g_assert_true (rtp_parse (p, sizeof p, &h));
  g_assert_cmpuint (h.payload_len, ==, 7);
  p[sizeof p - 1] = 0;                  /* padding count 0 */
  g_assert_false (rtp_parse (p, sizeof p, &h));
  p[sizeof p - 1] = 9;                  /* more padding than payload (8) */
  g_assert_false (rtp_parse (p, sizeof p, &h));
  p[sizeof p - 1] = 8;                  /* all payload is padding: ok, empty */
  g_assert_true (rtp_parse (p, sizeof p, &h));
  g_assert_cmpuint (h.payload_len, ==, 0);

  /* P=1 with nothing after the header. */
  g_assert_false (rtp_parse ((const uint8_t[]) { 0xa0, 0x60, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1 }, 12, &h));
  /* bare 12-byte header, no payload: valid */
  g_assert_true (rtp_parse ((const uint8_t[]) { 0x80, 0x60, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1 }, 12, &h));
  g_assert_cmpuint (h.payload_len, ==, 0);
}

static void
test_roundtrip_setters (void)
{
  uint8_t p[sizeof h264_csrc_packet];
  RtpHeader h, h2;
  memcpy (p, h264_csrc_packet, sizeof p);
  g_assert_true (rtp_parse (p, sizeof p, &h));

  /* writing back what was parsed leaves the bytes unchanged */
  rtp_set_ssrc (p, h.ssrc);
  rtp_set_seq (p, h.seq);
  rtp_set_timestamp (p, h.timestamp);
  rtp_set_payload_type (p, h.payload_type);
  rtp_set_marker (p, h.marker);
  g_assert_cmpmem (p, sizeof p, h264_csrc_packet, sizeof h264_csrc_packet);

  rtp_set_ssrc (p, 0xcafebabe);
  rtp_set_seq (p, 42);
  rtp_set_timestamp (p, 0x01020304);
  rtp_set_payload_type (p, 0xff);       /* only 7 bits are kept */
  g_assert_true (rtp_parse (p, sizeof p, &h2));
  g_assert_cmpuint (h2.ssrc, ==, 0xcafebabe);
  g_assert_cmpuint (h2.seq, ==, 42);
  g_assert_cmpuint (h2.timestamp, ==, 0x01020304);
  g_assert_cmpuint (h2.payload_type, ==, 127);
  g_assert_true (h2.marker);            /* marker untouched */
  rtp_set_marker (p, false);
  g_assert_true (rtp_parse (p, sizeof p, &h2));
  g_assert_false (h2.marker);
  g_assert_cmpuint (h2.payload_type, ==, 127);
  /* header layout and payload are untouched */
  g_assert_cmpuint (h2.header_len, ==, h.header_len);
  g_assert_cmpmem (p + 12, sizeof p - 12, h264_csrc_packet + 12, sizeof p - 12);
}

static void
test_extensions (void)
{
  RtpHeader h;
  const uint8_t *d;
  size_t n;

  g_assert_true (rtp_parse (opus_packet, sizeof opus_packet, &h));
  g_assert_true (rtp_find_extension (opus_packet, &h, 1, &d, &n));
  g_assert_cmpuint (n, ==, 1);
  g_assert_cmpuint (d[0], ==, 0xff);
  g_assert_true (rtp_find_extension (opus_packet, &h, 2, &d, &n));
  g_assert_cmpuint (n, ==, 3);
  g_assert_cmpuint ((d[0] << 16) | (d[1] << 8) | d[2], ==, 0x123456);
  g_assert_true (rtp_find_extension (opus_packet, &h, 3, &d, &n));
  g_assert_cmpuint (n, ==, 2);
  g_assert_cmpuint ((d[0] << 8) | d[1], ==, 5);
  g_assert_false (rtp_find_extension (opus_packet, &h, 4, &d, &n));
  g_assert_false (rtp_find_extension (opus_packet, &h, 0, &d, &n));
  g_assert_false (rtp_find_extension (opus_packet, &h, 15, &d, &n));

  g_assert_true (rtp_parse (two_byte_ext_packet, sizeof two_byte_ext_packet, &h));
  g_assert_cmpuint (h.ext_profile, ==, 0x1000);
  g_assert_true (rtp_find_extension (two_byte_ext_packet, &h, 5, &d, &n));
  g_assert_cmpuint (n, ==, 0);
  g_assert_true (rtp_find_extension (two_byte_ext_packet, &h, 10, &d, &n));
  g_assert_cmpmem (d, n, "hi", 2);
  g_assert_false (rtp_find_extension (two_byte_ext_packet, &h, 11, &d, &n));

  /* no extension at all */
  g_assert_true (rtp_parse (h264_csrc_packet, sizeof h264_csrc_packet, &h));
  g_assert_false (rtp_find_extension (h264_csrc_packet, &h, 1, &d, &n));

  /* element running past the block; id 15 stops the walk */
  uint8_t p[sizeof opus_packet];
  memcpy (p, opus_packet, sizeof p);
  p[22] = 0x3f;                          /* id 3, L=15: 16 bytes, only 6 left */
  g_assert_true (rtp_parse (p, sizeof p, &h));
  g_assert_true (rtp_find_extension (p, &h, 2, &d, &n));
  g_assert_false (rtp_find_extension (p, &h, 3, &d, &n));
  p[18] = 0xf2;                          /* id 15 where id 2 was */
  g_assert_false (rtp_find_extension (p, &h, 2, &d, &n));
  g_assert_true (rtp_find_extension (p, &h, 1, &d, &n));

  /* unknown profile: not RFC 8285 */
  memcpy (p, opus_packet, sizeof p);
  p[12] = 0xab;
  g_assert_true (rtp_parse (p, sizeof p, &h));
  g_assert_false (rtp_find_extension (p, &h, 1, &d, &n));
}

static void
test_vp8_keyframe (void)
{
  RtpHeader h;
  g_assert_true (rtp_parse (vp8_key_packet, sizeof vp8_key_packet, &h));
  const uint8_t *pl = vp8_key_packet + h.payload_offset;
  g_assert_true (rtp_vp8_is_keyframe (pl, h.payload_len));

  /* every prefix: never reads outside, true only once the start code is in */
  for (size_t n = 0; n < h.payload_len; n++) {
    uint8_t *copy = g_memdup2 (pl, n ? n : 1);
    g_assert_cmpint (rtp_vp8_is_keyframe (copy, n), ==, n >= 10);
    g_free (copy);
  }

  uint8_t p[16];
  memcpy (p, pl, h.payload_len);
  p[0] = 0x80;                           /* S=0: a continuation */
  g_assert_false (rtp_vp8_is_keyframe (p, h.payload_len));
  p[0] = 0x91;                           /* PID=1 */
  g_assert_false (rtp_vp8_is_keyframe (p, h.payload_len));
  p[0] = 0x90;
  p[4] = 0x51;                           /* P=1: inter frame */
  g_assert_false (rtp_vp8_is_keyframe (p, h.payload_len));

  /* short descriptor without X: 10 1 0 ... */
  static const uint8_t simple[] = {
    0x10,                                /* X=0 S=1 PID=0 */
    0x50, 0x42, 0x00, 0x9d, 0x01, 0x2a,  /* key frame tag + start code */
    0x80, 0x02, 0xe0, 0x01,
  };
  g_assert_true (rtp_vp8_is_keyframe (simple, sizeof simple));
  /* X with L, T and K set and a 7-bit PictureID */
  static const uint8_t full_x[] = {
    0x90, 0xf0,                          /* X; I L T K */
    0x05,                                /* 7-bit PictureID */
    0x11,                                /* TL0PICIDX */
    0x20,                                /* TID=0 Y=1 KEYIDX=0 */
    0x50, 0x42, 0x00, 0x9d, 0x01, 0x2a,
  };
  g_assert_true (rtp_vp8_is_keyframe (full_x, sizeof full_x));
  g_assert_false (rtp_vp8_is_keyframe (full_x, sizeof full_x - 1));
  g_assert_false (rtp_vp8_is_keyframe (NULL, 0));
}

static void
test_h264_keyframe (void)
{
  RtpHeader h;
  g_assert_true (rtp_parse (h264_csrc_packet, sizeof h264_csrc_packet, &h));
  const uint8_t *pl = h264_csrc_packet + h.payload_offset;
  g_assert_true (rtp_h264_is_keyframe (pl, h.payload_len));   /* STAP-A with SPS */
  for (size_t n = 0; n < h.payload_len; n++) {
    uint8_t *copy = g_memdup2 (pl, n ? n : 1);
    g_assert_cmpint (rtp_h264_is_keyframe (copy, n), ==, n >= 7);  /* SPS complete */
    g_free (copy);
  }

  static const uint8_t idr[] = { 0x65, 0x88, 0x84 };           /* single NAL, IDR */
  static const uint8_t non_idr[] = { 0x41, 0x9a, 0x02 };       /* single NAL, type 1 */
  static const uint8_t fu_start_idr[] = { 0x7c, 0x85, 0x88 };  /* FU-A, S=1, type 5 */
  static const uint8_t fu_mid_idr[] = { 0x7c, 0x05, 0x00 };    /* FU-A, S=0 */
  static const uint8_t fu_start_p[] = { 0x7c, 0x81, 0x9a };    /* FU-A, S=1, type 1 */
  static const uint8_t stap_pps_only[] = { 0x78, 0x00, 0x02, 0x68, 0xce };
  static const uint8_t stap_bad_len[] = { 0x78, 0x00, 0x09, 0x67, 0x42 };
  static const uint8_t stap_zero_len[] = { 0x78, 0x00, 0x00, 0x00, 0x01, 0x67 };
  g_assert_true (rtp_h264_is_keyframe (idr, sizeof idr));
  g_assert_false (rtp_h264_is_keyframe (non_idr, sizeof non_idr));
  g_assert_true (rtp_h264_is_keyframe (fu_start_idr, sizeof fu_start_idr));
  g_assert_false (rtp_h264_is_keyframe (fu_start_idr, 1));
  g_assert_false (rtp_h264_is_keyframe (fu_mid_idr, sizeof fu_mid_idr));
  g_assert_false (rtp_h264_is_keyframe (fu_start_p, sizeof fu_start_p));
  g_assert_false (rtp_h264_is_keyframe (stap_pps_only, sizeof stap_pps_only));
  g_assert_false (rtp_h264_is_keyframe (stap_bad_len, sizeof stap_bad_len));
  g_assert_false (rtp_h264_is_keyframe (stap_zero_len, sizeof stap_zero_len));
  g_assert_false (rtp_h264_is_keyframe (NULL, 0));
}

static void
test_seq_newer (void)
{
  g_assert_true (rtp_seq_newer (1, 0));
  g_assert_false (rtp_seq_newer (0, 1));
  g_assert_false (rtp_seq_newer (5, 5));
  g_assert_true (rtp_seq_newer (0, 65535));        /* wrap */
  g_assert_true (rtp_seq_newer (10, 65000));
  g_assert_false (rtp_seq_newer (65000, 10));
  g_assert_true (rtp_ts_newer (5, 0xfffffff0u));
}

/* Builds a bare RTP packet and runs it through the rewriter. */
typedef struct {
  bool ok;
  uint16_t seq;
  uint32_t ts;
  uint32_t ssrc;
} Out;

static Out
feed (RtpRewriter *rw, uint32_t ssrc, uint16_t seq, uint32_t ts)
{
  uint8_t p[16] = { 0x80, 0x60 };
  p[2] = seq >> 8;  p[3] = seq & 0xff;
  p[4] = ts >> 24;  p[5] = ts >> 16;  p[6] = ts >> 8;  p[7] = ts & 0xff;
  p[8] = ssrc >> 24; p[9] = ssrc >> 16; p[10] = ssrc >> 8; p[11] = ssrc & 0xff;
  uint8_t orig[16];
  memcpy (orig, p, sizeof p);
  RtpHeader h;
  g_assert_true (rtp_parse (p, sizeof p, &h));
  Out o = { .ok = rtp_rewriter_apply (rw, p, &h) };
  if (!o.ok)
    g_assert_cmpmem (p, sizeof p, orig, sizeof orig);  /* untouched */
  g_assert_true (rtp_parse (p, sizeof p, &h));
  o.seq = h.seq;
  o.ts = h.timestamp;
  o.ssrc = h.ssrc;
  g_assert_cmpmem (p + 12, 4, orig + 12, 4);          /* payload untouched */
  return o;
}

static void
test_rewriter_passthrough_and_reorder (void)
{
  RtpRewriter rw;
  rtp_rewriter_init (&rw, 0xabcdef01);
  Out o = feed (&rw, 0x1111, 65534, 0xfffff000);
  g_assert_true (o.ok);
  g_assert_cmpuint (o.ssrc, ==, 0xabcdef01);
  g_assert_cmpuint (o.seq, ==, 65534);
  g_assert_cmpuint (o.ts, ==, 0xfffff000);

  /* 65535 is lost for now, 0 arrives (seq and ts wrap), then 65535 late */
  o = feed (&rw, 0x1111, 0, 0x00000770);
  g_assert_true (o.ok);
  g_assert_cmpuint (o.seq, ==, 0);
  g_assert_cmpuint (rw.last_seq_out, ==, 0);
  o = feed (&rw, 0x1111, 65535, 0xfffff000);
  g_assert_true (o.ok);
  g_assert_cmpuint (o.seq, ==, 65535);
  g_assert_cmpuint (rw.last_seq_out, ==, 0);         /* highest unchanged */
  /* duplicate of the newest is passed (the receiver drops it) */
  g_assert_true (feed (&rw, 0x1111, 0, 0x770).ok);
}

static void
test_rewriter_switch (void)
{
  RtpRewriter rw;
  rtp_rewriter_init (&rw, 7);
  for (uint16_t s = 100; s < 110; s++)
    g_assert_true (feed (&rw, 0xaaaa, s, 1000u + 3000u * (s - 100)).ok);
  g_assert_cmpuint (rw.last_seq_out, ==, 109);
  g_assert_cmpuint (rw.last_ts_out, ==, 28000);

  /* switch to another publisher with a far-away seq/ts space */
  rtp_rewriter_switch_source_with_step (&rw, 3000);
  Out o = feed (&rw, 0xbbbb, 40000, 0x90000000);
  g_assert_true (o.ok);
  g_assert_cmpuint (o.ssrc, ==, 7);
  g_assert_cmpuint (o.seq, ==, 110);
  g_assert_cmpuint (o.ts, ==, 31000);
  o = feed (&rw, 0xbbbb, 40002, 0x90000000 + 6000);
  g_assert_cmpuint (o.seq, ==, 112);
  g_assert_cmpuint (o.ts, ==, 37000);
  /* reordered, after the switch point: placed in the hole */
  o = feed (&rw, 0xbbbb, 40001, 0x90000000 + 3000);
  g_assert_true (o.ok);
  g_assert_cmpuint (o.seq, ==, 111);
  /* older than the switch point: would collide with the old source */
  g_assert_false (feed (&rw, 0xbbbb, 39999, 0x90000000 - 3000).ok);
  g_assert_cmpuint (rw.last_seq_out, ==, 112);

  /* plain switch: ts + 1 */
  rtp_rewriter_switch_source (&rw);
  o = feed (&rw, 0xcccc, 5, 77);
  g_assert_cmpuint (o.seq, ==, 113);
  g_assert_cmpuint (o.ts, ==, 37001);

  /* long after the switch, wrap-around keeps working and old-but-reordered
   * packets within half the space are still placed */
  uint16_t s = 5;
  for (unsigned i = 0; i < 70000; i++) {
    s++;
    g_assert_true (feed (&rw, 0xcccc, s, 77 + i).ok);
  }
  o = feed (&rw, 0xcccc, (uint16_t) (s - 100), 0);
  g_assert_true (o.ok);
  g_assert_cmpuint (o.seq, ==, (uint16_t) (rw.last_seq_out - 100));
  /* more than half the space behind: dropped */
  g_assert_false (feed (&rw, 0xcccc, (uint16_t) (s - 0x8000), 0).ok);
}

static void
test_rewriter_switch_at_wrap (void)
{
  RtpRewriter rw;
  rtp_rewriter_init (&rw, 9);
  g_assert_true (feed (&rw, 1, 65535, 0xffffffff).ok);
  rtp_rewriter_switch_source_with_step (&rw, 960);
  Out o = feed (&rw, 2, 65535, 100);
  g_assert_cmpuint (o.seq, ==, 0);
  g_assert_cmpuint (o.ts, ==, 959);
  o = feed (&rw, 2, 0, 1060);
  g_assert_cmpuint (o.seq, ==, 1);
  g_assert_cmpuint (o.ts, ==, 1919);
  g_assert_false (feed (&rw, 2, 65534, 0).ok);
  /* switch before any packet: behaves as a first packet */
  RtpRewriter rw2;
  rtp_rewriter_init (&rw2, 3);
  rtp_rewriter_switch_source (&rw2);
  o = feed (&rw2, 4, 1234, 5678);
  g_assert_cmpuint (o.seq, ==, 1234);
  g_assert_cmpuint (o.ts, ==, 5678);
}

/* VP8 payload descriptors as Chromium sends them (RFC 7741 §4.2):
 *   0x90        X=1, S=1, PID=0
 *   0xe0        I=1, L=1, T=1
 *   0x80 0x00+  M=1, 15-bit PictureID
 *   tl0         TL0PICIDX
 *   0x20        TID=0 Y=1 KEYIDX=0
 * then the VP8 payload header. */
static size_t
vp8_payload (uint8_t *buf, uint16_t picture_id, uint8_t tl0)
{
  buf[0] = 0x90;
  buf[1] = 0xe0;
  buf[2] = (uint8_t) (0x80 | (picture_id >> 8));
  buf[3] = (uint8_t) (picture_id & 0xff);
  buf[4] = tl0;
  buf[5] = 0x20;
  buf[6] = 0x10; /* VP8 payload header: P=0 (key frame) ... */
  buf[7] = 0x02;
  return 8;
}

static uint16_t
vp8_picture_id (const uint8_t *buf)
{
  return (uint16_t) (((buf[2] & 0x7f) << 8) | buf[3]);
}

static void
test_vp8_rewriter_switch (void)
{
  RtpVp8Rewriter rw;
  uint8_t buf[16];
  size_t n;

  rtp_vp8_rewriter_init (&rw);
  /* first source passes through */
  n = vp8_payload (buf, 30000, 200);
  g_assert_true (rtp_vp8_rewriter_apply (&rw, buf, n));
  g_assert_cmpuint (vp8_picture_id (buf), ==, 30000);
  g_assert_cmpuint (buf[4], ==, 200);
  n = vp8_payload (buf, 30001, 201);
  g_assert_true (rtp_vp8_rewriter_apply (&rw, buf, n));
  g_assert_cmpuint (vp8_picture_id (buf), ==, 30001);

  /* a new source with lower ids continues right after the last ones */
  rtp_vp8_rewriter_switch_source (&rw);
  n = vp8_payload (buf, 5, 7);
  g_assert_true (rtp_vp8_rewriter_apply (&rw, buf, n));
  g_assert_cmpuint (vp8_picture_id (buf), ==, 30002);
  g_assert_cmpuint (buf[4], ==, 202);
  g_assert_cmpuint (buf[2] & 0x80, ==, 0x80);    /* still a 15-bit id */
  g_assert_cmpuint (buf[5], ==, 0x20);           /* TID/KEYIDX untouched */
  n = vp8_payload (buf, 6, 7);
  g_assert_true (rtp_vp8_rewriter_apply (&rw, buf, n));
  g_assert_cmpuint (vp8_picture_id (buf), ==, 30003);

  /* wrap: 15-bit PictureID and 8-bit TL0PICIDX roll over */
  rtp_vp8_rewriter_switch_source (&rw);
  n = vp8_payload (buf, 0x7ffe, 255);
  g_assert_true (rtp_vp8_rewriter_apply (&rw, buf, n));
  g_assert_cmpuint (vp8_picture_id (buf), ==, 30004);
  n = vp8_payload (buf, 0x0000, 0);              /* input wraps */
  g_assert_true (rtp_vp8_rewriter_apply (&rw, buf, n));
  g_assert_cmpuint (vp8_picture_id (buf), ==, 30006);
  g_assert_cmpuint (buf[4], ==, 204);
}

static void
test_vp8_rewriter_short_and_plain (void)
{
  RtpVp8Rewriter rw;
  uint8_t buf[16];
  size_t n;
  /* no X bit: nothing to rewrite, left alone */
  uint8_t plain[3] = { 0x10, 0x00, 0x9d };

  rtp_vp8_rewriter_init (&rw);
  g_assert_true (rtp_vp8_rewriter_apply (&rw, plain, sizeof plain));
  g_assert_cmpuint (plain[0], ==, 0x10);
  g_assert_false (rtp_vp8_rewriter_apply (&rw, plain, 0));

  /* every truncated prefix of a full descriptor: refused, never read past */
  n = vp8_payload (buf, 100, 1);
  for (size_t len = 1; len < 6; len++) {
    uint8_t *copy = g_memdup2 (buf, len);

    g_assert_false (rtp_vp8_rewriter_apply (&rw, copy, len));
    g_free (copy);
  }
  g_assert_true (rtp_vp8_rewriter_apply (&rw, buf, n));

  /* 7-bit PictureID (M=0) keeps its width */
  {
    uint8_t short_pid[4] = { 0x90, 0x80, 0x7f, 0x10 };

    rtp_vp8_rewriter_switch_source (&rw);
    g_assert_true (rtp_vp8_rewriter_apply (&rw, short_pid, sizeof short_pid));
    g_assert_cmpuint (short_pid[2] & 0x80, ==, 0);
    g_assert_cmpuint (short_pid[2], ==, (101 & 0x7f));
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/media/rtp/classify", test_classify);
  g_test_add_func ("/media/rtp/parse-opus", test_parse_opus);
  g_test_add_func ("/media/rtp/parse-padding-csrc", test_parse_padding_and_csrc);
  g_test_add_func ("/media/rtp/parse-malformed", test_parse_malformed);
  g_test_add_func ("/media/rtp/roundtrip-setters", test_roundtrip_setters);
  g_test_add_func ("/media/rtp/extensions", test_extensions);
  g_test_add_func ("/media/rtp/vp8-keyframe", test_vp8_keyframe);
  g_test_add_func ("/media/rtp/h264-keyframe", test_h264_keyframe);
  g_test_add_func ("/media/rtp/seq-newer", test_seq_newer);
  g_test_add_func ("/media/rtp/rewriter-reorder", test_rewriter_passthrough_and_reorder);
  g_test_add_func ("/media/rtp/rewriter-switch", test_rewriter_switch);
  g_test_add_func ("/media/rtp/rewriter-switch-wrap", test_rewriter_switch_at_wrap);
  g_test_add_func ("/media/rtp/vp8-rewriter-switch", test_vp8_rewriter_switch);
  g_test_add_func ("/media/rtp/vp8-rewriter-short", test_vp8_rewriter_short_and_plain);
  return g_test_run ();
}
