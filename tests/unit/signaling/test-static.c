/* Tests signaling/static.c: path normalisation (traversal → refused) and
 * content types. */
#include "static.h"

static void
expect (const char *request, const char *expected)
{
  g_autofree char *got = signaling_static_normalize_path (request);

  if (g_strcmp0 (got, expected) != 0)
    g_error ("%s: expected %s, got %s", request, expected ? expected : "(refused)",
             got ? got : "(refused)");
}

static void
test_normalize (void)
{
  expect ("/", "index.html");
  expect ("/index.html", "index.html");
  expect ("/js/app.js", "js/app.js");
  expect ("//js///app.js", "js/app.js");
  expect ("/views/", "views/index.html");
  expect ("/t%C3%AAn.js", "tên.js");
  expect ("/a%20b.css", "a b.css");

  /* traversal and friends */
  expect ("/../etc/passwd", NULL);
  expect ("/js/../../etc/passwd", NULL);
  expect ("/%2e%2e/etc/passwd", NULL);
  expect ("/%2E%2E%2Fetc%2Fpasswd", NULL);
  expect ("/js/%2e%2e%2f%2e%2e%2fetc", NULL);
  expect ("/..%5cetc", NULL);
  expect ("/a\\b", NULL);
  expect ("/./index.html", NULL);
  expect ("/.git/config", NULL);
  expect ("/.env", NULL);
  expect ("/index.html%00.js", NULL);
  expect ("/a%0ab", NULL);
  expect ("/%zz", NULL);
  expect ("/%", NULL);
  expect ("/%ff", NULL);
  expect ("index.html", NULL);
  expect ("", NULL);
  expect (NULL, NULL);
  {
    g_autofree char *long_path = g_strnfill (2000, 'a');
    long_path[0] = '/';
    expect (long_path, NULL);
  }
}

static void
test_content_types (void)
{
  g_assert_cmpstr (signaling_static_content_type ("app.js"), ==, "text/javascript; charset=utf-8");
  g_assert_cmpstr (signaling_static_content_type ("a/b.mjs"), ==, "text/javascript; charset=utf-8");
  g_assert_cmpstr (signaling_static_content_type ("index.HTML"), ==, "text/html; charset=utf-8");
  g_assert_cmpstr (signaling_static_content_type ("s.css"), ==, "text/css; charset=utf-8");
  g_assert_cmpstr (signaling_static_content_type ("i.svg"), ==, "image/svg+xml");
  g_assert_cmpstr (signaling_static_content_type ("m.json"), ==, "application/json");
  g_assert_cmpstr (signaling_static_content_type ("x.bin"), ==, "application/octet-stream");
  g_assert_cmpstr (signaling_static_content_type ("a.d/noext"), ==, "application/octet-stream");
  g_assert_cmpstr (signaling_static_content_type ("Makefile"), ==, "application/octet-stream");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/signaling/static/normalize", test_normalize);
  g_test_add_func ("/signaling/static/content-types", test_content_types);
  return g_test_run ();
}
