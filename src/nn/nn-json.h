/* nn-json.h — a small strict JSON parser and writer helpers (RFC 8259).
 *
 * Used for the safetensors header, which comes from files we do not trust:
 * the parser bounds nesting depth, the number of values and string lengths,
 * rejects invalid UTF-8, lone surrogates, control characters in strings,
 * duplicate object keys and anything after the top value but whitespace.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nn-error.h"

typedef enum {
  NN_JSON_NULL,
  NN_JSON_BOOL,
  NN_JSON_INT,       /* an integer literal that fits int64_t */
  NN_JSON_NUMBER,    /* any other number (fraction, exponent or too large) */
  NN_JSON_STRING,
  NN_JSON_ARRAY,
  NN_JSON_OBJECT,
} NnJsonType;

typedef struct NnJson NnJson;

struct NnJson {
  NnJsonType type;
  bool boolean;
  int64_t integer;
  double number;             /* set for NN_JSON_INT too */
  char *string;              /* NUL-terminated; may also contain NULs (\u0000) */
  size_t string_len;
  NnJson *items;             /* array items, or object values */
  char **keys;               /* object keys, NUL-terminated UTF-8 */
  size_t *key_lens;
  size_t n_items;
};

typedef struct {
  size_t max_depth;          /* nesting of arrays and objects; 0 means 64 */
  size_t max_values;         /* 0 means unlimited (the input size bounds it) */
  size_t max_string;         /* bytes of one string or key; 0 means unlimited */
} NnJsonLimits;

/* Parses len bytes of text (no NUL needed). On failure *out is NULL and err
 * says what is wrong and at which byte offset. */
NnStatus nn_json_parse (NnJson **out, const char *text, size_t len,
                        const NnJsonLimits *limits, NnError *err);
void nn_json_free (NnJson *value);

/* The value of key in an object, or NULL. */
const NnJson *nn_json_object_get (const NnJson *object, const char *key);

const char *nn_json_type_name (NnJsonType type);

/* True if the len bytes at s are valid UTF-8 (no overlongs, no surrogates). */
bool nn_utf8_valid (const char *s, size_t len);

/* A growable byte buffer for writing JSON. Appends after a failed allocation
 * are ignored and leave failed set, so callers check once at the end. */
typedef struct {
  char *data;
  size_t len;
  size_t cap;
  bool failed;
} NnStrBuf;

void nn_strbuf_append (NnStrBuf *buf, const char *data, size_t len);
void nn_strbuf_append_str (NnStrBuf *buf, const char *str);
void nn_strbuf_printf (NnStrBuf *buf, const char *fmt, ...) NN_PRINTF (2, 3);
void nn_strbuf_clear (NnStrBuf *buf);

/* Appends s as a quoted JSON string, escaping as Python's json.dumps
 * (ensure_ascii=False) and serde_json do: \" \\ \b \f \n \r \t, other control
 * characters as \u00XX, everything else (UTF-8 included) as is. */
void nn_json_append_string (NnStrBuf *buf, const char *s, size_t len);
