/* store-priv.h — what records/ source files share about a RecordsStore. */
#pragma once

#include "db.h"
#include "store.h"

G_BEGIN_DECLS

/* The store's database (transfer none). */
RecordsDb *records_store_get_db (RecordsStore *store);

/* Now / a unix time in milliseconds as UTC ISO-8601 with milliseconds,
 * "2025-01-02T03:04:05.678Z" (transfer full); such strings sort in time
 * order. */
char *records_timestamp_now (void);
char *records_timestamp_from_unix_ms (gint64 unix_ms);

G_END_DECLS
