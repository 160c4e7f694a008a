/* purple-otr - GPL-2.0-or-later
 * Fuzzing: a headless libpurple core, the engine, a loopback protocol and
 * an in-process libotr peer (see env.h). */
#include <config.h>

#include "env.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libotr/message.h>
#include <libotr/privkey.h>
#include <libotr/instag.h>

#include "../unit/headless.h"
#include "engine.h"

/* the UI id potr_headless_start() gives libpurple */
#define FUZZ_UI "purple-otr-unit"
/* a message exchange settles in a few rounds; more means a loop */
#define PUMP_ROUNDS 32

typedef struct {
    gboolean to_peer;
    char *text;
} Wire;

static gboolean started = FALSE;
static char *userdir = NULL;
static PurpleAccount *me = NULL;
static PurplePlugin *core_handle = NULL;
static OtrlUserState peer_us = NULL;
static GQueue wire = G_QUEUE_INIT;

static void
wire_push(gboolean to_peer, const char *text)
{
    Wire *w = g_new0(Wire, 1);

    w->to_peer = to_peer;
    w->text = g_strdup(text);
    g_queue_push_tail(&wire, w);
}

static void
wire_free(Wire *w)
{
    g_free(w->text);
    g_free(w);
}

/* ---- the loopback protocol: what we send to the peer goes to its libotr */

static int
fuzz_send_im(PurpleConnection *gc, const char *who, const char *message, PurpleMessageFlags flags)
{
    if (g_strcmp0(who, POTR_FUZZ_PEER) == 0)
        wire_push(TRUE, message);
    return 1;   /* to anyone else: sent into the void */
}

static void
fuzz_login(PurpleAccount *account)
{
    purple_connection_set_state(purple_account_get_connection(account), PURPLE_CONNECTED);
}

static void
fuzz_close(PurpleConnection *gc)
{
}

static const char *
fuzz_list_icon(PurpleAccount *account, PurpleBuddy *buddy)
{
    return "fuzz";
}

static GList *
fuzz_status_types(PurpleAccount *account)
{
    GList *types = NULL;

    types = g_list_append(types, purple_status_type_new(PURPLE_STATUS_AVAILABLE, NULL, NULL, TRUE));
    types = g_list_append(types, purple_status_type_new(PURPLE_STATUS_OFFLINE, NULL, NULL, TRUE));
    return types;
}

static PurplePluginProtocolInfo fuzz_prpl_info = {
    .options = OPT_PROTO_NO_PASSWORD,
    .icon_spec = NO_BUDDY_ICONS,
    .list_icon = fuzz_list_icon,
    .status_types = fuzz_status_types,
    .login = fuzz_login,
    .close = fuzz_close,
    .send_im = fuzz_send_im,
    .struct_size = sizeof(PurplePluginProtocolInfo),
};

static PurplePluginInfo fuzz_prpl_plugin = {
    .magic = PURPLE_PLUGIN_MAGIC,
    .major_version = PURPLE_MAJOR_VERSION,
    .minor_version = PURPLE_MINOR_VERSION,
    .type = PURPLE_PLUGIN_PROTOCOL,
    .priority = PURPLE_PRIORITY_DEFAULT,
    .id = POTR_FUZZ_PRPL,
    .name = "purple-otr fuzz loopback",
    .version = "1",
    .summary = "Loopback protocol of the fuzz targets",
    .description = "Hands what is sent to the in-process OTR peer.",
    .extra_info = &fuzz_prpl_info,
};

/* ---- the peer: plain libotr, policy opportunistic, always online */

static OtrlPolicy
peer_policy(void *opdata, ConnContext *context)
{
    return OTRL_POLICY_DEFAULT;
}

static int
peer_is_logged_in(void *opdata, const char *accountname, const char *protocol,
                  const char *recipient)
{
    return 1;
}

static void
peer_inject(void *opdata, const char *accountname, const char *protocol, const char *recipient,
            const char *message)
{
    wire_push(FALSE, message);
}

static const OtrlMessageAppOps peer_ops = {
    .policy = peer_policy,
    .is_logged_in = peer_is_logged_in,
    .inject_message = peer_inject,
};

static void
die(const char *what)
{
    fprintf(stderr, "fuzz environment: %s\n", what);
    abort();
}

static void
on_exit_cleanup(void)
{
    /* the temporary user dir goes; nothing else matters at exit */
    if (userdir != NULL) {
        char *cmd = g_strdup_printf("rm -rf '%s'", userdir);

        if (system(cmd) != 0)
            fprintf(stderr, "fuzz environment: could not remove %s\n", userdir);
        g_free(cmd);
    }
}

static void
start_purple(void)
{
    PurplePlugin *prpl = NULL;

    userdir = g_dir_make_tmp("potr-fuzz-XXXXXX", NULL);
    if (userdir == NULL)
        die("no temporary folder");
    atexit(on_exit_cleanup);
    /* the unit tests' UI-less core (aborts if libpurple cannot start) */
    potr_headless_start(userdir);
    purple_prefs_set_bool("/purple/logging/log_ims", FALSE);
    purple_prefs_set_bool("/purple/logging/log_system", FALSE);
    prpl = purple_plugin_new(TRUE, NULL);
    prpl->info = &fuzz_prpl_plugin;
    purple_plugin_register(prpl);
    purple_plugins_probe(G_MODULE_SUFFIX);
    if (purple_find_prpl(POTR_FUZZ_PRPL) == NULL)
        die("the loopback protocol could not be registered");
}

static void
start_engine(void)
{
    GError *error = NULL;
    char *peer_keys = NULL;
    char *peer_tags = NULL;

    /* the engine's handle: any plugin structure will do */
    core_handle = purple_plugin_new(FALSE, NULL);
    if (!potr_core_start(core_handle, &error))
        die(error->message);
    me = purple_account_new(POTR_FUZZ_ME, POTR_FUZZ_PRPL);
    purple_accounts_add(me);
    purple_account_set_enabled(me, FUZZ_UI, TRUE);
    if (!purple_account_is_connected(me))
        purple_account_connect(me);
    /* keys made here, synchronously: a fuzzer may wait at its start */
    if (otrl_privkey_generate(potr_core_userstate(), potr_core_path_keys(), POTR_FUZZ_ME,
                              POTR_FUZZ_PRPL) != 0)
        die("our key could not be generated");
    peer_us = otrl_userstate_create();
    peer_keys = g_build_filename(userdir, "peer.private_key", NULL);
    peer_tags = g_build_filename(userdir, "peer.instance_tags", NULL);
    if (otrl_privkey_generate(peer_us, peer_keys, POTR_FUZZ_PEER, POTR_FUZZ_PRPL) != 0
        || otrl_instag_generate(peer_us, peer_tags, POTR_FUZZ_PEER, POTR_FUZZ_PRPL) != 0)
        die("the peer's key could not be generated");
    g_free(peer_keys);
    g_free(peer_tags);
}

void
potr_fuzz_env_start(void)
{
    if (started)
        return;
    started = TRUE;
    start_purple();
    start_engine();
}

PurpleAccount *
potr_fuzz_env_account(void)
{
    return me;
}

PurpleConversation *
potr_fuzz_env_conv(const char *who)
{
    PurpleConversation *conv = purple_find_conversation_with_account(PURPLE_CONV_TYPE_IM, who, me);

    return conv != NULL ? conv : purple_conversation_new(PURPLE_CONV_TYPE_IM, me, who);
}

void
potr_fuzz_env_receive(const char *who, const char *text)
{
    PurpleConnection *gc = purple_account_get_connection(me);

    if (gc != NULL)
        serv_got_im(gc, who, text, 0, time(NULL));
}

static void
peer_receive(const char *text)
{
    char *plain = NULL;
    OtrlTLV *tlvs = NULL;

    otrl_message_receiving(peer_us, &peer_ops, NULL, POTR_FUZZ_PEER, POTR_FUZZ_PRPL, POTR_FUZZ_ME,
                           text, &plain, &tlvs, NULL, NULL, NULL);
    otrl_tlv_free(tlvs);
    otrl_message_free(plain);
}

void
potr_fuzz_env_pump(void)
{
    for (guint round = 0; round < PUMP_ROUNDS; round++) {
        Wire *w = NULL;
        guint moved = 0;

        while ((w = g_queue_pop_head(&wire)) != NULL && moved < 64) {
            if (w->to_peer)
                peer_receive(w->text);
            else
                potr_fuzz_env_receive(POTR_FUZZ_PEER, w->text);
            wire_free(w);
            moved++;
        }
        if (w != NULL)
            wire_free(w);
        while (g_main_context_iteration(NULL, FALSE) && moved < 128)
            moved++;
        if (moved == 0)
            break;
    }
    /* libpurple keeps every line written into a conversation: without
     * this a long run grows until it is killed */
    for (GList *l = purple_get_conversations(); l != NULL; l = l->next)
        purple_conversation_clear_message_history(l->data);
}

void
potr_fuzz_env_drain(void)
{
    Wire *w = NULL;

    while ((w = g_queue_pop_head(&wire)) != NULL)
        wire_free(w);
}

ConnContext *
potr_fuzz_env_peer_context(void)
{
    return otrl_context_find(peer_us, POTR_FUZZ_ME, POTR_FUZZ_PEER, POTR_FUZZ_PRPL,
                             OTRL_INSTAG_BEST, 0, NULL, NULL, NULL);
}

static gboolean
both_private(void)
{
    ConnContext *ours = otrl_context_find(potr_core_userstate(), POTR_FUZZ_PEER, POTR_FUZZ_ME,
                                          POTR_FUZZ_PRPL, OTRL_INSTAG_BEST, 0, NULL, NULL, NULL);
    ConnContext *theirs = potr_fuzz_env_peer_context();

    return ours != NULL && theirs != NULL && ours->msgstate == OTRL_MSGSTATE_ENCRYPTED
           && theirs->msgstate == OTRL_MSGSTATE_ENCRYPTED;
}

gboolean
potr_fuzz_env_private(void)
{
    ConnContext *theirs = NULL;

    if (both_private())
        return TRUE;
    /* start afresh on the peer's side, then it asks */
    theirs = potr_fuzz_env_peer_context();
    if (theirs != NULL)
        otrl_context_force_plaintext(theirs);
    potr_fuzz_env_drain();
    potr_fuzz_env_receive(POTR_FUZZ_PEER, "?OTRv3?");
    potr_fuzz_env_pump();
    return both_private();
}

void
potr_fuzz_env_peer_send(const char *message, OtrlTLV *tlvs)
{
    char *out = NULL;
    gcry_error_t err = otrl_message_sending(peer_us, &peer_ops, NULL, POTR_FUZZ_PEER, POTR_FUZZ_PRPL,
                                            POTR_FUZZ_ME, OTRL_INSTAG_BEST, message, tlvs, &out,
                                            OTRL_FRAGMENT_SEND_SKIP, NULL, NULL, NULL);

    if (err == 0)
        wire_push(FALSE, out != NULL ? out : message);
    otrl_message_free(out);
}
