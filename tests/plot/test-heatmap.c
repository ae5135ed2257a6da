/* Heatmap overlays: the colormaps against their references, the overlay's
 * colours and transparency, the film drawn pixel for pixel in an export with
 * the heat only inside the crop, the colour bar's ends, and the notice. */
#include "config.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "xl-heatmap.h"

static char *tmp_dir;

/* sRGB relative luminance, for monotonicity */
static double
luminance (const XlPlotColor *c)
{
  return 0.2126 * c->red + 0.7152 * c->green + 0.0722 * c->blue;
}

static void
assert_color_near (const XlPlotColor *c, double r, double g, double b, double tol)
{
  if (fabs (c->red - r) > tol || fabs (c->green - g) > tol || fabs (c->blue - b) > tol)
    g_error ("colour (%.3f, %.3f, %.3f), expected (%.3f, %.3f, %.3f) within %.3f", c->red,
             c->green, c->blue, r, g, b, tol);
}

static void
test_colormaps (void)
{
  XlPlotColor c, prev;
  XlColormap cm;

  for (int i = 0; i < XL_N_COLORMAPS; i++)
    {
      g_assert_true (xl_colormap_from_name (xl_colormap_name (i), &cm));
      g_assert_cmpint (cm, ==, i);
      for (int k = 0; k <= 1000; k++)
        {
          xl_colormap_color (i, k / 1000.0, &c);
          g_assert_true (c.red >= 0 && c.red <= 1 && c.green >= 0 && c.green <= 1
                         && c.blue >= 0 && c.blue <= 1);
        }
      /* out of range and NAN clamp to the ends */
      xl_colormap_color (i, NAN, &c);
      xl_colormap_color (i, 0, &prev);
      g_assert_cmpfloat (c.red, ==, prev.red);
      xl_colormap_color (i, 7, &c);
      xl_colormap_color (i, 1, &prev);
      g_assert_cmpfloat (c.blue, ==, prev.blue);
    }
  g_assert_false (xl_colormap_from_name ("viridis", &cm));
  g_assert_true (xl_colormap_from_name ("Inferno", &cm));

  /* jet: MATLAB's values, exactly */
  xl_colormap_color (XL_COLORMAP_JET, 0, &c);
  assert_color_near (&c, 0, 0, 0.5, 1e-12);
  xl_colormap_color (XL_COLORMAP_JET, 0.5, &c);
  assert_color_near (&c, 0.5, 1, 0.5, 1e-12);
  xl_colormap_color (XL_COLORMAP_JET, 1, &c);
  assert_color_near (&c, 0.5, 0, 0, 1e-12);

  /* inferno: matplotlib's table at entries 0, 128, 191, 255 */
  xl_colormap_color (XL_COLORMAP_INFERNO, 0, &c);
  assert_color_near (&c, 0.001462, 0.000466, 0.013866, 0.03);
  xl_colormap_color (XL_COLORMAP_INFERNO, 128 / 255.0, &c);
  assert_color_near (&c, 0.735683, 0.215906, 0.330245, 0.03);
  xl_colormap_color (XL_COLORMAP_INFERNO, 191 / 255.0, &c);
  assert_color_near (&c, 0.978422, 0.557937, 0.034931, 0.03);
  xl_colormap_color (XL_COLORMAP_INFERNO, 1, &c);
  assert_color_near (&c, 0.988362, 0.998364, 0.644924, 0.03);
  /* ... whose lightness only rises: it reads right in gray */
  xl_colormap_color (XL_COLORMAP_INFERNO, 0, &prev);
  for (int k = 1; k <= 100; k++)
    {
      xl_colormap_color (XL_COLORMAP_INFERNO, k / 100.0, &c);
      g_assert_cmpfloat (luminance (&c), >, luminance (&prev) - 1e-3);
      prev = c;
    }

  /* turbo (the published polynomial, a little off the table at its very
   * ends): dark blue, blue, cyan, green-yellow in the middle, orange, dark red */
  xl_colormap_color (XL_COLORMAP_TURBO, 0, &c);
  g_assert_cmpfloat (luminance (&c), <, 0.15);
  xl_colormap_color (XL_COLORMAP_TURBO, 0.15, &c);
  g_assert_cmpfloat (c.blue, >, 0.8);
  g_assert_cmpfloat (c.blue, >, c.red);
  xl_colormap_color (XL_COLORMAP_TURBO, 0.5, &c);
  g_assert_cmpfloat (c.green, >, 0.9);
  g_assert_cmpfloat (c.blue, <, 0.4);
  xl_colormap_color (XL_COLORMAP_TURBO, 0.75, &c);
  assert_color_near (&c, 1.0, 0.5, 0.1, 0.1);
  xl_colormap_color (XL_COLORMAP_TURBO, 1, &c);
  g_assert_cmpfloat (c.red, >, 0.45);
  g_assert_cmpfloat (c.green, <, 0.1);
  g_assert_cmpfloat (c.blue, <, 0.05);
}

static guint32
pixel_at (cairo_surface_t *s, int x, int y)
{
  const guint8 *data = cairo_image_surface_get_data (s);
  int stride = cairo_image_surface_get_stride (s);

  return *(const guint32 *) (gconstpointer) (data + (gsize) y * stride + (gsize) x * 4);
}

#define RED(p) (((p) >> 16) & 0xff)
#define GREEN(p) (((p) >> 8) & 0xff)
#define BLUE(p) ((p) & 0xff)
#define ALPHA(p) ((p) >> 24)

static void
test_overlay (void)
{
  float heat[3 * 2] = { NAN, 0.0f, 1.0f, 0.5f, 2.0f, -1.0f };
  XlHeatmap hm;
  cairo_surface_t *s;
  XlPlotColor c;

  xl_heatmap_init (&hm);
  g_assert_null (xl_heatmap_overlay_new (&hm));
  hm.heat = heat;
  hm.heat_width = 3;
  hm.heat_height = 2;
  hm.opacity = 1.0;
  hm.colormap = XL_COLORMAP_JET;
  s = xl_heatmap_overlay_new (&hm);
  g_assert_nonnull (s);
  cairo_surface_flush (s);
  g_assert_cmpuint (pixel_at (s, 0, 0), ==, 0);                 /* NAN: transparent */
  g_assert_cmpuint (ALPHA (pixel_at (s, 1, 0)), ==, 255);
  g_assert_cmpuint (BLUE (pixel_at (s, 1, 0)), ==, 128);        /* jet(0) */
  g_assert_cmpuint (RED (pixel_at (s, 2, 0)), ==, 128);         /* jet(1) */
  g_assert_cmpuint (pixel_at (s, 1, 1), ==, pixel_at (s, 2, 0)); /* clamped above */
  g_assert_cmpuint (pixel_at (s, 2, 1), ==, pixel_at (s, 1, 0)); /* clamped below */
  xl_colormap_color (XL_COLORMAP_JET, 0.5, &c);
  g_assert_cmpint (abs ((int) GREEN (pixel_at (s, 0, 1)) - (int) lround (c.green * 255)), <=, 2);
  cairo_surface_destroy (s);

  /* premultiplied: at opacity 0.5 a colour channel is at most 128 */
  hm.opacity = 0.5;
  s = xl_heatmap_overlay_new (&hm);
  cairo_surface_flush (s);
  g_assert_cmpuint (ALPHA (pixel_at (s, 2, 0)), ==, 128);
  g_assert_cmpuint (RED (pixel_at (s, 2, 0)), ==, 64);
  g_assert_cmpuint (pixel_at (s, 0, 0), ==, 0);
  cairo_surface_destroy (s);

  /* a range other than 0..1 */
  hm.value_min = -1;
  hm.value_max = 1;
  hm.opacity = 1;
  s = xl_heatmap_overlay_new (&hm);
  cairo_surface_flush (s);
  g_assert_cmpuint (BLUE (pixel_at (s, 2, 1)), ==, 128);        /* -1 is the bottom */
  cairo_surface_destroy (s);
}

typedef struct {
  guint8 *film;
  float  *heat;
  guint   width, height;
} Scene;

/* A film with a diagonal gradient; heat 1 in its right half inside the crop
 * box (x >= width/2, y in [height/4, 3 height/4)), NAN elsewhere. */
static void
scene_init (Scene *sc, guint width, guint height)
{
  sc->width = width;
  sc->height = height;
  sc->film = g_new (guint8, (gsize) width * height);
  sc->heat = g_new (float, (gsize) width * height);
  for (guint y = 0; y < height; y++)
    for (guint x = 0; x < width; x++)
      {
        gsize i = (gsize) y * width + x;
        sc->film[i] = (guint8) ((x * 200 / width + y * 50 / height) & 0xff);
        sc->heat[i] = x >= width / 2 && y >= height / 4 && y < 3 * height / 4 ? 1.0f : NAN;
      }
}

static void
scene_clear (Scene *sc)
{
  g_free (sc->film);
  g_free (sc->heat);
}

static void
test_export_pixel_for_pixel (void)
{
  g_autofree char *path = g_build_filename (tmp_dir, "overlay.png", NULL);
  g_autoptr (GError) error = NULL;
  Scene sc;
  XlHeatmap hm;
  XlPlotColor top;
  cairo_surface_t *png;
  int width, height, uncoloured_ok = 0, coloured_ok = 0, notice_pixels = 0;
  XlPlotStyle style;
  XlHeatmapLabelPlace place;

  scene_init (&sc, 300, 200);
  xl_heatmap_init (&hm);
  hm.film = sc.film;
  hm.film_width = sc.width;
  hm.film_height = sc.height;
  hm.heat = sc.heat;
  hm.heat_width = sc.width;
  hm.heat_height = sc.height;
  hm.colormap = XL_COLORMAP_INFERNO;
  hm.opacity = 0.45;
  hm.color_bar_label = "Grad-CAM PNEUMONIA, layer3: this film's scale";
  hm.caption = "film.jpeg  ·  P(PNEUMONIA) 0.912";
  hm.crop_x = 150;
  hm.crop_y = 50;
  hm.crop_width = 150;
  hm.crop_height = 100;
  g_assert_true (xl_heatmap_export (&hm, path, 0, &error));
  g_assert_no_error (error);
  xl_heatmap_size_for_scale (&hm, 1.0, &style, &place, &width, &height);

  png = cairo_image_surface_create_from_png (path);
  g_assert_cmpint (cairo_surface_status (png), ==, CAIRO_STATUS_SUCCESS);
  g_assert_cmpint (cairo_image_surface_get_width (png), ==, width);
  g_assert_cmpint (cairo_image_surface_get_height (png), ==, height);
  g_assert_cmpint (width, >, 300);
  g_assert_cmpint (height, >, 200);
  cairo_surface_flush (png);

  /* the film at (0, 0), its own size: uncoloured where the heat is NAN, and
   * 0.45 * inferno(1) + 0.55 * film where it is 1 (one pixel in from the
   * heat's edges, which the bilinear filter blends, and off the dashed box) */
  xl_colormap_color (XL_COLORMAP_INFERNO, 1.0, &top);
  for (guint y = 2; y < sc.height - 2; y += 3)
    for (guint x = 2; x < sc.width - 2; x += 3)
      {
        guint32 p = pixel_at (png, (int) x, (int) y);
        int film = sc.film[(gsize) y * sc.width + x];
        gboolean near_edge = abs ((int) x - 150) <= 2 || abs ((int) y - 50) <= 2
                             || abs ((int) y - 150) <= 2;
        if (near_edge)
          continue;
        if (isnan (sc.heat[(gsize) y * sc.width + x]))
          {
            g_assert_cmpint (abs ((int) RED (p) - film), <=, 1);
            g_assert_cmpint (abs ((int) GREEN (p) - film), <=, 1);
            g_assert_cmpint (abs ((int) BLUE (p) - film), <=, 1);
            uncoloured_ok++;
          }
        else
          {
            int want_r = (int) lround (0.45 * top.red * 255 + 0.55 * film);
            int want_b = (int) lround (0.45 * top.blue * 255 + 0.55 * film);
            g_assert_cmpint (abs ((int) RED (p) - want_r), <=, 3);
            g_assert_cmpint (abs ((int) BLUE (p) - want_b), <=, 3);
            coloured_ok++;
          }
      }
  g_assert_cmpint (uncoloured_ok, >, 3000);
  g_assert_cmpint (coloured_ok, >, 1000);

  /* the colour bar: right of the film, the colormap's top near the film's top
   * and its bottom near the film's bottom */
  {
    gboolean found_top = FALSE, found_bottom = FALSE;
    XlPlotColor bottom;
    xl_colormap_color (XL_COLORMAP_INFERNO, 0.0, &bottom);
    for (int x = 300; x < width; x++)
      {
        /* the bar runs from half a text line below the film's top to half a
         * line above its bottom: 10 px text at this size */
        guint32 pt = pixel_at (png, x, 6), pb = pixel_at (png, x, 194);
        if (abs ((int) RED (pt) - (int) lround (top.red * 255)) <= 24
            && abs ((int) GREEN (pt) - (int) lround (top.green * 255)) <= 24
            && abs ((int) BLUE (pt) - (int) lround (top.blue * 255)) <= 24)
          found_top = TRUE;
        if (abs ((int) RED (pb) - (int) lround (bottom.red * 255)) <= 24
            && abs ((int) GREEN (pb) - (int) lround (bottom.green * 255)) <= 24
            && abs ((int) BLUE (pb) - (int) lround (bottom.blue * 255)) <= 24)
          found_bottom = TRUE;
      }
    g_assert_true (found_top);
    g_assert_true (found_bottom);
  }

  /* the notice, in its amber, under the film */
  for (int y = 200; y < height; y++)
    for (int x = 0; x < width; x++)
      {
        guint32 p = pixel_at (png, x, y);
        if (RED (p) > 200 && GREEN (p) > 150 && BLUE (p) < 150)
          notice_pixels++;
      }
  g_assert_cmpint (notice_pixels, >, 50);

  cairo_surface_destroy (png);
  scene_clear (&sc);
}

/* A film over the size limit is scaled so its long side is max_side; the
 * frame maps film pixels back from any drawing size. */
static void
test_export_capped_and_frame (void)
{
  g_autofree char *path = g_build_filename (tmp_dir, "big.png", NULL);
  g_autofree char *svg = g_build_filename (tmp_dir, "overlay.svg", NULL);
  g_autofree char *pdf = g_build_filename (tmp_dir, "overlay.pdf", NULL);
  g_autoptr (GError) error = NULL;
  Scene sc;
  XlHeatmap hm;
  XlPlotStyle style;
  XlHeatmapLabelPlace place;
  XlPlotFrame frame;
  cairo_surface_t *png, *surface;
  cairo_t *cr;
  int width, height;
  GStatBuf st;

  scene_init (&sc, 1500, 1000);
  xl_heatmap_init (&hm);
  hm.film = sc.film;
  hm.film_width = sc.width;
  hm.film_height = sc.height;
  hm.heat = sc.heat;
  hm.heat_width = sc.width;
  hm.heat_height = sc.height;
  g_assert_true (xl_heatmap_export (&hm, path, 600, &error));
  g_assert_no_error (error);
  xl_heatmap_size_for_scale (&hm, 0.4, &style, &place, &width, &height);
  png = cairo_image_surface_create_from_png (path);
  g_assert_cmpint (cairo_image_surface_get_width (png), ==, width);
  g_assert_cmpint (cairo_image_surface_get_height (png), ==, height);
  g_assert_cmpint (height, >=, 400);
  g_assert_cmpint (height, <, 400 + 100);
  cairo_surface_destroy (png);

  g_assert_true (xl_heatmap_save (&hm, svg, 500, 400, &error));
  g_assert_true (xl_heatmap_save (&hm, pdf, 500, 400, &error));
  g_assert_no_error (error);
  g_assert_cmpint (g_stat (svg, &st), ==, 0);
  g_assert_cmpint (st.st_size, >, 1000);
  g_assert_cmpint (g_stat (pdf, &st), ==, 0);
  g_assert_cmpint (st.st_size, >, 1000);

  /* a window of any size: the film fits, aspect kept, and the frame says where */
  surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 640, 480);
  cr = cairo_create (surface);
  hm.color_bar = FALSE;
  xl_heatmap_draw (&hm, cr, 640, 480, &frame);
  g_assert_cmpfloat (fabs (frame.width / frame.height - 1.5), <, 1e-6);
  g_assert_cmpfloat (frame.width, <=, 640);
  g_assert_cmpfloat (fabs (xl_plot_frame_from_pixel_x (&frame, frame.x) - 0), <, 1e-9);
  g_assert_cmpfloat (fabs (xl_plot_frame_from_pixel_x (&frame, frame.x + frame.width) - 1500),
                     <, 1e-6);
  g_assert_cmpfloat (fabs (xl_plot_frame_from_pixel_y (&frame, frame.y) - 0), <, 1e-6);
  g_assert_cmpfloat (fabs (xl_plot_frame_from_pixel_y (&frame, frame.y + frame.height) - 1000),
                     <, 1e-6);
  cairo_destroy (cr);
  cairo_surface_destroy (surface);

  /* no film, no heat: a background and the notice, no crash */
  xl_heatmap_init (&hm);
  surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 50, 20);
  cr = cairo_create (surface);
  xl_heatmap_draw (&hm, cr, 50, 20, NULL);
  g_assert_cmpint (cairo_status (cr), ==, CAIRO_STATUS_SUCCESS);
  cairo_destroy (cr);
  cairo_surface_destroy (surface);
  scene_clear (&sc);
}

int
main (int argc, char **argv)
{
  int status;

  g_test_init (&argc, &argv, NULL);
  tmp_dir = g_dir_make_tmp ("xl-heatmap-XXXXXX", NULL);

  g_test_add_func ("/plot/heatmap/colormaps", test_colormaps);
  g_test_add_func ("/plot/heatmap/overlay", test_overlay);
  g_test_add_func ("/plot/heatmap/export-pixel-for-pixel", test_export_pixel_for_pixel);
  g_test_add_func ("/plot/heatmap/export-capped-and-frame", test_export_capped_and_frame);

  status = g_test_run ();
  {
    const char *names[] = { "overlay.png", "big.png", "overlay.svg", "overlay.pdf" };
    for (guint i = 0; i < G_N_ELEMENTS (names); i++)
      {
        g_autofree char *p = g_build_filename (tmp_dir, names[i], NULL);
        g_unlink (p);
      }
    g_rmdir (tmp_dir);
  }
  g_free (tmp_dir);
  return status;
}
