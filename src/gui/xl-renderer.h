/* xl-renderer.h — which GSK renderer to ask for on this machine.
 *
 * Copyright 2026 The X-Ray Lab developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* "cairo" when dri_dir (normally /dev/dri) holds no GPU render node
 * (renderD*), so that OpenGL could only be Mesa's software rasterizer;
 * NULL when GTK's own choice is best. */
const char *xl_renderer_choose (const char *dri_dir);

/* Sets GSK_RENDERER from xl_renderer_choose ("/dev/dri") unless the user
 * set it. Call before GTK initializes. */
void        xl_renderer_apply  (void);

G_END_DECLS
