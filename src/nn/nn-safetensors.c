/* nn-safetensors.c — reading and writing safetensors files.
 *
 * Format (github.com/huggingface/safetensors): an unsigned 64-bit little-endian
 * header length N, N bytes of a JSON object, then the data area. Each key of
 * the object is a tensor name mapped to {"dtype", "shape", "data_offsets":
 * [begin, end]} with offsets relative to the data area; the optional key
 * "__metadata__" maps to an object of string values. The reference writer
 * pads the header with spaces so that the data starts at a multiple of 8.
 */
#include "nn-tensor-file.h"
#include "nn-tensor-file-private.h"
#include "nn-json.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The reference implementation refuses larger headers too. */
#define MAX_HEADER_LEN (100u * 1000 * 1000)
/* Values in the header: about a dozen per tensor, so room for ~80k tensors. */
#define MAX_HEADER_VALUES (1u << 20)

typedef struct {
  size_t index;          /* position in the JSON object */
  uint64_t begin;
  uint64_t end;
  NnNamedTensor tensor;
} Entry;

static int
compare_entries (const void *a, const void *b)
{
  const Entry *ea = a, *eb = b;

  if (ea->begin != eb->begin)
    return ea->begin < eb->begin ? -1 : 1;
  if (ea->end != eb->end)
    return ea->end < eb->end ? -1 : 1;
  return (ea->index > eb->index) - (ea->index < eb->index);
}

static int
compare_strings (const void *a, const void *b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

/* Finds a repeated string among n (sorting a copy of the pointers). */
static const char *
find_duplicate (char *const *strings, size_t n, bool *nomem)
{
  char **sorted;
  const char *dup = NULL;
  size_t i;

  *nomem = false;
  if (n < 2)
    return NULL;
  sorted = malloc (n * sizeof *sorted);
  if (sorted == NULL)
    {
      *nomem = true;
      return NULL;
    }
  memcpy (sorted, strings, n * sizeof *sorted);
  qsort (sorted, n, sizeof *sorted, compare_strings);
  for (i = 1; i < n && dup == NULL; i++)
    if (strcmp (sorted[i - 1], sorted[i]) == 0)
      dup = sorted[i];
  free (sorted);
  return dup;
}

static bool
name_ok (const char *name, size_t len)
{
  return len > 0 && len <= NN_TENSOR_NAME_MAX && strlen (name) == len;
}

static NnStatus
parse_metadata (const NnJson *meta, NnTensorFile *file, NnError *err)
{
  size_t i;

  if (meta->type != NN_JSON_OBJECT)
    return nn_error_set (err, NN_ERR_FORMAT, "__metadata__ is %s, not an object",
                         nn_json_type_name (meta->type));
  if (meta->n_items == 0)
    return NN_OK;
  file->meta_keys = calloc (meta->n_items, sizeof *file->meta_keys);
  file->meta_values = calloc (meta->n_items, sizeof *file->meta_values);
  if (file->meta_keys == NULL || file->meta_values == NULL)
    return nn_error_set (err, NN_ERR_NOMEM, "out of memory for the metadata");
  for (i = 0; i < meta->n_items; i++)
    {
      const NnJson *value = &meta->items[i];
      if (value->type != NN_JSON_STRING)
        return nn_error_set (err, NN_ERR_FORMAT,
                             "__metadata__ value of \"%.200s\" is %s, not a string",
                             meta->keys[i], nn_json_type_name (value->type));
      if (strlen (meta->keys[i]) != meta->key_lens[i]
          || strlen (value->string) != value->string_len)
        return nn_error_set (err, NN_ERR_FORMAT,
                             "__metadata__ entry \"%.200s\" contains a NUL character",
                             meta->keys[i]);
      file->meta_keys[i] = strdup (meta->keys[i]);
      file->meta_values[i] = strdup (value->string);
      file->n_meta = i + 1;
      if (file->meta_keys[i] == NULL || file->meta_values[i] == NULL)
        return nn_error_set (err, NN_ERR_NOMEM, "out of memory for the metadata");
    }
  return NN_OK;
}

static NnStatus
parse_offset (const NnJson *value, uint64_t *out)
{
  if (value->type != NN_JSON_INT || value->integer < 0)
    return NN_ERR_FORMAT;
  *out = (uint64_t) value->integer;
  return NN_OK;
}

/* One "name": {"dtype", "shape", "data_offsets"} entry. */
static NnStatus
parse_tensor (const char *name, const NnJson *info, uint64_t data_len, Entry *entry, NnError *err)
{
  const NnJson *dtype, *shape, *offsets;
  size_t numel, nbytes, i;
  char shape_text[200];

  if (info->type != NN_JSON_OBJECT)
    return nn_error_set (err, NN_ERR_FORMAT, "tensor %s: entry is %s, not an object",
                         name, nn_json_type_name (info->type));
  dtype = nn_json_object_get (info, "dtype");
  shape = nn_json_object_get (info, "shape");
  offsets = nn_json_object_get (info, "data_offsets");
  if (dtype == NULL || shape == NULL || offsets == NULL)
    return nn_error_set (err, NN_ERR_FORMAT, "tensor %s: missing \"%s\"", name,
                         dtype == NULL ? "dtype" : shape == NULL ? "shape" : "data_offsets");

  if (dtype->type != NN_JSON_STRING)
    return nn_error_set (err, NN_ERR_FORMAT, "tensor %s: dtype is %s, not a string",
                         name, nn_json_type_name (dtype->type));
  if (!nn_dtype_from_name (dtype->string, &entry->tensor.dtype)
      || strlen (dtype->string) != dtype->string_len)
    return nn_error_set (err, NN_ERR_UNSUPPORTED,
                         "tensor %s: dtype \"%.40s\" is not supported "
                         "(F64, F32, F16, BF16, I64, I32, I16, I8, U8 and BOOL are)",
                         name, dtype->string);

  if (shape->type != NN_JSON_ARRAY)
    return nn_error_set (err, NN_ERR_FORMAT, "tensor %s: shape is %s, not an array",
                         name, nn_json_type_name (shape->type));
  if (shape->n_items > NN_TENSOR_MAX_DIMS)
    return nn_error_set (err, NN_ERR_UNSUPPORTED,
                         "tensor %s: %zu dimensions (at most %d are supported)",
                         name, shape->n_items, NN_TENSOR_MAX_DIMS);
  for (i = 0; i < shape->n_items; i++)
    {
      if (shape->items[i].type != NN_JSON_INT || shape->items[i].integer < 0)
        return nn_error_set (err, NN_ERR_FORMAT,
                             "tensor %s: shape holds something other than a non-negative integer",
                             name);
      entry->tensor.shape[i] = shape->items[i].integer;
    }
  entry->tensor.ndim = (int) shape->n_items;
  nn_format_shape (shape_text, sizeof shape_text, entry->tensor.shape, entry->tensor.ndim);
  if (!nn_shape_numel (entry->tensor.shape, entry->tensor.ndim, entry->tensor.dtype,
                       &numel, &nbytes))
    return nn_error_set (err, NN_ERR_FORMAT, "tensor %s: shape %s has too many elements",
                         name, shape_text);
  entry->tensor.numel = numel;

  if (offsets->type != NN_JSON_ARRAY || offsets->n_items != 2
      || parse_offset (&offsets->items[0], &entry->begin) != NN_OK
      || parse_offset (&offsets->items[1], &entry->end) != NN_OK)
    return nn_error_set (err, NN_ERR_FORMAT,
                         "tensor %s: data_offsets is not a pair of non-negative integers", name);
  if (entry->begin > entry->end)
    return nn_error_set (err, NN_ERR_FORMAT, "tensor %s: data_offsets [%llu, %llu] run backwards",
                         name, (unsigned long long) entry->begin, (unsigned long long) entry->end);
  if (entry->end - entry->begin != nbytes)
    return nn_error_set (err, NN_ERR_FORMAT,
                         "tensor %s: data_offsets [%llu, %llu] do not match shape %s of %s (%zu bytes)",
                         name, (unsigned long long) entry->begin, (unsigned long long) entry->end,
                         shape_text, nn_dtype_name (entry->tensor.dtype), nbytes);
  if (entry->end > data_len)
    return nn_error_set (err, NN_ERR_FORMAT,
                         "tensor %s: data_offsets [%llu, %llu] reach past the end of the data "
                         "(%llu bytes; is the file truncated?)",
                         name, (unsigned long long) entry->begin, (unsigned long long) entry->end,
                         (unsigned long long) data_len);
  return NN_OK;
}

static void
free_entries (Entry *entries, size_t n)
{
  size_t i;

  for (i = 0; i < n; i++)
    {
      free (entries[i].tensor.name);
      free (entries[i].tensor.data);
    }
  free (entries);
}

/* Checks the header against a data area of data_len bytes and returns the
 * tensors in file order (by offset), each with an allocated, unfilled buffer,
 * and in *begins where each one's bytes start in the data area. */
static NnStatus
parse_header (const char *header, size_t header_len, uint64_t data_len,
              NnTensorFile **out, uint64_t **begins_out, NnError *err)
{
  NnJsonLimits limits = { .max_depth = 8, .max_values = MAX_HEADER_VALUES };
  NnJson *root = NULL;
  NnTensorFile *file = NULL;
  Entry *entries = NULL;
  uint64_t *begins = NULL;
  size_t n_entries = 0, i;
  NnStatus status;

  *out = NULL;
  *begins_out = NULL;
  status = nn_json_parse (&root, header, header_len, &limits, err);
  if (status != NN_OK)
    {
      nn_error_prefix (err, "header");
      return status;
    }
  if (root->type != NN_JSON_OBJECT)
    {
      status = nn_error_set (err, NN_ERR_FORMAT, "header is %s, not a JSON object",
                             nn_json_type_name (root->type));
      goto out;
    }

  file = nn_tensor_file_alloc (root->n_items);
  entries = calloc (root->n_items > 0 ? root->n_items : 1, sizeof *entries);
  if (file == NULL || entries == NULL)
    {
      status = nn_error_set (err, NN_ERR_NOMEM, "out of memory for the header");
      goto out;
    }

  for (i = 0; i < root->n_items; i++)
    {
      const char *key = root->keys[i];
      Entry *entry;

      if (strcmp (key, "__metadata__") == 0)
        {
          status = parse_metadata (&root->items[i], file, err);
          if (status != NN_OK)
            goto out;
          continue;
        }
      if (!name_ok (key, root->key_lens[i]))
        {
          status = nn_error_set (err, NN_ERR_FORMAT,
                                 "tensor name \"%.100s\" is empty, too long (%zu bytes) or has a NUL",
                                 key, root->key_lens[i]);
          goto out;
        }
      entry = &entries[n_entries];
      entry->index = i;
      status = parse_tensor (key, &root->items[i], data_len, entry, err);
      if (status != NN_OK)
        goto out;
      entry->tensor.name = strdup (key);
      n_entries++;
      if (entry->tensor.name == NULL)
        {
          status = nn_error_set (err, NN_ERR_NOMEM, "out of memory for the header");
          goto out;
        }
    }

  qsort (entries, n_entries, sizeof *entries, compare_entries);
  {
    /* Empty tensors occupy nothing and may sit anywhere. */
    uint64_t covered_end = 0;
    const Entry *previous = NULL;
    for (i = 0; i < n_entries; i++)
      {
        const Entry *entry = &entries[i];
        if (entry->begin == entry->end)
          continue;
        if (previous != NULL && entry->begin < covered_end)
          {
            status = nn_error_set (err, NN_ERR_FORMAT,
                                   "tensors %s [%llu, %llu] and %s [%llu, %llu] overlap",
                                   previous->tensor.name, (unsigned long long) previous->begin,
                                   (unsigned long long) previous->end, entry->tensor.name,
                                   (unsigned long long) entry->begin,
                                   (unsigned long long) entry->end);
            goto out;
          }
        covered_end = entry->end;
        previous = entry;
      }
  }

  begins = calloc (n_entries > 0 ? n_entries : 1, sizeof *begins);
  if (begins == NULL)
    {
      status = nn_error_set (err, NN_ERR_NOMEM, "out of memory for the header");
      goto out;
    }
  /* Non-overlapping ranges inside the data area: the buffers together are no
   * larger than the file. */
  for (i = 0; i < n_entries; i++)
    {
      size_t nbytes = (size_t) (entries[i].end - entries[i].begin);
      entries[i].tensor.data = malloc (nbytes > 0 ? nbytes : 1);
      if (entries[i].tensor.data == NULL)
        {
          status = nn_error_set (err, NN_ERR_NOMEM, "out of memory for tensor %s (%zu bytes)",
                                 entries[i].tensor.name, nbytes);
          goto out;
        }
    }
  for (i = 0; i < n_entries; i++)
    {
      file->tensors[i] = entries[i].tensor;
      begins[i] = entries[i].begin;
    }
  file->n_tensors = n_entries;
  n_entries = 0;
  *out = file;
  *begins_out = begins;
  file = NULL;
  begins = NULL;
  status = NN_OK;

out:
  free_entries (entries, n_entries);
  free (begins);
  nn_tensor_file_free (file);
  nn_json_free (root);
  return status;
}

static uint64_t
read_le64 (const uint8_t *p)
{
  uint64_t value = 0;
  int i;

  for (i = 7; i >= 0; i--)
    value = (value << 8) | p[i];
  return value;
}

static NnStatus
check_header_len (uint64_t header_len, uint64_t file_len, NnError *err)
{
  if (header_len > MAX_HEADER_LEN)
    return nn_error_set (err, NN_ERR_FORMAT,
                         "header length %llu is absurd (at most 100 MB); not a safetensors file?",
                         (unsigned long long) header_len);
  if (header_len > file_len - 8)
    return nn_error_set (err, NN_ERR_FORMAT,
                         "header length %llu is more than the %llu bytes that follow it; "
                         "is the file truncated?",
                         (unsigned long long) header_len, (unsigned long long) (file_len - 8));
  if (header_len < 2)
    return nn_error_set (err, NN_ERR_FORMAT, "header is too short to be a JSON object");
  return NN_OK;
}

NnStatus
nn_safetensors_read_memory (NnTensorFile **out, const uint8_t *buf, size_t len, NnError *err)
{
  uint64_t header_len, *begins = NULL;
  const uint8_t *data;
  NnTensorFile *file;
  NnStatus status;
  size_t i;

  if (out == NULL)
    return nn_error_set (err, NN_ERR_INVALID, "no output given");
  *out = NULL;
  if (buf == NULL && len > 0)
    return nn_error_set (err, NN_ERR_INVALID, "no buffer given");
  if (len < 8)
    return nn_error_set (err, NN_ERR_FORMAT,
                         "too short (%zu bytes) to be a safetensors file", len);
  header_len = read_le64 (buf);
  status = check_header_len (header_len, len, err);
  if (status != NN_OK)
    return status;

  status = parse_header ((const char *) buf + 8, (size_t) header_len,
                         len - 8 - header_len, &file, &begins, err);
  if (status != NN_OK)
    return status;
  data = buf + 8 + header_len;
  for (i = 0; i < file->n_tensors; i++)
    {
      NnNamedTensor *tensor = &file->tensors[i];
      size_t elem = nn_dtype_size (tensor->dtype);
      memcpy (tensor->data, data + begins[i], tensor->numel * elem);
      nn_le_to_host (tensor->data, tensor->numel, elem);
    }
  free (begins);
  *out = file;
  return NN_OK;
}

static NnStatus
pread_fully (int fd, void *buf, size_t len, uint64_t offset, NnError *err)
{
  uint8_t *bytes = buf;

  while (len > 0)
    {
      ssize_t n = pread (fd, bytes, len, (off_t) offset);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return nn_error_set (err, NN_ERR_IO, "cannot read: %s", strerror (errno));
      if (n == 0)
        return nn_error_set (err, NN_ERR_FORMAT, "file ended early (was it changed while read?)");
      bytes += n;
      len -= (size_t) n;
      offset += (uint64_t) n;
    }
  return NN_OK;
}

/* Reads the header, then each tensor straight into its buffer: no second
 * copy of the file in memory. */
static NnStatus
read_file (NnTensorFile **out, const char *path, NnError *err)
{
  uint8_t prefix[8];
  uint64_t header_len, file_len, *begins = NULL;
  char *header = NULL;
  NnTensorFile *file = NULL;
  struct stat st;
  NnStatus status;
  size_t i;
  int fd;

  fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return nn_error_set (err, NN_ERR_IO, "cannot open: %s", strerror (errno));
  if (fstat (fd, &st) != 0 || !S_ISREG (st.st_mode) || st.st_size < 0)
    {
      status = nn_error_set (err, NN_ERR_IO, "not a readable regular file");
      goto out;
    }
  file_len = (uint64_t) st.st_size;
  if (file_len < 8)
    {
      status = nn_error_set (err, NN_ERR_FORMAT,
                             "too short (%llu bytes) to be a safetensors file",
                             (unsigned long long) file_len);
      goto out;
    }
  status = pread_fully (fd, prefix, 8, 0, err);
  if (status != NN_OK)
    goto out;
  header_len = read_le64 (prefix);
  status = check_header_len (header_len, file_len, err);
  if (status != NN_OK)
    goto out;
  header = malloc ((size_t) header_len);
  if (header == NULL)
    {
      status = nn_error_set (err, NN_ERR_NOMEM, "out of memory for the header");
      goto out;
    }
  status = pread_fully (fd, header, (size_t) header_len, 8, err);
  if (status != NN_OK)
    goto out;
  status = parse_header (header, (size_t) header_len, file_len - 8 - header_len,
                         &file, &begins, err);
  if (status != NN_OK)
    goto out;
  for (i = 0; i < file->n_tensors; i++)
    {
      NnNamedTensor *tensor = &file->tensors[i];
      size_t elem = nn_dtype_size (tensor->dtype);
      status = pread_fully (fd, tensor->data, tensor->numel * elem,
                            8 + header_len + begins[i], err);
      if (status != NN_OK)
        goto out;
      nn_le_to_host (tensor->data, tensor->numel, elem);
    }
  *out = file;
  file = NULL;

out:
  nn_tensor_file_free (file);
  free (begins);
  free (header);
  close (fd);
  return status;
}

NnStatus
nn_safetensors_read (NnTensorFile **out, const char *path, NnError *err)
{
  NnStatus status;

  if (out == NULL)
    return nn_error_set (err, NN_ERR_INVALID, "no output given");
  *out = NULL;
  if (path == NULL)
    return nn_error_set (err, NN_ERR_INVALID, "no file name given");
  status = read_file (out, path, err);
  if (status != NN_OK)
    nn_error_prefix (err, path);
  return status;
}

/* Writing. */

static NnStatus
check_tensors (const NnNamedTensor *tensors, size_t n_tensors,
               const char *const *meta_keys, const char *const *meta_values, size_t n_meta,
               NnError *err)
{
  const char *dup;
  char **names;
  bool nomem;
  size_t i;

  if (n_tensors > 0 && tensors == NULL)
    return nn_error_set (err, NN_ERR_INVALID, "no tensors given");
  if (n_meta > 0 && (meta_keys == NULL || meta_values == NULL))
    return nn_error_set (err, NN_ERR_INVALID, "no metadata given");
  for (i = 0; i < n_tensors; i++)
    {
      const NnNamedTensor *t = &tensors[i];
      size_t numel, nbytes;

      if (t->name == NULL || !name_ok (t->name, strlen (t->name))
          || !nn_utf8_valid (t->name, strlen (t->name)) || strcmp (t->name, "__metadata__") == 0)
        return nn_error_set (err, NN_ERR_INVALID,
                             "tensor %zu: name is missing, empty, longer than %d bytes, "
                             "not UTF-8 or reserved", i, NN_TENSOR_NAME_MAX);
      if (!nn_shape_numel (t->shape, t->ndim, t->dtype, &numel, &nbytes) || numel != t->numel)
        return nn_error_set (err, NN_ERR_INVALID,
                             "tensor %s: bad dtype, dimensions or element count", t->name);
      if (nbytes > 0 && t->data == NULL)
        return nn_error_set (err, NN_ERR_INVALID, "tensor %s: no data", t->name);
    }
  for (i = 0; i < n_meta; i++)
    if (meta_keys[i] == NULL || meta_values[i] == NULL
        || !nn_utf8_valid (meta_keys[i], strlen (meta_keys[i]))
        || !nn_utf8_valid (meta_values[i], strlen (meta_values[i])))
      return nn_error_set (err, NN_ERR_INVALID, "metadata entry %zu is missing or not UTF-8", i);

  names = malloc ((n_tensors > n_meta ? n_tensors : n_meta) * sizeof *names + 1);
  if (names == NULL)
    return nn_error_set (err, NN_ERR_NOMEM, "out of memory");
  for (i = 0; i < n_tensors; i++)
    names[i] = tensors[i].name;
  dup = find_duplicate (names, n_tensors, &nomem);
  if (dup == NULL && !nomem)
    {
      for (i = 0; i < n_meta; i++)
        names[i] = (char *) meta_keys[i];
      dup = find_duplicate (names, n_meta, &nomem);
    }
  if (nomem || dup != NULL)
    {
      NnStatus status = nomem ? nn_error_set (err, NN_ERR_NOMEM, "out of memory")
                              : nn_error_set (err, NN_ERR_INVALID, "name %.200s is used twice", dup);
      free (names);
      return status;
    }
  free (names);
  return NN_OK;
}

static void
build_header (NnStrBuf *buf, const NnNamedTensor *tensors, size_t n_tensors,
              const char *const *meta_keys, const char *const *meta_values, size_t n_meta)
{
  uint64_t offset = 0;
  size_t i;
  int d;

  nn_strbuf_append (buf, "{", 1);
  if (n_meta > 0)
    {
      nn_strbuf_append_str (buf, "\"__metadata__\":{");
      for (i = 0; i < n_meta; i++)
        {
          if (i > 0)
            nn_strbuf_append (buf, ",", 1);
          nn_json_append_string (buf, meta_keys[i], strlen (meta_keys[i]));
          nn_strbuf_append (buf, ":", 1);
          nn_json_append_string (buf, meta_values[i], strlen (meta_values[i]));
        }
      nn_strbuf_append (buf, "}", 1);
    }
  for (i = 0; i < n_tensors; i++)
    {
      const NnNamedTensor *t = &tensors[i];
      uint64_t nbytes = (uint64_t) t->numel * nn_dtype_size (t->dtype);

      if (i > 0 || n_meta > 0)
        nn_strbuf_append (buf, ",", 1);
      nn_json_append_string (buf, t->name, strlen (t->name));
      nn_strbuf_printf (buf, ":{\"dtype\":\"%s\",\"shape\":[", nn_dtype_name (t->dtype));
      for (d = 0; d < t->ndim; d++)
        nn_strbuf_printf (buf, "%s%lld", d > 0 ? "," : "", (long long) t->shape[d]);
      nn_strbuf_printf (buf, "],\"data_offsets\":[%llu,%llu]}",
                        (unsigned long long) offset, (unsigned long long) (offset + nbytes));
      offset += nbytes;
    }
  nn_strbuf_append (buf, "}", 1);
  /* The data then starts at a multiple of 8 bytes. */
  while (buf->len % 8 != 0)
    nn_strbuf_append (buf, " ", 1);
}

static NnStatus
write_tensor_data (NnAtomicFile *file, const NnNamedTensor *t, NnError *err)
{
  size_t elem = nn_dtype_size (t->dtype), nbytes = t->numel * elem;
  uint8_t chunk[1 << 16];
  size_t done = 0;

  if (nn_host_is_little_endian () || elem == 1)
    return nn_atomic_file_write (file, t->data, nbytes, err);
  while (done < nbytes)
    {
      size_t n = nbytes - done < sizeof chunk ? nbytes - done : sizeof chunk;
      NnStatus status;
      memcpy (chunk, (const uint8_t *) t->data + done, n);
      nn_le_to_host (chunk, n / elem, elem);
      status = nn_atomic_file_write (file, chunk, n, err);
      if (status != NN_OK)
        return status;
      done += n;
    }
  return NN_OK;
}

NnStatus
nn_safetensors_write (const char *path,
                      const NnNamedTensor *tensors, size_t n_tensors,
                      const char *const *meta_keys,
                      const char *const *meta_values, size_t n_meta,
                      NnError *err)
{
  NnStrBuf header = { 0 };
  NnAtomicFile *file = NULL;
  uint8_t prefix[8];
  NnStatus status;
  size_t i;

  if (path == NULL)
    return nn_error_set (err, NN_ERR_INVALID, "no file name given");
  status = check_tensors (tensors, n_tensors, meta_keys, meta_values, n_meta, err);
  if (status != NN_OK)
    {
      nn_error_prefix (err, path);
      return status;
    }
  build_header (&header, tensors, n_tensors, meta_keys, meta_values, n_meta);
  if (header.failed)
    {
      nn_strbuf_clear (&header);
      return nn_error_set (err, NN_ERR_NOMEM, "%s: out of memory for the header", path);
    }
  for (i = 0; i < 8; i++)
    prefix[i] = (uint8_t) ((uint64_t) header.len >> (8 * i));

  /* The atomic file's messages already name path. */
  status = nn_atomic_file_open (&file, path, err);
  if (status == NN_OK)
    status = nn_atomic_file_write (file, prefix, sizeof prefix, err);
  if (status == NN_OK)
    status = nn_atomic_file_write (file, header.data, header.len, err);
  for (i = 0; status == NN_OK && i < n_tensors; i++)
    status = write_tensor_data (file, &tensors[i], err);
  nn_strbuf_clear (&header);
  if (file == NULL)
    return status;
  if (status != NN_OK)
    {
      nn_atomic_file_abort (file);
      return status;
    }
  return nn_atomic_file_commit (file, err);
}
