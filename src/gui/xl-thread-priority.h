/* xl-thread-priority.h — background threads that give way to the window.
 *
 * Copyright 2026 The X-Ray Lab developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Training: its threads run whenever the main loop and the thumbnails leave
 * a core free, which costs training nothing while the window is idle. */
#define XL_NICENESS_TRAINING   10
/* Thumbnails: decoded at once, but a frame of the window comes first. */
#define XL_NICENESS_THUMBNAILS 4

/* Lowers the calling thread's priority to niceness; threads it starts later
 * inherit it. On Linux, niceness is per thread; elsewhere this does nothing.
 * Failing is harmless and only logged. */
void xl_thread_lower_priority (int niceness);

G_END_DECLS
