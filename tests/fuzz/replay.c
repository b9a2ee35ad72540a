/* replay.c — runs a libFuzzer target without libFuzzer: feeds every file
 * named on the command line, and every regular file of every directory
 * named there, to LLVMFuzzerTestOneInput() once.  Used by `meson test
 * --suite fuzz` so the corpus (seeds and kept crashers) runs as an
 * ordinary regression test in every build.  Exit 0 when all inputs ran;
 * a crash or __builtin_trap() in the target fails the test. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static int
run_file (const char *path)
{
  FILE *f = fopen (path, "rb");
  if (f == NULL) {
    perror (path);
    return -1;
  }
  uint8_t *buf = NULL;
  size_t len = 0, cap = 0;
  for (;;) {
    if (len == cap) {
      cap = cap ? cap * 2 : 4096;
      uint8_t *nb = realloc (buf, cap);
      if (nb == NULL) {
        free (buf);
        fclose (f);
        return -1;
      }
      buf = nb;
    }
    size_t got = fread (buf + len, 1, cap - len, f);
    len += got;
    if (got == 0)
      break;
  }
  fclose (f);
  /* an exact-size copy, so that ASan sees reads past the input */
  uint8_t *exact = malloc (len ? len : 1);
  if (exact == NULL) {
    free (buf);
    return -1;
  }
  memcpy (exact, buf, len);
  free (buf);
  LLVMFuzzerTestOneInput (exact, len);
  free (exact);
  return 0;
}

int
main (int argc, char **argv)
{
  unsigned ran = 0, failed = 0;
  for (int i = 1; i < argc; i++) {
    struct stat st;
    if (stat (argv[i], &st) != 0) {
      perror (argv[i]);
      failed++;
      continue;
    }
    if (!S_ISDIR (st.st_mode)) {
      if (run_file (argv[i]) == 0)
        ran++;
      else
        failed++;
      continue;
    }
    DIR *d = opendir (argv[i]);
    if (d == NULL) {
      perror (argv[i]);
      failed++;
      continue;
    }
    struct dirent *e;
    while ((e = readdir (d)) != NULL) {
      if (e->d_name[0] == '.')
        continue;
      size_t n = strlen (argv[i]) + strlen (e->d_name) + 2;
      char *path = malloc (n);
      if (path == NULL)
        break;
      snprintf (path, n, "%s/%s", argv[i], e->d_name);
      if (stat (path, &st) == 0 && S_ISREG (st.st_mode)) {
        if (run_file (path) == 0)
          ran++;
        else
          failed++;
      }
      free (path);
    }
    closedir (d);
  }
  printf ("replayed %u inputs, %u unreadable\n", ran, failed);
  return failed || ran == 0 ? 1 : 0;
}
