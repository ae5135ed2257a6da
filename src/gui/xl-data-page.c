/* xl-data-page.c
 *
 * Copyright 2026 The X-Ray Lab developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n.h>

#include "xl-data-page.h"
#include "xl-film-viewer.h"
#include "xl-image-item.h"
#include "xl-thumbnail-cell.h"

/* Enough for a few thousand thumbnails at the default size: scrolling back
 * shows them at once, and memory stays bounded for the full Kermany set. */
#define THUMBNAIL_CACHE_BYTES ((gsize) 192 << 20)
/* Half the cores, at most four: the main loop and the display server need
 * the rest while the grid scrolls. One decoder keeps a thousand cells full
 * while scrolling on two cores (tests/gui/probe-frames.c). */
#define THUMBNAIL_THREADS CLAMP (g_get_num_processors () / 2, 1, 4)
/* The most skipped files listed one by one. */
#define MAX_SKIPPED_ROWS 200
/* Below this, a val split is too small to choose a model on (as the
 * session's automatic re-split decides). */
#define MIN_VAL_FILMS 100

static const int thumbnail_sizes[] = { 48, 64, 80, 112, 160, 224 };

struct _XlDataPage
{
  GtkWidget            parent_instance;

  GSettings           *settings;
  XlDataset           *dataset;
  XlThumbnailLoader   *loader;
  XlDatasetJob        *job;
  GListStore          *films;
  GtkFilterListModel  *filtered;
  GtkCustomFilter     *split_class_filter;
  GtkStringFilter     *name_filter;
  int                  filter_split;
  int                  filter_class;
  int                  thumbnail_size;
  char                *resplit_summary;
  char                *imbalance_text;
  gboolean             updating_filters;

  /* Template widgets */
  GtkStack            *stack;
  XlWelcomePage       *welcome_page;
  AdwStatusPage       *loading_page;
  GtkProgressBar      *loading_bar;
  GtkLabel            *title_label;
  GtkLabel            *path_label;
  XlSplitChart        *split_chart;
  GtkLabel            *imbalance_label;
  GtkSwitch           *resplit_switch;
  GtkAdjustment       *fraction_adjustment;
  GtkLabel            *resplit_label;
  AdwPreferencesGroup *skipped_group;
  AdwExpanderRow      *skipped_expander;
  GtkDropDown         *split_dropdown;
  GtkDropDown         *class_dropdown;
  GtkSearchEntry      *search_entry;
  GtkLabel            *count_label;
  GtkStack            *grid_stack;
  GtkScrolledWindow   *grid_scroller;
  GtkGridView         *grid_view;
};

G_DEFINE_FINAL_TYPE (XlDataPage, xl_data_page, GTK_TYPE_WIDGET)

static void xl_data_page_update_splits (XlDataPage *self);

XlWelcomePage *
xl_data_page_get_welcome_page (XlDataPage *self)
{
  g_return_val_if_fail (XL_IS_DATA_PAGE (self), NULL);

  return self->welcome_page;
}

const char *
xl_data_page_get_state (XlDataPage *self)
{
  g_return_val_if_fail (XL_IS_DATA_PAGE (self), NULL);

  return gtk_stack_get_visible_child_name (self->stack);
}

XlDataset *
xl_data_page_get_dataset (XlDataPage *self)
{
  g_return_val_if_fail (XL_IS_DATA_PAGE (self), NULL);

  return self->dataset;
}

XlSplitChart *
xl_data_page_get_split_chart (XlDataPage *self)
{
  g_return_val_if_fail (XL_IS_DATA_PAGE (self), NULL);

  return self->split_chart;
}

GListModel *
xl_data_page_get_films (XlDataPage *self)
{
  g_return_val_if_fail (XL_IS_DATA_PAGE (self), NULL);

  return G_LIST_MODEL (self->filtered);
}

GtkGridView *
xl_data_page_get_grid_view (XlDataPage *self)
{
  g_return_val_if_fail (XL_IS_DATA_PAGE (self), NULL);

  return self->grid_view;
}

XlThumbnailLoader *
xl_data_page_get_loader (XlDataPage *self)
{
  g_return_val_if_fail (XL_IS_DATA_PAGE (self), NULL);

  return self->loader;
}

const char *
xl_data_page_get_resplit_summary (XlDataPage *self)
{
  g_return_val_if_fail (XL_IS_DATA_PAGE (self), NULL);

  return self->resplit_summary;
}

const char *
xl_data_page_get_imbalance_text (XlDataPage *self)
{
  g_return_val_if_fail (XL_IS_DATA_PAGE (self), NULL);

  return self->imbalance_text;
}

gboolean
xl_data_page_get_resplit (XlDataPage *self)
{
  g_return_val_if_fail (XL_IS_DATA_PAGE (self), FALSE);

  return gtk_switch_get_active (self->resplit_switch);
}

double
xl_data_page_get_val_fraction (XlDataPage *self)
{
  g_return_val_if_fail (XL_IS_DATA_PAGE (self), 0);

  if (!gtk_switch_get_active (self->resplit_switch))
    return 0;

  return gtk_adjustment_get_value (self->fraction_adjustment);
}

void
xl_data_page_set_resplit (XlDataPage *self,
                          gboolean    resplit,
                          double      val_fraction)
{
  g_return_if_fail (XL_IS_DATA_PAGE (self));

  gtk_adjustment_set_value (self->fraction_adjustment, val_fraction);
  gtk_switch_set_active (self->resplit_switch, resplit);
}

static guint64
current_seed (XlDataPage *self)
{
  if (self->settings == NULL)
    return 1;

  return (guint64) g_settings_get_int (self->settings, "seed");
}

/* ---- The grid -------------------------------------------------------------- */

static gboolean
split_class_filter_func (gpointer item,
                         gpointer user_data)
{
  XlDataPage *self = user_data;
  XlImageItem *film = item;

  if (self->filter_split != XL_DATA_PAGE_ALL
      && (int) xl_image_item_get_split (film) != self->filter_split)
    return FALSE;

  if (self->filter_class != XL_DATA_PAGE_ALL
      && (int) xl_image_item_get_class_index (film) != self->filter_class)
    return FALSE;

  return TRUE;
}

static void
update_count (XlDataPage *self)
{
  g_autofree char *text = NULL;
  guint shown = g_list_model_get_n_items (G_LIST_MODEL (self->filtered));
  guint all = g_list_model_get_n_items (G_LIST_MODEL (self->films));

  /* Translators: films shown of all films */
  text = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%'u of %'u film", "%'u of %'u films", all),
                          shown, all);
  gtk_label_set_text (self->count_label, text);
  gtk_stack_set_visible_child_name (self->grid_stack, shown > 0 || all == 0 ? "grid" : "empty");
}

static void
setup_cell_cb (GtkSignalListItemFactory *factory,
               GtkListItem              *list_item,
               XlDataPage               *self)
{
  GtkWidget *cell = xl_thumbnail_cell_new (self->loader);

  xl_thumbnail_cell_set_size (XL_THUMBNAIL_CELL (cell), self->thumbnail_size);
  gtk_list_item_set_child (list_item, cell);
}

static void
bind_cell_cb (GtkSignalListItemFactory *factory,
              GtkListItem              *list_item,
              XlDataPage               *self)
{
  xl_thumbnail_cell_set_item (XL_THUMBNAIL_CELL (gtk_list_item_get_child (list_item)),
                              gtk_list_item_get_item (list_item));
}

static void
unbind_cell_cb (GtkSignalListItemFactory *factory,
                GtkListItem              *list_item,
                XlDataPage               *self)
{
  /* Scrolled out of view: cancel its request if no worker has it yet. */
  xl_thumbnail_cell_set_item (XL_THUMBNAIL_CELL (gtk_list_item_get_child (list_item)), NULL);
}

static void
update_loader_size (XlDataPage *self)
{
  int scale = gtk_widget_get_scale_factor (GTK_WIDGET (self));
  int width;
  int height;

  if (self->loader == NULL)
    return;

  xl_thumbnail_cell_box_size (self->thumbnail_size, &width, &height);
  xl_thumbnail_loader_set_size (self->loader, width * scale, height * scale);
}

/* A new factory rebinds every cell: at a new size, or for a new loader. */
static void
reset_factory (XlDataPage *self)
{
  g_autoptr(GtkListItemFactory) factory = NULL;

  if (self->loader == NULL)
    {
      gtk_grid_view_set_factory (self->grid_view, NULL);
      return;
    }

  factory = gtk_signal_list_item_factory_new ();
  g_signal_connect_object (factory, "setup", G_CALLBACK (setup_cell_cb), self, 0);
  g_signal_connect_object (factory, "bind", G_CALLBACK (bind_cell_cb), self, 0);
  g_signal_connect_object (factory, "unbind", G_CALLBACK (unbind_cell_cb), self, 0);
  gtk_grid_view_set_factory (self->grid_view, factory);
}

int
xl_data_page_get_thumbnail_size (XlDataPage *self)
{
  g_return_val_if_fail (XL_IS_DATA_PAGE (self), 0);

  return self->thumbnail_size;
}

void
xl_data_page_set_thumbnail_size (XlDataPage *self,
                                 int         size)
{
  g_return_if_fail (XL_IS_DATA_PAGE (self));

  size = CLAMP (size, XL_DATA_PAGE_MIN_THUMBNAIL, XL_DATA_PAGE_MAX_THUMBNAIL);
  if (size == self->thumbnail_size)
    return;

  self->thumbnail_size = size;
  if (self->settings != NULL)
    g_settings_set_int (self->settings, "thumbnail-size", size);

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "data.smaller",
                                 size > thumbnail_sizes[0]);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "data.larger",
                                 size < thumbnail_sizes[G_N_ELEMENTS (thumbnail_sizes) - 1]);

  update_loader_size (self);
  reset_factory (self);
}

static void
smaller_action (GtkWidget  *widget,
                const char *action_name,
                GVariant   *parameter)
{
  XlDataPage *self = XL_DATA_PAGE (widget);

  for (int i = G_N_ELEMENTS (thumbnail_sizes) - 1; i >= 0; i--)
    if (thumbnail_sizes[i] < self->thumbnail_size)
      {
        xl_data_page_set_thumbnail_size (self, thumbnail_sizes[i]);
        return;
      }
}

static void
larger_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  XlDataPage *self = XL_DATA_PAGE (widget);

  for (guint i = 0; i < G_N_ELEMENTS (thumbnail_sizes); i++)
    if (thumbnail_sizes[i] > self->thumbnail_size)
      {
        xl_data_page_set_thumbnail_size (self, thumbnail_sizes[i]);
        return;
      }
}

GtkWindow *
xl_data_page_open_film (XlDataPage *self,
                        guint       position)
{
  g_autoptr(XlImageItem) item = NULL;
  XlFilmViewer *viewer;
  GtkRoot *root;

  g_return_val_if_fail (XL_IS_DATA_PAGE (self), NULL);

  if (!(item = g_list_model_get_item (G_LIST_MODEL (self->filtered), position)))
    return NULL;

  root = gtk_widget_get_root (GTK_WIDGET (self));
  viewer = xl_film_viewer_new (GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                               self->dataset, xl_image_item_get_index (item));
  gtk_window_present (GTK_WINDOW (viewer));

  return GTK_WINDOW (viewer);
}

static void
grid_activate_cb (GtkGridView *grid_view,
                  guint        position,
                  XlDataPage  *self)
{
  xl_data_page_open_film (self, position);
}

/* ---- Filters --------------------------------------------------------------- */

void
xl_data_page_set_filter (XlDataPage *self,
                         int         split,
                         int         class_index,
                         const char *text)
{
  g_return_if_fail (XL_IS_DATA_PAGE (self));
  g_return_if_fail (split >= XL_DATA_PAGE_ALL && split <= XL_SPLIT_NONE);

  self->updating_filters = TRUE;
  gtk_drop_down_set_selected (self->split_dropdown, (guint) (split + 1));
  gtk_drop_down_set_selected (self->class_dropdown, (guint) (class_index + 1));
  gtk_editable_set_text (GTK_EDITABLE (self->search_entry), text != NULL ? text : "");
  self->updating_filters = FALSE;

  self->filter_split = split;
  self->filter_class = class_index;
  gtk_string_filter_set_search (self->name_filter, text != NULL && *text ? text : NULL);
  gtk_filter_changed (GTK_FILTER (self->split_class_filter), GTK_FILTER_CHANGE_DIFFERENT);
}

static void
dropdowns_changed_cb (XlDataPage *self)
{
  guint split = gtk_drop_down_get_selected (self->split_dropdown);
  guint klass = gtk_drop_down_get_selected (self->class_dropdown);

  if (self->updating_filters)
    return;

  self->filter_split = split == GTK_INVALID_LIST_POSITION ? XL_DATA_PAGE_ALL : (int) split - 1;
  self->filter_class = klass == GTK_INVALID_LIST_POSITION ? XL_DATA_PAGE_ALL : (int) klass - 1;
  gtk_filter_changed (GTK_FILTER (self->split_class_filter), GTK_FILTER_CHANGE_DIFFERENT);
}

static void
search_changed_cb (XlDataPage *self)
{
  const char *text = gtk_editable_get_text (GTK_EDITABLE (self->search_entry));

  if (self->updating_filters)
    return;

  gtk_string_filter_set_search (self->name_filter, *text ? text : NULL);
}

/* ---- Summary --------------------------------------------------------------- */

static char *
imbalance_text (XlDataPage  *self,
                const guint *train_counts)
{
  guint n_classes = xl_dataset_n_classes (self->dataset);
  guint smallest = 0;
  guint largest = 0;
  double ratio;

  if (n_classes < 2)
    return g_strdup (_("Training needs at least two class folders."));

  for (guint c = 1; c < n_classes; c++)
    {
      if (train_counts[c] < train_counts[smallest])
        smallest = c;
      if (train_counts[c] > train_counts[largest])
        largest = c;
    }

  if (train_counts[smallest] == 0)
    return g_strdup_printf (_("The train split has no %s films: the network cannot learn that class."),
                            xl_dataset_class_name (self->dataset, smallest));

  ratio = (double) train_counts[largest] / train_counts[smallest];
  if (ratio < 1.2)
    return g_strdup (_("The classes are about balanced in the train split."));

  /* Translators: "3.0 PNEUMONIA films in train for each NORMAL one. …" */
  return g_strdup_printf (_("Imbalanced: %.1f %s films in train for each %s one. "
                            "Balanced class weights (Train view) make both count alike in the loss."),
                          ratio,
                          xl_dataset_class_name (self->dataset, largest),
                          xl_dataset_class_name (self->dataset, smallest));
}

static void
xl_data_page_update_splits (XlDataPage *self)
{
  g_autofree XlResplitReport *report = NULL;
  g_autofree guint *counts = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) class_names = NULL;
  GString *summary;
  guint n_classes;
  guint n_items;
  gboolean resplit;

  if (self->dataset == NULL)
    return;

  n_classes = xl_dataset_n_classes (self->dataset);
  report = g_new0 (XlResplitReport, MAX (n_classes, 1));
  counts = g_new0 (guint, XL_SPLIT_CHART_N_ROWS * MAX (n_classes, 1));
  summary = g_string_new (NULL);

  /* The same call, seed and fraction the session makes: what is shown here
   * is what training will use. */
  resplit = gtk_switch_get_active (self->resplit_switch);
  if (resplit && !xl_dataset_resplit (self->dataset,
                                      gtk_adjustment_get_value (self->fraction_adjustment),
                                      current_seed (self), FALSE, report, &error))
    {
      g_string_append (summary, error->message);
      resplit = FALSE;
    }

  n_items = g_list_model_get_n_items (G_LIST_MODEL (self->films));
  for (guint i = 0; i < n_items; i++)
    {
      g_autoptr(XlImageItem) item = g_list_model_get_item (G_LIST_MODEL (self->films), i);
      const XlImageEntry *entry = xl_dataset_image (self->dataset, xl_image_item_get_index (item));
      XlSplit split = resplit ? entry->split : entry->scanned_split;

      xl_image_item_set_split (item, split);
      counts[split * n_classes + entry->class_index]++;
    }

  if (resplit)
    {
      guint moved_films = 0;
      guint moved_patients = 0;
      guint kept_films = 0;
      guint kept_patients = 0;
      guint set_aside = 0;

      for (guint c = 0; c < n_classes; c++)
        {
          kept_films += report[c].images[0];
          moved_films += report[c].images[1];
          kept_patients += report[c].patients[0];
          moved_patients += report[c].patients[1];
          set_aside += counts[XL_SPLIT_NONE * n_classes + c];
        }

      /* Translators: both numbers count films and patients of the train split */
      g_string_append_printf (summary,
                              _("Moves %'u films of %'u patients from train to val; "
                                "train keeps %'u films of %'u patients."),
                              moved_films, moved_patients, kept_films, kept_patients);
      if (set_aside > 0)
        {
          g_string_append_c (summary, ' ');
          g_string_append_printf (summary,
                                  g_dngettext (GETTEXT_PACKAGE,
                                               "The data set’s own val split (%'u film) is set aside.",
                                               "The data set’s own val split (%'u films) is set aside.",
                                               set_aside),
                                  set_aside);
        }
    }
  else
    {
      g_autoptr(GHashTable) patients = g_hash_table_new (g_str_hash, g_str_equal);
      guint n_val = 0;

      /* From the scanned splits: the data set may still hold an earlier
       * re-split, which cannot be undone. */
      for (guint i = 0; i < xl_dataset_n_images (self->dataset); i++)
        {
          const XlImageEntry *entry = xl_dataset_image (self->dataset, i);

          if (entry->scanned_split == XL_SPLIT_VAL)
            {
              g_hash_table_add (patients, entry->patient);
              n_val++;
            }
        }

      if (summary->len > 0)
        g_string_append_c (summary, ' ');
      if (n_val == 0)
        g_string_append (summary, _("The data set has no val split: turn the re-split on to train."));
      else
        {
          g_string_append_printf (summary,
                                  _("Validation uses the data set’s own val split: %'u films of %'u patients."),
                                  n_val, g_hash_table_size (patients));
          if (n_val < MIN_VAL_FILMS)
            {
              g_string_append_c (summary, ' ');
              g_string_append (summary, _("That is too few to choose a model on."));
            }
        }
    }

  g_free (self->resplit_summary);
  self->resplit_summary = g_string_free (summary, FALSE);
  gtk_label_set_text (self->resplit_label, self->resplit_summary);

  class_names = g_ptr_array_new ();
  for (guint c = 0; c < n_classes; c++)
    g_ptr_array_add (class_names, (gpointer) xl_dataset_class_name (self->dataset, c));
  g_ptr_array_add (class_names, NULL);
  xl_split_chart_set_counts (self->split_chart, n_classes,
                             (const char * const *) class_names->pdata, counts);

  g_free (self->imbalance_text);
  self->imbalance_text = imbalance_text (self, counts + XL_SPLIT_TRAIN * n_classes);
  gtk_label_set_text (self->imbalance_label, self->imbalance_text);

  gtk_filter_changed (GTK_FILTER (self->split_class_filter), GTK_FILTER_CHANGE_DIFFERENT);
}

static void
fill_skipped (XlDataPage *self)
{
  guint n_skipped = xl_dataset_n_skipped (self->dataset);
  g_autofree char *title = NULL;

  /* AdwExpanderRow in 1.2 has no way to remove its rows: a new one each time. */
  if (self->skipped_expander != NULL)
    adw_preferences_group_remove (self->skipped_group, GTK_WIDGET (self->skipped_expander));
  self->skipped_expander = ADW_EXPANDER_ROW (adw_expander_row_new ());
  adw_preferences_group_add (self->skipped_group, GTK_WIDGET (self->skipped_expander));

  gtk_widget_set_visible (GTK_WIDGET (self->skipped_group), n_skipped > 0);
  if (n_skipped == 0)
    return;

  title = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%'u file skipped", "%'u files skipped",
                                        n_skipped),
                           n_skipped);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->skipped_expander), title);

  for (guint i = 0; i < MIN (n_skipped, MAX_SKIPPED_ROWS); i++)
    {
      const XlSkippedFile *skipped = xl_dataset_skipped (self->dataset, i);
      g_autofree char *name = g_path_get_basename (skipped->path);
      GtkWidget *row = adw_action_row_new ();

      adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), name);
      adw_action_row_set_subtitle (ADW_ACTION_ROW (row), skipped->reason);
      gtk_widget_set_tooltip_text (row, skipped->path);
      adw_expander_row_add_row (self->skipped_expander, row);
    }

  if (n_skipped > MAX_SKIPPED_ROWS)
    {
      g_autofree char *more = g_strdup_printf (_("and %'u more (xraylab-cli stats lists them all)"),
                                               n_skipped - MAX_SKIPPED_ROWS);
      GtkWidget *row = adw_action_row_new ();

      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), more);
      adw_expander_row_add_row (self->skipped_expander, row);
    }
}

static void
fill_dropdowns (XlDataPage *self)
{
  g_autoptr(GtkStringList) classes = gtk_string_list_new (NULL);

  gtk_string_list_append (classes, _("All Classes"));
  for (guint c = 0; c < xl_dataset_n_classes (self->dataset); c++)
    gtk_string_list_append (classes, xl_dataset_class_name (self->dataset, c));

  self->updating_filters = TRUE;
  gtk_drop_down_set_model (self->class_dropdown, G_LIST_MODEL (classes));
  gtk_drop_down_set_selected (self->class_dropdown, 0);
  gtk_drop_down_set_selected (self->split_dropdown, 0);
  gtk_editable_set_text (GTK_EDITABLE (self->search_entry), "");
  self->updating_filters = FALSE;

  self->filter_split = XL_DATA_PAGE_ALL;
  self->filter_class = XL_DATA_PAGE_ALL;
  gtk_string_filter_set_search (self->name_filter, NULL);
}

void
xl_data_page_set_dataset (XlDataPage *self,
                          XlDataset  *dataset)
{
  g_autoptr(GListStore) films = NULL;
  g_autofree char *title = NULL;
  g_autoptr(GPtrArray) items = NULL;

  g_return_if_fail (XL_IS_DATA_PAGE (self));

  g_clear_object (&self->job);

  if (dataset != self->dataset)
    {
      if (dataset != NULL)
        xl_dataset_ref (dataset);
      g_clear_pointer (&self->dataset, xl_dataset_unref);
      self->dataset = dataset;
    }

  /* The cells of the old grid cancel their requests as they unbind. */
  gtk_filter_list_model_set_model (self->filtered, NULL);
  g_clear_object (&self->loader);
  reset_factory (self);

  if (dataset == NULL)
    {
      g_list_store_remove_all (self->films);
      xl_data_page_show_welcome (self);
      return;
    }

  films = g_list_store_new (XL_TYPE_IMAGE_ITEM);
  items = g_ptr_array_new_full (xl_dataset_n_images (dataset), g_object_unref);
  for (guint i = 0; i < xl_dataset_n_images (dataset); i++)
    g_ptr_array_add (items, xl_image_item_new (dataset, i));
  g_list_store_splice (films, 0, 0, items->pdata, items->len);
  g_set_object (&self->films, films);

  self->loader = xl_thumbnail_loader_new (dataset, (guint) THUMBNAIL_THREADS, THUMBNAIL_CACHE_BYTES);
  update_loader_size (self);

  title = g_path_get_basename (xl_dataset_path (dataset));
  gtk_label_set_text (self->title_label, title);
  gtk_label_set_text (self->path_label, xl_dataset_path (dataset));
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->path_label), xl_dataset_path (dataset));

  fill_dropdowns (self);
  fill_skipped (self);
  xl_data_page_update_splits (self);

  reset_factory (self);
  gtk_filter_list_model_set_model (self->filtered, G_LIST_MODEL (self->films));
  update_count (self);

  gtk_stack_set_visible_child_name (self->stack, "dataset");
}

void
xl_data_page_show_welcome (XlDataPage *self)
{
  g_return_if_fail (XL_IS_DATA_PAGE (self));

  g_clear_object (&self->job);
  gtk_stack_set_visible_child_name (self->stack, self->dataset != NULL ? "dataset" : "welcome");
}

static void
job_progress_cb (XlDataPage *self)
{
  const char *status;

  if (self->job == NULL)
    return;

  gtk_progress_bar_set_fraction (self->loading_bar, xl_dataset_job_get_fraction (self->job));
  if ((status = xl_dataset_job_get_status (self->job)))
    gtk_progress_bar_set_text (self->loading_bar, status);
}

void
xl_data_page_show_loading (XlDataPage   *self,
                           XlDatasetJob *job)
{
  g_autofree char *name = NULL;

  g_return_if_fail (XL_IS_DATA_PAGE (self));
  g_return_if_fail (XL_IS_DATASET_JOB (job));

  if (self->job != NULL)
    g_signal_handlers_disconnect_by_data (self->job, self);
  g_set_object (&self->job, job);

  g_signal_connect_object (job, "notify::fraction",
                           G_CALLBACK (job_progress_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (job, "notify::status",
                           G_CALLBACK (job_progress_cb), self, G_CONNECT_SWAPPED);

  if (xl_dataset_job_get_is_demo (job))
    adw_status_page_set_title (self->loading_page, _("Preparing the Demo Data Set…"));
  else
    {
      g_autofree char *title = NULL;

      name = g_path_get_basename (xl_dataset_job_get_path (job));
      /* Translators: %s is a folder or archive name */
      title = g_strdup_printf (_("Opening “%s”…"), name);
      adw_status_page_set_title (self->loading_page, title);
    }

  gtk_progress_bar_set_fraction (self->loading_bar, 0);
  gtk_progress_bar_set_text (self->loading_bar, _("Starting…"));
  gtk_stack_set_visible_child_name (self->stack, "loading");
}

/* ---- Settings -------------------------------------------------------------- */

static void
resplit_changed_cb (XlDataPage *self)
{
  xl_data_page_update_splits (self);
}

void
xl_data_page_set_settings (XlDataPage *self,
                           GSettings  *settings)
{
  g_return_if_fail (XL_IS_DATA_PAGE (self));
  g_return_if_fail (!settings || G_IS_SETTINGS (settings));

  if (!g_set_object (&self->settings, settings) || settings == NULL)
    return;

  g_settings_bind (settings, "resplit", self->resplit_switch, "active", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (settings, "val-fraction", self->fraction_adjustment, "value",
                   G_SETTINGS_BIND_DEFAULT);
  g_signal_connect_object (settings, "changed::seed",
                           G_CALLBACK (resplit_changed_cb), self, G_CONNECT_SWAPPED);
  xl_data_page_set_thumbnail_size (self, g_settings_get_int (settings, "thumbnail-size"));
}

static void
xl_data_page_dispose (GObject *object)
{
  GtkWidget *child;
  XlDataPage *self = (XlDataPage *) object;

  gtk_widget_dispose_template (GTK_WIDGET (self), XL_TYPE_DATA_PAGE);

  /* GTK 4.8 leaves the template's unbound top-level child in place. */
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))))
    gtk_widget_unparent (child);

  g_clear_object (&self->filtered);
  g_clear_object (&self->films);
  g_clear_object (&self->loader);
  g_clear_object (&self->job);
  g_clear_object (&self->settings);
  g_clear_pointer (&self->dataset, xl_dataset_unref);

  G_OBJECT_CLASS (xl_data_page_parent_class)->dispose (object);
}

static void
xl_data_page_finalize (GObject *object)
{
  XlDataPage *self = (XlDataPage *) object;

  g_clear_pointer (&self->resplit_summary, g_free);
  g_clear_pointer (&self->imbalance_text, g_free);

  G_OBJECT_CLASS (xl_data_page_parent_class)->finalize (object);
}

static void
xl_data_page_class_init (XlDataPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = xl_data_page_dispose;
  object_class->finalize = xl_data_page_finalize;

  g_type_ensure (XL_TYPE_SPLIT_CHART);
  g_type_ensure (XL_TYPE_WELCOME_PAGE);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/xraylab/XRayLab/ui/xl-data-page.ui");
  gtk_widget_class_bind_template_child (widget_class, XlDataPage, stack);
  gtk_widget_class_bind_template_child (widget_class, XlDataPage, welcome_page);
  gtk_widget_class_bind_template_child (widget_class, XlDataPage, loading_page);
  gtk_widget_class_bind_template_child (widget_class, XlDataPage, loading_bar);
  gtk_widget_class_bind_template_child (widget_class, XlDataPage, title_label);
  gtk_widget_class_bind_template_child (widget_class, XlDataPage, path_label);
  gtk_widget_class_bind_template_child (widget_class, XlDataPage, split_chart);
  gtk_widget_class_bind_template_child (widget_class, XlDataPage, imbalance_label);
  gtk_widget_class_bind_template_child (widget_class, XlDataPage, resplit_switch);
  gtk_widget_class_bind_template_child (widget_class, XlDataPage, fraction_adjustment);
  gtk_widget_class_bind_template_child (widget_class, XlDataPage, resplit_label);
  gtk_widget_class_bind_template_child (widget_class, XlDataPage, skipped_group);
  gtk_widget_class_bind_template_child (widget_class, XlDataPage, skipped_expander);
  gtk_widget_class_bind_template_child (widget_class, XlDataPage, split_dropdown);
  gtk_widget_class_bind_template_child (widget_class, XlDataPage, class_dropdown);
  gtk_widget_class_bind_template_child (widget_class, XlDataPage, search_entry);
  gtk_widget_class_bind_template_child (widget_class, XlDataPage, count_label);
  gtk_widget_class_bind_template_child (widget_class, XlDataPage, grid_stack);
  gtk_widget_class_bind_template_child (widget_class, XlDataPage, grid_scroller);
  gtk_widget_class_bind_template_child (widget_class, XlDataPage, grid_view);

  gtk_widget_class_install_action (widget_class, "data.smaller", NULL, smaller_action);
  gtk_widget_class_install_action (widget_class, "data.larger", NULL, larger_action);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
}

static void
xl_data_page_init (XlDataPage *self)
{
  g_autoptr(GtkStringList) splits = NULL;
  g_autoptr(GtkEveryFilter) filter = NULL;
  GtkNoSelection *selection;

  gtk_widget_init_template (GTK_WIDGET (self));

  self->filter_split = XL_DATA_PAGE_ALL;
  self->filter_class = XL_DATA_PAGE_ALL;
  self->thumbnail_size = 112;

  splits = gtk_string_list_new (NULL);
  gtk_string_list_append (splits, _("All Splits"));
  gtk_string_list_append (splits, C_("split", "Train"));
  gtk_string_list_append (splits, C_("split", "Val"));
  gtk_string_list_append (splits, C_("split", "Test"));
  gtk_string_list_append (splits, C_("split", "Set aside"));
  gtk_drop_down_set_model (self->split_dropdown, G_LIST_MODEL (splits));

  self->films = g_list_store_new (XL_TYPE_IMAGE_ITEM);
  self->split_class_filter = gtk_custom_filter_new (split_class_filter_func, self, NULL);
  self->name_filter = gtk_string_filter_new (gtk_property_expression_new (XL_TYPE_IMAGE_ITEM,
                                                                          NULL, "name"));
  gtk_string_filter_set_match_mode (self->name_filter, GTK_STRING_FILTER_MATCH_MODE_SUBSTRING);
  gtk_string_filter_set_ignore_case (self->name_filter, TRUE);

  filter = gtk_every_filter_new ();
  gtk_multi_filter_append (GTK_MULTI_FILTER (filter), GTK_FILTER (self->split_class_filter));
  gtk_multi_filter_append (GTK_MULTI_FILTER (filter), GTK_FILTER (self->name_filter));
  self->filtered = gtk_filter_list_model_new (NULL, GTK_FILTER (g_steal_pointer (&filter)));
  /* The list model takes the filters; keep pointers to change them. */
  selection = gtk_no_selection_new (G_LIST_MODEL (g_object_ref (self->filtered)));
  gtk_grid_view_set_model (self->grid_view, GTK_SELECTION_MODEL (selection));
  g_object_unref (selection);

  g_signal_connect_object (self->filtered, "items-changed",
                           G_CALLBACK (update_count), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->grid_view, "activate",
                           G_CALLBACK (grid_activate_cb), self, 0);
  g_signal_connect_object (self->split_dropdown, "notify::selected",
                           G_CALLBACK (dropdowns_changed_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->class_dropdown, "notify::selected",
                           G_CALLBACK (dropdowns_changed_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->search_entry, "search-changed",
                           G_CALLBACK (search_changed_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->resplit_switch, "notify::active",
                           G_CALLBACK (resplit_changed_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->fraction_adjustment, "value-changed",
                           G_CALLBACK (resplit_changed_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self, "notify::scale-factor",
                           G_CALLBACK (update_loader_size), self, G_CONNECT_SWAPPED);

  gtk_widget_set_visible (GTK_WIDGET (self->skipped_group), FALSE);
  gtk_switch_set_active (self->resplit_switch, TRUE);
}
