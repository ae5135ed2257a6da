/* test-plot.c — every plot rendered to an image surface and checked where its
 * data says it should be: colours in cells, curves at their mapped pixels,
 * hit-tests, nothing at the picture's edge, and files that reload.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

/* RTLD_DEFAULT, to release fontconfig's caches at exit (see main). */
#define _GNU_SOURCE

#include "config.h"

#include <math.h>
#include <string.h>

#include <glib/gstdio.h>
#include <pango/pangocairo.h>

#include "xl-plot-private.h"
#include "xl-plot.h"

/* Pixels ---------------------------------------------------------------------- */

static cairo_surface_t *
new_surface (int width,
             int height)
{
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, width, height);

  g_assert_cmpint (cairo_surface_status (surface), ==, CAIRO_STATUS_SUCCESS);
  return surface;
}

/* The pixel under the point (x, y) in surface coordinates, as 0..1 sRGB.
 * Plots paint an opaque background, so there is no alpha to undo. */
static XlPlotColor
pixel_at (cairo_surface_t *surface,
          double           x,
          double           y)
{
  int px = (int) floor (x);
  int py = (int) floor (y);
  const guint8 *data;
  guint32 value;

  cairo_surface_flush (surface);
  g_assert_cmpint (px, >=, 0);
  g_assert_cmpint (py, >=, 0);
  g_assert_cmpint (px, <, cairo_image_surface_get_width (surface));
  g_assert_cmpint (py, <, cairo_image_surface_get_height (surface));

  data = cairo_image_surface_get_data (surface);
  value = *(const guint32 *) (gconstpointer) (data + py * cairo_image_surface_get_stride (surface)
                                              + px * 4);

  return (XlPlotColor) {
    ((value >> 16) & 0xff) / 255.0,
    ((value >> 8) & 0xff) / 255.0,
    (value & 0xff) / 255.0,
  };
}

static double
color_distance (const XlPlotColor *a,
                const XlPlotColor *b)
{
  return MAX (fabs (a->red - b->red), MAX (fabs (a->green - b->green), fabs (a->blue - b->blue)));
}

/* Whether a pixel within one pixel of (x, y) has colour (antialiased lines
 * may leave the exact pixel a blend). */
static gboolean
color_near (cairo_surface_t   *surface,
            double             x,
            double             y,
            const XlPlotColor *color,
            double             tolerance)
{
  for (int dy = -1; dy <= 1; dy++)
    for (int dx = -1; dx <= 1; dx++)
      {
        XlPlotColor found = pixel_at (surface, x + dx, y + dy);

        if (color_distance (&found, color) <= tolerance)
          return TRUE;
      }

  return FALSE;
}

static guint
count_colors (cairo_surface_t *surface)
{
  g_autoptr(GHashTable) seen = g_hash_table_new (NULL, NULL);
  int width = cairo_image_surface_get_width (surface);
  int height = cairo_image_surface_get_height (surface);
  int stride = cairo_image_surface_get_stride (surface);
  const guint8 *data;

  cairo_surface_flush (surface);
  data = cairo_image_surface_get_data (surface);
  for (int y = 0; y < height; y++)
    for (int x = 0; x < width; x++)
      {
        guint32 value = *(const guint32 *) (gconstpointer) (data + y * stride + x * 4);

        g_hash_table_add (seen, GUINT_TO_POINTER (value));
      }

  return g_hash_table_size (seen);
}

/* Nothing may touch the picture's edge: a clipped label would. */
static void
assert_edges_blank (cairo_surface_t *surface)
{
  static const XlPlotColor white = { 1.0, 1.0, 1.0 };
  int width = cairo_image_surface_get_width (surface);
  int height = cairo_image_surface_get_height (surface);

  for (int x = 0; x < width; x++)
    {
      XlPlotColor top = pixel_at (surface, x, 0);
      XlPlotColor bottom = pixel_at (surface, x, height - 1);

      g_assert_cmpfloat (color_distance (&top, &white), <, 1e-9);
      g_assert_cmpfloat (color_distance (&bottom, &white), <, 1e-9);
    }
  for (int y = 0; y < height; y++)
    {
      XlPlotColor left = pixel_at (surface, 0, y);
      XlPlotColor right = pixel_at (surface, width - 1, y);

      g_assert_cmpfloat (color_distance (&left, &white), <, 1e-9);
      g_assert_cmpfloat (color_distance (&right, &white), <, 1e-9);
    }
}

/* Data ------------------------------------------------------------------------- */

/* Twelve epochs of a loss that falls, per batch and per epoch. */
static XlCurveModel *
make_training_model (gboolean accuracy)
{
  XlCurveModel *model = xl_curve_model_new ();
  g_autoptr(GRand) rand = g_rand_new_with_seed (12);

  for (int epoch = 1; epoch <= 12; epoch++)
    {
      for (int batch = 1; batch <= 40; batch++)
        {
          double x = epoch - 1 + batch / 40.0;
          double loss = 0.7 * exp (-x / 2.5) + 0.1 + g_rand_double_range (rand, -0.05, 0.05);

          g_assert_true (xl_curve_model_append (model, XL_CURVE_TRAIN_BATCH, x,
                                                accuracy ? 1.0 - loss / 2 : loss));
        }
      g_assert_true (xl_curve_model_append (model, XL_CURVE_TRAIN_EPOCH, epoch,
                                            accuracy ? 0.95 - 0.4 * exp (-epoch / 2.5)
                                                     : 0.7 * exp (-epoch / 2.5) + 0.1));
      g_assert_true (xl_curve_model_append (model, XL_CURVE_VAL_EPOCH, epoch,
                                            accuracy ? 0.9 - 0.3 * exp (-epoch / 3.0)
                                                     : 0.6 * exp (-epoch / 3.0) + 0.2));
    }
  xl_curve_model_set_best_epoch (model, 9);
  xl_curve_model_set_stop_epoch (model, 12);

  return model;
}

/* The hand case of test-metrics.c: AUC 8/9, points at (0,0) (0,1/3) (0,2/3)
 * (1/3,2/3) (1/3,1) (2/3,1) (1,1). */
static const float hand_scores[] = { 0.9f, 0.8f, 0.7f, 0.6f, 0.4f, 0.2f };
static const guint hand_labels[] = { 1, 1, 0, 1, 0, 0 };

static const char *const binary_names[] = { "NORMAL", "PNEUMONIA" };

/* Ticks ------------------------------------------------------------------------ */

static void
test_ticks (void)
{
  XlTicks ticks;
  g_autofree char *percent = NULL;
  g_autofree char *negative = NULL;

  xl_ticks_compute (&ticks, 0.0, 1.0, 6, TRUE, FALSE, 0);
  g_assert_cmpuint (ticks.n, ==, 6);
  g_assert_cmpfloat_with_epsilon (ticks.step, 0.2, 1e-12);
  g_assert_cmpfloat_with_epsilon (ticks.values[5], 1.0, 1e-12);
  g_assert_cmpint (ticks.decimals, ==, 1);

  /* Widened out to whole steps. */
  xl_ticks_compute (&ticks, 0.13, 0.93, 6, TRUE, FALSE, 0);
  g_assert_cmpfloat_with_epsilon (ticks.lo, 0.0, 1e-12);
  g_assert_cmpfloat_with_epsilon (ticks.hi, 1.0, 1e-12);

  /* Kept inside, whole epochs at least. */
  xl_ticks_compute (&ticks, 0.0, 13.0, 40, FALSE, FALSE, 1.0);
  g_assert_cmpfloat (ticks.step, ==, 1.0);
  g_assert_cmpfloat (ticks.hi, ==, 13.0);
  g_assert_cmpuint (ticks.n, ==, 14);
  g_assert_cmpint (ticks.decimals, ==, 0);

  /* Never more than asked for. */
  for (guint max_ticks = 3; max_ticks < 12; max_ticks++)
    {
      xl_ticks_compute (&ticks, -3.7, 151.2, max_ticks, TRUE, FALSE, 0);
      g_assert_cmpuint (ticks.n, <=, max_ticks);
      g_assert_cmpfloat (ticks.lo, <=, -3.7);
      g_assert_cmpfloat (ticks.hi, >=, 151.2);
    }

  xl_ticks_compute (&ticks, 0.5, 1.0, 6, TRUE, TRUE, 0);
  percent = xl_ticks_format (&ticks, 0.9);
  g_assert_cmpstr (percent, ==, "90%");

  xl_ticks_compute (&ticks, -1.0, 1.0, 3, TRUE, FALSE, 0);
  negative = xl_ticks_format (&ticks, -1.0);
  g_assert_cmpstr (negative, ==, "\u22121");
}

/* Curves ----------------------------------------------------------------------- */

static void
test_curve_model (void)
{
  g_autoptr(XlCurveModel) model = xl_curve_model_new ();
  const XlCurvePoint *points;
  double smoothed[3];
  guint64 generation;
  guint n;

  generation = xl_curve_model_get_generation (model);
  g_assert_true (xl_curve_model_append (model, XL_CURVE_VAL_EPOCH, 1, 0.5));
  g_assert_cmpuint (xl_curve_model_get_generation (model), !=, generation);

  /* Refused: not finite, or going back in time. */
  generation = xl_curve_model_get_generation (model);
  g_assert_false (xl_curve_model_append (model, XL_CURVE_VAL_EPOCH, 2, NAN));
  g_assert_false (xl_curve_model_append (model, XL_CURVE_VAL_EPOCH, INFINITY, 0.1));
  g_assert_false (xl_curve_model_append (model, XL_CURVE_VAL_EPOCH, 0.5, 0.1));
  g_assert_cmpuint (xl_curve_model_get_generation (model), ==, generation);

  g_assert_true (xl_curve_model_append (model, XL_CURVE_VAL_EPOCH, 1, 0.4));
  points = xl_curve_model_get_points (model, XL_CURVE_VAL_EPOCH, &n);
  g_assert_cmpuint (n, ==, 2);
  g_assert_cmpfloat (points[1].value, ==, 0.4);
  xl_curve_model_get_points (model, XL_CURVE_TRAIN_BATCH, &n);
  g_assert_cmpuint (n, ==, 0);

  xl_curve_model_set_best_epoch (model, 1);
  g_assert_cmpfloat (xl_curve_model_get_best_epoch (model), ==, 1);
  xl_curve_model_clear (model);
  g_assert_true (isnan (xl_curve_model_get_best_epoch (model)));
  xl_curve_model_get_points (model, XL_CURVE_VAL_EPOCH, &n);
  g_assert_cmpuint (n, ==, 0);

  /* s[0] = y[0], s[i] = w s[i-1] + (1 - w) y[i]. */
  {
    const XlCurvePoint ramp[] = { { 0.1, 1.0 }, { 0.2, 0.0 }, { 0.3, 0.0 } };

    xl_curve_smooth (ramp, 3, 0.5, smoothed);
    g_assert_cmpfloat (smoothed[0], ==, 1.0);
    g_assert_cmpfloat (smoothed[1], ==, 0.5);
    g_assert_cmpfloat (smoothed[2], ==, 0.25);
    xl_curve_smooth (ramp, 3, 0.0, smoothed);
    g_assert_cmpfloat (smoothed[1], ==, 0.0);
  }
}

/* A series drawn in a known colour on a fixed axis lands where its data
 * says: on its points, on the segments between them, nowhere else. */
static void
test_curve_pixels (void)
{
  static const XlPlotColor green = { 0.0, 0.8, 0.0 };
  g_autoptr(XlCurveModel) model = xl_curve_model_new ();
  cairo_surface_t *surface = new_surface (400, 300);
  cairo_t *cr = cairo_create (surface);
  XlCurvePlot plot;
  XlPlotFrame frame;
  XlCurveHit hit;

  xl_curve_model_append (model, XL_CURVE_VAL_EPOCH, 1, 0.2);
  xl_curve_model_append (model, XL_CURVE_VAL_EPOCH, 2, 0.6);
  xl_curve_model_append (model, XL_CURVE_VAL_EPOCH, 3, 0.4);
  xl_curve_plot_init (&plot, model, XL_CURVE_PLOT_LOSS);
  plot.colors[XL_CURVE_VAL_EPOCH] = green;
  plot.x_max = 4;
  plot.y_min = 0;
  plot.y_max = 1;

  xl_curve_plot_draw (&plot, cr, 400, 300, &frame);
  g_assert_cmpint (cairo_status (cr), ==, CAIRO_STATUS_SUCCESS);

  g_assert_cmpfloat (frame.x_min, ==, 0);
  g_assert_cmpfloat (frame.x_max, ==, 4);
  g_assert_cmpfloat (frame.y_min, ==, 0);
  g_assert_cmpfloat (frame.y_max, ==, 1);
  g_assert_cmpfloat (frame.x, >, 0);
  g_assert_cmpfloat (frame.x + frame.width, <, 400);
  g_assert_cmpfloat (frame.y + frame.height, <, 300);

  /* The markers' centres, and the middle of each segment. */
  g_assert_true (color_near (surface, xl_plot_frame_to_pixel_x (&frame, 1),
                             xl_plot_frame_to_pixel_y (&frame, 0.2), &green, 0.02));
  g_assert_true (color_near (surface, xl_plot_frame_to_pixel_x (&frame, 2),
                             xl_plot_frame_to_pixel_y (&frame, 0.6), &green, 0.02));
  g_assert_true (color_near (surface, xl_plot_frame_to_pixel_x (&frame, 1.5),
                             xl_plot_frame_to_pixel_y (&frame, 0.4), &green, 0.1));
  g_assert_true (color_near (surface, xl_plot_frame_to_pixel_x (&frame, 2.5),
                             xl_plot_frame_to_pixel_y (&frame, 0.5), &green, 0.1));
  /* Not above, not below, not past the last point. */
  g_assert_false (color_near (surface, xl_plot_frame_to_pixel_x (&frame, 2),
                              xl_plot_frame_to_pixel_y (&frame, 0.9), &green, 0.3));
  g_assert_false (color_near (surface, xl_plot_frame_to_pixel_x (&frame, 2),
                              xl_plot_frame_to_pixel_y (&frame, 0.2), &green, 0.3));
  g_assert_false (color_near (surface, xl_plot_frame_to_pixel_x (&frame, 3.6),
                              xl_plot_frame_to_pixel_y (&frame, 0.4), &green, 0.3));

  /* Hover: the nearest point within the radius, or nothing. */
  g_assert_true (xl_curve_plot_hit_test (&plot, &frame,
                                         xl_plot_frame_to_pixel_x (&frame, 2) + 3,
                                         xl_plot_frame_to_pixel_y (&frame, 0.6) - 2, 8, &hit));
  g_assert_cmpint (hit.series, ==, XL_CURVE_VAL_EPOCH);
  g_assert_cmpuint (hit.index, ==, 1);
  g_assert_cmpfloat (hit.epoch, ==, 2);
  g_assert_cmpfloat (hit.value, ==, 0.6);
  g_assert_false (xl_curve_plot_hit_test (&plot, &frame,
                                          xl_plot_frame_to_pixel_x (&frame, 2),
                                          xl_plot_frame_to_pixel_y (&frame, 0.9), 8, &hit));

  cairo_destroy (cr);
  cairo_surface_destroy (surface);
}

/* The batch series is drawn smoothed; the hit-test reports both values. */
static void
test_curve_smoothed_hit (void)
{
  g_autoptr(XlCurveModel) model = xl_curve_model_new ();
  cairo_surface_t *surface = new_surface (400, 300);
  cairo_t *cr = cairo_create (surface);
  XlCurvePlot plot;
  XlPlotFrame frame;
  XlCurveHit hit;

  xl_curve_model_append (model, XL_CURVE_TRAIN_BATCH, 0.5, 1.0);
  xl_curve_model_append (model, XL_CURVE_TRAIN_BATCH, 1.0, 0.0);
  xl_curve_plot_init (&plot, model, XL_CURVE_PLOT_LOSS);
  plot.smoothing = 0.5;
  xl_curve_plot_draw (&plot, cr, 400, 300, &frame);

  g_assert_true (xl_curve_plot_hit_test (&plot, &frame, xl_plot_frame_to_pixel_x (&frame, 1.0),
                                         xl_plot_frame_to_pixel_y (&frame, 0.5), 4, &hit));
  g_assert_cmpint (hit.series, ==, XL_CURVE_TRAIN_BATCH);
  g_assert_cmpfloat (hit.value, ==, 0.0);
  g_assert_cmpfloat (hit.shown, ==, 0.5);
  g_assert_true (color_near (surface, hit.x, hit.y, &plot.colors[XL_CURVE_TRAIN_BATCH], 0.1));

  cairo_destroy (cr);
  cairo_surface_destroy (surface);
}

/* ROC -------------------------------------------------------------------------- */

static void
test_roc_pixels (void)
{
  static const XlPlotColor chance = { 0.55, 0.55, 0.55 };
  g_autoptr(XlRocCurve) roc = xl_roc_curve_compute (hand_scores, hand_labels, 6, 1, NULL);
  cairo_surface_t *surface = new_surface (400, 300);
  cairo_t *cr = cairo_create (surface);
  const XlPlotColor *blue = xl_plot_series_color (0);
  XlRocPlot plot;
  XlPlotFrame frame;
  XlRocPoint youden;
  guint on_diagonal = 0;
  guint curve_index, point_index;

  xl_roc_plot_init (&plot);
  g_assert_true (xl_roc_plot_add_curve (&plot, roc, "PNEUMONIA"));
  g_assert_true (xl_roc_curve_youden (roc, &youden));
  g_assert_true (xl_roc_plot_add_marker (&plot, &youden, "Youden"));
  xl_roc_plot_draw (&plot, cr, 400, 300, &frame);
  g_assert_cmpint (cairo_status (cr), ==, CAIRO_STATUS_SUCCESS);

  g_assert_cmpfloat (frame.x_min, ==, 0);
  g_assert_cmpfloat (frame.x_max, ==, 1);
  g_assert_cmpfloat_with_epsilon (frame.width, frame.height, 1e-9);

  /* The dashed diagonal: most samples along it are its grey. */
  for (guint i = 1; i < 40; i++)
    {
      double t = 0.15 + 0.7 * i / 40.0;

      if (color_near (surface, xl_plot_frame_to_pixel_x (&frame, t),
                      xl_plot_frame_to_pixel_y (&frame, t), &chance, 0.08))
        on_diagonal++;
    }
  g_assert_cmpuint (on_diagonal, >=, 20);

  /* The curve's vertical step at fpr 1/3 (tpr 2/3 to 1) and its top run. */
  g_assert_true (color_near (surface, xl_plot_frame_to_pixel_x (&frame, 1.0 / 3),
                             xl_plot_frame_to_pixel_y (&frame, 0.8), blue, 0.05));
  g_assert_true (color_near (surface, xl_plot_frame_to_pixel_x (&frame, 0.8),
                             xl_plot_frame_to_pixel_y (&frame, 1.0), blue, 0.05));
  /* Not across the middle, where a chance curve would be. */
  g_assert_false (color_near (surface, xl_plot_frame_to_pixel_x (&frame, 0.6),
                              xl_plot_frame_to_pixel_y (&frame, 0.6), blue, 0.3));

  /* The Youden marker (threshold 0.8 at (0, 2/3)) is black. */
  g_assert_true (color_near (surface, xl_plot_frame_to_pixel_x (&frame, youden.fpr) + 1,
                             xl_plot_frame_to_pixel_y (&frame, youden.tpr),
                             xl_plot_palette (XL_PLOT_COLOR_BLACK), 0.05));

  g_assert_true (xl_roc_plot_hit_test (&plot, &frame,
                                       xl_plot_frame_to_pixel_x (&frame, 1.0 / 3) + 2,
                                       xl_plot_frame_to_pixel_y (&frame, 2.0 / 3) + 1, 6,
                                       &curve_index, &point_index));
  g_assert_cmpuint (curve_index, ==, 0);
  g_assert_cmpuint (point_index, ==, 3);
  g_assert_cmpfloat (roc->points[point_index].threshold, ==, 0.7f);
  g_assert_false (xl_roc_plot_hit_test (&plot, &frame,
                                        xl_plot_frame_to_pixel_x (&frame, 0.6),
                                        xl_plot_frame_to_pixel_y (&frame, 0.3), 6,
                                        &curve_index, &point_index));

  cairo_destroy (cr);
  cairo_surface_destroy (surface);
}

/* A one-class split has no curve to draw; the legend says why. */
static void
test_roc_single_class (void)
{
  static const guint negatives[] = { 0, 0, 0, 0, 0, 0 };
  g_autoptr(XlRocCurve) roc = xl_roc_curve_compute (hand_scores, negatives, 6, 1, NULL);
  cairo_surface_t *surface = new_surface (400, 300);
  cairo_t *cr = cairo_create (surface);
  const XlPlotColor *blue = xl_plot_series_color (0);
  XlRocPlot plot;
  XlPlotFrame frame;

  xl_roc_plot_init (&plot);
  xl_roc_plot_add_curve (&plot, roc, "PNEUMONIA");
  xl_roc_plot_draw (&plot, cr, 400, 300, &frame);
  g_assert_cmpint (cairo_status (cr), ==, CAIRO_STATUS_SUCCESS);

  /* The left edge would carry a curve; it only has the axis. */
  for (guint i = 1; i < 10; i++)
    g_assert_false (color_near (surface, xl_plot_frame_to_pixel_x (&frame, 0.0) + 1,
                                xl_plot_frame_to_pixel_y (&frame, i / 10.0), blue, 0.2));

  cairo_destroy (cr);
  cairo_surface_destroy (surface);
}

/* Confusion matrix ------------------------------------------------------------- */

/* Samples a cell near its top-left corner, away from its text. */
static XlPlotColor
cell_fill (cairo_surface_t   *surface,
           const XlPlotFrame *frame,
           guint              row,
           guint              column)
{
  return pixel_at (surface, xl_plot_frame_to_pixel_x (frame, column + 0.08),
                   xl_plot_frame_to_pixel_y (frame, row + 0.08));
}

static void
check_confusion_colors (const guint *counts,
                        guint        n,
                        int          width,
                        int          height)
{
  g_autoptr(XlConfusionMatrix) cm = xl_confusion_matrix_new (n);
  cairo_surface_t *surface = new_surface (width, height);
  cairo_t *cr = cairo_create (surface);
  XlConfusionPlot plot;
  XlPlotFrame frame;

  for (guint t = 0; t < n; t++)
    for (guint p = 0; p < n; p++)
      cm->counts[t * n + p] = counts[t * n + p];

  xl_confusion_plot_init (&plot, cm, n == 2 ? binary_names : NULL);
  xl_confusion_plot_draw (&plot, cr, width, height, &frame);
  g_assert_cmpint (cairo_status (cr), ==, CAIRO_STATUS_SUCCESS);
  assert_edges_blank (surface);

  /* Every pair of cells: the larger share is the darker fill. */
  for (guint a = 0; a < n * n; a++)
    for (guint b = 0; b < n * n; b++)
      {
        double share_a = xl_confusion_matrix_row_fraction (cm, a / n, a % n);
        double share_b = xl_confusion_matrix_row_fraction (cm, b / n, b % n);
        XlPlotColor fill_a = cell_fill (surface, &frame, a / n, a % n);
        XlPlotColor fill_b = cell_fill (surface, &frame, b / n, b % n);
        XlPlotColor expected;

        xl_confusion_plot_cell_color (share_a, &expected);
        g_assert_cmpfloat (color_distance (&fill_a, &expected), <, 3.0 / 255);
        if (share_a > share_b + 1e-9)
          g_assert_cmpfloat (xl_plot_color_luminance (&fill_a), <,
                             xl_plot_color_luminance (&fill_b));
      }

  /* Clicking a cell's centre finds it; outside the matrix finds nothing. */
  for (guint t = 0; t < n; t++)
    for (guint p = 0; p < n; p++)
      {
        guint true_class = G_MAXUINT, predicted_class = G_MAXUINT;

        g_assert_true (xl_confusion_plot_hit_test (&plot, &frame,
                                                   xl_plot_frame_to_pixel_x (&frame, p + 0.5),
                                                   xl_plot_frame_to_pixel_y (&frame, t + 0.5),
                                                   &true_class, &predicted_class));
        g_assert_cmpuint (true_class, ==, t);
        g_assert_cmpuint (predicted_class, ==, p);
      }
  g_assert_false (xl_confusion_plot_hit_test (&plot, &frame, frame.x - 2, frame.y + 2, NULL, NULL));
  g_assert_false (xl_confusion_plot_hit_test (&plot, &frame, frame.x + 2,
                                              frame.y + frame.height + 2, NULL, NULL));

  cairo_destroy (cr);
  cairo_surface_destroy (surface);
}

static void
test_confusion_colors (void)
{
  /* Shares 0.9 0.1 / 0.3 0.7. */
  static const guint two[] = { 90, 10, 30, 70 };
  static const guint three[] = { 5, 1, 0, 2, 3, 1, 0, 2, 6 };

  check_confusion_colors (two, 2, 400, 300);
  check_confusion_colors (two, 2, 1600, 1200);
  check_confusion_colors (three, 3, 400, 300);
}

/* Text on a dark cell is light, on a light cell dark. */
static void
test_confusion_text_contrast (void)
{
  g_autoptr(XlConfusionMatrix) cm = xl_confusion_matrix_new (2);
  cairo_surface_t *surface = new_surface (800, 600);
  cairo_t *cr = cairo_create (surface);
  XlConfusionPlot plot;
  XlPlotFrame frame;

  cm->counts[0] = 99;   /* 99% of row 0: nearly the darkest blue */
  cm->counts[1] = 1;
  cm->counts[2] = 1;
  cm->counts[3] = 99;
  xl_confusion_plot_init (&plot, cm, binary_names);
  xl_confusion_plot_draw (&plot, cr, 800, 600, &frame);

  for (guint cell = 0; cell < 2; cell++)
    {
      /* Cell (0, 0) is dark, (0, 1) light. */
      double x0 = xl_plot_frame_to_pixel_x (&frame, cell + 0.2);
      double x1 = xl_plot_frame_to_pixel_x (&frame, cell + 0.8);
      double y0 = xl_plot_frame_to_pixel_y (&frame, 0.3);
      double y1 = xl_plot_frame_to_pixel_y (&frame, 0.7);
      double lightest = 0.0, darkest = 1.0;

      for (double y = y0; y < y1; y++)
        for (double x = x0; x < x1; x++)
          {
            XlPlotColor c = pixel_at (surface, x, y);
            double luminance = xl_plot_color_luminance (&c);

            lightest = MAX (lightest, luminance);
            darkest = MIN (darkest, luminance);
          }
      if (cell == 0)
        g_assert_cmpfloat (lightest, >, 0.8);
      else
        g_assert_cmpfloat (darkest, <, 0.1);
    }

  cairo_destroy (cr);
  cairo_surface_destroy (surface);
}

/* Image grid ------------------------------------------------------------------- */

static void
test_image_grid (void)
{
  guint8 gray[5][8 * 6];
  guint8 rgb[8 * 6 * 3];
  XlGridImage images[6];
  cairo_surface_t *surface = new_surface (400, 300);
  cairo_t *cr = cairo_create (surface);
  cairo_surface_t *converted;
  XlImageGrid grid;
  XlPlotFrame frame;
  guint index;

  for (guint i = 0; i < 5; i++)
    {
      memset (gray[i], (int) (40 * i + 20), sizeof gray[i]);
      images[i] = (XlGridImage) {
        .pixels = gray[i], .width = 8, .height = 6, .channels = 1,
        .label = i % 2 ? "PNEUMONIA" : "NORMAL",
      };
    }
  for (guint i = 0; i < 8 * 6; i++)
    {
      rgb[i * 3] = 200;
      rgb[i * 3 + 1] = 30;
      rgb[i * 3 + 2] = 90;
    }
  images[5] = (XlGridImage) { .pixels = rgb, .width = 8, .height = 6, .channels = 3, .label = "RGB" };

  converted = xl_plot_image_surface_new (rgb, 8, 6, 3, 0);
  {
    XlPlotColor c = pixel_at (converted, 3, 3);

    g_assert_cmpfloat_with_epsilon (c.red, 200 / 255.0, 1e-9);
    g_assert_cmpfloat_with_epsilon (c.green, 30 / 255.0, 1e-9);
    g_assert_cmpfloat_with_epsilon (c.blue, 90 / 255.0, 1e-9);
  }
  cairo_surface_destroy (converted);
  g_assert_null (xl_plot_image_surface_new (rgb, 0, 6, 3, 0));

  xl_image_grid_init (&grid, images, 6);
  grid.title = "Augmented batch";
  xl_image_grid_draw (&grid, cr, 400, 300, &frame);
  g_assert_cmpint (cairo_status (cr), ==, CAIRO_STATUS_SUCCESS);
  assert_edges_blank (surface);

  /* Each image shows its own colour, a third of the way into its cell (the
   * image is on top, its label under it). */
  for (guint i = 0; i < 6; i++)
    {
      guint columns = (guint) frame.x_max;
      double x = xl_plot_frame_to_pixel_x (&frame, i % columns + 0.3);
      double y = xl_plot_frame_to_pixel_y (&frame, i / columns + 0.3);
      XlPlotColor c = pixel_at (surface, x, y);

      if (i < 5)
        g_assert_cmpfloat (fabs (c.red - (40 * i + 20) / 255.0), <, 2.0 / 255);
      else
        g_assert_cmpfloat (fabs (c.green - 30 / 255.0), <, 2.0 / 255);
      g_assert_true (xl_image_grid_hit_test (&grid, &frame, x, y, &index));
      g_assert_cmpuint (index, ==, i);
    }
  g_assert_false (xl_image_grid_hit_test (&grid, &frame, 1, 1, &index));

  cairo_destroy (cr);
  cairo_surface_destroy (surface);
}

/* Every plot, at a small and a large size: nothing clipped at the edges,
 * enough colours to be a picture. */
typedef struct {
  XlCurvePlot     loss;
  XlCurvePlot     accuracy;
  XlRocPlot       roc;
  XlConfusionPlot confusion;
  XlImageGrid     grid;
  XlRocPlot       roc_ovr;
  XlCurvePlot     empty;
  XlCurveModel   *empty_model;
  XlRocOneVsRest *ovr;
  XlCurveModel   *loss_model;
  XlCurveModel   *accuracy_model;
  XlRocCurve     *roc_curve;
  XlConfusionMatrix *matrix;
  guint8          pixels[4][32 * 32];
  XlGridImage     images[4];
} Plots;

static void
plots_init (Plots *plots)
{
  XlRocPoint youden;
  XlBinaryMetrics half;

  memset (plots, 0, sizeof *plots);
  plots->loss_model = make_training_model (FALSE);
  plots->accuracy_model = make_training_model (TRUE);
  xl_curve_plot_init (&plots->loss, plots->loss_model, XL_CURVE_PLOT_LOSS);
  xl_curve_plot_init (&plots->accuracy, plots->accuracy_model, XL_CURVE_PLOT_ACCURACY);
  plots->loss.x_max = 15;

  plots->roc_curve = xl_roc_curve_compute (hand_scores, hand_labels, 6, 1, NULL);
  xl_roc_plot_init (&plots->roc);
  xl_roc_plot_add_curve (&plots->roc, plots->roc_curve, "PNEUMONIA");
  xl_roc_curve_youden (plots->roc_curve, &youden);
  xl_roc_plot_add_marker (&plots->roc, &youden, "Youden");
  g_assert_true (xl_binary_metrics_compute (hand_scores, hand_labels, 6, 1, 0.5, &half, NULL));
  g_assert_true (xl_roc_plot_add_metrics_marker (&plots->roc, &half, "Default"));

  plots->matrix = xl_confusion_matrix_new_from_scores (hand_scores, hand_labels, 6, 1, 0.5, NULL);
  xl_confusion_plot_init (&plots->confusion, plots->matrix, binary_names);

  for (guint i = 0; i < 4; i++)
    {
      for (guint p = 0; p < 32 * 32; p++)
        plots->pixels[i][p] = (guint8) ((p % 32) * 8 + i * 10);
      plots->images[i] = (XlGridImage) {
        .pixels = plots->pixels[i], .width = 32, .height = 32, .channels = 1,
        .label = i % 2 ? "PNEUMONIA" : "NORMAL",
      };
    }
  xl_image_grid_init (&plots->grid, plots->images, 4);
  plots->grid.title = "Augmented training batch";

  /* Three classes, one vs rest, each scored highest on its own samples. */
  {
    static const float probs[] = {
      0.8f, 0.1f, 0.1f,   0.6f, 0.3f, 0.1f,   0.3f, 0.6f, 0.1f,
      0.1f, 0.5f, 0.4f,   0.1f, 0.2f, 0.7f,   0.3f, 0.1f, 0.6f,
      0.4f, 0.4f, 0.2f,   0.2f, 0.3f, 0.5f,   0.5f, 0.2f, 0.3f,
    };
    static const guint labels[] = { 0, 0, 1, 1, 2, 2, 1, 2, 0 };
    static const char *const names[] = { "NORMAL", "BACTERIA", "VIRUS" };

    plots->ovr = xl_roc_one_vs_rest_compute (probs, labels, 9, 3, NULL);
    xl_roc_plot_init (&plots->roc_ovr);
    for (guint c = 0; c < 3; c++)
      g_assert_true (xl_roc_plot_add_curve (&plots->roc_ovr, plots->ovr->curves[c], names[c]));
    plots->roc_ovr.macro_auc = plots->ovr->macro_auc;
  }

  /* What the window shows before the first batch. */
  plots->empty_model = xl_curve_model_new ();
  xl_curve_plot_init (&plots->empty, plots->empty_model, XL_CURVE_PLOT_ACCURACY);
  plots->empty.x_max = 30;
}

static void
plots_clear (Plots *plots)
{
  g_clear_pointer (&plots->loss_model, xl_curve_model_unref);
  g_clear_pointer (&plots->empty_model, xl_curve_model_unref);
  g_clear_pointer (&plots->ovr, xl_roc_one_vs_rest_free);
  g_clear_pointer (&plots->accuracy_model, xl_curve_model_unref);
  g_clear_pointer (&plots->roc_curve, xl_roc_curve_free);
  g_clear_pointer (&plots->matrix, xl_confusion_matrix_free);
}

typedef struct {
  const char     *name;
  XlPlotDrawFunc  draw;
  gpointer        data;
} NamedPlot;

#define N_PLOTS 7

static guint
plots_list (Plots     *plots,
            NamedPlot  list[N_PLOTS])
{
  list[0] = (NamedPlot) { "loss", xl_curve_plot_draw_func, &plots->loss };
  list[1] = (NamedPlot) { "accuracy", xl_curve_plot_draw_func, &plots->accuracy };
  list[2] = (NamedPlot) { "roc", xl_roc_plot_draw_func, &plots->roc };
  list[3] = (NamedPlot) { "confusion-matrix", xl_confusion_plot_draw_func, &plots->confusion };
  list[4] = (NamedPlot) { "augmented-batch", xl_image_grid_draw_func, &plots->grid };
  list[5] = (NamedPlot) { "roc-one-vs-rest", xl_roc_plot_draw_func, &plots->roc_ovr };
  list[6] = (NamedPlot) { "empty-curves", xl_curve_plot_draw_func, &plots->empty };
  return N_PLOTS;
}

static void
test_all_sizes (void)
{
  static const int sizes[][2] = { { 400, 300 }, { 1600, 1200 }, { 640, 640 }, { 900, 400 } };
  Plots plots;
  NamedPlot list[N_PLOTS];
  guint n = 0;

  plots_init (&plots);
  n = plots_list (&plots, list);

  for (guint s = 0; s < G_N_ELEMENTS (sizes); s++)
    for (guint i = 0; i < n; i++)
      {
        cairo_surface_t *surface = new_surface (sizes[s][0], sizes[s][1]);
        cairo_t *cr = cairo_create (surface);

        g_test_message ("%s at %dx%d", list[i].name, sizes[s][0], sizes[s][1]);
        list[i].draw (cr, sizes[s][0], sizes[s][1], list[i].data);
        g_assert_cmpint (cairo_status (cr), ==, CAIRO_STATUS_SUCCESS);
        assert_edges_blank (surface);
        g_assert_cmpuint (count_colors (surface), >, 20);

        cairo_destroy (cr);
        cairo_surface_destroy (surface);
      }

  plots_clear (&plots);
}

/* A plot drawn into part of a bigger surface, translated, stays in its part
 * and leaves the caller's cairo state as it was. */
static void
test_draw_in_place (void)
{
  cairo_surface_t *surface = new_surface (500, 400);
  cairo_t *cr = cairo_create (surface);
  XlPlotColor outside;
  Plots plots;

  plots_init (&plots);
  cairo_set_source_rgb (cr, 1, 0, 0);
  cairo_paint (cr);
  cairo_translate (cr, 50, 50);
  cairo_set_line_width (cr, 7.0);
  xl_roc_plot_draw (&plots.roc, cr, 400, 300, NULL);
  g_assert_cmpfloat (cairo_get_line_width (cr), ==, 7.0);

  outside = pixel_at (surface, 25, 25);
  g_assert_cmpfloat (outside.red, ==, 1.0);
  outside = pixel_at (surface, 475, 375);
  g_assert_cmpfloat (outside.red, ==, 1.0);
  outside = pixel_at (surface, 60, 60);
  g_assert_cmpfloat (outside.green, ==, 1.0);

  plots_clear (&plots);
  cairo_destroy (cr);
  cairo_surface_destroy (surface);
}

/* Files ------------------------------------------------------------------------ */

static void
assert_file_starts_with (const char *path,
                         const char *magic)
{
  g_autofree char *contents = NULL;
  gsize length = 0;

  g_assert_true (g_file_get_contents (path, &contents, &length, NULL));
  g_assert_cmpuint (length, >, 1000);
  g_assert_true (memcmp (contents, magic, strlen (magic)) == 0);
}

static void
test_save (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("xl-plot-XXXXXX", &error);
  g_autoptr(GPtrArray) expected = g_ptr_array_new_with_free_func (g_free);
  Plots plots;
  NamedPlot list[N_PLOTS];
  guint n;

  g_assert_no_error (error);
  plots_init (&plots);
  n = plots_list (&plots, list);

  for (guint i = 0; i < n; i++)
    {
      g_autofree char *png = g_strdup_printf ("%s/%s.png", dir, list[i].name);
      g_autofree char *svg = g_strdup_printf ("%s/%s.svg", dir, list[i].name);
      g_autofree char *pdf = g_strdup_printf ("%s/%s.PDF", dir, list[i].name);
      cairo_surface_t *reloaded;

      g_assert_true (xl_plot_save (png, 640, 480, list[i].draw, list[i].data, &error));
      g_assert_no_error (error);
      reloaded = cairo_image_surface_create_from_png (png);
      g_assert_cmpint (cairo_surface_status (reloaded), ==, CAIRO_STATUS_SUCCESS);
      g_assert_cmpint (cairo_image_surface_get_width (reloaded), ==, 640);
      g_assert_cmpint (cairo_image_surface_get_height (reloaded), ==, 480);
      g_assert_cmpuint (count_colors (reloaded), >, 20);
      cairo_surface_destroy (reloaded);

      g_assert_true (xl_plot_save (svg, 640, 480, list[i].draw, list[i].data, &error));
      g_assert_no_error (error);
      assert_file_starts_with (svg, "<?xml");
      {
        g_autofree char *contents = NULL;

        g_file_get_contents (svg, &contents, NULL, NULL);
        g_assert_nonnull (strstr (contents, "<svg"));
        g_assert_nonnull (strstr (contents, "width=\"640\""));
      }

      /* The extension's case does not matter. */
      g_assert_true (xl_plot_save (pdf, 640, 480, list[i].draw, list[i].data, &error));
      g_assert_no_error (error);
      assert_file_starts_with (pdf, "%PDF-");

      g_ptr_array_add (expected, g_path_get_basename (png));
      g_ptr_array_add (expected, g_path_get_basename (svg));
      g_ptr_array_add (expected, g_path_get_basename (pdf));
    }

  /* Overwriting replaces the file whole. */
  {
    g_autofree char *png = g_strdup_printf ("%s/loss.png", dir);
    cairo_surface_t *reloaded;

    g_assert_true (xl_curve_plot_save (&plots.loss, png, 400, 300, &error));
    g_assert_no_error (error);
    reloaded = cairo_image_surface_create_from_png (png);
    g_assert_cmpint (cairo_image_surface_get_width (reloaded), ==, 400);
    cairo_surface_destroy (reloaded);
    g_assert_true (xl_roc_plot_save (&plots.roc, png, 400, 300, &error));
    g_assert_true (xl_confusion_plot_save (&plots.confusion, png, 400, 300, &error));
    g_assert_true (xl_image_grid_save (&plots.grid, png, 400, 300, &error));
    g_assert_no_error (error);
  }

  /* A multi-page report. */
  {
    g_autofree char *report = g_strdup_printf ("%s/report.pdf", dir);
    g_autofree char *contents = NULL;
    XlPlotPage pages[N_PLOTS];
    guint n_pages = 0;
    gsize length = 0;
    const char *cursor;

    for (guint i = 0; i < n; i++)
      pages[i] = (XlPlotPage) { list[i].draw, list[i].data };
    g_assert_true (xl_plot_save_pdf_pages (report, 842, 595, pages, n, &error));
    g_assert_no_error (error);
    assert_file_starts_with (report, "%PDF-");
    g_file_get_contents (report, &contents, &length, NULL);
    /* Page objects, not the /Pages tree; the streams between hold NULs. */
    for (cursor = contents;
         (cursor = memmem (cursor, length - (cursor - contents), "/Type /Page", 11)) != NULL;
         cursor++)
      if (cursor + 11 < contents + length && cursor[11] != 's')
        n_pages++;
    g_assert_cmpuint (n_pages, ==, n);
    g_ptr_array_add (expected, g_strdup ("report.pdf"));
  }

  /* Refused: an unknown format, a size, a folder that does not exist. Nothing
   * is written. */
  {
    g_autofree char *jpeg = g_strdup_printf ("%s/loss.jpeg", dir);
    g_autofree char *missing = g_strdup_printf ("%s/no-such-folder/loss.png", dir);

    g_assert_false (xl_plot_save (jpeg, 640, 480, list[0].draw, list[0].data, &error));
    g_assert_error (error, XL_PLOT_ERROR, XL_PLOT_ERROR_FORMAT);
    g_assert_nonnull (strstr (error->message, "loss.jpeg"));
    g_clear_error (&error);

    g_assert_false (xl_plot_save (jpeg, 640, 480, list[0].draw, list[0].data, &error));
    g_clear_error (&error);
    g_assert_false (g_file_test (jpeg, G_FILE_TEST_EXISTS));

    g_assert_false (xl_plot_save (missing, 640, 480, list[0].draw, list[0].data, &error));
    g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
    g_assert_nonnull (strstr (error->message, "no-such-folder"));
    g_clear_error (&error);

    {
      g_autofree char *png = g_strdup_printf ("%s/tiny.png", dir);

      g_assert_false (xl_plot_save (png, 0, 480, list[0].draw, list[0].data, &error));
      g_assert_error (error, XL_PLOT_ERROR, XL_PLOT_ERROR_SIZE);
      g_clear_error (&error);
    }
  }

  /* Only the files asked for: no temporary left behind. */
  {
    g_autoptr(GDir) listing = g_dir_open (dir, 0, &error);
    const char *name;
    guint found = 0;

    g_assert_no_error (error);
    while ((name = g_dir_read_name (listing)) != NULL)
      {
        g_autofree char *path = g_build_filename (dir, name, NULL);
        gboolean listed = FALSE;

        for (guint i = 0; i < expected->len; i++)
          listed |= g_str_equal (name, g_ptr_array_index (expected, i));
        if (!listed)
          g_error ("unexpected file %s", name);
        found++;
        g_unlink (path);
      }
    g_assert_cmpuint (found, ==, expected->len);
  }
  g_rmdir (dir);

  plots_clear (&plots);
}

/* Set XL_PLOT_SAVE_DIR to keep each plot as PNG at two sizes, for looking at. */
static void
save_for_review (void)
{
  const char *dir = g_getenv ("XL_PLOT_SAVE_DIR");
  Plots plots;
  NamedPlot list[N_PLOTS];
  guint n;

  if (dir == NULL)
    return;

  plots_init (&plots);
  n = plots_list (&plots, list);
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *small = g_strdup_printf ("%s/%s-400.png", dir, list[i].name);
      g_autofree char *large = g_strdup_printf ("%s/%s-1600.png", dir, list[i].name);
      g_autoptr(GError) error = NULL;

      if (!xl_plot_save (small, 400, 300, list[i].draw, list[i].data, &error) ||
          !xl_plot_save (large, 1600, 1200, list[i].draw, list[i].data, &error))
        g_warning ("%s", error->message);
    }
  plots_clear (&plots);
}

int
main (int   argc,
      char *argv[])
{
  int status;

  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/plot/ticks", test_ticks);
  g_test_add_func ("/plot/curve/model", test_curve_model);
  g_test_add_func ("/plot/curve/pixels", test_curve_pixels);
  g_test_add_func ("/plot/curve/smoothed-hit", test_curve_smoothed_hit);
  g_test_add_func ("/plot/roc/pixels", test_roc_pixels);
  g_test_add_func ("/plot/roc/single-class", test_roc_single_class);
  g_test_add_func ("/plot/confusion/colors", test_confusion_colors);
  g_test_add_func ("/plot/confusion/text-contrast", test_confusion_text_contrast);
  g_test_add_func ("/plot/image-grid", test_image_grid);
  g_test_add_func ("/plot/all-sizes", test_all_sizes);
  g_test_add_func ("/plot/draw-in-place", test_draw_in_place);
  g_test_add_func ("/plot/save", test_save);

  status = g_test_run ();
  save_for_review ();

  /* No cairo_debug_reset_static_data () here: it asserts when a font is still
   * referenced from one of Pango's caches, which depends on timing. Leak
   * checkers get a suppression for the font caches instead. */
  return status;
}
