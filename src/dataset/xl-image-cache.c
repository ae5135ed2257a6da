/* xl-image-cache.c — every image decoded once, kept while it fits the budget.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Each dataset image has a slot: empty, pending (a thread is decoding it),
 * resident, or bad (with the error). An image is made resident only if its
 * size, known in advance from the header (torchvision's Resize output size),
 * fits what is left of the budget; so the resident set never churns: an image
 * that does not fit is decoded each time it is asked for and freed when
 * released. With shuffled epochs, a fixed resident set hits as often as any
 * eviction policy would, at no cost.
 *
 * One mutex guards the slots and the byte count; decoding happens outside it.
 */
#include "config.h"

#include <string.h>

#include "xl-dataset-private.h"
#include "xl-image-cache.h"

typedef enum {
  SLOT_EMPTY = 0,
  SLOT_PENDING,
  SLOT_RESIDENT,
  SLOT_BAD,
} SlotState;

typedef struct {
  XlImage image;       /* first, so the XlImage handed out leads back here */
  gint refs;
  gboolean resident;
} CachedImage;

typedef struct {
  SlotState state;
  CachedImage *image;  /* SLOT_RESIDENT */
  GError *error;       /* SLOT_BAD */
} Slot;

struct _XlImageCache {
  XlDataset *ds;
  guint short_side;
  guint dct_short_side;
  gsize budget;
  gsize bytes;         /* resident images, plus those being decoded into the budget */
  guint n_resident;
  guint n_bad;
  GMutex lock;
  GCond pending_done;
  Slot *slots;         /* one per dataset image */
  guint n_slots;
};

XlImageCache *
xl_image_cache_new (XlDataset *ds,
                    guint      short_side,
                    gsize      budget_bytes)
{
  XlImageCache *cache;

  g_return_val_if_fail (ds != NULL, NULL);
  g_return_val_if_fail (short_side > 0, NULL);

  cache = g_new0 (XlImageCache, 1);
  cache->ds = xl_dataset_ref (ds);
  cache->short_side = short_side;
  cache->dct_short_side = short_side;
  cache->budget = budget_bytes;
  cache->n_slots = xl_dataset_n_images (ds);
  cache->slots = g_new0 (Slot, MAX (cache->n_slots, 1));
  g_mutex_init (&cache->lock);
  g_cond_init (&cache->pending_done);
  return cache;
}

static void
cached_image_free (CachedImage *image)
{
  g_free (image->image.pixels);
  g_free (image);
}

void
xl_image_cache_free (XlImageCache *cache)
{
  if (cache == NULL)
    return;

  for (guint i = 0; i < cache->n_slots; i++)
    {
      g_clear_pointer (&cache->slots[i].image, cached_image_free);
      g_clear_error (&cache->slots[i].error);
    }
  g_free (cache->slots);
  g_mutex_clear (&cache->lock);
  g_cond_clear (&cache->pending_done);
  xl_dataset_unref (cache->ds);
  g_free (cache);
}

guint
xl_image_cache_short_side (const XlImageCache *cache)
{
  g_return_val_if_fail (cache != NULL, 0);
  return cache->short_side;
}

gsize
xl_image_cache_bytes (const XlImageCache *cache)
{
  XlImageCache *mutable_cache = (XlImageCache *) cache;
  gsize bytes;

  g_return_val_if_fail (cache != NULL, 0);

  g_mutex_lock (&mutable_cache->lock);
  bytes = cache->bytes;
  g_mutex_unlock (&mutable_cache->lock);
  return bytes;
}

XlDataset *
xl_image_cache_dataset (const XlImageCache *cache)
{
  g_return_val_if_fail (cache != NULL, NULL);
  return cache->ds;
}

void
xl_image_cache_set_dct_short_side (XlImageCache *cache,
                                   guint         dct_short_side)
{
  g_return_if_fail (cache != NULL);
  cache->dct_short_side = dct_short_side;
}

gsize
xl_image_cache_budget (const XlImageCache *cache)
{
  g_return_val_if_fail (cache != NULL, 0);
  return cache->budget;
}

guint
xl_image_cache_n_resident (const XlImageCache *cache)
{
  XlImageCache *mutable_cache = (XlImageCache *) cache;
  guint n;

  g_return_val_if_fail (cache != NULL, 0);

  g_mutex_lock (&mutable_cache->lock);
  n = cache->n_resident;
  g_mutex_unlock (&mutable_cache->lock);
  return n;
}

guint
xl_image_cache_n_bad (const XlImageCache *cache)
{
  XlImageCache *mutable_cache = (XlImageCache *) cache;
  guint n;

  g_return_val_if_fail (cache != NULL, 0);

  g_mutex_lock (&mutable_cache->lock);
  n = cache->n_bad;
  g_mutex_unlock (&mutable_cache->lock);
  return n;
}

/* Bytes the image will take at short side S, from its header; 0 if unknown. */
static gsize
predicted_bytes (XlImageCache *cache,
                 guint         index)
{
  const XlImageEntry *entry = xl_dataset_image (cache->ds, index);
  guint width, height;

  xl_image_short_side_size (entry->width, entry->height, cache->short_side, &width, &height);
  return (gsize) width * height;
}

static CachedImage *
decode_image (XlImageCache *cache,
              guint         index,
              GError      **error)
{
  const XlImageEntry *entry = xl_dataset_image (cache->ds, index);
  g_autoptr (GBytes) bytes = NULL;
  XlImage *img;
  CachedImage *image;
  gsize len;
  const guint8 *data;

  bytes = xl_dataset_read (cache->ds, index, error);
  if (bytes == NULL)
    return NULL;
  data = g_bytes_get_data (bytes, &len);
  img = xl_image_decode_short_side_at (data, len, cache->short_side, cache->dct_short_side,
                                       entry->path, NULL, error);
  if (img == NULL)
    return NULL;

  image = g_new0 (CachedImage, 1);
  image->image = *img;
  g_free (img);   /* the pixels moved into image */
  return image;
}

/* Called with the lock held, on a slot that was pending or empty. */
static void
slot_mark_bad (XlImageCache *cache,
               Slot         *slot,
               const GError *error)
{
  slot->state = SLOT_BAD;
  slot->error = g_error_copy (error);
  cache->n_bad++;
}

static void
slot_make_resident (XlImageCache *cache,
                    Slot         *slot,
                    CachedImage  *image)
{
  image->resident = TRUE;
  slot->image = image;
  slot->state = SLOT_RESIDENT;
  cache->n_resident++;
}

const XlImage *
xl_image_cache_get (XlImageCache *cache,
                    guint         index,
                    GError      **error)
{
  g_autoptr (GError) local_error = NULL;
  CachedImage *image;
  gboolean reserved = FALSE;
  gsize predicted;
  Slot *slot;

  g_return_val_if_fail (cache != NULL, NULL);
  g_return_val_if_fail (index < cache->n_slots, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  predicted = predicted_bytes (cache, index);
  slot = &cache->slots[index];

  g_mutex_lock (&cache->lock);
  while (slot->state == SLOT_PENDING)
    g_cond_wait (&cache->pending_done, &cache->lock);
  if (slot->state == SLOT_RESIDENT)
    {
      slot->image->refs++;
      g_mutex_unlock (&cache->lock);
      return &slot->image->image;
    }
  if (slot->state == SLOT_BAD)
    {
      if (error != NULL)
        *error = g_error_copy (slot->error);
      g_mutex_unlock (&cache->lock);
      return NULL;
    }
  if (predicted > 0 && predicted <= cache->budget - MIN (cache->bytes, cache->budget))
    {
      cache->bytes += predicted;
      slot->state = SLOT_PENDING;
      reserved = TRUE;
    }
  g_mutex_unlock (&cache->lock);

  image = decode_image (cache, index, &local_error);

  g_mutex_lock (&cache->lock);
  if (reserved)
    {
      cache->bytes -= predicted;
      slot->state = SLOT_EMPTY;
    }
  if (image == NULL)
    {
      if (slot->state == SLOT_EMPTY)
        slot_mark_bad (cache, slot, local_error);
      g_cond_broadcast (&cache->pending_done);
      g_mutex_unlock (&cache->lock);
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }

  image->refs = 1;
  if (slot->state == SLOT_RESIDENT)
    {
      /* Another thread got there first (this one could not reserve). */
      cached_image_free (image);
      image = slot->image;
      image->refs++;
    }
  else
    {
      gsize size = (gsize) image->image.width * image->image.height;

      if (slot->state == SLOT_EMPTY && size <= cache->budget - MIN (cache->bytes, cache->budget))
        {
          cache->bytes += size;
          slot_make_resident (cache, slot, image);
        }
    }
  g_cond_broadcast (&cache->pending_done);
  g_mutex_unlock (&cache->lock);
  return &image->image;
}

void
xl_image_cache_release (XlImageCache  *cache,
                        const XlImage *img)
{
  CachedImage *image = (CachedImage *) img;
  gboolean free_it;

  g_return_if_fail (cache != NULL);
  if (img == NULL)
    return;

  g_mutex_lock (&cache->lock);
  image->refs--;
  free_it = !image->resident && image->refs == 0;
  g_mutex_unlock (&cache->lock);
  if (free_it)
    cached_image_free (image);
}

/* ---- Filling in threads ---------------------------------------------------- */

typedef struct {
  XlImageCache *cache;
  guint *work;          /* dataset indices, in read order */
  guint n_work;
  gint next;            /* atomic: the next position of work to take */
  gint done;            /* atomic */
  gint stop;            /* atomic */
  GCancellable *cancellable;
  GMutex lock;
  GCond progressed;
} FillJob;

static void
fill_one (XlImageCache *cache,
          guint         index)
{
  g_autoptr (GError) error = NULL;
  Slot *slot = &cache->slots[index];
  gsize predicted = predicted_bytes (cache, index);
  CachedImage *image;

  g_mutex_lock (&cache->lock);
  /* Beyond the budget nothing is decoded now: on demand, later. */
  if (slot->state != SLOT_EMPTY || predicted == 0
      || predicted > cache->budget - MIN (cache->bytes, cache->budget))
    {
      g_mutex_unlock (&cache->lock);
      return;
    }
  cache->bytes += predicted;
  slot->state = SLOT_PENDING;
  g_mutex_unlock (&cache->lock);

  image = decode_image (cache, index, &error);

  g_mutex_lock (&cache->lock);
  cache->bytes -= predicted;
  slot->state = SLOT_EMPTY;
  if (image == NULL)
    slot_mark_bad (cache, slot, error);
  else
    {
      cache->bytes += (gsize) image->image.width * image->image.height;
      image->refs = 0;
      slot_make_resident (cache, slot, image);
    }
  g_cond_broadcast (&cache->pending_done);
  g_mutex_unlock (&cache->lock);
}

static gpointer
fill_thread (gpointer data)
{
  FillJob *job = data;

  while (!g_atomic_int_get (&job->stop) && !g_cancellable_is_cancelled (job->cancellable))
    {
      gint position = g_atomic_int_add (&job->next, 1);

      if (position >= (gint) job->n_work)
        break;
      fill_one (job->cache, job->work[position]);

      g_mutex_lock (&job->lock);
      job->done++;
      g_cond_signal (&job->progressed);
      g_mutex_unlock (&job->lock);
    }
  return NULL;
}

static int
compare_read_order (gconstpointer a,
                    gconstpointer b,
                    gpointer      user_data)
{
  const XlDataset *ds = user_data;
  guint64 ka = xl_dataset_read_order (ds, *(const guint *) a);
  guint64 kb = xl_dataset_read_order (ds, *(const guint *) b);

  return ka < kb ? -1 : ka > kb;
}

gboolean
xl_image_cache_fill (XlImageCache  *cache,
                     const guint   *indices,
                     guint          n,
                     guint          n_threads,
                     XlProgressFunc progress,
                     gpointer       user_data,
                     GCancellable  *cancellable,
                     GError       **error)
{
  g_autofree GThread **threads = NULL;
  FillJob job = { 0 };
  gboolean cancelled = FALSE;

  g_return_val_if_fail (cache != NULL, FALSE);
  g_return_val_if_fail (indices != NULL || n == 0, FALSE);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  for (guint i = 0; i < n; i++)
    g_return_val_if_fail (indices[i] < cache->n_slots, FALSE);

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return FALSE;

  job.cache = cache;
  job.cancellable = cancellable;
  job.work = g_new (guint, MAX (n, 1));
  g_mutex_lock (&cache->lock);
  for (guint i = 0; i < n; i++)
    if (cache->slots[indices[i]].state == SLOT_EMPTY)
      job.work[job.n_work++] = indices[i];
  g_mutex_unlock (&cache->lock);
  /* Archive members are cheapest read in archive order. */
  g_qsort_with_data (job.work, (gint) job.n_work, sizeof (guint), compare_read_order, cache->ds);

  if (n_threads == 0)
    n_threads = g_get_num_processors ();
  n_threads = MAX (1, MIN (n_threads, MAX (job.n_work, 1)));
  g_mutex_init (&job.lock);
  g_cond_init (&job.progressed);

  if (progress != NULL)
    progress (0.0, xl_dataset_path (cache->ds), user_data);

  threads = g_new0 (GThread *, n_threads);
  for (guint t = 0; t < n_threads && job.n_work > 0; t++)
    threads[t] = g_thread_new ("xl-image-cache", fill_thread, &job);

  g_mutex_lock (&job.lock);
  while ((guint) job.done < job.n_work)
    {
      gint64 deadline = g_get_monotonic_time () + 100 * G_TIME_SPAN_MILLISECOND;

      g_cond_wait_until (&job.progressed, &job.lock, deadline);
      if (!cancelled && g_cancellable_is_cancelled (cancellable))
        {
          cancelled = TRUE;
          g_atomic_int_set (&job.stop, 1);
        }
      if (cancelled)
        break;
      if (progress != NULL)
        {
          guint done = (guint) job.done;

          /* Called from this thread, never from a worker. */
          g_mutex_unlock (&job.lock);
          progress ((double) done / job.n_work, xl_dataset_path (cache->ds), user_data);
          g_mutex_lock (&job.lock);
        }
    }
  g_mutex_unlock (&job.lock);

  for (guint t = 0; t < n_threads; t++)
    if (threads[t] != NULL)
      g_thread_join (threads[t]);

  g_mutex_clear (&job.lock);
  g_cond_clear (&job.progressed);
  g_free (job.work);

  /* Cancelled is cancelled, even if the last image was done meanwhile. */
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return FALSE;
  if (progress != NULL)
    progress (1.0, xl_dataset_path (cache->ds), user_data);
  return TRUE;
}
