/* xl-results-page.c
 *
 * Copyright 2026 The X-Ray Lab developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n.h>

#include "xl-results-page.h"

struct _XlResultsPage
{
  GtkWidget      parent_instance;

  XlRunFolder   *run;
  double         threshold;

  /* Template widgets */
  GtkStack      *stack;
};

G_DEFINE_FINAL_TYPE (XlResultsPage, xl_results_page, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_THRESHOLD,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum {
  SHOW_FILMS,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

void
xl_results_page_set_run (XlResultsPage *self,
                         XlRunFolder   *run)
{
  g_return_if_fail (XL_IS_RESULTS_PAGE (self));

  if (run != NULL)
    xl_run_folder_ref (run);
  g_clear_pointer (&self->run, xl_run_folder_unref);
  self->run = run;

  gtk_stack_set_visible_child_name (self->stack, run != NULL ? "results" : "empty");
  if (run != NULL)
    xl_results_page_set_threshold (self, run->info.threshold);
}

XlRunFolder *
xl_results_page_get_run (XlResultsPage *self)
{
  g_return_val_if_fail (XL_IS_RESULTS_PAGE (self), NULL);

  return self->run;
}

double
xl_results_page_get_threshold (XlResultsPage *self)
{
  g_return_val_if_fail (XL_IS_RESULTS_PAGE (self), 0.5);

  return self->threshold;
}

void
xl_results_page_set_threshold (XlResultsPage *self,
                               double         threshold)
{
  g_return_if_fail (XL_IS_RESULTS_PAGE (self));

  threshold = CLAMP (threshold, 0.0, 1.0);
  if (threshold == self->threshold)
    return;
  self->threshold = threshold;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_THRESHOLD]);
}

static void
xl_results_page_get_property (GObject    *object,
                              guint       prop_id,
                              GValue     *value,
                              GParamSpec *pspec)
{
  XlResultsPage *self = XL_RESULTS_PAGE (object);

  switch (prop_id)
    {
    case PROP_THRESHOLD:
      g_value_set_double (value, self->threshold);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
xl_results_page_set_property (GObject      *object,
                              guint         prop_id,
                              const GValue *value,
                              GParamSpec   *pspec)
{
  XlResultsPage *self = XL_RESULTS_PAGE (object);

  switch (prop_id)
    {
    case PROP_THRESHOLD:
      xl_results_page_set_threshold (self, g_value_get_double (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
xl_results_page_dispose (GObject *object)
{
  XlResultsPage *self = XL_RESULTS_PAGE (object);

  gtk_widget_dispose_template (GTK_WIDGET (self), XL_TYPE_RESULTS_PAGE);
  g_clear_pointer (&self->run, xl_run_folder_unref);

  G_OBJECT_CLASS (xl_results_page_parent_class)->dispose (object);
}

static void
xl_results_page_class_init (XlResultsPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = xl_results_page_dispose;
  object_class->get_property = xl_results_page_get_property;
  object_class->set_property = xl_results_page_set_property;

  properties[PROP_THRESHOLD] =
    g_param_spec_double ("threshold", NULL, NULL, 0.0, 1.0, 0.5,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[SHOW_FILMS] =
    g_signal_new ("show-films", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 2, G_TYPE_UINT, G_TYPE_UINT);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/xraylab/XRayLab/ui/xl-results-page.ui");
  gtk_widget_class_bind_template_child (widget_class, XlResultsPage, stack);
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
}

static void
xl_results_page_init (XlResultsPage *self)
{
  self->threshold = 0.5;
  gtk_widget_init_template (GTK_WIDGET (self));
}
