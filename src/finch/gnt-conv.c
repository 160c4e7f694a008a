/* purple-otr - GPL-2.0-or-later
 * Finch conversation windows: OTR status line, level in the title, the
 * "OTR" menu (ctrl+o, or alt+o straight into it). */
#include "i18n.h"
#include "gnt-conv.h"

#include <string.h>
#include <gmodule.h>
#include <gnt.h>
#include <gntbox.h>
#include <gntlabel.h>
#include <gntmenu.h>
#include <gntmenuitem.h>
#include <gntmenuitemcheck.h>
#include <gntwindow.h>
#include <gntconv.h>

#include "potr.h"
#include "gnt-auth.h"

/* Our objects hang on Finch's widgets as object data under these keys. */
#define KEY_LABEL "potr-gnt-label"    /* window -> status line (GntLabel) */
#define KEY_STATUS "potr-gnt-status"  /* window -> text of the status line */
#define KEY_SUFFIX "potr-gnt-suffix"  /* window -> title suffix we appended */
#define KEY_KEYS "potr-gnt-keys"      /* window -> our key handler is connected */
#define KEY_ITEM "potr-gnt-item"      /* window menu -> our "OTR" item */
#define KEY_POLICY "potr-gnt-policy"  /* policy menu item -> policy + 1 (0: default) */
#define KEY_TAG "potr-gnt-tag"        /* instance menu item -> instance tag */

typedef void (*SetInfoWidgetFn)(PurpleConversation *conv, GntWidget *widget);

/* our signal handle; its address is all that counts */
static int conv_handle;
static gboolean conv_running = FALSE;
static guint refresh_source = 0;
/* Finch's own function, looked up at load: a hard reference would make the
 * module unloadable by the other UIs that scan a shared plugin folder. */
static SetInfoWidgetFn set_info_widget = NULL;

static FinchConv *
finch_conv_of(PurpleConversation *conv)
{
    if (conv == NULL || purple_conversation_get_type(conv) != PURPLE_CONV_TYPE_IM)
        return NULL;
    return FINCH_CONV(conv);
}

PurpleConversation *
potr_gnt_conv_of_window(gpointer window)
{
    for (GList *l = purple_get_ims(); l != NULL && window != NULL; l = l->next) {
        FinchConv *fc = finch_conv_of(l->data);

        if (fc != NULL && fc->window == window && fc->active_conv != NULL
            && purple_conversation_get_type(fc->active_conv) == PURPLE_CONV_TYPE_IM)
            return fc->active_conv;
    }
    return NULL;
}

/* ---- the OTR menu ---- */

static void
menu_start(GntMenuItem *item, gpointer window)
{
    PurpleConversation *conv = potr_gnt_conv_of_window(window);

    if (conv != NULL)
        potr_conv_start(conv);
}

static void
menu_end(GntMenuItem *item, gpointer window)
{
    PurpleConversation *conv = potr_gnt_conv_of_window(window);

    if (conv != NULL)
        potr_conv_end(conv);
}

static void
menu_authenticate(GntMenuItem *item, gpointer window)
{
    PurpleConversation *conv = potr_gnt_conv_of_window(window);

    if (conv != NULL)
        potr_gnt_auth_choose(conv);
}

static void
run_command(gpointer window, const char *command)
{
    PurpleConversation *conv = potr_gnt_conv_of_window(window);
    char *error = NULL;

    if (conv == NULL)
        return;
    if (purple_cmd_do_command(conv, command, command, &error) != PURPLE_CMD_STATUS_OK && error != NULL) {
        char *html = g_markup_escape_text(error, -1);

        purple_conversation_write(conv, NULL, html, PURPLE_MESSAGE_ERROR | PURPLE_MESSAGE_NO_LOG,
                                  time(NULL));
        g_free(html);
    }
    g_free(error);
}

static void
menu_status(GntMenuItem *item, gpointer window)
{
    run_command(window, "otr status");
}

static void
menu_fingerprints(GntMenuItem *item, gpointer window)
{
    run_command(window, "otr fingerprint");
}

static void
menu_help(GntMenuItem *item, gpointer window)
{
    run_command(window, "otr help");
}

/* The four levels, as the README explains them (Pidgin's menu has the same). */
static void
menu_levels(GntMenuItem *item, gpointer window)
{
    PurpleConversation *conv = potr_gnt_conv_of_window(window);
    const char *lines[] = {
        N_("Not private: messages go in clear (the server can read them)."),
        N_("Unverified: encrypted, but you have not checked that the key is your buddy's."),
        N_("Private: encrypted, and your buddy's key is verified."),
        N_("Finished: your buddy ended the private conversation (what you type is not sent "
           "until you end or refresh it), or it is on hold because your buddy went offline "
           "or you lost your connection (what you type waits, and is sent encrypted once it "
           "is private again)."),
    };

    for (gsize i = 0; conv != NULL && i < G_N_ELEMENTS(lines); i++)
        purple_conversation_write(conv, NULL, _(lines[i]), PURPLE_MESSAGE_SYSTEM | PURPLE_MESSAGE_NO_LOG,
                                  time(NULL));
}

static void
menu_instance(GntMenuItem *item, gpointer window)
{
    PurpleConversation *conv = potr_gnt_conv_of_window(window);

    if (conv != NULL)
        potr_conv_set_instance(conv, GPOINTER_TO_UINT(g_object_get_data(G_OBJECT(item), KEY_TAG)));
}

static void
menu_policy(GntMenuItem *item, gpointer window)
{
    PurpleConversation *conv = potr_gnt_conv_of_window(window);
    int value = GPOINTER_TO_INT(g_object_get_data(G_OBJECT(item), KEY_POLICY));
    PurpleBuddy *buddy = NULL;

    if (conv == NULL)
        return;
    buddy = purple_find_buddy(purple_conversation_get_account(conv), purple_conversation_get_name(conv));
    if (buddy == NULL)
        return;
    potr_policy_set_buddy(buddy, value == 0, value == 0 ? POTR_POLICY_NEVER : (PotrPolicy)(value - 1));
    potr_gnt_conv_refresh_all();
}

/* Add an item to MENU; CALLBACK NULL draws it greyed out (not available). */
static GntMenuItem *
add_item(GntMenu *menu, GntMenuItem *item, char trigger, const char *id,
         GntMenuItemCallback callback, gpointer window)
{
    gnt_menuitem_set_trigger(item, trigger);
    gnt_menuitem_set_id(item, id);
    if (callback != NULL)
        gnt_menuitem_set_callback(item, callback, window);
    gnt_menu_add_item(menu, item);
    return item;
}

static const char *
policy_label(PotrPolicy policy)
{
    switch (policy) {
    case POTR_POLICY_NEVER:
        return _("Never (no OTR)");
    case POTR_POLICY_MANUAL:
        return _("Manual (start by hand)");
    case POTR_POLICY_OPPORTUNISTIC:
        return _("Opportunistic (start when possible)");
    case POTR_POLICY_ALWAYS:
    default:
        return _("Always (require OTR)");
    }
}

static GntMenu *
build_policy_menu(PurpleConversation *conv, gpointer window)
{
    GntMenu *sub = GNT_MENU(gnt_menu_new(GNT_MENU_POPUP));
    PurpleBuddy *buddy = purple_find_buddy(purple_conversation_get_account(conv),
                                           purple_conversation_get_name(conv));
    PotrPolicy own = POTR_POLICY_NEVER;
    gboolean has_own = potr_policy_buddy_override(buddy, &own);
    char *text = g_strdup_printf(_("Default (%s)"), potr_policy_name(potr_policy_global()));
    static const char triggers[] = "nmoa";

    for (int value = 0; value <= (int)POTR_POLICY_ALWAYS + 1; value++) {
        GntMenuItem *item = gnt_menuitem_check_new(value == 0 ? text : policy_label((PotrPolicy)(value - 1)));
        char id[32];

        g_snprintf(id, sizeof id, "otr-policy-%d", value);
        gnt_menuitem_check_set_checked(GNT_MENU_ITEM_CHECK(item),
                                       value == 0 ? !has_own : has_own && (int)own == value - 1);
        g_object_set_data(G_OBJECT(item), KEY_POLICY, GINT_TO_POINTER(value));
        add_item(sub, item, value == 0 ? 'd' : triggers[value - 1], id, buddy != NULL ? menu_policy : NULL,
                 window);
    }
    g_free(text);
    return sub;
}

static GntMenu *
build_instance_menu(PurpleConversation *conv, gpointer window)
{
    GntMenu *sub = GNT_MENU(gnt_menu_new(GNT_MENU_POPUP));
    GArray *instances = potr_conv_instances(conv);

    add_item(sub, gnt_menuitem_new(_("Best login (the most private, most recently active)")), 'b',
             "otr-instance-best", menu_instance, window);
    for (guint i = 0; i < instances->len; i++) {
        PotrInstance *inst = &g_array_index(instances, PotrInstance, i);
        char *text = g_strdup_printf(_("Login %08x: %s"), inst->tag, potr_level_name(inst->level));
        GntMenuItem *item = gnt_menuitem_check_new(text);

        gnt_menuitem_check_set_checked(GNT_MENU_ITEM_CHECK(item), inst->in_use);
        g_object_set_data(G_OBJECT(item), KEY_TAG, GUINT_TO_POINTER(inst->tag));
        add_item(sub, item, i < 9 ? (char)('1' + i) : ' ', NULL, menu_instance, window);
        g_free(text);
    }
    g_array_unref(instances);
    return sub;
}

static GntMenu *
build_menu(PurpleConversation *conv, gpointer window)
{
    GntMenu *menu = GNT_MENU(gnt_menu_new(GNT_MENU_POPUP));
    PotrLevel level = potr_conv_level(conv);
    gboolean encrypted = level == POTR_LEVEL_UNVERIFIED || level == POTR_LEVEL_PRIVATE;
    GntMenuItem *item = NULL;

    add_item(menu, gnt_menuitem_new(encrypted ? _("Refresh private conversation")
                                              : _("Start private conversation")),
             's', "otr-start", menu_start, window);
    add_item(menu, gnt_menuitem_new(_("End private conversation")), 'e', "otr-end",
             level != POTR_LEVEL_NOT_PRIVATE ? menu_end : NULL, window);
    add_item(menu, gnt_menuitem_new(potr_gnt_auth_pending(conv) ? _("Answer verification request...")
                                                                : _("Verify buddy...")),
             'a', "otr-authenticate", encrypted ? menu_authenticate : NULL, window);
    item = add_item(menu, gnt_menuitem_new(_("Instance")), 'i', NULL, NULL, window);
    gnt_menuitem_set_submenu(item, build_instance_menu(conv, window));
    item = add_item(menu, gnt_menuitem_new(_("Policy for this buddy")), 'p', NULL, NULL, window);
    gnt_menuitem_set_submenu(item, build_policy_menu(conv, window));
    add_item(menu, gnt_menuitem_new(_("Status")), 't', "otr-status", menu_status, window);
    add_item(menu, gnt_menuitem_new(_("Fingerprints")), 'f', "otr-fingerprint", menu_fingerprints, window);
    add_item(menu, gnt_menuitem_new(_("What do the levels mean?")), 'w', "otr-levels", menu_levels,
             window);
    add_item(menu, gnt_menuitem_new(_("Help (/otr help)")), 'h', "otr-help", menu_help, window);
    return menu;
}

/* Replace the OTR submenu of WINDOW with a fresh one, unless it is on
 * screen right now (the menu bar points at it then). */
static void
rebuild_menu(GntWidget *window, PurpleConversation *conv)
{
    GntMenu *bar = gnt_window_get_menu(GNT_WINDOW(window));
    GntMenuItem *item = bar != NULL ? g_object_get_data(G_OBJECT(bar), KEY_ITEM) : NULL;

    if (item == NULL || (bar->submenu != NULL && bar->submenu == gnt_menuitem_get_submenu(item)))
        return;
    gnt_menuitem_set_submenu(item, build_menu(conv, window));
}

/* The "OTR" item of the menu bar is being opened: show the current state. */
static void
on_item_activate(GntMenuItem *item, gpointer window)
{
    PurpleConversation *conv = potr_gnt_conv_of_window(window);

    if (conv != NULL)
        gnt_menuitem_set_submenu(item, build_menu(conv, window));
}

/* Open WINDOW's menu bar with the OTR menu dropped down. */
static gboolean
open_menu(GntWidget *window)
{
    GntMenu *bar = gnt_window_get_menu(GNT_WINDOW(window));
    GntMenuItem *item = bar != NULL ? g_object_get_data(G_OBJECT(bar), KEY_ITEM) : NULL;
    int index = item != NULL ? g_list_index(bar->list, item) : -1;

    if (index < 0)
        return FALSE;
    bar->selected = index;
    if (!gnt_screen_menu_show(bar))
        return FALSE;
    gnt_widget_activate(GNT_WIDGET(bar));
    return TRUE;
}

static gboolean
on_key_pressed(GntWidget *window, const char *keys, gpointer data)
{
    if (keys == NULL || strcmp(keys, POTR_GNT_MENU_KEY) != 0)
        return FALSE;
    return open_menu(window);
}

/* ---- status line and title ---- */

static char *
status_text(PurpleConversation *conv)
{
    PurpleAccount *account = purple_conversation_get_account(conv);
    const char *activity = potr_gnt_auth_activity(conv);
    GString *text = g_string_new(NULL);

    g_string_printf(text, _("OTR: %s"), potr_level_name(potr_conv_level(conv)));
    if (potr_key_generating(account))
        activity = _("generating your private key...");
    if (activity != NULL)
        g_string_append_printf(text, " - %s", activity);
    else
        g_string_append_printf(text, _("   [%s: OTR menu]"), POTR_GNT_MENU_KEY_NAME);
    return g_string_free(text, FALSE);
}

/* Append " | OTR: <level>" to the window title, replacing what we appended
 * before; Finch rewrites the title now and then (typing), so this runs
 * again after it. */
static void
update_title(GntWidget *window, PurpleConversation *conv)
{
    const char *title = GNT_BOX(window)->title != NULL ? GNT_BOX(window)->title : "";
    const char *old = g_object_get_data(G_OBJECT(window), KEY_SUFFIX);
    size_t len = strlen(title);
    char *suffix = NULL;
    char *renamed = NULL;

    if (old != NULL && g_str_has_suffix(title, old))
        len -= strlen(old);
    suffix = conv != NULL ? g_strdup_printf(_(" | OTR: %s"), potr_level_name(potr_conv_level(conv)))
                          : g_strdup("");
    renamed = g_strdup_printf("%.*s%s", (int)len, title, suffix);
    if (strcmp(renamed, title) != 0)
        gnt_screen_rename_widget(window, renamed);
    g_object_set_data_full(G_OBJECT(window), KEY_SUFFIX, suffix, g_free);
    g_free(renamed);
}

static void
on_label_destroy(GntWidget *label, gpointer window)
{
    /* another plugin took the info area, or the window closes */
    if (g_object_get_data(G_OBJECT(window), KEY_LABEL) == label) {
        g_object_set_data(G_OBJECT(window), KEY_LABEL, NULL);
        g_object_set_data(G_OBJECT(window), KEY_STATUS, NULL);
    }
}

/* Show TEXT in FC's status line. The label is made once, as wide as the
 * window, and only its text changes afterwards: a new label would make
 * Finch lay the window out again, which raises it above the window the
 * user is typing in. */
static void
update_status(FinchConv *fc, const char *text)
{
    GObject *window = G_OBJECT(fc->window);
    GntWidget *label = g_object_get_data(window, KEY_LABEL);
    int width = 0;
    int height = 0;
    char *padded = NULL;

    if (label != NULL) {
        if (g_strcmp0(g_object_get_data(window, KEY_STATUS), text) != 0)
            gnt_label_set_text(GNT_LABEL(label), text);
    } else if (set_info_widget != NULL) {
        gnt_widget_get_size(fc->window, &width, &height);
        padded = g_strdup_printf("%-*s", MAX(width - 2, 1), text);
        label = gnt_label_new_with_format(padded, GNT_TEXT_FLAG_BOLD);
        set_info_widget(fc->active_conv, label);
        g_object_set_data(window, KEY_LABEL, label);
        g_signal_connect(G_OBJECT(label), "destroy", G_CALLBACK(on_label_destroy), window);
        g_free(padded);
    }
    g_object_set_data_full(window, KEY_STATUS, g_strdup(text), g_free);
}

/* Give FC's window our status line, menu item and key, once. */
static void
decorate(FinchConv *fc)
{
    GObject *window = G_OBJECT(fc->window);
    GntMenu *bar = gnt_window_get_menu(GNT_WINDOW(fc->window));

    if (bar != NULL && g_object_get_data(G_OBJECT(bar), KEY_ITEM) == NULL) {
        GntMenuItem *item = gnt_menuitem_new(_("OTR"));

        gnt_menuitem_set_id(item, "otr");
        gnt_menuitem_set_submenu(item, GNT_MENU(gnt_menu_new(GNT_MENU_POPUP)));
        g_signal_connect(G_OBJECT(item), "activate", G_CALLBACK(on_item_activate), fc->window);
        gnt_menu_add_item(bar, item);
        g_object_set_data(G_OBJECT(bar), KEY_ITEM, item);
    }
    if (g_object_get_data(window, KEY_KEYS) == NULL) {
        g_signal_connect(window, "key_pressed", G_CALLBACK(on_key_pressed), NULL);
        g_object_set_data(window, KEY_KEYS, GINT_TO_POINTER(1));
    }
}

static void
refresh_conv(PurpleConversation *conv)
{
    FinchConv *fc = finch_conv_of(conv);
    char *text = NULL;

    if (fc == NULL || fc->window == NULL || fc->active_conv != conv)
        return;
    decorate(fc);
    text = status_text(conv);
    update_status(fc, text);
    g_free(text);
    update_title(fc->window, conv);
    rebuild_menu(fc->window, conv);
}

void
potr_gnt_conv_refresh_all(void)
{
    for (GList *l = purple_get_ims(); l != NULL; l = l->next)
        refresh_conv(l->data);
}

static gboolean
refresh_idle(gpointer data)
{
    refresh_source = 0;
    potr_gnt_conv_refresh_all();
    return G_SOURCE_REMOVE;
}

/* Refresh once the current event is handled (after Finch's own handlers
 * of the same signal have rewritten the title). */
static void
refresh_later(void)
{
    if (refresh_source == 0)
        refresh_source = g_idle_add(refresh_idle, NULL);
}

/* ---- signals ---- */

static void
on_level_changed(PurpleConversation *conv, guint level, gpointer data)
{
    refresh_conv(conv);
    refresh_later();
}

static void
on_conv_event(PurpleConversation *conv, gpointer data)
{
    refresh_conv(conv);
}

static void
on_anything(void)
{
    refresh_later();
}

static void
on_typing(PurpleAccount *account, const char *who, gpointer data)
{
    refresh_later();
}

static void
undecorate(FinchConv *fc)
{
    GObject *window = G_OBJECT(fc->window);
    GntMenu *bar = gnt_window_get_menu(GNT_WINDOW(fc->window));
    GntMenuItem *item = bar != NULL ? g_object_get_data(G_OBJECT(bar), KEY_ITEM) : NULL;

    if (g_object_get_data(window, KEY_LABEL) != NULL && set_info_widget != NULL)
        set_info_widget(fc->active_conv, NULL);
    g_object_set_data(window, KEY_LABEL, NULL);
    g_object_set_data(window, KEY_STATUS, NULL);
    update_title(fc->window, NULL);
    g_object_set_data(window, KEY_SUFFIX, NULL);
    if (item != NULL) {
        /* libgnt has no call to remove a menu item: the bar owns its list */
        bar->list = g_list_remove(bar->list, item);
        bar->selected = 0;
        g_object_set_data(G_OBJECT(bar), KEY_ITEM, NULL);
        g_object_unref(item);
    }
    g_signal_handlers_disconnect_by_func(window, G_CALLBACK(on_key_pressed), NULL);
    g_object_set_data(window, KEY_KEYS, NULL);
}

void
potr_gnt_conv_init(void)
{
    void *core = potr_core_handle();
    void *convs = purple_conversations_get_handle();
    GModule *self = g_module_open(NULL, 0);

    conv_running = TRUE;
    if (self == NULL || !g_module_symbol(self, "finch_conversation_set_info_widget",
                                         (gpointer *)&set_info_widget))
        set_info_widget = NULL;
    if (self != NULL)
        g_module_close(self);
    purple_signal_connect(core, "level-changed", &conv_handle, PURPLE_CALLBACK(on_level_changed), NULL);
    purple_signal_connect(core, "smp-event", &conv_handle, PURPLE_CALLBACK(on_anything), NULL);
    purple_signal_connect(core, "key-generation", &conv_handle, PURPLE_CALLBACK(on_anything), NULL);
    purple_signal_connect(convs, "conversation-created", &conv_handle, PURPLE_CALLBACK(on_conv_event), NULL);
    purple_signal_connect(convs, "conversation-updated", &conv_handle, PURPLE_CALLBACK(on_anything), NULL);
    purple_signal_connect(convs, "buddy-typing", &conv_handle, PURPLE_CALLBACK(on_typing), NULL);
    purple_signal_connect(convs, "buddy-typing-stopped", &conv_handle, PURPLE_CALLBACK(on_typing), NULL);
    purple_signal_connect(convs, "buddy-typed", &conv_handle, PURPLE_CALLBACK(on_typing), NULL);
    potr_gnt_conv_refresh_all();
}

void
potr_gnt_conv_uninit(void)
{
    if (!conv_running)
        return;
    purple_signals_disconnect_by_handle(&conv_handle);
    if (refresh_source != 0) {
        g_source_remove(refresh_source);
        refresh_source = 0;
    }
    for (GList *l = purple_get_ims(); l != NULL; l = l->next) {
        FinchConv *fc = finch_conv_of(l->data);

        if (fc != NULL && fc->window != NULL && fc->active_conv == l->data)
            undecorate(fc);
    }
    set_info_widget = NULL;
    conv_running = FALSE;
}
