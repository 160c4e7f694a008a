/* purple-otr - GPL-2.0-or-later
 * Core: the one engine of the process (libotr user state, files, signals). */
#include "i18n.h"
#include "engine.h"
#include "core.h"

#include <string.h>
#include <libotr/privkey.h>
#include <libotr/instag.h>

#include "ake.h"
#include "commands.h"
#include "context.h"
#include "dialogs.h"
#include "metadata.h"
#include "ops.h"
#include "policy.h"
#include "presence.h"
#include "send.h"
#include "session.h"
#include "smp.h"
#include "store.h"
#include "xmpp.h"

static gboolean otrl_ready = FALSE;

/* Where libotr's callbacks (ops.c) hand their news: to the modules above
 * ops, which ops.c does not know. */
static const PotrOpsHandlers ops_handlers = {
    .need_key = potr_ake_need_key,
    .commit_sent = potr_ake_commit_sent,
    .changed = potr_session_changed,
    .smp_event = potr_smp_event,
    .peer_error = potr_send_peer_error,
    .not_private = potr_send_tell_not_private,
};

const OtrlMessageAppOps *
potr_core_ops(void)
{
    return &potr_ops;
}

/* A level may change when another program (dis)trusted or forgot a
 * fingerprint in use; the session emits only real changes. */
static void
emit_all_levels(void)
{
    for (GList *l = purple_get_ims(); l != NULL; l = l->next)
        potr_context_emit_level(l->data);
}

/* Before libotr sees a message: another program's new key or trust is
 * used from the first message on. Not inside libotr's callbacks, where a
 * key it holds must not be freed. */
static gboolean
on_im_before_otr(PurpleAccount *account, const char *who, char **message, gpointer data)
{
    potr_core_refresh_files();
    return FALSE;
}

static void
on_sending_before_otr(PurpleAccount *account, const char *who, char **message, gpointer data)
{
    potr_core_refresh_files();
}

void
potr_conv_start(PurpleConversation *conv)
{
    g_return_if_fail(conv != NULL);
    potr_ake_start(purple_conversation_get_account(conv), purple_conversation_get_name(conv));
}

void
potr_conv_end(PurpleConversation *conv)
{
    g_return_if_fail(conv != NULL);
    potr_session_end(purple_conversation_get_account(conv), purple_conversation_get_name(conv));
}

/* Read the three files; a problem is reported and never fatal. */
static void
load_files(void)
{
    GError *error = NULL;
    guint skipped = 0;
    guint removed = 0;

    /* copies of keys a crash left behind (only our own temp names) */
    removed += potr_file_cleanup_temps(potr_core_path_keys());
    removed += potr_file_cleanup_temps(potr_core_path_fingerprints());
    removed += potr_file_cleanup_temps(potr_core_path_instags());
    if (removed > 0)
        purple_debug_info("purple-otr", "removed %u temporary file(s) left by an interrupted "
                          "write\n", removed);
    if (!potr_store_load_keys(potr_core_userstate(), potr_core_path_keys(), &error)) {
        potr_core_report_file_error(_("Your OTR private keys could not be read."), error);
        g_clear_error(&error);
    }
    if (!potr_store_load_fingerprints(potr_core_userstate(), potr_core_path_fingerprints(), NULL, NULL, &skipped, &error)) {
        potr_core_report_file_error(_("The list of known OTR fingerprints could not be read."), error);
        g_clear_error(&error);
    } else if (skipped > 0) {
        char *msg = g_strdup_printf(g_dngettext(GETTEXT_PACKAGE, "%u damaged line of the fingerprint file was skipped.",
                                             "%u damaged lines of the fingerprint file were skipped.",
                                             skipped), skipped);
        purple_notify_warning(potr_core_handle(), _("OTR"), msg,
                              _("A copy of the file is kept beside it before it is next written."));
        g_free(msg);
    }
    if (!potr_store_load_instags(potr_core_userstate(), potr_core_path_instags(), &error)) {
        potr_core_report_file_error(_("The OTR instance tags could not be read."), error);
        g_clear_error(&error);
    }
}

static void
register_signals(PurplePlugin *plugin)
{
    purple_signal_register(plugin, "level-changed", purple_marshal_VOID__POINTER_UINT, NULL, 2,
                           purple_value_new(PURPLE_TYPE_SUBTYPE, PURPLE_SUBTYPE_CONVERSATION),
                           purple_value_new(PURPLE_TYPE_UINT));
    purple_signal_register(plugin, "key-generation", purple_marshal_VOID__POINTER_UINT, NULL, 2,
                           purple_value_new(PURPLE_TYPE_SUBTYPE, PURPLE_SUBTYPE_ACCOUNT),
                           purple_value_new(PURPLE_TYPE_UINT));
    purple_signal_register(plugin, "smp-event", purple_marshal_VOID__POINTER_INT_INT, NULL, 3,
                           purple_value_new(PURPLE_TYPE_SUBTYPE, PURPLE_SUBTYPE_CONVERSATION),
                           purple_value_new(PURPLE_TYPE_INT), purple_value_new(PURPLE_TYPE_INT));
    purple_signal_register(plugin, "smp-request", purple_marshal_BOOLEAN__POINTER_POINTER,
                           purple_value_new(PURPLE_TYPE_BOOLEAN), 2,
                           purple_value_new(PURPLE_TYPE_SUBTYPE, PURPLE_SUBTYPE_CONVERSATION),
                           purple_value_new(PURPLE_TYPE_STRING));
    purple_signal_register(plugin, "verify-request", purple_marshal_BOOLEAN__POINTER,
                           purple_value_new(PURPLE_TYPE_BOOLEAN), 1,
                           purple_value_new(PURPLE_TYPE_SUBTYPE, PURPLE_SUBTYPE_CONVERSATION));
    purple_signal_register(plugin, "buddy-menu", purple_marshal_VOID__POINTER_POINTER, NULL, 2,
                           purple_value_new(PURPLE_TYPE_SUBTYPE, PURPLE_SUBTYPE_BLIST_BUDDY),
                           purple_value_new_outgoing(PURPLE_TYPE_BOXED, "GList **"));
    purple_signal_register(plugin, "fingerprints-changed", purple_marshal_VOID, NULL, 0);
}

/* libotr's OTRL_INIT exits the process on a version mismatch; a plugin
 * must never take the client down, so the check is done by hand. */
static gboolean
init_libotr(GError **error)
{
    gcry_error_t err = 0;

    if (otrl_ready)
        return TRUE;
    err = otrl_init(OTRL_VERSION_MAJOR, OTRL_VERSION_MINOR, OTRL_VERSION_SUB);
    if (err != 0) {
        g_set_error(error, POTR_ERROR, POTR_ERROR_FAILED,
                    _("The installed libotr does not match the one purple-otr was built with "
                      "(built with %d.%d.%d): %s"),
                    OTRL_VERSION_MAJOR, OTRL_VERSION_MINOR, OTRL_VERSION_SUB, gcry_strerror(err));
        return FALSE;
    }
    otrl_ready = TRUE;
    return TRUE;
}

gboolean
potr_core_start(PurplePlugin *plugin, GError **error)
{
    g_return_val_if_fail(plugin != NULL, FALSE);
    g_return_val_if_fail(potr_core_userstate() == NULL, FALSE);

    if (!init_libotr(error))
        return FALSE;

    potr_core_state_begin(plugin, otrl_userstate_create());
    potr_core_set_trust_listener(emit_all_levels);
    potr_ops_set_handlers(&ops_handlers);

    potr_policy_init_prefs();
    register_signals(plugin);
    load_files();
    /* before the session module's handlers (priority 0) */
    purple_signal_connect_priority(purple_conversations_get_handle(), "receiving-im-msg", plugin,
                                   PURPLE_CALLBACK(on_im_before_otr), NULL,
                                   PURPLE_SIGNAL_PRIORITY_DEFAULT - 1);
    purple_signal_connect_priority(purple_conversations_get_handle(), "sending-im-msg", plugin,
                                   PURPLE_CALLBACK(on_sending_before_otr), NULL,
                                   PURPLE_SIGNAL_PRIORITY_DEFAULT - 1);
    potr_session_init(plugin);
    potr_presence_init(plugin);
    potr_commands_init(plugin);
    potr_dialogs_init(plugin);
    potr_xmpp_init(plugin);
    potr_metadata_init(plugin);
    return TRUE;
}

void
potr_core_stop(void)
{
    if (potr_core_userstate() == NULL)
        return;
    potr_session_end_all(NULL);
    potr_commands_uninit();
    potr_dialogs_uninit();
    potr_xmpp_uninit();
    potr_metadata_uninit();
    potr_presence_uninit();
    potr_session_uninit();
    potr_ops_stop_timer();
    potr_store_keygen_cancel_all(potr_core_userstate());
    potr_store_release(potr_core_userstate());
    /* every module connected its handlers on the core's handle */
    purple_signals_disconnect_by_handle(potr_core_handle());
    purple_signals_unregister_by_instance(potr_core_handle());
    potr_ops_set_handlers(NULL);
    potr_core_state_end();
}

gboolean
potr_key_generate(PurpleAccount *account, GError **error)
{
    g_return_val_if_fail(account != NULL, FALSE);
    return potr_ake_keygen(account, error);
}

gboolean
potr_key_generating(PurpleAccount *account)
{
    g_return_val_if_fail(account != NULL, FALSE);
    return potr_store_keygen_running(purple_account_get_username(account),
                                     purple_account_get_protocol_id(account));
}

char *
potr_key_fingerprint(PurpleAccount *account)
{
    char human[OTRL_PRIVKEY_FPRINT_HUMAN_LEN];

    g_return_val_if_fail(account != NULL, NULL);
    potr_core_refresh_files();
    if (potr_core_userstate() == NULL
        || otrl_privkey_fingerprint(potr_core_userstate(), human, purple_account_get_username(account),
                                    purple_account_get_protocol_id(account)) == NULL)
        return NULL;
    return g_strdup(human);
}
