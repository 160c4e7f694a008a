/* purple-otr - GPL-2.0-or-later
 * Store: atomic replacement of the OTR files, their readers (a linear-time
 * fingerprint reader among them) and private key generation in a thread. */

#include "i18n.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
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

/* How long a write waits for another program's write of the same file.
 * A write holds the lock for milliseconds; a program stopped while holding
 * it must not freeze this one for ever. */
#define STORE_LOCK_TIMEOUT_US (5 * G_USEC_PER_SEC)
#define STORE_LOCK_POLL_US 2000

/* The suffix of our temporary files, as g_mkstemp_full() fills it. */
#define STORE_TMP_SUFFIX ".tmp-"
#define STORE_TMP_RANDOM 6

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
/* Two programs on one profile                                         */
/* ------------------------------------------------------------------ */

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

typedef struct {
    gboolean exists;
    dev_t dev;
    ino_t ino;
    off_t size;
    gint64 mtime_ns;
} StoreSig;

/* What one userstate knows of one file. Main thread only. */
typedef struct {
    OtrlUserState us;
    char *path;
    gboolean seen;       /* SIG is valid */
    StoreSig sig;        /* the file as this process last read or wrote it */
    GHashTable *base;    /* fingerprints: line key -> trust, as on disk then */
    GHashTable *created; /* instance tags: "account\tprotocol" made here, not yet written */
} StoreSync;

static GList *store_syncs; /* of StoreSync* */

static void
store_sig_from_stat(StoreSig *sig, const struct stat *st)
{
    sig->exists = TRUE;
    sig->dev = st->st_dev;
    sig->ino = st->st_ino;
    sig->size = st->st_size;
    sig->mtime_ns = (gint64)st->st_mtim.tv_sec * G_GINT64_CONSTANT(1000000000) + st->st_mtim.tv_nsec;
}

/* The signature of PATH now (following links); a missing file has one too. */
static void
store_sig_of_path(const char *path, StoreSig *sig)
{
    struct stat st;

    memset(sig, 0, sizeof(*sig));
    if (stat(path, &st) == 0)
        store_sig_from_stat(sig, &st);
}

static gboolean
store_sig_equal(const StoreSig *a, const StoreSig *b)
{
    if (a->exists != b->exists)
        return FALSE;
    return !a->exists || (a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
                          a->mtime_ns == b->mtime_ns);
}

static GHashTable *
store_str_table(void)
{
    return g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
}

static StoreSync *
store_sync_get(OtrlUserState us, const char *path)
{
    StoreSync *s = NULL;
    GList *l;

    for (l = store_syncs; l != NULL; l = l->next) {
        s = l->data;
        if (s->us == us && strcmp(s->path, path) == 0)
            return s;
    }
    s = g_new0(StoreSync, 1);
    s->us = us;
    s->path = g_strdup(path);
    s->base = store_str_table();
    s->created = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    store_syncs = g_list_prepend(store_syncs, s);
    return s;
}

/* Did PATH change since this process last read or wrote it? */
static gboolean
store_sync_changed(StoreSync *s)
{
    StoreSig now;

    store_sig_of_path(s->path, &now);
    return !s->seen || !store_sig_equal(&now, &s->sig);
}

static void
store_sync_set_sig(StoreSync *s, const StoreSig *sig)
{
    s->sig = *sig;
    s->seen = TRUE;
}

void
potr_store_release(OtrlUserState us)
{
    GList *l = store_syncs;

    while (l != NULL) {
        GList *next = l->next;
        StoreSync *s = l->data;

        if (us == NULL || s->us == us) {
            store_syncs = g_list_delete_link(store_syncs, l);
            g_hash_table_unref(s->base);
            g_hash_table_unref(s->created);
            g_free(s->path);
            g_free(s);
        }
        l = next;
    }
}

/* Take the exclusive lock of PATH (PATH.lock beside the file it names).
 * Returns the lock's fd (close it to unlock), or -1 with ERROR set. */
static int
store_lock(const char *path, GError **error)
{
    char *target = store_resolve(path);
    char *name = g_strconcat(target, ".lock", NULL);
    gint64 deadline = g_get_monotonic_time() + STORE_LOCK_TIMEOUT_US;
    int fd = open(name, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    int errsv = 0;

    if (fd < 0) {
        errsv = errno;
        goto cleanup;
    }
    while (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        if (errno != EWOULDBLOCK && errno != EINTR) {
            errsv = errno;
            break;
        }
        if (g_get_monotonic_time() > deadline) {
            errsv = EWOULDBLOCK;
            break;
        }
        g_usleep(STORE_LOCK_POLL_US);
    }
    if (errsv != 0) {
        close(fd);
        fd = -1;
    }

cleanup:
    if (fd < 0 && errsv == EWOULDBLOCK)
        g_set_error(error, POTR_ERROR, POTR_ERROR_BUSY,
                    _("%s is being written by another program (%s stays locked); "
                      "nothing was written"), target, name);
    else if (fd < 0)
        g_set_error(error, POTR_ERROR, POTR_ERROR_IO, _("Could not write %s: %s"),
                    target, g_strerror(errsv));
    g_free(name);
    g_free(target);
    return fd;
}

static void
store_unlock(int *fd)
{
    if (*fd >= 0)
        close(*fd); /* releases the flock */
    *fd = -1;
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

    *tmp = g_strconcat(target, STORE_TMP_SUFFIX "XXXXXX", NULL);
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

/* Read the keys at PATH into INTO (a scratch userstate, whose keys are
 * replaced). Errors and "damaged" marks as potr_store_load_keys(). */
static gboolean
store_read_keys(OtrlUserState into, const char *path, GError **error)
{
    FILE *fp = NULL;
    struct stat st;
    gboolean missing = FALSE;
    gcry_error_t err;
    gboolean ok = FALSE;

    fp = store_open_read(path, &missing, error);
    if (fp == NULL) {
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
        ok = TRUE;
        goto cleanup;
    }
    if (st.st_size > STORE_MAX_KEYFILE) {
        store_mark_damaged(path);
        g_set_error(error, POTR_ERROR, POTR_ERROR_CORRUPT,
                    _("%s is too large to be a key file"), path);
        goto cleanup;
    }
    err = otrl_privkey_read_FILEp(into, fp);
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

/* Move the key P (unlinked from its list) to the head of the list ROOT. */
static void
store_privkey_move(OtrlPrivKey *p, OtrlPrivKey **root)
{
    *(p->tous) = p->next;
    if (p->next != NULL)
        p->next->tous = p->tous;
    p->next = *root;
    if (p->next != NULL)
        p->next->tous = &p->next;
    p->tous = root;
    *root = p;
}

/* US's keys become FROM's (FROM is left without keys). With KEEP_OWN, a
 * key of US for an account FROM has no key for is kept: keys are never
 * deleted by purple-otr, so a key missing from the file is one the file
 * lost, never one the user dropped. */
static void
store_privkeys_take(OtrlUserState us, OtrlUserState from, gboolean keep_own)
{
    OtrlPrivKey *p = us->privkey_root;

    while (keep_own && p != NULL) {
        OtrlPrivKey *next = p->next;

        if (otrl_privkey_find(from, p->accountname, p->protocol) == NULL)
            store_privkey_move(p, &from->privkey_root);
        p = next;
    }
    otrl_privkey_forget_all(us);
    while (from->privkey_root != NULL)
        store_privkey_move(from->privkey_root, &us->privkey_root);
}

gboolean
potr_store_load_keys(OtrlUserState us, const char *path, GError **error)
{
    OtrlUserState scratch = NULL;
    GError *local = NULL;
    StoreSig sig;
    gboolean ok = FALSE;

    g_return_val_if_fail(us != NULL && path != NULL, FALSE);
    g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

    /* the signature first: a file replaced meanwhile is read again later */
    store_sig_of_path(path, &sig);
    scratch = otrl_userstate_create();
    ok = store_read_keys(scratch, path, &local);
    if (ok || g_error_matches(local, POTR_ERROR, POTR_ERROR_CORRUPT))
        store_privkeys_take(us, scratch, FALSE);
    if (ok)
        store_sync_set_sig(store_sync_get(us, path), &sig);
    if (local != NULL)
        g_propagate_error(error, local);
    otrl_userstate_free(scratch);
    return ok;
}

gboolean
potr_store_refresh_keys(OtrlUserState us, const char *path, gboolean *changed, GError **error)
{
    StoreSync *s = NULL;
    OtrlUserState scratch = NULL;
    StoreSig sig;
    gboolean ok = FALSE;

    g_return_val_if_fail(us != NULL && path != NULL, FALSE);
    g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

    if (changed != NULL)
        *changed = FALSE;
    s = store_sync_get(us, path);
    if (!store_sync_changed(s))
        return TRUE;
    store_sig_of_path(path, &sig);
    scratch = otrl_userstate_create();
    ok = store_read_keys(scratch, path, error);
    /* remembered even after a failure: a damaged file is reported once,
     * and the keys in memory are kept */
    store_sync_set_sig(s, &sig);
    if (ok) {
        store_privkeys_take(us, scratch, TRUE);
        if (changed != NULL)
            *changed = TRUE;
    }
    otrl_userstate_free(scratch);
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

/* The buffer store_read_line() needs. */
#define STORE_LINE_BUF (POTR_STORE_MAX_LINE + 2)

/* Read one line of at most POTR_STORE_MAX_LINE bytes (newline and the CR
 * of a CRLF line excluded) into BUF (STORE_LINE_BUF bytes). Memory stays
 * bounded whatever the file holds: longer lines are read to their end and
 * dropped. */
static StoreLine
store_read_line(FILE *fp, char *buf, gsize *len)
{
    gsize n = 0;
    gboolean too_long = FALSE;
    int c;

    while ((c = getc_unlocked(fp)) != EOF && c != '\n') {
        if (n <= POTR_STORE_MAX_LINE)
            buf[n++] = (char)c;
        else
            too_long = TRUE;
    }
    /* libotr reads a line and its CR into one 1000-byte buffer */
    if (n == POTR_STORE_MAX_LINE + 1 && buf[POTR_STORE_MAX_LINE] != '\r')
        too_long = TRUE;
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
    char *buf = g_malloc(STORE_LINE_BUF);
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

/* "user TAB account TAB protocol TAB 40-hex": a fingerprint's line in the
 * file without its trust field; the key of the merge tables (g_free). */
static char *
store_fp_key(const char *username, const char *accountname, const char *protocol,
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
 * store_read_line()). */
static gboolean
store_fp_writable(const char *key, const char *trust)
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
store_trust_str(const char *trust)
{
    return trust != NULL ? trust : "";
}

/* Every fingerprint of US: key -> trust ("" for none). */
static GHashTable *
store_fp_snapshot(OtrlUserState us)
{
    GHashTable *map = store_str_table();
    ConnContext *c;
    Fingerprint *f;

    for (c = us->context_root; c != NULL; c = c->next) {
        if (c->m_context != c)
            continue;
        for (f = c->fingerprint_root.next; f != NULL; f = f->next)
            g_hash_table_replace(map, store_fp_key(c->username, c->accountname, c->protocol,
                                                   f->fingerprint),
                                 g_strdup(store_trust_str(f->trust)));
    }
    return map;
}

static GHashTable *
store_table_copy(GHashTable *from)
{
    GHashTable *to = store_str_table();
    GHashTableIter it;
    gpointer k, v;

    g_hash_table_iter_init(&it, from);
    while (g_hash_table_iter_next(&it, &k, &v))
        g_hash_table_replace(to, g_strdup(k), g_strdup(v));
    return to;
}

/* The fingerprint file at PATH as a table (key -> trust; a later line
 * wins, as in libotr). A missing file is an empty table. Damaged lines
 * mark PATH damaged; a read error does too and returns NULL with ERROR. */
static GHashTable *
store_fp_read_table(const char *path, guint *skipped, GError **error)
{
    GStringChunk *chunk = NULL;
    GArray *entries = NULL;
    GHashTable *map = NULL;
    FILE *fp = NULL;
    gboolean missing = FALSE;
    guint bad = 0;
    guint i;

    fp = store_open_read(path, &missing, error);
    if (fp == NULL) {
        map = missing ? store_str_table() : NULL;
        goto cleanup;
    }
    chunk = g_string_chunk_new(64 * 1024);
    entries = g_array_new(FALSE, FALSE, sizeof(StoreFpEntry));
    if (!store_read_fingerprint_lines(fp, chunk, entries, &bad)) {
        g_set_error(error, POTR_ERROR, POTR_ERROR_IO, _("Could not read %s: %s"),
                    path, g_strerror(errno));
        store_mark_damaged(path);
        goto cleanup;
    }
    if (bad > 0)
        store_mark_damaged(path);
    map = store_str_table();
    for (i = 0; i < entries->len; i++) {
        StoreFpEntry *e = &g_array_index(entries, StoreFpEntry, i);

        g_hash_table_replace(map, store_fp_key(e->username, e->accountname, e->protocol,
                                               e->fingerprint),
                             g_strdup(store_trust_str(e->trust)));
    }

cleanup:
    if (skipped != NULL)
        *skipped = bad;
    if (fp != NULL)
        fclose(fp);
    if (entries != NULL)
        g_array_unref(entries);
    if (chunk != NULL)
        g_string_chunk_free(chunk);
    return map;
}

/* DISK plus what this process did since BASE: a fingerprint in MEM that
 * BASE lacks was added here, one whose trust differs was (dis)trusted
 * here, one of BASE that MEM lacks was forgotten here. Fingerprints that
 * cannot be written stay out. */
static GHashTable *
store_fp_merge(GHashTable *disk, GHashTable *base, GHashTable *mem)
{
    GHashTable *result = store_table_copy(disk);
    GHashTableIter it;
    gpointer k, v;

    g_hash_table_iter_init(&it, mem);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        const char *was = g_hash_table_lookup(base, k);

        if (!store_fp_writable(k, v))
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
store_fp_in_use(ConnContext *master, Fingerprint *f)
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
store_fp_add_key(OtrlUserState us, const char *key, const char *trust)
{
    char **f = g_strsplit(key, "\t", 4);
    unsigned char fp[20];
    ConnContext *context;

    if (g_strv_length(f) == 4 && store_parse_hex(f[3], fp)) {
        context = otrl_context_find(us, f[0], f[1], f[2], OTRL_INSTAG_MASTER, 1, NULL, NULL, NULL);
        otrl_context_set_trust(otrl_context_find_fingerprint(context, fp, 1, NULL), trust);
    }
    g_strfreev(f);
}

/* Make US's fingerprints those of TARGET, in place (see the top of "Two
 * programs on one profile"). A fingerprint in use that TARGET lacks loses
 * its trust and goes to ZOMBIES (key -> ""). Returns how many changed. */
static guint
store_fp_apply(OtrlUserState us, GHashTable *target, GHashTable *zombies)
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
            char *key = store_fp_key(c->username, c->accountname, c->protocol, f->fingerprint);
            const char *want = g_hash_table_lookup(target, key);
            const char *has = store_trust_str(f->trust);

            if (want != NULL) {
                if (strcmp(want, has) != 0) {
                    otrl_context_set_trust(f, want);
                    changes++;
                }
                g_hash_table_add(seen, key);
                key = NULL;
            } else if (!store_fp_writable(key, has)) {
                /* memory only, by design */
            } else if (store_fp_in_use(c, f)) {
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
            store_fp_add_key(us, k, v);
            changes++;
        }
    }
    g_hash_table_unref(seen);
    return changes;
}

/* BASE becomes TABLE plus ZOMBIES. */
static void
store_fp_set_base(StoreSync *s, GHashTable *table, GHashTable *zombies)
{
    GHashTableIter it;
    gpointer k, v;

    g_hash_table_unref(s->base);
    s->base = store_table_copy(table);
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
    FILE *fp = NULL;
    StoreSync *s = NULL;
    StoreSig sig;
    gboolean missing = FALSE;
    guint bad = 0;
    gboolean ok = FALSE;
    guint i;

    g_return_val_if_fail(us != NULL && path != NULL, FALSE);
    g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

    s = store_sync_get(us, path);
    store_sig_of_path(path, &sig);
    fp = store_open_read(path, &missing, error);
    if (fp == NULL) {
        ok = missing;
        if (ok)
            store_sync_set_sig(s, &sig);
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
    /* what is on disk now is what later writes merge onto */
    g_hash_table_remove_all(s->base);
    for (i = 0; i < entries->len; i++) {
        StoreFpEntry *e = &g_array_index(entries, StoreFpEntry, i);

        g_hash_table_replace(s->base, store_fp_key(e->username, e->accountname, e->protocol,
                                                   e->fingerprint),
                             g_strdup(store_trust_str(e->trust)));
    }
    store_sync_set_sig(s, &sig);
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

typedef struct {
    OtrlUserState us;
    GHashTable *lines; /* key -> trust: what to write */
} StoreFpJob;

/* libotr's format and order (contexts as libotr sorts them, each
 * context's fingerprints in list order); only the fingerprints of LINES. */
static gboolean
store_fingerprints_writer(FILE *fp, gpointer data, GError **error)
{
    StoreFpJob *job = data;
    ConnContext *c;
    Fingerprint *f;

    for (c = job->us->context_root; c != NULL; c = c->next) {
        if (c->m_context != c)
            continue;
        for (f = c->fingerprint_root.next; f != NULL; f = f->next) {
            char *key = store_fp_key(c->username, c->accountname, c->protocol, f->fingerprint);
            const char *trust = g_hash_table_lookup(job->lines, key);

            if (trust != NULL)
                fprintf(fp, "%s\t%s\n", key, trust);
            else if (!store_fp_writable(key, store_trust_str(f->trust)))
                g_debug("purple-otr: a fingerprint of a buddy whose name has %" G_GSIZE_FORMAT
                        " bytes (%s) is kept in memory only: its line would not be read back "
                        "by libotr", strlen(c->username), c->protocol);
            g_free(key);
        }
    }
    return ferror(fp) == 0;
}

/* Merge under the lock: see "Two programs on one profile". */
gboolean
potr_store_save_fingerprints(OtrlUserState us, const char *path, GError **error)
{
    StoreSync *s = NULL;
    GHashTable *disk = NULL;
    GHashTable *mem = NULL;
    GHashTable *zombies = NULL;
    StoreFpJob job = { us, NULL };
    StoreSig sig;
    int lock = -1;
    gboolean ok = FALSE;

    g_return_val_if_fail(us != NULL && path != NULL, FALSE);
    g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

    s = store_sync_get(us, path);
    lock = store_lock(path, error);
    if (lock < 0)
        goto cleanup;
    store_sig_of_path(path, &sig);
    disk = store_fp_read_table(path, NULL, NULL);
    if (disk == NULL) {
        /* unreadable: it is marked damaged, so a copy is kept before it is
         * replaced; merge onto what this process last saw of it */
        disk = store_table_copy(s->base);
    }
    mem = store_fp_snapshot(us);
    job.lines = store_fp_merge(disk, s->base, mem);
    zombies = store_str_table();
    store_fp_apply(us, job.lines, zombies);
    ok = potr_store_write_atomic(path, store_fingerprints_writer, &job, error);
    if (ok) {
        store_sig_of_path(path, &sig);
        store_fp_set_base(s, job.lines, zombies);
    } else {
        /* memory holds the other program's changes now; ours are pending */
        store_fp_set_base(s, disk, zombies);
    }
    store_sync_set_sig(s, &sig);

cleanup:
    store_unlock(&lock);
    if (disk != NULL)
        g_hash_table_unref(disk);
    if (mem != NULL)
        g_hash_table_unref(mem);
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
    StoreSync *s = NULL;
    GHashTable *disk = NULL;
    GHashTable *mem = NULL;
    GHashTable *target = NULL;
    GHashTable *zombies = NULL;
    StoreSig sig;
    guint n = 0;
    gboolean ok = TRUE;

    g_return_val_if_fail(us != NULL && path != NULL, FALSE);
    g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

    s = store_sync_get(us, path);
    if (!store_sync_changed(s))
        goto cleanup;
    store_sig_of_path(path, &sig);
    /* remembered even after a failure: a damaged file is reported once */
    store_sync_set_sig(s, &sig);
    disk = store_fp_read_table(path, NULL, error);
    if (disk == NULL) {
        ok = FALSE;
        goto cleanup;
    }
    mem = store_fp_snapshot(us);
    target = store_fp_merge(disk, s->base, mem);
    zombies = store_str_table();
    n = store_fp_apply(us, target, zombies);
    store_fp_set_base(s, disk, zombies);

cleanup:
    if (changed != NULL)
        *changed = n;
    if (disk != NULL)
        g_hash_table_unref(disk);
    if (mem != NULL)
        g_hash_table_unref(mem);
    if (target != NULL)
        g_hash_table_unref(target);
    if (zombies != NULL)
        g_hash_table_unref(zombies);
    return ok;
}

/* ------------------------------------------------------------------ */
/* Instance tags                                                       */
/* ------------------------------------------------------------------ */

/* "account TAB protocol" -> tag, read strictly: libotr skips malformed
 * lines without a word, and a later write then dropped them. Lines
 * without a tab (libotr's warning line) are not damage. A missing file is
 * an empty table; a damaged one marks PATH; a read error returns NULL. */
static GHashTable *
store_instags_read_table(const char *path, GError **error)
{
    GHashTable *map = NULL;
    FILE *fp = NULL;
    char *buf = NULL;
    gboolean missing = FALSE;
    StoreLine state;
    gsize len = 0;
    guint bad = 0;

    fp = store_open_read(path, &missing, error);
    if (fp == NULL) {
        map = missing ? g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL) : NULL;
        goto cleanup;
    }
    map = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    buf = g_malloc(STORE_LINE_BUF);
    errno = 0;
    while ((state = store_read_line(fp, buf, &len)) != STORE_LINE_EOF) {
        char **f = NULL;
        char *end = NULL;
        guint64 tag = 0;

        if (state == STORE_LINE_ERROR) {
            g_set_error(error, POTR_ERROR, POTR_ERROR_IO, _("Could not read %s: %s"),
                        path, g_strerror(errno != 0 ? errno : EIO));
            store_mark_damaged(path);
            g_clear_pointer(&map, g_hash_table_unref);
            goto cleanup;
        }
        if (len > 0 && buf[len - 1] == '\r')
            buf[--len] = '\0';
        if (state == STORE_LINE_OK && (len == 0 || memchr(buf, '\t', len) == NULL))
            continue;
        if (state == STORE_LINE_OK && memchr(buf, '\0', len) == NULL)
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
        store_mark_damaged(path);

cleanup:
    g_free(buf);
    if (fp != NULL)
        fclose(fp);
    return map;
}

/* Add a tag to US the way libotr's reader does (libotr frees it). */
static void
store_instag_add(OtrlUserState us, const char *accountname, const char *protocol,
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
store_instag_key(const OtrlInsTag *t)
{
    return g_strconcat(t->accountname, "\t", t->protocol, NULL);
}

gboolean
potr_store_load_instags(OtrlUserState us, const char *path, GError **error)
{
    GHashTable *map = NULL;
    GHashTableIter it;
    gpointer k, v;
    StoreSig sig;

    g_return_val_if_fail(us != NULL && path != NULL, FALSE);
    g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

    store_sig_of_path(path, &sig);
    map = store_instags_read_table(path, error);
    if (map == NULL)
        return FALSE;
    /* replacing: a second load must not duplicate every tag */
    otrl_instag_forget_all(us);
    g_hash_table_iter_init(&it, map);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        char **f = g_strsplit(k, "\t", 2);

        store_instag_add(us, f[0], f[1], GPOINTER_TO_UINT(v));
        g_strfreev(f);
    }
    store_sync_set_sig(store_sync_get(us, path), &sig);
    g_hash_table_unref(map);
    return TRUE;
}

static gint
store_cmp_str(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* libotr's format: its warning line, then one line per account (sorted,
 * so that two programs write the same file for the same tags). */
static gboolean
store_instag_writer(FILE *fp, gpointer data, GError **error)
{
    GHashTable *tags = data;
    guint n = 0;
    gpointer *keys = g_hash_table_get_keys_as_array(tags, &n);
    guint i;

    fputs("WARNING! You shouldn't copy this file to another computer. "
          "It is unnecessary and can cause problems.\n", fp);
    qsort(keys, n, sizeof(gpointer), store_cmp_str);
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
store_instags_merge(GHashTable *disk, OtrlUserState us, GHashTable *created)
{
    GHashTable *result = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    GHashTableIter it;
    gpointer k, v;
    OtrlInsTag *t;

    g_hash_table_iter_init(&it, disk);
    while (g_hash_table_iter_next(&it, &k, &v))
        g_hash_table_replace(result, g_strdup(k), v);
    for (t = us->instag_root; t != NULL; t = t->next) {
        char *key = store_instag_key(t);

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
    StoreSync *s = NULL;
    GHashTable *disk = NULL;
    GHashTable *tags = NULL;
    GHashTableIter it;
    gpointer k, v;
    OtrlInsTag *t;
    char *key = NULL;
    StoreSig sig;
    int lock = -1;
    gboolean ok = FALSE;

    g_return_val_if_fail(us != NULL && path != NULL, FALSE);
    g_return_val_if_fail(accountname != NULL && protocol != NULL, FALSE);

    s = store_sync_get(us, path);
    key = g_strconcat(accountname, "\t", protocol, NULL);
    /* one tag per account: the new one replaces the old in place */
    t = otrl_instag_find(us, accountname, protocol);
    if (t != NULL)
        t->instag = otrl_instag_get_new();
    else
        store_instag_add(us, accountname, protocol, otrl_instag_get_new());
    g_hash_table_add(s->created, g_strdup(key));

    lock = store_lock(path, error);
    if (lock < 0)
        goto cleanup;
    store_sig_of_path(path, &sig);
    disk = store_instags_read_table(path, NULL);
    if (disk == NULL) /* marked damaged: a copy is kept before the write */
        disk = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    tags = store_instags_merge(disk, us, s->created);
    /* accounts this process had no tag for take the file's; live
     * contexts keep the tags they were made with */
    g_hash_table_iter_init(&it, tags);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        char **f = g_strsplit(k, "\t", 2);

        if (otrl_instag_find(us, f[0], f[1]) == NULL)
            store_instag_add(us, f[0], f[1], GPOINTER_TO_UINT(v));
        g_strfreev(f);
    }
    ok = potr_store_write_atomic(path, store_instag_writer, tags, error);
    if (ok) {
        g_hash_table_remove_all(s->created);
        store_sig_of_path(path, &sig);
    }
    store_sync_set_sig(s, &sig);

cleanup:
    store_unlock(&lock);
    if (disk != NULL)
        g_hash_table_unref(disk);
    if (tags != NULL)
        g_hash_table_unref(tags);
    g_free(key);
    return ok;
}

/* ------------------------------------------------------------------ */
/* Leftovers of interrupted writes                                     */
/* ------------------------------------------------------------------ */

/* Exactly BASE.tmp-XXXXXX, as store_open_temp() names them. */
static gboolean
store_is_temp_name(const char *name, const char *base)
{
    gsize blen = strlen(base);
    gsize slen = strlen(STORE_TMP_SUFFIX);
    int i;

    if (strncmp(name, base, blen) != 0 || strncmp(name + blen, STORE_TMP_SUFFIX, slen) != 0)
        return FALSE;
    name += blen + slen;
    for (i = 0; i < STORE_TMP_RANDOM; i++) {
        if (!g_ascii_isalnum(name[i]))
            return FALSE;
    }
    return name[STORE_TMP_RANDOM] == '\0';
}

/* Overwrite the file NAME in DIRFD (the regular file ST describes) with
 * zeros and flush it, so that the key it may hold is gone from the disk's
 * current blocks, not only from the folder. */
static void
store_wipe(int dirfd, const char *name, const struct stat *st)
{
    static const char zeros[4096];
    struct stat now;
    int fd = openat(dirfd, name, O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    off_t left = 0;

    if (fd < 0)
        return;
    /* the very file that was checked, not one put there since */
    if (fstat(fd, &now) == 0 && S_ISREG(now.st_mode) && now.st_dev == st->st_dev &&
        now.st_ino == st->st_ino) {
        left = now.st_size;
        while (left > 0) {
            gsize n = left > (off_t)sizeof(zeros) ? sizeof(zeros) : (gsize)left;

            if (!store_write_all(fd, zeros, n))
                break;
            left -= (off_t)n;
        }
        (void)fsync(fd);
    }
    close(fd);
}

/* Why at start and under the lock: a crash during a write leaves
 * PATH.tmp-XXXXXX behind, a full copy of the keys for the key file. Only
 * names of exactly that pattern are touched, only regular files of this
 * user (never through a symbolic link), and only while holding PATH's
 * lock, so that another program's write in progress keeps its file. */
guint
potr_store_cleanup_temps(const char *path)
{
    char *target = NULL;
    char *dir = NULL;
    char *base = NULL;
    DIR *d = NULL;
    struct dirent *e;
    int lock = -1;
    guint removed = 0;

    g_return_val_if_fail(path != NULL, 0);

    lock = store_lock(path, NULL);
    if (lock < 0)
        goto cleanup;
    target = store_resolve(path);
    dir = g_path_get_dirname(target);
    base = g_path_get_basename(target);
    d = opendir(dir);
    if (d == NULL)
        goto cleanup;
    while ((e = readdir(d)) != NULL) {
        struct stat st;

        if (!store_is_temp_name(e->d_name, base))
            continue;
        if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
            !S_ISREG(st.st_mode) || st.st_uid != geteuid())
            continue;
        store_wipe(dirfd(d), e->d_name, &st);
        if (unlinkat(dirfd(d), e->d_name, 0) == 0)
            removed++;
    }
    if (removed > 0)
        g_debug("purple-otr: removed %u temporary file(s) an interrupted write of %s left",
                removed, target);

cleanup:
    if (d != NULL)
        closedir(d);
    store_unlock(&lock);
    g_free(base);
    g_free(dir);
    g_free(target);
    return removed;
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

gboolean
potr_store_write_locked(const char *path, PotrStoreWriter writer, gpointer data, GError **error)
{
    int lock = -1;
    gboolean ok = FALSE;

    g_return_val_if_fail(path != NULL && writer != NULL, FALSE);

    lock = store_lock(path, error);
    if (lock >= 0)
        ok = potr_store_write_atomic(path, writer, data, error);
    store_unlock(&lock);
    return ok;
}

/* Under the key file's lock: take the keys another program wrote since
 * this one last read the file (a damaged file is copied aside by the
 * write and the keys in memory are kept), then write them all with the
 * new one. */
static gboolean
store_keygen_save(StoreKeygen *job, GError **error)
{
    int lock = store_lock(job->path, error);
    StoreSig sig;
    gboolean ok = FALSE;

    if (lock < 0)
        return FALSE;
    potr_store_refresh_keys(job->us, job->path, NULL, NULL);
    ok = potr_store_write_atomic(job->path, store_keygen_writer, job, error);
    if (ok) {
        store_sig_of_path(job->path, &sig);
        store_sync_set_sig(store_sync_get(job->us, job->path), &sig);
    }
    store_unlock(&lock);
    return ok;
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
    } else if (store_keygen_save(job, &error)) {
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
