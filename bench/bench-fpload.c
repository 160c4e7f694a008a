/* purple-otr - GPL-2.0-or-later
 * Benchmark: loading a large otr.fingerprints with libotr's reader and with
 * potr_store_load_fingerprints. Prints figures; asserts nothing.
 * Usage: bench-fpload [ENTRIES]   (default 20000) */

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <libotr/context.h>
#include <libotr/privkey.h>
#include <libotr/proto.h>
#include <libotr/userstate.h>

#include "potr.h"
#include "store.h"

#define BENCH_RUNS 5

/* Write ENTRIES contexts of one fingerprint each with libotr's own writer,
 * so the file is in the ascending order pidgin-otr leaves on disk. The
 * contexts are created in descending order, which keeps this step fast;
 * the time that takes (returned, in ms) is the floor for any reader: it is
 * libotr allocating its contexts, no file involved. */
static double
bench_make_file(const char *path, guint entries)
{
    static const char *const trusts[] = { "", "verified", "smp", NULL };
    OtrlUserState us = otrl_userstate_create();
    GRand *rand = g_rand_new_with_seed(42);
    gint64 start = g_get_monotonic_time();
    double floor_ms;
    guint i;

    for (i = entries; i-- > 0;) {
        char user[64];
        unsigned char fp[20];
        ConnContext *c;
        int j;

        g_snprintf(user, sizeof(user), "buddy%06u@example.org", i);
        for (j = 0; j < 20; j++)
            fp[j] = (unsigned char)g_rand_int_range(rand, 0, 256);
        c = otrl_context_find(us, user, "me@example.org/home", "prpl-jabber",
                              OTRL_INSTAG_MASTER, 1, NULL, NULL, NULL);
        otrl_context_set_trust(otrl_context_find_fingerprint(c, fp, 1, NULL), trusts[i % 4]);
    }
    floor_ms = (double)(g_get_monotonic_time() - start) / 1000.0;
    if (otrl_privkey_write_fingerprints(us, path) != 0) {
        fprintf(stderr, "bench-fpload: cannot write %s\n", path);
        exit(1);
    }
    g_rand_free(rand);
    otrl_userstate_free(us);
    return floor_ms;
}

static guint
bench_count(OtrlUserState us)
{
    guint n = 0;
    ConnContext *c;
    Fingerprint *f;

    for (c = us->context_root; c != NULL; c = c->next)
        for (f = c->fingerprint_root.next; f != NULL; f = f->next)
            n++;
    return n;
}

/* Milliseconds one load of PATH takes; *LOADED gets the entries read. */
static double
bench_load(const char *path, gboolean with_libotr, guint *loaded)
{
    OtrlUserState us = otrl_userstate_create();
    GError *error = NULL;
    gint64 start = g_get_monotonic_time();
    gint64 end;

    if (with_libotr) {
        otrl_privkey_read_fingerprints(us, path, NULL, NULL);
    } else if (!potr_store_load_fingerprints(us, path, NULL, NULL, NULL, &error)) {
        fprintf(stderr, "bench-fpload: %s\n", error->message);
        g_clear_error(&error);
    }
    end = g_get_monotonic_time();
    *loaded = bench_count(us);
    otrl_userstate_free(us);
    return (double)(end - start) / 1000.0;
}

/* Milliseconds of each of RUNS saves of PATH (each after one trust
 * change): lock, re-read, merge, write, fsync, rename. Sorted. */
static void
bench_save(const char *path, double *ms, int runs)
{
    OtrlUserState us = otrl_userstate_create();
    GError *error = NULL;
    int i;

    potr_store_load_fingerprints(us, path, NULL, NULL, NULL, NULL);
    for (i = 0; i < runs; i++) {
        gint64 start;

        otrl_context_set_trust(us->context_root->fingerprint_root.next, i % 2 ? "verified" : "");
        start = g_get_monotonic_time();
        if (!potr_store_save_fingerprints(us, path, &error)) {
            fprintf(stderr, "bench-fpload: %s\n", error->message);
            g_clear_error(&error);
        }
        ms[i] = (double)(g_get_monotonic_time() - start) / 1000.0;
    }
    potr_store_release(us);
    otrl_userstate_free(us);
}

static int
bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a;
    double y = *(const double *)b;

    return (x > y) - (x < y);
}

int
main(int argc, char **argv)
{
    guint entries = argc > 1 ? (guint)strtoul(argv[1], NULL, 10) : 20000;
    GError *error = NULL;
    char *dir;
    char *path;
    double ours[BENCH_RUNS];
    double theirs;
    double floor_ms;
    guint n_theirs = 0;
    guint n_ours = 0;
    struct stat st;
    int i;

    OTRL_INIT;
    dir = g_dir_make_tmp("potr-bench-XXXXXX", &error);
    if (dir == NULL) {
        fprintf(stderr, "bench-fpload: %s\n", error->message);
        return 1;
    }
    path = g_build_filename(dir, POTR_FILE_FINGERPRINTS, NULL);
    floor_ms = bench_make_file(path, entries);
    if (stat(path, &st) != 0)
        st.st_size = 0;

    theirs = bench_load(path, TRUE, &n_theirs);
    for (i = 0; i < BENCH_RUNS; i++)
        ours[i] = bench_load(path, FALSE, &n_ours);
    qsort(ours, BENCH_RUNS, sizeof(ours[0]), bench_cmp_double);

    printf("fingerprint file: %u entries, %u contexts, %.1f KiB (ascending, as libotr writes it)\n",
           entries, entries, (double)st.st_size / 1024.0);
    printf("  libotr otrl_privkey_read_fingerprints: %10.1f ms (1 run, %u loaded)\n",
           theirs, n_theirs);
    printf("  potr_store_load_fingerprints:          %10.1f ms (median of %d, best %.1f ms, %u loaded)\n",
           ours[BENCH_RUNS / 2], BENCH_RUNS, ours[0], n_ours);
    printf("  ratio libotr / potr:                   %10.1fx\n", theirs / ours[BENCH_RUNS / 2]);
    printf("  (floor: libotr creating the same contexts directly, no file: %.1f ms)\n", floor_ms);
    if (n_theirs != n_ours)
        printf("  WARNING: the two readers loaded different numbers of entries\n");
    bench_save(path, ours, BENCH_RUNS);
    qsort(ours, BENCH_RUNS, sizeof(ours[0]), bench_cmp_double);
    printf("  potr_store_save_fingerprints (locked re-read + merge + atomic write): "
           "%.1f ms (median of %d, best %.1f ms)\n", ours[BENCH_RUNS / 2], BENCH_RUNS, ours[0]);

    g_unlink(path);
    {
        char *lock = g_strconcat(path, ".lock", NULL);

        g_unlink(lock);
        g_free(lock);
    }
    g_rmdir(dir);
    g_free(path);
    g_free(dir);
    return 0;
}
