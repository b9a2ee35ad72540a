/* Tests signaling/policy.c: the whole role × operation matrix, table-driven.
 *
 * One small world: district clinic FA registers patient P1 and requests
 * consultation K1 (clinician c1, specialist s1 of provincial hospital FB
 * invited); clinic FC has patient P2 and consultation K2 (clinician c3).
 * Each row names an operation, a target and the expected decision of every
 * principal, in the order of `principals` below, as a string of Y/N. */
#include <string.h>

#include "policy.h"

enum { C1, C2, C3, S1, S2, N1, N3, ADM, AUD, PAT1, PAT2, PATX, N_PRINCIPALS };

static SignalingPrincipal principals[N_PRINCIPALS] = {
  [C1] = { .role = RECORDS_ROLE_CLINICIAN, .user_id = "u-c1", .facility_id = "f-a" },
  [C2] = { .role = RECORDS_ROLE_CLINICIAN, .user_id = "u-c2", .facility_id = "f-a" },
  [C3] = { .role = RECORDS_ROLE_CLINICIAN, .user_id = "u-c3", .facility_id = "f-c" },
  [S1] = { .role = RECORDS_ROLE_SPECIALIST, .user_id = "u-s1", .facility_id = "f-b" },
  [S2] = { .role = RECORDS_ROLE_SPECIALIST, .user_id = "u-s2", .facility_id = "f-b" },
  [N1] = { .role = RECORDS_ROLE_NURSE, .user_id = "u-n1", .facility_id = "f-a" },
  [N3] = { .role = RECORDS_ROLE_NURSE, .user_id = "u-n3", .facility_id = "f-c" },
  [ADM] = { .role = RECORDS_ROLE_ADMINISTRATOR, .user_id = "u-adm", .facility_id = "f-a" },
  [AUD] = { .role = RECORDS_ROLE_AUDITOR, .user_id = "u-aud" },
  [PAT1] = { .role = RECORDS_ROLE_PATIENT, .invitation_id = "i-1", .consultation_id = "k-1",
             .patient_id = "p-1" },
  [PAT2] = { .role = RECORDS_ROLE_PATIENT, .invitation_id = "i-2", .consultation_id = "k-2",
             .patient_id = "p-2" },
  /* A forged mix: K1's token claiming to be P2.  Opens nothing. */
  [PATX] = { .role = RECORDS_ROLE_PATIENT, .invitation_id = "i-x", .consultation_id = "k-1",
             .patient_id = "p-2" },
};

static char *k1_specialists[] = { "u-s1", NULL };
static RecordsConsultation k1 = { .id = "k-1", .patient_id = "p-1", .requester_id = "u-c1",
                                  .requesting_facility_id = "f-a",
                                  .specialist_ids = k1_specialists };
static RecordsConsultation k2 = { .id = "k-2", .patient_id = "p-2", .requester_id = "u-c3",
                                  .requesting_facility_id = "f-c", .specialist_ids = NULL };

/* Briefings: B1 hosted by clinician c1 of FA, B2 by specialist s1 of FB. */
static RecordsBriefing b1 = { .id = "b-1", .title = "Giao ban", .host_id = "u-c1",
                              .facility_id = "f-a", .status = "planned" };
static RecordsBriefing b2 = { .id = "b-2", .title = "Giao ban tỉnh", .host_id = "u-s1",
                              .facility_id = "f-b", .status = "live" };

enum { T_NONE, T_K1, T_K2, T_P1, T_P2, T_P1_K1, T_P1_K2, T_P1_BARE, T_B1, T_B2, N_TARGETS };

static SignalingPolicyTarget targets[N_TARGETS];
static const char *target_names[N_TARGETS] = {
  "none", "K1", "K2", "P1", "P2", "P1+K1", "P1+K2", "P1 without consultations", "B1", "B2",
};

static void
targets_init (GPtrArray *p1_consultations, GPtrArray *p2_consultations)
{
  targets[T_K1].consultation = &k1;
  targets[T_K2].consultation = &k2;
  targets[T_P1] = (SignalingPolicyTarget) { .patient_id = "p-1", .patient_facility_id = "f-a",
                                            .patient_consultations = p1_consultations };
  targets[T_P2] = (SignalingPolicyTarget) { .patient_id = "p-2", .patient_facility_id = "f-c",
                                            .patient_consultations = p2_consultations };
  targets[T_P1_K1] = targets[T_P1];
  targets[T_P1_K1].consultation = &k1;
  targets[T_P1_K2] = targets[T_P1];
  targets[T_P1_K2].consultation = &k2;
  /* P1 as a caller that forgot to load its consultations: the facility
   * still lets FA's clinicians and nurses in, nobody else. */
  targets[T_P1_BARE] = (SignalingPolicyTarget) { .patient_id = "p-1",
                                                 .patient_facility_id = "f-a" };
  targets[T_B1].briefing = &b1;
  targets[T_B2].briefing = &b2;
}

typedef struct {
  SignalingOperation op;
  int target;
  /*           c1 c2 c3 s1 s2 n1 n3 adm aud pat1 pat2 patx */
  const char *expected;
} Row;

static const Row rows[] = {
  { SIGNALING_OP_ROOM_JOIN, T_K1,                   "YYNYNYNNNYNN" },
  { SIGNALING_OP_ROOM_JOIN, T_K2,                   "NNYNNNYNNNYN" },
  { SIGNALING_OP_ROOM_JOIN, T_NONE,                 "NNNNNNNNNNNN" },
  { SIGNALING_OP_ROOM_ADMIT, T_K1,                  "YYNYNYNNNNNN" },
  { SIGNALING_OP_ROOM_ADMIT, T_K2,                  "NNYNNNYNNNNN" },
  { SIGNALING_OP_RECORD, T_K1,                      "YYNYNYNNNNNN" },
  { SIGNALING_OP_RECORD, T_K2,                      "NNYNNNYNNNNN" },
  { SIGNALING_OP_RECORDING_PLAYBACK, T_K1,          "YYNYNYNNNNNN" },
  { SIGNALING_OP_RECORDING_PLAYBACK, T_K2,          "NNYNNNYNNNNN" },
  { SIGNALING_OP_PATIENT_SEARCH, T_NONE,            "YYYYYYYNNNNN" },
  { SIGNALING_OP_PATIENT_READ, T_P1,                "YYNYNYNNNYNN" },
  { SIGNALING_OP_PATIENT_READ, T_P2,                "NNYNNNYNNNYN" },
  { SIGNALING_OP_PATIENT_READ, T_P1_BARE,           "YYNNNYNNNNNN" },
  { SIGNALING_OP_PATIENT_READ, T_NONE,              "NNNNNNNNNNNN" },
  { SIGNALING_OP_PATIENT_CREATE, T_NONE,            "YYYNNYYNNNNN" },
  { SIGNALING_OP_CONSULTATION_LIST, T_NONE,         "YYYYYYYNNNNN" },
  { SIGNALING_OP_CONSULTATION_READ, T_K1,           "YYNYNYNNNYNN" },
  { SIGNALING_OP_CONSULTATION_READ, T_K2,           "NNYNNNYNNNYN" },
  { SIGNALING_OP_CONSULTATION_CREATE, T_P1,         "YYNNNNNNNNNN" },
  { SIGNALING_OP_CONSULTATION_CREATE, T_P2,         "NNYNNNNNNNNN" },
  { SIGNALING_OP_CONSULTATION_UPDATE, T_K1,         "YYNYNYNNNNNN" },
  { SIGNALING_OP_CONSULTATION_UPDATE, T_K2,         "NNYNNNYNNNNN" },
  { SIGNALING_OP_SPECIALIST_INVITE, T_K1,           "YNNNNNNNNNNN" },
  { SIGNALING_OP_SPECIALIST_INVITE, T_K2,           "NNYNNNNNNNNN" },
  { SIGNALING_OP_INVITATION_CREATE, T_K1,           "YYNYNYNNNNNN" },
  { SIGNALING_OP_INVITATION_CREATE, T_K2,           "NNYNNNYNNNNN" },
  { SIGNALING_OP_INVITATION_REVOKE, T_K1,           "YYNYNYNNNNNN" },
  { SIGNALING_OP_INVITATION_REVOKE, T_K2,           "NNYNNNYNNNNN" },
  { SIGNALING_OP_CONSENT_READ, T_P1,                "YYNYNYNNNYNN" },
  { SIGNALING_OP_CONSENT_READ, T_P2,                "NNYNNNYNNNYN" },
  { SIGNALING_OP_CONSENT_CREATE, T_P1,              "YYNYNYNNNYNN" },
  { SIGNALING_OP_CONSENT_CREATE, T_P2,              "NNYNNNYNNNYN" },
  { SIGNALING_OP_CONSENT_CREATE, T_P1_K1,           "YYNYNYNNNYNN" },
  { SIGNALING_OP_CONSENT_CREATE, T_P1_K2,           "NNNNNNNNNNNN" },
  { SIGNALING_OP_CONSENT_CREATE, T_P1_BARE,         "YYNNNYNNNNNN" },
  { SIGNALING_OP_AUDIT_READ, T_NONE,                "NNNNNNNYYNNN" },
  { SIGNALING_OP_USER_LIST, T_NONE,                 "NNNNNNNYNNNN" },
  { SIGNALING_OP_USER_MANAGE, T_NONE,               "NNNNNNNYNNNN" },
  { SIGNALING_OP_SPECIALIST_LIST, T_NONE,           "YYYNNYYYNNNN" },
  { SIGNALING_OP_DIRECTORY_READ, T_NONE,            "YYYYYYYYYNNN" },
  { SIGNALING_OP_FACILITY_MANAGE, T_NONE,           "NNNNNNNYNNNN" },
  { SIGNALING_OP_BRIEFING_CREATE, T_NONE,           "YYYYYNNNNNNN" },
  { SIGNALING_OP_BRIEFING_READ, T_NONE,             "YYYYYYYNNNNN" },
  { SIGNALING_OP_BRIEFING_READ, T_B1,               "YYYYYYYNNNNN" },
  { SIGNALING_OP_BRIEFING_JOIN, T_NONE,             "YYYYYYYNNNNN" },
  { SIGNALING_OP_BRIEFING_JOIN, T_B2,               "YYYYYYYNNNNN" },
  { SIGNALING_OP_BRIEFING_END, T_B1,                "YNNNNNNNNNNN" },
  { SIGNALING_OP_BRIEFING_END, T_B2,                "NNNYNNNNNNNN" },
  { SIGNALING_OP_BRIEFING_END, T_NONE,              "NNNNNNNNNNNN" },
  { SIGNALING_OP_BRIEFING_END, T_K1,                "NNNNNNNNNNNN" },
  { SIGNALING_OP_BRIEFING_PUBLISH, T_B1,            "YNNNNNNNNNNN" },
  { SIGNALING_OP_BRIEFING_PUBLISH, T_B2,            "NNNYNNNNNNNN" },
  { SIGNALING_OP_BRIEFING_PUBLISH, T_NONE,          "NNNNNNNNNNNN" },
};

static void
test_matrix (void)
{
  g_autoptr (GPtrArray) p1 = g_ptr_array_new ();
  g_autoptr (GPtrArray) p2 = g_ptr_array_new ();
  gboolean op_seen[SIGNALING_OP_COUNT] = { FALSE };
  /* Per role and operation: was it allowed somewhere, denied somewhere? */
  gboolean allowed_seen[RECORDS_ROLE_PATIENT + 1][SIGNALING_OP_COUNT] = { { FALSE } };
  gboolean denied_seen[RECORDS_ROLE_PATIENT + 1][SIGNALING_OP_COUNT] = { { FALSE } };
  guint failures = 0, checked = 0;

  g_ptr_array_add (p1, &k1);
  g_ptr_array_add (p2, &k2);
  targets_init (p1, p2);

  for (gsize r = 0; r < G_N_ELEMENTS (rows); r++) {
    const Row *row = &rows[r];

    g_assert_cmpuint (strlen (row->expected), ==, N_PRINCIPALS);
    op_seen[row->op] = TRUE;
    for (int p = 0; p < N_PRINCIPALS; p++) {
      gboolean expected = row->expected[p] == 'Y';
      gboolean got = signaling_policy_allows (&principals[p], row->op, &targets[row->target]);

      checked++;
      if (got)
        allowed_seen[principals[p].role][row->op] = TRUE;
      else
        denied_seen[principals[p].role][row->op] = TRUE;
      if (got != expected) {
        g_printerr ("row %zu: %s on %s by principal %d (%s): expected %s, got %s\n", r,
                    signaling_operation_to_string (row->op), target_names[row->target], p,
                    records_role_to_string (principals[p].role), expected ? "allow" : "deny",
                    got ? "allow" : "deny");
        failures++;
      }
    }
  }
  g_assert_cmpuint (failures, ==, 0);
  g_assert_cmpuint (checked, ==, G_N_ELEMENTS (rows) * N_PRINCIPALS);
  for (int op = 0; op < SIGNALING_OP_COUNT; op++) {
    gboolean op_allowed = FALSE, op_denied = FALSE;

    g_assert_true (op_seen[op]);
    /* Each operation is both allowed to someone and refused to someone. */
    for (int role = RECORDS_ROLE_CLINICIAN; role <= RECORDS_ROLE_PATIENT; role++) {
      op_allowed = op_allowed || allowed_seen[role][op];
      op_denied = op_denied || denied_seen[role][op];
    }
    g_assert_true (op_allowed);
    g_assert_true (op_denied);
  }

  /* Facts the issue names, read off the matrix as aggregates. */
  for (int op = 0; op < SIGNALING_OP_COUNT; op++) {
    /* An auditor touches no patient data and no media. */
    if (op != SIGNALING_OP_AUDIT_READ && op != SIGNALING_OP_DIRECTORY_READ)
      g_assert_false (allowed_seen[RECORDS_ROLE_AUDITOR][op]);
    /* An administrator joins no room and reads no patient data. */
    if (op == SIGNALING_OP_ROOM_JOIN || op == SIGNALING_OP_PATIENT_READ
        || op == SIGNALING_OP_CONSULTATION_READ || op == SIGNALING_OP_CONSENT_READ
        || op == SIGNALING_OP_RECORDING_PLAYBACK || op == SIGNALING_OP_PATIENT_SEARCH
        || op == SIGNALING_OP_BRIEFING_JOIN || op == SIGNALING_OP_BRIEFING_PUBLISH)
      g_assert_false (allowed_seen[RECORDS_ROLE_ADMINISTRATOR][op]);
  }
  /* Every role is allowed something and denied something. */
  for (int role = RECORDS_ROLE_CLINICIAN; role <= RECORDS_ROLE_PATIENT; role++) {
    gboolean any_allowed = FALSE, any_denied = FALSE;

    for (int op = 0; op < SIGNALING_OP_COUNT; op++) {
      any_allowed = any_allowed || allowed_seen[role][op];
      any_denied = any_denied || denied_seen[role][op];
    }
    g_assert_true (any_allowed);
    g_assert_true (any_denied);
  }
}

/* A token for one consultation opens no other, whatever the op. */
static void
test_patient_token_scope (void)
{
  RecordsConsultation k1_copy = k1;
  SignalingPrincipal pat = principals[PAT1];

  /* Same patient, another consultation: still refused. */
  k1_copy.id = "k-1b";
  for (int op = 0; op < SIGNALING_OP_COUNT; op++) {
    SignalingPolicyTarget target = { .consultation = &k1_copy };

    g_assert_false (signaling_policy_allows (&pat, op, &target));
  }
  g_assert_true (signaling_policy_in_consultation (&pat, &k1));
  g_assert_false (signaling_policy_in_consultation (&pat, &k1_copy));
  /* A staff principal without a user id (malformed) gets nothing. */
  pat = principals[C1];
  pat.user_id = NULL;
  for (int op = 0; op < SIGNALING_OP_COUNT; op++) {
    SignalingPolicyTarget target = { .consultation = &k1, .patient_id = "p-1",
                                     .patient_facility_id = "f-a" };

    g_assert_false (signaling_policy_allows (&pat, op, &target));
  }
  g_assert_false (signaling_policy_allows (&principals[C1], SIGNALING_OP_COUNT, NULL));
  g_assert_false (signaling_policy_allows (&principals[C1], SIGNALING_OP_ROOM_JOIN, NULL));
}

static void
test_principal_copy (void)
{
  g_autoptr (SignalingPrincipal) copy = signaling_principal_copy (&principals[PAT1]);

  g_assert_cmpstr (copy->consultation_id, ==, "k-1");
  g_assert_true (copy->consultation_id != principals[PAT1].consultation_id);
  g_assert_cmpstr (signaling_principal_actor_id (copy), ==, "i-1");
  g_assert_cmpstr (signaling_principal_actor_id (&principals[C1]), ==, "u-c1");
  g_assert_cmpstr (signaling_operation_to_string (SIGNALING_OP_ROOM_JOIN), ==, "room-join");
  g_assert_cmpstr (signaling_operation_to_string (SIGNALING_OP_COUNT), ==, "unknown");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/policy/matrix", test_matrix);
  g_test_add_func ("/policy/patient-token-scope", test_patient_token_scope);
  g_test_add_func ("/policy/principal-copy", test_principal_copy);
  return g_test_run ();
}
