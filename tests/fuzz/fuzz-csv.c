/* fuzz-csv.c — libFuzzer target for records/csv.c (`cau patient import`).
 *
 * The input is a whole CSV file.  Invariants (trap on violation): every
 * call either ends or moves the reader on; a record has 1..64 fields whose
 * lengths match their NUL-terminated text and add up to at most 64 KiB;
 * line numbers never go back; a bad record comes with a reason; and a good
 * record written back with every field quoted parses again to the same
 * fields, as one record spanning the same number of physical lines. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"

#define CHECK(cond) do { if (!(cond)) __builtin_trap (); } while (0)

static RecordsCsvRecord record, again;
static char written[2 * (RECORDS_CSV_MAX_RECORD + RECORDS_CSV_MAX_FIELDS) + 8];

/* Physical lines a field's text spans beyond its first (LF, CRLF, lone CR). */
static unsigned long
count_breaks (const char *text, size_t length)
{
  unsigned long n = 0;

  for (size_t i = 0; i < length; i++)
    if (text[i] == '\n' || (text[i] == '\r' && (i + 1 == length || text[i + 1] != '\n')))
      n++;
  return n;
}

static void
check_round_trip (const RecordsCsvRecord *r)
{
  RecordsCsvReader reader;
  size_t out = 0;
  unsigned long breaks = 0;
  const char *reason;

  for (size_t i = 0; i < r->n_fields; i++) {
    if (i > 0)
      written[out++] = ',';
    written[out++] = '"';
    for (size_t j = 0; j < r->lengths[i]; j++) {
      if (r->fields[i][j] == '"')
        written[out++] = '"';
      written[out++] = r->fields[i][j];
    }
    written[out++] = '"';
    breaks += count_breaks (r->fields[i], r->lengths[i]);
  }
  written[out++] = '\r';
  written[out++] = '\n';
  CHECK (out <= sizeof written);

  /* written[0] is a quote, so a field starting with a BOM keeps it. */
  records_csv_reader_init (&reader, written, out);
  CHECK (records_csv_read (&reader, &again, &reason) == RECORDS_CSV_RECORD);
  CHECK (again.line == 1);
  CHECK (again.n_fields == r->n_fields);
  for (size_t i = 0; i < r->n_fields; i++) {
    CHECK (again.lengths[i] == r->lengths[i]);
    CHECK (memcmp (again.fields[i], r->fields[i], r->lengths[i]) == 0);
  }
  CHECK (reader.line == 2 + breaks);
  CHECK (records_csv_read (&reader, &again, &reason) == RECORDS_CSV_END);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  RecordsCsvReader reader;
  unsigned long last_line = 0;

  records_csv_reader_init (&reader, (const char *) data, size);
  for (;;) {
    size_t before = reader.offset;
    unsigned long line_before = reader.line;
    const char *reason = NULL;
    RecordsCsvStatus status = records_csv_read (&reader, &record, &reason);

    CHECK (reader.offset <= size);
    CHECK (reader.line >= line_before);
    if (status == RECORDS_CSV_END) {
      CHECK (reader.offset == size);
      break;
    }
    CHECK (reader.offset > before);
    CHECK (record.line > last_line || last_line == 0);
    CHECK (record.line >= line_before && record.line <= reader.line);
    last_line = record.line;

    if (status == RECORDS_CSV_BAD) {
      CHECK (reason != NULL && reason[0] != '\0');
      CHECK (record.n_fields == 0);
      continue;
    }
    CHECK (status == RECORDS_CSV_RECORD);
    CHECK (reason == NULL);
    CHECK (record.n_fields >= 1 && record.n_fields <= RECORDS_CSV_MAX_FIELDS);
    {
      size_t total = 0;

      for (size_t i = 0; i < record.n_fields; i++) {
        CHECK (strlen (record.fields[i]) == record.lengths[i]);
        total += record.lengths[i];
      }
      CHECK (total <= RECORDS_CSV_MAX_RECORD);
    }
    check_round_trip (&record);
  }
  return 0;
}
