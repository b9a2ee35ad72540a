/* records-priv.h — helpers shared by records/ source files (not for other modules). */
#pragma once

#include "records.h"
#include "store-priv.h"

G_BEGIN_DECLS

/* identifiers.c */
/* The province's name for a 3-digit CCCD province code, or NULL. */
const char *records_province_name (const char *code);
/* For a CCCD that passed records_cccd_validate. */
int records_cccd_birth_year (const char *cccd);
gboolean records_cccd_is_female (const char *cccd);

/* Bounds of text fields, in characters. */
#define RECORDS_MAX_NAME 200
#define RECORDS_MAX_SHORT 64
#define RECORDS_MAX_ADDRESS 500
#define RECORDS_MAX_TEXT 10000

typedef enum {
  RECORDS_TEXT_OPTIONAL = 1 << 0,   /* NULL allowed                      */
  RECORDS_TEXT_MULTILINE = 1 << 1,  /* newlines and tabs allowed          */
} RecordsTextFlags;

/* Checks that @value is valid UTF-8 of 1..@max_chars characters (NULL only
 * with RECORDS_TEXT_OPTIONAL) without control characters (but \n, \r, \t
 * with RECORDS_TEXT_MULTILINE).  Else RECORDS_ERROR_INVALID naming @field. */
gboolean records_check_text (const char *field, const char *value, glong max_chars,
                             RecordsTextFlags flags, GError **error);
/* A required value that must be one of the NULL-terminated @allowed. */
gboolean records_check_enum (const char *field, const char *value,
                             const char *const *allowed, GError **error);
/* A required ISO-8601 date-time ("2025-01-02T03:04:05Z", offsets and
 * fractions allowed); (transfer full) its UTC text with milliseconds. */
char *records_check_time (const char *field, const char *value, GError **error);

/* A new random id (UUID v4 text), transfer full. */
char *records_new_id (void);

/* TRUE when `SELECT 1 FROM <table> WHERE id = ?` (@sql) finds @id; else
 * FALSE + RECORDS_ERROR_INVALID "@field: no such @what" (or a query error). */
gboolean records_check_reference (RecordsStore *store, const char *sql, const char *field,
                                  const char *id, GError **error);

/* Sets RECORDS_ERROR_NOT_FOUND "@what @id not found". */
void records_set_not_found (GError **error, const char *what, const char *id);

/* gint64 ↔ text for BIGINT columns. */
char *records_int_to_text (gint64 value);
gint64 records_text_to_int (const char *text);

/* Hex SHA-256 of @length bytes (transfer full). */
char *records_sha256_hex (const void *data, gsize length);

/* List limits: 0 → @fallback, else min (@limit, @max). */
guint records_clamp_limit (guint limit, guint fallback, guint max);

G_END_DECLS
