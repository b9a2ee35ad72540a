/* policy.c — Cầu's authorisation rules (see policy.h). */
#include "policy.h"

#include <string.h>

void
signaling_principal_free (SignalingPrincipal *principal)
{
  if (principal == NULL)
    return;
  g_free (principal->user_id);
  g_free (principal->username);
  g_free (principal->display_name);
  g_free (principal->facility_id);
  g_free (principal->session_id);
  g_free (principal->invitation_id);
  g_free (principal->consultation_id);
  g_free (principal->patient_id);
  g_free (principal);
}

SignalingPrincipal *
signaling_principal_copy (const SignalingPrincipal *principal)
{
  SignalingPrincipal *copy;

  g_return_val_if_fail (principal != NULL, NULL);
  copy = g_new0 (SignalingPrincipal, 1);
  copy->role = principal->role;
  copy->user_id = g_strdup (principal->user_id);
  copy->username = g_strdup (principal->username);
  copy->display_name = g_strdup (principal->display_name);
  copy->facility_id = g_strdup (principal->facility_id);
  copy->session_id = g_strdup (principal->session_id);
  copy->invitation_id = g_strdup (principal->invitation_id);
  copy->consultation_id = g_strdup (principal->consultation_id);
  copy->patient_id = g_strdup (principal->patient_id);
  copy->expires_at = principal->expires_at;
  return copy;
}

const char *
signaling_principal_actor_id (const SignalingPrincipal *principal)
{
  g_return_val_if_fail (principal != NULL, NULL);
  return principal->role == RECORDS_ROLE_PATIENT ? principal->invitation_id : principal->user_id;
}

static const char *const operation_names[SIGNALING_OP_COUNT] = {
  [SIGNALING_OP_ROOM_JOIN] = "room-join",
  [SIGNALING_OP_ROOM_ADMIT] = "room-admit",
  [SIGNALING_OP_RECORD] = "record",
  [SIGNALING_OP_RECORDING_PLAYBACK] = "recording-playback",
  [SIGNALING_OP_PATIENT_SEARCH] = "patient-search",
  [SIGNALING_OP_PATIENT_READ] = "patient-read",
  [SIGNALING_OP_PATIENT_CREATE] = "patient-create",
  [SIGNALING_OP_CONSULTATION_LIST] = "consultation-list",
  [SIGNALING_OP_CONSULTATION_READ] = "consultation-read",
  [SIGNALING_OP_CONSULTATION_CREATE] = "consultation-create",
  [SIGNALING_OP_CONSULTATION_UPDATE] = "consultation-update",
  [SIGNALING_OP_SPECIALIST_INVITE] = "specialist-invite",
  [SIGNALING_OP_INVITATION_CREATE] = "invitation-create",
  [SIGNALING_OP_INVITATION_REVOKE] = "invitation-revoke",
  [SIGNALING_OP_CONSENT_READ] = "consent-read",
  [SIGNALING_OP_CONSENT_CREATE] = "consent-create",
  [SIGNALING_OP_AUDIT_READ] = "audit-read",
  [SIGNALING_OP_USER_LIST] = "user-list",
  [SIGNALING_OP_USER_MANAGE] = "user-manage",
  [SIGNALING_OP_SPECIALIST_LIST] = "specialist-list",
  [SIGNALING_OP_DIRECTORY_READ] = "directory-read",
  [SIGNALING_OP_FACILITY_MANAGE] = "facility-manage",
  [SIGNALING_OP_BRIEFING_CREATE] = "briefing-create",
  [SIGNALING_OP_BRIEFING_READ] = "briefing-read",
  [SIGNALING_OP_BRIEFING_JOIN] = "briefing-join",
  [SIGNALING_OP_BRIEFING_END] = "briefing-end",
  [SIGNALING_OP_BRIEFING_PUBLISH] = "briefing-publish",
};

const char *
signaling_operation_to_string (SignalingOperation op)
{
  if ((guint) op >= SIGNALING_OP_COUNT)
    return "unknown";
  return operation_names[op];
}

static gboolean
same_id (const char *a, const char *b)
{
  return a != NULL && b != NULL && *a != '\0' && strcmp (a, b) == 0;
}

static gboolean
is_clinical_staff (const SignalingPrincipal *principal)
{
  return principal->user_id != NULL
         && (principal->role == RECORDS_ROLE_CLINICIAN || principal->role == RECORDS_ROLE_SPECIALIST
             || principal->role == RECORDS_ROLE_NURSE);
}

static gboolean
is_staff (const SignalingPrincipal *principal)
{
  return principal->user_id != NULL && principal->role != RECORDS_ROLE_PATIENT
         && principal->role <= RECORDS_ROLE_AUDITOR;
}

/* Requester, invited specialist, or a clinician/nurse of the requesting
 * facility. */
static gboolean
on_care_team (const SignalingPrincipal *principal, const RecordsConsultation *consultation)
{
  if (consultation == NULL || !is_clinical_staff (principal))
    return FALSE;
  if (same_id (principal->user_id, consultation->requester_id))
    return TRUE;
  for (guint i = 0; consultation->specialist_ids && consultation->specialist_ids[i]; i++)
    if (same_id (principal->user_id, consultation->specialist_ids[i]))
      return TRUE;
  return (principal->role == RECORDS_ROLE_CLINICIAN || principal->role == RECORDS_ROLE_NURSE)
         && same_id (principal->facility_id, consultation->requesting_facility_id);
}

/* The consultation's own patient, holding that consultation's token. */
static gboolean
is_consultation_patient (const SignalingPrincipal *principal,
                         const RecordsConsultation *consultation)
{
  return consultation != NULL && principal->role == RECORDS_ROLE_PATIENT
         && same_id (principal->consultation_id, consultation->id)
         && same_id (principal->patient_id, consultation->patient_id);
}

gboolean
signaling_policy_in_consultation (const SignalingPrincipal *principal,
                                  const RecordsConsultation *consultation)
{
  g_return_val_if_fail (principal != NULL, FALSE);
  return on_care_team (principal, consultation)
         || is_consultation_patient (principal, consultation);
}

/* Staff access to a patient: their facility's clinicians and nurses, and
 * the care team of any of the patient's consultations. */
static gboolean
staff_sees_patient (const SignalingPrincipal *principal, const SignalingPolicyTarget *target)
{
  if (!is_clinical_staff (principal) || target->patient_id == NULL)
    return FALSE;
  if ((principal->role == RECORDS_ROLE_CLINICIAN || principal->role == RECORDS_ROLE_NURSE)
      && same_id (principal->facility_id, target->patient_facility_id))
    return TRUE;
  for (guint i = 0; target->patient_consultations && i < target->patient_consultations->len; i++) {
    const RecordsConsultation *consultation = target->patient_consultations->pdata[i];

    if (same_id (consultation->patient_id, target->patient_id)
        && on_care_team (principal, consultation))
      return TRUE;
  }
  return FALSE;
}

/* A patient sees themselves, through a token of one of their consultations. */
static gboolean
patient_sees_self (const SignalingPrincipal *principal, const SignalingPolicyTarget *target)
{
  if (principal->role != RECORDS_ROLE_PATIENT
      || !same_id (principal->patient_id, target->patient_id))
    return FALSE;
  for (guint i = 0; target->patient_consultations && i < target->patient_consultations->len; i++)
    if (is_consultation_patient (principal, target->patient_consultations->pdata[i]))
      return TRUE;
  return FALSE;
}

static gboolean
consent_create_allowed (const SignalingPrincipal *principal, const SignalingPolicyTarget *target)
{
  const RecordsConsultation *consultation = target->consultation;

  if (consultation == NULL)
    return staff_sees_patient (principal, target) || patient_sees_self (principal, target);
  /* A consent for one consultation: it must be this patient's, and the
   * caller on its care team or its patient. */
  if (!same_id (consultation->patient_id, target->patient_id))
    return FALSE;
  return on_care_team (principal, consultation)
         || (is_consultation_patient (principal, consultation)
             && patient_sees_self (principal, target));
}

gboolean
signaling_policy_allows (const SignalingPrincipal *principal, SignalingOperation op,
                         const SignalingPolicyTarget *target)
{
  static const SignalingPolicyTarget no_target = { 0 };
  RecordsRole role;

  g_return_val_if_fail (principal != NULL, FALSE);
  if (target == NULL)
    target = &no_target;
  role = principal->role;

  switch (op) {
  case SIGNALING_OP_ROOM_JOIN:
  case SIGNALING_OP_CONSULTATION_READ:
    return signaling_policy_in_consultation (principal, target->consultation);

  case SIGNALING_OP_ROOM_ADMIT:
  case SIGNALING_OP_RECORD:
  case SIGNALING_OP_RECORDING_PLAYBACK:
  case SIGNALING_OP_CONSULTATION_UPDATE:
  case SIGNALING_OP_INVITATION_CREATE:
  case SIGNALING_OP_INVITATION_REVOKE:
    return on_care_team (principal, target->consultation);

  case SIGNALING_OP_SPECIALIST_INVITE:
    return target->consultation != NULL && is_clinical_staff (principal)
           && same_id (principal->user_id, target->consultation->requester_id);

  case SIGNALING_OP_PATIENT_SEARCH:
  case SIGNALING_OP_CONSULTATION_LIST:
    return is_clinical_staff (principal);

  case SIGNALING_OP_PATIENT_CREATE:
    return (role == RECORDS_ROLE_CLINICIAN || role == RECORDS_ROLE_NURSE)
           && is_clinical_staff (principal) && principal->facility_id != NULL;

  case SIGNALING_OP_PATIENT_READ:
  case SIGNALING_OP_CONSENT_READ:
    return staff_sees_patient (principal, target) || patient_sees_self (principal, target);

  case SIGNALING_OP_CONSULTATION_CREATE:
    return role == RECORDS_ROLE_CLINICIAN && principal->facility_id != NULL
           && staff_sees_patient (principal, target);

  case SIGNALING_OP_CONSENT_CREATE:
    return consent_create_allowed (principal, target);

  case SIGNALING_OP_AUDIT_READ:
    return is_staff (principal)
           && (role == RECORDS_ROLE_AUDITOR || role == RECORDS_ROLE_ADMINISTRATOR);

  case SIGNALING_OP_USER_LIST:
  case SIGNALING_OP_USER_MANAGE:
  case SIGNALING_OP_FACILITY_MANAGE:
    return is_staff (principal) && role == RECORDS_ROLE_ADMINISTRATOR;

  case SIGNALING_OP_SPECIALIST_LIST:
    return is_staff (principal)
           && (role == RECORDS_ROLE_ADMINISTRATOR || role == RECORDS_ROLE_CLINICIAN
               || role == RECORDS_ROLE_NURSE);

  case SIGNALING_OP_DIRECTORY_READ:
    return is_staff (principal);

  case SIGNALING_OP_BRIEFING_CREATE:
    return (role == RECORDS_ROLE_CLINICIAN || role == RECORDS_ROLE_SPECIALIST)
           && is_clinical_staff (principal) && principal->facility_id != NULL;

  case SIGNALING_OP_BRIEFING_READ:
  case SIGNALING_OP_BRIEFING_JOIN:
    return is_clinical_staff (principal);

  case SIGNALING_OP_BRIEFING_END:
  case SIGNALING_OP_BRIEFING_PUBLISH:
    return target->briefing != NULL && is_clinical_staff (principal)
           && same_id (principal->user_id, target->briefing->host_id);

  case SIGNALING_OP_COUNT:
  default:
    return FALSE;
  }
}
