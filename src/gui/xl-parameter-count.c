/* xl-parameter-count.c
 *
 * Copyright 2026 The X-Ray Lab developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "xl-parameter-count.h"

#define N_GROUPS 6   /* stem, layer1..layer4, fc: NN_RESNET_GROUPS */

/* A BasicBlock: two 3x3 convolutions with BatchNorm (weight and bias), and a
 * 1x1 convolution with BatchNorm on the shortcut when the shape changes. */
static guint64
basic_block (guint64  in_channels,
             guint64  out_channels,
             gboolean downsample)
{
  guint64 n = in_channels * out_channels * 9 + 2 * out_channels
            + out_channels * out_channels * 9 + 2 * out_channels;

  if (downsample)
    n += in_channels * out_channels + 2 * out_channels;

  return n;
}

void
xl_parameter_count (guint    width,
                    guint    n_classes,
                    guint    head_hidden,
                    int      frozen_stages,
                    guint64 *total,
                    guint64 *trainable)
{
  guint64 groups[N_GROUPS];
  guint64 w = width;
  guint64 features = 8 * w;
  guint64 sum = 0;
  guint64 train = 0;

  /* conv1 (w, 3, 7, 7) and bn1 */
  groups[0] = w * 3 * 7 * 7 + 2 * w;
  /* layer1..layer4: two blocks each, the first of layer2..4 downsampling */
  groups[1] = basic_block (w, w, FALSE) + basic_block (w, w, FALSE);
  for (guint stage = 2; stage <= 4; stage++)
    {
      guint64 out = w << (stage - 1);

      groups[stage] = basic_block (out / 2, out, TRUE) + basic_block (out, out, FALSE);
    }
  if (head_hidden == 0)
    groups[5] = features * n_classes + n_classes;
  else
    groups[5] = features * head_hidden + head_hidden + (guint64) head_hidden * n_classes + n_classes;

  frozen_stages = CLAMP (frozen_stages, 0, N_GROUPS - 1);
  for (int g = 0; g < N_GROUPS; g++)
    {
      sum += groups[g];
      if (g >= frozen_stages)
        train += groups[g];
    }

  if (total != NULL)
    *total = sum;
  if (trainable != NULL)
    *trainable = train;
}
