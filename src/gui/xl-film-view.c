/* xl-film-view.c
 *
 * Copyright 2026 The X-Ray Lab developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <math.h>

#include "xl-film-view.h"

#define ZOOM_STEP 1.25
#define SCROLL_ZOOM_STEP 1.1

struct _XlFilmView
{
  GtkWidget   parent_instance;

  XlImage    *image;
  GdkTexture *texture;        /* the image through the window/level table */
  gboolean    texture_dirty;
  GdkTexture *overlay;        /* over the film, stretched onto it */
  double      overlay_opacity;

  gboolean    fit;
  double      zoom;           /* when not fitting */
  double      pan_x;          /* offset of the film's center from the widget's */
  double      pan_y;
  double      window;
  double      level;

  /* Gestures */
  double      drag_start_x;
  double      drag_start_y;
  double      pinch_start_zoom;
  double      pointer_x;
  double      pointer_y;
};

G_DEFINE_FINAL_TYPE (XlFilmView, xl_film_view, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_ZOOM,
  PROP_FIT,
  PROP_WINDOW,
  PROP_LEVEL,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

GtkWidget *
xl_film_view_new (void)
{
  return g_object_new (XL_TYPE_FILM_VIEW, NULL);
}

static double
fit_zoom (XlFilmView *self)
{
  int width = gtk_widget_get_width (GTK_WIDGET (self));
  int height = gtk_widget_get_height (GTK_WIDGET (self));

  if (self->image == NULL || width <= 0 || height <= 0)
    return 1.0;

  return MIN ((double) width / self->image->width, (double) height / self->image->height);
}

double
xl_film_view_get_zoom (XlFilmView *self)
{
  g_return_val_if_fail (XL_IS_FILM_VIEW (self), 1.0);

  return self->fit ? fit_zoom (self) : self->zoom;
}

const XlImage *
xl_film_view_get_image (XlFilmView *self)
{
  g_return_val_if_fail (XL_IS_FILM_VIEW (self), NULL);

  return self->image;
}

void
xl_film_view_set_image (XlFilmView *self,
                        XlImage    *image)
{
  g_return_if_fail (XL_IS_FILM_VIEW (self));

  g_clear_pointer (&self->image, xl_image_free);
  g_clear_object (&self->texture);
  self->image = image;
  self->texture_dirty = TRUE;
  self->pan_x = self->pan_y = 0;
  self->fit = TRUE;

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FIT]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ZOOM]);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

/* Keeps some of the film in view: it may not be pushed further out than
 * half the widget past its edge. */
static void
clamp_pan (XlFilmView *self)
{
  double zoom = xl_film_view_get_zoom (self);
  double width = gtk_widget_get_width (GTK_WIDGET (self));
  double height = gtk_widget_get_height (GTK_WIDGET (self));
  double max_x;
  double max_y;

  if (self->image == NULL)
    return;

  max_x = MAX (0, (self->image->width * zoom - width) / 2) + width / 2;
  max_y = MAX (0, (self->image->height * zoom - height) / 2) + height / 2;
  self->pan_x = CLAMP (self->pan_x, -max_x, max_x);
  self->pan_y = CLAMP (self->pan_y, -max_y, max_y);
}

void
xl_film_view_set_zoom_at (XlFilmView *self,
                          double      zoom,
                          double      x,
                          double      y)
{
  double width;
  double height;
  double old_zoom;
  double film_x;
  double film_y;

  g_return_if_fail (XL_IS_FILM_VIEW (self));

  width = gtk_widget_get_width (GTK_WIDGET (self));
  height = gtk_widget_get_height (GTK_WIDGET (self));
  if (x < 0 || y < 0)
    {
      x = width / 2;
      y = height / 2;
    }

  old_zoom = xl_film_view_get_zoom (self);
  zoom = CLAMP (zoom, XL_FILM_VIEW_MIN_ZOOM, XL_FILM_VIEW_MAX_ZOOM);

  /* The film point under (x, y), relative to the film's center, stays there. */
  film_x = (x - width / 2 - self->pan_x) / old_zoom;
  film_y = (y - height / 2 - self->pan_y) / old_zoom;
  self->pan_x = x - width / 2 - film_x * zoom;
  self->pan_y = y - height / 2 - film_y * zoom;
  self->zoom = zoom;
  clamp_pan (self);

  if (self->fit)
    {
      self->fit = FALSE;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FIT]);
    }
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ZOOM]);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
xl_film_view_zoom_in (XlFilmView *self)
{
  g_return_if_fail (XL_IS_FILM_VIEW (self));

  xl_film_view_set_zoom_at (self, xl_film_view_get_zoom (self) * ZOOM_STEP, -1, -1);
}

void
xl_film_view_zoom_out (XlFilmView *self)
{
  g_return_if_fail (XL_IS_FILM_VIEW (self));

  xl_film_view_set_zoom_at (self, xl_film_view_get_zoom (self) / ZOOM_STEP, -1, -1);
}

gboolean
xl_film_view_get_fit (XlFilmView *self)
{
  g_return_val_if_fail (XL_IS_FILM_VIEW (self), FALSE);

  return self->fit;
}

void
xl_film_view_set_fit (XlFilmView *self,
                      gboolean    fit)
{
  g_return_if_fail (XL_IS_FILM_VIEW (self));

  fit = !!fit;
  if (fit == self->fit)
    return;

  if (!fit)
    self->zoom = fit_zoom (self);
  self->fit = fit;
  self->pan_x = self->pan_y = 0;

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FIT]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ZOOM]);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
xl_film_view_get_pan (XlFilmView *self,
                      double     *x,
                      double     *y)
{
  g_return_if_fail (XL_IS_FILM_VIEW (self));

  if (x != NULL)
    *x = self->pan_x;
  if (y != NULL)
    *y = self->pan_y;
}

void
xl_film_view_pan_by (XlFilmView *self,
                     double      dx,
                     double      dy)
{
  g_return_if_fail (XL_IS_FILM_VIEW (self));

  self->pan_x += dx;
  self->pan_y += dy;
  clamp_pan (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

double
xl_film_view_get_window (XlFilmView *self)
{
  g_return_val_if_fail (XL_IS_FILM_VIEW (self), 255);

  return self->window;
}

void
xl_film_view_set_window (XlFilmView *self,
                         double      window)
{
  g_return_if_fail (XL_IS_FILM_VIEW (self));

  window = CLAMP (window, 1, 255);
  if (window == self->window)
    return;

  self->window = window;
  /* Rebuilt at the next frame: a dragged slider costs one table per frame. */
  self->texture_dirty = TRUE;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_WINDOW]);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

double
xl_film_view_get_level (XlFilmView *self)
{
  g_return_val_if_fail (XL_IS_FILM_VIEW (self), 127.5);

  return self->level;
}

void
xl_film_view_set_level (XlFilmView *self,
                        double      level)
{
  g_return_if_fail (XL_IS_FILM_VIEW (self));

  level = CLAMP (level, 0, 255);
  if (level == self->level)
    return;

  self->level = level;
  self->texture_dirty = TRUE;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LEVEL]);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

guint8
xl_film_view_map_gray (XlFilmView *self,
                       guint8      gray)
{
  double low;
  double value;

  g_return_val_if_fail (XL_IS_FILM_VIEW (self), gray);

  low = self->level - self->window / 2;
  value = (gray - low) * 255.0 / self->window;

  return (guint8) CLAMP (lround (value), 0, 255);
}

static void
rebuild_texture (XlFilmView *self)
{
  g_autoptr(GBytes) bytes = NULL;
  gsize n_pixels;
  guint8 table[256];
  guint8 *rgb;

  g_clear_object (&self->texture);
  self->texture_dirty = FALSE;

  if (self->image == NULL)
    return;

  for (guint v = 0; v < 256; v++)
    table[v] = xl_film_view_map_gray (self, (guint8) v);

  n_pixels = (gsize) self->image->width * self->image->height;
  rgb = g_malloc (n_pixels * 3);
  for (gsize i = 0; i < n_pixels; i++)
    rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = table[self->image->pixels[i]];

  bytes = g_bytes_new_take (rgb, n_pixels * 3);
  self->texture = gdk_memory_texture_new ((int) self->image->width,
                                          (int) self->image->height,
                                          GDK_MEMORY_R8G8B8,
                                          bytes,
                                          (gsize) self->image->width * 3);
}

void
xl_film_view_set_overlay (XlFilmView *self,
                          GdkTexture *overlay,
                          double      opacity)
{
  g_return_if_fail (XL_IS_FILM_VIEW (self));
  g_return_if_fail (!overlay || GDK_IS_TEXTURE (overlay));

  g_set_object (&self->overlay, overlay);
  self->overlay_opacity = CLAMP (opacity, 0.0, 1.0);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

GdkTexture *
xl_film_view_get_overlay (XlFilmView *self)
{
  g_return_val_if_fail (XL_IS_FILM_VIEW (self), NULL);

  return self->overlay;
}

gboolean
xl_film_view_get_film_rect (XlFilmView      *self,
                            graphene_rect_t *rect)
{
  int width = gtk_widget_get_width (GTK_WIDGET (self));
  int height = gtk_widget_get_height (GTK_WIDGET (self));
  double zoom;
  double film_width;
  double film_height;

  g_return_val_if_fail (XL_IS_FILM_VIEW (self), FALSE);

  if (self->image == NULL)
    return FALSE;

  zoom = xl_film_view_get_zoom (self);
  film_width = self->image->width * zoom;
  film_height = self->image->height * zoom;
  graphene_rect_init (rect,
                      (width - film_width) / 2 + self->pan_x,
                      (height - film_height) / 2 + self->pan_y,
                      film_width, film_height);

  return TRUE;
}

static void
xl_film_view_snapshot (GtkWidget   *widget,
                       GtkSnapshot *snapshot)
{
  XlFilmView *self = XL_FILM_VIEW (widget);
  int width = gtk_widget_get_width (widget);
  int height = gtk_widget_get_height (widget);
  double zoom;
  double film_width;
  double film_height;
  graphene_rect_t film_rect;

  gtk_snapshot_append_color (snapshot, &(GdkRGBA) { 0, 0, 0, 1 },
                             &GRAPHENE_RECT_INIT (0, 0, width, height));

  if (self->image == NULL)
    return;

  if (self->texture_dirty || self->texture == NULL)
    rebuild_texture (self);

  zoom = xl_film_view_get_zoom (self);
  film_width = self->image->width * zoom;
  film_height = self->image->height * zoom;
  film_rect = GRAPHENE_RECT_INIT ((width - film_width) / 2 + self->pan_x,
                                  (height - film_height) / 2 + self->pan_y,
                                  film_width, film_height);

  gtk_snapshot_push_clip (snapshot, &GRAPHENE_RECT_INIT (0, 0, width, height));
  gtk_snapshot_append_texture (snapshot, self->texture, &film_rect);
  if (self->overlay != NULL && self->overlay_opacity > 0)
    {
      gtk_snapshot_push_opacity (snapshot, self->overlay_opacity);
      gtk_snapshot_append_texture (snapshot, self->overlay, &film_rect);
      gtk_snapshot_pop (snapshot);
    }
  gtk_snapshot_pop (snapshot);
}

static void
xl_film_view_measure (GtkWidget      *widget,
                      GtkOrientation  orientation,
                      int             for_size,
                      int            *minimum,
                      int            *natural,
                      int            *minimum_baseline,
                      int            *natural_baseline)
{
  *minimum = 64;
  *natural = 480;
}

static void
xl_film_view_size_allocate (GtkWidget *widget,
                            int        width,
                            int        height,
                            int        baseline)
{
  XlFilmView *self = XL_FILM_VIEW (widget);

  clamp_pan (self);
  if (self->fit)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ZOOM]);
}

static void
drag_begin_cb (GtkGestureDrag *gesture,
               double          x,
               double          y,
               XlFilmView     *self)
{
  self->drag_start_x = self->pan_x;
  self->drag_start_y = self->pan_y;
  gtk_widget_set_cursor_from_name (GTK_WIDGET (self), "grabbing");
}

static void
drag_update_cb (GtkGestureDrag *gesture,
                double          offset_x,
                double          offset_y,
                XlFilmView     *self)
{
  self->pan_x = self->drag_start_x + offset_x;
  self->pan_y = self->drag_start_y + offset_y;
  clamp_pan (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
drag_end_cb (GtkGestureDrag *gesture,
             double          offset_x,
             double          offset_y,
             XlFilmView     *self)
{
  gtk_widget_set_cursor_from_name (GTK_WIDGET (self), "grab");
}

static void
motion_cb (GtkEventControllerMotion *motion,
           double                    x,
           double                    y,
           XlFilmView               *self)
{
  self->pointer_x = x;
  self->pointer_y = y;
}

static gboolean
scroll_cb (GtkEventControllerScroll *scroll,
           double                    dx,
           double                    dy,
           XlFilmView               *self)
{
  if (self->image == NULL || dy == 0)
    return FALSE;

  xl_film_view_set_zoom_at (self,
                            xl_film_view_get_zoom (self) * pow (SCROLL_ZOOM_STEP, -dy),
                            self->pointer_x, self->pointer_y);

  return TRUE;
}

static void
pinch_begin_cb (GtkGesture       *gesture,
                GdkEventSequence *sequence,
                XlFilmView       *self)
{
  self->pinch_start_zoom = xl_film_view_get_zoom (self);
}

static void
pinch_scale_changed_cb (GtkGestureZoom *gesture,
                        double          scale,
                        XlFilmView     *self)
{
  double x;
  double y;

  if (!gtk_gesture_get_bounding_box_center (GTK_GESTURE (gesture), &x, &y))
    x = y = -1;

  xl_film_view_set_zoom_at (self, self->pinch_start_zoom * scale, x, y);
}

static void
xl_film_view_finalize (GObject *object)
{
  XlFilmView *self = (XlFilmView *) object;

  g_clear_pointer (&self->image, xl_image_free);
  g_clear_object (&self->texture);
  g_clear_object (&self->overlay);

  G_OBJECT_CLASS (xl_film_view_parent_class)->finalize (object);
}

static void
xl_film_view_get_property (GObject    *object,
                           guint       prop_id,
                           GValue     *value,
                           GParamSpec *pspec)
{
  XlFilmView *self = XL_FILM_VIEW (object);

  switch (prop_id)
    {
    case PROP_ZOOM:
      g_value_set_double (value, xl_film_view_get_zoom (self));
      break;

    case PROP_FIT:
      g_value_set_boolean (value, self->fit);
      break;

    case PROP_WINDOW:
      g_value_set_double (value, self->window);
      break;

    case PROP_LEVEL:
      g_value_set_double (value, self->level);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
xl_film_view_set_property (GObject      *object,
                           guint         prop_id,
                           const GValue *value,
                           GParamSpec   *pspec)
{
  XlFilmView *self = XL_FILM_VIEW (object);

  switch (prop_id)
    {
    case PROP_ZOOM:
      xl_film_view_set_zoom_at (self, g_value_get_double (value), -1, -1);
      break;

    case PROP_FIT:
      xl_film_view_set_fit (self, g_value_get_boolean (value));
      break;

    case PROP_WINDOW:
      xl_film_view_set_window (self, g_value_get_double (value));
      break;

    case PROP_LEVEL:
      xl_film_view_set_level (self, g_value_get_double (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
xl_film_view_class_init (XlFilmViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->finalize = xl_film_view_finalize;
  object_class->get_property = xl_film_view_get_property;
  object_class->set_property = xl_film_view_set_property;

  widget_class->snapshot = xl_film_view_snapshot;
  widget_class->measure = xl_film_view_measure;
  widget_class->size_allocate = xl_film_view_size_allocate;

  properties[PROP_ZOOM] =
    g_param_spec_double ("zoom", NULL, NULL,
                         XL_FILM_VIEW_MIN_ZOOM, XL_FILM_VIEW_MAX_ZOOM, 1.0,
                         (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));
  properties[PROP_FIT] =
    g_param_spec_boolean ("fit", NULL, NULL,
                          TRUE,
                          (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));
  properties[PROP_WINDOW] =
    g_param_spec_double ("window", NULL, NULL,
                         1, 255, 255,
                         (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));
  properties[PROP_LEVEL] =
    g_param_spec_double ("level", NULL, NULL,
                         0, 255, 127.5,
                         (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_css_name (widget_class, "filmview");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
xl_film_view_init (XlFilmView *self)
{
  GtkGesture *drag;
  GtkGesture *pinch;
  GtkEventController *scroll;
  GtkEventController *motion;

  self->fit = TRUE;
  self->zoom = 1.0;
  self->window = 255;
  self->level = 127.5;

  gtk_widget_set_overflow (GTK_WIDGET (self), GTK_OVERFLOW_HIDDEN);
  gtk_widget_set_focusable (GTK_WIDGET (self), TRUE);
  gtk_widget_set_cursor_from_name (GTK_WIDGET (self), "grab");

  drag = gtk_gesture_drag_new ();
  g_signal_connect (drag, "drag-begin", G_CALLBACK (drag_begin_cb), self);
  g_signal_connect (drag, "drag-update", G_CALLBACK (drag_update_cb), self);
  g_signal_connect (drag, "drag-end", G_CALLBACK (drag_end_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (drag));

  pinch = gtk_gesture_zoom_new ();
  g_signal_connect (pinch, "begin", G_CALLBACK (pinch_begin_cb), self);
  g_signal_connect (pinch, "scale-changed", G_CALLBACK (pinch_scale_changed_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (pinch));

  scroll = gtk_event_controller_scroll_new (GTK_EVENT_CONTROLLER_SCROLL_VERTICAL);
  g_signal_connect (scroll, "scroll", G_CALLBACK (scroll_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), scroll);

  motion = gtk_event_controller_motion_new ();
  g_signal_connect (motion, "motion", G_CALLBACK (motion_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), motion);
}
