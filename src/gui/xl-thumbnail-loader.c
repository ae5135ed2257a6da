/* xl-thumbnail-loader.c
 *
 * Copyright 2026 The X-Ray Lab developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <math.h>

#include "xl-image.h"
#include "xl-thread-priority.h"
#include "xl-thumbnail-loader.h"

typedef struct
{
  GTask   *task;
  guint    index;
  int      width;        /* the box asked for */
  int      height;
  guint    generation;
  guint64  sequence;     /* newest first */

  /* Filled by the worker */
  GBytes  *pixels;       /* RGB, rows packed */
  int      texture_width;
  int      texture_height;
  GError  *error;
} Request;

typedef struct
{
  guint       index;
  GdkTexture *texture;
  gsize       bytes;
} CacheEntry;

struct _XlThumbnailLoader
{
  GObject      parent_instance;

  XlDataset   *dataset;
  GThreadPool *pool;

  /* Main thread only */
  int          width;
  int          height;
  guint        generation;
  guint64      sequence;
  GHashTable  *cache;          /* index -> GList link of lru, whose data is a CacheEntry */
  GQueue       lru;            /* the most recently used first */
  gsize        cache_bytes;
  gsize        cache_budget;
  GHashTable  *failed;         /* indices of films that could not be decoded */
  guint        n_pending;
  guint        n_decoded;

  /* Shared with the workers: finished requests wait here for one idle
   * callback on the main thread to hand them out. */
  GMutex       mutex;
  GQueue       done;
  guint        done_source;
};

G_DEFINE_FINAL_TYPE (XlThumbnailLoader, xl_thumbnail_loader, G_TYPE_OBJECT)

enum {
  INVALIDATED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
request_free (gpointer data)
{
  Request *request = data;

  g_clear_object (&request->task);
  g_clear_pointer (&request->pixels, g_bytes_unref);
  g_clear_error (&request->error);
  g_free (request);
}

static void
cache_entry_free (gpointer data)
{
  CacheEntry *entry = data;

  g_clear_object (&entry->texture);
  g_free (entry);
}

static void
cache_clear (XlThumbnailLoader *self)
{
  g_hash_table_remove_all (self->cache);
  g_queue_clear_full (&self->lru, cache_entry_free);
  self->cache_bytes = 0;
}

static void
cache_insert (XlThumbnailLoader *self,
              guint              index,
              GdkTexture        *texture,
              gsize              bytes)
{
  CacheEntry *entry;
  GList *link;

  if ((link = g_hash_table_lookup (self->cache, GUINT_TO_POINTER (index))))
    {
      entry = link->data;
      self->cache_bytes -= entry->bytes;
      g_queue_delete_link (&self->lru, link);
      g_hash_table_remove (self->cache, GUINT_TO_POINTER (index));
      cache_entry_free (entry);
    }

  entry = g_new0 (CacheEntry, 1);
  entry->index = index;
  entry->texture = g_object_ref (texture);
  entry->bytes = bytes;
  g_queue_push_head (&self->lru, entry);
  g_hash_table_insert (self->cache, GUINT_TO_POINTER (index), self->lru.head);
  self->cache_bytes += bytes;

  /* Evict the least recently used; what is on screen was used last. */
  while (self->cache_bytes > self->cache_budget && self->lru.length > 1)
    {
      CacheEntry *oldest = g_queue_pop_tail (&self->lru);

      g_hash_table_remove (self->cache, GUINT_TO_POINTER (oldest->index));
      self->cache_bytes -= oldest->bytes;
      cache_entry_free (oldest);
    }
}

/* The size a width x height film takes when fitted into the box, never
 * larger than the film. */
static void
fit_size (guint  width,
          guint  height,
          int    box_width,
          int    box_height,
          guint *fit_width,
          guint *fit_height)
{
  double scale = MIN ((double) box_width / width, (double) box_height / height);

  scale = MIN (scale, 1.0);
  *fit_width = MAX (1, (guint) lround (width * scale));
  *fit_height = MAX (1, (guint) lround (height * scale));
}

/* Worker thread: read, decode with DCT scaling straight to about the size
 * shown, resize exactly, expand gray to RGB. GDK 4.8 has no gray format;
 * an opaque one lets the cairo renderer blit rather than blend, a thousand
 * times a frame when the grid is full (a premultiplied BGRA texture made
 * the paint a third slower in tests/gui/probe-frames.c). */
static void
decode_request (XlThumbnailLoader *self,
                Request           *request)
{
  const XlImageEntry *entry = xl_dataset_image (self->dataset, request->index);
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(XlImage) decoded = NULL;
  g_autoptr(XlImage) fitted = NULL;
  const XlImage *image;
  guint min_short_side;
  guint fit_width;
  guint fit_height;
  guint8 *rgb;
  gsize n_pixels;

  if (!(bytes = xl_dataset_read (self->dataset, request->index, &request->error)))
    return;

  if (entry->width > 0 && entry->height > 0)
    {
      fit_size (entry->width, entry->height, request->width, request->height,
                &fit_width, &fit_height);
      min_short_side = MIN (fit_width, fit_height);
    }
  else
    min_short_side = (guint) MIN (request->width, request->height);

  if (!(decoded = xl_image_decode (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes),
                                   min_short_side, entry->name, &request->error)))
    return;

  fit_size (decoded->width, decoded->height, request->width, request->height,
            &fit_width, &fit_height);
  image = decoded;
  if (fit_width != decoded->width || fit_height != decoded->height)
    {
      if (!(fitted = xl_image_resize (decoded, fit_width, fit_height)))
        {
          g_set_error (&request->error, G_IO_ERROR, G_IO_ERROR_FAILED,
                       "%s: could not resize the film", entry->name);
          return;
        }
      image = fitted;
    }

  n_pixels = (gsize) image->width * image->height;
  rgb = g_malloc (n_pixels * 3);
  for (gsize i = 0; i < n_pixels; i++)
    rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = image->pixels[i];

  request->pixels = g_bytes_new_take (rgb, n_pixels * 3);
  request->texture_width = (int) image->width;
  request->texture_height = (int) image->height;
}

static gboolean
xl_thumbnail_loader_deliver_cb (gpointer user_data)
{
  g_autoptr(XlThumbnailLoader) self = g_object_ref (user_data);
  GQueue done = G_QUEUE_INIT;
  Request *request;

  g_mutex_lock (&self->mutex);
  done = self->done;
  g_queue_init (&self->done);
  self->done_source = 0;
  g_mutex_unlock (&self->mutex);

  while ((request = g_queue_pop_head (&done)))
    {
      GTask *task = request->task;

      self->n_pending--;

      if (g_task_return_error_if_cancelled (task))
        {
          /* cancelled: the widget that asked is showing another film */
        }
      else if (request->generation != self->generation)
        {
          g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                   "the thumbnail size changed");
        }
      else if (request->error != NULL)
        {
          g_hash_table_add (self->failed, GUINT_TO_POINTER (request->index));
          g_task_return_error (task, g_steal_pointer (&request->error));
        }
      else
        {
          g_autoptr(GdkTexture) texture = NULL;

          texture = gdk_memory_texture_new (request->texture_width,
                                            request->texture_height,
                                            GDK_MEMORY_R8G8B8,
                                            request->pixels,
                                            (gsize) request->texture_width * 3);
          self->n_decoded++;
          cache_insert (self, request->index, texture, g_bytes_get_size (request->pixels));
          g_task_return_pointer (task, g_steal_pointer (&texture), g_object_unref);
        }

      request_free (request);
    }

  return G_SOURCE_REMOVE;
}

static void
xl_thumbnail_loader_worker (gpointer data,
                            gpointer user_data)
{
  static GPrivate lowered;
  XlThumbnailLoader *self = user_data;
  Request *request = data;

  /* The pool's threads are its own (exclusive): lowering them touches no
   * other pool's work. Once per thread. */
  if (g_private_get (&lowered) == NULL)
    {
      xl_thread_lower_priority (XL_NICENESS_THUMBNAILS);
      g_private_set (&lowered, GINT_TO_POINTER (1));
    }

  /* Scrolled away before a worker got to it: skip the decoding. */
  if (!g_cancellable_is_cancelled (g_task_get_cancellable (request->task)))
    decode_request (self, request);

  /* At most one idle callback pending, whatever the number of results. */
  g_mutex_lock (&self->mutex);
  g_queue_push_tail (&self->done, request);
  if (self->done_source == 0)
    self->done_source = g_idle_add_full (G_PRIORITY_DEFAULT_IDLE,
                                         xl_thumbnail_loader_deliver_cb,
                                         self, NULL);
  g_mutex_unlock (&self->mutex);
}

static int
compare_requests (gconstpointer a,
                  gconstpointer b,
                  gpointer      user_data)
{
  const Request *ra = a;
  const Request *rb = b;

  /* The newest first: what was just scrolled into view. */
  return ra->sequence < rb->sequence ? 1 : ra->sequence > rb->sequence ? -1 : 0;
}

XlThumbnailLoader *
xl_thumbnail_loader_new (XlDataset *dataset,
                         guint      n_threads,
                         gsize      cache_bytes)
{
  XlThumbnailLoader *self;

  g_return_val_if_fail (dataset != NULL, NULL);
  g_return_val_if_fail (n_threads > 0, NULL);

  self = g_object_new (XL_TYPE_THUMBNAIL_LOADER, NULL);
  self->dataset = xl_dataset_ref (dataset);
  self->cache_budget = cache_bytes;
  self->pool = g_thread_pool_new_full (xl_thumbnail_loader_worker,
                                       self,
                                       request_free,
                                       (int) n_threads,
                                       TRUE,
                                       NULL);
  g_thread_pool_set_sort_function (self->pool, compare_requests, NULL);

  return self;
}

XlDataset *
xl_thumbnail_loader_get_dataset (XlThumbnailLoader *self)
{
  g_return_val_if_fail (XL_IS_THUMBNAIL_LOADER (self), NULL);

  return self->dataset;
}

void
xl_thumbnail_loader_set_size (XlThumbnailLoader *self,
                              int                width,
                              int                height)
{
  g_return_if_fail (XL_IS_THUMBNAIL_LOADER (self));
  g_return_if_fail (width > 0 && height > 0);

  if (self->width == width && self->height == height)
    return;

  self->width = width;
  self->height = height;
  self->generation++;
  cache_clear (self);
  g_hash_table_remove_all (self->failed);

  g_signal_emit (self, signals[INVALIDATED], 0);
}

void
xl_thumbnail_loader_get_size (XlThumbnailLoader *self,
                              int               *width,
                              int               *height)
{
  g_return_if_fail (XL_IS_THUMBNAIL_LOADER (self));

  if (width != NULL)
    *width = self->width;
  if (height != NULL)
    *height = self->height;
}

GdkTexture *
xl_thumbnail_loader_lookup (XlThumbnailLoader *self,
                            guint              index)
{
  GList *link;

  g_return_val_if_fail (XL_IS_THUMBNAIL_LOADER (self), NULL);

  if (!(link = g_hash_table_lookup (self->cache, GUINT_TO_POINTER (index))))
    return NULL;

  /* Used again: to the front of the queue. */
  g_queue_unlink (&self->lru, link);
  g_queue_push_head_link (&self->lru, link);

  return ((CacheEntry *) link->data)->texture;
}

void
xl_thumbnail_loader_load_async (XlThumbnailLoader   *self,
                                guint                index,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  GdkTexture *texture;
  Request *request;

  g_return_if_fail (XL_IS_THUMBNAIL_LOADER (self));
  g_return_if_fail (index < xl_dataset_n_images (self->dataset));
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));
  g_return_if_fail (self->width > 0 && self->height > 0);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, xl_thumbnail_loader_load_async);

  if ((texture = xl_thumbnail_loader_lookup (self, index)))
    {
      g_task_return_pointer (task, g_object_ref (texture), g_object_unref);
      return;
    }

  if (g_hash_table_contains (self->failed, GUINT_TO_POINTER (index)))
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                               "%s: not a usable image",
                               xl_dataset_image (self->dataset, index)->name);
      return;
    }

  request = g_new0 (Request, 1);
  request->task = g_steal_pointer (&task);
  request->index = index;
  request->width = self->width;
  request->height = self->height;
  request->generation = self->generation;
  request->sequence = ++self->sequence;

  self->n_pending++;
  g_thread_pool_push (self->pool, request, NULL);
}

GdkTexture *
xl_thumbnail_loader_load_finish (XlThumbnailLoader  *self,
                                 GAsyncResult       *result,
                                 GError            **error)
{
  g_return_val_if_fail (XL_IS_THUMBNAIL_LOADER (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

guint
xl_thumbnail_loader_get_n_pending (XlThumbnailLoader *self)
{
  g_return_val_if_fail (XL_IS_THUMBNAIL_LOADER (self), 0);

  return self->n_pending;
}

guint
xl_thumbnail_loader_get_n_decoded (XlThumbnailLoader *self)
{
  g_return_val_if_fail (XL_IS_THUMBNAIL_LOADER (self), 0);

  return self->n_decoded;
}

guint
xl_thumbnail_loader_get_n_cached (XlThumbnailLoader *self)
{
  g_return_val_if_fail (XL_IS_THUMBNAIL_LOADER (self), 0);

  return self->lru.length;
}

static void
xl_thumbnail_loader_dispose (GObject *object)
{
  XlThumbnailLoader *self = (XlThumbnailLoader *) object;

  /* Every request holds a reference on the loader through its task, so none
   * is in flight here: the workers are idle. */
  if (self->pool != NULL)
    {
      g_thread_pool_free (self->pool, TRUE, TRUE);
      self->pool = NULL;
    }

  g_mutex_lock (&self->mutex);
  g_clear_handle_id (&self->done_source, g_source_remove);
  g_queue_clear_full (&self->done, request_free);
  g_mutex_unlock (&self->mutex);

  cache_clear (self);

  G_OBJECT_CLASS (xl_thumbnail_loader_parent_class)->dispose (object);
}

static void
xl_thumbnail_loader_finalize (GObject *object)
{
  XlThumbnailLoader *self = (XlThumbnailLoader *) object;

  g_clear_pointer (&self->cache, g_hash_table_unref);
  g_clear_pointer (&self->failed, g_hash_table_unref);
  g_clear_pointer (&self->dataset, xl_dataset_unref);
  g_mutex_clear (&self->mutex);

  G_OBJECT_CLASS (xl_thumbnail_loader_parent_class)->finalize (object);
}

static void
xl_thumbnail_loader_class_init (XlThumbnailLoaderClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = xl_thumbnail_loader_dispose;
  object_class->finalize = xl_thumbnail_loader_finalize;

  /**
   * XlThumbnailLoader::invalidated:
   *
   * The size changed: thumbnails handed out so far are the wrong size.
   */
  signals[INVALIDATED] =
    g_signal_new ("invalidated",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 0);
}

static void
xl_thumbnail_loader_init (XlThumbnailLoader *self)
{
  g_mutex_init (&self->mutex);
  self->cache = g_hash_table_new (NULL, NULL);
  self->failed = g_hash_table_new (NULL, NULL);
}
