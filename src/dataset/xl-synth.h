/* xl-synth.h — the synthetic demo set: procedural chest-film phantoms.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Each film is drawn from a few dozen analytic shapes: a dark background, the
 * body and arms, two lung fields (dark), posterior and anterior ribs, the
 * clavicles, the spine and trachea, the heart shadow on the image's right
 * (the patient's left) with the aortic knob, the hila and vascular markings,
 * the diaphragm domes and the gastric bubble. Exposure, contrast, position,
 * scale, tilt, inspiration, film noise and blur vary per film; the anatomy
 * varies per patient (a patient may have 2-3 films). PNEUMONIA films carry one
 * to three soft consolidations inside a lung field ("bacteria": one or two
 * large dense ones; "virus": two or three smaller ones and a perihilar haze);
 * NORMAL films none. A research and teaching toy: nothing here is clinical.
 */
#pragma once

#include "xl-dataset.h"

G_BEGIN_DECLS

#define XL_SYNTH_N_CLASSES 2 /* "NORMAL", "PNEUMONIA" */
#define XL_SYNTH_DEFAULT_PER_CLASS 200
#define XL_SYNTH_DEFAULT_SIZE 256

typedef struct
{
  guint per_class; /* images per class in train; val gets per_class / 4 and
                      test per_class / 2 (at least 2 each) */
  guint size;      /* film height in pixels (16..8192); the width is
                      1.0-1.25 times that, as Kermany films are wider */
  guint64  seed;
  gboolean kermany_sized; /* the real set's shape, per_class ignored: train
                             1341 / 3875, val 8 / 8, test 234 / 390 */
  guint n_threads;        /* 0: one per core. The output does not depend on it. */
} XlSynthConfig;

/* per_class 200, size 256, seed 0, not Kermany-sized, all cores. */
void xl_synth_config_init (XlSynthConfig *cfg);

/* The number of films per split and class (0 NORMAL, 1 PNEUMONIA). */
void xl_synth_counts (const XlSynthConfig *cfg, guint counts[XL_N_SPLITS][XL_SYNTH_N_CLASSES]);

/* Writes out_dir/{train,val,test}/{NORMAL,PNEUMONIA}/ *.jpeg (8-bit gray JPEG,
 * quality 90, Kermany-like names: IM-0001-0001.jpeg, NORMAL2-IM-0002-0001.jpeg,
 * person12_bacteria_45.jpeg, person13_virus_46.jpeg) and
 * out_dir/consolidations.csv (header split,class,file,x,y,width,height: one row
 * per consolidation, a box around it in pixels of the written film).
 * Byte-identical output for the same (per_class or kermany_sized, size, seed).
 * out_dir is created if needed and must not hold a data set already
 * (G_IO_ERROR_EXISTS). Cancellable (G_IO_ERROR_CANCELLED; the files written so
 * far stay, consolidations.csv is written last). progress, called from the
 * calling thread, may be NULL. */
gboolean xl_synth_generate (const char          *out_dir,
                            const XlSynthConfig *cfg,
                            XlProgressFunc       progress,
                            gpointer             user_data,
                            GCancellable        *cancellable,
                            GError             **error);

G_END_DECLS
