/* purple-otr - GPL-2.0-or-later
 * Sync: what each userstate last read or wrote of each file, so that its
 * writes merge with another program's and a changed file is read again. */
#ifndef POTR_SYNC_H
#define POTR_SYNC_H

#include <glib.h>
#include <libotr/proto.h>
#include <libotr/userstate.h>

#include "file.h"

/* Two programs on one profile (Pidgin and Finch on one ~/.purple): every
 * write of the store's files (keys.h, fingerprints.h, instags.h) takes an
 * exclusive flock() on PATH.lock (beside the file, after links are
 * followed; created 0600, never removed), waiting at most 5 s (then
 * POTR_ERROR_BUSY), re-reads PATH and merges what this userstate changed
 * since it last read or wrote PATH onto what is on disk, then replaces
 * PATH atomically. The potr_store_refresh_* functions read a file again
 * when another program changed it. What a userstate last saw of each file
 * is kept until potr_store_release(). */

/* What one userstate knows of one file. Main thread only. */
typedef struct {
    OtrlUserState us;
    char *path;
    gboolean seen;       /* SIG is valid */
    PotrFileSig sig;     /* the file as this process last read or wrote it */
    GHashTable *base;    /* fingerprints: line key -> trust, as on disk then */
    GHashTable *created; /* instance tags: "account\tprotocol" made here, not yet written */
} PotrSync;

/* What US knows of PATH (as given, not resolved); created empty (not
 * SEEN) the first time. Owned by this module until potr_store_release(). */
PotrSync *potr_sync_get(OtrlUserState us, const char *path);

/* Did PATH change since this process last read or wrote it? (TRUE if it
 * never did.) One stat(). */
gboolean potr_sync_changed(PotrSync *s);

/* Remember SIG as the version of the file this process last read or wrote. */
void potr_sync_set_sig(PotrSync *s, const PotrFileSig *sig);

/* Forget what the store remembers of the files of US (NULL: of every
 * userstate): call before US is freed. */
void potr_store_release(OtrlUserState us);

#endif /* POTR_SYNC_H */
