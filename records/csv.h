/* csv.h — a bounded RFC 4180 reader for `cau patient import`.
 *
 * Pure: no I/O, no allocation, no GLib.  The caller holds the whole input in
 * memory and a RecordsCsvRecord to read each record into.
 *
 * What it accepts (RFC 4180 §2, and what spreadsheet programs write):
 *   - records end with CRLF, LF or a lone CR; the last may have no line end;
 *   - a field is either bare (no '"' inside) or enclosed in double quotes,
 *     where it may hold commas, line ends and doubled quotes ("" → ");
 *   - a UTF-8 byte-order mark at the very start is skipped;
 *   - empty lines between records are skipped (they hold no record).
 * Bytes are passed through unchanged: checking that a field is UTF-8 is the
 * caller's job.
 *
 * What it refuses, one record at a time (RECORDS_CSV_BAD with a reason, the
 * rest of the input still readable): a quote inside a bare field, text after
 * a closing quote, a NUL byte, more than RECORDS_CSV_MAX_FIELDS fields, more
 * than RECORDS_CSV_MAX_RECORD bytes of field text.  After a bad record the
 * reader resumes at the next physical line end (outside quotes when the
 * record broke inside a quoted field that later closes, else the first one).
 * A quoted field that never closes is bad and ends the input.
 *
 * Line numbers are physical lines (1-based) as a text editor shows them,
 * so a record whose quoted field spans three lines starting on line 4 is
 * reported as line 4, and the next record starts on line 7.
 */
#pragma once

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define RECORDS_CSV_MAX_FIELDS 64
#define RECORDS_CSV_MAX_RECORD 65536   /* bytes of field text in one record */

typedef struct {
  const char *data;
  size_t size;
  size_t offset;         /* next byte to read                                */
  unsigned long line;    /* physical line of data[offset], 1-based           */
} RecordsCsvReader;

typedef struct {
  unsigned long line;    /* physical line the record starts on               */
  size_t n_fields;
  /* fields[i] points into text, NUL-terminated; valid until the next read. */
  const char *fields[RECORDS_CSV_MAX_FIELDS];
  size_t lengths[RECORDS_CSV_MAX_FIELDS];
  char text[RECORDS_CSV_MAX_RECORD + RECORDS_CSV_MAX_FIELDS];
} RecordsCsvRecord;

typedef enum {
  RECORDS_CSV_RECORD,    /* @record holds the next record                    */
  RECORDS_CSV_END,       /* no more records                                  */
  RECORDS_CSV_BAD,       /* a malformed record was skipped: record->line says
                          * where, *out_reason why (a static string)         */
} RecordsCsvStatus;

/* Starts reading @size bytes at @data (kept by reference, not copied). */
void records_csv_reader_init (RecordsCsvReader *reader, const char *data, size_t size);

/* Reads the next record into @record.  Each call either returns END or
 * consumes at least one byte, so a loop until END terminates.
 * @out_reason may be NULL. */
RecordsCsvStatus records_csv_read (RecordsCsvReader *reader, RecordsCsvRecord *record,
                                   const char **out_reason);

#ifdef __cplusplus
}
#endif
