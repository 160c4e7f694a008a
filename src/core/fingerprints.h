/* purple-otr - GPL-2.0-or-later
 * Fingerprints: the fingerprint file (libotr's format), read in linear
 * time, merged with another program's changes and saved. */
#ifndef POTR_FINGERPRINTS_H
#define POTR_FINGERPRINTS_H

#include <glib.h>
#include <libotr/proto.h>
#include <libotr/context.h>
#include <libotr/userstate.h>

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
 * we don't. If any were skipped the file is marked damaged
 * (potr_file_mark_damaged()) and TRUE is returned. A missing file is not
 * an error. On a read error FALSE is returned (POTR_ERROR_IO), the file is
 * marked damaged and US is unchanged. ADD_APP_DATA is called for every
 * context created (may be NULL), as libotr does, though not in file order.
 * What was read becomes what later saves of US merge onto (see "Two
 * programs" in sync.h). */
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

#endif /* POTR_FINGERPRINTS_H */
