/* purple-otr - GPL-2.0-or-later
 * Finch preferences: the frame in Finch's plugin dialog (policy, don't-log)
 * and its two windows, known fingerprints and my private keys. */
#include "i18n.h"
#include "gnt-prefs.h"

#include <string.h>
#include <gnt.h>
#include <gntbox.h>
#include <gntbutton.h>
#include <gntcheckbox.h>
#include <gntcombobox.h>
#include <gntlabel.h>
#include <gnttree.h>

#include "potr.h"
#include "gnt-auth.h"

/* Why windows and not one big frame: a frame with both lists is ~35 rows,
 * and Finch's configuration window cannot scroll; each of these fits an
 * 80x24 terminal. */

/* One list window (fingerprints or keys); at most one of each is open. */
typedef struct {
    GntWidget *window;
    GntWidget *tree;
    GntWidget *detail;   /* label under the tree (fingerprints: the account) */
    GList *fp_list;      /* PotrFingerprint *, owned: the fingerprint tree's keys */
} ListWindow;

static ListWindow *fps_window = NULL;
static ListWindow *keys_window = NULL;

/* The label keeps the width it was made with: made this wide. */
#define DETAIL_BLANK "                                                                      "

static void
report(const char *primary, GError *error)
{
    purple_notify_error(NULL, _("OTR"), primary, error->message);
    g_error_free(error);
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
list_destroyed(GntWidget *window, ListWindow **slot)
{
    ListWindow *list = *slot;

    purple_signals_disconnect_by_handle(list);
    purple_request_close_with_handle(list);
    g_list_free_full(list->fp_list, (GDestroyNotify)potr_fingerprint_free);
    g_free(list);
    *slot = NULL;
}

/* A new list window in *SLOT, or NULL (and the open one raised). */
static ListWindow *
list_new(ListWindow **slot, const char *title, int columns)
{
    ListWindow *list = NULL;

    if (*slot != NULL) {
        gnt_window_present((*slot)->window);
        return NULL;
    }
    list = *slot = g_new0(ListWindow, 1);
    list->window = gnt_vbox_new(FALSE);
    gnt_box_set_toplevel(GNT_BOX(list->window), TRUE);
    gnt_box_set_title(GNT_BOX(list->window), title);
    gnt_box_set_alignment(GNT_BOX(list->window), GNT_ALIGN_LEFT);
    gnt_box_set_pad(GNT_BOX(list->window), 0);
    list->tree = gnt_tree_new_with_columns(columns);
    gnt_tree_set_show_title(GNT_TREE(list->tree), TRUE);
    gnt_box_add_widget(GNT_BOX(list->window), list->tree);
    g_signal_connect(G_OBJECT(list->window), "destroy", G_CALLBACK(list_destroyed), slot);
    return list;
}

static void
close_list(ListWindow *list)
{
    gnt_widget_destroy(list->window);
}

/* ---- known fingerprints ---- */

static const char *
trust_text(const PotrFingerprint *fp)
{
    if (g_strcmp0(fp->trust, "smp") == 0)
        return _("yes (SMP)");
    if (fp->trust != NULL && *fp->trust != '\0')
        return _("yes");
    return _("no");
}

static gboolean
same_fp(const PotrFingerprint *a, const PotrFingerprint *b)
{
    return a != NULL && b != NULL && g_strcmp0(a->fingerprint, b->fingerprint) == 0
        && g_strcmp0(a->buddy, b->buddy) == 0 && g_strcmp0(a->account, b->account) == 0
        && g_strcmp0(a->protocol, b->protocol) == 0;
}

static void
show_account(ListWindow *list)
{
    PotrFingerprint *fp = gnt_tree_get_selection_data(GNT_TREE(list->tree));
    PurplePlugin *prpl = fp != NULL ? purple_find_prpl(fp->protocol) : NULL;
    const char *protocol = prpl != NULL && prpl->info != NULL ? prpl->info->name : NULL;
    char *text = fp != NULL ? g_strdup_printf(_("Seen by your account %s (%s)"), fp->account,
                                              protocol != NULL ? protocol : fp->protocol)
                            : g_strdup(" ");

    gnt_label_set_text(GNT_LABEL(list->detail), text);
    g_free(text);
}

static void
fill_fingerprints(ListWindow *list)
{
    GntTree *tree = GNT_TREE(list->tree);
    PotrFingerprint *selected = gnt_tree_get_selection_data(tree);
    PotrFingerprint *keep = NULL;
    GList *fresh = potr_fingerprints_list();

    gnt_tree_remove_all(tree);
    for (GList *l = fresh; l != NULL; l = l->next) {
        PotrFingerprint *fp = l->data;
        char *name = g_strdup_printf("%s%s", fp->in_use ? "*" : "", fp->buddy);

        if (same_fp(fp, selected))
            keep = fp;
        gnt_tree_add_row_last(tree, fp, gnt_tree_create_row(tree, name, trust_text(fp), fp->fingerprint),
                              NULL);
        g_free(name);
    }
    /* the old list goes only now: SELECTED pointed into it */
    g_list_free_full(list->fp_list, (GDestroyNotify)potr_fingerprint_free);
    list->fp_list = fresh;
    if (keep != NULL)
        gnt_tree_set_selected(tree, keep);
    show_account(list);
}

static void
do_verify(ListWindow *list)
{
    PotrFingerprint *fp = gnt_tree_get_selection_data(GNT_TREE(list->tree));

    if (fp != NULL)
        potr_gnt_auth_fingerprint(fp);
}

static void
do_distrust(ListWindow *list)
{
    PotrFingerprint *fp = gnt_tree_get_selection_data(GNT_TREE(list->tree));
    GError *error = NULL;

    if (fp != NULL && !potr_fingerprint_set_trusted(fp, FALSE, &error))
        report(_("The fingerprint could not be changed."), error);
}

static void
do_forget(ListWindow *list)
{
    PotrFingerprint *fp = gnt_tree_get_selection_data(GNT_TREE(list->tree));
    GError *error = NULL;

    if (fp != NULL && !potr_fingerprint_forget(fp, &error))
        report(_("The fingerprint could not be forgotten."), error);
}

static void
on_fingerprints_changed(ListWindow *list)
{
    fill_fingerprints(list);
}

/* a conversation that goes private may bring a fingerprint into use */
static void
on_level_changed(PurpleConversation *conv, guint level, ListWindow *list)
{
    fill_fingerprints(list);
}

static void
show_fingerprints(gpointer data)
{
    ListWindow *list = list_new(&fps_window, _("OTR: known fingerprints"), 3);
    GntWidget *row = gnt_hbox_new(FALSE);
    GntTree *tree = NULL;

    if (list == NULL)
        return;
    tree = GNT_TREE(list->tree);
    /* 80 columns: buddy, verified, fingerprint; the account goes below */
    gnt_tree_set_column_titles(tree, _("Buddy (*: in use)"), _("Verified"), _("Fingerprint"));
    gnt_tree_set_col_width(tree, 0, 18);
    gnt_tree_set_col_width(tree, 1, 9);
    gnt_tree_set_col_width(tree, 2, 44);
    gnt_tree_set_visible_rows(tree, 8);
    g_signal_connect_swapped(G_OBJECT(list->tree), "selection-changed", G_CALLBACK(show_account), list);
    list->detail = gnt_label_new(DETAIL_BLANK);
    gnt_box_add_widget(GNT_BOX(list->window), list->detail);
    add_button(row, _("Verify..."), G_CALLBACK(do_verify), list);
    add_button(row, _("Not verified"), G_CALLBACK(do_distrust), list);
    add_button(row, _("Forget"), G_CALLBACK(do_forget), list);
    add_button(row, _("Close"), G_CALLBACK(close_list), list);
    gnt_box_add_widget(GNT_BOX(list->window), row);
    fill_fingerprints(list);
    purple_signal_connect(potr_core_handle(), "fingerprints-changed", list,
                          PURPLE_CALLBACK(on_fingerprints_changed), list);
    purple_signal_connect(potr_core_handle(), "level-changed", list, PURPLE_CALLBACK(on_level_changed),
                          list);
    gnt_widget_show(list->window);
}

/* ---- my keys ---- */

static void
fill_keys(ListWindow *list)
{
    GntTree *tree = GNT_TREE(list->tree);
    PurpleAccount *selected = gnt_tree_get_selection_data(tree);
    gboolean keep = FALSE;

    gnt_tree_remove_all(tree);
    for (GList *l = purple_accounts_get_all(); l != NULL; l = l->next) {
        PurpleAccount *account = l->data;
        char *fingerprint = potr_key_fingerprint(account);
        char *name = g_strdup_printf("%s (%s)", purple_account_get_username(account),
                                     purple_account_get_protocol_name(account));
        const char *text = fingerprint;

        if (potr_key_generating(account))
            text = _("generating...");
        else if (fingerprint == NULL)
            text = _("no key yet");
        gnt_tree_add_row_last(tree, account, gnt_tree_create_row(tree, name, text), NULL);
        keep = keep || account == selected;
        g_free(name);
        g_free(fingerprint);
    }
    if (keep)
        gnt_tree_set_selected(tree, selected);
}

static void
generate(PurpleAccount *account)
{
    GError *error = NULL;

    if (g_list_find(purple_accounts_get_all(), account) == NULL)
        return;   /* deleted meanwhile */
    if (!potr_key_generate(account, &error))
        report(_("The key could not be generated."), error);
}

static void
replace_answer(PurpleAccount *account, int action)
{
    if (action == 0)
        generate(account);
}

/* Generate the selected account's key (the core does it in a thread: the
 * screen goes on; the list says "generating..." until it is ready). A key
 * that exists is replaced only after a confirmation. */
static void
do_generate(ListWindow *list)
{
    PurpleAccount *account = gnt_tree_get_selection_data(GNT_TREE(list->tree));
    char *fingerprint = NULL;
    char *primary = NULL;

    if (account == NULL || potr_key_generating(account))
        return;
    fingerprint = potr_key_fingerprint(account);
    if (fingerprint == NULL) {
        generate(account);
        return;
    }
    primary = g_strdup_printf(_("Replace the OTR key of %s?"), purple_account_get_username(account));
    purple_request_action(list, _("OTR"), primary,
                          _("Your buddies will see a new fingerprint and will have to verify you again."),
                          1, account, NULL, NULL, account, 2,
                          _("Replace"), G_CALLBACK(replace_answer), _("Cancel"), NULL);
    g_free(primary);
    g_free(fingerprint);
}

static void
on_keys_changed(PurpleAccount *account, guint state, ListWindow *list)
{
    fill_keys(list);
}

static void
on_account_changed(PurpleAccount *account, ListWindow *list)
{
    fill_keys(list);
}

static void
show_keys(gpointer data)
{
    ListWindow *list = list_new(&keys_window, _("OTR: my private keys"), 2);
    GntWidget *row = gnt_hbox_new(FALSE);
    GntTree *tree = NULL;
    void *accounts = purple_accounts_get_handle();

    if (list == NULL)
        return;
    tree = GNT_TREE(list->tree);
    gnt_tree_set_column_titles(tree, _("Account"), _("Fingerprint"));
    gnt_tree_set_col_width(tree, 0, 28);
    gnt_tree_set_col_width(tree, 1, 44);
    gnt_tree_set_visible_rows(tree, 4);
    add_button(row, _("Generate key"), G_CALLBACK(do_generate), list);
    add_button(row, _("Close"), G_CALLBACK(close_list), list);
    gnt_box_add_widget(GNT_BOX(list->window), row);
    fill_keys(list);
    purple_signal_connect(potr_core_handle(), "key-generation", list, PURPLE_CALLBACK(on_keys_changed),
                          list);
    purple_signal_connect(accounts, "account-added", list, PURPLE_CALLBACK(on_account_changed), list);
    purple_signal_connect(accounts, "account-removed", list, PURPLE_CALLBACK(on_account_changed), list);
    gnt_widget_show(list->window);
}

/* ---- the frame: policy, logging, the two windows ---- */

static void
on_policy_changed(GntComboBox *combo, gpointer old, gpointer now, gpointer data)
{
    PotrPolicy policy = (PotrPolicy)(GPOINTER_TO_INT(now) - 1);

    purple_prefs_set_bool(POTR_PREF_ENABLED, policy != POTR_POLICY_NEVER);
    purple_prefs_set_bool(POTR_PREF_AUTOMATIC,
                          policy == POTR_POLICY_OPPORTUNISTIC || policy == POTR_POLICY_ALWAYS);
    purple_prefs_set_bool(POTR_PREF_ONLYPRIVATE, policy == POTR_POLICY_ALWAYS);
}

static void
on_nolog_toggled(GntCheckBox *box, gpointer data)
{
    purple_prefs_set_bool(POTR_PREF_AVOIDLOGGING, gnt_check_box_get_checked(box));
}

/* A check box for the boolean preference PREF (a static string). */
static void
on_pref_toggled(GntCheckBox *box, gpointer pref)
{
    purple_prefs_set_bool(pref, gnt_check_box_get_checked(box));
}

static void
add_pref_check(GntWidget *frame, const char *label, const char *pref)
{
    GntWidget *check = gnt_check_box_new(label);

    gnt_check_box_set_checked(GNT_CHECK_BOX(check), purple_prefs_get_bool(pref));
    g_signal_connect(G_OBJECT(check), "toggled", G_CALLBACK(on_pref_toggled), (gpointer)pref);
    gnt_box_add_widget(GNT_BOX(frame), check);
}

GntWidget *
potr_gnt_prefs_policy_combo(PotrPolicy selected)
{
    GntWidget *combo = gnt_combo_box_new();
    static const struct {
        PotrPolicy policy;
        const char *text;
    } choices[] = {
        { POTR_POLICY_NEVER, N_("Never: no private conversations") },
        { POTR_POLICY_MANUAL, N_("Manual: start them by hand") },
        { POTR_POLICY_OPPORTUNISTIC, N_("Opportunistic: start them when possible") },
        { POTR_POLICY_ALWAYS, N_("Always: require them, never send plain text") },
    };

    for (gsize i = 0; i < G_N_ELEMENTS(choices); i++)
        gnt_combo_box_add_data(GNT_COMBO_BOX(combo), GINT_TO_POINTER((int)choices[i].policy + 1),
                               _(choices[i].text));
    gnt_combo_box_set_selected(GNT_COMBO_BOX(combo), GINT_TO_POINTER((int)selected + 1));
    gnt_widget_set_size(combo, 50, 3);
    return combo;
}

PotrPolicy
potr_gnt_prefs_policy_of(GntWidget *combo)
{
    int value = GPOINTER_TO_INT(gnt_combo_box_get_selected_data(GNT_COMBO_BOX(combo)));

    return value > 0 ? (PotrPolicy)(value - 1) : potr_policy_global();
}

static void
add_policy(GntWidget *frame)
{
    GntWidget *row = gnt_hbox_new(FALSE);
    GntWidget *combo = potr_gnt_prefs_policy_combo(potr_policy_global());

    g_signal_connect(G_OBJECT(combo), "selection-changed", G_CALLBACK(on_policy_changed), NULL);
    gnt_box_add_widget(GNT_BOX(row), gnt_label_new(_("Default policy:")));
    gnt_box_add_widget(GNT_BOX(row), combo);
    gnt_box_add_widget(GNT_BOX(frame), row);
}

GntWidget *
potr_gnt_prefs_frame(void)
{
    GntWidget *frame = gnt_vbox_new(FALSE);
    GntWidget *check = gnt_check_box_new(_("Don't log OTR conversations"));
    GntWidget *row = gnt_hbox_new(FALSE);

    gnt_box_set_pad(GNT_BOX(frame), 0);
    gnt_box_set_alignment(GNT_BOX(frame), GNT_ALIGN_LEFT);
    add_policy(frame);
    gnt_check_box_set_checked(GNT_CHECK_BOX(check), purple_prefs_get_bool(POTR_PREF_AVOIDLOGGING));
    g_signal_connect(G_OBJECT(check), "toggled", G_CALLBACK(on_nolog_toggled), NULL);
    gnt_box_add_widget(GNT_BOX(frame), check);
    add_button(row, _("Known fingerprints..."), G_CALLBACK(show_fingerprints), NULL);
    add_button(row, _("My private keys..."), G_CALLBACK(show_keys), NULL);
    gnt_box_add_widget(GNT_BOX(frame), row);
    /* after the buttons, so that the keys that reach them stay as they were */
    add_pref_check(frame, _("Hide the length of private messages"), POTR_PREF_PADDING);
    add_pref_check(frame, _("Tell the server when I type in private conversations"),
                   POTR_PREF_CHATSTATES);
    return frame;
}

void
potr_gnt_prefs_uninit(void)
{
    /* the windows would outlive the engine they show */
    if (fps_window != NULL)
        close_list(fps_window);
    if (keys_window != NULL)
        close_list(keys_window);
}
