/* nn-pickle.c — a safe interpreter for the pickles torch.save writes.
 *
 * Opcodes as in CPython's Lib/pickletools.py. The machine has a stack of value
 * pointers, a stack of marks (stack heights) and a memo (index → value); all
 * values are allocated from an arena, so sharing through the memo needs no
 * reference counting.
 */
#include "nn-pickle.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn-json.h"

#define MAX_STACK       (1u << 20)
#define MAX_MARKS       4096
#define MAX_GLOBAL_NAME 256

struct NnPickle {
  NnPickleValue *arena;
  NnPickleValue *result;
};

typedef struct {
  NnPickle *pickle;
  const uint8_t *buf;
  size_t len;
  size_t pos;
  size_t op_pos;              /* where the current opcode starts */
  uint8_t op;
  NnPickleValue **stack;
  size_t n_stack, cap_stack;
  size_t *marks;
  size_t n_marks, cap_marks;
  NnPickleValue **memo;
  size_t cap_memo;
  size_t n_memo;              /* for MEMOIZE: highest index used + 1 */
  NnError *err;
} Machine;

const char *
nn_pickle_type_name (NnPickleType type)
{
  switch (type)
    {
    case NN_PICKLE_NONE: return "None";
    case NN_PICKLE_BOOL: return "bool";
    case NN_PICKLE_INT: return "int";
    case NN_PICKLE_FLOAT: return "float";
    case NN_PICKLE_STRING: return "str";
    case NN_PICKLE_BYTES: return "bytes";
    case NN_PICKLE_TUPLE: return "tuple";
    case NN_PICKLE_LIST: return "list";
    case NN_PICKLE_DICT: return "dict";
    case NN_PICKLE_GLOBAL: return "class or function";
    case NN_PICKLE_STORAGE: return "storage";
    case NN_PICKLE_TENSOR: return "tensor";
    default: return "unknown";
    }
}

static NnStatus fail (Machine *m, NnStatus status, const char *fmt, ...) NN_PRINTF (3, 4);

static NnStatus
fail (Machine *m, NnStatus status, const char *fmt, ...)
{
  char what[700];
  va_list ap;

  va_start (ap, fmt);
  vsnprintf (what, sizeof what, fmt, ap);
  va_end (ap);
  return nn_error_set (m->err, status, "pickle opcode 0x%02x at byte %zu: %s",
                       m->op, m->op_pos, what);
}

static NnPickleValue *
new_value (Machine *m, NnPickleType type)
{
  NnPickleValue *value = calloc (1, sizeof *value);

  if (value == NULL)
    return NULL;
  value->type = type;
  value->arena_next = m->pickle->arena;
  m->pickle->arena = value;
  return value;
}

void
nn_pickle_free (NnPickle *pickle)
{
  NnPickleValue *value, *next;

  if (pickle == NULL)
    return;
  for (value = pickle->arena; value != NULL; value = next)
    {
      next = value->arena_next;
      free (value->string);
      free (value->location);
      free (value->items);
      free (value);
    }
  free (pickle);
}

const NnPickleValue *
nn_pickle_result (const NnPickle *pickle)
{
  return pickle != NULL ? pickle->result : NULL;
}

static bool
grow (void **array, size_t *cap, size_t need, size_t elem_size)
{
  size_t new_cap;
  void *grown;

  if (need <= *cap)
    return true;
  new_cap = *cap < 16 ? 16 : *cap;
  while (new_cap < need)
    {
      if (new_cap > SIZE_MAX / 2 / elem_size)
        return false;
      new_cap *= 2;
    }
  grown = realloc (*array, new_cap * elem_size);
  if (grown == NULL)
    return false;
  *array = grown;
  *cap = new_cap;
  return true;
}

static NnStatus
push (Machine *m, NnPickleValue *value)
{
  void *stack = m->stack;

  if (value == NULL)
    return fail (m, NN_ERR_NOMEM, "out of memory");
  if (m->n_stack >= MAX_STACK)
    return fail (m, NN_ERR_FORMAT, "stack too deep");
  if (!grow (&stack, &m->cap_stack, m->n_stack + 1, sizeof *m->stack))
    return fail (m, NN_ERR_NOMEM, "out of memory");
  m->stack = stack;
  m->stack[m->n_stack++] = value;
  return NN_OK;
}

/* The stack above the innermost mark must hold at least n values. */
static size_t
stack_floor (const Machine *m)
{
  return m->n_marks > 0 ? m->marks[m->n_marks - 1] : 0;
}

/* pop and top return NULL when nothing is above the innermost mark. */
static NnPickleValue *
pop (Machine *m)
{
  if (m->n_stack <= stack_floor (m))
    return NULL;
  return m->stack[--m->n_stack];
}

static NnPickleValue *
top (Machine *m)
{
  if (m->n_stack <= stack_floor (m))
    return NULL;
  return m->stack[m->n_stack - 1];
}

static NnStatus
underflow (Machine *m)
{
  return fail (m, NN_ERR_FORMAT, "stack underflow");
}

static NnStatus
pop_mark (Machine *m, size_t *mark)
{
  if (m->n_marks == 0)
    return fail (m, NN_ERR_FORMAT, "no MARK on the stack");
  *mark = m->marks[--m->n_marks];
  return NN_OK;
}

static NnStatus
append_items (Machine *m, NnPickleValue *container, NnPickleValue *const *items, size_t n)
{
  void *array = container->items;

  if (n == 0)
    return NN_OK;
  if (n > SIZE_MAX - container->n_items
      || !grow (&array, &container->cap_items, container->n_items + n, sizeof *container->items))
    return fail (m, NN_ERR_NOMEM, "out of memory");
  container->items = array;
  memcpy (container->items + container->n_items, items, n * sizeof *items);
  container->n_items += n;
  return NN_OK;
}

static bool
read_bytes (Machine *m, size_t n, const uint8_t **out)
{
  if (n > m->len - m->pos)
    return false;
  *out = m->buf + m->pos;
  m->pos += n;
  return true;
}

static bool
read_uint (Machine *m, size_t n, uint64_t *out)
{
  const uint8_t *p;
  uint64_t value = 0;
  size_t i;

  if (!read_bytes (m, n, &p))
    return false;
  for (i = n; i-- > 0;)
    value = (value << 8) | p[i];
  *out = value;
  return true;
}

static NnStatus
push_string (Machine *m, NnPickleType type, size_t len_size)
{
  uint64_t len;
  const uint8_t *data;
  NnPickleValue *value;

  if (!read_uint (m, len_size, &len))
    return fail (m, NN_ERR_FORMAT, "truncated");
  if (len > m->len - m->pos || !read_bytes (m, (size_t) len, &data))
    return fail (m, NN_ERR_FORMAT, "string runs past the end of the pickle");
  value = new_value (m, type);
  if (value == NULL)
    return fail (m, NN_ERR_NOMEM, "out of memory");
  value->string = malloc ((size_t) len + 1);
  if (value->string == NULL)
    return fail (m, NN_ERR_NOMEM, "out of memory");
  memcpy (value->string, data, (size_t) len);
  value->string[len] = '\0';
  value->string_len = (size_t) len;
  return push (m, value);
}

static NnStatus
push_int (Machine *m, int64_t integer)
{
  NnPickleValue *value = new_value (m, NN_PICKLE_INT);

  if (value != NULL)
    value->integer = integer;
  return push (m, value);
}

static NnStatus
memo_put (Machine *m, uint64_t index)
{
  NnPickleValue *value = NULL;
  void *memo = m->memo;
  size_t old_cap = m->cap_memo;

  if ((value = top (m)) == NULL)
    return underflow (m);
  /* A real pickle has fewer memo entries than bytes. */
  if (index >= m->len)
    return fail (m, NN_ERR_FORMAT, "memo index out of range");
  if (!grow (&memo, &m->cap_memo, (size_t) index + 1, sizeof *m->memo))
    return fail (m, NN_ERR_NOMEM, "out of memory");
  m->memo = memo;
  if (m->cap_memo > old_cap)
    memset (m->memo + old_cap, 0, (m->cap_memo - old_cap) * sizeof *m->memo);
  m->memo[index] = value;
  if (index + 1 > m->n_memo)
    m->n_memo = (size_t) index + 1;
  return NN_OK;
}

static NnStatus
memo_get (Machine *m, uint64_t index)
{
  if (index >= m->cap_memo || m->memo[index] == NULL)
    return fail (m, NN_ERR_FORMAT, "memo entry not set");
  return push (m, m->memo[index]);
}

typedef struct {
  const char *module;
  const char *name;
  NnPickleGlobal global;
  NnDtype dtype;
} AllowedGlobal;

static const AllowedGlobal allowed_globals[] = {
  { "collections", "OrderedDict", NN_PICKLE_GLOBAL_ORDERED_DICT, NN_DTYPE_F32 },
  { "torch._utils", "_rebuild_tensor_v2", NN_PICKLE_GLOBAL_REBUILD_TENSOR_V2, NN_DTYPE_F32 },
  { "torch._utils", "_rebuild_parameter", NN_PICKLE_GLOBAL_REBUILD_PARAMETER, NN_DTYPE_F32 },
  { "torch", "FloatStorage", NN_PICKLE_GLOBAL_STORAGE_CLASS, NN_DTYPE_F32 },
  { "torch", "DoubleStorage", NN_PICKLE_GLOBAL_STORAGE_CLASS, NN_DTYPE_F64 },
  { "torch", "HalfStorage", NN_PICKLE_GLOBAL_STORAGE_CLASS, NN_DTYPE_F16 },
  { "torch", "BFloat16Storage", NN_PICKLE_GLOBAL_STORAGE_CLASS, NN_DTYPE_BF16 },
  { "torch", "LongStorage", NN_PICKLE_GLOBAL_STORAGE_CLASS, NN_DTYPE_I64 },
  { "torch", "IntStorage", NN_PICKLE_GLOBAL_STORAGE_CLASS, NN_DTYPE_I32 },
  { "torch", "ShortStorage", NN_PICKLE_GLOBAL_STORAGE_CLASS, NN_DTYPE_I16 },
  { "torch", "CharStorage", NN_PICKLE_GLOBAL_STORAGE_CLASS, NN_DTYPE_I8 },
  { "torch", "ByteStorage", NN_PICKLE_GLOBAL_STORAGE_CLASS, NN_DTYPE_U8 },
  { "torch", "BoolStorage", NN_PICKLE_GLOBAL_STORAGE_CLASS, NN_DTYPE_BOOL },
};

static NnStatus
push_global (Machine *m, const char *module, size_t module_len,
             const char *name, size_t name_len)
{
  char full[2 * MAX_GLOBAL_NAME + 2];
  size_t i;

  for (i = 0; i < sizeof allowed_globals / sizeof allowed_globals[0]; i++)
    {
      const AllowedGlobal *allowed = &allowed_globals[i];
      if (strlen (allowed->module) == module_len && memcmp (allowed->module, module, module_len) == 0
          && strlen (allowed->name) == name_len && memcmp (allowed->name, name, name_len) == 0)
        {
          NnPickleValue *value = new_value (m, NN_PICKLE_GLOBAL);
          if (value != NULL)
            {
              value->global = allowed->global;
              value->dtype = allowed->dtype;
            }
          return push (m, value);
        }
    }

  /* Name it in the message, with anything unprintable replaced. */
  if (module_len > MAX_GLOBAL_NAME)
    module_len = MAX_GLOBAL_NAME;
  if (name_len > MAX_GLOBAL_NAME)
    name_len = MAX_GLOBAL_NAME;
  memcpy (full, module, module_len);
  full[module_len] = '.';
  memcpy (full + module_len + 1, name, name_len);
  full[module_len + 1 + name_len] = '\0';
  for (i = 0; full[i] != '\0'; i++)
    if ((unsigned char) full[i] < 0x20 || (unsigned char) full[i] >= 0x7f)
      full[i] = '?';
  return fail (m, NN_ERR_UNSUPPORTED,
               "refusing to load %s: only state_dict tensors (OrderedDict, torch storages and "
               "tensors) are read, and nothing in a weight file is ever run", full);
}

static bool
read_line (Machine *m, const char **out, size_t *out_len)
{
  const uint8_t *start = m->buf + m->pos;
  size_t avail = m->len - m->pos;
  size_t limit = avail < MAX_GLOBAL_NAME + 1 ? avail : MAX_GLOBAL_NAME + 1;
  const uint8_t *nl = memchr (start, '\n', limit);

  if (nl == NULL)
    return false;
  *out = (const char *) start;
  *out_len = (size_t) (nl - start);
  m->pos += *out_len + 1;
  return true;
}

static NnStatus
op_global (Machine *m)
{
  const char *module, *name;
  size_t module_len, name_len;

  if (!read_line (m, &module, &module_len) || !read_line (m, &name, &name_len))
    return fail (m, NN_ERR_FORMAT, "bad or truncated GLOBAL name");
  return push_global (m, module, module_len, name, name_len);
}

static NnStatus
op_stack_global (Machine *m)
{
  NnPickleValue *module = NULL, *name = NULL;

  if ((name = pop (m)) == NULL || (module = pop (m)) == NULL)
    return underflow (m);
  if (module->type != NN_PICKLE_STRING || name->type != NN_PICKLE_STRING)
    return fail (m, NN_ERR_FORMAT, "STACK_GLOBAL needs two strings");
  return push_global (m, module->string, module->string_len, name->string, name->string_len);
}

static bool
storage_key_ok (const NnPickleValue *key)
{
  size_t i;

  if (key->type != NN_PICKLE_STRING || key->string_len == 0 || key->string_len > 256)
    return false;
  for (i = 0; i < key->string_len; i++)
    {
      char c = key->string[i];
      if (c == '/' || c == '\\' || (unsigned char) c < 0x20)
        return false;
    }
  return !(key->string_len <= 2 && key->string[0] == '.'
           && (key->string_len == 1 || key->string[1] == '.'));
}

/* ('storage', torch.FloatStorage, '0', 'cpu', 9408) → STORAGE. */
static NnStatus
op_binpersid (Machine *m)
{
  NnPickleValue *pid = NULL, *storage;
  const NnPickleValue *const *f;
  uint64_t numel;

  if ((pid = pop (m)) == NULL)
    return underflow (m);
  if (pid->type != NN_PICKLE_TUPLE || pid->n_items != 5)
    return fail (m, NN_ERR_FORMAT, "persistent id is not a 5-tuple");
  f = (const NnPickleValue *const *) pid->items;
  if (f[0]->type != NN_PICKLE_STRING || strcmp (f[0]->string, "storage") != 0
      || f[0]->string_len != 7)
    return fail (m, NN_ERR_UNSUPPORTED, "persistent id is not a storage");
  if (f[1]->type != NN_PICKLE_GLOBAL || f[1]->global != NN_PICKLE_GLOBAL_STORAGE_CLASS)
    return fail (m, NN_ERR_FORMAT, "storage type is not a torch storage class");
  if (!storage_key_ok (f[2]))
    return fail (m, NN_ERR_FORMAT, "bad storage key");
  if (f[3]->type != NN_PICKLE_STRING)
    return fail (m, NN_ERR_FORMAT, "storage location is not a string");
  if (f[4]->type != NN_PICKLE_INT || f[4]->integer < 0)
    return fail (m, NN_ERR_FORMAT, "storage size is not a non-negative integer");
  numel = (uint64_t) f[4]->integer;
  if (numel > SIZE_MAX / nn_dtype_size (f[1]->dtype))
    return fail (m, NN_ERR_FORMAT, "storage size is absurd");

  storage = new_value (m, NN_PICKLE_STORAGE);
  if (storage == NULL)
    return fail (m, NN_ERR_NOMEM, "out of memory");
  storage->dtype = f[1]->dtype;
  storage->storage_numel = numel;
  storage->string = strdup (f[2]->string);
  storage->string_len = f[2]->string_len;
  storage->location = strdup (f[3]->string);
  if (storage->string == NULL || storage->location == NULL)
    return fail (m, NN_ERR_NOMEM, "out of memory");
  return push (m, storage);
}

static NnStatus
int_tuple (Machine *m, const NnPickleValue *tuple, int64_t *out, int *ndim, const char *what)
{
  size_t i;

  if (tuple->type != NN_PICKLE_TUPLE)
    return fail (m, NN_ERR_FORMAT, "tensor %s is not a tuple", what);
  if (tuple->n_items > NN_TENSOR_MAX_DIMS)
    return fail (m, NN_ERR_UNSUPPORTED, "tensor has more than 8 dimensions (%s)", what);
  for (i = 0; i < tuple->n_items; i++)
    {
      if (tuple->items[i]->type != NN_PICKLE_INT || tuple->items[i]->integer < 0)
        return fail (m, NN_ERR_FORMAT, "tensor %s holds a negative or non-integer value", what);
      out[i] = tuple->items[i]->integer;
    }
  *ndim = (int) tuple->n_items;
  return NN_OK;
}

/* _rebuild_tensor_v2 (storage, storage_offset, size, stride, requires_grad,
 * backward_hooks[, metadata]). The view must stay inside its storage. */
static NnStatus
rebuild_tensor (Machine *m, const NnPickleValue *args)
{
  NnPickleValue *tensor;
  const NnPickleValue *storage, *offset;
  int ndim, stride_ndim, i;
  uint64_t numel = 1, last = 0;
  NnStatus status;

  if (args->n_items != 6 && args->n_items != 7)
    return fail (m, NN_ERR_FORMAT, "_rebuild_tensor_v2 takes 6 or 7 arguments");
  storage = args->items[0];
  offset = args->items[1];
  if (storage->type != NN_PICKLE_STORAGE)
    return fail (m, NN_ERR_FORMAT, "tensor is not built from a storage");
  if (offset->type != NN_PICKLE_INT || offset->integer < 0)
    return fail (m, NN_ERR_FORMAT, "tensor storage offset is not a non-negative integer");

  tensor = new_value (m, NN_PICKLE_TENSOR);
  if (tensor == NULL)
    return fail (m, NN_ERR_NOMEM, "out of memory");
  status = int_tuple (m, args->items[2], tensor->size, &ndim, "size");
  if (status != NN_OK)
    return status;
  status = int_tuple (m, args->items[3], tensor->stride, &stride_ndim, "stride");
  if (status != NN_OK)
    return status;
  if (ndim != stride_ndim)
    return fail (m, NN_ERR_FORMAT, "tensor size and stride differ in length");

  for (i = 0; i < ndim; i++)
    {
      uint64_t size = (uint64_t) tensor->size[i];
      if (size != 0 && numel > SIZE_MAX / size)
        return fail (m, NN_ERR_FORMAT, "tensor has an absurd number of elements");
      numel *= size;
    }
  if (numel > 0)
    {
      /* The last element read is offset + Σ (size_i - 1) × stride_i. */
      last = (uint64_t) offset->integer;
      for (i = 0; i < ndim; i++)
        {
          uint64_t extent = (uint64_t) tensor->size[i] - 1;
          uint64_t stride = (uint64_t) tensor->stride[i];
          if (stride != 0 && extent > (UINT64_MAX - last) / stride)
            return fail (m, NN_ERR_FORMAT, "tensor view overflows");
          last += extent * stride;
        }
      if (last >= storage->storage_numel)
        return fail (m, NN_ERR_FORMAT, "tensor view reaches past the end of its storage");
    }
  /* A broadcast view (stride 0) could ask for far more memory than the file
   * holds; torch.save never writes one for a state_dict. */
  if (numel > storage->storage_numel)
    return fail (m, NN_ERR_UNSUPPORTED,
                 "tensor has more elements than its storage (a broadcast view); "
                 "save a contiguous copy");

  tensor->storage = storage;
  tensor->dtype = storage->dtype;
  tensor->storage_offset = (uint64_t) offset->integer;
  tensor->ndim = ndim;
  tensor->numel = (size_t) numel;
  return push (m, tensor);
}

static NnStatus
op_reduce (Machine *m)
{
  NnPickleValue *callable = NULL, *args = NULL;

  if ((args = pop (m)) == NULL || (callable = pop (m)) == NULL)
    return underflow (m);
  if (callable->type != NN_PICKLE_GLOBAL)
    return fail (m, NN_ERR_FORMAT, "REDUCE on a %s", nn_pickle_type_name (callable->type));
  if (args->type != NN_PICKLE_TUPLE)
    return fail (m, NN_ERR_FORMAT, "REDUCE arguments are not a tuple");

  switch (callable->global)
    {
    case NN_PICKLE_GLOBAL_ORDERED_DICT:
      if (args->n_items != 0)
        return fail (m, NN_ERR_UNSUPPORTED, "OrderedDict with initial items");
      return push (m, new_value (m, NN_PICKLE_DICT));
    case NN_PICKLE_GLOBAL_REBUILD_TENSOR_V2:
      return rebuild_tensor (m, args);
    case NN_PICKLE_GLOBAL_REBUILD_PARAMETER:
      /* (data, requires_grad, backward_hooks): the parameter is its data. */
      if (args->n_items != 3 || args->items[0]->type != NN_PICKLE_TENSOR)
        return fail (m, NN_ERR_FORMAT, "bad _rebuild_parameter arguments");
      return push (m, args->items[0]);
    case NN_PICKLE_GLOBAL_STORAGE_CLASS:
    default:
      return fail (m, NN_ERR_UNSUPPORTED, "a storage class is called");
    }
}

/* Bulk opcodes take the values above the innermost mark. */
static NnStatus
op_marked (Machine *m, uint8_t op)
{
  size_t mark = 0, n;
  NnPickleValue *target = NULL, *value = NULL;
  NnStatus status;

  if ((status = pop_mark (m, &mark)) != NN_OK)
    return status;
  n = m->n_stack - mark;

  switch (op)
    {
    case 't': /* TUPLE */
    case 'l': /* LIST */
    case 'd': /* DICT */
      if (op == 'd' && n % 2 != 0)
        return fail (m, NN_ERR_FORMAT, "odd number of values for a dict");
      value = new_value (m, op == 't' ? NN_PICKLE_TUPLE : op == 'l' ? NN_PICKLE_LIST : NN_PICKLE_DICT);
      if (value == NULL)
        return fail (m, NN_ERR_NOMEM, "out of memory");
      status = append_items (m, value, m->stack + mark, n);
      if (status != NN_OK)
        return status;
      m->n_stack = mark;
      return push (m, value);
    case 'e': /* APPENDS */
    case 'u': /* SETITEMS */
      if (mark == stack_floor (m))
        return fail (m, NN_ERR_FORMAT, "nothing below the mark to add to");
      target = m->stack[mark - 1];
      if (op == 'e' && target->type != NN_PICKLE_LIST)
        return fail (m, NN_ERR_FORMAT, "APPENDS to a %s", nn_pickle_type_name (target->type));
      if (op == 'u' && (target->type != NN_PICKLE_DICT || n % 2 != 0))
        return fail (m, NN_ERR_FORMAT, "SETITEMS on a %s or with an odd count",
                     nn_pickle_type_name (target->type));
      status = append_items (m, target, m->stack + mark, n);
      if (status != NN_OK)
        return status;
      m->n_stack = mark;
      return NN_OK;
    case '1': /* POP_MARK */
      m->n_stack = mark;
      return NN_OK;
    default:
      return fail (m, NN_ERR_FORMAT, "internal: bad marked opcode");
    }
}

static NnStatus
op_setitem_append (Machine *m, uint8_t op)
{
  NnPickleValue *key = NULL, *value = NULL, *target = NULL, *pair[2];

  if ((value = pop (m)) == NULL || (op == 's' && (key = pop (m)) == NULL)
      || (target = top (m)) == NULL)
    return underflow (m);
  if (op == 'a')
    {
      if (target->type != NN_PICKLE_LIST)
        return fail (m, NN_ERR_FORMAT, "APPEND to a %s", nn_pickle_type_name (target->type));
      return append_items (m, target, &value, 1);
    }
  if (target->type != NN_PICKLE_DICT)
    return fail (m, NN_ERR_FORMAT, "SETITEM on a %s", nn_pickle_type_name (target->type));
  pair[0] = key;
  pair[1] = value;
  return append_items (m, target, pair, 2);
}

static NnStatus
op_build (Machine *m)
{
  NnPickleValue *state = NULL, *target = NULL;

  if ((state = pop (m)) == NULL || (target = top (m)) == NULL)
    return underflow (m);
  /* A state_dict carries its _metadata (layer versions) as instance state;
   * a tensor may carry Python attributes. Neither matters here. */
  if (target->type != NN_PICKLE_DICT && target->type != NN_PICKLE_TENSOR)
    return fail (m, NN_ERR_FORMAT, "BUILD on a %s", nn_pickle_type_name (target->type));
  return NN_OK;
}

static NnStatus
op_long (Machine *m, size_t len_size)
{
  uint64_t n, value;
  const uint8_t *bytes;
  size_t i;

  if (!read_uint (m, len_size, &n) || n > m->len - m->pos)
    return fail (m, NN_ERR_FORMAT, "truncated");
  if (n > 8)
    return fail (m, NN_ERR_UNSUPPORTED, "integer wider than 64 bits");
  if (!read_bytes (m, (size_t) n, &bytes))
    return fail (m, NN_ERR_FORMAT, "truncated");
  value = 0;
  for (i = (size_t) n; i-- > 0;)
    value = (value << 8) | bytes[i];
  /* Little-endian two's complement: sign-extend from the top byte. */
  if (n > 0 && n < 8 && (bytes[n - 1] & 0x80))
    value |= UINT64_MAX << (8 * n);
  return push_int (m, (int64_t) value);
}

static NnStatus
step (Machine *m, bool *stopped)
{
  uint64_t arg;
  const uint8_t *bytes;
  NnPickleValue *value = NULL;
  NnStatus status;

  m->op_pos = m->pos;
  m->op = m->buf[m->pos++];

  switch (m->op)
    {
    case 0x80: /* PROTO */
      if (!read_uint (m, 1, &arg))
        return fail (m, NN_ERR_FORMAT, "truncated");
      if (arg < 2 || arg > 5)
        return fail (m, NN_ERR_UNSUPPORTED, "unknown pickle protocol");
      return NN_OK;
    case 0x95: /* FRAME: a size hint only */
      if (!read_uint (m, 8, &arg))
        return fail (m, NN_ERR_FORMAT, "truncated");
      return NN_OK;
    case '.': /* STOP */
      if ((value = pop (m)) == NULL)
        return underflow (m);
      m->pickle->result = value;
      *stopped = true;
      return NN_OK;

    case '}': /* EMPTY_DICT */
      return push (m, new_value (m, NN_PICKLE_DICT));
    case ']': /* EMPTY_LIST */
      return push (m, new_value (m, NN_PICKLE_LIST));
    case ')': /* EMPTY_TUPLE */
      return push (m, new_value (m, NN_PICKLE_TUPLE));
    case 'N': /* NONE */
      return push (m, new_value (m, NN_PICKLE_NONE));
    case 0x88: /* NEWTRUE */
    case 0x89: /* NEWFALSE */
      value = new_value (m, NN_PICKLE_BOOL);
      if (value != NULL)
        value->integer = m->op == 0x88;
      return push (m, value);

    case '(': /* MARK */
      {
        void *marks = m->marks;
        if (m->n_marks >= MAX_MARKS)
          return fail (m, NN_ERR_FORMAT, "marks nested too deeply");
        if (!grow (&marks, &m->cap_marks, m->n_marks + 1, sizeof *m->marks))
          return fail (m, NN_ERR_NOMEM, "out of memory");
        m->marks = marks;
        m->marks[m->n_marks++] = m->n_stack;
        return NN_OK;
      }

    case 'q': /* BINPUT */
    case 'r': /* LONG_BINPUT */
      if (!read_uint (m, m->op == 'q' ? 1 : 4, &arg))
        return fail (m, NN_ERR_FORMAT, "truncated");
      return memo_put (m, arg);
    case 0x94: /* MEMOIZE */
      return memo_put (m, m->n_memo);
    case 'h': /* BINGET */
    case 'j': /* LONG_BINGET */
      if (!read_uint (m, m->op == 'h' ? 1 : 4, &arg))
        return fail (m, NN_ERR_FORMAT, "truncated");
      return memo_get (m, arg);

    case 'X': /* BINUNICODE */
    case 0x8c: /* SHORT_BINUNICODE */
    case 0x8d: /* BINUNICODE8 */
      status = push_string (m, NN_PICKLE_STRING, m->op == 'X' ? 4 : m->op == 0x8c ? 1 : 8);
      if (status == NN_OK && !nn_utf8_valid (m->stack[m->n_stack - 1]->string,
                                             m->stack[m->n_stack - 1]->string_len))
        return fail (m, NN_ERR_FORMAT, "string is not valid UTF-8");
      return status;
    case 'B': /* BINBYTES */
    case 'C': /* SHORT_BINBYTES */
    case 0x8e: /* BINBYTES8 */
      return push_string (m, NN_PICKLE_BYTES, m->op == 'B' ? 4 : m->op == 'C' ? 1 : 8);
    case 'T': /* BINSTRING (Python 2 str) */
    case 'U': /* SHORT_BINSTRING */
      return push_string (m, NN_PICKLE_STRING, m->op == 'T' ? 4 : 1);

    case 'K': /* BININT1 */
    case 'M': /* BININT2 */
      if (!read_uint (m, m->op == 'K' ? 1 : 2, &arg))
        return fail (m, NN_ERR_FORMAT, "truncated");
      return push_int (m, (int64_t) arg);
    case 'J': /* BININT */
      if (!read_uint (m, 4, &arg))
        return fail (m, NN_ERR_FORMAT, "truncated");
      return push_int (m, (int64_t) (int32_t) (uint32_t) arg);
    case 0x8a: /* LONG1 */
      return op_long (m, 1);
    case 0x8b: /* LONG4 */
      return op_long (m, 4);
    case 'G': /* BINFLOAT, big-endian */
      {
        uint64_t bits = 0;
        size_t i;
        double number;
        if (!read_bytes (m, 8, &bytes))
          return fail (m, NN_ERR_FORMAT, "truncated");
        for (i = 0; i < 8; i++)
          bits = (bits << 8) | bytes[i];
        memcpy (&number, &bits, sizeof number);
        value = new_value (m, NN_PICKLE_FLOAT);
        if (value != NULL)
          value->number = number;
        return push (m, value);
      }

    case 'c': /* GLOBAL */
      return op_global (m);
    case 0x93: /* STACK_GLOBAL */
      return op_stack_global (m);
    case 'Q': /* BINPERSID */
      return op_binpersid (m);
    case 'R': /* REDUCE */
      return op_reduce (m);
    case 'b': /* BUILD */
      return op_build (m);

    case 0x85: /* TUPLE1 */
    case 0x86: /* TUPLE2 */
    case 0x87: /* TUPLE3 */
      {
        size_t n = (size_t) (m->op - 0x84);
        if (m->n_stack - stack_floor (m) < n)
          return fail (m, NN_ERR_FORMAT, "stack underflow");
        value = new_value (m, NN_PICKLE_TUPLE);
        if (value == NULL)
          return fail (m, NN_ERR_NOMEM, "out of memory");
        status = append_items (m, value, m->stack + m->n_stack - n, n);
        if (status != NN_OK)
          return status;
        m->n_stack -= n;
        return push (m, value);
      }
    case 't': /* TUPLE */
    case 'l': /* LIST */
    case 'd': /* DICT */
    case 'e': /* APPENDS */
    case 'u': /* SETITEMS */
    case '1': /* POP_MARK */
      return op_marked (m, m->op);
    case 's': /* SETITEM */
    case 'a': /* APPEND */
      return op_setitem_append (m, m->op);
    case '0': /* POP */
      return pop (m) != NULL ? NN_OK : underflow (m);
    case '2': /* DUP */
      if ((value = top (m)) == NULL)
        return underflow (m);
      return push (m, value);

    default:
      return fail (m, NN_ERR_UNSUPPORTED, "opcode not used by torch.save state_dicts");
    }
}

NnStatus
nn_pickle_load (NnPickle **out, const uint8_t *buf, size_t len, NnError *err)
{
  Machine m = { 0 };
  bool stopped = false;
  NnStatus status = NN_OK;

  if (out == NULL)
    return nn_error_set (err, NN_ERR_INVALID, "pickle: no output given");
  *out = NULL;
  if (buf == NULL && len > 0)
    return nn_error_set (err, NN_ERR_INVALID, "pickle: no input given");

  m.pickle = calloc (1, sizeof *m.pickle);
  if (m.pickle == NULL)
    return nn_error_set (err, NN_ERR_NOMEM, "pickle: out of memory");
  m.buf = buf;
  m.len = len;
  m.err = err;

  while (!stopped && status == NN_OK)
    {
      if (m.pos >= m.len)
        {
          status = nn_error_set (err, NN_ERR_FORMAT,
                                 "pickle is truncated (no STOP in %zu bytes)", len);
          break;
        }
      status = step (&m, &stopped);
    }

  free (m.stack);
  free (m.marks);
  free (m.memo);
  if (status != NN_OK)
    {
      nn_pickle_free (m.pickle);
      return status;
    }
  *out = m.pickle;
  return NN_OK;
}
