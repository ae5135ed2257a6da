/* xl-window.h
 *
 * Copyright 2026 The X-Ray Lab developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "xl-application.h"

G_BEGIN_DECLS

#define XL_TYPE_WINDOW (xl_window_get_type ())

G_DECLARE_FINAL_TYPE (XlWindow, xl_window, XL, WINDOW, AdwApplicationWindow)

XlWindow *xl_window_new (XlApplication *application);

G_END_DECLS
