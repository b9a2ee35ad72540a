/* api-priv.h — shared between api.c (routing, authentication, audit,
 * validation) and api-records.c (the records endpoints).  Not for other
 * modules. */
#pragma once

#include "api.h"

G_BEGIN_DECLS

/* Playback of recordings (recording-api.c); directory NULL = none. */
typedef struct {
  char *directory;              /* <data_dir>/recordings                  */
  guint8 key[32];               /* the server key (records/vault.h)       */
  guint8 ticket_key[32];        /* HMAC key of playback tickets           */
  GHashTable *verified;         /* file path → "size:mtime:sha256" checked */
  GHashTable *tickets_used;     /* ticket signature → expiry (audit once) */
} ApiRecordings;

struct SignalingApi {
  RecordsStore *store;
  SignalingAuth *auth;
  GCancellable *cancellable;   /* cancelled by signaling_api_free: pending logins drop */
  ApiRecordings recordings;
  SignalingApiConsentFunc consent_listener;
  gpointer consent_listener_data;
  SignalingApiBriefingFunc briefing_listener;
  gpointer briefing_listener_data;
};

/* One request as the handlers see it. */
typedef struct {
  SignalingApi *api;
  SoupServerMessage *msg;
  const char *method;
  GHashTable *query;            /* may be NULL */
  char *source;                 /* client address */
  SignalingPrincipal *who;      /* NULL before authentication */
} ApiRequest;

/* ---- body validation: a static table per body ------------------------- */

typedef enum {
  FIELD_STRING,        /* min/max: characters                           */
  FIELD_UUID,          /* an identifier made by records                 */
  FIELD_BOOLEAN,
  FIELD_INTEGER,       /* min/max: value                                */
  FIELD_UUID_ARRAY,    /* max: elements                                 */
  FIELD_TIME,          /* ISO-8601 with a zone                          */
  FIELD_DATE,          /* YYYY-MM-DD                                    */
} FieldType;

typedef struct {
  const char *name;
  FieldType type;
  gboolean required;
  gint64 min;
  gint64 max;
} FieldSpec;

/* Checks @body against @specs: every member known, required ones present,
 * each of its type and bounds (JSON null = absent for optional members).
 * FALSE after replying 400 invalid-field naming the member. */
gboolean api_validate (ApiRequest *request, json_t *body, const FieldSpec *specs, gsize n_specs);

/* Reads and validates the body; NULL after replying 400/413. */
json_t *api_read_valid_body (ApiRequest *request, const FieldSpec *specs, gsize n_specs);

/* Query parameters: only @allowed names (NULL-terminated) may appear;
 * FALSE after replying 400 invalid-field. */
gboolean api_check_query (ApiRequest *request, const char *const *allowed);

gboolean api_is_uuid (const char *text);

/* ---- authorisation and replies ---------------------------------------- */

/* Authenticates (replying 401 itself on failure). */
gboolean api_require_principal (ApiRequest *request);

/* Checks the policy; on refusal replies 403 forbidden and audits "denied"
 * with @action/@entity_type/@entity_id/@patient_id. */
gboolean api_allow (ApiRequest *request, SignalingOperation op,
                    const SignalingPolicyTarget *target, const char *action,
                    const char *entity_type, const char *entity_id, const char *patient_id);

/* Replies for a records error: NOT_FOUND 404 not-found, CONFLICT 409,
 * INVALID 400 invalid-field (409 conflict when @invalid_is_conflict), else
 * 500 internal (logged, never sent). */
void api_reply_records_error (ApiRequest *request, const GError *error,
                              gboolean invalid_is_conflict);

void api_audit (ApiRequest *request, const char *action, const char *entity_type,
                const char *entity_id, const char *patient_id, const char *outcome,
                const char *detail);

/* ---- JSON views of records -------------------------------------------- */

json_t *api_user_json (const RecordsUser *user);
json_t *api_facility_json (const RecordsFacility *facility);
json_t *api_patient_json (const RecordsPatient *patient);
json_t *api_consultation_json (const RecordsConsultation *consultation);
json_t *api_consent_json (const RecordsConsent *consent);
json_t *api_audit_event_json (const RecordsAuditEvent *event);

/* ---- recordings (recording-api.c) ----------------------------------- */

json_t *api_recording_json (const RecordsRecording *recording);

/* Handles GET /api/consultations/{id}/recordings, POST
 * /api/recordings/{id}/playback and GET|HEAD /api/recordings/{id}/content.
 * FALSE when the path is none of these. */
gboolean api_recordings_dispatch (ApiRequest *request, char **segments, guint n_segments);

/* Frees what api->recordings holds. */
void api_recordings_clear (SignalingApi *api);

/* ---- briefings (api-briefings.c) -------------------------------------- */

json_t *api_briefing_json (const RecordsBriefing *briefing);

/* Handles /api/briefings, /api/briefings/{id} and /api/briefings/{id}/end.
 * FALSE when the path is none of these. */
gboolean api_briefings_dispatch (ApiRequest *request, char **segments, guint n_segments);

/* ---- the records endpoints (api-records.c) ---------------------------- */

/* Handles /api/<segments> other than auth, me and invitation redeem.
 * FALSE when no route matches (the caller replies 404). */
gboolean api_records_dispatch (ApiRequest *request, char **segments, guint n_segments);

G_END_DECLS
