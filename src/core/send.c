/* purple-otr - GPL-2.0-or-later
 * Send: the user's messages through libotr, their echo, and the OTR
 * errors and lines that concern what was sent. */
#include "i18n.h"
#include "send.h"

#include <string.h>
#include <libotr/message.h>
#include <libotr/proto.h>
#include <libotr/tlv.h>

#include "context.h"
#include "core.h"
#include "secret.h"
#include "metadata.h"
#include "ops.h"
#include "policy.h"
#include "peer.h"
#include "notice.h"

/* (kept on the master context: the error that asks for it may come from
 * any instance) */
static void
remember_sent(ConnContext *context, const char *html)
{
    PotrContextData *cd = potr_context_data(context->m_context);

    potr_secret_free(cd->last_sent);
    cd->last_sent = purple_markup_strip_html(html);
}

/* Send OTR data OTR in the fragments the protocol needs (as libotr would),
 * all of them, or all but the last, which is returned in *LAST. */
static gboolean
send_fragments(PotrOpData *opdata, ConnContext *context, const char *otr, char **last)
{
    int mms = potr_ops.max_message_size(opdata, context);
    int header = context->protocol_version == 3 ? POTR_FRAGMENT_HEADER_V3 : POTR_FRAGMENT_HEADER_V2;
    size_t len = strlen(otr);
    char **fragments = NULL;
    int count = 1;

    if (mms > header && len > (size_t)mms) {
        count = (int)((len - 1) / (size_t)(mms - header)) + 1;
        if (otrl_proto_fragment_create(mms, count, &fragments, context, otr) != 0)
            return FALSE;   /* over 65535 fragments: nothing is sent */
    }
    for (int i = 0; i < count; i++) {
        const char *piece = fragments != NULL ? fragments[i] : otr;

        if (i == count - 1 && last != NULL)
            *last = g_strdup(piece);
        else
            potr_ops.inject_message(opdata, context->accountname, context->protocol,
                                    context->username, piece);
    }
    if (fragments != NULL)
        otrl_proto_fragment_free(&fragments, (unsigned short)count);
    return TRUE;
}

/* Encrypt HTML for WHO through libotr. Fragments of OTR data are sent;
 * with LAST the final fragment (or the message itself, when it is not
 * fragmented) is returned in *LAST for the caller to send, else it is sent
 * too. Only OTR data is ever fragmented.
 * Returns FALSE if nothing may be sent: libotr's rule is that a failed
 * encryption must never be replaced by the plaintext. */
gboolean
potr_send_encrypt(PurpleAccount *account, const char *who, otrl_instag_t instance, const char *html,
        char **last)
{
    OtrlUserState us = potr_core_userstate();
    /* the padding TLV hides the message's length (metadata.c); libotr
     * ignores it outside a private conversation */
    PotrOpData opdata = { .account = account, .peer = who, .padding = potr_metadata_padding_new() };
    ConnContext *context = NULL;
    char *norm = potr_peer_normalize(account, who);
    char *otr = NULL;
    gcry_error_t err = 0;
    gboolean ok = FALSE;

    err = otrl_message_sending(us, &potr_ops, &opdata, purple_account_get_username(account),
                               purple_account_get_protocol_id(account), norm, instance, html,
                               opdata.padding, &otr, OTRL_FRAGMENT_SEND_SKIP, &context, NULL, NULL);
    if (err != 0 || context == NULL)
        goto cleanup;
    if (otr == NULL) {
        /* libotr left the message alone: it may go as it is, unless the
         * conversation is (or must be) private; then libotr misbehaved and
         * the plaintext stays here */
        if (context->msgstate != OTRL_MSGSTATE_PLAINTEXT
            || potr_policy_for(account, who) == POTR_POLICY_ALWAYS)
            goto cleanup;
        if (last != NULL)
            *last = g_strdup(html);
        else
            serv_send_im(purple_account_get_connection(account), who, html, 0);
        ok = TRUE;
        goto cleanup;
    }
    if (*otr == '\0')
        goto cleanup;   /* libotr refused to send it (e.g. finished session) */
    if (context->msgstate == OTRL_MSGSTATE_ENCRYPTED)
        remember_sent(context, html);
    /* (by the state, not the text: a plain message may begin "?OTR:") */
    if (context->msgstate == OTRL_MSGSTATE_ENCRYPTED && g_str_has_prefix(otr, "?OTR:")) {
        ok = send_fragments(&opdata, context, otr, last);
        goto cleanup;
    }
    /* anything else (the text with the whitespace tag that offers OTR, a
     * query, an OTR error) goes whole: a peer without OTR must read it, and
     * libotr would cut a long one into OTR fragments that only an OTR
     * client puts together (the protocol's own line splitting still
     * applies); sent as libotr would send it, through the inject op */
    if (last != NULL)
        *last = g_strdup(otr);
    else
        potr_ops.inject_message(&opdata, context->accountname, context->protocol, context->username,
                                otr);
    ok = TRUE;

cleanup:
    if (otr != NULL)
        otrl_message_free(otr);
    if (opdata.padding != NULL)
        otrl_tlv_free(opdata.padding);
    g_free(norm);
    return ok;
}

/* Show what the user typed, as sent by them, without logging it. */
void
potr_send_echo(PurpleConversation *conv, const char *html)
{
    PurpleAccount *account = purple_conversation_get_account(conv);
    const char *alias = purple_account_get_alias(account);

    if (alias == NULL)
        alias = purple_account_get_username(account);
    purple_conversation_write(conv, alias, html, PURPLE_MESSAGE_SEND | PURPLE_MESSAGE_NO_LOG,
                              time(NULL));
}

/* Seconds between two "no private conversation here" errors to a peer:
 * a burst of its messages gets one answer. */
#define POTR_TELL_NOT_PRIVATE_SECONDS 10

void
potr_send_tell_not_private(ConnContext *context, const void *opdata)
{
    const PotrOpData *data = opdata;
    PotrContextData *cd = potr_context_data(context->m_context);
    gint64 now = g_get_monotonic_time();
    const char *text = NULL;
    char *error = NULL;

    if (data->quiet || data->account == NULL || data->peer == NULL
        || (cd->told_not_private != 0
            && now - cd->told_not_private < POTR_TELL_NOT_PRIVATE_SECONDS * G_USEC_PER_SEC))
        return;
    cd->told_not_private = now;
    text = potr_ops.otr_error_message(NULL, context, OTRL_ERRCODE_MSG_NOT_IN_PRIVATE);
    error = g_strconcat(OTR_ERROR_PREFIX, text, NULL);
    potr_ops.otr_error_message_free(NULL, text);
    serv_send_im(purple_account_get_connection(data->account), data->peer, error, 0);
    g_free(error);
}

void
potr_send_peer_error(ConnContext *context)
{
    PotrContextData *cd = potr_context_data(context->m_context);
    PurpleConversation *conv = potr_context_conv(context, TRUE);

    if (cd->last_sent == NULL)
        return;
    potr_notice_say(conv, _("{buddy} could not read one of your messages; the private conversation "
                           "will be refreshed. This message of yours may not have arrived: "
                           "\xe2\x80\x9c{detail}\xe2\x80\x9d"),
                   context->username, cd->last_sent, PURPLE_MESSAGE_ERROR);
    potr_secret_free(cd->last_sent);
    cd->last_sent = NULL;
}

