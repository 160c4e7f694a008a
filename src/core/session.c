/* purple-otr - GPL-2.0-or-later
 * Session: the send and receive hooks; state changes of a private
 * conversation told to the user; holding and ending conversations. */
#include "i18n.h"
#include "session.h"

#include <string.h>
#include <libotr/privkey.h>
#include <libotr/tlv.h>

#include "ake.h"
#include "context.h"
#include "core.h"
#include "dialogs.h"
#include "events.h"
#include "held.h"
#include "logging.h"
#include "ops.h"
#include "policy.h"
#include "send.h"
#include "smp.h"
#include "xmpp.h"
#include "peer.h"
#include "notice.h"

static void *session_handle = NULL;

/* An error line that is not repeated for a burst of the same cause. */
static void
write_dedupe(PurpleConversation *conv, const char *template_, const char *buddy)
{
    char *line = potr_event_expand(template_, buddy, NULL);

    potr_notice_write(conv, line, PURPLE_MESSAGE_ERROR, TRUE);
    g_free(line);
}

static void
refuse(PurpleAccount *account, const char *who, char **message, const char *why)
{
    PurpleConversation *conv = purple_conversation_new(PURPLE_CONV_TYPE_IM, account, who);

    potr_send_echo(conv, *message);
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
        instance = potr_context_instance(conv);
    context = potr_core_find_context(account, receiver, instance, TRUE);
    policy = potr_policy_for(account, receiver);

    if (potr_context_on_hold(context)) {
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
             ? potr_context_address(context) : receiver;
    if (g_strcmp0(target, receiver) != 0 && strchr(target, '/') != NULL) {
        /* the window's name follows the login that wrote last, the
         * instance in use may be another login: its data goes to that
         * login's own address, sent here (libpurple would send it to the
         * window's), and is shown as sent */
        if (!potr_send_encrypt(account, target, instance, *message, NULL)) {
            refuse(account, receiver, message,
                   _("This message was NOT sent: it could not be encrypted for {buddy}."));
            return;
        }
        potr_send_echo(purple_conversation_new(PURPLE_CONV_TYPE_IM, account, receiver), *message);
        g_clear_pointer(message, g_free);
        return;
    }
    if (!potr_send_encrypt(account, receiver, instance, *message, &last)) {
        refuse(account, receiver, message,
               _("This message was NOT sent: it could not be encrypted for {buddy}."));
        return;
    }
    g_free(*message);
    *message = last;
}

/* The flags of MESSAGE if it is an OTR data message, else -1. */
static int
data_flags(const char *message)
{
    char prefix[21];
    guchar *bytes = NULL;
    gsize len = 0;
    int flags = -1;

    if (!g_str_has_prefix(message, "?OTR:") || strlen(message) < 5 + 20)
        return -1;
    g_strlcpy(prefix, message + 5, sizeof prefix);
    bytes = g_base64_decode(prefix, &len);
    /* version (2 bytes), type (1; 0x03 is data), then v3 instance tags */
    if (len >= 15 && bytes[0] == 0 && bytes[2] == 0x03)
        flags = bytes[1] == 3 ? bytes[11] : bytes[3];
    g_free(bytes);
    return flags;
}

static gboolean
is_otr_data(const char *message)
{
    return data_flags(message) >= 0;
}

/* TRUE if MESSAGE is an OTR data message that the sender did not mark
 * "ignore if unreadable" (heartbeats, verification and goodbyes are). */
static gboolean
is_plain_data_message(const char *message)
{
    int flags = data_flags(message);

    return flags >= 0 && (flags & OTRL_MSGFLAGS_IGNORE_UNREADABLE) == 0;
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

    /* data only: a stored key-exchange message would make libotr do the
     * work of an exchange (and make contexts) past the bound on them, and
     * anyone can mark a message as stored (a <delay/>) */
    if (!is_otr_data(message))
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
    if (is_plain_data_message(*message)) {
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
    if (!opdata.quiet && !potr_ake_screen(account, norm, message)) {
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
        potr_context_note_address(context, *who);
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
                potr_send_tell_not_private(potr_core_find_context(account, norm, OTRL_INSTAG_MASTER, TRUE),
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
        potr_context_emit_level(conv);
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
    PotrLevel level = potr_context_level(context);

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
        potr_context_data(context->m_context)->on_hold = FALSE;
        potr_context_data(context->m_context)->was_private = TRUE;
    }
    /* presence-driven changes never open a window by themselves */
    conv = potr_context_conv(context, change != POTR_CHANGE_TRUST && change != POTR_CHANGE_OFFLINE
                                      && change != POTR_CHANGE_WENT_OFFLINE);
    if (conv == NULL)
        return;
    potr_logging_update(conv);
    text = change_text(context, change);
    if (text != NULL)
        potr_notice_say(conv, text, context->username, NULL,
                       change == POTR_CHANGE_FINISHED ? PURPLE_MESSAGE_ERROR : PURPLE_MESSAGE_SYSTEM);
    if (secure && key_changed_since_verified(context))
        warn_key_changed(conv, context);
    potr_context_emit_level(conv);
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
    potr_context_data(master)->on_hold = TRUE;
    potr_session_changed(master, why);
    return TRUE;
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
    was_private = potr_context_data(master)->was_private;
    potr_context_data(master)->was_private = FALSE;
    potr_context_data(master)->on_hold = FALSE;
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
on_conversation_created(PurpleConversation *conv, gpointer data)
{
    if (purple_conversation_get_type(conv) != PURPLE_CONV_TYPE_IM)
        return;
    potr_logging_update(conv);
    potr_context_emit_level(conv);
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
    potr_notice_init();
    potr_ake_init();
    purple_signal_connect(convs, "sending-im-msg", handle, PURPLE_CALLBACK(on_sending_im), NULL);
    purple_signal_connect(convs, "receiving-im-msg", handle, PURPLE_CALLBACK(on_receiving_im), NULL);
    potr_logging_init(handle);
    purple_signal_connect(convs, "conversation-created", handle,
                          PURPLE_CALLBACK(on_conversation_created), NULL);
    purple_signal_connect(convs, "deleting-conversation", handle,
                          PURPLE_CALLBACK(on_deleting_conversation), NULL);
}

void
potr_session_uninit(void)
{
    if (session_handle == NULL)
        return;
    potr_held_drop(NULL);
    potr_logging_uninit();
    potr_held_uninit();
    potr_notice_uninit();
    potr_ake_uninit();
    session_handle = NULL;
}
