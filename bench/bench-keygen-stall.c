/* purple-otr - GPL-2.0-or-later
 * Benchmark: the longest main-loop stall while a private key is generated,
 * with potr_store_keygen_start (worker thread, then the atomic write on the
 * main loop) and, for contrast, with libotr's blocking otrl_privkey_generate
 * on the main thread. A 1 ms timer ticks on the loop; the stall is the
 * longest gap between two ticks. Prints figures; asserts nothing.
 * Usage: bench-keygen-stall [RUNS [DIR]]   (default 3 runs, DIR a new
 * temporary folder; pass a folder on the disk ~/.purple lives on to see
 * what the fsync of the key file costs there) */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/vfs.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <libotr/privkey.h>
#include <libotr/proto.h>
#include <libotr/userstate.h>

#include "potr.h"
#include "store.h"

#define BENCH_ACCOUNT "stall@bench"
#define BENCH_PROTOCOL "prpl-potr-bench"
/* ticks watched before the generation starts and after it ends */
#define BENCH_SETTLE_TICKS 20
#define BENCH_TAIL_TICKS 20
#define BENCH_TIMEOUT_S 120

typedef struct {
    gboolean threaded;
    OtrlUserState us;
    const char *path;
    GMainLoop *loop;
    guint timer;            /* the 1 ms tick */
    guint ticks_before;     /* ticks left before the generation starts */
    gboolean running;       /* between the start and the end of the generation */
    gboolean ended;
    guint ticks_after;      /* ticks since it ended */
    gboolean ok;
    char *error;
    gint64 last_tick;
    gint64 longest;
    gint64 gaps_sum;
    guint gaps;
    gint64 gen_start;
    gint64 gen_end;
} StallRun;

static void
stall_done(const char *accountname, const char *protocol, gboolean ok, const GError *error,
           gpointer user_data)
{
    StallRun *run = user_data;

    run->gen_end = g_get_monotonic_time();
    run->ok = ok;
    if (!ok)
        run->error = g_strdup(error != NULL ? error->message : "unknown error");
    run->ended = TRUE;
}

static void
stall_start(StallRun *run)
{
    GError *error = NULL;

    run->running = TRUE;
    run->gen_start = g_get_monotonic_time();
    if (run->threaded) {
        if (!potr_store_keygen_start(run->us, run->path, BENCH_ACCOUNT, BENCH_PROTOCOL,
                                     stall_done, run, &error)) {
            run->error = g_strdup(error->message);
            g_error_free(error);
            run->ended = TRUE;
        }
        return;
    }
    /* the blocking call: the loop gets nothing until it returns */
    run->ok = otrl_privkey_generate(run->us, run->path, BENCH_ACCOUNT, BENCH_PROTOCOL) == 0;
    if (!run->ok)
        run->error = g_strdup("otrl_privkey_generate failed");
    run->gen_end = g_get_monotonic_time();
    run->ended = TRUE;
}

static gboolean
stall_tick(gpointer data)
{
    StallRun *run = data;
    gint64 now = g_get_monotonic_time();

    if (run->running && run->last_tick != 0) {
        gint64 gap = now - run->last_tick;

        run->longest = MAX(run->longest, gap);
        run->gaps_sum += gap;
        run->gaps++;
    }
    run->last_tick = now;
    /* started from within a tick: the next gap spans what the start
     * costs the loop (all of it, for the blocking call) */
    if (run->ticks_before > 0 && --run->ticks_before == 0)
        stall_start(run);
    if (run->ended && ++run->ticks_after >= BENCH_TAIL_TICKS) {
        run->timer = 0;
        g_main_loop_quit(run->loop);
        return G_SOURCE_REMOVE;
    }
    return G_SOURCE_CONTINUE;
}

static gboolean
stall_timeout(gpointer data)
{
    StallRun *run = data;

    if (run->error == NULL)
        run->error = g_strdup("timed out");
    g_main_loop_quit(run->loop);
    return G_SOURCE_REMOVE;
}

/* One generation into a fresh user state and an absent PATH. */
static gboolean
stall_measure(StallRun *run, gboolean threaded, const char *path)
{
    guint guard = 0;

    memset(run, 0, sizeof(*run));
    run->threaded = threaded;
    run->us = otrl_userstate_create();
    run->path = path;
    run->loop = g_main_loop_new(NULL, FALSE);
    run->ticks_before = BENCH_SETTLE_TICKS;
    g_unlink(path);

    run->timer = g_timeout_add(1, stall_tick, run);
    guard = g_timeout_add_seconds(BENCH_TIMEOUT_S, stall_timeout, run);
    g_main_loop_run(run->loop);
    if (run->timer != 0)
        g_source_remove(run->timer);
    potr_store_keygen_cancel_all(run->us);
    g_source_remove(guard);
    g_main_loop_unref(run->loop);
    otrl_userstate_free(run->us);
    run->us = NULL;
    g_unlink(path);
    if (run->error != NULL) {
        fprintf(stderr, "bench-keygen-stall: %s generation: %s\n",
                threaded ? "background" : "blocking", run->error);
        return FALSE;
    }
    return TRUE;
}

static void
stall_print(int i, const StallRun *run)
{
    printf("  run %d  %-38s longest gap %8.1f ms  mean gap %5.2f ms  key in %7.1f ms\n", i + 1,
           run->threaded ? "background (potr_store_keygen_start):" : "blocking (otrl_privkey_generate):",
           (double)run->longest / 1000.0,
           run->gaps > 0 ? (double)run->gaps_sum / run->gaps / 1000.0 : 0.0,
           (double)(run->gen_end - run->gen_start) / 1000.0);
}

static const char *
stall_fs_name(const char *dir)
{
    struct statfs st;

    if (statfs(dir, &st) != 0)
        return "unknown";
    switch ((unsigned long)st.f_type) {
    case 0x01021994UL:
        return "tmpfs";
    case 0xEF53UL:
        return "ext2/3/4";
    case 0x9123683EUL:
        return "btrfs";
    case 0x58465342UL:
        return "xfs";
    case 0x794C7630UL:
        return "overlayfs";
    default:
        return "other";
    }
}

int
main(int argc, char **argv)
{
    int runs = argc > 1 ? atoi(argv[1]) : 3;
    GError *error = NULL;
    char *dir = NULL;
    char *path = NULL;
    gboolean own_dir = argc <= 2;
    gint64 worst_bg = 0;
    gint64 worst_block = 0;
    gint64 slowest_bg = 0;
    StallRun run = { 0 };
    int status = 1;
    int i;

    OTRL_INIT;
    if (runs <= 0)
        runs = 3;
    dir = own_dir ? g_dir_make_tmp("potr-bench-stall-XXXXXX", &error) : g_strdup(argv[2]);
    if (dir == NULL) {
        fprintf(stderr, "bench-keygen-stall: %s\n", error->message);
        g_error_free(error);
        return 1;
    }
    path = g_build_filename(dir, "bench-stall.private_key", NULL);
    printf("key generation stall: 1 ms timer on the main loop, one DSA key per run,\n"
           "  key file in %s (%s)\n", dir, stall_fs_name(dir));
    for (i = 0; i < runs; i++) {
        if (!stall_measure(&run, TRUE, path))
            goto cleanup;
        stall_print(i, &run);
        worst_bg = MAX(worst_bg, run.longest);
        slowest_bg = MAX(slowest_bg, run.gen_end - run.gen_start);
        if (!stall_measure(&run, FALSE, path))
            goto cleanup;
        stall_print(i, &run);
        worst_block = MAX(worst_block, run.longest);
    }
    printf("  worst stall over %d runs: background %.1f ms, blocking %.1f ms "
           "(slowest background key: %.1f ms)\n", runs, (double)worst_bg / 1000.0,
           (double)worst_block / 1000.0, (double)slowest_bg / 1000.0);
    status = 0;

cleanup:
    g_free(run.error);
    g_unlink(path);
    if (own_dir)
        g_rmdir(dir);
    g_free(path);
    g_free(dir);
    return status;
}
