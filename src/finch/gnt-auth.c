/* purple-otr - GPL-2.0-or-later
 * Finch authentication dialogs: chooser, question, secret, fingerprint,
 * responder, progress and outcome; one window per conversation, whose
 * content follows the steps. */
#include "i18n.h"
#include "gnt-auth.h"

#include <string.h>
#include <gnt.h>
#include <gntbox.h>
#include <gntbutton.h>
#include <gntentry.h>
#include <gntlabel.h>
#include <gntline.h>
#include <gntprogressbar.h>
#include <gntutils.h>

#include "gnt-conv.h"

/* Longest peer question shown (characters), and the width it is wrapped
 * to: the question is peer-controlled text. */
#define MAX_QUESTION 400
#define WRAP_WIDTH 60
#define ENTRY_WIDTH 40

typedef enum {
    STEP_CHOOSE,
    STEP_QUESTION,   /* we ask a question */
    STEP_SECRET,     /* we ask with a shared secret */
    STEP_MANUAL,     /* fingerprints by hand */
    STEP_RESPOND,    /* the peer asks us */
    STEP_PROGRESS,   /* a verification is running */
    STEP_DONE        /* its outcome */
} AuthStep;

typedef struct {
    PurpleConversation *conv;
    GntWidget *window;
    GntWidget *question;  /* entries of the current step, or NULL */
    GntWidget *answer;
    GntWidget *bar;       /* progress bar, progress step */
    GntWidget *note;      /* a line for errors and progress text */
    AuthStep step;
    gboolean responder;   /* we answer the peer's request */
    gboolean quiet;       /* the window is closed by us: no abort */
    char *shown;          /* the peer's fingerprint the manual step shows */
} AuthDialog;

/* our signal handle; its address is all that counts */
static int auth_handle;
static GHashTable *dialogs = NULL;   /* PurpleConversation * -> AuthDialog * */
static GHashTable *running = NULL;   /* PurpleConversation * -> progress + 1 */
static GList *fp_windows = NULL;     /* open "verify fingerprint" windows */

static void show_step(AuthDialog *dialog, AuthStep step, const char *question);

static const char *
buddy(AuthDialog *dialog)
{
    return purple_conversation_get_name(dialog->conv);
}

/* Peer text made safe to show: valid UTF-8, no control characters (no
 * terminal escapes), at most MAX_QUESTION characters, wrapped at spaces
 * (or anywhere in a word too long for a line). */
static char *
clean_text(const char *text)
{
    char *valid = g_utf8_make_valid(text != NULL ? text : "", -1);
    GString *out = g_string_new(NULL);
    const char *p = valid;
    glong column = 0;

    for (glong count = 0; *p != '\0' && count < MAX_QUESTION; p = g_utf8_next_char(p), count++) {
        gunichar c = g_utf8_get_char(p);

        if (g_unichar_iscntrl(c) || g_unichar_type(c) == G_UNICODE_FORMAT)
            c = ' ';
        if ((c == ' ' && column >= WRAP_WIDTH) || column >= WRAP_WIDTH + 15) {
            g_string_append(out, "\n  ");
            column = 0;
            if (c == ' ')
                continue;
        }
        g_string_append_unichar(out, c);
        column++;
    }
    if (*p != '\0')
        g_string_append(out, "...");
    g_free(valid);
    return g_string_free(out, FALSE);
}

/* The text of ENTRY, stripped, newly allocated; the entry is emptied. */
static char *
take_entry(GntWidget *entry)
{
    char *text = NULL;

    if (entry == NULL)
        return g_strdup("");
    text = potr_secret_trimmed(gnt_entry_get_text(GNT_ENTRY(entry)));
    gnt_entry_set_text(GNT_ENTRY(entry), "");
    return text;
}

static void
set_progress(PurpleConversation *conv, int progress)
{
    if (progress < 0)
        g_hash_table_remove(running, conv);
    else
        g_hash_table_insert(running, conv, GINT_TO_POINTER(CLAMP(progress, 0, 100) + 1));
    potr_gnt_conv_refresh_all();
}

gboolean
potr_gnt_auth_pending(PurpleConversation *conv)
{
    AuthDialog *dialog = dialogs != NULL ? g_hash_table_lookup(dialogs, conv) : NULL;

    return dialog != NULL && dialog->window != NULL && dialog->step == STEP_RESPOND;
}

/* TEXT cut at its last whole character: a translation longer than the
 * buffer is cut by g_snprintf, perhaps inside a character. */
static const char *
whole_characters(char *text)
{
    const char *end = NULL;

    if (!g_utf8_validate(text, -1, &end))
        text[end - text] = '\0';
    return text;
}

const char *
potr_gnt_auth_activity(PurpleConversation *conv)
{
    /* room for the longest translation (some scripts take 3 bytes a
     * character) */
    static char text[512];
    int value = running != NULL ? GPOINTER_TO_INT(g_hash_table_lookup(running, conv)) : 0;

    if (potr_gnt_auth_pending(conv)) {
        /* TRANSLATORS: in the status line of a Finch conversation. %s is
         * the key that opens the OTR menu (alt+o); "a" is the key of its
         * item "Answer verification request...": keep the letter a. */
        g_snprintf(text, sizeof text, _("verification request: press %s, then a"),
                   POTR_GNT_MENU_KEY_NAME);
        return whole_characters(text);
    }
    if (value == 0)
        return NULL;
    g_snprintf(text, sizeof text, _("authenticating (%d%%)"), value - 1);
    return whole_characters(text);
}

/* ---- dialog windows ---- */

static void
dialog_free(AuthDialog *dialog)
{
    g_free(dialog->shown);
    g_free(dialog);
}

static void
on_window_destroy(GntWidget *window, AuthDialog *dialog)
{
    if (window != dialog->window)
        return;   /* not (or no longer) this dialog's window */
    dialog->window = NULL;
    if (!dialog->quiet && (dialog->step == STEP_PROGRESS || dialog->step == STEP_RESPOND)) {
        /* closing a running verification (or the peer's request) cancels it */
        potr_conv_smp_abort(dialog->conv);
        g_hash_table_remove(running, dialog->conv);
    }
    g_hash_table_remove(dialogs, dialog->conv);
    potr_gnt_conv_refresh_all();
}

static AuthDialog *
dialog_for(PurpleConversation *conv)
{
    AuthDialog *dialog = g_hash_table_lookup(dialogs, conv);

    if (dialog == NULL) {
        dialog = g_new0(AuthDialog, 1);
        dialog->conv = conv;
        g_hash_table_insert(dialogs, conv, dialog);
    }
    return dialog;
}

/* Close DIALOG's window without side effects (the dialog is freed). */
static void
dialog_close(AuthDialog *dialog)
{
    dialog->quiet = TRUE;
    if (dialog->window != NULL)
        gnt_widget_destroy(dialog->window);
    else
        g_hash_table_remove(dialogs, dialog->conv);
}

static gboolean on_window_key(GntWidget *window, const char *keys, AuthDialog *dialog);

/* DIALOG's window, emptied for the next step. One window serves every
 * step: gnt raises a new window only when the user's own key made it, so
 * a step that follows a network event (the outcome) would open behind the
 * conversation; the same window keeps its place and its focus. */
static GntWidget *
step_window(AuthDialog *dialog, const char *title)
{
    GntWidget *window = dialog->window;

    dialog->question = dialog->answer = dialog->bar = dialog->note = NULL;
    if (window != NULL) {
        gnt_box_remove_all(GNT_BOX(window));
        gnt_screen_rename_widget(window, title);
        return window;
    }
    window = dialog->window = gnt_vbox_new(FALSE);
    gnt_box_set_toplevel(GNT_BOX(window), TRUE);
    gnt_box_set_title(GNT_BOX(window), title);
    gnt_box_set_alignment(GNT_BOX(window), GNT_ALIGN_LEFT);
    gnt_box_set_pad(GNT_BOX(window), 0);
    gnt_widget_set_name(window, "potr-auth");
    g_signal_connect(G_OBJECT(window), "destroy", G_CALLBACK(on_window_destroy), dialog);
    g_signal_connect(G_OBJECT(window), "key_pressed", G_CALLBACK(on_window_key), dialog);
    return window;
}

/* Show the window of the step just built (or lay it out again). */
static void
show_window(AuthDialog *dialog)
{
    GntWidget *window = dialog->window;

    if (gnt_widget_get_mapped(window)) {
        gnt_box_readjust(GNT_BOX(window));
        gnt_widget_draw(window);
    } else {
        gnt_widget_show(window);
    }
    if (dialog->question != NULL)
        gnt_box_give_focus_to_child(GNT_BOX(window), dialog->question);
    else if (dialog->answer != NULL)
        gnt_box_give_focus_to_child(GNT_BOX(window), dialog->answer);
}

static GntWidget *
add_label(GntWidget *box, const char *text, GntTextFormatFlags flags)
{
    GntWidget *label = gnt_label_new_with_format(text, flags);

    gnt_box_add_widget(GNT_BOX(box), label);
    return label;
}

static GntWidget *
add_entry(GntWidget *box, const char *caption, gboolean masked)
{
    GntWidget *entry = gnt_entry_new(NULL);

    /* caption above the entry: in a row, gnt would widen the caption */
    gnt_box_add_widget(GNT_BOX(box), gnt_label_new(caption));
    gnt_widget_set_size(entry, ENTRY_WIDTH, 1);
    gnt_entry_set_masked(GNT_ENTRY(entry), masked);
    gnt_box_add_widget(GNT_BOX(box), entry);
    return entry;
}

static GntWidget *
add_button(GntWidget *row, const char *text, GCallback callback, AuthDialog *dialog)
{
    GntWidget *button = gnt_button_new(text);

    g_signal_connect_swapped(G_OBJECT(button), "activate", callback, dialog);
    gnt_box_add_widget(GNT_BOX(row), button);
    return button;
}

static GntWidget *
button_row(GntWidget *window)
{
    GntWidget *row = gnt_hbox_new(FALSE);

    gnt_box_add_widget(GNT_BOX(window), gnt_line_new(FALSE));
    gnt_box_add_widget(GNT_BOX(window), row);
    return row;
}

/* Show TEXT (an error, a hint) in the step's note line. A label keeps
 * the size it was made with: the window is laid out again, and the focus
 * goes back where it was. */
static void
note(AuthDialog *dialog, const char *text)
{
    GntWidget *focus = NULL;

    if (dialog->note == NULL || dialog->window == NULL)
        return;
    focus = GNT_BOX(dialog->window)->active;
    gnt_label_set_text(GNT_LABEL(dialog->note), text);
    if (!gnt_widget_get_mapped(dialog->window))
        return;
    gnt_box_readjust(GNT_BOX(dialog->window));
    gnt_widget_draw(dialog->window);
    if (focus != NULL)
        gnt_box_give_focus_to_child(GNT_BOX(dialog->window), focus);
}

/* ---- button actions ---- */

static void
do_cancel(AuthDialog *dialog)
{
    dialog_close(dialog);
}

static void
do_abort(AuthDialog *dialog)
{
    potr_conv_smp_abort(dialog->conv);
    set_progress(dialog->conv, -1);
    dialog_close(dialog);
}

static void
do_back(AuthDialog *dialog)
{
    show_step(dialog, STEP_CHOOSE, NULL);
}

static void
do_choose_question(AuthDialog *dialog)
{
    show_step(dialog, STEP_QUESTION, NULL);
}

static void
do_choose_secret(AuthDialog *dialog)
{
    show_step(dialog, STEP_SECRET, NULL);
}

static void
do_choose_manual(AuthDialog *dialog)
{
    show_step(dialog, STEP_MANUAL, NULL);
}

static void
do_ask(AuthDialog *dialog)
{
    char *question = dialog->question != NULL ? g_strstrip(g_strdup(gnt_entry_get_text(GNT_ENTRY(dialog->question))))
                                              : NULL;
    char *secret = NULL;
    GError *error = NULL;

    if (question != NULL && *question == '\0') {
        note(dialog, _("Type a question first."));
        goto cleanup;
    }
    if (*gnt_entry_get_text(GNT_ENTRY(dialog->answer)) == '\0') {
        note(dialog, dialog->question != NULL ? _("Type the answer first.") : _("Type the secret first."));
        goto cleanup;
    }
    secret = take_entry(dialog->answer);
    if (!potr_conv_smp_ask(dialog->conv, question, secret, &error)) {
        note(dialog, error->message);
        g_error_free(error);
        goto cleanup;
    }
    dialog->responder = FALSE;
    set_progress(dialog->conv, 20);
    show_step(dialog, STEP_PROGRESS, NULL);

cleanup:
    potr_secret_free(secret);
    g_free(question);
}

static void
do_respond(AuthDialog *dialog)
{
    char *secret = NULL;
    GError *error = NULL;

    if (*gnt_entry_get_text(GNT_ENTRY(dialog->answer)) == '\0') {
        note(dialog, _("Type the answer first."));
        return;
    }
    secret = take_entry(dialog->answer);
    if (!potr_conv_smp_respond(dialog->conv, secret, &error)) {
        note(dialog, error->message);
        g_error_free(error);
    } else {
        dialog->responder = TRUE;
        set_progress(dialog->conv, 50);
        show_step(dialog, STEP_PROGRESS, NULL);
    }
    potr_secret_free(secret);
}

static void
set_manual_trust(AuthDialog *dialog, gboolean trusted)
{
    GError *error = NULL;

    /* trust goes to the fingerprint this window shows; if the key in use
     * changed meanwhile, the step is shown again with the new one */
    if (!potr_conv_set_trusted(dialog->conv, dialog->shown, trusted, &error)) {
        char *why = g_strdup(error->message);

        if (g_error_matches(error, POTR_ERROR, POTR_ERROR_CHANGED))
            show_step(dialog, STEP_MANUAL, NULL);
        note(dialog, why);
        g_free(why);
        g_error_free(error);
        return;
    }
    dialog_close(dialog);
}

static void
do_verified(AuthDialog *dialog)
{
    set_manual_trust(dialog, TRUE);
}

static void
do_not_verified(AuthDialog *dialog)
{
    set_manual_trust(dialog, FALSE);
}

/* Enter in the question entry moves on to the answer. */
static void
on_question_activate(GntWidget *entry, AuthDialog *dialog)
{
    if (dialog->window != NULL && dialog->answer != NULL)
        gnt_box_give_focus_to_child(GNT_BOX(dialog->window), dialog->answer);
}

/* ---- the steps ---- */

static void
build_choose(AuthDialog *dialog, GntWidget *window)
{
    char *text = g_strdup_printf(_("How do you want to verify %s?"), buddy(dialog));

    add_label(window, text, GNT_TEXT_FLAG_BOLD);
    add_label(window, _("Verifying makes sure that nobody, not even the server,\n"
                        "sits between you and your buddy."), GNT_TEXT_FLAG_NORMAL);
    add_button(window, _("(q) Question and answer"), G_CALLBACK(do_choose_question), dialog);
    add_button(window, _("(s) Shared secret"), G_CALLBACK(do_choose_secret), dialog);
    add_button(window, _("(f) Compare fingerprints by hand"), G_CALLBACK(do_choose_manual), dialog);
    add_button(button_row(window), _("Cancel"), G_CALLBACK(do_cancel), dialog);
    g_free(text);
}

static void
build_ask(AuthDialog *dialog, GntWidget *window, gboolean with_question)
{
    char *text = with_question ? g_strdup_printf(_("Ask %s a question only they can answer."), buddy(dialog))
                               : g_strdup_printf(_("Enter a secret only you and %s know."), buddy(dialog));
    GntWidget *row = NULL;

    add_label(window, text, GNT_TEXT_FLAG_BOLD);
    add_label(window, _("Agree on it beforehand (in person, by phone), never in this chat.\n"
                        "Your buddy must type exactly the same answer."), GNT_TEXT_FLAG_NORMAL);
    if (with_question) {
        dialog->question = add_entry(window, _("Question:"), FALSE);
        g_signal_connect(G_OBJECT(dialog->question), "activate", G_CALLBACK(on_question_activate), dialog);
    }
    dialog->answer = add_entry(window, with_question ? _("Answer:") : _("Secret:"), !with_question);
    g_signal_connect_swapped(G_OBJECT(dialog->answer), "activate", G_CALLBACK(do_ask), dialog);
    dialog->note = add_label(window, " ", GNT_TEXT_FLAG_BOLD);
    row = button_row(window);
    add_button(row, _("Verify"), G_CALLBACK(do_ask), dialog);
    add_button(row, _("Back"), G_CALLBACK(do_back), dialog);
    add_button(row, _("Cancel"), G_CALLBACK(do_cancel), dialog);
    g_free(text);
}

static void
build_manual(AuthDialog *dialog, GntWidget *window)
{
    PurpleAccount *account = purple_conversation_get_account(dialog->conv);
    char *mine = potr_key_fingerprint(account);
    char *theirs = potr_conv_peer_fingerprint(dialog->conv);
    char *text = g_strdup_printf(_("Your fingerprint (%s):\n  %s\n\nFingerprint of %s:\n  %s"),
                                 purple_account_get_username(account), mine != NULL ? mine : _("(no key)"),
                                 buddy(dialog), theirs != NULL ? theirs : _("(not private)"));
    GntWidget *row = NULL;

    g_free(dialog->shown);
    dialog->shown = g_strdup(theirs);
    add_label(window, _("Compare the fingerprints by hand"), GNT_TEXT_FLAG_BOLD);
    add_label(window, text, GNT_TEXT_FLAG_NORMAL);
    add_label(window, _("Check it with what your buddy reads to you over another channel\n"
                        "(in person, by phone)."), GNT_TEXT_FLAG_NORMAL);
    add_label(window, potr_conv_level(dialog->conv) == POTR_LEVEL_PRIVATE
                          ? _("It is verified now.") : _("It is not verified now."), GNT_TEXT_FLAG_BOLD);
    dialog->note = add_label(window, " ", GNT_TEXT_FLAG_BOLD);
    row = button_row(window);
    add_button(row, _("I have verified it"), G_CALLBACK(do_verified), dialog);
    add_button(row, _("It is not verified"), G_CALLBACK(do_not_verified), dialog);
    add_button(row, _("Back"), G_CALLBACK(do_back), dialog);
    add_button(row, _("Cancel"), G_CALLBACK(do_cancel), dialog);
    g_free(text);
    g_free(mine);
    g_free(theirs);
}

static void
build_respond(AuthDialog *dialog, GntWidget *window, const char *question)
{
    char *text = g_strdup_printf(_("%s wants to verify you"), buddy(dialog));
    GntWidget *row = NULL;

    add_label(window, text, GNT_TEXT_FLAG_BOLD);
    if (question != NULL) {
        char *clean = clean_text(question);
        char *line = g_strdup_printf(_("Their question:\n  %s"), clean);

        add_label(window, line, GNT_TEXT_FLAG_NORMAL);
        g_free(line);
        g_free(clean);
    } else {
        add_label(window, _("Enter the secret you share with your buddy."), GNT_TEXT_FLAG_NORMAL);
    }
    dialog->answer = add_entry(window, question != NULL ? _("Answer:") : _("Secret:"), question == NULL);
    g_signal_connect_swapped(G_OBJECT(dialog->answer), "activate", G_CALLBACK(do_respond), dialog);
    dialog->note = add_label(window, " ", GNT_TEXT_FLAG_BOLD);
    row = button_row(window);
    add_button(row, _("Answer"), G_CALLBACK(do_respond), dialog);
    add_button(row, _("Abort"), G_CALLBACK(do_abort), dialog);
    g_free(text);
}

static void
build_progress(AuthDialog *dialog, GntWidget *window)
{
    char *text = g_strdup_printf(dialog->responder ? _("Answering %s...") : _("Authenticating %s..."),
                                 buddy(dialog));
    int value = GPOINTER_TO_INT(g_hash_table_lookup(running, dialog->conv));

    add_label(window, text, GNT_TEXT_FLAG_BOLD);
    dialog->bar = gnt_progress_bar_new();
    gnt_widget_set_size(dialog->bar, ENTRY_WIDTH + 10, 1);
    gnt_progress_bar_set_fraction(GNT_PROGRESS_BAR(dialog->bar), value > 0 ? (value - 1) / 100.0 : 0.0);
    gnt_box_add_widget(GNT_BOX(window), dialog->bar);
    dialog->note = add_label(window, dialog->responder ? _("Checking the answers.")
                                                       : _("Waiting for your buddy to answer."),
                             GNT_TEXT_FLAG_NORMAL);
    add_button(button_row(window), _("Abort"), G_CALLBACK(do_abort), dialog);
    g_free(text);
}

static void
do_again(AuthDialog *dialog)
{
    show_step(dialog, STEP_CHOOSE, NULL);
}

/* The outcome of a verification that ended with EVENT. */
static void
build_done(AuthDialog *dialog, GntWidget *window, PotrSmpEvent event)
{
    gboolean verified = potr_conv_level(dialog->conv) == POTR_LEVEL_PRIVATE;
    const char *title = NULL;
    char *detail = NULL;
    GntWidget *row = NULL;

    if (event == POTR_SMP_SUCCESS && verified && !dialog->responder) {
        title = _("Authentication succeeded.");
        detail = g_strdup_printf(_("%s is verified: the conversation is private."), buddy(dialog));
    } else if (event == POTR_SMP_SUCCESS && verified) {
        title = _("Authentication succeeded.");
        detail = g_strdup_printf(_("%s has verified you, and %s is verified:\n"
                                   "the conversation is private."), buddy(dialog), buddy(dialog));
    } else if (event == POTR_SMP_SUCCESS) {
        title = _("You have been authenticated.");
        detail = g_strdup_printf(_("%s has verified you. Verify %s in turn\n"
                                   "with a question of your own."), buddy(dialog), buddy(dialog));
    } else if (event == POTR_SMP_FAILURE) {
        title = _("Authentication FAILED.");
        detail = g_strdup_printf(_("The answers did not match. You may be talking to an impostor,\n"
                                   "or the answer was mistyped. %s is not verified."), buddy(dialog));
    } else if (event == POTR_SMP_ABORT) {
        title = _("Authentication aborted.");
        detail = g_strdup_printf(_("%s is not verified."), buddy(dialog));
    } else {
        title = _("Authentication failed.");
        detail = g_strdup_printf(_("A protocol error stopped it. %s is not verified."), buddy(dialog));
    }
    add_label(window, title, GNT_TEXT_FLAG_BOLD);
    add_label(window, detail, GNT_TEXT_FLAG_NORMAL);
    row = button_row(window);
    add_button(row, _("Close"), G_CALLBACK(do_cancel), dialog);
    if (!verified && potr_conv_level(dialog->conv) == POTR_LEVEL_UNVERIFIED)
        add_button(row, _("Verify again"), G_CALLBACK(do_again), dialog);
    g_free(detail);
}

static const char *
step_title(AuthDialog *dialog, AuthStep step)
{
    switch (step) {
    case STEP_RESPOND:
        return _("OTR: verification request");
    case STEP_PROGRESS:
    case STEP_DONE:
        return _("OTR: authentication");
    default:
        return _("OTR: verify buddy");
    }
}

/* Show STEP; QUESTION is the peer's question for STEP_RESPOND. */
static void
show_step(AuthDialog *dialog, AuthStep step, const char *question)
{
    GntWidget *window = step_window(dialog, step_title(dialog, step));

    dialog->step = step;
    switch (step) {
    case STEP_CHOOSE:
        build_choose(dialog, window);
        break;
    case STEP_QUESTION:
    case STEP_SECRET:
        build_ask(dialog, window, step == STEP_QUESTION);
        break;
    case STEP_MANUAL:
        build_manual(dialog, window);
        break;
    case STEP_RESPOND:
        build_respond(dialog, window, question);
        break;
    case STEP_PROGRESS:
        build_progress(dialog, window);
        break;
    case STEP_DONE:
        break;
    }
    show_window(dialog);
}

static void
show_outcome(AuthDialog *dialog, PotrSmpEvent event)
{
    GntWidget *window = step_window(dialog, step_title(dialog, STEP_DONE));

    dialog->step = STEP_DONE;
    build_done(dialog, window, event);
    show_window(dialog);
}

/* The chooser's keys: q, s, f (it has no entry that needs them). */
static gboolean
on_window_key(GntWidget *window, const char *keys, AuthDialog *dialog)
{
    if (dialog->step != STEP_CHOOSE || keys == NULL || keys[0] == '\0' || keys[1] != '\0')
        return FALSE;
    switch (keys[0]) {
    case 'q':
        do_choose_question(dialog);
        return TRUE;
    case 's':
        do_choose_secret(dialog);
        return TRUE;
    case 'f':
        do_choose_manual(dialog);
        return TRUE;
    default:
        return FALSE;
    }
}

void
potr_gnt_auth_choose(PurpleConversation *conv)
{
    AuthDialog *dialog = NULL;

    g_return_if_fail(conv != NULL && dialogs != NULL);
    dialog = dialog_for(conv);
    if (dialog->window == NULL || dialog->step == STEP_DONE)
        show_step(dialog, STEP_CHOOSE, NULL);
    /* called from a key of the user: gnt raises the window and focuses it */
    gnt_window_present(dialog->window);
}

/* ---- the fingerprint list's "verify" ---- */

static void
fp_answer(GntWidget *button, gpointer trusted)
{
    GntWidget *window = g_object_get_data(G_OBJECT(button), "potr-window");
    PotrFingerprint *fp = g_object_get_data(G_OBJECT(window), "potr-fp");
    GError *error = NULL;

    if (!potr_fingerprint_set_trusted(fp, GPOINTER_TO_INT(trusted), &error)) {
        purple_notify_error(NULL, _("OTR"), _("The fingerprint could not be changed."), error->message);
        g_error_free(error);
    }
    gnt_widget_destroy(window);
}

static void
fp_button(GntWidget *row, GntWidget *window, const char *text, int trusted)
{
    GntWidget *button = gnt_button_new(text);

    g_object_set_data(G_OBJECT(button), "potr-window", window);
    if (trusted >= 0)
        g_signal_connect(G_OBJECT(button), "activate", G_CALLBACK(fp_answer), GINT_TO_POINTER(trusted));
    else
        g_signal_connect_swapped(G_OBJECT(button), "activate", G_CALLBACK(gnt_widget_destroy), window);
    gnt_box_add_widget(GNT_BOX(row), button);
}

static void
on_fp_window_destroy(GntWidget *window, gpointer data)
{
    fp_windows = g_list_remove(fp_windows, window);
}

void
potr_gnt_auth_fingerprint(const PotrFingerprint *fp)
{
    GntWidget *window = gnt_vbox_new(FALSE);
    GntWidget *row = gnt_hbox_new(FALSE);
    PotrFingerprint *copy = g_new0(PotrFingerprint, 1);
    char *text = NULL;

    g_return_if_fail(fp != NULL);
    copy->buddy = g_strdup(fp->buddy);
    copy->account = g_strdup(fp->account);
    copy->protocol = g_strdup(fp->protocol);
    copy->fingerprint = g_strdup(fp->fingerprint);
    copy->trust = g_strdup(fp->trust);
    g_object_set_data_full(G_OBJECT(window), "potr-fp", copy, (GDestroyNotify)potr_fingerprint_free);
    gnt_box_set_toplevel(GNT_BOX(window), TRUE);
    gnt_box_set_title(GNT_BOX(window), _("OTR: verify fingerprint"));
    gnt_box_set_alignment(GNT_BOX(window), GNT_ALIGN_LEFT);
    text = g_strdup_printf(_("Fingerprint of %s (seen by your account %s):\n  %s\n\n"
                             "Have you checked it with your buddy over another channel\n"
                             "(in person, by phone)?"),
                           fp->buddy, fp->account, fp->fingerprint);
    gnt_box_add_widget(GNT_BOX(window), gnt_label_new(text));
    fp_button(row, window, _("I have verified it"), 1);
    fp_button(row, window, _("It is not verified"), 0);
    fp_button(row, window, _("Cancel"), -1);
    gnt_box_add_widget(GNT_BOX(window), row);
    g_signal_connect(G_OBJECT(window), "destroy", G_CALLBACK(on_fp_window_destroy), NULL);
    fp_windows = g_list_prepend(fp_windows, window);
    gnt_widget_show(window);
    g_free(text);
}

/* ---- core signals ---- */

static gboolean
on_smp_request(PurpleConversation *conv, const char *question, gpointer data)
{
    AuthDialog *dialog = dialog_for(conv);

    /* gnt keeps the focus where the user types: the window opens behind,
     * marked urgent (alt+tab), and the status line and OTR menu lead to it */
    g_hash_table_remove(running, conv);
    dialog->responder = TRUE;
    show_step(dialog, STEP_RESPOND, question);
    gnt_widget_set_urgent(dialog->window);
    potr_gnt_conv_refresh_all();
    return TRUE;
}

static void
on_smp_event(PurpleConversation *conv, int event, int progress, gpointer data)
{
    AuthDialog *dialog = g_hash_table_lookup(dialogs, conv);
    gboolean shown = dialog != NULL && (dialog->step == STEP_PROGRESS || dialog->step == STEP_RESPOND);

    switch (event) {
    case POTR_SMP_ASK_FOR_ANSWER:
    case POTR_SMP_ASK_FOR_SECRET:
    case POTR_SMP_NONE:
        return;   /* "smp-request" brings the responder's dialog */
    case POTR_SMP_IN_PROGRESS:
        set_progress(conv, progress);
        if (shown && dialog->step == STEP_RESPOND)
            show_step(dialog, STEP_PROGRESS, NULL);   /* answered with /otr smp respond */
        if (shown && dialog->bar != NULL)
            gnt_progress_bar_set_fraction(GNT_PROGRESS_BAR(dialog->bar), progress / 100.0);
        return;
    default:
        set_progress(conv, -1);
        if (shown)
            show_outcome(dialog, (PotrSmpEvent)event);
        return;
    }
}

static void
on_deleting_conversation(PurpleConversation *conv, gpointer data)
{
    AuthDialog *dialog = g_hash_table_lookup(dialogs, conv);

    g_hash_table_remove(running, conv);
    if (dialog != NULL)
        dialog_close(dialog);
}

/* "/otr smp" and the buddy menu: our windows, not the generic dialog. */
static gboolean
on_verify_request(PurpleConversation *conv, gpointer data)
{
    potr_gnt_auth_choose(conv);
    return TRUE;
}

void
potr_gnt_auth_init(void)
{
    void *core = potr_core_handle();

    dialogs = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, (GDestroyNotify)dialog_free);
    running = g_hash_table_new(g_direct_hash, g_direct_equal);
    purple_signal_connect(core, "smp-request", &auth_handle, PURPLE_CALLBACK(on_smp_request), NULL);
    purple_signal_connect(core, "smp-event", &auth_handle, PURPLE_CALLBACK(on_smp_event), NULL);
    purple_signal_connect(core, "verify-request", &auth_handle, PURPLE_CALLBACK(on_verify_request), NULL);
    purple_signal_connect(purple_conversations_get_handle(), "deleting-conversation", &auth_handle,
                          PURPLE_CALLBACK(on_deleting_conversation), NULL);
}

void
potr_gnt_auth_uninit(void)
{
    GList *open = NULL;

    if (dialogs == NULL)
        return;
    purple_signals_disconnect_by_handle(&auth_handle);
    open = g_hash_table_get_values(dialogs);
    for (GList *l = open; l != NULL; l = l->next)
        dialog_close(l->data);
    g_list_free(open);
    g_clear_pointer(&dialogs, g_hash_table_destroy);
    g_clear_pointer(&running, g_hash_table_destroy);
    while (fp_windows != NULL)
        gnt_widget_destroy(fp_windows->data);   /* removes itself */
}
