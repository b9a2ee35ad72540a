/* fuzz-range.c — signaling/http-range.c: any Range header against several
 * representation sizes; a satisfiable answer always lies inside the file. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http-range.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  static const guint64 sizes[] = { 0, 1, 100, 1048576, G_MAXUINT64 };
  char *header = malloc (size + 1);

  if (header == NULL)
    return 0;
  memcpy (header, data, size);
  header[size] = '\0';
  for (size_t i = 0; i < G_N_ELEMENTS (sizes); i++) {
    guint64 first = 0, last = 0;

    if (signaling_http_range_parse (header, sizes[i], &first, &last) == SIGNALING_RANGE_OK
        && !(first <= last && last < sizes[i]))
      abort ();
  }
  free (header);
  return 0;
}
