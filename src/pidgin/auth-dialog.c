/* purple-otr - GPL-2.0-or-later
 * Authentication dialog: verify a buddy (question and answer, shared
 * secret, fingerprints by hand), answer a buddy's request, follow the
 * progress and show the outcome. One dialog per conversation. */
#include "i18n.h"
#include "potr-gtk.h"

#include <string.h>

#define AUTH_KEY "potr-gtk-auth"   /* conv data: the conversation's dialog */

typedef enum { PAGE_ASK, PAGE_RESPOND, PAGE_PROGRESS } AuthPage;
typedef enum { METHOD_QUESTION, METHOD_SECRET, METHOD_MANUAL, METHOD_COUNT } AuthMethod;

typedef struct {
    PurpleConversation *conv;
    GtkWidget *dialog;
    GtkWidget *pages;            /* notebook without tabs: AuthPage */
    GtkWidget *ok;
    GtkWidget *cancel;
    /* asking */
    GtkWidget *radio[METHOD_COUNT];
    GtkWidget *methods;          /* notebook without tabs: AuthMethod */
    GtkWidget *question;
    GtkWidget *answer;
    GtkWidget *secret;
    GtkWidget *manual;           /* combo: not verified / verified */
    GtkWidget *manual_theirs;
    char *shown;                 /* the peer's fingerprint manual_theirs shows */
    GtkWidget *error;
    /* responding */
    GtkWidget *asked;
    GtkWidget *asked_intro;
    GtkWidget *response;
    /* progress and outcome */
    GtkWidget *status;
    GtkWidget *progress;
    GtkWidget *outcome;
    AuthPage page;
    gboolean running;            /* an SMP of this dialog is under way */
    gboolean responder;          /* we answer the buddy's request */
    gboolean peer_asked_question;
    gboolean verify_back;        /* OK now means "authenticate in turn" */
} AuthDialog;

static int auth_handle;

static const char *const method_names[] = {
    [METHOD_QUESTION] = "potr-auth-method-question",
    [METHOD_SECRET] = "potr-auth-method-secret",
    [METHOD_MANUAL] = "potr-auth-method-manual",
};

static const char *
buddy_name(PurpleConversation *conv)
{
    return purple_conversation_get_title(conv) != NULL ? purple_conversation_get_title(conv)
                                                      : purple_conversation_get_name(conv);
}

static AuthDialog *
dialog_of(PurpleConversation *conv)
{
    return conv != NULL ? purple_conversation_get_data(conv, AUTH_KEY) : NULL;
}

/* Copy the text of ENTRY for the core, then clear the entry. The copy is
 * wiped (potr_secret_free) once the core has used it: a secret lives no
 * longer than the call that needs it. */
static char *
take_secret(GtkWidget *entry)
{
    char *copy = potr_secret_trimmed(gtk_entry_get_text(GTK_ENTRY(entry)));

    gtk_entry_set_text(GTK_ENTRY(entry), "");
    return copy;
}

static void
show_error(AuthDialog *ad, const char *message)
{
    char *markup = g_markup_printf_escaped("<span foreground=\"%s\">%s</span>",
                                           potr_gtk_level_color(POTR_LEVEL_NOT_PRIVATE), message);

    gtk_label_set_markup(GTK_LABEL(ad->error), markup);
    gtk_widget_show(ad->error);
    g_free(markup);
}

static void
set_page(AuthDialog *ad, AuthPage page)
{
    ad->page = page;
    gtk_notebook_set_current_page(GTK_NOTEBOOK(ad->pages), page);
    gtk_widget_hide(ad->error);
    gtk_button_set_label(GTK_BUTTON(ad->cancel), GTK_STOCK_CANCEL);
    gtk_button_set_use_stock(GTK_BUTTON(ad->cancel), TRUE);
    gtk_button_set_label(GTK_BUTTON(ad->ok), _("_Verify"));
    gtk_widget_set_visible(ad->ok, page != PAGE_PROGRESS);
    gtk_widget_set_sensitive(ad->ok, TRUE);
    ad->verify_back = FALSE;
}

/* ---- the outcome ---- */

static void
show_outcome(AuthDialog *ad, PotrLevel color, const char *text, gboolean invite)
{
    char *markup = g_markup_printf_escaped("<span foreground=\"%s\" weight=\"bold\">%s</span>",
                                           potr_gtk_level_color(color), text);

    gtk_label_set_markup(GTK_LABEL(ad->outcome), markup);
    gtk_widget_show(ad->outcome);
    gtk_button_set_label(GTK_BUTTON(ad->cancel), GTK_STOCK_CLOSE);
    ad->running = FALSE;
    ad->verify_back = invite;
    if (invite) {
        gtk_button_set_label(GTK_BUTTON(ad->ok), _("_Verify buddy\xe2\x80\xa6"));
        gtk_widget_show(ad->ok);
    }
    g_free(markup);
}

static void
smp_finished(AuthDialog *ad, PotrSmpEvent event)
{
    char *text = NULL;
    const char *who = buddy_name(ad->conv);

    gtk_progress_bar_set_fraction(GTK_PROGRESS_BAR(ad->progress),
                                  event == POTR_SMP_SUCCESS ? 1.0 : 0.0);
    switch (event) {
    case POTR_SMP_SUCCESS:
        gtk_label_set_text(GTK_LABEL(ad->status), _("Authentication complete."));
        if (ad->responder && ad->peer_asked_question) {
            /* the buddy chose question and answer: we proved ourselves to
             * them, not them to us (see the core's smp_outcome) */
            text = g_strdup_printf(_("%s has verified you. You may want to verify %s "
                                     "in turn, with a question of your own."), who, who);
            show_outcome(ad, POTR_LEVEL_UNVERIFIED, text, TRUE);
        } else {
            text = g_strdup_printf(_("Authentication successful: %s is verified and the "
                                     "conversation is private."), who);
            show_outcome(ad, POTR_LEVEL_PRIVATE, text, FALSE);
        }
        break;
    case POTR_SMP_FAILURE:
        gtk_label_set_text(GTK_LABEL(ad->status), _("Authentication failed."));
        text = g_strdup_printf(_("Authentication of %s FAILED: the answers did not match. Either "
                                 "it was mistyped, or you are not talking to %s."), who, who);
        show_outcome(ad, POTR_LEVEL_NOT_PRIVATE, text, FALSE);
        break;
    case POTR_SMP_ABORT:
        gtk_label_set_text(GTK_LABEL(ad->status), _("Authentication stopped."));
        show_outcome(ad, POTR_LEVEL_FINISHED, _("The authentication was cancelled."), FALSE);
        break;
    default:
        gtk_label_set_text(GTK_LABEL(ad->status), _("Authentication failed."));
        show_outcome(ad, POTR_LEVEL_NOT_PRIVATE,
                     _("The authentication failed because of a protocol error. Try again."), FALSE);
        break;
    }
    g_free(text);
}

static void
start_progress(AuthDialog *ad, const char *status)
{
    set_page(ad, PAGE_PROGRESS);
    ad->running = TRUE;
    gtk_label_set_text(GTK_LABEL(ad->status), status);
    gtk_progress_bar_set_fraction(GTK_PROGRESS_BAR(ad->progress), 0.1);
    gtk_widget_hide(ad->outcome);
}

/* ---- actions ---- */

static gboolean refresh_manual(AuthDialog *ad);

static gboolean
ask(AuthDialog *ad, GError **error)
{
    AuthMethod method = gtk_notebook_get_current_page(GTK_NOTEBOOK(ad->methods));
    char *question = g_strstrip(g_strdup(gtk_entry_get_text(GTK_ENTRY(ad->question))));
    char *secret = NULL;
    char *status = NULL;
    gboolean ok = FALSE;

    if (method == METHOD_MANUAL) {
        /* trust goes to the fingerprint shown (ad->shown): if the key in
         * use changed, the core refuses and the page follows the new key */
        ok = potr_conv_set_trusted(ad->conv, ad->shown,
                                   gtk_combo_box_get_active(GTK_COMBO_BOX(ad->manual)) == 1, error);
        if (ok)
            gtk_widget_destroy(ad->dialog);
        else if (error != NULL && g_error_matches(*error, POTR_ERROR, POTR_ERROR_CHANGED))
            refresh_manual(ad);
        goto cleanup;
    }
    if (method == METHOD_QUESTION && *question == '\0') {
        g_set_error_literal(error, POTR_ERROR, POTR_ERROR_FAILED, _("Enter a question."));
        goto cleanup;
    }
    secret = take_secret(method == METHOD_QUESTION ? ad->answer : ad->secret);
    ok = potr_conv_smp_ask(ad->conv, method == METHOD_QUESTION ? question : NULL, secret, error);
    if (ok) {
        ad->responder = FALSE;
        status = g_strdup_printf(_("Waiting for %s to answer\xe2\x80\xa6"), buddy_name(ad->conv));
        start_progress(ad, status);
    }

cleanup:
    potr_secret_free(secret);
    g_free(question);
    g_free(status);
    return ok;
}

static gboolean
respond(AuthDialog *ad, GError **error)
{
    char *secret = take_secret(ad->response);
    gboolean ok = potr_conv_smp_respond(ad->conv, secret, error);

    potr_secret_free(secret);
    if (ok)
        start_progress(ad, _("Authenticating\xe2\x80\xa6"));
    return ok;
}

static void
on_response(GtkDialog *dialog, gint response, AuthDialog *ad)
{
    GError *error = NULL;
    gboolean ok = TRUE;

    if (response != GTK_RESPONSE_ACCEPT) {
        gtk_widget_destroy(ad->dialog);   /* aborts a running SMP: see on_destroy */
        return;
    }
    if (ad->verify_back) {
        set_page(ad, PAGE_ASK);
        gtk_toggle_button_set_active(GTK_TOGGLE_BUTTON(ad->radio[METHOD_QUESTION]), TRUE);
        gtk_widget_grab_focus(ad->question);
        return;
    }
    if (ad->page == PAGE_ASK)
        ok = ask(ad, &error);
    else if (ad->page == PAGE_RESPOND)
        ok = respond(ad, &error);
    if (!ok && error != NULL) {
        show_error(ad, error->message);
        g_error_free(error);
    }
}

static void
on_destroy(GtkWidget *widget, AuthDialog *ad)
{
    if (ad->running || ad->page == PAGE_RESPOND)
        potr_conv_smp_abort(ad->conv);
    purple_conversation_set_data(ad->conv, AUTH_KEY, NULL);
    g_free(ad->shown);
    g_free(ad);
}

static void
on_method(GtkToggleButton *radio, AuthDialog *ad)
{
    for (int i = 0; i < METHOD_COUNT; i++)
        if (GTK_WIDGET(radio) == ad->radio[i] && gtk_toggle_button_get_active(radio))
            gtk_notebook_set_current_page(GTK_NOTEBOOK(ad->methods), i);
    gtk_widget_hide(ad->error);
}

/* ---- building ---- */

static GtkWidget *
named(GtkWidget *widget, const char *name)
{
    gtk_widget_set_name(widget, name);
    return widget;
}

static GtkWidget *
tabless_notebook(void)
{
    GtkWidget *book = gtk_notebook_new();

    gtk_notebook_set_show_tabs(GTK_NOTEBOOK(book), FALSE);
    gtk_notebook_set_show_border(GTK_NOTEBOOK(book), FALSE);
    return book;
}

/* "Label: [entry]" rows. */
static GtkWidget *
entry_row(GtkWidget *table, guint row, const char *label, GtkWidget *entry)
{
    GtkWidget *l = gtk_label_new_with_mnemonic(label);

    gtk_misc_set_alignment(GTK_MISC(l), 0.0, 0.5);
    gtk_label_set_mnemonic_widget(GTK_LABEL(l), entry);
    gtk_entry_set_activates_default(GTK_ENTRY(entry), TRUE);
    gtk_table_attach(GTK_TABLE(table), l, 0, 1, row, row + 1, GTK_FILL, 0, 0, 0);
    gtk_table_attach(GTK_TABLE(table), entry, 1, 2, row, row + 1, GTK_FILL | GTK_EXPAND, 0, 0, 0);
    return entry;
}

static GtkWidget *
method_page(const char *explanation, GtkWidget *body)
{
    GtkWidget *vbox = gtk_vbox_new(FALSE, 8);

    gtk_box_pack_start(GTK_BOX(vbox), potr_gtk_label_new(explanation, FALSE), FALSE, FALSE, 0);
    if (body != NULL)
        gtk_box_pack_start(GTK_BOX(vbox), body, FALSE, FALSE, 0);
    return vbox;
}

static GtkWidget *
question_page(AuthDialog *ad)
{
    GtkWidget *table = gtk_table_new(2, 2, FALSE);

    gtk_table_set_row_spacings(GTK_TABLE(table), 6);
    gtk_table_set_col_spacings(GTK_TABLE(table), 8);
    ad->question = entry_row(table, 0, _("Q_uestion:"), named(gtk_entry_new(), "potr-auth-question"));
    ad->answer = entry_row(table, 1, _("A_nswer:"), named(gtk_entry_new(), "potr-auth-answer"));
    gtk_entry_set_visibility(GTK_ENTRY(ad->answer), FALSE);
    return method_page(_("Ask a question whose answer only you and your buddy know. Your buddy "
                         "sees the question and must give the same answer (mind spelling and "
                         "capitals). The answer itself is never sent."), table);
}

static GtkWidget *
secret_page(AuthDialog *ad)
{
    GtkWidget *table = gtk_table_new(1, 2, FALSE);

    gtk_table_set_col_spacings(GTK_TABLE(table), 8);
    ad->secret = entry_row(table, 0, _("_Secret:"), named(gtk_entry_new(), "potr-auth-secret"));
    gtk_entry_set_visibility(GTK_ENTRY(ad->secret), FALSE);
    return method_page(_("Enter a secret only you and your buddy know, agreed on beforehand in "
                         "person or by phone (never in this chat). Your buddy must enter the same "
                         "secret. It is never sent."), table);
}

static void
set_fingerprint_label(GtkWidget *label, const char *title, const char *fingerprint)
{
    char *markup = g_markup_printf_escaped("%s\n<tt><big>%s</big></tt>", title,
                                           fingerprint != NULL ? fingerprint : "\xe2\x80\x94");

    gtk_label_set_markup(GTK_LABEL(label), markup);
    g_free(markup);
}

static GtkWidget *
fingerprint_label(const char *title, const char *fingerprint)
{
    GtkWidget *label = potr_gtk_label_new("", TRUE);

    set_fingerprint_label(label, title, fingerprint);
    gtk_label_set_selectable(GTK_LABEL(label), TRUE);
    return label;
}

/* Show the key in use now on the manual page; TRUE if it differs from
 * what the page showed before (the choice is then reset). */
static gboolean
refresh_manual(AuthDialog *ad)
{
    char *theirs = potr_conv_peer_fingerprint(ad->conv);
    char *title = g_strdup_printf(_("Fingerprint of %s:"), buddy_name(ad->conv));
    gboolean changed = g_strcmp0(theirs, ad->shown) != 0;

    if (changed) {
        set_fingerprint_label(ad->manual_theirs, title, theirs);
        g_free(ad->shown);
        ad->shown = theirs;
        theirs = NULL;
        gtk_combo_box_set_active(GTK_COMBO_BOX(ad->manual),
                                 potr_conv_level(ad->conv) == POTR_LEVEL_PRIVATE ? 1 : 0);
    }
    g_free(theirs);
    g_free(title);
    return changed;
}

static GtkWidget *
manual_page(AuthDialog *ad)
{
    PurpleAccount *account = purple_conversation_get_account(ad->conv);
    char *mine = potr_key_fingerprint(account);
    char *theirs = potr_conv_peer_fingerprint(ad->conv);
    char *title = g_strdup_printf(_("Your fingerprint (%s):"), purple_account_get_username(account));
    char *their_title = g_strdup_printf(_("Fingerprint of %s:"), buddy_name(ad->conv));
    GtkWidget *vbox = gtk_vbox_new(FALSE, 8);
    char *item = g_strdup_printf(_("I have verified that this is the fingerprint of %s"),
                                 buddy_name(ad->conv));

    gtk_box_pack_start(GTK_BOX(vbox), fingerprint_label(title, mine), FALSE, FALSE, 0);
    ad->manual_theirs = fingerprint_label(their_title, theirs);
    g_free(ad->shown);
    ad->shown = g_strdup(theirs);
    gtk_box_pack_start(GTK_BOX(vbox), ad->manual_theirs, FALSE, FALSE, 0);
    ad->manual = named(gtk_combo_box_text_new(), "potr-auth-manual");
    gtk_combo_box_text_append_text(GTK_COMBO_BOX_TEXT(ad->manual), _("I have not verified this fingerprint"));
    gtk_combo_box_text_append_text(GTK_COMBO_BOX_TEXT(ad->manual), item);
    gtk_combo_box_set_active(GTK_COMBO_BOX(ad->manual),
                             potr_conv_level(ad->conv) == POTR_LEVEL_PRIVATE ? 1 : 0);
    gtk_box_pack_start(GTK_BOX(vbox), ad->manual, FALSE, FALSE, 0);
    g_free(mine);
    g_free(theirs);
    g_free(title);
    g_free(their_title);
    g_free(item);
    return method_page(_("Ask your buddy to read their fingerprint to you over another channel (in "
                         "person, by phone) and compare it with the one below."), vbox);
}

static GtkWidget *
ask_page(AuthDialog *ad)
{
    static const char *const labels[] = {
        [METHOD_QUESTION] = N_("_Question and answer"),
        [METHOD_SECRET] = N_("S_hared secret"),
        [METHOD_MANUAL] = N_("_Compare fingerprints by hand"),
    };
    GtkWidget *vbox = gtk_vbox_new(FALSE, 10);
    GSList *group = NULL;
    char *intro = g_strdup_printf(_("Verifying %s makes sure that you are talking to them and "
                                    "that nobody, not even the server, sits in between. How do you "
                                    "want to do it?"), buddy_name(ad->conv));

    gtk_box_pack_start(GTK_BOX(vbox), potr_gtk_label_new(intro, FALSE), FALSE, FALSE, 0);
    ad->methods = tabless_notebook();
    for (int i = 0; i < METHOD_COUNT; i++) {
        ad->radio[i] = named(gtk_radio_button_new_with_mnemonic(group, _(labels[i])), method_names[i]);
        group = gtk_radio_button_get_group(GTK_RADIO_BUTTON(ad->radio[i]));
        gtk_box_pack_start(GTK_BOX(vbox), ad->radio[i], FALSE, FALSE, 0);
        g_signal_connect(ad->radio[i], "toggled", G_CALLBACK(on_method), ad);
    }
    gtk_notebook_append_page(GTK_NOTEBOOK(ad->methods), question_page(ad), NULL);
    gtk_notebook_append_page(GTK_NOTEBOOK(ad->methods), secret_page(ad), NULL);
    gtk_notebook_append_page(GTK_NOTEBOOK(ad->methods), manual_page(ad), NULL);
    gtk_box_pack_start(GTK_BOX(vbox), gtk_hseparator_new(), FALSE, FALSE, 0);
    gtk_box_pack_start(GTK_BOX(vbox), ad->methods, FALSE, FALSE, 0);
    g_free(intro);
    return vbox;
}

static GtkWidget *
respond_page(AuthDialog *ad)
{
    GtkWidget *vbox = gtk_vbox_new(FALSE, 10);
    GtkWidget *table = gtk_table_new(1, 2, FALSE);

    ad->asked_intro = potr_gtk_label_new("", FALSE);
    ad->asked = named(potr_gtk_label_new("", TRUE), "potr-auth-asked");
    gtk_label_set_selectable(GTK_LABEL(ad->asked), TRUE);
    gtk_table_set_col_spacings(GTK_TABLE(table), 8);
    ad->response = entry_row(table, 0, _("_Answer:"), named(gtk_entry_new(), "potr-auth-response"));
    gtk_entry_set_visibility(GTK_ENTRY(ad->response), FALSE);
    gtk_box_pack_start(GTK_BOX(vbox), ad->asked_intro, FALSE, FALSE, 0);
    gtk_box_pack_start(GTK_BOX(vbox), ad->asked, FALSE, FALSE, 0);
    gtk_box_pack_start(GTK_BOX(vbox), table, FALSE, FALSE, 0);
    gtk_box_pack_start(GTK_BOX(vbox),
                       potr_gtk_label_new(_("Your answer is never sent: OTR only learns whether the "
                                            "two answers are the same."), FALSE),
                       FALSE, FALSE, 0);
    return vbox;
}

static GtkWidget *
progress_page(AuthDialog *ad)
{
    GtkWidget *vbox = gtk_vbox_new(FALSE, 10);

    ad->status = named(potr_gtk_label_new("", FALSE), "potr-auth-status");
    ad->progress = named(gtk_progress_bar_new(), "potr-auth-progress");
    ad->outcome = named(potr_gtk_label_new("", TRUE), "potr-auth-outcome");
    gtk_box_pack_start(GTK_BOX(vbox), ad->status, FALSE, FALSE, 0);
    gtk_box_pack_start(GTK_BOX(vbox), ad->progress, FALSE, FALSE, 0);
    gtk_box_pack_start(GTK_BOX(vbox), ad->outcome, FALSE, FALSE, 0);
    return vbox;
}

static GtkWidget *
header(PurpleConversation *conv)
{
    GtkWidget *hbox = gtk_hbox_new(FALSE, 12);
    GdkPixbuf *icon = potr_gtk_level_icon(POTR_LEVEL_PRIVATE, 48);
    char *title = g_markup_printf_escaped("<span size=\"large\" weight=\"bold\">%s</span>",
                                          buddy_name(conv));

    gtk_box_pack_start(GTK_BOX(hbox), gtk_image_new_from_pixbuf(icon), FALSE, FALSE, 0);
    gtk_box_pack_start(GTK_BOX(hbox), potr_gtk_label_new(title, TRUE), TRUE, TRUE, 0);
    g_object_unref(icon);
    g_free(title);
    return hbox;
}

static AuthDialog *
dialog_new(PurpleConversation *conv)
{
    AuthDialog *ad = g_new0(AuthDialog, 1);
    GtkWidget *vbox = gtk_vbox_new(FALSE, 12);
    char *title = g_strdup_printf(_("Verify %s"), buddy_name(conv));

    ad->conv = conv;
    ad->dialog = named(gtk_dialog_new(), POTR_GTK_NAME_AUTH);
    gtk_window_set_title(GTK_WINDOW(ad->dialog), title);
    gtk_window_set_role(GTK_WINDOW(ad->dialog), "potr-auth");
    gtk_window_set_default_size(GTK_WINDOW(ad->dialog), 460, -1);
    gtk_dialog_set_has_separator(GTK_DIALOG(ad->dialog), FALSE);
    if (potr_gtk_conv_window(conv) != NULL)
        gtk_window_set_transient_for(GTK_WINDOW(ad->dialog), potr_gtk_conv_window(conv));
    ad->cancel = named(gtk_dialog_add_button(GTK_DIALOG(ad->dialog), GTK_STOCK_CANCEL,
                                             GTK_RESPONSE_CANCEL), "potr-auth-cancel");
    ad->ok = named(gtk_dialog_add_button(GTK_DIALOG(ad->dialog), _("_Verify"),
                                         GTK_RESPONSE_ACCEPT), "potr-auth-ok");
    gtk_dialog_set_default_response(GTK_DIALOG(ad->dialog), GTK_RESPONSE_ACCEPT);
    ad->error = potr_gtk_label_new("", TRUE);
    ad->pages = tabless_notebook();
    gtk_notebook_append_page(GTK_NOTEBOOK(ad->pages), ask_page(ad), NULL);
    gtk_notebook_append_page(GTK_NOTEBOOK(ad->pages), respond_page(ad), NULL);
    gtk_notebook_append_page(GTK_NOTEBOOK(ad->pages), progress_page(ad), NULL);
    gtk_container_set_border_width(GTK_CONTAINER(vbox), 12);
    gtk_box_pack_start(GTK_BOX(vbox), header(conv), FALSE, FALSE, 0);
    gtk_box_pack_start(GTK_BOX(vbox), ad->pages, TRUE, TRUE, 0);
    gtk_box_pack_start(GTK_BOX(vbox), ad->error, FALSE, FALSE, 0);
    gtk_box_pack_start(GTK_BOX(GTK_DIALOG(ad->dialog)->vbox), vbox, TRUE, TRUE, 0);
    g_signal_connect(ad->dialog, "response", G_CALLBACK(on_response), ad);
    g_signal_connect(ad->dialog, "destroy", G_CALLBACK(on_destroy), ad);
    purple_conversation_set_data(conv, AUTH_KEY, ad);
    gtk_widget_show_all(vbox);
    gtk_widget_hide(ad->error);
    g_free(title);
    return ad;
}

void
potr_gtk_auth_open(PurpleConversation *conv)
{
    AuthDialog *ad = NULL;

    g_return_if_fail(conv != NULL);
    ad = dialog_of(conv);
    if (ad == NULL) {
        ad = dialog_new(conv);
        set_page(ad, PAGE_ASK);
    } else if (!ad->running && ad->page != PAGE_RESPOND) {
        set_page(ad, PAGE_ASK);
    }
    gtk_widget_show(ad->dialog);
    gtk_window_present(GTK_WINDOW(ad->dialog));
    if (ad->page == PAGE_ASK)
        gtk_widget_grab_focus(ad->question);
}

/* The buddy asks us to authenticate: answer in our dialog. */
static gboolean
on_smp_request(PurpleConversation *conv, const char *question, gpointer data)
{
    AuthDialog *ad = dialog_of(conv);
    char *intro = NULL;
    char *markup = NULL;

    if (ad == NULL)
        ad = dialog_new(conv);
    set_page(ad, PAGE_RESPOND);
    ad->responder = TRUE;
    ad->running = FALSE;
    ad->peer_asked_question = question != NULL && *question != '\0';
    if (ad->peer_asked_question) {
        intro = g_strdup_printf(_("%s wants to make sure they are talking to you, and asks:"),
                                buddy_name(conv));
        markup = g_markup_printf_escaped("<span size=\"large\" weight=\"bold\">%s</span>", question);
    } else {
        intro = g_strdup_printf(_("%s wants to make sure they are talking to you. Enter the secret "
                                  "you share with them:"), buddy_name(conv));
        markup = g_strdup("");
    }
    gtk_label_set_text(GTK_LABEL(ad->asked_intro), intro);
    gtk_label_set_markup(GTK_LABEL(ad->asked), markup);
    gtk_widget_set_visible(ad->asked, ad->peer_asked_question);
    gtk_widget_show(ad->dialog);
    gtk_window_present(GTK_WINDOW(ad->dialog));
    gtk_widget_grab_focus(ad->response);
    g_free(intro);
    g_free(markup);
    return TRUE;
}

static void
on_smp_event(PurpleConversation *conv, int event, int progress, gpointer data)
{
    AuthDialog *ad = dialog_of(conv);

    if (ad == NULL)
        return;
    switch ((PotrSmpEvent)event) {
    case POTR_SMP_NONE:
    case POTR_SMP_ASK_FOR_ANSWER:
    case POTR_SMP_ASK_FOR_SECRET:
        return;   /* "smp-request" follows */
    case POTR_SMP_IN_PROGRESS:
        if (ad->page == PAGE_PROGRESS) {
            gtk_label_set_text(GTK_LABEL(ad->status), _("Authenticating\xe2\x80\xa6"));
            gtk_progress_bar_set_fraction(GTK_PROGRESS_BAR(ad->progress),
                                          CLAMP(progress, 0, 100) / 100.0);
        }
        return;
    default:
        if (ad->page == PAGE_RESPOND)
            set_page(ad, PAGE_PROGRESS);
        if (ad->page == PAGE_PROGRESS)
            smp_finished(ad, (PotrSmpEvent)event);
        return;
    }
}

static void
on_deleting_conversation(PurpleConversation *conv, gpointer data)
{
    AuthDialog *ad = dialog_of(conv);

    if (ad != NULL)
        gtk_widget_destroy(ad->dialog);
}

/* The level or the instance in use changed under an open dialog: what it
 * shows may no longer be true. Another key in use (another login of the
 * buddy, a new key exchange) is shown at once on the manual page, with a
 * note; an ended conversation ends the dialog's work. */
static void
on_level_changed(PurpleConversation *conv, guint level, gpointer data)
{
    AuthDialog *ad = dialog_of(conv);

    if (ad == NULL)
        return;
    if (level == POTR_LEVEL_UNVERIFIED || level == POTR_LEVEL_PRIVATE) {
        if (ad->page == PAGE_ASK && refresh_manual(ad))
            show_error(ad, _("The key in use changed: compare the fingerprint shown now."));
        return;
    }
    if (ad->page == PAGE_PROGRESS && !ad->running)
        return;   /* keep showing the outcome */
    ad->running = FALSE;
    if (ad->page != PAGE_PROGRESS)
        set_page(ad, PAGE_PROGRESS);
    gtk_label_set_text(GTK_LABEL(ad->status), _("The private conversation ended."));
    show_outcome(ad, POTR_LEVEL_FINISHED,
                 _("Authentication needs a private conversation: start one and try again."), FALSE);
}

/* "/otr smp" and the core's menus: our dialog, not the generic one. */
static gboolean
on_verify_request(PurpleConversation *conv, gpointer data)
{
    pidgin_conv_present_conversation(conv);
    potr_gtk_auth_open(conv);
    return TRUE;
}

void
potr_gtk_auth_init(PurplePlugin *plugin)
{
    purple_signal_connect(potr_core_handle(), "verify-request", &auth_handle,
                          PURPLE_CALLBACK(on_verify_request), NULL);
    purple_signal_connect(potr_core_handle(), "smp-request", &auth_handle,
                          PURPLE_CALLBACK(on_smp_request), NULL);
    purple_signal_connect(potr_core_handle(), "smp-event", &auth_handle,
                          PURPLE_CALLBACK(on_smp_event), NULL);
    purple_signal_connect(potr_core_handle(), "level-changed", &auth_handle,
                          PURPLE_CALLBACK(on_level_changed), NULL);
    purple_signal_connect(purple_conversations_get_handle(), "deleting-conversation", &auth_handle,
                          PURPLE_CALLBACK(on_deleting_conversation), NULL);
}

void
potr_gtk_auth_uninit(void)
{
    purple_signals_disconnect_by_handle(&auth_handle);
    for (GList *l = purple_get_ims(); l != NULL; l = l->next) {
        AuthDialog *ad = dialog_of(l->data);

        if (ad != NULL)
            gtk_widget_destroy(ad->dialog);
    }
}
