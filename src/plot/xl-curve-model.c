/* xl-curve-model.c — points of a training-curve chart as they arrive.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <math.h>

#include "xl-curve-model.h"

struct _XlCurveModel
{
  gatomicrefcount ref_count;
  GArray         *series[XL_CURVE_N_SERIES];   /* of XlCurvePoint */
  double          best_epoch;
  double          stop_epoch;
  guint64         generation;
};

XlCurveModel *
xl_curve_model_new (void)
{
  XlCurveModel *self = g_new0 (XlCurveModel, 1);

  g_atomic_ref_count_init (&self->ref_count);
  for (guint s = 0; s < XL_CURVE_N_SERIES; s++)
    self->series[s] = g_array_new (FALSE, FALSE, sizeof (XlCurvePoint));
  self->best_epoch = NAN;
  self->stop_epoch = NAN;

  return self;
}

XlCurveModel *
xl_curve_model_ref (XlCurveModel *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  g_atomic_ref_count_inc (&self->ref_count);

  return self;
}

void
xl_curve_model_unref (XlCurveModel *self)
{
  g_return_if_fail (self != NULL);

  if (!g_atomic_ref_count_dec (&self->ref_count))
    return;

  for (guint s = 0; s < XL_CURVE_N_SERIES; s++)
    g_array_unref (self->series[s]);
  g_free (self);
}

gboolean
xl_curve_model_append (XlCurveModel  *self,
                       XlCurveSeries  series,
                       double         epoch,
                       double         value)
{
  GArray *points;
  XlCurvePoint point = { epoch, value };

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail ((guint) series < XL_CURVE_N_SERIES, FALSE);

  if (!isfinite (epoch) || !isfinite (value))
    return FALSE;

  points = self->series[series];
  if (points->len > 0 && epoch < g_array_index (points, XlCurvePoint, points->len - 1).epoch)
    return FALSE;

  g_array_append_val (points, point);
  self->generation++;

  return TRUE;
}

const XlCurvePoint *
xl_curve_model_get_points (const XlCurveModel *self,
                           XlCurveSeries       series,
                           guint              *n_points)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail ((guint) series < XL_CURVE_N_SERIES, NULL);
  g_return_val_if_fail (n_points != NULL, NULL);

  *n_points = self->series[series]->len;

  return (const XlCurvePoint *) (gconstpointer) self->series[series]->data;
}

void
xl_curve_model_set_best_epoch (XlCurveModel *self,
                               double        epoch)
{
  g_return_if_fail (self != NULL);

  self->best_epoch = isfinite (epoch) ? epoch : NAN;
  self->generation++;
}

double
xl_curve_model_get_best_epoch (const XlCurveModel *self)
{
  g_return_val_if_fail (self != NULL, NAN);

  return self->best_epoch;
}

void
xl_curve_model_set_stop_epoch (XlCurveModel *self,
                               double        epoch)
{
  g_return_if_fail (self != NULL);

  self->stop_epoch = isfinite (epoch) ? epoch : NAN;
  self->generation++;
}

double
xl_curve_model_get_stop_epoch (const XlCurveModel *self)
{
  g_return_val_if_fail (self != NULL, NAN);

  return self->stop_epoch;
}

void
xl_curve_model_clear (XlCurveModel *self)
{
  g_return_if_fail (self != NULL);

  for (guint s = 0; s < XL_CURVE_N_SERIES; s++)
    g_array_set_size (self->series[s], 0);
  self->best_epoch = NAN;
  self->stop_epoch = NAN;
  self->generation++;
}

guint64
xl_curve_model_get_generation (const XlCurveModel *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->generation;
}

void
xl_curve_smooth (const XlCurvePoint *points,
                 guint               n_points,
                 double              weight,
                 double             *out)
{
  double smoothed = 0.0;

  g_return_if_fail (n_points == 0 || (points != NULL && out != NULL));

  weight = isfinite (weight) ? CLAMP (weight, 0.0, 0.999) : 0.0;

  for (guint i = 0; i < n_points; i++)
    {
      smoothed = i == 0 ? points[i].value : weight * smoothed + (1.0 - weight) * points[i].value;
      out[i] = smoothed;
    }
}
