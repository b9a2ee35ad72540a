/* udp-cost — the kernel's CPU cost per UDP datagram for each way of sending
 * (docs/performance.md, step 5).  Not part of caud; a measurement aid.
 *
 *   udp-cost sink ADDR PORT NPORTS
 *       binds NPORTS sockets from PORT and drains them (epoll + recvmmsg),
 *       printing the count after each second of silence.
 *   udp-cost send MODE ADDR PORT NPORTS TOTAL [BURST]
 *       sends TOTAL 1200-byte datagrams, BURST (6) at a time to each of the
 *       NPORTS destinations in turn, sleeping 200 µs between rounds
 *       ($UDP_COST_PAUSE_US: more, so that a slower sink keeps up), and
 *       prints its CPU time per datagram and the datagrams the kernel
 *       refused.  Check the sink's count too: on "napi" veth the receiving
 *       socket can overflow (nstat UdpRcvbufErrors in the sink's namespace)
 *       without changing the sender's cost, which is the figure.
 *       MODE: sendto (unconnected), send (connected), mmsg (sendmmsg of
 *       BURST, connected), gso (one sendmsg with UDP_SEGMENT carrying BURST
 *       datagrams, connected),
 *       spread (one unconnected socket for all destinations: each round is
 *       one datagram to every destination, BURST destinations per
 *       sendmmsg, as a server with one shared socket would fan out one
 *       packet; compare with "send" and a BURST of 1),
 *       uring (connected, as "send", but each round's sends queued to one
 *       io_uring, 256 per io_uring_enter), uring-gso (as "gso", each
 *       destination's sendmsg queued to the io_uring).  The io_uring modes
 *       need liburing at build time (docs/performance.md, step 12).
 *       gso-zc (as "gso" with SO_ZEROCOPY and MSG_ZEROCOPY: each destination
 *       has 4 sets of buffers, and may rewrite one only once the kernel has
 *       said it is done with it: when all 4 are in flight the socket's
 *       error queue is read for those notices, as a server would have to,
 *       and a send whose buffers are still the kernel's is counted; see
 *       docs/performance.md, step 14).
 *   $UDP_COST_WRITE=1 writes each datagram's bytes just before its send,
 *   as a server's cipher does (the kernel's copy then reads a warm buffer).
 *
 * Run the two in the benchmark's namespaces, pinned as caud and cau-bench:
 *   ip netns exec cau-bench-gen taskset -c 1 udp-cost sink 198.18.0.2 40000 320 &
 *   ip netns exec cau-bench-srv taskset -c 0 udp-cost send gso 198.18.0.2 40000 320 600000
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <linux/errqueue.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#ifdef HAVE_LIBURING
#include <liburing.h>
#endif

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
#ifndef SO_ZEROCOPY
#define SO_ZEROCOPY 60
#endif
#ifndef MSG_ZEROCOPY
#define MSG_ZEROCOPY 0x4000000
#endif

#define SIZE 1200
#define MAX_BURST 64
#define ZC_SETS 4       /* buffer sets per destination in gso-zc */

static double
cpu_seconds (void)
{
  struct rusage r;

  getrusage (RUSAGE_SELF, &r);
  return (double) (r.ru_utime.tv_sec + r.ru_stime.tv_sec) +
         (double) (r.ru_utime.tv_usec + r.ru_stime.tv_usec) / 1e6;
}

static struct sockaddr_in
address (const char *ip, int port)
{
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons ((uint16_t) port) };

  if (inet_pton (AF_INET, ip, &a.sin_addr) != 1) {
    fprintf (stderr, "udp-cost: %s is not an IPv4 address\n", ip);
    exit (2);
  }
  return a;
}

static int
sink (const char *ip, int port, int n)
{
  static char bufs[32][2048];
  struct mmsghdr msgs[32];
  struct iovec iovs[32];
  int ep = epoll_create1 (0);
  long got = 0;

  for (int i = 0; i < n; i++) {
    int fd = socket (AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = address (ip, port + i);
    struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };

    if (fd < 0 || bind (fd, (struct sockaddr *) &a, sizeof a) != 0) {
      perror ("udp-cost: bind");
      return 1;
    }
    epoll_ctl (ep, EPOLL_CTL_ADD, fd, &ev);
  }
  for (int i = 0; i < 32; i++) {
    iovs[i] = (struct iovec) { .iov_base = bufs[i], .iov_len = sizeof bufs[i] };
    msgs[i] = (struct mmsghdr) { .msg_hdr = { .msg_iov = &iovs[i], .msg_iovlen = 1 } };
  }
  for (;;) {
    struct epoll_event ev[64];
    int k = epoll_wait (ep, ev, 64, 1000);

    if (k == 0 && got > 0) {
      printf ("sink: %ld datagrams\n", got);
      fflush (stdout);
      got = 0;
    }
    for (int i = 0; i < k; i++) {
      int r;

      while ((r = recvmmsg (ev[i].data.fd, msgs, 32, MSG_DONTWAIT, NULL)) > 0)
        got += r;
    }
  }
}

typedef enum {
  MODE_SENDTO, MODE_SEND, MODE_MMSG, MODE_GSO, MODE_SPREAD, MODE_URING, MODE_URING_GSO, MODE_GSO_ZC
} Mode;

static const char *const mode_names[] = { "sendto", "send", "mmsg", "gso", "spread", "uring", "uring-gso",
                                          "gso-zc" };

/* MSG_ZEROCOPY bookkeeping of one destination's socket */
typedef struct {
  unsigned next;        /* the kernel's number for the next zerocopy send */
  unsigned done;        /* sends before this number are complete */
} ZcState;

typedef struct {
  long notices;         /* recvmsg calls that returned a notice */
  long copied;          /* sends the kernel copied after all */
  long busy;            /* sends whose buffers were still the kernel's */
} ZcCounts;

/* reads @fd's error queue until it is empty: each notice says that sends
 * [lo, hi] are complete (they complete in order on one socket) */
static void
zc_reap (int fd, ZcState *z, ZcCounts *c)
{
  char control[128];

  for (;;) {
    struct msghdr h = { .msg_control = control, .msg_controllen = sizeof control };
    struct cmsghdr *cm;

    if (recvmsg (fd, &h, MSG_ERRQUEUE | MSG_DONTWAIT) < 0)
      return;
    for (cm = CMSG_FIRSTHDR (&h); cm != NULL; cm = CMSG_NXTHDR (&h, cm)) {
      struct sock_extended_err *e = (struct sock_extended_err *) CMSG_DATA (cm);

      if (e->ee_errno != 0 || e->ee_origin != SO_EE_ORIGIN_ZEROCOPY)
        continue;
      c->notices++;
      if (e->ee_code & SO_EE_CODE_ZEROCOPY_COPIED)
        c->copied += e->ee_data - e->ee_info + 1;
      z->done = e->ee_data + 1;
    }
  }
}

/* @ok of @tried datagrams were accepted by the kernel */
static void
count (int tried, int ok, long *sent, long *failed)
{
  *sent += ok;
  *failed += tried - ok;
}

#define RING_ENTRIES 256

#ifdef HAVE_LIBURING
/* submits what is queued and waits for all @queued completions */
static void
uring_submit_reap (struct io_uring *ring, int queued, int gso, int burst, long *sent,
                   long *failed)
{
  struct io_uring_cqe *cqe;

  io_uring_submit_and_wait (ring, (unsigned) queued);
  for (; queued > 0 && io_uring_peek_cqe (ring, &cqe) == 0; queued--) {
    if (gso)
      count (burst, cqe->res == SIZE * burst ? burst : 0, sent, failed);
    else
      count (1, cqe->res == SIZE, sent, failed);
    io_uring_cqe_seen (ring, cqe);
  }
}

/* one round through io_uring: every destination's sends (BURST sends, or
 * one GSO sendmsg of BURST) queued, RING_ENTRIES per io_uring_enter() */
static void
uring_round (struct io_uring *ring, int gso, const int *fds, int n, char (*bufs)[SIZE],
             struct msghdr *h, int burst, long *sent, long *failed)
{
  unsigned per = gso ? 1 : (unsigned) burst;
  int queued = 0;

  for (int s = 0; s < n; s++) {
    if (io_uring_sq_space_left (ring) < per) {
      uring_submit_reap (ring, queued, gso, burst, sent, failed);
      queued = 0;
    }
    if (gso)
      io_uring_prep_sendmsg (io_uring_get_sqe (ring), fds[s], h, 0);
    else
      for (int b = 0; b < burst; b++)
        io_uring_prep_send (io_uring_get_sqe (ring), fds[s], bufs[b], SIZE, 0);
    queued += (int) per;
  }
  uring_submit_reap (ring, queued, gso, burst, sent, failed);
}
#endif

static int
send_all (Mode mode, const char *ip, int port, int n, long total, int burst)
{
  static char bufs[MAX_BURST][SIZE];
  struct mmsghdr msgs[MAX_BURST];
  struct iovec iovs[MAX_BURST];
  const char *pause_us = getenv ("UDP_COST_PAUSE_US");
  long pause_ns = (pause_us != NULL ? atol (pause_us) : 200) * 1000;
  struct timespec pause = { pause_ns / 1000000000, pause_ns % 1000000000 }, t0, t1;
  int *fds = calloc ((size_t) n, sizeof *fds);
  struct sockaddr_in *to = calloc ((size_t) n, sizeof *to);
  int connected = mode != MODE_SENDTO && mode != MODE_SPREAD;
  int zc = mode == MODE_GSO_ZC;
  int gso = mode == MODE_GSO || mode == MODE_URING_GSO || zc;
  int write = getenv ("UDP_COST_WRITE") != NULL && atoi (getenv ("UDP_COST_WRITE")) != 0;
  char *zc_bufs = zc && burst > 0 ? malloc ((size_t) n * ZC_SETS * (size_t) burst * SIZE) : NULL;
  ZcState *zs = calloc ((size_t) n, sizeof *zs);
  ZcCounts zcount = { 0 };
  int uring = mode == MODE_URING || mode == MODE_URING_GSO;
  double c0, wall, cpu;
  long sent = 0, failed = 0;
#ifdef HAVE_LIBURING
  struct io_uring ring;
  struct msghdr gso_h = { .msg_iov = iovs, .msg_iovlen = (size_t) burst };

  if (uring && io_uring_queue_init (RING_ENTRIES, &ring, 0) != 0) {
    fprintf (stderr, "udp-cost: io_uring_queue_init failed\n");
    return 1;
  }
#else
  if (uring) {
    fprintf (stderr, "udp-cost: built without liburing\n");
    return 2;
  }
#endif

  if (burst < 1 || burst > MAX_BURST || fds == NULL || to == NULL || zs == NULL ||
      (zc && zc_bufs == NULL))
    return 2;
  memset (bufs, 0x5a, sizeof bufs);
  if (zc)
    memset (zc_bufs, 0x5a, (size_t) n * ZC_SETS * (size_t) burst * SIZE);
  for (int i = 0; i < MAX_BURST; i++) {
    iovs[i] = (struct iovec) { .iov_base = bufs[i], .iov_len = SIZE };
    msgs[i] = (struct mmsghdr) { .msg_hdr = { .msg_iov = &iovs[i], .msg_iovlen = 1 } };
  }
  for (int i = 0; i < n; i++) {
    int probe = IP_PMTUDISC_PROBE, segment = SIZE;

    fds[i] = socket (AF_INET, SOCK_DGRAM, 0);
    to[i] = address (ip, port + i);
    setsockopt (fds[i], IPPROTO_IP, IP_MTU_DISCOVER, &probe, sizeof probe);
    if (connected && connect (fds[i], (struct sockaddr *) &to[i], sizeof to[i]) != 0) {
      perror ("udp-cost: connect");
      return 1;
    }
    if (gso)
      setsockopt (fds[i], SOL_UDP, UDP_SEGMENT, &segment, sizeof segment);
    if (zc && setsockopt (fds[i], SOL_SOCKET, SO_ZEROCOPY, &(int) { 1 }, sizeof (int)) != 0) {
      perror ("udp-cost: SO_ZEROCOPY");
      return 1;
    }
  }

  c0 = cpu_seconds ();
  clock_gettime (CLOCK_MONOTONIC, &t0);
  while (sent < total && failed <= total) {
    if (uring) {
#ifdef HAVE_LIBURING
      uring_round (&ring, gso, fds, n, bufs, &gso_h, burst, &sent, &failed);
#endif
    } else if (mode == MODE_SPREAD) {
      /* one datagram to every destination per round, as "send" with a
       * BURST of 1, but BURST destinations per sendmmsg */
      for (int s = 0; s < n; s += burst) {
        int k = n - s < burst ? n - s : burst, r;

        for (int i = 0; i < k; i++) {
          msgs[i].msg_hdr.msg_name = &to[s + i];
          msgs[i].msg_hdr.msg_namelen = sizeof to[s + i];
        }
        r = sendmmsg (fds[0], msgs, (unsigned) k, MSG_DONTWAIT);
        count (k, r < 0 ? 0 : r, &sent, &failed);
      }
    } else {
      for (int s = 0; s < n; s++) {
        if (mode == MODE_SENDTO) {
          for (int b = 0; b < burst; b++)
            count (1, sendto (fds[s], bufs[b], SIZE, MSG_DONTWAIT, (struct sockaddr *) &to[s],
                              sizeof to[s]) == SIZE, &sent, &failed);
        } else if (mode == MODE_SEND) {
          for (int b = 0; b < burst; b++)
            count (1, send (fds[s], bufs[b], SIZE, MSG_DONTWAIT) == SIZE, &sent, &failed);
        } else if (mode == MODE_MMSG) {
          int r = sendmmsg (fds[s], msgs, (unsigned) burst, MSG_DONTWAIT);

          count (burst, r < 0 ? 0 : r, &sent, &failed);
        } else if (zc) {
          size_t set = (size_t) s * ZC_SETS + zs[s].next % ZC_SETS;
          struct iovec v = { zc_bufs + set * (size_t) burst * SIZE, (size_t) SIZE * burst };
          struct msghdr h = { .msg_iov = &v, .msg_iovlen = 1 };
          ssize_t r;

          /* the error queue is read only when every set is in flight */
          if (zs[s].next - zs[s].done >= ZC_SETS)
            zc_reap (fds[s], &zs[s], &zcount);
          if (zs[s].next - zs[s].done >= ZC_SETS)
            zcount.busy++;      /* a server could not rewrite them yet */
          else if (write)
            memset (v.iov_base, (int) (sent & 0xff), v.iov_len);
          r = sendmsg (fds[s], &h, MSG_DONTWAIT | MSG_ZEROCOPY);
          if (r >= 0)
            zs[s].next++;
          count (burst, r == (ssize_t) SIZE * burst ? burst : 0, &sent, &failed);
        } else {
          struct msghdr h = { .msg_iov = iovs, .msg_iovlen = (size_t) burst };

          if (write)
            memset (bufs, (int) (sent & 0xff), (size_t) SIZE * burst);
          count (burst, sendmsg (fds[s], &h, MSG_DONTWAIT) == (ssize_t) SIZE * burst ? burst : 0,
                 &sent, &failed);
        }
      }
    }
    nanosleep (&pause, NULL);
  }
  clock_gettime (CLOCK_MONOTONIC, &t1);
  cpu = cpu_seconds () - c0;
  if (sent == 0) {
    fprintf (stderr, "udp-cost: the kernel refused every datagram\n");
    return 1;
  }
  wall = (double) (t1.tv_sec - t0.tv_sec) + (double) (t1.tv_nsec - t0.tv_nsec) / 1e9;
  printf ("%s, bursts of %d: %.2f us CPU per datagram (%ld datagrams in %.1f s, CPU %.0f %%)",
          mode_names[mode], burst, cpu / (double) sent * 1e6, sent, wall, 100 * cpu / wall);
  if (failed > 0)
    printf ("; %ld more refused by the kernel (their CPU is in the figure)", failed);
  if (zc)
    printf ("; zerocopy: %ld notices, %ld sends copied after all, %ld sends while the "
            "buffers were still the kernel's", zcount.notices, zcount.copied, zcount.busy);
  printf ("\n");
  return 0;
}

int
main (int argc, char **argv)
{
  if (argc == 5 && strcmp (argv[1], "sink") == 0)
    return sink (argv[2], atoi (argv[3]), atoi (argv[4]));
  if ((argc == 7 || argc == 8) && strcmp (argv[1], "send") == 0)
    for (Mode m = MODE_SENDTO; m <= MODE_GSO_ZC; m++)
      if (strcmp (argv[2], mode_names[m]) == 0)
        return send_all (m, argv[3], atoi (argv[4]), atoi (argv[5]), atol (argv[6]),
                         argc == 8 ? atoi (argv[7]) : 6);
  fprintf (stderr, "usage: udp-cost sink ADDR PORT NPORTS\n"
                   "       udp-cost send sendto|send|mmsg|gso|spread|uring|uring-gso|gso-zc ADDR PORT NPORTS TOTAL [BURST]\n");
  return 2;
}
