/* purple-otr - GPL-2.0-or-later
 * Conversation button: a padlock and the coloured level name in every IM
 * window's toolbar; a click opens the OTR menu. */
#include "i18n.h"
#include "potr-gtk.h"

#include <pidgin.h>
#include <gtkconvwin.h>
#include <gtkimhtmltoolbar.h>


#define ICON_SIZE 16

typedef struct {
    PidginConversation *gtkconv;
    GtkWidget *tab;      /* gtkconv->tab_cont: its "destroy" ends us */
    GtkWidget *button;   /* our own reference: the toolbar may drop it */
    GtkWidget *image;
    GtkWidget *label;
    GtkWidget *menu;
    int shown;           /* level on display, -1 before the first update */
} ConvButton;

static GHashTable *buttons = NULL;   /* PidginConversation* -> ConvButton* */
static int button_handle;            /* our signals' and prefs callbacks' handle */
static GdkPixbuf *icons[POTR_LEVEL_FINISHED + 1];

static gboolean
button_wanted(PurpleConversation *conv)
{
    if (conv == NULL || !purple_prefs_get_bool(POTR_PREF_SHOWBUTTON))
        return FALSE;
    /* a buddy (or everyone) set to "never": no OTR, no button, as pidgin-otr */
    return potr_policy_for(purple_conversation_get_account(conv),
                           purple_conversation_get_name(conv)) != POTR_POLICY_NEVER
        || potr_conv_level(conv) != POTR_LEVEL_NOT_PRIVATE;
}

/* Pidgin rebuilds the toolbar when its style preference changes and
 * drops foreign children: put the button back where it belongs. */
static void
ensure_packed(ConvButton *cb)
{
    GtkWidget *box = cb->gtkconv->toolbar;

    if (box == NULL || gtk_widget_get_parent(cb->button) == box)
        return;
    if (gtk_widget_get_parent(cb->button) != NULL)
        gtk_container_remove(GTK_CONTAINER(gtk_widget_get_parent(cb->button)), cb->button);
    gtk_box_pack_end(GTK_BOX(box), cb->button, FALSE, FALSE, 0);
}

static void
update(ConvButton *cb)
{
    PurpleConversation *conv = cb->gtkconv->active_conv;
    PotrLevel level = potr_conv_level(conv);
    char *markup = NULL;
    char *tip = NULL;

    ensure_packed(cb);
    if (!button_wanted(conv)) {
        gtk_widget_hide(cb->button);
        return;
    }
    if (cb->shown != (int)level) {
        markup = g_markup_printf_escaped("<span foreground=\"%s\" weight=\"bold\">%s</span>",
                                         potr_gtk_level_color(level), potr_level_name(level));
        gtk_label_set_markup(GTK_LABEL(cb->label), markup);
        gtk_image_set_from_pixbuf(GTK_IMAGE(cb->image), icons[level]);
        tip = g_strdup_printf(_("OTR: %s\n%s\nClick for the OTR menu."), potr_level_name(level),
                              potr_gtk_level_explanation(level));
        gtk_widget_set_tooltip_text(cb->button, tip);
        cb->shown = (int)level;
    }
    gtk_widget_show_all(cb->button);
    g_free(markup);
    g_free(tip);
}

/* Open the menu above the button (it sits at the bottom of the window);
 * GTK moves it where it fits. */
static void
menu_position(GtkMenu *menu, gint *x, gint *y, gboolean *push_in, gpointer data)
{
    GtkWidget *button = data;
    GtkRequisition req;
    gint ox = 0;
    gint oy = 0;

    gdk_window_get_origin(gtk_widget_get_window(button), &ox, &oy);
    gtk_widget_size_request(GTK_WIDGET(menu), &req);
    *x = ox + button->allocation.x;
    *y = oy + button->allocation.y - req.height;
    if (*y < 0)
        *y = oy + button->allocation.y + button->allocation.height;
    *push_in = TRUE;
}

static void
on_clicked(GtkButton *button, ConvButton *cb)
{
    GdkEvent *event = gtk_get_current_event();
    guint32 when = event != NULL ? gdk_event_get_time(event) : gtk_get_current_event_time();

    potr_gtk_menu_fill(GTK_MENU(cb->menu), cb->gtkconv->active_conv);
    gtk_menu_popup(GTK_MENU(cb->menu), NULL, NULL, menu_position, cb->button, 0, when);
    if (event != NULL)
        gdk_event_free(event);
}

static void
conv_button_free(ConvButton *cb)
{
    if (cb->menu != NULL)
        gtk_widget_destroy(cb->menu);   /* detaches it from the button */
    if (cb->button != NULL) {
        if (gtk_widget_get_parent(cb->button) != NULL)
            gtk_container_remove(GTK_CONTAINER(gtk_widget_get_parent(cb->button)), cb->button);
        gtk_widget_destroy(cb->button);
        g_object_unref(cb->button);
    }
    g_free(cb);
}

static void
on_tab_destroyed(GtkWidget *tab, PidginConversation *gtkconv)
{
    if (buttons != NULL)
        g_hash_table_remove(buttons, gtkconv);
}

static GtkWidget *
button_contents(ConvButton *cb)
{
    GtkWidget *hbox = gtk_hbox_new(FALSE, 4);

    cb->image = gtk_image_new();
    cb->label = gtk_label_new(NULL);
    gtk_widget_set_name(cb->label, POTR_GTK_NAME_BUTTON "-label");
    gtk_box_pack_start(GTK_BOX(hbox), cb->image, FALSE, FALSE, 0);
    gtk_box_pack_start(GTK_BOX(hbox), cb->label, FALSE, FALSE, 0);
    return hbox;
}

static void
attach(PidginConversation *gtkconv)
{
    ConvButton *cb = NULL;

    if (buttons == NULL || gtkconv == NULL || gtkconv->toolbar == NULL
        || purple_conversation_get_type(gtkconv->active_conv) != PURPLE_CONV_TYPE_IM
        || g_hash_table_contains(buttons, gtkconv))
        return;
    cb = g_new0(ConvButton, 1);
    cb->gtkconv = gtkconv;
    cb->tab = gtkconv->tab_cont;
    cb->shown = -1;
    cb->button = gtk_button_new();
    g_object_ref_sink(cb->button);
    gtk_widget_set_name(cb->button, POTR_GTK_NAME_BUTTON);
    gtk_button_set_relief(GTK_BUTTON(cb->button), GTK_RELIEF_NONE);
    gtk_button_set_focus_on_click(GTK_BUTTON(cb->button), FALSE);
    gtk_container_add(GTK_CONTAINER(cb->button), button_contents(cb));
    cb->menu = gtk_menu_new();
    gtk_widget_set_name(cb->menu, POTR_GTK_NAME_MENU);
    gtk_menu_attach_to_widget(GTK_MENU(cb->menu), cb->button, NULL);
    g_signal_connect(cb->button, "clicked", G_CALLBACK(on_clicked), cb);
    g_signal_connect(cb->tab, "destroy", G_CALLBACK(on_tab_destroyed), gtkconv);
    g_hash_table_insert(buttons, gtkconv, cb);
    update(cb);
}

static void
update_conv(PurpleConversation *conv)
{
    PidginConversation *gtkconv = potr_gtk_conv_gtk(conv);
    ConvButton *cb = NULL;

    if (gtkconv == NULL || buttons == NULL)
        return;
    cb = g_hash_table_lookup(buttons, gtkconv);
    if (cb == NULL)
        attach(gtkconv);
    else if (gtkconv->active_conv == conv)
        update(cb);
}

static void
update_all(void)
{
    GHashTableIter iter;
    gpointer value = NULL;

    for (GList *l = purple_get_ims(); l != NULL; l = l->next)
        attach(potr_gtk_conv_gtk(l->data));
    g_hash_table_iter_init(&iter, buttons);
    while (g_hash_table_iter_next(&iter, NULL, &value))
        update(value);
}

static void
on_level_changed(PurpleConversation *conv, guint level, gpointer data)
{
    update_conv(conv);
}

static void
on_displayed(PidginConversation *gtkconv, gpointer data)
{
    attach(gtkconv);
}

static void
on_switched(PurpleConversation *conv, gpointer data)
{
    update_conv(conv);
}

static void
on_pref_changed(const char *name, PurplePrefType type, gconstpointer value, gpointer data)
{
    if (buttons != NULL)
        update_all();
}

void
potr_gtk_button_init(PurplePlugin *plugin)
{
    for (PotrLevel level = POTR_LEVEL_NOT_PRIVATE; level <= POTR_LEVEL_FINISHED; level++)
        icons[level] = potr_gtk_level_icon(level, ICON_SIZE);
    buttons = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL,
                                    (GDestroyNotify)conv_button_free);
    purple_signal_connect(potr_core_handle(), "level-changed", &button_handle,
                          PURPLE_CALLBACK(on_level_changed), NULL);
    purple_signal_connect(pidgin_conversations_get_handle(), "conversation-displayed", &button_handle,
                          PURPLE_CALLBACK(on_displayed), NULL);
    purple_signal_connect(pidgin_conversations_get_handle(), "conversation-switched", &button_handle,
                          PURPLE_CALLBACK(on_switched), NULL);
    purple_prefs_connect_callback(&button_handle, POTR_PREF_ROOT, on_pref_changed, NULL);
    update_all();
}

void
potr_gtk_button_refresh(void)
{
    if (buttons != NULL)
        update_all();
}

void
potr_gtk_button_uninit(void)
{
    GHashTableIter iter;
    gpointer key = NULL;
    gpointer value = NULL;

    if (buttons == NULL)
        return;
    g_hash_table_iter_init(&iter, buttons);
    while (g_hash_table_iter_next(&iter, &key, &value))
        g_signal_handlers_disconnect_by_func(((ConvButton *)value)->tab,
                                             G_CALLBACK(on_tab_destroyed), key);
    g_clear_pointer(&buttons, g_hash_table_destroy);
    for (PotrLevel level = POTR_LEVEL_NOT_PRIVATE; level <= POTR_LEVEL_FINISHED; level++)
        g_clear_object(&icons[level]);
    purple_signals_disconnect_by_handle(&button_handle);
    purple_prefs_disconnect_by_handle(&button_handle);
}
