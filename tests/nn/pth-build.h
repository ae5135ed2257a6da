/* .pth files built by hand, as torch.save writes them: a zip archive
 * (stored, not deflated) around a pickle written opcode by opcode. Shared by
 * test-pth.c (the reader) and test-weights.c (a model's loading). */
#pragma once

#include <glib.h>
#include <string.h>

#include "nn-zip.h"

/* Zip archives made by hand. */

typedef struct {
  const char *name;
  const void *data;
  size_t len;
  guint16 method;
} ZipItem;

typedef struct {
  gboolean zip64;           /* Zip64 extra fields, end record and locator */
  const char *comment;
  gboolean bad_crc;         /* store a wrong CRC for the first entry */
} ZipOptions;

static inline void
put16 (GByteArray *a, guint v)
{
  guint8 b[2] = { (guint8) v, (guint8) (v >> 8) };
  g_byte_array_append (a, b, 2);
}

static inline void
put32 (GByteArray *a, guint32 v)
{
  put16 (a, v & 0xffff);
  put16 (a, v >> 16);
}

static inline void
put64 (GByteArray *a, guint64 v)
{
  put32 (a, (guint32) v);
  put32 (a, (guint32) (v >> 32));
}

static inline GByteArray *
build_zip (const ZipItem *items, size_t n, const ZipOptions *opt)
{
  static const ZipOptions defaults = { 0 };
  GByteArray *zip = g_byte_array_new ();
  guint32 *offsets = g_new0 (guint32, n);
  guint32 cd_offset, cd_size;

  if (opt == NULL)
    opt = &defaults;
  for (size_t i = 0; i < n; i++)
    {
      guint32 crc = nn_crc32 (0, items[i].data, items[i].len);
      offsets[i] = zip->len;
      put32 (zip, 0x04034b50);
      put16 (zip, 20);
      put16 (zip, 0);
      put16 (zip, items[i].method);
      put16 (zip, 0);
      put16 (zip, 0x21);
      put32 (zip, crc);
      put32 (zip, (guint32) items[i].len);
      put32 (zip, (guint32) items[i].len);
      put16 (zip, (guint) strlen (items[i].name));
      put16 (zip, 0);
      g_byte_array_append (zip, (const guint8 *) items[i].name, (guint) strlen (items[i].name));
      g_byte_array_append (zip, items[i].data, (guint) items[i].len);
    }
  cd_offset = zip->len;
  for (size_t i = 0; i < n; i++)
    {
      guint32 crc = nn_crc32 (0, items[i].data, items[i].len) ^ (opt->bad_crc && i == 0 ? 1 : 0);
      put32 (zip, 0x02014b50);
      put16 (zip, 45);
      put16 (zip, opt->zip64 ? 45 : 20);
      put16 (zip, 0);
      put16 (zip, items[i].method);
      put16 (zip, 0);
      put16 (zip, 0x21);
      put32 (zip, crc);
      put32 (zip, opt->zip64 ? 0xffffffff : (guint32) items[i].len);
      put32 (zip, opt->zip64 ? 0xffffffff : (guint32) items[i].len);
      put16 (zip, (guint) strlen (items[i].name));
      put16 (zip, opt->zip64 ? 4 + 8 + 24 : 0);
      put16 (zip, 0);
      put16 (zip, 0);
      put16 (zip, 0);
      put32 (zip, 0);
      put32 (zip, opt->zip64 ? 0xffffffff : offsets[i]);
      g_byte_array_append (zip, (const guint8 *) items[i].name, (guint) strlen (items[i].name));
      if (opt->zip64)
        {
          /* An unrelated extra field first, then the Zip64 one. */
          put16 (zip, 0xcafe);
          put16 (zip, 4);
          put32 (zip, 0xdeadbeef);
          put16 (zip, 0x0001);
          put16 (zip, 24);
          put64 (zip, items[i].len);
          put64 (zip, items[i].len);
          put64 (zip, offsets[i]);
        }
    }
  cd_size = zip->len - cd_offset;
  if (opt->zip64)
    {
      guint32 record = zip->len;
      put32 (zip, 0x06064b50);
      put64 (zip, 44);
      put16 (zip, 45);
      put16 (zip, 45);
      put32 (zip, 0);
      put32 (zip, 0);
      put64 (zip, n);
      put64 (zip, n);
      put64 (zip, cd_size);
      put64 (zip, cd_offset);
      put32 (zip, 0x07064b50);
      put32 (zip, 0);
      put64 (zip, record);
      put32 (zip, 1);
    }
  put32 (zip, 0x06054b50);
  put16 (zip, 0);
  put16 (zip, 0);
  put16 (zip, opt->zip64 ? 0xffff : (guint) n);
  put16 (zip, opt->zip64 ? 0xffff : (guint) n);
  put32 (zip, opt->zip64 ? 0xffffffff : cd_size);
  put32 (zip, opt->zip64 ? 0xffffffff : cd_offset);
  put16 (zip, opt->comment != NULL ? (guint) strlen (opt->comment) : 0);
  if (opt->comment != NULL)
    g_byte_array_append (zip, (const guint8 *) opt->comment, (guint) strlen (opt->comment));
  g_free (offsets);
  return zip;
}

/* Pickles written by hand, opcode by opcode, as torch.save writes them. */

static inline void
op (GByteArray *p, guint8 code)
{
  g_byte_array_append (p, &code, 1);
}

static inline void
op_global (GByteArray *p, const char *module, const char *name)
{
  op (p, 'c');
  g_byte_array_append (p, (const guint8 *) module, (guint) strlen (module));
  op (p, '\n');
  g_byte_array_append (p, (const guint8 *) name, (guint) strlen (name));
  op (p, '\n');
}

static inline void
op_str (GByteArray *p, const char *s)
{
  op (p, 'X');
  put32 (p, (guint32) strlen (s));
  g_byte_array_append (p, (const guint8 *) s, (guint) strlen (s));
}

static inline void
op_int (GByteArray *p, gint64 v)
{
  if (v >= 0 && v < 256)
    {
      op (p, 'K');
      op (p, (guint8) v);
    }
  else if (v >= 0 && v < 65536)
    {
      op (p, 'M');
      put16 (p, (guint) v);
    }
  else if (v >= G_MININT32 && v <= G_MAXINT32)
    {
      op (p, 'J');
      put32 (p, (guint32) (gint32) v);
    }
  else
    {
      op (p, 0x8a);
      op (p, 8);
      put64 (p, (guint64) v);
    }
}

typedef struct {
  const char *name;
  const char *storage_class;   /* "FloatStorage", ... */
  const char *key;
  gint64 storage_numel;
  gint64 offset;
  int ndim;
  gint64 size[9];
  gint64 stride[9];
  gboolean as_parameter;
} TensorSpec;

static inline void
op_tensor (GByteArray *p, const TensorSpec *t)
{
  if (t->as_parameter)
    op_global (p, "torch._utils", "_rebuild_parameter");
  op_global (p, "torch._utils", "_rebuild_tensor_v2");
  op (p, '(');
  op (p, '(');
  op_str (p, "storage");
  op_global (p, "torch", t->storage_class);
  op_str (p, t->key);
  op_str (p, "cpu");
  op_int (p, t->storage_numel);
  op (p, 't');
  op (p, 'Q');
  op_int (p, t->offset);
  op (p, '(');
  for (int d = 0; d < t->ndim; d++)
    op_int (p, t->size[d]);
  op (p, 't');
  op (p, '(');
  for (int d = 0; d < t->ndim; d++)
    op_int (p, t->stride[d]);
  op (p, 't');
  op (p, 0x89);
  op_global (p, "collections", "OrderedDict");
  op (p, ')');
  op (p, 'R');
  op (p, 't');
  op (p, 'R');
  if (t->as_parameter)
    {
      op (p, 0x88);
      op_global (p, "collections", "OrderedDict");
      op (p, ')');
      op (p, 'R');
      op (p, 0x87);  /* TUPLE3 */
      op (p, 'R');
    }
}

static inline GByteArray *
state_pickle (const TensorSpec *specs, size_t n)
{
  GByteArray *p = g_byte_array_new ();

  op (p, 0x80);
  op (p, 2);
  op_global (p, "collections", "OrderedDict");
  op (p, ')');
  op (p, 'R');
  op (p, '(');
  for (size_t i = 0; i < n; i++)
    {
      op_str (p, specs[i].name);
      op_tensor (p, &specs[i]);
    }
  op (p, 'u');
  op (p, '.');
  return p;
}
