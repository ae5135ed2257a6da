/* xl-loader.h — training and evaluation batches, made in background threads.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A loader owns a bounded queue of preallocated batches (NCHW float, normalized)
 * that its threads fill while the model trains on the previous one. Shuffling
 * and augmentation are deterministic for (seed, epoch), whatever the threads'
 * timing: each image's random draws come from a generator seeded by
 * (seed, epoch, position in the epoch).
 *
 * The transforms are torchvision's, applied to the film the cache holds (gray,
 * short side S, as Resize(S) gives), in this order:
 *   train: RandomRotation(degrees, BILINEAR, fill 0)
 *          -> RandomCrop(C) or RandomResizedCrop(C, scale, ratio (3/4, 4/3))
 *          -> ColorJitter(brightness, contrast) -> RandomHorizontalFlip (if on)
 *   eval:  CenterCrop(C)
 *   then   ToTensor -> Normalize(mean, std), the gray value repeated in the 3
 *          channels (ImageFolder converts a gray film to RGB).
 * The random numbers are not torch's, so single images differ from a PyTorch
 * run; the distributions and the arithmetic (PIL's uint8 rounding included)
 * are the same.
 */
#pragma once

#include "xl-image-cache.h"

G_BEGIN_DECLS

typedef struct
{
  guint    resize;               /* S: the short side images are cached at (256) */
  guint    crop;                 /* C: the network's input size (224) */
  gboolean train;                /* random augmentation; FALSE: resize + center crop */
  gboolean random_resized_crop;  /* TRUE: RandomResizedCrop(C, scale, ratio);
                                    FALSE: RandomCrop(C) of the S image */
  double   scale_min, scale_max; /* RandomResizedCrop scale (0.08, 1.0) */
  double   rotation_degrees;     /* random rotation within +-degrees; 0 = off */
  double   brightness;           /* ColorJitter brightness factor range +-; 0 = off */
  double   contrast;             /* ColorJitter contrast; 0 = off */
  gboolean hflip;                /* off by default: see XL_TRANSFORM_HFLIP_WARNING */
  float    mean[3], std[3];      /* ImageNet: 0.485 0.456 0.406 / 0.229 0.224 0.225 */
} XlTransformConfig;

/* Why horizontal flips are off by default, in words the UI can show. */
#define XL_TRANSFORM_HFLIP_WARNING                                                                 \
  "A flipped chest film puts the heart on the wrong side: films are taken with "                   \
  "the heart on the patient's left (the image's right), and a mirrored film "                      \
  "looks like dextrocardia. Flips teach the network that the side does not "                       \
  "matter; leave them off unless you know your films need it."

/* Defaults: S 256, C 224, ImageNet normalization, no flip. With train, the
 * only augmentation is RandomCrop(C) of the S image (rotation, jitter and
 * RandomResizedCrop off; its scale preset to torchvision's (0.08, 1.0)). */
void xl_transform_config_init (XlTransformConfig *cfg, gboolean train);

typedef struct
{
  guint  n;       /* images in this batch (the last may be short) */
  float *images;  /* (n, 3, C, C): the gray film repeated, normalized */
  int   *labels;  /* (n) class indices */
  guint *indices; /* (n) dataset indices */
} XlBatch;

typedef struct _XlLoader XlLoader;

/* Batches over the dataset images listed in indices (copied). With shuffle the
 * order is a permutation drawn from (seed, epoch). With balanced, each epoch
 * draws n images with replacement so every class is equally likely.
 * n_threads 0 makes each batch in xl_loader_next's caller, with the same
 * result. queue_depth (at least 1, 2-3 is plenty) batches are allocated here
 * once. The cache (and its data set) must outlive the loader. */
XlLoader *xl_loader_new (XlImageCache            *cache,
                         const guint             *indices,
                         guint                    n,
                         const XlTransformConfig *transform,
                         guint                    batch_size,
                         gboolean                 shuffle,
                         gboolean                 balanced,
                         guint64                  seed,
                         guint                    n_threads,
                         guint                    queue_depth);
/* Joins the threads, also in the middle of an epoch. */
void xl_loader_free (XlLoader *loader);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (XlLoader, xl_loader_free)

/* Batches in a full epoch, ceil(n / batch_size). An epoch in which images fail
 * to decode has fewer images, so it may end earlier. */
guint xl_loader_n_batches (const XlLoader *loader);

/* Starts producing the batches of epoch (from 0) in the background, stopping
 * the current epoch first if one runs. */
void xl_loader_start_epoch (XlLoader *loader, guint epoch);
/* The next batch of the epoch, blocking until it is ready; NULL at the end of
 * the epoch, after xl_loader_stop, or on error. Batches come in order (0, 1, ...)
 * whatever thread made them. Images that fail to decode are skipped (the batch
 * takes the next images, so only the last batch is short) and listed (see
 * xl_loader_n_failed); error is set only when no image of the epoch could be
 * used at all. Release a batch before asking for queue_depth more. */
const XlBatch *xl_loader_next (XlLoader *loader, GError **error);
/* Gives the batch back to the queue. */
void xl_loader_release (XlLoader *loader, const XlBatch *batch);
/* Stops the current epoch early (the threads finish their batch and wait);
 * batches not handed out yet are dropped. Safe from any thread. */
void xl_loader_stop (XlLoader *loader);

/* One image through the transform, for previews and prediction: out (3, C, C).
 * An image whose short side is not cfg->resize is resized first (Resize(S)).
 * Image `position` of epoch `epoch` of a loader gets the seed
 * xl_loader_draw_seed (seed, epoch, position), so this reproduces it. */
void
xl_transform_apply (const XlTransformConfig *cfg, const XlImage *img, guint64 seed, float *out);

/* --- Added with the implementation --------------------------------------- */

/* The random draws of one image, for tests and for previews that want to
 * show the crop box on the film. */
typedef struct
{
  int top, left;                 /* the crop box in the S image; negative where the
                                    image is smaller than C (zero padding) */
  guint    height, width;        /* C x C for RandomCrop and CenterCrop */
  double   angle;                /* degrees, counter-clockwise about the center */
  double   brightness, contrast; /* factors, 1 = unchanged */
  gboolean contrast_first;       /* ColorJitter's random order of the two */
  gboolean flip;
} XlTransformDraw;

/* The draws xl_transform_apply makes for an S image of width x height. */
void xl_transform_draw (
    const XlTransformConfig *cfg, guint width, guint height, guint64 seed, XlTransformDraw *draw);

/* The seed of the image at `position` (0-based, in the epoch's order) of `epoch`. */
guint64 xl_loader_draw_seed (guint64 seed, guint epoch, guint position);

/* Images skipped because they could not be read or decoded, each listed once,
 * in the order they were first met, across all epochs so far. */
guint xl_loader_n_failed (XlLoader *loader);
/* The message of failure i ("x.jpeg: truncated JPEG"), newly allocated, and
 * the dataset index of its image. */
char *xl_loader_dup_failure (XlLoader *loader, guint i, guint *dataset_index);
/* Draws skipped in the current (or last) epoch. */
guint xl_loader_epoch_skipped (XlLoader *loader);

G_END_DECLS
