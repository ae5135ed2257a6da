/* test-download.c: XlWeightsDownload and the Train view's "Get ImageNet
 * Weights…" against a SoupServer on 127.0.0.1. Nothing leaves loopback.
 *
 * The server serves a weights fixture under a name that carries the start
 * of its real SHA-256, as torchvision's resnet18-f37072fd.pth does, and
 * misbehaves on request: a body cut short, a name whose hash is wrong, a
 * body that stalls so that the test can cancel it.
 *
 * Copyright 2026 The X-Ray Lab developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include <adwaita.h>
#include <glib/gstdio.h>
#include <libsoup/soup.h>

#include "xl-train-page.h"
#include "xl-weights-download.h"

#define WAIT_TIMEOUT_SECONDS 30
#define FIXTURE "resnet-w8-c1000.pth"

typedef struct
{
  SoupServer *server;
  GBytes     *body;
  char       *name;          /* resnet-w8-c1000-HASH.pth */
  char       *base_url;      /* http://127.0.0.1:PORT */
  GPtrArray  *stalled;       /* connections left hanging, closed at teardown */
  char       *last_range;    /* the Range header of the last request */
  guint       requests;
} Fixture;

/* ---- The server ------------------------------------------------------------ */

/* Takes the connection from the server and writes raw HTTP on it: libsoup's
 * server would never send fewer bytes than it announces. */
static GIOStream *
write_raw_response (SoupServerMessage *msg,
                    gsize              content_length,
                    const guint8      *data,
                    gsize              size)
{
  g_autoptr(GIOStream) stream = soup_server_message_steal_connection (msg);
  g_autofree char *head = g_strdup_printf ("HTTP/1.1 200 OK\r\n"
                                           "Content-Type: application/octet-stream\r\n"
                                           "Content-Length: %" G_GSIZE_FORMAT "\r\n"
                                           "Connection: close\r\n"
                                           "\r\n",
                                           content_length);
  GOutputStream *out = g_io_stream_get_output_stream (stream);
  g_autoptr(GError) error = NULL;

  g_output_stream_write_all (out, head, strlen (head), NULL, NULL, &error);
  g_assert_no_error (error);
  g_output_stream_write_all (out, data, size, NULL, NULL, &error);
  g_assert_no_error (error);
  g_output_stream_flush (out, NULL, &error);
  g_assert_no_error (error);

  return g_steal_pointer (&stream);
}

static void
server_cb (SoupServer        *server,
           SoupServerMessage *msg,
           const char        *path,
           GHashTable        *query,
           gpointer           user_data)
{
  Fixture *fixture = user_data;
  SoupMessageHeaders *request_headers = soup_server_message_get_request_headers (msg);
  SoupMessageHeaders *response_headers = soup_server_message_get_response_headers (msg);
  g_autofree char *base = g_path_get_basename (path);
  g_autofree char *dir = g_path_get_dirname (path);
  gsize size;
  const guint8 *data = g_bytes_get_data (fixture->body, &size);
  SoupRange *ranges = NULL;
  int n_ranges = 0;

  fixture->requests++;
  g_free (fixture->last_range);
  fixture->last_range = g_strdup (soup_message_headers_get_one (request_headers, "Range"));

  /* /wrong/ serves the fixture under any name, so a name can lie. */
  if (g_strcmp0 (base, fixture->name) != 0 && g_strcmp0 (dir, "/wrong") != 0)
    {
      soup_server_message_set_status (msg, SOUP_STATUS_NOT_FOUND, NULL);
      return;
    }

  if (g_strcmp0 (dir, "/truncated") == 0)
    {
      /* Announces the whole file, sends a third, hangs up. */
      g_autoptr(GIOStream) stream = write_raw_response (msg, size, data, size / 3);

      g_io_stream_close (stream, NULL, NULL);
      return;
    }

  if (g_strcmp0 (dir, "/stall") == 0)
    {
      /* Sends a quarter and then nothing, until the client gives up. */
      g_ptr_array_add (fixture->stalled, write_raw_response (msg, size, data, size / 4));
      return;
    }

  soup_message_headers_set_content_type (response_headers, "application/octet-stream", NULL);
  soup_message_headers_replace (response_headers, "Accept-Ranges", "bytes");

  /* One range from an offset to the end, as a resumed download asks. */
  if (soup_message_headers_get_ranges (request_headers, size, &ranges, &n_ranges))
    {
      goffset start = ranges[0].start;
      goffset end = ranges[0].end;

      g_assert_cmpint (n_ranges, ==, 1);
      soup_message_headers_free_ranges (request_headers, ranges);
      soup_message_headers_set_content_range (response_headers, start, end, size);
      soup_server_message_set_response (msg, "application/octet-stream", SOUP_MEMORY_COPY,
                                        (const char *) data + start, end - start + 1);
      soup_server_message_set_status (msg, SOUP_STATUS_PARTIAL_CONTENT, NULL);
      return;
    }

  soup_server_message_set_response (msg, "application/octet-stream", SOUP_MEMORY_COPY,
                                    (const char *) data, size);
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
}

/* The XDG folders of the whole test, and the data folder each test starts
 * with empty. GLib's G_TEST_OPTION_ISOLATE_DIRS would do this per test, but
 * it leaves the strings it replaces to LeakSanitizer, whose fast unwinder
 * cannot see far enough into GLib for a suppression to match. */
static char *xdg_root;

static void
remove_tree (const char *path)
{
  if (g_file_test (path, G_FILE_TEST_IS_DIR) && !g_file_test (path, G_FILE_TEST_IS_SYMLINK))
    {
      g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
      const char *name;

      while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);

          remove_tree (child);
        }
      g_rmdir (path);
    }
  else
    g_unlink (path);
}

static void
fresh_data_folder (void)
{
  remove_tree (g_get_user_data_dir ());
  g_assert_cmpint (g_mkdir_with_parents (g_get_user_data_dir (), 0700), ==, 0);
}

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  user_data)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "..", "fixtures", FIXTURE, NULL);
  g_autofree char *contents = NULL;
  g_autofree char *digest = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GSList) uris = NULL;
  GUri *uri;
  gsize size;

  fresh_data_folder ();
  g_file_get_contents (path, &contents, &size, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (size, >, 256 * 1024);   /* several reads, so progress shows */

  digest = g_compute_checksum_for_data (G_CHECKSUM_SHA256, (const guchar *) contents, size);
  fixture->name = g_strdup_printf ("resnet-w8-c1000-%.8s.pth", digest);
  fixture->body = g_bytes_new_take (g_steal_pointer (&contents), size);
  fixture->stalled = g_ptr_array_new_with_free_func (g_object_unref);

  fixture->server = soup_server_new ("server-header", "xraylab-test", NULL);
  soup_server_add_handler (fixture->server, NULL, server_cb, fixture, NULL);
  soup_server_listen_local (fixture->server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error);
  g_assert_no_error (error);

  uris = soup_server_get_uris (fixture->server);
  g_assert_nonnull (uris);
  uri = uris->data;
  g_assert_cmpstr (g_uri_get_host (uri), ==, "127.0.0.1");
  fixture->base_url = g_strdup_printf ("http://127.0.0.1:%d", g_uri_get_port (uri));
  g_slist_free_full (g_steal_pointer (&uris), (GDestroyNotify) g_uri_unref);
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  user_data)
{
  for (guint i = 0; i < fixture->stalled->len; i++)
    g_io_stream_close (g_ptr_array_index (fixture->stalled, i), NULL, NULL);
  g_clear_pointer (&fixture->stalled, g_ptr_array_unref);
  soup_server_disconnect (fixture->server);
  g_clear_object (&fixture->server);
  g_clear_pointer (&fixture->body, g_bytes_unref);
  g_clear_pointer (&fixture->name, g_free);
  g_clear_pointer (&fixture->base_url, g_free);
  g_clear_pointer (&fixture->last_range, g_free);
}

/* ---- Helpers --------------------------------------------------------------- */

static char *
fixture_url (Fixture    *fixture,
             const char *dir,
             const char *name)
{
  return g_strdup_printf ("%s/%s/%s", fixture->base_url, dir, name != NULL ? name : fixture->name);
}

typedef struct
{
  GMainLoop *loop;
  char      *path;
  GError    *error;
  gboolean   done;
} Result;

static void
download_cb (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  Result *res = user_data;

  res->path = xl_weights_download_start_finish (XL_WEIGHTS_DOWNLOAD (object), result, &res->error);
  res->done = TRUE;
  g_main_loop_quit (res->loop);
}

static gboolean
timeout_cb (gpointer user_data)
{
  g_error ("nothing happened within %d seconds", WAIT_TIMEOUT_SECONDS);
  return G_SOURCE_REMOVE;
}

/* Runs a download to its end on the main loop, serving it meanwhile. */
static void
run_download (XlWeightsDownload *download,
              GCancellable      *cancellable,
              Result            *res)
{
  guint timeout_id;

  res->loop = g_main_loop_new (NULL, FALSE);
  xl_weights_download_start_async (download, cancellable, download_cb, res);
  g_assert_true (xl_weights_download_get_running (download));

  timeout_id = g_timeout_add_seconds (WAIT_TIMEOUT_SECONDS, timeout_cb, NULL);
  g_main_loop_run (res->loop);
  g_source_remove (timeout_id);
  g_clear_pointer (&res->loop, g_main_loop_unref);

  g_assert_true (res->done);
  g_assert_false (xl_weights_download_get_running (download));
}

static void
result_clear (Result *res)
{
  g_clear_pointer (&res->path, g_free);
  g_clear_error (&res->error);
}

static char *
part_path (XlWeightsDownload *download)
{
  g_autofree char *path = xl_weights_download_dup_path (download);

  return g_strconcat (path, ".part", NULL);
}

static void
assert_file_equals_fixture (Fixture    *fixture,
                            const char *path)
{
  g_autofree char *contents = NULL;
  g_autoptr(GError) error = NULL;
  gsize size;

  g_file_get_contents (path, &contents, &size, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (size, ==, g_bytes_get_size (fixture->body));
  g_assert_true (memcmp (contents, g_bytes_get_data (fixture->body, NULL), size) == 0);
}

static void
count_notify_cb (GObject    *object,
                 GParamSpec *pspec,
                 gpointer    user_data)
{
  (*(guint *) user_data)++;
}

/* ---- Tests ----------------------------------------------------------------- */

static void
test_name_and_prefix (void)
{
  g_autoptr(XlWeightsDownload) official = xl_weights_download_new (NULL, "/nowhere");
  g_autoptr(XlWeightsDownload) nameless = xl_weights_download_new ("http://127.0.0.1:1/models/weights.pth",
                                                                   "/nowhere");
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  Result res = { 0 };

  g_assert_cmpstr (xl_weights_download_get_url (official), ==,
                   "https://download.pytorch.org/models/resnet18-f37072fd.pth");
  g_assert_cmpstr (xl_weights_download_get_file_name (official), ==, "resnet18-f37072fd.pth");
  g_assert_cmpstr (xl_weights_download_get_hash_prefix (official), ==, "f37072fd");

  /* No hash in the name: refused before anything is sent. */
  g_assert_cmpstr (xl_weights_download_get_file_name (nameless), ==, "weights.pth");
  g_assert_null (xl_weights_download_get_hash_prefix (nameless));
  res.loop = loop;
  xl_weights_download_start_async (nameless, NULL, download_cb, &res);
  g_main_loop_run (loop);
  res.loop = NULL;
  g_assert_error (res.error, XL_WEIGHTS_DOWNLOAD_ERROR, XL_WEIGHTS_DOWNLOAD_ERROR_BAD_NAME);
  g_assert_null (res.path);
  result_clear (&res);
}

static void
test_good_download (Fixture       *fixture,
                    gconstpointer  user_data)
{
  g_autofree char *url = fixture_url (fixture, "models", NULL);
  g_autofree char *dir = xl_train_page_weights_dir ();
  g_autoptr(XlWeightsDownload) download = xl_weights_download_new (url, dir);
  g_autofree char *expected = g_build_filename (dir, fixture->name, NULL);
  g_autofree char *part = part_path (download);
  XlTrainPage *page;
  guint notifies = 0;
  Result res = { 0 };

  g_assert_false (g_file_test (dir, G_FILE_TEST_EXISTS));
  g_signal_connect (download, "notify::received", G_CALLBACK (count_notify_cb), &notifies);

  run_download (download, NULL, &res);
  g_assert_no_error (res.error);
  g_assert_cmpstr (res.path, ==, expected);
  assert_file_equals_fixture (fixture, expected);
  g_assert_false (g_file_test (part, G_FILE_TEST_EXISTS));
  g_assert_null (fixture->last_range);

  /* The progress got to the end and the page was told along the way. */
  g_assert_cmpuint (xl_weights_download_get_received (download), ==, g_bytes_get_size (fixture->body));
  g_assert_cmpuint (xl_weights_download_get_total (download), ==, g_bytes_get_size (fixture->body));
  g_assert_cmpuint (notifies, >=, 1);

  /* The Train view finds it where it looks for start weights. */
  page = g_object_ref_sink (g_object_new (XL_TYPE_TRAIN_PAGE, NULL));
  g_assert_cmpstr (xl_train_page_get_weights (page), ==, expected);
  g_object_unref (page);

  /* Asked again: the right file is there, nothing is fetched. */
  result_clear (&res);
  fixture->requests = 0;
  run_download (download, NULL, &res);
  g_assert_no_error (res.error);
  g_assert_cmpstr (res.path, ==, expected);
  g_assert_cmpuint (fixture->requests, ==, 0);
  result_clear (&res);
}

static void
test_truncated_then_resumed (Fixture       *fixture,
                             gconstpointer  user_data)
{
  g_autofree char *dir = xl_train_page_weights_dir ();
  g_autofree char *truncated_url = fixture_url (fixture, "truncated", NULL);
  g_autofree char *good_url = fixture_url (fixture, "models", NULL);
  g_autoptr(XlWeightsDownload) download = xl_weights_download_new (truncated_url, dir);
  g_autoptr(XlWeightsDownload) again = xl_weights_download_new (good_url, dir);
  g_autofree char *final_path = xl_weights_download_dup_path (download);
  g_autofree char *part = part_path (download);
  g_autofree char *expected_range = NULL;
  gsize size = g_bytes_get_size (fixture->body);
  GStatBuf buf;
  Result res = { 0 };

  run_download (download, NULL, &res);
  g_assert_error (res.error, XL_WEIGHTS_DOWNLOAD_ERROR, XL_WEIGHTS_DOWNLOAD_ERROR_TRUNCATED);
  g_test_message ("%s", res.error->message);
  g_assert_nonnull (strstr (res.error->message, fixture->name));
  g_assert_nonnull (strstr (res.error->message, "resume"));
  g_assert_null (res.path);
  result_clear (&res);

  /* Nothing under the final name; what came waits in the part file. */
  g_assert_false (g_file_test (final_path, G_FILE_TEST_EXISTS));
  g_assert_cmpint (g_stat (part, &buf), ==, 0);
  g_assert_cmpint (buf.st_size, ==, size / 3);

  /* The next attempt asks for the rest only, and the whole is right. */
  run_download (again, NULL, &res);
  g_assert_no_error (res.error);
  expected_range = g_strdup_printf ("bytes=%" G_GSIZE_FORMAT "-", size / 3);
  g_assert_cmpstr (fixture->last_range, ==, expected_range);
  g_assert_cmpstr (res.path, ==, final_path);
  assert_file_equals_fixture (fixture, final_path);
  g_assert_false (g_file_test (part, G_FILE_TEST_EXISTS));
  result_clear (&res);
}

static void
test_wrong_hash (Fixture       *fixture,
                 gconstpointer  user_data)
{
  g_autofree char *dir = xl_train_page_weights_dir ();
  g_autofree char *url = fixture_url (fixture, "wrong", "resnet18-f37072fd.pth");
  g_autoptr(XlWeightsDownload) download = xl_weights_download_new (url, dir);
  g_autofree char *final_path = xl_weights_download_dup_path (download);
  g_autofree char *part = part_path (download);
  Result res = { 0 };

  run_download (download, NULL, &res);
  g_assert_error (res.error, XL_WEIGHTS_DOWNLOAD_ERROR, XL_WEIGHTS_DOWNLOAD_ERROR_HASH_MISMATCH);
  g_test_message ("%s", res.error->message);
  g_assert_nonnull (strstr (res.error->message, "does not match"));
  g_assert_nonnull (strstr (res.error->message, "f37072fd"));
  g_assert_null (res.path);
  result_clear (&res);

  /* The whole file came, and was deleted. */
  g_assert_cmpuint (xl_weights_download_get_received (download), ==, g_bytes_get_size (fixture->body));
  g_assert_false (g_file_test (final_path, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (part, G_FILE_TEST_EXISTS));
}

static void
test_http_error (Fixture       *fixture,
                 gconstpointer  user_data)
{
  g_autofree char *dir = xl_train_page_weights_dir ();
  g_autofree char *url = fixture_url (fixture, "models", "absent-0123abcd.pth");
  g_autoptr(XlWeightsDownload) download = xl_weights_download_new (url, dir);
  g_autofree char *final_path = xl_weights_download_dup_path (download);
  Result res = { 0 };

  run_download (download, NULL, &res);
  g_assert_error (res.error, XL_WEIGHTS_DOWNLOAD_ERROR, XL_WEIGHTS_DOWNLOAD_ERROR_HTTP);
  g_assert_nonnull (strstr (res.error->message, "404"));
  g_assert_false (g_file_test (final_path, G_FILE_TEST_EXISTS));
  result_clear (&res);
}

static void
cancel_on_progress_cb (XlWeightsDownload *download,
                       GParamSpec        *pspec,
                       GCancellable      *cancellable)
{
  if (xl_weights_download_get_received (download) > 0)
    g_cancellable_cancel (cancellable);
}

static void
test_cancel (Fixture       *fixture,
             gconstpointer  user_data)
{
  g_autofree char *dir = xl_train_page_weights_dir ();
  g_autofree char *url = fixture_url (fixture, "stall", NULL);
  g_autoptr(XlWeightsDownload) download = xl_weights_download_new (url, dir);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autofree char *final_path = xl_weights_download_dup_path (download);
  g_autofree char *part = part_path (download);
  Result res = { 0 };

  /* The server stalls after a quarter: only a cancel ends this one. */
  g_signal_connect (download, "notify::received", G_CALLBACK (cancel_on_progress_cb), cancellable);
  run_download (download, cancellable, &res);
  g_assert_error (res.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_null (res.path);
  result_clear (&res);

  g_assert_cmpuint (xl_weights_download_get_received (download), >, 0);
  g_assert_cmpuint (xl_weights_download_get_received (download), <, g_bytes_get_size (fixture->body));
  g_assert_false (g_file_test (final_path, G_FILE_TEST_EXISTS));
  /* Kept for the next attempt to resume, never under the final name. */
  g_assert_true (g_file_test (part, G_FILE_TEST_IS_REGULAR));
}

static gboolean
page_has_weights (XlTrainPage *page,
                  const char  *path)
{
  return g_strcmp0 (xl_train_page_get_weights (page), path) == 0;
}

static void
test_train_page_button (Fixture       *fixture,
                        gconstpointer  user_data)
{
  g_autofree char *url = fixture_url (fixture, "models", NULL);
  g_autofree char *dir = xl_train_page_weights_dir ();
  g_autofree char *expected = g_build_filename (dir, fixture->name, NULL);
  XlTrainPage *page;
  GtkWidget *get_button;
  GtkWidget *download_box;
  gint64 deadline;

  /* The official URL, swapped for the loopback server. */
  g_setenv ("XRAYLAB_WEIGHTS_URL", url, TRUE);

  page = g_object_ref_sink (g_object_new (XL_TYPE_TRAIN_PAGE, NULL));
  get_button = (GtkWidget *) gtk_widget_get_template_child (GTK_WIDGET (page), XL_TYPE_TRAIN_PAGE, "get_weights_button");
  download_box = (GtkWidget *) gtk_widget_get_template_child (GTK_WIDGET (page), XL_TYPE_TRAIN_PAGE, "download_box");
  g_assert_true (GTK_IS_BUTTON (get_button));
  g_assert_true (GTK_IS_WIDGET (download_box));
  g_assert_nonnull (gtk_widget_get_template_child (GTK_WIDGET (page), XL_TYPE_TRAIN_PAGE,
                                                   "weights_button"));

  /* Nothing found yet: random initialization. */
  g_assert_null (xl_train_page_get_weights (page));
  g_assert_false (gtk_widget_get_visible (download_box));

  g_signal_emit_by_name (get_button, "clicked");
  g_assert_true (gtk_widget_get_visible (download_box));
  g_assert_false (gtk_widget_get_sensitive (get_button));

  deadline = g_get_monotonic_time () + WAIT_TIMEOUT_SECONDS * G_USEC_PER_SEC;
  while (!page_has_weights (page, expected) && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);

  g_assert_cmpstr (xl_train_page_get_weights (page), ==, expected);
  assert_file_equals_fixture (fixture, expected);
  g_assert_false (gtk_widget_get_visible (download_box));
  g_assert_true (gtk_widget_get_sensitive (get_button));

  g_unsetenv ("XRAYLAB_WEIGHTS_URL");
  g_object_unref (page);
}

int
main (int    argc,
      char **argv)
{
  /* No proxy, whatever the environment says: loopback is reached directly
   * (and the GNOME resolver's schema is not in the isolated XDG dirs). */
  g_setenv ("GIO_USE_PROXY_RESOLVER", "dummy", TRUE);

  /* The test's own XDG folders; each test empties its data folder first. */
  xdg_root = g_dir_make_tmp ("xl-download-XXXXXX", NULL);
  g_assert (xdg_root != NULL);
  {
    const char *const kinds[][2] = { { "XDG_DATA_HOME", "data" }, { "XDG_CONFIG_HOME", "config" },
                                     { "XDG_CACHE_HOME", "cache" }, { "XDG_STATE_HOME", "state" } };

    for (guint i = 0; i < G_N_ELEMENTS (kinds); i++)
      {
        g_autofree char *dir = g_build_filename (xdg_root, kinds[i][1], NULL);

        g_setenv (kinds[i][0], dir, TRUE);
      }
  }
  g_test_init (&argc, &argv, NULL);
  gtk_init ();
  adw_init ();

  g_test_add_func ("/gui/download/name-and-prefix", test_name_and_prefix);
  g_test_add ("/gui/download/good", Fixture, NULL,
              fixture_set_up, test_good_download, fixture_tear_down);
  g_test_add ("/gui/download/truncated-then-resumed", Fixture, NULL,
              fixture_set_up, test_truncated_then_resumed, fixture_tear_down);
  g_test_add ("/gui/download/wrong-hash", Fixture, NULL,
              fixture_set_up, test_wrong_hash, fixture_tear_down);
  g_test_add ("/gui/download/http-error", Fixture, NULL,
              fixture_set_up, test_http_error, fixture_tear_down);
  g_test_add ("/gui/download/cancel", Fixture, NULL,
              fixture_set_up, test_cancel, fixture_tear_down);
  g_test_add ("/gui/download/train-page-button", Fixture, NULL,
              fixture_set_up, test_train_page_button, fixture_tear_down);

  {
    int status = g_test_run ();

    remove_tree (xdg_root);
    g_free (xdg_root);
    return status;
  }
}
