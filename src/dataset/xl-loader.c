/* xl-loader.c — transforms and the batch loader threads.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * How batches stay bit-identical whatever the thread count:
 *  - batch k always goes to slot k % queue_depth, and the consumer takes them
 *    in order, so the queue is a ring of preallocated batches;
 *  - which draws of the epoch go into batch k depends on how many images
 *    before it failed to decode, so batches are *planned* in order: the
 *    thread making batch k waits for the planner of batch k - 1, then takes
 *    images from the shared cursor until it has batch_size good ones. Planning
 *    is cheap (cache look-ups, usually already decoded); the threads fetch
 *    their likely images before their turn, so a decode also runs in parallel;
 *  - the transform, the expensive part, runs in parallel, each image with a
 *    generator seeded by (seed, epoch, its position in the epoch).
 */
#include "config.h"

#include "xl-loader.h"

#include <math.h>
#include <string.h>

#include "nn-rng.h"

/* --- Seeds ------------------------------------------------------------------ */

static guint64
mix64 (guint64 z)
{
  z += 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

guint64
xl_loader_draw_seed (guint64 seed, guint epoch, guint position)
{
  return mix64 (mix64 (mix64 (seed) ^ (0x696d616765ull + ((guint64) epoch << 20))) ^ position);
}

static guint64
order_seed (guint64 seed, guint epoch)
{
  return mix64 (mix64 (seed ^ 0x6f72646572ull) ^ epoch);
}

static inline double
uniform (NnRng *rng, double lo, double hi)
{
  return lo + (hi - lo) * nn_rng_uniform (rng);
}

/* --- Transforms -------------------------------------------------------------- */

void
xl_transform_config_init (XlTransformConfig *cfg, gboolean train)
{
  static const float imagenet_mean[3] = { 0.485f, 0.456f, 0.406f };
  static const float imagenet_std[3] = { 0.229f, 0.224f, 0.225f };

  g_return_if_fail (cfg != NULL);

  memset (cfg, 0, sizeof *cfg);
  cfg->resize = 256;
  cfg->crop = 224;
  cfg->train = train;
  cfg->random_resized_crop = FALSE;
  cfg->scale_min = 0.08;
  cfg->scale_max = 1.0;
  cfg->hflip = FALSE;
  memcpy (cfg->mean, imagenet_mean, sizeof cfg->mean);
  memcpy (cfg->std, imagenet_std, sizeof cfg->std);
}

/* torchvision's CenterCrop offset: int(round((size - crop) / 2.0)) with
 * Python's round half to even, which rint gives; an image smaller than the
 * crop is padded with zeros on both sides first (the left gets the floor). */
static int
center_offset (guint size, guint crop)
{
  if (size >= crop)
    return (int) rint ((double) (size - crop) / 2.0);
  return -(int) ((crop - size) / 2);
}

/* Python's round(x) to an int: half to even. */
static inline int
round_half_even (double x)
{
  return (int) rint (x);
}

static void
random_resized_crop_params (
    const XlTransformConfig *cfg, guint width, guint height, NnRng *rng, XlTransformDraw *draw)
{
  const double ratio_min = 3.0 / 4.0, ratio_max = 4.0 / 3.0;
  /* torch.log(torch.tensor(ratio)) is float32 */
  const double log_min = (double) logf ((float) ratio_min);
  const double log_max = (double) logf ((float) ratio_max);
  double       area = (double) width * height, in_ratio;
  int          w, h;

  for (int attempt = 0; attempt < 10; attempt++)
    {
      double target_area = area * uniform (rng, cfg->scale_min, cfg->scale_max);
      double aspect_ratio = exp (uniform (rng, log_min, log_max));

      w = round_half_even (sqrt (target_area * aspect_ratio));
      h = round_half_even (sqrt (target_area / aspect_ratio));
      if (w > 0 && w <= (int) width && h > 0 && h <= (int) height)
        {
          draw->top = (int) nn_rng_below (rng, (guint64) (height - (guint) h + 1));
          draw->left = (int) nn_rng_below (rng, (guint64) (width - (guint) w + 1));
          draw->height = (guint) h;
          draw->width = (guint) w;
          return;
        }
    }

  /* Fallback to a central crop. */
  in_ratio = (double) width / (double) height;
  if (in_ratio < ratio_min)
    {
      w = (int) width;
      h = round_half_even (w / ratio_min);
    }
  else if (in_ratio > ratio_max)
    {
      h = (int) height;
      w = round_half_even (h * ratio_max);
    }
  else
    {
      w = (int) width;
      h = (int) height;
    }
  draw->top = ((int) height - h) / 2;
  draw->left = ((int) width - w) / 2;
  draw->height = (guint) h;
  draw->width = (guint) w;
}

void
xl_transform_draw (
    const XlTransformConfig *cfg, guint width, guint height, guint64 seed, XlTransformDraw *draw)
{
  NnRng rng;

  g_return_if_fail (cfg != NULL && draw != NULL);
  g_return_if_fail (cfg->crop > 0 && width > 0 && height > 0);

  memset (draw, 0, sizeof *draw);
  draw->brightness = 1.0;
  draw->contrast = 1.0;
  draw->height = draw->width = cfg->crop;
  if (!cfg->train)
    {
      draw->top = center_offset (height, cfg->crop);
      draw->left = center_offset (width, cfg->crop);
      return;
    }

  /* The order of torchvision's pipeline: rotation, crop, jitter, flip. */
  nn_rng_seed (&rng, seed);
  if (cfg->rotation_degrees > 0)
    draw->angle = uniform (&rng, -cfg->rotation_degrees, cfg->rotation_degrees);

  if (cfg->random_resized_crop)
    random_resized_crop_params (cfg, width, height, &rng, draw);
  else
    {
      /* RandomCrop: i over the height first, then j. */
      draw->top = height >= cfg->crop ? (int) nn_rng_below (&rng, height - cfg->crop + 1)
                                      : center_offset (height, cfg->crop);
      draw->left = width >= cfg->crop ? (int) nn_rng_below (&rng, width - cfg->crop + 1)
                                      : center_offset (width, cfg->crop);
    }

  if (cfg->brightness > 0 || cfg->contrast > 0)
    {
      /* ColorJitter.get_params: a random order, then the factors. */
      draw->contrast_first = nn_rng_uniform (&rng) < 0.5;
      if (cfg->brightness > 0)
        draw->brightness = uniform (&rng, MAX (0.0, 1.0 - cfg->brightness), 1.0 + cfg->brightness);
      if (cfg->contrast > 0)
        draw->contrast = uniform (&rng, MAX (0.0, 1.0 - cfg->contrast), 1.0 + cfg->contrast);
    }

  if (cfg->hflip)
    draw->flip = nn_rng_uniform (&rng) < 0.5;
}

/* Python's round(x, 15), which PIL applies to the rotation matrix. */
static inline double
round15 (double x)
{
  return nearbyint (x * 1e15) / 1e15;
}

/* dst (rh, rw) = the box (top, left, rh, rw) of img rotated by angle degrees
 * counter-clockwise about its center, as PIL's Image.rotate(angle, BILINEAR,
 * expand=False, fillcolor=0) then crop: the same matrix, the same bilinear
 * filter (edge pixels clamped, the result truncated), 0 outside. */
static void
extract_region (
    const XlImage *img, double angle, int top, int left, guint rh, guint rw, guint8 *dst)
{
  const int w = (int) img->width, h = (int) img->height;

  if (angle == 0)
    {
      for (guint y = 0; y < rh; y++)
        {
          int     sy = top + (int) y;
          guint8 *row = dst + (gsize) y * rw;

          if (sy < 0 || sy >= h)
            {
              memset (row, 0, rw);
              continue;
            }
          for (guint x = 0; x < rw; x++)
            {
              int sx = left + (int) x;
              row[x] = sx >= 0 && sx < w ? img->pixels[(gsize) sy * (guint) w + (guint) sx] : 0;
            }
        }
      return;
    }

  double rad = -angle * G_PI / 180.0;
  double a = round15 (cos (rad)), b = round15 (sin (rad));
  double d = -b, e = a;
  double cx = w / 2.0, cy = h / 2.0;
  double c = a * -cx + b * -cy + cx;
  double f = d * -cx + e * -cy + cy;

  for (guint y = 0; y < rh; y++)
    {
      int     oy = top + (int) y;
      guint8 *row = dst + (gsize) y * rw;

      for (guint x = 0; x < rw; x++)
        {
          int           ox = left + (int) x;
          double        xin, yin, dx, dy, v1, v2;
          const guint8 *in;
          int           x0, x1, ix, iy;

          /* A pixel outside the rotated image (zero padding of the crop). */
          if (ox < 0 || ox >= w || oy < 0 || oy >= h)
            {
              row[x] = 0;
              continue;
            }
          xin = a * (ox + 0.5) + b * (oy + 0.5) + c;
          yin = d * (ox + 0.5) + e * (oy + 0.5) + f;
          if (xin < 0.0 || xin >= w || yin < 0.0 || yin >= h)
            {
              row[x] = 0;
              continue;
            }
          xin -= 0.5;
          yin -= 0.5;
          ix = (int) floor (xin);
          iy = (int) floor (yin);
          dx = xin - ix;
          dy = yin - iy;
          x0 = CLAMP (ix, 0, w - 1);
          x1 = CLAMP (ix + 1, 0, w - 1);
          in = img->pixels + (gsize) CLAMP (iy, 0, h - 1) * (guint) w;
          v1 = in[x0] + (in[x1] - in[x0]) * dx;
          if (iy + 1 >= 0 && iy + 1 < h)
            {
              in = img->pixels + (gsize) (iy + 1) * (guint) w;
              v2 = in[x0] + (in[x1] - in[x0]) * dx;
            }
          else
            v2 = v1;
          row[x] = (guint8) (v1 + (v2 - v1) * dy);
        }
    }
}

/* PIL's Image.blend(im1, im2, alpha) with im1 a constant: float arithmetic,
 * clipped, truncated. */
static void
blend_constant (guint8 *pixels, gsize n, int constant, float alpha)
{
  for (gsize i = 0; i < n; i++)
    {
      float v = (float) constant + alpha * (float) ((int) pixels[i] - constant);

      pixels[i] = v <= 0.0f ? 0 : v >= 255.0f ? 255 : (guint8) v;
    }
}

/* ImageEnhance.Brightness: a blend with black. */
static void
adjust_brightness (guint8 *pixels, gsize n, double factor)
{
  blend_constant (pixels, n, 0, (float) factor);
}

/* ImageEnhance.Contrast: a blend with the image's mean gray,
 * int(mean + 0.5). */
static void
adjust_contrast (guint8 *pixels, gsize n, double factor)
{
  guint64 sum = 0;

  for (gsize i = 0; i < n; i++)
    sum += pixels[i];
  blend_constant (pixels, n, (int) ((double) sum / (double) n + 0.5), (float) factor);
}

typedef struct
{
  guint8 *region; /* a RandomResizedCrop box before its resize */
  gsize   region_size;
  guint8 *crop;        /* (C, C) */
  float   lut[3][256]; /* gray -> normalized value, per channel */
} TransformScratch;

static void
transform_scratch_init (TransformScratch *scratch, const XlTransformConfig *cfg)
{
  memset (scratch, 0, sizeof *scratch);
  scratch->crop = g_malloc ((gsize) cfg->crop * cfg->crop);
  /* ToTensor then Normalize, in float32 as torch computes them. */
  for (int c = 0; c < 3; c++)
    for (int v = 0; v < 256; v++)
      scratch->lut[c][v] = ((float) v / 255.0f - cfg->mean[c]) / cfg->std[c];
}

static void
transform_scratch_clear (TransformScratch *scratch)
{
  g_clear_pointer (&scratch->region, g_free);
  g_clear_pointer (&scratch->crop, g_free);
}

/* img is at short side cfg->resize. */
static void
transform_run (const XlTransformConfig *cfg,
               const XlImage           *img,
               guint64                  seed,
               float                   *out,
               TransformScratch        *scratch)
{
  const guint     C = cfg->crop;
  const gsize     plane = (gsize) C * C;
  XlTransformDraw draw;
  guint8         *crop = scratch->crop;

  xl_transform_draw (cfg, img->width, img->height, seed, &draw);

  if (draw.width == C && draw.height == C)
    extract_region (img, draw.angle, draw.top, draw.left, C, C, crop);
  else
    {
      gsize   need = (gsize) draw.width * draw.height;
      XlImage box;
      g_autoptr (XlImage) resized = NULL;

      /* Grows a few times at most, then the largest box fits. */
      if (need > scratch->region_size)
        {
          scratch->region = g_realloc (scratch->region, need);
          scratch->region_size = need;
        }
      extract_region (img, draw.angle, draw.top, draw.left, draw.height, draw.width,
                      scratch->region);
      box.width = draw.width;
      box.height = draw.height;
      box.pixels = scratch->region;
      resized = xl_image_resize (&box, C, C);
      if (resized != NULL)
        memcpy (crop, resized->pixels, plane);
      else
        memset (crop, 0, plane);
    }

  if (draw.contrast_first && draw.contrast != 1.0)
    adjust_contrast (crop, plane, draw.contrast);
  if (draw.brightness != 1.0)
    adjust_brightness (crop, plane, draw.brightness);
  if (!draw.contrast_first && draw.contrast != 1.0)
    adjust_contrast (crop, plane, draw.contrast);

  if (draw.flip)
    for (guint y = 0; y < C; y++)
      {
        guint8 *row = crop + (gsize) y * C;
        for (guint x = 0; x < C / 2; x++)
          {
            guint8 t = row[x];
            row[x] = row[C - 1 - x];
            row[C - 1 - x] = t;
          }
      }

  for (int c = 0; c < 3; c++)
    {
      const float *lut = scratch->lut[c];
      float       *dst = out + (gsize) c * plane;

      for (gsize i = 0; i < plane; i++)
        dst[i] = lut[crop[i]];
    }
}

static gboolean
needs_resize (const XlTransformConfig *cfg, const XlImage *img)
{
  return MIN (img->width, img->height) != cfg->resize;
}

void
xl_transform_apply (const XlTransformConfig *cfg, const XlImage *img, guint64 seed, float *out)
{
  TransformScratch scratch;
  g_autoptr (XlImage) resized = NULL;

  g_return_if_fail (cfg != NULL && img != NULL && out != NULL);
  g_return_if_fail (cfg->crop > 0 && cfg->resize > 0);
  g_return_if_fail (img->width > 0 && img->height > 0);

  if (needs_resize (cfg, img))
    {
      resized = xl_image_resize_short_side (img, cfg->resize);
      if (resized == NULL)
        {
          memset (out, 0, sizeof (float) * 3 * cfg->crop * cfg->crop);
          return;
        }
      img = resized;
    }
  transform_scratch_init (&scratch, cfg);
  transform_run (cfg, img, seed, out, &scratch);
  transform_scratch_clear (&scratch);
}

/* --- The loader ------------------------------------------------------------ */

typedef enum
{
  SLOT_FREE,
  SLOT_FILLING,
  SLOT_READY,
  SLOT_IN_USE,
} SlotState;

typedef struct
{
  XlBatch   batch; /* first: a batch pointer is its slot's */
  SlotState state;
  guint     number; /* the batch of the epoch it holds */
} Slot;

typedef struct
{
  XlLoader        *loader;
  GThread         *thread;
  const XlImage  **images; /* (B) this batch's images, in order */
  guint           *draws;  /* (B) their positions in the epoch */
  const XlImage  **early;  /* (B) images fetched before the planning turn */
  GError         **early_error;
  guint            early_start, early_n;
  TransformScratch tf;
} Worker;

typedef struct
{
  guint index;
  char *message;
} Failure;

struct _XlLoader
{
  XlImageCache     *cache;
  XlTransformConfig tf;
  guint            *indices; /* (n) dataset indices */
  int              *labels;  /* (n) their classes */
  guint             n;
  guint             batch_size;
  gboolean          shuffle, balanced;
  guint64           seed;
  guint             n_classes;
  guint           **members; /* [class] positions in indices, for balanced draws */
  guint            *n_members;

  GMutex  lock;
  GCond   cond; /* any change of the state below; broadcast */
  Slot   *slots;
  guint   queue_depth;
  Worker *workers;
  guint   n_threads;
  Worker  inline_worker; /* n_threads == 0: batches made in next() */

  guint   *order; /* (n) the epoch's draws, positions in indices */
  guint    epoch;
  gboolean running; /* an epoch is on and not stopped */
  gboolean quit;
  guint    next_claim;      /* the next batch a thread may start */
  guint    next_out;        /* the next batch the consumer gets */
  guint    plan_turn;       /* the batch whose planning may run */
  guint    cursor;          /* the next draw to plan */
  guint    n_epoch_batches; /* ceil(n / B), lowered when failures end it early */
  guint    in_flight;       /* batches being made */
  guint    delivered;       /* images handed out this epoch */
  guint    skipped;         /* draws skipped this epoch */

  GArray     *failures; /* Failure, each image once */
  GHashTable *failed;   /* dataset index + 1 */
};

static void
worker_init (Worker *w, XlLoader *loader)
{
  guint B = loader->batch_size;

  w->loader = loader;
  w->images = g_new0 (const XlImage *, B);
  w->draws = g_new0 (guint, B);
  w->early = g_new0 (const XlImage *, B);
  w->early_error = g_new0 (GError *, B);
  transform_scratch_init (&w->tf, &loader->tf);
}

static void
worker_clear (Worker *w)
{
  g_free (w->images);
  g_free (w->draws);
  g_free (w->early);
  g_free (w->early_error);
  transform_scratch_clear (&w->tf);
}

static void
failure_clear (gpointer data)
{
  Failure *f = data;

  g_free (f->message);
}

/* Under the lock. */
static gboolean
can_claim (const XlLoader *loader)
{
  return loader->running && loader->next_claim < loader->n_epoch_batches &&
         loader->slots[loader->next_claim % loader->queue_depth].state == SLOT_FREE;
}

static void
record_failure (XlLoader *loader, guint index, const GError *error)
{
  g_mutex_lock (&loader->lock);
  loader->skipped++;
  if (!g_hash_table_contains (loader->failed, GUINT_TO_POINTER (index + 1)))
    {
      Failure f = { index, g_strdup (error != NULL ? error->message : "unknown error") };

      g_hash_table_add (loader->failed, GUINT_TO_POINTER (index + 1));
      g_array_append_val (loader->failures, f);
    }
  g_mutex_unlock (&loader->lock);
}

static void
release_early (Worker *w)
{
  for (guint i = 0; i < w->early_n; i++)
    {
      if (w->early[i] != NULL)
        xl_image_cache_release (w->loader->cache, w->early[i]);
      w->early[i] = NULL;
      g_clear_error (&w->early_error[i]);
    }
  w->early_n = 0;
}

static const XlImage *
get_image (XlLoader *loader, guint position, GError **error)
{
  const XlImage *img = xl_image_cache_get (loader->cache, loader->indices[position], error);

  if (img == NULL && error != NULL && *error == NULL)
    g_set_error (error, XL_DATASET_ERROR, XL_DATASET_ERROR_DECODE, "image %u could not be read",
                 loader->indices[position]);
  return img;
}

/* Makes batch k into slot. FALSE when the epoch was stopped meanwhile. */
static gboolean
make_batch (Worker *w, guint k, Slot *slot)
{
  XlLoader   *loader = w->loader;
  const guint B = loader->batch_size;
  const gsize per_image = (gsize) 3 * loader->tf.crop * loader->tf.crop;
  guint       cursor, n_got = 0, guess;

  /* 1. Fetch (decode if needed) the images this batch will likely hold, before
   *    its turn to plan: they are exact unless an image fails meanwhile. */
  g_mutex_lock (&loader->lock);
  guess = k * B + loader->skipped;
  g_mutex_unlock (&loader->lock);
  w->early_start = guess;
  w->early_n = 0;
  for (guint p = guess; p < loader->n && p < guess + B; p++)
    {
      if (!g_atomic_int_get (&loader->running))
        break;
      w->early[w->early_n] = get_image (loader, loader->order[p], &w->early_error[w->early_n]);
      w->early_n++;
    }

  /* 2. Plan in turn: take good images from the cursor. */
  g_mutex_lock (&loader->lock);
  while (loader->running && loader->plan_turn != k)
    g_cond_wait (&loader->cond, &loader->lock);
  if (!loader->running)
    {
      g_mutex_unlock (&loader->lock);
      release_early (w);
      return FALSE;
    }
  cursor = loader->cursor;
  g_mutex_unlock (&loader->lock);

  while (n_got < B && cursor < loader->n)
    {
      guint          p = cursor++;
      guint          position = loader->order[p];
      const XlImage *img;
      g_autoptr (GError) error = NULL;

      if (p >= w->early_start && p - w->early_start < w->early_n)
        {
          img = w->early[p - w->early_start];
          error = g_steal_pointer (&w->early_error[p - w->early_start]);
          w->early[p - w->early_start] = NULL;
        }
      else
        img = get_image (loader, position, &error);

      if (img == NULL)
        {
          record_failure (loader, loader->indices[position], error);
          continue;
        }
      w->images[n_got] = img;
      w->draws[n_got] = p;
      n_got++;
    }

  g_mutex_lock (&loader->lock);
  loader->cursor = cursor;
  loader->plan_turn = k + 1;
  if (cursor >= loader->n)
    loader->n_epoch_batches = MIN (loader->n_epoch_batches, n_got > 0 ? k + 1 : k);
  g_cond_broadcast (&loader->cond);
  g_mutex_unlock (&loader->lock);
  release_early (w);

  /* 3. Transform, in parallel with the other threads. */
  for (guint j = 0; j < n_got; j++)
    {
      guint position = loader->order[w->draws[j]];

      if (g_atomic_int_get (&loader->running))
        transform_run (&loader->tf, w->images[j],
                       xl_loader_draw_seed (loader->seed, loader->epoch, w->draws[j]),
                       slot->batch.images + j * per_image, &w->tf);
      slot->batch.labels[j] = loader->labels[position];
      slot->batch.indices[j] = loader->indices[position];
      xl_image_cache_release (loader->cache, w->images[j]);
      w->images[j] = NULL;
    }
  slot->batch.n = n_got;
  return TRUE;
}

/* Under the lock: claims batch next_claim, makes it without the lock, and
 * files it. Returns its slot, or NULL when it came out empty or stopped. */
static Slot *
claim_and_make (Worker *w)
{
  XlLoader *loader = w->loader;
  guint     k = loader->next_claim++;
  Slot     *slot = &loader->slots[k % loader->queue_depth];
  gboolean  ok;

  slot->state = SLOT_FILLING;
  slot->number = k;
  slot->batch.n = 0;
  loader->in_flight++;
  g_mutex_unlock (&loader->lock);

  ok = make_batch (w, k, slot);

  g_mutex_lock (&loader->lock);
  loader->in_flight--;
  g_cond_broadcast (&loader->cond);
  if (ok && loader->running && slot->batch.n > 0)
    {
      slot->state = SLOT_READY;
      return slot;
    }
  slot->state = SLOT_FREE;
  return NULL;
}

static gpointer
worker_main (gpointer data)
{
  Worker   *w = data;
  XlLoader *loader = w->loader;

  g_mutex_lock (&loader->lock);
  for (;;)
    {
      while (!loader->quit && !can_claim (loader))
        g_cond_wait (&loader->cond, &loader->lock);
      if (loader->quit)
        break;
      claim_and_make (w);
    }
  g_mutex_unlock (&loader->lock);
  return NULL;
}

XlLoader *
xl_loader_new (XlImageCache            *cache,
               const guint             *indices,
               guint                    n,
               const XlTransformConfig *transform,
               guint                    batch_size,
               gboolean                 shuffle,
               gboolean                 balanced,
               guint64                  seed,
               guint                    n_threads,
               guint                    queue_depth)
{
  XlDataset *ds;
  XlLoader  *loader;
  gsize      per_image;

  g_return_val_if_fail (cache != NULL, NULL);
  g_return_val_if_fail (indices != NULL || n == 0, NULL);
  g_return_val_if_fail (transform != NULL, NULL);
  g_return_val_if_fail (transform->crop > 0 && transform->crop <= 4096, NULL);
  g_return_val_if_fail (transform->resize > 0, NULL);
  g_return_val_if_fail (batch_size > 0, NULL);
  g_return_val_if_fail (n_threads <= 256, NULL);

  ds = xl_image_cache_dataset (cache);
  loader = g_new0 (XlLoader, 1);
  loader->cache = cache;
  loader->tf = *transform;
  loader->n = n;
  loader->indices = g_memdup2 (indices, sizeof (guint) * MAX (n, 1));
  loader->labels = g_new0 (int, MAX (n, 1));
  loader->batch_size = batch_size;
  loader->shuffle = shuffle;
  loader->balanced = balanced;
  loader->seed = seed;
  loader->queue_depth = MAX (queue_depth, 1u);
  loader->n_threads = n_threads;
  loader->order = g_new0 (guint, MAX (n, 1));
  loader->failures = g_array_new (FALSE, FALSE, sizeof (Failure));
  g_array_set_clear_func (loader->failures, failure_clear);
  loader->failed = g_hash_table_new (g_direct_hash, g_direct_equal);
  g_mutex_init (&loader->lock);
  g_cond_init (&loader->cond);

  loader->n_classes = xl_dataset_n_classes (ds);
  loader->members = g_new0 (guint *, MAX (loader->n_classes, 1));
  loader->n_members = g_new0 (guint, MAX (loader->n_classes, 1));
  for (guint c = 0; c < loader->n_classes; c++)
    loader->members[c] = g_new (guint, MAX (n, 1));
  for (guint i = 0; i < n; i++)
    {
      guint c = xl_dataset_image (ds, indices[i])->class_index;

      loader->labels[i] = (int) c;
      if (c < loader->n_classes)
        loader->members[c][loader->n_members[c]++] = i;
    }

  per_image = (gsize) 3 * transform->crop * transform->crop;
  loader->slots = g_new0 (Slot, loader->queue_depth);
  for (guint s = 0; s < loader->queue_depth; s++)
    {
      loader->slots[s].batch.images = g_new (float, per_image *batch_size);
      loader->slots[s].batch.labels = g_new0 (int, batch_size);
      loader->slots[s].batch.indices = g_new0 (guint, batch_size);
      loader->slots[s].state = SLOT_FREE;
    }

  if (n_threads == 0)
    worker_init (&loader->inline_worker, loader);
  else
    {
      loader->workers = g_new0 (Worker, n_threads);
      for (guint t = 0; t < n_threads; t++)
        {
          worker_init (&loader->workers[t], loader);
          loader->workers[t].thread = g_thread_new ("xl-loader", worker_main, &loader->workers[t]);
        }
    }
  return loader;
}

void
xl_loader_free (XlLoader *loader)
{
  if (loader == NULL)
    return;

  g_mutex_lock (&loader->lock);
  loader->quit = TRUE;
  g_atomic_int_set (&loader->running, FALSE);
  g_cond_broadcast (&loader->cond);
  g_mutex_unlock (&loader->lock);

  for (guint t = 0; t < loader->n_threads; t++)
    {
      g_thread_join (loader->workers[t].thread);
      worker_clear (&loader->workers[t]);
    }
  if (loader->n_threads == 0)
    worker_clear (&loader->inline_worker);
  g_free (loader->workers);

  for (guint s = 0; s < loader->queue_depth; s++)
    {
      g_free (loader->slots[s].batch.images);
      g_free (loader->slots[s].batch.labels);
      g_free (loader->slots[s].batch.indices);
    }
  g_free (loader->slots);
  for (guint c = 0; c < loader->n_classes; c++)
    g_free (loader->members[c]);
  g_free (loader->members);
  g_free (loader->n_members);
  g_free (loader->order);
  g_free (loader->indices);
  g_free (loader->labels);
  g_array_unref (loader->failures);
  g_hash_table_unref (loader->failed);
  g_mutex_clear (&loader->lock);
  g_cond_clear (&loader->cond);
  g_free (loader);
}

guint
xl_loader_n_batches (const XlLoader *loader)
{
  g_return_val_if_fail (loader != NULL, 0);

  return (loader->n + loader->batch_size - 1) / loader->batch_size;
}

/* The epoch's draws: positions in indices. */
static void
make_order (XlLoader *loader, guint epoch)
{
  NnRng             rng;
  guint             n_nonempty = 0;
  g_autofree guint *nonempty = NULL;

  nn_rng_seed (&rng, order_seed (loader->seed, epoch));
  nonempty = g_new (guint, MAX (loader->n_classes, 1));
  for (guint c = 0; c < loader->n_classes; c++)
    if (loader->n_members[c] > 0)
      nonempty[n_nonempty++] = c;

  /* Balanced: a class uniformly among those present, then one of its images. */
  if (loader->balanced && n_nonempty > 0)
    {
      for (guint i = 0; i < loader->n; i++)
        {
          guint c = nonempty[nn_rng_below (&rng, n_nonempty)];
          loader->order[i] = loader->members[c][nn_rng_below (&rng, loader->n_members[c])];
        }
      return;
    }

  for (guint i = 0; i < loader->n; i++)
    loader->order[i] = i;
  if (loader->shuffle)
    for (guint i = loader->n; i > 1; i--)
      {
        guint j = (guint) nn_rng_below (&rng, i);
        guint t = loader->order[i - 1];
        loader->order[i - 1] = loader->order[j];
        loader->order[j] = t;
      }
}

void
xl_loader_stop (XlLoader *loader)
{
  g_return_if_fail (loader != NULL);

  g_mutex_lock (&loader->lock);
  g_atomic_int_set (&loader->running, FALSE);
  g_cond_broadcast (&loader->cond);
  while (loader->in_flight > 0)
    g_cond_wait (&loader->cond, &loader->lock);
  for (guint s = 0; s < loader->queue_depth; s++)
    if (loader->slots[s].state == SLOT_READY)
      loader->slots[s].state = SLOT_FREE;
  g_cond_broadcast (&loader->cond);
  g_mutex_unlock (&loader->lock);
}

void
xl_loader_start_epoch (XlLoader *loader, guint epoch)
{
  g_return_if_fail (loader != NULL);

  xl_loader_stop (loader);

  g_mutex_lock (&loader->lock);
  make_order (loader, epoch);
  loader->epoch = epoch;
  loader->next_claim = 0;
  loader->next_out = 0;
  loader->plan_turn = 0;
  loader->cursor = 0;
  loader->n_epoch_batches = xl_loader_n_batches (loader);
  loader->delivered = 0;
  loader->skipped = 0;
  g_atomic_int_set (&loader->running, TRUE);
  g_cond_broadcast (&loader->cond);
  g_mutex_unlock (&loader->lock);
}

/* Under the lock, at the end of the epoch. */
static void
set_end_error (XlLoader *loader, GError **error)
{
  if (loader->delivered == 0 && loader->n > 0 && loader->skipped > 0 && loader->next_out == 0 &&
      loader->failures->len > 0)
    {
      const Failure *first = &g_array_index (loader->failures, Failure, 0);

      g_set_error (error, XL_DATASET_ERROR, XL_DATASET_ERROR_DECODE,
                   "None of the %u images could be used (%s)", loader->n, first->message);
    }
}

const XlBatch *
xl_loader_next (XlLoader *loader, GError **error)
{
  g_return_val_if_fail (loader != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  g_mutex_lock (&loader->lock);
  for (;;)
    {
      guint k = loader->next_out;
      Slot *slot = &loader->slots[k % loader->queue_depth];

      if (!loader->running)
        break;
      if (k >= loader->n_epoch_batches)
        {
          set_end_error (loader, error);
          break;
        }
      if (slot->state == SLOT_IN_USE)
        {
          g_critical ("xl_loader_next: all %u batches are still held: release one first",
                      loader->queue_depth);
          break;
        }
      if (slot->state == SLOT_READY && slot->number == k)
        {
          slot->state = SLOT_IN_USE;
          loader->next_out++;
          loader->delivered += slot->batch.n;
          g_mutex_unlock (&loader->lock);
          return &slot->batch;
        }
      if (loader->n_threads == 0 && loader->next_claim == k && slot->state == SLOT_FREE)
        {
          claim_and_make (&loader->inline_worker);
          continue;
        }
      g_cond_wait (&loader->cond, &loader->lock);
    }
  g_mutex_unlock (&loader->lock);
  return NULL;
}

void
xl_loader_release (XlLoader *loader, const XlBatch *batch)
{
  Slot *slot = (Slot *) batch;

  g_return_if_fail (loader != NULL && batch != NULL);
  g_return_if_fail (slot >= loader->slots && slot < loader->slots + loader->queue_depth);

  g_mutex_lock (&loader->lock);
  if (slot->state == SLOT_IN_USE)
    slot->state = SLOT_FREE;
  else
    g_critical ("xl_loader_release: batch %u was not handed out", slot->number);
  g_cond_broadcast (&loader->cond);
  g_mutex_unlock (&loader->lock);
}

guint
xl_loader_n_failed (XlLoader *loader)
{
  guint n;

  g_return_val_if_fail (loader != NULL, 0);

  g_mutex_lock (&loader->lock);
  n = loader->failures->len;
  g_mutex_unlock (&loader->lock);
  return n;
}

char *
xl_loader_dup_failure (XlLoader *loader, guint i, guint *dataset_index)
{
  char *message = NULL;

  g_return_val_if_fail (loader != NULL, NULL);

  g_mutex_lock (&loader->lock);
  if (i < loader->failures->len)
    {
      const Failure *f = &g_array_index (loader->failures, Failure, i);

      message = g_strdup (f->message);
      if (dataset_index != NULL)
        *dataset_index = f->index;
    }
  g_mutex_unlock (&loader->lock);
  return message;
}

guint
xl_loader_epoch_skipped (XlLoader *loader)
{
  guint n;

  g_return_val_if_fail (loader != NULL, 0);

  g_mutex_lock (&loader->lock);
  n = loader->skipped;
  g_mutex_unlock (&loader->lock);
  return n;
}
