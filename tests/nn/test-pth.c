/* Tests of the PyTorch (.pth) reader: the zip reader, the pickle machine and
 * the storage gathering, on real torch.save fixtures and on archives built
 * here by hand. */
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>

#include "nn-pickle.h"
#include "nn-tensor-file.h"
#include "nn-zip.h"
#include "pth-build.h"
#include "weights-expect.h"

/* Storage "0": 6 floats 0..5; storage "1": 2 int64s. */
static const float storage0[6] = { 0, 1, 2, 3, 4, 5 };
static const gint64 storage1[2] = { -7, 1LL << 40 };

static NnStatus
read_archive (const guint8 *pkl, size_t pkl_len, const char *byteorder,
              const ZipOptions *opt, NnTensorFile **out, NnError *err)
{
  ZipItem items[5] = {
    { "archive/data.pkl", pkl, pkl_len, 0 },
    { "archive/data/0", storage0, sizeof storage0, 0 },
    { "archive/data/1", storage1, sizeof storage1, 0 },
    { "archive/version", "3\n", 2, 0 },
    { "archive/byteorder", byteorder, byteorder != NULL ? strlen (byteorder) : 0, 0 },
  };
  GByteArray *zip = build_zip (items, byteorder != NULL ? 5 : 4, opt);
  NnStatus status = nn_pth_read_memory (out, zip->data, zip->len, err);

  g_byte_array_unref (zip);
  return status;
}

static NnStatus
read_specs (const TensorSpec *specs, size_t n, NnTensorFile **out, NnError *err)
{
  GByteArray *p = state_pickle (specs, n);
  NnStatus status = read_archive (p->data, p->len, NULL, NULL, out, err);

  g_byte_array_unref (p);
  return status;
}

static const TensorSpec weight = {
  "layer1.0.conv1.weight", "FloatStorage", "0", 6, 0, 2, { 2, 3 }, { 3, 1 }, FALSE
};
static const TensorSpec tracked = {
  "bn1.num_batches_tracked", "LongStorage", "1", 2, 1, 0, { 0 }, { 0 }, FALSE
};

static void
test_fixture (gconstpointer data)
{
  const char *name = data;
  g_autofree char *path = weights_fixture_path (name);
  NnTensorFile *file = NULL;
  NnError err = { 0 };
  const NnNamedTensor *t;

  if (nn_pth_read (&file, path, &err) != NN_OK)
    g_error ("%s", err.message);
  weights_check_expected (file);

  t = nn_tensor_file_find (file, "bn1.num_batches_tracked");
  g_assert_nonnull (t);
  g_assert_cmpint (t->dtype, ==, NN_DTYPE_I64);
  g_assert_cmpint (t->ndim, ==, 0);
  g_assert_cmpuint (t->numel, ==, 1);
  g_assert_cmpint (*(const gint64 *) t->data, ==, 3);
  g_assert_cmpuint (file->n_meta, ==, 0);

  /* Views of one storage: base is arange(24).reshape(4, 6) * 0.5 - 3. */
  t = nn_tensor_file_find (file, "shared.transposed");
  g_assert_cmpint (t->shape[0], ==, 6);
  g_assert_cmpint (t->shape[1], ==, 4);
  g_assert_cmpfloat (((const float *) t->data)[1], ==, 6 * 0.5f - 3);   /* base[1][0] */
  t = nn_tensor_file_find (file, "shared.window");
  g_assert_cmpfloat (((const float *) t->data)[0], ==, 8 * 0.5f - 3);   /* base[1][2] */
  g_assert_cmpfloat (((const float *) t->data)[3], ==, 14 * 0.5f - 3);  /* base[2][2] */
  t = nn_tensor_file_find (file, "shared.column");
  g_assert_cmpfloat (((const float *) t->data)[3], ==, 21 * 0.5f - 3);  /* base[3][3] */
  nn_tensor_file_free (file);

  /* The content sniffing reader agrees. */
  g_assert_cmpint (nn_tensor_file_read (&file, path, &err), ==, NN_OK);
  g_assert_cmpuint (file->n_tensors, ==, 21);
  nn_tensor_file_free (file);
}

static void
test_refused_fixtures (void)
{
  static const struct {
    const char *file;
    NnStatus status;
    const char *message;
  } cases[] = {
    { "tiny-state-deflate.pth", NN_ERR_UNSUPPORTED, "is compressed (method 8, deflate)" },
    { "tiny-state-legacy.pth", NN_ERR_UNSUPPORTED, "re-save it with a recent PyTorch" },
    { "forbidden-global.pth", NN_ERR_UNSUPPORTED, "refusing to load posix.system" },
  };

  for (size_t i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *path = weights_fixture_path (cases[i].file);
      NnTensorFile *file = NULL;
      NnError err = { 0 };

      g_assert_cmpint (nn_tensor_file_read (&file, path, &err), ==, cases[i].status);
      g_assert_null (file);
      if (strstr (err.message, cases[i].message) == NULL
          || !g_str_has_prefix (err.message, path))
        g_error ("%s: unexpected message \"%s\"", cases[i].file, err.message);
      g_test_message ("%s", err.message);
    }
}

/* Every prefix of a real file fails cleanly. */
static void
test_truncated (void)
{
  g_autoptr (GBytes) fixture = weights_fixture_bytes ("tiny-state.pth");
  gsize len;
  const guint8 *valid = g_bytes_get_data (fixture, &len);
  NnTensorFile *file = NULL;
  NnError err = { 0 };

  for (size_t n = 0; n < len; n++)
    {
      g_autofree guint8 *copy = g_memdup2 (valid, n);
      err.message[0] = '\0';
      g_assert_cmpint (nn_pth_read_memory (&file, copy, n, &err), !=, NN_OK);
      g_assert_null (file);
      g_assert_cmpstr (err.message, !=, "");
    }
}

/* Any single damaged byte: no crash, and damage to data is caught (CRC). */
static void
test_corrupted (void)
{
  g_autoptr (GBytes) fixture = weights_fixture_bytes ("tiny-state.pth");
  gsize len;
  const guint8 *valid = g_bytes_get_data (fixture, &len);
  g_autofree guint8 *copy = g_memdup2 (valid, len);
  NnZip *zip = NULL;
  NnError err = { 0 };
  guint ok = 0;

  for (size_t i = 0; i < len; i++)
    {
      NnTensorFile *file = NULL;
      copy[i] ^= 0x5a;
      if (nn_pth_read_memory (&file, copy, len, &err) == NN_OK)
        {
          ok++;
          nn_tensor_file_free (file);
        }
      copy[i] = valid[i];
    }
  g_test_message ("%u of %zu damaged copies still read (padding, timestamps)", ok, len);

  /* Each byte of data.pkl and the storages is covered by a CRC. */
  g_assert_cmpint (nn_zip_open (&zip, valid, len, &err), ==, NN_OK);
  for (size_t e = 0; e < zip->n_entries; e++)
    {
      const NnZipEntry *entry = &zip->entries[e];
      if (!g_str_has_suffix (entry->name, "/data.pkl") && strstr (entry->name, "/data/") == NULL)
        continue;
      for (size_t i = 0; i < entry->compressed_size; i += 7)
        {
          NnTensorFile *file = NULL;
          size_t at = (size_t) entry->data_offset + i;
          copy[at] ^= 0x01;
          g_assert_cmpint (nn_pth_read_memory (&file, copy, len, &err), ==, NN_ERR_FORMAT);
          g_assert_nonnull (strstr (err.message, "CRC-32"));
          copy[at] = valid[at];
        }
    }
  nn_zip_free (zip);
}

static void
test_crafted_good (void)
{
  TensorSpec specs[] = {
    weight,
    tracked,
    { "transposed", "FloatStorage", "0", 6, 0, 2, { 3, 2 }, { 1, 3 }, FALSE },
    { "column", "FloatStorage", "0", 6, 1, 1, { 2 }, { 3 }, FALSE },
    { "repeat", "FloatStorage", "0", 6, 4, 2, { 2, 2 }, { 0, 1 }, FALSE },
    { "param", "FloatStorage", "0", 6, 2, 1, { 2 }, { 1 }, TRUE },
    { "empty", "FloatStorage", "0", 6, 6, 2, { 0, 4 }, { 4, 1 }, FALSE },
  };
  static const float transposed[6] = { 0, 3, 1, 4, 2, 5 };
  static const float column[2] = { 1, 4 };
  static const float repeat[4] = { 4, 5, 4, 5 };
  static const float param[2] = { 2, 3 };
  NnTensorFile *file = NULL;
  NnError err = { 0 };
  GByteArray *p = state_pickle (specs, G_N_ELEMENTS (specs));
  static const ZipOptions variants[] = {
    { FALSE, NULL, FALSE },
    { TRUE, NULL, FALSE },
    { FALSE, "a comment at the end of the archive", FALSE },
    { TRUE, "both", FALSE },
  };

  for (size_t v = 0; v < G_N_ELEMENTS (variants); v++)
    {
      if (read_archive (p->data, p->len, v == 1 ? "little" : NULL, &variants[v], &file, &err) != NN_OK)
        g_error ("variant %zu: %s", v, err.message);
      g_assert_cmpuint (file->n_tensors, ==, G_N_ELEMENTS (specs));
      g_assert_cmpstr (file->tensors[0].name, ==, "layer1.0.conv1.weight");
      g_assert_cmpmem (file->tensors[0].data, 24, storage0, 24);
      g_assert_cmpint (file->tensors[1].dtype, ==, NN_DTYPE_I64);
      g_assert_cmpint (file->tensors[1].ndim, ==, 0);
      g_assert_cmpint (*(gint64 *) file->tensors[1].data, ==, 1LL << 40);
      g_assert_cmpmem (file->tensors[2].data, 24, transposed, 24);
      g_assert_cmpmem (file->tensors[3].data, 8, column, 8);
      g_assert_cmpmem (file->tensors[4].data, 16, repeat, 16);
      g_assert_cmpmem (file->tensors[5].data, 8, param, 8);
      g_assert_cmpuint (file->tensors[6].numel, ==, 0);
      g_assert_nonnull (file->tensors[6].data);
      nn_tensor_file_free (file);
    }
  g_byte_array_unref (p);
}

typedef struct {
  TensorSpec spec;
  NnStatus status;
  const char *message;
} SpecCase;

static void
test_crafted_bad_tensors (void)
{
  static const SpecCase cases[] = {
    { { "a", "FloatStorage", "0", 6, 5, 1, { 2 }, { 1 }, FALSE }, NN_ERR_FORMAT, "past the end of its storage" },
    { { "a", "FloatStorage", "0", 6, 0, 2, { 2, 3 }, { 1, 3 }, FALSE }, NN_ERR_FORMAT, "past the end of its storage" },
    { { "a", "FloatStorage", "0", 6, 0, 1, { 7 }, { 1 }, FALSE }, NN_ERR_FORMAT, "past the end" },
    { { "a", "FloatStorage", "0", 6, 6, 1, { 1 }, { 1 }, FALSE }, NN_ERR_FORMAT, "past the end" },
    { { "a", "FloatStorage", "0", 6, -1, 1, { 1 }, { 1 }, FALSE }, NN_ERR_FORMAT, "offset is not a non-negative" },
    { { "a", "FloatStorage", "0", 6, 0, 1, { -1 }, { 1 }, FALSE }, NN_ERR_FORMAT, "negative" },
    { { "a", "FloatStorage", "0", 6, 0, 1, { 2 }, { -1 }, FALSE }, NN_ERR_FORMAT, "negative" },
    { { "a", "FloatStorage", "0", 6, 0, 1, { 100 }, { 0 }, FALSE }, NN_ERR_UNSUPPORTED, "broadcast" },
    { { "a", "FloatStorage", "0", 6, 0, 2, { G_MAXINT64, G_MAXINT64 }, { 0, 0 }, FALSE }, NN_ERR_FORMAT, "absurd" },
    { { "a", "FloatStorage", "0", 6, 0, 2, { 3, 3 }, { G_MAXINT64, G_MAXINT64 }, FALSE }, NN_ERR_FORMAT, "overflows" },
    { { "a", "FloatStorage", "0", 6, 0, 9, { 1, 1, 1, 1, 1, 1, 1, 1, 1 }, { 1, 1, 1, 1, 1, 1, 1, 1, 1 }, FALSE }, NN_ERR_UNSUPPORTED, "more than 8 dimensions" },
    { { "a", "FloatStorage", "0", 7, 0, 1, { 2 }, { 1 }, FALSE }, NN_ERR_FORMAT, "tensor a: storage data/0 holds 24 bytes, not 7 F32 elements" },
    { { "a", "DoubleStorage", "0", 6, 0, 1, { 2 }, { 1 }, FALSE }, NN_ERR_FORMAT, "not 6 F64 elements" },
    { { "a", "FloatStorage", "9", 6, 0, 1, { 2 }, { 1 }, FALSE }, NN_ERR_FORMAT, "storage data/9 is missing" },
    { { "a", "FloatStorage", "../0", 6, 0, 1, { 2 }, { 1 }, FALSE }, NN_ERR_FORMAT, "bad storage key" },
    { { "a", "FloatStorage", "..", 6, 0, 1, { 2 }, { 1 }, FALSE }, NN_ERR_FORMAT, "bad storage key" },
    { { "a", "FloatStorage", "", 6, 0, 1, { 2 }, { 1 }, FALSE }, NN_ERR_FORMAT, "bad storage key" },
    { { "a", "FloatStorage", "0", -6, 0, 1, { 2 }, { 1 }, FALSE }, NN_ERR_FORMAT, "storage size" },
    { { "a", "FloatStorage", "0", G_MAXINT64, 0, 1, { 2 }, { 1 }, FALSE }, NN_ERR_FORMAT, "storage size is absurd" },
    { { "a", "ComplexFloatStorage", "0", 6, 0, 1, { 2 }, { 1 }, FALSE }, NN_ERR_UNSUPPORTED, "refusing to load torch.ComplexFloatStorage" },
    { { "", "FloatStorage", "0", 6, 0, 1, { 2 }, { 1 }, FALSE }, NN_ERR_FORMAT, "empty" },
  };

  for (size_t i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      NnTensorFile *file = NULL;
      NnError err = { 0 };
      NnStatus status = read_specs (&cases[i].spec, 1, &file, &err);
      if (status != cases[i].status || strstr (err.message, cases[i].message) == NULL)
        g_error ("case %zu: status %d, \"%s\"; expected %d, \"%s\"", i, status, err.message,
                 cases[i].status, cases[i].message);
      g_assert_null (file);
    }
}

/* Raw pickles: each is run inside an otherwise valid archive. */
typedef struct {
  const char *pickle;
  size_t len;
  NnStatus status;
  const char *message;
} PickleCase;

#define P(s) s, sizeof s - 1

static void
test_crafted_bad_pickles (void)
{
  static const PickleCase cases[] = {
    { P ("\200\002]."), NN_ERR_UNSUPPORTED, "holds a list, not a state_dict" },
    { P ("\200\002}X\001\000\000\000aK\001s."), NN_ERR_UNSUPPORTED, "state_dict entry a is a int, not a tensor" },
    { P ("\200\002}K\001K\001s."), NN_ERR_FORMAT, "key 0 is a int" },
    { P ("\200\002cbuiltins\neval\n."), NN_ERR_UNSUPPORTED, "refusing to load builtins.eval" },
    { P ("\200\002cos\nsystem\nX\002\000\000\000ls\205R."), NN_ERR_UNSUPPORTED, "refusing to load os.system" },
    { P ("\200\004\214\010builtins\214\004exec\223."), NN_ERR_UNSUPPORTED, "refusing to load builtins.exec" },
    { P ("\200\002ctorch\nload\n."), NN_ERR_UNSUPPORTED, "torch.load" },
    { P ("\200\002ctorch.storage\n_load_from_bytes\n."), NN_ERR_UNSUPPORTED, "torch.storage._load_from_bytes" },
    { P ("\200\002ccollections\nOrderedDict"), NN_ERR_FORMAT, "bad or truncated GLOBAL" },
    { P ("\200\002ccollections\nOrderedDict\n]R."), NN_ERR_FORMAT, "arguments are not a tuple" },
    { P ("\200\002K\001)R."), NN_ERR_FORMAT, "REDUCE on a int" },
    { P ("\200\002ctorch\nFloatStorage\n)R."), NN_ERR_UNSUPPORTED, "storage class is called" },
    { P ("\200\002ccollections\nOrderedDict\nK\001\205R."), NN_ERR_UNSUPPORTED, "OrderedDict with initial items" },
    { P ("\200\002i__main__\nEvil\n."), NN_ERR_UNSUPPORTED, "opcode 0x69 at byte 2" },
    { P ("\200\002h\005."), NN_ERR_FORMAT, "memo entry not set" },
    { P ("\200\002}r\377\377\377\377."), NN_ERR_FORMAT, "memo index out of range" },
    { P ("\200\002R."), NN_ERR_FORMAT, "stack underflow" },
    { P ("\200\002(R."), NN_ERR_FORMAT, "stack underflow" },
    { P ("\200\002}K\001u."), NN_ERR_FORMAT, "no MARK" },
    { P ("\200\002}(K\001u."), NN_ERR_FORMAT, "odd count" },
    { P ("\200\002](K\001u."), NN_ERR_FORMAT, "SETITEMS on a list" },
    { P ("\200\002}K\001a."), NN_ERR_FORMAT, "APPEND to a dict" },
    { P ("\200\002K\001K\001b."), NN_ERR_FORMAT, "BUILD on a int" },
    { P ("\200\002}"), NN_ERR_FORMAT, "no STOP" },
    { P ("\200\002."), NN_ERR_FORMAT, "stack underflow" },
    { P (""), NN_ERR_FORMAT, "no STOP" },
    { P ("\200\011}."), NN_ERR_UNSUPPORTED, "protocol" },
    { P ("\200\002X\377\377\377\377."), NN_ERR_FORMAT, "past the end of the pickle" },
    { P ("\200\002X\002\000\000\000\303(."), NN_ERR_FORMAT, "not valid UTF-8" },
    { P ("\200\002\212\011\001\002\003\004\005\006\007\010\011."), NN_ERR_UNSUPPORTED, "wider than 64 bits" },
    { P ("\200\002K\001Q."), NN_ERR_FORMAT, "persistent id is not a 5-tuple" },
    { P ("\200\002(X\003\000\000\000fooK\001K\001K\001K\001tQ."), NN_ERR_UNSUPPORTED, "not a storage" },
    { P ("\200\002(X\007\000\000\000storageK\001K\001K\001K\001tQ."), NN_ERR_FORMAT, "not a torch storage class" },
  };

  for (size_t i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      NnTensorFile *file = NULL;
      NnError err = { 0 };
      NnStatus status = read_archive ((const guint8 *) cases[i].pickle, cases[i].len, NULL,
                                      NULL, &file, &err);
      if (status != cases[i].status || strstr (err.message, cases[i].message) == NULL)
        g_error ("case %zu: status %d, \"%s\"; expected %d, \"%s\"", i, status, err.message,
                 cases[i].status, cases[i].message);
      g_assert_null (file);
    }

  /* Deep MARK nesting and a long run of pushes are bounded. */
  {
    GByteArray *p = g_byte_array_new ();
    NnTensorFile *file = NULL;
    NnError err = { 0 };
    op (p, 0x80);
    op (p, 2);
    for (int i = 0; i < 5000; i++)
      op (p, '(');
    op (p, '.');
    g_assert_cmpint (read_archive (p->data, p->len, NULL, NULL, &file, &err), ==, NN_ERR_FORMAT);
    g_assert_nonnull (strstr (err.message, "marks nested too deeply"));
    g_byte_array_unref (p);
  }

  /* Two entries of one name. */
  {
    TensorSpec twice[2] = { weight, weight };
    NnTensorFile *file = NULL;
    NnError err = { 0 };
    g_assert_cmpint (read_specs (twice, 2, &file, &err), ==, NN_ERR_FORMAT);
    g_assert_nonnull (strstr (err.message, "tensor layer1.0.conv1.weight appears twice"));
  }
}

static void
test_crafted_archives (void)
{
  GByteArray *p = state_pickle (&weight, 1);
  NnTensorFile *file = NULL;
  NnError err = { 0 };
  ZipOptions bad_crc = { .bad_crc = TRUE };
  ZipItem deflated[2] = {
    { "x/data.pkl", p->data, p->len, 8 },
    { "x/data/0", storage0, sizeof storage0, 0 },
  };
  ZipItem no_pkl[1] = { { "x/data/0", storage0, sizeof storage0, 0 } };
  ZipItem top_level[2] = {
    { "data.pkl", p->data, p->len, 0 },
    { "data/0", storage0, sizeof storage0, 0 },
  };
  ZipItem odd_folder[2] = {
    { "my model (v2)/data.pkl", p->data, p->len, 0 },
    { "my model (v2)/data/0", storage0, sizeof storage0, 0 },
  };
  GByteArray *zip;

  g_assert_cmpint (read_archive (p->data, p->len, "big", NULL, &file, &err), ==, NN_ERR_UNSUPPORTED);
  g_assert_nonnull (strstr (err.message, "big-endian"));
  g_assert_cmpint (read_archive (p->data, p->len, "middle", NULL, &file, &err), ==, NN_ERR_FORMAT);
  g_assert_cmpint (read_archive (p->data, p->len, NULL, &bad_crc, &file, &err), ==, NN_ERR_FORMAT);
  g_assert_nonnull (strstr (err.message, "zip entry archive/data.pkl is damaged (CRC-32"));

  zip = build_zip (deflated, 2, NULL);
  g_assert_cmpint (nn_pth_read_memory (&file, zip->data, zip->len, &err), ==, NN_ERR_UNSUPPORTED);
  g_assert_nonnull (strstr (err.message, "x/data.pkl is compressed (method 8, deflate)"));
  g_byte_array_unref (zip);

  zip = build_zip (no_pkl, 1, NULL);
  g_assert_cmpint (nn_pth_read_memory (&file, zip->data, zip->len, &err), ==, NN_ERR_FORMAT);
  g_assert_nonnull (strstr (err.message, "no <folder>/data.pkl"));
  g_byte_array_unref (zip);

  zip = build_zip (top_level, 2, NULL);
  g_assert_cmpint (nn_pth_read_memory (&file, zip->data, zip->len, &err), ==, NN_ERR_FORMAT);
  g_byte_array_unref (zip);

  {
    ZipItem twice[3] = {
      { "x/data.pkl", p->data, p->len, 0 },
      { "x/data/0", storage0, sizeof storage0, 0 },
      { "x/data/0", storage1, sizeof storage1, 0 },
    };
    zip = build_zip (twice, 3, NULL);
    g_assert_cmpint (nn_pth_read_memory (&file, zip->data, zip->len, &err), ==, NN_ERR_FORMAT);
    g_assert_nonnull (strstr (err.message, "zip lists x/data/0 twice"));
    g_byte_array_unref (zip);
  }

  zip = build_zip (odd_folder, 2, NULL);
  g_assert_cmpint (nn_pth_read_memory (&file, zip->data, zip->len, &err), ==, NN_OK);
  g_assert_cmpstr (file->tensors[0].name, ==, weight.name);
  nn_tensor_file_free (file);
  g_byte_array_unref (zip);

  /* Not zips at all. */
  g_assert_cmpint (nn_pth_read_memory (&file, (const guint8 *) "hello", 5, &err), ==, NN_ERR_FORMAT);
  g_assert_cmpint (nn_pth_read_memory (&file, (const guint8 *) "PK\003\004", 4, &err), ==, NN_ERR_FORMAT);
  g_assert_cmpint (nn_pth_read_memory (&file, NULL, 0, &err), ==, NN_ERR_FORMAT);
  g_assert_cmpint (nn_pth_read_memory (&file, (const guint8 *) "\200\002\212\012", 4, &err), ==, NN_ERR_UNSUPPORTED);

  g_byte_array_unref (p);
}

/* A zip whose directory lies: the reader must notice before reading. */
static void
test_zip_lies (void)
{
  GByteArray *p = state_pickle (&weight, 1);
  ZipItem items[2] = {
    { "x/data.pkl", p->data, p->len, 0 },
    { "x/data/0", storage0, sizeof storage0, 0 },
  };
  GByteArray *zip = build_zip (items, 2, NULL);
  gsize eocd = zip->len - 22;
  guint8 *copy;
  NnZip *z = NULL;
  NnError err = { 0 };
  static const struct { size_t at; guint32 value; int width; } lies[] = {
    { 10, 0xffff, 2 },          /* entry count */
    { 10, 3, 2 },
    { 12, 0xfffffff0, 4 },      /* directory size */
    { 16, 0xfffffff0, 4 },      /* directory offset */
    { 16, 1, 4 },
    { 4, 1, 2 },                /* disk number */
    { 20, 1, 2 },               /* comment length */
  };

  for (size_t i = 0; i < G_N_ELEMENTS (lies); i++)
    {
      copy = g_memdup2 (zip->data, zip->len);
      copy[eocd + lies[i].at] = (guint8) lies[i].value;
      copy[eocd + lies[i].at + 1] = (guint8) (lies[i].value >> 8);
      if (lies[i].width == 4)
        {
          copy[eocd + lies[i].at + 2] = (guint8) (lies[i].value >> 16);
          copy[eocd + lies[i].at + 3] = (guint8) (lies[i].value >> 24);
        }
      g_assert_cmpint (nn_zip_open (&z, copy, zip->len, &err), !=, NN_OK);
      g_assert_null (z);
      g_free (copy);
    }

  /* Entry sizes and offsets in the central directory. */
  {
    gsize cd = zip->len - 22 - (2 * 46 + strlen ("x/data.pkl") + strlen ("x/data/0"));
    static const size_t fields[] = { 20, 24, 42, 28, 30 };
    for (size_t i = 0; i < G_N_ELEMENTS (fields); i++)
      {
        NnTensorFile *file = NULL;
        copy = g_memdup2 (zip->data, zip->len);
        copy[cd + fields[i] + 1] ^= 0x40;
        g_assert_cmpint (nn_pth_read_memory (&file, copy, zip->len, &err), !=, NN_OK);
        g_free (copy);
      }
  }
  g_byte_array_unref (zip);
  g_byte_array_unref (p);
}

/* Mutations of a real data.pkl, inside an archive that is otherwise sound
 * (CRCs recomputed), so that they reach the pickle machine. */
static GBytes *fuzz_fixture;

static NnStatus
read_with_pickle (NnTensorFile **out, const guint8 *pkl, size_t pkl_len, NnError *err)
{
  gsize len;
  const guint8 *valid = g_bytes_get_data (fuzz_fixture, &len);
  NnZip *zip = NULL;
  ZipItem *items;
  GByteArray *rebuilt;
  NnStatus status;

  g_assert_cmpint (nn_zip_open (&zip, valid, len, NULL), ==, NN_OK);
  items = g_new0 (ZipItem, zip->n_entries);
  for (size_t i = 0; i < zip->n_entries; i++)
    {
      items[i].name = zip->entries[i].name;
      if (g_str_has_suffix (items[i].name, "/data.pkl"))
        {
          items[i].data = pkl;
          items[i].len = pkl_len;
        }
      else
        {
          items[i].data = valid + zip->entries[i].data_offset;
          items[i].len = (size_t) zip->entries[i].compressed_size;
        }
    }
  rebuilt = build_zip (items, zip->n_entries, NULL);
  status = nn_pth_read_memory (out, rebuilt->data, rebuilt->len, err);
  g_byte_array_unref (rebuilt);
  g_free (items);
  nn_zip_free (zip);
  return status;
}

static void
test_fuzz (void)
{
  g_autoptr (GBytes) fixture = weights_fixture_bytes ("tiny-state.pth");
  gsize len;
  const guint8 *valid = g_bytes_get_data (fixture, &len);
  NnZip *zip = NULL;
  const NnZipEntry *pkl_entry;
  const guint8 *pkl;
  size_t pkl_len;
  NnError err = { 0 };
  guint n_cases = g_test_slow () ? 100000 : 10000;
  guint ok;

  /* The raw archive: nearly every mutant fails a CRC or a header check. */
  ok = weights_fuzz (nn_pth_read_memory, valid, len, n_cases / 4, 99, 0, len);
  g_test_message ("archive: %u of %u mutants still read", ok, n_cases / 4);

  fuzz_fixture = fixture;
  g_assert_cmpint (nn_zip_open (&zip, valid, len, &err), ==, NN_OK);
  pkl_entry = nn_zip_find (zip, "tiny-state/data.pkl");
  g_assert_nonnull (pkl_entry);
  g_assert_cmpint (nn_zip_entry_data (zip, pkl_entry, &pkl, &pkl_len, &err), ==, NN_OK);
  {
    NnTensorFile *file = NULL;
    g_assert_cmpint (read_with_pickle (&file, pkl, pkl_len, &err), ==, NN_OK);
    weights_check_expected (file);
    nn_tensor_file_free (file);
  }
  ok = weights_fuzz (read_with_pickle, pkl, pkl_len, n_cases, 7, 0, pkl_len);
  g_test_message ("data.pkl: %u of %u mutants still read", ok, n_cases);
  nn_zip_free (zip);
  fuzz_fixture = NULL;
}

/* The pickle machine on its own: sharing through the memo, protocol 4. */
static void
test_pickle_values (void)
{
  /* PROTO 4, FRAME, [1, -2, 3.5, True, None, 'é', b'xy', (1,2,3), memo'd list] */
  static const guint8 text[] =
    "\200\004\225\000\000\000\000\000\000\000\000"
    "](K\001J\376\377\377\377G@\014\000\000\000\000\000\000\210N"
    "\214\002\303\251\224C\002xy\224K\001K\002K\003\207\224h\002e.";
  NnPickle *pickle = NULL;
  NnError err = { 0 };
  const NnPickleValue *list;

  g_assert_cmpint (nn_pickle_load (&pickle, text, sizeof text - 1, &err), ==, NN_OK);
  list = nn_pickle_result (pickle);
  g_assert_cmpint (list->type, ==, NN_PICKLE_LIST);
  g_assert_cmpuint (list->n_items, ==, 9);
  g_assert_cmpint (list->items[0]->integer, ==, 1);
  g_assert_cmpint (list->items[1]->integer, ==, -2);
  g_assert_cmpfloat (list->items[2]->number, ==, 3.5);
  g_assert_cmpint (list->items[3]->type, ==, NN_PICKLE_BOOL);
  g_assert_cmpint (list->items[4]->type, ==, NN_PICKLE_NONE);
  g_assert_cmpstr (list->items[5]->string, ==, "\303\251");
  g_assert_cmpint (list->items[6]->type, ==, NN_PICKLE_BYTES);
  g_assert_cmpint (list->items[7]->type, ==, NN_PICKLE_TUPLE);
  g_assert_cmpuint (list->items[7]->n_items, ==, 3);
  g_assert_true (list->items[8] == list->items[7]);   /* memo 2, fetched again */
  nn_pickle_free (pickle);

  /* LONG1 of several widths, sign-extended. */
  {
    static const guint8 longs[] = "\200\002(\212\000\212\001\377\212\002\000\200\212\010\377\377\377\377\377\377\377\177l.";
    g_assert_cmpint (nn_pickle_load (&pickle, longs, sizeof longs - 1, &err), ==, NN_OK);
    list = nn_pickle_result (pickle);
    g_assert_cmpuint (list->n_items, ==, 4);
    g_assert_cmpint (list->items[0]->integer, ==, 0);
    g_assert_cmpint (list->items[1]->integer, ==, -1);
    g_assert_cmpint (list->items[2]->integer, ==, -32768);
    g_assert_cmpint (list->items[3]->integer, ==, G_MAXINT64);
    nn_pickle_free (pickle);
  }
}

static void
test_other_fixtures (void)
{
  /* The parity fixture of another suite, when present: a width-8 ResNet-18. */
  g_autofree char *path = weights_fixture_path ("resnet-w8-c1000.pth");
  NnTensorFile *file = NULL;
  NnError err = { 0 };
  const NnNamedTensor *t;

  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    {
      g_test_skip ("resnet-w8-c1000.pth not generated");
      return;
    }
  if (nn_pth_read (&file, path, &err) != NN_OK)
    g_error ("%s", err.message);
  t = nn_tensor_file_find (file, "layer2.0.downsample.1.num_batches_tracked");
  g_assert_nonnull (t);
  g_assert_cmpint (t->dtype, ==, NN_DTYPE_I64);
  t = nn_tensor_file_find (file, "fc.weight");
  g_assert_nonnull (t);
  g_assert_cmpint (t->ndim, ==, 2);
  g_assert_cmpint (t->shape[0], ==, 1000);
  g_assert_cmpuint (file->n_tensors, ==, 122);
  nn_tensor_file_free (file);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_data_func ("/pth/fixture/protocol-2", "tiny-state.pth", test_fixture);
  g_test_add_data_func ("/pth/fixture/protocol-4", "tiny-state-p4.pth", test_fixture);
  g_test_add_func ("/pth/fixture/refused", test_refused_fixtures);
  g_test_add_func ("/pth/fixture/resnet", test_other_fixtures);
  g_test_add_func ("/pth/truncated", test_truncated);
  g_test_add_func ("/pth/corrupted", test_corrupted);
  g_test_add_func ("/pth/crafted/good", test_crafted_good);
  g_test_add_func ("/pth/crafted/bad-tensors", test_crafted_bad_tensors);
  g_test_add_func ("/pth/crafted/bad-pickles", test_crafted_bad_pickles);
  g_test_add_func ("/pth/crafted/archives", test_crafted_archives);
  g_test_add_func ("/pth/zip/lies", test_zip_lies);
  g_test_add_func ("/pth/pickle/values", test_pickle_values);
  g_test_add_func ("/pth/fuzz", test_fuzz);

  return g_test_run ();
}
