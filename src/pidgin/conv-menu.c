/* purple-otr - GPL-2.0-or-later
 * The OTR menu of a conversation: in the button's popup and in the window's
 * menubar. Start or refresh, end, authenticate, instance, what levels mean. */
#include "i18n.h"
#include "potr-gtk.h"

#include <pidgin.h>
#include <gtkconvwin.h>

#define MENUBAR_ITEM_KEY "potr-menubar-item"
#define INSTANCE_KEY "potr-gtk-instance"   /* conv data: the instance the user chose */

static int menubar_handle;

static void update_conv(PurpleConversation *conv);

/* A menu may outlive its conversation (the menubar's does): callbacks
 * check that the conversation still exists before using it. */
static PurpleConversation *
item_conv(GtkWidget *item)
{
    PurpleConversation *conv = g_object_get_data(G_OBJECT(item), "potr-conv");

    return g_list_find(purple_get_ims(), conv) != NULL ? conv : NULL;
}

static void
on_start(GtkWidget *item, gpointer data)
{
    PurpleConversation *conv = item_conv(item);

    if (conv != NULL)
        potr_conv_start(conv);
}

static void
on_end(GtkWidget *item, gpointer data)
{
    PurpleConversation *conv = item_conv(item);

    if (conv != NULL)
        potr_conv_end(conv);
}

static void
on_authenticate(GtkWidget *item, gpointer data)
{
    PurpleConversation *conv = item_conv(item);

    if (conv != NULL)
        potr_gtk_auth_open(conv);
}

static void
on_help(GtkWidget *item, gpointer data)
{
    potr_gtk_levels_help(potr_gtk_conv_window(item_conv(item)));
}

static void
on_instance(GtkWidget *item, gpointer data)
{
    PurpleConversation *conv = item_conv(item);
    guint32 tag = GPOINTER_TO_UINT(data);

    if (conv == NULL || !gtk_check_menu_item_get_active(GTK_CHECK_MENU_ITEM(item)))
        return;
    purple_conversation_set_data(conv, INSTANCE_KEY, GUINT_TO_POINTER(tag));
    potr_conv_set_instance(conv, tag);
    /* the level may be the same (no "level-changed"): the menubar must
     * still show the instance in use now */
    update_conv(conv);
}

static GtkWidget *
add_item(GtkMenu *menu, PurpleConversation *conv, const char *label, gboolean sensitive,
         GCallback callback, gpointer data)
{
    GtkWidget *item = gtk_menu_item_new_with_mnemonic(label);

    g_object_set_data(G_OBJECT(item), "potr-conv", conv);
    gtk_widget_set_sensitive(item, sensitive);
    g_signal_connect(item, "activate", callback, data);
    gtk_menu_shell_append(GTK_MENU_SHELL(menu), item);
    return item;
}

static void
add_separator(GtkMenu *menu)
{
    gtk_menu_shell_append(GTK_MENU_SHELL(menu), gtk_separator_menu_item_new());
}

/* "Instance": shown only when the buddy is logged in more than once.
 * "Best" follows libotr's choice; a tag pins one login. */
static void
add_instances(GtkMenu *menu, PurpleConversation *conv)
{
    GArray *instances = potr_conv_instances(conv);
    guint32 chosen = GPOINTER_TO_UINT(purple_conversation_get_data(conv, INSTANCE_KEY));
    GtkWidget *submenu = NULL;
    GtkWidget *item = NULL;
    GSList *group = NULL;

    if (instances->len < 2)
        goto cleanup;
    submenu = gtk_menu_new();
    item = gtk_radio_menu_item_new_with_label(group,
                                              _("Best login (the most private, most recently active)"));
    group = gtk_radio_menu_item_get_group(GTK_RADIO_MENU_ITEM(item));
    gtk_check_menu_item_set_active(GTK_CHECK_MENU_ITEM(item), chosen == 0);
    g_object_set_data(G_OBJECT(item), "potr-conv", conv);
    g_signal_connect(item, "toggled", G_CALLBACK(on_instance), GUINT_TO_POINTER(0));
    gtk_menu_shell_append(GTK_MENU_SHELL(submenu), item);
    for (guint i = 0; i < instances->len; i++) {
        const PotrInstance *inst = &g_array_index(instances, PotrInstance, i);
        char *label = g_strdup_printf(inst->in_use ? _("Login %08x: %s (in use)") : _("Login %08x: %s"),
                                      inst->tag, potr_level_name(inst->level));

        item = gtk_radio_menu_item_new_with_label(group, label);
        group = gtk_radio_menu_item_get_group(GTK_RADIO_MENU_ITEM(item));
        gtk_check_menu_item_set_active(GTK_CHECK_MENU_ITEM(item), chosen == inst->tag);
        g_object_set_data(G_OBJECT(item), "potr-conv", conv);
        g_signal_connect(item, "toggled", G_CALLBACK(on_instance), GUINT_TO_POINTER(inst->tag));
        gtk_menu_shell_append(GTK_MENU_SHELL(submenu), item);
        g_free(label);
    }
    item = gtk_menu_item_new_with_mnemonic(_("_Instance"));
    gtk_menu_item_set_submenu(GTK_MENU_ITEM(item), submenu);
    gtk_menu_shell_append(GTK_MENU_SHELL(menu), item);

cleanup:
    g_array_unref(instances);
}

void
potr_gtk_menu_fill(GtkMenu *menu, PurpleConversation *conv)
{
    GList *children = gtk_container_get_children(GTK_CONTAINER(menu));
    PotrLevel level = potr_conv_level(conv);
    gboolean online = FALSE;
    gboolean allowed = FALSE;

    for (GList *l = children; l != NULL; l = l->next)
        gtk_widget_destroy(l->data);
    g_list_free(children);
    if (conv == NULL)
        return;
    online = purple_account_is_connected(purple_conversation_get_account(conv));
    allowed = potr_policy_for(purple_conversation_get_account(conv),
                              purple_conversation_get_name(conv)) != POTR_POLICY_NEVER;
    add_item(menu, conv,
             level == POTR_LEVEL_NOT_PRIVATE ? _("Start _private conversation")
                                             : _("_Refresh private conversation"),
             online && allowed, G_CALLBACK(on_start), NULL);
    add_item(menu, conv, _("_End private conversation"), level != POTR_LEVEL_NOT_PRIVATE,
             G_CALLBACK(on_end), NULL);
    add_separator(menu);
    add_item(menu, conv, _("_Verify buddy\xe2\x80\xa6"),
             level == POTR_LEVEL_UNVERIFIED || level == POTR_LEVEL_PRIVATE,
             G_CALLBACK(on_authenticate), NULL);
    add_instances(menu, conv);
    add_separator(menu);
    add_item(menu, conv, _("_What do the levels mean?"), TRUE, G_CALLBACK(on_help), NULL);
    gtk_widget_show_all(GTK_WIDGET(menu));
}

/* ---- the menubar entry ---- */

static void
menubar_update(PidginWindow *win)
{
    PurpleConversation *conv = NULL;
    GtkWidget *item = NULL;
    GtkWidget *submenu = NULL;

    if (win == NULL || win->window == NULL || win->menu.menubar == NULL)
        return;
    conv = pidgin_conv_window_get_active_conversation(win);
    item = g_object_get_data(G_OBJECT(win->window), MENUBAR_ITEM_KEY);
    if (item == NULL) {
        GList *children = gtk_container_get_children(GTK_CONTAINER(win->menu.menubar));
        int pos = g_list_length(children);

        /* before Pidgin's tray (the typing icon), which stays rightmost */
        if (win->menu.tray != NULL && g_list_find(children, win->menu.tray) != NULL)
            pos = g_list_index(children, win->menu.tray);
        g_list_free(children);
        item = gtk_menu_item_new_with_mnemonic(_("_OTR"));
        gtk_widget_set_name(item, "potr-menubar");
        submenu = gtk_menu_new();
        gtk_menu_item_set_submenu(GTK_MENU_ITEM(item), submenu);
        gtk_menu_shell_insert(GTK_MENU_SHELL(win->menu.menubar), item, pos);
        g_object_set_data(G_OBJECT(win->window), MENUBAR_ITEM_KEY, item);
    }
    submenu = gtk_menu_item_get_submenu(GTK_MENU_ITEM(item));
    if (conv == NULL || purple_conversation_get_type(conv) != PURPLE_CONV_TYPE_IM) {
        gtk_widget_hide(item);
        return;
    }
    potr_gtk_menu_fill(GTK_MENU(submenu), conv);
    gtk_widget_show(item);
}

static void
update_conv(PurpleConversation *conv)
{
    PidginConversation *gtkconv = potr_gtk_conv_gtk(conv);

    if (gtkconv != NULL && gtkconv->win != NULL)
        menubar_update(gtkconv->win);
}

static void
on_level_changed(PurpleConversation *conv, guint level, gpointer data)
{
    update_conv(conv);
}

static void
on_switched(PurpleConversation *conv, gpointer data)
{
    update_conv(conv);
}

static void
on_displayed(PidginConversation *gtkconv, gpointer data)
{
    if (gtkconv != NULL && gtkconv->win != NULL)
        menubar_update(gtkconv->win);
}

static void
on_account_changed(PurpleConnection *gc, gpointer data)
{
    for (GList *l = pidgin_conv_windows_get_list(); l != NULL; l = l->next)
        menubar_update(l->data);
}

void
potr_gtk_menubar_init(PurplePlugin *plugin)
{
    void *gtkconvs = pidgin_conversations_get_handle();

    purple_signal_connect(potr_core_handle(), "level-changed", &menubar_handle,
                          PURPLE_CALLBACK(on_level_changed), NULL);
    purple_signal_connect(gtkconvs, "conversation-switched", &menubar_handle,
                          PURPLE_CALLBACK(on_switched), NULL);
    purple_signal_connect(gtkconvs, "conversation-displayed", &menubar_handle,
                          PURPLE_CALLBACK(on_displayed), NULL);
    purple_signal_connect(purple_connections_get_handle(), "signed-on", &menubar_handle,
                          PURPLE_CALLBACK(on_account_changed), NULL);
    purple_signal_connect(purple_connections_get_handle(), "signed-off", &menubar_handle,
                          PURPLE_CALLBACK(on_account_changed), NULL);
    for (GList *l = pidgin_conv_windows_get_list(); l != NULL; l = l->next)
        menubar_update(l->data);
}

void
potr_gtk_menubar_uninit(void)
{
    purple_signals_disconnect_by_handle(&menubar_handle);
    for (GList *l = pidgin_conv_windows_get_list(); l != NULL; l = l->next) {
        PidginWindow *win = l->data;
        GtkWidget *item = g_object_get_data(G_OBJECT(win->window), MENUBAR_ITEM_KEY);

        g_object_set_data(G_OBJECT(win->window), MENUBAR_ITEM_KEY, NULL);
        if (item != NULL)
            gtk_widget_destroy(item);
    }
}
