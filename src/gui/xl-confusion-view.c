/* xl-confusion-view.c
 *
 * Copyright 2026 The X-Ray Lab developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Drawn by xl_confusion_plot_draw(), the function that writes the run
 * folder's confusion-matrix.png, so the window and the export agree. Cells
 * are found with the plot's own hit test on the frame of the last draw; the
 * keyboard moves a cursor cell, ringed while the view has the focus.
 */

#include "config.h"

#include <math.h>

#include <glib/gi18n.h>

#include "xl-confusion-view.h"
#include "xl-curve-chart.h"

struct _XlConfusionView
{
  GtkDrawingArea     parent_instance;

  XlConfusionMatrix *matrix;
  char             **class_names;

  guint              cursor_true;
  guint              cursor_predicted;

  /* Of the last draw */
  XlPlotFrame        frame;
  gboolean           have_frame;

  gboolean           have_hover;
  guint              hover_true;
  guint              hover_predicted;
};

G_DEFINE_FINAL_TYPE (XlConfusionView, xl_confusion_view, GTK_TYPE_DRAWING_AREA)

enum {
  CELL_ACTIVATED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

GtkWidget *
xl_confusion_view_new (void)
{
  return g_object_new (XL_TYPE_CONFUSION_VIEW, NULL);
}

static guint
n_classes (XlConfusionView *self)
{
  return self->matrix != NULL ? self->matrix->n_classes : 0;
}

static void
update_description (XlConfusionView *self)
{
  g_autoptr(GString) text = g_string_new (NULL);

  for (guint t = 0; t < n_classes (self); t++)
    for (guint p = 0; p < n_classes (self); p++)
      {
        g_autofree char *count = g_strdup_printf ("%" G_GUINT64_FORMAT,
                                                  xl_confusion_matrix_get (self->matrix, t, p));

        /* Translators: one cell of the confusion matrix, read aloud: true
         * class, predicted class, number of films */
        g_string_append_printf (text, _("True %s, predicted %s: %s. "),
                                self->class_names[t], self->class_names[p], count);
      }

  gtk_accessible_update_property (GTK_ACCESSIBLE (self),
                                  GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, text->str,
                                  -1);
}

void
xl_confusion_view_set_matrix (XlConfusionView         *self,
                              const XlConfusionMatrix *matrix,
                              const char * const      *class_names)
{
  g_return_if_fail (XL_IS_CONFUSION_VIEW (self));

  g_clear_pointer (&self->matrix, xl_confusion_matrix_free);
  g_clear_pointer (&self->class_names, g_strfreev);

  if (matrix != NULL)
    {
      self->matrix = xl_confusion_matrix_copy (matrix);
      self->class_names = g_new0 (char *, matrix->n_classes + 1);
      for (guint c = 0; c < matrix->n_classes; c++)
        self->class_names[c] = class_names != NULL ? g_strdup (class_names[c])
                                                   : g_strdup_printf ("%u", c);
      self->cursor_true = MIN (self->cursor_true, matrix->n_classes - 1);
      self->cursor_predicted = MIN (self->cursor_predicted, matrix->n_classes - 1);
    }
  self->have_hover = self->have_hover && matrix != NULL
                     && self->hover_true < matrix->n_classes
                     && self->hover_predicted < matrix->n_classes;

  update_description (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

const XlConfusionMatrix *
xl_confusion_view_get_matrix (XlConfusionView *self)
{
  g_return_val_if_fail (XL_IS_CONFUSION_VIEW (self), NULL);

  return self->matrix;
}

void
xl_confusion_view_init_plot (XlConfusionView *self,
                             XlConfusionPlot *plot)
{
  g_return_if_fail (XL_IS_CONFUSION_VIEW (self));
  g_return_if_fail (plot != NULL);

  xl_confusion_plot_init (plot, self->matrix, (const char * const *) self->class_names);
  plot->title = _("Confusion matrix");
  plot->x_label = _("Predicted");
  plot->y_label = _("True");
  /* xgettext:no-c-format */
  plot->scale_label = _("% of true class");
}

void
xl_confusion_view_get_cursor (XlConfusionView *self,
                              guint           *true_class,
                              guint           *predicted_class)
{
  g_return_if_fail (XL_IS_CONFUSION_VIEW (self));

  if (true_class != NULL)
    *true_class = self->cursor_true;
  if (predicted_class != NULL)
    *predicted_class = self->cursor_predicted;
}

void
xl_confusion_view_set_cursor (XlConfusionView *self,
                              guint            true_class,
                              guint            predicted_class)
{
  g_return_if_fail (XL_IS_CONFUSION_VIEW (self));

  if (n_classes (self) == 0)
    return;

  self->cursor_true = MIN (true_class, n_classes (self) - 1);
  self->cursor_predicted = MIN (predicted_class, n_classes (self) - 1);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
xl_confusion_view_activate_cell (XlConfusionView *self,
                                 guint            true_class,
                                 guint            predicted_class)
{
  g_return_if_fail (XL_IS_CONFUSION_VIEW (self));
  g_return_if_fail (true_class < n_classes (self));
  g_return_if_fail (predicted_class < n_classes (self));

  xl_confusion_view_set_cursor (self, true_class, predicted_class);
  g_signal_emit (self, signals[CELL_ACTIVATED], 0, true_class, predicted_class);
}

gboolean
xl_confusion_view_get_frame (XlConfusionView *self,
                             XlPlotFrame     *frame)
{
  g_return_val_if_fail (XL_IS_CONFUSION_VIEW (self), FALSE);
  g_return_val_if_fail (frame != NULL, FALSE);

  *frame = self->frame;

  return self->have_frame;
}

/* Cell (t, p) in widget pixels, from the frame of the last draw. */
static void
cell_rectangle (XlConfusionView   *self,
                guint              true_class,
                guint              predicted_class,
                graphene_rect_t   *rect)
{
  double x0 = xl_plot_frame_to_pixel_x (&self->frame, predicted_class);
  double x1 = xl_plot_frame_to_pixel_x (&self->frame, predicted_class + 1);
  double y0 = xl_plot_frame_to_pixel_y (&self->frame, true_class);
  double y1 = xl_plot_frame_to_pixel_y (&self->frame, true_class + 1);

  graphene_rect_init (rect, MIN (x0, x1), MIN (y0, y1), fabs (x1 - x0), fabs (y1 - y0));
}

static void
ring_cell (XlConfusionView *self,
           cairo_t         *cr,
           guint            true_class,
           guint            predicted_class,
           double           inset,
           double           line_width,
           const GdkRGBA   *color)
{
  graphene_rect_t rect;

  cell_rectangle (self, true_class, predicted_class, &rect);
  cairo_set_line_width (cr, line_width);
  gdk_cairo_set_source_rgba (cr, color);
  cairo_rectangle (cr, rect.origin.x + inset, rect.origin.y + inset,
                   rect.size.width - 2 * inset, rect.size.height - 2 * inset);
  cairo_stroke (cr);
}

static void
xl_confusion_view_draw (GtkDrawingArea *area,
                        cairo_t        *cr,
                        int             width,
                        int             height,
                        gpointer        user_data)
{
  XlConfusionView *self = XL_CONFUSION_VIEW (area);
  XlConfusionPlot plot;

  if (self->matrix == NULL)
    return;

  xl_confusion_view_init_plot (self, &plot);
  /* A little smaller than the curves': class names under narrow columns. */
  plot.style.font_size = xl_widget_font_pixels (GTK_WIDGET (self)) * 0.8;
  xl_confusion_plot_draw (&plot, cr, width, height, &self->frame);
  self->have_frame = TRUE;

  if (self->have_hover)
    {
      static const GdkRGBA hover = { 1.0, 0.6, 0.0, 0.9 };

      ring_cell (self, cr, self->hover_true, self->hover_predicted, 2.0, 2.0, &hover);
    }

  if (gtk_widget_has_focus (GTK_WIDGET (self)))
    {
      static const GdkRGBA outer = { 1.0, 1.0, 1.0, 1.0 };
      static const GdkRGBA inner = { 0.11, 0.44, 0.85, 1.0 };

      /* Blue inside white: visible on the palest and the darkest cell. */
      ring_cell (self, cr, self->cursor_true, self->cursor_predicted, 3.0, 4.0, &outer);
      ring_cell (self, cr, self->cursor_true, self->cursor_predicted, 3.0, 2.0, &inner);
    }
}

static gboolean
cell_at (XlConfusionView *self,
         double           x,
         double           y,
         guint           *true_class,
         guint           *predicted_class)
{
  XlConfusionPlot plot;

  if (self->matrix == NULL || !self->have_frame)
    return FALSE;

  xl_confusion_view_init_plot (self, &plot);

  return xl_confusion_plot_hit_test (&plot, &self->frame, x, y, true_class, predicted_class);
}

static void
released_cb (GtkGestureClick *gesture,
             int              n_press,
             double           x,
             double           y,
             XlConfusionView *self)
{
  guint t;
  guint p;

  if (cell_at (self, x, y, &t, &p))
    {
      gtk_widget_grab_focus (GTK_WIDGET (self));
      xl_confusion_view_activate_cell (self, t, p);
    }
}

static void
motion_cb (GtkEventControllerMotion *motion,
           double                    x,
           double                    y,
           XlConfusionView          *self)
{
  guint t = 0;
  guint p = 0;
  gboolean hit = cell_at (self, x, y, &t, &p);

  if (hit != self->have_hover || (hit && (t != self->hover_true || p != self->hover_predicted)))
    {
      self->have_hover = hit;
      self->hover_true = t;
      self->hover_predicted = p;
      gtk_widget_set_cursor_from_name (GTK_WIDGET (self), hit ? "pointer" : NULL);
      gtk_widget_queue_draw (GTK_WIDGET (self));
    }
}

static void
leave_cb (GtkEventControllerMotion *motion,
          XlConfusionView          *self)
{
  if (self->have_hover)
    {
      self->have_hover = FALSE;
      gtk_widget_set_cursor_from_name (GTK_WIDGET (self), NULL);
      gtk_widget_queue_draw (GTK_WIDGET (self));
    }
}

static gboolean
key_pressed_cb (GtkEventControllerKey *key,
                guint                  keyval,
                guint                  keycode,
                GdkModifierType        state,
                XlConfusionView       *self)
{
  guint n = n_classes (self);
  guint t = self->cursor_true;
  guint p = self->cursor_predicted;

  if (n == 0 || (state & (GDK_CONTROL_MASK | GDK_ALT_MASK)) != 0)
    return FALSE;

  switch (keyval)
    {
    case GDK_KEY_Left:
    case GDK_KEY_KP_Left:
      p = p > 0 ? p - 1 : 0;
      break;
    case GDK_KEY_Right:
    case GDK_KEY_KP_Right:
      p = MIN (p + 1, n - 1);
      break;
    case GDK_KEY_Up:
    case GDK_KEY_KP_Up:
      t = t > 0 ? t - 1 : 0;
      break;
    case GDK_KEY_Down:
    case GDK_KEY_KP_Down:
      t = MIN (t + 1, n - 1);
      break;
    case GDK_KEY_Return:
    case GDK_KEY_KP_Enter:
    case GDK_KEY_ISO_Enter:
    case GDK_KEY_space:
    case GDK_KEY_KP_Space:
      xl_confusion_view_activate_cell (self, t, p);
      return TRUE;
    default:
      return FALSE;
    }

  xl_confusion_view_set_cursor (self, t, p);

  return TRUE;
}

static gboolean
xl_confusion_view_query_tooltip (GtkWidget  *widget,
                                 int         x,
                                 int         y,
                                 gboolean    keyboard_mode,
                                 GtkTooltip *tooltip)
{
  XlConfusionView *self = XL_CONFUSION_VIEW (widget);
  g_autofree char *text = NULL;
  guint t;
  guint p;
  double share;

  if (keyboard_mode)
    {
      t = self->cursor_true;
      p = self->cursor_predicted;
      if (self->matrix == NULL)
        return FALSE;
    }
  else if (!cell_at (self, x, y, &t, &p))
    return FALSE;

  share = xl_confusion_matrix_row_fraction (self->matrix, t, p);
  {
    guint64 n = xl_confusion_matrix_get (self->matrix, t, p);
    g_autofree char *count = g_strdup_printf ("%" G_GUINT64_FORMAT, n);

    /* Translators: the tooltip of a confusion-matrix cell: true class,
     * predicted class, films, their share of the true class */
    text = g_strdup_printf (ngettext ("True %s, predicted %s\n%s film, %.1f%% of %s\nClick to review it",
                                      "True %s, predicted %s\n%s films, %.1f%% of %s\nClick to review them",
                                      (unsigned long) MIN (n, G_MAXULONG)),
                            self->class_names[t], self->class_names[p], count,
                            isfinite (share) ? 100 * share : 0.0, self->class_names[t]);
  }
  gtk_tooltip_set_text (tooltip, text);

  return TRUE;
}

static void
focus_changed_cb (GtkEventControllerFocus *focus,
                  XlConfusionView         *self)
{
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
xl_confusion_view_finalize (GObject *object)
{
  XlConfusionView *self = XL_CONFUSION_VIEW (object);

  g_clear_pointer (&self->matrix, xl_confusion_matrix_free);
  g_clear_pointer (&self->class_names, g_strfreev);

  G_OBJECT_CLASS (xl_confusion_view_parent_class)->finalize (object);
}

static void
xl_confusion_view_class_init (XlConfusionViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->finalize = xl_confusion_view_finalize;
  widget_class->query_tooltip = xl_confusion_view_query_tooltip;

  signals[CELL_ACTIVATED] =
    g_signal_new ("cell-activated", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_UINT, G_TYPE_UINT);

  gtk_widget_class_set_css_name (widget_class, "confusionview");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
xl_confusion_view_init (XlConfusionView *self)
{
  GtkGesture *click;
  GtkEventController *motion;
  GtkEventController *key;
  GtkEventController *focus;

  gtk_drawing_area_set_draw_func (GTK_DRAWING_AREA (self), xl_confusion_view_draw, NULL, NULL);
  gtk_widget_set_focusable (GTK_WIDGET (self), TRUE);
  gtk_widget_set_focus_on_click (GTK_WIDGET (self), TRUE);
  gtk_widget_set_has_tooltip (GTK_WIDGET (self), TRUE);
  gtk_widget_set_size_request (GTK_WIDGET (self), 240, 200);

  click = gtk_gesture_click_new ();
  gtk_gesture_single_set_button (GTK_GESTURE_SINGLE (click), GDK_BUTTON_PRIMARY);
  g_signal_connect (click, "released", G_CALLBACK (released_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (click));

  motion = gtk_event_controller_motion_new ();
  g_signal_connect (motion, "motion", G_CALLBACK (motion_cb), self);
  g_signal_connect (motion, "leave", G_CALLBACK (leave_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), motion);

  key = gtk_event_controller_key_new ();
  g_signal_connect (key, "key-pressed", G_CALLBACK (key_pressed_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), key);

  focus = gtk_event_controller_focus_new ();
  g_signal_connect (focus, "enter", G_CALLBACK (focus_changed_cb), self);
  g_signal_connect (focus, "leave", G_CALLBACK (focus_changed_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), focus);
}
