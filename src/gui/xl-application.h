/* xl-application.h
 *
 * Copyright 2026 The X-Ray Lab developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define XL_TYPE_APPLICATION (xl_application_get_type ())

G_DECLARE_FINAL_TYPE (XlApplication, xl_application, XL, APPLICATION, AdwApplication)

XlApplication *xl_application_new                     (void);
gboolean       xl_application_get_screenshot_failed   (XlApplication *self);

G_END_DECLS
