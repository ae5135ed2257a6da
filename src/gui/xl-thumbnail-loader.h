/* xl-thumbnail-loader.h — small pictures of a data set's films, decoded off
 * the main thread on demand and kept in memory.
 *
 * Copyright 2026 The X-Ray Lab developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

#include "xl-dataset.h"

G_BEGIN_DECLS

#define XL_TYPE_THUMBNAIL_LOADER (xl_thumbnail_loader_get_type ())

G_DECLARE_FINAL_TYPE (XlThumbnailLoader, xl_thumbnail_loader, XL, THUMBNAIL_LOADER, GObject)

XlThumbnailLoader *xl_thumbnail_loader_new           (XlDataset            *dataset,
                                                      guint                 n_threads,
                                                      gsize                 cache_bytes);
XlDataset         *xl_thumbnail_loader_get_dataset   (XlThumbnailLoader    *self);
/* The box thumbnails are fitted into, in device pixels. Changing it empties
 * the cache, ends the requests in flight with G_IO_ERROR_CANCELLED and emits
 * ::invalidated, so that whoever shows thumbnails asks again. */
void               xl_thumbnail_loader_set_size      (XlThumbnailLoader    *self,
                                                      int                   width,
                                                      int                   height);
void               xl_thumbnail_loader_get_size      (XlThumbnailLoader    *self,
                                                      int                  *width,
                                                      int                  *height);
/* The cached thumbnail of a film, or NULL. */
GdkTexture        *xl_thumbnail_loader_lookup        (XlThumbnailLoader    *self,
                                                      guint                 index);
/* Decodes a film's thumbnail in the worker pool (newest requests first) and
 * caches it. A request cancelled before a worker picks it up costs nothing. */
void               xl_thumbnail_loader_load_async    (XlThumbnailLoader    *self,
                                                      guint                 index,
                                                      GCancellable         *cancellable,
                                                      GAsyncReadyCallback   callback,
                                                      gpointer              user_data);
GdkTexture        *xl_thumbnail_loader_load_finish   (XlThumbnailLoader    *self,
                                                      GAsyncResult         *result,
                                                      GError              **error);
/* Requests not answered yet, thumbnails decoded so far, and cached now. */
guint              xl_thumbnail_loader_get_n_pending (XlThumbnailLoader    *self);
guint              xl_thumbnail_loader_get_n_decoded (XlThumbnailLoader    *self);
guint              xl_thumbnail_loader_get_n_cached  (XlThumbnailLoader    *self);

G_END_DECLS
