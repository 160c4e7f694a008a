/* purple-otr - GPL-2.0-or-later
 * Benchmark: the cost of one message through the plugin path (two libpurple
 * accounts on a loopback protocol, the real core plugin encrypting and
 * decrypting in libpurple's send and receive hooks) against raw libotr
 * doing the same encryption and decryption. Prints figures; asserts nothing;
 * exits 1 only if the setup fails (plugin not found, no session in time).
 * Usage: bench-path [MESSAGES [PLUGIN_DIR]]   (default 2000; PLUGIN_DIR
 * defaults to $POTR_PLUGIN_DIR, the folder that holds purple-otr.so) */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <purple.h>
#include <libpurple/core.h>
#include <libotr/proto.h>     /* first: the other libotr headers need it */
#include <libotr/instag.h>
#include <libotr/message.h>
#include <libotr/privkey.h>
#include <libotr/tlv.h>

#include "../tests/common/eventloop.h"
#include "potr.h"
#include "store.h"

#define BENCH_UI "purple-otr-bench"
#define BENCH_PRPL_ID "prpl-potr-bench"
#define BENCH_ALICE "alice@bench"
#define BENCH_BOB "bob@bench"
#define BENCH_ROUNDS 3
/* accounts added ahead of alice and bob for the last plugin figure */
#define BENCH_EXTRA_ACCOUNTS 20
#define BENCH_KEYGEN_TIMEOUT_MS 120000
#define BENCH_AKE_TIMEOUT_MS 30000
#define BENCH_ROUND_TIMEOUT_MS 120000
/* a line of ordinary chat length, no markup, no link */
static const char bench_text[] =
    "Shall we meet at the station at half past six? I will bring the tickets and the map.";

static int bench_handle;   /* signal handle of this program */

/* ------------------------------------------------------------------ */
/* Event loop for libpurple: GLib's main loop                          */
/* ------------------------------------------------------------------ */


static gboolean
bench_keep_awake(gpointer data)
{
    return G_SOURCE_CONTINUE;
}

/* Run the main loop until DONE() or TIMEOUT_MS; TRUE if DONE(). */
static gboolean
bench_run_until(gboolean (*done)(void), guint timeout_ms)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    guint awake = g_timeout_add(50, bench_keep_awake, NULL);
    gboolean ok = FALSE;

    while (!(ok = done()) && g_get_monotonic_time() < deadline)
        g_main_context_iteration(NULL, TRUE);
    g_source_remove(awake);
    return ok;
}

/* ------------------------------------------------------------------ */
/* Loopback protocol: what one account sends, the other receives       */
/* ------------------------------------------------------------------ */

typedef struct {
    PurpleAccount *to;
    char *from;
    char *text;
} BenchWire;

static GQueue wire = G_QUEUE_INIT;
static guint wire_source = 0;

static void
bench_wire_free(gpointer data)
{
    BenchWire *w = data;

    g_free(w->from);
    g_free(w->text);
    g_free(w);
}

/* One message per main-loop dispatch, as a network protocol delivers
 * them; never from inside send_im, so no hook runs inside another. */
static gboolean
bench_wire_deliver(gpointer data)
{
    BenchWire *w = g_queue_pop_head(&wire);
    PurpleConnection *gc = NULL;

    if (w != NULL && (gc = purple_account_get_connection(w->to)) != NULL
        && purple_connection_get_state(gc) == PURPLE_CONNECTED)
        serv_got_im(gc, w->from, w->text, 0, time(NULL));
    if (w != NULL)
        bench_wire_free(w);
    if (!g_queue_is_empty(&wire))
        return G_SOURCE_CONTINUE;
    wire_source = 0;
    return G_SOURCE_REMOVE;
}

static PurpleAccount *alice = NULL;
static PurpleAccount *bob = NULL;

static int
bench_prpl_send_im(PurpleConnection *gc, const char *who, const char *message,
                   PurpleMessageFlags flags)
{
    BenchWire *w = NULL;
    PurpleAccount *to = NULL;

    /* not purple_accounts_find(): the loopback must cost the same
     * whatever else is measured */
    if (alice != NULL && strcmp(who, BENCH_ALICE) == 0)
        to = alice;
    else if (bob != NULL && strcmp(who, BENCH_BOB) == 0)
        to = bob;
    if (to == NULL)
        return -1;
    w = g_new0(BenchWire, 1);
    w->to = to;
    w->from = g_strdup(purple_account_get_username(purple_connection_get_account(gc)));
    w->text = g_strdup(message);
    g_queue_push_tail(&wire, w);
    if (wire_source == 0)
        wire_source = g_idle_add(bench_wire_deliver, NULL);
    return 1;
}

static void
bench_prpl_login(PurpleAccount *account)
{
    purple_connection_set_state(purple_account_get_connection(account), PURPLE_CONNECTED);
}

static void
bench_prpl_close(PurpleConnection *gc)
{
}

static const char *
bench_prpl_list_icon(PurpleAccount *account, PurpleBuddy *buddy)
{
    return "bench";
}

static GList *
bench_prpl_status_types(PurpleAccount *account)
{
    GList *types = NULL;

    types = g_list_append(types, purple_status_type_new(PURPLE_STATUS_AVAILABLE, NULL, NULL, TRUE));
    types = g_list_append(types, purple_status_type_new(PURPLE_STATUS_OFFLINE, NULL, NULL, TRUE));
    return types;
}

static PurplePluginProtocolInfo bench_prpl_info = {
    .options = OPT_PROTO_NO_PASSWORD,
    .icon_spec = NO_BUDDY_ICONS,
    .list_icon = bench_prpl_list_icon,
    .status_types = bench_prpl_status_types,
    .login = bench_prpl_login,
    .close = bench_prpl_close,
    .send_im = bench_prpl_send_im,
    .struct_size = sizeof(PurplePluginProtocolInfo),
};

static PurplePluginInfo bench_prpl_plugin = {
    .magic = PURPLE_PLUGIN_MAGIC,
    .major_version = PURPLE_MAJOR_VERSION,
    .minor_version = PURPLE_MINOR_VERSION,
    .type = PURPLE_PLUGIN_PROTOCOL,
    .priority = PURPLE_PRIORITY_DEFAULT,
    .id = BENCH_PRPL_ID,
    .name = "purple-otr bench loopback",
    .version = "1",
    .summary = "Loopback protocol of bench-path",
    .description = "Hands every message to the other local account.",
    .extra_info = &bench_prpl_info,
};

/* ------------------------------------------------------------------ */
/* Headless libpurple with the core plugin and two accounts            */
/* ------------------------------------------------------------------ */

static PurpleConversation *conv_a = NULL;   /* alice's, with bob */
static PurpleConversation *conv_b = NULL;   /* bob's, with alice */
static guint keys_ready = 0;
static guint keys_failed = 0;
static guint level_a = POTR_LEVEL_NOT_PRIVATE;
static guint level_b = POTR_LEVEL_NOT_PRIVATE;

/* counting deliveries to bob during a timed round */
static gboolean counting = FALSE;
static guint delivered = 0;
static guint wrong_text = 0;
static guint expected = 0;
static gint64 last_delivery = 0;

static gboolean
bench_start_purple(const char *dir, const char *plugin_dir)
{
    PurplePlugin *prpl = NULL;
    PurplePlugin *core = NULL;
    char *where = NULL;
    char *wanted = NULL;
    gboolean same = FALSE;

    purple_util_set_user_dir(dir);
    purple_debug_set_enabled(FALSE);
    purple_eventloop_set_ui_ops(potr_test_eventloop());
    if (!purple_core_init(BENCH_UI)) {
        fprintf(stderr, "bench-path: libpurple could not start\n");
        return FALSE;
    }
    purple_set_blist(purple_blist_new());
    purple_blist_load();
    purple_prefs_set_string("/purple/network/stun_server", "");
    purple_prefs_set_bool("/purple/network/auto_ip", FALSE);
    purple_prefs_set_bool("/purple/network/map_ports", FALSE);
    /* no disk writes per message: logging is not what is measured */
    purple_prefs_set_bool("/purple/logging/log_ims", FALSE);
    purple_prefs_set_bool("/purple/logging/log_system", FALSE);

    /* a static protocol plugin is registered, then loaded by the next probe */
    prpl = purple_plugin_new(TRUE, NULL);
    prpl->info = &bench_prpl_plugin;
    purple_plugin_register(prpl);
    purple_plugins_add_search_path(plugin_dir);
    purple_plugins_probe(G_MODULE_SUFFIX);
    if (purple_find_prpl(BENCH_PRPL_ID) == NULL) {
        fprintf(stderr, "bench-path: the loopback protocol could not be registered\n");
        return FALSE;
    }
    /* the plugin just built, not one installed elsewhere */
    core = purple_plugins_find_with_id(POTR_CORE_PLUGIN_ID);
    if (core != NULL && core->path != NULL) {
        char *found = g_path_get_dirname(core->path);

        where = g_canonicalize_filename(found, NULL);
        g_free(found);
    }
    wanted = g_canonicalize_filename(plugin_dir, NULL);
    same = where != NULL && strcmp(where, wanted) == 0;
    g_free(where);
    g_free(wanted);
    if (!same) {
        fprintf(stderr, "bench-path: no %s plugin in %s\n", POTR_CORE_PLUGIN_ID, plugin_dir);
        return FALSE;
    }
    if (!purple_plugin_load(core)) {
        fprintf(stderr, "bench-path: the core plugin did not load: %s\n",
                core->error != NULL ? core->error : "(no reason given)");
        return FALSE;
    }
    return TRUE;
}

static PurpleAccount *
bench_account(const char *name)
{
    PurpleAccount *account = purple_account_new(name, BENCH_PRPL_ID);

    purple_accounts_add(account);
    purple_account_set_enabled(account, BENCH_UI, TRUE);
    if (!purple_account_is_connected(account))
        purple_account_connect(account);
    return account;
}

static void
on_key_generation(PurpleAccount *account, guint state, gpointer data)
{
    if (state == 1)
        keys_ready++;
    else if (state == 2)
        keys_failed++;
}

static void
on_level_changed(PurpleConversation *conv, guint level, gpointer data)
{
    if (conv == conv_a)
        level_a = level;
    else if (conv == conv_b)
        level_b = level;
}

/* the text bob's receive hook hands on must be exactly what alice typed */
static void
on_received_im(PurpleAccount *account, char *sender, char *message, PurpleConversation *conv,
               PurpleMessageFlags flags, gpointer data)
{
    if (counting && account == bob && g_strcmp0(message, bench_text) != 0)
        wrong_text++;
}

/* delivered = written into bob's conversation */
static void
on_wrote_im(PurpleAccount *account, const char *who, char *message, PurpleConversation *conv,
            PurpleMessageFlags flags, gpointer data)
{
    if (!counting || conv != conv_b || !(flags & PURPLE_MESSAGE_RECV))
        return;
    if (++delivered == expected)
        last_delivery = g_get_monotonic_time();
}

static gboolean
bench_keys_done(void)
{
    return keys_ready + keys_failed >= 2;
}

static gboolean
bench_private(void)
{
    return level_a == POTR_LEVEL_UNVERIFIED && level_b == POTR_LEVEL_UNVERIFIED
           && potr_conv_level(conv_a) == POTR_LEVEL_UNVERIFIED
           && potr_conv_level(conv_b) == POTR_LEVEL_UNVERIFIED;
}

static gboolean
bench_all_delivered(void)
{
    return delivered >= expected;
}

/* Microseconds per message for N messages alice -> bob, from the first
 * send to the last delivery; negative if they did not all arrive. */
static double
bench_plugin_round(guint n)
{
    gint64 start = 0;
    guint i;

    delivered = 0;
    wrong_text = 0;
    expected = n;
    counting = TRUE;
    start = g_get_monotonic_time();
    for (i = 0; i < n; i++)
        purple_conv_im_send(PURPLE_CONV_IM(conv_a), bench_text);
    if (!bench_run_until(bench_all_delivered, BENCH_ROUND_TIMEOUT_MS)) {
        counting = FALSE;
        fprintf(stderr, "bench-path: only %u of %u messages arrived\n", delivered, n);
        return -1.0;
    }
    counting = FALSE;
    if (wrong_text > 0)
        fprintf(stderr, "bench-path: %u messages arrived with a different text\n", wrong_text);
    return (double)(last_delivery - start) / n;
}

/* ------------------------------------------------------------------ */
/* Raw libotr: two user states in this process, the same messages      */
/* ------------------------------------------------------------------ */

typedef struct RawSide {
    OtrlUserState us;
    const char *name;
    struct RawSide *peer;
    char *instag_path;
    gboolean secure;
} RawSide;

typedef struct {
    RawSide *to;
    char *text;
} RawWire;

static GQueue raw_wire = G_QUEUE_INIT;
static guint raw_events = 0;      /* libotr message events: none expected */
static guint raw_key_missing = 0;

static void
raw_wire_free(gpointer data)
{
    RawWire *w = data;

    g_free(w->text);
    g_free(w);
}

static OtrlPolicy
raw_policy(void *opdata, ConnContext *context)
{
    return OTRL_POLICY_OPPORTUNISTIC;
}

static void
raw_create_privkey(void *opdata, const char *accountname, const char *protocol)
{
    raw_key_missing++;
}

static int
raw_is_logged_in(void *opdata, const char *accountname, const char *protocol, const char *recipient)
{
    return 1;
}

static void
raw_inject(void *opdata, const char *accountname, const char *protocol, const char *recipient,
           const char *message)
{
    RawSide *side = opdata;
    RawWire *w = g_new0(RawWire, 1);

    w->to = side->peer;
    w->text = g_strdup(message);
    g_queue_push_tail(&raw_wire, w);
}

static void
raw_gone_secure(void *opdata, ConnContext *context)
{
    ((RawSide *)opdata)->secure = TRUE;
}

static const char *
raw_account_name(void *opdata, const char *account, const char *protocol)
{
    return g_strdup(account);
}

static void
raw_account_name_free(void *opdata, const char *account_name)
{
    g_free((char *)account_name);
}

static void
raw_msg_event(void *opdata, OtrlMessageEvent msg_event, ConnContext *context,
              const char *message, gcry_error_t err)
{
    raw_events++;
}

static void
raw_create_instag(void *opdata, const char *accountname, const char *protocol)
{
    RawSide *side = opdata;

    otrl_instag_generate(side->us, side->instag_path, accountname, protocol);
}

static const OtrlMessageAppOps raw_ops = {
    .policy = raw_policy,
    .create_privkey = raw_create_privkey,
    .is_logged_in = raw_is_logged_in,
    .inject_message = raw_inject,
    .gone_secure = raw_gone_secure,
    .account_name = raw_account_name,
    .account_name_free = raw_account_name_free,
    .handle_msg_event = raw_msg_event,
    .create_instag = raw_create_instag,
};

/* Hand every queued message to its recipient; returns how many reached
 * bob as exactly bench_text (decrypted). */
static guint
raw_deliver_all(RawSide *bob_side)
{
    RawWire *w = NULL;
    guint good = 0;

    while ((w = g_queue_pop_head(&raw_wire)) != NULL) {
        char *plain = NULL;
        OtrlTLV *tlvs = NULL;
        int internal = otrl_message_receiving(w->to->us, &raw_ops, w->to, w->to->name,
                                              BENCH_PRPL_ID, w->to->peer->name, w->text,
                                              &plain, &tlvs, NULL, NULL, NULL);

        if (!internal && w->to == bob_side && plain != NULL && strcmp(plain, bench_text) == 0)
            good++;
        otrl_tlv_free(tlvs);
        if (plain != NULL)
            otrl_message_free(plain);
        raw_wire_free(w);
    }
    return good;
}

static gboolean
raw_setup(RawSide *a, RawSide *b, const char *keyfile, const char *dir)
{
    char *query = NULL;

    a->us = otrl_userstate_create();
    b->us = otrl_userstate_create();
    a->name = BENCH_ALICE;
    b->name = BENCH_BOB;
    a->peer = b;
    b->peer = a;
    a->instag_path = g_build_filename(dir, "raw-alice.instag", NULL);
    b->instag_path = g_build_filename(dir, "raw-bob.instag", NULL);
    /* the very keys the core generated for the two accounts */
    if (otrl_privkey_read(a->us, keyfile) != 0 || otrl_privkey_read(b->us, keyfile) != 0) {
        fprintf(stderr, "bench-path: cannot read %s\n", keyfile);
        return FALSE;
    }
    query = otrl_proto_default_query_msg(a->name, OTRL_POLICY_OPPORTUNISTIC);
    raw_inject(a, a->name, BENCH_PRPL_ID, b->name, query);
    free(query);
    raw_deliver_all(b);
    if (!a->secure || !b->secure || raw_key_missing > 0) {
        fprintf(stderr, "bench-path: raw libotr: no private session (%u events)\n", raw_events);
        return FALSE;
    }
    return TRUE;
}

static double
raw_round(RawSide *a, RawSide *b, guint n)
{
    gint64 start = g_get_monotonic_time();
    guint good = 0;
    guint i;

    for (i = 0; i < n; i++) {
        char *out = NULL;
        gcry_error_t err = otrl_message_sending(a->us, &raw_ops, a, a->name, BENCH_PRPL_ID,
                                                b->name, OTRL_INSTAG_BEST, bench_text, NULL,
                                                &out, OTRL_FRAGMENT_SEND_SKIP, NULL, NULL, NULL);
        if (err == 0 && out != NULL)
            raw_inject(a, a->name, BENCH_PRPL_ID, b->name, out);
        if (out != NULL)
            otrl_message_free(out);
    }
    good = raw_deliver_all(b);
    if (good != n) {
        fprintf(stderr, "bench-path: raw libotr: %u of %u messages decrypted\n", good, n);
        return -1.0;
    }
    return (double)(g_get_monotonic_time() - start) / n;
}

static void
raw_free(RawSide *side)
{
    if (side->us != NULL)
        otrl_userstate_free(side->us);
    g_free(side->instag_path);
}

/* ------------------------------------------------------------------ */

static int
bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a;
    double y = *(const double *)b;

    return (x > y) - (x < y);
}

/* Median of BENCH_ROUNDS rounds of ROUND(N); negative if one failed. */
static double
bench_median(double (*round_fn)(guint), guint n, double *best)
{
    double t[BENCH_ROUNDS];
    int i;

    for (i = 0; i < BENCH_ROUNDS; i++)
        if ((t[i] = round_fn(n)) < 0)
            return -1.0;
    qsort(t, BENCH_ROUNDS, sizeof(t[0]), bench_cmp_double);
    *best = t[0];
    return t[BENCH_ROUNDS / 2];
}

static RawSide raw_a;
static RawSide raw_b;

static double
bench_raw_round(guint n)
{
    return raw_round(&raw_a, &raw_b, n);
}

static void
bench_remove_tree(const char *path)
{
    GDir *dir = g_dir_open(path, 0, NULL);
    const char *name = NULL;

    while (dir != NULL && (name = g_dir_read_name(dir)) != NULL) {
        char *child = g_build_filename(path, name, NULL);

        if (g_file_test(child, G_FILE_TEST_IS_DIR) && !g_file_test(child, G_FILE_TEST_IS_SYMLINK))
            bench_remove_tree(child);
        else
            g_unlink(child);
        g_free(child);
    }
    if (dir != NULL)
        g_dir_close(dir);
    g_rmdir(path);
}

/* Both accounts online on the loopback, a conversation each, our signal
 * handlers connected. */
static gboolean
bench_prepare(const char *dir, const char *plugin_dir)
{
    if (!bench_start_purple(dir, plugin_dir))
        return FALSE;
    purple_signal_connect(potr_core_handle(), "key-generation", &bench_handle,
                          PURPLE_CALLBACK(on_key_generation), NULL);
    purple_signal_connect(potr_core_handle(), "level-changed", &bench_handle,
                          PURPLE_CALLBACK(on_level_changed), NULL);
    purple_signal_connect(purple_conversations_get_handle(), "received-im-msg", &bench_handle,
                          PURPLE_CALLBACK(on_received_im), NULL);
    purple_signal_connect(purple_conversations_get_handle(), "wrote-im-msg", &bench_handle,
                          PURPLE_CALLBACK(on_wrote_im), NULL);
    alice = bench_account(BENCH_ALICE);
    bob = bench_account(BENCH_BOB);
    if (!purple_account_is_connected(alice) || !purple_account_is_connected(bob)) {
        fprintf(stderr, "bench-path: the loopback accounts did not connect\n");
        return FALSE;
    }
    conv_a = purple_conversation_new(PURPLE_CONV_TYPE_IM, alice, BENCH_BOB);
    conv_b = purple_conversation_new(PURPLE_CONV_TYPE_IM, bob, BENCH_ALICE);
    return TRUE;
}

/* Both keys, generated by the core in its background threads; seconds
 * it took, negative on failure. */
static double
bench_make_keys(void)
{
    GError *error = NULL;
    gint64 start = g_get_monotonic_time();

    if (!potr_key_generate(alice, &error) || !potr_key_generate(bob, &error)) {
        fprintf(stderr, "bench-path: %s\n", error->message);
        g_error_free(error);
        return -1.0;
    }
    if (!bench_run_until(bench_keys_done, BENCH_KEYGEN_TIMEOUT_MS) || keys_failed > 0) {
        fprintf(stderr, "bench-path: the keys were not generated in time\n");
        return -1.0;
    }
    return (double)(g_get_monotonic_time() - start) / G_USEC_PER_SEC;
}

/* Start OTR from alice's side; milliseconds until both sides are
 * Unverified, negative if that did not happen in time. */
static double
bench_go_private(void)
{
    gint64 start = g_get_monotonic_time();

    potr_conv_start(conv_a);
    if (!bench_run_until(bench_private, BENCH_AKE_TIMEOUT_MS)) {
        fprintf(stderr, "bench-path: no private session after %d s (alice: %s, bob: %s)\n",
                BENCH_AKE_TIMEOUT_MS / 1000, potr_level_name(potr_conv_level(conv_a)),
                potr_level_name(potr_conv_level(conv_b)));
        return -1.0;
    }
    return (double)(g_get_monotonic_time() - start) / 1000.0;
}

/* EXTRA more (offline) accounts of the same protocol, put ahead of alice
 * and bob in the account list: what every lookup of an account by name
 * (purple_accounts_find) has to walk past. */
static void
bench_add_accounts(guint extra)
{
    guint i;

    for (i = 0; i < extra; i++) {
        char *name = g_strdup_printf("other%02u@bench", i);
        PurpleAccount *account = purple_account_new(name, BENCH_PRPL_ID);

        purple_accounts_add(account);
        purple_accounts_reorder(account, 0);
        g_free(name);
    }
}

int
main(int argc, char **argv)
{
    guint n = argc > 1 ? (guint)strtoul(argv[1], NULL, 10) : 2000;
    const char *plugin_dir = argc > 2 ? argv[2] : g_getenv("POTR_PLUGIN_DIR");
    GError *error = NULL;
    char *dir = NULL;
    char *keyfile = NULL;
    double floor_us = 0, floor_best = 0;
    double plugin_us = 0, plugin_best = 0;
    double many_us = 0, many_best = 0;
    double raw_us = 0, raw_best = 0;
    double keygen_s = 0;
    double ake_ms = 0;
    int status = 1;

    if (n == 0)
        n = 2000;
    if (plugin_dir == NULL || *plugin_dir == '\0') {
        fprintf(stderr, "bench-path: set POTR_PLUGIN_DIR (or pass it after MESSAGES) to the folder "
                        "of the built purple-otr.so (BUILDDIR/src/core/.libs)\n");
        return 1;
    }
    dir = g_dir_make_tmp("potr-bench-path-XXXXXX", &error);
    if (dir == NULL) {
        fprintf(stderr, "bench-path: %s\n", error->message);
        g_error_free(error);
        return 1;
    }
    if (!bench_prepare(dir, plugin_dir) || (keygen_s = bench_make_keys()) < 0)
        goto cleanup;

    /* floor: the same path with OTR switched off (policy "never"): what
     * libpurple itself, the loopback and the core's hooks cost */
    purple_prefs_set_bool("/OTR/enabled", FALSE);
    floor_us = bench_median(bench_plugin_round, n, &floor_best);
    purple_prefs_set_bool("/OTR/enabled", TRUE);
    if (floor_us < 0 || (ake_ms = bench_go_private()) < 0)
        goto cleanup;
    if ((plugin_us = bench_median(bench_plugin_round, n, &plugin_best)) < 0)
        goto cleanup;
    bench_add_accounts(BENCH_EXTRA_ACCOUNTS);
    if ((many_us = bench_median(bench_plugin_round, n, &many_best)) < 0)
        goto cleanup;

    keyfile = g_build_filename(dir, POTR_FILE_PRIVKEY, NULL);
    if (!raw_setup(&raw_a, &raw_b, keyfile, dir)
        || (raw_us = bench_median(bench_raw_round, n, &raw_best)) < 0)
        goto cleanup;

    printf("message path: %u messages alice -> bob, median of %d rounds (best in brackets)\n",
           n, BENCH_ROUNDS);
    printf("message path: plugin (send+receive through libpurple)   %7.1f us/msg  (%.1f)\n",
           plugin_us, plugin_best);
    printf("message path: raw libotr (same work)                    %7.1f us/msg  (%.1f)\n",
           raw_us, raw_best);
    printf("message path: ratio plugin/raw                          %7.2f\n", plugin_us / raw_us);
    printf("message path: libpurple path with OTR off (floor)       %7.1f us/msg  (%.1f)\n",
           floor_us, floor_best);
    printf("message path: plugin - raw - floor (core's own share)   %7.1f us/msg\n",
           plugin_us - raw_us - floor_us);
    printf("message path: plugin, %2d more accounts on the protocol  %7.1f us/msg  (%.1f)\n",
           BENCH_EXTRA_ACCOUNTS, many_us, many_best);
    printf("  (setup: 2 DSA keys generated by the core in the background in %.1f s; "
           "AKE in %.1f ms)\n", keygen_s, ake_ms);
    status = 0;

cleanup:
    purple_signals_disconnect_by_handle(&bench_handle);
    if (purple_get_core() != NULL)
        purple_core_quit();
    if (wire_source != 0)
        g_source_remove(wire_source);
    g_queue_clear_full(&wire, bench_wire_free);
    g_queue_clear_full(&raw_wire, raw_wire_free);
    raw_free(&raw_a);
    raw_free(&raw_b);
    bench_remove_tree(dir);
    g_free(keyfile);
    g_free(dir);
    return status;
}
