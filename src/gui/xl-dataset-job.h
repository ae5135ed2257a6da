/* xl-dataset-job.h — opening a data set off the main thread, generating the
 * demo set first when asked to.
 *
 * Copyright 2026 The X-Ray Lab developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "xl-dataset.h"
#include "xl-synth.h"

G_BEGIN_DECLS

#define XL_TYPE_DATASET_JOB (xl_dataset_job_get_type ())

G_DECLARE_FINAL_TYPE (XlDatasetJob, xl_dataset_job, XL, DATASET_JOB, GObject)

/* Scans path, a folder or a .zip. */
XlDatasetJob *xl_dataset_job_new_scan      (const char           *path);
/* Generates the synthetic set into dir unless a finished one is there
 * (xl_synth_generate writes consolidations.csv last), then scans it. A set
 * left half-written is generated again. */
XlDatasetJob *xl_dataset_job_new_demo      (const char           *dir,
                                            const XlSynthConfig  *config);
/* Where the demo set goes: g_get_user_cache_dir()/xraylab/demo. */
char         *xl_dataset_job_demo_dir      (void);
/* per_class 150 at 256 px: a few hundred films, about ten seconds on two cores. */
void          xl_dataset_job_demo_config   (XlSynthConfig        *config);

const char   *xl_dataset_job_get_path      (XlDatasetJob         *self);
gboolean      xl_dataset_job_get_is_demo   (XlDatasetJob         *self);
/* Progress, updated on the main thread at most once per main-loop idle. */
double        xl_dataset_job_get_fraction  (XlDatasetJob         *self);
const char   *xl_dataset_job_get_status    (XlDatasetJob         *self);

void          xl_dataset_job_run_async     (XlDatasetJob         *self,
                                            GCancellable         *cancellable,
                                            GAsyncReadyCallback   callback,
                                            gpointer              user_data);
XlDataset    *xl_dataset_job_run_finish    (XlDatasetJob         *self,
                                            GAsyncResult         *result,
                                            GError              **error);

G_END_DECLS
