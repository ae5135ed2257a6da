/* Tests of the safetensors reader and writer, the atomic file writer, the
 * JSON parser under them and the dtype helpers. */
#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <locale.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "nn-json.h"
#include "nn-tensor-file.h"
#include "weights-expect.h"

/* The metadata written into tiny-state.safetensors by weightfiles.py. */
static const char *const fixture_meta_keys[] = { "format", "classes", "escapes", "unicode", "empty" };
static const char *const fixture_meta_values[] = {
  "pt",
  "[\"NORMAL\",\"PNEUMONIA\"]",
  "quote \" backslash \\ newline \n tab \t cr \r ctrl \001\037 del \177",
  "R\303\266ntgen \342\234\223 \350\202\272 \360\237\247\252",
  "",
};

/* A safetensors file in memory: the header text (padded with nothing) and
 * data_len bytes of data 0, 1, 2, ... */
static GByteArray *
make_file (const char *header, size_t data_len)
{
  GByteArray *file = g_byte_array_new ();
  guint64 n = strlen (header);
  guint8 prefix[8];

  for (int i = 0; i < 8; i++)
    prefix[i] = (guint8) (n >> (8 * i));
  g_byte_array_append (file, prefix, 8);
  g_byte_array_append (file, (const guint8 *) header, (guint) n);
  for (size_t i = 0; i < data_len; i++)
    {
      guint8 b = (guint8) i;
      g_byte_array_append (file, &b, 1);
    }
  return file;
}

static NnStatus
read_header (const char *header, size_t data_len, NnTensorFile **out, NnError *err)
{
  GByteArray *file = make_file (header, data_len);
  NnStatus status = nn_safetensors_read_memory (out, file->data, file->len, err);

  g_byte_array_unref (file);
  return status;
}

static char *
make_tmpdir (void)
{
  g_autoptr (GError) error = NULL;
  char *dir = g_dir_make_tmp ("xl-safetensors-XXXXXX", &error);

  g_assert_no_error (error);
  return dir;
}

static guint
count_entries (const char *dir)
{
  GDir *d = g_dir_open (dir, 0, NULL);
  guint n = 0;

  g_assert_nonnull (d);
  while (g_dir_read_name (d) != NULL)
    n++;
  g_dir_close (d);
  return n;
}

static void
remove_tree (const char *path)
{
  GDir *d = g_dir_open (path, 0, NULL);
  const char *name;

  if (d == NULL)
    {
      g_remove (path);
      return;
    }
  while ((name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);
      remove_tree (child);
    }
  g_dir_close (d);
  g_rmdir (path);
}

static void
assert_same_tensor (const NnNamedTensor *a, const NnNamedTensor *b)
{
  g_assert_cmpstr (a->name, ==, b->name);
  g_assert_cmpint (a->dtype, ==, b->dtype);
  g_assert_cmpint (a->ndim, ==, b->ndim);
  for (int d = 0; d < a->ndim; d++)
    g_assert_cmpint (a->shape[d], ==, b->shape[d]);
  g_assert_cmpuint (a->numel, ==, b->numel);
  g_assert_cmpmem (a->data, a->numel * nn_dtype_size (a->dtype),
                   b->data, b->numel * nn_dtype_size (b->dtype));
}

/* Round trip. */

static void
test_roundtrip (void)
{
  g_autofree char *dir = make_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "model.safetensors", NULL);
  float f32[6] = { 1.5f, -2.25f, 0.0f, -0.0f, INFINITY, 3.0e-39f };
  double f64[2] = { M_PI, -1e300 };
  guint16 f16[3] = { nn_f32_to_f16 (1.0f), nn_f32_to_f16 (-65504.0f), 0x0001 };
  guint16 bf16[2] = { nn_f32_to_bf16 (3.0f), nn_f32_to_bf16 (-1e30f) };
  gint64 i64 = 12345678901234;
  gint32 i32[4] = { G_MININT32, -1, 0, G_MAXINT32 };
  gint16 i16[2] = { -300, 300 };
  gint8 i8[2] = { -128, 127 };
  guint8 u8[3] = { 0, 128, 255 };
  guint8 flags[2] = { 1, 0 };
  guint8 nothing[1] = { 0 };
  NnNamedTensor tensors[] = {
    { .name = "layer1.0.conv1.weight", .dtype = NN_DTYPE_F32, .ndim = 2, .shape = { 2, 3 }, .numel = 6, .data = f32 },
    { .name = "f64", .dtype = NN_DTYPE_F64, .ndim = 1, .shape = { 2 }, .numel = 2, .data = f64 },
    { .name = "f16", .dtype = NN_DTYPE_F16, .ndim = 1, .shape = { 3 }, .numel = 3, .data = f16 },
    { .name = "bf16", .dtype = NN_DTYPE_BF16, .ndim = 2, .shape = { 1, 2 }, .numel = 2, .data = bf16 },
    { .name = "bn1.num_batches_tracked", .dtype = NN_DTYPE_I64, .ndim = 0, .numel = 1, .data = &i64 },
    { .name = "i32", .dtype = NN_DTYPE_I32, .ndim = 1, .shape = { 4 }, .numel = 4, .data = i32 },
    { .name = "i16", .dtype = NN_DTYPE_I16, .ndim = 1, .shape = { 2 }, .numel = 2, .data = i16 },
    { .name = "i8", .dtype = NN_DTYPE_I8, .ndim = 1, .shape = { 2 }, .numel = 2, .data = i8 },
    { .name = "u8", .dtype = NN_DTYPE_U8, .ndim = 3, .shape = { 1, 3, 1 }, .numel = 3, .data = u8 },
    { .name = "bool", .dtype = NN_DTYPE_BOOL, .ndim = 1, .shape = { 2 }, .numel = 2, .data = flags },
    { .name = "empty", .dtype = NN_DTYPE_F32, .ndim = 2, .shape = { 0, 7 }, .numel = 0, .data = nothing },
    { .name = "nodata", .dtype = NN_DTYPE_F32, .ndim = 1, .shape = { 0 }, .numel = 0, .data = NULL },
  };
  const char *keys[] = { "xraylab", "classes", "note" };
  const char *values[] = { "1", "[\"NORMAL\",\"PNEUMONIA\"]", "tab\there \"quoted\" \\ \360\237\251\273" };
  NnTensorFile *file = NULL;
  NnError err = { 0 };
  g_autofree char *contents = NULL;
  gsize len;
  guint64 header_len = 0;

  g_assert_cmpint (nn_safetensors_write (path, tensors, G_N_ELEMENTS (tensors), keys, values,
                                         G_N_ELEMENTS (keys), &err), ==, NN_OK);
  g_assert_cmpuint (count_entries (dir), ==, 1);

  /* The data starts at a multiple of 8, after a header padded with spaces. */
  g_assert_true (g_file_get_contents (path, &contents, &len, NULL));
  for (int i = 7; i >= 0; i--)
    header_len = (header_len << 8) | (guint8) contents[i];
  g_assert_cmpuint ((8 + header_len) % 8, ==, 0);
  g_assert_cmpint (contents[8], ==, '{');
  g_assert_true (g_str_has_prefix (contents + 8, "{\"__metadata__\":{\"xraylab\":\"1\","));

  g_assert_cmpint (nn_safetensors_read (&file, path, &err), ==, NN_OK);
  g_assert_cmpuint (file->n_tensors, ==, G_N_ELEMENTS (tensors));
  for (size_t i = 0; i < G_N_ELEMENTS (tensors); i++)
    if (tensors[i].numel > 0)
      assert_same_tensor (&file->tensors[i], &tensors[i]);
    else
      {
        g_assert_cmpstr (file->tensors[i].name, ==, tensors[i].name);
        g_assert_cmpuint (file->tensors[i].numel, ==, 0);
        g_assert_nonnull (file->tensors[i].data);
      }
  g_assert_cmpuint (file->n_meta, ==, 3);
  for (size_t i = 0; i < G_N_ELEMENTS (keys); i++)
    g_assert_cmpstr (nn_tensor_file_meta (file, keys[i]), ==, values[i]);
  g_assert_null (nn_tensor_file_meta (file, "missing"));
  g_assert_true (nn_tensor_file_find (file, "bn1.num_batches_tracked") == &file->tensors[4]);
  g_assert_null (nn_tensor_file_find (file, "missing"));
  nn_tensor_file_free (file);

  /* The same through the format-sniffing reader and from memory. */
  g_assert_cmpint (nn_tensor_file_read (&file, path, &err), ==, NN_OK);
  g_assert_cmpuint (file->n_tensors, ==, G_N_ELEMENTS (tensors));
  nn_tensor_file_free (file);
  g_assert_cmpint (nn_safetensors_read_memory (&file, (const guint8 *) contents, len, &err), ==, NN_OK);
  assert_same_tensor (&file->tensors[0], &tensors[0]);
  nn_tensor_file_free (file);

  /* No tensors, no metadata. */
  g_assert_cmpint (nn_safetensors_write (path, NULL, 0, NULL, NULL, 0, &err), ==, NN_OK);
  g_assert_cmpint (nn_safetensors_read (&file, path, &err), ==, NN_OK);
  g_assert_cmpuint (file->n_tensors, ==, 0);
  g_assert_cmpuint (file->n_meta, ==, 0);
  nn_tensor_file_free (file);

  remove_tree (dir);
}

/* tiny-state.safetensors was written by weightfiles.save_safetensors and read
 * back by its load_safetensors; our writer must produce the same bytes. */
static void
test_fixture (void)
{
  g_autofree char *path = weights_fixture_path ("tiny-state.safetensors");
  g_autoptr (GBytes) fixture = weights_fixture_bytes ("tiny-state.safetensors");
  g_autofree char *dir = make_tmpdir ();
  g_autofree char *copy = g_build_filename (dir, "copy.safetensors", NULL);
  g_autofree char *written = NULL;
  NnTensorFile *file = NULL;
  NnError err = { 0 };
  gsize len;

  g_assert_cmpint (nn_safetensors_read (&file, path, &err), ==, NN_OK);
  weights_check_expected (file);
  g_assert_cmpuint (file->n_meta, ==, G_N_ELEMENTS (fixture_meta_keys));
  for (size_t i = 0; i < G_N_ELEMENTS (fixture_meta_keys); i++)
    {
      g_assert_cmpstr (file->meta_keys[i], ==, fixture_meta_keys[i]);
      g_assert_cmpstr (file->meta_values[i], ==, fixture_meta_values[i]);
    }

  g_assert_cmpint (nn_safetensors_write (copy, file->tensors, file->n_tensors,
                                         (const char *const *) file->meta_keys,
                                         (const char *const *) file->meta_values,
                                         file->n_meta, &err), ==, NN_OK);
  g_assert_true (g_file_get_contents (copy, &written, &len, NULL));
  g_assert_cmpmem (written, len, g_bytes_get_data (fixture, NULL), g_bytes_get_size (fixture));
  nn_tensor_file_free (file);
  remove_tree (dir);
}

/* Atomic writing. */

static const char old_contents[] = "the previous model, which must survive";

static void
write_old (const char *path)
{
  g_assert_true (g_file_set_contents (path, old_contents, -1, NULL));
}

static void
assert_old (const char *path)
{
  g_autofree char *contents = NULL;

  g_assert_true (g_file_get_contents (path, &contents, NULL, NULL));
  g_assert_cmpstr (contents, ==, old_contents);
}

static void
test_atomic_missing_folder (void)
{
  g_autofree char *dir = make_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "no-such-folder", "model.safetensors", NULL);
  float x = 1.0f;
  NnNamedTensor t = { .name = "x", .dtype = NN_DTYPE_F32, .ndim = 0, .numel = 1, .data = &x };
  NnError err = { 0 };

  g_assert_cmpint (nn_safetensors_write (path, &t, 1, NULL, NULL, 0, &err), ==, NN_ERR_IO);
  g_assert_nonnull (strstr (err.message, path));
  g_assert_nonnull (strstr (err.message, "No such file"));
  g_assert_cmpint (nn_write_file_atomic (path, "abc", 3, &err), ==, NN_ERR_IO);
  g_assert_cmpuint (count_entries (dir), ==, 0);
  remove_tree (dir);
}

/* The write itself fails half way (a file size limit makes write() return
 * EFBIG, which works as root too): the old file stays, no temporary is left. */
static void
test_atomic_write_fails (void)
{
  g_autofree char *dir = make_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "model.safetensors", NULL);
  pid_t child;
  int wstatus = 0;

  write_old (path);
  child = fork ();
  g_assert_cmpint (child, >=, 0);
  if (child == 0)
    {
      static float big[64 * 1024];
      NnNamedTensor t = { .name = "big", .dtype = NN_DTYPE_F32, .ndim = 1,
                          .shape = { G_N_ELEMENTS (big) }, .numel = G_N_ELEMENTS (big), .data = big };
      struct rlimit limit = { .rlim_cur = 4096, .rlim_max = RLIM_INFINITY };
      NnError err = { 0 };
      NnStatus status;

      signal (SIGXFSZ, SIG_IGN);
      getrlimit (RLIMIT_FSIZE, &limit);
      limit.rlim_cur = 4096;
      if (setrlimit (RLIMIT_FSIZE, &limit) != 0)
        _exit (77);
      status = nn_safetensors_write (path, &t, 1, NULL, NULL, 0, &err);
      if (status != NN_ERR_IO || strstr (err.message, "cannot write") == NULL)
        _exit (1);
      status = nn_write_file_atomic (path, big, sizeof big, &err);
      _exit (status == NN_ERR_IO ? 0 : 2);
    }
  g_assert_cmpint (waitpid (child, &wstatus, 0), ==, child);
  g_assert_true (WIFEXITED (wstatus));
  if (WEXITSTATUS (wstatus) == 77)
    g_test_skip ("cannot set a file size limit");
  else
    g_assert_cmpint (WEXITSTATUS (wstatus), ==, 0);
  assert_old (path);
  g_assert_cmpuint (count_entries (dir), ==, 1);
  remove_tree (dir);
}

static void
test_atomic_readonly_folder (void)
{
  g_autofree char *dir = make_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "model.safetensors", NULL);
  NnError err = { 0 };

  if (geteuid () == 0)
    {
      g_test_skip ("root can write into a read-only folder");
      remove_tree (dir);
      return;
    }
  write_old (path);
  g_assert_cmpint (g_chmod (dir, 0555), ==, 0);
  g_assert_cmpint (nn_write_file_atomic (path, "new", 3, &err), ==, NN_ERR_IO);
  g_assert_nonnull (strstr (err.message, path));
  g_assert_cmpint (g_chmod (dir, 0755), ==, 0);
  assert_old (path);
  g_assert_cmpuint (count_entries (dir), ==, 1);
  remove_tree (dir);
}

/* The rename fails: the target is a folder that is not empty. */
static void
test_atomic_rename_fails (void)
{
  g_autofree char *dir = make_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "model.safetensors", NULL);
  g_autofree char *inside = g_build_filename (path, "keep", NULL);
  NnError err = { 0 };

  g_assert_cmpint (g_mkdir (path, 0755), ==, 0);
  write_old (inside);
  g_assert_cmpint (nn_write_file_atomic (path, "new", 3, &err), ==, NN_ERR_IO);
  g_assert_nonnull (strstr (err.message, "cannot replace"));
  assert_old (inside);
  g_assert_cmpuint (count_entries (dir), ==, 1);
  remove_tree (dir);
}

static void
test_atomic_replace (void)
{
  g_autofree char *dir = make_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "notes.json", NULL);
  g_autofree char *contents = NULL;
  NnAtomicFile *file = NULL;
  NnError err = { 0 };
  struct stat st;
  mode_t mask = umask (022);

  g_assert_cmpint (nn_write_file_atomic (path, "{}", 2, &err), ==, NN_OK);
  g_assert_cmpint (g_stat (path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0644);

  /* Replacing keeps the mode of the file replaced. */
  g_assert_cmpint (g_chmod (path, 0600), ==, 0);
  g_assert_cmpint (nn_atomic_file_open (&file, path, &err), ==, NN_OK);
  g_assert_cmpint (nn_atomic_file_write (file, "[1,", 3, &err), ==, NN_OK);
  g_assert_cmpint (nn_atomic_file_write (file, "2]", 2, &err), ==, NN_OK);
  g_assert_cmpuint (count_entries (dir), ==, 2);
  g_assert_cmpint (nn_atomic_file_commit (file, &err), ==, NN_OK);
  g_assert_true (g_file_get_contents (path, &contents, NULL, NULL));
  g_assert_cmpstr (contents, ==, "[1,2]");
  g_assert_cmpint (g_stat (path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);

  /* Abort leaves the old file alone. */
  g_assert_cmpint (nn_atomic_file_open (&file, path, &err), ==, NN_OK);
  g_assert_cmpint (nn_atomic_file_write (file, "garbage", 7, &err), ==, NN_OK);
  nn_atomic_file_abort (file);
  g_clear_pointer (&contents, g_free);
  g_assert_true (g_file_get_contents (path, &contents, NULL, NULL));
  g_assert_cmpstr (contents, ==, "[1,2]");
  g_assert_cmpuint (count_entries (dir), ==, 1);

  umask (mask);
  remove_tree (dir);
}

/* Bad arguments to the writer fail before anything is touched. */
static void
test_write_invalid (void)
{
  g_autofree char *dir = make_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "model.safetensors", NULL);
  float x[2] = { 1, 2 };
  NnNamedTensor twice[2] = {
    { .name = "a", .dtype = NN_DTYPE_F32, .ndim = 1, .shape = { 1 }, .numel = 1, .data = x },
    { .name = "a", .dtype = NN_DTYPE_F32, .ndim = 1, .shape = { 1 }, .numel = 1, .data = x + 1 },
  };
  NnNamedTensor wrong_numel = { .name = "b", .dtype = NN_DTYPE_F32, .ndim = 1, .shape = { 3 }, .numel = 2, .data = x };
  NnNamedTensor no_data = { .name = "c", .dtype = NN_DTYPE_F32, .ndim = 1, .shape = { 2 }, .numel = 2, .data = NULL };
  NnNamedTensor reserved = { .name = "__metadata__", .dtype = NN_DTYPE_F32, .ndim = 0, .numel = 1, .data = x };
  NnNamedTensor bad_utf8 = { .name = "caf\351", .dtype = NN_DTYPE_F32, .ndim = 0, .numel = 1, .data = x };
  NnNamedTensor bad_dtype = { .name = "d", .dtype = (NnDtype) 99, .ndim = 0, .numel = 1, .data = x };
  NnNamedTensor many_dims = { .name = "e", .dtype = NN_DTYPE_F32, .ndim = 9, .numel = 1, .data = x };
  const char *keys[] = { "k", "k" };
  const char *values[] = { "1", "2" };
  NnError err = { 0 };

  write_old (path);
  g_assert_cmpint (nn_safetensors_write (path, twice, 2, NULL, NULL, 0, &err), ==, NN_ERR_INVALID);
  g_assert_nonnull (strstr (err.message, "used twice"));
  g_assert_cmpint (nn_safetensors_write (path, &wrong_numel, 1, NULL, NULL, 0, &err), ==, NN_ERR_INVALID);
  g_assert_cmpint (nn_safetensors_write (path, &no_data, 1, NULL, NULL, 0, &err), ==, NN_ERR_INVALID);
  g_assert_cmpint (nn_safetensors_write (path, &reserved, 1, NULL, NULL, 0, &err), ==, NN_ERR_INVALID);
  g_assert_cmpint (nn_safetensors_write (path, &bad_utf8, 1, NULL, NULL, 0, &err), ==, NN_ERR_INVALID);
  g_assert_cmpint (nn_safetensors_write (path, &bad_dtype, 1, NULL, NULL, 0, &err), ==, NN_ERR_INVALID);
  g_assert_cmpint (nn_safetensors_write (path, &many_dims, 1, NULL, NULL, 0, &err), ==, NN_ERR_INVALID);
  g_assert_cmpint (nn_safetensors_write (path, twice, 1, keys, values, 2, &err), ==, NN_ERR_INVALID);
  g_assert_nonnull (strstr (err.message, path));
  g_assert_cmpint (nn_safetensors_write (path, twice, 1, NULL, values, 1, &err), ==, NN_ERR_INVALID);
  assert_old (path);
  g_assert_cmpuint (count_entries (dir), ==, 1);
  remove_tree (dir);
}

/* Bad input. */

typedef struct {
  const char *header;
  size_t data_len;
  NnStatus status;
  const char *message;      /* a part of the message that must be there */
} BadCase;

static void
test_bad_headers (void)
{
  static const BadCase cases[] = {
    { "[]", 0, NN_ERR_FORMAT, "header is an array, not a JSON object" },
    { "\"x\"", 0, NN_ERR_FORMAT, "not a JSON object" },
    { "12", 0, NN_ERR_FORMAT, "not a JSON object" },
    { "{", 0, NN_ERR_FORMAT, "header is too short" },
    { "{\"a\"", 0, NN_ERR_FORMAT, "header: JSON: expected ':' at byte 4" },
    { "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},}", 4, NN_ERR_FORMAT, "JSON" },
    { "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}} x", 4, NN_ERR_FORMAT, "trailing" },
    { "{\"a\":{\"dtype\":\"F33\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4, NN_ERR_UNSUPPORTED, "tensor a: dtype \"F33\" is not supported" },
    { "{\"a\":{\"dtype\":\"F8_E4M3\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1, NN_ERR_UNSUPPORTED, "not supported" },
    { "{\"a\":{\"dtype\":\"f32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4, NN_ERR_UNSUPPORTED, "not supported" },
    { "{\"a\":{\"dtype\":3,\"shape\":[1],\"data_offsets\":[0,4]}}", 4, NN_ERR_FORMAT, "dtype is an integer" },
    { "{\"a\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4, NN_ERR_FORMAT, "missing \"dtype\"" },
    { "{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", 4, NN_ERR_FORMAT, "missing \"shape\"" },
    { "{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4, NN_ERR_FORMAT, "missing \"data_offsets\"" },
    { "{\"a\":[1,2]}", 4, NN_ERR_FORMAT, "tensor a: entry is an array" },
    { "{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4, NN_ERR_FORMAT, "non-negative" },
    { "{\"a\":{\"dtype\":\"F32\",\"shape\":[1.0],\"data_offsets\":[0,4]}}", 4, NN_ERR_FORMAT, "non-negative integer" },
    { "{\"a\":{\"dtype\":\"F32\",\"shape\":\"1\",\"data_offsets\":[0,4]}}", 4, NN_ERR_FORMAT, "shape is a string" },
    { "{\"a\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,4]}}", 4, NN_ERR_UNSUPPORTED, "9 dimensions" },
    { "{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,16],\"data_offsets\":[0,4]}}", 4, NN_ERR_FORMAT, "too many elements" },
    { "{\"a\":{\"dtype\":\"F64\",\"shape\":[2305843009213693952],\"data_offsets\":[0,8]}}", 8, NN_ERR_FORMAT, "too many elements" },
    { "{\"a\":{\"dtype\":\"F32\",\"shape\":[99999999999999999999],\"data_offsets\":[0,4]}}", 4, NN_ERR_FORMAT, "non-negative integer" },
    { "{\"fc.weight\":{\"dtype\":\"F32\",\"shape\":[2,512],\"data_offsets\":[0,100]}}", 100, NN_ERR_FORMAT,
      "tensor fc.weight: data_offsets [0, 100] do not match shape [2,512] of F32 (4096 bytes)" },
    { "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 7, NN_ERR_FORMAT, "reach past the end of the data (7 bytes" },
    { "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,4]}}", 8, NN_ERR_FORMAT, "run backwards" },
    { "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", 8, NN_ERR_FORMAT, "pair of non-negative" },
    { "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[-4,0]}}", 8, NN_ERR_FORMAT, "pair of non-negative" },
    { "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4,8]}}", 8, NN_ERR_FORMAT, "pair of non-negative" },
    { "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[18446744073709551612,18446744073709551616]}}", 8, NN_ERR_FORMAT, "pair of non-negative" },
    { "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8, NN_ERR_FORMAT, "tensors a [0, 8] and b [4, 8] overlap" },
    { "{\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]},\"a\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[0,8]}}", 8, NN_ERR_FORMAT, "overlap" },
    { "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4, NN_ERR_FORMAT, "overlap" },
    { "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8, NN_ERR_FORMAT, "duplicate key \"a\"" },
    { "{\"__metadata__\":[]}", 0, NN_ERR_FORMAT, "__metadata__ is an array, not an object" },
    { "{\"__metadata__\":{\"epochs\":10}}", 0, NN_ERR_FORMAT, "value of \"epochs\" is an integer, not a string" },
    { "{\"__metadata__\":{\"x\":null}}", 0, NN_ERR_FORMAT, "not a string" },
    { "{\"__metadata__\":{\"x\":\"a\\u0000b\"}}", 0, NN_ERR_FORMAT, "NUL" },
    { "{\"__metadata__\":{\"x\":{\"nested\":\"no\"}}}", 0, NN_ERR_FORMAT, "not a string" },
    { "{\"\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4, NN_ERR_FORMAT, "empty" },
    { "{\"a\\u0000b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4, NN_ERR_FORMAT, "NUL" },
    { "{\"\\ud800\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4, NN_ERR_FORMAT, "surrogate" },
    { "{\"caf\351\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4, NN_ERR_FORMAT, "UTF-8" },
    { "{\"a\tb\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4, NN_ERR_FORMAT, "control character" },
    { "{\"__metadata__\":{\"x\":[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]}}", 0, NN_ERR_FORMAT, "nested too deeply" },
    { "{\"a\":{\"dtype\":\"F32\",\"shape\":[01],\"data_offsets\":[0,4]}}", 4, NN_ERR_FORMAT, "leading zero" },
    { "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"__metadata__\":{\"k\":\"\\x\"}}", 4, NN_ERR_FORMAT, "bad escape" },
    { "{'a':1}", 0, NN_ERR_FORMAT, "expected a string key" },
    { "{\"a\":tru}", 0, NN_ERR_FORMAT, "unexpected character" },
    { "{} ", 0, NN_OK, NULL },
    { "  {}", 0, NN_OK, NULL },
  };
  g_autofree char *long_name = g_strnfill (1025, 'n');
  g_autofree char *long_header = g_strdup_printf ("{\"%s\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}", long_name);
  NnTensorFile *file = NULL;
  NnError err = { 0 };

  for (size_t i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      NnStatus status;
      memset (&err, 0, sizeof err);
      status = read_header (cases[i].header, cases[i].data_len, &file, &err);
      if (status != cases[i].status
          || (cases[i].message != NULL && strstr (err.message, cases[i].message) == NULL))
        g_error ("case %zu (%s): status %d, message \"%s\"; expected %d and \"%s\"", i,
                 cases[i].header, status, err.message, cases[i].status, cases[i].message);
      if (status == NN_OK)
        nn_tensor_file_free (file);
      else
        g_assert_null (file);
    }

  g_assert_cmpint (read_header (long_header, 1, &file, &err), ==, NN_ERR_FORMAT);
  g_assert_nonnull (strstr (err.message, "too long (1025 bytes)"));
  long_name[1024] = '\0';
  g_free (long_header);
  long_header = g_strdup_printf ("{\"%s\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}", long_name);
  g_assert_cmpint (read_header (long_header, 1, &file, &err), ==, NN_OK);
  nn_tensor_file_free (file);
}

/* What the format allows and we must accept: unsorted entries, gaps, data
 * after the last tensor, empty tensors anywhere, unknown keys in an entry. */
static void
test_good_headers (void)
{
  NnTensorFile *file = NULL;
  NnError err = { 0 };

  g_assert_cmpint (read_header ("{\"late\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[10,12]},"
                                "\"early\":{\"dtype\":\"I16\",\"shape\":[1,2],\"data_offsets\":[2,6],\"x\":[]},"
                                "\"none\":{\"dtype\":\"F64\",\"shape\":[0,5],\"data_offsets\":[4,4]},"
                                "\"scalar\":{\"dtype\":\"BOOL\",\"shape\":[],\"data_offsets\":[8,9]}}",
                                16, &file, &err), ==, NN_OK);
  g_assert_cmpuint (file->n_tensors, ==, 4);
  /* In file order, by offset. */
  g_assert_cmpstr (file->tensors[0].name, ==, "early");
  g_assert_cmpstr (file->tensors[1].name, ==, "none");
  g_assert_cmpstr (file->tensors[2].name, ==, "scalar");
  g_assert_cmpstr (file->tensors[3].name, ==, "late");
  g_assert_cmpint (((gint16 *) file->tensors[0].data)[0], ==, 0x0302);
  g_assert_cmpint (file->tensors[2].ndim, ==, 0);
  g_assert_cmpuint (file->tensors[2].numel, ==, 1);
  g_assert_cmpint (((guint8 *) file->tensors[2].data)[0], ==, 8);
  g_assert_cmpint (((guint8 *) file->tensors[3].data)[1], ==, 11);
  g_assert_cmpuint (file->tensors[1].numel, ==, 0);
  nn_tensor_file_free (file);
}

static void
put_le64 (guint8 *p, guint64 v)
{
  for (int i = 0; i < 8; i++)
    p[i] = (guint8) (v >> (8 * i));
}

static void
test_bad_lengths (void)
{
  g_autoptr (GBytes) fixture = weights_fixture_bytes ("tiny-state.safetensors");
  gsize len;
  const guint8 *valid = g_bytes_get_data (fixture, &len);
  g_autofree guint8 *buf = g_memdup2 (valid, len);
  NnTensorFile *file = NULL;
  NnError err = { 0 };
  static const guint64 lies[] = { G_MAXUINT64, G_MAXUINT64 - 7, (guint64) 1 << 62, 100000001, 0, 1 };

  g_assert_cmpint (nn_safetensors_read_memory (&file, buf, 0, &err), ==, NN_ERR_FORMAT);
  g_assert_nonnull (strstr (err.message, "too short"));
  g_assert_cmpint (nn_safetensors_read_memory (&file, buf, 7, &err), ==, NN_ERR_FORMAT);

  for (size_t i = 0; i < G_N_ELEMENTS (lies); i++)
    {
      put_le64 (buf, lies[i]);
      g_assert_cmpint (nn_safetensors_read_memory (&file, buf, len, &err), ==, NN_ERR_FORMAT);
      g_assert_null (file);
    }
  put_le64 (buf, (guint64) 1 << 62);
  nn_safetensors_read_memory (&file, buf, len, &err);
  g_assert_nonnull (strstr (err.message, "absurd"));
  put_le64 (buf, len);
  nn_safetensors_read_memory (&file, buf, len, &err);
  g_assert_nonnull (strstr (err.message, "truncated"));

  /* A header one byte longer than the truth takes in a data byte. (One byte
   * shorter would only drop a padding space.) */
  memcpy (buf, valid, len);
  put_le64 (buf, valid[0] + (guint64) 256 * valid[1] + 1);
  g_assert_cmpint (nn_safetensors_read_memory (&file, buf, len, &err), !=, NN_OK);

  /* Wrong magic: a zip, a PNG, text. */
  g_assert_cmpint (nn_safetensors_read_memory (&file, (const guint8 *) "PK\003\004xxxxxxxxxxxx", 16, &err), ==, NN_ERR_FORMAT);
  g_assert_cmpint (nn_safetensors_read_memory (&file, (const guint8 *) "\211PNG\r\n\032\n\0\0\0\rIHDR", 16, &err), ==, NN_ERR_FORMAT);
  g_assert_cmpint (nn_safetensors_read_memory (&file, (const guint8 *) "hello, world, this is text", 26, &err), ==, NN_ERR_FORMAT);
}

/* Every prefix of a valid file fails cleanly, from memory and from disk. */
static void
test_truncated (void)
{
  g_autoptr (GBytes) fixture = weights_fixture_bytes ("tiny-state.safetensors");
  g_autofree char *dir = make_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "cut.safetensors", NULL);
  gsize len;
  const guint8 *valid = g_bytes_get_data (fixture, &len);
  NnTensorFile *file = NULL;
  NnError err = { 0 };

  for (size_t n = 0; n < len; n++)
    {
      g_autofree guint8 *copy = g_memdup2 (valid, n);   /* exact size, for ASan */
      err.message[0] = '\0';
      g_assert_cmpint (nn_safetensors_read_memory (&file, copy, n, &err), !=, NN_OK);
      g_assert_null (file);
      g_assert_cmpstr (err.message, !=, "");
      if (n % 97 == 0 || n + 8 > len)
        {
          g_assert_true (g_file_set_contents (path, (const char *) valid, (gssize) n, NULL));
          g_assert_cmpint (nn_tensor_file_read (&file, path, &err), !=, NN_OK);
          g_assert_true (g_str_has_prefix (err.message, path));
        }
    }
  g_assert_cmpint (nn_safetensors_read_memory (&file, valid, len, &err), ==, NN_OK);
  nn_tensor_file_free (file);
  remove_tree (dir);
}

static void
test_file_errors (void)
{
  g_autofree char *dir = make_tmpdir ();
  g_autofree char *missing = g_build_filename (dir, "missing.safetensors", NULL);
  NnTensorFile *file = NULL;
  NnError err = { 0 };

  g_assert_cmpint (nn_tensor_file_read (&file, missing, &err), ==, NN_ERR_IO);
  g_assert_true (g_str_has_prefix (err.message, missing));
  g_assert_nonnull (strstr (err.message, "No such file"));
  g_assert_cmpint (nn_safetensors_read (&file, missing, &err), ==, NN_ERR_IO);
  g_assert_cmpint (nn_safetensors_read (&file, dir, &err), ==, NN_ERR_IO);
  g_assert_cmpint (nn_tensor_file_read (&file, dir, &err), !=, NN_OK);
  g_assert_null (file);
  remove_tree (dir);
}

static void
test_fuzz (void)
{
  g_autoptr (GBytes) fixture = weights_fixture_bytes ("tiny-state.safetensors");
  gsize len;
  const guint8 *valid = g_bytes_get_data (fixture, &len);
  size_t header_end = 8 + (valid[0] | (size_t) valid[1] << 8);
  guint n_cases = g_test_slow () ? 100000 : 10000;
  guint ok = weights_fuzz (nn_safetensors_read_memory, valid, len, n_cases, 1234, 8, header_end);

  g_test_message ("%u of %u mutants were still readable", ok, n_cases);
}

/* The JSON parser on its own. */

static void
test_json (void)
{
  static const char *const bad[] = {
    "", " ", "nul", "[1,]", "[,1]", "{\"a\"}", "{\"a\":}", "{\"a\":1,}", "[1 2]", "01", "1.", ".5",
    "1e", "+1", "-", "--1", "\"\\u12\"", "\"\\ud83d\"", "\"\\udc00\"", "\"\\ud83d\\u0041\"",
    "\"abc", "\"\t\"", "\"\300\200\"", "\"\355\240\200\"", "\"\364\220\200\200\"", "[1]]",
    "{\"a\":1,\"a\":2}", "\"\\'\"", "[\"a\" \"b\"]", "truefalse", "NaN", "Infinity", "[1e5x]",
  };
  NnJson *v = NULL;
  NnError err = { 0 };
  const char *text;

  for (size_t i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      if (nn_json_parse (&v, bad[i], strlen (bad[i]), NULL, &err) == NN_OK)
        g_error ("accepted bad JSON %s", bad[i]);
      g_assert_null (v);
      g_assert_true (g_str_has_prefix (err.message, "JSON: "));
    }

  text = "{\"s\":\"a\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\u20ac\\ud83d\\ude00\\u0000z\","
         "\"i\":-9223372036854775808,\"big\":18446744073709551616,\"f\":-1.5e-3,"
         "\"z\":-0,\"t\":true,\"n\":null,\"a\":[[],{}]}";
  g_assert_cmpint (nn_json_parse (&v, text, strlen (text), NULL, &err), ==, NN_OK);
  {
    const NnJson *s = nn_json_object_get (v, "s");
    static const char want[] = "a\"\\/\b\f\n\r\t\303\251\342\202\254\360\237\230\200\0z";
    g_assert_cmpmem (s->string, s->string_len, want, sizeof want - 1);
  }
  g_assert_cmpint (nn_json_object_get (v, "i")->type, ==, NN_JSON_INT);
  g_assert_cmpint (nn_json_object_get (v, "i")->integer, ==, G_MININT64);
  g_assert_cmpint (nn_json_object_get (v, "big")->type, ==, NN_JSON_NUMBER);
  g_assert_cmpfloat (nn_json_object_get (v, "big")->number, ==, 18446744073709551616.0);
  g_assert_cmpfloat (nn_json_object_get (v, "f")->number, ==, -1.5e-3);
  g_assert_cmpint (nn_json_object_get (v, "z")->type, ==, NN_JSON_INT);
  g_assert_true (nn_json_object_get (v, "t")->boolean);
  g_assert_cmpint (nn_json_object_get (v, "n")->type, ==, NN_JSON_NULL);
  g_assert_cmpuint (nn_json_object_get (v, "a")->n_items, ==, 2);
  g_assert_null (nn_json_object_get (v, "missing"));
  nn_json_free (v);

  /* Limits. */
  {
    NnJsonLimits limits = { .max_depth = 3, .max_values = 5, .max_string = 4 };
    g_assert_cmpint (nn_json_parse (&v, "[[[]]]", 6, &limits, &err), ==, NN_OK);
    nn_json_free (v);
    g_assert_cmpint (nn_json_parse (&v, "[[[[]]]]", 8, &limits, &err), ==, NN_ERR_FORMAT);
    g_assert_cmpint (nn_json_parse (&v, "[1,2,3,4,5]", 11, &limits, &err), ==, NN_ERR_FORMAT);
    g_assert_nonnull (strstr (err.message, "too many values"));
    g_assert_cmpint (nn_json_parse (&v, "\"abcde\"", 7, &limits, &err), ==, NN_ERR_FORMAT);
    g_assert_cmpint (nn_json_parse (&v, "\"abcd\"", 6, &limits, &err), ==, NN_OK);
    nn_json_free (v);
  }

  /* Deep nesting is refused without deep recursion. */
  {
    g_autofree char *deep = g_strnfill (100000, '[');
    g_assert_cmpint (nn_json_parse (&v, deep, 100000, NULL, &err), ==, NN_ERR_FORMAT);
    g_assert_nonnull (strstr (err.message, "nested too deeply"));
  }

  /* Escaping as Python's json.dumps (ensure_ascii=False) does. */
  {
    NnStrBuf buf = { 0 };
    static const char raw[] = "a\"b\\c\n\t\001\037\177\303\251/";
    nn_json_append_string (&buf, raw, sizeof raw - 1);
    g_assert_false (buf.failed);
    g_assert_cmpstr (buf.data, ==, "\"a\\\"b\\\\c\\n\\t\\u0001\\u001f\177\303\251/\"");
    nn_strbuf_clear (&buf);
  }
  /* Numbers do not follow LC_NUMERIC (a GTK app sets it from the user's
   * environment), where a locale with a decimal comma is installed. */
  if (setlocale (LC_NUMERIC, "de_DE.UTF-8") != NULL || setlocale (LC_NUMERIC, "fr_FR.UTF-8") != NULL)
    {
      g_assert_cmpint (nn_json_parse (&v, "[0.25,1e-1]", 11, NULL, &err), ==, NN_OK);
      g_assert_cmpfloat (v->items[0].number, ==, 0.25);
      g_assert_cmpfloat (v->items[1].number, ==, 0.1);
      nn_json_free (v);
      setlocale (LC_NUMERIC, "C");
    }
  g_assert_true (nn_utf8_valid ("\360\237\230\200", 4));
  g_assert_false (nn_utf8_valid ("\360\237\230", 3));
  g_assert_false (nn_utf8_valid ("\300\200", 2));
}

/* Dtype helpers and conversions. */

static void
test_dtypes (void)
{
  NnDtype dtype;
  static const char *const names[] = { "F32", "F64", "F16", "BF16", "I64", "I32", "I16", "I8", "U8", "BOOL" };
  static const size_t sizes[] = { 4, 8, 2, 2, 8, 4, 2, 1, 1, 1 };
  char shape_text[32];
  int64_t shape[3] = { 64, 3, 7 };

  for (int i = 0; i < (int) G_N_ELEMENTS (names); i++)
    {
      g_assert_true (nn_dtype_from_name (names[i], &dtype));
      g_assert_cmpint (dtype, ==, i);
      g_assert_cmpstr (nn_dtype_name (dtype), ==, names[i]);
      g_assert_cmpuint (nn_dtype_size (dtype), ==, sizes[i]);
    }
  g_assert_false (nn_dtype_from_name ("F8_E5M2", &dtype));
  g_assert_cmpuint (nn_dtype_size ((NnDtype) 42), ==, 0);
  nn_format_shape (shape_text, sizeof shape_text, shape, 3);
  g_assert_cmpstr (shape_text, ==, "[64,3,7]");
  nn_format_shape (shape_text, sizeof shape_text, shape, 0);
  g_assert_cmpstr (shape_text, ==, "[]");
  nn_format_shape (shape_text, 4, shape, 3);
  g_assert_cmpstr (shape_text, ==, "[64");

  /* Every half that is not a NaN survives a trip through float. */
  for (guint32 h = 0; h < 65536; h++)
    {
      float f = nn_f16_to_f32 ((guint16) h);
      if (isnan (f))
        g_assert_true (isnan (nn_f16_to_f32 (nn_f32_to_f16 (f))));
      else
        g_assert_cmpuint (nn_f32_to_f16 (f), ==, h);
      f = nn_bf16_to_f32 ((guint16) h);
      if (!isnan (f))
        g_assert_cmpuint (nn_f32_to_bf16 (f), ==, h);
    }
  g_assert_cmpfloat (nn_f16_to_f32 (0x3c00), ==, 1.0f);
  g_assert_cmpfloat (nn_f16_to_f32 (0x0001), ==, 5.9604644775390625e-8f);
  g_assert_cmpuint (nn_f32_to_f16 (65520.0f), ==, 0x7c00);           /* rounds up to infinity */
  g_assert_cmpuint (nn_f32_to_f16 (65519.0f), ==, 0x7bff);
  g_assert_cmpuint (nn_f32_to_f16 (1.0f + 1.0f / 2048), ==, 0x3c00); /* tie to even */
  g_assert_cmpuint (nn_f32_to_f16 (1.0f + 3.0f / 2048), ==, 0x3c02);
  g_assert_cmpuint (nn_f32_to_f16 (2.98023223876953125e-8f), ==, 0);  /* 2^-25: tie to even 0 */
  g_assert_cmpuint (nn_f32_to_f16 (-1e-10f), ==, 0x8000);
  g_assert_cmpuint (nn_f32_to_bf16 (1.0f + 1.0f / 256), ==, 0x3f80);
  g_assert_cmpuint (nn_f32_to_bf16 (1.0f + 3.0f / 256), ==, 0x3f82);

  {
    gint64 i64[2] = { -3, 1 << 24 };
    guint16 half[2] = { 0x3c00, 0xc000 };
    guint8 flags[2] = { 0, 2 };
    float out[2];
    NnNamedTensor t = { .name = "t", .dtype = NN_DTYPE_I64, .ndim = 1, .shape = { 2 }, .numel = 2, .data = i64 };
    nn_tensor_to_f32 (&t, out);
    g_assert_cmpfloat (out[0], ==, -3.0f);
    g_assert_cmpfloat (out[1], ==, 16777216.0f);
    t.dtype = NN_DTYPE_F16;
    t.data = half;
    nn_tensor_to_f32 (&t, out);
    g_assert_cmpfloat (out[0], ==, 1.0f);
    g_assert_cmpfloat (out[1], ==, -2.0f);
    t.dtype = NN_DTYPE_BOOL;
    t.data = flags;
    nn_tensor_to_f32 (&t, out);
    g_assert_cmpfloat (out[0], ==, 0.0f);
    g_assert_cmpfloat (out[1], ==, 1.0f);
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/safetensors/roundtrip", test_roundtrip);
  g_test_add_func ("/safetensors/fixture", test_fixture);
  g_test_add_func ("/safetensors/atomic/missing-folder", test_atomic_missing_folder);
  g_test_add_func ("/safetensors/atomic/write-fails", test_atomic_write_fails);
  g_test_add_func ("/safetensors/atomic/readonly-folder", test_atomic_readonly_folder);
  g_test_add_func ("/safetensors/atomic/rename-fails", test_atomic_rename_fails);
  g_test_add_func ("/safetensors/atomic/replace", test_atomic_replace);
  g_test_add_func ("/safetensors/write-invalid", test_write_invalid);
  g_test_add_func ("/safetensors/bad-headers", test_bad_headers);
  g_test_add_func ("/safetensors/good-headers", test_good_headers);
  g_test_add_func ("/safetensors/bad-lengths", test_bad_lengths);
  g_test_add_func ("/safetensors/truncated", test_truncated);
  g_test_add_func ("/safetensors/file-errors", test_file_errors);
  g_test_add_func ("/safetensors/fuzz", test_fuzz);
  g_test_add_func ("/json/parse", test_json);
  g_test_add_func ("/tensor-file/dtypes", test_dtypes);

  return g_test_run ();
}
