/* demo.h — the fictional demo world of a first run (DESIGN.md "First run").
 *
 * records_demo_seed() fills an empty store with a small, clearly fictional
 * telehealth network: a national hub hospital in Hà Nội; in each of Thanh
 * Hóa, Bắc Giang and Lâm Đồng a provincial hub hospital and two district
 * health centres; demo staff (a clinician and a nurse per district centre,
 * specialists at the hubs, one administrator, one auditor); ten synthetic
 * patients named "Bệnh nhân Demo ..." whose CCCD and BHYT numbers pass
 * records_cccd_validate() and records_bhyt_validate(); and two consultations
 * scheduled for today (UTC date, 02:00Z and 07:00Z = 09:00 and 14:00 in
 * Vietnam).  No real person, number or institution is meant.
 *
 * Each staff account gets a random password (15 characters from a 31-letter
 * alphabet, about 74 bits), returned once in @out_accounts so that the
 * caller can print it; it is never logged and only its Argon2id hash is
 * stored.
 *
 * Test-only: when the environment variable CAU_DEMO_PASSWORD is set and not
 * empty, every account gets that password instead (so that tests can log
 * in).  Never set it on a real deployment: every demo account would share
 * one known password.
 *
 * Threads: as the store (one thread).
 */
#pragma once

#include <glib.h>

#include "records.h"

G_BEGIN_DECLS

typedef struct {
  char *username;
  char *password;        /* plain text, shown once; wiped by _free          */
  RecordsRole role;
  char *facility_code;   /* NULL for the administrator and the auditor     */
  char *display_name;
} RecordsDemoAccount;

void records_demo_account_free (RecordsDemoAccount *account);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RecordsDemoAccount, records_demo_account_free)

/* Seeds the demo world into @store, which must hold no facility, user or
 * patient yet (else FALSE + RECORDS_ERROR_CONFLICT and nothing is written).
 * On success *@out_accounts (may be NULL) is (transfer full) a GPtrArray of
 * RecordsDemoAccount with its free function set, in a stable order.  The
 * writes are audited with actor "system", source "demo".  A failure part
 * way leaves what was written (the store is then not empty; start again
 * from an empty data directory). */
gboolean records_demo_seed (RecordsStore *store, GPtrArray **out_accounts, GError **error);

G_END_DECLS
