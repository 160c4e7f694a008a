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
#include "engine.h"
#include "ops.h"
#include "session.h"

const char *
potr_smp_asked(ConnContext *context)
{
    return context != NULL && context->app_data != NULL
        ? ((PotrContextData *)context->app_data)->asked : NULL;
}

G_STATIC_ASSERT((int)POTR_SMP_FAILURE == (int)OTRL_SMPEVENT_FAILURE);
G_STATIC_ASSERT((int)POTR_SMP_ASK_FOR_ANSWER == (int)OTRL_SMPEVENT_ASK_FOR_ANSWER);

/* Secrets: copied nowhere, never logged, and wiped by the caller. */
gboolean
potr_smp_start(PurpleConversation *conv, const char *question, const char *secret,
                       gboolean respond, GError **error)
{
    OtrlUserState us = potr_core_userstate();
    PurpleAccount *account = purple_conversation_get_account(conv);
    PotrOpData opdata = { .account = account, .peer = purple_conversation_get_name(conv) };
    ConnContext *context = potr_session_context(conv);
    PotrContextData *cd = NULL;
    size_t len = secret != NULL ? strlen(secret) : 0;

    if (context == NULL || context->msgstate != OTRL_MSGSTATE_ENCRYPTED) {
        g_set_error_literal(error, POTR_ERROR, POTR_ERROR_FAILED,
                            _("Start a private conversation first (/otr start)."));
        return FALSE;
    }
    if (len == 0) {
        g_set_error_literal(error, POTR_ERROR, POTR_ERROR_FAILED, _("The secret is empty."));
        return FALSE;
    }
    cd = potr_session_data(context);
    /* libotr answers only what it was asked: with no request received
     * (its state holds none of the asker's values) it would crash */
    if (respond && (context->smstate == NULL || context->smstate->g3o == NULL
                    || context->smstate->nextExpected != OTRL_SMP_EXPECT1)) {
        g_set_error_literal(error, POTR_ERROR, POTR_ERROR_FAILED,
                            _("There is no verification request to answer."));
        return FALSE;
    }
    if (respond) {
        potr_dialogs_smp_close(conv);
        otrl_message_respond_smp(us, &potr_ops, &opdata, context, (const unsigned char *)secret, len);
        return TRUE;
    }
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
    PotrOpData opdata = { .account = purple_conversation_get_account(conv), .peer = purple_conversation_get_name(conv) };
    ConnContext *context = potr_session_context(conv);

    potr_dialogs_smp_close(conv);
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
    PotrContextData *cd = potr_session_data(context);
    gboolean ours = cd->smp_ours;
    gboolean question = cd->smp_question;

    cd->smp_ours = FALSE;
    cd->smp_question = FALSE;
    g_clear_pointer(&cd->asked, g_free);
    switch (smp_event) {
    case OTRL_SMPEVENT_SUCCESS:
        if (!ours && question)
            return _("{buddy} has verified you. Verify {buddy} in turn: /otr smp ask \"QUESTION\" ANSWER.");
        potr_session_set_trust(context, "smp");
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

void
potr_smp_event(ConnContext *context, int smp_event, unsigned short progress,
                       const char *question)
{
    PurpleConversation *conv = potr_session_conv(context, TRUE);
    const char *text = NULL;
    PurpleMessageFlags flags = PURPLE_MESSAGE_SYSTEM;

    switch (smp_event) {
    case OTRL_SMPEVENT_ASK_FOR_SECRET:
        potr_session_data(context)->smp_question = FALSE;
        potr_session_data(context)->smp_ours = FALSE;
        g_clear_pointer(&potr_session_data(context)->asked, g_free);
        text = _("{buddy} wants to verify you with a shared secret. Answer with /otr smp respond SECRET "
                 "(or /otr smp abort).");
        break;
    case OTRL_SMPEVENT_ASK_FOR_ANSWER:
        potr_session_data(context)->smp_question = TRUE;
        potr_session_data(context)->smp_ours = FALSE;
        g_free(potr_session_data(context)->asked);
        potr_session_data(context)->asked = g_strdup(question);
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
        break;
    }
    if (conv != NULL)
        purple_signal_emit(potr_core_handle(), "smp-event", conv, smp_event, (int)progress);
    potr_session_say(conv, text, context->username, question, flags);
    potr_core_emit_level(conv);
    if (conv != NULL && (smp_event == OTRL_SMPEVENT_ASK_FOR_ANSWER
                         || smp_event == OTRL_SMPEVENT_ASK_FOR_SECRET))
        potr_dialogs_smp_request(conv, question);
}

