/* identifiers.c — CCCD and BHYT numbers, checked as records.h says. */
#include "records.h"

#include <string.h>

#include "records-priv.h"

/* Province and city codes of the CCCD's first three digits: the 63 codes of
 * the annex of Circular 07/2016/TT-BCA (implementing Decree 137/2015/NĐ-CP),
 * which follow the administrative codes of Decision 124/2004/QĐ-TTg. */
static const struct {
  const char *code;
  const char *name;
} provinces[] = {
  { "001", "Hà Nội" },           { "002", "Hà Giang" },        { "004", "Cao Bằng" },
  { "006", "Bắc Kạn" },          { "008", "Tuyên Quang" },     { "010", "Lào Cai" },
  { "011", "Điện Biên" },        { "012", "Lai Châu" },        { "014", "Sơn La" },
  { "015", "Yên Bái" },          { "017", "Hòa Bình" },        { "019", "Thái Nguyên" },
  { "020", "Lạng Sơn" },         { "022", "Quảng Ninh" },      { "024", "Bắc Giang" },
  { "025", "Phú Thọ" },          { "026", "Vĩnh Phúc" },       { "027", "Bắc Ninh" },
  { "030", "Hải Dương" },        { "031", "Hải Phòng" },       { "033", "Hưng Yên" },
  { "034", "Thái Bình" },        { "035", "Hà Nam" },          { "036", "Nam Định" },
  { "037", "Ninh Bình" },        { "038", "Thanh Hóa" },       { "040", "Nghệ An" },
  { "042", "Hà Tĩnh" },          { "044", "Quảng Bình" },      { "045", "Quảng Trị" },
  { "046", "Thừa Thiên Huế" },   { "048", "Đà Nẵng" },         { "049", "Quảng Nam" },
  { "051", "Quảng Ngãi" },       { "052", "Bình Định" },       { "054", "Phú Yên" },
  { "056", "Khánh Hòa" },        { "058", "Ninh Thuận" },      { "060", "Bình Thuận" },
  { "062", "Kon Tum" },          { "064", "Gia Lai" },         { "066", "Đắk Lắk" },
  { "067", "Đắk Nông" },         { "068", "Lâm Đồng" },        { "070", "Bình Phước" },
  { "072", "Tây Ninh" },         { "074", "Bình Dương" },      { "075", "Đồng Nai" },
  { "077", "Bà Rịa - Vũng Tàu" }, { "079", "Hồ Chí Minh" },     { "080", "Long An" },
  { "082", "Tiền Giang" },       { "083", "Bến Tre" },         { "084", "Trà Vinh" },
  { "086", "Vĩnh Long" },        { "087", "Đồng Tháp" },       { "089", "An Giang" },
  { "091", "Kiên Giang" },       { "092", "Cần Thơ" },         { "093", "Hậu Giang" },
  { "094", "Sóc Trăng" },        { "095", "Bạc Liêu" },        { "096", "Cà Mau" },
};

G_STATIC_ASSERT (G_N_ELEMENTS (provinces) == 63);

/* Beneficiary group codes of a BHYT card (Circular 01/2021/TT-BYT annex). */
static const char *const bhyt_groups[] = {
  "DN", "HX", "CH", "NN", "TK", "HC", "XK", "CA", "HT", "TB", "MS", "XB", "XN", "TN",
  "CC", "CK", "CB", "KC", "HD", "TE", "BT", "HN", "DT", "DK", "XD", "TS", "TC", "TQ",
  "TA", "TY", "HG", "LS", "PV", "CN", "HS", "SV", "GB", "GD", "NO", "QN", "CY", "XV",
};

const char *
records_province_name (const char *code)
{
  if (code == NULL)
    return NULL;
  for (gsize i = 0; i < G_N_ELEMENTS (provinces); i++)
    if (strcmp (provinces[i].code, code) == 0)
      return provinces[i].name;
  return NULL;
}

static gboolean
all_digits (const char *text, gsize length)
{
  for (gsize i = 0; i < length; i++)
    if (!g_ascii_isdigit (text[i]))
      return FALSE;
  return TRUE;
}

int
records_cccd_birth_year (const char *cccd)
{
  int century = (cccd[3] - '0') / 2;

  return 1900 + 100 * century + (cccd[4] - '0') * 10 + (cccd[5] - '0');
}

gboolean
records_cccd_is_female (const char *cccd)
{
  return (cccd[3] - '0') % 2 == 1;
}

gboolean
records_cccd_validate (const char *cccd, int birth_year, GError **error)
{
  char province[4];

  if (cccd == NULL || strlen (cccd) != 12 || !all_digits (cccd, 12)) {
    g_set_error (error, RECORDS_ERROR, RECORDS_ERROR_INVALID,
                 "cccd: must be exactly 12 digits");
    return FALSE;
  }
  memcpy (province, cccd, 3);
  province[3] = '\0';
  if (records_province_name (province) == NULL) {
    g_set_error (error, RECORDS_ERROR, RECORDS_ERROR_INVALID,
                 "cccd: digits 1-3 (%s) are not a province code", province);
    return FALSE;
  }
  /* Digit 4 is always 0-9 here: each value names a century and a sex. */
  if (birth_year > 0 && records_cccd_birth_year (cccd) != birth_year) {
    g_set_error (error, RECORDS_ERROR, RECORDS_ERROR_INVALID,
                 "cccd: digits 4-6 give birth year %d, not %d", records_cccd_birth_year (cccd),
                 birth_year);
    return FALSE;
  }
  return TRUE;
}

gboolean
records_bhyt_validate (const char *bhyt, GError **error)
{
  gboolean known = FALSE;

  if (bhyt == NULL || strlen (bhyt) != 15) {
    g_set_error (error, RECORDS_ERROR, RECORDS_ERROR_INVALID,
                 "bhyt: must be exactly 15 characters");
    return FALSE;
  }
  for (gsize i = 0; i < G_N_ELEMENTS (bhyt_groups); i++)
    if (bhyt[0] == bhyt_groups[i][0] && bhyt[1] == bhyt_groups[i][1])
      known = TRUE;
  if (!known) {
    g_set_error (error, RECORDS_ERROR, RECORDS_ERROR_INVALID,
                 "bhyt: characters 1-2 are not a beneficiary group code");
    return FALSE;
  }
  if (bhyt[2] < '1' || bhyt[2] > '5') {
    g_set_error (error, RECORDS_ERROR, RECORDS_ERROR_INVALID,
                 "bhyt: character 3 (benefit level) must be 1-5");
    return FALSE;
  }
  if (!all_digits (bhyt + 3, 2) || (bhyt[3] == '0' && bhyt[4] == '0')) {
    g_set_error (error, RECORDS_ERROR, RECORDS_ERROR_INVALID,
                 "bhyt: characters 4-5 (province code) must be 01-99");
    return FALSE;
  }
  if (!all_digits (bhyt + 5, 10)) {
    g_set_error (error, RECORDS_ERROR, RECORDS_ERROR_INVALID,
                 "bhyt: characters 6-15 (social-insurance number) must be 10 digits");
    return FALSE;
  }
  return TRUE;
}
