/* xl-thread-priority.c
 *
 * Copyright 2026 The X-Ray Lab developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <errno.h>

#ifdef __linux__
# include <sys/resource.h>
# include <sys/syscall.h>
# include <unistd.h>
#endif

#include "xl-thread-priority.h"

void
xl_thread_lower_priority (int niceness)
{
#ifdef __linux__
  pid_t tid = (pid_t) syscall (SYS_gettid);

  if (setpriority (PRIO_PROCESS, (id_t) tid, niceness) != 0)
    g_debug ("could not lower a thread's priority to %d: %s", niceness, g_strerror (errno));
#endif
}
