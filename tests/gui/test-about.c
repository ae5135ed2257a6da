/* test-about.c: app.about opens an About window with the version, the
 * license, the developers and the data set's citation.
 *
 * Copyright 2026 The X-Ray Lab developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include <adwaita.h>

#include "xl-application.h"

static AdwAboutWindow *
find_about_window (void)
{
  GListModel *toplevels = gtk_window_get_toplevels ();

  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr(GtkWindow) window = g_list_model_get_item (toplevels, i);

      if (ADW_IS_ABOUT_WINDOW (window))
        return ADW_ABOUT_WINDOW (window);
    }

  return NULL;
}

/* Every label in the window's widget tree, one a line. */
static void
collect_labels (GtkWidget *widget,
                GString   *text)
{
  if (GTK_IS_LABEL (widget))
    g_string_append_printf (text, "%s\n", gtk_label_get_label (GTK_LABEL (widget)));

  for (GtkWidget *child = gtk_widget_get_first_child (widget);
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    collect_labels (child, text);
}

static void
test_about (void)
{
  g_autoptr(XlApplication) app = xl_application_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) labels = g_string_new (NULL);
  const char * const *developers;
  AdwAboutWindow *about;

  g_application_set_flags (G_APPLICATION (app), G_APPLICATION_NON_UNIQUE);
  g_assert_true (g_application_register (G_APPLICATION (app), NULL, &error));
  g_assert_no_error (error);

  g_assert_null (find_about_window ());
  g_action_group_activate_action (G_ACTION_GROUP (app), "about", NULL);
  about = find_about_window ();
  g_assert_nonnull (about);

  g_assert_cmpstr (adw_about_window_get_application_name (about), ==, "X-Ray Lab");
  g_assert_cmpstr (adw_about_window_get_version (about), ==, PACKAGE_VERSION);
  g_assert_cmpint (adw_about_window_get_license_type (about), ==, GTK_LICENSE_GPL_3_0);
  g_assert_cmpstr (adw_about_window_get_developer_name (about), ==, "X-Ray Lab developers");
  g_assert_cmpstr (adw_about_window_get_application_icon (about), ==, APP_ID);
  g_assert_true (g_str_has_prefix (adw_about_window_get_website (about), "https://"));

  developers = adw_about_window_get_developers (about);
  g_assert_nonnull (developers);
  g_assert_true (g_strv_contains (developers, "X-Ray Lab developers"));

  /* The credits, the acknowledgements and the legal sections are built
   * into the window's pages: look for their text there. */
  collect_labels (GTK_WIDGET (about), labels);
  g_assert_nonnull (strstr (labels->str, "doi:10.17632/rscbjbr9sj.2"));
  g_assert_nonnull (strstr (labels->str, "Cell 172(5):1122–1131, 2018"));
  g_assert_nonnull (strstr (labels->str, "CC BY 4.0"));
  g_assert_nonnull (strstr (labels->str, "Kermany"));
  g_assert_nonnull (strstr (labels->str, "ResNet-18"));

  gtk_window_destroy (GTK_WINDOW (about));
}

int
main (int    argc,
      char **argv)
{
  /* Not G_TEST_OPTION_ISOLATE_DIRS: without the system's XDG data dirs
   * there is no MIME database, and the window's SVG icons fail to load. */
  g_test_init (&argc, &argv, NULL);
  gtk_init ();
  adw_init ();

  g_test_add_func ("/gui/about/contents", test_about);

  return g_test_run ();
}
