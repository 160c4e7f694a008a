/* purple-otr - GPL-2.0-or-later
 * SMP: verifying the peer with a question or a shared secret (the
 * Socialist Millionaires' Protocol), both ways, and what its outcome means
 * for trust. */
#include "i18n.h"
#include "smp.h"

#include <string.h>
#include <libotr/proto.h>
#include <libotr/message.h>

#include "dialogs.h"
#include "core.h"
#include "ops.h"
#include "events.h"
#include "context.h"
#include "peer.h"
#include "notice.h"

/* The instance of CONV's peer whose verification request is pending, or
 * NULL. Why not the conversation's current instance: another login of the
 * peer may have written since (and become "current"), or the session may
 * have been restarted; libotr answers on whatever context it is given,
 * and one without the request's state crashes it (otrl_sm_step2b). */
static ConnContext *
pending_request(PurpleConversation *conv)
{
    ConnContext *master = potr_core_find_context(purple_conversation_get_account(conv),
                                            purple_conversation_get_name(conv),
                                            OTRL_INSTAG_MASTER, FALSE);

    for (ConnContext *c = master; c != NULL && c->m_context == master; c = c->next) {
        PotrContextData *cd = c->app_data;

        /* (and libotr holds the asker's values: without them it crashes) */
        if (cd != NULL && cd->smp_pending && c->msgstate == OTRL_MSGSTATE_ENCRYPTED
            && c->smstate != NULL && c->smstate->g3o != NULL
            && c->smstate->nextExpected == OTRL_SMP_EXPECT1)
            return c;
    }
    return NULL;
}

const char *
potr_smp_asked(PurpleConversation *conv)
{
    ConnContext *context = conv != NULL ? pending_request(conv) : NULL;

    return context != NULL ? ((PotrContextData *)context->app_data)->asked : NULL;
}

/* Remember that CONTEXT (this instance) asks us to verify; a request of
 * another instance is superseded (one answer box per conversation). */
static void
note_request(ConnContext *context, const char *question)
{
    ConnContext *master = context->m_context;
    PotrContextData *cd = potr_context_data(context);

    for (ConnContext *c = master; c != NULL && c->m_context == master; c = c->next) {
        PotrContextData *other = c->app_data;

        if (c != context && other != NULL && other->smp_pending) {
            other->smp_pending = FALSE;
            g_clear_pointer(&other->asked, g_free);
        }
    }
    cd->smp_ours = FALSE;
    cd->smp_question = question != NULL;
    cd->smp_pending = TRUE;
    g_free(cd->asked);
    cd->asked = g_strdup(question);
}

void
potr_smp_forget_request(ConnContext *context)
{
    PotrContextData *cd = context != NULL ? context->app_data : NULL;
    PurpleConversation *conv = NULL;

    if (cd == NULL || !cd->smp_pending)
        return;
    cd->smp_pending = FALSE;
    g_clear_pointer(&cd->asked, g_free);
    conv = potr_context_conv(context, FALSE);
    if (conv == NULL)
        return;
    /* its dialogs go: the core's, and the UIs' through an abort event */
    potr_dialogs_smp_close(conv);
    purple_signal_emit(potr_core_handle(), "smp-event", conv, POTR_SMP_ABORT, 0);
    potr_notice_say(conv, _("The verification request from {buddy} is gone: the private "
                             "conversation it belonged to has ended."),
                     context->username, NULL, PURPLE_MESSAGE_SYSTEM);
}

G_STATIC_ASSERT((int)POTR_SMP_FAILURE == (int)OTRL_SMPEVENT_FAILURE);
G_STATIC_ASSERT((int)POTR_SMP_ASK_FOR_ANSWER == (int)OTRL_SMPEVENT_ASK_FOR_ANSWER);

static gboolean
not_private(GError **error)
{
    g_set_error_literal(error, POTR_ERROR, POTR_ERROR_FAILED,
                        _("Start a private conversation first (/otr start)."));
    return FALSE;
}

/* Secrets: copied nowhere, never logged, and wiped by the caller. */
gboolean
potr_smp_start(PurpleConversation *conv, const char *question, const char *secret,
               gboolean respond, GError **error)
{
    OtrlUserState us = potr_core_userstate();
    PurpleAccount *account = purple_conversation_get_account(conv);
    PotrOpData opdata = { .account = account, .peer = NULL };
    ConnContext *context = NULL;
    PotrContextData *cd = NULL;
    size_t len = secret != NULL ? strlen(secret) : 0;

    if (len == 0) {
        g_set_error_literal(error, POTR_ERROR, POTR_ERROR_FAILED, _("The secret is empty."));
        return FALSE;
    }
    if (respond) {
        context = pending_request(conv);
        if (context == NULL) {
            char *text = potr_event_expand(_("{buddy} has not asked to verify you: there is nothing "
                                             "to answer. To verify {buddy}, use /otr smp ask."),
                                           purple_conversation_get_name(conv), NULL);
            char *plain = purple_markup_strip_html(text);

            g_set_error_literal(error, POTR_ERROR, POTR_ERROR_FAILED, plain);
            g_free(plain);
            g_free(text);
            return FALSE;
        }
        cd = potr_context_data(context);
        cd->smp_pending = FALSE;
        potr_dialogs_smp_close(conv);
        opdata.peer = potr_context_address(context);
        otrl_message_respond_smp(us, &potr_ops, &opdata, context, (const unsigned char *)secret, len);
        return TRUE;
    }
    context = potr_context_of_conv(conv);
    if (context == NULL || context->msgstate != OTRL_MSGSTATE_ENCRYPTED)
        return not_private(error);
    cd = potr_context_data(context);
    opdata.peer = potr_context_address(context);
    cd->smp_ours = TRUE;
    cd->smp_question = question != NULL && *question != '\0';
    if (cd->smp_question)
        otrl_message_initiate_smp_q(us, &potr_ops, &opdata, context, question,
                                    (const unsigned char *)secret, len);
    else
        otrl_message_initiate_smp(us, &potr_ops, &opdata, context,
                                  (const unsigned char *)secret, len);
    return TRUE;
}

void
potr_smp_abort(PurpleConversation *conv)
{
    PotrOpData opdata = { .account = purple_conversation_get_account(conv), .peer = NULL };
    ConnContext *context = pending_request(conv);

    if (context == NULL)
        context = potr_context_of_conv(conv);
    opdata.peer = potr_context_address(context);
    potr_dialogs_smp_close(conv);
    if (context != NULL && context->app_data != NULL)
        ((PotrContextData *)context->app_data)->smp_pending = FALSE;
    if (context != NULL && context->msgstate == OTRL_MSGSTATE_ENCRYPTED)
        otrl_message_abort_smp(potr_core_userstate(), &potr_ops, &opdata, context);
}

/* The outcome of a verification. Why the responder of a question does not
 * gain trust: the question and its answer were chosen by the peer, so
 * answering it proves who we are to them, not who they are to us; we
 * invite the user to ask a question of their own. */
static const char *
smp_outcome(ConnContext *context, int smp_event)
{
    PotrContextData *cd = potr_context_data(context);
    gboolean ours = cd->smp_ours;
    gboolean question = cd->smp_question;

    cd->smp_ours = FALSE;
    cd->smp_question = FALSE;
    cd->smp_pending = FALSE;
    g_clear_pointer(&cd->asked, g_free);
    switch (smp_event) {
    case OTRL_SMPEVENT_SUCCESS:
        if (!ours && question)
            return _("{buddy} has verified you. Verify {buddy} in turn: /otr smp ask \"QUESTION\" ANSWER.");
        potr_context_set_trust(context, "smp");
        return _("Verification succeeded: {buddy} is verified and the conversation is private.");
    case OTRL_SMPEVENT_FAILURE:
        return _("Verification of {buddy} FAILED: the answers did not match. You may be talking to an impostor, or the answer was mistyped.");
    case OTRL_SMPEVENT_ABORT:
        return _("Verification with {buddy} was aborted.");
    case OTRL_SMPEVENT_CHEATED:
        return _("Verification with {buddy} failed: the protocol was not followed, and was aborted.");
    case OTRL_SMPEVENT_ERROR:
    default:
        return _("Verification with {buddy} failed because of a protocol error.");
    }
}

/* Why abort on a protocol error or a cheat: libotr leaves its SMP state
 * half-done then (message.h asks the application to abort), and every
 * later verification would fail on both sides. */
static void
abort_broken(ConnContext *context)
{
    PurpleAccount *account = potr_peer_find_account(context->accountname, context->protocol);
    PotrOpData opdata = { .account = account, .peer = potr_context_address(context) };

    if (account != NULL && context->msgstate == OTRL_MSGSTATE_ENCRYPTED)
        otrl_message_abort_smp(potr_core_userstate(), &potr_ops, &opdata, context);
}

/* Verifications a peer may start in a minute. Why a bound, and why the
 * session ends beyond it: libotr keeps the state of every request that
 * arrives while one is pending (about 10 KB each) and a request cannot be
 * told from other data before libotr has read it; ending the session
 * stops the flood (a new session needs a key exchange, bounded too). */
#define POTR_PEER_SMPS_PER_MINUTE 6

static gboolean
smp_flood(ConnContext *context)
{
    PotrContextData *md = potr_context_data(context->m_context);
    PurpleAccount *account = NULL;
    PotrOpData opdata = { 0 };

    if (potr_rate_allow(&md->peer_smps, POTR_PEER_SMPS_PER_MINUTE))
        return FALSE;
    account = potr_peer_find_account(context->accountname, context->protocol);
    opdata.account = account;
    opdata.peer = potr_context_address(context);
    if (account != NULL)
        otrl_message_disconnect(potr_core_userstate(), &potr_ops, &opdata, context->accountname,
                                context->protocol, context->username, context->their_instance);
    otrl_context_force_finished(context);
    potr_smp_forget_request(context);
    potr_notice_say(potr_context_conv(context, TRUE),
                     _("{buddy} asked to verify you too many times in a minute: the private "
                       "conversation was ended to protect this program. Refresh it (/otr refresh) "
                       "if you trust {buddy}."), context->username, NULL, PURPLE_MESSAGE_ERROR);
    potr_context_emit_level(potr_context_conv(context, FALSE));
    return TRUE;
}

void
potr_smp_event(ConnContext *context, int smp_event, unsigned short progress,
               const char *question)
{
    PurpleConversation *conv = potr_context_conv(context, TRUE);
    const char *text = NULL;
    PurpleMessageFlags flags = PURPLE_MESSAGE_SYSTEM;

    if ((smp_event == OTRL_SMPEVENT_ASK_FOR_ANSWER || smp_event == OTRL_SMPEVENT_ASK_FOR_SECRET)
        && smp_flood(context))
        return;
    switch (smp_event) {
    case OTRL_SMPEVENT_ASK_FOR_SECRET:
        note_request(context, NULL);
        text = _("{buddy} wants to verify you with a shared secret. Answer with /otr smp respond SECRET "
                 "(or /otr smp abort).");
        break;
    case OTRL_SMPEVENT_ASK_FOR_ANSWER:
        note_request(context, question != NULL ? question : "");
        text = _("{buddy} wants to verify you and asks: \xe2\x80\x9c{detail}\xe2\x80\x9d. "
                 "Answer with /otr smp respond ANSWER (or /otr smp abort).");
        break;
    case OTRL_SMPEVENT_IN_PROGRESS:
        text = _("Verifying {buddy}\xe2\x80\xa6");
        break;
    case OTRL_SMPEVENT_NONE:
        return;
    default:
        if (conv != NULL)
            potr_dialogs_smp_close(conv);
        text = smp_outcome(context, smp_event);
        if (smp_event != OTRL_SMPEVENT_SUCCESS)
            flags |= PURPLE_MESSAGE_ERROR;
        if (smp_event == OTRL_SMPEVENT_CHEATED || smp_event == OTRL_SMPEVENT_ERROR)
            abort_broken(context);
        break;
    }
    if (conv != NULL)
        purple_signal_emit(potr_core_handle(), "smp-event", conv, smp_event, (int)progress);
    potr_notice_say(conv, text, context->username, question, flags);
    potr_context_emit_level(conv);
    if (conv != NULL && (smp_event == OTRL_SMPEVENT_ASK_FOR_ANSWER
                         || smp_event == OTRL_SMPEVENT_ASK_FOR_SECRET))
        potr_dialogs_smp_request(conv, question);
}
