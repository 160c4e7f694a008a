/* purple-otr - GPL-2.0-or-later
 * Test probe: a Pidgin plugin (never installed) through which the Pidgin
 * tests look at and drive the real GTK widget tree, as a user would with
 * the mouse: read the OTR button's label, open its menu and pick an item,
 * fill and click dialogs, take screenshots.
 *
 * Requests arrive one per line on the file descriptor named by
 * POTR_PROBE_IN, fields separated by TAB; each gets exactly one answer line
 * on POTR_PROBE_OUT: "ok" or "err", TAB, then fields (g_strescape'd). */
#include <config.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>
#include <gtk/gtk.h>
#include <purple.h>
#include <libpurple/core.h>
#include <pidgin.h>
#include <gtkconv.h>
#include <gtkconvwin.h>
#include <gtkplugin.h>
#include <gtkimhtml.h>

#define PROBE_ID "gtk-potr-test-probe"

static GIOChannel *in_channel = NULL;
static guint in_watch = 0;
static int out_fd = -1;
static GString *in_buffer = NULL;

/* ---- answers ---- */

static void
answer(gboolean ok, GPtrArray *fields)
{
    GString *line = g_string_new(ok ? "ok" : "err");

    for (guint i = 0; fields != NULL && i < fields->len; i++) {
        char *escaped = g_strescape(g_ptr_array_index(fields, i), NULL);

        g_string_append_c(line, '\t');
        g_string_append(line, escaped);
        g_free(escaped);
    }
    g_string_append_c(line, '\n');
    for (gsize done = 0; done < line->len;) {
        ssize_t n = write(out_fd, line->str + done, line->len - done);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        done += (gsize)n;
    }
    g_string_free(line, TRUE);
}

static void
answer1(gboolean ok, const char *text)
{
    GPtrArray *fields = g_ptr_array_new();

    if (text != NULL)
        g_ptr_array_add(fields, (gpointer)text);
    answer(ok, fields);
    g_ptr_array_free(fields, TRUE);
}

/* ---- the widget tree ---- */

static void
collect(GtkWidget *widget, gpointer list)
{
    *(GList **)list = g_list_prepend(*(GList **)list, widget);
}

/* Depth-first search under ROOT (internal children included) for a widget
 * named NAME. */
static GtkWidget *
find_named(GtkWidget *root, const char *name)
{
    GList *children = NULL;
    GtkWidget *found = NULL;

    if (root == NULL)
        return NULL;
    if (g_strcmp0(gtk_widget_get_name(root), name) == 0)
        return root;
    if (!GTK_IS_CONTAINER(root))
        return NULL;
    gtk_container_forall(GTK_CONTAINER(root), collect, &children);
    children = g_list_reverse(children);
    for (GList *l = children; l != NULL && found == NULL; l = l->next)
        found = find_named(l->data, name);
    g_list_free(children);
    return found;
}

static PurpleAccount *
first_account(void)
{
    GList *accounts = purple_accounts_get_all();

    return accounts != NULL ? accounts->data : NULL;
}

static PurpleConversation *
conv_of(const char *buddy)
{
    PurpleAccount *account = first_account();

    if (account == NULL || buddy == NULL)
        return NULL;
    return purple_find_conversation_with_account(PURPLE_CONV_TYPE_IM, buddy, account);
}

static GtkWidget *
button_of(const char *buddy)
{
    PurpleConversation *conv = conv_of(buddy);

    if (conv == NULL || !PIDGIN_IS_PIDGIN_CONVERSATION(conv))
        return NULL;
    return find_named(PIDGIN_CONVERSATION(conv)->tab_cont, "potr-button");
}

static GtkWidget *
menu_of(GtkWidget *button)
{
    GList *menus = button != NULL ? gtk_menu_get_for_attach_widget(button) : NULL;

    return menus != NULL ? menus->data : NULL;
}

/* A toplevel by spec: "conv:BUDDY" (its conversation window),
 * "menu:BUDDY" (the OTR popup menu), or a widget name that the window or
 * one of its descendants has. */
static GtkWidget *
find_window(const char *spec)
{
    GList *tops = NULL;
    GtkWidget *found = NULL;

    if (g_str_has_prefix(spec, "conv:")) {
        PurpleConversation *conv = conv_of(spec + 5);

        if (conv != NULL && PIDGIN_IS_PIDGIN_CONVERSATION(conv))
            return PIDGIN_CONVERSATION(conv)->win->window;
        return NULL;
    }
    if (g_str_has_prefix(spec, "menu:")) {
        GtkWidget *menu = menu_of(button_of(spec + 5));

        return menu != NULL ? gtk_widget_get_toplevel(menu) : NULL;
    }
    tops = gtk_window_list_toplevels();
    for (GList *l = tops; l != NULL && found == NULL; l = l->next)
        if (gtk_widget_get_visible(l->data) && find_named(l->data, spec) != NULL)
            found = l->data;
    g_list_free(tops);
    return found;
}

/* Menu item label without mnemonic underscores. */
static char *
item_label(GtkWidget *item)
{
    GtkWidget *child = gtk_bin_get_child(GTK_BIN(item));

    if (child == NULL || !GTK_IS_LABEL(child))
        return NULL;
    return g_strdup(gtk_label_get_text(GTK_LABEL(child)));
}

/* Items as "label|sensitive|active" (active: -1 for plain items); a
 * submenu's items follow their parent as "parent/label|...". */
static void
describe_menu(GtkWidget *menu, const char *prefix, GPtrArray *fields)
{
    GList *items = gtk_container_get_children(GTK_CONTAINER(menu));

    for (GList *l = items; l != NULL; l = l->next) {
        char *label = item_label(l->data);
        char *full = NULL;

        if (label == NULL)
            continue;
        full = prefix != NULL ? g_strdup_printf("%s/%s", prefix, label) : g_strdup(label);
        g_ptr_array_add(fields, g_strdup_printf("%s|%d|%d", full,
                                                gtk_widget_is_sensitive(l->data) ? 1 : 0,
                                                GTK_IS_CHECK_MENU_ITEM(l->data)
                                                ? gtk_check_menu_item_get_active(l->data) : -1));
        if (gtk_menu_item_get_submenu(l->data) != NULL)
            describe_menu(gtk_menu_item_get_submenu(l->data), full, fields);
        g_free(full);
        g_free(label);
    }
    g_list_free(items);
}

static GtkWidget *
find_item(GtkWidget *menu, const char *wanted)
{
    GList *items = gtk_container_get_children(GTK_CONTAINER(menu));
    GtkWidget *found = NULL;

    for (GList *l = items; l != NULL && found == NULL; l = l->next) {
        char *label = item_label(l->data);

        if (label != NULL && g_strcmp0(label, wanted) == 0)
            found = l->data;
        else if (gtk_menu_item_get_submenu(l->data) != NULL)
            found = find_item(gtk_menu_item_get_submenu(l->data), wanted);
        g_free(label);
    }
    g_list_free(items);
    return found;
}

static void
settle(void)
{
    for (int i = 0; i < 3; i++) {
        gdk_window_process_all_updates();
        gdk_display_sync(gdk_display_get_default());
        while (gtk_events_pending())
            gtk_main_iteration_do(FALSE);
    }
}

/* ---- commands ---- */

static void
cmd_button(char **args)
{
    GtkWidget *button = button_of(args[1]);
    GtkWidget *label = find_named(button, "potr-button-label");
    GPtrArray *fields = g_ptr_array_new();

    if (button == NULL || label == NULL) {
        answer1(FALSE, "no button");
        g_ptr_array_free(fields, TRUE);
        return;
    }
    g_ptr_array_add(fields, gtk_widget_get_visible(button) && gtk_widget_get_mapped(button)
                    ? "visible" : "hidden");
    g_ptr_array_add(fields, (gpointer)gtk_label_get_text(GTK_LABEL(label)));
    g_ptr_array_add(fields, (gpointer)gtk_label_get_label(GTK_LABEL(label)));
    g_ptr_array_add(fields, (gpointer)(gtk_widget_get_tooltip_text(button) != NULL ? "tip" : ""));
    answer(TRUE, fields);
    g_ptr_array_free(fields, TRUE);
}

/* Click BUTTON and return the menu it popped up, or NULL. GTK drops a
 * popup whose pointer grab fails (an earlier menu's grab may not be
 * released by the X server yet): then the click is repeated, as a user
 * would, a few times. */
static GtkWidget *
click_for_menu(GtkWidget *button)
{
    for (int attempt = 0; attempt < 5; attempt++) {
        GtkWidget *menu = NULL;

        gtk_button_clicked(GTK_BUTTON(button));
        settle();
        menu = menu_of(button);
        if (menu != NULL && gtk_widget_get_visible(menu))
            return menu;
        gdk_display_sync(gdk_display_get_default());
    }
    return NULL;
}

/* Click the button as the mouse would; the menu it pops up is read, and
 * left open if KEEP (for a screenshot). */
static void
cmd_menu(char **args, gboolean keep)
{
    GtkWidget *button = button_of(args[1]);
    GtkWidget *menu = NULL;
    GPtrArray *fields = g_ptr_array_new_with_free_func(g_free);

    if (button == NULL) {
        answer1(FALSE, "no button");
        goto cleanup;
    }
    menu = click_for_menu(button);
    if (menu == NULL) {
        answer1(FALSE, "no menu popped up");
        goto cleanup;
    }
    describe_menu(menu, NULL, fields);
    if (!keep)
        gtk_menu_popdown(GTK_MENU(menu));
    answer(TRUE, fields);

cleanup:
    g_ptr_array_free(fields, TRUE);
}

static void
cmd_pick(char **args)
{
    GtkWidget *button = button_of(args[1]);
    GtkWidget *menu = NULL;
    GtkWidget *item = NULL;

    if (button == NULL || args[2] == NULL) {
        answer1(FALSE, "no button");
        return;
    }
    menu = click_for_menu(button);
    item = menu != NULL ? find_item(menu, args[2]) : NULL;
    if (item == NULL || !gtk_widget_is_sensitive(item)) {
        if (menu != NULL)
            gtk_menu_popdown(GTK_MENU(menu));
        answer1(FALSE, item == NULL ? "no such item" : "item is insensitive");
        return;
    }
    gtk_menu_popdown(GTK_MENU(menu));
    if (GTK_IS_CHECK_MENU_ITEM(item))
        gtk_check_menu_item_set_active(GTK_CHECK_MENU_ITEM(item), TRUE);
    else
        gtk_menu_item_activate(GTK_MENU_ITEM(item));
    answer1(TRUE, NULL);
}

static void
cmd_menubar(char **args)
{
    PurpleConversation *conv = conv_of(args[1]);
    GtkWidget *item = NULL;
    GPtrArray *fields = g_ptr_array_new_with_free_func(g_free);

    if (conv != NULL && PIDGIN_IS_PIDGIN_CONVERSATION(conv))
        item = find_named(PIDGIN_CONVERSATION(conv)->win->menu.menubar, "potr-menubar");
    if (item == NULL || !gtk_widget_get_visible(item)) {
        answer1(FALSE, "no OTR menu in the menubar");
    } else {
        describe_menu(gtk_menu_item_get_submenu(GTK_MENU_ITEM(item)), NULL, fields);
        answer(TRUE, fields);
    }
    g_ptr_array_free(fields, TRUE);
}

static void
cmd_get(char **args)
{
    GtkWidget *window = args[1] != NULL ? find_window(args[1]) : NULL;
    GtkWidget *w = window != NULL && args[2] != NULL ? find_named(window, args[2]) : NULL;
    GPtrArray *fields = g_ptr_array_new_with_free_func(g_free);

    if (w == NULL) {
        answer1(FALSE, window == NULL ? "no such window" : "no such widget");
        g_ptr_array_free(fields, TRUE);
        return;
    }
    g_ptr_array_add(fields, g_strdup(gtk_widget_get_visible(w) ? "visible" : "hidden"));
    g_ptr_array_add(fields, g_strdup(gtk_widget_is_sensitive(w) ? "sensitive" : "insensitive"));
    if (GTK_IS_LABEL(w))
        g_ptr_array_add(fields, g_strdup(gtk_label_get_text(GTK_LABEL(w))));
    else if (GTK_IS_ENTRY(w))
        g_ptr_array_add(fields, g_strdup(gtk_entry_get_text(GTK_ENTRY(w))));
    else if (GTK_IS_TOGGLE_BUTTON(w))
        g_ptr_array_add(fields, g_strdup(gtk_toggle_button_get_active(GTK_TOGGLE_BUTTON(w)) ? "1" : "0"));
    else if (GTK_IS_BUTTON(w))
        g_ptr_array_add(fields, g_strdup(gtk_button_get_label(GTK_BUTTON(w))));
    else if (GTK_IS_PROGRESS_BAR(w))
        g_ptr_array_add(fields, g_strdup_printf("%.2f",
                                                gtk_progress_bar_get_fraction(GTK_PROGRESS_BAR(w))));
    else if (GTK_IS_COMBO_BOX(w))
        g_ptr_array_add(fields, g_strdup_printf("%d", gtk_combo_box_get_active(GTK_COMBO_BOX(w))));
    else if (GTK_IS_WINDOW(w))
        g_ptr_array_add(fields, g_strdup(gtk_window_get_title(GTK_WINDOW(w))));
    else if (GTK_IS_NOTEBOOK(w))
        g_ptr_array_add(fields, g_strdup_printf("%d/%d", gtk_notebook_get_current_page(GTK_NOTEBOOK(w)),
                                                gtk_notebook_get_n_pages(GTK_NOTEBOOK(w))));
    else if (GTK_IS_TREE_VIEW(w))
        g_ptr_array_add(fields, g_strdup_printf("%d",
            gtk_tree_model_iter_n_children(gtk_tree_view_get_model(GTK_TREE_VIEW(w)), NULL)));
    answer(TRUE, fields);
    g_ptr_array_free(fields, TRUE);
}

static void
cmd_set(char **args)
{
    GtkWidget *window = args[1] != NULL ? find_window(args[1]) : NULL;
    GtkWidget *w = window != NULL && args[2] != NULL ? find_named(window, args[2]) : NULL;

    if (w == NULL || args[3] == NULL) {
        answer1(FALSE, "no such widget");
    } else if (GTK_IS_ENTRY(w)) {
        gtk_entry_set_text(GTK_ENTRY(w), args[3]);
        answer1(TRUE, NULL);
    } else if (GTK_IS_TOGGLE_BUTTON(w)) {
        gtk_toggle_button_set_active(GTK_TOGGLE_BUTTON(w), atoi(args[3]) != 0);
        answer1(TRUE, NULL);
    } else if (GTK_IS_COMBO_BOX(w)) {
        gtk_combo_box_set_active(GTK_COMBO_BOX(w), atoi(args[3]));
        answer1(TRUE, NULL);
    } else if (GTK_IS_TREE_VIEW(w)) {
        GtkTreePath *path = gtk_tree_path_new_from_indices(atoi(args[3]), -1);

        gtk_tree_selection_select_path(gtk_tree_view_get_selection(GTK_TREE_VIEW(w)), path);
        gtk_tree_path_free(path);
        answer1(TRUE, NULL);
    } else if (GTK_IS_NOTEBOOK(w)) {
        gtk_notebook_set_current_page(GTK_NOTEBOOK(w), atoi(args[3]));
        answer1(TRUE, NULL);
    } else {
        answer1(FALSE, "cannot set this widget");
    }
}

static void
cmd_click(char **args)
{
    GtkWidget *window = args[1] != NULL ? find_window(args[1]) : NULL;
    GtkWidget *w = window != NULL && args[2] != NULL ? find_named(window, args[2]) : NULL;

    if (w == NULL || !GTK_IS_BUTTON(w)) {
        answer1(FALSE, "no such button");
    } else if (!gtk_widget_is_sensitive(w) || !gtk_widget_get_visible(w)) {
        answer1(FALSE, "button is not clickable");
    } else {
        gtk_button_clicked(GTK_BUTTON(w));
        answer1(TRUE, NULL);
    }
}

/* Close a window as its title bar's close button would (a delete event). */
static void
cmd_close(char **args)
{
    GtkWidget *window = args[1] != NULL ? find_window(args[1]) : NULL;
    GdkEvent *event = NULL;

    if (window == NULL || gtk_widget_get_window(window) == NULL) {
        answer1(FALSE, "no such window");
        return;
    }
    event = gdk_event_new(GDK_DELETE);
    event->any.window = g_object_ref(gtk_widget_get_window(window));
    event->any.send_event = TRUE;
    gtk_main_do_event(event);
    gdk_event_free(event);
    settle();
    answer1(TRUE, NULL);
}

static void
cmd_open(char **args)
{
    PurpleAccount *account = first_account();
    PurpleConversation *conv = NULL;

    if (account == NULL || args[1] == NULL) {
        answer1(FALSE, "no account");
        return;
    }
    conv = purple_conversation_new(PURPLE_CONV_TYPE_IM, account, args[1]);
    pidgin_conv_present_conversation(conv);
    answer1(TRUE, NULL);
}

static void
cmd_pref(char **args)
{
    char *value = NULL;

    if (args[1] == NULL || !purple_prefs_exists(args[1])) {
        answer1(FALSE, "no such pref");
        return;
    }
    switch (purple_prefs_get_type(args[1])) {
    case PURPLE_PREF_BOOLEAN:
        value = g_strdup(purple_prefs_get_bool(args[1]) ? "1" : "0");
        break;
    case PURPLE_PREF_INT:
        value = g_strdup_printf("%d", purple_prefs_get_int(args[1]));
        break;
    case PURPLE_PREF_STRING:
        value = g_strdup(purple_prefs_get_string(args[1]));
        break;
    case PURPLE_PREF_PATH_LIST:
    case PURPLE_PREF_STRING_LIST: {
        GList *list = purple_prefs_get_type(args[1]) == PURPLE_PREF_PATH_LIST
                      ? purple_prefs_get_path_list(args[1]) : purple_prefs_get_string_list(args[1]);
        GString *joined = g_string_new(NULL);

        for (GList *l = list; l != NULL; l = l->next)
            g_string_append_printf(joined, "%s%s", joined->len > 0 ? ";" : "", (char *)l->data);
        g_list_free_full(list, g_free);
        value = g_string_free(joined, FALSE);
        break;
    }
    default:
        value = g_strdup("?");
        break;
    }
    answer1(TRUE, value);
    g_free(value);
}

static PurpleBlistNode *
buddy_node(const char *name)
{
    PurpleAccount *account = first_account();

    return account != NULL && name != NULL ? (PurpleBlistNode *)purple_find_buddy(account, name) : NULL;
}

static void
cmd_node(char **args)
{
    PurpleBlistNode *node = buddy_node(args[1]);

    if (node == NULL || args[2] == NULL) {
        answer1(FALSE, "no such buddy");
        return;
    }
    answer1(TRUE, purple_blist_node_get_bool(node, args[2]) ? "1" : "0");
}

/* The buddy list's context menu of a buddy, as Pidgin builds it from
 * "blist-node-extended-menu": "Parent/Child" labels. */
static void
describe_actions(GList *actions, const char *prefix, GPtrArray *fields)
{
    for (GList *l = actions; l != NULL; l = l->next) {
        PurpleMenuAction *action = l->data;
        char *label = NULL;

        if (action == NULL)
            continue;
        label = prefix != NULL ? g_strdup_printf("%s/%s", prefix, action->label)
                               : g_strdup(action->label);
        g_ptr_array_add(fields, label);
        describe_actions(action->children, label, fields);
    }
}

static PurpleMenuAction *
find_action(GList *actions, char **path)
{
    for (GList *l = actions; path[0] != NULL && l != NULL; l = l->next) {
        PurpleMenuAction *action = l->data;

        if (action == NULL || g_strcmp0(action->label, path[0]) != 0)
            continue;
        return path[1] == NULL ? action : find_action(action->children, path + 1);
    }
    return NULL;
}

static void
free_actions(GList *actions)
{
    for (GList *l = actions; l != NULL; l = l->next) {
        PurpleMenuAction *action = l->data;

        if (action == NULL)
            continue;
        free_actions(action->children);
        action->children = NULL;
        purple_menu_action_free(action);
    }
    g_list_free(actions);
}

static void
cmd_blist_menu(char **args, gboolean pick)
{
    PurpleBlistNode *node = buddy_node(args[1]);
    GList *actions = node != NULL ? purple_blist_node_get_extended_menu(node) : NULL;
    GPtrArray *fields = g_ptr_array_new_with_free_func(g_free);

    if (node == NULL) {
        answer1(FALSE, "no such buddy");
    } else if (!pick) {
        describe_actions(actions, NULL, fields);
        answer(TRUE, fields);
    } else {
        PurpleMenuAction *action = find_action(actions, args + 2);

        if (action == NULL || action->callback == NULL) {
            answer1(FALSE, "no such action");
        } else {
            ((void (*)(PurpleBlistNode *, gpointer))action->callback)(node, action->data);
            answer1(TRUE, NULL);
        }
    }
    free_actions(actions);
    g_ptr_array_free(fields, TRUE);
}

/* Load the plugin file PATH (probing it first), as ticking it in
 * Tools > Plugins does. */
static void
cmd_load(char **args)
{
    PurplePlugin *plugin = args[1] != NULL ? purple_plugin_probe(args[1]) : NULL;

    if (plugin == NULL) {
        answer1(FALSE, "cannot probe");
        return;
    }
    if (!purple_plugin_load(plugin)) {
        answer1(FALSE, plugin->error != NULL ? plugin->error : "load failed");
        return;
    }
    answer1(TRUE, NULL);
}

/* unload ID: turn a plugin off as Pidgin's plugin list does (unload it,
 * then save the list of loaded plugins). */
static void
cmd_unload(char **args)
{
    PurplePlugin *plugin = args[1] != NULL ? purple_plugins_find_with_id(args[1]) : NULL;

    if (plugin == NULL || !purple_plugin_is_loaded(plugin)) {
        answer1(FALSE, "not loaded");
        return;
    }
    if (!purple_plugin_unload(plugin)) {
        answer1(FALSE, "unload failed");
        return;
    }
    pidgin_plugins_save();
    answer1(TRUE, NULL);
}

/* The text of every label in the window WINDOW (notifications). */
static void
collect_labels(GtkWidget *widget, gpointer data)
{
    if (GTK_IS_LABEL(widget))
        g_ptr_array_add(data, g_strdup(gtk_label_get_text(GTK_LABEL(widget))));
    else if (GTK_IS_CONTAINER(widget))
        gtk_container_forall(GTK_CONTAINER(widget), collect_labels, data);
}

static void
cmd_texts(void)
{
    GList *tops = gtk_window_list_toplevels();
    GPtrArray *fields = g_ptr_array_new_with_free_func(g_free);

    for (GList *l = tops; l != NULL; l = l->next)
        if (gtk_widget_get_visible(l->data))
            collect_labels(l->data, fields);
    g_list_free(tops);
    answer(TRUE, fields);
    g_ptr_array_free(fields, TRUE);
}

static void
cmd_send(char **args)
{
    PurpleConversation *conv = args[1] != NULL ? conv_of(args[1]) : NULL;

    if (conv == NULL || args[2] == NULL) {
        answer1(FALSE, "no conversation");
        return;
    }
    purple_conv_im_send(PURPLE_CONV_IM(conv), args[2]);
    answer1(TRUE, NULL);
}

/* The lines written into a conversation, oldest first. */
static void
cmd_history(char **args)
{
    PurpleConversation *conv = args[1] != NULL ? conv_of(args[1]) : NULL;
    GPtrArray *fields = g_ptr_array_new_with_free_func(g_free);
    GList *history = conv != NULL ? purple_conversation_get_message_history(conv) : NULL;

    /* libpurple keeps the newest first; each: who|flags|text */
    for (GList *l = g_list_last(history); l != NULL; l = l->prev)
        g_ptr_array_add(fields, g_strdup_printf("%s|%d|%s",
            purple_conversation_message_get_sender(l->data) != NULL
            ? purple_conversation_message_get_sender(l->data) : "",
            (int)purple_conversation_message_get_flags(l->data),
            purple_conversation_message_get_message(l->data)));
    answer(conv != NULL, fields);
    g_ptr_array_free(fields, TRUE);
}

static void
cmd_scroll_end(char **args)
{
    PurpleConversation *conv = args[1] != NULL ? conv_of(args[1]) : NULL;

    if (conv == NULL || !PIDGIN_IS_PIDGIN_CONVERSATION(conv)) {
        answer1(FALSE, "no conversation");
        return;
    }
    settle();
    gtk_imhtml_scroll_to_end(GTK_IMHTML(PIDGIN_CONVERSATION(conv)->imhtml), FALSE);
    settle();
    answer1(TRUE, NULL);
}

static void
cmd_menu_close(char **args)
{
    GtkWidget *menu = menu_of(button_of(args[1]));

    if (menu != NULL)
        gtk_menu_popdown(GTK_MENU(menu));
    settle();
    answer1(TRUE, NULL);
}

static void
cmd_plugins(void)
{
    GPtrArray *fields = g_ptr_array_new();

    for (GList *l = purple_plugins_get_loaded(); l != NULL; l = l->next) {
        PurplePlugin *p = l->data;

        if (p->info != NULL && p->info->id != NULL)
            g_ptr_array_add(fields, p->info->id);
    }
    answer(TRUE, fields);
    g_ptr_array_free(fields, TRUE);
}

/* Pidgin's own Plugins dialog, our entry selected, "Configure Plugin"
 * clicked: the very dialog a user opens. */
static gboolean
select_plugin_row(GtkTreeView *view, PurplePlugin *plugin)
{
    GtkTreeModel *model = gtk_tree_view_get_model(view);
    GtkTreeIter iter;
    int columns = gtk_tree_model_get_n_columns(model);

    if (!gtk_tree_model_get_iter_first(model, &iter))
        return FALSE;
    do {
        for (int c = 0; c < columns; c++) {
            gpointer p = NULL;

            if (gtk_tree_model_get_column_type(model, c) != G_TYPE_POINTER)
                continue;
            gtk_tree_model_get(model, &iter, c, &p, -1);
            if (p == plugin) {
                gtk_tree_selection_select_iter(gtk_tree_view_get_selection(view), &iter);
                return TRUE;
            }
        }
    } while (gtk_tree_model_iter_next(model, &iter));
    return FALSE;
}

static void
find_configure(GtkWidget *widget, gpointer data)
{
    GtkWidget **found = data;

    if (*found != NULL)
        return;
    if (GTK_IS_BUTTON(widget) && gtk_button_get_label(GTK_BUTTON(widget)) != NULL
        && strstr(gtk_button_get_label(GTK_BUTTON(widget)), "onfigure") != NULL)
        *found = widget;
    else if (GTK_IS_CONTAINER(widget))
        gtk_container_forall(GTK_CONTAINER(widget), find_configure, data);
}

static void
find_tree(GtkWidget *widget, gpointer data)
{
    GtkWidget **found = data;

    if (*found != NULL)
        return;
    if (GTK_IS_TREE_VIEW(widget))
        *found = widget;
    else if (GTK_IS_CONTAINER(widget))
        gtk_container_forall(GTK_CONTAINER(widget), find_tree, data);
}

static void
cmd_prefs(void)
{
    PurplePlugin *plugin = purple_plugins_find_with_id("gtk-purple-otr");
    GList *tops = NULL;
    GtkWidget *tree = NULL;
    GtkWidget *configure = NULL;

    if (plugin == NULL) {
        answer1(FALSE, "plugin not found");
        return;
    }
    pidgin_plugin_dialog_show();
    settle();
    tops = gtk_window_list_toplevels();
    for (GList *l = tops; l != NULL; l = l->next)
        if (gtk_widget_get_visible(l->data) && g_strcmp0(gtk_window_get_role(l->data), "plugins") == 0) {
            find_tree(l->data, &tree);
            find_configure(l->data, &configure);
        }
    g_list_free(tops);
    if (tree == NULL || configure == NULL || !select_plugin_row(GTK_TREE_VIEW(tree), plugin)) {
        answer1(FALSE, "plugin dialog not understood");
        return;
    }
    settle();
    gtk_button_clicked(GTK_BUTTON(configure));
    answer1(find_window("potr-prefs") != NULL, NULL);
}

static void
cmd_move(char **args)
{
    GtkWidget *window = args[1] != NULL ? find_window(args[1]) : NULL;

    if (window == NULL || args[2] == NULL || args[3] == NULL || !GTK_IS_WINDOW(window)) {
        answer1(FALSE, "no such window");
        return;
    }
    gtk_window_move(GTK_WINDOW(window), atoi(args[2]), atoi(args[3]));
    if (args[4] != NULL && args[5] != NULL)
        gtk_window_resize(GTK_WINDOW(window), atoi(args[4]), atoi(args[5]));
    settle();
    answer1(TRUE, NULL);
}

/* Screenshot of the screen area that the given windows cover (the popup
 * menu is a window of its own). */
static void
cmd_shot(char **args)
{
    GdkRectangle area = { 0, 0, 0, 0 };
    GdkPixbuf *pixbuf = NULL;
    GError *error = NULL;

    settle();
    for (int i = 2; args[1] != NULL && args[i] != NULL; i++) {
        GtkWidget *window = find_window(args[i]);
        GdkRectangle r;

        if (window == NULL || gtk_widget_get_window(window) == NULL) {
            answer1(FALSE, args[i]);
            return;
        }
        gdk_window_raise(gtk_widget_get_window(window));
        gdk_window_get_frame_extents(gtk_widget_get_window(window), &r);
        if (area.width == 0)
            area = r;
        else
            gdk_rectangle_union(&area, &r, &area);
    }
    settle();
    if (area.width <= 0 || area.height <= 0) {
        answer1(FALSE, "nothing to capture");
        return;
    }
    pixbuf = gdk_pixbuf_get_from_drawable(NULL, gdk_get_default_root_window(), NULL, area.x, area.y,
                                          0, 0, area.width, area.height);
    if (pixbuf == NULL || !gdk_pixbuf_save(pixbuf, args[1], "png", &error, NULL)) {
        answer1(FALSE, error != NULL ? error->message : "capture failed");
        g_clear_error(&error);
    } else {
        answer1(TRUE, NULL);
    }
    if (pixbuf != NULL)
        g_object_unref(pixbuf);
}

/* geometry WINDOW WIDGET: how GTK lays WIDGET out, for the right-to-left
 * checks: its resolved text direction ("rtl" or "ltr"), then x, width of
 * its allocation and x, width of its parent's, both in the coordinates of
 * the toplevel (so they compare across containers). */
static void
cmd_geometry(char **args)
{
    GtkWidget *window = args[1] != NULL ? find_window(args[1]) : NULL;
    GtkWidget *w = window != NULL && args[2] != NULL ? find_named(window, args[2]) : NULL;
    GtkWidget *parent = w != NULL ? gtk_widget_get_parent(w) : NULL;
    GtkWidget *top = w != NULL ? gtk_widget_get_toplevel(w) : NULL;
    GPtrArray *fields = g_ptr_array_new_with_free_func(g_free);
    int x = 0, y = 0, px = 0, py = 0;

    settle();
    if (w == NULL || parent == NULL || !gtk_widget_get_mapped(w) ||
        !gtk_widget_translate_coordinates(w, top, 0, 0, &x, &y) ||
        !gtk_widget_translate_coordinates(parent, top, 0, 0, &px, &py)) {
        answer1(FALSE, window == NULL ? "no such window" : "no such widget, or not shown");
        g_ptr_array_free(fields, TRUE);
        return;
    }
    g_ptr_array_add(fields, g_strdup(gtk_widget_get_direction(w) == GTK_TEXT_DIR_RTL ? "rtl" : "ltr"));
    g_ptr_array_add(fields, g_strdup_printf("%d", x));
    g_ptr_array_add(fields, g_strdup_printf("%d", w->allocation.width));
    g_ptr_array_add(fields, g_strdup_printf("%d", px));
    g_ptr_array_add(fields, g_strdup_printf("%d", parent->allocation.width));
    answer(TRUE, fields);
    g_ptr_array_free(fields, TRUE);
}

static void
cmd_windows(void)
{
    GList *tops = gtk_window_list_toplevels();
    GPtrArray *fields = g_ptr_array_new_with_free_func(g_free);

    for (GList *l = tops; l != NULL; l = l->next)
        if (gtk_widget_get_visible(l->data))
            g_ptr_array_add(fields, g_strdup_printf("%s|%s|%s", gtk_widget_get_name(l->data),
                                                    gtk_window_get_role(l->data) != NULL
                                                    ? gtk_window_get_role(l->data) : "",
                                                    gtk_window_get_title(l->data) != NULL
                                                    ? gtk_window_get_title(l->data) : ""));
    g_list_free(tops);
    answer(TRUE, fields);
    g_ptr_array_free(fields, TRUE);
}

static void
cmd_online(void)
{
    PurpleAccount *account = first_account();

    answer1(TRUE, account != NULL && purple_account_is_connected(account) ? "1" : "0");
}

static void
dispatch(char **args)
{
    const char *cmd = args[0];

    if (g_strcmp0(cmd, "ping") == 0)
        answer1(TRUE, NULL);
    else if (g_strcmp0(cmd, "plugins") == 0)
        cmd_plugins();
    else if (g_strcmp0(cmd, "online") == 0)
        cmd_online();
    else if (g_strcmp0(cmd, "open") == 0)
        cmd_open(args);
    else if (g_strcmp0(cmd, "button") == 0 && args[1] != NULL)
        cmd_button(args);
    else if (g_strcmp0(cmd, "menu") == 0 && args[1] != NULL)
        cmd_menu(args, FALSE);
    else if (g_strcmp0(cmd, "menu-open") == 0 && args[1] != NULL)
        cmd_menu(args, TRUE);
    else if (g_strcmp0(cmd, "menu-close") == 0 && args[1] != NULL)
        cmd_menu_close(args);
    else if (g_strcmp0(cmd, "load") == 0)
        cmd_load(args);
    else if (g_strcmp0(cmd, "unload") == 0)
        cmd_unload(args);
    else if (g_strcmp0(cmd, "texts") == 0)
        cmd_texts();
    else if (g_strcmp0(cmd, "pref") == 0)
        cmd_pref(args);
    else if (g_strcmp0(cmd, "node") == 0)
        cmd_node(args);
    else if (g_strcmp0(cmd, "blist-menu") == 0)
        cmd_blist_menu(args, FALSE);
    else if (g_strcmp0(cmd, "blist-pick") == 0)
        cmd_blist_menu(args, TRUE);
    else if (g_strcmp0(cmd, "scroll-end") == 0)
        cmd_scroll_end(args);
    else if (g_strcmp0(cmd, "history") == 0)
        cmd_history(args);
    else if (g_strcmp0(cmd, "send") == 0)
        cmd_send(args);
    else if (g_strcmp0(cmd, "pick") == 0 && args[1] != NULL)
        cmd_pick(args);
    else if (g_strcmp0(cmd, "menubar") == 0 && args[1] != NULL)
        cmd_menubar(args);
    else if (g_strcmp0(cmd, "get") == 0)
        cmd_get(args);
    else if (g_strcmp0(cmd, "set") == 0)
        cmd_set(args);
    else if (g_strcmp0(cmd, "click") == 0)
        cmd_click(args);
    else if (g_strcmp0(cmd, "close") == 0)
        cmd_close(args);
    else if (g_strcmp0(cmd, "prefs") == 0)
        cmd_prefs();
    else if (g_strcmp0(cmd, "move") == 0)
        cmd_move(args);
    else if (g_strcmp0(cmd, "shot") == 0)
        cmd_shot(args);
    else if (g_strcmp0(cmd, "windows") == 0)
        cmd_windows();
    else if (g_strcmp0(cmd, "geometry") == 0)
        cmd_geometry(args);
    else if (g_strcmp0(cmd, "quit") == 0) {
        answer1(TRUE, NULL);
        /* libpurple's own callback: quitting unloads (and unmaps) this
         * module, so the call must not return into our code */
        g_idle_add(purple_core_quit_cb, NULL);
    } else
        answer1(FALSE, "unknown command");
}

static gboolean
on_input(GIOChannel *channel, GIOCondition cond, gpointer data)
{
    char buf[4096];
    gsize got = 0;
    GIOStatus status = g_io_channel_read_chars(channel, buf, sizeof buf, &got, NULL);
    char *nl = NULL;

    if (got > 0)
        g_string_append_len(in_buffer, buf, (gssize)got);
    while ((nl = memchr(in_buffer->str, '\n', in_buffer->len)) != NULL) {
        char *line = g_strndup(in_buffer->str, (gsize)(nl - in_buffer->str));
        char **args = g_strsplit(line, "\t", -1);

        g_string_erase(in_buffer, 0, (gssize)(nl - in_buffer->str) + 1);
        for (int i = 0; args[i] != NULL; i++) {
            char *raw = args[i];

            args[i] = g_strcompress(raw);
            g_free(raw);
        }
        if (args[0] != NULL)
            dispatch(args);
        g_strfreev(args);
        g_free(line);
    }
    if (status == G_IO_STATUS_EOF || status == G_IO_STATUS_ERROR || (cond & (G_IO_HUP | G_IO_ERR))) {
        in_watch = 0;
        return G_SOURCE_REMOVE;
    }
    return G_SOURCE_CONTINUE;
}

static gboolean
plugin_load(PurplePlugin *plugin)
{
    const char *in = g_getenv("POTR_PROBE_IN");
    const char *out = g_getenv("POTR_PROBE_OUT");

    if (in == NULL || out == NULL) {
        plugin->error = g_strdup("POTR_PROBE_IN / POTR_PROBE_OUT not set");
        return FALSE;
    }
    out_fd = atoi(out);
    in_buffer = g_string_new(NULL);
    in_channel = g_io_channel_unix_new(atoi(in));
    g_io_channel_set_encoding(in_channel, NULL, NULL);
    g_io_channel_set_flags(in_channel, G_IO_FLAG_NONBLOCK, NULL);
    in_watch = g_io_add_watch(in_channel, G_IO_IN | G_IO_HUP | G_IO_ERR, on_input, NULL);
    answer1(TRUE, "ready");
    return TRUE;
}

static gboolean
plugin_unload(PurplePlugin *plugin)
{
    if (in_watch != 0)
        g_source_remove(in_watch);
    in_watch = 0;
    if (in_channel != NULL)
        g_io_channel_unref(in_channel);
    in_channel = NULL;
    if (in_buffer != NULL)
        g_string_free(in_buffer, TRUE);
    in_buffer = NULL;
    return TRUE;
}

static PurplePluginInfo info = {
    .magic = PURPLE_PLUGIN_MAGIC,
    .major_version = PURPLE_MAJOR_VERSION,
    .minor_version = PURPLE_MINOR_VERSION,
    .type = PURPLE_PLUGIN_STANDARD,
    .ui_requirement = PIDGIN_PLUGIN_TYPE,
    .priority = PURPLE_PRIORITY_DEFAULT,
    .id = PROBE_ID,
    .name = "purple-otr test probe",
    .version = PACKAGE_VERSION,
    .summary = "Lets the purple-otr tests read and drive Pidgin's widgets",
    .description = "Test only; never installed.",
    .author = "purple-otr authors",
    .load = plugin_load,
    .unload = plugin_unload,
};

static void
init_plugin(PurplePlugin *plugin)
{
}

PURPLE_INIT_PLUGIN(potr_test_probe, init_plugin, info)
