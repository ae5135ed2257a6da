/* xl-roc-view.c
 *
 * Copyright 2026 The X-Ray Lab developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Drawn by xl_roc_plot_draw(), as the run folder's roc.png is. The curve
 * only changes with the run; the threshold only moves the marker, so a
 * slider drag redraws and recomputes nothing else.
 */

#include "config.h"

#include <math.h>

#include <glib/gi18n.h>

#include "xl-roc-view.h"
#include "xl-curve-chart.h"

/* How close, in pixels, the pointer must be to a curve point to pick it. */
#define HIT_RADIUS 8.0

struct _XlRocView
{
  GtkDrawingArea   parent_instance;

  XlRocCurve      *curve;
  char            *label;
  XlRocOneVsRest  *ovr;
  char           **class_names;

  gboolean         have_point;
  XlBinaryMetrics  point;

  /* Of the last draw */
  XlPlotFrame      frame;
  gboolean         have_frame;

  /* The curve point under the pointer, ringed */
  gboolean         have_hover;
  guint            hover_curve;
  guint            hover_point;
};

G_DEFINE_FINAL_TYPE (XlRocView, xl_roc_view, GTK_TYPE_DRAWING_AREA)

enum {
  THRESHOLD_PICKED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

GtkWidget *
xl_roc_view_new (void)
{
  return g_object_new (XL_TYPE_ROC_VIEW, NULL);
}

static void
clear_curves (XlRocView *self)
{
  g_clear_pointer (&self->curve, xl_roc_curve_free);
  g_clear_pointer (&self->label, g_free);
  g_clear_pointer (&self->ovr, xl_roc_one_vs_rest_free);
  g_clear_pointer (&self->class_names, g_strfreev);
  self->have_hover = FALSE;
  self->have_point = FALSE;
}

void
xl_roc_view_set_curve (XlRocView  *self,
                       XlRocCurve *curve,
                       const char *label)
{
  g_return_if_fail (XL_IS_ROC_VIEW (self));

  clear_curves (self);
  self->curve = curve;
  self->label = g_strdup (label);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
xl_roc_view_set_one_vs_rest (XlRocView          *self,
                             XlRocOneVsRest     *ovr,
                             const char * const *class_names)
{
  g_return_if_fail (XL_IS_ROC_VIEW (self));

  clear_curves (self);
  self->ovr = ovr;
  if (ovr != NULL)
    {
      self->class_names = g_new0 (char *, ovr->n_classes + 1);
      for (guint c = 0; c < ovr->n_classes; c++)
        self->class_names[c] = class_names != NULL ? g_strdup (class_names[c])
                                                   : g_strdup_printf ("%u", c);
    }
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
xl_roc_view_set_operating_point (XlRocView             *self,
                                 const XlBinaryMetrics *metrics)
{
  g_return_if_fail (XL_IS_ROC_VIEW (self));

  self->have_point = metrics != NULL;
  if (metrics != NULL)
    self->point = *metrics;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

gboolean
xl_roc_view_get_operating_point (XlRocView       *self,
                                 XlBinaryMetrics *metrics)
{
  g_return_val_if_fail (XL_IS_ROC_VIEW (self), FALSE);

  if (self->have_point && metrics != NULL)
    *metrics = self->point;

  return self->have_point;
}

void
xl_roc_view_init_plot (XlRocView *self,
                       XlRocPlot *plot)
{
  g_return_if_fail (XL_IS_ROC_VIEW (self));
  g_return_if_fail (plot != NULL);

  xl_roc_plot_init (plot);
  plot->title = _("ROC curve");
  plot->x_label = _("False positive rate (1 − specificity)");
  plot->y_label = _("True positive rate (sensitivity)");
  plot->chance_label = _("Chance");

  if (self->curve != NULL)
    xl_roc_plot_add_curve (plot, self->curve, self->label);
  else if (self->ovr != NULL)
    {
      for (guint c = 0; c < self->ovr->n_classes && c < XL_ROC_PLOT_MAX_CURVES; c++)
        xl_roc_plot_add_curve (plot, self->ovr->curves[c], self->class_names[c]);
      plot->macro_auc = self->ovr->macro_auc;
      plot->macro_label = _("Macro-average AUC");
    }

  if (self->have_point && self->curve != NULL
      && isfinite (self->point.sensitivity) && isfinite (self->point.specificity))
    /* Translators: the ROC curve's marker of the threshold chosen with the slider */
    xl_roc_plot_add_metrics_marker (plot, &self->point, _("Threshold"));
}

gboolean
xl_roc_view_get_frame (XlRocView   *self,
                       XlPlotFrame *frame)
{
  g_return_val_if_fail (XL_IS_ROC_VIEW (self), FALSE);
  g_return_val_if_fail (frame != NULL, FALSE);

  *frame = self->frame;

  return self->have_frame;
}

static const XlRocCurve *
curve_at (XlRocView *self,
          guint      index)
{
  if (self->curve != NULL)
    return index == 0 ? self->curve : NULL;
  if (self->ovr != NULL && index < self->ovr->n_classes)
    return self->ovr->curves[index];

  return NULL;
}

static void
xl_roc_view_draw (GtkDrawingArea *area,
                  cairo_t        *cr,
                  int             width,
                  int             height,
                  gpointer        user_data)
{
  XlRocView *self = XL_ROC_VIEW (area);
  XlRocPlot plot;

  if (self->curve == NULL && self->ovr == NULL)
    return;

  xl_roc_view_init_plot (self, &plot);
  plot.style.font_size = xl_widget_font_pixels (GTK_WIDGET (self)) * 0.9;
  xl_roc_plot_draw (&plot, cr, width, height, &self->frame);
  self->have_frame = TRUE;

  if (self->have_hover)
    {
      const XlRocCurve *curve = curve_at (self, self->hover_curve);

      if (curve != NULL && self->hover_point < curve->n_points)
        {
          const XlRocPoint *point = &curve->points[self->hover_point];

          cairo_set_line_width (cr, 2.0);
          cairo_set_source_rgba (cr, 0, 0, 0, 0.8);
          cairo_arc (cr,
                     xl_plot_frame_to_pixel_x (&self->frame, point->fpr),
                     xl_plot_frame_to_pixel_y (&self->frame, point->tpr),
                     5.0, 0, 2 * G_PI);
          cairo_stroke (cr);
        }
    }
}

static gboolean
point_at (XlRocView *self,
          double     x,
          double     y,
          guint     *curve_index,
          guint     *point_index)
{
  XlRocPlot plot;

  if (!self->have_frame || (self->curve == NULL && self->ovr == NULL))
    return FALSE;

  xl_roc_view_init_plot (self, &plot);

  return xl_roc_plot_hit_test (&plot, &self->frame, x, y, HIT_RADIUS, curve_index, point_index);
}

static gboolean
xl_roc_view_query_tooltip (GtkWidget  *widget,
                           int         x,
                           int         y,
                           gboolean    keyboard_mode,
                           GtkTooltip *tooltip)
{
  XlRocView *self = XL_ROC_VIEW (widget);
  g_autofree char *text = NULL;
  const XlRocCurve *curve;
  const XlRocPoint *point;
  guint c;
  guint i;

  if (keyboard_mode || !point_at (self, x, y, &c, &i) || !(curve = curve_at (self, c)))
    return FALSE;

  point = &curve->points[i];
  if (!isfinite (point->threshold))
    return FALSE;

  if (self->curve != NULL)
    /* Translators: the tooltip of a ROC curve point */
    text = g_strdup_printf (_("Threshold %.3f\nSensitivity %.1f%%, specificity %.1f%%\nClick to use this threshold"),
                            point->threshold, 100 * point->tpr, 100 * (1 - point->fpr));
  else
    /* Translators: the tooltip of a one-vs-rest ROC curve point */
    text = g_strdup_printf (_("%s vs rest, score %.3f\nTrue positive rate %.1f%%, false positive rate %.1f%%"),
                            self->class_names[c], point->threshold,
                            100 * point->tpr, 100 * point->fpr);
  gtk_tooltip_set_text (tooltip, text);

  return TRUE;
}

static void
released_cb (GtkGestureClick *gesture,
             int              n_press,
             double           x,
             double           y,
             XlRocView       *self)
{
  guint c;
  guint i;

  /* One curve only: a threshold on one class's score means nothing for the
   * argmax decision of several. */
  if (self->curve != NULL && point_at (self, x, y, &c, &i)
      && isfinite (self->curve->points[i].threshold))
    g_signal_emit (self, signals[THRESHOLD_PICKED], 0, self->curve->points[i].threshold);
}

static void
motion_cb (GtkEventControllerMotion *motion,
           double                    x,
           double                    y,
           XlRocView                *self)
{
  guint c = 0;
  guint i = 0;
  gboolean hit = point_at (self, x, y, &c, &i);

  if (hit != self->have_hover || (hit && (c != self->hover_curve || i != self->hover_point)))
    {
      self->have_hover = hit;
      self->hover_curve = c;
      self->hover_point = i;
      gtk_widget_set_cursor_from_name (GTK_WIDGET (self),
                                       hit && self->curve != NULL ? "pointer" : NULL);
      gtk_widget_queue_draw (GTK_WIDGET (self));
    }
}

static void
leave_cb (GtkEventControllerMotion *motion,
          XlRocView                *self)
{
  if (self->have_hover)
    {
      self->have_hover = FALSE;
      gtk_widget_set_cursor_from_name (GTK_WIDGET (self), NULL);
      gtk_widget_queue_draw (GTK_WIDGET (self));
    }
}

static void
xl_roc_view_finalize (GObject *object)
{
  XlRocView *self = XL_ROC_VIEW (object);

  clear_curves (self);

  G_OBJECT_CLASS (xl_roc_view_parent_class)->finalize (object);
}

static void
xl_roc_view_class_init (XlRocViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->finalize = xl_roc_view_finalize;
  widget_class->query_tooltip = xl_roc_view_query_tooltip;

  signals[THRESHOLD_PICKED] =
    g_signal_new ("threshold-picked", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_DOUBLE);

  gtk_widget_class_set_css_name (widget_class, "rocview");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
xl_roc_view_init (XlRocView *self)
{
  GtkGesture *click;
  GtkEventController *motion;

  gtk_drawing_area_set_draw_func (GTK_DRAWING_AREA (self), xl_roc_view_draw, NULL, NULL);
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
}
