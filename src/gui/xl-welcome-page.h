/* xl-welcome-page.h — what the window shows before a data set is open.
 *
 * Copyright 2026 The X-Ray Lab developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define XL_TYPE_WELCOME_PAGE (xl_welcome_page_get_type ())

G_DECLARE_FINAL_TYPE (XlWelcomePage, xl_welcome_page, XL, WELCOME_PAGE, GtkWidget)

/* Rows that activate win.open-recent with their path; missing ones are left out. */
void  xl_welcome_page_set_recent   (XlWelcomePage      *self,
                                    const char * const *paths);
guint xl_welcome_page_get_n_recent (XlWelcomePage      *self);

G_END_DECLS
