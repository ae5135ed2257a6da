/* xl-film-viewer.h — a window with one film, large.
 *
 * Copyright 2026 The X-Ray Lab developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "xl-dataset.h"
#include "xl-film-view.h"

G_BEGIN_DECLS

#define XL_TYPE_FILM_VIEWER (xl_film_viewer_get_type ())

G_DECLARE_FINAL_TYPE (XlFilmViewer, xl_film_viewer, XL, FILM_VIEWER, AdwWindow)

/* Decodes film index of dataset at full size off the main thread. */
XlFilmViewer *xl_film_viewer_new         (GtkWindow    *transient_for,
                                          XlDataset    *dataset,
                                          guint         index);
XlFilmView   *xl_film_viewer_get_view    (XlFilmViewer *self);
guint         xl_film_viewer_get_index   (XlFilmViewer *self);
/* Whether the film is decoded and shown (or failed: see the error). */
gboolean      xl_film_viewer_get_loaded  (XlFilmViewer *self);
const char   *xl_film_viewer_get_error   (XlFilmViewer *self);

G_END_DECLS
