/* purple-otr - GPL-2.0-or-later
 * Safe files: atomic replacement (temp file, fsync, rename), locks shared
 * with other programs, copies of damaged files, stat signatures and the
 * cleanup of what interrupted writes left. Knows nothing of OTR. */

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

#include "potr.h"
#include "file.h"

/* How many "PATH.damaged-STAMP-N" names are tried when several copies of
 * one file are kept within the same second. */
#define FILE_MAX_BACKUP_TRIES 100

/* How long a write waits for another program's write of the same file.
 * A write holds the lock for milliseconds; a program stopped while holding
 * it must not freeze this one for ever. */
#define FILE_LOCK_TIMEOUT_US (5 * G_USEC_PER_SEC)
#define FILE_LOCK_POLL_US 2000

/* The suffix of our temporary files, as g_mkstemp_full() fills it. */
#define FILE_TMP_SUFFIX ".tmp-"
#define FILE_TMP_RANDOM 6

/* ------------------------------------------------------------------ */
/* Damaged files                                                       */
/* ------------------------------------------------------------------ */

/* Why: a file we could not read completely is still the user's only copy of
 * what it held (keys that cannot be regenerated, verified fingerprints). The
 * next write would replace it with what we did understand, i.e. less. So a
 * path whose read failed is remembered here, and the next atomic write of
 * it first keeps the old bytes beside it. The set is touched from the main
 * thread only in practice; the lock keeps it correct if that ever changes. */
static GMutex file_damaged_lock;
static GHashTable *file_damaged; /* path (owned) -> itself */

void
potr_file_mark_damaged(const char *path)
{
    char *key = g_strdup(path);

    g_mutex_lock(&file_damaged_lock);
    if (file_damaged == NULL)
        file_damaged = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_hash_table_add(file_damaged, key);
    g_mutex_unlock(&file_damaged_lock);
    /* the table owns KEY; cppcheck does not know g_hash_table_add */
    /* cppcheck-suppress memleak */
}

static gboolean
file_is_damaged(const char *path)
{
    gboolean damaged = FALSE;

    g_mutex_lock(&file_damaged_lock);
    if (file_damaged != NULL)
        damaged = g_hash_table_contains(file_damaged, path);
    g_mutex_unlock(&file_damaged_lock);
    return damaged;
}

/* The table is freed when it empties, so nothing stays allocated once every
 * damaged file has been backed up and rewritten. */
static void
file_clear_damaged(const char *path)
{
    g_mutex_lock(&file_damaged_lock);
    if (file_damaged != NULL) {
        g_hash_table_remove(file_damaged, path);
        if (g_hash_table_size(file_damaged) == 0)
            g_clear_pointer(&file_damaged, g_hash_table_unref);
    }
    g_mutex_unlock(&file_damaged_lock);
}

/* ------------------------------------------------------------------ */
/* Low-level file helpers                                              */
/* ------------------------------------------------------------------ */

/* If PATH is a symbolic link, the file it points to; else PATH. A user who
 * keeps otr.private_key on another volume through a link keeps the link:
 * rename() over the link itself would silently move the secret. */
static char *
file_resolve(const char *path)
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
file_write_all(int fd, const char *buf, gsize len)
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
file_copy_fd(int in, int out)
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
        if (!file_write_all(out, buf, (gsize)n))
            return FALSE;
    }
}

/* Create PATH.damaged-YYYYMMDD-HHMMSS (or -N if taken), mode 0600, never
 * replacing an existing file (O_EXCL). Returns the fd, -1 with errno. */
static int
file_create_backup(const char *path, char **name_out)
{
    GDateTime *now = g_date_time_new_now_local();
    char *stamp = g_date_time_format(now, "%Y%m%d-%H%M%S");
    int fd = -1;
    int i;

    g_date_time_unref(now);
    for (i = 0; i < FILE_MAX_BACKUP_TRIES && fd < 0; i++) {
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
file_keep_damaged_copy(const char *path, GError **error)
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
    out = file_create_backup(path, &backup);
    if (out < 0) {
        errsv = errno;
        goto cleanup;
    }
    ok = file_copy_fd(in, out);
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
file_sync_dir(const char *path)
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
/* Stat signatures                                                     */
/* ------------------------------------------------------------------ */

static void
file_sig_from_stat(PotrFileSig *sig, const struct stat *st)
{
    sig->exists = TRUE;
    sig->dev = st->st_dev;
    sig->ino = st->st_ino;
    sig->size = st->st_size;
    sig->mtime_ns = (gint64)st->st_mtim.tv_sec * G_GINT64_CONSTANT(1000000000) + st->st_mtim.tv_nsec;
}

void
potr_file_sig_of_path(const char *path, PotrFileSig *sig)
{
    struct stat st;

    memset(sig, 0, sizeof(*sig));
    if (stat(path, &st) == 0)
        file_sig_from_stat(sig, &st);
}

gboolean
potr_file_sig_equal(const PotrFileSig *a, const PotrFileSig *b)
{
    if (a->exists != b->exists)
        return FALSE;
    return !a->exists || (a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
                          a->mtime_ns == b->mtime_ns);
}

/* ------------------------------------------------------------------ */
/* Locks                                                               */
/* ------------------------------------------------------------------ */

int
potr_file_lock(const char *path, GError **error)
{
    char *target = file_resolve(path);
    char *name = g_strconcat(target, ".lock", NULL);
    gint64 deadline = g_get_monotonic_time() + FILE_LOCK_TIMEOUT_US;
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
        g_usleep(FILE_LOCK_POLL_US);
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

void
potr_file_unlock(int *fd)
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
file_finish(FILE *fp)
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
file_open_temp(const char *target, char **tmp, GError **error)
{
    FILE *fp = NULL;
    int fd;

    *tmp = g_strconcat(target, FILE_TMP_SUFFIX "XXXXXX", NULL);
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
potr_file_write_atomic(const char *path, PotrFileWriter writer,
                       gpointer data, GError **error)
{
    char *target = NULL;
    char *tmp = NULL; /* non-NULL while the temporary file exists */
    FILE *fp = NULL;
    gboolean ok = FALSE;

    g_return_val_if_fail(path != NULL && *path != '\0', FALSE);
    g_return_val_if_fail(writer != NULL, FALSE);
    g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

    target = file_resolve(path);
    if (file_is_damaged(path) && !file_keep_damaged_copy(target, error))
        goto cleanup;
    fp = file_open_temp(target, &tmp, error);
    if (fp == NULL)
        goto cleanup;
    if (!writer(fp, data, error)) {
        if (error != NULL && *error == NULL)
            g_set_error(error, POTR_ERROR, POTR_ERROR_IO, _("Could not write %s"), target);
        goto cleanup;
    }
    ok = file_finish(fp);
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
    file_sync_dir(target);
    file_clear_damaged(path);

cleanup:
    if (fp != NULL)
        fclose(fp);
    if (tmp != NULL)
        unlink(tmp);
    g_free(tmp);
    g_free(target);
    return ok;
}

gboolean
potr_file_write_locked(const char *path, PotrFileWriter writer, gpointer data, GError **error)
{
    int lock = -1;
    gboolean ok = FALSE;

    g_return_val_if_fail(path != NULL && writer != NULL, FALSE);

    lock = potr_file_lock(path, error);
    if (lock >= 0)
        ok = potr_file_write_atomic(path, writer, data, error);
    potr_file_unlock(&lock);
    return ok;
}

/* ------------------------------------------------------------------ */
/* Reading                                                             */
/* ------------------------------------------------------------------ */

FILE *
potr_file_open_read(const char *path, gboolean *missing, GError **error)
{
    FILE *fp = fopen(path, "rbe");

    *missing = FALSE;
    if (fp == NULL) {
        int errsv = errno;

        if (errsv == ENOENT) {
            *missing = TRUE;
            return NULL;
        }
        potr_file_mark_damaged(path);
        g_set_error(error, POTR_ERROR, POTR_ERROR_IO, _("Could not read %s: %s"),
                    path, g_strerror(errsv));
    }
    return fp;
}

/* ------------------------------------------------------------------ */
/* Leftovers of interrupted writes                                     */
/* ------------------------------------------------------------------ */

/* Exactly BASE.tmp-XXXXXX, as file_open_temp() names them. */
static gboolean
file_is_temp_name(const char *name, const char *base)
{
    gsize blen = strlen(base);
    gsize slen = strlen(FILE_TMP_SUFFIX);
    int i;

    if (strncmp(name, base, blen) != 0 || strncmp(name + blen, FILE_TMP_SUFFIX, slen) != 0)
        return FALSE;
    name += blen + slen;
    for (i = 0; i < FILE_TMP_RANDOM; i++) {
        if (!g_ascii_isalnum(name[i]))
            return FALSE;
    }
    return name[FILE_TMP_RANDOM] == '\0';
}

/* Overwrite the file NAME in DIRFD (the regular file ST describes) with
 * zeros and flush it, so that the key it may hold is gone from the disk's
 * current blocks, not only from the folder. */
static void
file_wipe(int dirfd, const char *name, const struct stat *st)
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

            if (!file_write_all(fd, zeros, n))
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
potr_file_cleanup_temps(const char *path)
{
    char *target = NULL;
    char *dir = NULL;
    char *base = NULL;
    DIR *d = NULL;
    struct dirent *e;
    int lock = -1;
    guint removed = 0;

    g_return_val_if_fail(path != NULL, 0);

    lock = potr_file_lock(path, NULL);
    if (lock < 0)
        goto cleanup;
    target = file_resolve(path);
    dir = g_path_get_dirname(target);
    base = g_path_get_basename(target);
    d = opendir(dir);
    if (d == NULL)
        goto cleanup;
    while ((e = readdir(d)) != NULL) {
        struct stat st;

        if (!file_is_temp_name(e->d_name, base))
            continue;
        if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
            !S_ISREG(st.st_mode) || st.st_uid != geteuid())
            continue;
        file_wipe(dirfd(d), e->d_name, &st);
        if (unlinkat(dirfd(d), e->d_name, 0) == 0)
            removed++;
    }
    if (removed > 0)
        g_debug("purple-otr: removed %u temporary file(s) an interrupted write of %s left",
                removed, target);

cleanup:
    if (d != NULL)
        closedir(d);
    potr_file_unlock(&lock);
    g_free(base);
    g_free(dir);
    g_free(target);
    return removed;
}
