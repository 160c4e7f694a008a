/* purple-otr - GPL-2.0-or-later
 * Store: the key, fingerprint and instance-tag files (pidgin-otr's names and
 * formats), written atomically, and private keys generated off the main loop. */
#ifndef POTR_STORE_H
#define POTR_STORE_H

#include <stdio.h>
#include <glib.h>
#include <libotr/proto.h>
#include <libotr/userstate.h>

#define POTR_FILE_PRIVKEY "otr.private_key"
#define POTR_FILE_FINGERPRINTS "otr.fingerprints"
#define POTR_FILE_INSTAGS "otr.instance_tags"

/* Longest line the fingerprint reader accepts; longer lines are skipped. */
#define POTR_STORE_MAX_LINE 4096

/* Writes the content of a file to FP. Returns FALSE and sets ERROR on failure. */
typedef gboolean (*PotrStoreWriter)(FILE *fp, gpointer data, GError **error);

/* Replace PATH atomically: WRITER fills a new temporary file in PATH's
 * folder (created mode 0600), which is flushed, fsync()ed and renamed over
 * PATH; the folder is fsync()ed too. On any failure the temporary file is
 * unlinked, PATH is left as it was, FALSE is returned and ERROR set
 * (POTR_ERROR_IO). */
gboolean potr_store_write_atomic(const char *path, PotrStoreWriter writer,
                                 gpointer data, GError **error);

/* Read the private keys at PATH into US. A missing file is not an error
 * (no keys). An unreadable or corrupt file returns FALSE with
 * POTR_ERROR_IO / POTR_ERROR_CORRUPT and marks PATH as "damaged": the next
 * write of PATH first keeps a copy of the old file beside it
 * (PATH.damaged-YYYYMMDD-HHMMSS, 0600), so a write never leaves less on
 * disk than the file held. */
gboolean potr_store_load_keys(OtrlUserState us, const char *path, GError **error);

/* Read the fingerprints at PATH (libotr's format:
 * user TAB account TAB protocol TAB 40-hex [TAB trust] NL) into US.
 * Linear time: 20,000 entries load in a fraction of libotr's reader time.
 * Malformed lines are skipped and counted in *SKIPPED (may be NULL); if any
 * were skipped the file is marked damaged (see above). A missing file is
 * not an error. ADD_APP_DATA is called for every context created (may be
 * NULL), as libotr does. */
gboolean potr_store_load_fingerprints(OtrlUserState us, const char *path,
                                      void (*add_app_data)(void *data, ConnContext *context),
                                      void *data, guint *skipped, GError **error);

/* Write US's fingerprints to PATH atomically (libotr's format). */
gboolean potr_store_save_fingerprints(OtrlUserState us, const char *path, GError **error);

/* Read the instance tags at PATH into US (a missing file is not an error). */
gboolean potr_store_load_instags(OtrlUserState us, const char *path, GError **error);

/* Create an instance tag for ACCOUNTNAME/PROTOCOL in US and write all
 * tags to PATH atomically. */
gboolean potr_store_new_instag(OtrlUserState us, const char *path,
                               const char *accountname, const char *protocol,
                               GError **error);

/* Called on the main loop when a key generation ends. OK is TRUE when the
 * key is in US and on disk; otherwise ERROR says why. */
typedef void (*PotrKeygenDone)(const char *accountname, const char *protocol,
                               gboolean ok, const GError *error, gpointer user_data);

/* Generate a DSA key for ACCOUNTNAME/PROTOCOL in a worker thread
 * (libotr's generate_start / calculate / finish). The main loop never
 * waits on it. When the key is ready it is added to US and all keys of US
 * are written to PATH atomically; then DONE runs on the main loop (thread
 * default context at start time). Returns FALSE with POTR_ERROR_BUSY if a
 * generation for this account is already running. */
gboolean potr_store_keygen_start(OtrlUserState us, const char *path,
                                 const char *accountname, const char *protocol,
                                 PotrKeygenDone done, gpointer user_data,
                                 GError **error);

/* TRUE while a key for ACCOUNTNAME/PROTOCOL is being generated. */
gboolean potr_store_keygen_running(const char *accountname, const char *protocol);

/* At unload: discard every running generation (DONE is not called for
 * them) and wait for their worker threads, which only ever hold the key
 * being computed. Call before US is freed. */
void potr_store_keygen_cancel_all(OtrlUserState us);

#endif /* POTR_STORE_H */
