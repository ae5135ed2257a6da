/* xl-review-page.c
 *
 * Copyright 2026 The X-Ray Lab developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n.h>

#include "xl-review-page.h"

struct _XlReviewPage
{
  GtkWidget      parent_instance;

  XlRunFolder   *run;
  double         threshold;
  XlReviewFilter filter;

  /* Template widgets */
  GtkStack      *stack;
};

G_DEFINE_FINAL_TYPE (XlReviewPage, xl_review_page, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_THRESHOLD,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

void
xl_review_page_set_run (XlReviewPage *self,
                         XlRunFolder   *run)
{
  g_return_if_fail (XL_IS_REVIEW_PAGE (self));

  if (run != NULL)
    xl_run_folder_ref (run);
  g_clear_pointer (&self->run, xl_run_folder_unref);
  self->run = run;

  gtk_stack_set_visible_child_name (self->stack, run != NULL ? "review" : "empty");
}

double
xl_review_page_get_threshold (XlReviewPage *self)
{
  g_return_val_if_fail (XL_IS_REVIEW_PAGE (self), 0.5);

  return self->threshold;
}

void
xl_review_page_set_threshold (XlReviewPage *self,
                               double         threshold)
{
  g_return_if_fail (XL_IS_REVIEW_PAGE (self));

  threshold = CLAMP (threshold, 0.0, 1.0);
  if (threshold == self->threshold)
    return;
  self->threshold = threshold;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_THRESHOLD]);
}

XlReviewFilter
xl_review_page_get_filter (XlReviewPage *self)
{
  g_return_val_if_fail (XL_IS_REVIEW_PAGE (self), XL_REVIEW_ALL);

  return self->filter;
}

void
xl_review_page_set_filter (XlReviewPage   *self,
                           XlReviewFilter  filter)
{
  g_return_if_fail (XL_IS_REVIEW_PAGE (self));

  self->filter = filter;
}

void
xl_review_page_show_cell (XlReviewPage *self,
                          guint         true_class,
                          guint         predicted_class)
{
  guint positive;

  g_return_if_fail (XL_IS_REVIEW_PAGE (self));

  if (self->run == NULL)
    return;
  positive = self->run->info.positive_class;
  if (true_class == positive)
    xl_review_page_set_filter (self, predicted_class == positive ? XL_REVIEW_TRUE_POSITIVES
                                                                 : XL_REVIEW_FALSE_NEGATIVES);
  else
    xl_review_page_set_filter (self, predicted_class == positive ? XL_REVIEW_FALSE_POSITIVES
                                                                 : XL_REVIEW_TRUE_NEGATIVES);
}

void
xl_review_page_open_files (XlReviewPage  *self,
                           GFile        **files,
                           guint          n_files)
{
  g_return_if_fail (XL_IS_REVIEW_PAGE (self));
}

static void
xl_review_page_get_property (GObject    *object,
                              guint       prop_id,
                              GValue     *value,
                              GParamSpec *pspec)
{
  XlReviewPage *self = XL_REVIEW_PAGE (object);

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
xl_review_page_set_property (GObject      *object,
                              guint         prop_id,
                              const GValue *value,
                              GParamSpec   *pspec)
{
  XlReviewPage *self = XL_REVIEW_PAGE (object);

  switch (prop_id)
    {
    case PROP_THRESHOLD:
      xl_review_page_set_threshold (self, g_value_get_double (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
xl_review_page_dispose (GObject *object)
{
  XlReviewPage *self = XL_REVIEW_PAGE (object);

  gtk_widget_dispose_template (GTK_WIDGET (self), XL_TYPE_REVIEW_PAGE);
  g_clear_pointer (&self->run, xl_run_folder_unref);

  G_OBJECT_CLASS (xl_review_page_parent_class)->dispose (object);
}

static void
xl_review_page_class_init (XlReviewPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = xl_review_page_dispose;
  object_class->get_property = xl_review_page_get_property;
  object_class->set_property = xl_review_page_set_property;

  properties[PROP_THRESHOLD] =
    g_param_spec_double ("threshold", NULL, NULL, 0.0, 1.0, 0.5,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/xraylab/XRayLab/ui/xl-review-page.ui");
  gtk_widget_class_bind_template_child (widget_class, XlReviewPage, stack);
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
}

static void
xl_review_page_init (XlReviewPage *self)
{
  self->threshold = 0.5;
  gtk_widget_init_template (GTK_WIDGET (self));
}
