/* xl-dataset-private.h — what the image cache needs from the scan, and no
 * one else.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "xl-dataset.h"

G_BEGIN_DECLS

/* A key that sorts images in the order their bytes are cheapest to read in:
 * the member's position inside a zip, the index for files on disk. */
guint64 xl_dataset_read_order (const XlDataset *ds, guint index);

G_END_DECLS
