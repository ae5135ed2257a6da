/* xl-synth.c — procedural chest-film phantoms written as a Kermany-shaped set.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Geometry is analytic and lives in "anatomical" coordinates: units of the film
 * height, x from the body's midline (positive towards the image's right, the
 * patient's left), y from the top. Each pixel is mapped back into those
 * coordinates through the film's shift, scale and tilt, its attenuation summed
 * from the shapes, and the result mapped through the film's exposure curve,
 * grain and blur. Every random draw comes from a generator seeded by the set's
 * seed and the patient's or the film's number, so the output is the same
 * whatever the thread count.
 */
#include "config.h"

#include "xl-synth.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#include <glib/gstdio.h>
#include <turbojpeg.h>

#include "nn-rng.h"

#define MAX_CONSOLIDATIONS 3
#define MAX_LOBES 4
#define JPEG_QUALITY 90
#define GAMMA_STEPS 1024u

static const char *const class_names[XL_SYNTH_N_CLASSES] = { "NORMAL", "PNEUMONIA" };

/* Kermany et al.'s split as distributed: [split][NORMAL, PNEUMONIA]. */
static const guint kermany_counts[XL_N_SPLITS][XL_SYNTH_N_CLASSES] = {
  { 1341, 3875 },
  { 8, 8 },
  { 234, 390 },
};

typedef struct
{
  int   side; /* 0: image left (patient's right), 1: image right */
  guint n_lobes;
  float lobe_x[MAX_LOBES], lobe_y[MAX_LOBES];
  float lobe_inv_sx2[MAX_LOBES], lobe_inv_sy2[MAX_LOBES]; /* 1 / (2 sigma^2) */
  float lobe_weight[MAX_LOBES];
  float amplitude;
  float center_x, center_y;
  float extent; /* radius that holds all of it */
} Consolidation;

typedef struct
{
  guint x, y, width, height;
} Box;

typedef struct
{
  float   neck, torso, shoulder_y, arm_w;
  float   apex_y[2], base_y[2], lateral[2], medial, dome;
  float   heart_x, heart_y, heart_rx, heart_ry, heart_cos, heart_sin;
  float   knob_x, knob_y, knob_r;
  float   rib_y0, rib_spacing, rib_thick;
  float   ant_y0, ant_spacing;
  float   clavicle_y, clavicle_slope;
  float   spine_w, vertebra_period, trachea_x;
  float   hilum_y[2];
  float   bubble_x, bubble_y, bubble_r; /* bubble_r 0: no gastric bubble seen */
  guint32 texture_seed;
} Anatomy;

typedef struct
{
  guint         width, height;
  float         shift_x, shift_y, scale, cos_a, sin_a;
  float         inspiration;
  float         gain, offset, gamma, heel;
  float         grain, blur_px, mottle;
  float         haze; /* perihilar haze of viral films */
  guint         n_cons;
  Consolidation cons[MAX_CONSOLIDATIONS];
} FilmParams;

typedef struct
{
  XlSplit  split;
  guint    class_index;
  char    *name;
  guint64  patient_seed, film_seed;
  gboolean virus;
  guint    n_boxes;
  Box      boxes[MAX_CONSOLIDATIONS];
} Film;

static guint64
mix64 (guint64 z)
{
  z += 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

static guint64
seed_for (guint64 seed, guint64 stream, guint64 number)
{
  return mix64 (mix64 (seed ^ mix64 (stream)) ^ number);
}

static inline float
uniform (NnRng *rng, float lo, float hi)
{
  return lo + (hi - lo) * (float) nn_rng_uniform (rng);
}

/* 0 at a, 1 at b, smooth in between; a may be above b. */
static inline float
ramp (float a, float b, float x)
{
  float t = CLAMP ((x - a) / (b - a), 0.0f, 1.0f);

  return t * t * (3.0f - 2.0f * t);
}

static inline float
sq (float x)
{
  return x * x;
}

static inline float
lattice (guint32 seed, int ix, int iy)
{
  guint32 h = seed ^ ((guint32) ix * 0x27d4eb2du) ^ ((guint32) iy * 0x165667b1u);

  h ^= h >> 15;
  h *= 0x85ebca6bu;
  h ^= h >> 13;
  h *= 0xc2b2ae35u;
  h ^= h >> 16;
  return (float) (h & 0xffffffu) * (2.0f / (float) 0xffffffu) - 1.0f;
}

/* Smooth value noise in [-1, 1] with one lattice cell per unit. */
static float
value_noise (guint32 seed, float x, float y)
{
  float fx = floorf (x), fy = floorf (y);
  int   ix = (int) fx, iy = (int) fy;
  float tx = x - fx, ty = y - fy;
  float a, b, c, d;

  tx = tx * tx * (3.0f - 2.0f * tx);
  ty = ty * ty * (3.0f - 2.0f * ty);
  a = lattice (seed, ix, iy);
  b = lattice (seed, ix + 1, iy);
  c = lattice (seed, ix, iy + 1);
  d = lattice (seed, ix + 1, iy + 1);
  return (a + (b - a) * tx) + ((c + (d - c) * tx) - (a + (b - a) * tx)) * ty;
}

static void
anatomy_init (Anatomy *an, guint64 patient_seed)
{
  NnRng rng;
  float tilt;

  nn_rng_seed (&rng, patient_seed);
  an->neck = uniform (&rng, 0.06f, 0.085f);
  an->torso = uniform (&rng, 0.39f, 0.45f);
  an->shoulder_y = uniform (&rng, 0.09f, 0.14f);
  an->arm_w = uniform (&rng, 0.07f, 0.11f);
  an->apex_y[0] = uniform (&rng, 0.15f, 0.20f);
  an->apex_y[1] = an->apex_y[0] + uniform (&rng, -0.01f, 0.015f);
  /* The right hemidiaphragm (image left) sits higher: the liver is under it. */
  an->base_y[1] = uniform (&rng, 0.74f, 0.80f);
  an->base_y[0] = an->base_y[1] - uniform (&rng, 0.01f, 0.04f);
  an->lateral[0] = an->torso - uniform (&rng, 0.02f, 0.035f);
  an->lateral[1] = an->torso - uniform (&rng, 0.02f, 0.035f);
  an->medial = uniform (&rng, 0.045f, 0.06f);
  an->dome = uniform (&rng, 0.05f, 0.08f);
  an->heart_x = uniform (&rng, 0.04f, 0.07f);
  an->heart_y = an->base_y[1] - uniform (&rng, 0.12f, 0.16f);
  an->heart_rx = uniform (&rng, 0.14f, 0.18f);
  an->heart_ry = uniform (&rng, 0.10f, 0.13f);
  tilt = uniform (&rng, 0.25f, 0.5f);
  an->heart_cos = cosf (tilt);
  an->heart_sin = sinf (tilt);
  an->knob_x = uniform (&rng, 0.035f, 0.05f);
  an->knob_y = an->apex_y[1] + uniform (&rng, 0.14f, 0.18f);
  an->knob_r = uniform (&rng, 0.03f, 0.042f);
  an->rib_y0 = an->apex_y[0] - uniform (&rng, 0.01f, 0.03f);
  an->rib_spacing = uniform (&rng, 0.055f, 0.065f);
  an->rib_thick = uniform (&rng, 0.016f, 0.021f);
  an->ant_y0 = an->apex_y[0] + uniform (&rng, 0.06f, 0.09f);
  an->ant_spacing = uniform (&rng, 0.075f, 0.09f);
  an->clavicle_y = an->shoulder_y + uniform (&rng, 0.05f, 0.08f);
  an->clavicle_slope = uniform (&rng, 0.15f, 0.3f);
  an->spine_w = uniform (&rng, 0.028f, 0.036f);
  an->vertebra_period = uniform (&rng, 0.045f, 0.055f);
  an->trachea_x = uniform (&rng, -0.01f, 0.01f);
  an->hilum_y[1] = uniform (&rng, 0.38f, 0.44f);
  an->hilum_y[0] = an->hilum_y[1] + uniform (&rng, 0.0f, 0.03f);
  if (nn_rng_uniform (&rng) < 0.7)
    {
      an->bubble_x = uniform (&rng, 0.12f, 0.22f);
      an->bubble_y = an->base_y[1] + uniform (&rng, 0.03f, 0.06f);
      an->bubble_r = uniform (&rng, 0.025f, 0.045f);
    }
  else
    an->bubble_r = 0;
  an->texture_seed = (guint32) nn_rng_next (&rng);
}

/* How much of lung `side` lies at (ax, ay): 1 inside, 0 outside, soft edges. */
static float
lung_mask (const Anatomy *an, float inspiration, int side, float ax, float ay)
{
  const float e = 0.012f;
  float       d = side == 0 ? -ax : ax;
  float       apex = an->apex_y[side];
  float       base = an->base_y[side] + inspiration;
  float       lat = an->lateral[side];
  float       med = an->medial;
  float       width = lat - med;
  float       t, lateral_edge, medial_edge, top, dome_y, u;

  if (d < med - e || d > lat + e || ay < apex - e || ay > base + e)
    return 0;

  t = CLAMP ((ay - apex) / (base - apex), 0.0f, 1.0f);
  lateral_edge = med + width * (0.35f + 0.65f * sqrtf (t));
  medial_edge = med + 0.02f * t;
  /* A rounded apex, highest a little medial of the lung's middle. */
  top = apex + 0.15f / sq (0.6f * width) * sq (d - (med + 0.4f * width));
  /* The diaphragm's dome, lowest at the lateral costophrenic angle. */
  u = CLAMP ((d - med) / width, 0.0f, 1.0f);
  dome_y = base - an->dome * (1.0f - sq ((u - 0.35f) / 0.65f));

  return ramp (top - e, top + e, ay) * ramp (dome_y + e, dome_y - e, ay) *
         ramp (medial_edge - e, medial_edge + e, d) * ramp (lateral_edge + e, lateral_edge - e, d);
}

static float
heart_mask (const Anatomy *an, float ax, float ay)
{
  float hx = ax - an->heart_x, hy = ay - an->heart_y;
  float u = (hx * an->heart_cos + hy * an->heart_sin) / an->heart_rx;
  float v = (-hx * an->heart_sin + hy * an->heart_cos) / an->heart_ry;
  float r2 = u * u + v * v;
  float knob;

  knob = sq (ax - an->knob_x) + 0.5f * sq (ay - an->knob_y);
  knob = ramp (an->knob_r * 1.3f, an->knob_r * 0.6f, sqrtf (knob));
  if (r2 > 1.26f)
    return knob;
  return MAX (ramp (1.12f, 0.85f, sqrtf (r2)), knob);
}

/* Posterior and anterior ribs of one side, d >= 0. */
static float
bones (const Anatomy *an, int side, float d, float ay)
{
  float lat = an->lateral[side];
  float t = d / lat;
  float sum = 0, fade;

  if (d < 0.012f || d > an->torso + 0.01f)
    return 0;
  fade = ramp (an->torso + 0.01f, an->torso - 0.03f, d);

  for (int i = 0; i < 11; i++)
    {
      float y0 = an->rib_y0 + an->rib_spacing * (float) i * (1.0f + 0.03f * (float) i);
      float th = an->rib_thick * (0.85f + 0.03f * (float) i);
      float yc = y0 - 0.04f * t + 0.16f * t * t;
      float dy = ay - yc;

      if (fabsf (dy) >= th)
        continue;
      /* A flat band whose lower cortex is a little denser. */
      sum += ramp (th, 0.55f * th, fabsf (dy)) * (0.8f + 0.3f * ramp (0.0f, th, dy)) *
             ramp (0.012f, 0.05f, d);
    }

  if (t > 0.3f && t < 1.15f)
    {
      for (int j = 0; j < 6; j++)
        {
          float ya = an->ant_y0 + an->ant_spacing * (float) j;
          float yc = ya + 0.16f * (1.0f - t);
          float th = 0.7f * an->rib_thick;
          float dy = fabsf (ay - yc);

          if (dy < th)
            sum += 0.45f * ramp (th, 0.5f * th, dy) * ramp (0.3f, 0.5f, t);
        }
    }

  return sum * fade;
}

static float
clavicle (const Anatomy *an, float d, float ay)
{
  float yc, th = 0.019f, dy;

  if (d < 0.02f || d > 0.32f)
    return 0;
  /* From the sternal end up and out to the shoulder, with a gentle S. */
  yc = an->clavicle_y - an->clavicle_slope * (d - 0.03f) + 0.9f * sq (d - 0.15f) -
       2.5f * sq (d - 0.15f) * (d - 0.15f);
  dy = fabsf (ay - yc);
  if (dy >= th)
    return 0;
  return ramp (th, 0.45f * th, dy) * ramp (0.02f, 0.05f, d) * ramp (0.32f, 0.27f, d);
}

static float
consolidation_value (const Consolidation *c, float ax, float ay)
{
  float s = 0;

  if (fabsf (ax - c->center_x) > c->extent || fabsf (ay - c->center_y) > c->extent)
    return 0;
  for (guint k = 0; k < c->n_lobes; k++)
    s += c->lobe_weight[k] * expf (-(sq (ax - c->lobe_x[k]) * c->lobe_inv_sx2[k] +
                                     sq (ay - c->lobe_y[k]) * c->lobe_inv_sy2[k]));
  /* Saturates where lobes overlap, as dense lung cannot get denser than tissue. */
  return c->amplitude * (1.0f - expf (-1.6f * s));
}

static float
vessels (const Anatomy *an, int side, float d, float ay, float lung)
{
  float hx = d - 0.085f, hy = ay - an->hilum_y[side];
  float r = sqrtf (hx * hx + hy * hy);
  float theta, ridge, fine;

  if (lung <= 0)
    return 0;
  theta = atan2f (hy, hx);
  /* Slow along the radius, fast across it: streaks fanning out of the hilum,
   * thinner and fainter towards the periphery. */
  ridge = 1.0f - fabsf (value_noise (an->texture_seed + (guint32) side, theta * 7.0f, r * 4.0f) +
                        0.5f * value_noise (an->texture_seed + 7u + (guint32) side, theta * 16.0f,
                                            r * 10.0f));
  ridge = CLAMP (ridge, 0.0f, 1.0f);
  ridge = ridge * ridge * ridge * ridge;
  fine = value_noise (an->texture_seed ^ 0x5bd1e995u, d * 60.0f, ay * 60.0f);
  return lung * (0.06f * ridge * ramp (0.45f, 0.05f, r) + 0.012f * fine);
}

static inline void
film_to_anatomy (const FilmParams *fp, guint x, guint y, float *ax, float *ay)
{
  float h = (float) fp->height;
  float px = ((float) x + 0.5f - 0.5f * (float) fp->width) / h - fp->shift_x;
  float py = ((float) y + 0.5f) / h - 0.5f - fp->shift_y;

  *ax = (fp->cos_a * px + fp->sin_a * py) / fp->scale;
  *ay = (-fp->sin_a * px + fp->cos_a * py) / fp->scale + 0.5f;
}

static inline void
anatomy_to_film (const FilmParams *fp, float ax, float ay, float *x, float *y)
{
  float h = (float) fp->height;
  float px = fp->scale * (fp->cos_a * ax - fp->sin_a * (ay - 0.5f));
  float py = fp->scale * (fp->sin_a * ax + fp->cos_a * (ay - 0.5f));

  *x = (px + fp->shift_x) * h + 0.5f * (float) fp->width - 0.5f;
  *y = (py + fp->shift_y + 0.5f) * h - 0.5f;
}

/* The film's attenuation at (ax, ay): about 0 for air, 0.45 for the mediastinum. */
static float
attenuation (const Anatomy *an, const FilmParams *fp, float ax, float ay)
{
  float abs_x = fabsf (ax);
  float hw, body, arm, arm_u, lungs[2], lung, heart, spine, trachea, bone, hila, texture, a;
  float cons = 0, abdomen, base, mediastinum;

  hw =
      an->neck + (an->torso - an->neck) * ramp (an->shoulder_y - 0.10f, an->shoulder_y + 0.03f, ay);
  hw *= 1.0f + 0.04f * sinf ((float) G_PI * CLAMP ((ay - 0.15f) / 0.8f, 0.0f, 1.0f)) -
        0.1f * MAX (ay - 0.75f, 0.0f);
  /* Soft tissue is a rounded slab: thinner, so darker, towards its edges. */
  body = ramp (hw + 0.02f, hw - 0.01f, abs_x) *
         (0.4f + 0.6f * sqrtf (MAX (0.0f, 1.0f - sq (abs_x / (hw + 0.01f)))));
  /* Children are filmed with their arms raised: soft tissue above the
   * shoulders, towards the film's upper corners. */
  arm_u = (abs_x - (an->torso - 0.02f)) / an->arm_w;
  arm = ramp (1.0f, 0.3f, fabsf (arm_u)) * ramp (an->shoulder_y + 0.02f, an->shoulder_y - 0.1f, ay);

  heart = heart_mask (an, ax, ay);
  lungs[0] = lung_mask (an, fp->inspiration, 0, ax, ay);
  lungs[1] = lung_mask (an, fp->inspiration, 1, ax, ay);
  base = 0.5f * (an->base_y[0] + an->base_y[1]) + fp->inspiration;
  /* The heart lies in front of the lung; the breasts and the diaphragm's
   * slope veil the bases a little. */
  lung = (lungs[0] + lungs[1]) * (1.0f - 0.88f * heart) *
         (1.0f - 0.18f * ramp (an->hilum_y[0], base, ay));

  spine = ramp (an->spine_w + 0.006f, an->spine_w - 0.006f, abs_x) *
          (0.75f + 0.25f * cosf (2.0f * (float) G_PI * ay / an->vertebra_period)) *
          ramp (0.0f, 0.12f, ay);
  trachea = ramp (0.02f, 0.011f, fabsf (ax - an->trachea_x)) * ramp (0.36f, 0.3f, ay);
  bone = ax < 0 ? bones (an, 0, -ax, ay) : bones (an, 1, ax, ay);
  bone *= body * (0.35f + 0.65f * lung) * ramp (base + 0.05f, base - 0.03f, ay);
  bone += 0.9f * body * clavicle (an, abs_x, ay);
  hila = 0.05f * (expf (-(sq (ax + 0.085f) + sq (ay - an->hilum_y[0])) / (2 * sq (0.03f))) +
                  expf (-(sq (ax - 0.085f) + sq (ay - an->hilum_y[1])) / (2 * sq (0.03f))));
  texture = ax < 0 ? vessels (an, 0, -ax, ay, lungs[0]) : vessels (an, 1, ax, ay, lungs[1]);
  abdomen = ramp (base - an->dome, base + 0.05f, ay);
  mediastinum = ramp (an->medial + 0.04f, an->medial - 0.01f, abs_x) *
                ramp (an->apex_y[0] - 0.04f, an->apex_y[0] + 0.1f, ay);

  for (guint k = 0; k < fp->n_cons; k++)
    {
      const Consolidation *c = &fp->cons[k];
      cons += consolidation_value (c, ax, ay) * lungs[c->side];
    }
  /* Air-space disease is fluffy, not smooth. */
  if (cons > 0)
    cons *= 0.8f + 0.2f * value_noise (an->texture_seed ^ 0x9e3779b9u, ax * 45.0f, ay * 45.0f);
  if (fp->haze > 0)
    cons += fp->haze * lung *
            (expf (-(sq (ax + 0.1f) + sq (ay - an->hilum_y[0])) / (2 * sq (0.09f))) +
             expf (-(sq (ax - 0.1f) + sq (ay - an->hilum_y[1])) / (2 * sq (0.09f))));

  a = 0.36f * body + 0.12f * arm + 0.1f * abdomen * body +
      0.08f * MAX (heart, mediastinum) * (1.0f - abdomen) * body - 0.22f * lung + 0.08f * spine -
      0.06f * trachea * body + 0.13f * bone + hila * body + texture + cons * (1.0f - 0.7f * heart);
  if (an->bubble_r > 0)
    a -= 0.06f * ramp (an->bubble_r, 0.6f * an->bubble_r,
                       sqrtf (sq ((ax - an->bubble_x) * 0.7f) + sq (ay - an->bubble_y)));
  return a;
}

static void
consolidation_init (Consolidation    *c,
                    const Anatomy    *an,
                    const FilmParams *fp,
                    NnRng            *rng,
                    gboolean          virus,
                    gboolean          first)
{
  /* Large and dense enough to see, and to learn, at the 64 px the tests train at. */
  float    sigma = virus ? uniform (rng, 0.05f, 0.075f) : uniform (rng, 0.07f, 0.1f);
  float    cx = 0, cy = 0, max_reach = 0;
  gboolean placed = FALSE;

  /* Lobar bacterial pneumonia favours the right lower lobe (image left). */
  c->side = first && !virus ? (nn_rng_uniform (rng) < 0.6 ? 0 : 1) : (int) nn_rng_below (rng, 2);
  c->amplitude = virus ? uniform (rng, 0.24f, 0.32f) : uniform (rng, 0.3f, 0.4f);

  for (int attempt = 0; attempt < 64 && !placed; attempt++)
    {
      int   side = c->side;
      float d = uniform (rng, an->medial + 0.04f, an->lateral[side] - 0.035f);
      cy = uniform (rng, an->apex_y[side] + 0.10f, an->base_y[side] + fp->inspiration - 0.05f);
      cx = side == 0 ? -d : d;
      placed =
          lung_mask (an, fp->inspiration, side, cx, cy) > 0.98f && heart_mask (an, cx, cy) < 0.05f;
    }
  if (!placed)
    {
      c->side = 0;
      cx = -(an->medial + 0.5f * (an->lateral[0] - an->medial));
      cy = 0.5f * (an->hilum_y[0] + an->base_y[0]);
    }

  c->center_x = cx;
  c->center_y = cy;
  c->n_lobes = 2 + (guint) nn_rng_below (rng, MAX_LOBES - 1);
  for (guint k = 0; k < c->n_lobes; k++)
    {
      float sx = sigma * uniform (rng, 0.5f, 0.95f);
      float sy = sigma * uniform (rng, 0.5f, 0.95f);
      float ox = k == 0 ? 0 : sigma * uniform (rng, -0.8f, 0.8f);
      float oy = k == 0 ? 0 : sigma * uniform (rng, -0.8f, 0.8f);

      c->lobe_x[k] = cx + ox;
      c->lobe_y[k] = cy + oy;
      c->lobe_inv_sx2[k] = 1.0f / (2.0f * sx * sx);
      c->lobe_inv_sy2[k] = 1.0f / (2.0f * sy * sy);
      c->lobe_weight[k] = k == 0 ? 1.0f : uniform (rng, 0.4f, 0.9f);
      max_reach = MAX (max_reach, MAX (fabsf (ox), fabsf (oy)) + 3.5f * MAX (sx, sy));
    }
  c->extent = max_reach;
}

static void
film_params_init (FilmParams *fp, const Anatomy *an, const Film *film, guint size)
{
  NnRng rng;
  float angle;

  nn_rng_seed (&rng, film->film_seed);
  fp->height = size;
  fp->width = (guint) lrintf ((float) size * uniform (&rng, 1.0f, 1.25f));
  fp->shift_x = uniform (&rng, -0.035f, 0.035f);
  fp->shift_y = uniform (&rng, -0.03f, 0.03f);
  fp->scale = uniform (&rng, 0.98f, 1.12f);
  angle = uniform (&rng, -3.0f, 3.0f) * (float) G_PI / 180.0f;
  fp->cos_a = cosf (angle);
  fp->sin_a = sinf (angle);
  fp->inspiration = uniform (&rng, -0.025f, 0.02f);
  fp->gain = uniform (&rng, 1.3f, 1.7f);
  fp->offset = uniform (&rng, 0.02f, 0.09f);
  fp->gamma = uniform (&rng, 0.8f, 1.25f);
  fp->heel = uniform (&rng, -0.04f, 0.04f);
  fp->grain = uniform (&rng, 0.01f, 0.028f);
  fp->blur_px = uniform (&rng, 0.7f, 1.5f) * (float) size / 256.0f;
  fp->mottle = uniform (&rng, 0.01f, 0.04f);
  fp->haze = 0;
  fp->n_cons = 0;

  if (film->class_index == 1)
    {
      if (film->virus)
        {
          fp->n_cons = 2 + (guint) nn_rng_below (&rng, 2);
          fp->haze = uniform (&rng, 0.03f, 0.05f);
        }
      else
        fp->n_cons = nn_rng_uniform (&rng) < 0.75 ? 1 : 2;
      for (guint k = 0; k < fp->n_cons; k++)
        consolidation_init (&fp->cons[k], an, fp, &rng, film->virus, k == 0);
    }
}

static void
gaussian_blur (float *img, float *tmp, guint width, guint height, float sigma)
{
  const int         radius = MIN ((int) ceilf (3.0f * sigma), 31);
  const int         taps = 2 * radius + 1;
  g_autofree float *row = g_new (float, width + 2 * (guint) radius);
  float             kernel[63];
  float             sum = 0;

  for (int i = 0; i < taps; i++)
    sum += kernel[i] = expf (-(float) ((i - radius) * (i - radius)) / (2.0f * sigma * sigma));
  for (int i = 0; i < taps; i++)
    kernel[i] /= sum;

  /* Rows, each padded with copies of its edge pixels. */
  for (guint y = 0; y < height; y++)
    {
      const float *src = img + (gsize) y * width;
      float       *dst = tmp + (gsize) y * width;

      for (int i = 0; i < radius; i++)
        {
          row[i] = src[0];
          row[(guint) radius + width + (guint) i] = src[width - 1];
        }
      memcpy (row + radius, src, width * sizeof (float));
      for (guint x = 0; x < width; x++)
        {
          float acc = 0;
          for (int i = 0; i < taps; i++)
            acc += kernel[i] * row[x + (guint) i];
          dst[x] = acc;
        }
    }

  /* Columns, a whole row at a time, the edge rows repeated. */
  for (guint y = 0; y < height; y++)
    {
      float *dst = img + (gsize) y * width;

      memset (dst, 0, width * sizeof (float));
      for (int i = 0; i < taps; i++)
        {
          int          yy = CLAMP ((int) y + i - radius, 0, (int) height - 1);
          const float *src = tmp + (gsize) yy * width;
          const float  k = kernel[i];

          for (guint x = 0; x < width; x++)
            dst[x] += k * src[x];
        }
    }
}

/* Film grain: a sum of four 16-bit uniforms (Irwin-Hall) scaled to unit
 * variance, near enough to a normal and four times cheaper than Box-Muller. */
static inline float
grain_noise (NnRng *rng)
{
  guint64 r = nn_rng_next (rng);
  float   s = (float) (r & 0xffff) + (float) ((r >> 16) & 0xffff) + (float) ((r >> 32) & 0xffff) +
            (float) (r >> 48);

  return (s * (1.0f / 65536.0f) - 2.0f) * 1.7320508f;
}

/* The box around consolidation c: the pixels where it reaches a quarter of its
 * peak, inside its lung. */
static gboolean
consolidation_box (const Anatomy *an, const FilmParams *fp, const Consolidation *c, Box *box)
{
  float fx, fy, reach = c->extent * fp->scale * (float) fp->height + 2.0f;
  int   x0, x1, y0, y1;
  float peak = 0;
  int   bx0 = G_MAXINT, by0 = G_MAXINT, bx1 = -1, by1 = -1;

  anatomy_to_film (fp, c->center_x, c->center_y, &fx, &fy);
  x0 = CLAMP ((int) floorf (fx - reach), 0, (int) fp->width - 1);
  x1 = CLAMP ((int) ceilf (fx + reach), 0, (int) fp->width - 1);
  y0 = CLAMP ((int) floorf (fy - reach), 0, (int) fp->height - 1);
  y1 = CLAMP ((int) ceilf (fy + reach), 0, (int) fp->height - 1);

  for (int pass = 0; pass < 2; pass++)
    for (int y = y0; y <= y1; y++)
      for (int x = x0; x <= x1; x++)
        {
          float ax, ay, v;

          film_to_anatomy (fp, (guint) x, (guint) y, &ax, &ay);
          v = consolidation_value (c, ax, ay) * lung_mask (an, fp->inspiration, c->side, ax, ay);
          if (pass == 0)
            peak = MAX (peak, v);
          else if (v >= 0.25f * peak)
            {
              bx0 = MIN (bx0, x);
              by0 = MIN (by0, y);
              bx1 = MAX (bx1, x);
              by1 = MAX (by1, y);
            }
        }
  if (peak <= 0 || bx1 < 0)
    return FALSE;
  box->x = (guint) bx0;
  box->y = (guint) by0;
  box->width = (guint) (bx1 - bx0 + 1);
  box->height = (guint) (by1 - by0 + 1);
  return TRUE;
}

/* Renders one film into a newly allocated 8-bit buffer and fills its boxes. */
static guint8 *
render_film (Film *film, guint size, guint *width_out, guint *height_out)
{
  Anatomy    an;
  FilmParams fp;
  NnRng      grain_rng;
  float     *img, *tmp;
  float      gamma_lut[GAMMA_STEPS + 1];
  guint8    *pixels;
  gsize      n;

  anatomy_init (&an, film->patient_seed);
  film_params_init (&fp, &an, film, size);
  nn_rng_seed (&grain_rng, film->film_seed ^ 0x677261696eull);
  n = (gsize) fp.width * fp.height;
  img = g_new (float, n);
  tmp = g_new (float, n);

  /* The exposure curve v^gamma, tabulated. */
  for (guint i = 0; i <= GAMMA_STEPS; i++)
    gamma_lut[i] = powf ((float) i / GAMMA_STEPS, fp.gamma);

  for (guint y = 0; y < fp.height; y++)
    for (guint x = 0; x < fp.width; x++)
      {
        float ax, ay, a, v, mottle, t;
        guint i;

        film_to_anatomy (&fp, x, y, &ax, &ay);
        a = attenuation (&an, &fp, ax, ay);
        mottle = value_noise ((guint32) film->film_seed, (float) x * 6.0f / (float) fp.height,
                              (float) y * 6.0f / (float) fp.height);
        /* The heel effect: one side of the film a little brighter than the other. */
        v = fp.offset +
            fp.gain * a * (1.0f + fp.heel * (2.0f * (float) y / (float) fp.height - 1.0f)) +
            fp.mottle * mottle;
        t = CLAMP (v, 0.0f, 1.0f) * GAMMA_STEPS;
        i = MIN ((guint) t, GAMMA_STEPS - 1);
        v = gamma_lut[i] + (gamma_lut[i + 1] - gamma_lut[i]) * (t - (float) i);
        img[(gsize) y * fp.width + x] = v + fp.grain * grain_noise (&grain_rng);
      }

  if (fp.blur_px >= 0.3f)
    gaussian_blur (img, tmp, fp.width, fp.height, fp.blur_px);

  pixels = g_new (guint8, n);
  for (gsize i = 0; i < n; i++)
    {
      float v = img[i] + 0.4f * fp.grain * grain_noise (&grain_rng);
      pixels[i] = (guint8) lrintf (CLAMP (v, 0.0f, 1.0f) * 255.0f);
    }
  g_free (img);
  g_free (tmp);

  film->n_boxes = 0;
  for (guint k = 0; k < fp.n_cons; k++)
    if (consolidation_box (&an, &fp, &fp.cons[k], &film->boxes[film->n_boxes]))
      film->n_boxes++;

  *width_out = fp.width;
  *height_out = fp.height;
  return pixels;
}

void
xl_synth_config_init (XlSynthConfig *cfg)
{
  g_return_if_fail (cfg != NULL);

  memset (cfg, 0, sizeof *cfg);
  cfg->per_class = XL_SYNTH_DEFAULT_PER_CLASS;
  cfg->size = XL_SYNTH_DEFAULT_SIZE;
}

void
xl_synth_counts (const XlSynthConfig *cfg, guint counts[XL_N_SPLITS][XL_SYNTH_N_CLASSES])
{
  g_return_if_fail (cfg != NULL);

  for (int c = 0; c < XL_SYNTH_N_CLASSES; c++)
    {
      if (cfg->kermany_sized)
        {
          for (int s = 0; s < XL_N_SPLITS; s++)
            counts[s][c] = kermany_counts[s][c];
        }
      else
        {
          counts[XL_SPLIT_TRAIN][c] = cfg->per_class;
          counts[XL_SPLIT_VAL][c] = MAX (2u, cfg->per_class / 4);
          counts[XL_SPLIT_TEST][c] = MAX (2u, cfg->per_class / 2);
        }
    }
}

static void
film_clear (gpointer data)
{
  Film *film = data;

  g_free (film->name);
}

/* Patients, their films and the films' names, in a fixed order. */
static GArray *
plan_films (const XlSynthConfig *cfg)
{
  guint   counts[XL_N_SPLITS][XL_SYNTH_N_CLASSES];
  GArray *films = g_array_new (FALSE, TRUE, sizeof (Film));
  guint   normal_patient = 0, person = 0, bacteria_image = 0, virus_image = 0;
  guint64 patient_number = 0;
  NnRng   rng;

  g_array_set_clear_func (films, film_clear);
  xl_synth_counts (cfg, counts);
  nn_rng_seed (&rng, seed_for (cfg->seed, 1, 0));

  for (int s = 0; s < XL_N_SPLITS; s++)
    for (int c = 0; c < XL_SYNTH_N_CLASSES; c++)
      {
        guint remaining = counts[s][c];

        while (remaining > 0)
          {
            double   u = nn_rng_uniform (&rng);
            guint    n_films = MIN (remaining, u < 0.75 ? 1u : u < 0.93 ? 2u : 3u);
            guint64  patient_seed = seed_for (cfg->seed, 2, patient_number++);
            gboolean normal2 = FALSE, virus = FALSE;

            if (c == 0)
              {
                normal_patient += 1 + (guint) nn_rng_below (&rng, 3);
                normal2 = nn_rng_uniform (&rng) < 0.35;
              }
            else
              {
                person += 1 + (guint) nn_rng_below (&rng, 3);
                virus = nn_rng_uniform (&rng) < 0.35;
              }

            for (guint f = 1; f <= n_films; f++)
              {
                Film film = { 0 };

                film.split = (XlSplit) s;
                film.class_index = (guint) c;
                film.patient_seed = patient_seed;
                film.film_seed = seed_for (cfg->seed, 3, films->len);
                film.virus = virus;
                if (c == 0)
                  film.name = g_strdup_printf ("%sIM-%04u-%04u.jpeg", normal2 ? "NORMAL2-" : "",
                                               normal_patient, f);
                else
                  {
                    guint *image = virus ? &virus_image : &bacteria_image;

                    *image += 1 + (guint) nn_rng_below (&rng, 2);
                    film.name = g_strdup_printf ("person%u_%s_%u.jpeg", person,
                                                 virus ? "virus" : "bacteria", *image);
                  }
                g_array_append_val (films, film);
              }
            remaining -= n_films;
          }
      }
  return films;
}

typedef struct
{
  const char *out_dir;
  guint       size;
  GArray     *films;
  GMutex      lock;
  GCond       cond;
  guint       next; /* the next film to claim */
  guint       done;
  guint       last_done; /* the index of the film finished last, for progress */
  gboolean    abort;
  GError     *error;
} SynthJob;

static gboolean
write_film (SynthJob *job, tjhandle tj, Film *film, GError **error)
{
  g_autofree guint8 *pixels = NULL;
  g_autofree char   *path = NULL;
  unsigned char     *jpeg = NULL;
  unsigned long      jpeg_size = 0;
  guint              width, height;
  gboolean           ok;

  pixels = render_film (film, job->size, &width, &height);
  path = g_build_filename (job->out_dir, xl_split_name (film->split),
                           class_names[film->class_index], film->name, NULL);
  if (tjCompress2 (tj, pixels, (int) width, 0, (int) height, TJPF_GRAY, &jpeg, &jpeg_size,
                   TJSAMP_GRAY, JPEG_QUALITY, TJFLAG_ACCURATEDCT) != 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s: JPEG compression failed: %s", path,
                   tjGetErrorStr2 (tj));
      tjFree (jpeg);
      return FALSE;
    }
  ok = g_file_set_contents_full (path, (const char *) jpeg, (gssize) jpeg_size,
                                 G_FILE_SET_CONTENTS_NONE, 0666, error);
  tjFree (jpeg);
  return ok;
}

static gpointer
synth_worker (gpointer data)
{
  SynthJob *job = data;
  tjhandle  tj = tjInitCompress ();

  for (;;)
    {
      g_autoptr (GError) error = NULL;
      guint index;

      g_mutex_lock (&job->lock);
      if (job->abort || job->next >= job->films->len || tj == NULL)
        {
          if (tj == NULL && job->error == NULL)
            {
              job->error =
                  g_error_new (G_IO_ERROR, G_IO_ERROR_FAILED,
                               "Cannot start the JPEG compressor: %s", tjGetErrorStr2 (NULL));
              job->abort = TRUE;
              g_cond_broadcast (&job->cond);
            }
          g_mutex_unlock (&job->lock);
          break;
        }
      index = job->next++;
      g_mutex_unlock (&job->lock);

      if (!write_film (job, tj, &g_array_index (job->films, Film, index), &error))
        {
          g_mutex_lock (&job->lock);
          if (job->error == NULL)
            job->error = g_steal_pointer (&error);
          job->abort = TRUE;
          g_cond_broadcast (&job->cond);
          g_mutex_unlock (&job->lock);
          break;
        }

      g_mutex_lock (&job->lock);
      job->done++;
      job->last_done = index;
      g_cond_broadcast (&job->cond);
      g_mutex_unlock (&job->lock);
    }

  if (tj != NULL)
    tjDestroy (tj);
  return NULL;
}

static gboolean
make_folder (const char *path, GError **error)
{
  if (g_mkdir_with_parents (path, 0777) != 0)
    {
      int saved_errno = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   "Cannot create the folder “%s”: %s", path, g_strerror (saved_errno));
      return FALSE;
    }
  return TRUE;
}

static gboolean
prepare_out_dir (const char *out_dir, GError **error)
{
  g_autoptr (GDir) dir = NULL;

  if (!make_folder (out_dir, error))
    return FALSE;
  dir = g_dir_open (out_dir, 0, error);
  if (dir == NULL)
    return FALSE;
  if (g_dir_read_name (dir) != NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS,
                   "The folder “%s” is not empty: choose a new or an empty folder", out_dir);
      return FALSE;
    }
  for (int s = 0; s < XL_N_SPLITS; s++)
    for (int c = 0; c < XL_SYNTH_N_CLASSES; c++)
      {
        g_autofree char *path =
            g_build_filename (out_dir, xl_split_name ((XlSplit) s), class_names[c], NULL);
        if (!make_folder (path, error))
          return FALSE;
      }
  return TRUE;
}

static gboolean
write_csv (const char *out_dir, GArray *films, GError **error)
{
  g_autoptr (GString) csv = g_string_new ("split,class,file,x,y,width,height\n");
  g_autofree char *path = g_build_filename (out_dir, "consolidations.csv", NULL);

  for (guint i = 0; i < films->len; i++)
    {
      const Film *film = &g_array_index (films, Film, i);

      for (guint k = 0; k < film->n_boxes; k++)
        g_string_append_printf (csv, "%s,%s,%s,%u,%u,%u,%u\n", xl_split_name (film->split),
                                class_names[film->class_index], film->name, film->boxes[k].x,
                                film->boxes[k].y, film->boxes[k].width, film->boxes[k].height);
    }
  return g_file_set_contents_full (path, csv->str, (gssize) csv->len,
                                   G_FILE_SET_CONTENTS_CONSISTENT, 0666, error);
}

/* Called with the lock held; calls progress without it. */
static void
report_progress (SynthJob *job, guint done, XlProgressFunc progress, gpointer user_data)
{
  const Film      *film = &g_array_index (job->films, Film, job->last_done);
  g_autofree char *what = g_strdup_printf ("%s/%s/%s", xl_split_name (film->split),
                                           class_names[film->class_index], film->name);

  g_mutex_unlock (&job->lock);
  progress ((double) done / job->films->len, what, user_data);
  g_mutex_lock (&job->lock);
}

gboolean
xl_synth_generate (const char          *out_dir,
                   const XlSynthConfig *cfg,
                   XlProgressFunc       progress,
                   gpointer             user_data,
                   GCancellable        *cancellable,
                   GError             **error)
{
  g_autoptr (GArray) films = NULL;
  GThread **threads;
  SynthJob  job = { 0 };
  guint     n_threads, reported = 0;
  gboolean  ok;

  g_return_val_if_fail (out_dir != NULL, FALSE);
  g_return_val_if_fail (cfg != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (cfg->size < 16 || cfg->size > 8192)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "Film size %u is out of range (16 to 8192 pixels)", cfg->size);
      return FALSE;
    }
  if (!cfg->kermany_sized && (cfg->per_class < 1 || cfg->per_class > 1000000))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "%u images per class is out of range (1 to 1000000)", cfg->per_class);
      return FALSE;
    }
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return FALSE;
  if (!prepare_out_dir (out_dir, error))
    return FALSE;

  films = plan_films (cfg);
  job.out_dir = out_dir;
  job.size = cfg->size;
  job.films = films;
  g_mutex_init (&job.lock);
  g_cond_init (&job.cond);

  n_threads = cfg->n_threads > 0 ? cfg->n_threads : g_get_num_processors ();
  n_threads = CLAMP (n_threads, 1u, MIN (64u, films->len));
  threads = g_new0 (GThread *, n_threads);
  for (guint t = 0; t < n_threads; t++)
    {
      GError *thread_error = NULL;

      threads[t] = g_thread_try_new ("xl-synth", synth_worker, &job, &thread_error);
      if (threads[t] == NULL)
        {
          g_mutex_lock (&job.lock);
          if (t == 0 && job.error == NULL)
            job.error = thread_error;
          else
            g_clear_error (&thread_error);
          g_mutex_unlock (&job.lock);
          break; /* fewer threads is fine as long as one runs */
        }
    }

  /* Report progress from this thread, and watch for cancellation. */
  g_mutex_lock (&job.lock);
  while (job.done < films->len && !job.abort && threads[0] != NULL)
    {
      if (g_cancellable_is_cancelled (cancellable))
        {
          job.abort = TRUE;
          break;
        }
      if (job.done != reported && progress != NULL)
        {
          reported = job.done;
          report_progress (&job, reported, progress, user_data);
          continue;
        }
      g_cond_wait_until (&job.cond, &job.lock,
                         g_get_monotonic_time () + 50 * G_TIME_SPAN_MILLISECOND);
    }
  if (!job.abort && job.done != reported && progress != NULL)
    report_progress (&job, job.done, progress, user_data);
  g_mutex_unlock (&job.lock);

  for (guint t = 0; t < n_threads; t++)
    if (threads[t] != NULL)
      g_thread_join (threads[t]);
  g_free (threads);
  g_mutex_clear (&job.lock);
  g_cond_clear (&job.cond);

  if (job.error != NULL)
    {
      g_propagate_error (error, job.error);
      return FALSE;
    }
  if (job.done < films->len)
    {
      if (!g_cancellable_set_error_if_cancelled (cancellable, error))
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "Generation stopped early");
      return FALSE;
    }

  ok = write_csv (out_dir, films, error);
  if (ok && progress != NULL)
    progress (1.0, "consolidations.csv", user_data);
  return ok;
}
