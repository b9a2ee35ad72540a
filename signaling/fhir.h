/* fhir.h — Cầu's HL7 FHIR R4 JSON API under /fhir (docs/api.md "FHIR R4").
 *
 *   GET  /fhir/metadata                        CapabilityStatement, no token needed
 *   GET  /fhir/Patient/{id}, /fhir/Patient?_id=&identifier=<system>|<value>&name=&_count=
 *   GET  /fhir/Practitioner/{id}, /fhir/Practitioner?_id=&identifier=&_count=
 *   GET  /fhir/Organization/{id}, /fhir/Organization?_id=&identifier=&_count=
 *   GET  /fhir/Encounter/{id}, /fhir/Encounter?patient=&_id=&_count=    POST /fhir/Encounter
 *   GET  /fhir/Consent/{id}, /fhir/Consent?patient=&_id=&_count=        POST /fhir/Consent
 *   GET  /fhir/Media/{id}, /fhir/Media?patient=&_id=&_count=           (recordings)
 *   GET  /fhir/AuditEvent/{seq}, /fhir/AuditEvent?patient=&agent=&subtype=&after=&_count=
 *
 * Every other interaction needs "Authorization: Bearer <token>"
 * (signaling_api_authenticate) and is decided by policy.h, the same rules
 * as the REST API: a patient token reads only its own Patient, its own
 * consultation's Encounter and its Consents; an auditor reads AuditEvents
 * and the directory but no patient data.  Searches return only what the
 * caller may read.  Every read or search of patient data, every create and
 * every refusal (401/403) writes an audit event.  Unknown search
 * parameters are refused (400 invalid-field naming the parameter) rather
 * than ignored.  Answers are application/fhir+json; every error is an
 * OperationOutcome (fhir-map.h) with the status and code of docs/api.md.
 *
 * Threads: the handlers run on the thread that owns @server and @store.
 */
#pragma once

#include <libsoup/soup.h>

#include "api.h"
#include "records.h"

G_BEGIN_DECLS

/* Adds the /fhir handler to @server.  @api and @store are borrowed and must
 * outlive @server's handlers (free the server first). */
void signaling_fhir_attach (SignalingApi *api, RecordsStore *store, SoupServer *server);

G_END_DECLS
