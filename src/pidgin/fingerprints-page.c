/* purple-otr - GPL-2.0-or-later
 * "Known fingerprints": every buddy key OTR has seen, with its state and
 * trust; start or end a private conversation, verify or forget a key. */
#include "i18n.h"
#include "potr-gtk.h"

enum { COL_BUDDY, COL_STATUS, COL_STATUS_COLOR, COL_VERIFIED, COL_FINGERPRINT, COL_ACCOUNT,
       COL_INDEX, N_COLS };

typedef struct {
    GtkListStore *store;
    GtkWidget *view;
    GtkWidget *start;
    GtkWidget *end;
    GtkWidget *verify;
    GtkWidget *forget;
    GPtrArray *fingerprints;     /* PotrFingerprint*, row COL_INDEX */
} FpPage;

static PurpleAccount *
fp_account(const PotrFingerprint *fp)
{
    return purple_accounts_find(fp->account, fp->protocol);
}

static PurpleConversation *
fp_conv(const PotrFingerprint *fp, gboolean create)
{
    PurpleAccount *account = fp_account(fp);
    PurpleConversation *conv = NULL;

    if (account == NULL)
        return NULL;
    conv = purple_find_conversation_with_account(PURPLE_CONV_TYPE_IM, fp->buddy, account);
    if (conv == NULL && create)
        conv = purple_conversation_new(PURPLE_CONV_TYPE_IM, account, fp->buddy);
    return conv;
}

/* The level this key stands for now: that of the conversation when the
 * key is the one in use, else "Not private". */
static PotrLevel
fp_level(const PotrFingerprint *fp)
{
    PurpleConversation *conv = fp->in_use ? fp_conv(fp, FALSE) : NULL;

    if (conv != NULL)
        return potr_conv_level(conv);
    if (fp->in_use)
        return *fp->trust != '\0' ? POTR_LEVEL_PRIVATE : POTR_LEVEL_UNVERIFIED;
    return POTR_LEVEL_NOT_PRIVATE;
}

static const char *
trust_text(const char *trust)
{
    if (g_strcmp0(trust, "smp") == 0)
        return _("Yes (authenticated)");
    if (trust != NULL && *trust != '\0')
        return _("Yes (by hand)");
    return _("No");
}

static const PotrFingerprint *
selected(FpPage *page)
{
    GtkTreeSelection *selection = gtk_tree_view_get_selection(GTK_TREE_VIEW(page->view));
    GtkTreeModel *model = NULL;
    GtkTreeIter iter;
    guint index = 0;

    if (!gtk_tree_selection_get_selected(selection, &model, &iter))
        return NULL;
    gtk_tree_model_get(model, &iter, COL_INDEX, &index, -1);
    return index < page->fingerprints->len ? g_ptr_array_index(page->fingerprints, index) : NULL;
}

static void
update_buttons(FpPage *page)
{
    const PotrFingerprint *fp = selected(page);
    PurpleAccount *account = fp != NULL ? fp_account(fp) : NULL;

    gtk_widget_set_sensitive(page->start, account != NULL && purple_account_is_connected(account));
    gtk_widget_set_sensitive(page->end, fp != NULL && fp->in_use);
    gtk_widget_set_sensitive(page->verify, fp != NULL);
    gtk_widget_set_sensitive(page->forget, fp != NULL && !fp->in_use);
}

static char *
account_text(const PotrFingerprint *fp)
{
    PurplePlugin *prpl = purple_find_prpl(fp->protocol);

    return g_strdup_printf("%s (%s)", fp->account, prpl != NULL ? purple_plugin_get_name(prpl)
                                                                : fp->protocol);
}

/* Refill the list, keeping the selected key selected. */
static void
refresh(FpPage *page)
{
    const PotrFingerprint *was = selected(page);
    char *keep = was != NULL ? g_strdup(was->fingerprint) : NULL;
    GList *list = potr_fingerprints_list();
    guint index = 0;

    gtk_list_store_clear(page->store);
    g_ptr_array_set_size(page->fingerprints, 0);
    for (GList *l = list; l != NULL; l = l->next, index++) {
        PotrFingerprint *fp = l->data;
        PotrLevel level = fp_level(fp);
        char *account = account_text(fp);
        GtkTreeIter iter;

        g_ptr_array_add(page->fingerprints, fp);
        gtk_list_store_append(page->store, &iter);
        gtk_list_store_set(page->store, &iter, COL_BUDDY, fp->buddy, COL_STATUS, potr_level_name(level),
                           COL_STATUS_COLOR, potr_gtk_level_color(level), COL_VERIFIED,
                           trust_text(fp->trust), COL_FINGERPRINT, fp->fingerprint, COL_ACCOUNT,
                           account, COL_INDEX, index, -1);
        if (keep != NULL && g_strcmp0(keep, fp->fingerprint) == 0)
            gtk_tree_selection_select_iter(gtk_tree_view_get_selection(GTK_TREE_VIEW(page->view)),
                                           &iter);
        g_free(account);
    }
    g_list_free(list);   /* the items now belong to page->fingerprints */
    g_free(keep);
    update_buttons(page);
}

static void
on_start(GtkButton *button, FpPage *page)
{
    const PotrFingerprint *fp = selected(page);
    PurpleConversation *conv = fp != NULL ? fp_conv(fp, TRUE) : NULL;

    if (conv != NULL)
        potr_conv_start(conv);
}

static void
on_end(GtkButton *button, FpPage *page)
{
    const PotrFingerprint *fp = selected(page);
    PurpleConversation *conv = fp != NULL ? fp_conv(fp, TRUE) : NULL;

    if (conv != NULL)
        potr_conv_end(conv);
}

static void
on_forget(GtkButton *button, FpPage *page)
{
    const PotrFingerprint *fp = selected(page);
    GError *error = NULL;

    if (fp != NULL && !potr_fingerprint_forget(fp, &error))
        potr_gtk_report(NULL, error);
}

/* The verify question keeps its own copy of the key: the list may be
 * refilled while it is open. */
static void
on_verify_response(GtkDialog *dialog, gint response, PotrFingerprint *fp)
{
    GError *error = NULL;

    if ((response == GTK_RESPONSE_YES || response == GTK_RESPONSE_NO)
        && !potr_fingerprint_set_trusted(fp, response == GTK_RESPONSE_YES, &error))
        potr_gtk_report(NULL, error);
    gtk_widget_destroy(GTK_WIDGET(dialog));
}

static void
on_verify(GtkButton *button, FpPage *page)
{
    const PotrFingerprint *fp = selected(page);
    PotrFingerprint *copy = NULL;
    GtkWidget *dialog = NULL;
    char *details = NULL;

    if (fp == NULL)
        return;
    copy = g_new0(PotrFingerprint, 1);
    copy->buddy = g_strdup(fp->buddy);
    copy->account = g_strdup(fp->account);
    copy->protocol = g_strdup(fp->protocol);
    copy->fingerprint = g_strdup(fp->fingerprint);
    copy->trust = g_strdup(fp->trust);
    dialog = gtk_message_dialog_new(GTK_WINDOW(gtk_widget_get_toplevel(GTK_WIDGET(button))),
                                    GTK_DIALOG_DESTROY_WITH_PARENT, GTK_MESSAGE_QUESTION,
                                    GTK_BUTTONS_NONE, _("Is this the key of %s?"), fp->buddy);
    details = g_markup_printf_escaped(_("<tt><big>%s</big></tt>\n\nCompare it with the fingerprint "
                                        "your buddy reads to you over another channel (in person, "
                                        "by phone). Your account: %s."),
                                      fp->fingerprint, fp->account);
    gtk_message_dialog_format_secondary_markup(GTK_MESSAGE_DIALOG(dialog), "%s", details);
    g_free(details);
    gtk_dialog_add_buttons(GTK_DIALOG(dialog), GTK_STOCK_CANCEL, GTK_RESPONSE_CANCEL,
                           _("I have _not verified it"), GTK_RESPONSE_NO,
                           _("I have _verified it"), GTK_RESPONSE_YES, NULL);
    g_signal_connect(dialog, "response", G_CALLBACK(on_verify_response), copy);
    g_object_set_data_full(G_OBJECT(dialog), "potr-fingerprint", copy,
                           (GDestroyNotify)potr_fingerprint_free);
    gtk_widget_show(dialog);
}

static void
on_changed(FpPage *page)
{
    refresh(page);
}

static void
on_level_changed(PurpleConversation *conv, guint level, FpPage *page)
{
    refresh(page);
}

static void
on_selection(GtkTreeSelection *selection, FpPage *page)
{
    update_buttons(page);
}

static void
on_destroy(GtkWidget *widget, FpPage *page)
{
    purple_signals_disconnect_by_handle(page);
    g_ptr_array_free(page->fingerprints, TRUE);
    g_object_unref(page->store);
    g_free(page);
}

static void
add_column(GtkWidget *view, const char *title, int col, gboolean colored, gboolean mono)
{
    GtkCellRenderer *cell = gtk_cell_renderer_text_new();
    GtkTreeViewColumn *column = gtk_tree_view_column_new_with_attributes(title, cell, "text", col,
                                                                         NULL);

    if (colored)
        gtk_tree_view_column_add_attribute(column, cell, "foreground", COL_STATUS_COLOR);
    if (mono)
        g_object_set(cell, "family", "monospace", NULL);
    gtk_tree_view_column_set_sort_column_id(column, col);
    gtk_tree_view_column_set_resizable(column, TRUE);
    gtk_tree_view_append_column(GTK_TREE_VIEW(view), column);
}

/* Buttons in a 2 x 2 grid, cell INDEX. */
static GtkWidget *
page_button(GtkWidget *table, guint index, const char *label, const char *name, GCallback callback,
            FpPage *page)
{
    GtkWidget *button = gtk_button_new_with_mnemonic(label);

    gtk_widget_set_name(button, name);
    g_signal_connect(button, "clicked", callback, page);
    gtk_table_attach(GTK_TABLE(table), button, index % 2, index % 2 + 1, index / 2, index / 2 + 1,
                     GTK_FILL | GTK_EXPAND, 0, 0, 0);
    return button;
}

GtkWidget *
potr_gtk_fingerprints_page_new(void)
{
    FpPage *page = g_new0(FpPage, 1);
    GtkWidget *vbox = gtk_vbox_new(FALSE, 8);
    GtkWidget *scroll = gtk_scrolled_window_new(NULL, NULL);
    GtkWidget *buttons = gtk_table_new(2, 2, TRUE);

    page->fingerprints = g_ptr_array_new_with_free_func((GDestroyNotify)potr_fingerprint_free);
    page->store = gtk_list_store_new(N_COLS, G_TYPE_STRING, G_TYPE_STRING, G_TYPE_STRING,
                                     G_TYPE_STRING, G_TYPE_STRING, G_TYPE_STRING, G_TYPE_UINT);
    page->view = gtk_tree_view_new_with_model(GTK_TREE_MODEL(page->store));
    gtk_widget_set_name(page->view, "potr-fingerprints");
    gtk_tree_view_set_rules_hint(GTK_TREE_VIEW(page->view), TRUE);
    add_column(page->view, _("Buddy"), COL_BUDDY, FALSE, FALSE);
    add_column(page->view, _("Status"), COL_STATUS, TRUE, FALSE);
    add_column(page->view, _("Verified"), COL_VERIFIED, FALSE, FALSE);
    add_column(page->view, _("Fingerprint"), COL_FINGERPRINT, FALSE, TRUE);
    add_column(page->view, _("Account"), COL_ACCOUNT, FALSE, FALSE);
    gtk_tree_view_set_search_column(GTK_TREE_VIEW(page->view), COL_BUDDY);
    gtk_scrolled_window_set_policy(GTK_SCROLLED_WINDOW(scroll), GTK_POLICY_AUTOMATIC,
                                   GTK_POLICY_AUTOMATIC);
    gtk_scrolled_window_set_shadow_type(GTK_SCROLLED_WINDOW(scroll), GTK_SHADOW_IN);
    gtk_container_add(GTK_CONTAINER(scroll), page->view);
    gtk_container_set_border_width(GTK_CONTAINER(vbox), 12);
    gtk_box_pack_start(GTK_BOX(vbox), scroll, TRUE, TRUE, 0);
    gtk_table_set_row_spacings(GTK_TABLE(buttons), 6);
    gtk_table_set_col_spacings(GTK_TABLE(buttons), 6);
    page->start = page_button(buttons, 0, _("_Start private conversation"), "potr-fp-start",
                              G_CALLBACK(on_start), page);
    page->end = page_button(buttons, 1, _("_End private conversation"), "potr-fp-end",
                            G_CALLBACK(on_end), page);
    page->verify = page_button(buttons, 2, _("_Verify fingerprint\xe2\x80\xa6"), "potr-fp-verify",
                               G_CALLBACK(on_verify), page);
    page->forget = page_button(buttons, 3, _("_Forget fingerprint"), "potr-fp-forget",
                               G_CALLBACK(on_forget), page);
    gtk_box_pack_start(GTK_BOX(vbox), buttons, FALSE, FALSE, 0);
    g_signal_connect(gtk_tree_view_get_selection(GTK_TREE_VIEW(page->view)), "changed",
                     G_CALLBACK(on_selection), page);
    g_signal_connect(vbox, "destroy", G_CALLBACK(on_destroy), page);
    purple_signal_connect(potr_core_handle(), "fingerprints-changed", page,
                          PURPLE_CALLBACK(on_changed), page);
    purple_signal_connect(potr_core_handle(), "level-changed", page,
                          PURPLE_CALLBACK(on_level_changed), page);
    refresh(page);
    return vbox;
}
