/* thread-set.c — threads that the process must join (thread-set.h). */
#include "thread-set.h"

typedef struct {
  GThread *thread;   /* the set's reference */
  gpointer job;
} MediaThreadEntry;

void
media_thread_set_start (MediaThreadSet *set, const char *name, GThreadFunc func, gpointer job)
{
  MediaThreadEntry *entry = g_new0 (MediaThreadEntry, 1);

  entry->job = job;
  /* Under the lock: the thread cannot leave before its entry is in. */
  g_mutex_lock (&set->lock);
  if (set->entries == NULL)
    set->entries = g_ptr_array_new ();
  g_ptr_array_add (set->entries, entry);
  entry->thread = g_thread_new (name, func, job);
  g_mutex_unlock (&set->lock);
}

void
media_thread_set_leave (MediaThreadSet *set, gpointer job)
{
  g_mutex_lock (&set->lock);
  for (guint i = 0; set->entries != NULL && i < set->entries->len; i++) {
    MediaThreadEntry *entry = set->entries->pdata[i];

    if (entry->job == job) {
      g_ptr_array_remove_index_fast (set->entries, i);
      g_thread_unref (entry->thread);
      g_free (entry);
      break;
    }
  }
  g_mutex_unlock (&set->lock);
}

void
media_thread_set_join_all (MediaThreadSet *set, GFunc cancel, gpointer user_data)
{
  g_autoptr (GPtrArray) threads = g_ptr_array_new_with_free_func (NULL);

  g_mutex_lock (&set->lock);
  for (guint i = 0; set->entries != NULL && i < set->entries->len; i++) {
    MediaThreadEntry *entry = set->entries->pdata[i];

    if (cancel != NULL)
      cancel (entry->job, user_data);
    g_ptr_array_add (threads, g_thread_ref (entry->thread));
  }
  g_mutex_unlock (&set->lock);
  /* g_thread_join() drops the reference taken above. */
  for (guint i = 0; i < threads->len; i++)
    g_thread_join (threads->pdata[i]);
}
