/* xl-curve-chart.c
 *
 * Copyright 2026 The X-Ray Lab developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Data and drawing stay apart, as in Sysprof's charts: the XlCurveModel
 * holds the points, and this widget only draws them with the same
 * xl_curve_plot_draw() that writes the run folder's PNGs, and hit-tests the
 * frame of its last draw for the tooltip.
 */

#include "config.h"

#include <math.h>

#include <glib/gi18n.h>
#include <pango/pangocairo.h>

#include "xl-curve-chart.h"

/* How close, in pixels, the pointer must be to a point to describe it. */
#define HIT_RADIUS 10.0

struct _XlCurveChart
{
  GtkDrawingArea   parent_instance;

  XlCurvePlotKind  kind;
  XlCurveModel    *model;
  guint            epochs;

  /* Of the last draw */
  XlPlotFrame      frame;
  gboolean         have_frame;
  guint64          drawn_generation;
  guint            n_draws;

  /* The point under the pointer, ringed */
  gboolean         have_hover;
  XlCurveHit       hover;
};

G_DEFINE_FINAL_TYPE (XlCurveChart, xl_curve_chart, GTK_TYPE_DRAWING_AREA)

enum {
  PROP_0,
  PROP_KIND,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

GtkWidget *
xl_curve_chart_new (XlCurvePlotKind kind)
{
  return g_object_new (XL_TYPE_CURVE_CHART,
                       "kind", kind,
                       NULL);
}

XlCurvePlotKind
xl_curve_chart_get_kind (XlCurveChart *self)
{
  g_return_val_if_fail (XL_IS_CURVE_CHART (self), XL_CURVE_PLOT_LOSS);

  return self->kind;
}

XlCurveModel *
xl_curve_chart_get_model (XlCurveChart *self)
{
  g_return_val_if_fail (XL_IS_CURVE_CHART (self), NULL);

  return self->model;
}

void
xl_curve_chart_set_model (XlCurveChart *self,
                          XlCurveModel *model)
{
  g_return_if_fail (XL_IS_CURVE_CHART (self));
  g_return_if_fail (model != NULL);

  if (self->model == model)
    return;

  xl_curve_model_ref (model);
  g_clear_pointer (&self->model, xl_curve_model_unref);
  self->model = model;
  self->have_hover = FALSE;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
xl_curve_chart_set_epochs (XlCurveChart *self,
                           guint         epochs)
{
  g_return_if_fail (XL_IS_CURVE_CHART (self));

  if (self->epochs != epochs)
    {
      self->epochs = epochs;
      gtk_widget_queue_draw (GTK_WIDGET (self));
    }
}

void
xl_curve_chart_update (XlCurveChart *self)
{
  g_return_if_fail (XL_IS_CURVE_CHART (self));

  if (xl_curve_model_get_generation (self->model) != self->drawn_generation)
    gtk_widget_queue_draw (GTK_WIDGET (self));
}

guint
xl_curve_chart_get_n_draws (XlCurveChart *self)
{
  g_return_val_if_fail (XL_IS_CURVE_CHART (self), 0);

  return self->n_draws;
}

gboolean
xl_curve_chart_get_frame (XlCurveChart *self,
                          XlPlotFrame  *frame)
{
  g_return_val_if_fail (XL_IS_CURVE_CHART (self), FALSE);
  g_return_val_if_fail (frame != NULL, FALSE);

  *frame = self->frame;

  return self->have_frame;
}

static gboolean
model_is_empty (XlCurveModel *model)
{
  for (guint s = 0; s < XL_CURVE_N_SERIES; s++)
    {
      guint n = 0;

      xl_curve_model_get_points (model, s, &n);
      if (n > 0)
        return FALSE;
    }

  return TRUE;
}

double
xl_widget_font_pixels (GtkWidget *widget)
{
  PangoContext *context = gtk_widget_get_pango_context (widget);
  const PangoFontDescription *font = pango_context_get_font_description (context);
  double pixels = 11.0;

  if (font != NULL && pango_font_description_get_size (font) > 0)
    {
      pixels = (double) pango_font_description_get_size (font) / PANGO_SCALE;
      if (!pango_font_description_get_size_is_absolute (font))
        pixels *= 96.0 / 72.0;
    }

  return pixels;
}

/* The plot as the window shows it: translated words, the desktop's font
 * size, the planned epochs as the x range. best_label must be freed. */
static void
xl_curve_chart_build_plot (XlCurveChart *self,
                           XlCurvePlot  *plot,
                           char        **best_label)
{
  double best_epoch = xl_curve_model_get_best_epoch (self->model);
  double font_pixels = xl_widget_font_pixels (GTK_WIDGET (self));

  xl_curve_plot_init (plot, self->model, self->kind);
  plot->x_label = _("Epoch");
  plot->series_labels[XL_CURVE_TRAIN_BATCH] = _("Train (per batch)");
  plot->series_labels[XL_CURVE_TRAIN_EPOCH] = _("Train");
  plot->series_labels[XL_CURVE_VAL_EPOCH] = _("Validation");
  plot->stop_label = _("Early stop");
  plot->x_max = self->epochs > 0 ? (double) self->epochs : NAN;
  plot->style.font_size = font_pixels * 0.9;

  if (self->kind == XL_CURVE_PLOT_LOSS)
    {
      plot->title = _("Loss");
      plot->y_label = _("Cross-entropy loss");
    }
  else
    {
      plot->title = _("Accuracy");
      plot->y_label = _("Accuracy");
    }

  *best_label = NULL;
  if (isfinite (best_epoch))
    {
      /* Translators: the marker of the epoch whose model was kept */
      *best_label = g_strdup_printf (_("Best epoch %u"), (guint) best_epoch);
      plot->best_label = *best_label;
    }
}

static void
xl_curve_chart_draw (GtkDrawingArea *area,
                     cairo_t        *cr,
                     int             width,
                     int             height,
                     gpointer        user_data)
{
  XlCurveChart *self = XL_CURVE_CHART (area);
  g_autofree char *best_label = NULL;
  XlCurvePlot plot;

  xl_curve_chart_build_plot (self, &plot, &best_label);
  xl_curve_plot_draw (&plot, cr, width, height, &self->frame);
  self->have_frame = TRUE;
  self->drawn_generation = xl_curve_model_get_generation (self->model);
  self->n_draws++;

  if (model_is_empty (self->model))
    {
      g_autoptr(PangoLayout) layout = NULL;
      int text_width;
      int text_height;

      layout = gtk_widget_create_pango_layout (GTK_WIDGET (self),
                                               _("The curves appear here as the network trains"));
      pango_layout_set_width (layout, (int) (self->frame.width * 0.8) * PANGO_SCALE);
      pango_layout_set_alignment (layout, PANGO_ALIGN_CENTER);
      pango_layout_set_wrap (layout, PANGO_WRAP_WORD);
      pango_layout_get_pixel_size (layout, &text_width, &text_height);
      cairo_set_source_rgba (cr, 0, 0, 0, 0.55);
      cairo_move_to (cr,
                     self->frame.x + (self->frame.width - text_width) / 2.0,
                     self->frame.y + (self->frame.height - text_height) / 2.0);
      pango_cairo_show_layout (cr, layout);
    }

  if (self->have_hover)
    {
      cairo_set_line_width (cr, 2.0);
      cairo_set_source_rgba (cr, 0, 0, 0, 0.8);
      cairo_arc (cr, self->hover.x, self->hover.y, 5.0, 0, 2 * G_PI);
      cairo_stroke (cr);
    }
}

static gboolean
xl_curve_chart_hit (XlCurveChart *self,
                    double        x,
                    double        y,
                    XlCurveHit   *hit)
{
  g_autofree char *best_label = NULL;
  XlCurvePlot plot;

  if (!self->have_frame)
    return FALSE;

  xl_curve_chart_build_plot (self, &plot, &best_label);

  return xl_curve_plot_hit_test (&plot, &self->frame, x, y, HIT_RADIUS, hit);
}

char *
xl_curve_chart_describe_point (XlCurveChart *self,
                               double        x,
                               double        y)
{
  gboolean accuracy;
  XlCurveHit hit;

  g_return_val_if_fail (XL_IS_CURVE_CHART (self), NULL);

  if (!xl_curve_chart_hit (self, x, y, &hit))
    return NULL;

  accuracy = self->kind == XL_CURVE_PLOT_ACCURACY;

  switch (hit.series)
    {
    case XL_CURVE_TRAIN_BATCH:
      if (accuracy)
        /* Translators: a point of the per-batch training accuracy curve */
        return g_strdup_printf (_("Epoch %.2f, one batch\nTrain accuracy %.1f%% (smoothed %.1f%%)"),
                                hit.epoch, 100 * hit.value, 100 * hit.shown);
      /* Translators: a point of the per-batch training loss curve */
      return g_strdup_printf (_("Epoch %.2f, one batch\nTrain loss %.4f (smoothed %.4f)"),
                              hit.epoch, hit.value, hit.shown);

    case XL_CURVE_TRAIN_EPOCH:
      if (accuracy)
        return g_strdup_printf (_("Epoch %u\nTrain accuracy %.1f%%"),
                                (guint) round (hit.epoch), 100 * hit.value);
      return g_strdup_printf (_("Epoch %u\nTrain loss %.4f"),
                              (guint) round (hit.epoch), hit.value);

    case XL_CURVE_VAL_EPOCH:
    case XL_CURVE_N_SERIES:
    default:
      if (accuracy)
        return g_strdup_printf (_("Epoch %u\nValidation accuracy %.1f%%"),
                                (guint) round (hit.epoch), 100 * hit.value);
      return g_strdup_printf (_("Epoch %u\nValidation loss %.4f"),
                              (guint) round (hit.epoch), hit.value);
    }
}

static gboolean
xl_curve_chart_query_tooltip (GtkWidget  *widget,
                              int         x,
                              int         y,
                              gboolean    keyboard_mode,
                              GtkTooltip *tooltip)
{
  XlCurveChart *self = XL_CURVE_CHART (widget);
  g_autofree char *text = NULL;

  if (keyboard_mode || !(text = xl_curve_chart_describe_point (self, x, y)))
    return FALSE;

  gtk_tooltip_set_text (tooltip, text);

  return TRUE;
}

static void
motion_cb (GtkEventControllerMotion *motion,
           double                    x,
           double                    y,
           XlCurveChart             *self)
{
  XlCurveHit hit;
  gboolean have_hit = xl_curve_chart_hit (self, x, y, &hit);

  if (have_hit != self->have_hover
      || (have_hit && (hit.series != self->hover.series || hit.index != self->hover.index)))
    {
      self->have_hover = have_hit;
      if (have_hit)
        self->hover = hit;
      gtk_widget_queue_draw (GTK_WIDGET (self));
    }
}

static void
leave_cb (GtkEventControllerMotion *motion,
          XlCurveChart             *self)
{
  if (self->have_hover)
    {
      self->have_hover = FALSE;
      gtk_widget_queue_draw (GTK_WIDGET (self));
    }
}

static void
xl_curve_chart_finalize (GObject *object)
{
  XlCurveChart *self = (XlCurveChart *) object;

  g_clear_pointer (&self->model, xl_curve_model_unref);

  G_OBJECT_CLASS (xl_curve_chart_parent_class)->finalize (object);
}

static void
xl_curve_chart_get_property (GObject    *object,
                             guint       prop_id,
                             GValue     *value,
                             GParamSpec *pspec)
{
  XlCurveChart *self = XL_CURVE_CHART (object);

  switch (prop_id)
    {
    case PROP_KIND:
      g_value_set_int (value, self->kind);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
xl_curve_chart_set_property (GObject      *object,
                             guint         prop_id,
                             const GValue *value,
                             GParamSpec   *pspec)
{
  XlCurveChart *self = XL_CURVE_CHART (object);

  switch (prop_id)
    {
    case PROP_KIND:
      self->kind = g_value_get_int (value);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
xl_curve_chart_class_init (XlCurveChartClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->finalize = xl_curve_chart_finalize;
  object_class->get_property = xl_curve_chart_get_property;
  object_class->set_property = xl_curve_chart_set_property;

  widget_class->query_tooltip = xl_curve_chart_query_tooltip;

  /* An int, not an enum type: XlCurvePlotKind belongs to src/plot, which
   * knows nothing of GObject. 0 loss, 1 accuracy. */
  properties[PROP_KIND] =
    g_param_spec_int ("kind", NULL, NULL,
                      XL_CURVE_PLOT_LOSS, XL_CURVE_PLOT_ACCURACY, XL_CURVE_PLOT_LOSS,
                      (G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_css_name (widget_class, "curvechart");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
xl_curve_chart_init (XlCurveChart *self)
{
  GtkEventController *motion;

  self->model = xl_curve_model_new ();

  gtk_drawing_area_set_draw_func (GTK_DRAWING_AREA (self), xl_curve_chart_draw, NULL, NULL);
  gtk_widget_set_has_tooltip (GTK_WIDGET (self), TRUE);
  gtk_widget_set_size_request (GTK_WIDGET (self), 240, 180);

  motion = gtk_event_controller_motion_new ();
  g_signal_connect (motion, "motion", G_CALLBACK (motion_cb), self);
  g_signal_connect (motion, "leave", G_CALLBACK (leave_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), motion);
}
