/* purple-otr - GPL-2.0-or-later
 * Finch preferences frame: policy, don't-log, known fingerprints, my keys. */
#include "i18n.h"
#include "gnt-prefs.h"

#include <string.h>
#include <gntbox.h>
#include <gntbutton.h>
#include <gntcheckbox.h>
#include <gntcombobox.h>
#include <gntlabel.h>
#include <gntline.h>
#include <gnttree.h>
#include <gntutils.h>

#include "policy.h"
#include "potr.h"
#include "gnt-auth.h"

typedef struct {
    GntWidget *frame;
    GntWidget *fps;      /* tree: key = PotrFingerprint * (in fp_list) */
    GntWidget *account;  /* label: account of the selected fingerprint */
    GntWidget *keys;     /* tree: key = PurpleAccount * */
    GList *fp_list;      /* PotrFingerprint *, owned */
} PrefsFrame;

/* Finch opens one configuration window per plugin: one frame at most. */
static PrefsFrame *frame_now = NULL;

static gboolean
frame_alive(PrefsFrame *prefs)
{
    return prefs != NULL && prefs == frame_now;
}

/* ---- global policy and logging ---- */

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

static void
add_policy(GntWidget *frame)
{
    GntWidget *row = gnt_hbox_new(FALSE);
    GntWidget *combo = gnt_combo_box_new();
    GntWidget *check = gnt_check_box_new(_("Don't log OTR conversations"));
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
    gnt_combo_box_set_selected(GNT_COMBO_BOX(combo), GINT_TO_POINTER((int)potr_policy_global() + 1));
    g_signal_connect(G_OBJECT(combo), "selection-changed", G_CALLBACK(on_policy_changed), NULL);
    gnt_widget_set_size(combo, 50, 3);
    gnt_box_add_widget(GNT_BOX(row), gnt_label_new(_("Default policy:")));
    gnt_box_add_widget(GNT_BOX(row), combo);
    gnt_box_add_widget(GNT_BOX(frame), row);

    gnt_check_box_set_checked(GNT_CHECK_BOX(check), purple_prefs_get_bool(POTR_PREF_AVOIDLOGGING));
    g_signal_connect(G_OBJECT(check), "toggled", G_CALLBACK(on_nolog_toggled), NULL);
    gnt_box_add_widget(GNT_BOX(frame), check);
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

/* The label keeps the width it was made with: made this wide. */
#define ACCOUNT_BLANK "                                                                      "

static void
show_account(PrefsFrame *prefs)
{
    PotrFingerprint *fp = gnt_tree_get_selection_data(GNT_TREE(prefs->fps));
    PurplePlugin *prpl = fp != NULL ? purple_find_prpl(fp->protocol) : NULL;
    const char *protocol = prpl != NULL && prpl->info != NULL ? prpl->info->name : NULL;
    char *text = fp != NULL ? g_strdup_printf(_("Seen by your account %s (%s)"), fp->account,
                                              protocol != NULL ? protocol : fp->protocol)
                            : g_strdup(" ");

    if (prefs->account != NULL)
        gnt_label_set_text(GNT_LABEL(prefs->account), text);
    g_free(text);
}

static void
fill_fingerprints(PrefsFrame *prefs)
{
    GntTree *tree = GNT_TREE(prefs->fps);
    PotrFingerprint *selected = gnt_tree_get_selection_data(tree);
    PotrFingerprint *keep = NULL;
    GList *fresh = potr_fingerprints_list();

    for (GList *l = fresh; l != NULL; l = l->next) {
        PotrFingerprint *fp = l->data;
        char *name = g_strdup_printf("%s%s", fp->in_use ? "*" : "", fp->buddy);

        if (same_fp(fp, selected))
            keep = fp;
        if (l == fresh)
            gnt_tree_remove_all(tree);
        gnt_tree_add_row_last(tree, fp, gnt_tree_create_row(tree, name, trust_text(fp), fp->fingerprint),
                              NULL);
        g_free(name);
    }
    if (fresh == NULL)
        gnt_tree_remove_all(tree);
    g_list_free_full(prefs->fp_list, (GDestroyNotify)potr_fingerprint_free);
    prefs->fp_list = fresh;
    if (keep != NULL)
        gnt_tree_set_selected(tree, keep);
    show_account(prefs);
}

static PotrFingerprint *
selected_fp(PrefsFrame *prefs)
{
    return gnt_tree_get_selection_data(GNT_TREE(prefs->fps));
}

static void
do_verify(PrefsFrame *prefs)
{
    PotrFingerprint *fp = selected_fp(prefs);

    if (fp != NULL)
        potr_gnt_auth_fingerprint(fp);
}

static void
report(const char *primary, GError *error)
{
    purple_notify_error(NULL, _("OTR"), primary, error->message);
    g_error_free(error);
}

static void
do_distrust(PrefsFrame *prefs)
{
    PotrFingerprint *fp = selected_fp(prefs);
    GError *error = NULL;

    if (fp != NULL && !potr_fingerprint_set_trusted(fp, FALSE, &error))
        report(_("The fingerprint could not be changed."), error);
}

static void
do_forget(PrefsFrame *prefs)
{
    PotrFingerprint *fp = selected_fp(prefs);
    GError *error = NULL;

    if (fp != NULL && !potr_fingerprint_forget(fp, &error))
        report(_("The fingerprint could not be forgotten."), error);
}

static GntWidget *
add_button(GntWidget *row, const char *text, GCallback callback, PrefsFrame *prefs)
{
    GntWidget *button = gnt_button_new(text);

    g_signal_connect_swapped(G_OBJECT(button), "activate", callback, prefs);
    gnt_box_add_widget(GNT_BOX(row), button);
    return button;
}

static void
add_fingerprints(PrefsFrame *prefs)
{
    GntWidget *row = gnt_hbox_new(FALSE);
    GntTree *tree = NULL;

    gnt_box_add_widget(GNT_BOX(prefs->frame), gnt_line_new(FALSE));
    gnt_box_add_widget(GNT_BOX(prefs->frame), gnt_label_new_with_format(_("Known fingerprints"),
                                                                        GNT_TEXT_FLAG_BOLD));
    /* 80 columns: buddy, verified, fingerprint; the account is shown below */
    prefs->fps = gnt_tree_new_with_columns(3);
    tree = GNT_TREE(prefs->fps);
    gnt_tree_set_column_titles(tree, _("Buddy (*: in use)"), _("Verified"), _("Fingerprint"));
    gnt_tree_set_show_title(tree, TRUE);
    gnt_tree_set_col_width(tree, 0, 18);
    gnt_tree_set_col_width(tree, 1, 9);
    gnt_tree_set_col_width(tree, 2, 44);
    gnt_tree_set_visible_rows(tree, 5);
    g_signal_connect_swapped(G_OBJECT(prefs->fps), "selection-changed", G_CALLBACK(show_account), prefs);
    gnt_box_add_widget(GNT_BOX(prefs->frame), prefs->fps);
    prefs->account = gnt_label_new(ACCOUNT_BLANK);
    gnt_box_add_widget(GNT_BOX(prefs->frame), prefs->account);
    add_button(row, _("Verify..."), G_CALLBACK(do_verify), prefs);
    add_button(row, _("Not verified"), G_CALLBACK(do_distrust), prefs);
    add_button(row, _("Forget"), G_CALLBACK(do_forget), prefs);
    gnt_box_add_widget(GNT_BOX(prefs->frame), row);
    fill_fingerprints(prefs);
}

/* ---- my keys ---- */

static void
fill_keys(PrefsFrame *prefs)
{
    GntTree *tree = GNT_TREE(prefs->keys);
    PurpleAccount *selected = gnt_tree_get_selection_data(tree);
    gboolean keep = FALSE;

    gnt_tree_remove_all(tree);
    for (GList *l = purple_accounts_get_all(); l != NULL; l = l->next) {
        PurpleAccount *account = l->data;
        char *fingerprint = potr_key_fingerprint(account);
        const char *text = fingerprint;

        if (potr_key_generating(account))
            text = _("generating...");
        else if (fingerprint == NULL)
            text = _("no key yet");
        char *name = g_strdup_printf("%s (%s)", purple_account_get_username(account),
                                     purple_account_get_protocol_name(account));

        gnt_tree_add_row_last(tree, account, gnt_tree_create_row(tree, name, text), NULL);
        g_free(name);
        keep = keep || account == selected;
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

static void
do_generate(PrefsFrame *prefs)
{
    PurpleAccount *account = gnt_tree_get_selection_data(GNT_TREE(prefs->keys));
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
    purple_request_action(prefs, _("OTR"), primary,
                          _("Your buddies will see a new fingerprint and will have to verify you again."),
                          1, account, NULL, NULL, account, 2,
                          _("Replace"), G_CALLBACK(replace_answer), _("Cancel"), NULL);
    g_free(primary);
    g_free(fingerprint);
}

static void
add_keys(PrefsFrame *prefs)
{
    GntWidget *row = gnt_hbox_new(FALSE);
    GntTree *tree = NULL;

    gnt_box_add_widget(GNT_BOX(prefs->frame), gnt_line_new(FALSE));
    gnt_box_add_widget(GNT_BOX(prefs->frame), gnt_label_new_with_format(_("My private keys"),
                                                                        GNT_TEXT_FLAG_BOLD));
    prefs->keys = gnt_tree_new_with_columns(2);
    tree = GNT_TREE(prefs->keys);
    gnt_tree_set_column_titles(tree, _("Account"), _("Fingerprint"));
    gnt_tree_set_show_title(tree, TRUE);
    gnt_tree_set_col_width(tree, 0, 28);
    gnt_tree_set_col_width(tree, 1, 44);
    gnt_tree_set_visible_rows(tree, 3);
    gnt_box_add_widget(GNT_BOX(prefs->frame), prefs->keys);
    add_button(row, _("Generate key"), G_CALLBACK(do_generate), prefs);
    gnt_box_add_widget(GNT_BOX(prefs->frame), row);
    fill_keys(prefs);
}

/* ---- life of the frame ---- */

static void
on_fingerprints_changed(PrefsFrame *prefs)
{
    if (frame_alive(prefs))
        fill_fingerprints(prefs);
}

static void
on_keys_changed(PurpleAccount *account, guint state, PrefsFrame *prefs)
{
    if (frame_alive(prefs))
        fill_keys(prefs);
}

static void
on_level_changed(PurpleConversation *conv, guint level, PrefsFrame *prefs)
{
    on_fingerprints_changed(prefs);
}

static void
on_account_changed(PurpleAccount *account, PrefsFrame *prefs)
{
    if (frame_alive(prefs))
        fill_keys(prefs);
}

static void
disconnect(PrefsFrame *prefs)
{
    purple_signals_disconnect_by_handle(prefs);
    purple_request_close_with_handle(prefs);
}

static void
on_frame_destroy(GntWidget *widget, PrefsFrame *prefs)
{
    disconnect(prefs);
    g_list_free_full(prefs->fp_list, (GDestroyNotify)potr_fingerprint_free);
    if (frame_now == prefs)
        frame_now = NULL;
    g_free(prefs);
}

GntWidget *
potr_gnt_prefs_frame(void)
{
    PrefsFrame *prefs = g_new0(PrefsFrame, 1);
    void *core = potr_core_handle();

    prefs->frame = gnt_vbox_new(FALSE);
    gnt_box_set_pad(GNT_BOX(prefs->frame), 0);
    gnt_box_set_alignment(GNT_BOX(prefs->frame), GNT_ALIGN_LEFT);
    gnt_box_add_widget(GNT_BOX(prefs->frame), gnt_label_new_with_format(_("Off-the-Record messaging"),
                                                                        GNT_TEXT_FLAG_BOLD));
    add_policy(prefs->frame);
    add_fingerprints(prefs);
    add_keys(prefs);
    g_signal_connect(G_OBJECT(prefs->frame), "destroy", G_CALLBACK(on_frame_destroy), prefs);
    if (core != NULL) {
        purple_signal_connect(core, "fingerprints-changed", prefs,
                              PURPLE_CALLBACK(on_fingerprints_changed), prefs);
        purple_signal_connect(core, "key-generation", prefs, PURPLE_CALLBACK(on_keys_changed), prefs);
        /* a new conversation may bring a new fingerprint into use */
        purple_signal_connect(core, "level-changed", prefs, PURPLE_CALLBACK(on_level_changed), prefs);
    }
    purple_signal_connect(purple_accounts_get_handle(), "account-added", prefs,
                          PURPLE_CALLBACK(on_account_changed), prefs);
    purple_signal_connect(purple_accounts_get_handle(), "account-removed", prefs,
                          PURPLE_CALLBACK(on_account_changed), prefs);
    frame_now = prefs;
    return prefs->frame;
}

void
potr_gnt_prefs_uninit(void)
{
    GntWidget *top = NULL;

    if (frame_now == NULL)
        return;
    /* the configuration window would outlive the engine it shows */
    for (top = frame_now->frame; top->parent != NULL; top = top->parent)
        ;
    disconnect(frame_now);
    gnt_widget_destroy(top);
}
