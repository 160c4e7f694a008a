/* purple-otr - GPL-2.0-or-later
 * Store: atomic replacement of the OTR files, their readers (a linear-time
 * fingerprint reader among them) and private key generation in a thread. */

#include "i18n.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <libotr/context.h>
#include <libotr/instag.h>
#include <libotr/privkey.h>

#include "potr.h"
#include "store.h"

/* A key file larger than this is not handed to libotr, whose reader
 * allocates the whole file at once. One DSA key takes about 1.5 KiB, so
 * this leaves room for thousands of accounts. */
#define STORE_MAX_KEYFILE (16 * 1024 * 1024)

/* How many "PATH.damaged-STAMP-N" names are tried when several copies of
 * one file are kept within the same second. */
#define STORE_MAX_BACKUP_TRIES 100

/* ------------------------------------------------------------------ */
/* Damaged files                                                       */
/* ------------------------------------------------------------------ */

/* Why: a file we could not read completely is still the user's only copy of
 * what it held (keys that cannot be regenerated, verified fingerprints). The
 * next write would replace it with what we did understand, i.e. less. So a
 * path whose read failed is remembered here, and the next atomic write of
 * it first keeps the old bytes beside it. The set is touched from the main
 * thread only in practice; the lock keeps it correct if that ever changes. */
static GMutex store_damaged_lock;
static GHashTable *store_damaged; /* path (owned) -> itself */

static void
store_mark_damaged(const char *path)
{
    char *key = g_strdup(path);

    g_mutex_lock(&store_damaged_lock);
    if (store_damaged == NULL)
        store_damaged = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_hash_table_add(store_damaged, key);
    g_mutex_unlock(&store_damaged_lock);
    /* the table owns KEY; cppcheck does not know g_hash_table_add */
    /* cppcheck-suppress memleak */
}

static gboolean
store_is_damaged(const char *path)
{
    gboolean damaged = FALSE;

    g_mutex_lock(&store_damaged_lock);
    if (store_damaged != NULL)
        damaged = g_hash_table_contains(store_damaged, path);
    g_mutex_unlock(&store_damaged_lock);
    return damaged;
}

/* The table is freed when it empties, so nothing stays allocated once every
 * damaged file has been backed up and rewritten. */
static void
store_clear_damaged(const char *path)
{
    g_mutex_lock(&store_damaged_lock);
    if (store_damaged != NULL) {
        g_hash_table_remove(store_damaged, path);
        if (g_hash_table_size(store_damaged) == 0)
            g_clear_pointer(&store_damaged, g_hash_table_unref);
    }
    g_mutex_unlock(&store_damaged_lock);
}

/* ------------------------------------------------------------------ */
/* Low-level file helpers                                              */
/* ------------------------------------------------------------------ */

/* If PATH is a symbolic link, the file it points to; else PATH. A user who
 * keeps otr.private_key on another volume through a link keeps the link:
 * rename() over the link itself would silently move the secret. */
static char *
store_resolve(const char *path)
{
    struct stat st;
    char *real = NULL;
    char *result = NULL;

    if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode))
        real = realpath(path, NULL);
    result = g_strdup(real != NULL ? real : path);
    free(real);
    return result;
}

static gboolean
store_write_all(int fd, const char *buf, gsize len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return FALSE;
        buf += n;
        len -= (gsize)n;
    }
    return TRUE;
}

/* Copy the file open on IN to the new file OUT; FALSE with errno set. */
static gboolean
store_copy_fd(int in, int out)
{
    char buf[16384];

    for (;;) {
        ssize_t n = read(in, buf, sizeof(buf));

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return FALSE;
        if (n == 0)
            return fsync(out) == 0;
        if (!store_write_all(out, buf, (gsize)n))
            return FALSE;
    }
}

/* Create PATH.damaged-YYYYMMDD-HHMMSS (or -N if taken), mode 0600, never
 * replacing an existing file (O_EXCL). Returns the fd, -1 with errno. */
static int
store_create_backup(const char *path, char **name_out)
{
    GDateTime *now = g_date_time_new_now_local();
    char *stamp = g_date_time_format(now, "%Y%m%d-%H%M%S");
    int fd = -1;
    int i;

    g_date_time_unref(now);
    for (i = 0; i < STORE_MAX_BACKUP_TRIES && fd < 0; i++) {
        g_free(*name_out);
        *name_out = i == 0 ? g_strdup_printf("%s.damaged-%s", path, stamp)
                           : g_strdup_printf("%s.damaged-%s-%d", path, stamp, i);
        fd = open(*name_out, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0 && errno != EEXIST)
            break;
    }
    g_free(stamp);
    return fd;
}

/* Keep a copy of PATH beside it before it is replaced (see "Damaged files").
 * A missing PATH needs no copy. If the copy cannot be made the caller must
 * not replace PATH. */
static gboolean
store_keep_damaged_copy(const char *path, GError **error)
{
    char *backup = NULL;
    int in = -1;
    int out = -1;
    int errsv = 0;
    gboolean ok = FALSE;

    in = open(path, O_RDONLY | O_CLOEXEC);
    if (in < 0 && errno == ENOENT) {
        ok = TRUE;
        goto cleanup;
    }
    if (in < 0) {
        errsv = errno;
        goto cleanup;
    }
    out = store_create_backup(path, &backup);
    if (out < 0) {
        errsv = errno;
        goto cleanup;
    }
    ok = store_copy_fd(in, out);
    errsv = errno;
    if (close(out) != 0 && ok) {
        errsv = errno;
        ok = FALSE;
    }
    if (!ok)
        unlink(backup);

cleanup:
    if (!ok)
        g_set_error(error, POTR_ERROR, POTR_ERROR_IO,
                    _("%s could not be read completely and a copy of it could not be kept, "
                      "so it was not replaced: %s"),
                    path, g_strerror(errsv));
    if (in >= 0)
        close(in);
    g_free(backup);
    return ok;
}

/* Make a finished rename() durable. Some file systems cannot fsync a
 * folder (EINVAL); the new file is in place either way, so this only logs. */
static void
store_sync_dir(const char *path)
{
    char *dir = g_path_get_dirname(path);
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

    if (fd < 0 || fsync(fd) != 0)
        g_debug("purple-otr: could not sync folder %s: %s", dir, g_strerror(errno));
    if (fd >= 0)
        close(fd);
    g_free(dir);
}

/* ------------------------------------------------------------------ */
/* Atomic write                                                        */
/* ------------------------------------------------------------------ */

/* Close FP after flushing its data to the disk; FALSE with errno set. */
static gboolean
store_finish_file(FILE *fp)
{
    int errsv = 0;

    errno = 0;
    if (fflush(fp) != 0 || ferror(fp))
        errsv = errno != 0 ? errno : EIO;
    else if (fsync(fileno(fp)) != 0)
        errsv = errno;
    if (fclose(fp) != 0 && errsv == 0)
        errsv = errno;
    errno = errsv;
    return errsv == 0;
}

/* Create TARGET.tmp-XXXXXX (mode 0600, O_EXCL) and open it for writing
 * and reading; *TMP gets its name (set even on failure, g_free it). */
static FILE *
store_open_temp(const char *target, char **tmp, GError **error)
{
    FILE *fp = NULL;
    int fd;

    *tmp = g_strconcat(target, ".tmp-XXXXXX", NULL);
    fd = g_mkstemp_full(*tmp, O_RDWR | O_CLOEXEC, 0600);
    if (fd < 0) {
        g_set_error(error, POTR_ERROR, POTR_ERROR_IO,
                    _("Could not create a temporary file beside %s: %s"),
                    target, g_strerror(errno));
        g_clear_pointer(tmp, g_free);
        return NULL;
    }
    /* "w+": libotr reads the new key file back from the same FILE */
    fp = fdopen(fd, "w+b");
    if (fp == NULL) {
        g_set_error(error, POTR_ERROR, POTR_ERROR_IO, _("Could not write %s: %s"),
                    *tmp, g_strerror(errno));
        close(fd);
        unlink(*tmp);
        g_clear_pointer(tmp, g_free);
    }
    return fp;
}

/* Why this order: the new content goes to a temporary file in the same
 * folder (rename() is only atomic within one file system), is on the disk
 * (fsync) before the rename, and the folder is synced after it. A crash at
 * any point leaves either the whole old file or the whole new one, never a
 * truncated file: pidgin-otr's fopen("w") lost every key on a crash during
 * key generation. The temporary file is created with mode 0600 by open()
 * itself (g_mkstemp_full), not by changing the process-wide umask, which
 * other threads would see; the umask can only remove permissions. */
gboolean
potr_store_write_atomic(const char *path, PotrStoreWriter writer,
                        gpointer data, GError **error)
{
    char *target = NULL;
    char *tmp = NULL; /* non-NULL while the temporary file exists */
    FILE *fp = NULL;
    gboolean ok = FALSE;

    g_return_val_if_fail(path != NULL && *path != '\0', FALSE);
    g_return_val_if_fail(writer != NULL, FALSE);
    g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

    target = store_resolve(path);
    if (store_is_damaged(path) && !store_keep_damaged_copy(target, error))
        goto cleanup;
    fp = store_open_temp(target, &tmp, error);
    if (fp == NULL)
        goto cleanup;
    if (!writer(fp, data, error)) {
        if (error != NULL && *error == NULL)
            g_set_error(error, POTR_ERROR, POTR_ERROR_IO, _("Could not write %s"), target);
        goto cleanup;
    }
    ok = store_finish_file(fp);
    fp = NULL;
    if (!ok) {
        g_set_error(error, POTR_ERROR, POTR_ERROR_IO, _("Could not write %s: %s"),
                    tmp, g_strerror(errno));
        goto cleanup;
    }
    ok = rename(tmp, target) == 0;
    if (!ok) {
        g_set_error(error, POTR_ERROR, POTR_ERROR_IO, _("Could not replace %s: %s"),
                    target, g_strerror(errno));
        goto cleanup;
    }
    g_clear_pointer(&tmp, g_free);
    store_sync_dir(target);
    store_clear_damaged(path);

cleanup:
    if (fp != NULL)
        fclose(fp);
    if (tmp != NULL)
        unlink(tmp);
    g_free(tmp);
    g_free(target);
    return ok;
}

/* ------------------------------------------------------------------ */
/* Private keys                                                        */
/* ------------------------------------------------------------------ */

/* libotr returns errno values wrapped in gcry_error_t; everything else
 * it reports while reading a file means the content was not understood. */
static void
store_set_read_error(GError **error, gcry_error_t err, const char *path)
{
    gcry_err_code_t code = gcry_err_code(err);

    /* not gcry_err_code_to_errno() != 0: libgpg-error maps other codes too */
    if ((code & GPG_ERR_SYSTEM_ERROR) != 0)
        g_set_error(error, POTR_ERROR, POTR_ERROR_IO, _("Could not read %s: %s"),
                    path, g_strerror(gcry_err_code_to_errno(code)));
    else
        g_set_error(error, POTR_ERROR, POTR_ERROR_CORRUPT,
                    _("%s is damaged and could not be read completely (%s)"),
                    path, gcry_strerror(err));
}

/* Open PATH for reading. A missing file sets *MISSING and returns NULL
 * without an error. Any other failure marks PATH damaged. */
static FILE *
store_open_read(const char *path, gboolean *missing, GError **error)
{
    FILE *fp = fopen(path, "rbe");

    *missing = FALSE;
    if (fp == NULL) {
        int errsv = errno;

        if (errsv == ENOENT) {
            *missing = TRUE;
            return NULL;
        }
        store_mark_damaged(path);
        g_set_error(error, POTR_ERROR, POTR_ERROR_IO, _("Could not read %s: %s"),
                    path, g_strerror(errsv));
    }
    return fp;
}

/* Why: the key file is the user's identity. An older program (or a copy by
 * hand) may have left it readable by others; we own it, so tighten it. */
static void
store_tighten_mode(int fd, const struct stat *st)
{
    if ((st->st_mode & 077) != 0 && st->st_uid == geteuid())
        (void)fchmod(fd, S_IRUSR | S_IWUSR);
}

gboolean
potr_store_load_keys(OtrlUserState us, const char *path, GError **error)
{
    FILE *fp = NULL;
    struct stat st;
    gboolean missing = FALSE;
    gcry_error_t err;
    gboolean ok = FALSE;

    g_return_val_if_fail(us != NULL && path != NULL, FALSE);
    g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

    fp = store_open_read(path, &missing, error);
    if (fp == NULL) {
        if (missing)
            otrl_privkey_forget_all(us);
        ok = missing;
        goto cleanup;
    }
    if (fstat(fileno(fp), &st) != 0) {
        store_mark_damaged(path);
        g_set_error(error, POTR_ERROR, POTR_ERROR_IO, _("Could not read %s: %s"),
                    path, g_strerror(errno));
        goto cleanup;
    }
    store_tighten_mode(fileno(fp), &st);
    if (st.st_size == 0) {
        /* what a crashed non-atomic writer leaves: nothing to keep */
        otrl_privkey_forget_all(us);
        ok = TRUE;
        goto cleanup;
    }
    if (st.st_size > STORE_MAX_KEYFILE) {
        store_mark_damaged(path);
        g_set_error(error, POTR_ERROR, POTR_ERROR_CORRUPT,
                    _("%s is too large to be a key file"), path);
        goto cleanup;
    }
    err = otrl_privkey_read_FILEp(us, fp);
    if (err) {
        store_mark_damaged(path);
        store_set_read_error(error, err, path);
        goto cleanup;
    }
    ok = TRUE;

cleanup:
    if (fp != NULL)
        fclose(fp);
    return ok;
}

/* ------------------------------------------------------------------ */
/* Fingerprints                                                        */
/* ------------------------------------------------------------------ */

/* One accepted line. The strings point into the reader's string chunk. */
typedef struct {
    const char *username;
    const char *accountname;
    const char *protocol;
    const char *trust; /* NULL when the line has no trust field */
    guint seq;         /* line order, to keep libotr's per-context order */
    unsigned char fingerprint[20];
} StoreFpEntry;

typedef enum {
    STORE_LINE_OK,
    STORE_LINE_EOF,
    STORE_LINE_TOO_LONG,     /* consumed and dropped */
    STORE_LINE_UNTERMINATED, /* the file ends inside it */
    STORE_LINE_ERROR         /* read error, errno set */
} StoreLine;

/* Read one line of at most POTR_STORE_MAX_LINE bytes (newline excluded)
 * into BUF, which holds POTR_STORE_MAX_LINE + 1 bytes. Memory stays
 * bounded whatever the file holds: longer lines are read to their end and
 * dropped. */
static StoreLine
store_read_line(FILE *fp, char *buf, gsize *len)
{
    gsize n = 0;
    gboolean too_long = FALSE;
    int c;

    while ((c = getc_unlocked(fp)) != EOF && c != '\n') {
        if (n < POTR_STORE_MAX_LINE)
            buf[n++] = (char)c;
        else
            too_long = TRUE;
    }
    buf[n] = '\0';
    *len = n;
    if (c == EOF && ferror(fp))
        return STORE_LINE_ERROR;
    if (c == EOF && n == 0 && !too_long)
        return STORE_LINE_EOF;
    if (too_long)
        return STORE_LINE_TOO_LONG;
    return c == EOF ? STORE_LINE_UNTERMINATED : STORE_LINE_OK;
}

static gboolean
store_parse_hex(const char *hex, unsigned char out[20])
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
store_parse_line(char *line, gsize len, char *fields[5], gboolean *has_trust)
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
store_read_fingerprint_lines(FILE *fp, GStringChunk *chunk, GArray *entries,
                             guint *skipped)
{
    int errsv = 0;
    char *buf = g_malloc(POTR_STORE_MAX_LINE + 1);
    gboolean ok = FALSE;
    StoreLine state;
    gsize len = 0;
    guint seq = 0;

    errno = 0;
    flockfile(fp);
    while ((state = store_read_line(fp, buf, &len)) != STORE_LINE_EOF) {
        StoreFpEntry e;
        char *fields[5] = { NULL };
        gboolean has_trust = FALSE;

        if (state == STORE_LINE_ERROR) {
            errsv = errno != 0 ? errno : EIO;
            goto cleanup;
        }
        /* Why an unterminated last line is refused: libotr does the same,
         * and it is what an interrupted write leaves; a cut trust field
         * ("verif") would still read as trusted. */
        if (state != STORE_LINE_OK || !store_parse_line(buf, len, fields, &has_trust) ||
            !store_parse_hex(fields[3], e.fingerprint)) {
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
store_fp_entry_cmp(gconstpointer a, gconstpointer b)
{
    const StoreFpEntry *x = a;
    const StoreFpEntry *y = b;
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
store_same_context(const StoreFpEntry *a, const StoreFpEntry *b)
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
store_insert_fingerprints(OtrlUserState us, GArray *entries,
                          void (*add_app_data)(void *data, ConnContext *context),
                          void *data)
{
    const StoreFpEntry *prev = NULL;
    ConnContext *context = NULL;
    guint i;

    g_array_sort(entries, store_fp_entry_cmp);
    for (i = 0; i < entries->len; i++) {
        StoreFpEntry *e = &g_array_index(entries, StoreFpEntry, i);
        Fingerprint *fng;

        if (prev == NULL || !store_same_context(prev, e))
            context = otrl_context_find(us, e->username, e->accountname, e->protocol,
                                        OTRL_INSTAG_MASTER, 1, NULL, add_app_data, data);
        fng = otrl_context_find_fingerprint(context, e->fingerprint, 1, NULL);
        otrl_context_set_trust(fng, e->trust);
        prev = e;
    }
}

gboolean
potr_store_load_fingerprints(OtrlUserState us, const char *path,
                             void (*add_app_data)(void *data, ConnContext *context),
                             void *data, guint *skipped, GError **error)
{
    GStringChunk *chunk = NULL;
    GArray *entries = NULL;
    FILE *fp = NULL;
    gboolean missing = FALSE;
    guint bad = 0;
    gboolean ok = FALSE;

    g_return_val_if_fail(us != NULL && path != NULL, FALSE);
    g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

    fp = store_open_read(path, &missing, error);
    if (fp == NULL) {
        ok = missing;
        goto cleanup;
    }
    chunk = g_string_chunk_new(64 * 1024);
    entries = g_array_new(FALSE, FALSE, sizeof(StoreFpEntry));
    if (!store_read_fingerprint_lines(fp, chunk, entries, &bad)) {
        /* nothing is applied: US is left as it was */
        g_set_error(error, POTR_ERROR, POTR_ERROR_IO, _("Could not read %s: %s"),
                    path, g_strerror(errno));
        store_mark_damaged(path);
        goto cleanup;
    }
    store_insert_fingerprints(us, entries, add_app_data, data);
    if (bad > 0)
        store_mark_damaged(path);
    ok = TRUE;

cleanup:
    if (skipped != NULL)
        *skipped = bad;
    if (fp != NULL)
        fclose(fp);
    if (entries != NULL)
        g_array_unref(entries);
    if (chunk != NULL)
        g_string_chunk_free(chunk);
    return ok;
}

static gboolean
store_fingerprints_writer(FILE *fp, gpointer data, GError **error)
{
    gcry_error_t err = otrl_privkey_write_fingerprints_FILEp((OtrlUserState)data, fp);

    if (err) {
        g_set_error(error, POTR_ERROR, POTR_ERROR_IO, _("Could not write the fingerprints: %s"),
                    gcry_strerror(err));
        return FALSE;
    }
    return TRUE;
}

gboolean
potr_store_save_fingerprints(OtrlUserState us, const char *path, GError **error)
{
    g_return_val_if_fail(us != NULL && path != NULL, FALSE);

    return potr_store_write_atomic(path, store_fingerprints_writer, us, error);
}

/* ------------------------------------------------------------------ */
/* Instance tags                                                       */
/* ------------------------------------------------------------------ */

gboolean
potr_store_load_instags(OtrlUserState us, const char *path, GError **error)
{
    FILE *fp = NULL;
    gboolean missing = FALSE;
    gcry_error_t err;
    gboolean ok = FALSE;

    g_return_val_if_fail(us != NULL && path != NULL, FALSE);
    g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

    fp = store_open_read(path, &missing, error);
    if (fp == NULL) {
        ok = missing;
        goto cleanup;
    }
    /* libotr's reader adds to what US holds; a second load would
     * duplicate every tag */
    otrl_instag_forget_all(us);
    err = otrl_instag_read_FILEp(us, fp);
    if (err) {
        store_set_read_error(error, err, path);
        goto cleanup;
    }
    ok = TRUE;

cleanup:
    if (fp != NULL)
        fclose(fp);
    return ok;
}

typedef struct {
    OtrlUserState us;
    const char *accountname;
    const char *protocol;
} StoreInstagJob;

static gboolean
store_instag_writer(FILE *fp, gpointer data, GError **error)
{
    StoreInstagJob *job = data;
    gcry_error_t err = otrl_instag_generate_FILEp(job->us, fp, job->accountname, job->protocol);

    if (err) {
        g_set_error(error, POTR_ERROR, POTR_ERROR_IO, _("Could not write the instance tags: %s"),
                    gcry_strerror(err));
        return FALSE;
    }
    return TRUE;
}

gboolean
potr_store_new_instag(OtrlUserState us, const char *path,
                      const char *accountname, const char *protocol,
                      GError **error)
{
    StoreInstagJob job = { us, accountname, protocol };
    OtrlInsTag *old;

    g_return_val_if_fail(us != NULL && path != NULL, FALSE);
    g_return_val_if_fail(accountname != NULL && protocol != NULL, FALSE);

    /* one tag per account: libotr would keep the old one beside the new */
    while ((old = otrl_instag_find(us, accountname, protocol)) != NULL)
        otrl_instag_forget(old);
    return potr_store_write_atomic(path, store_instag_writer, &job, error);
}

/* ------------------------------------------------------------------ */
/* Key generation                                                      */
/* ------------------------------------------------------------------ */

/* One generation. Owned by the main thread (store_jobs); the worker only
 * touches NEWKEY (through libotr), CALC_ERR and SOURCE, and the main thread
 * reads them only after joining it or after SOURCE fired. */
typedef struct {
    OtrlUserState us;
    char *path;
    char *accountname;
    char *protocol;
    PotrKeygenDone done;
    gpointer user_data;
    void *newkey; /* libotr's pending key; NULL once handed back */
    gcry_error_t calc_err;
    GMainContext *context;
    GThread *thread;
    GSource *source; /* set by the worker when it is done */
} StoreKeygen;

static GList *store_jobs; /* of StoreKeygen*, main thread only */

static StoreKeygen *
store_keygen_find(const char *accountname, const char *protocol)
{
    GList *l;

    for (l = store_jobs; l != NULL; l = l->next) {
        StoreKeygen *job = l->data;

        if (strcmp(job->accountname, accountname) == 0 &&
            strcmp(job->protocol, protocol) == 0)
            return job;
    }
    return NULL;
}

static void
store_keygen_free(StoreKeygen **jobp)
{
    StoreKeygen *job = *jobp;

    if (job == NULL)
        return;
    if (job->newkey != NULL)
        otrl_privkey_generate_cancelled(job->us, job->newkey);
    if (job->source != NULL)
        g_source_unref(job->source);
    g_main_context_unref(job->context);
    g_free(job->path);
    g_free(job->accountname);
    g_free(job->protocol);
    g_free(job);
    *jobp = NULL;
}

/* libotr writes every key of US plus the new one into FP, then reads FP
 * back into US (forgetting the keys it held first). NEWKEY is consumed. */
static gboolean
store_keygen_writer(FILE *fp, gpointer data, GError **error)
{
    StoreKeygen *job = data;
    void *newkey = job->newkey;
    gcry_error_t err;

    job->newkey = NULL;
    err = otrl_privkey_generate_finish_FILEp(job->us, newkey, fp);
    if (err) {
        g_set_error(error, POTR_ERROR, POTR_ERROR_IO, _("Could not write the new key: %s"),
                    gcry_strerror(err));
        return FALSE;
    }
    return TRUE;
}

/* Back on the main loop: store the key, then tell the caller. */
static gboolean
store_keygen_finish(gpointer data)
{
    StoreKeygen *job = data;
    GError *error = NULL;
    gboolean ok = FALSE;

    g_thread_join(job->thread);
    job->thread = NULL;
    store_jobs = g_list_remove(store_jobs, job);

    if (job->calc_err) {
        g_set_error(&error, POTR_ERROR, POTR_ERROR_FAILED, _("Could not generate a key: %s"),
                    gcry_strerror(job->calc_err));
    } else if (potr_store_write_atomic(job->path, store_keygen_writer, job, &error)) {
        ok = TRUE;
    } else if (job->newkey == NULL) {
        /* libotr may have dropped US's keys before failing to read them
         * back: take them again from the file, which was left untouched */
        potr_store_load_keys(job->us, job->path, NULL);
    }
    if (job->done != NULL)
        job->done(job->accountname, job->protocol, ok, error, job->user_data);
    g_clear_error(&error);
    store_keygen_free(&job);
    return G_SOURCE_REMOVE;
}

static gpointer
store_keygen_thread(gpointer data)
{
    StoreKeygen *job = data;
    GSource *source = g_idle_source_new();

    job->calc_err = otrl_privkey_generate_calculate(job->newkey);
    g_source_set_priority(source, G_PRIORITY_DEFAULT);
    g_source_set_callback(source, store_keygen_finish, job, NULL);
    job->source = source;
    g_source_attach(source, job->context);
    return NULL;
}

gboolean
potr_store_keygen_start(OtrlUserState us, const char *path,
                        const char *accountname, const char *protocol,
                        PotrKeygenDone done, gpointer user_data,
                        GError **error)
{
    StoreKeygen *job = NULL;
    void *newkey = NULL;
    gcry_error_t err;

    g_return_val_if_fail(us != NULL && path != NULL, FALSE);
    g_return_val_if_fail(accountname != NULL && protocol != NULL, FALSE);
    g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

    err = store_keygen_find(accountname, protocol) != NULL
              ? gcry_error(GPG_ERR_EEXIST)
              : otrl_privkey_generate_start(us, accountname, protocol, &newkey);
    if (gcry_err_code(err) == GPG_ERR_EEXIST) {
        g_set_error(error, POTR_ERROR, POTR_ERROR_BUSY,
                    _("A key for %s (%s) is already being generated"), accountname, protocol);
        return FALSE;
    }
    if (err) {
        g_set_error(error, POTR_ERROR, POTR_ERROR_FAILED, _("Could not generate a key: %s"),
                    gcry_strerror(err));
        return FALSE;
    }
    job = g_new0(StoreKeygen, 1);
    job->us = us;
    job->path = g_strdup(path);
    job->accountname = g_strdup(accountname);
    job->protocol = g_strdup(protocol);
    job->done = done;
    job->user_data = user_data;
    job->newkey = newkey;
    job->context = g_main_context_ref_thread_default();
    job->thread = g_thread_try_new("potr-keygen", store_keygen_thread, job, error);
    if (job->thread == NULL) {
        store_keygen_free(&job);
        return FALSE;
    }
    store_jobs = g_list_prepend(store_jobs, job);
    return TRUE;
}

gboolean
potr_store_keygen_running(const char *accountname, const char *protocol)
{
    g_return_val_if_fail(accountname != NULL && protocol != NULL, FALSE);

    return store_keygen_find(accountname, protocol) != NULL;
}

void
potr_store_keygen_cancel_all(OtrlUserState us)
{
    GList *l = store_jobs;

    while (l != NULL) {
        GList *next = l->next;
        StoreKeygen *job = l->data;

        if (us == NULL || job->us == us) {
            store_jobs = g_list_delete_link(store_jobs, l);
            /* the worker only computes; this waits for the key at most */
            g_thread_join(job->thread);
            job->thread = NULL;
            if (job->source != NULL)
                g_source_destroy(job->source);
            store_keygen_free(&job);
        }
        l = next;
    }
}
