/* purple-otr - GPL-2.0-or-later
 * The Pidgin plugin (gtk-purple-otr): the one entry a Pidgin user enables;
 * it loads the core plugin and adds the native GTK 2 user interface. */
#include "i18n.h"
#include "potr-gtk.h"

#include <pidgin.h>
#include <gtkplugin.h>
#include <gtkutils.h>
#include <gtkconvwin.h>


PidginConversation *
potr_gtk_conv_gtk(PurpleConversation *conv)
{
    if (conv == NULL || !PIDGIN_IS_PIDGIN_CONVERSATION(conv))
        return NULL;
    return PIDGIN_CONVERSATION(conv);
}

GtkWindow *
potr_gtk_conv_window(PurpleConversation *conv)
{
    PidginConversation *gtkconv = potr_gtk_conv_gtk(conv);

    if (gtkconv == NULL || gtkconv->win == NULL)
        return NULL;
    return GTK_WINDOW(gtkconv->win->window);
}

void
potr_gtk_report(PurpleConversation *conv, GError *error)
{
    char *escaped = NULL;

    if (error == NULL)
        return;
    if (conv != NULL) {
        escaped = g_markup_escape_text(error->message, -1);
        purple_conversation_write(conv, NULL, escaped, PURPLE_MESSAGE_ERROR | PURPLE_MESSAGE_NO_LOG,
                                  time(NULL));
        g_free(escaped);
    } else {
        purple_notify_error(NULL, _("OTR"), error->message, NULL);
    }
    g_error_free(error);
}

GtkWidget *
potr_gtk_label_new(const char *text, gboolean markup)
{
    GtkWidget *label = gtk_label_new(NULL);

    if (markup)
        gtk_label_set_markup(GTK_LABEL(label), text);
    else
        gtk_label_set_text(GTK_LABEL(label), text);
    gtk_label_set_line_wrap(GTK_LABEL(label), TRUE);
    gtk_label_set_selectable(GTK_LABEL(label), FALSE);
    gtk_misc_set_alignment(GTK_MISC(label), 0.0, 0.5);
    return label;
}

/* Two OTR plugins would each encrypt the other's output: refuse, and say
 * which entry to turn off. (The core refuses too; this is the message a
 * Pidgin user reads in the plugin list.) */
static gboolean
legacy_loaded(void)
{
    PurplePlugin *legacy = purple_plugins_find_with_id(POTR_LEGACY_PLUGIN_ID);

    return legacy != NULL && purple_plugin_is_loaded(legacy);
}

static gboolean
plugin_load(PurplePlugin *plugin)
{
    if (legacy_loaded() || potr_core_handle() == NULL) {
        g_free(plugin->error);
        plugin->error = g_strdup(_("Disable \"Off-the-Record Messaging\" (pidgin-otr) first, then "
                                   "enable this plugin again: it uses the same keys, fingerprints "
                                   "and settings, and two OTR plugins would corrupt each other's "
                                   "messages."));
        return FALSE;
    }
    potr_gtk_button_init(plugin);
    potr_gtk_menubar_init(plugin);
    potr_gtk_auth_init(plugin);
    potr_gtk_keygen_init(plugin);
    potr_gtk_buddy_menu_init(plugin);
    return TRUE;
}

/* pidgin-otr was enabled while we run: the core turns itself off, and us
 * with it. Say so, and which entry to turn off, in a message that does
 * not belong to a plugin being unloaded (libpurple closes those). */
static void
tell_legacy(void)
{
    purple_notify_error(NULL, _("OTR"),
                        _("Off-the-Record (purple-otr) was turned off because pidgin-otr "
                          "(\"Off-the-Record Messaging\") was enabled."),
                        _("Two OTR plugins would corrupt each other's messages. Disable "
                          "\"Off-the-Record Messaging\" in Tools \xe2\x86\x92 Plugins, then enable "
                          "\"Off-the-Record (purple-otr)\" again: it uses the same keys, "
                          "fingerprints and settings."));
}

static gboolean
plugin_unload(PurplePlugin *plugin)
{
    if (legacy_loaded())
        tell_legacy();
    potr_gtk_buddy_menu_uninit();
    potr_gtk_keygen_uninit();
    potr_gtk_auth_uninit();
    potr_gtk_menubar_uninit();
    potr_gtk_button_uninit();
    potr_gtk_levels_help_close();
    purple_signals_disconnect_by_handle(plugin);
    purple_prefs_disconnect_by_handle(plugin);
    return TRUE;
}

static PidginPluginUiInfo ui_info = {
    .get_config_frame = potr_gtk_prefs_frame,
    .page_num = 0,
};

static PurplePluginInfo info = {
    .magic = PURPLE_PLUGIN_MAGIC,
    .major_version = PURPLE_MAJOR_VERSION,
    .minor_version = PURPLE_MINOR_VERSION,
    .type = PURPLE_PLUGIN_STANDARD,
    .ui_requirement = PIDGIN_PLUGIN_TYPE,
    .flags = 0,
    .dependencies = NULL,  /* set in init_plugin: the core plugin */
    .priority = PURPLE_PRIORITY_DEFAULT,
    .id = POTR_GTK_PLUGIN_ID,
    .name = NULL,          /* set in init_plugin: translated */
    .version = PACKAGE_VERSION,
    .summary = NULL,
    .description = NULL,
    .author = "purple-otr authors",
    .homepage = POTR_HOMEPAGE,
    .load = plugin_load,
    .unload = plugin_unload,
    .destroy = NULL,
    .ui_info = &ui_info,
    .extra_info = NULL,
    .prefs_info = NULL,
    .actions = NULL,
};

static void
init_plugin(PurplePlugin *plugin)
{
    bindtextdomain(GETTEXT_PACKAGE, LOCALEDIR);
    bind_textdomain_codeset(GETTEXT_PACKAGE, "UTF-8");
    if (info.dependencies == NULL)
        info.dependencies = g_list_append(NULL, (gpointer)POTR_CORE_PLUGIN_ID);
    info.name = _("Off-the-Record (purple-otr)");
    info.summary = _("Private conversations: end-to-end encryption (OTR) for instant messages");
    info.description = _("Only you and your buddy can read what you say, not the server. A button "
                         "in each conversation shows how private it is; its menu starts, ends "
                         "and authenticates. Replaces pidgin-otr (\"Off-the-Record Messaging\"): "
                         "disable that one first; your keys, fingerprints and settings are kept.");
}

PURPLE_INIT_PLUGIN(purple_otr_gtk, init_plugin, info)
