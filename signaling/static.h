/* static.h — serving web-client/ as static files. */
#pragma once

#include <glib.h>
#include <libsoup/soup.h>

G_BEGIN_DECLS

/* Maps a request path (as on the wire: percent-encoded, starting with '/')
 * to a relative file path under the web client root, or NULL when the path
 * must not be served: not absolute, bad percent-encoding, an encoded '/' or
 * NUL, a backslash, a ".." or any segment starting with '.', or longer than
 * 1024 bytes.  Empty segments collapse; a path ending in '/' gets
 * "index.html".  Pure: does not touch the file system.  (transfer full) */
char *signaling_static_normalize_path (const char *request_path);

/* The Content-Type for @file_name by extension ("text/javascript" for .js
 * and .mjs); "application/octet-stream" when unknown.  (transfer none) */
const char *signaling_static_content_type (const char *file_name);

/* Answers a GET or HEAD for @msg from @root: 200 with the file, 404 when it
 * is missing, not a regular file, or resolves outside @root (symlinks), 405
 * for other methods.  Every answer carries Cache-Control: no-cache. */
void signaling_static_serve (SoupServerMessage *msg, const char *root);

G_END_DECLS
