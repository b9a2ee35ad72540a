/* signaling-priv.h — state shared by server.c, session.c and room.c.
 *
 * Everything here runs on the main (signaling) context; nothing is locked.
 *
 * Lifetimes.  The SignalingContext lives as long as the SignalingServer,
 * which main() frees only after the media engine, so media callbacks never
 * outlive it.  Media callbacks never carry session or room pointers: the
 * long-lived ones carry the context and look participants and rooms up by
 * id; the one-shot ones carry a SignalingRequest naming the session by its
 * serial number.  A session that closed in the meantime is simply not
 * found, and the answer is dropped.
 */
#pragma once

#include <jansson.h>
#include <libsoup/soup.h>

#include "api.h"
#include "policy.h"
#include "media.h"
#include "metrics.h"
#include "protocol.h"
#include "store.h"

G_BEGIN_DECLS

typedef struct SignalingSession SignalingSession;
typedef struct SignalingRoom SignalingRoom;
typedef struct SignalingRecording SignalingRecording;

typedef struct {
  MediaEngine *engine;            /* borrowed; may be NULL (no media plane) */
  RecordsStore *store;            /* borrowed; may be NULL                   */
  SignalingApi *api;              /* borrowed; NULL = no authenticated rooms */
  gboolean anonymous_rooms;       /* token-less joins of non-consultation rooms */
  guint max_participants;         /* consult rooms (never more than 12)      */
  guint max_briefing_viewers;     /* viewers of one briefing room            */
  SignalingMetrics metrics;
  GHashTable *rooms;              /* room id → SignalingRoom* (owned)        */
  GHashTable *participants;       /* participant id → SignalingSession* (weak) */
  GHashTable *sessions;           /* serial (guint64*) → SignalingSession* (ref) */
  GHashTable *lobbies;            /* room id → GPtrArray of waiting SignalingSession* (ref) */
  guint64 next_serial;

  /* Recording (recording.c); directory NULL = off. */
  char *recording_directory;
  guint8 recording_key[32];
  char *recording_key_id;
  guint64 recording_min_free_bytes;
  GHashTable *recordings;         /* room id → SignalingRecording* (owned): running */
  GHashTable *recordings_closing; /* session id → SignalingRecording* (owned): stopped,
                                   * waiting for the media engine's files */
  gboolean shutting_down;         /* signaling_server_shutdown() ran: no new
                                   * composition (left to the next start) */
  GQueue *compose_queue;          /* compositions waiting (recording.c) */
  guint composing;                /* compositions running */

  /* WHIP and WHEP sessions (whip.c): resource id → WhipResource* (owned). */
  GHashTable *whip_resources;
} SignalingContext;

typedef enum {
  SESSION_NOT_JOINED,
  SESSION_IN_LOBBY,       /* a patient waiting to be admitted */
  SESSION_JOINED,
  SESSION_LEFT,
} SessionState;

/* Room kinds and roles (docs/protocol.md, "Rooms, roles and moderation"). */
typedef enum {
  SIGNALING_ROOM_CONSULT,      /* up to 12 interactive participants       */
  SIGNALING_ROOM_BRIEFING,     /* up to 4 presenters and many viewers     */
} SignalingRoomKind;

typedef enum {
  SIGNALING_ROLE_PARTICIPANT,  /* consult, not a host                     */
  SIGNALING_ROLE_HOST,         /* moderates; holds the floor in a briefing */
  SIGNALING_ROLE_PRESENTER,    /* briefing: given the floor by the host   */
  SIGNALING_ROLE_VIEWER,       /* briefing: receives only                 */
} SignalingRole;

/* A consult room holds at most this many (max-participants may lower it). */
#define SIGNALING_CONSULT_MAX_PARTICIPANTS 12
/* A briefing's floor holders, the host included. */
#define SIGNALING_BRIEFING_MAX_PRESENTERS 4
/* Default of the briefing-viewers setting. */
#define SIGNALING_BRIEFING_DEFAULT_VIEWERS 200

/* Where the subscribe renegotiation of one participant stands. */
typedef enum {
  SUBSCRIBE_IDLE,
  SUBSCRIBE_OFFER_REQUESTED,   /* asked media for an offer             */
  SUBSCRIBE_OFFER_SENT,        /* offer sent, waiting for the answer   */
  SUBSCRIBE_ANSWER_PENDING,    /* answer handed to media, waiting      */
} SubscribeState;

struct SignalingSession {
  gint refcount;
  guint64 serial;
  SignalingContext *context;
  SoupWebsocketConnection *connection;   /* NULL once closed, or detached */
  gboolean detached;                     /* a WHIP/WHEP member (whip.c): no
                                          * WebSocket, never asked to subscribe */
  char *remote_address;

  SessionState state;
  SignalingPrincipal *principal;         /* who the token says; NULL = anonymous room */
  char *lobby_room;                      /* room id waited for, while IN_LOBBY */
  char *patient_id;                      /* the consultation's patient, for audit */
  char *participant_id;                  /* set on join (or lobby entry) */
  char *name;
  SignalingRoom *room;                   /* weak; valid while JOINED */
  gboolean audio_muted;
  gboolean video_muted;
  gboolean screen_muted;
  SignalingRole role;                    /* set on join */
  gboolean hand_raised;
  GPtrArray *tracks;                     /* MediaTrackInfo*, own published */

  SubscribeState subscribe_state;
  gint64 subscribe_version;              /* of the last offer sent */
  gboolean subscribe_dirty;              /* tracks changed while busy */
  gboolean renegotiate_queued;           /* an idle will ask for an offer */

  gint64 rate_window_start;              /* monotonic µs */
  guint rate_count;
  gboolean rate_error_sent;
};

struct SignalingRoom {
  char *id;
  GPtrArray *members;                    /* SignalingSession* (ref), join order */
  SignalingRoomKind kind;                /* fixed when the room is created */
  gboolean plain;                        /* neither a consultation nor a stored
                                          * briefing: the first joiner is host,
                                          * and host passes on when it leaves */
  char *host_user_id;                    /* a stored briefing's creator, else NULL */
  gboolean locked;
  guint last_n;                          /* 0 = forward everyone's video */
  char *active_speaker;                  /* participant id, or NULL */
};

/* One-shot media callback context (see the lifetime note above). */
typedef struct {
  SignalingContext *context;
  guint64 serial;
  json_t *ref;                           /* the client's id, or NULL */
} SignalingRequest;

SignalingRequest *signaling_request_new (SignalingSession *session, json_t *ref);
/* The session, if still open; (transfer none). Frees nothing. */
SignalingSession *signaling_request_get_session (SignalingRequest *request);
void signaling_request_free (SignalingRequest *request);

/* session.c */
SignalingSession *signaling_session_new (SignalingContext *context,
                                         SoupWebsocketConnection *connection,
                                         const char *remote_address);
/* A room member without a WebSocket (a WHIP or WHEP session): in
 * @context->sessions, which holds its reference (transfer none); whoever
 * keeps it takes its own reference and removes it from the table when done. */
SignalingSession *signaling_session_new_detached (SignalingContext *context,
                                                  const char *remote_address);
SignalingSession *signaling_session_ref (SignalingSession *session);
void signaling_session_unref (SignalingSession *session);
/* Sends @message (transfer full) if the socket is open. */
void signaling_session_send (SignalingSession *session, json_t *message);
/* Sends @text (a serialised message) if the socket is open: broadcasts
 * serialise once for every member. */
void signaling_session_send_text (SignalingSession *session, const char *text);
void signaling_session_send_error (SignalingSession *session, SignalingErrorCode code,
                                   const json_t *ref, const char *field,
                                   const char *format, ...) G_GNUC_PRINTF (5, 6);
/* Maps a media error to the protocol's code and sends it. */
void signaling_session_send_media_error (SignalingSession *session, const GError *error,
                                         const json_t *ref);
/* One audit event about @session's room (entity Encounter = the room id)
 * when the server has an API (authenticated rooms); @detail may be NULL. */
void signaling_audit_session (SignalingSession *session, const char *action,
                              const char *outcome, const char *detail);
/* Leaves the room (if joined) and closes the socket with @code. */
void signaling_session_close (SignalingSession *session, gushort code, const char *reason);

/* room.c */
SignalingRoom *signaling_room_find (SignalingContext *context, const char *room_id);

/* How a room is created and what a joiner is (session.c decides, room.c
 * applies).  @kind and @plain are used only when the join creates the
 * room; @host_user_id: a stored briefing's creator (NULL otherwise);
 * @host: the joiner is a host by right (care-team staff in a consultation,
 * the briefing's creator). */
typedef struct {
  SignalingRoomKind kind;
  gboolean plain;
  const char *host_user_id;
  gboolean host;
  gboolean admitted;          /* a patient admitted by a host: the lock does not apply */
  gboolean presenter;         /* briefing: joins holding the floor (e.g. a WHIP
                               * publisher the host allowed); presenters-full
                               * when 4 hold it already */
} SignalingJoinSpec;

/* Joins @session to @room_id (creating the room and the media room) with
 * the role @spec implies.  Keeps the participant id given in the lobby, if
 * any.  Returns FALSE with *@code set (room-full, room-locked,
 * presenters-full) when refused.  A member without a WebSocket (a WHIP
 * publisher: @session->connection NULL) is a member like any other; what
 * would be sent to it is dropped. */
gboolean signaling_room_join (SignalingContext *context, SignalingSession *session,
                              const char *room_id, const SignalingJoinSpec *spec,
                              const char *name, const json_t *ref, SignalingErrorCode *code);
/* Whether a join to the existing @room_id would be refused (locked, full)
 * before anything is set up: the lobby asks before letting a patient wait. */
gboolean signaling_room_check_join (SignalingContext *context, const char *room_id,
                                    const SignalingJoinSpec *spec, SignalingErrorCode *code);
void signaling_room_leave (SignalingSession *session);
/* Puts an authenticated patient's @session in the lobby of @room_id and
 * tells the care team there; answers `lobby`. */
void signaling_room_enter_lobby (SignalingSession *session, const char *room_id, const json_t *ref);
/* Takes @session out of its lobby (socket closed, replaced, or denied). */
void signaling_room_leave_lobby (SignalingSession *session);
/* A care-team member admits or turns away @participant_id waiting in the
 * lobby of the member's room. */
void signaling_room_admit (SignalingSession *member, const char *participant_id, gboolean admit,
                           json_t *ref);
/* [{id, name}] of those waiting for @room_id (transfer full). */
json_t *signaling_room_describe_lobby (SignalingContext *context, const char *room_id);
/* Sends @message (transfer full) to every member but @except (may be NULL). */
void signaling_room_broadcast (SignalingRoom *room, SignalingSession *except, json_t *message);
/* {id, name, role, audio_muted, video_muted, screen_muted, hand_raised
 * [, tracks]} (transfer full). */
json_t *signaling_room_describe_participant (SignalingSession *session, gboolean with_tracks);
/* {locked, last_n, presenters, active_speaker} (transfer full). */
json_t *signaling_room_describe_state (SignalingRoom *room);
/* The floor holders of a briefing (host and presenters); 0 in a consult. */
guint signaling_room_count_presenters (SignalingRoom *room);
/* "consult"/"briefing", "host"/"presenter"/"participant"/"viewer". */
const char *signaling_room_kind_to_string (SignalingRoomKind kind);
const char *signaling_role_to_string (SignalingRole role);
/* The member of @room with @participant_id, or NULL. */
SignalingSession *signaling_room_find_member (SignalingRoom *room, const char *participant_id);
/* Starts a subscribe renegotiation for @session now, or marks it due. */
void signaling_room_renegotiate (SignalingSession *session);
/* The client's answer to the current subscribe offer. */
void signaling_room_subscribe_answer (SignalingSession *session, const char *sdp,
                                      gint64 version, json_t *ref);
void signaling_room_free (SignalingRoom *room);

/* moderation.c — issue 6: floor control, host moderation, layers, Last-N. */
/* "microphone", "camera" or "screen" for a `mute` kind ("audio", "video", "screen"). */
const char *signaling_moderation_source_for_kind (const char *kind);
/* A `publish` that may go ahead (not a briefing viewer); answers
 * floor-required and returns FALSE otherwise. */
gboolean signaling_moderation_may_publish (SignalingSession *session, json_t *ref);
/* The messages raise-hand, floor, mute-participant, remove-participant,
 * lock, layer, last-n from a joined @session. */
void signaling_moderation_handle (SignalingSession *session, SignalingMessageType type,
                                  json_t *message, json_t *ref);
/* Tells every member that @member changed (participant-updated); also to
 * @member itself when @to_self. */
void signaling_moderation_participant_updated (SignalingSession *member, gboolean to_self);
/* room-updated to every member. */
void signaling_moderation_room_updated (SignalingRoom *room);

/* recording.c */
/* Sets up / tears down the context's recording tables (server.c). */
void signaling_recording_context_init (SignalingContext *context);
void signaling_recording_context_clear (SignalingContext *context);
void signaling_recording_free (SignalingRecording *recording);
/* `record` (@action "start" or "stop") from a joined @session. */
void signaling_recording_handle_record (SignalingSession *session, const char *action,
                                        json_t *ref);
/* `consent` from a joined @session (its patient). */
void signaling_recording_handle_consent (SignalingSession *session, gboolean granted,
                                         json_t *ref);
/* null, or {id, started_at} of @room_id's running recording (transfer full). */
json_t *signaling_recording_describe (SignalingContext *context, const char *room_id);
/* @publisher's first track arrived: its file gets a row if recording. */
void signaling_recording_track_added (SignalingContext *context, SignalingSession *publisher);
/* A consent stored over /api or /fhir: a withdrawal of recording consent
 * stops the patient's running recordings it applies to. */
void signaling_recording_consent_changed (const RecordsConsent *consent, gpointer context);
/* A member left @room (still in the table, maybe empty): the recording
 * stops ("ended") when no care-team member remains. */
void signaling_recording_member_left (SignalingContext *context, SignalingRoom *room);
/* Shutdown: stops every running recording (its files closed by the media
 * engine, its rows filed when the engine reports). */
void signaling_recording_stop_all (SignalingContext *context, const char *reason);
/* Recordings running or waiting for the engine's report on their files. */
guint signaling_recording_count_open (SignalingContext *context);
/* At start: composes again each recording whose composition a stop left
 * undone (composed row "interrupted", no composed file, every participant
 * file complete); its row goes back to "recording" until composed. */
void signaling_recording_resume_compositions (SignalingContext *context);

/* briefing.c */
/* TRUE when @room_id is the id of a briefing of the records store that has
 * not ended (an ended briefing opens no room: FALSE, as for any other id);
 * then *@host_user_id (may be NULL) = (transfer full) its host's user id.
 * Who may join is the policy's SIGNALING_OP_BRIEFING_JOIN (clinical staff;
 * patients, administrators and auditors refused); the host is the room's
 * host.  Reads the store (one query; none for ids that are not UUIDs). */
gboolean signaling_briefing_lookup (SignalingContext *context, const char *room_id,
                                    char **host_user_id);

/* whip.c */
/* A detached member's peer connection failed or closed: its WHIP/WHEP
 * session ends now (the member leaves its room; the caller must not touch
 * the session afterwards). */
void signaling_whip_peer_ended (SignalingContext *context, const char *participant_id);

/* One structured log line with the room and participant ids, also shown in
 * the text for terminals.  Never pass SDP bodies, tokens or names. */
#define signaling_log(level, session, format, ...)                                      \
  g_log_structured (G_LOG_DOMAIN, level,                                              \
                    "CAU_ROOM",                                                       \
                    ((session) && (session)->room ? (session)->room->id : "-"),        \
                    "CAU_PARTICIPANT",                                                \
                    ((session) && (session)->participant_id ? (session)->participant_id : "-"), \
                    "MESSAGE", "[room=%s participant=%s] " format,                    \
                    ((session) && (session)->room ? (session)->room->id : "-"),        \
                    ((session) && (session)->participant_id ? (session)->participant_id : "-"), \
                    ##__VA_ARGS__)

G_END_DECLS
