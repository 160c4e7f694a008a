/* purple-otr - GPL-2.0-or-later
 * Finch buddy list: a buddy's OTR submenu (F11 on the buddy) with the
 * native dialogs, and the per-buddy settings window. */
#include "i18n.h"
#include "gnt-buddy.h"

#include <gnt.h>
#include <gntbox.h>
#include <gntbutton.h>
#include <gntcheckbox.h>
#include <gntlabel.h>

#include "potr.h"
#include "gnt-prefs.h"

/* pidgin-otr's per-buddy "don't log" (blist node setting), read by the
 * core's potr_policy_avoid_logging() when the buddy has own settings */
#define NODE_AVOIDLOGGING "OTR/avoidloggingotr"

typedef struct {
    PurpleBuddy *buddy;
    GntWidget *window;
    GntWidget *use_default;
    GntWidget *policy;
    GntWidget *nolog;
} BuddyWindow;

/* our signal handle; its address is all that counts */
static int buddy_handle;
static GList *windows = NULL;   /* BuddyWindow *: open settings windows */

/* The buddy a menu was opened on: Finch shows a contact as one row and
 * opens its menu on the contact; its buddy is the priority one. */
static PurpleBuddy *
node_buddy(PurpleBlistNode *node)
{
    if (PURPLE_BLIST_NODE_IS_CONTACT(node))
        return purple_contact_get_priority_buddy((PurpleContact *)node);
    return PURPLE_BLIST_NODE_IS_BUDDY(node) ? (PurpleBuddy *)node : NULL;
}

/* ---- the settings window ---- */

static void
on_window_destroy(GntWidget *window, BuddyWindow *bw)
{
    windows = g_list_remove(windows, bw);
    g_free(bw);
}

static void
do_save(BuddyWindow *bw)
{
    PurpleBlistNode *node = (PurpleBlistNode *)bw->buddy;

    if (gnt_check_box_get_checked(GNT_CHECK_BOX(bw->use_default))) {
        potr_policy_set_buddy(bw->buddy, TRUE, POTR_POLICY_NEVER);
    } else {
        potr_policy_set_buddy(bw->buddy, FALSE, potr_gnt_prefs_policy_of(bw->policy));
        purple_blist_node_set_bool(node, NODE_AVOIDLOGGING,
                                   gnt_check_box_get_checked(GNT_CHECK_BOX(bw->nolog)));
    }
    gnt_widget_destroy(bw->window);
}

static GntWidget *
add_button(GntWidget *row, const char *text, GCallback callback, gpointer data)
{
    GntWidget *button = gnt_button_new(text);

    g_signal_connect_swapped(G_OBJECT(button), "activate", callback, data);
    gnt_box_add_widget(GNT_BOX(row), button);
    return button;
}

static void
show_settings(PurpleBuddy *buddy)
{
    BuddyWindow *bw = NULL;
    PotrPolicy policy = potr_policy_global();
    gboolean own = potr_policy_buddy_override(buddy, &policy);
    GntWidget *row = gnt_hbox_new(FALSE);
    char *title = NULL;

    for (GList *l = windows; l != NULL; l = l->next)
        if (((BuddyWindow *)l->data)->buddy == buddy) {
            gnt_window_present(((BuddyWindow *)l->data)->window);
            return;
        }
    bw = g_new0(BuddyWindow, 1);
    bw->buddy = buddy;
    bw->window = gnt_vbox_new(FALSE);
    title = g_strdup_printf(_("OTR settings for %s"), purple_buddy_get_name(buddy));
    gnt_box_set_toplevel(GNT_BOX(bw->window), TRUE);
    gnt_box_set_title(GNT_BOX(bw->window), title);
    gnt_box_set_alignment(GNT_BOX(bw->window), GNT_ALIGN_LEFT);
    gnt_box_set_pad(GNT_BOX(bw->window), 0);
    bw->use_default = gnt_check_box_new(_("Use the default settings (Plugins > Configure Plugin)"));
    gnt_check_box_set_checked(GNT_CHECK_BOX(bw->use_default), !own);
    gnt_box_add_widget(GNT_BOX(bw->window), bw->use_default);
    gnt_box_add_widget(GNT_BOX(bw->window), gnt_label_new(_("Otherwise, for this buddy:")));
    bw->policy = potr_gnt_prefs_policy_combo(policy);
    gnt_box_add_widget(GNT_BOX(bw->window), bw->policy);
    bw->nolog = gnt_check_box_new(_("Don't log OTR conversations"));
    gnt_check_box_set_checked(GNT_CHECK_BOX(bw->nolog),
                              potr_policy_avoid_logging(purple_buddy_get_account(buddy),
                                                        purple_buddy_get_name(buddy)));
    gnt_box_add_widget(GNT_BOX(bw->window), bw->nolog);
    add_button(row, _("Save"), G_CALLBACK(do_save), bw);
    add_button(row, _("Cancel"), G_CALLBACK(gnt_widget_destroy), bw->window);
    gnt_box_add_widget(GNT_BOX(bw->window), row);
    g_signal_connect(G_OBJECT(bw->window), "destroy", G_CALLBACK(on_window_destroy), bw);
    windows = g_list_prepend(windows, bw);
    gnt_widget_show(bw->window);
    g_free(title);
}

/* ---- the buddy's OTR submenu: the core's, plus our settings ---- */

static void
menu_settings(PurpleBlistNode *node, gpointer data)
{
    PurpleBuddy *buddy = node_buddy(node);

    if (buddy != NULL)
        show_settings(buddy);
}

static void
on_buddy_menu(PurpleBuddy *buddy, GList **items, gpointer data)
{
    *items = g_list_append(*items, purple_menu_action_new(_("Settings for this buddy..."),
                                                          PURPLE_CALLBACK(menu_settings), NULL, NULL));
}

static void
on_node_removed(PurpleBlistNode *node, gpointer data)
{
    for (GList *l = windows; l != NULL; l = l->next)
        if ((PurpleBlistNode *)((BuddyWindow *)l->data)->buddy == node) {
            gnt_widget_destroy(((BuddyWindow *)l->data)->window);   /* unlinks l */
            return;
        }
}

void
potr_gnt_buddy_init(void)
{
    purple_signal_connect(potr_core_handle(), "buddy-menu", &buddy_handle,
                          PURPLE_CALLBACK(on_buddy_menu), NULL);
    purple_signal_connect(purple_blist_get_handle(), "blist-node-removed", &buddy_handle,
                          PURPLE_CALLBACK(on_node_removed), NULL);
}

void
potr_gnt_buddy_uninit(void)
{
    purple_signals_disconnect_by_handle(&buddy_handle);
    while (windows != NULL)
        gnt_widget_destroy(((BuddyWindow *)windows->data)->window);
}
