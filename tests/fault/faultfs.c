/* purple-otr - GPL-2.0-or-later
 * Test helper: an LD_PRELOAD library that makes file operations fail, to
 * check what the store does on a full disk or a failing device:
 *
 *   POTR_FAULT        comma-separated operations to fail: rename, fsync,
 *                     fflush (what a full disk does to buffered writes),
 *                     mkstemp (creating the temporary file: open with O_EXCL)
 *   POTR_FAULT_MATCH  only files whose path contains this (default: all)
 *   POTR_FAULT_ERRNO  the errno to fail with (default EIO; ENOSPC = 28)
 *   POTR_FAULT_COUNT  fail this many times per process, then work (default:
 *                     always)
 *
 * Paths of file descriptors are found through /proc/self/fd. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int fault_failed;

static int
fault_wanted(const char *op, const char *path)
{
    const char *ops = getenv("POTR_FAULT");
    const char *match = getenv("POTR_FAULT_MATCH");
    const char *count = getenv("POTR_FAULT_COUNT");
    const char *p = ops;
    size_t n = strlen(op);

    if (ops == NULL || path == NULL)
        return 0;
    if (match != NULL && *match != '\0' && strstr(path, match) == NULL)
        return 0;
    if (count != NULL && *count != '\0' && fault_failed >= atoi(count))
        return 0;
    while ((p = strstr(p, op)) != NULL) {
        if ((p == ops || p[-1] == ',') && (p[n] == '\0' || p[n] == ',')) {
            const char *e = getenv("POTR_FAULT_ERRNO");

            fault_failed++;
            errno = e != NULL && *e != '\0' ? atoi(e) : EIO;
            return 1;
        }
        p += n;
    }
    return 0;
}

static const char *
fault_fd_path(int fd, char *buf, size_t len)
{
    char link[64];
    ssize_t n;

    snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
    n = readlink(link, buf, len - 1);
    if (n < 0)
        return NULL;
    buf[n] = '\0';
    return buf;
}

int
rename(const char *from, const char *to)
{
    static int (*real)(const char *, const char *);

    if (fault_wanted("rename", to))
        return -1;
    if (real == NULL)
        real = (int (*)(const char *, const char *))dlsym(RTLD_NEXT, "rename");
    return real(from, to);
}

int
fsync(int fd)
{
    static int (*real)(int);
    char buf[4096];

    if (fault_wanted("fsync", fault_fd_path(fd, buf, sizeof(buf))))
        return -1;
    if (real == NULL)
        real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
    return real(fd);
}

int
fflush(FILE *fp)
{
    static int (*real)(FILE *);
    char buf[4096];

    if (fp != NULL && fault_wanted("fflush", fault_fd_path(fileno(fp), buf, sizeof(buf))))
        return EOF;
    if (real == NULL)
        real = (int (*)(FILE *))dlsym(RTLD_NEXT, "fflush");
    return real(fp);
}

/* g_mkstemp_full() creates its file with open(O_CREAT | O_EXCL) */
static int
fault_open(const char *name, int flags, mode_t mode, const char *sym)
{
    static int (*real_open)(const char *, int, ...);
    static int (*real_open64)(const char *, int, ...);
    int (**real)(const char *, int, ...) = strcmp(sym, "open") == 0 ? &real_open : &real_open64;

    if ((flags & O_CREAT) && (flags & O_EXCL) && strstr(name, ".tmp-") != NULL &&
        fault_wanted("mkstemp", name))
        return -1;
    if (*real == NULL)
        *real = (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, sym);
    return (*real)(name, flags, mode);
}

int
open(const char *name, int flags, ...)
{
    mode_t mode = 0;

    if (flags & O_CREAT) {
        va_list ap;

        va_start(ap, flags);
        mode = (mode_t)va_arg(ap, int);
        va_end(ap);
    }
    return fault_open(name, flags, mode, "open");
}

int
open64(const char *name, int flags, ...)
{
    mode_t mode = 0;

    if (flags & O_CREAT) {
        va_list ap;

        va_start(ap, flags);
        mode = (mode_t)va_arg(ap, int);
        va_end(ap);
    }
    return fault_open(name, flags, mode, "open64");
}
