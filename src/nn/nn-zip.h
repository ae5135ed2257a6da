/* nn-zip.h — a minimal reader of zip archives held in memory.
 *
 * Enough for PyTorch's serialization: it finds the End Of Central Directory
 * (and the Zip64 one when present), lists the entries, and hands out the bytes
 * of STORED (uncompressed) entries after checking their CRC-32. Every offset
 * and size read from the archive is checked against the buffer before use.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "nn-error.h"

typedef struct {
  char *name;                 /* NUL-terminated, as stored */
  uint16_t method;            /* 0 stored, 8 deflate, ... */
  uint16_t flags;
  uint32_t crc32;
  uint64_t compressed_size;
  uint64_t uncompressed_size;
  uint64_t data_offset;       /* where the data starts in the buffer */
} NnZipEntry;

typedef struct {
  const uint8_t *buf;         /* not owned: must outlive the NnZip */
  size_t len;
  NnZipEntry *entries;        /* in central directory order */
  size_t n_entries;
  NnZipEntry **by_name;       /* the same sorted by name, for nn_zip_find */
} NnZip;

/* Reads the central directory of the archive in buf[0..len). An archive
 * that lists a name twice is refused. */
NnStatus nn_zip_open (NnZip **out, const uint8_t *buf, size_t len, NnError *err);
void nn_zip_free (NnZip *zip);

const NnZipEntry *nn_zip_find (const NnZip *zip, const char *name);

/* Points *data at the bytes of a STORED entry after checking its CRC-32;
 * a compressed entry is NN_ERR_UNSUPPORTED. */
NnStatus nn_zip_entry_data (const NnZip *zip, const NnZipEntry *entry,
                            const uint8_t **data, size_t *len, NnError *err);

/* The CRC-32 of zip and PNG (ISO-HDLC), continued from crc (0 to start). */
uint32_t nn_crc32 (uint32_t crc, const uint8_t *data, size_t len);
