/* xl-image-cache.h — every image decoded once, kept in memory at short side S.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Kermany films are 1-7 MP JPEGs: decoding them every epoch costs more than the
 * network. The cache decodes each image once (DCT-scaled, gray, resized to
 * short side S) and keeps it while it fits the memory budget; images beyond the
 * budget are decoded from disk each time they are asked for. Thread-safe.
 */
#pragma once

#include "xl-dataset.h"
#include "xl-image.h"

G_BEGIN_DECLS

typedef struct _XlImageCache XlImageCache;

XlImageCache *xl_image_cache_new (XlDataset *ds, guint short_side, gsize budget_bytes);
void xl_image_cache_free (XlImageCache *cache);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (XlImageCache, xl_image_cache_free)

guint xl_image_cache_short_side (const XlImageCache *cache);

/* Decodes (in n_threads threads) the images listed in indices that are not
 * cached yet. An image that fails is marked bad (and reported through
 * xl_image_cache_get). Cancellable; progress may be NULL. */
gboolean xl_image_cache_fill (XlImageCache *cache, const guint *indices, guint n,
                              guint n_threads, XlProgressFunc progress, gpointer user_data,
                              GCancellable *cancellable, GError **error);

/* The image of dataset index `index` at short side S: a new reference the
 * caller releases with xl_image_cache_release. Decodes it now if needed. */
const XlImage *xl_image_cache_get (XlImageCache *cache, guint index, GError **error);
void xl_image_cache_release (XlImageCache *cache, const XlImage *img);

gsize xl_image_cache_bytes (const XlImageCache *cache);

/* --- Added with the implementation --------------------------------------- *
 *
 * How the budget works: an image becomes resident only if its size at short
 * side S (known from its header) fits what is left of budget_bytes; nothing
 * is ever evicted. xl_image_cache_fill decodes only what fits, and leaves the
 * rest to be decoded by xl_image_cache_get each time it is asked for (and
 * freed when released). xl_image_cache_bytes counts pixel bytes of resident
 * images (plus those being decoded into the budget). Progress of a fill is
 * reported from the calling thread, about every 100 ms. Release every image
 * before freeing the cache. */

/* The data set the cache reads from (no new reference). */
XlDataset *xl_image_cache_dataset (const XlImageCache *cache);
gsize xl_image_cache_budget (const XlImageCache *cache);
/* Decode JPEGs DCT-scaled to a short side >= dct_short_side before resizing
 * to S (default S; 0: full size, bit-exact with torchvision's PIL pipeline;
 * see xl_image_decode_short_side_at). Set it before the first fill or get. */
void xl_image_cache_set_dct_short_side (XlImageCache *cache, guint dct_short_side);
guint xl_image_cache_n_resident (const XlImageCache *cache);
/* Images that failed to read or decode (xl_image_cache_get reports why). */
guint xl_image_cache_n_bad (const XlImageCache *cache);

G_END_DECLS
