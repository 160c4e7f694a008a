/* purple-otr - GPL-2.0-or-later
 * Buddy list: the OTR submenu of a buddy (start, end, authenticate with the
 * native dialog, settings) and the per-buddy settings dialog. */
#include "i18n.h"
#include "potr-gtk.h"

#include <string.h>


/* pidgin-otr's per-buddy "don't log" setting (blist node), read by the
 * core's potr_policy_avoid_logging() */
#define NODE_AVOIDLOGGING "OTR/avoidloggingotr"
#define DIALOG_KEY "potr-gtk-buddy-dialog"

typedef struct {
    PurpleBuddy *buddy;
    GtkWidget *dialog;
    GtkWidget *use_default;
    GtkWidget *policy;
    GtkWidget *nolog;
} BuddyDialog;

static int buddy_handle;
static GList *dialogs = NULL;   /* BuddyDialog* */

static void
on_defaults_toggled(GtkToggleButton *check, BuddyDialog *bd)
{
    gboolean own = !gtk_toggle_button_get_active(check);

    gtk_widget_set_sensitive(bd->policy, own);
    gtk_widget_set_sensitive(bd->nolog, own);
}

static void
save(BuddyDialog *bd)
{
    gboolean use_default = gtk_toggle_button_get_active(GTK_TOGGLE_BUTTON(bd->use_default));

    potr_policy_set_buddy(bd->buddy, use_default, potr_gtk_policy_radios_get(bd->policy));
    if (!use_default)
        purple_blist_node_set_bool((PurpleBlistNode *)bd->buddy, NODE_AVOIDLOGGING,
                                   gtk_toggle_button_get_active(GTK_TOGGLE_BUTTON(bd->nolog)));
    potr_gtk_button_refresh();
}

static void
on_response(GtkDialog *dialog, gint response, BuddyDialog *bd)
{
    if (response == GTK_RESPONSE_OK)
        save(bd);
    gtk_widget_destroy(bd->dialog);
}

static void
on_destroy(GtkWidget *widget, BuddyDialog *bd)
{
    dialogs = g_list_remove(dialogs, bd);
    g_free(bd);
}

static GtkWidget *
dialog_body(BuddyDialog *bd)
{
    PotrPolicy policy = potr_policy_global();
    gboolean own = potr_policy_buddy_override(bd->buddy, &policy);
    gboolean nolog = potr_policy_avoid_logging(purple_buddy_get_account(bd->buddy),
                                               purple_buddy_get_name(bd->buddy));
    char *text = g_strdup_printf(_("Use the _default settings (%s)"),
                                 potr_policy_name(potr_policy_global()));
    char *intro = g_markup_printf_escaped(_("Private conversations with <b>%s</b>:"),
                                          purple_buddy_get_alias(bd->buddy));
    GtkWidget *vbox = gtk_vbox_new(FALSE, 8);

    bd->use_default = gtk_check_button_new_with_mnemonic(text);
    gtk_widget_set_name(bd->use_default, "potr-buddy-default");
    bd->policy = potr_gtk_policy_radios_new(policy, NULL, NULL);
    bd->nolog = gtk_check_button_new_with_mnemonic(_("Do not _log private conversations with "
                                                     "this buddy"));
    gtk_widget_set_name(bd->nolog, "potr-buddy-nolog");
    gtk_toggle_button_set_active(GTK_TOGGLE_BUTTON(bd->nolog), nolog);
    gtk_box_pack_start(GTK_BOX(vbox), potr_gtk_label_new(intro, TRUE), FALSE, FALSE, 0);
    gtk_box_pack_start(GTK_BOX(vbox), bd->use_default, FALSE, FALSE, 0);
    gtk_box_pack_start(GTK_BOX(vbox), bd->policy, FALSE, FALSE, 0);
    gtk_box_pack_start(GTK_BOX(vbox), bd->nolog, FALSE, FALSE, 0);
    g_signal_connect(bd->use_default, "toggled", G_CALLBACK(on_defaults_toggled), bd);
    gtk_toggle_button_set_active(GTK_TOGGLE_BUTTON(bd->use_default), !own);
    on_defaults_toggled(GTK_TOGGLE_BUTTON(bd->use_default), bd);
    g_free(text);
    g_free(intro);
    return vbox;
}

static void
settings_open(PurpleBuddy *buddy)
{
    BuddyDialog *bd = NULL;
    GtkWidget *body = NULL;
    char *title = NULL;

    for (GList *l = dialogs; l != NULL; l = l->next)
        if (((BuddyDialog *)l->data)->buddy == buddy) {
            gtk_window_present(GTK_WINDOW(((BuddyDialog *)l->data)->dialog));
            return;
        }
    bd = g_new0(BuddyDialog, 1);
    bd->buddy = buddy;
    title = g_strdup_printf(_("OTR settings for %s"), purple_buddy_get_alias(buddy));
    bd->dialog = gtk_dialog_new();
    gtk_window_set_title(GTK_WINDOW(bd->dialog), title);
    gtk_dialog_set_has_separator(GTK_DIALOG(bd->dialog), FALSE);
    gtk_widget_set_name(gtk_dialog_add_button(GTK_DIALOG(bd->dialog), GTK_STOCK_CANCEL,
                                              GTK_RESPONSE_CANCEL), "potr-buddy-cancel");
    gtk_widget_set_name(gtk_dialog_add_button(GTK_DIALOG(bd->dialog), GTK_STOCK_SAVE, GTK_RESPONSE_OK),
                        "potr-buddy-save");
    gtk_widget_set_name(bd->dialog, POTR_GTK_NAME_BUDDY);
    gtk_window_set_role(GTK_WINDOW(bd->dialog), "potr-buddy");
    gtk_dialog_set_default_response(GTK_DIALOG(bd->dialog), GTK_RESPONSE_OK);
    body = dialog_body(bd);
    gtk_container_set_border_width(GTK_CONTAINER(body), 12);
    gtk_box_pack_start(GTK_BOX(GTK_DIALOG(bd->dialog)->vbox), body, TRUE, TRUE, 0);
    g_signal_connect(bd->dialog, "response", G_CALLBACK(on_response), bd);
    g_signal_connect(bd->dialog, "destroy", G_CALLBACK(on_destroy), bd);
    dialogs = g_list_prepend(dialogs, bd);
    gtk_widget_show_all(bd->dialog);
    g_free(title);
}

static void
menu_settings(PurpleBlistNode *node, gpointer data)
{
    if (PURPLE_BLIST_NODE_IS_CONTACT(node))
        node = (PurpleBlistNode *)purple_contact_get_priority_buddy((PurpleContact *)node);
    if (node != NULL && PURPLE_BLIST_NODE_IS_BUDDY(node))
        settings_open((PurpleBuddy *)node);
}

/* The core builds the buddy's OTR submenu; ours adds the settings. */
static void
on_buddy_menu(PurpleBuddy *buddy, GList **items, gpointer data)
{
    *items = g_list_append(*items, NULL);   /* separator */
    *items = g_list_append(*items, purple_menu_action_new(_("Settings for this buddy\xe2\x80\xa6"),
                                                          PURPLE_CALLBACK(menu_settings), NULL, NULL));
}

static void
on_node_removed(PurpleBlistNode *node, gpointer data)
{
    for (GList *l = dialogs; l != NULL; l = l->next)
        if ((PurpleBlistNode *)((BuddyDialog *)l->data)->buddy == node) {
            gtk_widget_destroy(((BuddyDialog *)l->data)->dialog);   /* unlinks l */
            return;
        }
}

void
potr_gtk_buddy_menu_init(PurplePlugin *plugin)
{
    purple_signal_connect(potr_core_handle(), "buddy-menu", &buddy_handle,
                          PURPLE_CALLBACK(on_buddy_menu), NULL);
    purple_signal_connect(purple_blist_get_handle(), "blist-node-removed", &buddy_handle,
                          PURPLE_CALLBACK(on_node_removed), NULL);
}

void
potr_gtk_buddy_menu_uninit(void)
{
    purple_signals_disconnect_by_handle(&buddy_handle);
    while (dialogs != NULL)
        gtk_widget_destroy(((BuddyDialog *)dialogs->data)->dialog);
}
