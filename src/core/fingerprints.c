/* purple-otr - GPL-2.0-or-later
 * Fingerprints: the fingerprint file, read in linear time, merged with
 * another program's changes, and saved. */

#include "i18n.h"

#include <errno.h>
#include <string.h>

#include <libotr/proto.h>
#include <libotr/context.h>
#include <libotr/instag.h>

#include "potr.h"
#include "file.h"
#include "line.h"
#include "sync.h"
#include "fingerprints.h"

/* One accepted line. The strings point into the reader's string chunk. */
typedef struct {
    const char *username;
    const char *accountname;
    const char *protocol;
    const char *trust; /* NULL when the line has no trust field */
    guint seq;         /* line order, to keep libotr's per-context order */
    unsigned char fingerprint[20];
} FpEntry;

static GHashTable *
fp_str_table(void)
{
    return g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
}

static gboolean
fp_parse_hex(const char *hex, unsigned char out[20])
{
    int i;

    for (i = 0; i < 40; i++) {
        if (!g_ascii_isxdigit(hex[i]))
            return FALSE;
    }
    if (hex[40] != '\0')
        return FALSE;
    for (i = 0; i < 20; i++)
        out[i] = (unsigned char)((g_ascii_xdigit_value(hex[2 * i]) << 4) |
                                 g_ascii_xdigit_value(hex[2 * i + 1]));
    return TRUE;
}

/* Split LINE (LEN bytes, NUL-terminated, in place) into
 * user TAB account TAB protocol TAB 40-hex [TAB trust] [CR].
 * Stricter than libotr on purpose: libotr reads a non-hex digit as 0 and a
 * fifth tab as part of the trust, which turns damage into wrong trust. Here
 * such a line is refused. A CR only counts as the end of a CRLF line. */
static gboolean
fp_parse_line(char *line, gsize len, char *fields[5], gboolean *has_trust)
{
    int nfields = 1;
    gsize i;

    if (len > 0 && line[len - 1] == '\r')
        line[--len] = '\0';
    if (memchr(line, '\0', len) != NULL || memchr(line, '\r', len) != NULL)
        return FALSE;
    fields[0] = line;
    for (i = 0; i < len; i++) {
        if (line[i] != '\t')
            continue;
        if (nfields == 5)
            return FALSE;
        line[i] = '\0';
        fields[nfields++] = line + i + 1;
    }
    if (nfields < 4)
        return FALSE;
    for (i = 0; i < 3; i++) {
        if (fields[i][0] == '\0')
            return FALSE;
    }
    *has_trust = nfields == 5;
    return TRUE;
}

/* Read every well-formed line of FP into ENTRIES; count the others.
 * FALSE (with errno set) on a read error. */
static gboolean
fp_read_lines(FILE *fp, GStringChunk *chunk, GArray *entries, guint *skipped)
{
    int errsv = 0;
    char *buf = g_malloc(POTR_LINE_BUF);
    gboolean ok = FALSE;
    PotrLine state;
    gsize len = 0;
    guint seq = 0;

    errno = 0;
    flockfile(fp);
    while ((state = potr_line_read(fp, buf, &len)) != POTR_LINE_EOF) {
        FpEntry e;
        char *fields[5] = { NULL };
        gboolean has_trust = FALSE;

        if (state == POTR_LINE_ERROR) {
            errsv = errno != 0 ? errno : EIO;
            goto cleanup;
        }
        /* Why an unterminated last line is refused: libotr does the same,
         * and it is what an interrupted write leaves; a cut trust field
         * ("verif") would still read as trusted. */
        if (state != POTR_LINE_OK || !fp_parse_line(buf, len, fields, &has_trust) ||
            !fp_parse_hex(fields[3], e.fingerprint)) {
            (*skipped)++;
            continue;
        }
        e.username = g_string_chunk_insert(chunk, fields[0]);
        e.accountname = g_string_chunk_insert(chunk, fields[1]);
        e.protocol = g_string_chunk_insert(chunk, fields[2]);
        e.trust = has_trust ? g_string_chunk_insert(chunk, fields[4]) : NULL;
        e.seq = seq++;
        g_array_append_val(entries, e);
    }
    ok = TRUE;

cleanup:
    funlockfile(fp);
    g_free(buf);
    errno = errsv;
    return ok;
}

/* Descending (username, accountname, protocol), with strcmp() as libotr
 * compares them; lines of one context keep their file order. */
static int
fp_entry_cmp(gconstpointer a, gconstpointer b)
{
    const FpEntry *x = a;
    const FpEntry *y = b;
    int c = strcmp(y->username, x->username);

    if (c == 0)
        c = strcmp(y->accountname, x->accountname);
    if (c == 0)
        c = strcmp(y->protocol, x->protocol);
    if (c == 0)
        c = x->seq < y->seq ? -1 : (x->seq > y->seq ? 1 : 0);
    return c;
}

static gboolean
fp_same_context(const FpEntry *a, const FpEntry *b)
{
    return strcmp(a->username, b->username) == 0 &&
           strcmp(a->accountname, b->accountname) == 0 &&
           strcmp(a->protocol, b->protocol) == 0;
}

/* Why this order is fast: libotr keeps us->context_root sorted ascending
 * and otrl_context_find() walks it from the head until it reaches an entry
 * not smaller than the one looked for. The file is written in that same
 * ascending order, so libotr's reader walks past every context already
 * loaded for each line: O(n^2), seconds for 20,000 entries. Fed in
 * descending order, every new context is smaller than the head and the
 * walk stops at once (when US held no contexts before). Lines of one
 * context are applied in file order, so each context's fingerprint list
 * and trust values come out exactly as libotr's reader makes them. */
static void
fp_insert(OtrlUserState us, GArray *entries,
          void (*add_app_data)(void *data, ConnContext *context), void *data)
{
    const FpEntry *prev = NULL;
    ConnContext *context = NULL;
    guint i;

    g_array_sort(entries, fp_entry_cmp);
    for (i = 0; i < entries->len; i++) {
        FpEntry *e = &g_array_index(entries, FpEntry, i);
        Fingerprint *fng;

        if (prev == NULL || !fp_same_context(prev, e))
            context = otrl_context_find(us, e->username, e->accountname, e->protocol,
                                        OTRL_INSTAG_MASTER, 1, NULL, add_app_data, data);
        fng = otrl_context_find_fingerprint(context, e->fingerprint, 1, NULL);
        otrl_context_set_trust(fng, e->trust);
        prev = e;
    }
}

/* "user TAB account TAB protocol TAB 40-hex": a fingerprint's line in the
 * file without its trust field; the key of the merge tables (g_free). */
static char *
fp_key(const char *username, const char *accountname, const char *protocol,
       const unsigned char fp[20])
{
    static const char hex[] = "0123456789abcdef";
    gsize lu = strlen(username);
    gsize la = strlen(accountname);
    gsize lp = strlen(protocol);
    char *key = g_malloc(lu + la + lp + 3 + 40 + 1);
    char *p = key;
    int i;

    /* by hand: this runs for every fingerprint on every save */
    memcpy(p, username, lu);
    p += lu;
    *p++ = '\t';
    memcpy(p, accountname, la);
    p += la;
    *p++ = '\t';
    memcpy(p, protocol, lp);
    p += lp;
    *p++ = '\t';
    for (i = 0; i < 20; i++) {
        *p++ = hex[fp[i] >> 4];
        *p++ = hex[fp[i] & 0xf];
    }
    *p = '\0';
    return key;
}

/* Why some fingerprints are never written: libotr (and so pidgin-otr, and
 * an older purple-otr) reads this file with fgets() into 1000 bytes. A
 * longer line is cut, and its tail is read as a line of its own: a buddy
 * name of 999 bytes or more can make the tail read as a *verified*
 * fingerprint of another buddy. A name with a tab, CR or newline shifts
 * the fields the same way, and the store's reader refuses an empty name.
 * Such a fingerprint (no real account has such names) is kept in memory
 * for this run only; the reader refuses such lines too (see
 * potr_line_read()). */
static gboolean
fp_writable(const char *key, const char *trust)
{
    int tabs = 0;
    const char *p;

    /* an empty name too: the store's reader refuses it */
    if (strlen(key) + 1 + strlen(trust) > POTR_STORE_MAX_LINE || key[0] == '\t' ||
        strstr(key, "\t\t") != NULL)
        return FALSE;
    for (p = key; *p != '\0'; p++) {
        if (*p == '\n' || *p == '\r')
            return FALSE;
        if (*p == '\t')
            tabs++;
    }
    return tabs == 3 && strpbrk(trust, "\t\r\n") == NULL;
}

static const char *
fp_trust_str(const char *trust)
{
    return trust != NULL ? trust : "";
}

/* Every fingerprint of US: key -> trust ("" for none). */
static GHashTable *
fp_snapshot(OtrlUserState us)
{
    GHashTable *map = fp_str_table();
    ConnContext *c;
    Fingerprint *f;

    for (c = us->context_root; c != NULL; c = c->next) {
        if (c->m_context != c)
            continue;
        for (f = c->fingerprint_root.next; f != NULL; f = f->next)
            g_hash_table_replace(map, fp_key(c->username, c->accountname, c->protocol,
                                             f->fingerprint),
                                 g_strdup(fp_trust_str(f->trust)));
    }
    return map;
}

static GHashTable *
fp_table_copy(GHashTable *from)
{
    GHashTable *to = fp_str_table();
    GHashTableIter it;
    gpointer k, v;

    g_hash_table_iter_init(&it, from);
    while (g_hash_table_iter_next(&it, &k, &v))
        g_hash_table_replace(to, g_strdup(k), g_strdup(v));
    return to;
}

/* Read the fingerprint file at PATH: its well-formed lines go to ENTRIES
 * (their strings to CHUNK), the others are counted in *BAD and mark PATH
 * damaged. A missing file sets *MISSING and reads nothing. A read error
 * marks PATH damaged too and returns FALSE with ERROR (POTR_ERROR_IO). */
static gboolean
fp_read_file(const char *path, GStringChunk *chunk, GArray *entries, guint *bad,
             gboolean *missing, GError **error)
{
    FILE *fp = potr_file_open_read(path, missing, error);
    gboolean ok = FALSE;

    if (fp == NULL)
        return *missing;
    if (!fp_read_lines(fp, chunk, entries, bad)) {
        g_set_error(error, POTR_ERROR, POTR_ERROR_IO, _("Could not read %s: %s"),
                    path, g_strerror(errno));
        potr_file_mark_damaged(path);
        goto cleanup;
    }
    if (*bad > 0)
        potr_file_mark_damaged(path);
    ok = TRUE;

cleanup:
    fclose(fp);
    return ok;
}

/* ENTRIES as a table: key -> trust ("" for none); a later line wins, as
 * in libotr. */
static GHashTable *
fp_entries_table(GArray *entries)
{
    GHashTable *map = fp_str_table();
    guint i;

    for (i = 0; i < entries->len; i++) {
        FpEntry *e = &g_array_index(entries, FpEntry, i);

        g_hash_table_replace(map, fp_key(e->username, e->accountname, e->protocol,
                                         e->fingerprint),
                             g_strdup(fp_trust_str(e->trust)));
    }
    return map;
}

/* The fingerprint file at PATH as a table (fp_entries_table()). A missing
 * file is an empty table. Damaged lines mark PATH damaged; a read error
 * does too and returns NULL with ERROR. */
static GHashTable *
fp_read_table(const char *path, GError **error)
{
    GStringChunk *chunk = g_string_chunk_new(64 * 1024);
    GArray *entries = g_array_new(FALSE, FALSE, sizeof(FpEntry));
    GHashTable *map = NULL;
    gboolean missing = FALSE;
    guint bad = 0;

    if (fp_read_file(path, chunk, entries, &bad, &missing, error))
        map = fp_entries_table(entries);
    g_array_unref(entries);
    g_string_chunk_free(chunk);
    return map;
}

/* DISK plus what this process did since BASE: a fingerprint in MEM that
 * BASE lacks was added here, one whose trust differs was (dis)trusted
 * here, one of BASE that MEM lacks was forgotten here. Fingerprints that
 * cannot be written stay out. */
static GHashTable *
fp_merge(GHashTable *disk, GHashTable *base, GHashTable *mem)
{
    GHashTable *result = fp_table_copy(disk);
    GHashTableIter it;
    gpointer k, v;

    g_hash_table_iter_init(&it, mem);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        const char *was = g_hash_table_lookup(base, k);

        if (!fp_writable(k, v))
            continue;
        if (was == NULL || strcmp(was, v) != 0)
            g_hash_table_replace(result, g_strdup(k), g_strdup(v));
    }
    g_hash_table_iter_init(&it, base);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        if (!g_hash_table_contains(mem, k))
            g_hash_table_remove(result, k);
    }
    return result;
}

static gboolean
fp_in_use(ConnContext *master, Fingerprint *f)
{
    ConnContext *c;

    for (c = master; c != NULL && c->m_context == master; c = c->next) {
        if (c->active_fingerprint == f)
            return TRUE;
    }
    return FALSE;
}

/* Add the fingerprint of KEY (a writable key) with TRUST to US. */
static void
fp_add_key(OtrlUserState us, const char *key, const char *trust)
{
    char **f = g_strsplit(key, "\t", 4);
    unsigned char fp[20];
    ConnContext *context;

    if (g_strv_length(f) == 4 && fp_parse_hex(f[3], fp)) {
        context = otrl_context_find(us, f[0], f[1], f[2], OTRL_INSTAG_MASTER, 1, NULL, NULL, NULL);
        otrl_context_set_trust(otrl_context_find_fingerprint(context, fp, 1, NULL), trust);
    }
    g_strfreev(f);
}

/* Make US's fingerprints those of TARGET, in place (see the top of
 * sync.c). A fingerprint in use that TARGET lacks loses its trust and goes
 * to ZOMBIES (key -> ""). Returns how many changed. */
static guint
fp_apply(OtrlUserState us, GHashTable *target, GHashTable *zombies)
{
    GHashTable *seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    GHashTableIter it;
    gpointer k, v;
    guint changes = 0;
    ConnContext *c;

    for (c = us->context_root; c != NULL; c = c->next) {
        Fingerprint *f = c->m_context == c ? c->fingerprint_root.next : NULL;

        while (f != NULL) {
            Fingerprint *next = f->next;
            char *key = fp_key(c->username, c->accountname, c->protocol, f->fingerprint);
            const char *want = g_hash_table_lookup(target, key);
            const char *has = fp_trust_str(f->trust);

            if (want != NULL) {
                if (strcmp(want, has) != 0) {
                    otrl_context_set_trust(f, want);
                    changes++;
                }
                g_hash_table_add(seen, key);
                key = NULL;
            } else if (!fp_writable(key, has)) {
                /* memory only, by design */
            } else if (fp_in_use(c, f)) {
                if (*has != '\0') {
                    otrl_context_set_trust(f, NULL);
                    changes++;
                }
                g_hash_table_replace(zombies, key, g_strdup(""));
                key = NULL;
            } else {
                otrl_context_forget_fingerprint(f, 0);
                changes++;
            }
            g_free(key);
            f = next;
        }
    }
    g_hash_table_iter_init(&it, target);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        if (!g_hash_table_contains(seen, k)) {
            fp_add_key(us, k, v);
            changes++;
        }
    }
    g_hash_table_unref(seen);
    return changes;
}

/* Merge DISK with what US changed since S last read or wrote the file
 * (fp_merge()) and make US's fingerprints the result in place
 * (fp_apply()). Returns the result (to write; g_hash_table_unref() it);
 * *ZOMBIES gets a new table of the fingerprints in use the result lacks,
 * *CHANGES (may be NULL) how many fingerprints of US changed. */
static GHashTable *
fp_merge_apply(OtrlUserState us, PotrSync *s, GHashTable *disk, GHashTable **zombies,
               guint *changes)
{
    GHashTable *mem = fp_snapshot(us);
    GHashTable *target = fp_merge(disk, s->base, mem);
    guint n = 0;

    *zombies = fp_str_table();
    n = fp_apply(us, target, *zombies);
    if (changes != NULL)
        *changes = n;
    g_hash_table_unref(mem);
    return target;
}

/* BASE becomes TABLE plus ZOMBIES. */
static void
fp_set_base(PotrSync *s, GHashTable *table, GHashTable *zombies)
{
    GHashTableIter it;
    gpointer k, v;

    g_hash_table_unref(s->base);
    s->base = fp_table_copy(table);
    g_hash_table_iter_init(&it, zombies);
    while (g_hash_table_iter_next(&it, &k, &v))
        g_hash_table_replace(s->base, g_strdup(k), g_strdup(v));
}

gboolean
potr_store_load_fingerprints(OtrlUserState us, const char *path,
                             void (*add_app_data)(void *data, ConnContext *context),
                             void *data, guint *skipped, GError **error)
{
    GStringChunk *chunk = NULL;
    GArray *entries = NULL;
    PotrSync *s = NULL;
    PotrFileSig sig;
    gboolean missing = FALSE;
    guint bad = 0;
    gboolean ok = FALSE;

    g_return_val_if_fail(us != NULL && path != NULL, FALSE);
    g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

    s = potr_sync_get(us, path);
    potr_file_sig_of_path(path, &sig);
    chunk = g_string_chunk_new(64 * 1024);
    entries = g_array_new(FALSE, FALSE, sizeof(FpEntry));
    /* on a read error nothing is applied: US is left as it was */
    ok = fp_read_file(path, chunk, entries, &bad, &missing, error);
    if (ok && !missing) {
        fp_insert(us, entries, add_app_data, data);
        /* what is on disk now is what later writes merge onto */
        g_hash_table_unref(s->base);
        s->base = fp_entries_table(entries);
    }
    if (ok)
        potr_sync_set_sig(s, &sig);

    if (skipped != NULL)
        *skipped = bad;
    g_array_unref(entries);
    g_string_chunk_free(chunk);
    return ok;
}

typedef struct {
    OtrlUserState us;
    GHashTable *lines; /* key -> trust: what to write */
} FpJob;

/* libotr's format and order (contexts as libotr sorts them, each
 * context's fingerprints in list order); only the fingerprints of LINES. */
static gboolean
fp_writer(FILE *fp, gpointer data, GError **error)
{
    FpJob *job = data;
    ConnContext *c;
    Fingerprint *f;

    for (c = job->us->context_root; c != NULL; c = c->next) {
        if (c->m_context != c)
            continue;
        for (f = c->fingerprint_root.next; f != NULL; f = f->next) {
            char *key = fp_key(c->username, c->accountname, c->protocol, f->fingerprint);
            const char *trust = g_hash_table_lookup(job->lines, key);

            if (trust != NULL)
                fprintf(fp, "%s\t%s\n", key, trust);
            else if (!fp_writable(key, fp_trust_str(f->trust)))
                g_debug("purple-otr: a fingerprint of a buddy whose name has %" G_GSIZE_FORMAT
                        " bytes (%s) is kept in memory only: its line would not be read back "
                        "by libotr", strlen(c->username), c->protocol);
            g_free(key);
        }
    }
    return ferror(fp) == 0;
}

/* Merge under the lock: see the top of sync.c. */
gboolean
potr_store_save_fingerprints(OtrlUserState us, const char *path, GError **error)
{
    PotrSync *s = NULL;
    GHashTable *disk = NULL;
    GHashTable *zombies = NULL;
    FpJob job = { us, NULL };
    PotrFileSig sig;
    int lock = -1;
    gboolean ok = FALSE;

    g_return_val_if_fail(us != NULL && path != NULL, FALSE);
    g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

    s = potr_sync_get(us, path);
    lock = potr_file_lock(path, error);
    if (lock < 0)
        goto cleanup;
    potr_file_sig_of_path(path, &sig);
    disk = fp_read_table(path, NULL);
    if (disk == NULL) {
        /* unreadable: it is marked damaged, so a copy is kept before it is
         * replaced; merge onto what this process last saw of it */
        disk = fp_table_copy(s->base);
    }
    job.lines = fp_merge_apply(us, s, disk, &zombies, NULL);
    ok = potr_file_write_atomic(path, fp_writer, &job, error);
    if (ok) {
        potr_file_sig_of_path(path, &sig);
        fp_set_base(s, job.lines, zombies);
    } else {
        /* memory holds the other program's changes now; ours are pending */
        fp_set_base(s, disk, zombies);
    }
    potr_sync_set_sig(s, &sig);

cleanup:
    potr_file_unlock(&lock);
    if (disk != NULL)
        g_hash_table_unref(disk);
    if (zombies != NULL)
        g_hash_table_unref(zombies);
    if (job.lines != NULL)
        g_hash_table_unref(job.lines);
    return ok;
}

gboolean
potr_store_refresh_fingerprints(OtrlUserState us, const char *path, guint *changed,
                                GError **error)
{
    PotrSync *s = NULL;
    GHashTable *disk = NULL;
    GHashTable *target = NULL;
    GHashTable *zombies = NULL;
    PotrFileSig sig;
    guint n = 0;
    gboolean ok = TRUE;

    g_return_val_if_fail(us != NULL && path != NULL, FALSE);
    g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

    s = potr_sync_get(us, path);
    if (!potr_sync_changed(s))
        goto cleanup;
    potr_file_sig_of_path(path, &sig);
    /* remembered even after a failure: a damaged file is reported once */
    potr_sync_set_sig(s, &sig);
    disk = fp_read_table(path, error);
    if (disk == NULL) {
        ok = FALSE;
        goto cleanup;
    }
    target = fp_merge_apply(us, s, disk, &zombies, &n);
    fp_set_base(s, disk, zombies);

cleanup:
    if (changed != NULL)
        *changed = n;
    if (disk != NULL)
        g_hash_table_unref(disk);
    if (target != NULL)
        g_hash_table_unref(target);
    if (zombies != NULL)
        g_hash_table_unref(zombies);
    return ok;
}
