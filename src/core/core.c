/* purple-otr - GPL-2.0-or-later
 * Core state: the one user state, the plugin handle, the three files. */
#include "i18n.h"
#include "core.h"

#include "peer.h"
#include "store.h"

/* Why one state for the whole process: libotr keeps keys, contexts and
 * fingerprints in an OtrlUserState; two of them would answer the same
 * peer with two different sessions and corrupt both. The UI plugins link
 * this library and so reach the very same state. */
static OtrlUserState core_us = NULL;
static PurplePlugin *core_plugin = NULL;
static char *path_keys = NULL;
static char *path_fingerprints = NULL;
static char *path_instags = NULL;
static void (*trust_listener)(void) = NULL;

G_DEFINE_QUARK(potr-error-quark, potr_error)

void
potr_core_state_begin(PurplePlugin *plugin, OtrlUserState us)
{
    g_return_if_fail(plugin != NULL && us != NULL && core_us == NULL);
    core_plugin = plugin;
    core_us = us;
    path_keys = g_build_filename(purple_user_dir(), POTR_FILE_PRIVKEY, NULL);
    path_fingerprints = g_build_filename(purple_user_dir(), POTR_FILE_FINGERPRINTS, NULL);
    path_instags = g_build_filename(purple_user_dir(), POTR_FILE_INSTAGS, NULL);
}

void
potr_core_state_end(void)
{
    if (core_us == NULL)
        return;
    otrl_userstate_free(core_us);
    core_us = NULL;
    core_plugin = NULL;
    trust_listener = NULL;
    g_clear_pointer(&path_keys, g_free);
    g_clear_pointer(&path_fingerprints, g_free);
    g_clear_pointer(&path_instags, g_free);
}

void
potr_core_set_trust_listener(void (*listener)(void))
{
    trust_listener = listener;
}

OtrlUserState
potr_core_userstate(void)
{
    return core_us;
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

void
potr_core_report_file_error(const char *what, const GError *error)
{
    report_file_note(what, error, _("The file was left as it is: before anything new is written "
                                    "to it, a copy is kept beside it (NAME.damaged-DATE)."));
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
        potr_core_report_file_error(_("The list of known OTR fingerprints could not be read."), error);
        g_clear_error(&error);
    }
    if (changed > 0) {
        purple_debug_info("purple-otr", "another program changed %u known fingerprint(s)\n",
                          changed);
        purple_signal_emit(core_plugin, "fingerprints-changed");
        if (trust_listener != NULL)
            trust_listener();
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
        potr_core_report_file_error(_("Your OTR private keys could not be read."), error);
        g_clear_error(&error);
    } else if (changed) {
        purple_debug_info("purple-otr", "private keys read again: another program changed them\n");
    }
    potr_core_refresh_trust();
}

ConnContext *
potr_core_find_context(PurpleAccount *account, const char *who, otrl_instag_t instance,
                       gboolean add)
{
    OtrlUserState us = potr_core_userstate();
    ConnContext *context = NULL;
    char *norm = NULL;

    if (us == NULL || account == NULL || who == NULL)
        return NULL;
    norm = potr_peer_normalize(account, who);
    context = otrl_context_find(us, norm, purple_account_get_username(account),
                                purple_account_get_protocol_id(account), instance,
                                add ? 1 : 0, NULL, NULL, NULL);
    g_free(norm);
    return context;
}
