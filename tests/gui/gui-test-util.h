/* gui-test-util.h — what the GUI tests share: waiting on the main loop,
 * painting frames, pictures of widgets, temporary trees.
 *
 * Copyright 2026 The X-Ray Lab developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

/* How long a condition may take before a wait fails. */
#define GUI_TEST_WAIT_SECONDS 60

/* A window with text, icons and antialiased edges has hundreds of colours;
 * a blank or single-colour failure has a handful. */
#define GUI_TEST_MIN_DISTINCT_COLORS 64

typedef gboolean (*GuiTestCondition) (gpointer user_data);

/* Runs the main loop until cond holds; FALSE after GUI_TEST_WAIT_SECONDS. */
gboolean    gui_test_wait_until            (GuiTestCondition  cond,
                                            gpointer          user_data);
/* The same with a limit of its own. */
gboolean    gui_test_wait_until_for        (GuiTestCondition  cond,
                                            gpointer          user_data,
                                            double            seconds);
/* Queues a redraw of widget and waits until n frames have been painted. */
void        gui_test_paint_frames          (GtkWidget        *widget,
                                            guint             n);
/* The widget as the renderer draws it, at its size. */
GdkTexture *gui_test_render                (GtkWidget        *widget);
/* RGBA pixels of a texture, width * height of them. */
guint32    *gui_test_download              (GdkTexture       *texture);
guint       gui_test_count_distinct_colors (GdkTexture       *texture);
/* Saves widget as screenshots/NAME.png in the test build folder and checks
 * the picture is not blank. */
void        gui_test_save_screenshot       (GtkWidget        *widget,
                                            const char       *name);
/* rm -rf that never follows a symlink. */
void        gui_test_remove_tree           (const char       *path);

G_END_DECLS
