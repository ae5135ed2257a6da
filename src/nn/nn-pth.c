/* nn-pth.c — reading PyTorch's zip serialization (torch.save since 1.6).
 *
 * The archive holds one top folder (its name is the file's stem when saved,
 * and can be anything): <dir>/data.pkl, a pickle whose tensors refer to
 * storages by key; <dir>/data/<key>, each storage's raw little-endian bytes;
 * <dir>/version; and, since PyTorch 2.1, <dir>/byteorder.
 */
#include "nn-tensor-file.h"
#include "nn-tensor-file-private.h"
#include "nn-pickle.h"
#include "nn-zip.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* More than any ResNet checkpoint, less than would hurt to read into memory. */
#define MAX_PTH_FILE ((size_t) 1 << (sizeof (size_t) >= 8 ? 34 : 30))

typedef struct {
  const char *key;             /* storage key, borrowed from the pickle */
  size_t tensor;               /* index into the output */
  const NnPickleValue *value;  /* the tensor */
} StorageUse;

static int
compare_uses (const void *a, const void *b)
{
  const StorageUse *ua = a, *ub = b;
  int c = strcmp (ua->key, ub->key);

  if (c != 0)
    return c;
  return (ua->tensor > ub->tensor) - (ua->tensor < ub->tensor);
}

static int
compare_names (const void *a, const void *b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

/* Copies the (possibly strided) view into a contiguous buffer. Offsets were
 * checked against the storage by the pickle machine. */
static void
gather (uint8_t *dst, const uint8_t *storage, const NnPickleValue *view, size_t elem)
{
  size_t index[NN_TENSOR_MAX_DIMS] = { 0 };
  bool contiguous = true;
  int64_t expected = 1;
  size_t i;
  int d;

  if (view->numel == 0)
    return;
  for (d = view->ndim - 1; d >= 0; d--)
    {
      if (view->size[d] != 1 && view->stride[d] != expected)
        contiguous = false;
      expected *= view->size[d];
    }
  if (contiguous)
    {
      memcpy (dst, storage + view->storage_offset * elem, view->numel * elem);
      return;
    }

  for (i = 0; i < view->numel; i++)
    {
      uint64_t src = view->storage_offset;
      for (d = 0; d < view->ndim; d++)
        src += (uint64_t) index[d] * (uint64_t) view->stride[d];
      memcpy (dst + i * elem, storage + src * elem, elem);
      /* Advance the multi-index, last dimension fastest. */
      for (d = view->ndim - 1; d >= 0; d--)
        {
          if (++index[d] < (size_t) view->size[d])
            break;
          index[d] = 0;
        }
    }
}

/* The folder that holds data.pkl: "archive/" for "archive/data.pkl". */
static const NnZipEntry *
find_data_pkl (const NnZip *zip, size_t *dir_len)
{
  size_t i;

  for (i = 0; i < zip->n_entries; i++)
    {
      const char *name = zip->entries[i].name;
      const char *slash = strchr (name, '/');
      if (slash != NULL && slash != name && strcmp (slash + 1, "data.pkl") == 0)
        {
          *dir_len = (size_t) (slash - name) + 1;
          return &zip->entries[i];
        }
    }
  return NULL;
}

static const NnZipEntry *
find_in_dir (const NnZip *zip, const char *dir, size_t dir_len, const char *rest)
{
  char name[NN_TENSOR_NAME_MAX + 300];

  if (dir_len + strlen (rest) + 1 > sizeof name)
    return NULL;
  memcpy (name, dir, dir_len);
  strcpy (name + dir_len, rest);
  return nn_zip_find (zip, name);
}

static NnStatus
check_byteorder (const NnZip *zip, const char *dir, size_t dir_len, NnError *err)
{
  const NnZipEntry *entry = find_in_dir (zip, dir, dir_len, "byteorder");
  const uint8_t *data;
  size_t len;
  NnStatus status;

  if (entry == NULL)
    return NN_OK;              /* before PyTorch 2.1: always little-endian */
  status = nn_zip_entry_data (zip, entry, &data, &len, err);
  if (status != NN_OK)
    return status;
  if (len == 6 && memcmp (data, "little", 6) == 0)
    return NN_OK;
  if (len == 3 && memcmp (data, "big", 3) == 0)
    return nn_error_set (err, NN_ERR_UNSUPPORTED,
                         "saved on a big-endian machine; only little-endian files are read");
  return nn_error_set (err, NN_ERR_FORMAT, "byteorder record is neither \"little\" nor \"big\"");
}

/* Fills file->tensors from the state_dict in root. */
static NnStatus
collect_tensors (const NnPickleValue *root, NnTensorFile *file, NnError *err)
{
  size_t n = root->n_items / 2, i;
  char **names;

  for (i = 0; i < n; i++)
    {
      const NnPickleValue *key = root->items[2 * i], *value = root->items[2 * i + 1];
      NnNamedTensor *tensor = &file->tensors[i];

      if (key->type != NN_PICKLE_STRING)
        return nn_error_set (err, NN_ERR_FORMAT, "state_dict key %zu is a %s, not a str",
                             i, nn_pickle_type_name (key->type));
      if (key->string_len == 0 || key->string_len > NN_TENSOR_NAME_MAX
          || strlen (key->string) != key->string_len)
        return nn_error_set (err, NN_ERR_FORMAT,
                             "state_dict key \"%.100s\" is empty, too long or has a NUL",
                             key->string);
      if (value->type != NN_PICKLE_TENSOR)
        return nn_error_set (err, NN_ERR_UNSUPPORTED,
                             "state_dict entry %s is a %s, not a tensor; save "
                             "model.state_dict () itself", key->string,
                             nn_pickle_type_name (value->type));
      tensor->name = strdup (key->string);
      file->n_tensors = i + 1;
      if (tensor->name == NULL)
        return nn_error_set (err, NN_ERR_NOMEM, "out of memory");
      tensor->dtype = value->dtype;
      tensor->ndim = value->ndim;
      memcpy (tensor->shape, value->size, sizeof tensor->shape);
      tensor->numel = value->numel;
    }

  /* A dict cannot hold a key twice, but a crafted pickle can. */
  if (n < 2)
    return NN_OK;
  names = malloc (n * sizeof *names);
  if (names == NULL)
    return nn_error_set (err, NN_ERR_NOMEM, "out of memory");
  for (i = 0; i < n; i++)
    names[i] = file->tensors[i].name;
  qsort (names, n, sizeof *names, compare_names);
  for (i = 1; i < n; i++)
    if (strcmp (names[i - 1], names[i]) == 0)
      {
        NnStatus status = nn_error_set (err, NN_ERR_FORMAT, "tensor %s appears twice", names[i]);
        free (names);
        return status;
      }
  free (names);
  return NN_OK;
}

/* Gathers each tensor from its storage. Uses are sorted by storage key so that
 * a storage shared by several tensors is found and checked once. */
static NnStatus
load_storages (const NnZip *zip, const char *dir, size_t dir_len, const NnPickleValue *root,
               NnTensorFile *file, size_t file_len, NnError *err)
{
  size_t n = file->n_tensors, i, total = 0;
  StorageUse *uses;
  const uint8_t *data = NULL;
  size_t data_len = 0;
  const char *current_key = NULL;
  NnStatus status = NN_OK;

  /* Views of one storage may repeat it many times over; keep the output
   * within a few times the size of the file. */
  for (i = 0; i < n; i++)
    {
      size_t nbytes = file->tensors[i].numel * nn_dtype_size (file->tensors[i].dtype);
      if (nbytes > SIZE_MAX - total)
        return nn_error_set (err, NN_ERR_FORMAT, "tensors are absurdly large");
      total += nbytes;
    }
  if (total / 4 > file_len + ((size_t) 16 << 20))
    return nn_error_set (err, NN_ERR_FORMAT,
                         "tensors (%zu bytes) are far larger than the file (%zu bytes)",
                         total, file_len);

  uses = malloc ((n > 0 ? n : 1) * sizeof *uses);
  if (uses == NULL)
    return nn_error_set (err, NN_ERR_NOMEM, "out of memory");
  for (i = 0; i < n; i++)
    {
      uses[i].value = root->items[2 * i + 1];
      uses[i].key = uses[i].value->storage->string;
      uses[i].tensor = i;
    }
  qsort (uses, n, sizeof *uses, compare_uses);

  for (i = 0; i < n && status == NN_OK; i++)
    {
      const NnPickleValue *view = uses[i].value;
      const NnPickleValue *storage = view->storage;
      NnNamedTensor *tensor = &file->tensors[uses[i].tensor];
      size_t elem = nn_dtype_size (view->dtype);

      if (current_key == NULL || strcmp (current_key, uses[i].key) != 0)
        {
          char rest[300];
          const NnZipEntry *entry;

          snprintf (rest, sizeof rest, "data/%s", uses[i].key);
          entry = find_in_dir (zip, dir, dir_len, rest);
          if (entry == NULL)
            {
              status = nn_error_set (err, NN_ERR_FORMAT,
                                     "tensor %s: storage %s is missing from the archive",
                                     tensor->name, rest);
              break;
            }
          status = nn_zip_entry_data (zip, entry, &data, &data_len, err);
          if (status != NN_OK)
            break;
          current_key = uses[i].key;
        }
      if (storage->storage_numel * elem != data_len)
        {
          status = nn_error_set (err, NN_ERR_FORMAT,
                                 "tensor %s: storage data/%s holds %zu bytes, not %llu %s elements",
                                 tensor->name, uses[i].key, data_len,
                                 (unsigned long long) storage->storage_numel,
                                 nn_dtype_name (view->dtype));
          break;
        }
      tensor->data = malloc (tensor->numel > 0 ? tensor->numel * elem : 1);
      if (tensor->data == NULL)
        {
          status = nn_error_set (err, NN_ERR_NOMEM, "out of memory for tensor %s", tensor->name);
          break;
        }
      gather (tensor->data, data, view, elem);
      nn_le_to_host (tensor->data, tensor->numel, elem);
    }
  free (uses);
  return status;
}

NnStatus
nn_pth_read_memory (NnTensorFile **out, const uint8_t *buf, size_t len, NnError *err)
{
  NnZip *zip = NULL;
  NnPickle *pickle = NULL;
  NnTensorFile *file = NULL;
  const NnZipEntry *pkl_entry;
  const NnPickleValue *root;
  const uint8_t *pkl;
  size_t pkl_len, dir_len = 0;
  char dir[300];
  NnStatus status;

  if (out == NULL)
    return nn_error_set (err, NN_ERR_INVALID, "no output given");
  *out = NULL;
  if (buf == NULL && len > 0)
    return nn_error_set (err, NN_ERR_INVALID, "no buffer given");

  if (len >= 1 && buf[0] == 0x80)
    return nn_error_set (err, NN_ERR_UNSUPPORTED,
                         "this is PyTorch's legacy (before 1.6) format, which is not read; "
                         "re-save it with a recent PyTorch: "
                         "torch.save (torch.load (\"old.pth\"), \"new.pth\")");
  if (len < 4 || memcmp (buf, "PK\003\004", 4) != 0)
    return nn_error_set (err, NN_ERR_FORMAT, "not a PyTorch file (no zip header)");

  status = nn_zip_open (&zip, buf, len, err);
  if (status != NN_OK)
    return status;

  pkl_entry = find_data_pkl (zip, &dir_len);
  if (pkl_entry == NULL)
    {
      status = nn_error_set (err, NN_ERR_FORMAT,
                             "a zip archive but not a PyTorch file (no <folder>/data.pkl)");
      goto out;
    }
  if (dir_len >= sizeof dir)
    {
      status = nn_error_set (err, NN_ERR_FORMAT, "archive folder name is too long");
      goto out;
    }
  memcpy (dir, pkl_entry->name, dir_len);
  dir[dir_len] = '\0';

  status = check_byteorder (zip, dir, dir_len, err);
  if (status != NN_OK)
    goto out;
  status = nn_zip_entry_data (zip, pkl_entry, &pkl, &pkl_len, err);
  if (status != NN_OK)
    goto out;
  status = nn_pickle_load (&pickle, pkl, pkl_len, err);
  if (status != NN_OK)
    {
      nn_error_prefix (err, "data.pkl");
      goto out;
    }
  root = nn_pickle_result (pickle);
  if (root->type != NN_PICKLE_DICT)
    {
      status = nn_error_set (err, NN_ERR_UNSUPPORTED,
                             "data.pkl holds a %s, not a state_dict; save model.state_dict ()",
                             nn_pickle_type_name (root->type));
      goto out;
    }

  file = nn_tensor_file_alloc (root->n_items / 2);
  if (file == NULL)
    {
      status = nn_error_set (err, NN_ERR_NOMEM, "out of memory");
      goto out;
    }
  status = collect_tensors (root, file, err);
  if (status == NN_OK)
    status = load_storages (zip, dir, dir_len, root, file, len, err);
  if (status != NN_OK)
    goto out;
  *out = file;
  file = NULL;

out:
  nn_tensor_file_free (file);
  nn_pickle_free (pickle);
  nn_zip_free (zip);
  return status;
}

NnStatus
nn_pth_read (NnTensorFile **out, const char *path, NnError *err)
{
  uint8_t *buf = NULL;
  size_t len = 0;
  NnStatus status;

  if (out == NULL)
    return nn_error_set (err, NN_ERR_INVALID, "no output given");
  *out = NULL;
  if (path == NULL)
    return nn_error_set (err, NN_ERR_INVALID, "no file name given");
  status = nn_read_whole_file (path, &buf, &len, MAX_PTH_FILE, err);
  if (status == NN_OK)
    status = nn_pth_read_memory (out, buf, len, err);
  free (buf);
  if (status != NN_OK)
    nn_error_prefix (err, path);
  return status;
}
