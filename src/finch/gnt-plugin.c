/* purple-otr - GPL-2.0-or-later
 * The Finch plugin (gnt-purple-otr): the one OTR entry in Finch's plugin
 * list; native gnt widgets over the core (which it depends on). */
#include "i18n.h"

#include <gmodule.h>
#include <purple.h>
#include <libpurple/core.h>
#include <gntplugin.h>

#include "potr.h"
#include "gnt-auth.h"
#include "gnt-buddy.h"
#include "gnt-conv.h"
#include "gnt-prefs.h"


static gboolean
plugin_load(PurplePlugin *plugin)
{
    bindtextdomain(GETTEXT_PACKAGE, LOCALEDIR);
    bind_textdomain_codeset(GETTEXT_PACKAGE, "UTF-8");
    if (potr_core_handle() == NULL) {
        g_free(plugin->error);
        plugin->error = g_strdup(_("The purple-otr core plugin is not running."));
        return FALSE;
    }
    potr_gnt_auth_init();
    potr_gnt_conv_init();
    potr_gnt_buddy_init();
    return TRUE;
}

static gboolean
plugin_unload(PurplePlugin *plugin)
{
    potr_gnt_prefs_uninit();
    potr_gnt_buddy_uninit();
    potr_gnt_conv_uninit();
    potr_gnt_auth_uninit();
    /* the core, hidden in Finch's list, follows this plugin out */
    return TRUE;
}

static PurplePluginInfo info = {
    .magic = PURPLE_PLUGIN_MAGIC,
    .major_version = PURPLE_MAJOR_VERSION,
    .minor_version = PURPLE_MINOR_VERSION,
    .type = PURPLE_PLUGIN_STANDARD,
    .ui_requirement = FINCH_PLUGIN_TYPE,
    .flags = 0,
    .dependencies = NULL,   /* set in init_plugin */
    .priority = PURPLE_PRIORITY_DEFAULT,
    .id = POTR_GNT_PLUGIN_ID,
    .name = NULL,           /* set in init_plugin: translated */
    .version = PACKAGE_VERSION,
    .summary = NULL,
    .description = NULL,
    .author = "purple-otr authors",
    .homepage = POTR_HOMEPAGE,
    .load = plugin_load,
    .unload = plugin_unload,
    .destroy = NULL,
    .ui_info = NULL,        /* the preferences frame, set in init_plugin */
    .extra_info = NULL,
    .prefs_info = NULL,
    .actions = NULL,
};

static void
init_plugin(PurplePlugin *plugin)
{
    FinchPluginFrame frame = potr_gnt_prefs_frame;

    bindtextdomain(GETTEXT_PACKAGE, LOCALEDIR);
    bind_textdomain_codeset(GETTEXT_PACKAGE, "UTF-8");
    /* other UIs that scan a shared plugin folder do not list it */
    if (g_strcmp0(purple_core_get_ui(), FINCH_UI) != 0)
        info.flags |= PURPLE_PLUGIN_FLAG_INVISIBLE;
    info.dependencies = g_list_append(info.dependencies, (gpointer)POTR_CORE_PLUGIN_ID);
    info.ui_info = (void *)frame;
    info.name = _("Off-the-Record (purple-otr)");
    info.summary = _("End-to-end encryption (OTR) for instant messages");
    info.description = _("Off-the-Record encryption: only you and your buddy can read what you say, "
                          "not the server. In a conversation window, alt+o opens the OTR menu "
                          "(start, end, authenticate); /otr help lists the commands. Keys, "
                          "fingerprints and settings are those of pidgin-otr.");
}

PURPLE_INIT_PLUGIN(gnt_purple_otr, init_plugin, info)
