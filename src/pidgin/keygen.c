/* purple-otr - GPL-2.0-or-later
 * Key generation: while the core makes an account's private key in the
 * background, a small window says so (with a pulsing bar) and then says
 * that the key is ready, with its fingerprint. Nothing here blocks. */
#include "i18n.h"
#include "potr-gtk.h"

typedef struct {
    PurpleAccount *account;
    GtkWidget *window;
    GtkWidget *label;
    GtkWidget *bar;
    guint pulse;
} KeygenWindow;

static int keygen_handle;
static GHashTable *windows = NULL;   /* PurpleAccount* -> KeygenWindow* */

static gboolean
pulse(gpointer data)
{
    KeygenWindow *kw = data;

    gtk_progress_bar_pulse(GTK_PROGRESS_BAR(kw->bar));
    return G_SOURCE_CONTINUE;
}

static void
stop_pulse(KeygenWindow *kw)
{
    if (kw->pulse != 0) {
        g_source_remove(kw->pulse);
        kw->pulse = 0;
    }
}

static void
keygen_window_free(KeygenWindow *kw)
{
    stop_pulse(kw);
    g_free(kw);
}

static void
on_window_destroy(GtkWidget *window, KeygenWindow *kw)
{
    stop_pulse(kw);
    if (windows != NULL)
        g_hash_table_remove(windows, kw->account);   /* frees kw */
}

static char *
account_text(PurpleAccount *account)
{
    PurplePlugin *prpl = purple_find_prpl(purple_account_get_protocol_id(account));

    return g_strdup_printf("%s (%s)", purple_account_get_username(account),
                           prpl != NULL ? purple_plugin_get_name(prpl)
                                        : purple_account_get_protocol_id(account));
}

static KeygenWindow *
window_new(PurpleAccount *account)
{
    KeygenWindow *kw = g_new0(KeygenWindow, 1);
    GtkWidget *vbox = NULL;

    kw->account = account;
    kw->window = gtk_dialog_new_with_buttons(_("OTR private key"), NULL, GTK_DIALOG_NO_SEPARATOR,
                                             GTK_STOCK_CLOSE, GTK_RESPONSE_CLOSE, NULL);
    gtk_widget_set_name(kw->window, POTR_GTK_NAME_KEYGEN);
    gtk_window_set_role(GTK_WINDOW(kw->window), "potr-keygen");
    gtk_window_set_default_size(GTK_WINDOW(kw->window), 400, -1);
    vbox = gtk_vbox_new(FALSE, 12);
    gtk_container_set_border_width(GTK_CONTAINER(vbox), 12);
    kw->label = potr_gtk_label_new("", FALSE);
    gtk_widget_set_name(kw->label, "potr-keygen-label");
    gtk_label_set_selectable(GTK_LABEL(kw->label), TRUE);
    kw->bar = gtk_progress_bar_new();
    gtk_box_pack_start(GTK_BOX(vbox), kw->label, FALSE, FALSE, 0);
    gtk_box_pack_start(GTK_BOX(vbox), kw->bar, FALSE, FALSE, 0);
    gtk_box_pack_start(GTK_BOX(GTK_DIALOG(kw->window)->vbox), vbox, TRUE, TRUE, 0);
    g_signal_connect(kw->window, "response", G_CALLBACK(gtk_widget_destroy), NULL);
    g_signal_connect(kw->window, "destroy", G_CALLBACK(on_window_destroy), kw);
    g_hash_table_insert(windows, account, kw);
    gtk_widget_show_all(kw->window);
    return kw;
}

static void
show_started(PurpleAccount *account)
{
    KeygenWindow *kw = g_hash_table_lookup(windows, account);
    char *who = account_text(account);
    char *text = g_strdup_printf(_("Generating the private key for %s\xe2\x80\xa6\n"
                                   "This may take a little while; you can go on using Pidgin. "
                                   "Private conversations of this account start when it is ready."),
                                 who);

    if (kw == NULL)
        kw = window_new(account);
    gtk_label_set_text(GTK_LABEL(kw->label), text);
    gtk_widget_show(kw->bar);
    if (kw->pulse == 0)
        kw->pulse = g_timeout_add(100, pulse, kw);
    g_free(who);
    g_free(text);
}

static void
show_done(PurpleAccount *account, gboolean ok)
{
    KeygenWindow *kw = g_hash_table_lookup(windows, account);
    char *who = account_text(account);
    char *fingerprint = ok ? potr_key_fingerprint(account) : NULL;
    char *text = NULL;

    if (kw == NULL)
        kw = window_new(account);
    stop_pulse(kw);
    if (ok)
        text = g_strdup_printf(_("The private key for %s is ready.\nIts fingerprint: %s"), who,
                               fingerprint != NULL ? fingerprint : "?");
    else
        text = g_strdup_printf(_("The private key for %s could not be generated."), who);
    gtk_label_set_text(GTK_LABEL(kw->label), text);
    gtk_progress_bar_set_fraction(GTK_PROGRESS_BAR(kw->bar), ok ? 1.0 : 0.0);
    gtk_window_present(GTK_WINDOW(kw->window));
    g_free(who);
    g_free(fingerprint);
    g_free(text);
}

static void
on_key_generation(PurpleAccount *account, guint state, gpointer data)
{
    if (account == NULL || windows == NULL)
        return;
    if (state == 0)
        show_started(account);
    else
        show_done(account, state == 1);
}

void
potr_gtk_keygen_init(PurplePlugin *plugin)
{
    windows = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL,
                                    (GDestroyNotify)keygen_window_free);
    purple_signal_connect(potr_core_handle(), "key-generation", &keygen_handle,
                          PURPLE_CALLBACK(on_key_generation), NULL);
}

void
potr_gtk_keygen_uninit(void)
{
    GList *open = NULL;

    purple_signals_disconnect_by_handle(&keygen_handle);
    if (windows == NULL)
        return;
    open = g_hash_table_get_values(windows);
    for (GList *l = open; l != NULL; l = l->next) {
        KeygenWindow *kw = l->data;

        g_signal_handlers_disconnect_by_func(kw->window, G_CALLBACK(on_window_destroy), kw);
        gtk_widget_destroy(kw->window);
    }
    g_list_free(open);
    g_clear_pointer(&windows, g_hash_table_destroy);
}
