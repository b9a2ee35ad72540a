/* Tests media/thread-set.c: threads that leave by themselves are gone
 * from the set; join_all cancels and joins the others, and does not return
 * before they ended. */
#include <glib.h>

#include "thread-set.h"

typedef struct {
  GMutex lock;
  GCond cond;
  gboolean cancelled;
  gboolean wait;        /* wait for a cancel before leaving */
  gboolean ended;       /* set last, just before leaving */
  MediaThreadSet *set;
} Job;

static gpointer
job_thread (gpointer data)
{
  Job *job = data;

  g_mutex_lock (&job->lock);
  while (job->wait && !job->cancelled)
    g_cond_wait (&job->cond, &job->lock);
  g_mutex_unlock (&job->lock);
  g_usleep (20000);     /* a join that does not wait would see ended == FALSE */
  g_atomic_int_set (&job->ended, TRUE);
  media_thread_set_leave (job->set, job);
  return NULL;
}

static void
cancel_job (gpointer data, gpointer user_data)
{
  Job *job = data;

  g_mutex_lock (&job->lock);
  job->cancelled = TRUE;
  g_cond_signal (&job->cond);
  g_mutex_unlock (&job->lock);
  (*(guint *) user_data)++;
}

static void
test_join_all (void)
{
  static MediaThreadSet set;
  Job jobs[6] = { 0 };
  guint cancels = 0;

  /* Empty: nothing to cancel or join. */
  media_thread_set_join_all (&set, cancel_job, &cancels);
  g_assert_cmpuint (cancels, ==, 0);

  for (guint i = 0; i < G_N_ELEMENTS (jobs); i++) {
    g_mutex_init (&jobs[i].lock);
    g_cond_init (&jobs[i].cond);
    jobs[i].set = &set;
    jobs[i].wait = i % 2 == 0;   /* odd ones leave by themselves */
    media_thread_set_start (&set, "test-job", job_thread, &jobs[i]);
  }
  /* The odd ones leave without a cancel. */
  for (guint i = 1; i < G_N_ELEMENTS (jobs); i += 2)
    while (!g_atomic_int_get (&jobs[i].ended))
      g_usleep (1000);
  for (;;) {
    guint left;

    g_mutex_lock (&set.lock);
    left = set.entries->len;
    g_mutex_unlock (&set.lock);
    if (left == 3)
      break;
    g_usleep (1000);
  }

  media_thread_set_join_all (&set, cancel_job, &cancels);
  g_assert_cmpuint (cancels, ==, 3);
  for (guint i = 0; i < G_N_ELEMENTS (jobs); i++) {
    g_assert_true (g_atomic_int_get (&jobs[i].ended));
    g_assert_true (jobs[i].cancelled == (i % 2 == 0));
  }
  g_assert_cmpuint (set.entries->len, ==, 0);

  /* Again, without a cancel: join_all waits for a thread that ends by itself. */
  jobs[0].wait = FALSE;
  jobs[0].ended = FALSE;
  media_thread_set_start (&set, "test-job", job_thread, &jobs[0]);
  media_thread_set_join_all (&set, NULL, NULL);
  g_assert_true (g_atomic_int_get (&jobs[0].ended));
  g_assert_cmpuint (set.entries->len, ==, 0);

  for (guint i = 0; i < G_N_ELEMENTS (jobs); i++) {
    g_mutex_clear (&jobs[i].lock);
    g_cond_clear (&jobs[i].cond);
  }
  g_ptr_array_unref (set.entries);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/media/thread-set/join-all", test_join_all);
  return g_test_run ();
}
