/* purple-otr - GPL-2.0-or-later
 * Keys: the private key file (pidgin-otr's name and format), read and
 * refreshed from another program's writes, and private keys generated off
 * the main loop. */
#ifndef POTR_KEYS_H
#define POTR_KEYS_H

#include <glib.h>
#include <libotr/proto.h>
#include <libotr/userstate.h>

/* Read the private keys at PATH into US, replacing the keys US held. A
 * missing or empty file is not an error (no keys). An unreadable or corrupt
 * file (or one over 16 MiB) returns FALSE with POTR_ERROR_IO /
 * POTR_ERROR_CORRUPT and marks PATH as "damaged": the next write of PATH
 * first keeps a copy of the old file beside it
 * (PATH.damaged-YYYYMMDD-HHMMSS, 0600), so a write never leaves less on
 * disk than the file held. After a CORRUPT error US holds the keys libotr
 * read before the damage (possibly none). A key file readable by others is
 * made 0600. */
gboolean potr_store_load_keys(OtrlUserState us, const char *path, GError **error);

/* If PATH changed since US last read or wrote it (another program wrote
 * it), read it again: US takes its keys (a new key of another program
 * replaces the old one of that account), and keeps the keys of accounts
 * the file lacks (purple-otr never deletes a key). *CHANGED (may be NULL)
 * says whether the file was read. On a read error the keys of US are kept,
 * FALSE is returned with ERROR as potr_store_load_keys(), and the same
 * version of the file is not reported again. Never call it while libotr
 * may hold a key (inside its callbacks): it frees the old keys. */
gboolean potr_store_refresh_keys(OtrlUserState us, const char *path, gboolean *changed,
                                 GError **error);

/* Called on the main loop when a key generation ends. OK is TRUE when the
 * key is in US and on disk; otherwise ERROR (owned by the store, valid
 * during the call) says why, and US and the file keep the old keys. The
 * generation is no longer "running" during the call, so DONE may start
 * another one. */
typedef void (*PotrKeygenDone)(const char *accountname, const char *protocol,
                               gboolean ok, const GError *error, gpointer user_data);

/* Generate a DSA key for ACCOUNTNAME/PROTOCOL in a worker thread
 * (libotr's generate_start / calculate / finish). The main loop never
 * waits on it. When the key is ready, under PATH's lock, US takes the keys
 * other programs wrote meanwhile (potr_store_refresh_keys()), the key is
 * added to US and all keys of US are written to PATH atomically (PATH is
 * never truncated: until then it holds the old keys); then DONE (may be NULL) runs on the main loop
 * (thread default context at start time). Returns FALSE with
 * POTR_ERROR_BUSY if a generation for this account is already running,
 * POTR_ERROR_FAILED if it could not be started. Call from the thread that
 * runs that main context, like the two functions below. */
gboolean potr_store_keygen_start(OtrlUserState us, const char *path,
                                 const char *accountname, const char *protocol,
                                 PotrKeygenDone done, gpointer user_data,
                                 GError **error);

/* TRUE while a key for ACCOUNTNAME/PROTOCOL is being generated. */
gboolean potr_store_keygen_running(const char *accountname, const char *protocol);

/* At unload: discard every running generation of US (of every userstate
 * if US is NULL): DONE is not called for them, nothing is written, and
 * their worker threads are joined (they only ever hold the key being
 * computed, so this waits for one DSA key at most). Call before US is
 * freed and before the code of the plugin is unloaded. */
void potr_store_keygen_cancel_all(OtrlUserState us);

#endif /* POTR_KEYS_H */
