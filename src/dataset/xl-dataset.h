/* xl-dataset.h — a labelled image folder: scanning, classes, splits, patients.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A data set is a folder (or a .zip of one) laid out as train/ val/ test/, each
 * with one subfolder per class, or a single folder of class subfolders. Classes
 * are the sorted subfolder names (torchvision's ImageFolder). Files that cannot
 * be used are skipped and listed with their reason, never fatal.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define XL_DATASET_ERROR (xl_dataset_error_quark ())
GQuark xl_dataset_error_quark (void);

typedef enum {
  XL_DATASET_ERROR_NOT_FOUND,     /* the folder or archive does not exist */
  XL_DATASET_ERROR_LAYOUT,        /* no class folders, or classes differ between splits */
  XL_DATASET_ERROR_EMPTY,         /* a split the caller needs has no usable image */
  XL_DATASET_ERROR_DECODE,        /* an image could not be decoded */
  XL_DATASET_ERROR_TOO_LARGE,     /* an image is over the size limit */
  XL_DATASET_ERROR_IO,
} XlDatasetError;

typedef enum {
  XL_SPLIT_TRAIN = 0,
  XL_SPLIT_VAL,
  XL_SPLIT_TEST,
  XL_N_SPLITS,
} XlSplit;

const char *xl_split_name (XlSplit split);   /* "train", "val", "test" */

/* Whether a file name ends in an extension we read: .jpeg, .jpg, .png (any
 * case). */
gboolean xl_is_image_file_name (const char *name);

/* The split of an image that is in none: an original val image that a
 * re-split dropped (see xl_dataset_resplit). */
#define XL_SPLIT_NONE XL_N_SPLITS

typedef struct {
  char *path;          /* for display and for reading: a file path, or
                          "ARCHIVE.zip//member/path.jpeg" inside a zip */
  char *name;          /* file name, e.g. "person1017_bacteria_2948.jpeg" */
  char *patient;       /* patient id from the name (see xl_patient_id) */
  guint class_index;
  XlSplit split;       /* as scanned, or as re-split */
  guint width, height; /* from the file header; 0 when not known yet */
  /* Added with the implementation: */
  XlSplit scanned_split;   /* as scanned (a re-split always starts from it) */
  guint channels;          /* in the file: 1 gray, 3 color, 4 CMYK (XlImageInfo) */
  guint64 size;            /* bytes of the file (or archive member) */
} XlImageEntry;

typedef struct {
  char *path;
  char *reason;        /* "truncated JPEG", "not an image", "12000x9000 is over the limit" */
} XlSkippedFile;

typedef struct _XlDataset XlDataset;

/* Scans path (a folder or a .zip). Reads each image's header (size, channels)
 * but decodes nothing. Cancellable; progress may be NULL.
 *
 * progress is called in the scanning thread, at most every 1% or 50 ms, with
 * the path being read; a cancelled scan fails with G_IO_ERROR_CANCELLED. A
 * file without an end marker is decoded at 1/8 scale to tell a truncated file
 * (skipped) from one with a trailer (kept). Symlinks are followed, each folder
 * walked once. */
typedef void (*XlProgressFunc) (double fraction, const char *what, gpointer user_data);

XlDataset *xl_dataset_scan (const char *path, XlProgressFunc progress, gpointer user_data,
                            GCancellable *cancellable, GError **error);
XlDataset *xl_dataset_ref (XlDataset *ds);
void xl_dataset_unref (XlDataset *ds);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (XlDataset, xl_dataset_unref)

const char *xl_dataset_path (const XlDataset *ds);
guint xl_dataset_n_classes (const XlDataset *ds);
const char *xl_dataset_class_name (const XlDataset *ds, guint class_index);

/* All usable images, in a stable order (split, class, file name). */
guint xl_dataset_n_images (const XlDataset *ds);
const XlImageEntry *xl_dataset_image (const XlDataset *ds, guint index);
/* Indices of the images of one split (an array of guint owned by ds). */
const guint *xl_dataset_split_indices (const XlDataset *ds, XlSplit split, guint *n);
guint xl_dataset_count (const XlDataset *ds, XlSplit split, guint class_index);

guint xl_dataset_n_skipped (const XlDataset *ds);
const XlSkippedFile *xl_dataset_skipped (const XlDataset *ds, guint index);

/* "person1017_bacteria_2948.jpeg" -> "person1017"; "IM-0115-0001.jpeg" -> "IM-0115";
 * "NORMAL2-IM-0372-0001.jpeg" -> "NORMAL2-IM-0372"; otherwise the name without
 * its extension (its own group). Newly allocated. */
char *xl_patient_id (const char *file_name);

typedef struct {
  guint patients[2];   /* [0] kept in train, [1] moved to val */
  guint images[2];
} XlResplitReport;

/* Moves val_fraction of train into val, stratified by class and grouped by
 * patient (no patient on both sides), deterministically for seed. The
 * original val images are dropped from val (kept listed as ignored) unless
 * keep_original_val. Per class: report[class].
 *
 * Always starts from the scanned splits, so calling it again re-does the
 * split. Each patient goes with the class most of its train images have (the
 * lowest class index on a tie); per class, patients are shuffled (seed) and
 * moved while that brings the class's val count closer to
 * val_fraction * its train count. val_fraction must be in (0, 1);
 * report_per_class may be NULL. XL_DATASET_ERROR_EMPTY when train has no
 * image. Images keep their indices (the order stays the scanned one). Not
 * thread-safe: do it before making caches and loaders. */
gboolean xl_dataset_resplit (XlDataset *ds, double val_fraction, guint64 seed,
                             gboolean keep_original_val, XlResplitReport *report_per_class,
                             GError **error);

/* Reads the raw bytes of an image (from disk or the archive). Thread-safe.
 * Inside a zip, a read that goes forward in the archive continues with an open
 * reader (up to 4 are kept, for threads): reading in archive order, as
 * xl_image_cache_fill does, reads the archive once. A read backwards opens the
 * archive again and skips to the member by seeking past the others. */
GBytes *xl_dataset_read (const XlDataset *ds, guint index, GError **error);

/* --- Added with the implementation --------------------------------------- */

/* Where the splits (or the class folders) were found inside path, '/'
 * separated: "" for path itself, "chest_xray/chest_xray" in the Kaggle zip. */
const char *xl_dataset_root (const XlDataset *ds);
/* TRUE for a train/val/test layout, FALSE for a single folder of classes
 * (whose images are all in train). */
gboolean xl_dataset_has_splits (const XlDataset *ds);

/* TRUE if split has at least one usable image; otherwise an
 * XL_DATASET_ERROR_EMPTY that names the data set, the split and how many of
 * its files were skipped. For callers about to train or evaluate on it. */
gboolean xl_dataset_require_split (const XlDataset *ds, XlSplit split, GError **error);

/* Images in no split (split == XL_SPLIT_NONE) after a re-split that dropped
 * the original val images; an array owned by ds. */
const guint *xl_dataset_ignored_indices (const XlDataset *ds, guint *n);

/* The number of distinct patients among the images of split (all classes
 * when class_index is G_MAXUINT). */
guint xl_dataset_count_patients (const XlDataset *ds, XlSplit split, guint class_index);

G_END_DECLS
