/* cli-predict.c — `xraylab-cli predict` and `xraylab-cli cam`: a model's
 * probabilities for films, and class-activation heatmaps over them.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Films are read and decoded in background threads (DCT-scaled straight to the
 * model's resize short side, then the eval transform) into a small ring of
 * batches while the network, BatchNorm folded, runs the previous batch. The
 * maps come from the same forward (CAM) or one evaluation-mode backward after
 * it (Grad-CAM).
 *
 * With heatmaps, each file is read once: the decoder keeps the film at the
 * picture's size (--max-side) from the same read, cut from the network's own
 * decode when that is at least as large (PNGs, JPEGs whose short side is
 * under 8/7 of the resize side, or a small --max-side), else decoded a second
 * time from the bytes in memory at the picture's DCT scale: a 2 MP film the
 * network sees DCT-scaled to 1/4 would make a blurred picture. The network's
 * input stays exactly training's (the image cache's decode, DCT-scaled to the
 * resize side); the picture never feeds it. With
 * each film on its own scale (the default) a PNG is drawn as soon as its
 * batch has run and the picture freed, the network waiting when the writers
 * fall behind: a run holds at most RING_DEPTH + WRITE_LAG batches of pictures
 * however many films it has. A shared scale is known only after the last
 * film, so pictures are kept up to PICTURE_BUDGET bytes and the films beyond
 * it are read and decoded again when drawn.
 */
#include "config.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli-commands.h"
#include "xl-cam.h"
#include "xl-dataset.h"
#include "xl-heatmap.h"
#include "xl-image.h"

#define RING_DEPTH 3
/* Batches whose heatmaps may still be drawing while the network runs the next. */
#define WRITE_LAG 2
/* Pictures kept for a shared scale, drawn only after the last film. */
#define PICTURE_BUDGET ((gsize) 256 << 20)
/* Heatmap PNGs of films smaller than this are enlarged to it: the colour bar
 * and the notice need room to be read. */
#define MIN_LONG_SIDE 512

typedef struct {
  char   *path;
  char   *error;             /* why the film could not be used, or NULL */
  guint   width, height;     /* from the header */
  guint   channels;
  gboolean cmyk;
  double  coverage;          /* share of the film inside the center crop */
  guint   predicted;
  guint   map_class;
  float   map_max;           /* largest value of the map after ReLU */
  double  peak_x, peak_y;    /* where the map peaks, in film pixels */
  char   *cam_path;
  XlImage *picture;          /* the film at the heatmap's size, until drawn */
} Film;

typedef struct _CamWriter CamWriter;

typedef struct {
  /* what every thread reads */
  XlPredictor *predictor;
  Film        *films;
  guint        n_films;
  guint        batch;
  guint        resize;
  gsize        input_floats;
  gboolean     pictures;     /* keep each film at the heatmap's size */
  guint        max_side;
  CamWriter   *writer;       /* draws heatmaps as batches finish, or NULL */

  /* the ring: slot s holds batch number slot_batch[s]; its images are ready
   * when slot_filled[s] reaches the batch's size */
  GMutex       mutex;
  GCond        cond;
  float       *slot_input[RING_DEPTH];
  guint        slot_batch[RING_DEPTH];
  guint        slot_filled[RING_DEPTH];
  gboolean     stop;
  gint         next_film;    /* atomic: the next film a decoder takes */
  gsize        picture_bytes;  /* pictures kept for a shared scale */

  /* each batch's films, finished by the network's thread */
  float       *maps;           /* (n, HW) or NULL; after ReLU once finished */
  guint        map_w, map_h;
  float       *shared_max;     /* (classes): the peak over the films whose map is
                                  for that class: one scale per class, since maps
                                  of different classes do not compare */
  guint       *n_shared;       /* (classes): films that share it */
  const char  *cam_dir;        /* heatmap PNGs go here, or NULL */
  GHashTable  *cam_names;      /* PNG names given so far */
} Pipeline;

static void cam_writer_push (CamWriter *w, guint film_index);
static void cam_writer_wait (CamWriter *w, guint n_written);

static guint
batch_size_of (const Pipeline *p, guint batch_index)
{
  return MIN (p->batch, p->n_films - batch_index * p->batch);
}

/* The scale of the heatmap picture of a width x height film: --max-side
 * bounds the long side, and small films are enlarged so the text is legible. */
static double
picture_scale (guint width, guint height, guint max_side, guint *out_width, guint *out_height)
{
  double scale = 1.0;

  if (max_side > 0 && MAX (width, height) > max_side)
    scale = (double) max_side / MAX (width, height);
  else if (MAX (width, height) < MIN_LONG_SIDE)
    scale = (double) MIN_LONG_SIDE / MAX (width, height);
  *out_width = MAX ((guint) lround (width * scale), 1);
  *out_height = MAX ((guint) lround (height * scale), 1);
  return scale;
}

/* The film at the picture's size: from `decoded` (any decode of the file)
 * when it is at least as large as the picture's own decode would be, else
 * decoded again from data. NULL with error set on failure. */
static XlImage *
picture_from (XlImage *decoded, const guint8 *data, gsize len, const XlImageInfo *info,
              guint max_side, const char *name, GError **error)
{
  g_autoptr (XlImage) own = NULL;
  XlImage *picture;
  guint out_w, out_h, need_w = info->width, need_h = info->height;

  picture_scale (info->width, info->height, max_side, &out_w, &out_h);
  if (info->format == XL_IMAGE_FORMAT_JPEG)
    xl_image_jpeg_scaled_size (info->width, info->height, MIN (out_w, out_h), &need_w, &need_h);
  if (decoded == NULL || decoded->width < need_w || decoded->height < need_h)
    {
      own = xl_image_decode (data, len, MIN (out_w, out_h), name, error);
      if (own == NULL)
        return NULL;
      decoded = own;
    }
  if (decoded->width == out_w && decoded->height == out_h)
    return own != NULL ? g_steal_pointer (&own) : xl_image_copy (decoded);
  picture = xl_image_resize (decoded, out_w, out_h);
  if (picture == NULL)
    g_set_error (error, XL_DATASET_ERROR, XL_DATASET_ERROR_TOO_LARGE,
                 "%s%sout of memory for a %ux%u picture", name != NULL ? name : "",
                 name != NULL ? ": " : "", out_w, out_h);
  return picture;
}

static void
film_failed (Pipeline *p, Film *film, float *out, const char *message)
{
  film->error = g_strdup (message);
  memset (out, 0, p->input_floats * sizeof (float));
}

static void
decode_film (Pipeline *p, guint index, float *out)
{
  Film *film = &p->films[index];
  g_autoptr (GError) error = NULL;
  g_autoptr (XlImage) decoded = NULL, network_input = NULL;
  g_autofree char *data = NULL;
  const guint8 *bytes;
  XlImageInfo info = { 0 };
  gsize len = 0;

  if (!g_file_get_contents (film->path, &data, &len, &error))
    {
      film_failed (p, film, out, error->message);
      return;
    }
  bytes = len > 0 ? (const guint8 *) data : (const guint8 *) "";

  /* The network's input as the image cache feeds training; the decode
   * before its resize is kept for the picture. No name: the path is printed
   * beside the bare cause. */
  network_input = xl_image_decode_short_side_keep (bytes, len, p->resize, NULL, &info, &decoded,
                                                   &error);
  if (network_input == NULL)
    {
      film_failed (p, film, out, error->message);
      return;
    }
  film->width = info.width;
  film->height = info.height;
  film->channels = info.channels;
  film->cmyk = info.cmyk;
  xl_predictor_transform (p->predictor, network_input, out);

  if (p->pictures)
    {
      guint out_w, out_h;
      gsize bytes_needed;
      gboolean keep = TRUE;

      picture_scale (info.width, info.height, p->max_side, &out_w, &out_h);
      bytes_needed = (gsize) out_w * out_h;
      if (p->writer == NULL)
        {
          g_mutex_lock (&p->mutex);
          keep = p->picture_bytes + bytes_needed <= PICTURE_BUDGET;
          if (keep)
            p->picture_bytes += bytes_needed;
          g_mutex_unlock (&p->mutex);
        }
      /* a picture that fails here is tried again, with its error, when drawn */
      if (keep)
        film->picture = picture_from (decoded != NULL ? decoded : network_input, bytes, len,
                                      &info, p->max_side, NULL, NULL);
    }
}

static gpointer
decoder_thread (gpointer user_data)
{
  Pipeline *p = user_data;

  for (;;)
    {
      guint index = (guint) g_atomic_int_add (&p->next_film, 1);
      guint batch_index, slot;

      if (index >= p->n_films)
        return NULL;
      batch_index = index / p->batch;
      slot = batch_index % RING_DEPTH;

      g_mutex_lock (&p->mutex);
      while (p->slot_batch[slot] != batch_index && !p->stop)
        g_cond_wait (&p->cond, &p->mutex);
      g_mutex_unlock (&p->mutex);
      if (p->stop)
        return NULL;

      decode_film (p, index, p->slot_input[slot] + (gsize) (index % p->batch) * p->input_floats);

      g_mutex_lock (&p->mutex);
      p->slot_filled[slot]++;
      g_cond_broadcast (&p->cond);
      g_mutex_unlock (&p->mutex);
    }
}

/* OUTDIR/<name>-cam.png, unique among the films of this run */
static void
assign_cam_path (Pipeline *p, Film *film)
{
  g_autofree char *base = g_path_get_basename (film->path);
  char *dot = strrchr (base, '.');
  g_autofree char *name = NULL;

  if (dot != NULL && dot != base)
    *dot = '\0';
  name = g_strdup_printf ("%s-cam.png", base);
  for (guint k = 2; g_hash_table_contains (p->cam_names, name); k++)
    {
      g_free (name);
      name = g_strdup_printf ("%s-%u-cam.png", base, k);
    }
  g_hash_table_add (p->cam_names, g_strdup (name));
  film->cam_path = g_build_filename (p->cam_dir, name, NULL);
}

/* What the network's thread does with a film once its batch has run: its
 * crop coverage, its map's ReLU, peak and scale, and its heatmap's name; with
 * a writer, the heatmap is drawn now. Returns the films handed to the writer. */
static guint
finish_batch (Pipeline *p, guint first, guint n)
{
  const XlModelInfo *info = xl_predictor_info (p->predictor);
  gsize hw = (gsize) p->map_w * p->map_h;
  guint pushed = 0;

  for (guint i = first; i < first + n; i++)
    {
      Film *film = &p->films[i];
      XlCamGeometry geom;

      if (film->error != NULL)
        continue;
      xl_cam_geometry_init (&geom, film->width, film->height, info->resize, info->input_size);
      film->coverage = xl_cam_geometry_coverage (&geom);
      if (p->maps == NULL)
        continue;
      /* the evidence for the class, as both papers show it */
      xl_cam_relu (p->maps + i * hw, hw);
      film->map_max = xl_cam_max (p->maps + i * hw, hw);
      xl_cam_peak (p->maps + i * hw, p->map_w, p->map_h, &geom, &film->peak_x, &film->peak_y);
      p->shared_max[film->map_class] = MAX (p->shared_max[film->map_class], film->map_max);
      p->n_shared[film->map_class]++;
      if (p->cam_dir == NULL)
        continue;
      assign_cam_path (p, film);
      if (p->writer != NULL)
        {
          cam_writer_push (p->writer, i);
          pushed++;
        }
    }
  return pushed;
}

/* Runs every film through the network: probs (n, classes), maps (n, HW) or NULL. */
static gboolean
run_pipeline (Pipeline *p, guint decode_threads, const int *map_class, float *probs,
              float *maps, GError **error)
{
  const XlModelInfo *info = xl_predictor_info (p->predictor);
  guint n_batches = (p->n_films + p->batch - 1) / p->batch, map_w, map_h;
  g_autofree GThread **threads = g_new0 (GThread *, decode_threads);
  g_autofree guint *classes = g_new0 (guint, p->batch);
  g_autofree int *asked = g_new0 (int, p->batch);
  /* heatmaps handed to the writer by the end of each batch */
  g_autofree guint *pushed = g_new0 (guint, n_batches + 1);
  gboolean ok = TRUE;

  xl_predictor_map_size (p->predictor, &map_w, &map_h);
  g_mutex_init (&p->mutex);
  g_cond_init (&p->cond);
  for (guint s = 0; s < RING_DEPTH; s++)
    {
      p->slot_input[s] = g_new (float, (gsize) p->batch * p->input_floats);
      p->slot_batch[s] = s;
      p->slot_filled[s] = 0;
    }
  for (guint t = 0; t < decode_threads; t++)
    threads[t] = g_thread_new ("xl-decode", decoder_thread, p);

  for (guint b = 0; b < n_batches && ok; b++)
    {
      guint slot = b % RING_DEPTH, n = batch_size_of (p, b), first = b * p->batch;

      g_mutex_lock (&p->mutex);
      while (p->slot_filled[slot] < n)
        g_cond_wait (&p->cond, &p->mutex);
      g_mutex_unlock (&p->mutex);
      /* pictures waiting to be drawn hold memory: let the writers catch up */
      if (p->writer != NULL && b > WRITE_LAG)
        cam_writer_wait (p->writer, pushed[b - WRITE_LAG - 1]);

      for (guint i = 0; i < n; i++)
        asked[i] = map_class != NULL ? map_class[first + i] : -1;
      ok = xl_predictor_run (p->predictor, p->slot_input[slot], n, asked,
                             probs + (gsize) first * info->n_classes,
                             maps != NULL ? maps + (gsize) first * map_w * map_h : NULL, classes,
                             error);
      for (guint i = 0; i < n && ok; i++)
        {
          Film *film = &p->films[first + i];
          film->predicted = xl_predicted_class (info, probs + (gsize) (first + i) * info->n_classes,
                                                info->threshold);
          film->map_class = classes[i];
        }
      if (ok)
        pushed[b] = (b > 0 ? pushed[b - 1] : 0) + finish_batch (p, first, n);

      g_mutex_lock (&p->mutex);
      p->slot_batch[slot] = b + RING_DEPTH;
      p->slot_filled[slot] = 0;
      g_cond_broadcast (&p->cond);
      g_mutex_unlock (&p->mutex);
    }

  g_mutex_lock (&p->mutex);
  p->stop = TRUE;
  g_cond_broadcast (&p->cond);
  g_mutex_unlock (&p->mutex);
  for (guint t = 0; t < decode_threads; t++)
    g_thread_join (threads[t]);
  for (guint s = 0; s < RING_DEPTH; s++)
    g_free (p->slot_input[s]);
  g_mutex_clear (&p->mutex);
  g_cond_clear (&p->cond);
  return ok;
}

/* ---- inputs ------------------------------------------------------------------ */

static gboolean
has_image_extension (const char *name)
{
  const char *dot = strrchr (name, '.');

  return dot != NULL && (g_ascii_strcasecmp (dot, ".jpeg") == 0
                         || g_ascii_strcasecmp (dot, ".jpg") == 0
                         || g_ascii_strcasecmp (dot, ".png") == 0);
}

static int
compare_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

/* Every .jpeg/.jpg/.png under dir, sorted, into paths; FALSE if dir cannot be read. */
static gboolean
list_folder (const char *dir, GPtrArray *paths, guint depth, GError **error)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, error);
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  if (d == NULL)
    return FALSE;
  while ((name = g_dir_read_name (d)) != NULL)
    if (name[0] != '.')
      g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, compare_strings);
  for (guint i = 0; i < names->len; i++)
    {
      g_autofree char *child = g_build_filename (dir, names->pdata[i], NULL);
      if (g_file_test (child, G_FILE_TEST_IS_DIR))
        {
          /* symlink loops end here */
          if (depth < 16 && !list_folder (child, paths, depth + 1, error))
            return FALSE;
        }
      else if (has_image_extension (names->pdata[i]))
        g_ptr_array_add (paths, g_steal_pointer (&child));
    }
  return TRUE;
}

/* ---- heatmaps ------------------------------------------------------------------- */

struct _CamWriter {
  XlPredictor  *predictor;
  Film         *films;
  const float  *maps;            /* (n, HW), after ReLU */
  const float  *probs;
  gboolean      shared_scale;
  const float  *shared_max;      /* final once the films are handed over */
  const guint  *n_shared;
  XlColormap    colormap;
  double        alpha;
  guint         max_side;
  gboolean      color_bar;
  gboolean      contrastive;     /* maps of z_c minus the mean logit */
  /* Under mutex: film index + 1, or STOP_WRITING, which ends a writer. Not a
   * GAsyncQueue: its lock is taken inside GLib, where ThreadSanitizer's
   * GMutex wrappers (tests/robust/tsan-glib.c) cannot see it. */
  GQueue        pending;
  GCond         ready;           /* pending is not empty */
  GMutex        mutex;
  GCond         cond;
  guint         n_written;       /* heatmaps done, drawn or failed */
  GPtrArray    *errors;          /* messages of films whose picture failed */
};

#define STOP_WRITING GUINT_TO_POINTER (G_MAXUINT)

static gboolean
write_heatmap (CamWriter *w, Film *film, const float *map, GError **error)
{
  const XlModelInfo *info = xl_predictor_info (w->predictor);
  g_autofree char *name = g_path_get_basename (film->path);
  g_autofree char *caption = NULL, *bar_label = NULL, *scale_text = NULL;
  g_autofree float *heat = NULL, *scaled = NULL;
  g_autoptr (XlImage) shown = g_steal_pointer (&film->picture);
  const float *probs = w->probs + (gsize) (film - w->films) * info->n_classes;
  guint map_w, map_h, out_w, out_h;
  double scale, cx, cy, cw, ch;
  XlCamGeometry geom;
  XlHeatmap hm;
  float top;

  xl_predictor_map_size (w->predictor, &map_w, &map_h);
  scale = picture_scale (film->width, film->height, w->max_side, &out_w, &out_h);
  if (shown == NULL)
    {
      /* not kept from the network's read (a shared scale over the budget) */
      g_autofree char *data = NULL;
      XlImageInfo hdr;
      gsize len;

      if (!g_file_get_contents (film->path, &data, &len, error))
        return FALSE;
      if (!xl_image_read_info ((const guint8 *) data, len, name, &hdr, error))
        return FALSE;
      if (hdr.width != film->width || hdr.height != film->height)
        {
          g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_FAILED,
                       "%s: the file changed while it was being predicted", name);
          return FALSE;
        }
      shown = picture_from (NULL, (const guint8 *) data, len, &hdr, w->max_side, name, error);
      if (shown == NULL)
        return FALSE;
    }
  g_assert (shown->width == out_w && shown->height == out_h);

  /* the map on its scale: this film's peak, or the one shared by all */
  top = w->shared_scale ? w->shared_max[film->map_class] : film->map_max;
  scaled = g_new (float, (gsize) map_w * map_h);
  for (guint i = 0; i < map_w * map_h; i++)
    scaled[i] = top > 0 ? map[i] / top : 0.0f;
  xl_cam_geometry_init (&geom, film->width, film->height, info->resize, info->input_size);
  heat = g_new (float, (gsize) out_w * out_h);
  xl_cam_project (heat, out_w, out_h, scaled, map_w, map_h, &geom);
  xl_cam_geometry_crop_box (&geom, &cx, &cy, &cw, &ch);

  /* say which scale is shown: heat compares between films only on a shared one */
  if (w->shared_scale)
    scale_text = g_strdup_printf ("shared scale, 1 = peak of the %u %s maps",
                                  w->n_shared[film->map_class], info->classes[film->map_class]);
  bar_label = g_strdup_printf ("%s for %s%s, layer%d: %s",
                               xl_cam_method_name (xl_predictor_method (w->predictor)),
                               info->classes[film->map_class],
                               w->contrastive ? " vs. the mean class" : "",
                               xl_predictor_stage (w->predictor),
                               scale_text != NULL ? scale_text : "this film's scale, 1 = its peak");
  if (info->n_classes == 2)
    caption = g_strdup_printf ("%s  ·  P(%s) %.3f  ·  %s at threshold %.2f%s", name,
                               info->classes[info->positive_class],
                               probs[info->positive_class], info->classes[film->predicted],
                               info->threshold,
                               film->map_max > 0 ? "" : "  ·  no positive evidence: map empty");
  else
    caption = g_strdup_printf ("%s  ·  %s, P %.3f%s", name, info->classes[film->predicted],
                               probs[film->predicted],
                               film->map_max > 0 ? "" : "  ·  no positive evidence: map empty");

  xl_heatmap_init (&hm);
  hm.film = shown->pixels;
  hm.film_width = shown->width;
  hm.film_height = shown->height;
  hm.heat = heat;
  hm.heat_width = out_w;
  hm.heat_height = out_h;
  hm.colormap = w->colormap;
  hm.opacity = w->alpha;
  hm.color_bar = w->color_bar;
  hm.color_bar_label = bar_label;
  hm.crop_x = cx * scale;
  hm.crop_y = cy * scale;
  hm.crop_width = cw * scale;
  hm.crop_height = ch * scale;
  hm.caption = caption;
  return xl_heatmap_export (&hm, film->cam_path, 0, error);
}

static gpointer
cam_writer_thread (gpointer user_data)
{
  CamWriter *w = user_data;
  guint map_w, map_h;

  xl_predictor_map_size (w->predictor, &map_w, &map_h);
  for (;;)
    {
      g_autoptr (GError) error = NULL;
      gpointer item;
      guint i;

      g_mutex_lock (&w->mutex);
      while (g_queue_is_empty (&w->pending))
        g_cond_wait (&w->ready, &w->mutex);
      item = g_queue_pop_head (&w->pending);
      g_mutex_unlock (&w->mutex);

      if (item == STOP_WRITING)
        return NULL;
      i = GPOINTER_TO_UINT (item) - 1;
      if (!write_heatmap (w, &w->films[i], w->maps + (gsize) i * map_w * map_h, &error))
        {
          g_mutex_lock (&w->mutex);
          g_ptr_array_add (w->errors, g_strdup_printf ("%s: %s", w->films[i].path,
                                                       error->message));
          g_clear_pointer (&w->films[i].cam_path, g_free);
          g_mutex_unlock (&w->mutex);
        }
      g_clear_pointer (&w->films[i].picture, xl_image_free);
      g_mutex_lock (&w->mutex);
      w->n_written++;
      g_cond_broadcast (&w->cond);
      g_mutex_unlock (&w->mutex);
    }
}

static void
cam_writer_push_item (CamWriter *w, gpointer item)
{
  g_mutex_lock (&w->mutex);
  g_queue_push_tail (&w->pending, item);
  g_cond_signal (&w->ready);
  g_mutex_unlock (&w->mutex);
}

static void
cam_writer_push (CamWriter *w, guint film_index)
{
  cam_writer_push_item (w, GUINT_TO_POINTER (film_index + 1));
}

/* Until n_written heatmaps are done. */
static void
cam_writer_wait (CamWriter *w, guint n_written)
{
  g_mutex_lock (&w->mutex);
  while (w->n_written < n_written)
    g_cond_wait (&w->cond, &w->mutex);
  g_mutex_unlock (&w->mutex);
}

/* ---- output ------------------------------------------------------------------------ */

static void
film_notes (const Film *film, const XlModelInfo *info, GPtrArray *notes)
{
  if (film->channels == 3 || film->channels == 4)
    g_ptr_array_add (notes, g_strdup_printf ("%s film: converted to gray as PIL's convert(\"L\"), "
                                             "as in training",
                                             film->cmyk ? "CMYK" : film->channels == 4 ? "RGBA"
                                                                                       : "RGB"));
  if (MIN (film->width, film->height) < info->resize)
    g_ptr_array_add (notes, g_strdup_printf ("%ux%u is smaller than the %u px short side the "
                                             "model resizes to: upsampled",
                                             film->width, film->height, info->resize));
  /* Every film loses a border to the crop (23% of a square one at 224 of 256);
   * say so only when more than half of it went unseen. */
  if (film->coverage < 0.5)
    g_ptr_array_add (notes, g_strdup_printf ("the center crop shows only %.0f%% of this %ux%u "
                                             "film: its %s were not seen",
                                             100 * film->coverage, film->width, film->height,
                                             film->width > film->height ? "sides"
                                                                        : "top and bottom"));
}

static void
print_table (const Film *films, guint n, const float *probs, const XlModelInfo *info,
             const char *model_path, XlCamMethod method, gboolean shared_scale,
             const float *shared_max, const guint *n_shared)
{
  guint width = 4, n_failed = 0;
  g_autofree guint *counts = g_new0 (guint, info->n_classes);

  for (guint i = 0; i < n; i++)
    width = MAX (width, (guint) g_utf8_strlen (films[i].path, -1));
  width = MIN (width, 60);

  printf ("%-*s", (int) width, "FILM");
  for (guint c = 0; c < info->n_classes; c++)
    printf ("  %*s", (int) MAX (strlen (info->classes[c]), 6), info->classes[c]);
  printf ("  PREDICTED\n");
  for (guint i = 0; i < n; i++)
    {
      const Film *film = &films[i];
      glong len = g_utf8_strlen (film->path, -1);
      const char *shown = film->path;

      if (len > (glong) width)
        shown = g_utf8_offset_to_pointer (film->path, len - (glong) width + 1);
      printf ("%s%-*s", shown != film->path ? "…" : "",
              (int) (width - (shown != film->path ? 1 : 0)), shown);
      if (film->error != NULL)
        {
          printf ("  error: %s\n", film->error);
          n_failed++;
          continue;
        }
      for (guint c = 0; c < info->n_classes; c++)
        printf ("  %*.3f", (int) MAX (strlen (info->classes[c]), 6),
                probs[(gsize) i * info->n_classes + c]);
      printf ("  %s", info->classes[film->predicted]);
      if (film->cam_path != NULL)
        printf ("  → %s", film->cam_path);
      printf ("\n");
      counts[film->predicted]++;
      {
        g_autoptr (GPtrArray) notes = g_ptr_array_new_with_free_func (g_free);
        film_notes (film, info, notes);
        for (guint k = 0; k < notes->len; k++)
          printf ("%*s  note: %s\n", (int) width, "", (const char *) notes->pdata[k]);
      }
    }

  printf ("\n%u film%s", n - n_failed, n - n_failed == 1 ? "" : "s");
  for (guint c = 0; c < info->n_classes; c++)
    printf ("%s %u %s", c == 0 ? ":" : ",", counts[c], info->classes[c]);
  if (n_failed > 0)
    printf ("; %u could not be read", n_failed);
  printf (".\n");
  if (info->n_classes == 2)
    printf ("A film is %s when P(%s) >= %.3f, the threshold saved with %s.\n",
            info->classes[info->positive_class], info->classes[info->positive_class],
            info->threshold, model_path);
  else
    printf ("The predicted class is the most probable one.\n");
  if (method != XL_CAM_METHOD_NONE)
    {
      printf ("Heatmaps show where the network found evidence for the class (ReLU of the map), "
              "not a diagnosis.\n");
      /* as the JSON's cam.scale: heat compares between films only on a shared scale */
      if (shared_scale)
        {
          printf ("Heatmap scale: shared, 1 = the peak over the films whose map is for the "
                  "class (");
          for (guint c = 0, k = 0; c < info->n_classes; c++)
            if (n_shared[c] > 0)
              printf ("%s%s %.4g over %u", k++ > 0 ? ", " : "", info->classes[c],
                      shared_max[c], n_shared[c]);
          printf ("): heat compares between films.\n");
        }
      else
        printf ("Heatmap scale: per film, 1 = the film's own peak: heat does not compare "
                "between films (--shared-scale for that).\n");
    }
  printf ("%s\n", XL_CAM_NOTICE);
}

/* JSON by hand: json-glib prints every double with 17 digits (0.711 as
 * 0.71099999999999997), which no reader of this output wants. */
static void
json_string (GString *out, const char *text)
{
  g_autofree char *valid = g_utf8_validate (text, -1, NULL) ? NULL : g_utf8_make_valid (text, -1);

  if (valid != NULL)
    text = valid;
  g_string_append_c (out, '"');
  for (const guchar *c = (const guchar *) text; *c != '\0'; c++)
    {
      if (*c == '"' || *c == '\\')
        g_string_append_printf (out, "\\%c", *c);
      else if (*c == '\n')
        g_string_append (out, "\\n");
      else if (*c < 0x20)
        g_string_append_printf (out, "\\u%04x", *c);
      else
        g_string_append_c (out, (char) *c);
    }
  g_string_append_c (out, '"');
}

static void
json_number (GString *out, double v, const char *format)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  if (!isfinite (v))
    g_string_append (out, "null");
  else
    g_string_append (out, g_ascii_formatd (buf, sizeof buf, format, v));
}

static void
json_member (GString *out, guint indent, const char *name)
{
  g_string_append_printf (out, "%*s", (int) indent, "");
  json_string (out, name);
  g_string_append (out, ": ");
}

static void
print_json (const Film *films, guint n, const float *probs, const XlModelInfo *info,
            const char *model_path, XlPredictor *predictor, gboolean shared_scale,
            const float *shared_max, const char *colormap, gboolean contrastive)
{
  g_autoptr (GString) out = g_string_new ("{\n");
  XlCamMethod method = xl_predictor_method (predictor);

  json_member (out, 2, "notice");
  json_string (out, XL_CAM_NOTICE);
  g_string_append (out, ",\n");
  json_member (out, 2, "model");
  json_string (out, model_path);
  g_string_append (out, ",\n");
  json_member (out, 2, "classes");
  g_string_append (out, "[");
  for (guint c = 0; c < info->n_classes; c++)
    {
      if (c > 0)
        g_string_append (out, ", ");
      json_string (out, info->classes[c]);
    }
  g_string_append (out, "],\n");
  if (info->n_classes == 2)
    {
      json_member (out, 2, "positive_class");
      json_string (out, info->classes[info->positive_class]);
      g_string_append (out, ",\n");
      json_member (out, 2, "threshold");
      json_number (out, info->threshold, "%.6g");
      g_string_append (out, ",\n");
    }
  g_string_append_printf (out, "  \"input_size\": %u,\n  \"resize\": %u,\n",
                          info->input_size, info->resize);
  if (method != XL_CAM_METHOD_NONE)
    {
      g_string_append (out, "  \"cam\": {\n");
      json_member (out, 4, "method");
      json_string (out, xl_cam_method_name (method));
      g_string_append_printf (out, ",\n    \"layer\": \"layer%d\",\n",
                              xl_predictor_stage (predictor));
      json_member (out, 4, "target");
      json_string (out, contrastive ? "logit minus the mean logit" : "logit");
      g_string_append (out, ",\n");
      json_member (out, 4, "scale");
      json_string (out, shared_scale ? "shared" : "per-film");
      if (shared_scale)
        {
          g_string_append (out, ",\n");
          json_member (out, 4, "shared_max");
          g_string_append (out, "{");
          for (guint c = 0; c < info->n_classes; c++)
            {
              if (c > 0)
                g_string_append (out, ", ");
              json_string (out, info->classes[c]);
              g_string_append (out, ": ");
              json_number (out, shared_max[c], "%.6g");
            }
          g_string_append (out, "}");
        }
      g_string_append (out, ",\n");
      json_member (out, 4, "colormap");
      json_string (out, colormap);
      if (xl_predictor_method_note (predictor) != NULL)
        {
          g_string_append (out, ",\n");
          json_member (out, 4, "note");
          json_string (out, xl_predictor_method_note (predictor));
        }
      g_string_append (out, "\n  },\n");
    }
  g_string_append (out, "  \"films\": [");
  for (guint i = 0; i < n; i++)
    {
      const Film *film = &films[i];
      g_autoptr (GPtrArray) notes = g_ptr_array_new_with_free_func (g_free);

      g_string_append (out, i > 0 ? ",\n    {\n" : "\n    {\n");
      json_member (out, 6, "path");
      json_string (out, film->path);
      if (film->error != NULL)
        {
          g_string_append (out, ",\n");
          json_member (out, 6, "error");
          json_string (out, film->error);
          g_string_append (out, "\n    }");
          continue;
        }
      g_string_append_printf (out, ",\n      \"width\": %u,\n      \"height\": %u,\n"
                              "      \"channels\": %u,\n", film->width, film->height,
                              film->channels);
      json_member (out, 6, "crop_coverage");
      json_number (out, film->coverage, "%.3f");
      g_string_append (out, ",\n");
      json_member (out, 6, "probabilities");
      g_string_append (out, "{");
      for (guint c = 0; c < info->n_classes; c++)
        {
          if (c > 0)
            g_string_append (out, ", ");
          json_string (out, info->classes[c]);
          g_string_append (out, ": ");
          json_number (out, probs[(gsize) i * info->n_classes + c], "%.6g");
        }
      g_string_append (out, "},\n");
      json_member (out, 6, "predicted");
      json_string (out, info->classes[film->predicted]);
      if (method != XL_CAM_METHOD_NONE)
        {
          g_string_append (out, ",\n");
          json_member (out, 6, "cam_class");
          json_string (out, info->classes[film->map_class]);
          g_string_append (out, ",\n");
          json_member (out, 6, "cam_max");
          json_number (out, film->map_max, "%.6g");
          g_string_append (out, ",\n");
          json_member (out, 6, "cam_peak");
          g_string_append (out, "[");
          json_number (out, film->peak_x, "%.1f");
          g_string_append (out, ", ");
          json_number (out, film->peak_y, "%.1f");
          g_string_append (out, "]");
          if (film->cam_path != NULL)
            {
              g_string_append (out, ",\n");
              json_member (out, 6, "cam_png");
              json_string (out, film->cam_path);
            }
        }
      film_notes (film, info, notes);
      if (notes->len > 0)
        {
          g_string_append (out, ",\n");
          json_member (out, 6, "notes");
          g_string_append (out, "[");
          for (guint k = 0; k < notes->len; k++)
            {
              if (k > 0)
                g_string_append (out, ", ");
              json_string (out, notes->pdata[k]);
            }
          g_string_append (out, "]");
        }
      g_string_append (out, "\n    }");
    }
  g_string_append (out, n > 0 ? "\n  ]\n}\n" : "]\n}\n");
  fputs (out->str, stdout);
}

/* ---- the command ----------------------------------------------------------------- */

static int
usage_error (const char *command, const char *message)
{
  g_printerr ("xraylab-cli %s: %s\n", command, message);
  return XL_CLI_EXIT_USAGE;
}

static int
run (int argc, char **argv, gboolean cam_command)
{
  const char *command = cam_command ? "cam" : "predict";
  g_autofree char *model_path = NULL, *cam_dir = NULL, *layer_name = NULL;
  g_autofree char *colormap_name = NULL, *class_name = NULL, *method_name = NULL;
  g_autofree char *target_name = NULL;
  g_auto (GStrv) inputs = NULL;
  gboolean json = FALSE, shared_scale = FALSE, no_color_bar = FALSE;
  int batch = 16, threads = 2, decode_threads = 1, max_side = 2048;
  double alpha = 0.45;
  GOptionEntry entries[] = {
    { "model", 'm', 0, G_OPTION_ARG_FILENAME, &model_path, "Model file (model.safetensors of a run)", "FILE" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print JSON instead of a table", NULL },
    { cam_command ? "out" : "cam", cam_command ? 'o' : 0, 0, G_OPTION_ARG_FILENAME, &cam_dir, "Write a heatmap PNG per film into DIR", "DIR" },
    { "cam-layer", 0, 0, G_OPTION_ARG_STRING, &layer_name, "layer4 (default), layer3 or layer2: where the map is made (finer at earlier layers)", "LAYER" },
    { "method", 0, 0, G_OPTION_ARG_STRING, &method_name, "cam (default at layer4 with a linear head) or gradcam", "METHOD" },
    { "target", 0, 0, G_OPTION_ARG_STRING, &target_name, "The score the map explains: logit (the class's logit, as the papers; default) or contrast (minus the mean logit: what softmax sees)", "T" },
    { "colormap", 0, 0, G_OPTION_ARG_STRING, &colormap_name, "turbo (default), inferno or jet", "NAME" },
    { "alpha", 0, 0, G_OPTION_ARG_DOUBLE, &alpha, "Opacity of the heat over the film, 0..1 (0.45)", "A" },
    { "class", 0, 0, G_OPTION_ARG_STRING, &class_name, "The class the heatmap is for (default: each film's predicted class)", "NAME" },
    { "shared-scale", 0, 0, G_OPTION_ARG_NONE, &shared_scale, "One heat scale for all films, so heat compares between them (default: each film's own peak is 1)", NULL },
    { "max-side", 0, 0, G_OPTION_ARG_INT, &max_side, "Heatmap PNGs: the film's long side at most this (2048; 0: full size); smaller films are enlarged to 512", "PX" },
    { "no-color-bar", 0, 0, G_OPTION_ARG_NONE, &no_color_bar, "Heatmap PNGs without the colour bar", NULL },
    { "batch-size", 'b', 0, G_OPTION_ARG_INT, &batch, "Films per forward (16)", "N" },
    { "threads", 't', 0, G_OPTION_ARG_INT, &threads, "Threads for the network (2)", "N" },
    { "decode-threads", 0, 0, G_OPTION_ARG_INT, &decode_threads, "Threads reading and decoding films while the network runs (1)", "N" },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &inputs, NULL, "IMAGE|DIR…" },
    { NULL }
  };
  g_autoptr (GOptionContext) context = g_option_context_new (
      cam_command ? "IMAGE|DIR… - draw class-activation heatmaps over films"
                  : "IMAGE|DIR… - classify films with a trained model");
  g_autoptr (GError) error = NULL;
  g_autoptr (XlPredictor) predictor = NULL;
  g_autoptr (GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) input_errors = g_ptr_array_new_with_free_func (g_free);
  g_autofree Film *films = NULL;
  g_autofree float *probs = NULL, *maps = NULL;
  g_autofree int *map_class = NULL;
  XlPredictorConfig pcfg;
  XlColormap colormap = XL_COLORMAP_TURBO;
  const XlModelInfo *info;
  int stage = 4, forced_class = -1, status = XL_CLI_EXIT_OK;
  g_autofree float *shared_max = NULL;
  g_autofree guint *n_shared = NULL;
  guint n, n_failed = 0, map_w = 0, map_h = 0, n_writers = 0;
  gboolean pipeline_ok;
  Pipeline pipe;
  CamWriter writer = { 0 };
  g_autofree GThread **writers = NULL;

  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_set_summary (context, cam_command
    ? "Writes DIR/<film>-cam.png for every film: the film in gray, the heatmap of the class\n"
      "asked for (default: the predicted one) over it, and a colour bar saying which scale\n"
      "is shown. The same as `xraylab-cli predict --cam DIR`.\n\n"
      "Exit status: 0 done, 1 the model or a film could not be used, 2 usage error.\n\n"
      XL_CAM_NOTICE
    : "Prints P(each class) and the predicted class (at the model's own threshold) of every\n"
      "film (JPEG or PNG, any size, gray or colour) given or found in the folders given.\n"
      "With --cam DIR it also writes a heatmap PNG per film over the original film: CAM\n"
      "(fc weights x layer4) or Grad-CAM (layer2/3/4, any head, frozen backbones too).\n\n"
      "Exit status: 0 every film predicted, 1 the model or a film could not be used (the\n"
      "others are still printed), 2 usage error.\n\n" XL_CAM_NOTICE);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    return usage_error (command, error->message);
  if (model_path == NULL)
    return usage_error (command, "--model is required");
  if (inputs == NULL || inputs[0] == NULL)
    return usage_error (command, "give at least one image or folder");
  if (cam_command && cam_dir == NULL)
    return usage_error (command, "--out DIR is required");
  if (batch < 1 || batch > 1024 || threads < 1 || threads > 64 || decode_threads < 1
      || decode_threads > 64)
    return usage_error (command, "--batch-size 1..1024, --threads and --decode-threads 1..64");
  if (!(alpha >= 0 && alpha <= 1))
    return usage_error (command, "--alpha must be from 0 to 1");
  if (max_side < 0 || max_side > 16384)
    return usage_error (command, "--max-side must be from 0 to 16384");
  if (layer_name != NULL && !xl_cam_stage_from_name (layer_name, &stage))
    return usage_error (command, "--cam-layer must be layer4, layer3, layer2 or layer1");
  if (target_name != NULL && g_strcmp0 (target_name, "logit") != 0
      && g_strcmp0 (target_name, "contrast") != 0)
    return usage_error (command, "--target must be logit or contrast");
  if (colormap_name != NULL && !xl_colormap_from_name (colormap_name, &colormap))
    return usage_error (command, "--colormap must be turbo, inferno or jet");
  if (method_name != NULL && g_strcmp0 (method_name, "cam") != 0
      && g_strcmp0 (method_name, "gradcam") != 0 && g_strcmp0 (method_name, "grad-cam") != 0)
    return usage_error (command, "--method must be cam or gradcam");

  /* the films: files as given, folders searched for .jpeg/.jpg/.png */
  for (guint i = 0; inputs[i] != NULL; i++)
    {
      if (g_file_test (inputs[i], G_FILE_TEST_IS_DIR))
        {
          guint before = paths->len;
          g_autoptr (GError) dir_error = NULL;
          if (!list_folder (inputs[i], paths, 0, &dir_error))
            g_ptr_array_add (input_errors, g_strdup_printf ("%s: %s", inputs[i],
                                                            dir_error->message));
          else if (paths->len == before)
            g_ptr_array_add (input_errors,
                             g_strdup_printf ("%s: no .jpeg, .jpg or .png film in this folder",
                                              inputs[i]));
        }
      else
        g_ptr_array_add (paths, g_strdup (inputs[i]));
    }

  xl_predictor_config_init (&pcfg);
  pcfg.batch = (guint) MIN ((guint) batch, MAX (paths->len, 1));
  pcfg.threads = threads;
  pcfg.stage = stage;
  pcfg.contrastive = g_strcmp0 (target_name, "contrast") == 0;
  if (cam_dir != NULL)
    pcfg.method = method_name != NULL && g_strcmp0 (method_name, "cam") != 0
                    ? XL_CAM_METHOD_GRAD_CAM
                    : XL_CAM_METHOD_CAM;
  predictor = xl_predictor_new (model_path, &pcfg, &error);
  if (predictor == NULL)
    {
      g_printerr ("xraylab-cli %s: %s\n", command, error->message);
      return XL_CLI_EXIT_FAILURE;
    }
  info = xl_predictor_info (predictor);
  if (class_name != NULL)
    {
      for (guint c = 0; c < info->n_classes && forced_class < 0; c++)
        if (g_ascii_strcasecmp (info->classes[c], class_name) == 0)
          forced_class = (int) c;
      if (forced_class < 0)
        {
          g_autofree char *known = g_strjoinv (", ", info->classes);
          g_printerr ("xraylab-cli %s: --class %s: %s knows %u classes: %s\n", command,
                      class_name, model_path, info->n_classes, known);
          return XL_CLI_EXIT_USAGE;
        }
    }
  if (xl_predictor_method_note (predictor) != NULL && !json)
    g_printerr ("xraylab-cli %s: note: %s\n", command, xl_predictor_method_note (predictor));
  for (guint i = 0; i < input_errors->len; i++)
    g_printerr ("xraylab-cli %s: %s\n", command, (const char *) input_errors->pdata[i]);
  if (input_errors->len > 0)
    status = XL_CLI_EXIT_FAILURE;
  if (paths->len == 0)
    return XL_CLI_EXIT_FAILURE;

  n = paths->len;
  films = g_new0 (Film, n);
  for (guint i = 0; i < n; i++)
    films[i].path = paths->pdata[i];
  probs = g_new0 (float, (gsize) n * info->n_classes);
  shared_max = g_new0 (float, info->n_classes);
  n_shared = g_new0 (guint, info->n_classes);
  xl_predictor_map_size (predictor, &map_w, &map_h);
  if (cam_dir != NULL)
    {
      maps = g_new0 (float, (gsize) n * map_w * map_h);
      map_class = g_new (int, n);
      for (guint i = 0; i < n; i++)
        map_class[i] = forced_class;
    }

  if (cam_dir != NULL && g_mkdir_with_parents (cam_dir, 0755) != 0)
    {
      int saved = errno;
      g_printerr ("xraylab-cli %s: cannot create %s: %s\n", command, cam_dir,
                  g_strerror (saved));
      status = XL_CLI_EXIT_FAILURE;
      goto out;
    }

  memset (&pipe, 0, sizeof pipe);
  pipe.predictor = predictor;
  pipe.films = films;
  pipe.n_films = n;
  pipe.batch = xl_predictor_batch (predictor);
  pipe.resize = info->resize;
  pipe.input_floats = xl_predictor_input_floats (predictor);
  pipe.pictures = cam_dir != NULL;
  pipe.max_side = (guint) max_side;
  pipe.maps = maps;
  pipe.map_w = map_w;
  pipe.map_h = map_h;
  pipe.shared_max = shared_max;
  pipe.n_shared = n_shared;
  pipe.cam_dir = cam_dir;
  pipe.cam_names = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  if (cam_dir != NULL)
    {
      n_writers = (guint) MAX (MIN (threads + decode_threads - 1, (int) n), 1);
      writer.predictor = predictor;
      writer.films = films;
      writer.maps = maps;
      writer.probs = probs;
      writer.shared_scale = shared_scale;
      writer.shared_max = shared_max;
      writer.n_shared = n_shared;
      writer.colormap = colormap;
      writer.alpha = alpha;
      writer.max_side = (guint) max_side;
      writer.color_bar = !no_color_bar;
      writer.contrastive = pcfg.contrastive;
      g_queue_init (&writer.pending);
      g_cond_init (&writer.ready);
      writer.errors = g_ptr_array_new_with_free_func (g_free);
      g_mutex_init (&writer.mutex);
      g_cond_init (&writer.cond);
      writers = g_new0 (GThread *, n_writers);
      for (guint t = 0; t < n_writers; t++)
        writers[t] = g_thread_new ("xl-cam-png", cam_writer_thread, &writer);
      /* on its own scale, a film's heatmap is drawn as soon as its batch has run */
      if (!shared_scale)
        pipe.writer = &writer;
    }

  pipeline_ok = run_pipeline (&pipe, (guint) decode_threads, map_class, probs, maps, &error);
  if (!pipeline_ok)
    {
      g_printerr ("xraylab-cli %s: %s\n", command, error->message);
      status = XL_CLI_EXIT_FAILURE;
    }

  if (writers != NULL)
    {
      /* a shared scale is known now: every heatmap is drawn on it */
      if (shared_scale && pipeline_ok)
        for (guint i = 0; i < n; i++)
          if (films[i].cam_path != NULL)
            cam_writer_push (&writer, i);
      for (guint t = 0; t < n_writers; t++)
        cam_writer_push_item (&writer, STOP_WRITING);
      for (guint t = 0; t < n_writers; t++)
        g_thread_join (writers[t]);
      for (guint i = 0; i < writer.errors->len; i++)
        g_printerr ("xraylab-cli %s: heatmap not written: %s\n", command,
                    (const char *) writer.errors->pdata[i]);
      if (writer.errors->len > 0)
        status = XL_CLI_EXIT_FAILURE;
      g_ptr_array_unref (writer.errors);
      g_queue_clear (&writer.pending);
      g_cond_clear (&writer.ready);
      g_mutex_clear (&writer.mutex);
      g_cond_clear (&writer.cond);
    }
  g_hash_table_unref (pipe.cam_names);
  if (!pipeline_ok)
    goto out;

  for (guint i = 0; i < n; i++)
    n_failed += films[i].error != NULL;

  if (json)
    print_json (films, n, probs, info, model_path, predictor, shared_scale, shared_max,
                xl_colormap_name (colormap), pcfg.contrastive);
  else
    print_table (films, n, probs, info, model_path, xl_predictor_method (predictor),
                 shared_scale, shared_max, n_shared);
  if (n_failed > 0)
    {
      g_printerr ("xraylab-cli %s: %u of %u film%s could not be used\n", command, n_failed, n,
                  n == 1 ? "" : "s");
      status = XL_CLI_EXIT_FAILURE;
    }

out:
  for (guint i = 0; i < n; i++)
    {
      g_free (films[i].error);
      g_free (films[i].cam_path);
      g_clear_pointer (&films[i].picture, xl_image_free);
    }
  return status;
}

int
xl_cli_predict (int argc, char **argv)
{
  return run (argc, argv, FALSE);
}

int
xl_cli_cam (int argc, char **argv)
{
  return run (argc, argv, TRUE);
}
