/* thread-set.h — threads that the process must join before it exits.
 *
 * Recording and composition hand slow work (draining a recorder, composing
 * a call) to a thread of its own.  Such a thread must not outlive
 * shutdown: it writes a file, and it calls OpenSSL and GStreamer, whose
 * exit-time cleanup would pull the ground from under it.  A MediaThreadSet
 * keeps each live thread with its job; the thread leaves the set as its
 * last step; media_thread_set_join_all() optionally cancels each job, then
 * joins every thread still in the set.
 *
 * A set is a zero-initialised static; every function may be called from
 * any thread.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  GMutex lock;
  GPtrArray *entries;     /* MediaThreadEntry*, NULL until the first start */
} MediaThreadSet;

/* Starts @func (@job) on a new thread named @name, in @set. */
void media_thread_set_start (MediaThreadSet *set, const char *name, GThreadFunc func,
                             gpointer job);

/* The last call of a thread that media_thread_set_start() started with
 * @job: takes it out of @set.  @job is the thread's key: free it only
 * after this call (a new job at the same address would be mistaken for
 * it). */
void media_thread_set_leave (MediaThreadSet *set, gpointer job);

/* Calls @cancel (may be NULL) on the job of each thread in @set, under the
 * set's lock (so the job is still alive: its thread has not left), then
 * joins each of those threads. */
void media_thread_set_join_all (MediaThreadSet *set, GFunc cancel, gpointer user_data);

G_END_DECLS
