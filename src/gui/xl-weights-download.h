/* xl-weights-download.h — fetches a weights file over HTTP(S) into a folder,
 * checking the SHA-256 prefix that its name carries.
 *
 * Copyright 2026 The X-Ray Lab developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* torchvision's ImageNet ResNet-18: "f37072fd" is the start of its SHA-256. */
#define XL_WEIGHTS_DOWNLOAD_URL "https://download.pytorch.org/models/resnet18-f37072fd.pth"

#define XL_WEIGHTS_DOWNLOAD_ERROR (xl_weights_download_error_quark ())

typedef enum
{
  XL_WEIGHTS_DOWNLOAD_ERROR_BAD_NAME,       /* the URL's file name carries no hash prefix */
  XL_WEIGHTS_DOWNLOAD_ERROR_HTTP,           /* the server answered with an error status */
  XL_WEIGHTS_DOWNLOAD_ERROR_TRUNCATED,      /* fewer bytes came than the server announced */
  XL_WEIGHTS_DOWNLOAD_ERROR_HASH_MISMATCH,  /* the file's SHA-256 does not start with the prefix */
} XlWeightsDownloadError;

GQuark xl_weights_download_error_quark (void);

#define XL_TYPE_WEIGHTS_DOWNLOAD (xl_weights_download_get_type ())

G_DECLARE_FINAL_TYPE (XlWeightsDownload, xl_weights_download, XL, WEIGHTS_DOWNLOAD, GObject)

/* url: NULL for XL_WEIGHTS_DOWNLOAD_URL. The file lands in directory under
 * the URL's file name; while it comes it is NAME.part, which a later
 * download of the same URL resumes with an HTTP Range request. */
XlWeightsDownload *xl_weights_download_new            (const char           *url,
                                                       const char           *directory);
const char        *xl_weights_download_get_url        (XlWeightsDownload    *self);
const char        *xl_weights_download_get_directory  (XlWeightsDownload    *self);
/* The file name taken from the URL, and the hex prefix taken from the name. */
const char        *xl_weights_download_get_file_name  (XlWeightsDownload    *self);
const char        *xl_weights_download_get_hash_prefix (XlWeightsDownload   *self);
/* directory/file name: where the verified file lands. */
char              *xl_weights_download_dup_path       (XlWeightsDownload    *self);
gboolean           xl_weights_download_get_running    (XlWeightsDownload    *self);
/* Progress, updated (and notified) on the main context that started it,
 * through at most one pending idle: bytes in the file so far, the file's
 * full size (0 while unknown), and bytes per second over this attempt (0
 * until it has been measured for half a second). */
guint64            xl_weights_download_get_received   (XlWeightsDownload    *self);
guint64            xl_weights_download_get_total      (XlWeightsDownload    *self);
double             xl_weights_download_get_speed      (XlWeightsDownload    *self);

/* Downloads, verifies and renames into place on a worker thread. A file
 * already in place with the right hash is kept and not fetched again. A
 * file whose hash is wrong is deleted. Cancelling, or a connection that
 * ends early, keeps NAME.part for the next attempt; nothing is ever left
 * under the final name that has not been verified. */
void               xl_weights_download_start_async    (XlWeightsDownload    *self,
                                                       GCancellable         *cancellable,
                                                       GAsyncReadyCallback   callback,
                                                       gpointer              user_data);
/* Returns: the verified file's path, or NULL with error set. */
char              *xl_weights_download_start_finish   (XlWeightsDownload    *self,
                                                       GAsyncResult         *result,
                                                       GError              **error);

G_END_DECLS
