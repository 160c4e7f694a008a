/* purple-otr - GPL-2.0-or-later
 * Safe files: atomic replacement, locks shared with other programs, copies
 * of damaged files, stat signatures, cleanup of interrupted writes. */
#ifndef POTR_FILE_H
#define POTR_FILE_H

#include <stdio.h>
#include <sys/types.h>
#include <glib.h>

/* What stat() says of a file, to see whether another program replaced or
 * changed it: a missing file has a signature too (EXISTS FALSE). */
typedef struct {
    gboolean exists;
    dev_t dev;
    ino_t ino;
    off_t size;
    gint64 mtime_ns;
} PotrFileSig;

/* Writes the content of a file to FP (open for reading and writing, at
 * offset 0). Returns FALSE and sets ERROR on failure; a writer that returns
 * FALSE without setting ERROR gets a generic POTR_ERROR_IO. */
typedef gboolean (*PotrFileWriter)(FILE *fp, gpointer data, GError **error);

/* Replace PATH atomically: WRITER fills a new temporary file in PATH's
 * folder (PATH.tmp-XXXXXX, created mode 0600 whatever the umask), which is
 * flushed, fsync()ed and renamed over PATH; the folder is fsync()ed too.
 * The new PATH has mode 0600. If PATH is a symbolic link, the file it
 * points to is replaced and the link kept. If PATH was marked damaged
 * (potr_file_mark_damaged()), a copy of it is kept first
 * (PATH.damaged-YYYYMMDD-HHMMSS, 0600, never overwriting an older copy);
 * if that copy cannot be made, nothing is written. On any failure the
 * temporary file is unlinked, PATH is left as it was, FALSE is returned
 * and ERROR set (POTR_ERROR_IO, or WRITER's error). Main thread only. */
gboolean potr_file_write_atomic(const char *path, PotrFileWriter writer,
                                gpointer data, GError **error);

/* potr_file_write_atomic() while holding PATH's lock (PATH.lock): for a
 * whole-file write that needs no merge. FALSE with POTR_ERROR_BUSY if the
 * lock could not be had within 5 s. */
gboolean potr_file_write_locked(const char *path, PotrFileWriter writer, gpointer data,
                                GError **error);

/* Remove what interrupted writes of PATH left (PATH.tmp-XXXXXX beside the
 * file, exactly that pattern: regular files of this user, never through a
 * link), overwriting each with zeros first (a key file's copy holds the
 * keys). Done under PATH's lock, so another program's write in progress
 * keeps its file; nothing is done if the lock cannot be had. Returns how
 * many were removed. */
guint potr_file_cleanup_temps(const char *path);

/* Remember that PATH could not be read completely: its next
 * potr_file_write_atomic() first keeps a copy of it. Thread-safe. */
void potr_file_mark_damaged(const char *path);

/* Open PATH for reading. A missing file sets *MISSING and returns NULL
 * without an error. Any other failure marks PATH damaged and returns NULL
 * with POTR_ERROR_IO. fclose() the result. */
FILE *potr_file_open_read(const char *path, gboolean *missing, GError **error);

/* Take the exclusive lock of PATH (an flock() on PATH.lock beside the file
 * it names, after links are followed; created 0600, never removed),
 * waiting at most 5 s. Returns the lock's fd (potr_file_unlock() it), or
 * -1 with ERROR set (POTR_ERROR_BUSY after the wait, else POTR_ERROR_IO). */
int potr_file_lock(const char *path, GError **error);

/* Release the lock *FD (if >= 0) and set *FD to -1. */
void potr_file_unlock(int *fd);

/* The signature of PATH now (following links); a missing file has one too. */
void potr_file_sig_of_path(const char *path, PotrFileSig *sig);

/* TRUE if A and B describe the same version of a file (both missing, or
 * same device, inode, size and modification time). */
gboolean potr_file_sig_equal(const PotrFileSig *a, const PotrFileSig *b);

#endif /* POTR_FILE_H */
