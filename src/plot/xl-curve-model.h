/* xl-curve-model.h — the data behind a training-curve chart, kept apart from
 * drawing: points are appended as the session reports them, and whoever
 * shows the chart redraws when the generation changes.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * x is epochs completed: the point of epoch e (counting from 1) is at x = e,
 * and batch b of n in epoch e (b from 1) at x = e - 1 + b / n, so a per-batch
 * point and the epoch's point meet at the epoch's end. One model per metric
 * (loss, accuracy). Not thread-safe: use it from one thread (the GUI's main
 * thread, where session events are delivered).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  XL_CURVE_TRAIN_BATCH,   /* per batch, drawn thin and smoothed */
  XL_CURVE_TRAIN_EPOCH,   /* per epoch, on the training set */
  XL_CURVE_VAL_EPOCH,     /* per epoch, on the validation set, with markers */
  XL_CURVE_N_SERIES,
} XlCurveSeries;

typedef struct {
  double epoch;
  double value;
} XlCurvePoint;

typedef struct _XlCurveModel XlCurveModel;

XlCurveModel *xl_curve_model_new   (void);
XlCurveModel *xl_curve_model_ref   (XlCurveModel *self);
void          xl_curve_model_unref (XlCurveModel *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (XlCurveModel, xl_curve_model_unref)

/* Appends a point. Refused (FALSE, nothing changes) when epoch or value is
 * not finite, or epoch is before the series' last point: a new run starts
 * with xl_curve_model_clear(). */
gboolean xl_curve_model_append (XlCurveModel  *self,
                                XlCurveSeries  series,
                                double         epoch,
                                double         value);
/* The series' points in order, owned by the model and valid until its next
 * change. */
const XlCurvePoint *xl_curve_model_get_points (const XlCurveModel *self,
                                               XlCurveSeries       series,
                                               guint              *n_points);

/* The epoch whose model was kept (a vertical line), and the epoch at which
 * early stopping ended the run; NAN for none. */
void   xl_curve_model_set_best_epoch (XlCurveModel *self,
                                      double        epoch);
double xl_curve_model_get_best_epoch (const XlCurveModel *self);
void   xl_curve_model_set_stop_epoch (XlCurveModel *self,
                                      double        epoch);
double xl_curve_model_get_stop_epoch (const XlCurveModel *self);

/* Removes every point and marker. */
void    xl_curve_model_clear          (XlCurveModel *self);
/* Changes on every change of the model. */
guint64 xl_curve_model_get_generation (const XlCurveModel *self);

/* The exponential moving average the chart draws over a series, as
 * TensorBoard's smoothing: s[0] = y[0], s[i] = w s[i-1] + (1 - w) y[i], with w
 * in [0, 1) (0: no smoothing). out has n_points values. */
void xl_curve_smooth (const XlCurvePoint *points,
                      guint               n_points,
                      double              weight,
                      double             *out);

G_END_DECLS
