/* Helpers shared by test-pth.c and test-safetensors.c: the expected contents
 * of the tiny-state fixtures (tiny-state-expected.json, written by
 * tools/fixtures/weightfiles.py), a fixture loader into memory and a
 * mutation-based smoke fuzzer. */
#pragma once

#include <glib.h>
#include <string.h>

#include "nn-json.h"
#include "nn-tensor-file.h"

static inline char *
weights_fixture_path (const char *name)
{
  const char *dir = g_getenv ("XL_FIXTURES");
  return g_build_filename (dir != NULL ? dir : "tests/fixtures", name, NULL);
}

static inline GBytes *
weights_fixture_bytes (const char *name)
{
  g_autofree char *path = weights_fixture_path (name);
  g_autoptr (GError) error = NULL;
  char *contents = NULL;
  gsize len = 0;

  if (!g_file_get_contents (path, &contents, &len, &error))
    g_error ("%s", error->message);
  return g_bytes_new_take (contents, len);
}

/* The value of element i of t, as a double (exact for every dtype used). */
static inline double
weights_element (const NnNamedTensor *t, size_t i)
{
  const guint8 *p = (const guint8 *) t->data + i * nn_dtype_size (t->dtype);
  union { float f; double d; gint64 i64; gint32 i32; gint16 i16; guint16 u16; } v;

  memcpy (&v, p, nn_dtype_size (t->dtype));
  switch (t->dtype)
    {
    case NN_DTYPE_F32: return (double) v.f;
    case NN_DTYPE_F64: return v.d;
    case NN_DTYPE_F16: return (double) nn_f16_to_f32 (v.u16);
    case NN_DTYPE_BF16: return (double) nn_bf16_to_f32 (v.u16);
    case NN_DTYPE_I64: return (double) v.i64;
    case NN_DTYPE_I32: return (double) v.i32;
    case NN_DTYPE_I16: return (double) v.i16;
    case NN_DTYPE_I8: return (double) (gint8) p[0];
    case NN_DTYPE_U8: return (double) p[0];
    case NN_DTYPE_BOOL: return p[0] != 0 ? 1.0 : 0.0;
    default: g_assert_not_reached ();
    }
}

/* Checks that file holds exactly the expected tensors, in order, with their
 * dtypes, shapes and values, bit for bit. */
static inline void
weights_check_expected (const NnTensorFile *file)
{
  g_autoptr (GBytes) bytes = weights_fixture_bytes ("tiny-state-expected.json");
  NnJson *root = NULL;
  NnError err = { 0 };
  const NnJson *tensors;
  gsize len;
  const char *text = g_bytes_get_data (bytes, &len);

  g_assert_cmpint (nn_json_parse (&root, text, len, NULL, &err), ==, NN_OK);
  tensors = nn_json_object_get (root, "tensors");
  g_assert_nonnull (tensors);
  g_assert_cmpuint (file->n_tensors, ==, tensors->n_items);

  for (size_t k = 0; k < tensors->n_items; k++)
    {
      const NnJson *want = &tensors->items[k];
      const NnNamedTensor *t = &file->tensors[k];
      const NnJson *shape = nn_json_object_get (want, "shape");
      const NnJson *values = nn_json_object_get (want, "values");
      size_t numel = 1;

      g_assert_cmpstr (t->name, ==, nn_json_object_get (want, "name")->string);
      g_assert_cmpstr (nn_dtype_name (t->dtype), ==, nn_json_object_get (want, "dtype")->string);
      g_assert_cmpint (t->ndim, ==, (int) shape->n_items);
      for (size_t d = 0; d < shape->n_items; d++)
        {
          g_assert_cmpint (t->shape[d], ==, shape->items[d].integer);
          numel *= (size_t) shape->items[d].integer;
        }
      g_assert_cmpuint (t->numel, ==, numel);
      g_assert_cmpuint (values->n_items, ==, numel);
      g_assert_nonnull (t->data);
      for (size_t i = 0; i < numel; i++)
        {
          double expected = values->items[i].number;
          double got = weights_element (t, i);
          if (t->dtype == NN_DTYPE_I64)
            {
              gint64 v;
              memcpy (&v, (const guint8 *) t->data + 8 * i, 8);
              g_assert_cmpint (v, ==, values->items[i].integer);
            }
          else if (memcmp (&got, &expected, sizeof got) != 0)
            g_error ("%s[%zu] = %.17g, expected %.17g", t->name, i, got, expected);
        }
    }
  nn_json_free (root);
}

/* Feeds n_cases mutations of a valid file to read (a reader from memory):
 * byte flips, runs of random bytes, interesting values, truncation and
 * splices. Anything may fail; nothing may crash or leak, and a failure must
 * come with a message. Returns how many mutants were still read. */
typedef NnStatus (*WeightsReader) (NnTensorFile **out, const guint8 *buf, size_t len,
                                   NnError *err);

static inline guint
weights_fuzz (WeightsReader read, const guint8 *valid, size_t len, guint n_cases,
              guint32 seed, size_t hot_begin, size_t hot_end)
{
  static const guint8 interesting[] = { 0x00, 0xff, 0x7f, 0x80, 0x01, '"', '[', '{', ',', '-' };
  GRand *rand = g_rand_new_with_seed (seed);
  guint8 *buf = g_malloc (len + 64);
  guint read_ok = 0;

  for (guint c = 0; c < n_cases; c++)
    {
      size_t n = len;
      guint n_mutations = (guint) g_rand_int_range (rand, 1, 5);
      NnTensorFile *file = NULL;
      NnError err = { 0 };

      memcpy (buf, valid, len);
      for (guint k = 0; k < n_mutations; k++)
        {
          /* Aim most mutations at the part that is parsed (header, pickle). */
          size_t pos = (g_rand_int_range (rand, 0, 4) != 0 && hot_end > hot_begin)
                       ? hot_begin + (size_t) g_rand_int_range (rand, 0, (gint32) (hot_end - hot_begin))
                       : (size_t) g_rand_int_range (rand, 0, (gint32) n);
          if (pos >= n)
            pos = n - 1;
          switch (g_rand_int_range (rand, 0, 6))
            {
            case 0:
              buf[pos] ^= (guint8) (1u << g_rand_int_range (rand, 0, 8));
              break;
            case 1:
              buf[pos] = (guint8) g_rand_int_range (rand, 0, 256);
              break;
            case 2:
              buf[pos] = interesting[g_rand_int_range (rand, 0, sizeof interesting)];
              break;
            case 3:
              n = pos + 1;
              break;
            case 4:
              {
                size_t run = (size_t) g_rand_int_range (rand, 1, 9);
                for (size_t r = 0; r < run && pos + r < n; r++)
                  buf[pos + r] = (guint8) g_rand_int_range (rand, 0, 256);
                break;
              }
            default:
              {
                /* Copy a chunk of the file over another place. */
                size_t from = (size_t) g_rand_int_range (rand, 0, (gint32) n);
                size_t run = (size_t) g_rand_int_range (rand, 1, 17);
                if (from + run > n)
                  run = n - from;
                if (pos + run > n)
                  run = n - pos;
                memmove (buf + pos, buf + from, run);
                break;
              }
            }
        }
      if (read (&file, buf, n, &err) == NN_OK)
        {
          g_assert_nonnull (file);
          read_ok++;
          nn_tensor_file_free (file);
        }
      else
        {
          g_assert_null (file);
          g_assert_cmpstr (err.message, !=, "");
        }
    }
  g_free (buf);
  g_rand_free (rand);
  return read_ok;
}
