/* api.h — Cầu's REST API under /api/ (docs/api.md, docs/openapi.yaml) and
 * the authentication and audit helpers the FHIR API and the WebSocket join
 * share with it.
 *
 * Every handler validates its whole input before acting (a static table of
 * members, types and lengths per body; unknown members refused), asks
 * policy.h whether the caller may, and writes an audit event for logins,
 * reads of patient data, writes and refused accesses.  A failed request
 * changes nothing stored.
 *
 * Threads: everything runs on the thread that owns the SoupServer and the
 * RecordsStore (signaling's main loop).
 */
#pragma once

#include <jansson.h>
#include <libsoup/soup.h>

#include "auth.h"
#include "policy.h"
#include "records.h"

G_BEGIN_DECLS

typedef struct SignalingApi SignalingApi;

/* g_autoptr (SignalingJson) for json_t locals (jansson has no GLib cleanup). */
typedef json_t SignalingJson;
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SignalingJson, json_decref)

/* Largest request body accepted (413 too-large above). */
#define SIGNALING_API_MAX_BODY (64 * 1024)

/* @store is borrowed and must outlive the API.  Loads or creates
 * <@data_dir>/token.key.  (transfer full), or NULL + @error (the key file
 * is unsafe or unreadable). */
SignalingApi *signaling_api_new (RecordsStore *store, const char *data_dir, GError **error);

/* Adds the /api/ handler to @server (which must outlive nothing of ours:
 * call before serving, free the API after the server). */
void signaling_api_attach (SignalingApi *api, SoupServer *server);

void signaling_api_free (SignalingApi *api);

/* Enables playback of recordings: files in @directory (absolute), their
 * keys wrapped by @server_key (records/vault.h cau_vault_key_load).
 * Playback tickets are signed with a key derived from the token key, so
 * every node sharing the data directory accepts them. */
void signaling_api_set_recordings (SignalingApi *api, const char *directory,
                                   const guint8 server_key[32]);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SignalingApi, signaling_api_free)

/* The SignalingAuth behind the API (borrowed): tests lower its password
 * cost; nothing else needs it. */
SignalingAuth *signaling_api_get_auth (SignalingApi *api);

/* Verifies a bare token (e.g. the WebSocket join's).  (transfer full)
 * principal, or NULL + a SIGNALING_AUTH_ERROR whose
 * signaling_auth_error_code_string() is the docs' code.  Audits nothing:
 * the caller audits the refusal with its own source and action. */
SignalingPrincipal *signaling_api_authenticate_token (SignalingApi *api, const char *token,
                                                     GError **error);

/* The token of "Authorization: Bearer <token>" (RFC 6750 §2.1) of @msg,
 * borrowed from its headers, or NULL.  Not verified. */
const char *signaling_api_bearer_token (SoupServerMessage *msg);

/* Reads "Authorization: Bearer <token>" of @msg.  Returns (transfer full)
 * the principal; on failure it has already replied 401 with the code and
 * written a "denied" audit event, and returns NULL. */
SignalingPrincipal *signaling_api_authenticate (SignalingApi *api, SoupServerMessage *msg);

/* Appends one audit event.  @who may be NULL (anonymous); any string may be
 * NULL.  @source: the client address (signaling_api_client_address).
 * @outcome: "success", "failure" or "denied".  A store failure is logged,
 * never thrown at the caller. */
void signaling_api_audit (SignalingApi *api, const SignalingPrincipal *who, const char *source,
                          const char *action, const char *entity_type, const char *entity_id,
                          const char *patient_id, const char *outcome, const char *detail);

/* Told of every consent stored through /api or /fhir (after it is
 * stored), so that a withdrawal stops a running recording.  One listener;
 * NULL removes it. */
typedef void (*SignalingApiConsentFunc) (const RecordsConsent *consent, gpointer user_data);
void signaling_api_set_consent_listener (SignalingApi *api, SignalingApiConsentFunc func,
                                         gpointer user_data);
/* Calls the listener, if any, with @consent. */
void signaling_api_notify_consent (SignalingApi *api, const RecordsConsent *consent);

/* Told of every briefing that ended through /api (after it is stored), so
 * that its WHIP and WHEP sessions stop.  One listener; NULL removes it. */
typedef void (*SignalingApiBriefingFunc) (const RecordsBriefing *briefing, gpointer user_data);
void signaling_api_set_briefing_listener (SignalingApi *api, SignalingApiBriefingFunc func,
                                          gpointer user_data);
/* Calls the listener, if any, with @briefing. */
void signaling_api_notify_briefing (SignalingApi *api, const RecordsBriefing *briefing);

/* An audit event of caud itself (actor and role "system"), e.g. a
 * recording that stopped because the disk ran low. */
void signaling_api_audit_system (SignalingApi *api, const char *action, const char *entity_type,
                                 const char *entity_id, const char *patient_id,
                                 const char *outcome, const char *detail);

/* The remote IP of @msg as text, (transfer full) or NULL. */
char *signaling_api_client_address (SoupServerMessage *msg);

/* Replies @status with {"code", "message"[, "field"]}. */
void signaling_api_reply_error (SoupServerMessage *msg, guint status, const char *code,
                                const char *message, const char *field);

/* Replies @status with @body (steals the reference; NULL = no body). */
void signaling_api_reply_json (SoupServerMessage *msg, guint status, json_t *body);

/* Reads @msg's body as one JSON object of at most 64 KiB, duplicate keys
 * refused.  (transfer full) object, or NULL + @error with a
 * SIGNALING_API_ERROR: TOO_LARGE (413 too-large) or BAD_JSON (400 bad-json).
 * An empty body is BAD_JSON. */
json_t *signaling_api_read_body (SoupServerMessage *msg, GError **error);

#define SIGNALING_API_ERROR (signaling_api_error_quark ())
GQuark signaling_api_error_quark (void);

typedef enum {
  SIGNALING_API_ERROR_BAD_JSON,
  SIGNALING_API_ERROR_TOO_LARGE,
  SIGNALING_API_ERROR_INVALID_FIELD,
} SignalingApiError;

G_END_DECLS
