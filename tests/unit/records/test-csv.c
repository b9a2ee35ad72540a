/* test-csv.c — records/csv.c: RFC 4180 records, quoting, line numbers of
 * multi-line records, each kind of bad record and what is read after it. */
#include <glib.h>
#include <string.h>

#include "csv.h"

typedef struct {
  RecordsCsvReader reader;
  RecordsCsvRecord *record;
  const char *reason;
} Fixture;

static void
start (Fixture *f, const char *data, size_t size)
{
  if (f->record == NULL)
    f->record = g_new0 (RecordsCsvRecord, 1);
  records_csv_reader_init (&f->reader, data, size);
}

/* Reads one record and checks its line and fields ("a|b|c" joined by '|'). */
static void
expect_record (Fixture *f, unsigned long line, const char *joined)
{
  g_auto (GStrv) want = g_strsplit (joined, "|", -1);
  RecordsCsvStatus status = records_csv_read (&f->reader, f->record, &f->reason);

  g_assert_cmpint (status, ==, RECORDS_CSV_RECORD);
  g_assert_null (f->reason);
  g_assert_cmpuint (f->record->line, ==, line);
  g_assert_cmpuint (f->record->n_fields, ==, g_strv_length (want));
  for (size_t i = 0; i < f->record->n_fields; i++) {
    g_assert_cmpstr (f->record->fields[i], ==, want[i]);
    g_assert_cmpuint (f->record->lengths[i], ==, strlen (want[i]));
  }
}

static void
expect_bad (Fixture *f, unsigned long line, const char *reason_part)
{
  RecordsCsvStatus status = records_csv_read (&f->reader, f->record, &f->reason);

  g_assert_cmpint (status, ==, RECORDS_CSV_BAD);
  g_assert_cmpuint (f->record->line, ==, line);
  g_assert_nonnull (f->reason);
  g_assert_nonnull (strstr (f->reason, reason_part));
  g_assert_cmpuint (f->record->n_fields, ==, 0);
}

static void
expect_end (Fixture *f)
{
  g_assert_cmpint (records_csv_read (&f->reader, f->record, &f->reason), ==, RECORDS_CSV_END);
  /* and stays at the end */
  g_assert_cmpint (records_csv_read (&f->reader, f->record, &f->reason), ==, RECORDS_CSV_END);
}

static void
fixture_clear (Fixture *f)
{
  g_free (f->record);
}

static void
test_plain (void)
{
  Fixture f = { 0 };
  const char *data = "cccd,name\n038058000101,An\r\n024080000201,Đức";

  start (&f, data, strlen (data));
  expect_record (&f, 1, "cccd|name");
  expect_record (&f, 2, "038058000101|An");
  expect_record (&f, 3, "024080000201|Đức");   /* no line end at the end */
  expect_end (&f);
  fixture_clear (&f);
}

static void
test_quoting (void)
{
  Fixture f = { 0 };
  /* RFC 4180 §2 rules 5-7: commas, line ends and doubled quotes in quotes. */
  const char *data =
    "a,b,c\r\n"
    "\"Thôn 3, xã Đông Hòa\",\"say \"\"hi\"\"\",\"\"\r\n"
    "\"line one\r\nline two\nline three\",x,\r\n"
    ",,\n"
    "last,\"\",end\n";

  start (&f, data, strlen (data));
  expect_record (&f, 1, "a|b|c");
  expect_record (&f, 2, "Thôn 3, xã Đông Hòa|say \"hi\"|");
  expect_record (&f, 3, "line one\r\nline two\nline three|x|");
  expect_record (&f, 6, "||");
  expect_record (&f, 7, "last||end");
  expect_end (&f);
  g_assert_cmpuint (f.reader.line, ==, 8);
  fixture_clear (&f);
}

static void
test_line_ends_and_bom (void)
{
  Fixture f = { 0 };
  const char data[] = "\xEF\xBB\xBFh1,h2\r\rone,1\r\n\n\ntwo,2\r\"x\ry\",3\r";

  start (&f, data, sizeof data - 1);
  expect_record (&f, 1, "h1|h2");          /* BOM dropped */
  expect_record (&f, 3, "one|1");          /* empty line (lone CR) skipped */
  expect_record (&f, 6, "two|2");
  expect_record (&f, 7, "x\ry|3");
  expect_end (&f);
  g_assert_cmpuint (f.reader.line, ==, 9);
  fixture_clear (&f);
}

static void
test_bad_records (void)
{
  Fixture f = { 0 };
  const char data[] =
    "h1,h2\n"
    "ab\"c,d\n"                     /* 2: quote in a bare field            */
    "\"ab\"c,d\n"                   /* 3: text after the closing quote      */
    "ok,3\n"                        /* 4                                    */
    "\"a\0b\",\"multi\nline\"\n"    /* 5-6: NUL inside quotes; record skipped whole */
    "ok,7\n"                        /* 7                                    */
    "\"never closed,8\nmore\n";     /* 8: runs to the end                   */

  start (&f, data, sizeof data - 1);
  expect_record (&f, 1, "h1|h2");
  expect_bad (&f, 2, "quote inside an unquoted field");
  expect_bad (&f, 3, "after a closing quote");
  expect_record (&f, 4, "ok|3");
  expect_bad (&f, 5, "NUL");
  expect_record (&f, 7, "ok|7");
  expect_bad (&f, 8, "not closed");
  expect_end (&f);
  fixture_clear (&f);
}

static void
test_bounds (void)
{
  Fixture f = { 0 };
  GString *data = g_string_new (NULL);
  g_autofree char *long_field = g_strnfill (RECORDS_CSV_MAX_RECORD, 'x');

  /* 64 fields are fine, 65 are not; the next record is still read. */
  for (int i = 0; i < RECORDS_CSV_MAX_FIELDS; i++)
    g_string_append (data, i ? ",f" : "f");
  g_string_append (data, "\n");
  for (int i = 0; i < RECORDS_CSV_MAX_FIELDS + 1; i++)
    g_string_append (data, i ? ",\"g\"" : "\"g\"");
  g_string_append (data, "\nafter,1\n");
  /* exactly the byte limit is fine, one more byte is not */
  g_string_append_printf (data, "%s\n%s,y\nlast,2\n", long_field, long_field);

  start (&f, data->str, data->len);
  g_assert_cmpint (records_csv_read (&f.reader, f.record, &f.reason), ==, RECORDS_CSV_RECORD);
  g_assert_cmpuint (f.record->n_fields, ==, RECORDS_CSV_MAX_FIELDS);
  expect_bad (&f, 2, "more than 64 fields");
  expect_record (&f, 3, "after|1");
  g_assert_cmpint (records_csv_read (&f.reader, f.record, &f.reason), ==, RECORDS_CSV_RECORD);
  g_assert_cmpuint (f.record->lengths[0], ==, RECORDS_CSV_MAX_RECORD);
  expect_bad (&f, 5, "longer than");
  expect_record (&f, 6, "last|2");
  expect_end (&f);
  g_string_free (data, TRUE);
  fixture_clear (&f);
}

static void
test_empty (void)
{
  Fixture f = { 0 };

  start (&f, "", 0);
  expect_end (&f);
  start (&f, "\xEF\xBB\xBF\r\n\n", 5);
  expect_end (&f);
  start (&f, NULL, 0);
  expect_end (&f);
  fixture_clear (&f);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/records/csv/plain", test_plain);
  g_test_add_func ("/records/csv/quoting", test_quoting);
  g_test_add_func ("/records/csv/line-ends-and-bom", test_line_ends_and_bom);
  g_test_add_func ("/records/csv/bad-records", test_bad_records);
  g_test_add_func ("/records/csv/bounds", test_bounds);
  g_test_add_func ("/records/csv/empty", test_empty);
  return g_test_run ();
}
