/* xl-welcome-page.c
 *
 * Copyright 2026 The X-Ray Lab developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n.h>

#include "xl-welcome-page.h"

#define MAX_RECENT_ROWS 8

struct _XlWelcomePage
{
  GtkWidget            parent_instance;

  guint                n_recent;

  /* Template widgets */
  AdwStatusPage       *status_page;
  AdwPreferencesGroup *recent_group;
  GtkListBox          *recent_list;
};

G_DEFINE_FINAL_TYPE (XlWelcomePage, xl_welcome_page, GTK_TYPE_WIDGET)

void
xl_welcome_page_set_recent (XlWelcomePage      *self,
                            const char * const *paths)
{
  GtkWidget *child;

  g_return_if_fail (XL_IS_WELCOME_PAGE (self));

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->recent_list))))
    gtk_list_box_remove (self->recent_list, child);
  self->n_recent = 0;

  for (guint i = 0; paths != NULL && paths[i] != NULL && self->n_recent < MAX_RECENT_ROWS; i++)
    {
      g_autofree char *title = NULL;
      GtkWidget *row;
      GtkWidget *arrow;

      if (!g_file_test (paths[i], G_FILE_TEST_EXISTS))
        continue;

      title = g_path_get_basename (paths[i]);
      row = adw_action_row_new ();
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
      adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
      adw_action_row_set_subtitle (ADW_ACTION_ROW (row), paths[i]);
      gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), TRUE);
      gtk_actionable_set_action_name (GTK_ACTIONABLE (row), "win.open-recent");
      gtk_actionable_set_action_target_value (GTK_ACTIONABLE (row), g_variant_new_string (paths[i]));
      arrow = gtk_image_new_from_icon_name ("go-next-symbolic");
      adw_action_row_add_suffix (ADW_ACTION_ROW (row), arrow);
      gtk_list_box_append (self->recent_list, row);
      self->n_recent++;
    }

  gtk_widget_set_visible (GTK_WIDGET (self->recent_group), self->n_recent > 0);
}

guint
xl_welcome_page_get_n_recent (XlWelcomePage *self)
{
  g_return_val_if_fail (XL_IS_WELCOME_PAGE (self), 0);

  return self->n_recent;
}

static void
xl_welcome_page_dispose (GObject *object)
{
  GtkWidget *child;

  gtk_widget_dispose_template (GTK_WIDGET (object), XL_TYPE_WELCOME_PAGE);

  /* GTK 4.8 leaves the template's unbound top-level child in place. */
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (object))))
    gtk_widget_unparent (child);

  G_OBJECT_CLASS (xl_welcome_page_parent_class)->dispose (object);
}

static void
xl_welcome_page_class_init (XlWelcomePageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = xl_welcome_page_dispose;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/xraylab/XRayLab/ui/xl-welcome-page.ui");
  gtk_widget_class_bind_template_child (widget_class, XlWelcomePage, status_page);
  gtk_widget_class_bind_template_child (widget_class, XlWelcomePage, recent_group);
  gtk_widget_class_bind_template_child (widget_class, XlWelcomePage, recent_list);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
}

static void
xl_welcome_page_init (XlWelcomePage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}
