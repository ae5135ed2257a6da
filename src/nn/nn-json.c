/* nn-json.c — a small strict JSON parser and writer helpers. */
#include "nn-json.h"

#include <locale.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  const char *text;
  size_t len;
  size_t pos;
  size_t depth;
  size_t n_values;
  NnJsonLimits limits;
  NnError *err;
} JsonParser;

static NnStatus parse_value (JsonParser *p, NnJson *out);

static NnStatus
json_fail (JsonParser *p, NnStatus status, const char *what)
{
  return nn_error_set (p->err, status, "JSON: %s at byte %zu", what, p->pos);
}

static void
json_clear (NnJson *value)
{
  size_t i;

  switch (value->type)
    {
    case NN_JSON_STRING:
      free (value->string);
      break;
    case NN_JSON_OBJECT:
      for (i = 0; i < value->n_items; i++)
        free (value->keys[i]);
      free (value->keys);
      free (value->key_lens);
      /* fall through */
    case NN_JSON_ARRAY:
      for (i = 0; i < value->n_items; i++)
        json_clear (&value->items[i]);
      free (value->items);
      break;
    case NN_JSON_NULL:
    case NN_JSON_BOOL:
    case NN_JSON_INT:
    case NN_JSON_NUMBER:
    default:
      break;
    }
  memset (value, 0, sizeof *value);
}

void
nn_json_free (NnJson *value)
{
  if (value == NULL)
    return;
  json_clear (value);
  free (value);
}

const char *
nn_json_type_name (NnJsonType type)
{
  switch (type)
    {
    case NN_JSON_NULL: return "null";
    case NN_JSON_BOOL: return "a boolean";
    case NN_JSON_INT: return "an integer";
    case NN_JSON_NUMBER: return "a number";
    case NN_JSON_STRING: return "a string";
    case NN_JSON_ARRAY: return "an array";
    case NN_JSON_OBJECT: return "an object";
    default: return "an unknown value";
    }
}

const NnJson *
nn_json_object_get (const NnJson *object, const char *key)
{
  size_t key_len, i;

  if (object == NULL || object->type != NN_JSON_OBJECT || key == NULL)
    return NULL;
  key_len = strlen (key);
  for (i = 0; i < object->n_items; i++)
    if (object->key_lens[i] == key_len && memcmp (object->keys[i], key, key_len) == 0)
      return &object->items[i];
  return NULL;
}

static void
skip_whitespace (JsonParser *p)
{
  while (p->pos < p->len)
    {
      char c = p->text[p->pos];
      if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
        break;
      p->pos++;
    }
}

static bool
match_literal (JsonParser *p, const char *literal)
{
  size_t n = strlen (literal);

  if (p->len - p->pos < n || memcmp (p->text + p->pos, literal, n) != 0)
    return false;
  p->pos += n;
  return true;
}

/* Length of the UTF-8 sequence at s (at most avail bytes), or 0 if invalid. */
static size_t
utf8_sequence_length (const unsigned char *s, size_t avail)
{
  unsigned char c = s[0];
  size_t n, i;
  uint32_t cp;

  if (c < 0x80)
    return 1;
  else if (c >= 0xc2 && c <= 0xdf)
    n = 2, cp = c & 0x1f;
  else if (c >= 0xe0 && c <= 0xef)
    n = 3, cp = c & 0x0f;
  else if (c >= 0xf0 && c <= 0xf4)
    n = 4, cp = c & 0x07;
  else
    return 0;
  if (avail < n)
    return 0;
  for (i = 1; i < n; i++)
    {
      if ((s[i] & 0xc0) != 0x80)
        return 0;
      cp = (cp << 6) | (s[i] & 0x3f);
    }
  if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff))
      || (cp >= 0xd800 && cp <= 0xdfff))
    return 0;
  return n;
}

bool
nn_utf8_valid (const char *s, size_t len)
{
  const unsigned char *u = (const unsigned char *) s;
  size_t pos = 0;

  while (pos < len)
    {
      size_t n = utf8_sequence_length (u + pos, len - pos);
      if (n == 0)
        return false;
      pos += n;
    }
  return true;
}

static int
hex_value (char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

static bool
parse_hex4 (JsonParser *p, uint32_t *out)
{
  uint32_t value = 0;
  size_t i;

  if (p->len - p->pos < 4)
    return false;
  for (i = 0; i < 4; i++)
    {
      int h = hex_value (p->text[p->pos + i]);
      if (h < 0)
        return false;
      value = (value << 4) | (uint32_t) h;
    }
  p->pos += 4;
  *out = value;
  return true;
}

static size_t
encode_utf8 (uint32_t cp, char *out)
{
  if (cp < 0x80)
    {
      out[0] = (char) cp;
      return 1;
    }
  if (cp < 0x800)
    {
      out[0] = (char) (0xc0 | (cp >> 6));
      out[1] = (char) (0x80 | (cp & 0x3f));
      return 2;
    }
  if (cp < 0x10000)
    {
      out[0] = (char) (0xe0 | (cp >> 12));
      out[1] = (char) (0x80 | ((cp >> 6) & 0x3f));
      out[2] = (char) (0x80 | (cp & 0x3f));
      return 3;
    }
  out[0] = (char) (0xf0 | (cp >> 18));
  out[1] = (char) (0x80 | ((cp >> 12) & 0x3f));
  out[2] = (char) (0x80 | ((cp >> 6) & 0x3f));
  out[3] = (char) (0x80 | (cp & 0x3f));
  return 4;
}

/* Parses a string at p->pos (on the opening quote). The decoded string is
 * never longer than its escaped form, so one allocation of that size is enough. */
static NnStatus
parse_string (JsonParser *p, char **out, size_t *out_len)
{
  const unsigned char *u = (const unsigned char *) p->text;
  size_t start = ++p->pos, end = start, len = 0;
  char *str;

  /* Find the closing quote first, to size the buffer. */
  while (end < p->len && u[end] != '"')
    end += (u[end] == '\\' && end + 1 < p->len) ? 2 : 1;
  if (end >= p->len)
    return json_fail (p, NN_ERR_FORMAT, "unterminated string");
  if (p->limits.max_string != 0 && end - start > p->limits.max_string * 6)
    return json_fail (p, NN_ERR_FORMAT, "string too long");

  str = malloc (end - start + 1);
  if (str == NULL)
    return json_fail (p, NN_ERR_NOMEM, "out of memory");

  while (p->pos < end)
    {
      unsigned char c = u[p->pos];
      if (c < 0x20)
        {
          free (str);
          return json_fail (p, NN_ERR_FORMAT, "control character in string");
        }
      if (c != '\\')
        {
          size_t n = utf8_sequence_length (u + p->pos, end - p->pos);
          if (n == 0)
            {
              free (str);
              return json_fail (p, NN_ERR_FORMAT, "invalid UTF-8 in string");
            }
          memcpy (str + len, u + p->pos, n);
          len += n;
          p->pos += n;
          continue;
        }
      p->pos++;
      c = u[p->pos++];
      switch (c)
        {
        case '"': str[len++] = '"'; break;
        case '\\': str[len++] = '\\'; break;
        case '/': str[len++] = '/'; break;
        case 'b': str[len++] = '\b'; break;
        case 'f': str[len++] = '\f'; break;
        case 'n': str[len++] = '\n'; break;
        case 'r': str[len++] = '\r'; break;
        case 't': str[len++] = '\t'; break;
        case 'u':
          {
            uint32_t cp, low;
            if (!parse_hex4 (p, &cp))
              {
                free (str);
                return json_fail (p, NN_ERR_FORMAT, "bad \\u escape");
              }
            if (cp >= 0xdc00 && cp <= 0xdfff)
              {
                free (str);
                return json_fail (p, NN_ERR_FORMAT, "lone low surrogate");
              }
            if (cp >= 0xd800 && cp <= 0xdbff)
              {
                if (end - p->pos < 6 || u[p->pos] != '\\' || u[p->pos + 1] != 'u')
                  {
                    free (str);
                    return json_fail (p, NN_ERR_FORMAT, "lone high surrogate");
                  }
                p->pos += 2;
                if (!parse_hex4 (p, &low) || low < 0xdc00 || low > 0xdfff)
                  {
                    free (str);
                    return json_fail (p, NN_ERR_FORMAT, "bad surrogate pair");
                  }
                cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
              }
            len += encode_utf8 (cp, str + len);
            break;
          }
        default:
          free (str);
          p->pos--;
          return json_fail (p, NN_ERR_FORMAT, "bad escape in string");
        }
    }
  p->pos = end + 1;
  str[len] = '\0';
  if (p->limits.max_string != 0 && len > p->limits.max_string)
    {
      free (str);
      return json_fail (p, NN_ERR_FORMAT, "string too long");
    }
  *out = str;
  *out_len = len;
  return NN_OK;
}

static bool
is_digit (char c)
{
  return c >= '0' && c <= '9';
}

static NnStatus
parse_number (JsonParser *p, NnJson *out)
{
  size_t start = p->pos, n;
  bool negative = false, integral = true;
  uint64_t magnitude = 0;
  bool overflow = false;
  char buf[128];
  char *end;
  const struct lconv *lc;

  if (p->text[p->pos] == '-')
    {
      negative = true;
      p->pos++;
    }
  if (p->pos >= p->len || !is_digit (p->text[p->pos]))
    return json_fail (p, NN_ERR_FORMAT, "bad number");
  if (p->text[p->pos] == '0')
    {
      p->pos++;
      if (p->pos < p->len && is_digit (p->text[p->pos]))
        return json_fail (p, NN_ERR_FORMAT, "leading zero in number");
    }
  else
    while (p->pos < p->len && is_digit (p->text[p->pos]))
      {
        unsigned digit = (unsigned) (p->text[p->pos] - '0');
        if (magnitude > (UINT64_MAX - digit) / 10)
          overflow = true;
        else
          magnitude = magnitude * 10 + digit;
        p->pos++;
      }
  if (p->pos < p->len && p->text[p->pos] == '.')
    {
      integral = false;
      p->pos++;
      if (p->pos >= p->len || !is_digit (p->text[p->pos]))
        return json_fail (p, NN_ERR_FORMAT, "bad fraction in number");
      while (p->pos < p->len && is_digit (p->text[p->pos]))
        p->pos++;
    }
  if (p->pos < p->len && (p->text[p->pos] == 'e' || p->text[p->pos] == 'E'))
    {
      integral = false;
      p->pos++;
      if (p->pos < p->len && (p->text[p->pos] == '+' || p->text[p->pos] == '-'))
        p->pos++;
      if (p->pos >= p->len || !is_digit (p->text[p->pos]))
        return json_fail (p, NN_ERR_FORMAT, "bad exponent in number");
      while (p->pos < p->len && is_digit (p->text[p->pos]))
        p->pos++;
    }

  if (integral && !overflow
      && magnitude <= (negative ? (uint64_t) INT64_MAX + 1 : (uint64_t) INT64_MAX))
    {
      out->type = NN_JSON_INT;
      if (negative)
        out->integer = magnitude == (uint64_t) INT64_MAX + 1
                       ? INT64_MIN : -(int64_t) magnitude;
      else
        out->integer = (int64_t) magnitude;
      out->number = (double) out->integer;
      return NN_OK;
    }

  /* strtod follows LC_NUMERIC, which a GTK application sets from the
   * environment: swap the '.' for the locale's decimal point. */
  n = p->pos - start;
  if (n >= sizeof buf)
    return json_fail (p, NN_ERR_FORMAT, "number too long");
  memcpy (buf, p->text + start, n);
  buf[n] = '\0';
  lc = localeconv ();
  if (lc != NULL && lc->decimal_point != NULL && lc->decimal_point[0] != '\0'
      && lc->decimal_point[1] == '\0')
    {
      char *dot = strchr (buf, '.');
      if (dot != NULL)
        *dot = lc->decimal_point[0];
    }
  out->type = NN_JSON_NUMBER;
  out->number = strtod (buf, &end);
  if (end != buf + n)
    return json_fail (p, NN_ERR_FORMAT, "bad number");
  return NN_OK;
}

typedef struct {
  const char *key;
  size_t len;
} KeyRef;

static int
compare_keys (const void *a, const void *b)
{
  const KeyRef *ka = a, *kb = b;
  size_t n = ka->len < kb->len ? ka->len : kb->len;
  int c = memcmp (ka->key, kb->key, n);

  if (c != 0)
    return c;
  return (ka->len > kb->len) - (ka->len < kb->len);
}

/* Sorting a copy of the keys finds duplicates in O(n log n), which matters
 * for a header with many thousand tensors. */
static NnStatus
check_duplicate_keys (JsonParser *p, const NnJson *object)
{
  KeyRef *refs;
  size_t i;

  if (object->n_items < 2)
    return NN_OK;
  refs = malloc (object->n_items * sizeof *refs);
  if (refs == NULL)
    return json_fail (p, NN_ERR_NOMEM, "out of memory");
  for (i = 0; i < object->n_items; i++)
    {
      refs[i].key = object->keys[i];
      refs[i].len = object->key_lens[i];
    }
  qsort (refs, object->n_items, sizeof *refs, compare_keys);
  for (i = 1; i < object->n_items; i++)
    if (compare_keys (&refs[i - 1], &refs[i]) == 0)
      {
        NnStatus status = nn_error_set (p->err, NN_ERR_FORMAT,
                                        "JSON: duplicate key \"%.100s\" in an object ending at byte %zu",
                                        refs[i].key, p->pos);
        free (refs);
        return status;
      }
  free (refs);
  return NN_OK;
}

static bool
grow (void **array, size_t *cap, size_t need, size_t elem_size)
{
  size_t new_cap;
  void *grown;

  if (need <= *cap)
    return true;
  new_cap = *cap < 8 ? 8 : *cap * 2;
  if (new_cap < need || new_cap > SIZE_MAX / elem_size)
    return false;
  grown = realloc (*array, new_cap * elem_size);
  if (grown == NULL)
    return false;
  *array = grown;
  *cap = new_cap;
  return true;
}

static NnStatus
parse_array (JsonParser *p, NnJson *out)
{
  size_t cap = 0;
  NnStatus status;

  out->type = NN_JSON_ARRAY;
  p->pos++;
  skip_whitespace (p);
  if (p->pos < p->len && p->text[p->pos] == ']')
    {
      p->pos++;
      return NN_OK;
    }
  for (;;)
    {
      void *items = out->items;
      if (!grow (&items, &cap, out->n_items + 1, sizeof (NnJson)))
        return json_fail (p, NN_ERR_NOMEM, "out of memory");
      out->items = items;
      memset (&out->items[out->n_items], 0, sizeof (NnJson));
      status = parse_value (p, &out->items[out->n_items]);
      out->n_items++;            /* so that a partial item is freed too */
      if (status != NN_OK)
        return status;
      skip_whitespace (p);
      if (p->pos >= p->len)
        return json_fail (p, NN_ERR_FORMAT, "unterminated array");
      if (p->text[p->pos] == ']')
        {
          p->pos++;
          return NN_OK;
        }
      if (p->text[p->pos] != ',')
        return json_fail (p, NN_ERR_FORMAT, "expected ',' or ']'");
      p->pos++;
    }
}

static NnStatus
parse_object (JsonParser *p, NnJson *out)
{
  size_t cap_items = 0, cap_keys = 0, cap_lens = 0;
  NnStatus status;

  out->type = NN_JSON_OBJECT;
  p->pos++;
  skip_whitespace (p);
  if (p->pos < p->len && p->text[p->pos] == '}')
    {
      p->pos++;
      return NN_OK;
    }
  for (;;)
    {
      void *items = out->items, *keys = out->keys, *lens = out->key_lens;
      char *key;
      size_t key_len;
      bool ok;

      skip_whitespace (p);
      if (p->pos >= p->len || p->text[p->pos] != '"')
        return json_fail (p, NN_ERR_FORMAT, "expected a string key");
      ok = grow (&items, &cap_items, out->n_items + 1, sizeof (NnJson));
      out->items = items;
      ok = ok && grow (&keys, &cap_keys, out->n_items + 1, sizeof (char *));
      out->keys = keys;
      ok = ok && grow (&lens, &cap_lens, out->n_items + 1, sizeof (size_t));
      out->key_lens = lens;
      if (!ok)
        return json_fail (p, NN_ERR_NOMEM, "out of memory");
      status = parse_string (p, &key, &key_len);
      if (status != NN_OK)
        return status;
      skip_whitespace (p);
      if (p->pos >= p->len || p->text[p->pos] != ':')
        {
          free (key);
          return json_fail (p, NN_ERR_FORMAT, "expected ':'");
        }
      p->pos++;
      memset (&out->items[out->n_items], 0, sizeof (NnJson));
      out->keys[out->n_items] = key;
      out->key_lens[out->n_items] = key_len;
      status = parse_value (p, &out->items[out->n_items]);
      out->n_items++;            /* the key is owned by the object now */
      if (status != NN_OK)
        return status;
      skip_whitespace (p);
      if (p->pos >= p->len)
        return json_fail (p, NN_ERR_FORMAT, "unterminated object");
      if (p->text[p->pos] == '}')
        {
          p->pos++;
          return check_duplicate_keys (p, out);
        }
      if (p->text[p->pos] != ',')
        return json_fail (p, NN_ERR_FORMAT, "expected ',' or '}'");
      p->pos++;
    }
}

static NnStatus
parse_value (JsonParser *p, NnJson *out)
{
  NnStatus status;
  char c;

  skip_whitespace (p);
  if (p->pos >= p->len)
    return json_fail (p, NN_ERR_FORMAT, "unexpected end of input");
  if (p->limits.max_values != 0 && p->n_values >= p->limits.max_values)
    return json_fail (p, NN_ERR_FORMAT, "too many values");
  p->n_values++;

  c = p->text[p->pos];
  switch (c)
    {
    case '{':
    case '[':
      if (p->depth >= p->limits.max_depth)
        return json_fail (p, NN_ERR_FORMAT, "nested too deeply");
      p->depth++;
      status = c == '{' ? parse_object (p, out) : parse_array (p, out);
      p->depth--;
      return status;
    case '"':
      out->type = NN_JSON_STRING;
      return parse_string (p, &out->string, &out->string_len);
    case 't':
    case 'f':
    case 'n':
      if (match_literal (p, "true"))
        out->type = NN_JSON_BOOL, out->boolean = true;
      else if (match_literal (p, "false"))
        out->type = NN_JSON_BOOL, out->boolean = false;
      else if (match_literal (p, "null"))
        out->type = NN_JSON_NULL;
      else
        return json_fail (p, NN_ERR_FORMAT, "unexpected character");
      return NN_OK;
    default:
      if (c == '-' || is_digit (c))
        return parse_number (p, out);
      return json_fail (p, NN_ERR_FORMAT, "unexpected character");
    }
}

NnStatus
nn_json_parse (NnJson **out, const char *text, size_t len,
               const NnJsonLimits *limits, NnError *err)
{
  JsonParser p = { 0 };
  NnJson *root;
  NnStatus status;

  if (out == NULL)
    return nn_error_set (err, NN_ERR_INVALID, "JSON: no output given");
  *out = NULL;
  if (text == NULL && len > 0)
    return nn_error_set (err, NN_ERR_INVALID, "JSON: no input given");

  p.text = text;
  p.len = len;
  p.err = err;
  if (limits != NULL)
    p.limits = *limits;
  if (p.limits.max_depth == 0)
    p.limits.max_depth = 64;

  root = calloc (1, sizeof *root);
  if (root == NULL)
    return nn_error_set (err, NN_ERR_NOMEM, "JSON: out of memory");
  status = parse_value (&p, root);
  if (status == NN_OK)
    {
      skip_whitespace (&p);
      if (p.pos != p.len)
        status = json_fail (&p, NN_ERR_FORMAT, "trailing characters after the value");
    }
  if (status != NN_OK)
    {
      nn_json_free (root);
      return status;
    }
  *out = root;
  return NN_OK;
}

void
nn_strbuf_append (NnStrBuf *buf, const char *data, size_t len)
{
  if (buf->failed)
    return;
  if (len >= SIZE_MAX - buf->len)
    {
      buf->failed = true;
      return;
    }
  if (buf->len + len + 1 > buf->cap)
    {
      size_t cap = buf->cap < 256 ? 256 : buf->cap;
      char *grown;
      while (cap < buf->len + len + 1)
        {
          if (cap > SIZE_MAX / 2)
            {
              buf->failed = true;
              return;
            }
          cap *= 2;
        }
      grown = realloc (buf->data, cap);
      if (grown == NULL)
        {
          buf->failed = true;
          return;
        }
      buf->data = grown;
      buf->cap = cap;
    }
  if (len > 0)
    memcpy (buf->data + buf->len, data, len);
  buf->len += len;
  buf->data[buf->len] = '\0';
}

void
nn_strbuf_append_str (NnStrBuf *buf, const char *str)
{
  nn_strbuf_append (buf, str, strlen (str));
}

void
nn_strbuf_printf (NnStrBuf *buf, const char *fmt, ...)
{
  char small[256];
  va_list ap;
  int n;

  va_start (ap, fmt);
  n = vsnprintf (small, sizeof small, fmt, ap);
  va_end (ap);
  if (n < 0)
    {
      buf->failed = true;
      return;
    }
  if ((size_t) n < sizeof small)
    {
      nn_strbuf_append (buf, small, (size_t) n);
      return;
    }
  else
    {
      char *big = malloc ((size_t) n + 1);
      if (big == NULL)
        {
          buf->failed = true;
          return;
        }
      va_start (ap, fmt);
      vsnprintf (big, (size_t) n + 1, fmt, ap);
      va_end (ap);
      nn_strbuf_append (buf, big, (size_t) n);
      free (big);
    }
}

void
nn_strbuf_clear (NnStrBuf *buf)
{
  free (buf->data);
  buf->data = NULL;
  buf->len = buf->cap = 0;
  buf->failed = false;
}

void
nn_json_append_string (NnStrBuf *buf, const char *s, size_t len)
{
  static const char hex[] = "0123456789abcdef";
  size_t i, run = 0;

  nn_strbuf_append (buf, "\"", 1);
  for (i = 0; i < len; i++)
    {
      unsigned char c = (unsigned char) s[i];
      const char *esc = NULL;
      char uesc[7];

      switch (c)
        {
        case '"': esc = "\\\""; break;
        case '\\': esc = "\\\\"; break;
        case '\b': esc = "\\b"; break;
        case '\f': esc = "\\f"; break;
        case '\n': esc = "\\n"; break;
        case '\r': esc = "\\r"; break;
        case '\t': esc = "\\t"; break;
        default:
          if (c < 0x20)
            {
              memcpy (uesc, "\\u00", 4);
              uesc[4] = hex[c >> 4];
              uesc[5] = hex[c & 15];
              uesc[6] = '\0';
              esc = uesc;
            }
          break;
        }
      if (esc == NULL)
        {
          run++;
          continue;
        }
      nn_strbuf_append (buf, s + i - run, run);
      run = 0;
      nn_strbuf_append_str (buf, esc);
    }
  nn_strbuf_append (buf, s + len - run, run);
  nn_strbuf_append (buf, "\"", 1);
}
