/* xl-review-page.c
 *
 * Copyright 2026 The X-Ray Lab developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The worklist is a GListStore of XlReviewItem, filtered (a GtkCustomFilter
 * that reads the threshold) and sorted by P(positive) (a GtkCustomSorter)
 * under a GtkSingleSelection. The selected film's prediction and map come
 * from the CAM worker (xl-cam-job.c) and the last few are kept, so that going
 * back and forth through the list or between layers costs nothing twice.
 */

#include "config.h"

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

#include "xl-image.h"
#include "xl-review-page.h"

/* "Near the threshold": within this of it, either side. */
#define NEAR_THRESHOLD 0.1
/* Maps kept: the last few films and layers looked at. */
#define CACHE_SIZE 8
/* The thumbnail's box in logical pixels, decoded at twice that for HiDPI. */
#define THUMB_WIDTH 64
#define THUMB_HEIGHT 52

struct _XlReviewPage
{
  GtkWidget           parent_instance;

  XlRunFolder        *run;
  XlCamModel         *model;
  double              threshold;
  XlReviewFilter      filter;
  XlSplit             split;          /* the run's split the list shows */
  int                 stage;          /* 4: CAM; 3, 2: Grad-CAM */
  XlColormap          colormap;
  gboolean            heat_visible;
  double              opacity;

  GListStore         *store;          /* XlReviewItem */
  GtkCustomFilter    *custom_filter;
  GtkFilterListModel *filter_model;
  GtkCustomSorter    *sorter;
  GtkSortListModel   *sort_model;
  GtkSingleSelection *selection;
  GPtrArray          *pending_files;  /* GFile, opened before there was a model */

  GCancellable       *cancellable;    /* every job of this run or model */
  GCancellable       *shown_cancellable; /* the selected film's map */
  guint               n_jobs;         /* jobs in flight */
  guint               generation;     /* of the run or model: older jobs are ignored */
  GHashTable         *in_flight;      /* "stage:path" -> JobData, the latest job for it */
  XlReviewItem       *shown_item;
  XlCamResult        *result;         /* of shown_item, at stage */
  char               *shown_film_path;
  GQueue              cache;          /* XlCamResult, most recent first */
  char               *error;          /* the shown film's, or NULL */

  /* Template widgets */
  GtkStack           *stack;
  GtkLabel           *empty_message;
  GtkDropDown        *filter_dropdown;
  GtkLabel           *count_label;
  GtkStack           *list_stack;
  GtkListView        *list_view;
  AdwStatusPage      *list_empty;
  GtkLabel           *message_label;
  XlFilmView         *film_view;
  GtkLabel           *caption_label;
  GtkSpinner         *spinner;
  GtkLabel           *error_label;
  GtkDrawingArea     *color_bar;
  GtkLabel           *scale_label;
  GtkSwitch          *heat_switch;
  GtkAdjustment      *opacity_adjustment;
  GtkDropDown        *colormap_dropdown;
  GtkDropDown        *layer_dropdown;
  GtkLabel           *zoom_label;
  GtkToggleButton    *fit_button;
  GtkAdjustment      *window_adjustment;
  GtkAdjustment      *level_adjustment;
};

G_DEFINE_FINAL_TYPE (XlReviewPage, xl_review_page, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_THRESHOLD,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void show_selected   (XlReviewPage *self);
static void start_job       (XlReviewPage *self,
                             XlReviewItem *item,
                             gboolean      shown);
static void update_overlay  (XlReviewPage *self);

/* ---- Classes and the threshold -------------------------------------------- */

static const XlModelInfo *
model_info (XlReviewPage *self)
{
  if (self->run != NULL)
    return &self->run->info;
  if (self->model != NULL)
    return xl_cam_model_get_info (self->model);

  return NULL;
}

static guint
positive_class (XlReviewPage *self)
{
  const XlModelInfo *info = model_info (self);

  return info != NULL ? info->positive_class : 1;
}

static const char *
class_name (XlReviewPage *self,
            int           class_index)
{
  const XlModelInfo *info = model_info (self);

  if (info == NULL || class_index < 0 || (guint) class_index >= info->n_classes)
    return "?";

  return info->classes[class_index];
}

/* The class decided at the threshold: the positive class at or above it; below,
 * the other one (of two), or -2, "not positive", among more. */
static int
predicted_at_threshold (XlReviewPage *self,
                        double        probability)
{
  const XlModelInfo *info = model_info (self);
  guint positive = positive_class (self);

  if (isnan (probability))
    return -1;
  if (probability >= self->threshold)
    return (int) positive;
  if (info != NULL && info->n_classes == 2)
    return 1 - (int) positive;

  return -2;
}

static gboolean
item_matches (XlReviewPage   *self,
              XlReviewItem   *item,
              XlReviewFilter  filter)
{
  double probability = xl_review_item_get_probability (item);
  int label = xl_review_item_get_label (item);
  int positive = (int) positive_class (self);
  gboolean flagged;

  if (filter == XL_REVIEW_ALL)
    return TRUE;
  if (isnan (probability))
    return FALSE;

  flagged = probability >= self->threshold;
  switch (filter)
    {
    case XL_REVIEW_FLAGGED:
      return flagged;
    case XL_REVIEW_NEAR_THRESHOLD:
      return fabs (probability - self->threshold) <= NEAR_THRESHOLD;
    case XL_REVIEW_FALSE_POSITIVES:
      return label >= 0 && label != positive && flagged;
    case XL_REVIEW_FALSE_NEGATIVES:
      return label == positive && !flagged;
    case XL_REVIEW_TRUE_POSITIVES:
      return label == positive && flagged;
    case XL_REVIEW_TRUE_NEGATIVES:
      return label >= 0 && label != positive && !flagged;
    case XL_REVIEW_ALL:
    default:
      return TRUE;
    }
}

static gboolean
filter_func (gpointer item,
             gpointer user_data)
{
  XlReviewPage *self = user_data;

  return item_matches (self, item, self->filter);
}

/* P(positive) descending; films still being predicted first, so that an
 * opened image is in view at once. */
static int
sort_func (gconstpointer a,
           gconstpointer b,
           gpointer      user_data)
{
  double pa = xl_review_item_get_probability ((XlReviewItem *) a);
  double pb = xl_review_item_get_probability ((XlReviewItem *) b);

  if (isnan (pa) || isnan (pb))
    return isnan (pa) ? (isnan (pb) ? 0 : -1) : 1;
  if (pa != pb)
    return pa > pb ? -1 : 1;

  return g_strcmp0 (xl_review_item_get_name ((XlReviewItem *) a),
                    xl_review_item_get_name ((XlReviewItem *) b));
}

static void
update_count (XlReviewPage *self)
{
  g_autofree char *text = NULL;
  guint shown = g_list_model_get_n_items (G_LIST_MODEL (self->filter_model));
  guint total = g_list_model_get_n_items (G_LIST_MODEL (self->store));
  guint flagged = 0;
  guint opened = 0;

  for (guint i = 0; i < total; i++)
    {
      g_autoptr(XlReviewItem) item = g_list_model_get_item (G_LIST_MODEL (self->store), i);

      flagged += item_matches (self, item, XL_REVIEW_FLAGGED);
      opened += xl_review_item_get_opened (item);
    }

  if (self->run != NULL && opened > 0)
    /* Translators: shown of all, run films, the split (test or val), opened
     * images, the threshold, flagged films */
    text = g_strdup_printf (_("%u of %u: %u %s films and %u opened · threshold %.2f · %u flagged"),
                            shown, total, total - opened,
                            self->split == XL_SPLIT_TEST ? C_("split", "test") : C_("split", "val"),
                            opened, self->threshold, flagged);
  else if (self->run != NULL)
    /* Translators: shown films of all, the split (test or val), the threshold, flagged films */
    text = g_strdup_printf (_("%u of %u %s films · threshold %.2f · %u flagged"),
                            shown, total,
                            self->split == XL_SPLIT_TEST ? C_("split", "test") : C_("split", "val"),
                            self->threshold, flagged);
  else
    /* Translators: shown images of all opened, the threshold, flagged images */
    text = g_strdup_printf (_("%u of %u opened images · threshold %.2f · %u flagged"),
                            shown, total, self->threshold, flagged);
  gtk_label_set_text (self->count_label, text);
  gtk_stack_set_visible_child_name (self->list_stack, shown > 0 ? "list" : "none");
}

static void
update_predicted (XlReviewPage *self)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->store));

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(XlReviewItem) item = g_list_model_get_item (G_LIST_MODEL (self->store), i);

      xl_review_item_set_predicted (item,
                                    predicted_at_threshold (self,
                                                            xl_review_item_get_probability (item)));
    }
}

/* ---- Thumbnails ------------------------------------------------------------ */

typedef struct
{
  GBytes *rgb;
  int     width;
  int     height;
} Thumbnail;

static void
thumbnail_free (Thumbnail *thumbnail)
{
  g_bytes_unref (thumbnail->rgb);
  g_free (thumbnail);
}

static void
thumbnail_worker (gpointer data,
                  gpointer user_data)
{
  g_autoptr(GTask) task = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(XlImage) decoded = NULL;
  g_autoptr(XlImage) fitted = NULL;
  g_autofree char *contents = NULL;
  XlReviewItem *item = g_task_get_task_data (task);
  const int box_width = 2 * THUMB_WIDTH;
  const int box_height = 2 * THUMB_HEIGHT;
  Thumbnail *thumbnail;
  double scale;
  guint8 *rgb;
  gsize n_pixels;
  gsize len;

  if (g_task_return_error_if_cancelled (task))
    return;

  if (!g_file_get_contents (xl_review_item_get_path (item), &contents, &len, &error)
      || !(decoded = xl_image_decode ((const guint8 *) contents, len, box_height,
                                      xl_review_item_get_name (item), &error)))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  scale = MIN ((double) box_width / decoded->width, (double) box_height / decoded->height);
  scale = MIN (scale, 1.0);
  fitted = xl_image_resize (decoded, MAX (1, (guint) lround (decoded->width * scale)),
                            MAX (1, (guint) lround (decoded->height * scale)));
  if (fitted == NULL)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_FAILED, "out of memory");
      return;
    }

  n_pixels = (gsize) fitted->width * fitted->height;
  rgb = g_malloc (n_pixels * 3);
  for (gsize i = 0; i < n_pixels; i++)
    rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = fitted->pixels[i];

  thumbnail = g_new0 (Thumbnail, 1);
  thumbnail->rgb = g_bytes_new_take (rgb, n_pixels * 3);
  thumbnail->width = (int) fitted->width;
  thumbnail->height = (int) fitted->height;
  g_task_return_pointer (task, thumbnail, (GDestroyNotify) thumbnail_free);
}

static void
thumbnail_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  XlReviewItem *item = g_task_get_task_data (G_TASK (result));
  g_autoptr(GdkTexture) texture = NULL;
  Thumbnail *thumbnail;

  thumbnail = g_task_propagate_pointer (G_TASK (result), NULL);
  if (thumbnail == NULL)
    return;

  texture = gdk_memory_texture_new (thumbnail->width, thumbnail->height, GDK_MEMORY_R8G8B8,
                                    thumbnail->rgb, (gsize) thumbnail->width * 3);
  xl_review_item_set_thumbnail (item, texture);
  thumbnail_free (thumbnail);
}

static gpointer
create_thumbnail_pool (gpointer data)
{
  return g_thread_pool_new (thumbnail_worker, NULL, 1, FALSE, NULL);
}

static void
request_thumbnail (XlReviewPage *self,
                   XlReviewItem *item)
{
  static GOnce pool_once = G_ONCE_INIT;
  GThreadPool *pool = g_once (&pool_once, create_thumbnail_pool, NULL);
  GTask *task;

  if (xl_review_item_get_thumbnail (item) != NULL || !xl_review_item_take_thumbnail_request (item))
    return;

  task = g_task_new (NULL, self->cancellable, thumbnail_cb, NULL);
  g_task_set_source_tag (task, request_thumbnail);
  g_task_set_task_data (task, g_object_ref (item), g_object_unref);
  g_thread_pool_push (pool, task, NULL);
}

/* ---- Rows ------------------------------------------------------------------- */

typedef struct
{
  GtkPicture *picture;
  GtkLabel   *name;
  GtkLabel   *details;
  GtkLabel   *badge;
  GtkLabel   *probability;
  GtkLabel   *predicted;
} Row;

static void
setup_row_cb (GtkSignalListItemFactory *factory,
              GtkListItem              *list_item,
              XlReviewPage             *self)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 10);
  GtkWidget *text = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
  GtkWidget *frame = gtk_frame_new (NULL);
  Row *row = g_new0 (Row, 1);

  row->picture = GTK_PICTURE (gtk_picture_new ());
  gtk_picture_set_can_shrink (row->picture, TRUE);
  gtk_picture_set_content_fit (row->picture, GTK_CONTENT_FIT_CONTAIN);
  gtk_widget_set_size_request (GTK_WIDGET (row->picture), THUMB_WIDTH, THUMB_HEIGHT);
  gtk_frame_set_child (GTK_FRAME (frame), GTK_WIDGET (row->picture));
  gtk_widget_set_valign (frame, GTK_ALIGN_CENTER);
  gtk_widget_add_css_class (frame, "xl-review-thumbnail");
  gtk_box_append (GTK_BOX (box), frame);

  row->name = GTK_LABEL (gtk_label_new (NULL));
  gtk_label_set_xalign (row->name, 0);
  gtk_label_set_ellipsize (row->name, PANGO_ELLIPSIZE_MIDDLE);
  row->details = GTK_LABEL (gtk_label_new (NULL));
  gtk_label_set_xalign (row->details, 0);
  gtk_label_set_ellipsize (row->details, PANGO_ELLIPSIZE_END);
  gtk_widget_add_css_class (GTK_WIDGET (row->details), "caption");
  gtk_widget_add_css_class (GTK_WIDGET (row->details), "dim-label");
  row->badge = GTK_LABEL (gtk_label_new (NULL));
  gtk_label_set_xalign (row->badge, 0);
  gtk_widget_add_css_class (GTK_WIDGET (row->badge), "caption-heading");
  gtk_widget_set_valign (text, GTK_ALIGN_CENTER);
  gtk_widget_set_hexpand (text, TRUE);
  gtk_box_append (GTK_BOX (text), GTK_WIDGET (row->name));
  gtk_box_append (GTK_BOX (text), GTK_WIDGET (row->details));
  gtk_box_append (GTK_BOX (text), GTK_WIDGET (row->badge));
  gtk_box_append (GTK_BOX (box), text);

  /* The model's side on the right: P(positive) and what it makes of it. */
  {
    GtkWidget *output = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);

    row->probability = GTK_LABEL (gtk_label_new (NULL));
    gtk_label_set_xalign (row->probability, 1);
    gtk_widget_add_css_class (GTK_WIDGET (row->probability), "numeric");
    gtk_widget_add_css_class (GTK_WIDGET (row->probability), "heading");
    row->predicted = GTK_LABEL (gtk_label_new (NULL));
    gtk_label_set_xalign (row->predicted, 1);
    gtk_widget_add_css_class (GTK_WIDGET (row->predicted), "caption");
    gtk_widget_set_valign (output, GTK_ALIGN_CENTER);
    gtk_box_append (GTK_BOX (output), GTK_WIDGET (row->probability));
    gtk_box_append (GTK_BOX (output), GTK_WIDGET (row->predicted));
    gtk_box_append (GTK_BOX (box), output);
  }

  gtk_widget_set_margin_top (box, 3);
  gtk_widget_set_margin_bottom (box, 3);
  g_object_set_data_full (G_OBJECT (list_item), "xl-row", row, g_free);
  gtk_list_item_set_child (list_item, box);
}

static void
update_row (GtkListItem *list_item)
{
  XlReviewPage *self = g_object_get_data (G_OBJECT (list_item), "xl-page");
  XlReviewItem *item = gtk_list_item_get_item (list_item);
  Row *row = g_object_get_data (G_OBJECT (list_item), "xl-row");
  g_autofree char *probability = NULL;
  g_autofree char *details = NULL;
  g_autofree char *accessible = NULL;
  const char *badge = "";
  int label;
  int predicted;
  int positive;

  if (item == NULL || row == NULL || self == NULL)
    return;

  label = xl_review_item_get_label (item);
  predicted = xl_review_item_get_predicted (item);
  positive = (int) positive_class (self);

  gtk_picture_set_paintable (row->picture, GDK_PAINTABLE (xl_review_item_get_thumbnail (item)));
  gtk_label_set_text (row->name, xl_review_item_get_name (item));

  if (xl_review_item_get_error (item) != NULL)
    probability = g_strdup ("—");
  else if (isnan (xl_review_item_get_probability (item)))
    probability = g_strdup ("…");
  else
    probability = g_strdup_printf ("%.3f", xl_review_item_get_probability (item));
  gtk_label_set_text (row->probability, probability);
  if (predicted == positive)
    {
      gtk_widget_add_css_class (GTK_WIDGET (row->probability), "warning");
      gtk_widget_add_css_class (GTK_WIDGET (row->predicted), "warning");
    }
  else
    {
      gtk_widget_remove_css_class (GTK_WIDGET (row->probability), "warning");
      gtk_widget_remove_css_class (GTK_WIDGET (row->predicted), "warning");
    }
  gtk_label_set_text (row->predicted, predicted == -1 ? ""
                                      : predicted == -2 ? _("other")
                                      : class_name (self, predicted));
  gtk_widget_set_tooltip_text (GTK_WIDGET (row->predicted),
                               _("Predicted at the threshold"));

  if (xl_review_item_get_error (item) != NULL)
    details = g_strdup (xl_review_item_get_error (item));
  else if (label < 0 && predicted == -1)
    details = g_strdup (_("Opened image · predicting…"));
  else if (label < 0)
    details = g_strdup (_("Opened image · true class unknown"));
  else
    /* Translators: the film's true class */
    details = g_strdup_printf (_("True class %s"), class_name (self, label));
  gtk_widget_set_tooltip_text (GTK_WIDGET (row->details), details);
  gtk_label_set_text (row->details, details);

  gtk_widget_remove_css_class (GTK_WIDGET (row->badge), "error");
  gtk_widget_remove_css_class (GTK_WIDGET (row->badge), "success");
  if (label >= 0 && predicted != -1)
    {
      gboolean flagged = predicted == positive;

      if (label == positive)
        badge = flagged ? _("True positive") : _("False negative");
      else
        badge = flagged ? _("False positive") : _("True negative");
      gtk_widget_add_css_class (GTK_WIDGET (row->badge),
                                (label == positive) == flagged ? "success" : "error");
    }
  gtk_label_set_text (row->badge, badge);
  gtk_widget_set_visible (GTK_WIDGET (row->badge), badge[0] != '\0');

  /* Translators: name, P(positive), predicted class, details, verdict */
  accessible = g_strdup_printf (_("%s, probability %s, predicted %s, %s, %s"),
                                xl_review_item_get_name (item), probability,
                                gtk_label_get_text (row->predicted), details, badge);
  gtk_accessible_update_property (GTK_ACCESSIBLE (gtk_list_item_get_child (list_item)),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, accessible, -1);
}

static void
item_notify_cb (XlReviewItem *item,
                GParamSpec   *pspec,
                GtkListItem  *list_item)
{
  update_row (list_item);
}

static void
bind_row_cb (GtkSignalListItemFactory *factory,
             GtkListItem              *list_item,
             XlReviewPage             *self)
{
  XlReviewItem *item = gtk_list_item_get_item (list_item);
  gulong handler;

  g_object_set_data (G_OBJECT (list_item), "xl-page", self);
  handler = g_signal_connect_object (item, "notify", G_CALLBACK (item_notify_cb), list_item, 0);
  g_object_set_data (G_OBJECT (list_item), "xl-handler", GSIZE_TO_POINTER ((gsize) handler));
  update_row (list_item);
  request_thumbnail (self, item);
}

static void
unbind_row_cb (GtkSignalListItemFactory *factory,
               GtkListItem              *list_item,
               XlReviewPage             *self)
{
  XlReviewItem *item = gtk_list_item_get_item (list_item);
  gulong handler = (gulong) GPOINTER_TO_SIZE (g_object_get_data (G_OBJECT (list_item), "xl-handler"));

  if (item != NULL && handler != 0)
    g_signal_handler_disconnect (item, handler);
  g_object_set_data (G_OBJECT (list_item), "xl-handler", NULL);
}

/* ---- The film and its map --------------------------------------------------- */

static XlCamResult *
cache_lookup (XlReviewPage *self,
              const char   *path,
              int           stage)
{
  for (GList *l = self->cache.head; l != NULL; l = l->next)
    {
      XlCamResult *result = l->data;

      if (result->stage == stage && g_strcmp0 (result->path, path) == 0)
        {
          g_queue_unlink (&self->cache, l);
          g_queue_push_head_link (&self->cache, l);
          return result;
        }
    }

  return NULL;
}

static void
cache_insert (XlReviewPage *self,
              XlCamResult  *result)
{
  if (cache_lookup (self, result->path, result->stage) != NULL)
    return;
  g_queue_push_head (&self->cache, xl_cam_result_ref (result));
  while (self->cache.length > CACHE_SIZE)
    xl_cam_result_unref (g_queue_pop_tail (&self->cache));
}

static void
cache_clear (XlReviewPage *self)
{
  g_queue_clear_full (&self->cache, (GDestroyNotify) xl_cam_result_unref);
}

static void
update_caption (XlReviewPage *self)
{
  g_autofree char *text = NULL;
  g_autofree char *truth = NULL;
  XlReviewItem *item = self->shown_item;
  double probability;
  int predicted;
  int label;

  if (item == NULL)
    {
      gtk_widget_set_visible (GTK_WIDGET (self->caption_label), FALSE);
      return;
    }

  probability = xl_review_item_get_probability (item);
  predicted = predicted_at_threshold (self, probability);
  label = xl_review_item_get_label (item);
  if (label >= 0)
    /* Translators: the film's true class */
    truth = g_strdup_printf (_("True class: %s"), class_name (self, label));
  else
    truth = g_strdup (_("Opened image: true class unknown"));

  if (isnan (probability))
    text = g_strdup_printf ("%s\n%s", xl_review_item_get_name (item), truth);
  else
    /* Translators: file name, newline, P(class) value, threshold, the class it
     * gives, newline, the true class */
    text = g_strdup_printf (_("%s\nP(%s) = %.3f · at threshold %.2f: %s\n%s"),
                            xl_review_item_get_name (item),
                            class_name (self, (int) positive_class (self)), probability,
                            self->threshold,
                            predicted == -2 ? _("other") : class_name (self, predicted), truth);
  gtk_label_set_text (self->caption_label, text);
  gtk_widget_set_visible (GTK_WIDGET (self->caption_label), TRUE);
}

static void
set_busy (XlReviewPage *self,
          gboolean      busy)
{
  gtk_widget_set_visible (GTK_WIDGET (self->spinner), busy);
  gtk_spinner_set_spinning (self->spinner, busy);
}

static void
show_error (XlReviewPage *self,
            const char   *message)
{
  g_free (self->error);
  self->error = g_strdup (message);
  gtk_label_set_text (self->error_label, message != NULL ? message : "");
  gtk_widget_set_visible (GTK_WIDGET (self->error_label), message != NULL);
}

static void
update_overlay (XlReviewPage *self)
{
  g_autoptr(GdkTexture) texture = NULL;
  g_autofree char *scale = NULL;

  if (self->result != NULL && self->heat_visible)
    texture = xl_cam_result_colorize (self->result, self->colormap);
  xl_film_view_set_overlay (self->film_view, texture, self->opacity);

  if (self->result != NULL && model_info (self) != NULL)
    {
      scale = xl_cam_result_describe_scale (self->result, model_info (self));
      if (self->result->method_note != NULL)
        {
          char *with_note = g_strdup_printf ("%s (%s)", scale, self->result->method_note);

          g_free (scale);
          scale = with_note;
        }
    }
  gtk_label_set_text (self->scale_label, scale != NULL ? scale : "");
  gtk_widget_queue_draw (GTK_WIDGET (self->color_bar));
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "review.export-overlay", self->result != NULL);
}

static void
apply_result (XlReviewPage *self,
              XlCamResult  *result)
{
  g_clear_pointer (&self->result, xl_cam_result_unref);
  self->result = xl_cam_result_ref (result);

  /* Another layer of the same film keeps the zoom, pan and contrast. */
  if (g_strcmp0 (self->shown_film_path, result->path) != 0
      || xl_film_view_get_image (self->film_view) == NULL)
    {
      xl_film_view_set_image (self->film_view, xl_image_copy (result->film));
      g_free (self->shown_film_path);
      self->shown_film_path = g_strdup (result->path);
    }

  show_error (self, NULL);
  set_busy (self, FALSE);
  update_overlay (self);
  update_caption (self);
}

typedef struct
{
  GWeakRef      page;
  XlReviewItem *item;
  GCancellable *cancellable;     /* the job's own */
  guint         generation;
  char         *key;             /* in in_flight */
} JobData;

static char *
job_key (const char *path,
         int         stage)
{
  return g_strdup_printf ("%d:%s", stage, path);
}

static void
job_data_free (JobData *data)
{
  g_weak_ref_clear (&data->page);
  g_object_unref (data->item);
  g_object_unref (data->cancellable);
  g_free (data->key);
  g_free (data);
}

static void
job_cb (GObject      *source,
        GAsyncResult *res,
        gpointer      user_data)
{
  JobData *data = user_data;
  g_autoptr(XlReviewPage) self = g_weak_ref_get (&data->page);
  g_autoptr(XlCamResult) result = NULL;
  g_autoptr(GError) error = NULL;
  XlReviewItem *item = data->item;
  gboolean cancelled;

  result = xl_cam_job_run_finish (res, &error);
  cancelled = g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)
              || g_cancellable_is_cancelled (data->cancellable);

  /* A job of a run or model that is gone: nothing of it applies. */
  if (self == NULL || data->generation != self->generation)
    {
      job_data_free (data);
      return;
    }
  g_assert (self->n_jobs > 0);
  self->n_jobs--;
  if (g_hash_table_lookup (self->in_flight, data->key) == data)
    g_hash_table_remove (self->in_flight, data->key);

  if (result != NULL)
    {
      cache_insert (self, result);
      /* An opened image's probability is the model's: only the map knows it. */
      if (xl_review_item_get_opened (item) && isnan (xl_review_item_get_probability (item)))
        {
          XlReviewItem *selected = xl_review_page_get_selected (self);

          xl_review_item_set_probability (item, result->probs[MIN (positive_class (self),
                                                                   result->n_classes - 1)]);
          xl_review_item_set_predicted (item,
                                        predicted_at_threshold (self,
                                                                xl_review_item_get_probability (item)));
          gtk_sorter_changed (GTK_SORTER (self->sorter), GTK_SORTER_CHANGE_DIFFERENT);
          gtk_filter_changed (GTK_FILTER (self->custom_filter), GTK_FILTER_CHANGE_DIFFERENT);
          /* Sorting moved the row: the selection stays on the same film. */
          if (selected != NULL)
            for (guint i = 0; i < g_list_model_get_n_items (G_LIST_MODEL (self->selection)); i++)
              {
                g_autoptr(XlReviewItem) other = g_list_model_get_item (G_LIST_MODEL (self->selection), i);

                if (other == selected)
                  {
                    if (gtk_single_selection_get_selected (self->selection) != i)
                      gtk_single_selection_set_selected (self->selection, i);
                    break;
                  }
              }
          update_count (self);
        }
      if (item == self->shown_item && result->stage == self->stage && !cancelled)
        apply_result (self, result);
    }
  else if (!cancelled)
    {
      g_autofree char *message = g_strdup (error->message);

      if (xl_review_item_get_opened (item))
        xl_review_item_set_error (item, message);
      if (item == self->shown_item)
        {
          set_busy (self, FALSE);
          show_error (self, message);
        }
    }

  job_data_free (data);
}

static void
start_job (XlReviewPage *self,
           XlReviewItem *item,
           gboolean      shown)
{
  JobData *data;

  g_assert (self->model != NULL);

  data = g_new0 (JobData, 1);
  g_weak_ref_init (&data->page, self);
  data->item = g_object_ref (item);
  data->generation = self->generation;
  data->key = job_key (xl_review_item_get_path (item), self->stage);
  /* An opened image waits for its probability: moving on must not cancel it. */
  if (xl_review_item_get_opened (item) && isnan (xl_review_item_get_probability (item)))
    shown = FALSE;
  if (shown)
    {
      g_clear_object (&self->shown_cancellable);
      self->shown_cancellable = g_cancellable_new ();
      data->cancellable = g_object_ref (self->shown_cancellable);
    }
  else
    data->cancellable = g_cancellable_new ();
  /* Cancelling the run's cancellable reaches every job of it. */
  g_signal_connect_object (self->cancellable, "cancelled", G_CALLBACK (g_cancellable_cancel),
                           data->cancellable, G_CONNECT_SWAPPED);

  self->n_jobs++;
  g_hash_table_replace (self->in_flight, g_strdup (data->key), data);
  xl_cam_job_run_async (self->model, xl_review_item_get_path (item), self->stage,
                        data->cancellable, job_cb, data);
}

static void
show_item (XlReviewPage *self,
           XlReviewItem *item)
{
  g_autofree char *key = NULL;
  XlCamResult *cached;
  JobData *running;

  if (item == self->shown_item && self->result != NULL && self->result->stage == self->stage)
    return;

  /* The map on its way for the film shown before is not wanted any more. */
  if (self->shown_cancellable != NULL)
    g_cancellable_cancel (self->shown_cancellable);
  g_clear_object (&self->shown_cancellable);
  g_set_object (&self->shown_item, item);
  g_clear_pointer (&self->result, xl_cam_result_unref);
  show_error (self, NULL);

  if (item == NULL)
    {
      xl_film_view_set_image (self->film_view, NULL);
      g_clear_pointer (&self->shown_film_path, g_free);
      set_busy (self, FALSE);
      update_overlay (self);
      update_caption (self);
      return;
    }

  update_caption (self);

  if ((cached = cache_lookup (self, xl_review_item_get_path (item), self->stage)) != NULL)
    {
      apply_result (self, cached);
      return;
    }

  /* No stale heat over a film it is not for, nor a film under another's name. */
  if (g_strcmp0 (self->shown_film_path, xl_review_item_get_path (item)) != 0)
    {
      xl_film_view_set_image (self->film_view, NULL);
      g_clear_pointer (&self->shown_film_path, g_free);
    }
  update_overlay (self);

  if (self->model == NULL)
    {
      show_error (self, _("No model to map this film with: the run’s model could not be read"));
      return;
    }

  set_busy (self, TRUE);
  /* Already on its way (an opened image being predicted): wait for it. */
  key = job_key (xl_review_item_get_path (item), self->stage);
  running = g_hash_table_lookup (self->in_flight, key);
  if (running != NULL && !g_cancellable_is_cancelled (running->cancellable))
    return;
  start_job (self, item, TRUE);
}

static void
show_selected (XlReviewPage *self)
{
  show_item (self, xl_review_page_get_selected (self));
}

static void
selection_changed_cb (XlReviewPage *self)
{
  show_selected (self);
}

static void
filter_items_changed_cb (XlReviewPage *self)
{
  update_count (self);
}

/* ---- The colour bar ----------------------------------------------------------- */

static void
draw_color_bar (GtkDrawingArea *area,
                cairo_t        *cr,
                int             width,
                int             height,
                gpointer        user_data)
{
  XlReviewPage *self = user_data;
  const double bar_x = 10;
  const double bar_width = 14;
  const double top = 28;
  double bottom = height - 28;
  double bar_height = bottom - top;
  GdkRGBA fg;
  G_GNUC_BEGIN_IGNORE_DEPRECATIONS
  GtkStyleContext *style = gtk_widget_get_style_context (GTK_WIDGET (area));
  gtk_style_context_get_color (style, &fg);
  G_GNUC_END_IGNORE_DEPRECATIONS

  if (self->result == NULL || !self->heat_visible || bar_height < 40)
    return;

  /* The colours as the film shows them: at the overlay's opacity over black
   * would mislead about the scale, so at full strength. */
  for (int y = 0; y < (int) bar_height; y++)
    {
      XlPlotColor color;
      double t = 1.0 - (y + 0.5) / bar_height;

      xl_colormap_color (self->colormap, t, &color);
      cairo_set_source_rgb (cr, color.red, color.green, color.blue);
      cairo_rectangle (cr, bar_x, top + y, bar_width, 1);
      cairo_fill (cr);
    }
  gdk_cairo_set_source_rgba (cr, &fg);
  cairo_set_line_width (cr, 1);
  cairo_rectangle (cr, bar_x + 0.5, top + 0.5, bar_width - 1, bar_height - 1);
  cairo_stroke (cr);

  for (int i = 0; i <= 4; i++)
    {
      g_autoptr(PangoLayout) layout = NULL;
      g_autofree char *text = g_strdup_printf ("%.2f", i / 4.0);
      double y = bottom - bar_height * i / 4.0;
      int text_width;
      int text_height;

      cairo_move_to (cr, bar_x + bar_width, round (y) + 0.5);
      cairo_line_to (cr, bar_x + bar_width + 4, round (y) + 0.5);
      cairo_stroke (cr);
      layout = gtk_widget_create_pango_layout (GTK_WIDGET (area), text);
      pango_layout_get_pixel_size (layout, &text_width, &text_height);
      cairo_move_to (cr, bar_x + bar_width + 6, y - text_height / 2.0);
      pango_cairo_show_layout (cr, layout);
    }

  {
    /* What 1 means: this film's peak, not a scale shared across films. */
    g_autoptr(PangoLayout) layout = gtk_widget_create_pango_layout (GTK_WIDGET (area),
                                                                    _("per image"));
    int text_width;
    int text_height;

    pango_layout_get_pixel_size (layout, &text_width, &text_height);
    cairo_move_to (cr, MAX (2, (width - text_width) / 2.0), top - text_height - 6);
    pango_cairo_show_layout (cr, layout);
  }
}

/* ---- Public ------------------------------------------------------------------- */

static void
clear_films (XlReviewPage *self)
{
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
  self->n_jobs = 0;
  self->generation++;
  g_hash_table_remove_all (self->in_flight);

  show_item (self, NULL);
  cache_clear (self);
  g_list_store_remove_all (self->store);
  gtk_widget_set_visible (GTK_WIDGET (self->message_label), FALSE);
}

static void
show_message (XlReviewPage *self,
              const char   *message)
{
  gtk_label_set_text (self->message_label, message != NULL ? message : "");
  gtk_widget_set_visible (GTK_WIDGET (self->message_label), message != NULL);
  gtk_label_set_text (self->empty_message, message != NULL ? message : "");
  gtk_widget_set_visible (GTK_WIDGET (self->empty_message), message != NULL);
}

static void
update_state (XlReviewPage *self)
{
  gboolean reviewing = self->run != NULL || self->model != NULL;

  gtk_stack_set_visible_child_name (self->stack, reviewing ? "review" : "empty");
  if (self->run != NULL)
    adw_status_page_set_description (self->list_empty,
                                     _("No film matches this filter at this threshold."));
  else
    adw_status_page_set_description (self->list_empty,
                                     _("Open an image (Ctrl+I) or drop a JPEG or PNG here: it is predicted and mapped at once."));
  update_predicted (self);
  update_count (self);
}

static void
open_pending_files (XlReviewPage *self)
{
  g_autoptr(GPtrArray) files = NULL;

  if (self->pending_files->len == 0 || self->model == NULL)
    return;

  files = g_steal_pointer (&self->pending_files);
  self->pending_files = g_ptr_array_new_with_free_func (g_object_unref);
  xl_review_page_open_files (self, (GFile **) files->pdata, files->len);
}

void
xl_review_page_set_run (XlReviewPage *self,
                        XlRunFolder  *run)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) items = NULL;
  guint positive;

  g_return_if_fail (XL_IS_REVIEW_PAGE (self));

  clear_films (self);
  if (run != NULL)
    xl_run_folder_ref (run);
  g_clear_pointer (&self->run, xl_run_folder_unref);
  g_clear_pointer (&self->model, xl_cam_model_unref);
  self->run = run;

  if (run == NULL)
    {
      update_state (self);
      return;
    }

  if (!(self->model = xl_cam_model_new (run->model_path, &error)))
    {
      g_autofree char *message =
        /* Translators: the error reading the run's model */
        g_strdup_printf (_("No heatmaps: %s. The list shows the run’s stored predictions."),
                         error->message);

      show_message (self, message);
    }

  /* The films the run's metrics are for: test, or val when it has no test. */
  self->split = xl_run_folder_report_split (run);
  positive = MIN (run->info.positive_class, run->info.n_classes - 1);
  items = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint row = 0; row < run->n_films; row++)
    {
      g_autofree char *path = NULL;

      if (run->films[row].split != self->split)
        continue;
      path = xl_run_folder_film_path (run, row);
      g_ptr_array_add (items,
                       xl_review_item_new (path, (int) run->films[row].label,
                                           run->probs[(gsize) row * run->info.n_classes + positive]));
    }
  g_list_store_splice (self->store, 0, 0, items->pdata, items->len);

  update_state (self);
  if (g_list_model_get_n_items (G_LIST_MODEL (self->selection)) > 0)
    xl_review_page_select (self, 0);
  open_pending_files (self);
}

gboolean
xl_review_page_set_model (XlReviewPage  *self,
                          const char    *model_path,
                          GError       **error)
{
  g_autoptr(XlCamModel) model = NULL;

  g_return_val_if_fail (XL_IS_REVIEW_PAGE (self), FALSE);
  g_return_val_if_fail (model_path != NULL, FALSE);

  if (!(model = xl_cam_model_new (model_path, error)))
    return FALSE;

  clear_films (self);
  g_clear_pointer (&self->run, xl_run_folder_unref);
  g_clear_pointer (&self->model, xl_cam_model_unref);
  self->model = g_steal_pointer (&model);
  show_message (self, NULL);
  update_state (self);
  open_pending_files (self);

  return TRUE;
}

XlCamModel *
xl_review_page_get_model (XlReviewPage *self)
{
  g_return_val_if_fail (XL_IS_REVIEW_PAGE (self), NULL);

  return self->model;
}

double
xl_review_page_get_threshold (XlReviewPage *self)
{
  g_return_val_if_fail (XL_IS_REVIEW_PAGE (self), 0.5);

  return self->threshold;
}

void
xl_review_page_set_threshold (XlReviewPage *self,
                              double        threshold)
{
  g_return_if_fail (XL_IS_REVIEW_PAGE (self));

  threshold = CLAMP (threshold, 0.0, 1.0);
  if (threshold == self->threshold)
    return;
  self->threshold = threshold;

  update_predicted (self);
  if (self->filter != XL_REVIEW_ALL)
    gtk_filter_changed (GTK_FILTER (self->custom_filter), GTK_FILTER_CHANGE_DIFFERENT);
  update_count (self);
  update_caption (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_THRESHOLD]);
}

XlReviewFilter
xl_review_page_get_filter (XlReviewPage *self)
{
  g_return_val_if_fail (XL_IS_REVIEW_PAGE (self), XL_REVIEW_ALL);

  return self->filter;
}

void
xl_review_page_set_filter (XlReviewPage   *self,
                           XlReviewFilter  filter)
{
  g_return_if_fail (XL_IS_REVIEW_PAGE (self));
  g_return_if_fail (filter <= XL_REVIEW_TRUE_NEGATIVES);

  if (filter != self->filter)
    {
      self->filter = filter;
      gtk_filter_changed (GTK_FILTER (self->custom_filter), GTK_FILTER_CHANGE_DIFFERENT);
    }
  if (gtk_drop_down_get_selected (self->filter_dropdown) != (guint) filter)
    gtk_drop_down_set_selected (self->filter_dropdown, (guint) filter);
  update_count (self);

  /* The worklist opens on its first film. */
  if (xl_review_page_get_selected (self) == NULL
      && g_list_model_get_n_items (G_LIST_MODEL (self->selection)) > 0)
    xl_review_page_select (self, 0);
}

void
xl_review_page_show_cell (XlReviewPage *self,
                          guint         true_class,
                          guint         predicted_class)
{
  guint positive;

  g_return_if_fail (XL_IS_REVIEW_PAGE (self));

  if (model_info (self) == NULL)
    return;
  positive = positive_class (self);
  if (true_class == positive)
    xl_review_page_set_filter (self, predicted_class == positive ? XL_REVIEW_TRUE_POSITIVES
                                                                 : XL_REVIEW_FALSE_NEGATIVES);
  else
    xl_review_page_set_filter (self, predicted_class == positive ? XL_REVIEW_FALSE_POSITIVES
                                                                 : XL_REVIEW_TRUE_NEGATIVES);
  if (g_list_model_get_n_items (G_LIST_MODEL (self->selection)) > 0)
    xl_review_page_select (self, 0);
}

void
xl_review_page_open_files (XlReviewPage  *self,
                           GFile        **files,
                           guint          n_files)
{
  XlReviewItem *first = NULL;

  g_return_if_fail (XL_IS_REVIEW_PAGE (self));
  g_return_if_fail (files != NULL || n_files == 0);

  if (n_files == 0)
    return;

  if (self->model == NULL)
    {
      for (guint i = 0; i < n_files; i++)
        g_ptr_array_add (self->pending_files, g_object_ref (files[i]));
      show_message (self, self->run != NULL
                          ? _("This run’s model could not be read: open a model (Open Model…) to predict the images.")
                          : _("Open a model first (Open Model…: a model.safetensors from a run folder): the images are predicted and mapped as soon as there is one."));
      gtk_stack_set_visible_child_name (self->stack, "empty");
      return;
    }

  for (guint i = 0; i < n_files; i++)
    {
      g_autofree char *path = g_file_get_path (files[i]);
      g_autoptr(XlReviewItem) item = NULL;

      if (path == NULL)
        continue;
      item = xl_review_item_new (path, -1, NAN);
      g_list_store_append (self->store, item);
      if (first == NULL)
        first = item;
      /* Predicted now, shown or not: the list is sorted by what it gives. */
      start_job (self, item, FALSE);
    }

  /* An opened image has no true class: only some filters can show it. */
  xl_review_page_set_filter (self, XL_REVIEW_ALL);
  update_state (self);

  if (first != NULL)
    for (guint i = 0; i < g_list_model_get_n_items (G_LIST_MODEL (self->selection)); i++)
      {
        g_autoptr(XlReviewItem) item = g_list_model_get_item (G_LIST_MODEL (self->selection), i);

        if (item == first)
          {
            xl_review_page_select (self, i);
            break;
          }
      }
}

GListModel *
xl_review_page_get_films (XlReviewPage *self)
{
  g_return_val_if_fail (XL_IS_REVIEW_PAGE (self), NULL);

  return G_LIST_MODEL (self->selection);
}

GListModel *
xl_review_page_get_all_films (XlReviewPage *self)
{
  g_return_val_if_fail (XL_IS_REVIEW_PAGE (self), NULL);

  return G_LIST_MODEL (self->store);
}

XlReviewItem *
xl_review_page_get_selected (XlReviewPage *self)
{
  g_return_val_if_fail (XL_IS_REVIEW_PAGE (self), NULL);

  return gtk_single_selection_get_selected_item (self->selection);
}

void
xl_review_page_select (XlReviewPage *self,
                       guint         position)
{
  g_return_if_fail (XL_IS_REVIEW_PAGE (self));

  if (position >= g_list_model_get_n_items (G_LIST_MODEL (self->selection)))
    return;

  gtk_single_selection_set_selected (self->selection, position);
  gtk_widget_activate_action (GTK_WIDGET (self->list_view), "list.scroll-to-item", "u", position);
  /* Selecting the film that is selected already still shows it. */
  show_selected (self);
}

XlFilmView *
xl_review_page_get_film_view (XlReviewPage *self)
{
  g_return_val_if_fail (XL_IS_REVIEW_PAGE (self), NULL);

  return self->film_view;
}

XlCamResult *
xl_review_page_get_result (XlReviewPage *self)
{
  g_return_val_if_fail (XL_IS_REVIEW_PAGE (self), NULL);

  return self->result;
}

gboolean
xl_review_page_get_busy (XlReviewPage *self)
{
  g_return_val_if_fail (XL_IS_REVIEW_PAGE (self), FALSE);

  return self->n_jobs > 0;
}

void
xl_review_page_set_heatmap_visible (XlReviewPage *self,
                                    gboolean      visible)
{
  g_return_if_fail (XL_IS_REVIEW_PAGE (self));

  gtk_switch_set_active (self->heat_switch, visible);
}

void
xl_review_page_set_opacity (XlReviewPage *self,
                            double        opacity)
{
  g_return_if_fail (XL_IS_REVIEW_PAGE (self));

  gtk_adjustment_set_value (self->opacity_adjustment, opacity);
}

void
xl_review_page_set_colormap (XlReviewPage *self,
                             XlColormap    colormap)
{
  g_return_if_fail (XL_IS_REVIEW_PAGE (self));
  g_return_if_fail (colormap < XL_N_COLORMAPS);

  gtk_drop_down_set_selected (self->colormap_dropdown, (guint) colormap);
}

void
xl_review_page_set_stage (XlReviewPage *self,
                          int           stage)
{
  g_return_if_fail (XL_IS_REVIEW_PAGE (self));
  g_return_if_fail (stage >= 2 && stage <= 4);

  gtk_drop_down_set_selected (self->layer_dropdown, (guint) (4 - stage));
}

int
xl_review_page_get_stage (XlReviewPage *self)
{
  g_return_val_if_fail (XL_IS_REVIEW_PAGE (self), 4);

  return self->stage;
}

gboolean
xl_review_page_export_overlay (XlReviewPage  *self,
                               const char    *path,
                               GError       **error)
{
  XlReviewItem *item;

  g_return_val_if_fail (XL_IS_REVIEW_PAGE (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  item = self->shown_item;
  if (self->result == NULL || item == NULL || model_info (self) == NULL)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_INITIALIZED,
                           _("No film with a heatmap to export"));
      return FALSE;
    }

  return xl_cam_result_export (self->result, model_info (self), self->colormap,
                               self->heat_visible ? self->opacity : 0.0,
                               xl_review_item_get_probability (item), self->threshold,
                               xl_review_item_get_label (item), path, error);
}

/* ---- Toolbar ---------------------------------------------------------------- */

static void
filter_selected_cb (XlReviewPage *self)
{
  guint selected = gtk_drop_down_get_selected (self->filter_dropdown);

  if (selected <= XL_REVIEW_TRUE_NEGATIVES && selected != (guint) self->filter)
    xl_review_page_set_filter (self, (XlReviewFilter) selected);
}

static void
heat_switch_cb (XlReviewPage *self)
{
  self->heat_visible = gtk_switch_get_active (self->heat_switch);
  update_overlay (self);
}

static void
opacity_cb (XlReviewPage *self)
{
  self->opacity = gtk_adjustment_get_value (self->opacity_adjustment);
  if (xl_film_view_get_overlay (self->film_view) != NULL)
    xl_film_view_set_overlay (self->film_view, xl_film_view_get_overlay (self->film_view),
                              self->opacity);
}

static void
colormap_cb (XlReviewPage *self)
{
  guint selected = gtk_drop_down_get_selected (self->colormap_dropdown);

  self->colormap = selected < XL_N_COLORMAPS ? (XlColormap) selected : XL_COLORMAP_TURBO;
  update_overlay (self);
}

static void
layer_cb (XlReviewPage *self)
{
  guint selected = gtk_drop_down_get_selected (self->layer_dropdown);
  int stage = selected <= 2 ? 4 - (int) selected : 4;

  if (stage == self->stage)
    return;
  self->stage = stage;
  if (self->shown_item != NULL)
    {
      g_autoptr(XlReviewItem) item = g_object_ref (self->shown_item);

      show_item (self, item);
    }
}

static void
zoom_changed_cb (XlReviewPage *self)
{
  g_autofree char *text = NULL;

  if (xl_film_view_get_image (self->film_view) == NULL)
    {
      gtk_label_set_text (self->zoom_label, "");
      return;
    }

  /* Translators: the zoom as a percentage of the film's own pixels */
  text = g_strdup_printf (_("%.0f%%"), 100 * xl_film_view_get_zoom (self->film_view));
  gtk_label_set_text (self->zoom_label, text);
}

/* ---- Actions ---------------------------------------------------------------- */

static void
move_selection (XlReviewPage *self,
                int           delta)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->selection));
  guint selected = gtk_single_selection_get_selected (self->selection);
  guint position;

  if (n == 0)
    return;
  if (selected == GTK_INVALID_LIST_POSITION)
    position = 0;
  else if (delta < 0)
    position = selected > 0 ? selected - 1 : 0;
  else
    position = MIN (selected + 1, n - 1);

  if (position != selected)
    xl_review_page_select (self, position);
}

static gboolean
shortcut_cb (GtkWidget *widget,
             GVariant  *args,
             gpointer   user_data)
{
  XlReviewPage *self = XL_REVIEW_PAGE (widget);
  const char *what = user_data;

  /* The controller is the window's: other views keep their keys. */
  if (!gtk_widget_get_mapped (widget))
    return FALSE;

  if (g_str_equal (what, "next"))
    move_selection (self, 1);
  else if (g_str_equal (what, "previous"))
    move_selection (self, -1);
  else
    gtk_widget_activate_action (widget, "review.open-image", NULL);

  return TRUE;
}

static void
next_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  move_selection (XL_REVIEW_PAGE (widget), 1);
}

static void
previous_action (GtkWidget  *widget,
                 const char *action_name,
                 GVariant   *parameter)
{
  move_selection (XL_REVIEW_PAGE (widget), -1);
}

static GtkWindow *
parent_window (XlReviewPage *self)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));

  return GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL;
}

static void
add_toast (XlReviewPage *self,
           const char   *text)
{
  GtkWidget *overlay = gtk_widget_get_ancestor (GTK_WIDGET (self), ADW_TYPE_TOAST_OVERLAY);

  if (overlay != NULL)
    adw_toast_overlay_add_toast (ADW_TOAST_OVERLAY (overlay), adw_toast_new (text));
  else
    show_message (self, text);
}

static GtkFileFilter *
image_filter (void)
{
  GtkFileFilter *filter = gtk_file_filter_new ();

  gtk_file_filter_set_name (filter, _("JPEG and PNG Images"));
  gtk_file_filter_add_mime_type (filter, "image/jpeg");
  gtk_file_filter_add_mime_type (filter, "image/png");
  gtk_file_filter_add_suffix (filter, "jpeg");
  gtk_file_filter_add_suffix (filter, "jpg");
  gtk_file_filter_add_suffix (filter, "png");

  return filter;
}

static void
open_image_response_cb (GtkNativeDialog *dialog,
                        int              response,
                        XlReviewPage    *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GListModel) files = gtk_file_chooser_get_files (GTK_FILE_CHOOSER (dialog));
      g_autoptr(GPtrArray) array = g_ptr_array_new_with_free_func (g_object_unref);

      for (guint i = 0; i < g_list_model_get_n_items (files); i++)
        g_ptr_array_add (array, g_list_model_get_item (files, i));
      xl_review_page_open_files (self, (GFile **) array->pdata, array->len);
    }

  g_object_unref (dialog);
}

static void
open_image_action (GtkWidget  *widget,
                   const char *action_name,
                   GVariant   *parameter)
{
  XlReviewPage *self = XL_REVIEW_PAGE (widget);
  GtkFileChooserNative *dialog;
  g_autoptr(GtkFileFilter) filter = image_filter ();

  dialog = gtk_file_chooser_native_new (_("Open Image"), parent_window (self),
                                        GTK_FILE_CHOOSER_ACTION_OPEN, _("_Open"), _("_Cancel"));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (dialog), TRUE);
  gtk_file_chooser_set_select_multiple (GTK_FILE_CHOOSER (dialog), TRUE);
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (dialog), filter);
  g_signal_connect_object (dialog, "response", G_CALLBACK (open_image_response_cb), self, 0);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (dialog));
}

static void
open_model_response_cb (GtkNativeDialog *dialog,
                        int              response,
                        XlReviewPage    *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_autofree char *path = file != NULL ? g_file_get_path (file) : NULL;
      g_autoptr(GError) error = NULL;

      if (path != NULL && !xl_review_page_set_model (self, path, &error))
        show_message (self, error->message);
    }

  g_object_unref (dialog);
}

static void
open_model_action (GtkWidget  *widget,
                   const char *action_name,
                   GVariant   *parameter)
{
  XlReviewPage *self = XL_REVIEW_PAGE (widget);
  GtkFileChooserNative *dialog;
  g_autoptr(GtkFileFilter) filter = gtk_file_filter_new ();

  gtk_file_filter_set_name (filter, _("X-Ray Lab Models"));
  gtk_file_filter_add_suffix (filter, "safetensors");
  dialog = gtk_file_chooser_native_new (_("Open Model"), parent_window (self),
                                        GTK_FILE_CHOOSER_ACTION_OPEN, _("_Open"), _("_Cancel"));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (dialog), TRUE);
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (dialog), filter);
  g_signal_connect_object (dialog, "response", G_CALLBACK (open_model_response_cb), self, 0);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (dialog));
}

typedef struct
{
  XlCamResult *result;
  XlModelInfo  info;
  XlColormap   colormap;
  double       opacity;
  double       probability;
  double       threshold;
  int          label;
  char        *path;
} Export;

static void
export_free (Export *export)
{
  xl_cam_result_unref (export->result);
  xl_model_info_clear (&export->info);
  g_free (export->path);
  g_free (export);
}

static void
export_thread (GTask        *task,
               gpointer      source_object,
               gpointer      task_data,
               GCancellable *cancellable)
{
  Export *export = task_data;
  GError *error = NULL;

  if (xl_cam_result_export (export->result, &export->info, export->colormap, export->opacity,
                            export->probability, export->threshold, export->label, export->path,
                            &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

static void
export_done_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  XlReviewPage *self = XL_REVIEW_PAGE (source);
  Export *export = g_task_get_task_data (G_TASK (result));
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  g_autofree char *name = g_path_get_basename (export->path);

  if (g_task_propagate_boolean (G_TASK (result), &error))
    /* Translators: a file name */
    text = g_strdup_printf (_("Saved %s"), name);
  else
    text = g_strdup (error->message);
  add_toast (self, text);
}

static void
export_response_cb (GtkNativeDialog *dialog,
                    int              response,
                    XlReviewPage    *self)
{
  g_autoptr(GFile) file = NULL;
  g_autofree char *path = NULL;

  if (response == GTK_RESPONSE_ACCEPT
      && (file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog))) != NULL
      && (path = g_file_get_path (file)) != NULL
      && self->result != NULL && self->shown_item != NULL && model_info (self) != NULL)
    {
      g_autoptr(GTask) task = g_task_new (self, NULL, export_done_cb, NULL);
      Export *export = g_new0 (Export, 1);

      export->result = xl_cam_result_ref (self->result);
      xl_model_info_init (&export->info);
      xl_model_info_copy (&export->info, model_info (self));
      export->colormap = self->colormap;
      export->opacity = self->heat_visible ? self->opacity : 0.0;
      export->probability = xl_review_item_get_probability (self->shown_item);
      export->threshold = self->threshold;
      export->label = xl_review_item_get_label (self->shown_item);
      if (!g_str_has_suffix (path, ".png") && !g_str_has_suffix (path, ".svg")
          && !g_str_has_suffix (path, ".pdf"))
        export->path = g_strconcat (path, ".png", NULL);
      else
        export->path = g_steal_pointer (&path);
      g_task_set_task_data (task, export, (GDestroyNotify) export_free);
      g_task_run_in_thread (task, export_thread);
    }

  g_object_unref (dialog);
}

static void
export_overlay_action (GtkWidget  *widget,
                       const char *action_name,
                       GVariant   *parameter)
{
  XlReviewPage *self = XL_REVIEW_PAGE (widget);
  GtkFileChooserNative *dialog;
  g_autofree char *stem = NULL;
  g_autofree char *name = NULL;
  char *dot;

  if (self->result == NULL)
    return;

  stem = g_path_get_basename (self->result->path);
  if ((dot = strrchr (stem, '.')) != NULL)
    *dot = '\0';
  name = g_strconcat (stem, "-cam.png", NULL);
  dialog = gtk_file_chooser_native_new (_("Export Heatmap"), parent_window (self),
                                        GTK_FILE_CHOOSER_ACTION_SAVE, _("_Export"), _("_Cancel"));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (dialog), TRUE);
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (dialog), name);
  g_signal_connect_object (dialog, "response", G_CALLBACK (export_response_cb), self, 0);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (dialog));
}

static void
zoom_in_action (GtkWidget  *widget,
                const char *action_name,
                GVariant   *parameter)
{
  xl_film_view_zoom_in (XL_REVIEW_PAGE (widget)->film_view);
}

static void
zoom_out_action (GtkWidget  *widget,
                 const char *action_name,
                 GVariant   *parameter)
{
  xl_film_view_zoom_out (XL_REVIEW_PAGE (widget)->film_view);
}

static void
zoom_fit_action (GtkWidget  *widget,
                 const char *action_name,
                 GVariant   *parameter)
{
  xl_film_view_set_fit (XL_REVIEW_PAGE (widget)->film_view, TRUE);
}

static void
zoom_actual_action (GtkWidget  *widget,
                    const char *action_name,
                    GVariant   *parameter)
{
  xl_film_view_set_zoom_at (XL_REVIEW_PAGE (widget)->film_view, 1.0, -1, -1);
}

static void
reset_contrast_action (GtkWidget  *widget,
                       const char *action_name,
                       GVariant   *parameter)
{
  XlReviewPage *self = XL_REVIEW_PAGE (widget);

  gtk_adjustment_set_value (self->window_adjustment, 255);
  gtk_adjustment_set_value (self->level_adjustment, 127.5);
}

/* ---- GObject ------------------------------------------------------------------ */

static void
xl_review_page_get_property (GObject    *object,
                             guint       prop_id,
                             GValue     *value,
                             GParamSpec *pspec)
{
  XlReviewPage *self = XL_REVIEW_PAGE (object);

  switch (prop_id)
    {
    case PROP_THRESHOLD:
      g_value_set_double (value, self->threshold);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
xl_review_page_set_property (GObject      *object,
                             guint         prop_id,
                             const GValue *value,
                             GParamSpec   *pspec)
{
  XlReviewPage *self = XL_REVIEW_PAGE (object);

  switch (prop_id)
    {
    case PROP_THRESHOLD:
      xl_review_page_set_threshold (self, g_value_get_double (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
xl_review_page_dispose (GObject *object)
{
  XlReviewPage *self = XL_REVIEW_PAGE (object);

  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  if (self->shown_cancellable != NULL)
    g_cancellable_cancel (self->shown_cancellable);

  gtk_widget_dispose_template (GTK_WIDGET (self), XL_TYPE_REVIEW_PAGE);

  g_clear_object (&self->selection);
  g_clear_object (&self->sort_model);
  g_clear_object (&self->filter_model);
  g_clear_object (&self->sorter);
  g_clear_object (&self->custom_filter);
  g_clear_object (&self->store);
  g_clear_object (&self->shown_item);
  g_clear_object (&self->shown_cancellable);
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->result, xl_cam_result_unref);
  g_clear_pointer (&self->pending_files, g_ptr_array_unref);
  g_clear_pointer (&self->in_flight, g_hash_table_unref);
  cache_clear (self);
  g_clear_pointer (&self->run, xl_run_folder_unref);
  g_clear_pointer (&self->model, xl_cam_model_unref);

  G_OBJECT_CLASS (xl_review_page_parent_class)->dispose (object);
}

static void
xl_review_page_finalize (GObject *object)
{
  XlReviewPage *self = XL_REVIEW_PAGE (object);

  g_free (self->shown_film_path);
  g_free (self->error);

  G_OBJECT_CLASS (xl_review_page_parent_class)->finalize (object);
}

static void
xl_review_page_class_init (XlReviewPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = xl_review_page_dispose;
  object_class->finalize = xl_review_page_finalize;
  object_class->get_property = xl_review_page_get_property;
  object_class->set_property = xl_review_page_set_property;

  properties[PROP_THRESHOLD] =
    g_param_spec_double ("threshold", NULL, NULL, 0.0, 1.0, 0.5,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  g_type_ensure (XL_TYPE_FILM_VIEW);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/xraylab/XRayLab/ui/xl-review-page.ui");
  gtk_widget_class_bind_template_child (widget_class, XlReviewPage, stack);
  gtk_widget_class_bind_template_child (widget_class, XlReviewPage, empty_message);
  gtk_widget_class_bind_template_child (widget_class, XlReviewPage, filter_dropdown);
  gtk_widget_class_bind_template_child (widget_class, XlReviewPage, count_label);
  gtk_widget_class_bind_template_child (widget_class, XlReviewPage, list_stack);
  gtk_widget_class_bind_template_child (widget_class, XlReviewPage, list_view);
  gtk_widget_class_bind_template_child (widget_class, XlReviewPage, list_empty);
  gtk_widget_class_bind_template_child (widget_class, XlReviewPage, message_label);
  gtk_widget_class_bind_template_child (widget_class, XlReviewPage, film_view);
  gtk_widget_class_bind_template_child (widget_class, XlReviewPage, caption_label);
  gtk_widget_class_bind_template_child (widget_class, XlReviewPage, spinner);
  gtk_widget_class_bind_template_child (widget_class, XlReviewPage, error_label);
  gtk_widget_class_bind_template_child (widget_class, XlReviewPage, color_bar);
  gtk_widget_class_bind_template_child (widget_class, XlReviewPage, scale_label);
  gtk_widget_class_bind_template_child (widget_class, XlReviewPage, heat_switch);
  gtk_widget_class_bind_template_child (widget_class, XlReviewPage, opacity_adjustment);
  gtk_widget_class_bind_template_child (widget_class, XlReviewPage, colormap_dropdown);
  gtk_widget_class_bind_template_child (widget_class, XlReviewPage, layer_dropdown);
  gtk_widget_class_bind_template_child (widget_class, XlReviewPage, zoom_label);
  gtk_widget_class_bind_template_child (widget_class, XlReviewPage, fit_button);
  gtk_widget_class_bind_template_child (widget_class, XlReviewPage, window_adjustment);
  gtk_widget_class_bind_template_child (widget_class, XlReviewPage, level_adjustment);
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);

  gtk_widget_class_install_action (widget_class, "review.open-image", NULL, open_image_action);
  gtk_widget_class_install_action (widget_class, "review.open-model", NULL, open_model_action);
  gtk_widget_class_install_action (widget_class, "review.export-overlay", NULL,
                                   export_overlay_action);
  gtk_widget_class_install_action (widget_class, "review.next", NULL, next_action);
  gtk_widget_class_install_action (widget_class, "review.previous", NULL, previous_action);
  gtk_widget_class_install_action (widget_class, "review.zoom-in", NULL, zoom_in_action);
  gtk_widget_class_install_action (widget_class, "review.zoom-out", NULL, zoom_out_action);
  gtk_widget_class_install_action (widget_class, "review.zoom-fit", NULL, zoom_fit_action);
  gtk_widget_class_install_action (widget_class, "review.zoom-actual", NULL, zoom_actual_action);
  gtk_widget_class_install_action (widget_class, "review.reset-contrast", NULL,
                                   reset_contrast_action);

  /* As the film viewer's, while the focus is in this view. */
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_plus, 0, "review.zoom-in", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_equal, 0, "review.zoom-in", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_KP_Add, 0, "review.zoom-in", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_minus, 0, "review.zoom-out", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_KP_Subtract, 0, "review.zoom-out", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_0, 0, "review.zoom-fit", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_KP_0, 0, "review.zoom-fit", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_1, 0, "review.zoom-actual", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_KP_1, 0, "review.zoom-actual", NULL);
}

static void
add_shortcut (GtkShortcutController *controller,
              guint                  keyval,
              GdkModifierType        modifiers,
              const char            *what)
{
  gtk_shortcut_controller_add_shortcut (controller,
                                        gtk_shortcut_new (gtk_keyval_trigger_new (keyval, modifiers),
                                                          gtk_callback_action_new (shortcut_cb,
                                                                                   (gpointer) what,
                                                                                   NULL)));
}

static void
xl_review_page_init (XlReviewPage *self)
{
  g_autoptr(GtkListItemFactory) factory = NULL;
  GtkEventController *shortcuts;

  self->threshold = 0.5;
  self->stage = 4;
  self->colormap = XL_COLORMAP_TURBO;
  self->heat_visible = TRUE;
  self->opacity = 0.45;
  self->split = XL_SPLIT_TEST;
  self->cancellable = g_cancellable_new ();
  self->pending_files = g_ptr_array_new_with_free_func (g_object_unref);
  self->in_flight = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_queue_init (&self->cache);

  gtk_widget_init_template (GTK_WIDGET (self));

  self->store = g_list_store_new (XL_TYPE_REVIEW_ITEM);
  self->custom_filter = gtk_custom_filter_new (filter_func, self, NULL);
  self->filter_model = gtk_filter_list_model_new (g_object_ref (G_LIST_MODEL (self->store)),
                                                  g_object_ref (GTK_FILTER (self->custom_filter)));
  self->sorter = gtk_custom_sorter_new (sort_func, self, NULL);
  self->sort_model = gtk_sort_list_model_new (g_object_ref (G_LIST_MODEL (self->filter_model)),
                                              g_object_ref (GTK_SORTER (self->sorter)));
  self->selection = gtk_single_selection_new (g_object_ref (G_LIST_MODEL (self->sort_model)));
  gtk_single_selection_set_autoselect (self->selection, TRUE);

  factory = gtk_signal_list_item_factory_new ();
  g_signal_connect (factory, "setup", G_CALLBACK (setup_row_cb), self);
  g_signal_connect (factory, "bind", G_CALLBACK (bind_row_cb), self);
  g_signal_connect (factory, "unbind", G_CALLBACK (unbind_row_cb), self);
  gtk_list_view_set_factory (self->list_view, factory);
  gtk_list_view_set_model (self->list_view, GTK_SELECTION_MODEL (self->selection));

  g_signal_connect_object (self->selection, "notify::selected-item",
                           G_CALLBACK (selection_changed_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->filter_model, "items-changed",
                           G_CALLBACK (filter_items_changed_cb), self, G_CONNECT_SWAPPED);

  gtk_drawing_area_set_draw_func (self->color_bar, draw_color_bar, self, NULL);

  g_signal_connect_object (self->filter_dropdown, "notify::selected",
                           G_CALLBACK (filter_selected_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->heat_switch, "notify::active",
                           G_CALLBACK (heat_switch_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->opacity_adjustment, "value-changed",
                           G_CALLBACK (opacity_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->colormap_dropdown, "notify::selected",
                           G_CALLBACK (colormap_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->layer_dropdown, "notify::selected",
                           G_CALLBACK (layer_cb), self, G_CONNECT_SWAPPED);

  g_object_bind_property (self->film_view, "fit", self->fit_button, "active",
                          G_BINDING_BIDIRECTIONAL | G_BINDING_SYNC_CREATE);
  g_object_bind_property (self->window_adjustment, "value", self->film_view, "window",
                          G_BINDING_BIDIRECTIONAL | G_BINDING_SYNC_CREATE);
  g_object_bind_property (self->level_adjustment, "value", self->film_view, "level",
                          G_BINDING_BIDIRECTIONAL | G_BINDING_SYNC_CREATE);
  g_signal_connect_object (self->film_view, "notify::zoom",
                           G_CALLBACK (zoom_changed_cb), self, G_CONNECT_SWAPPED);

  /* Up and Down walk the worklist from anywhere in the view (the list itself
   * moves its own selection when it has the focus); Ctrl+I opens an image.
   * Managed by the window, so that they work before anything here has the
   * focus; the callback declines while the view is not shown. */
  shortcuts = gtk_shortcut_controller_new ();
  gtk_shortcut_controller_set_scope (GTK_SHORTCUT_CONTROLLER (shortcuts),
                                     GTK_SHORTCUT_SCOPE_MANAGED);
  add_shortcut (GTK_SHORTCUT_CONTROLLER (shortcuts), GDK_KEY_Down, 0, "next");
  add_shortcut (GTK_SHORTCUT_CONTROLLER (shortcuts), GDK_KEY_KP_Down, 0, "next");
  add_shortcut (GTK_SHORTCUT_CONTROLLER (shortcuts), GDK_KEY_Up, 0, "previous");
  add_shortcut (GTK_SHORTCUT_CONTROLLER (shortcuts), GDK_KEY_KP_Up, 0, "previous");
  add_shortcut (GTK_SHORTCUT_CONTROLLER (shortcuts), GDK_KEY_i, GDK_CONTROL_MASK, "open");
  gtk_widget_add_controller (GTK_WIDGET (self), shortcuts);

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "review.export-overlay", FALSE);
  update_state (self);
}
