/* xl-parameter-count.h — how many of ResNet-18's parameters train, per mode.
 *
 * Copyright 2026 The X-Ray Lab developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Counts as torchvision does (buffers excluded) for a ResNet-18 of the given
 * stem width (64 is ResNet-18) and classes, with a plain linear head
 * (head_hidden 0) or an MLP head. Groups 0..frozen_stages-1 are frozen (0
 * fine-tunes, 5 trains only the head: nn-resnet.h). Computed from the
 * architecture, so it costs nothing to call on every change of a setting;
 * 11,177,538 in all for 2 classes at width 64. */
void xl_parameter_count (guint   width,
                         guint   n_classes,
                         guint   head_hidden,
                         int     frozen_stages,
                         guint64 *total,
                         guint64 *trainable);

G_END_DECLS
