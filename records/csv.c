/* csv.c — a bounded RFC 4180 reader (see csv.h for what it accepts). */
#include "csv.h"

#include <string.h>

void
records_csv_reader_init (RecordsCsvReader *reader, const char *data, size_t size)
{
  reader->data = data;
  reader->size = data ? size : 0;
  reader->offset = 0;
  reader->line = 1;
  /* A UTF-8 byte-order mark, as spreadsheet programs write, is not data. */
  if (reader->size >= 3 && memcmp (data, "\xEF\xBB\xBF", 3) == 0)
    reader->offset = 3;
}

static int
peek (const RecordsCsvReader *reader, size_t ahead)
{
  size_t at = reader->offset + ahead;

  return at < reader->size ? (unsigned char) reader->data[at] : -1;
}

/* Consumes one line end (CRLF, LF or a lone CR) at the reader's offset. */
static void
consume_line_end (RecordsCsvReader *reader)
{
  if (peek (reader, 0) == '\r' && peek (reader, 1) == '\n')
    reader->offset++;
  reader->offset++;
  reader->line++;
}

static int
is_line_end (int c)
{
  return c == '\r' || c == '\n';
}

/* After a syntax error: skips to just past the next physical line end. */
static void
skip_line (RecordsCsvReader *reader)
{
  int c;

  while ((c = peek (reader, 0)) >= 0 && !is_line_end (c))
    reader->offset++;
  if (c >= 0)
    consume_line_end (reader);
}

/* The record being built.  Once @reason is set the record is bad: parsing
 * goes on (so that the reader ends up after the record) but stores nothing. */
typedef struct {
  RecordsCsvRecord *record;
  size_t out;            /* bytes used in record->text, NULs included        */
  size_t field_bytes;    /* bytes of field text, NULs excluded               */
  const char *reason;
} Builder;

static void
emit (Builder *b, int c)
{
  if (b->reason)
    return;
  if (c == '\0') {
    b->reason = "NUL byte in a field";
    return;
  }
  if (b->field_bytes >= RECORDS_CSV_MAX_RECORD) {
    b->reason = "record longer than 65536 bytes";
    return;
  }
  b->record->text[b->out++] = (char) c;
  b->field_bytes++;
}

static void
begin_field (Builder *b)
{
  if (b->reason)
    return;
  if (b->record->n_fields >= RECORDS_CSV_MAX_FIELDS) {
    b->reason = "more than 64 fields";
    return;
  }
  b->record->fields[b->record->n_fields] = b->record->text + b->out;
}

static void
end_field (Builder *b)
{
  RecordsCsvRecord *record = b->record;

  if (b->reason)
    return;
  /* text has room for RECORDS_CSV_MAX_FIELDS NULs beyond the field bytes. */
  record->text[b->out] = '\0';
  record->lengths[record->n_fields] =
    (size_t) (record->text + b->out - record->fields[record->n_fields]);
  b->out++;
  record->n_fields++;
}

RecordsCsvStatus
records_csv_read (RecordsCsvReader *reader, RecordsCsvRecord *record, const char **out_reason)
{
  Builder b = { record, 0, 0, NULL };
  int c;

  if (out_reason)
    *out_reason = NULL;
  record->n_fields = 0;

  /* Empty lines hold no record. */
  while ((c = peek (reader, 0)) >= 0 && is_line_end (c))
    consume_line_end (reader);
  if (c < 0)
    return RECORDS_CSV_END;
  record->line = reader->line;

  for (;;) {
    begin_field (&b);
    if (peek (reader, 0) == '"') {
      reader->offset++;
      for (;;) {
        c = peek (reader, 0);
        if (c < 0) {
          if (out_reason)
            *out_reason = "quoted field not closed before the end of the file";
          record->n_fields = 0;
          return RECORDS_CSV_BAD;
        }
        if (c == '"') {
          if (peek (reader, 1) == '"') {
            emit (&b, '"');
            reader->offset += 2;
            continue;
          }
          reader->offset++;
          break;
        }
        /* A line end inside quotes is field text; count the physical line
         * once per CRLF (at its LF) or per lone CR. */
        if (c == '\n' || (c == '\r' && peek (reader, 1) != '\n'))
          reader->line++;
        emit (&b, c);
        reader->offset++;
      }
      c = peek (reader, 0);
      if (c >= 0 && c != ',' && !is_line_end (c)) {
        if (out_reason)
          *out_reason = "text after a closing quote";
        skip_line (reader);
        record->n_fields = 0;
        return RECORDS_CSV_BAD;
      }
    } else {
      while ((c = peek (reader, 0)) >= 0 && c != ',' && !is_line_end (c)) {
        if (c == '"') {
          if (out_reason)
            *out_reason = "quote inside an unquoted field";
          skip_line (reader);
          record->n_fields = 0;
          return RECORDS_CSV_BAD;
        }
        emit (&b, c);
        reader->offset++;
      }
    }
    end_field (&b);

    if (c == ',') {
      reader->offset++;
      continue;
    }
    if (c >= 0)
      consume_line_end (reader);
    break;
  }

  if (b.reason) {
    if (out_reason)
      *out_reason = b.reason;
    record->n_fields = 0;
    return RECORDS_CSV_BAD;
  }
  return RECORDS_CSV_RECORD;
}
