/* purple-otr - GPL-2.0-or-later
 * Instance tags: the instance-tag file, read strictly and written merged
 * with what another program wrote. */

#include "i18n.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <libotr/proto.h>
#include <libotr/instag.h>

#include "potr.h"
#include "file.h"
#include "line.h"
#include "sync.h"
#include "instags.h"

/* "account TAB protocol" -> tag, read strictly: libotr skips malformed
 * lines without a word, and a later write then dropped them. Lines
 * without a tab (libotr's warning line) are not damage. A missing file is
 * an empty table; a damaged one marks PATH; a read error returns NULL. */
static GHashTable *
instags_read_table(const char *path, GError **error)
{
    GHashTable *map = NULL;
    FILE *fp = NULL;
    char *buf = NULL;
    gboolean missing = FALSE;
    PotrLine state;
    gsize len = 0;
    guint bad = 0;

    fp = potr_file_open_read(path, &missing, error);
    if (fp == NULL) {
        map = missing ? g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL) : NULL;
        goto cleanup;
    }
    map = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    buf = g_malloc(POTR_LINE_BUF);
    errno = 0;
    while ((state = potr_line_read(fp, buf, &len)) != POTR_LINE_EOF) {
        char **f = NULL;
        char *end = NULL;
        guint64 tag = 0;

        if (state == POTR_LINE_ERROR) {
            g_set_error(error, POTR_ERROR, POTR_ERROR_IO, _("Could not read %s: %s"),
                        path, g_strerror(errno != 0 ? errno : EIO));
            potr_file_mark_damaged(path);
            g_clear_pointer(&map, g_hash_table_unref);
            goto cleanup;
        }
        if (len > 0 && buf[len - 1] == '\r')
            buf[--len] = '\0';
        if (state == POTR_LINE_OK && (len == 0 || memchr(buf, '\t', len) == NULL))
            continue;
        if (state == POTR_LINE_OK && memchr(buf, '\0', len) == NULL)
            f = g_strsplit(buf, "\t", -1);
        if (f != NULL && g_strv_length(f) == 3 && *f[0] != '\0' && *f[1] != '\0' &&
            strlen(f[2]) == 8 && strspn(f[2], "0123456789abcdefABCDEF") == 8)
            tag = g_ascii_strtoull(f[2], &end, 16);
        if (tag >= OTRL_MIN_VALID_INSTAG)
            g_hash_table_replace(map, g_strconcat(f[0], "\t", f[1], NULL), GUINT_TO_POINTER((guint)tag));
        else
            bad++;
        g_strfreev(f);
    }
    if (bad > 0)
        potr_file_mark_damaged(path);

cleanup:
    g_free(buf);
    if (fp != NULL)
        fclose(fp);
    return map;
}

/* Add a tag to US the way libotr's reader does (libotr frees it). */
static void
instags_add(OtrlUserState us, const char *accountname, const char *protocol,
            otrl_instag_t tag)
{
    OtrlInsTag *p = malloc(sizeof(*p));
    char *a = strdup(accountname);
    char *b = strdup(protocol);

    if (p == NULL || a == NULL || b == NULL)
        g_error("purple-otr: out of memory");
    p->accountname = a;
    p->protocol = b;
    p->instag = tag;
    p->next = us->instag_root;
    if (p->next != NULL)
        p->next->tous = &p->next;
    p->tous = &us->instag_root;
    us->instag_root = p;
}

static char *
instags_key(const OtrlInsTag *t)
{
    return g_strconcat(t->accountname, "\t", t->protocol, NULL);
}

gboolean
potr_store_load_instags(OtrlUserState us, const char *path, GError **error)
{
    GHashTable *map = NULL;
    GHashTableIter it;
    gpointer k, v;
    PotrFileSig sig;

    g_return_val_if_fail(us != NULL && path != NULL, FALSE);
    g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

    potr_file_sig_of_path(path, &sig);
    map = instags_read_table(path, error);
    if (map == NULL)
        return FALSE;
    /* replacing: a second load must not duplicate every tag */
    otrl_instag_forget_all(us);
    g_hash_table_iter_init(&it, map);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        char **f = g_strsplit(k, "\t", 2);

        instags_add(us, f[0], f[1], GPOINTER_TO_UINT(v));
        g_strfreev(f);
    }
    potr_sync_set_sig(potr_sync_get(us, path), &sig);
    g_hash_table_unref(map);
    return TRUE;
}

static gint
instags_cmp_str(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* libotr's format: its warning line, then one line per account (sorted,
 * so that two programs write the same file for the same tags). */
static gboolean
instags_writer(FILE *fp, gpointer data, GError **error)
{
    GHashTable *tags = data;
    guint n = 0;
    gpointer *keys = g_hash_table_get_keys_as_array(tags, &n);
    guint i;

    fputs("WARNING! You shouldn't copy this file to another computer. "
          "It is unnecessary and can cause problems.\n", fp);
    qsort(keys, n, sizeof(gpointer), instags_cmp_str);
    for (i = 0; i < n; i++) {
        const char *key = keys[i];

        /* the same 1000-byte reader as the fingerprints' */
        if (strlen(key) + 9 > POTR_STORE_MAX_LINE || strpbrk(key, "\r\n") != NULL)
            g_debug("purple-otr: an instance tag of an account whose name has %" G_GSIZE_FORMAT
                    " bytes is kept in memory only", strlen(key));
        else
            fprintf(fp, "%s\t%08x\n", key, GPOINTER_TO_UINT(g_hash_table_lookup(tags, key)));
    }
    g_free(keys);
    return ferror(fp) == 0;
}

/* What the file gets: DISK, plus US's tags for accounts DISK lacks, plus
 * the tags created here and not yet written (CREATED), which win. */
static GHashTable *
instags_merge(GHashTable *disk, OtrlUserState us, GHashTable *created)
{
    GHashTable *result = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    GHashTableIter it;
    gpointer k, v;
    OtrlInsTag *t;

    g_hash_table_iter_init(&it, disk);
    while (g_hash_table_iter_next(&it, &k, &v))
        g_hash_table_replace(result, g_strdup(k), v);
    for (t = us->instag_root; t != NULL; t = t->next) {
        char *key = instags_key(t);

        if (!g_hash_table_contains(result, key) || g_hash_table_contains(created, key))
            g_hash_table_replace(result, key, GUINT_TO_POINTER(t->instag));
        else
            g_free(key);
    }
    return result;
}

gboolean
potr_store_new_instag(OtrlUserState us, const char *path,
                      const char *accountname, const char *protocol,
                      GError **error)
{
    PotrSync *s = NULL;
    GHashTable *disk = NULL;
    GHashTable *tags = NULL;
    GHashTableIter it;
    gpointer k, v;
    OtrlInsTag *t;
    char *key = NULL;
    PotrFileSig sig;
    int lock = -1;
    gboolean ok = FALSE;

    g_return_val_if_fail(us != NULL && path != NULL, FALSE);
    g_return_val_if_fail(accountname != NULL && protocol != NULL, FALSE);

    s = potr_sync_get(us, path);
    key = g_strconcat(accountname, "\t", protocol, NULL);
    /* one tag per account: the new one replaces the old in place */
    t = otrl_instag_find(us, accountname, protocol);
    if (t != NULL)
        t->instag = otrl_instag_get_new();
    else
        instags_add(us, accountname, protocol, otrl_instag_get_new());
    g_hash_table_add(s->created, g_strdup(key));

    lock = potr_file_lock(path, error);
    if (lock < 0)
        goto cleanup;
    potr_file_sig_of_path(path, &sig);
    disk = instags_read_table(path, NULL);
    if (disk == NULL) /* marked damaged: a copy is kept before the write */
        disk = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    tags = instags_merge(disk, us, s->created);
    /* accounts this process had no tag for take the file's; live
     * contexts keep the tags they were made with */
    g_hash_table_iter_init(&it, tags);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        char **f = g_strsplit(k, "\t", 2);

        if (otrl_instag_find(us, f[0], f[1]) == NULL)
            instags_add(us, f[0], f[1], GPOINTER_TO_UINT(v));
        g_strfreev(f);
    }
    ok = potr_file_write_atomic(path, instags_writer, tags, error);
    if (ok) {
        g_hash_table_remove_all(s->created);
        potr_file_sig_of_path(path, &sig);
    }
    potr_sync_set_sig(s, &sig);

cleanup:
    potr_file_unlock(&lock);
    if (disk != NULL)
        g_hash_table_unref(disk);
    if (tags != NULL)
        g_hash_table_unref(tags);
    g_free(key);
    return ok;
}
