/* purple-otr - GPL-2.0-or-later
 * The core plugin (core-purple-otr): what libpurple loads in every UI. */
#include "i18n.h"

#include <purple.h>
#include <libpurple/core.h>

#include "potr.h"


static guint refuse_source = 0;

/* Two OTR plugins would both rewrite every message: each would encrypt
 * the other's output and the peer could read nothing. */
static gboolean
legacy_loaded(void)
{
    PurplePlugin *legacy = purple_plugins_find_with_id(POTR_LEGACY_PLUGIN_ID);

    return legacy != NULL && purple_plugin_is_loaded(legacy);
}

static gboolean
unload_for_legacy(gpointer plugin)
{
    refuse_source = 0;
    /* no handle: the notice must outlive the plugin it is about */
    purple_notify_error(NULL, _("OTR"), _("purple-otr was turned off because pidgin-otr was enabled."),
                        _("Two OTR plugins would corrupt each other's messages. Disable "
                          "\"Off-the-Record Messaging\" (pidgin-otr), then enable purple-otr again: "
                          "it uses the same keys, fingerprints and settings."));
    purple_plugin_unload(plugin);
    return G_SOURCE_REMOVE;
}

static void
on_plugin_load(PurplePlugin *loaded, gpointer plugin)
{
    if (loaded->info != NULL && g_strcmp0(loaded->info->id, POTR_LEGACY_PLUGIN_ID) == 0
        && refuse_source == 0)
        refuse_source = g_idle_add(unload_for_legacy, plugin);
}

/* One obvious entry in the plugin list: in Pidgin and Finch the UI plugin
 * (which depends on this one and loads it) is the entry; the core stays
 * visible in other programs, and where the UI plugin was not built. */
static const char *
ui_plugin_id(const char **loaded_pref)
{
    const char *ui = purple_core_get_ui();

#ifdef POTR_BUILT_PIDGIN
    if (g_strcmp0(ui, "gtk-gaim") == 0) {
        *loaded_pref = "/pidgin/plugins/loaded";
        return POTR_GTK_PLUGIN_ID;
    }
#endif
#ifdef POTR_BUILT_FINCH
    if (g_strcmp0(ui, "gnt-purple") == 0) {
        *loaded_pref = "/finch/plugins/loaded";
        return POTR_GNT_PLUGIN_ID;
    }
#endif
    (void)ui;
    *loaded_pref = NULL;
    return NULL;
}

static gboolean
ui_plugin_is_the_entry(void)
{
    const char *pref = NULL;

    return ui_plugin_id(&pref) != NULL;
}

/* Why the core follows its entry: hidden in Pidgin's and Finch's list, it
 * would go on encrypting after the user turned the one visible switch off
 * (and load again at the next start, with no entry to turn it off). */
static guint follow_source = 0;

static gboolean
follow_entry(gpointer plugin)
{
    const char *pref = NULL;
    const char *id = ui_plugin_id(&pref);
    PurplePlugin *ui = id != NULL ? purple_plugins_find_with_id(id) : NULL;

    follow_source = 0;
    if (id == NULL || (ui != NULL && purple_plugin_is_loaded(ui)))
        return G_SOURCE_REMOVE;
    purple_plugin_unload(plugin);
    purple_plugins_save_loaded(pref);
    return G_SOURCE_REMOVE;
}

static void
schedule_follow(PurplePlugin *plugin)
{
    if (follow_source == 0 && ui_plugin_is_the_entry())
        follow_source = g_idle_add(follow_entry, plugin);
}

static void
on_plugin_unload(PurplePlugin *unloaded, gpointer plugin)
{
    const char *pref = NULL;
    const char *id = ui_plugin_id(&pref);

    if (id != NULL && unloaded->info != NULL && g_strcmp0(unloaded->info->id, id) == 0)
        schedule_follow(plugin);
}

static gboolean
plugin_load(PurplePlugin *plugin)
{
    GError *error = NULL;

    bindtextdomain(GETTEXT_PACKAGE, LOCALEDIR);
    bind_textdomain_codeset(GETTEXT_PACKAGE, "UTF-8");

    if (legacy_loaded()) {
        g_free(plugin->error);
        plugin->error = g_strdup(_("pidgin-otr (\"Off-the-Record Messaging\") is enabled: disable it "
                                   "first. purple-otr uses the same keys, fingerprints and settings, "
                                   "and two OTR plugins would corrupt each other's messages."));
        /* libpurple only says that a required plugin failed: say why */
        purple_notify_error(NULL, _("OTR"), _("purple-otr cannot run beside pidgin-otr."),
                            plugin->error);
        return FALSE;
    }
    if (!potr_core_start(plugin, &error)) {
        g_free(plugin->error);
        plugin->error = g_strdup(error->message);
        purple_debug_error("purple-otr", "%s\n", error->message);
        g_error_free(error);
        return FALSE;
    }
    purple_signal_connect(purple_plugins_get_handle(), "plugin-load", plugin,
                          PURPLE_CALLBACK(on_plugin_load), plugin);
    purple_signal_connect(purple_plugins_get_handle(), "plugin-unload", plugin,
                          PURPLE_CALLBACK(on_plugin_unload), plugin);
    schedule_follow(plugin);   /* loaded without its entry (an old list)? */
    return TRUE;
}

static gboolean
plugin_unload(PurplePlugin *plugin)
{
    if (refuse_source != 0) {
        g_source_remove(refuse_source);
        refuse_source = 0;
    }
    if (follow_source != 0) {
        g_source_remove(follow_source);
        follow_source = 0;
    }
    potr_core_stop();
    purple_signals_disconnect_by_handle(plugin);
    return TRUE;
}

static PurplePluginInfo info = {
    .magic = PURPLE_PLUGIN_MAGIC,
    .major_version = PURPLE_MAJOR_VERSION,
    .minor_version = PURPLE_MINOR_VERSION,
    .type = PURPLE_PLUGIN_STANDARD,
    .ui_requirement = NULL,
    .flags = 0,
    .dependencies = NULL,
    .priority = PURPLE_PRIORITY_DEFAULT,
    .id = POTR_CORE_PLUGIN_ID,
    .name = NULL,          /* set in init_plugin: translated */
    .version = PACKAGE_VERSION,
    .summary = NULL,
    .description = NULL,
    .author = "purple-otr authors",
    .homepage = POTR_HOMEPAGE,
    .load = plugin_load,
    .unload = plugin_unload,
    .destroy = NULL,
    .ui_info = NULL,
    .extra_info = NULL,
    .prefs_info = NULL,
    .actions = NULL,
};

static void
init_plugin(PurplePlugin *plugin)
{
    if (ui_plugin_is_the_entry())
        info.flags |= PURPLE_PLUGIN_FLAG_INVISIBLE;
    bindtextdomain(GETTEXT_PACKAGE, LOCALEDIR);
    bind_textdomain_codeset(GETTEXT_PACKAGE, "UTF-8");
    info.name = _("Off-the-Record (purple-otr)");
    info.summary = _("End-to-end encryption (OTR) for instant messages");
    info.description = _("Off-the-Record encryption for every libpurple client: only you and your "
                         "buddy can read what you say, not the server. Keys, fingerprints and "
                         "settings are those of pidgin-otr. Type /otr help in a conversation.");
}

PURPLE_INIT_PLUGIN(purple_otr, init_plugin, info)
