/* static.c — the web client's files over HTTPS. */
#include "static.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define MAX_REQUEST_PATH 1024

char *
signaling_static_normalize_path (const char *request_path)
{
  g_autofree char *decoded = NULL;
  g_auto (GStrv) segments = NULL;
  g_autoptr (GString) out = NULL;
  gboolean trailing_slash;

  if (request_path == NULL || request_path[0] != '/' || strlen (request_path) > MAX_REQUEST_PATH)
    return NULL;
  /* "/" in @illegal_characters: an encoded slash (%2F) is refused rather than
   * turned into a separator.  NUL (%00) is refused by g_uri_unescape_string. */
  decoded = g_uri_unescape_string (request_path, "/");
  if (decoded == NULL || strchr (decoded, '\\') != NULL)
    return NULL;

  out = g_string_new (NULL);
  segments = g_strsplit (decoded, "/", -1);
  for (char **segment = segments; *segment; segment++) {
    if (**segment == '\0')
      continue;
    /* "..", "." and hidden files (".git", ".env") are never served. */
    if (**segment == '.')
      return NULL;
    for (const char *c = *segment; *c; c++)
      if ((unsigned char) *c < 0x20 || *c == 0x7f)
        return NULL;
    if (out->len)
      g_string_append_c (out, '/');
    g_string_append (out, *segment);
  }
  trailing_slash = decoded[strlen (decoded) - 1] == '/';
  if (out->len == 0 || trailing_slash) {
    if (out->len)
      g_string_append_c (out, '/');
    g_string_append (out, "index.html");
  }
  if (!g_utf8_validate (out->str, (gssize) out->len, NULL))
    return NULL;
  return g_string_free (g_steal_pointer (&out), FALSE);
}

static const struct {
  const char *extension;
  const char *type;
} content_types[] = {
  { ".html", "text/html; charset=utf-8" },
  { ".htm", "text/html; charset=utf-8" },
  { ".js", "text/javascript; charset=utf-8" },
  { ".mjs", "text/javascript; charset=utf-8" },
  { ".css", "text/css; charset=utf-8" },
  { ".json", "application/json" },
  { ".map", "application/json" },
  { ".webmanifest", "application/manifest+json" },
  { ".svg", "image/svg+xml" },
  { ".png", "image/png" },
  { ".jpg", "image/jpeg" },
  { ".jpeg", "image/jpeg" },
  { ".gif", "image/gif" },
  { ".webp", "image/webp" },
  { ".ico", "image/x-icon" },
  { ".woff", "font/woff" },
  { ".woff2", "font/woff2" },
  { ".txt", "text/plain; charset=utf-8" },
  { ".wasm", "application/wasm" },
  { ".webm", "video/webm" },
  { ".mp3", "audio/mpeg" },
  { ".ogg", "audio/ogg" },
};

const char *
signaling_static_content_type (const char *file_name)
{
  const char *dot;

  g_return_val_if_fail (file_name != NULL, "application/octet-stream");
  dot = strrchr (file_name, '.');
  if (dot && strchr (dot, '/') == NULL)
    for (gsize i = 0; i < G_N_ELEMENTS (content_types); i++)
      if (g_ascii_strcasecmp (dot, content_types[i].extension) == 0)
        return content_types[i].type;
  return "application/octet-stream";
}

static void
set_plain (SoupServerMessage *msg, guint status, const char *text)
{
  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, "text/plain; charset=utf-8", SOUP_MEMORY_COPY,
                                    text, strlen (text));
}

void
signaling_static_serve (SoupServerMessage *msg, const char *root)
{
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (msg);
  const char *method = soup_server_message_get_method (msg);
  g_autofree char *relative = NULL;
  g_autofree char *joined = NULL;
  g_autofree char *real_root = NULL;
  g_autofree char *real_file = NULL;
  g_autoptr (GMappedFile) mapped = NULL;
  g_autoptr (GBytes) bytes = NULL;
  size_t root_len;

  soup_message_headers_replace (headers, "Cache-Control", "no-cache");
  soup_message_headers_replace (headers, "X-Content-Type-Options", "nosniff");

  if (method != SOUP_METHOD_GET && method != SOUP_METHOD_HEAD) {
    soup_message_headers_replace (headers, "Allow", "GET, HEAD");
    set_plain (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "method not allowed\n");
    return;
  }

  relative = signaling_static_normalize_path (g_uri_get_path (soup_server_message_get_uri (msg)));
  if (relative == NULL || root == NULL)
    goto not_found;

  /* Resolve symlinks on both sides and insist the file stays under the root:
   * the normalised path already has no "..", this guards against links. */
  real_root = realpath (root, NULL);
  joined = g_build_filename (root, relative, NULL);
  real_file = realpath (joined, NULL);
  if (real_root == NULL || real_file == NULL)
    goto not_found;
  root_len = strlen (real_root);
  if (strncmp (real_file, real_root, root_len) != 0 || real_file[root_len] != '/')
    goto not_found;
  if (!g_file_test (real_file, G_FILE_TEST_IS_REGULAR))
    goto not_found;

  mapped = g_mapped_file_new (real_file, FALSE, NULL);
  if (mapped == NULL)
    goto not_found;
  bytes = g_mapped_file_get_bytes (mapped);
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_message_headers_replace (headers, "Content-Type", signaling_static_content_type (real_file));
  soup_message_body_append_bytes (soup_server_message_get_response_body (msg), bytes);
  return;

not_found:
  set_plain (msg, SOUP_STATUS_NOT_FOUND, "not found\n");
}
