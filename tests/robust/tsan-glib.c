/* tsan-glib.c — teaches ThreadSanitizer about GLib's mutexes and conditions.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * On Linux GMutex and GCond are built on raw futex system calls, which TSan
 * does not see: every access that a GMutex orders looks like a race. This
 * module, preloaded into a TSan build's test programs (LD_PRELOAD; .ci/run
 * does it), wraps g_mutex_lock/unlock/trylock and g_cond_wait/wait_until and
 * tells TSan the acquire and release they stand for. GLib's own calls go
 * through the wrappers too (libglib is not linked -Bsymbolic), so GAsyncQueue
 * and friends are covered. Built only with -Db_sanitize=thread.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <glib.h>
#include <pthread.h>
#include <sanitizer/tsan_interface.h>

static void (*real_lock) (GMutex *);
static void (*real_unlock) (GMutex *);
static gboolean (*real_trylock) (GMutex *);
static void (*real_wait) (GCond *, GMutex *);
static gboolean (*real_wait_until) (GCond *, GMutex *, gint64);
static void (*real_rec_lock) (GRecMutex *);
static void (*real_rec_unlock) (GRecMutex *);
static gboolean (*real_rec_trylock) (GRecMutex *);

static void
resolve_once (void)
{
  real_lock = dlsym (RTLD_NEXT, "g_mutex_lock");
  real_unlock = dlsym (RTLD_NEXT, "g_mutex_unlock");
  real_trylock = dlsym (RTLD_NEXT, "g_mutex_trylock");
  real_wait = dlsym (RTLD_NEXT, "g_cond_wait");
  real_wait_until = dlsym (RTLD_NEXT, "g_cond_wait_until");
  real_rec_lock = dlsym (RTLD_NEXT, "g_rec_mutex_lock");
  real_rec_unlock = dlsym (RTLD_NEXT, "g_rec_mutex_unlock");
  real_rec_trylock = dlsym (RTLD_NEXT, "g_rec_mutex_trylock");
}

/* Lazily, and once: GLib's own constructors lock mutexes before a
 * constructor of ours would run. */
static void
resolve (void)
{
  static pthread_once_t once = PTHREAD_ONCE_INIT;

  pthread_once (&once, resolve_once);
}

void g_mutex_lock (GMutex *mutex);
void g_mutex_unlock (GMutex *mutex);
gboolean g_mutex_trylock (GMutex *mutex);
void g_cond_wait (GCond *cond, GMutex *mutex);
gboolean g_cond_wait_until (GCond *cond, GMutex *mutex, gint64 end_time);
void g_rec_mutex_lock (GRecMutex *mutex);
void g_rec_mutex_unlock (GRecMutex *mutex);
gboolean g_rec_mutex_trylock (GRecMutex *mutex);

void
g_mutex_lock (GMutex *mutex)
{
  resolve ();
  real_lock (mutex);
  __tsan_acquire (mutex);
}

void
g_mutex_unlock (GMutex *mutex)
{
  resolve ();
  __tsan_release (mutex);
  real_unlock (mutex);
}

gboolean
g_mutex_trylock (GMutex *mutex)
{
  gboolean locked;

  resolve ();
  locked = real_trylock (mutex);

  if (locked)
    __tsan_acquire (mutex);
  return locked;
}

void
g_cond_wait (GCond *cond, GMutex *mutex)
{
  resolve ();
  __tsan_release (mutex);
  real_wait (cond, mutex);
  __tsan_acquire (mutex);
}

gboolean
g_cond_wait_until (GCond *cond, GMutex *mutex, gint64 end_time)
{
  gboolean signalled;

  resolve ();
  __tsan_release (mutex);
  signalled = real_wait_until (cond, mutex, end_time);
  __tsan_acquire (mutex);
  return signalled;
}

void
g_rec_mutex_lock (GRecMutex *mutex)
{
  resolve ();
  real_rec_lock (mutex);
  __tsan_acquire (mutex);
}

void
g_rec_mutex_unlock (GRecMutex *mutex)
{
  resolve ();
  __tsan_release (mutex);
  real_rec_unlock (mutex);
}

gboolean
g_rec_mutex_trylock (GRecMutex *mutex)
{
  gboolean locked;

  resolve ();
  locked = real_rec_trylock (mutex);

  if (locked)
    __tsan_acquire (mutex);
  return locked;
}
