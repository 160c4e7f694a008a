/* purple-otr - GPL-2.0-or-later
 * Core: the one engine of the process (libotr user state, files, signals). */
#include "i18n.h"
#include "engine.h"

#include <string.h>
#include <libotr/privkey.h>
#include <libotr/instag.h>

#include "commands.h"
#include "dialogs.h"
#include "metadata.h"
#include "ops.h"
#include "policy.h"
#include "presence.h"
#include "session.h"
#include "store.h"
#include "xmpp.h"
#include "peer.h"

/* Why one state for the whole process: libotr keeps keys, contexts and
 * fingerprints in an OtrlUserState; two of them would answer the same
 * peer with two different sessions and corrupt both. The UI plugins link
 * this library and so reach the very same state. */
static OtrlUserState core_us = NULL;
static PurplePlugin *core_plugin = NULL;
static char *path_keys = NULL;
static char *path_fingerprints = NULL;
static char *path_instags = NULL;
static gboolean otrl_ready = FALSE;

G_DEFINE_QUARK(potr-error-quark, potr_error)

OtrlUserState
potr_core_userstate(void)
{
    return core_us;
}

const OtrlMessageAppOps *
potr_core_ops(void)
{
    return &potr_ops;
}

void *
potr_core_handle(void)
{
    return core_plugin;
}

const char *
potr_core_path_keys(void)
{
    return path_keys;
}

const char *
potr_core_path_fingerprints(void)
{
    return path_fingerprints;
}

const char *
potr_core_path_instags(void)
{
    return path_instags;
}

const char *
potr_level_name(PotrLevel level)
{
    switch (level) {
    case POTR_LEVEL_UNVERIFIED:
        return _("Unverified");
    case POTR_LEVEL_PRIVATE:
        return _("Private");
    case POTR_LEVEL_FINISHED:
        return _("Finished");
    case POTR_LEVEL_NOT_PRIVATE:
    default:
        return _("Not private");
    }
}

/* Tell the user about a file problem, in the UI's way (a dialog in
 * Pidgin, a window in Finch, a debug line in a headless program). */
static void
report_file_note(const char *what, const GError *error, const char *note)
{
    char *secondary = NULL;

    purple_debug_error("purple-otr", "%s: %s\n", what, error->message);
    secondary = g_strdup_printf("%s\n%s", error->message, note);
    purple_notify_error(core_plugin, _("OTR"), what, secondary);
    g_free(secondary);
}

/* A file that could not be read. */
static void
report_file_error(const char *what, const GError *error)
{
    report_file_note(what, error, _("The file was left as it is: before anything new is written "
                                    "to it, a copy is kept beside it (NAME.damaged-DATE)."));
}

/* A level may change when another program (dis)trusted or forgot a
 * fingerprint in use; emit_level only signals real changes. */
static void
emit_all_levels(void)
{
    GList *l;

    for (l = purple_get_ims(); l != NULL; l = l->next)
        potr_core_emit_level(l->data);
}

void
potr_core_save_fingerprints(void)
{
    GError *error = NULL;

    if (core_us == NULL)
        return;
    /* the other program's changes first, with their level changes; the
     * save then merges only this program's own */
    potr_core_refresh_trust();
    if (!potr_store_save_fingerprints(core_us, path_fingerprints, &error)) {
        report_file_note(_("The list of known fingerprints could not be saved."), error,
                         _("The file on disk was left as it was. Your change is kept and "
                           "written with the next save that succeeds."));
        g_error_free(error);
    }
    /* every change of the list or of a trust goes through here */
    purple_signal_emit(core_plugin, "fingerprints-changed");
}

void
potr_core_refresh_trust(void)
{
    static gboolean busy = FALSE; /* the signals below may ask for a level */
    GError *error = NULL;
    guint changed = 0;

    if (core_us == NULL || busy)
        return;
    busy = TRUE;
    if (!potr_store_refresh_fingerprints(core_us, path_fingerprints, &changed, &error)) {
        report_file_error(_("The list of known OTR fingerprints could not be read."), error);
        g_clear_error(&error);
    }
    if (changed > 0) {
        purple_debug_info("purple-otr", "another program changed %u known fingerprint(s)\n",
                          changed);
        purple_signal_emit(core_plugin, "fingerprints-changed");
        emit_all_levels();
    }
    busy = FALSE;
}

void
potr_core_refresh_files(void)
{
    GError *error = NULL;
    gboolean changed = FALSE;

    if (core_us == NULL)
        return;
    if (!potr_store_refresh_keys(core_us, path_keys, &changed, &error)) {
        report_file_error(_("Your OTR private keys could not be read."), error);
        g_clear_error(&error);
    } else if (changed) {
        purple_debug_info("purple-otr", "private keys read again: another program changed them\n");
    }
    potr_core_refresh_trust();
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
potr_core_emit_level(PurpleConversation *conv)
{
    PotrLevel level = POTR_LEVEL_NOT_PRIVATE;
    ConnContext *context = NULL;
    guint instance = 0;
    gpointer last = NULL;

    if (conv == NULL || core_plugin == NULL)
        return;
    level = potr_conv_level(conv);
    context = level != POTR_LEVEL_NOT_PRIVATE ? potr_session_context(conv) : NULL;
    instance = context != NULL ? context->their_instance : 0;
    /* the level is stored + 1 so that "never emitted" (NULL) differs from
     * "not private" (0); the instance in use too, since another login of
     * the peer brings another key (dialogs that show it must follow) */
    last = purple_conversation_get_data(conv, "potr-level");
    if (last != NULL && GPOINTER_TO_INT(last) == (int)level + 1
        && GPOINTER_TO_UINT(purple_conversation_get_data(conv, "potr-instance-shown")) == instance)
        return;
    purple_conversation_set_data(conv, "potr-level", GINT_TO_POINTER((int)level + 1));
    purple_conversation_set_data(conv, "potr-instance-shown", GUINT_TO_POINTER(instance));
    purple_signal_emit(core_plugin, "level-changed", conv, (int)level);
}

PotrLevel
potr_conv_level(PurpleConversation *conv)
{
    if (conv == NULL || core_us == NULL
        || purple_conversation_get_type(conv) != PURPLE_CONV_TYPE_IM)
        return POTR_LEVEL_NOT_PRIVATE;
    potr_core_refresh_trust();
    return potr_session_level_of(potr_session_context(conv));
}

void
potr_conv_start(PurpleConversation *conv)
{
    g_return_if_fail(conv != NULL);
    potr_session_start(purple_conversation_get_account(conv), purple_conversation_get_name(conv));
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
    removed += potr_store_cleanup_temps(path_keys);
    removed += potr_store_cleanup_temps(path_fingerprints);
    removed += potr_store_cleanup_temps(path_instags);
    if (removed > 0)
        purple_debug_info("purple-otr", "removed %u temporary file(s) left by an interrupted "
                          "write\n", removed);
    if (!potr_store_load_keys(core_us, path_keys, &error)) {
        report_file_error(_("Your OTR private keys could not be read."), error);
        g_clear_error(&error);
    }
    if (!potr_store_load_fingerprints(core_us, path_fingerprints, NULL, NULL, &skipped, &error)) {
        report_file_error(_("The list of known OTR fingerprints could not be read."), error);
        g_clear_error(&error);
    } else if (skipped > 0) {
        char *msg = g_strdup_printf(g_dngettext(GETTEXT_PACKAGE, "%u damaged line of the fingerprint file was skipped.",
                                             "%u damaged lines of the fingerprint file were skipped.",
                                             skipped), skipped);
        purple_notify_warning(core_plugin, _("OTR"), msg,
                              _("A copy of the file is kept beside it before it is next written."));
        g_free(msg);
    }
    if (!potr_store_load_instags(core_us, path_instags, &error)) {
        report_file_error(_("The OTR instance tags could not be read."), error);
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
    g_return_val_if_fail(core_us == NULL, FALSE);

    if (!init_libotr(error))
        return FALSE;

    core_plugin = plugin;
    core_us = otrl_userstate_create();
    path_keys = g_build_filename(purple_user_dir(), POTR_FILE_PRIVKEY, NULL);
    path_fingerprints = g_build_filename(purple_user_dir(), POTR_FILE_FINGERPRINTS, NULL);
    path_instags = g_build_filename(purple_user_dir(), POTR_FILE_INSTAGS, NULL);

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
    if (core_us == NULL)
        return;
    potr_session_end_all(NULL);
    potr_commands_uninit();
    potr_dialogs_uninit();
    potr_xmpp_uninit();
    potr_metadata_uninit();
    potr_presence_uninit();
    potr_session_uninit();
    potr_ops_stop_timer();
    potr_store_keygen_cancel_all(core_us);
    potr_store_release(core_us);
    /* every module connected its handlers on the core's handle */
    purple_signals_disconnect_by_handle(core_plugin);
    purple_signals_unregister_by_instance(core_plugin);
    otrl_userstate_free(core_us);
    core_us = NULL;
    core_plugin = NULL;
    g_clear_pointer(&path_keys, g_free);
    g_clear_pointer(&path_fingerprints, g_free);
    g_clear_pointer(&path_instags, g_free);
}

gboolean
potr_key_generate(PurpleAccount *account, GError **error)
{
    g_return_val_if_fail(account != NULL, FALSE);
    return potr_session_keygen(account, error);
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
    if (core_us == NULL
        || otrl_privkey_fingerprint(core_us, human, purple_account_get_username(account),
                                    purple_account_get_protocol_id(account)) == NULL)
        return NULL;
    return g_strdup(human);
}
