/* nn-tensor-file.c — named tensors in weight files: dtypes, reading by
 * content, lookup, and atomic writing shared by every writer of the app. */
#include "nn-tensor-file.h"
#include "nn-tensor-file-private.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct {
  const char *name;
  size_t size;
} DtypeInfo;

static const DtypeInfo dtype_info[] = {
  [NN_DTYPE_F32] = { "F32", 4 },
  [NN_DTYPE_F64] = { "F64", 8 },
  [NN_DTYPE_F16] = { "F16", 2 },
  [NN_DTYPE_BF16] = { "BF16", 2 },
  [NN_DTYPE_I64] = { "I64", 8 },
  [NN_DTYPE_I32] = { "I32", 4 },
  [NN_DTYPE_I16] = { "I16", 2 },
  [NN_DTYPE_I8] = { "I8", 1 },
  [NN_DTYPE_U8] = { "U8", 1 },
  [NN_DTYPE_BOOL] = { "BOOL", 1 },
};

#define N_DTYPES (sizeof dtype_info / sizeof dtype_info[0])

size_t
nn_dtype_size (NnDtype dtype)
{
  return (unsigned) dtype < N_DTYPES ? dtype_info[dtype].size : 0;
}

const char *
nn_dtype_name (NnDtype dtype)
{
  return (unsigned) dtype < N_DTYPES ? dtype_info[dtype].name : "?";
}

bool
nn_dtype_from_name (const char *name, NnDtype *out)
{
  size_t i;

  if (name == NULL)
    return false;
  for (i = 0; i < N_DTYPES; i++)
    if (strcmp (dtype_info[i].name, name) == 0)
      {
        if (out != NULL)
          *out = (NnDtype) i;
        return true;
      }
  return false;
}

void
nn_format_shape (char *buf, size_t size, const int64_t *shape, int ndim)
{
  size_t used = 0;
  int i;

  if (buf == NULL || size == 0)
    return;
  buf[0] = '\0';
  for (i = -1; i <= ndim && used < size; i++)
    {
      int n;
      if (i == -1)
        n = snprintf (buf + used, size - used, "[");
      else if (i == ndim)
        n = snprintf (buf + used, size - used, "]");
      else
        n = snprintf (buf + used, size - used, "%s%lld", i > 0 ? "," : "",
                      (long long) shape[i]);
      if (n < 0)
        return;
      used += (size_t) n;
    }
}

bool
nn_shape_numel (const int64_t *shape, int ndim, NnDtype dtype, size_t *numel, size_t *nbytes)
{
  size_t count = 1, elem = nn_dtype_size (dtype);
  int i;

  if (ndim < 0 || ndim > NN_TENSOR_MAX_DIMS || elem == 0)
    return false;
  for (i = 0; i < ndim; i++)
    {
      if (shape[i] < 0 || (uint64_t) shape[i] > SIZE_MAX)
        return false;
      if (shape[i] != 0 && count > SIZE_MAX / (size_t) shape[i])
        return false;
      count *= (size_t) shape[i];
    }
  if (count > SIZE_MAX / elem)
    return false;
  *numel = count;
  *nbytes = count * elem;
  return true;
}

bool
nn_host_is_little_endian (void)
{
  const uint16_t probe = 1;
  uint8_t first;

  memcpy (&first, &probe, 1);
  return first == 1;
}

void
nn_le_to_host (void *data, size_t numel, size_t elem_size)
{
  uint8_t *bytes = data;
  size_t i, k;

  if (nn_host_is_little_endian () || elem_size < 2)
    return;
  for (i = 0; i < numel; i++, bytes += elem_size)
    for (k = 0; k < elem_size / 2; k++)
      {
        uint8_t t = bytes[k];
        bytes[k] = bytes[elem_size - 1 - k];
        bytes[elem_size - 1 - k] = t;
      }
}

float
nn_f16_to_f32 (uint16_t half)
{
  uint32_t sign = (uint32_t) (half & 0x8000) << 16;
  uint32_t exponent = (half >> 10) & 0x1f;
  uint32_t mantissa = half & 0x3ff;
  uint32_t bits;
  float value;

  if (exponent == 0)
    {
      /* Zero or subnormal: mantissa × 2^-24, exact in float. */
      value = (float) mantissa * 5.9604644775390625e-8f;
      return sign ? -value : value;
    }
  if (exponent == 31)
    bits = sign | 0x7f800000u | (mantissa << 13);
  else
    bits = sign | ((exponent + 112) << 23) | (mantissa << 13);
  memcpy (&value, &bits, sizeof value);
  return value;
}

/* Round to nearest even, after Fabian Giesen's float_to_half_fast3_rtne. */
uint16_t
nn_f32_to_f16 (float value)
{
  const uint32_t f32_infinity = 255u << 23;
  const uint32_t f16_max = (127u + 16) << 23;
  const uint32_t denorm_magic_bits = ((127u - 15) + (23 - 10) + 1) << 23;
  uint32_t bits, sign;
  uint16_t out;

  memcpy (&bits, &value, sizeof bits);
  sign = bits & 0x80000000u;
  bits ^= sign;
  if (bits >= f16_max)
    out = bits > f32_infinity ? 0x7e00 : 0x7c00;
  else if (bits < (113u << 23))
    {
      /* Subnormal half: let a float addition do the rounding. */
      float f, magic;
      memcpy (&f, &bits, sizeof f);
      memcpy (&magic, &denorm_magic_bits, sizeof magic);
      f += magic;
      memcpy (&bits, &f, sizeof bits);
      out = (uint16_t) (bits - denorm_magic_bits);
    }
  else
    {
      uint32_t mantissa_odd = (bits >> 13) & 1;
      bits += ((uint32_t) (15 - 127) << 23) + 0xfff;
      bits += mantissa_odd;
      out = (uint16_t) (bits >> 13);
    }
  return (uint16_t) (out | (sign >> 16));
}

float
nn_bf16_to_f32 (uint16_t bf16)
{
  uint32_t bits = (uint32_t) bf16 << 16;
  float value;

  memcpy (&value, &bits, sizeof value);
  return value;
}

uint16_t
nn_f32_to_bf16 (float value)
{
  uint32_t bits;

  memcpy (&bits, &value, sizeof bits);
  if ((bits & 0x7fffffffu) > 0x7f800000u)
    return (uint16_t) ((bits >> 16) | 0x0040);  /* keep NaN a quiet NaN */
  bits += 0x7fffu + ((bits >> 16) & 1);
  return (uint16_t) (bits >> 16);
}

void
nn_tensor_to_f32 (const NnNamedTensor *tensor, float *dst)
{
  const uint8_t *src;
  size_t i, n;

  if (tensor == NULL || dst == NULL || tensor->data == NULL)
    return;
  src = tensor->data;
  n = tensor->numel;
  switch (tensor->dtype)
    {
    case NN_DTYPE_F32:
      memcpy (dst, src, n * sizeof (float));
      break;
    case NN_DTYPE_F64:
      for (i = 0; i < n; i++)
        {
          double v;
          memcpy (&v, src + 8 * i, 8);
          dst[i] = (float) v;
        }
      break;
    case NN_DTYPE_F16:
    case NN_DTYPE_BF16:
      for (i = 0; i < n; i++)
        {
          uint16_t v;
          memcpy (&v, src + 2 * i, 2);
          dst[i] = tensor->dtype == NN_DTYPE_F16 ? nn_f16_to_f32 (v) : nn_bf16_to_f32 (v);
        }
      break;
    case NN_DTYPE_I64:
      for (i = 0; i < n; i++)
        {
          int64_t v;
          memcpy (&v, src + 8 * i, 8);
          dst[i] = (float) v;
        }
      break;
    case NN_DTYPE_I32:
      for (i = 0; i < n; i++)
        {
          int32_t v;
          memcpy (&v, src + 4 * i, 4);
          dst[i] = (float) v;
        }
      break;
    case NN_DTYPE_I16:
      for (i = 0; i < n; i++)
        {
          int16_t v;
          memcpy (&v, src + 2 * i, 2);
          dst[i] = (float) v;
        }
      break;
    case NN_DTYPE_I8:
      for (i = 0; i < n; i++)
        dst[i] = (float) (int8_t) src[i];
      break;
    case NN_DTYPE_U8:
      for (i = 0; i < n; i++)
        dst[i] = (float) src[i];
      break;
    case NN_DTYPE_BOOL:
      for (i = 0; i < n; i++)
        dst[i] = src[i] != 0 ? 1.0f : 0.0f;
      break;
    default:
      memset (dst, 0, n * sizeof (float));
      break;
    }
}

NnTensorFile *
nn_tensor_file_alloc (size_t capacity)
{
  NnTensorFile *file = calloc (1, sizeof *file);

  if (file == NULL)
    return NULL;
  if (capacity > 0)
    {
      file->tensors = calloc (capacity, sizeof *file->tensors);
      if (file->tensors == NULL)
        {
          free (file);
          return NULL;
        }
    }
  return file;
}

void
nn_tensor_file_free (NnTensorFile *file)
{
  size_t i;

  if (file == NULL)
    return;
  for (i = 0; i < file->n_tensors; i++)
    {
      free (file->tensors[i].name);
      free (file->tensors[i].data);
    }
  free (file->tensors);
  for (i = 0; i < file->n_meta; i++)
    {
      free (file->meta_keys[i]);
      free (file->meta_values[i]);
    }
  free (file->meta_keys);
  free (file->meta_values);
  free (file);
}

const NnNamedTensor *
nn_tensor_file_find (const NnTensorFile *file, const char *name)
{
  size_t i;

  if (file == NULL || name == NULL)
    return NULL;
  for (i = 0; i < file->n_tensors; i++)
    if (strcmp (file->tensors[i].name, name) == 0)
      return &file->tensors[i];
  return NULL;
}

const char *
nn_tensor_file_meta (const NnTensorFile *file, const char *key)
{
  size_t i;

  if (file == NULL || key == NULL)
    return NULL;
  for (i = 0; i < file->n_meta; i++)
    if (strcmp (file->meta_keys[i], key) == 0)
      return file->meta_values[i];
  return NULL;
}

static NnStatus
read_fully (int fd, uint8_t *buf, size_t len, size_t *got, NnError *err)
{
  size_t done = 0;

  while (done < len)
    {
      ssize_t n = read (fd, buf + done, len - done);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return nn_error_set (err, NN_ERR_IO, "cannot read: %s", strerror (errno));
      if (n == 0)
        break;
      done += (size_t) n;
    }
  *got = done;
  return NN_OK;
}

NnStatus
nn_read_whole_file (const char *path, uint8_t **out, size_t *len, size_t max_len, NnError *err)
{
  struct stat st;
  uint8_t *buf;
  size_t size, got = 0;
  NnStatus status;
  int fd;

  *out = NULL;
  *len = 0;
  fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return nn_error_set (err, NN_ERR_IO, "cannot open: %s", strerror (errno));
  if (fstat (fd, &st) != 0)
    {
      status = nn_error_set (err, NN_ERR_IO, "cannot stat: %s", strerror (errno));
      close (fd);
      return status;
    }
  if (!S_ISREG (st.st_mode))
    {
      close (fd);
      return nn_error_set (err, NN_ERR_IO, "not a regular file");
    }
  if (st.st_size < 0 || (uint64_t) st.st_size > max_len)
    {
      close (fd);
      return nn_error_set (err, NN_ERR_NOMEM, "file is too large (%lld bytes)",
                           (long long) st.st_size);
    }
  size = (size_t) st.st_size;
  /* One byte more, to notice a file that grew while we read it. */
  buf = malloc (size + 1);
  if (buf == NULL)
    {
      close (fd);
      return nn_error_set (err, NN_ERR_NOMEM, "out of memory reading %zu bytes", size);
    }
  status = read_fully (fd, buf, size + 1, &got, err);
  close (fd);
  if (status == NN_OK && got != size)
    status = nn_error_set (err, NN_ERR_IO, "file changed size while being read");
  if (status != NN_OK)
    {
      free (buf);
      return status;
    }
  *out = buf;
  *len = size;
  return NN_OK;
}

NnStatus
nn_tensor_file_read (NnTensorFile **out, const char *path, NnError *err)
{
  uint8_t magic[4] = { 0 };
  size_t got = 0;
  NnStatus status;
  int fd;

  if (out == NULL)
    return nn_error_set (err, NN_ERR_INVALID, "no output given");
  *out = NULL;
  if (path == NULL)
    return nn_error_set (err, NN_ERR_INVALID, "no file name given");

  fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    {
      nn_error_set (err, NN_ERR_IO, "cannot open: %s", strerror (errno));
      nn_error_prefix (err, path);
      return NN_ERR_IO;
    }
  status = read_fully (fd, magic, sizeof magic, &got, err);
  close (fd);
  if (status != NN_OK)
    {
      nn_error_prefix (err, path);
      return status;
    }

  /* A zip archive, or the legacy torch format (a protocol 2 pickle that
   * starts with a 10-byte LONG1 magic number), which nn_pth_read explains.
   * Anything else must be safetensors: neither prefix can start one, as its
   * header length would be over the 100 MB limit. */
  if (got == 4 && (memcmp (magic, "PK\003\004", 4) == 0
                   || memcmp (magic, "\200\002\212\012", 4) == 0))
    return nn_pth_read (out, path, err);
  return nn_safetensors_read (out, path, err);
}

/* Atomic writing. */

struct NnAtomicFile {
  char *path;
  char *tmp_path;
  char *dir;
  int fd;
  bool failed;
};

static mode_t
current_umask (void)
{
  /* umask() can only be read by setting it, which races with other threads;
   * Linux shows it in /proc/self/status. */
  FILE *status = fopen ("/proc/self/status", "re");
  char line[256];
  mode_t mask = 022;

  if (status == NULL)
    return mask;
  while (fgets (line, sizeof line, status) != NULL)
    if (strncmp (line, "Umask:", 6) == 0)
      {
        mask = (mode_t) strtoul (line + 6, NULL, 8) & 0777;
        break;
      }
  fclose (status);
  return mask;
}

static void
atomic_file_destroy (NnAtomicFile *file, bool remove_tmp)
{
  if (file->fd >= 0)
    close (file->fd);
  if (remove_tmp && file->tmp_path != NULL)
    unlink (file->tmp_path);
  free (file->path);
  free (file->tmp_path);
  free (file->dir);
  free (file);
}

NnStatus
nn_atomic_file_open (NnAtomicFile **out, const char *path, NnError *err)
{
  NnAtomicFile *file;
  const char *slash, *base;
  size_t dir_len, path_len;
  struct stat st;
  mode_t mode;

  if (out == NULL)
    return nn_error_set (err, NN_ERR_INVALID, "no output given");
  *out = NULL;
  if (path == NULL || path[0] == '\0')
    return nn_error_set (err, NN_ERR_INVALID, "no file name given");
  path_len = strlen (path);
  slash = strrchr (path, '/');
  base = slash != NULL ? slash + 1 : path;
  if (base[0] == '\0')
    return nn_error_set (err, NN_ERR_INVALID, "%s: not a file name", path);
  dir_len = slash != NULL ? (size_t) (slash - path) + 1 : 0;

  file = calloc (1, sizeof *file);
  if (file == NULL)
    return nn_error_set (err, NN_ERR_NOMEM, "%s: out of memory", path);
  file->fd = -1;
  file->path = strdup (path);
  /* "<dir>/.<base>.XXXXXX": hidden, in the same folder so rename is atomic. */
  file->tmp_path = malloc (path_len + 9);
  file->dir = malloc (dir_len + 2);
  if (file->path == NULL || file->tmp_path == NULL || file->dir == NULL)
    {
      atomic_file_destroy (file, false);
      return nn_error_set (err, NN_ERR_NOMEM, "%s: out of memory", path);
    }
  memcpy (file->tmp_path, path, dir_len);
  snprintf (file->tmp_path + dir_len, path_len - dir_len + 9, ".%s.XXXXXX", base);
  if (dir_len > 0)
    {
      memcpy (file->dir, path, dir_len);
      file->dir[dir_len] = '\0';
    }
  else
    strcpy (file->dir, ".");

  file->fd = mkstemp (file->tmp_path);
  if (file->fd < 0)
    {
      int saved = errno;
      free (file->tmp_path);
      file->tmp_path = NULL;
      atomic_file_destroy (file, false);
      return nn_error_set (err, NN_ERR_IO, "%s: cannot create a temporary file: %s",
                           path, strerror (saved));
    }
  (void) fcntl (file->fd, F_SETFD, FD_CLOEXEC);

  /* mkstemp makes the file 0600; give it the mode a plain create would, or
   * the mode of the file it replaces. */
  if (stat (path, &st) == 0 && S_ISREG (st.st_mode))
    mode = st.st_mode & 07777;
  else
    mode = 0666 & ~current_umask ();
  (void) fchmod (file->fd, mode);

  *out = file;
  return NN_OK;
}

NnStatus
nn_atomic_file_write (NnAtomicFile *file, const void *data, size_t len, NnError *err)
{
  const uint8_t *bytes = data;

  if (file == NULL)
    return nn_error_set (err, NN_ERR_INVALID, "no file given");
  if (file->failed)
    return nn_error_set (err, NN_ERR_IO, "%s: an earlier write failed", file->path);
  while (len > 0)
    {
      ssize_t n = write (file->fd, bytes, len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          file->failed = true;
          return nn_error_set (err, NN_ERR_IO, "%s: cannot write: %s", file->path,
                               n < 0 ? strerror (errno) : "no progress");
        }
      bytes += n;
      len -= (size_t) n;
    }
  return NN_OK;
}

void
nn_atomic_file_abort (NnAtomicFile *file)
{
  if (file != NULL)
    atomic_file_destroy (file, true);
}

NnStatus
nn_atomic_file_commit (NnAtomicFile *file, NnError *err)
{
  NnStatus status;
  int dir_fd, fd;

  if (file == NULL)
    return nn_error_set (err, NN_ERR_INVALID, "no file given");
  if (file->failed)
    {
      status = nn_error_set (err, NN_ERR_IO, "%s: an earlier write failed", file->path);
      atomic_file_destroy (file, true);
      return status;
    }
  if (fsync (file->fd) != 0)
    {
      status = nn_error_set (err, NN_ERR_IO, "%s: cannot sync to disk: %s",
                             file->path, strerror (errno));
      atomic_file_destroy (file, true);
      return status;
    }
  fd = file->fd;
  file->fd = -1;
  if (close (fd) != 0)
    {
      status = nn_error_set (err, NN_ERR_IO, "%s: cannot close: %s",
                             file->path, strerror (errno));
      atomic_file_destroy (file, true);
      return status;
    }
  if (rename (file->tmp_path, file->path) != 0)
    {
      status = nn_error_set (err, NN_ERR_IO, "%s: cannot replace: %s",
                             file->path, strerror (errno));
      atomic_file_destroy (file, true);
      return status;
    }

  /* Make the rename itself durable. The new file is in place whatever this
   * says, so a failure here is not reported. */
  dir_fd = open (file->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0)
    {
      (void) fsync (dir_fd);
      close (dir_fd);
    }
  atomic_file_destroy (file, false);
  return NN_OK;
}

NnStatus
nn_write_file_atomic (const char *path, const void *data, size_t len, NnError *err)
{
  NnAtomicFile *file;
  NnStatus status;

  if (data == NULL && len > 0)
    return nn_error_set (err, NN_ERR_INVALID, "%s: no data given", path ? path : "(null)");
  status = nn_atomic_file_open (&file, path, err);
  if (status != NN_OK)
    return status;
  status = nn_atomic_file_write (file, data, len, err);
  if (status != NN_OK)
    {
      nn_atomic_file_abort (file);
      return status;
    }
  return nn_atomic_file_commit (file, err);
}
