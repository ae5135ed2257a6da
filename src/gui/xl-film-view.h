/* xl-film-view.h — one film at full resolution: zoom, pan, window and level.
 *
 * Copyright 2026 The X-Ray Lab developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

#include "xl-image.h"

G_BEGIN_DECLS

#define XL_TYPE_FILM_VIEW (xl_film_view_get_type ())

G_DECLARE_FINAL_TYPE (XlFilmView, xl_film_view, XL, FILM_VIEW, GtkWidget)

#define XL_FILM_VIEW_MIN_ZOOM 0.02
#define XL_FILM_VIEW_MAX_ZOOM 16.0

GtkWidget *xl_film_view_new         (void);
/* Takes the image (8-bit gray); NULL shows nothing. */
void       xl_film_view_set_image   (XlFilmView *self,
                                     XlImage    *image);
const XlImage *xl_film_view_get_image (XlFilmView *self);
/* The scale from film pixels to widget pixels, as shown now. */
double     xl_film_view_get_zoom    (XlFilmView *self);
/* Zooms about the widget's point (x, y); a negative x means the center.
 * Ends fitting. */
void       xl_film_view_set_zoom_at (XlFilmView *self,
                                     double      zoom,
                                     double      x,
                                     double      y);
void       xl_film_view_zoom_in     (XlFilmView *self);
void       xl_film_view_zoom_out    (XlFilmView *self);
/* Fitting keeps the whole film in view as the widget resizes. */
gboolean   xl_film_view_get_fit     (XlFilmView *self);
void       xl_film_view_set_fit     (XlFilmView *self,
                                     gboolean    fit);
void       xl_film_view_get_pan     (XlFilmView *self,
                                     double     *x,
                                     double     *y);
void       xl_film_view_pan_by      (XlFilmView *self,
                                     double      dx,
                                     double      dy);
/* Window (1-255 gray levels) and level (0-255): gray levels inside the
 * window are stretched over black to white, as radiology viewers do. */
double     xl_film_view_get_window  (XlFilmView *self);
void       xl_film_view_set_window  (XlFilmView *self,
                                     double      window);
double     xl_film_view_get_level   (XlFilmView *self);
void       xl_film_view_set_level   (XlFilmView *self,
                                     double      level);
/* A picture drawn over the film, stretched onto it (any resolution: a heatmap
 * is smooth), at the given opacity; window and level do not touch it. NULL
 * removes it. A new image keeps the overlay: set it again or clear it. */
void       xl_film_view_set_overlay (XlFilmView *self,
                                     GdkTexture *overlay,
                                     double      opacity);
GdkTexture *xl_film_view_get_overlay (XlFilmView *self);
/* The film's rectangle in widget coordinates, as drawn now; FALSE with no film. */
gboolean   xl_film_view_get_film_rect (XlFilmView      *self,
                                       graphene_rect_t *rect);
/* The gray level a film pixel is shown with, for tests. */
guint8     xl_film_view_map_gray    (XlFilmView *self,
                                     guint8      gray);

G_END_DECLS
