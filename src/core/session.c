/* purple-otr - GPL-2.0-or-later
 * Session: conversations <-> libotr contexts; the send and receive hooks;
 * state changes told to the user; keys that conversations wait for. */
#include "i18n.h"
#include "session.h"

#include <string.h>
#include <libotr/auth.h>
#include <libotr/privkey.h>
#include <libotr/proto.h>
#include <libotr/tlv.h>

#include "core.h"
#include "dialogs.h"
#include "events.h"
#include "ops.h"
#include "policy.h"
#include "store.h"
#include "xmpp.h"
#include "ake.h"
#include "held.h"
#include "metadata.h"
#include "secret.h"
#include "smp.h"
#include "peer.h"
#include "notice.h"

/* "protocol\naccount" -> GHashTable set of peers waiting for the key */
static GHashTable *key_waiters = NULL;
static void *session_handle = NULL;

otrl_instag_t
potr_session_instance(PurpleConversation *conv)
{
    gpointer chosen = purple_conversation_get_data(conv, "potr-instance");

    return chosen != NULL ? (otrl_instag_t)GPOINTER_TO_UINT(chosen) : OTRL_INSTAG_BEST;
}

void
potr_session_set_instance(PurpleConversation *conv, otrl_instag_t instance)
{
    g_return_if_fail(conv != NULL);
    purple_conversation_set_data(conv, "potr-instance",
                                 instance == OTRL_INSTAG_BEST ? NULL : GUINT_TO_POINTER(instance));
    potr_session_emit_level(conv);
}

ConnContext *
potr_session_context(PurpleConversation *conv)
{
    if (conv == NULL)
        return NULL;
    return potr_core_find_context(purple_conversation_get_account(conv),
                             purple_conversation_get_name(conv),
                             potr_session_instance(conv), FALSE);
}

PotrLevel
potr_session_level_of(ConnContext *context)
{
    if (context == NULL)
        return POTR_LEVEL_NOT_PRIVATE;
    switch (context->msgstate) {
    case OTRL_MSGSTATE_ENCRYPTED:
        if (context->active_fingerprint != NULL
            && otrl_context_is_fingerprint_trusted(context->active_fingerprint))
            return POTR_LEVEL_PRIVATE;
        return POTR_LEVEL_UNVERIFIED;
    case OTRL_MSGSTATE_FINISHED:
        return POTR_LEVEL_FINISHED;
    case OTRL_MSGSTATE_PLAINTEXT:
    default:
        return potr_session_on_hold(context) ? POTR_LEVEL_FINISHED : POTR_LEVEL_NOT_PRIVATE;
    }
}

PurpleConversation *
potr_session_conv(ConnContext *context, gboolean create)
{
    PurpleAccount *account = NULL;
    PurpleConversation *conv = NULL;

    if (context == NULL)
        return NULL;
    account = potr_peer_find_account(context->accountname, context->protocol);
    if (account == NULL)
        return NULL;
    conv = purple_find_conversation_with_account(PURPLE_CONV_TYPE_IM, context->username, account);
    if (conv == NULL && create)
        conv = purple_conversation_new(PURPLE_CONV_TYPE_IM, account, context->username);
    return conv;
}

/* An error line that is not repeated for a burst of the same cause. */
static void
write_dedupe(PurpleConversation *conv, const char *template_, const char *buddy)
{
    char *line = potr_event_expand(template_, buddy, NULL);

    potr_notice_write(conv, line, PURPLE_MESSAGE_ERROR, TRUE);
    g_free(line);
}

/* TRUE if any instance (login) of CONV's peer is in a private conversation. */
static gboolean
any_instance_private(PurpleConversation *conv)
{
    ConnContext *master = potr_core_find_context(purple_conversation_get_account(conv),
                                            purple_conversation_get_name(conv),
                                            OTRL_INSTAG_MASTER, FALSE);

    for (ConnContext *c = master; c != NULL && c->m_context == master; c = c->next)
        if (c->msgstate == OTRL_MSGSTATE_ENCRYPTED)
            return TRUE;
    return FALSE;
}

/* Logging: while a conversation is private and the user asked not to log
 * OTR conversations, the conversation's log is switched off (and back on
 * when it stops being private). Why the conversation as a whole: one
 * conversation carries every login (instance) of the peer, and libpurple
 * logs by conversation; one private login is enough to keep the log off,
 * whatever another login does. Why before every line ("writing-im-msg",
 * emitted before libpurple logs): a changed "don't log" setting (global
 * or per buddy) then holds from the very next line, with no notification
 * to miss. A window opened by a decrypted message is switched off in
 * "conversation-created", before libpurple writes that first message.
 * (A per-message PURPLE_MESSAGE_NO_LOG would do the same but makes Pidgin
 * draw the message as a grey system line.) */
static void
update_logging(PurpleConversation *conv)
{
    PurpleAccount *account = purple_conversation_get_account(conv);
    gboolean ours = purple_conversation_get_data(conv, "potr-unlogged") != NULL;
    gboolean hide = any_instance_private(conv)
                    && potr_policy_avoid_logging(account, purple_conversation_get_name(conv));

    if (hide && !ours && purple_conversation_is_logging(conv)) {
        purple_conversation_set_logging(conv, FALSE);
        purple_conversation_set_data(conv, "potr-unlogged", GINT_TO_POINTER(1));
    } else if (!hide && ours) {
        purple_conversation_set_data(conv, "potr-unlogged", NULL);
        purple_conversation_set_logging(conv, TRUE);
    }
}

static gboolean
on_writing_im(PurpleAccount *account, const char *who, char **message, PurpleConversation *conv,
              PurpleMessageFlags flags, gpointer data)
{
    if (conv != NULL)
        update_logging(conv);
    return FALSE;
}

static void remember_sent(ConnContext *context, const char *html);
static void note_query(ConnContext *context);
static void note_address(ConnContext *context, const char *who);

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
potr_session_encrypt(PurpleAccount *account, const char *who, otrl_instag_t instance, const char *html,
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
    if (g_str_has_prefix(otr, "?OTR:")) {
        ok = send_fragments(&opdata, context, otr, last);
        goto cleanup;
    }
    /* anything else (the text with the whitespace tag that offers OTR, a
     * query) goes whole: a peer without OTR must read it, and libotr would
     * cut a long one into OTR fragments that only an OTR client puts
     * together (the protocol's own line splitting still applies) */
    if (last != NULL)
        *last = g_strdup(otr);
    else
        serv_send_im(purple_account_get_connection(account), who, otr, 0);
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
potr_session_echo(PurpleConversation *conv, const char *html)
{
    PurpleAccount *account = purple_conversation_get_account(conv);
    const char *alias = purple_account_get_alias(account);

    if (alias == NULL)
        alias = purple_account_get_username(account);
    purple_conversation_write(conv, alias, html, PURPLE_MESSAGE_SEND | PURPLE_MESSAGE_NO_LOG,
                              time(NULL));
}

static void
refuse(PurpleAccount *account, const char *who, char **message, const char *why)
{
    PurpleConversation *conv = purple_conversation_new(PURPLE_CONV_TYPE_IM, account, who);

    potr_session_echo(conv, *message);
    potr_notice_say(conv, why, who, NULL, PURPLE_MESSAGE_ERROR);
    g_clear_pointer(message, g_free);
}

static void
on_sending_im(PurpleAccount *account, const char *receiver, char **message, gpointer data)
{
    PurpleConversation *conv = NULL;
    ConnContext *context = NULL;
    PotrPolicy policy = POTR_POLICY_NEVER;
    otrl_instag_t instance = OTRL_INSTAG_BEST;
    const char *target = NULL;
    char *last = NULL;

    if (message == NULL || *message == NULL || **message == '\0' || receiver == NULL)
        return;
    conv = purple_find_conversation_with_account(PURPLE_CONV_TYPE_IM, receiver, account);
    if (conv != NULL)
        instance = potr_session_instance(conv);
    context = potr_core_find_context(account, receiver, instance, TRUE);
    policy = potr_policy_for(account, receiver);

    if (potr_session_on_hold(context)) {
        potr_held_add(account, receiver, message);
        return;
    }
    if (context != NULL && context->msgstate == OTRL_MSGSTATE_FINISHED) {
        refuse(account, receiver, message,
               _("This message was NOT sent: {buddy} has ended the private conversation. "
                 "End it too (/otr end) or refresh it (/otr refresh), then send it again."));
        return;
    }
    if ((context == NULL || context->msgstate != OTRL_MSGSTATE_ENCRYPTED)
        && policy == POTR_POLICY_ALWAYS) {
        potr_held_add(account, receiver, message);
        return;
    }
    if (context != NULL && context->msgstate != OTRL_MSGSTATE_ENCRYPTED
        && policy == POTR_POLICY_NEVER)
        return;
    target = context != NULL && context->msgstate == OTRL_MSGSTATE_ENCRYPTED
             ? potr_session_address(context) : receiver;
    if (g_strcmp0(target, receiver) != 0 && strchr(target, '/') != NULL) {
        /* the window's name follows the login that wrote last, the
         * instance in use may be another login: its data goes to that
         * login's own address, sent here (libpurple would send it to the
         * window's), and is shown as sent */
        if (!potr_session_encrypt(account, target, instance, *message, NULL)) {
            refuse(account, receiver, message,
                   _("This message was NOT sent: it could not be encrypted for {buddy}."));
            return;
        }
        potr_session_echo(purple_conversation_new(PURPLE_CONV_TYPE_IM, account, receiver), *message);
        g_clear_pointer(message, g_free);
        return;
    }
    if (!potr_session_encrypt(account, receiver, instance, *message, &last)) {
        refuse(account, receiver, message,
               _("This message was NOT sent: it could not be encrypted for {buddy}."));
        return;
    }
    g_free(*message);
    *message = last;
}

/* TRUE if MESSAGE is an OTR data message that the sender did not mark
 * "ignore if unreadable" (heartbeats, verification and goodbyes are). */
static gboolean
is_plain_data_message(const char *message)
{
    char prefix[21];
    guchar *bytes = NULL;
    gsize len = 0;
    gboolean data = FALSE;

    if (!g_str_has_prefix(message, "?OTR:") || strlen(message) < 5 + 20)
        return FALSE;
    g_strlcpy(prefix, message + 5, sizeof prefix);
    bytes = g_base64_decode(prefix, &len);
    /* version (2 bytes), type (1; 0x03 is data), then v3 instance tags */
    if (len >= 15 && bytes[0] == 0 && bytes[2] == 0x03) {
        guchar flags = bytes[1] == 3 ? bytes[11] : bytes[3];

        data = (flags & OTRL_MSGFLAGS_IGNORE_UNREADABLE) == 0;
    }
    g_free(bytes);
    return data;
}

/* libotr gives an instance it meets for the first time the master's
 * message state; after a v2 session that is "encrypted" without any key,
 * which would make a bogus instance look private. An instance that never
 * finished a key exchange is not private. */
static void
clear_phantom_instances(ConnContext *any)
{
    ConnContext *master = any != NULL ? any->m_context : NULL;

    for (ConnContext *c = master; c != NULL && c->m_context == master; c = c->next)
        if (c != master && c->msgstate == OTRL_MSGSTATE_ENCRYPTED && c->active_fingerprint == NULL)
            otrl_context_force_plaintext(c);
}

/* A query kept by the server for a few moments (sent while we were
 * connecting) still asks for a conversation now: it is answered. */
#define POTR_QUERY_FRESH_SECONDS 120

static gboolean
fresh_query(const char *message, gint64 age)
{
    return g_str_has_prefix(message, "?OTRv") && age >= 0 && age <= POTR_QUERY_FRESH_SECONDS;
}

/* A message the server kept while we were offline can be read only if it
 * is data of the private conversation that is still open here. */
static gboolean
stored_readable(PurpleAccount *account, const char *who, const char *message)
{
    ConnContext *master = potr_core_find_context(account, who, OTRL_INSTAG_MASTER, FALSE);

    if (!g_str_has_prefix(message, "?OTR:"))
        return FALSE;
    for (ConnContext *c = master; c != NULL && c->m_context == master; c = c->next)
        if (c->msgstate == OTRL_MSGSTATE_ENCRYPTED)
            return TRUE;
    return FALSE;
}

/* Drop a stored OTR message that cannot be read, with one line for data
 * (protocol messages of a past key exchange are dropped silently). */
static void
drop_stored(PurpleAccount *account, const char *who, char **message)
{
    if (g_str_has_prefix(*message, "?OTR:")) {
        PurpleConversation *conv = purple_conversation_new(PURPLE_CONV_TYPE_IM, account, who);

        write_dedupe(conv, _("{buddy} sent you encrypted messages while you were "
                                          "offline; they belong to a private conversation that "
                                          "has ended and cannot be read."), who);
    } else {
        purple_debug_info("purple-otr", "stored OTR protocol message dropped\n");
    }
    g_clear_pointer(message, g_free);
}

static gboolean
on_receiving_im(PurpleAccount *account, char **who, char **message, PurpleConversation *conv,
                PurpleMessageFlags *flags, gpointer data)
{
    OtrlUserState us = potr_core_userstate();
    PotrOpData opdata = { .account = account, .peer = NULL };
    ConnContext *context = NULL;
    OtrlTLV *tlvs = NULL;
    char *norm = NULL;
    char *plain = NULL;
    int internal = 0;
    guint lines_before = 0;
    gint64 age = -1;

    if (us == NULL || who == NULL || *who == NULL || message == NULL || *message == NULL)
        return FALSE;
    opdata.peer = *who;
    norm = potr_peer_normalize(account, *who);
    opdata.v3_data = g_str_has_prefix(*message, "?OTR:AAMD");
    if (potr_xmpp_take_delayed(account, *who, &age) && !fresh_query(*message, age)) {
        if (!stored_readable(account, *who, *message)) {
            drop_stored(account, *who, message);
            g_free(norm);
            return FALSE;
        }
        opdata.quiet = TRUE;
    }
    if (!opdata.quiet && !potr_ake_peer_may_start(account, norm, *message)) {
        g_clear_pointer(message, g_free);
        g_free(norm);
        return FALSE;
    }
    if (!opdata.quiet && potr_ake_our_commit_wins(account, norm, *message)) {
        purple_debug_info("purple-otr", "crossing key exchange: ours goes on\n");
        g_clear_pointer(message, g_free);
        g_free(norm);
        return FALSE;
    }
    lines_before = potr_notice_count();
    internal = otrl_message_receiving(us, &potr_ops, &opdata, purple_account_get_username(account),
                                      purple_account_get_protocol_id(account), norm, *message,
                                      &plain, &tlvs, &context, NULL, NULL);
    clear_phantom_instances(context);
    if (!opdata.quiet)
        note_address(context, *who);
    if (tlvs != NULL && otrl_tlv_find(tlvs, OTRL_TLV_DISCONNECTED) != NULL && context != NULL)
        potr_session_changed(context, POTR_CHANGE_FINISHED);
    otrl_tlv_free(tlvs);

    if (internal) {
        if (opdata.quiet && potr_notice_count() == lines_before && is_plain_data_message(*message))
            drop_stored(account, *who, message);   /* a stored message it could not read */
        else if (potr_notice_count() == lines_before && is_plain_data_message(*message)) {
            /* libotr dropped an encrypted message without a word (data
             * from an instance it has no session with, as after a restart
             * of ours): the user hears of it, and so does the sender */
            write_dedupe(purple_conversation_new(PURPLE_CONV_TYPE_IM, account, *who),
                         _("An encrypted message from {buddy} could not be read and was ignored."),
                         norm);
            if (opdata.v3_data)   /* libotr names no context for it */
                potr_session_tell_not_private(potr_core_find_context(account, norm, OTRL_INSTAG_MASTER, TRUE),
                                              &opdata);
        }
        g_clear_pointer(message, g_free);
    } else if (plain != NULL) {
        g_free(*message);
        *message = g_strdup(plain);
    }
    if (plain != NULL)
        otrl_message_free(plain);
    if (conv != NULL)
        potr_session_emit_level(conv);
    g_free(norm);
    return FALSE;
}

/* TRUE if an instance of CONTEXT's peer other than CONTEXT is private. */
static gboolean
another_instance_private(ConnContext *context)
{
    ConnContext *master = context->m_context;

    for (ConnContext *c = master; c != NULL && c->m_context == master; c = c->next)
        if (c != context && c->msgstate == OTRL_MSGSTATE_ENCRYPTED)
            return TRUE;
    return FALSE;
}

static const char *
change_text(ConnContext *context, PotrChange change)
{
    PotrLevel level = potr_session_level_of(context);

    switch (change) {
    case POTR_CHANGE_SECURE:
        return level == POTR_LEVEL_PRIVATE
            ? _("Private conversation with {buddy} started.")
            : _("Unverified conversation with {buddy} started: it is encrypted, but you have "
                "not verified that {buddy} is who they claim to be (/otr smp ask, or /otr "
                "fingerprint).");
    case POTR_CHANGE_REFRESHED:
        return _("The private conversation with {buddy} was refreshed.");
    case POTR_CHANGE_INSECURE:
        return _("The private conversation with {buddy} has ended: messages are no longer encrypted.");
    case POTR_CHANGE_FINISHED:
        if (another_instance_private(context))
            return _("{buddy} has ended the private conversation on one of their logins; your "
                     "messages go on, encrypted, to the login that is still private.");
        return _("{buddy} has ended the private conversation. Your messages will not be sent "
                 "until you end it too (/otr end) or refresh it (/otr refresh).");
    case POTR_CHANGE_OFFLINE:
        return _("{buddy} went offline: the private conversation is on hold (Finished). What you "
                 "type waits and is sent once it is private again, when {buddy} is back.");
    case POTR_CHANGE_WENT_OFFLINE:
        return _("You went offline: the private conversation with {buddy} is on hold "
                 "(Finished). What you type waits and is sent once it is private again.");
    case POTR_CHANGE_TRUST:
    default:
        return NULL;
    }
}

/* TRUE if CONTEXT's buddy has a verified fingerprint other than the one
 * in use: the buddy's key changed since it was verified. */
static gboolean
key_changed_since_verified(ConnContext *context)
{
    ConnContext *master = context->m_context;

    if (context->active_fingerprint == NULL
        || otrl_context_is_fingerprint_trusted(context->active_fingerprint))
        return FALSE;
    for (Fingerprint *fp = master->fingerprint_root.next; fp != NULL; fp = fp->next)
        if (fp != context->active_fingerprint && otrl_context_is_fingerprint_trusted(fp))
            return TRUE;
    return FALSE;
}

/* Why loud and every time: a verified buddy whose key changes is either on
 * a new device or being impersonated (the server itself can do it); the
 * warning stays until the new key is verified or the old one forgotten. */
static void
warn_key_changed(PurpleConversation *conv, ConnContext *context)
{
    char human[OTRL_PRIVKEY_FPRINT_HUMAN_LEN];

    otrl_privkey_hash_to_human(human, context->active_fingerprint->fingerprint);
    potr_notice_set_shown(conv, human);
    potr_notice_say(conv, _("WARNING: {buddy} is using a NEW key ({detail}), not the one you "
                           "verified. It may be a new device, or someone impersonating {buddy}. "
                           "Verify it again (/otr smp ask) before you say anything private."),
                   context->username, human, PURPLE_MESSAGE_ERROR);
}

void
potr_session_changed(ConnContext *context, PotrChange change)
{
    PurpleConversation *conv = NULL;
    const char *text = NULL;
    gboolean secure = change == POTR_CHANGE_SECURE || change == POTR_CHANGE_REFRESHED;

    g_return_if_fail(context != NULL);

    /* a new or ended session of this instance: a verification request
     * it made belongs to the session that is gone */
    if (change != POTR_CHANGE_TRUST)
        potr_smp_forget_request(context);
    if (secure) {
        potr_session_data(context->m_context)->on_hold = FALSE;
        potr_session_data(context->m_context)->was_private = TRUE;
    }
    /* presence-driven changes never open a window by themselves */
    conv = potr_session_conv(context, change != POTR_CHANGE_TRUST && change != POTR_CHANGE_OFFLINE
                                      && change != POTR_CHANGE_WENT_OFFLINE);
    if (conv == NULL)
        return;
    update_logging(conv);
    text = change_text(context, change);
    if (text != NULL)
        potr_notice_say(conv, text, context->username, NULL,
                       change == POTR_CHANGE_FINISHED ? PURPLE_MESSAGE_ERROR : PURPLE_MESSAGE_SYSTEM);
    if (secure && key_changed_since_verified(context))
        warn_key_changed(conv, context);
    potr_session_emit_level(conv);
    if (secure) {
        potr_ake_settled(context);
        potr_held_flush_soon(context);
    }
}

/* Why Finished and not Not private: presence, resource lists and our own
 * connection are in the server's hands, not authenticated by OTR. A
 * server that makes the peer look gone must not get the next message in
 * clear: the session is put on hold (Finished: nothing leaves in clear),
 * what the user types waits (held.c), and both are resumed by a new key
 * exchange. Only the user's /otr end or the peer's authenticated end
 * (OTR's disconnect message) leave the private conversation for good. */
gboolean
potr_session_hold(PurpleAccount *account, const char *who, gboolean tell_peer, PotrChange why)
{
    OtrlUserState us = potr_core_userstate();
    PotrOpData opdata = { .account = account, .peer = who };
    ConnContext *master = potr_core_find_context(account, who, OTRL_INSTAG_MASTER, FALSE);
    gboolean held = FALSE;

    for (ConnContext *c = master; c != NULL && c->m_context == master; c = c->next) {
        if (c->msgstate != OTRL_MSGSTATE_ENCRYPTED)
            continue;
        if (tell_peer)   /* sends OTR's goodbye, then leaves the state plaintext */
            otrl_message_disconnect(us, &potr_ops, &opdata, c->accountname, c->protocol,
                                    c->username, c->their_instance);
        otrl_context_force_finished(c);
        potr_smp_forget_request(c);
        held = TRUE;
    }
    if (!held)
        return FALSE;
    potr_session_data(master)->on_hold = TRUE;
    potr_session_changed(master, why);
    return TRUE;
}

/* Why "fallen to plaintext" counts as on hold: the rule is that only the
 * user's /otr end or the peer's authenticated end leave a private
 * conversation. libotr can leave an instance plaintext under a storm of
 * key exchanges (unauthenticated messages, which a server can inject);
 * whatever the path, the next message must wait for a new private
 * conversation, never go in clear. */
gboolean
potr_session_on_hold(ConnContext *context)
{
    PotrContextData *md = context != NULL ? context->m_context->app_data : NULL;

    if (md == NULL)
        return FALSE;
    if (context->msgstate == OTRL_MSGSTATE_FINISHED)
        return md->on_hold;
    if (context->msgstate != OTRL_MSGSTATE_PLAINTEXT || !md->was_private)
        return FALSE;
    /* (a plaintext login beside a private one is just not private) */
    for (ConnContext *c = context->m_context; c != NULL && c->m_context == context->m_context;
         c = c->next)
        if (c->msgstate == OTRL_MSGSTATE_ENCRYPTED)
            return FALSE;
    return TRUE;
}

static gboolean
has_key(PurpleAccount *account)
{
    return otrl_privkey_find(potr_core_userstate(), purple_account_get_username(account),
                             purple_account_get_protocol_id(account)) != NULL;
}

/* The OTR query: its tag, then, for a peer whose client may not know
 * OTR, a plain sentence. One line: IRC (and other line-based protocols)
 * would send a second line as a separate message, which an OTR client
 * shows as chat, while it hides the whole line holding the tag. A peer we
 * already hold a key of speaks OTR: the sentence would only be noise.
 * Not translated: it is read by the peer, whose language is unknown. */
static char *
query_message(PurpleAccount *account, PotrPolicy policy, ConnContext *context)
{
    OtrlPolicy bits = potr_policy_to_otrl(policy);
    const char *tag = (bits & OTRL_POLICY_ALLOW_V2) && (bits & OTRL_POLICY_ALLOW_V3) ? "?OTRv23?"
                      : (bits & OTRL_POLICY_ALLOW_V3) ? "?OTRv3?" : "?OTRv2?";
    ConnContext *master = context != NULL ? context->m_context : NULL;

    if (master != NULL && master->fingerprint_root.next != NULL)
        return g_strdup(tag);
    return g_strdup_printf("%s %s has asked for an Off-the-Record private conversation, but "
                           "your client does not support it (see https://otr.cypherpunks.ca/).",
                           tag, purple_account_get_username(account));
}

void
potr_session_start(PurpleAccount *account, const char *who)
{
    g_return_if_fail(account != NULL && who != NULL);
    potr_ake_reset_tries(account, who);   /* a new start: retries anew */
    potr_session_query(account, who);
}

void
potr_session_query(PurpleAccount *account, const char *who)
{
    PurpleConversation *conv = NULL;
    ConnContext *context = NULL;
    PurpleConnection *gc = purple_account_get_connection(account);
    char *query = NULL;

    conv = purple_conversation_new(PURPLE_CONV_TYPE_IM, account, who);
    if (potr_policy_for(account, who) == POTR_POLICY_NEVER) {
        potr_notice_say(conv, _("OTR is disabled for {buddy} (policy \"never\"): change it with /otr policy."),
                       who, NULL, PURPLE_MESSAGE_ERROR);
        return;
    }
    if (gc == NULL) {
        potr_notice_say(conv, _("You are offline: the private conversation cannot start."),
                       who, NULL, PURPLE_MESSAGE_ERROR);
        return;
    }
    if (!has_key(account)) {
        potr_session_need_key(account, who);
        return;
    }
    context = potr_core_find_context(account, who, OTRL_INSTAG_MASTER, TRUE);
    if (context == NULL)
        return;
    query = query_message(account, potr_policy_for(account, who), context);
    /* with v3 the private state is in the login's context, not the master */
    potr_notice_say(conv, any_instance_private(conv)
                   ? _("Refreshing the private conversation with {buddy}\xe2\x80\xa6")
                   : _("Starting a private conversation with {buddy}\xe2\x80\xa6"),
                   who, NULL, PURPLE_MESSAGE_SYSTEM);
    serv_send_im(gc, who, query, 0);
    note_query(context);
    potr_ake_watch(account, who);
    g_free(query);
}

void
potr_session_end(PurpleAccount *account, const char *who)
{
    OtrlUserState us = potr_core_userstate();
    PotrOpData opdata = { .account = account, .peer = who };
    ConnContext *master = NULL;
    gboolean was_private = FALSE;
    char *norm = NULL;

    g_return_if_fail(account != NULL && who != NULL);
    master = potr_core_find_context(account, who, OTRL_INSTAG_MASTER, FALSE);
    if (master == NULL)
        return;
    /* the user's own end: the one way (with the peer's end) out of private */
    was_private = potr_session_data(master)->was_private;
    potr_session_data(master)->was_private = FALSE;
    potr_session_data(master)->on_hold = FALSE;
    for (ConnContext *c = master; c != NULL && c->m_context == master; c = c->next) {
        was_private = was_private || c->msgstate != OTRL_MSGSTATE_PLAINTEXT;
        potr_smp_forget_request(c);
    }
    norm = potr_peer_normalize(account, who);
    otrl_message_disconnect_all_instances(us, &potr_ops, &opdata, purple_account_get_username(account),
                                          purple_account_get_protocol_id(account), norm);
    g_free(norm);
    if (was_private)
        potr_session_changed(master, POTR_CHANGE_INSECURE);
}

void
potr_session_end_all(PurpleAccount *account)
{
    OtrlUserState us = potr_core_userstate();
    GHashTable *peers = NULL;   /* potr_peer_key() -> account, each peer once */
    GHashTableIter iter;
    gpointer key = NULL;
    gpointer owner = NULL;

    if (us == NULL)
        return;
    peers = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    /* collect first (masters and instances alike): ending a session
     * changes the context list */
    for (ConnContext *c = us->context_root; c != NULL; c = c->next) {
        PurpleAccount *a = NULL;

        if (c->msgstate == OTRL_MSGSTATE_PLAINTEXT)
            continue;
        a = potr_peer_find_account(c->accountname, c->protocol);
        if (a != NULL && (account == NULL || a == account))
            g_hash_table_insert(peers, potr_peer_key(a, c->username), a);
    }
    g_hash_table_iter_init(&iter, peers);
    while (g_hash_table_iter_next(&iter, &key, &owner))
        potr_session_end(owner, potr_peer_key_buddy(key, owner));
    g_hash_table_destroy(peers);
}

static void
on_keygen_done(const char *accountname, const char *protocol, gboolean ok,
               const GError *error, gpointer user_data)
{
    PurpleAccount *account = potr_peer_find_account(accountname, protocol);

    if (account == NULL)
        return;
    if (!ok) {
        purple_notify_error(session_handle, _("OTR"), _("Your private key could not be generated."),
                            error != NULL ? error->message : NULL);
    }
    purple_signal_emit(potr_core_handle(), "key-generation", account, ok ? 1 : 2);
    potr_session_key_done(account, ok);
}

gboolean
potr_session_keygen(PurpleAccount *account, GError **error)
{
    if (!potr_store_keygen_start(potr_core_userstate(), potr_core_path_keys(),
                                 purple_account_get_username(account),
                                 purple_account_get_protocol_id(account),
                                 on_keygen_done, NULL, error))
        return FALSE;
    purple_signal_emit(potr_core_handle(), "key-generation", account, 0);
    return TRUE;
}

void
potr_session_need_key(PurpleAccount *account, const char *peer)
{
    GHashTable *waiting = NULL;
    char *key = potr_peer_account_key(account);
    GError *error = NULL;
    gboolean running = potr_key_generating(account);

    waiting = g_hash_table_lookup(key_waiters, key);
    if (waiting == NULL) {
        waiting = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        g_hash_table_insert(key_waiters, key, waiting);
        key = NULL;
    }
    if (peer != NULL && !g_hash_table_contains(waiting, peer)) {
        PurpleConversation *conv = purple_conversation_new(PURPLE_CONV_TYPE_IM, account, peer);
        g_hash_table_add(waiting, g_strdup(peer));
        potr_notice_say(conv, _("Generating your private key for {detail} in the background; the "
                               "private conversation will start by itself when it is ready."),
                       peer, purple_account_get_username(account), PURPLE_MESSAGE_SYSTEM);
    }
    if (!running && !potr_session_keygen(account, &error)) {
        purple_debug_error("purple-otr", "key generation: %s\n", error->message);
        g_error_free(error);
    }
    g_free(key);
}

void
potr_session_key_done(PurpleAccount *account, gboolean ok)
{
    char *key = potr_peer_account_key(account);
    GHashTable *waiting = NULL;
    GList *peers = NULL;

    if (!g_hash_table_steal_extended(key_waiters, key, NULL, (gpointer *)&waiting))
        waiting = NULL;
    g_free(key);
    if (waiting == NULL)
        return;
    peers = g_hash_table_get_keys(waiting);
    for (GList *l = peers; l != NULL; l = l->next) {
        PurpleConversation *conv = purple_conversation_new(PURPLE_CONV_TYPE_IM, account, l->data);

        if (ok) {
            potr_notice_say(conv, _("Your private key is ready."), l->data, NULL, PURPLE_MESSAGE_SYSTEM);
            potr_ake_forget_stalled(account, l->data);
            potr_session_start(account, l->data);
        } else {
            potr_notice_say(conv, _("Your private key could not be generated: the private "
                                   "conversation with {buddy} cannot start."),
                           l->data, NULL, PURPLE_MESSAGE_ERROR);
        }
    }
    g_list_free(peers);
    g_hash_table_destroy(waiting);
}



static void
context_data_free(void *data)
{
    PotrContextData *cd = data;

    g_free(cd->asked);
    g_free(cd->address);
    potr_secret_free(cd->last_sent);
    g_free(cd);
}

PotrContextData *
potr_session_data(ConnContext *context)
{
    if (context->app_data == NULL) {
        context->app_data = g_new0(PotrContextData, 1);
        context->app_data_free = context_data_free;
    }
    return context->app_data;
}

gboolean
potr_rate_allow(PotrRate *rate, guint per_minute)
{
    gint64 now = g_get_monotonic_time();

    if (rate->count == 0 || now - rate->start >= 60 * G_USEC_PER_SEC) {
        rate->start = now;
        rate->count = 0;
    }
    rate->count++;
    return rate->count <= per_minute;
}

const char *
potr_session_address(ConnContext *context)
{
    PotrContextData *cd = context != NULL ? context->app_data : NULL;

    if (context == NULL)
        return NULL;
    return cd != NULL && cd->address != NULL ? cd->address : context->username;
}

/* Remember where CONTEXT's instance wrote from (WHO as the protocol gave it). */
static void
note_address(ConnContext *context, const char *who)
{
    PotrContextData *cd = NULL;

    if (context == NULL || context == context->m_context || who == NULL)
        return;
    cd = potr_session_data(context);
    if (g_strcmp0(cd->address, who) != 0) {
        g_free(cd->address);
        cd->address = g_strdup(who);
    }
}

/* A query we sent is still awaiting its key exchange (for a while: a
 * peer that never answers gets asked again later). */
#define POTR_QUERY_PATIENCE_SECONDS 30

gboolean
potr_session_query_pending(ConnContext *context)
{
    gint64 sent = potr_session_data(context)->query_sent;

    return sent != 0 && context->msgstate != OTRL_MSGSTATE_ENCRYPTED
           && g_get_monotonic_time() - sent < POTR_QUERY_PATIENCE_SECONDS * G_USEC_PER_SEC;
}

static void
note_query(ConnContext *context)
{
    potr_session_data(context)->query_sent = g_get_monotonic_time();
}

/* (kept on the master context: the error that asks for it may come from
 * any instance) */
static void
remember_sent(ConnContext *context, const char *html)
{
    PotrContextData *cd = potr_session_data(context->m_context);

    potr_secret_free(cd->last_sent);
    cd->last_sent = purple_markup_strip_html(html);
}

/* Seconds between two "no private conversation here" errors to a peer:
 * a burst of its messages gets one answer. */
#define POTR_TELL_NOT_PRIVATE_SECONDS 10

void
potr_session_tell_not_private(ConnContext *context, const void *opdata)
{
    const PotrOpData *data = opdata;
    PotrContextData *cd = potr_session_data(context->m_context);
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
potr_session_peer_error(ConnContext *context)
{
    PotrContextData *cd = potr_session_data(context->m_context);
    PurpleConversation *conv = potr_session_conv(context, TRUE);

    if (cd->last_sent == NULL)
        return;
    potr_notice_say(conv, _("{buddy} could not read one of your messages; the private conversation "
                           "will be refreshed. This message of yours may not have arrived: "
                           "\xe2\x80\x9c{detail}\xe2\x80\x9d"),
                   context->username, cd->last_sent, PURPLE_MESSAGE_ERROR);
    potr_secret_free(cd->last_sent);
    cd->last_sent = NULL;
}


void
potr_session_set_trust(ConnContext *context, const char *trust)
{
    g_return_if_fail(context != NULL);
    if (context->active_fingerprint == NULL)
        return;
    otrl_context_set_trust(context->active_fingerprint, trust);
    potr_core_save_fingerprints();
    potr_session_changed(context, POTR_CHANGE_TRUST);
}

static void
on_conversation_created(PurpleConversation *conv, gpointer data)
{
    if (purple_conversation_get_type(conv) != PURPLE_CONV_TYPE_IM)
        return;
    update_logging(conv);
    potr_session_emit_level(conv);
}

static void
on_deleting_conversation(PurpleConversation *conv, gpointer data)
{
    potr_notice_conv_gone(conv);
    potr_dialogs_conv_gone(conv);
    purple_request_close_with_handle(conv);
}

void
potr_session_init(void *handle)
{
    void *convs = purple_conversations_get_handle();

    session_handle = handle;
    potr_held_init();
    key_waiters = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                        (GDestroyNotify)g_hash_table_destroy);
    potr_notice_init();
    potr_ake_init();
    purple_signal_connect(convs, "sending-im-msg", handle, PURPLE_CALLBACK(on_sending_im), NULL);
    purple_signal_connect(convs, "receiving-im-msg", handle, PURPLE_CALLBACK(on_receiving_im), NULL);
    purple_signal_connect(convs, "writing-im-msg", handle, PURPLE_CALLBACK(on_writing_im), NULL);
    purple_signal_connect(convs, "conversation-created", handle,
                          PURPLE_CALLBACK(on_conversation_created), NULL);
    purple_signal_connect(convs, "deleting-conversation", handle,
                          PURPLE_CALLBACK(on_deleting_conversation), NULL);
}

void
potr_session_uninit(void)
{
    GList *convs = NULL;

    if (session_handle == NULL)
        return;
    potr_held_drop(NULL);
    /* give back the logging that was switched off for private conversations */
    for (convs = purple_get_ims(); convs != NULL; convs = convs->next)
        if (purple_conversation_get_data(convs->data, "potr-unlogged") != NULL) {
            purple_conversation_set_data(convs->data, "potr-unlogged", NULL);
            purple_conversation_set_logging(convs->data, TRUE);
        }
    potr_held_uninit();
    g_clear_pointer(&key_waiters, g_hash_table_destroy);
    potr_notice_uninit();
    potr_ake_uninit();
    session_handle = NULL;
}

void
potr_session_emit_level(PurpleConversation *conv)
{
    PotrLevel level = POTR_LEVEL_NOT_PRIVATE;
    ConnContext *context = NULL;
    guint instance = 0;
    gpointer last = NULL;

    if (conv == NULL || potr_core_handle() == NULL)
        return;
    level = potr_conv_level(conv);
    context = level != POTR_LEVEL_NOT_PRIVATE ? potr_session_context(conv) : NULL;
    instance = context != NULL ? context->their_instance : 0;
    /* the level is stored + 1 so that "never emitted" (NULL) differs from
     * "not private" (0); the instance in use too, since another login of
     * the peer brings another key (dialogs that show it must follow) */
    last = purple_conversation_get_data(conv, "potr-level");
    if (last != NULL && GPOINTER_TO_INT(last) == (int)level + 1
        && GPOINTER_TO_UINT(purple_conversation_get_data(conv, "potr-instance-shown")) == instance)
        return;
    purple_conversation_set_data(conv, "potr-level", GINT_TO_POINTER((int)level + 1));
    purple_conversation_set_data(conv, "potr-instance-shown", GUINT_TO_POINTER(instance));
    purple_signal_emit(potr_core_handle(), "level-changed", conv, (int)level);
}

PotrLevel
potr_conv_level(PurpleConversation *conv)
{
    if (conv == NULL || potr_core_userstate() == NULL
        || purple_conversation_get_type(conv) != PURPLE_CONV_TYPE_IM)
        return POTR_LEVEL_NOT_PRIVATE;
    potr_core_refresh_trust();
    return potr_session_level_of(potr_session_context(conv));
}
