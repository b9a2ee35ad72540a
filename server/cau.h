/* cau.h — what the files of `cau` (server/cau*.c) share: the command
 * table's entry, option parsing, opening the store, the audit event of a
 * CLI action and the exit statuses.  Not a library: only cau uses it.
 *
 * Exit status: 0 done; CAU_EXIT_REFUSED (1) refused or failed (invalid or
 * duplicate input, rejected CSV rows, a broken audit chain);
 * CAU_EXIT_USAGE (2) usage, I/O or store errors.
 */
#pragma once

#include <glib.h>

#include "records.h"

G_BEGIN_DECLS

#define CAU_EXIT_REFUSED 1
#define CAU_EXIT_USAGE 2

/* actor_id of every audit event cau writes (role "system", source "cli"). */
#define CAU_ACTOR "cli"

typedef struct {
  const char *name;          /* "facility create"                        */
  const char *args;          /* positional arguments shown in --help     */
  const char *summary;
  int (*run) (int argc, char **argv);   /* argv[0] is the command's last word */
} CauCommand;

/* Parses the command's options (@entries plus --data-dir/--database).
 * FALSE after printing the error: exit CAU_EXIT_USAGE. */
gboolean cau_parse_command (const CauCommand *command, const GOptionEntry *entries, int *argc,
                            char ***argv);
/* Prints @message with a pointer to --help; returns CAU_EXIT_USAGE. */
int cau_usage_error (const CauCommand *command, const char *message);

/* Opens the store (--database URI, else SQLite in --data-dir).  A write
 * (@create) may create the data directory (0700) and the database; a read
 * needs an existing database.  (transfer full), or NULL after printing why. */
RecordsStore *cau_open_store (gboolean create);

/* caud's data directory as caud resolves it (transfer full), or NULL after
 * printing why. */
char *cau_data_dir (void);

/* Appends the audit event of one CLI action (actor "cli", role "system",
 * source "cli", outcome "success").  @entity_id, @patient_id may be NULL. */
gboolean cau_audit (RecordsStore *store, const char *action, const char *entity_type,
                    const char *entity_id, const char *patient_id, const char *detail,
                    GError **error);

/* Prints "cau: @what: message"; returns CAU_EXIT_REFUSED for refused input
 * (invalid, conflict, not found), else CAU_EXIT_USAGE. */
int cau_records_failure (const char *what, const GError *error);

/* @text, or "-" when NULL or empty (transfer none). */
const char *cau_or_dash (const char *text);

/* (transfer full) facility id → code, for listings; NULL + @error. */
GHashTable *cau_facility_codes (RecordsStore *store, GError **error);

/* The commands (server/cau-directory.c, cau-patient.c, cau.c). */
int cau_facility_create (int argc, char **argv);
int cau_facility_list (int argc, char **argv);
int cau_user_create (int argc, char **argv);
int cau_user_list (int argc, char **argv);
int cau_user_unlock (int argc, char **argv);
int cau_patient_import (int argc, char **argv);
int cau_patient_list (int argc, char **argv);
int cau_audit_verify (int argc, char **argv);
int cau_audit_list (int argc, char **argv);
int cau_demo (int argc, char **argv);
int cau_recordings_list (int argc, char **argv);
int cau_recordings_export (int argc, char **argv);

G_END_DECLS
