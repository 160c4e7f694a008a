/* purple-otr - GPL-2.0-or-later
 * Dialogs: verification through purple_request_*, and the buddy menu. */
#include "i18n.h"
#include "dialogs.h"

#include <string.h>

#include "core.h"
#include "events.h"
#include "secret.h"
#include "notice.h"

/* Every dialog is opened with its conversation as the request handle, so
 * closing the conversation closes its dialogs (and no callback ever sees
 * a freed conversation). */

/* conversation -> its open responder dialog (the request handle) */
static GHashTable *smp_dialogs = NULL;
/* conversation -> the peer's fingerprint its manual check shows */
static GHashTable *manual_shown = NULL;

static void
report(PurpleConversation *conv, GError *error)
{
    char *html = NULL;

    if (error == NULL)
        return;
    html = potr_event_expand("{detail}", NULL, error->message);
    potr_notice_write(conv, html, PURPLE_MESSAGE_ERROR, FALSE);
    g_free(html);
    g_error_free(error);
}

static void
respond_ok(PurpleConversation *conv, const char *answer)
{
    GError *error = NULL;

    char *secret = potr_secret_trimmed(answer);

    g_hash_table_remove(smp_dialogs, conv);   /* it closes itself */
    if (!potr_conv_smp_respond(conv, secret, &error))
        report(conv, error);
    potr_secret_free(secret);
}

static void
respond_cancel(PurpleConversation *conv, const char *answer)
{
    g_hash_table_remove(smp_dialogs, conv);
    potr_conv_smp_abort(conv);
}

void
potr_dialogs_smp_request(PurpleConversation *conv, const char *question)
{
    gboolean handled = FALSE;
    char *primary = NULL;
    void *handle = NULL;

    g_return_if_fail(conv != NULL);
    handled = GPOINTER_TO_INT(purple_signal_emit_return_1(potr_core_handle(), "smp-request",
                                                          conv, question));
    if (handled)
        return;
    potr_dialogs_smp_close(conv);
    primary = g_strdup_printf(_("%s wants to verify you"), purple_conversation_get_name(conv));
    handle = purple_request_input(conv, _("OTR verification"), primary,
                         question != NULL ? question
                                          : _("Enter the secret you share with your buddy."),
                         "", FALSE, TRUE, NULL,
                         _("_Answer"), G_CALLBACK(respond_ok),
                         _("A_bort"), G_CALLBACK(respond_cancel),
                         purple_conversation_get_account(conv), purple_conversation_get_name(conv),
                         conv, conv);
    if (handle != NULL)
        g_hash_table_insert(smp_dialogs, conv, handle);
    g_free(primary);
}

void
potr_dialogs_conv_gone(PurpleConversation *conv)
{
    potr_dialogs_smp_close(conv);
    if (manual_shown != NULL)
        g_hash_table_remove(manual_shown, conv);
}

void
potr_dialogs_smp_close(PurpleConversation *conv)
{
    void *handle = smp_dialogs != NULL ? g_hash_table_lookup(smp_dialogs, conv) : NULL;

    if (handle == NULL)
        return;
    g_hash_table_remove(smp_dialogs, conv);
    purple_request_close(PURPLE_REQUEST_INPUT, handle);
}

static void
ask_fields_ok(PurpleConversation *conv, PurpleRequestFields *fields)
{
    const char *question = purple_request_fields_get_string(fields, "question");
    const char *answer = purple_request_fields_get_string(fields, "secret");
    char *secret = potr_secret_trimmed(answer);
    GError *error = NULL;

    if (!potr_conv_smp_ask(conv, question, secret, &error))
        report(conv, error);
    potr_secret_free(secret);
}

static void
ask(PurpleConversation *conv, gboolean with_question)
{
    PurpleRequestFields *fields = purple_request_fields_new();
    PurpleRequestFieldGroup *group = purple_request_field_group_new(NULL);
    PurpleRequestField *field = NULL;

    if (with_question) {
        field = purple_request_field_string_new("question", _("Question"), "", FALSE);
        purple_request_field_set_required(field, TRUE);
        purple_request_field_group_add_field(group, field);
    }
    field = purple_request_field_string_new("secret", with_question ? _("Answer") : _("Shared secret"),
                                            "", FALSE);
    purple_request_field_string_set_masked(field, TRUE);
    purple_request_field_set_required(field, TRUE);
    purple_request_field_group_add_field(group, field);
    purple_request_fields_add_group(fields, group);
    purple_request_fields(conv, _("OTR verification"),
                          with_question ? _("Ask a question only your buddy can answer")
                                        : _("Enter a secret only you and your buddy know"),
                          _("Agree on it beforehand (in person, by phone), never in this chat."),
                          fields, _("_Verify"), G_CALLBACK(ask_fields_ok), _("_Cancel"), NULL,
                          purple_conversation_get_account(conv), purple_conversation_get_name(conv),
                          conv, conv);
}

static void manual(PurpleConversation *conv);

/* The answer binds to the fingerprint the dialog showed (manual_shown);
 * if another key is in use by now, nothing is trusted and the check is
 * shown again with the key in use. */
static void
manual_answer(PurpleConversation *conv, int action)
{
    char *shown = NULL;
    GError *error = NULL;

    if (!g_hash_table_steal_extended(manual_shown, conv, NULL, (gpointer *)&shown))
        shown = NULL;
    if (action == 0 || action == 1) {
        if (!potr_conv_set_trusted(conv, shown, action == 0, &error)) {
            gboolean changed = g_error_matches(error, POTR_ERROR, POTR_ERROR_CHANGED);

            report(conv, error);
            if (changed)
                manual(conv);
        }
    }
    g_free(shown);
}

static void
manual(PurpleConversation *conv)
{
    PurpleAccount *account = purple_conversation_get_account(conv);
    char *mine = potr_key_fingerprint(account);
    char *theirs = potr_conv_peer_fingerprint(conv);
    char *secondary = NULL;

    if (theirs == NULL) {
        report(conv, g_error_new_literal(POTR_ERROR, POTR_ERROR_FAILED,
                                         _("Start a private conversation first (/otr start).")));
        g_free(mine);
        return;
    }
    secondary = g_strdup_printf(_("Your fingerprint (%s):\n%s\n\nFingerprint of %s:\n%s\n\n"
                                  "Compare it with the one your buddy reads to you over another "
                                  "channel (in person, by phone)."),
                                purple_account_get_username(account), mine != NULL ? mine : "-",
                                purple_conversation_get_name(conv), theirs);
    g_hash_table_insert(manual_shown, conv, theirs);
    purple_request_action(conv, _("OTR verification"), _("Check the fingerprints by hand"),
                          secondary, 2, account, purple_conversation_get_name(conv), conv, conv, 3,
                          _("I have _verified it"), G_CALLBACK(manual_answer),
                          _("It is _not verified"), G_CALLBACK(manual_answer),
                          _("_Cancel"), G_CALLBACK(manual_answer));
    g_free(secondary);
    g_free(mine);
}

static void
method_chosen(PurpleConversation *conv, int method)
{
    if (method == 0)
        ask(conv, TRUE);
    else if (method == 1)
        ask(conv, FALSE);
    else if (method == 2)
        manual(conv);
}

void
potr_dialogs_verify(PurpleConversation *conv)
{
    g_return_if_fail(conv != NULL);
    if (GPOINTER_TO_INT(purple_signal_emit_return_1(potr_core_handle(), "verify-request", conv)))
        return;
    purple_request_choice(conv, _("OTR verification"), _("How do you want to verify your buddy?"),
                          _("Verifying makes sure that nobody, not even the server, sits between "
                            "you and your buddy."), 0,
                          _("_Next"), G_CALLBACK(method_chosen), _("_Cancel"), NULL,
                          purple_conversation_get_account(conv), purple_conversation_get_name(conv),
                          conv, conv,
                          _("Question and answer"), 0, _("Shared secret"), 1,
                          _("Compare fingerprints by hand"), 2, NULL);
}

/* The buddy a menu is for: the buddy itself, or a contact's best buddy
 * (Finch's list shows contacts). */
static PurpleBuddy *
node_buddy(PurpleBlistNode *node)
{
    if (PURPLE_BLIST_NODE_IS_CONTACT(node))
        return purple_contact_get_priority_buddy((PurpleContact *)node);
    return PURPLE_BLIST_NODE_IS_BUDDY(node) ? (PurpleBuddy *)node : NULL;
}

static void
menu_start(PurpleBlistNode *node, gpointer data)
{
    PurpleBuddy *buddy = node_buddy(node);

    if (buddy != NULL)
        potr_conv_start(potr_conv_for_buddy(buddy));
}

static void
menu_end(PurpleBlistNode *node, gpointer data)
{
    PurpleBuddy *buddy = node_buddy(node);

    if (buddy != NULL)
        potr_conv_end(potr_conv_for_buddy(buddy));
}

static void
menu_verify(PurpleBlistNode *node, gpointer data)
{
    PurpleBuddy *buddy = node_buddy(node);

    if (buddy != NULL)
        potr_dialogs_verify(potr_conv_for_buddy(buddy));
}

/* One OTR submenu for every UI; a UI adds its own entries (per-buddy
 * settings) through "buddy-menu", and "Verify buddy" opens its dialog
 * through "verify-request". */
static void
on_extended_menu(PurpleBlistNode *node, GList **menu, gpointer data)
{
    PurpleBuddy *buddy = node_buddy(node);
    GList *items = NULL;

    if (buddy == NULL)
        return;
    items = g_list_append(items, purple_menu_action_new(_("Start or refresh private conversation"),
                                                        PURPLE_CALLBACK(menu_start), NULL, NULL));
    items = g_list_append(items, purple_menu_action_new(_("End private conversation"),
                                                        PURPLE_CALLBACK(menu_end), NULL, NULL));
    items = g_list_append(items, purple_menu_action_new(_("Verify buddy\xe2\x80\xa6"),
                                                        PURPLE_CALLBACK(menu_verify), NULL, NULL));
    purple_signal_emit(potr_core_handle(), "buddy-menu", buddy, &items);
    *menu = g_list_append(*menu, purple_menu_action_new(_("OTR"), NULL, NULL, items));
}

void
potr_dialogs_init(void *handle)
{
    smp_dialogs = g_hash_table_new(g_direct_hash, g_direct_equal);
    manual_shown = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
    purple_signal_connect(purple_blist_get_handle(), "blist-node-extended-menu", handle,
                          PURPLE_CALLBACK(on_extended_menu), NULL);
}

void
potr_dialogs_uninit(void)
{
    for (GList *l = purple_get_conversations(); l != NULL; l = l->next)
        purple_request_close_with_handle(l->data);
    g_clear_pointer(&smp_dialogs, g_hash_table_destroy);
    g_clear_pointer(&manual_shown, g_hash_table_destroy);
}
