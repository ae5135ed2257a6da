/* xl-train-page.h — the Train view: how the network learns, its settings,
 * and the run as it goes.
 *
 * Copyright 2026 The X-Ray Lab developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "xl-curve-chart.h"
#include "xl-train-runner.h"

G_BEGIN_DECLS

#define XL_TYPE_TRAIN_PAGE (xl_train_page_get_type ())

G_DECLARE_FINAL_TYPE (XlTrainPage, xl_train_page, XL, TRAIN_PAGE, GtkWidget)

/* Settings keep the mode, weights and every setting; NULL keeps the defaults. */
void            xl_train_page_set_settings      (XlTrainPage         *self,
                                                 GSettings           *settings);
void            xl_train_page_set_dataset       (XlTrainPage         *self,
                                                 XlDataset           *dataset);
/* The network's stem width: 64 is ResNet-18; tests train narrower ones. */
void            xl_train_page_set_width         (XlTrainPage         *self,
                                                 guint                width);
XlTrainMode     xl_train_page_get_mode          (XlTrainPage         *self);
void            xl_train_page_set_mode          (XlTrainPage         *self,
                                                 XlTrainMode          mode);
void            xl_train_page_set_epochs        (XlTrainPage         *self,
                                                 guint                epochs);
void            xl_train_page_set_input_size    (XlTrainPage         *self,
                                                 guint                input_size);
void            xl_train_page_set_batch_size    (XlTrainPage         *self,
                                                 guint                batch_size);
/* The start weights file, or NULL for none. */
const char     *xl_train_page_get_weights       (XlTrainPage         *self);
void            xl_train_page_set_weights       (XlTrainPage         *self,
                                                 const char          *path);
/* Of the chosen mode, for the data set's classes (2 without one). */
guint64         xl_train_page_get_trainable     (XlTrainPage         *self);
guint64         xl_train_page_get_parameters    (XlTrainPage         *self);
/* The settings as a run would get them; clear with xl_train_config_clear. */
void            xl_train_page_get_config        (XlTrainPage         *self,
                                                 double               val_fraction,
                                                 XlTrainConfig       *config);
gboolean        xl_train_page_get_can_start     (XlTrainPage         *self);
/* Starts a run into a new folder under g_get_user_data_dir()/xraylab/runs;
 * val_fraction is the data view's re-split (0: keep the val split). */
gboolean        xl_train_page_start             (XlTrainPage         *self,
                                                 double               val_fraction,
                                                 GError             **error);
void            xl_train_page_stop              (XlTrainPage         *self);
XlTrainRunner  *xl_train_page_get_runner        (XlTrainPage         *self);
XlCurveChart   *xl_train_page_get_loss_chart    (XlTrainPage         *self);
XlCurveChart   *xl_train_page_get_accuracy_chart (XlTrainPage        *self);
GtkProgressBar *xl_train_page_get_progress_bar  (XlTrainPage         *self);
const char     *xl_train_page_get_status_text   (XlTrainPage         *self);
char           *xl_train_page_dup_log_text      (XlTrainPage         *self);

/* Where runs go, and a new, empty folder for the next one. */
char           *xl_train_page_runs_dir          (void);
char           *xl_train_page_make_run_dir      (GError             **error);
/* Where start weights are looked for: g_get_user_data_dir()/xraylab/weights. */
char           *xl_train_page_weights_dir       (void);

G_END_DECLS
