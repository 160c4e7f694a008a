/* purple-otr - GPL-2.0-or-later
 * Sync: what each userstate last read or wrote of each file, so that its
 * writes merge with another program's and a changed file is read again. */

#include <string.h>

#include <libotr/proto.h>
#include <libotr/userstate.h>

#include "file.h"
#include "sync.h"

/* Why: Pidgin and Finch (or two of any libpurple program) may run on one
 * ~/.purple at the same time. A program that writes a whole file from its
 * own memory drops a key the other generated (the user's identity changes)
 * and undoes the other's forget or distrust. So:
 *
 * - every write holds an exclusive flock() on PATH.lock (beside the file
 *   it guards, after symbolic links are followed; one lock file per file,
 *   never deleted: deleting a lock file lets two writers hold "the" lock),
 *   re-reads the file under that lock and merges what this process
 *   changed since it last read the file onto what is on disk;
 * - what "this process changed" is the difference between its memory and
 *   BASE, the content it last read or wrote: a fingerprint added, a trust
 *   changed, a fingerprint forgotten. Everything else comes from the disk;
 * - before trust or a key is used, a changed file (inode, size or mtime
 *   differ from what this process last saw: one stat()) is read again and
 *   merged the same way into memory.
 *
 * Memory is changed in place, because libotr's contexts point at its
 * Fingerprint objects: trust is updated, new fingerprints are added, and a
 * fingerprint another program forgot is freed only when no context uses it
 * (one in use loses its trust and stays in memory, never written back). */

static GList *sync_list; /* of PotrSync* */

PotrSync *
potr_sync_get(OtrlUserState us, const char *path)
{
    PotrSync *s = NULL;
    GList *l;

    for (l = sync_list; l != NULL; l = l->next) {
        s = l->data;
        if (s->us == us && strcmp(s->path, path) == 0)
            return s;
    }
    s = g_new0(PotrSync, 1);
    s->us = us;
    s->path = g_strdup(path);
    s->base = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    s->created = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    sync_list = g_list_prepend(sync_list, s);
    return s;
}

gboolean
potr_sync_changed(PotrSync *s)
{
    PotrFileSig now;

    potr_file_sig_of_path(s->path, &now);
    return !s->seen || !potr_file_sig_equal(&now, &s->sig);
}

void
potr_sync_set_sig(PotrSync *s, const PotrFileSig *sig)
{
    s->sig = *sig;
    s->seen = TRUE;
}

void
potr_store_release(OtrlUserState us)
{
    GList *l = sync_list;

    while (l != NULL) {
        GList *next = l->next;
        PotrSync *s = l->data;

        if (us == NULL || s->us == us) {
            sync_list = g_list_delete_link(sync_list, l);
            g_hash_table_unref(s->base);
            g_hash_table_unref(s->created);
            g_free(s->path);
            g_free(s);
        }
        l = next;
    }
}
