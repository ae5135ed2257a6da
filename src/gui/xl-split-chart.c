/* xl-split-chart.c
 *
 * Copyright 2026 The X-Ray Lab developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n.h>
#include <pango/pangocairo.h>

#include "xl-plot.h"
#include "xl-split-chart.h"

#define ROW_HEIGHT    26
#define BAR_HEIGHT    18
#define ROW_SPACING   6
#define LEGEND_HEIGHT 22
#define GAP           8

struct _XlSplitChart
{
  GtkWidget  parent_instance;

  guint      n_classes;
  GStrv      class_names;
  guint     *counts;        /* [XL_SPLIT_CHART_N_ROWS][n_classes] */
};

G_DEFINE_FINAL_TYPE (XlSplitChart, xl_split_chart, GTK_TYPE_WIDGET)

GtkWidget *
xl_split_chart_new (void)
{
  return g_object_new (XL_TYPE_SPLIT_CHART, NULL);
}

static const char *
row_title (guint row)
{
  switch (row)
    {
    case XL_SPLIT_TRAIN:
      return C_("split", "Train");
    case XL_SPLIT_VAL:
      return C_("split", "Val");
    case XL_SPLIT_TEST:
      return C_("split", "Test");
    default:
      /* Translators: the data set's own val films, which a re-split leaves out */
      return C_("split", "Set aside");
    }
}

static guint
row_total (XlSplitChart *self,
           guint         row)
{
  guint total = 0;

  for (guint c = 0; c < self->n_classes; c++)
    total += self->counts[row * self->n_classes + c];

  return total;
}

/* Train, val and test always; "set aside" only when it holds films. */
static guint
n_rows_shown (XlSplitChart *self)
{
  return self->counts != NULL && row_total (self, XL_SPLIT_NONE) > 0
         ? XL_SPLIT_CHART_N_ROWS : XL_N_SPLITS;
}

void
xl_split_chart_set_counts (XlSplitChart       *self,
                           guint               n_classes,
                           const char * const *class_names,
                           const guint        *counts)
{
  g_return_if_fail (XL_IS_SPLIT_CHART (self));
  g_return_if_fail (n_classes == 0 || (class_names != NULL && counts != NULL));

  g_clear_pointer (&self->class_names, g_strfreev);
  g_clear_pointer (&self->counts, g_free);

  self->n_classes = n_classes;
  if (n_classes > 0)
    {
      self->class_names = g_strdupv ((char **) class_names);
      self->counts = g_memdup2 (counts, sizeof (guint) * XL_SPLIT_CHART_N_ROWS * n_classes);
    }

  gtk_widget_queue_resize (GTK_WIDGET (self));
}

guint
xl_split_chart_get_count (XlSplitChart *self,
                          XlSplit       split,
                          guint         class_index)
{
  g_return_val_if_fail (XL_IS_SPLIT_CHART (self), 0);
  g_return_val_if_fail (split < XL_SPLIT_CHART_N_ROWS, 0);

  if (class_index >= self->n_classes)
    return 0;

  return self->counts[split * self->n_classes + class_index];
}

guint
xl_split_chart_get_n_classes (XlSplitChart *self)
{
  g_return_val_if_fail (XL_IS_SPLIT_CHART (self), 0);

  return self->n_classes;
}

static void
xl_split_chart_measure (GtkWidget      *widget,
                        GtkOrientation  orientation,
                        int             for_size,
                        int            *minimum,
                        int            *natural,
                        int            *minimum_baseline,
                        int            *natural_baseline)
{
  XlSplitChart *self = XL_SPLIT_CHART (widget);

  if (orientation == GTK_ORIENTATION_HORIZONTAL)
    {
      *minimum = 200;
      *natural = 300;
    }
  else
    {
      guint rows = n_rows_shown (self);

      /* The legend wraps at two classes a line in the worst case. */
      *minimum = *natural = rows * ROW_HEIGHT + (rows - 1) * ROW_SPACING
                            + GAP + LEGEND_HEIGHT * MAX (1, (self->n_classes + 1) / 2);
    }
}

static void
set_color (cairo_t           *cr,
           const XlPlotColor *color,
           double             alpha)
{
  cairo_set_source_rgba (cr, color->red, color->green, color->blue, alpha);
}

static char *
format_count (guint n)
{
  /* Translators: a count of films with thousands separators */
  return g_strdup_printf (_("%'u"), n);
}

static void
xl_split_chart_snapshot (GtkWidget   *widget,
                         GtkSnapshot *snapshot)
{
  XlSplitChart *self = XL_SPLIT_CHART (widget);
  int width = gtk_widget_get_width (widget);
  int height = gtk_widget_get_height (widget);
  GtkStyleContext *style = gtk_widget_get_style_context (widget);
  g_autoptr(PangoLayout) layout = NULL;
  cairo_t *cr;
  GdkRGBA fg;
  guint rows;
  guint max_total = 1;
  int label_width = 0;
  int total_width = 0;
  double bar_left;
  double bar_width;
  double y;

  if (self->n_classes == 0 || width <= 0 || height <= 0)
    return;

  gtk_style_context_get_color (style, &fg);
  cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, width, height));
  layout = gtk_widget_create_pango_layout (widget, NULL);

  rows = n_rows_shown (self);
  for (guint row = 0; row < rows; row++)
    {
      g_autofree char *total = format_count (row_total (self, row));
      int w;

      max_total = MAX (max_total, row_total (self, row));
      pango_layout_set_text (layout, row_title (row), -1);
      pango_layout_get_pixel_size (layout, &w, NULL);
      label_width = MAX (label_width, w);
      pango_layout_set_text (layout, total, -1);
      pango_layout_get_pixel_size (layout, &w, NULL);
      total_width = MAX (total_width, w);
    }

  bar_left = label_width + GAP;
  bar_width = MAX (10.0, width - bar_left - GAP - total_width);

  y = 0;
  for (guint row = 0; row < rows; row++)
    {
      g_autofree char *total_text = format_count (row_total (self, row));
      double x = bar_left;
      double bar_y = y + (ROW_HEIGHT - BAR_HEIGHT) / 2.0;
      int text_width;
      int text_height;

      pango_layout_set_text (layout, row_title (row), -1);
      pango_layout_get_pixel_size (layout, &text_width, &text_height);
      gdk_cairo_set_source_rgba (cr, &fg);
      cairo_move_to (cr, label_width - text_width, y + (ROW_HEIGHT - text_height) / 2.0);
      pango_cairo_show_layout (cr, layout);

      /* A faint track shows the scale even for an empty split. */
      cairo_rectangle (cr, bar_left, bar_y, bar_width, BAR_HEIGHT);
      cairo_set_source_rgba (cr, fg.red, fg.green, fg.blue, 0.08);
      cairo_fill (cr);

      for (guint c = 0; c < self->n_classes; c++)
        {
          guint count = self->counts[row * self->n_classes + c];
          double w = bar_width * count / max_total;
          g_autofree char *count_text = NULL;

          if (count == 0)
            continue;

          set_color (cr, xl_plot_series_color (c), row == XL_SPLIT_NONE ? 0.45 : 1.0);
          cairo_rectangle (cr, x, bar_y, w, BAR_HEIGHT);
          cairo_fill (cr);

          /* The count inside its segment when it fits. */
          count_text = format_count (count);
          pango_layout_set_text (layout, count_text, -1);
          pango_layout_get_pixel_size (layout, &text_width, &text_height);
          if (text_width + 6 < w)
            {
              cairo_set_source_rgb (cr, 1, 1, 1);
              cairo_move_to (cr, x + (w - text_width) / 2.0, y + (ROW_HEIGHT - text_height) / 2.0);
              pango_cairo_show_layout (cr, layout);
            }
          x += w;
        }

      pango_layout_set_text (layout, total_text, -1);
      pango_layout_get_pixel_size (layout, &text_width, &text_height);
      gdk_cairo_set_source_rgba (cr, &fg);
      cairo_move_to (cr, width - text_width, y + (ROW_HEIGHT - text_height) / 2.0);
      pango_cairo_show_layout (cr, layout);

      y += ROW_HEIGHT + ROW_SPACING;
    }

  /* The legend: a swatch and the class name, wrapping as needed. */
  y += GAP - ROW_SPACING;
  {
    double x = bar_left;

    for (guint c = 0; c < self->n_classes; c++)
      {
        int text_width;
        int text_height;

        pango_layout_set_text (layout, self->class_names[c], -1);
        pango_layout_get_pixel_size (layout, &text_width, &text_height);
        if (x > bar_left && x + 18 + text_width > width)
          {
            x = bar_left;
            y += LEGEND_HEIGHT;
          }
        set_color (cr, xl_plot_series_color (c), 1.0);
        cairo_rectangle (cr, x, y + (LEGEND_HEIGHT - 12) / 2.0, 12, 12);
        cairo_fill (cr);
        gdk_cairo_set_source_rgba (cr, &fg);
        cairo_move_to (cr, x + 18, y + (LEGEND_HEIGHT - text_height) / 2.0);
        pango_cairo_show_layout (cr, layout);
        x += 18 + text_width + 16;
      }
  }

  cairo_destroy (cr);
}

static void
xl_split_chart_finalize (GObject *object)
{
  XlSplitChart *self = (XlSplitChart *) object;

  g_clear_pointer (&self->class_names, g_strfreev);
  g_clear_pointer (&self->counts, g_free);

  G_OBJECT_CLASS (xl_split_chart_parent_class)->finalize (object);
}

static void
xl_split_chart_class_init (XlSplitChartClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->finalize = xl_split_chart_finalize;

  widget_class->measure = xl_split_chart_measure;
  widget_class->snapshot = xl_split_chart_snapshot;

  gtk_widget_class_set_css_name (widget_class, "splitchart");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
xl_split_chart_init (XlSplitChart *self)
{
}
