/* purple-otr - GPL-2.0-or-later
 * "My private keys": for each account its OTR fingerprint, a Copy button
 * and a Generate button (the key is made in the background). */
#include "i18n.h"
#include "potr-gtk.h"

enum { COL_TEXT, COL_ACCOUNT, N_COLS };

typedef struct {
    GtkWidget *combo;
    GtkWidget *fingerprint;
    GtkWidget *copy;
    GtkWidget *generate;
    char *shown;                 /* the fingerprint on display (for Copy) */
} KeysPage;

static PurpleAccount *
selected_account(KeysPage *kp)
{
    GtkTreeIter iter;
    PurpleAccount *account = NULL;

    if (!gtk_combo_box_get_active_iter(GTK_COMBO_BOX(kp->combo), &iter))
        return NULL;
    gtk_tree_model_get(gtk_combo_box_get_model(GTK_COMBO_BOX(kp->combo)), &iter, COL_ACCOUNT,
                       &account, -1);
    /* the account may have been deleted since the list was filled */
    return g_list_find(purple_accounts_get_all(), account) != NULL ? account : NULL;
}

static void
refresh(KeysPage *kp)
{
    PurpleAccount *account = selected_account(kp);
    gboolean busy = account != NULL && potr_key_generating(account);
    char *markup = NULL;

    g_clear_pointer(&kp->shown, g_free);
    if (account != NULL)
        kp->shown = potr_key_fingerprint(account);
    if (busy)
        markup = g_markup_printf_escaped("<i>%s</i>", _("Generating a key\xe2\x80\xa6"));
    else if (kp->shown != NULL)
        markup = g_markup_printf_escaped("<tt><big>%s</big></tt>", kp->shown);
    else
        markup = g_markup_printf_escaped("<i>%s</i>",
                                         account != NULL ? _("No key yet: generate one, or it is "
                                                             "made the first time you need it.")
                                                         : _("No account."));
    gtk_label_set_markup(GTK_LABEL(kp->fingerprint), markup);
    gtk_widget_set_sensitive(kp->copy, kp->shown != NULL && !busy);
    gtk_widget_set_sensitive(kp->generate, account != NULL && !busy);
    gtk_button_set_label(GTK_BUTTON(kp->generate),
                         kp->shown != NULL ? _("_Replace with a new key") : _("_Generate"));
    g_free(markup);
}

static void
on_copy(GtkButton *button, KeysPage *kp)
{
    if (kp->shown == NULL)
        return;
    gtk_clipboard_set_text(gtk_clipboard_get(GDK_SELECTION_CLIPBOARD), kp->shown, -1);
    gtk_clipboard_set_text(gtk_clipboard_get(GDK_SELECTION_PRIMARY), kp->shown, -1);
}

static void
generate(PurpleAccount *account)
{
    GError *error = NULL;

    /* the account may have been deleted while a question was open */
    if (g_list_find(purple_accounts_get_all(), account) == NULL)
        return;
    if (!potr_key_generate(account, &error))
        potr_gtk_report(NULL, error);
}

static void
on_replace_response(GtkDialog *dialog, gint response, PurpleAccount *account)
{
    gtk_widget_destroy(GTK_WIDGET(dialog));
    if (response == GTK_RESPONSE_ACCEPT)
        generate(account);   /* the page follows through "key-generation" */
}

/* Replacing a key makes every buddy see a new, unverified fingerprint:
 * ask first (without a nested main loop: the page may go away). */
static void
on_generate(GtkButton *button, KeysPage *kp)
{
    PurpleAccount *account = selected_account(kp);
    GtkWidget *dialog = NULL;

    if (account == NULL)
        return;
    if (kp->shown == NULL) {
        generate(account);
        return;
    }
    dialog = gtk_message_dialog_new(GTK_WINDOW(gtk_widget_get_toplevel(GTK_WIDGET(button))),
                                    GTK_DIALOG_MODAL | GTK_DIALOG_DESTROY_WITH_PARENT,
                                    GTK_MESSAGE_WARNING, GTK_BUTTONS_NONE, "%s",
                                    _("Replace your private key?"));
    gtk_message_dialog_format_secondary_text(GTK_MESSAGE_DIALOG(dialog), "%s",
        _("Your buddies will see a new fingerprint and will have to verify you again."));
    gtk_dialog_add_buttons(GTK_DIALOG(dialog), GTK_STOCK_CANCEL, GTK_RESPONSE_CANCEL,
                           _("_Replace"), GTK_RESPONSE_ACCEPT, NULL);
    g_signal_connect(dialog, "response", G_CALLBACK(on_replace_response), account);
    gtk_widget_show(dialog);
}

static void
on_key_generation(PurpleAccount *account, guint state, KeysPage *kp)
{
    refresh(kp);
}

static void
on_changed(GtkComboBox *combo, KeysPage *kp)
{
    refresh(kp);
}

static void
on_destroy(GtkWidget *page, KeysPage *kp)
{
    purple_signals_disconnect_by_handle(kp);
    g_free(kp->shown);
    g_free(kp);
}

static GtkWidget *
account_combo(void)
{
    GtkListStore *store = gtk_list_store_new(N_COLS, G_TYPE_STRING, G_TYPE_POINTER);
    GtkWidget *combo = gtk_combo_box_new_with_model(GTK_TREE_MODEL(store));
    GtkCellRenderer *cell = gtk_cell_renderer_text_new();

    for (GList *l = purple_accounts_get_all(); l != NULL; l = l->next) {
        PurpleAccount *account = l->data;
        PurplePlugin *prpl = purple_find_prpl(purple_account_get_protocol_id(account));
        char *text = g_strdup_printf("%s (%s)", purple_account_get_username(account),
                                     prpl != NULL ? purple_plugin_get_name(prpl)
                                                  : purple_account_get_protocol_id(account));
        GtkTreeIter iter;

        gtk_list_store_append(store, &iter);
        gtk_list_store_set(store, &iter, COL_TEXT, text, COL_ACCOUNT, account, -1);
        g_free(text);
    }
    g_object_unref(store);
    gtk_cell_layout_pack_start(GTK_CELL_LAYOUT(combo), cell, TRUE);
    gtk_cell_layout_set_attributes(GTK_CELL_LAYOUT(combo), cell, "text", COL_TEXT, NULL);
    gtk_combo_box_set_active(GTK_COMBO_BOX(combo), 0);
    return combo;
}

GtkWidget *
potr_gtk_keys_page_new(void)
{
    KeysPage *kp = g_new0(KeysPage, 1);
    GtkWidget *vbox = gtk_vbox_new(FALSE, 12);
    GtkWidget *row = gtk_hbox_new(FALSE, 8);
    GtkWidget *buttons = gtk_hbutton_box_new();
    GtkWidget *label = gtk_label_new_with_mnemonic(_("_Account:"));

    gtk_container_set_border_width(GTK_CONTAINER(vbox), 12);
    kp->combo = account_combo();
    gtk_widget_set_name(kp->combo, "potr-keys-account");
    gtk_label_set_mnemonic_widget(GTK_LABEL(label), kp->combo);
    gtk_box_pack_start(GTK_BOX(row), label, FALSE, FALSE, 0);
    gtk_box_pack_start(GTK_BOX(row), kp->combo, TRUE, TRUE, 0);
    gtk_box_pack_start(GTK_BOX(vbox), row, FALSE, FALSE, 0);
    gtk_box_pack_start(GTK_BOX(vbox), potr_gtk_label_new(_("Fingerprint of your key for this "
                                                           "account (buddies compare it when they "
                                                           "authenticate you):"), FALSE),
                       FALSE, FALSE, 0);
    kp->fingerprint = potr_gtk_label_new("", TRUE);
    gtk_widget_set_name(kp->fingerprint, "potr-keys-fingerprint");
    gtk_label_set_selectable(GTK_LABEL(kp->fingerprint), TRUE);
    gtk_box_pack_start(GTK_BOX(vbox), kp->fingerprint, FALSE, FALSE, 0);
    kp->copy = gtk_button_new_from_stock(GTK_STOCK_COPY);
    gtk_widget_set_name(kp->copy, "potr-keys-copy");
    kp->generate = gtk_button_new_with_mnemonic(_("_Generate"));
    gtk_widget_set_name(kp->generate, "potr-keys-generate");
    gtk_button_box_set_layout(GTK_BUTTON_BOX(buttons), GTK_BUTTONBOX_START);
    gtk_box_set_spacing(GTK_BOX(buttons), 8);
    gtk_container_add(GTK_CONTAINER(buttons), kp->copy);
    gtk_container_add(GTK_CONTAINER(buttons), kp->generate);
    gtk_box_pack_start(GTK_BOX(vbox), buttons, FALSE, FALSE, 0);
    g_signal_connect(kp->combo, "changed", G_CALLBACK(on_changed), kp);
    g_signal_connect(kp->copy, "clicked", G_CALLBACK(on_copy), kp);
    g_signal_connect(kp->generate, "clicked", G_CALLBACK(on_generate), kp);
    g_signal_connect(vbox, "destroy", G_CALLBACK(on_destroy), kp);
    purple_signal_connect(potr_core_handle(), "key-generation", kp,
                          PURPLE_CALLBACK(on_key_generation), kp);
    refresh(kp);
    return vbox;
}
