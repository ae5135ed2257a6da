/* xl-weights-download.c
 *
 * Copyright 2026 The X-Ray Lab developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <libsoup/soup.h>

#include "xl-weights-download.h"

#define CHUNK_SIZE (64 * 1024)
/* The speed is shown once it has been measured over this long. */
#define SPEED_MIN_SPAN_US (500 * G_TIME_SPAN_MILLISECOND)
/* A stalled connection fails after this long, rather than waiting forever. */
#define IO_TIMEOUT_SECONDS 30

struct _XlWeightsDownload
{
  GObject       parent_instance;

  /* Construct-only: the worker reads them without a lock. */
  char         *url;
  char         *directory;
  char         *file_name;
  char         *hash_prefix;     /* lower-case hex; NULL when the name has none */

  /* Written by the worker under the mutex, applied by one pending idle. */
  GMutex        mutex;
  GMainContext *context;
  gboolean      progress_pending;
  guint64       pending_received;
  guint64       pending_total;
  double        pending_speed;

  /* What the main context sees. */
  guint64       received;
  guint64       total;
  double        speed;
  gboolean      running;
};

G_DEFINE_FINAL_TYPE (XlWeightsDownload, xl_weights_download, G_TYPE_OBJECT)
G_DEFINE_QUARK (xl-weights-download-error-quark, xl_weights_download_error)

enum {
  PROP_0,
  PROP_URL,
  PROP_DIRECTORY,
  PROP_RUNNING,
  PROP_RECEIVED,
  PROP_TOTAL,
  PROP_SPEED,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

XlWeightsDownload *
xl_weights_download_new (const char *url,
                         const char *directory)
{
  g_return_val_if_fail (directory != NULL, NULL);

  return g_object_new (XL_TYPE_WEIGHTS_DOWNLOAD,
                       "url", url != NULL ? url : XL_WEIGHTS_DOWNLOAD_URL,
                       "directory", directory,
                       NULL);
}

const char *
xl_weights_download_get_url (XlWeightsDownload *self)
{
  g_return_val_if_fail (XL_IS_WEIGHTS_DOWNLOAD (self), NULL);

  return self->url;
}

const char *
xl_weights_download_get_directory (XlWeightsDownload *self)
{
  g_return_val_if_fail (XL_IS_WEIGHTS_DOWNLOAD (self), NULL);

  return self->directory;
}

const char *
xl_weights_download_get_file_name (XlWeightsDownload *self)
{
  g_return_val_if_fail (XL_IS_WEIGHTS_DOWNLOAD (self), NULL);

  return self->file_name;
}

const char *
xl_weights_download_get_hash_prefix (XlWeightsDownload *self)
{
  g_return_val_if_fail (XL_IS_WEIGHTS_DOWNLOAD (self), NULL);

  return self->hash_prefix;
}

char *
xl_weights_download_dup_path (XlWeightsDownload *self)
{
  g_return_val_if_fail (XL_IS_WEIGHTS_DOWNLOAD (self), NULL);

  if (self->file_name == NULL)
    return NULL;

  return g_build_filename (self->directory, self->file_name, NULL);
}

gboolean
xl_weights_download_get_running (XlWeightsDownload *self)
{
  g_return_val_if_fail (XL_IS_WEIGHTS_DOWNLOAD (self), FALSE);

  return self->running;
}

guint64
xl_weights_download_get_received (XlWeightsDownload *self)
{
  g_return_val_if_fail (XL_IS_WEIGHTS_DOWNLOAD (self), 0);

  return self->received;
}

guint64
xl_weights_download_get_total (XlWeightsDownload *self)
{
  g_return_val_if_fail (XL_IS_WEIGHTS_DOWNLOAD (self), 0);

  return self->total;
}

double
xl_weights_download_get_speed (XlWeightsDownload *self)
{
  g_return_val_if_fail (XL_IS_WEIGHTS_DOWNLOAD (self), 0.0);

  return self->speed;
}

/* ---- Names ----------------------------------------------------------------- */

/* The last path segment of the URL, and in it torch.hub's convention:
 * NAME-HEX.EXT, where HEX starts the file's SHA-256. */
static void
parse_url (XlWeightsDownload *self)
{
  g_autoptr(GUri) uri = g_uri_parse (self->url, G_URI_FLAGS_NONE, NULL);
  g_autoptr(GRegex) regex = NULL;
  g_autoptr(GMatchInfo) match = NULL;
  g_autofree char *path = NULL;
  g_autofree char *name = NULL;

  g_clear_pointer (&self->file_name, g_free);
  g_clear_pointer (&self->hash_prefix, g_free);

  if (uri == NULL
      || (path = g_uri_unescape_string (g_uri_get_path (uri), "/")) == NULL
      || g_str_has_suffix (path, "/"))
    return;

  name = g_path_get_basename (path);
  if (*name == '\0' || *name == '.' || strchr (name, G_DIR_SEPARATOR) != NULL)
    return;

  self->file_name = g_steal_pointer (&name);

  regex = g_regex_new ("-([0-9a-f]{6,64})\\.", G_REGEX_OPTIMIZE, 0, NULL);
  if (g_regex_match (regex, self->file_name, 0, &match))
    self->hash_prefix = g_match_info_fetch (match, 1);
}

/* ---- Progress, from the worker to the main context ------------------------- */

static gboolean
progress_idle_cb (gpointer user_data)
{
  XlWeightsDownload *self = user_data;
  guint64 received;
  guint64 total;
  double speed;

  g_mutex_lock (&self->mutex);
  self->progress_pending = FALSE;
  received = self->pending_received;
  total = self->pending_total;
  speed = self->pending_speed;
  g_mutex_unlock (&self->mutex);

  g_object_freeze_notify (G_OBJECT (self));
  if (self->total != total)
    {
      self->total = total;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TOTAL]);
    }
  if (self->speed != speed)
    {
      self->speed = speed;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SPEED]);
    }
  if (self->received != received)
    {
      self->received = received;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RECEIVED]);
    }
  g_object_thaw_notify (G_OBJECT (self));

  return G_SOURCE_REMOVE;
}

static void
publish_progress (XlWeightsDownload *self,
                  guint64            received,
                  guint64            total,
                  double             speed)
{
  g_mutex_lock (&self->mutex);
  self->pending_received = received;
  self->pending_total = total;
  self->pending_speed = speed;
  if (!self->progress_pending && self->context != NULL)
    {
      g_autoptr(GSource) source = g_idle_source_new ();

      g_source_set_priority (source, G_PRIORITY_LOW);
      g_source_set_callback (source, progress_idle_cb, g_object_ref (self), g_object_unref);
      g_source_set_static_name (source, "[xraylab] weights download progress");
      g_source_attach (source, self->context);
      self->progress_pending = TRUE;
    }
  g_mutex_unlock (&self->mutex);
}

/* ---- The worker ------------------------------------------------------------ */

static gboolean
set_errno_error (GError     **error,
                 const char  *path,
                 int          saved_errno)
{
  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
               "%s: %s", path, g_strerror (saved_errno));
  return FALSE;
}

static gboolean
write_all (int          fd,
           const char  *path,
           const void  *data,
           gsize        size,
           GError     **error)
{
  const guint8 *bytes = data;

  while (size > 0)
    {
      gssize written = write (fd, bytes, size);

      if (written < 0)
        {
          if (errno == EINTR)
            continue;
          return set_errno_error (error, path, errno);
        }
      bytes += written;
      size -= (gsize) written;
    }

  return TRUE;
}

/* Feeds what is already in path into checksum; returns its size in *size. */
static gboolean
hash_file (const char    *path,
           GChecksum     *checksum,
           guint64       *size,
           GCancellable  *cancellable,
           GError       **error)
{
  g_autofree guint8 *buffer = g_malloc (CHUNK_SIZE);
  int fd;

  *size = 0;

  if ((fd = g_open (path, O_RDONLY | O_CLOEXEC, 0)) < 0)
    return set_errno_error (error, path, errno);

  for (;;)
    {
      gssize n = read (fd, buffer, CHUNK_SIZE);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int saved_errno = errno;

          close (fd);
          return set_errno_error (error, path, saved_errno);
        }
      if (n == 0)
        break;
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        {
          close (fd);
          return FALSE;
        }
      g_checksum_update (checksum, buffer, n);
      *size += (guint64) n;
    }

  close (fd);
  return TRUE;
}

/* On a copy: reading the digest closes a checksum to further data. */
static gboolean
digest_matches (GChecksum  *checksum,
                const char *hash_prefix)
{
  g_autoptr(GChecksum) copy = g_checksum_copy (checksum);

  return g_str_has_prefix (g_checksum_get_string (copy), hash_prefix);
}

/* Sends the GET, from offset when the part file has that much already. On
 * return, *offset is where the body starts in the file: the server may
 * ignore the range and send it whole, and then the part file starts over. */
static GInputStream *
send_request (XlWeightsDownload  *self,
              SoupSession        *session,
              guint64            *offset,
              guint64            *total,
              GCancellable       *cancellable,
              GError            **error)
{
  for (guint attempt = 0; attempt < 2; attempt++)
    {
      g_autoptr(SoupMessage) message = NULL;
      g_autoptr(GInputStream) stream = NULL;
      SoupMessageHeaders *headers;
      goffset range_start = 0;
      goffset range_end = 0;
      goffset range_total = 0;
      goffset length;
      guint status;

      if (!(message = soup_message_new (SOUP_METHOD_GET, self->url)))
        {
          g_set_error (error, XL_WEIGHTS_DOWNLOAD_ERROR, XL_WEIGHTS_DOWNLOAD_ERROR_BAD_NAME,
                       _("%s is not a web address to download from"), self->url);
          return NULL;
        }

      if (*offset > 0)
        soup_message_headers_set_range (soup_message_get_request_headers (message), *offset, -1);

      if (!(stream = soup_session_send (session, message, cancellable, error)))
        return NULL;

      status = soup_message_get_status (message);
      headers = soup_message_get_response_headers (message);
      length = soup_message_headers_get_content_length (headers);

      if (status == SOUP_STATUS_PARTIAL_CONTENT && *offset > 0
          && soup_message_headers_get_content_range (headers, &range_start, &range_end, &range_total)
          && range_start == (goffset) *offset)
        {
          *total = range_total > 0 ? (guint64) range_total
                   : length > 0 ? *offset + (guint64) length : 0;
          return g_steal_pointer (&stream);
        }

      if (status == SOUP_STATUS_OK)
        {
          *offset = 0;
          *total = length > 0 ? (guint64) length : 0;
          return g_steal_pointer (&stream);
        }

      g_input_stream_close (stream, NULL, NULL);

      /* The part file is not the start of what the server has: start over. */
      if (*offset > 0 && (status == SOUP_STATUS_REQUESTED_RANGE_NOT_SATISFIABLE
                          || status == SOUP_STATUS_PARTIAL_CONTENT))
        {
          *offset = 0;
          continue;
        }

      g_set_error (error, XL_WEIGHTS_DOWNLOAD_ERROR, XL_WEIGHTS_DOWNLOAD_ERROR_HTTP,
                   _("%s: the server answered “%u %s”"),
                   self->url, status,
                   soup_message_get_reason_phrase (message) != NULL
                   ? soup_message_get_reason_phrase (message) : "");
      return NULL;
    }

  g_set_error (error, XL_WEIGHTS_DOWNLOAD_ERROR, XL_WEIGHTS_DOWNLOAD_ERROR_HTTP,
               _("%s: the server did not send the file from its start"), self->url);
  return NULL;
}

static char *
hash_mismatch_error (XlWeightsDownload  *self,
                     GChecksum          *checksum,
                     GError            **error)
{
  g_set_error (error, XL_WEIGHTS_DOWNLOAD_ERROR, XL_WEIGHTS_DOWNLOAD_ERROR_HASH_MISMATCH,
               _("%s: the downloaded file does not match its name: its SHA-256 begins "
                 "with %.*s, not %s. The file was deleted."),
               self->file_name, (int) strlen (self->hash_prefix),
               g_checksum_get_string (checksum), self->hash_prefix);
  return NULL;
}

static char *
download (XlWeightsDownload  *self,
          GCancellable       *cancellable,
          GError            **error)
{
  g_autofree char *final_path = xl_weights_download_dup_path (self);
  g_autofree char *part_path = g_strconcat (final_path, ".part", NULL);
  g_autofree char *user_agent = g_strdup_printf ("xraylab/%s ", PACKAGE_VERSION);
  g_autofree guint8 *buffer = NULL;
  g_autoptr(GChecksum) checksum = g_checksum_new (G_CHECKSUM_SHA256);
  g_autoptr(SoupSession) session = NULL;
  g_autoptr(GInputStream) stream = NULL;
  g_autoptr(GError) read_error = NULL;
  g_autofree char *received_text = NULL;
  g_autofree char *total_text = NULL;
  guint64 offset = 0;
  guint64 total = 0;
  guint64 received;
  gint64 started;
  int fd;

  if (g_mkdir_with_parents (self->directory, 0755) != 0)
    {
      set_errno_error (error, self->directory, errno);
      return NULL;
    }

  /* Fetched before: keep it if it is right. */
  if (g_file_test (final_path, G_FILE_TEST_IS_REGULAR))
    {
      guint64 size;

      if (!hash_file (final_path, checksum, &size, cancellable, error))
        return NULL;
      if (digest_matches (checksum, self->hash_prefix))
        {
          publish_progress (self, size, size, 0.0);
          return g_steal_pointer (&final_path);
        }
      g_checksum_reset (checksum);
    }

  /* What an earlier attempt left: resumed if the server agrees. */
  if (g_file_test (part_path, G_FILE_TEST_IS_REGULAR))
    {
      if (!hash_file (part_path, checksum, &offset, cancellable, error))
        return NULL;

      /* Complete already, but not renamed: the app stopped in between. */
      if (offset > 0 && digest_matches (checksum, self->hash_prefix))
        {
          if (g_rename (part_path, final_path) != 0)
            {
              set_errno_error (error, final_path, errno);
              return NULL;
            }
          publish_progress (self, offset, offset, 0.0);
          return g_steal_pointer (&final_path);
        }
    }

  session = soup_session_new_with_options ("user-agent", user_agent,
                                           "timeout", IO_TIMEOUT_SECONDS,
                                           NULL);
  /* The hash is of the bytes as stored, never of a decoded body. */
  soup_session_remove_feature_by_type (session, SOUP_TYPE_CONTENT_DECODER);

  publish_progress (self, offset, 0, 0.0);

  {
    guint64 asked = offset;

    if (!(stream = send_request (self, session, &offset, &total, cancellable, error)))
      return NULL;
    if (offset != asked)
      g_checksum_reset (checksum);
  }

  fd = g_open (part_path, O_WRONLY | O_CREAT | O_CLOEXEC | (offset > 0 ? O_APPEND : O_TRUNC), 0644);
  if (fd < 0)
    {
      set_errno_error (error, part_path, errno);
      return NULL;
    }

  buffer = g_malloc (CHUNK_SIZE);
  received = offset;
  started = g_get_monotonic_time ();
  publish_progress (self, received, total, 0.0);

  for (;;)
    {
      gssize n = g_input_stream_read (stream, buffer, CHUNK_SIZE, cancellable, &read_error);
      gint64 elapsed;

      if (n <= 0)
        break;

      if (!write_all (fd, part_path, buffer, (gsize) n, error))
        {
          close (fd);
          return NULL;
        }
      g_checksum_update (checksum, buffer, n);
      received += (guint64) n;

      /* Cheap: the main loop gets one idle for however many of these. */
      elapsed = g_get_monotonic_time () - started;
      publish_progress (self, received, total,
                        elapsed >= SPEED_MIN_SPAN_US
                        ? (double) (received - offset) * G_USEC_PER_SEC / elapsed : 0.0);
    }

  /* What came is kept in the part file either way, for the next attempt. */
  if (fsync (fd) != 0 || close (fd) != 0)
    {
      set_errno_error (error, part_path, errno);
      return NULL;
    }

  publish_progress (self, received, total, 0.0);

  if (read_error != NULL && g_error_matches (read_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_propagate_error (error, g_steal_pointer (&read_error));
      return NULL;
    }

  received_text = g_format_size (received);
  total_text = g_format_size (total);

  if (read_error != NULL)
    {
      g_set_error (error, XL_WEIGHTS_DOWNLOAD_ERROR, XL_WEIGHTS_DOWNLOAD_ERROR_TRUNCATED,
                   _("%s: the download broke off after %s (%s). Try again to resume it."),
                   self->file_name, received_text, read_error->message);
      return NULL;
    }

  if (total > 0 && received != total)
    {
      g_set_error (error, XL_WEIGHTS_DOWNLOAD_ERROR, XL_WEIGHTS_DOWNLOAD_ERROR_TRUNCATED,
                   _("%s: the download ended early, after %s of %s. Try again to resume it."),
                   self->file_name, received_text, total_text);
      return NULL;
    }

  if (!digest_matches (checksum, self->hash_prefix))
    {
      g_unlink (part_path);
      return hash_mismatch_error (self, checksum, error);
    }

  if (g_rename (part_path, final_path) != 0)
    {
      set_errno_error (error, final_path, errno);
      return NULL;
    }

  return g_steal_pointer (&final_path);
}

static void
download_thread (GTask        *task,
                 gpointer      source_object,
                 gpointer      task_data,
                 GCancellable *cancellable)
{
  XlWeightsDownload *self = source_object;
  g_autoptr(GError) error = NULL;
  char *path;

  if ((path = download (self, cancellable, &error)))
    g_task_return_pointer (task, path, g_free);
  else
    g_task_return_error (task, g_steal_pointer (&error));
}

static void
download_done_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  XlWeightsDownload *self = (XlWeightsDownload *) object;
  g_autoptr(GTask) task = user_data;
  g_autoptr(GError) error = NULL;
  char *path;

  g_assert (XL_IS_WEIGHTS_DOWNLOAD (self));

  /* The last progress first: the caller reads it when it hears the end. */
  progress_idle_cb (self);

  g_mutex_lock (&self->mutex);
  g_clear_pointer (&self->context, g_main_context_unref);
  g_mutex_unlock (&self->mutex);

  self->running = FALSE;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RUNNING]);

  if ((path = g_task_propagate_pointer (G_TASK (result), &error)))
    g_task_return_pointer (task, path, g_free);
  else
    g_task_return_error (task, g_steal_pointer (&error));
}

void
xl_weights_download_start_async (XlWeightsDownload   *self,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GTask) worker = NULL;

  g_return_if_fail (XL_IS_WEIGHTS_DOWNLOAD (self));
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, xl_weights_download_start_async);

  if (self->running)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_PENDING,
                               _("%s is being downloaded already"), self->file_name);
      return;
    }

  /* Without a hash to check, a wrong file could not be told from a right one. */
  if (self->file_name == NULL || self->hash_prefix == NULL)
    {
      g_task_return_new_error (task, XL_WEIGHTS_DOWNLOAD_ERROR, XL_WEIGHTS_DOWNLOAD_ERROR_BAD_NAME,
                               _("%s: the file name carries no SHA-256 prefix to check "
                                 "the download against (as in resnet18-f37072fd.pth)"),
                               self->url);
      return;
    }

  self->running = TRUE;
  self->received = 0;
  self->total = 0;
  self->speed = 0.0;
  g_mutex_lock (&self->mutex);
  self->context = g_main_context_ref_thread_default ();
  g_mutex_unlock (&self->mutex);

  g_object_freeze_notify (G_OBJECT (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RUNNING]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RECEIVED]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TOTAL]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SPEED]);
  g_object_thaw_notify (G_OBJECT (self));

  worker = g_task_new (self, cancellable, download_done_cb, g_steal_pointer (&task));
  g_task_set_source_tag (worker, download_thread);
  g_task_run_in_thread (worker, download_thread);
}

char *
xl_weights_download_start_finish (XlWeightsDownload  *self,
                                  GAsyncResult       *result,
                                  GError            **error)
{
  g_return_val_if_fail (XL_IS_WEIGHTS_DOWNLOAD (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* ---- GObject --------------------------------------------------------------- */

static void
xl_weights_download_constructed (GObject *object)
{
  XlWeightsDownload *self = (XlWeightsDownload *) object;

  G_OBJECT_CLASS (xl_weights_download_parent_class)->constructed (object);

  if (self->url == NULL)
    self->url = g_strdup (XL_WEIGHTS_DOWNLOAD_URL);
  if (self->directory == NULL)
    self->directory = g_build_filename (g_get_user_data_dir (), "xraylab", "weights", NULL);
  parse_url (self);
}

static void
xl_weights_download_finalize (GObject *object)
{
  XlWeightsDownload *self = (XlWeightsDownload *) object;

  g_clear_pointer (&self->url, g_free);
  g_clear_pointer (&self->directory, g_free);
  g_clear_pointer (&self->file_name, g_free);
  g_clear_pointer (&self->hash_prefix, g_free);
  g_clear_pointer (&self->context, g_main_context_unref);
  g_mutex_clear (&self->mutex);

  G_OBJECT_CLASS (xl_weights_download_parent_class)->finalize (object);
}

static void
xl_weights_download_get_property (GObject    *object,
                                  guint       prop_id,
                                  GValue     *value,
                                  GParamSpec *pspec)
{
  XlWeightsDownload *self = XL_WEIGHTS_DOWNLOAD (object);

  switch (prop_id)
    {
    case PROP_URL:
      g_value_set_string (value, self->url);
      break;

    case PROP_DIRECTORY:
      g_value_set_string (value, self->directory);
      break;

    case PROP_RUNNING:
      g_value_set_boolean (value, self->running);
      break;

    case PROP_RECEIVED:
      g_value_set_uint64 (value, self->received);
      break;

    case PROP_TOTAL:
      g_value_set_uint64 (value, self->total);
      break;

    case PROP_SPEED:
      g_value_set_double (value, self->speed);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
xl_weights_download_set_property (GObject      *object,
                                  guint         prop_id,
                                  const GValue *value,
                                  GParamSpec   *pspec)
{
  XlWeightsDownload *self = XL_WEIGHTS_DOWNLOAD (object);

  switch (prop_id)
    {
    case PROP_URL:
      g_free (self->url);
      self->url = g_value_dup_string (value);
      break;

    case PROP_DIRECTORY:
      g_free (self->directory);
      self->directory = g_value_dup_string (value);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
xl_weights_download_class_init (XlWeightsDownloadClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->constructed = xl_weights_download_constructed;
  object_class->finalize = xl_weights_download_finalize;
  object_class->get_property = xl_weights_download_get_property;
  object_class->set_property = xl_weights_download_set_property;

  properties[PROP_URL] =
    g_param_spec_string ("url", NULL, NULL,
                         NULL,
                         (G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS));
  properties[PROP_DIRECTORY] =
    g_param_spec_string ("directory", NULL, NULL,
                         NULL,
                         (G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS));
  properties[PROP_RUNNING] =
    g_param_spec_boolean ("running", NULL, NULL,
                          FALSE,
                          (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));
  properties[PROP_RECEIVED] =
    g_param_spec_uint64 ("received", NULL, NULL,
                         0, G_MAXUINT64, 0,
                         (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));
  properties[PROP_TOTAL] =
    g_param_spec_uint64 ("total", NULL, NULL,
                         0, G_MAXUINT64, 0,
                         (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));
  properties[PROP_SPEED] =
    g_param_spec_double ("speed", NULL, NULL,
                         0.0, G_MAXDOUBLE, 0.0,
                         (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
xl_weights_download_init (XlWeightsDownload *self)
{
  g_mutex_init (&self->mutex);
}
