/* test-poller.c — media/poller.c on real UDP sockets on 127.0.0.1: reading
 * with recvmmsg, removal from inside a callback, and the send queue, whose
 * runs of equal-sized datagrams leave as UDP GSO sends and must arrive as
 * the same datagrams, in order, byte for byte; split sends, completed by
 * the entry's seal function from the received datagram when the batch is
 * sent. */
#include <errno.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "peer.h"
#include "poller.h"

typedef struct {
  int fd;
  struct sockaddr_in addr;
} Sock;

static void
sock_open (Sock *s)
{
  socklen_t len = sizeof s->addr;

  s->fd = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  g_assert_cmpint (s->fd, >=, 0);
  memset (&s->addr, 0, sizeof s->addr);
  s->addr.sin_family = AF_INET;
  s->addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  g_assert_cmpint (bind (s->fd, (struct sockaddr *) &s->addr, sizeof s->addr), ==, 0);
  g_assert_cmpint (getsockname (s->fd, (struct sockaddr *) &s->addr, &len), ==, 0);
}

static void
sock_connect (Sock *s, const Sock *to)
{
  g_assert_cmpint (connect (s->fd, (const struct sockaddr *) &to->addr, sizeof to->addr), ==, 0);
}

/* A datagram of @len bytes whose content says which one it is. */
static void
fill (uint8_t *buf, size_t len, guint index)
{
  for (size_t i = 0; i < len; i++)
    buf[i] = (uint8_t) (index * 7 + i);
  if (len >= 4) {
    buf[0] = (uint8_t) (index >> 8);
    buf[1] = (uint8_t) index;
  }
}

/* ---- the fixture: datagrams into "in", the callback sends to "out" ---- */

typedef struct {
  MediaPoller *poller;
  MediaPollerEntry *in_entry, *out_entry;
  const guint *script;          /* sizes to send from the callback */
  guint script_len;
  guint callbacks;
  guint ticks;
  gboolean remove_in_callback;
} Fixture;

static void
on_in_datagram (gpointer user_data, uint8_t *buf, size_t len, const struct sockaddr *from,
                socklen_t from_len)
{
  Fixture *f = user_data;
  uint8_t out[MEDIA_PEER_BUFFER_SIZE];

  f->callbacks++;
  g_assert_cmpuint (len, ==, 3);
  g_assert_cmpint (from->sa_family, ==, AF_INET);
  if (f->remove_in_callback) {
    media_poller_remove (f->poller, f->in_entry);
    f->in_entry = NULL;
    return;
  }
  for (guint i = 0; i < f->script_len; i++) {
    fill (out, f->script[i], i);
    g_assert_true (media_poller_send (f->poller, f->out_entry, out, f->script[i]));
  }
}

static void
on_out_datagram (gpointer user_data, uint8_t *buf, size_t len, const struct sockaddr *from,
                 socklen_t from_len)
{
  g_assert_not_reached ();   /* nobody writes to the out socket */
}

static void
on_tick (gpointer user_data, gint64 now)
{
  Fixture *f = user_data;

  g_assert_cmpint (now, >, 0);
  f->ticks++;
}

/* A thread reads "out" as fast as the kernel delivers, so that no socket
 * buffer limit decides the test. */
typedef struct {
  int fd;
  guint expected;
  GPtrArray *got;               /* GBytes* */
} Reader;

static gpointer
reader_main (gpointer data)
{
  Reader *r = data;
  uint8_t buf[2048];
  struct timeval tv = { .tv_sec = 5 };

  setsockopt (r->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  while (r->got->len < r->expected) {
    ssize_t n = recv (r->fd, buf, sizeof buf, 0);

    if (n < 0)
      break;   /* timeout: the test reports what arrived */
    g_ptr_array_add (r->got, g_bytes_new (buf, (gsize) n));
  }
  return NULL;
}

static MediaStats stats;

/* Datagrams into "in" (in_tx → in_rx), the poller's callback sending to
 * "out" (out_tx → out_rx), read there by a Reader thread expecting
 * @expected datagrams. */
typedef struct {
  Sock in_tx, in_rx, out_tx, out_rx;
  Reader reader;
  GThread *thread;
} Link;

static void
link_open (Link *l, guint expected)
{
  sock_open (&l->in_tx);
  sock_open (&l->in_rx);
  sock_open (&l->out_tx);
  sock_open (&l->out_rx);
  sock_connect (&l->in_rx, &l->in_tx);
  sock_connect (&l->out_tx, &l->out_rx);
  l->reader.fd = l->out_rx.fd;
  l->reader.expected = expected;
  l->reader.got = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  l->thread = g_thread_new ("reader", reader_main, &l->reader);
}

/* Sends @len bytes into "in" and runs @context until @callbacks counts the
 * datagram's callback (5 s at most), then waits for the reader. */
static void
link_deliver (Link *l, GMainContext *context, const void *buf, size_t len, const guint *callbacks)
{
  gint64 deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;

  g_assert_cmpint (sendto (l->in_tx.fd, buf, len, 0, (struct sockaddr *) &l->in_rx.addr,
                           sizeof l->in_rx.addr), ==, (gssize) len);
  while (*callbacks == 0 && g_get_monotonic_time () < deadline)
    g_main_context_iteration (context, TRUE);
  g_assert_cmpuint (*callbacks, ==, 1);
  g_thread_join (l->thread);
}

static void
link_close (Link *l)
{
  g_ptr_array_unref (l->reader.got);
  close (l->in_tx.fd);
  close (l->in_rx.fd);
  close (l->out_tx.fd);
  close (l->out_rx.fd);
}

static void
run_script (const guint *script, guint script_len)
{
  static const MediaPollerFuncs in_funcs = { on_in_datagram, on_tick };
  static const MediaPollerFuncs out_funcs = { on_out_datagram, NULL };
  GMainContext *context = g_main_context_new ();
  Fixture f = { .script = script, .script_len = script_len };
  Link l;
  GPtrArray *got;
  guint64 gso_before = stats.gso_datagrams;

  link_open (&l, script_len);
  got = l.reader.got;
  f.poller = media_poller_new (context, &stats);
  f.in_entry = media_poller_add (f.poller, l.in_rx.fd, &in_funcs, &f);
  f.out_entry = media_poller_add (f.poller, l.out_tx.fd, &out_funcs, &f);
  g_assert_nonnull (f.in_entry);
  g_assert_nonnull (f.out_entry);
  link_deliver (&l, context, "abc", 3, &f.callbacks);

  /* Every datagram, in order, with its own size and bytes. */
  g_assert_cmpuint (got->len, ==, script_len);
  for (guint i = 0; i < script_len; i++) {
    uint8_t want[MEDIA_PEER_BUFFER_SIZE];
    gsize len;
    const uint8_t *bytes = g_bytes_get_data (g_ptr_array_index (got, i), &len);

    fill (want, script[i], i);
    g_assert_cmpuint (len, ==, script[i]);
    g_assert_cmpmem (bytes, len, want, script[i]);
  }
  g_test_message ("%u datagrams, %" G_GUINT64_FORMAT " of them in GSO sends", script_len,
                  stats.gso_datagrams - gso_before);
  /* Loopback takes GSO: most of the script left in runs. */
  g_assert_cmpuint (stats.gso_datagrams - gso_before, >=, script_len / 2);

  media_poller_remove (f.poller, f.in_entry);
  media_poller_remove (f.poller, f.out_entry);
  media_poller_free (f.poller);
  link_close (&l);
  g_main_context_unref (context);
}

/* Runs of one size, a shorter datagram that ends a run, a longer one that
 * starts the next, single datagrams, more than 64 in a run and more than
 * 60000 bytes in a run. */
static void
test_send_runs (void)
{
  GArray *script = g_array_new (FALSE, FALSE, sizeof (guint));
  guint v;

#define ADD(n, size) for (guint k = 0; k < (n); k++) { v = (size); g_array_append_val (script, v); }
  ADD (6, 1200);
  ADD (1, 1100);
  ADD (3, 1200);
  ADD (1, 1300);
  ADD (3, 900);
  ADD (1, 50);
  ADD (1, 1500);
  ADD (70, 100);
  ADD (52, 1200);
  ADD (1, 1);
#undef ADD
  run_script ((const guint *) script->data, script->len);
  g_array_unref (script);
}

/* Outside a dispatch a send leaves at once. */
static void
test_send_outside_dispatch (void)
{
  static const MediaPollerFuncs out_funcs = { on_out_datagram, NULL };
  GMainContext *context = g_main_context_new ();
  MediaPoller *poller = media_poller_new (context, NULL);
  MediaPollerEntry *e;
  Sock tx, rx;
  uint8_t buf[200], got[256];
  struct timeval tv = { .tv_sec = 2 };

  sock_open (&tx);
  sock_open (&rx);
  sock_connect (&tx, &rx);
  e = media_poller_add (poller, tx.fd, &out_funcs, NULL);
  fill (buf, sizeof buf, 9);
  g_assert_true (media_poller_send (poller, e, buf, sizeof buf));
  setsockopt (rx.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  g_assert_cmpint (recv (rx.fd, got, sizeof got, 0), ==, sizeof buf);
  g_assert_cmpmem (got, sizeof buf, buf, sizeof buf);
  media_poller_remove (poller, e);
  media_poller_free (poller);
  close (tx.fd);
  close (rx.fd);
  g_main_context_unref (context);
}

/* ---- split sends: a head now, the rest read from the received datagram
 * when the batch is sent ---- */

#define SPLIT_IN 1000           /* bytes of the datagram the callback gets */
#define SPLIT_SENDS 40

typedef struct {
  MediaPoller *poller;
  MediaPollerEntry *in_entry, *out_entry;
  guint callbacks;
  guint seals;
  gboolean outside_refused;
} SplitFixture;

/* Datagram i: head = 20 + i bytes of fill (i), then the received bytes
 * from offset i on, each + 1 (the seal's "protection"), then a 4-byte
 * trailer; every 5th is an ordinary send of 300 bytes between them. */
static gsize
split_expected (guint i, const uint8_t *in, uint8_t *out)
{
  gsize head = 20 + i, rest = SPLIT_IN - i;

  if (i % 5 == 4) {
    fill (out, 300, i);
    return 300;
  }
  fill (out, head, i);
  for (gsize k = 0; k < rest; k++)
    out[head + k] = (uint8_t) (in[i + k] + 1);
  memcpy (out + head + rest, "tag!", 4);
  return head + rest + 4;
}

static size_t
split_seal (gpointer user_data, uint8_t *buf, size_t head_len, size_t cap, const uint8_t *rest,
            size_t rest_len)
{
  SplitFixture *f = user_data;

  g_assert_cmpuint (cap, >=, head_len + rest_len + 4);
  f->seals++;
  for (size_t k = 0; k < rest_len; k++)
    buf[head_len + k] = (uint8_t) (rest[k] + 1);
  memcpy (buf + head_len + rest_len, "tag!", 4);
  return head_len + rest_len + 4;
}

static void
on_split_in (gpointer user_data, uint8_t *buf, size_t len, const struct sockaddr *from,
             socklen_t from_len)
{
  SplitFixture *f = user_data;
  uint8_t head[MEDIA_PEER_BUFFER_SIZE], elsewhere[64] = { 0 };

  f->callbacks++;
  g_assert_cmpuint (len, ==, SPLIT_IN);
  /* A rest that does not lie in the batch's datagrams is refused. */
  f->outside_refused = !media_poller_send_split (f->poller, f->out_entry, head, 20, elsewhere,
                                                 sizeof elsewhere);
  for (guint i = 0; i < SPLIT_SENDS; i++) {
    if (i % 5 == 4) {
      fill (head, 300, i);
      g_assert_true (media_poller_send (f->poller, f->out_entry, head, 300));
      continue;
    }
    fill (head, 20 + i, i);
    g_assert_true (media_poller_send_split (f->poller, f->out_entry, head, 20 + i, buf + i,
                                            SPLIT_IN - i));
  }
  /* The bytes are read when the batch is sent, not now. */
  g_assert_cmpuint (f->seals, ==, 0);
}

static void
test_send_split (void)
{
  static const MediaPollerFuncs in_funcs = { on_split_in, NULL, NULL };
  static const MediaPollerFuncs out_funcs = { on_out_datagram, NULL, split_seal };
  GMainContext *context = g_main_context_new ();
  SplitFixture f = { 0 };
  Link l;
  uint8_t in[SPLIT_IN];
  guint64 gso_before = stats.gso_datagrams;

  link_open (&l, SPLIT_SENDS);
  f.poller = media_poller_new (context, &stats);
  f.in_entry = media_poller_add (f.poller, l.in_rx.fd, &in_funcs, &f);
  f.out_entry = media_poller_add (f.poller, l.out_tx.fd, &out_funcs, &f);

  /* Outside a dispatch nothing is queued split. */
  g_assert_false (media_poller_send_split (f.poller, f.out_entry, in, 20, in + 20, 100));

  fill (in, sizeof in, 77);
  link_deliver (&l, context, in, sizeof in, &f.callbacks);
  g_assert_true (f.outside_refused);
  g_assert_cmpuint (f.seals, ==, SPLIT_SENDS - SPLIT_SENDS / 5);

  g_assert_cmpuint (l.reader.got->len, ==, SPLIT_SENDS);
  for (guint i = 0; i < SPLIT_SENDS; i++) {
    uint8_t want[MEDIA_PEER_BUFFER_SIZE + 64];
    gsize want_len = split_expected (i, in, want), len;
    const uint8_t *bytes = g_bytes_get_data (g_ptr_array_index (l.reader.got, i), &len);

    g_assert_cmpmem (bytes, len, want, want_len);
  }
  g_test_message ("%u datagrams, %" G_GUINT64_FORMAT " of them in GSO sends", SPLIT_SENDS,
                  stats.gso_datagrams - gso_before);

  media_poller_remove (f.poller, f.in_entry);
  media_poller_remove (f.poller, f.out_entry);
  media_poller_free (f.poller);
  link_close (&l);
  g_main_context_unref (context);
}

/* An entry removed by its own callback gets no more datagrams, although
 * the same recvmmsg() batch holds more; the tick reaches live entries. */
static void
test_remove_in_callback (void)
{
  static const MediaPollerFuncs in_funcs = { on_in_datagram, on_tick };
  GMainContext *context = g_main_context_new ();
  Fixture f = { .remove_in_callback = TRUE };
  Sock tx, rx;
  gint64 deadline;

  sock_open (&tx);
  sock_open (&rx);
  sock_connect (&rx, &tx);
  f.poller = media_poller_new (context, NULL);
  f.in_entry = media_poller_add (f.poller, rx.fd, &in_funcs, &f);
  for (guint i = 0; i < 5; i++)
    g_assert_cmpint (sendto (tx.fd, "xyz", 3, 0, (struct sockaddr *) &rx.addr, sizeof rx.addr),
                     ==, 3);
  deadline = g_get_monotonic_time () + 3 * G_USEC_PER_SEC;
  while (g_get_monotonic_time () < deadline && f.callbacks == 0)
    g_main_context_iteration (context, TRUE);
  /* Give a second wake-up every chance to deliver the rest (it must not). */
  for (guint i = 0; i < 10; i++)
    g_main_context_iteration (context, FALSE);
  g_assert_cmpuint (f.callbacks, ==, 1);
  g_assert_null (f.in_entry);

  /* A fresh entry is ticked about once a second. */
  f.remove_in_callback = FALSE;
  f.in_entry = media_poller_add (f.poller, rx.fd, &in_funcs, &f);
  deadline = g_get_monotonic_time () + 3 * G_USEC_PER_SEC;
  while (g_get_monotonic_time () < deadline && f.ticks == 0)
    g_main_context_iteration (context, TRUE);
  g_assert_cmpuint (f.ticks, >=, 1);
  media_poller_remove (f.poller, f.in_entry);
  media_poller_free (f.poller);
  close (tx.fd);
  close (rx.fd);
  g_main_context_unref (context);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/poller/send-runs", test_send_runs);
  g_test_add_func ("/poller/send-outside-dispatch", test_send_outside_dispatch);
  g_test_add_func ("/poller/send-split", test_send_split);
  g_test_add_func ("/poller/remove-in-callback", test_remove_in_callback);
  return g_test_run ();
}
