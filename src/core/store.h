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

/* Longest line (in bytes; the newline and the CR of a CRLF line not
 * counted) of the fingerprint and instance-tag files. libotr reads these
 * files with fgets() into 1000 bytes and reads the rest of a longer line as
 * a line of its own, so: the readers skip longer lines (counted as
 * malformed) and the writers never write one. A fingerprint or tag whose
 * line would be longer (a name of hundreds of bytes), or whose names hold
 * a tab, CR or newline, is kept in memory only, with a debug line. */
#define POTR_STORE_MAX_LINE 998

/* Two programs on one profile (Pidgin and Finch on one ~/.purple): every
 * write below takes an exclusive flock() on PATH.lock (beside the file,
 * after links are followed; created 0600, never removed), waiting at most
 * 5 s (then POTR_ERROR_BUSY), re-reads PATH and merges what this
 * userstate changed since it last read or wrote PATH onto what is on disk,
 * then replaces PATH atomically. The potr_store_refresh_* functions read a
 * file again when another program changed it. What a userstate last saw of
 * each file is kept until potr_store_release(). */

/* Writes the content of a file to FP (open for reading and writing, at
 * offset 0). Returns FALSE and sets ERROR on failure; a writer that returns
 * FALSE without setting ERROR gets a generic POTR_ERROR_IO. */
typedef gboolean (*PotrStoreWriter)(FILE *fp, gpointer data, GError **error);

/* Replace PATH atomically: WRITER fills a new temporary file in PATH's
 * folder (PATH.tmp-XXXXXX, created mode 0600 whatever the umask), which is
 * flushed, fsync()ed and renamed over PATH; the folder is fsync()ed too.
 * The new PATH has mode 0600. If PATH is a symbolic link, the file it
 * points to is replaced and the link kept. If PATH was marked damaged by a
 * reader below, a copy of it is kept first (PATH.damaged-YYYYMMDD-HHMMSS,
 * 0600, never overwriting an older copy); if that copy cannot be made,
 * nothing is written. On any failure the temporary file is unlinked, PATH
 * is left as it was, FALSE is returned and ERROR set (POTR_ERROR_IO, or
 * WRITER's error). Main thread only. */
gboolean potr_store_write_atomic(const char *path, PotrStoreWriter writer,
                                 gpointer data, GError **error);

/* Forget what the store remembers of the files of US (NULL: of every
 * userstate): call before US is freed. */
void potr_store_release(OtrlUserState us);

/* Remove what interrupted writes of PATH left (PATH.tmp-XXXXXX beside the
 * file, exactly that pattern: regular files of this user, never through a
 * link), overwriting each with zeros first (a key file's copy holds the
 * keys). Done under PATH's lock, so another program's write in progress
 * keeps its file; nothing is done if the lock cannot be had. Returns how
 * many were removed. */
guint potr_store_cleanup_temps(const char *path);

/* potr_store_write_atomic() while holding PATH's lock (PATH.lock): for a
 * whole-file write that needs no merge. FALSE with POTR_ERROR_BUSY if the
 * lock could not be had within 5 s. */
gboolean potr_store_write_locked(const char *path, PotrStoreWriter writer, gpointer data,
                                 GError **error);

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

/* Read the fingerprints at PATH (libotr's format:
 * user TAB account TAB protocol TAB 40-hex [TAB trust] [CR] NL) into US,
 * adding to what US holds. For a well-formed file, US ends up exactly as
 * after otrl_privkey_read_fingerprints() (same contexts, fingerprint lists
 * in the same order, same trust strings: "" when the trust field is empty,
 * NULL when it is absent).
 * Linear time when US holds no contexts yet (the load at startup): 20,000
 * entries load in a fraction of libotr's reader time.
 * Malformed lines are skipped and counted in *SKIPPED (may be NULL): fewer
 * than four fields or more than five, an empty user/account/protocol, a
 * fingerprint that is not exactly 40 hex digits, a NUL or a stray CR, a
 * line over POTR_STORE_MAX_LINE (libotr would read its tail as a line of
 * its own), and a last line without its newline (what an interrupted
 * write leaves). libotr would read some of these (non-hex digits as 0);
 * we don't. If any were skipped the file is marked damaged (see above)
 * and TRUE is returned. A missing file is not an error. On a read error
 * FALSE is returned (POTR_ERROR_IO), the file is marked damaged and US is
 * unchanged. ADD_APP_DATA is called for every context created (may be
 * NULL), as libotr does, though not in file order. What was read becomes
 * what later saves of US merge onto (see "Two programs" above). */
gboolean potr_store_load_fingerprints(OtrlUserState us, const char *path,
                                      void (*add_app_data)(void *data, ConnContext *context),
                                      void *data, guint *skipped, GError **error);

/* Write US's fingerprints to PATH (libotr's format and order), merged
 * under the lock with what is on disk: fingerprints US added, trust US
 * changed and fingerprints US forgot since it last read or wrote PATH are
 * applied to the file's content; the rest comes from the file. US is then
 * updated in place to what was written (trust changed in place, new
 * fingerprints added, forgotten ones freed unless a context uses one as
 * its active fingerprint: that one loses its trust and stays in memory,
 * unwritten). FALSE with ERROR on failure: PATH is left as it was and
 * US's own changes are written by the next save. */
gboolean potr_store_save_fingerprints(OtrlUserState us, const char *path, GError **error);

/* If PATH changed since US last read or wrote it, merge its content into
 * US in place, as potr_store_save_fingerprints() does, without writing.
 * *CHANGED (may be NULL) gets the number of fingerprints of US that were
 * added, freed or changed. Cheap when nothing changed (one stat()). FALSE
 * with ERROR if the file cannot be read (US unchanged; the same version is
 * not reported again). Safe inside libotr's callbacks. */
gboolean potr_store_refresh_fingerprints(OtrlUserState us, const char *path, guint *changed,
                                         GError **error);

/* Read the instance tags at PATH into US, replacing the tags US held (a
 * missing file is not an error). Stricter than libotr, which skips
 * malformed lines silently: such lines are skipped and mark PATH damaged
 * (a copy is kept before it is next written). FALSE with POTR_ERROR_IO if
 * PATH exists but cannot be read; it is marked damaged and US unchanged. */
gboolean potr_store_load_instags(OtrlUserState us, const char *path, GError **error);

/* Create an instance tag for ACCOUNTNAME/PROTOCOL in US (replacing the
 * account's tag, if it had one) and write all tags to PATH: under the
 * lock, the tags on disk, plus US's tags of accounts the file lacks, plus
 * the tags US created and has not written yet; accounts US has no tag for
 * take the file's. If the write fails, FALSE is returned with ERROR and
 * the new tag stays in US for this session and is written by the next
 * write (a tag is not a secret; the file keeps the old ones). */
gboolean potr_store_new_instag(OtrlUserState us, const char *path,
                               const char *accountname, const char *protocol,
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

#endif /* POTR_STORE_H */
