/* test-window.c: XlWindow's layout, built from its template.
 *
 * Copyright 2026 The X-Ray Lab developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include <adwaita.h>

#include "xl-window.h"

static void
test_window_has_four_pages (void)
{
  static const struct
  {
    const char *name;
    const char *title;
  } expected[] = {
    { "data", "Data" },
    { "train", "Train" },
    { "results", "Results" },
    { "review", "Review" },
  };
  g_autoptr(GtkSelectionModel) pages = NULL;
  AdwViewStack *view_stack;
  XlWindow *window;

  window = xl_window_new (NULL);
  view_stack = ADW_VIEW_STACK (gtk_widget_get_template_child (GTK_WIDGET (window),
                                                               XL_TYPE_WINDOW,
                                                               "view_stack"));
  g_assert_true (ADW_IS_VIEW_STACK (view_stack));

  pages = adw_view_stack_get_pages (view_stack);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (pages)), ==, G_N_ELEMENTS (expected));

  for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
    {
      g_autoptr(AdwViewStackPage) page = g_list_model_get_item (G_LIST_MODEL (pages), i);
      GtkWidget *child = adw_view_stack_page_get_child (page);

      g_assert_cmpstr (adw_view_stack_page_get_name (page), ==, expected[i].name);
      g_assert_cmpstr (adw_view_stack_page_get_title (page), ==, expected[i].title);
      g_assert_nonnull (adw_view_stack_page_get_icon_name (page));

      /* Each page says, for now, what it will show. */
      g_assert_true (ADW_IS_STATUS_PAGE (child));
      g_assert_cmpstr (adw_status_page_get_description (ADW_STATUS_PAGE (child)), !=, "");
    }

  g_assert_cmpstr (adw_view_stack_get_visible_child_name (view_stack), ==, "data");

  gtk_window_destroy (GTK_WINDOW (window));
}

static void
test_window_shows_notice (void)
{
  GtkLabel *notice;
  XlWindow *window;

  window = xl_window_new (NULL);
  notice = GTK_LABEL (gtk_widget_get_template_child (GTK_WIDGET (window),
                                                     XL_TYPE_WINDOW,
                                                     "notice"));

  g_assert_true (GTK_IS_LABEL (notice));
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (notice)));
  g_assert_nonnull (strstr (gtk_label_get_label (notice), "not for diagnosis"));

  gtk_window_destroy (GTK_WINDOW (window));
}

static void
test_window_default_size_from_settings (void)
{
  g_autoptr(GSettings) settings = g_settings_new (APP_ID);
  XlWindow *window;
  int width;
  int height;

  g_settings_set_int (settings, "window-width", 800);
  g_settings_set_int (settings, "window-height", 600);

  window = xl_window_new (NULL);
  gtk_window_get_default_size (GTK_WINDOW (window), &width, &height);
  g_assert_cmpint (width, ==, 800);
  g_assert_cmpint (height, ==, 600);
  gtk_window_destroy (GTK_WINDOW (window));

  g_settings_reset (settings, "window-width");
  g_settings_reset (settings, "window-height");
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  gtk_init ();
  adw_init ();

  g_test_add_func ("/gui/window/has-four-pages", test_window_has_four_pages);
  g_test_add_func ("/gui/window/shows-notice", test_window_shows_notice);
  g_test_add_func ("/gui/window/default-size-from-settings",
                   test_window_default_size_from_settings);

  return g_test_run ();
}
