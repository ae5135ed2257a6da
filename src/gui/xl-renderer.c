/* xl-renderer.c
 *
 * Copyright 2026 The X-Ray Lab developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * GTK 4.8 draws with OpenGL by default. Without a GPU that OpenGL is Mesa's
 * llvmpipe, whose threads took about 30% of a core while a run trained in
 * the window (training 16% slower than from the CLI on two cores), for a
 * window that is mostly Cairo charts anyway. Its Cairo renderer costs the
 * training nothing measurable there, so it is the choice when there is no
 * GPU render node.
 */

#include "config.h"

#include <string.h>

#include "xl-renderer.h"

const char *
xl_renderer_choose (const char *dri_dir)
{
  g_autoptr(GDir) dir = NULL;
  const char *name;

  g_return_val_if_fail (dri_dir != NULL, NULL);

  dir = g_dir_open (dri_dir, 0, NULL);
  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    if (g_str_has_prefix (name, "renderD"))
      return NULL;

  return "cairo";
}

void
xl_renderer_apply (void)
{
  const char *choice;

  if (g_getenv ("GSK_RENDERER") != NULL)
    return;

  choice = xl_renderer_choose ("/dev/dri");
  if (choice != NULL)
    g_setenv ("GSK_RENDERER", choice, FALSE);
}
