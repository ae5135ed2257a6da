/* gui-test-util.c
 *
 * Copyright 2026 The X-Ray Lab developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gstdio.h>

#include "gui-test-util.h"

static gboolean
tick_cb (gpointer user_data)
{
  return G_SOURCE_CONTINUE;
}

gboolean
gui_test_wait_until (GuiTestCondition cond,
                     gpointer         user_data)
{
  return gui_test_wait_until_for (cond, user_data, GUI_TEST_WAIT_SECONDS);
}

gboolean
gui_test_wait_until_for (GuiTestCondition cond,
                         gpointer         user_data,
                         double           seconds)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) (seconds * G_USEC_PER_SEC);
  /* A timer keeps the loop turning when nothing else would wake it. */
  guint tick = g_timeout_add (10, tick_cb, NULL);
  gboolean ok = TRUE;

  while (!cond (user_data))
    {
      if (g_get_monotonic_time () > deadline)
        {
          ok = FALSE;
          break;
        }
      g_main_context_iteration (NULL, TRUE);
    }

  g_source_remove (tick);

  return ok;
}

static gboolean
count_frame_cb (GtkWidget     *widget,
                GdkFrameClock *clock,
                gpointer       user_data)
{
  guint *frames = user_data;

  if (*frames > 0)
    (*frames)--;

  return *frames > 0 ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

static gboolean
no_frames_left (gpointer user_data)
{
  return *(guint *) user_data == 0;
}

void
gui_test_paint_frames (GtkWidget *widget,
                       guint      n)
{
  guint frames = n;

  gtk_widget_queue_draw (widget);
  gtk_widget_add_tick_callback (widget, count_frame_cb, &frames, NULL);
  g_assert_true (gui_test_wait_until (no_frames_left, &frames));
}

GdkTexture *
gui_test_render (GtkWidget *widget)
{
  g_autoptr(GdkPaintable) paintable = gtk_widget_paintable_new (widget);
  g_autoptr(GtkSnapshot) snapshot = gtk_snapshot_new ();
  g_autoptr(GskRenderNode) node = NULL;
  int width = gtk_widget_get_width (widget);
  int height = gtk_widget_get_height (widget);
  GskRenderer *renderer = gtk_native_get_renderer (gtk_widget_get_native (widget));

  g_assert_cmpint (width, >, 0);
  g_assert_cmpint (height, >, 0);
  gdk_paintable_snapshot (paintable, GDK_SNAPSHOT (snapshot), width, height);
  node = gtk_snapshot_to_node (snapshot);
  g_assert_nonnull (node);

  return gsk_renderer_render_texture (renderer, node, &GRAPHENE_RECT_INIT (0, 0, width, height));
}

guint32 *
gui_test_download (GdkTexture *texture)
{
  int width = gdk_texture_get_width (texture);
  int height = gdk_texture_get_height (texture);
  guint32 *pixels = g_new (guint32, (gsize) width * height);

  gdk_texture_download (texture, (guchar *) pixels, (gsize) width * 4);

  return pixels;
}

guint
gui_test_count_distinct_colors (GdkTexture *texture)
{
  g_autoptr(GHashTable) colors = g_hash_table_new (NULL, NULL);
  gsize n = (gsize) gdk_texture_get_width (texture) * gdk_texture_get_height (texture);
  g_autofree guint32 *pixels = gui_test_download (texture);

  for (gsize i = 0; i < n; i++)
    g_hash_table_add (colors, GUINT_TO_POINTER (pixels[i]));

  return g_hash_table_size (colors);
}

void
gui_test_save_screenshot (GtkWidget  *widget,
                          const char *name)
{
  g_autoptr(GdkTexture) texture = gui_test_render (widget);
  g_autofree char *dir = g_test_build_filename (G_TEST_BUILT, "screenshots", NULL);
  g_autofree char *file = g_strconcat (name, ".png", NULL);
  g_autofree char *path = g_build_filename (dir, file, NULL);
  guint colors;

  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  g_assert_true (gdk_texture_save_to_png (texture, path));
  colors = gui_test_count_distinct_colors (texture);
  g_test_message ("%s: %dx%d, %u distinct colours", path, gdk_texture_get_width (texture),
                  gdk_texture_get_height (texture), colors);
  g_assert_cmpuint (colors, >, GUI_TEST_MIN_DISTINCT_COLORS);
}

void
gui_test_remove_tree (const char *path)
{
  g_autoptr(GDir) dir = NULL;
  const char *name;

  if (g_file_test (path, G_FILE_TEST_IS_SYMLINK) || !g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      g_remove (path);
      return;
    }

  if ((dir = g_dir_open (path, 0, NULL)))
    while ((name = g_dir_read_name (dir)))
      {
        g_autofree char *child = g_build_filename (path, name, NULL);

        gui_test_remove_tree (child);
      }
  g_rmdir (path);
}
