/* xl-plot-report.c — the pictures and the PDF of a run folder.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <math.h>
#include <pango/pangocairo.h>
#include <string.h>

#include "xl-loader.h"
#include "xl-plot-report.h"
#include "xl-plot.h"

#define PLOT_WIDTH 800
#define PLOT_HEIGHT 600
#define GRID_IMAGES 16

/* Everything drawn, kept together so the PNG, the SVG and the PDF page come
 * from the same structs. */
typedef struct {
  XlCurveModel *loss_model, *acc_model;
  XlCurvePlot loss, accuracy;
  XlRocCurve *roc;
  XlRocOneVsRest *ovr;
  XlRocPlot roc_plot;
  XlConfusionMatrix *cm;
  XlConfusionPlot cm_plot;
  guint8 *grid_pixels;
  XlGridImage grid_images[GRID_IMAGES];
  XlImageGrid grid;
  gboolean have_grid;
  char *summary;           /* the text page of report.pdf */
} Plots;

static void
plots_clear (Plots *p)
{
  g_clear_pointer (&p->loss_model, xl_curve_model_unref);
  g_clear_pointer (&p->acc_model, xl_curve_model_unref);
  g_clear_pointer (&p->roc, xl_roc_curve_free);
  g_clear_pointer (&p->ovr, xl_roc_one_vs_rest_free);
  g_clear_pointer (&p->cm, xl_confusion_matrix_free);
  g_clear_pointer (&p->grid_pixels, g_free);
  g_clear_pointer (&p->summary, g_free);
}

static gboolean
ensure_folder (const char *dir, GError **error)
{
  if (g_mkdir_with_parents (dir, 0755) != 0)
    {
      int saved = errno;
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved), "cannot create %s: %s",
                   dir, g_strerror (saved));
      return FALSE;
    }
  return TRUE;
}

/* name.png and name.svg in dir */
static gboolean
save_both (const char *dir, const char *name, XlPlotDrawFunc draw, gpointer plot,
           GError **error)
{
  const char *ext[] = { "png", "svg" };

  for (guint i = 0; i < G_N_ELEMENTS (ext); i++)
    {
      g_autofree char *file = g_strdup_printf ("%s.%s", name, ext[i]);
      g_autofree char *path = g_build_filename (dir, file, NULL);
      if (!xl_plot_save (path, PLOT_WIDTH, PLOT_HEIGHT, draw, plot, error))
        return FALSE;
    }
  return TRUE;
}

static void
build_curves (Plots *p, const XlRunReport *r)
{
  p->loss_model = xl_curve_model_new ();
  p->acc_model = xl_curve_model_new ();
  for (guint i = 0; i < r->n_batches; i++)
    {
      xl_curve_model_append (p->loss_model, XL_CURVE_TRAIN_BATCH, r->batches[i].x,
                             r->batches[i].loss);
      xl_curve_model_append (p->acc_model, XL_CURVE_TRAIN_BATCH, r->batches[i].x,
                             r->batches[i].accuracy);
    }
  for (guint i = 0; i < r->n_history; i++)
    {
      const XlEpochRecord *e = &r->history[i];
      xl_curve_model_append (p->loss_model, XL_CURVE_TRAIN_EPOCH, e->epoch, e->train_loss);
      xl_curve_model_append (p->loss_model, XL_CURVE_VAL_EPOCH, e->epoch, e->val_loss);
      xl_curve_model_append (p->acc_model, XL_CURVE_TRAIN_EPOCH, e->epoch, e->train_accuracy);
      xl_curve_model_append (p->acc_model, XL_CURVE_VAL_EPOCH, e->epoch, e->val_accuracy);
    }
  if (r->best_epoch > 0)
    {
      xl_curve_model_set_best_epoch (p->loss_model, r->best_epoch);
      xl_curve_model_set_best_epoch (p->acc_model, r->best_epoch);
    }
  if (r->early_stop_epoch > 0)
    {
      xl_curve_model_set_stop_epoch (p->loss_model, r->early_stop_epoch);
      xl_curve_model_set_stop_epoch (p->acc_model, r->early_stop_epoch);
    }
  xl_curve_plot_init (&p->loss, p->loss_model, XL_CURVE_PLOT_LOSS);
  xl_curve_plot_init (&p->accuracy, p->acc_model, XL_CURVE_PLOT_ACCURACY);
  if (r->planned_epochs > 0)
    p->loss.x_max = p->accuracy.x_max = r->planned_epochs;
}

/* The ROC curve(s) and the confusion matrix of the predictions. */
static gboolean
build_evaluation (Plots *p, const XlModelInfo *info, const XlPredictions *preds,
                  double threshold, GError **error)
{
  xl_roc_plot_init (&p->roc_plot);
  if (preds->n == 0)
    {
      g_set_error (error, XL_PLOT_ERROR, XL_PLOT_ERROR_SIZE, "no predictions to plot");
      return FALSE;
    }
  if (info->n_classes == 2)
    {
      g_autofree float *scores = xl_predictions_positive_scores (preds, info->positive_class);
      XlBinaryMetrics chosen, half;
      p->roc = xl_roc_curve_compute (scores, preds->labels, preds->n, info->positive_class,
                                     error);
      if (p->roc == NULL)
        return FALSE;
      xl_roc_plot_add_curve (&p->roc_plot, p->roc, info->classes[info->positive_class]);
      if (xl_binary_metrics_compute (scores, preds->labels, preds->n, info->positive_class,
                                     threshold, &chosen, NULL))
        xl_roc_plot_add_metrics_marker (&p->roc_plot, &chosen, "Chosen threshold");
      if (fabs (threshold - 0.5) > 1e-9
          && xl_binary_metrics_compute (scores, preds->labels, preds->n, info->positive_class,
                                        0.5, &half, NULL))
        xl_roc_plot_add_metrics_marker (&p->roc_plot, &half, "Threshold 0.5");
      p->cm = xl_confusion_matrix_new_from_scores (scores, preds->labels, preds->n,
                                                   info->positive_class, threshold, error);
    }
  else
    {
      p->ovr = xl_roc_one_vs_rest_compute (preds->probs, preds->labels, preds->n,
                                           preds->n_classes, error);
      if (p->ovr == NULL)
        return FALSE;
      for (guint c = 0; c < p->ovr->n_classes; c++)
        xl_roc_plot_add_curve (&p->roc_plot, p->ovr->curves[c], info->classes[c]);
      p->roc_plot.macro_auc = p->ovr->macro_auc;
      p->cm = xl_confusion_matrix_new_from_probabilities (preds->probs, preds->labels, preds->n,
                                                          preds->n_classes, error);
    }
  if (p->cm == NULL)
    return FALSE;
  xl_confusion_plot_init (&p->cm_plot, p->cm, (const char *const *) info->classes);
  return TRUE;
}

/* One batch as the network sees it in training, normalization undone. */
static void
build_grid (Plots *p, const XlRunReport *r)
{
  const XlTransformConfig *tf = r->train_transform;
  guint n = MIN (GRID_IMAGES, r->n_train), C;

  if (tf == NULL || n == 0 || r->cache == NULL)
    return;
  C = tf->crop;
  g_autoptr (XlLoader) loader = xl_loader_new (r->cache, r->train_indices, r->n_train, tf, n,
                                               TRUE, FALSE, r->seed, 1, 1);
  const XlBatch *batch;

  xl_loader_start_epoch (loader, 0);
  batch = xl_loader_next (loader, NULL);
  if (batch == NULL)
    return;
  p->grid_pixels = g_new (guint8, (gsize) batch->n * C * C);
  for (guint i = 0; i < batch->n; i++)
    {
      const float *ch0 = batch->images + (gsize) i * 3 * C * C;
      guint8 *dst = p->grid_pixels + (gsize) i * C * C;
      for (gsize k = 0; k < (gsize) C * C; k++)
        {
          double v = (ch0[k] * tf->std[0] + tf->mean[0]) * 255.0;
          dst[k] = (guint8) CLAMP (lround (v), 0, 255);
        }
      p->grid_images[i] = (XlGridImage) {
        .pixels = dst, .width = C, .height = C, .channels = 1,
        .label = r->info->classes[batch->labels[i]],
      };
    }
  xl_image_grid_init (&p->grid, p->grid_images, batch->n);
  p->grid.title = "A training batch after augmentation";
  p->have_grid = TRUE;
  xl_loader_release (loader, batch);
  xl_loader_stop (loader);
}

static void
draw_summary (cairo_t *cr, double width, double height, gpointer user_data)
{
  const char *text = user_data;
  PangoLayout *layout = pango_cairo_create_layout (cr);
  PangoFontDescription *font = pango_font_description_from_string ("Sans 9");

  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_paint (cr);
  cairo_set_source_rgb (cr, 0.1, 0.1, 0.1);
  pango_layout_set_font_description (layout, font);
  pango_layout_set_width (layout, (int) ((width - 80) * PANGO_SCALE));
  pango_layout_set_height (layout, (int) ((height - 80) * PANGO_SCALE));
  pango_layout_set_ellipsize (layout, PANGO_ELLIPSIZE_END);
  pango_layout_set_markup (layout, text, -1);
  cairo_move_to (cr, 40, 40);
  pango_cairo_show_layout (cr, layout);
  pango_font_description_free (font);
  g_object_unref (layout);
}

static char *
summary_markup (const XlRunReport *r)
{
  GString *s = g_string_new (NULL);
  g_autofree char *dir = g_markup_escape_text (r->shown_run_dir != NULL ? r->shown_run_dir
                                                                        : r->run_dir, -1);

  g_string_append_printf (s, "<span size='x-large' weight='bold'>X-Ray Lab training report</span>\n"
                          "%s\n\n", dir);
  if (r->info->n_classes == 2 && r->predictions != NULL && r->predictions->n > 0)
    {
      g_autofree float *scores = xl_predictions_positive_scores (r->predictions,
                                                                 r->info->positive_class);
      XlBinaryMetrics m;
      g_autoptr (XlRocCurve) roc = xl_roc_curve_compute (scores, r->predictions->labels,
                                                         r->predictions->n,
                                                         r->info->positive_class, NULL);
      if (xl_binary_metrics_compute (scores, r->predictions->labels, r->predictions->n,
                                     r->info->positive_class, r->threshold, &m, NULL))
        g_string_append_printf (s, "<b>%s split, best model (epoch %u)</b> at threshold %.3f "
                                "(%s):\naccuracy %.1f%%, sensitivity %.1f%%, specificity "
                                "%.1f%%, precision %.1f%%, F1 %.3f, AUC %.3f\n\n",
                                r->predictions_split, r->best_epoch, r->threshold,
                                r->threshold_source, 100 * m.accuracy, 100 * m.sensitivity,
                                100 * m.specificity, 100 * m.precision, m.f1,
                                roc != NULL ? roc->auc : NAN);
    }
  if (r->early_stop_epoch > 0)
    g_string_append_printf (s, "Stopped early after epoch %u.\n\n", r->early_stop_epoch);
  g_string_append (s, "<b>Epochs</b>\n<tt>epoch  train loss  train acc  val loss  val acc\n");
  for (guint i = 0; i < r->n_history; i++)
    {
      const XlEpochRecord *e = &r->history[i];
      g_string_append_printf (s, "%5u  %10.4f  %8.1f%%  %8.4f  %6.1f%%%s\n", e->epoch,
                              e->train_loss, 100 * e->train_accuracy, e->val_loss,
                              100 * e->val_accuracy, e->epoch == r->best_epoch ? "  best" : "");
    }
  g_string_append (s, "</tt>\n");
  if (r->settings_text != NULL)
    {
      g_autofree char *settings = g_markup_escape_text (r->settings_text, -1);
      g_string_append_printf (s, "<b>Settings</b>\n<tt><small>%s</small></tt>\n", settings);
    }
  g_string_append (s, "\n<i>A research and teaching tool, not a diagnostic device.</i>");
  return g_string_free (s, FALSE);
}

gboolean
xl_plot_write_run_report (const XlRunReport *r, GError **error)
{
  g_autofree char *dir = g_build_filename (r->run_dir, "plots", NULL);
  g_autofree char *pdf = g_build_filename (r->run_dir, "report.pdf", NULL);
  Plots p = { 0 };
  XlPlotPage pages[6];
  guint n_pages = 0;
  gboolean ok = FALSE;

  if (!ensure_folder (dir, error))
    return FALSE;
  build_curves (&p, r);
  if (!save_both (dir, "loss", xl_curve_plot_draw_func, &p.loss, error)
      || !save_both (dir, "accuracy", xl_curve_plot_draw_func, &p.accuracy, error))
    goto out;
  if (r->predictions != NULL)
    {
      if (!build_evaluation (&p, r->info, r->predictions, r->threshold, error)
          || !save_both (dir, "roc", xl_roc_plot_draw_func, &p.roc_plot, error)
          || !save_both (dir, "confusion-matrix", xl_confusion_plot_draw_func, &p.cm_plot,
                         error))
        goto out;
    }
  build_grid (&p, r);
  if (p.have_grid && !save_both (dir, "augmented-batch", xl_image_grid_draw_func, &p.grid, error))
    goto out;

  p.summary = summary_markup (r);
  pages[n_pages++] = (XlPlotPage) { draw_summary, p.summary };
  pages[n_pages++] = (XlPlotPage) { xl_curve_plot_draw_func, &p.loss };
  pages[n_pages++] = (XlPlotPage) { xl_curve_plot_draw_func, &p.accuracy };
  if (r->predictions != NULL)
    {
      pages[n_pages++] = (XlPlotPage) { xl_roc_plot_draw_func, &p.roc_plot };
      pages[n_pages++] = (XlPlotPage) { xl_confusion_plot_draw_func, &p.cm_plot };
    }
  if (p.have_grid)
    pages[n_pages++] = (XlPlotPage) { xl_image_grid_draw_func, &p.grid };
  ok = xl_plot_save_pdf_pages (pdf, 842, 595, pages, n_pages, error);

out:
  plots_clear (&p);
  return ok;
}

gboolean
xl_plot_write_eval_report (const char *out_dir, const XlDataset *ds, const XlModelInfo *info,
                           const XlPredictions *preds, double threshold, GError **error)
{
  g_autofree char *dir = g_build_filename (out_dir, "plots", NULL);
  Plots p = { 0 };
  gboolean ok = FALSE;

  if (!ensure_folder (dir, error))
    return FALSE;
  if (build_evaluation (&p, info, preds, threshold, error)
      && save_both (dir, "roc", xl_roc_plot_draw_func, &p.roc_plot, error)
      && save_both (dir, "confusion-matrix", xl_confusion_plot_draw_func, &p.cm_plot, error))
    ok = TRUE;
  plots_clear (&p);
  return ok;
}
