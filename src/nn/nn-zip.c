/* nn-zip.c — a minimal reader of zip archives held in memory.
 *
 * Layout (APPNOTE.TXT): local headers with data, then the central directory,
 * then (optionally) the Zip64 end record and its locator, then the End Of
 * Central Directory record with an optional comment of up to 64 KiB.
 */
#include "nn-zip.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define SIG_LOCAL        0x04034b50u
#define SIG_CENTRAL      0x02014b50u
#define SIG_EOCD         0x06054b50u
#define SIG_ZIP64_EOCD   0x06064b50u
#define SIG_ZIP64_LOC    0x07064b50u

#define EOCD_SIZE        22
#define ZIP64_LOC_SIZE   20
#define ZIP64_EOCD_SIZE  56
#define CENTRAL_SIZE     46
#define LOCAL_SIZE       30

static uint16_t
rd16 (const uint8_t *p)
{
  return (uint16_t) (p[0] | (p[1] << 8));
}

static uint32_t
rd32 (const uint8_t *p)
{
  return (uint32_t) p[0] | ((uint32_t) p[1] << 8) | ((uint32_t) p[2] << 16)
         | ((uint32_t) p[3] << 24);
}

static uint64_t
rd64 (const uint8_t *p)
{
  return (uint64_t) rd32 (p) | ((uint64_t) rd32 (p + 4) << 32);
}

/* True if [offset, offset + size) lies within [0, len). */
static bool
range_ok (uint64_t offset, uint64_t size, uint64_t len)
{
  return offset <= len && size <= len - offset;
}

uint32_t
nn_crc32 (uint32_t crc, const uint8_t *data, size_t len)
{
  uint32_t table[256];
  uint32_t i, k;

  /* 256 entries cost less than a microsecond; a shared table would need
   * thread-safe initialization. */
  for (i = 0; i < 256; i++)
    {
      uint32_t c = i;
      for (k = 0; k < 8; k++)
        c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
      table[i] = c;
    }
  crc = ~crc;
  while (len-- > 0)
    crc = table[(crc ^ *data++) & 0xff] ^ (crc >> 8);
  return ~crc;
}

void
nn_zip_free (NnZip *zip)
{
  size_t i;

  if (zip == NULL)
    return;
  for (i = 0; i < zip->n_entries; i++)
    free (zip->entries[i].name);
  free (zip->entries);
  free (zip->by_name);
  free (zip);
}

static int
compare_entry_names (const void *a, const void *b)
{
  const NnZipEntry *ea = *(const NnZipEntry *const *) a;
  const NnZipEntry *eb = *(const NnZipEntry *const *) b;

  return strcmp (ea->name, eb->name);
}

static NnStatus
find_eocd (const uint8_t *buf, size_t len, size_t *eocd_pos, NnError *err)
{
  size_t pos, lowest;

  if (len < EOCD_SIZE)
    return nn_error_set (err, NN_ERR_FORMAT,
                         "zip archive is truncated (%zu bytes, no end of central directory)", len);
  lowest = len - EOCD_SIZE > 0xffff ? len - EOCD_SIZE - 0xffff : 0;
  for (pos = len - EOCD_SIZE + 1; pos-- > lowest;)
    if (rd32 (buf + pos) == SIG_EOCD && pos + EOCD_SIZE + rd16 (buf + pos + 20) == len)
      {
        *eocd_pos = pos;
        return NN_OK;
      }
  return nn_error_set (err, NN_ERR_FORMAT,
                       "zip archive is truncated or damaged: no end of central directory record");
}

/* Replaces the 0xffff.. placeholders of a central entry with the values of
 * its Zip64 extended information field (id 0x0001). */
static NnStatus
read_zip64_extra (const uint8_t *extra, size_t extra_len, NnZipEntry *entry,
                  uint64_t *local_offset, bool need_usize, bool need_csize,
                  bool need_offset, NnError *err)
{
  size_t pos = 0;

  while (extra_len - pos >= 4)
    {
      uint16_t id = rd16 (extra + pos);
      uint16_t size = rd16 (extra + pos + 2);
      const uint8_t *field = extra + pos + 4;
      size_t used = 0;

      if (size > extra_len - pos - 4)
        break;
      if (id == 0x0001)
        {
          if (need_usize)
            {
              if (size - used < 8)
                goto short_field;
              entry->uncompressed_size = rd64 (field + used);
              used += 8;
            }
          if (need_csize)
            {
              if (size - used < 8)
                goto short_field;
              entry->compressed_size = rd64 (field + used);
              used += 8;
            }
          if (need_offset)
            {
              if (size - used < 8)
                goto short_field;
              *local_offset = rd64 (field + used);
            }
          return NN_OK;
        }
      pos += 4 + (size_t) size;
    }
  if (!need_usize && !need_csize && !need_offset)
    return NN_OK;
  return nn_error_set (err, NN_ERR_FORMAT,
                       "zip entry %s: sizes are in a Zip64 field that is missing", entry->name);

short_field:
  return nn_error_set (err, NN_ERR_FORMAT,
                       "zip entry %s: Zip64 field is too short", entry->name);
}

static NnStatus
read_entry (const uint8_t *buf, size_t len, const uint8_t *central, size_t avail,
            NnZipEntry *entry, size_t *consumed, NnError *err)
{
  uint16_t name_len, extra_len, comment_len, local_name_len, local_extra_len;
  uint32_t csize32, usize32, offset32;
  uint64_t local_offset, data_offset;
  const uint8_t *local;
  NnStatus status;

  if (avail < CENTRAL_SIZE || rd32 (central) != SIG_CENTRAL)
    return nn_error_set (err, NN_ERR_FORMAT, "zip central directory is damaged");
  name_len = rd16 (central + 28);
  extra_len = rd16 (central + 30);
  comment_len = rd16 (central + 32);
  if ((size_t) CENTRAL_SIZE + name_len + extra_len + comment_len > avail)
    return nn_error_set (err, NN_ERR_FORMAT, "zip central directory entry runs past its end");

  entry->flags = rd16 (central + 8);
  entry->method = rd16 (central + 10);
  entry->crc32 = rd32 (central + 16);
  csize32 = rd32 (central + 20);
  usize32 = rd32 (central + 24);
  offset32 = rd32 (central + 42);

  if (memchr (central + CENTRAL_SIZE, '\0', name_len) != NULL)
    return nn_error_set (err, NN_ERR_FORMAT, "zip entry name contains a NUL byte");
  entry->name = malloc ((size_t) name_len + 1);
  if (entry->name == NULL)
    return nn_error_set (err, NN_ERR_NOMEM, "out of memory reading the zip directory");
  memcpy (entry->name, central + CENTRAL_SIZE, name_len);
  entry->name[name_len] = '\0';

  entry->compressed_size = csize32;
  entry->uncompressed_size = usize32;
  local_offset = offset32;
  status = read_zip64_extra (central + CENTRAL_SIZE + name_len, extra_len, entry,
                             &local_offset, usize32 == 0xffffffffu,
                             csize32 == 0xffffffffu, offset32 == 0xffffffffu, err);
  if (status != NN_OK)
    return status;

  /* The data starts after the local header, whose extra field may differ from
   * the central one (PyTorch pads it to align the data to 64 bytes). */
  if (!range_ok (local_offset, LOCAL_SIZE, len))
    return nn_error_set (err, NN_ERR_FORMAT,
                         "zip entry %s: local header lies outside the file", entry->name);
  local = buf + local_offset;
  if (rd32 (local) != SIG_LOCAL)
    return nn_error_set (err, NN_ERR_FORMAT,
                         "zip entry %s: local header is damaged", entry->name);
  local_name_len = rd16 (local + 26);
  local_extra_len = rd16 (local + 28);
  data_offset = local_offset + LOCAL_SIZE + local_name_len + local_extra_len;
  if (!range_ok (local_offset + LOCAL_SIZE, local_name_len, len)
      || local_name_len != name_len
      || memcmp (local + LOCAL_SIZE, entry->name, name_len) != 0)
    return nn_error_set (err, NN_ERR_FORMAT,
                         "zip entry %s: local header names another file", entry->name);
  if (!range_ok (data_offset, entry->compressed_size, len))
    return nn_error_set (err, NN_ERR_FORMAT,
                         "zip entry %s: data (%llu bytes at %llu) runs past the end of the file",
                         entry->name, (unsigned long long) entry->compressed_size,
                         (unsigned long long) data_offset);
  entry->data_offset = data_offset;
  *consumed = (size_t) CENTRAL_SIZE + name_len + extra_len + comment_len;
  return NN_OK;
}

NnStatus
nn_zip_open (NnZip **out, const uint8_t *buf, size_t len, NnError *err)
{
  size_t eocd_pos = 0, pos, end, i;
  uint64_t n_entries, cd_size, cd_offset, cd_limit;
  NnZip *zip;
  NnStatus status;

  if (out == NULL)
    return nn_error_set (err, NN_ERR_INVALID, "zip: no output given");
  *out = NULL;
  if (buf == NULL)
    return nn_error_set (err, NN_ERR_INVALID, "zip: no buffer given");

  status = find_eocd (buf, len, &eocd_pos, err);
  if (status != NN_OK)
    return status;
  if (rd16 (buf + eocd_pos + 4) != 0 || rd16 (buf + eocd_pos + 6) != 0)
    return nn_error_set (err, NN_ERR_UNSUPPORTED, "multi-disk zip archives are not supported");
  n_entries = rd16 (buf + eocd_pos + 10);
  cd_size = rd32 (buf + eocd_pos + 12);
  cd_offset = rd32 (buf + eocd_pos + 16);
  cd_limit = eocd_pos;

  if (eocd_pos >= ZIP64_LOC_SIZE && rd32 (buf + eocd_pos - ZIP64_LOC_SIZE) == SIG_ZIP64_LOC)
    {
      const uint8_t *loc = buf + eocd_pos - ZIP64_LOC_SIZE;
      uint64_t z64_pos = rd64 (loc + 8);
      const uint8_t *z64;

      if (!range_ok (z64_pos, ZIP64_EOCD_SIZE, eocd_pos - ZIP64_LOC_SIZE))
        return nn_error_set (err, NN_ERR_FORMAT, "zip: Zip64 end record lies outside the file");
      z64 = buf + z64_pos;
      if (rd32 (z64) != SIG_ZIP64_EOCD)
        return nn_error_set (err, NN_ERR_FORMAT, "zip: Zip64 end record is damaged");
      if (rd32 (z64 + 16) != 0 || rd32 (z64 + 20) != 0)
        return nn_error_set (err, NN_ERR_UNSUPPORTED, "multi-disk zip archives are not supported");
      n_entries = rd64 (z64 + 32);
      cd_size = rd64 (z64 + 40);
      cd_offset = rd64 (z64 + 48);
      cd_limit = z64_pos;
    }
  else if (n_entries == 0xffff || cd_size == 0xffffffffu || cd_offset == 0xffffffffu)
    return nn_error_set (err, NN_ERR_FORMAT, "zip: Zip64 archive without its Zip64 end record");

  if (!range_ok (cd_offset, cd_size, cd_limit))
    return nn_error_set (err, NN_ERR_FORMAT,
                         "zip central directory (%llu bytes at %llu) lies outside the file",
                         (unsigned long long) cd_size, (unsigned long long) cd_offset);
  if (n_entries > cd_size / CENTRAL_SIZE)
    return nn_error_set (err, NN_ERR_FORMAT,
                         "zip claims %llu entries in a %llu-byte central directory",
                         (unsigned long long) n_entries, (unsigned long long) cd_size);

  zip = calloc (1, sizeof *zip);
  if (zip == NULL)
    return nn_error_set (err, NN_ERR_NOMEM, "out of memory reading the zip directory");
  zip->buf = buf;
  zip->len = len;
  if (n_entries > 0)
    {
      zip->entries = calloc ((size_t) n_entries, sizeof *zip->entries);
      if (zip->entries == NULL)
        {
          nn_zip_free (zip);
          return nn_error_set (err, NN_ERR_NOMEM, "out of memory reading the zip directory");
        }
    }

  pos = (size_t) cd_offset;
  end = (size_t) (cd_offset + cd_size);
  for (i = 0; i < n_entries; i++)
    {
      size_t consumed = 0;
      status = read_entry (buf, len, buf + pos, end - pos, &zip->entries[i], &consumed, err);
      zip->n_entries = i + 1;  /* so that the name is freed */
      if (status != NN_OK)
        {
          nn_zip_free (zip);
          return status;
        }
      pos += consumed;
    }

  /* Sorted, so that finding each of thousands of storages is not quadratic. */
  zip->by_name = malloc ((zip->n_entries > 0 ? zip->n_entries : 1) * sizeof *zip->by_name);
  if (zip->by_name == NULL)
    {
      nn_zip_free (zip);
      return nn_error_set (err, NN_ERR_NOMEM, "out of memory reading the zip directory");
    }
  for (i = 0; i < zip->n_entries; i++)
    zip->by_name[i] = &zip->entries[i];
  qsort (zip->by_name, zip->n_entries, sizeof *zip->by_name, compare_entry_names);
  for (i = 1; i < zip->n_entries; i++)
    if (strcmp (zip->by_name[i - 1]->name, zip->by_name[i]->name) == 0)
      {
        status = nn_error_set (err, NN_ERR_FORMAT, "zip lists %.200s twice",
                               zip->by_name[i]->name);
        nn_zip_free (zip);
        return status;
      }
  *out = zip;
  return NN_OK;
}

const NnZipEntry *
nn_zip_find (const NnZip *zip, const char *name)
{
  size_t low = 0, high;

  if (zip == NULL || name == NULL || zip->by_name == NULL)
    return NULL;
  high = zip->n_entries;
  while (low < high)
    {
      size_t mid = low + (high - low) / 2;
      int c = strcmp (zip->by_name[mid]->name, name);
      if (c == 0)
        return zip->by_name[mid];
      if (c < 0)
        low = mid + 1;
      else
        high = mid;
    }
  return NULL;
}

NnStatus
nn_zip_entry_data (const NnZip *zip, const NnZipEntry *entry,
                   const uint8_t **data, size_t *len, NnError *err)
{
  const uint8_t *bytes;
  uint32_t crc;

  if (zip == NULL || entry == NULL || data == NULL || len == NULL)
    return nn_error_set (err, NN_ERR_INVALID, "zip: bad arguments");
  if (entry->flags & 0x0001)
    return nn_error_set (err, NN_ERR_UNSUPPORTED,
                         "zip entry %s is encrypted", entry->name);
  if (entry->method != 0)
    return nn_error_set (err, NN_ERR_UNSUPPORTED,
                         "zip entry %s is compressed (method %u%s); only uncompressed (stored) "
                         "entries are read, as torch.save writes them",
                         entry->name, entry->method, entry->method == 8 ? ", deflate" : "");
  if (entry->compressed_size != entry->uncompressed_size)
    return nn_error_set (err, NN_ERR_FORMAT,
                         "zip entry %s: stored entry with different sizes (%llu and %llu)",
                         entry->name, (unsigned long long) entry->compressed_size,
                         (unsigned long long) entry->uncompressed_size);
  /* Checked by nn_zip_open, and again here for entries made by hand. */
  if (!range_ok (entry->data_offset, entry->compressed_size, zip->len))
    return nn_error_set (err, NN_ERR_FORMAT,
                         "zip entry %s runs past the end of the file", entry->name);
  bytes = zip->buf + entry->data_offset;
  crc = nn_crc32 (0, bytes, (size_t) entry->compressed_size);
  if (crc != entry->crc32)
    return nn_error_set (err, NN_ERR_FORMAT,
                         "zip entry %s is damaged (CRC-32 %08x, expected %08x)",
                         entry->name, crc, entry->crc32);
  *data = bytes;
  *len = (size_t) entry->compressed_size;
  return NN_OK;
}
