/* xl-evaluate.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#include "nn-tensor-file.h"
#include "xl-evaluate.h"
#include "xl-loader.h"

void
xl_predictions_free (XlPredictions *p)
{
  if (p == NULL)
    return;
  g_free (p->indices);
  g_free (p->labels);
  g_free (p->probs);
  g_free (p);
}

gboolean
xl_write_file_atomic (const char *path, const char *contents, gssize len, GError **error)
{
  NnError err = { 0 };

  if (len < 0)
    len = (gssize) strlen (contents);
  if (nn_write_file_atomic (path, contents, (size_t) len, &err) != NN_OK)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED, err.message);
      return FALSE;
    }
  return TRUE;
}

XlPredictions *
xl_predict_indices (NnResnet *net, const XlModelInfo *info, XlImageCache *cache,
                    const guint *indices, guint n, guint batch_size, guint loader_threads,
                    XlProgressFunc progress, gpointer user_data, GCancellable *cancellable,
                    GError **error)
{
  const guint C = info->n_classes;
  g_autoptr (XlPredictions) p = g_new0 (XlPredictions, 1);
  g_autoptr (XlLoader) loader = NULL;
  XlTransformConfig tf;
  const XlBatch *batch;
  double loss_sum = 0;
  guint done = 0;

  xl_transform_config_init (&tf, FALSE);
  tf.resize = info->resize;
  tf.crop = info->input_size;
  memcpy (tf.mean, info->mean, sizeof tf.mean);
  memcpy (tf.std, info->std, sizeof tf.std);

  p->n_classes = C;
  p->indices = g_new (guint, MAX (n, 1));
  p->labels = g_new (guint, MAX (n, 1));
  p->probs = g_new (float, (gsize) MAX (n, 1) * C);
  if (n == 0)
    return g_steal_pointer (&p);

  batch_size = MIN (batch_size, (guint) nn_resnet_config (net)->batch);
  loader = xl_loader_new (cache, indices, n, &tf, batch_size, FALSE, FALSE, 0,
                          MAX (loader_threads, 1), 2);
  xl_loader_start_epoch (loader, 0);
  while ((batch = xl_loader_next (loader, error)) != NULL)
    {
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        {
          xl_loader_release (loader, batch);
          return NULL;
        }
      nn_resnet_forward (net, batch->images, (int) batch->n, false);
      loss_sum += nn_resnet_loss (net, batch->labels, NULL) * batch->n;
      const float *probs = nn_resnet_probs (net);
      for (guint i = 0; i < batch->n; i++)
        {
          p->indices[p->n] = batch->indices[i];
          p->labels[p->n] = (guint) batch->labels[i];
          memcpy (p->probs + (gsize) p->n * C, probs + (gsize) i * C, C * sizeof (float));
          p->n++;
        }
      done += batch->n;
      xl_loader_release (loader, batch);
      if (progress != NULL)
        progress ((double) done / n, "Evaluating", user_data);
    }
  if (error != NULL && *error != NULL)
    return NULL;
  p->n_failed = n - p->n;
  p->loss = p->n > 0 ? loss_sum / p->n : NAN;
  return g_steal_pointer (&p);
}

float *
xl_predictions_positive_scores (const XlPredictions *p, guint positive_class)
{
  float *scores = g_new (float, MAX (p->n, 1));

  for (guint i = 0; i < p->n; i++)
    scores[i] = p->probs[(gsize) i * p->n_classes + positive_class];
  return scores;
}

double
xl_predictions_youden_threshold (const XlPredictions *p, guint positive_class)
{
  g_autofree float *scores = NULL;
  g_autoptr (XlRocCurve) roc = NULL;
  XlRocPoint best;

  if (p->n_classes != 2 || p->n == 0)
    return 0.5;
  scores = xl_predictions_positive_scores (p, positive_class);
  roc = xl_roc_curve_compute (scores, p->labels, p->n, positive_class, NULL);
  if (roc == NULL || !xl_roc_curve_youden (roc, &best))
    return 0.5;
  return best.threshold;
}

static void
add_number (JsonBuilder *b, const char *name, double v)
{
  json_builder_set_member_name (b, name);
  if (isfinite (v))
    json_builder_add_double_value (b, v);
  else
    json_builder_add_null_value (b);      /* undefined on this split: not a number to trust */
}

static void
add_binary (JsonBuilder *b, const char *name, const XlBinaryMetrics *m)
{
  json_builder_set_member_name (b, name);
  json_builder_begin_object (b);
  add_number (b, "threshold", m->threshold);
  add_number (b, "accuracy", m->accuracy);
  add_number (b, "sensitivity", m->sensitivity);
  add_number (b, "specificity", m->specificity);
  add_number (b, "precision", m->precision);
  add_number (b, "f1", m->f1);
  json_builder_set_member_name (b, "tp");
  json_builder_add_int_value (b, (gint64) m->true_positive);
  json_builder_set_member_name (b, "fp");
  json_builder_add_int_value (b, (gint64) m->false_positive);
  json_builder_set_member_name (b, "tn");
  json_builder_add_int_value (b, (gint64) m->true_negative);
  json_builder_set_member_name (b, "fn");
  json_builder_add_int_value (b, (gint64) m->false_negative);
  json_builder_end_object (b);
}

char *
xl_predictions_metrics_json (const XlPredictions *p, const XlModelInfo *info, double threshold,
                             const char *threshold_source)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autoptr (XlConfusionMatrix) cm = NULL;
  const guint C = p->n_classes;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "images");
  json_builder_add_int_value (b, p->n);
  json_builder_set_member_name (b, "failed");
  json_builder_add_int_value (b, p->n_failed);
  add_number (b, "loss", p->loss);

  if (C == 2)
    {
      g_autofree float *scores = xl_predictions_positive_scores (p, info->positive_class);
      XlBinaryMetrics at_half, at_chosen;
      g_autoptr (XlRocCurve) roc = NULL;

      cm = xl_confusion_matrix_new_from_scores (scores, p->labels, p->n, info->positive_class,
                                                threshold, NULL);
      xl_binary_metrics_compute (scores, p->labels, p->n, info->positive_class, 0.5, &at_half,
                                 NULL);
      xl_binary_metrics_compute (scores, p->labels, p->n, info->positive_class, threshold,
                                 &at_chosen, NULL);
      add_number (b, "accuracy", at_chosen.accuracy);
      json_builder_set_member_name (b, "positive_class");
      json_builder_add_string_value (b, info->classes[info->positive_class]);
      json_builder_set_member_name (b, "threshold_source");
      json_builder_add_string_value (b, threshold_source);
      add_binary (b, "at_0.5", &at_half);
      add_binary (b, "at_threshold", &at_chosen);
      if (p->n > 0)
        roc = xl_roc_curve_compute (scores, p->labels, p->n, info->positive_class, NULL);
      add_number (b, "auc", roc != NULL ? roc->auc : NAN);
      if (roc != NULL)
        {
          json_builder_set_member_name (b, "roc");
          json_builder_begin_array (b);
          for (guint i = 0; i < roc->n_points; i++)
            {
              json_builder_begin_array (b);
              json_builder_add_double_value (b, isfinite (roc->points[i].fpr) ? roc->points[i].fpr : 0);
              json_builder_add_double_value (b, isfinite (roc->points[i].tpr) ? roc->points[i].tpr : 0);
              if (isfinite (roc->points[i].threshold))
                json_builder_add_double_value (b, roc->points[i].threshold);
              else
                json_builder_add_null_value (b);
              json_builder_end_array (b);
            }
          json_builder_end_array (b);
        }
    }
  else
    {
      g_autoptr (XlRocOneVsRest) ovr = NULL;
      cm = xl_confusion_matrix_new_from_probabilities (p->probs, p->labels, p->n, C, NULL);
      add_number (b, "accuracy", cm != NULL ? xl_confusion_matrix_accuracy (cm) : NAN);
      if (p->n > 0)
        ovr = xl_roc_one_vs_rest_compute (p->probs, p->labels, p->n, C, NULL);
      add_number (b, "macro_auc", ovr != NULL ? ovr->macro_auc : NAN);
      if (ovr != NULL)
        {
          json_builder_set_member_name (b, "auc_one_vs_rest");
          json_builder_begin_object (b);
          for (guint c = 0; c < C; c++)
            add_number (b, info->classes[c], ovr->curves[c]->auc);
          json_builder_end_object (b);
        }
    }

  if (cm != NULL)
    {
      json_builder_set_member_name (b, "confusion_matrix");
      json_builder_begin_array (b);
      for (guint t = 0; t < C; t++)
        {
          json_builder_begin_array (b);
          for (guint q = 0; q < C; q++)
            json_builder_add_int_value (b, (gint64) xl_confusion_matrix_get (cm, t, q));
          json_builder_end_array (b);
        }
      json_builder_end_array (b);
      json_builder_set_member_name (b, "per_class");
      json_builder_begin_object (b);
      for (guint c = 0; c < C; c++)
        {
          XlClassMetrics cls;
          xl_confusion_matrix_class_metrics (cm, c, &cls);
          json_builder_set_member_name (b, info->classes[c]);
          json_builder_begin_object (b);
          add_number (b, "precision", cls.precision);
          add_number (b, "recall", cls.recall);
          add_number (b, "f1", cls.f1);
          json_builder_set_member_name (b, "support");
          json_builder_add_int_value (b, (gint64) cls.support);
          json_builder_end_object (b);
        }
      json_builder_end_object (b);
    }
  json_builder_end_object (b);

  root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  json_generator_set_pretty (gen, TRUE);
  return json_generator_to_data (gen, NULL);
}

static void
csv_field (GString *s, const char *text)
{
  if (strpbrk (text, ",\"\n\r") == NULL)
    {
      g_string_append (s, text);
      return;
    }
  g_string_append_c (s, '"');
  for (const char *c = text; *c; c++)
    {
      if (*c == '"')
        g_string_append_c (s, '"');
      g_string_append_c (s, *c);
    }
  g_string_append_c (s, '"');
}

gboolean
xl_predictions_write_csv (const XlPredictions *const *parts, guint n_parts, const XlDataset *ds,
                          const XlModelInfo *info, double threshold, const char *path,
                          GError **error)
{
  g_autoptr (GString) s = g_string_new ("path,split,true_label");
  const guint C = info->n_classes;
  char num[G_ASCII_DTOSTR_BUF_SIZE];

  for (guint c = 0; c < C; c++)
    {
      g_string_append (s, ",p_");
      csv_field (s, info->classes[c]);
    }
  g_string_append (s, ",predicted_label\n");
  for (guint part = 0; part < n_parts; part++)
    {
      const XlPredictions *p = parts[part];

      for (guint i = 0; p != NULL && i < p->n; i++)
        {
          const XlImageEntry *e = xl_dataset_image (ds, p->indices[i]);
          const float *pr = p->probs + (gsize) i * C;
          guint predicted = 0;

          /* a CSV for pandas and spreadsheets must be UTF-8, whatever the
           * bytes of the file names */
          g_autofree char *shown_path = g_filename_display_name (e->path);

          csv_field (s, shown_path);
          g_string_append_printf (s, ",%s,", xl_split_name (e->split));
          csv_field (s, info->classes[p->labels[i]]);
          for (guint c = 0; c < C; c++)
            {
              g_string_append_c (s, ',');
              /* nine digits give the float back exactly: the threshold is
               * often one of these scores (Youden's J), and a reader must
               * land on the same side of it */
              g_string_append (s, g_ascii_formatd (num, sizeof num, "%.9g", pr[c]));
              if (pr[c] > pr[predicted])
                predicted = c;
            }
          if (C == 2)
            predicted = pr[info->positive_class] >= threshold ? info->positive_class
                                                              : 1 - info->positive_class;
          g_string_append_c (s, ',');
          csv_field (s, info->classes[predicted]);
          g_string_append_c (s, '\n');
        }
    }
  return xl_write_file_atomic (path, s->str, (gssize) s->len, error);
}
