/* main.c
 *
 * Copyright 2026 The X-Ray Lab developers
 *
 * This program is free software: you can redistribute it and/or modify
 * it under the terms of the GNU General Public License as published by
 * the Free Software Foundation, either version 3 of the License, or
 * (at your option) any later version.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <locale.h>

#include <glib/gi18n.h>

#include "xl-application.h"
#include "xl-renderer.h"

int
main (int    argc,
      char **argv)
{
  g_autoptr(XlApplication) app = NULL;
  int status;

  xl_renderer_apply ();
  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  g_set_application_name (_("X-Ray Lab"));

  app = xl_application_new ();
  status = g_application_run (G_APPLICATION (app), argc, argv);

  if (status == 0 && xl_application_get_screenshot_failed (app))
    status = 1;

  return status;
}
