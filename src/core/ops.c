/* purple-otr - GPL-2.0-or-later
 * Ops: the callbacks libotr calls (OtrlMessageAppOps). */
#include "i18n.h"
#include "ops.h"

#include <string.h>
#include <libotr/privkey.h>
#include <libotr/instag.h>

#include "context.h"
#include "core.h"
#include "events.h"
#include "html.h"
#include "metadata.h"
#include "policy.h"
#include "store.h"
#include "peer.h"
#include "notice.h"

static guint poll_timer = 0;
/* what the engine installed; none before it starts and after it stops */
static PotrOpsHandlers handlers;

void
potr_ops_set_handlers(const PotrOpsHandlers *set)
{
    if (set != NULL)
        handlers = *set;
    else
        memset(&handlers, 0, sizeof handlers);
}

/* 512 - 2 (CRLF) - 150 (the relaying server's prefix, see below) */
#define POTR_IRC_FRAGMENT 360

/* Largest message each protocol carries, as far as their servers are
 * known to accept; XMPP (and anything not listed) is not fragmented. */
static const struct {
    const char *protocol;
    int size;
} max_sizes[] = {
    { "prpl-msn", 1409 },
    { "prpl-icq", 2346 },
    { "prpl-aim", 2343 },
    { "prpl-yahoo", 799 },
    { "prpl-gg", 1999 },
    /* an IRC line is at most 512 bytes with its CRLF and the prefix the
     * server puts before it when it relays it (":nick!user@host PRIVMSG
     * target :", up to about 150 bytes with 30-byte nicks and a 63-byte
     * host): a longer fragment is cut by the server and lost */
    { "prpl-irc", POTR_IRC_FRAGMENT },
    { "prpl-novell", 1792 },
};

int
potr_ops_max_message_size(PurpleAccount *account, const char *protocol)
{
    int configured = -1;

    if (account != NULL)
        configured = purple_account_get_int(account, "otr.max_message_size", -1);
    if (configured > 0 && configured < POTR_FRAGMENT_MIN)
        return POTR_FRAGMENT_MIN;
    if (configured >= 0)
        return configured;
    for (guint i = 0; i < G_N_ELEMENTS(max_sizes); i++)
        if (g_strcmp0(protocol, max_sizes[i].protocol) == 0)
            return max_sizes[i].size;
    return 0;
}

/* The account of CONTEXT. The message being handled names it in OPDATA,
 * which saves purple_accounts_find()'s walk over every account (the
 * largest cost of the message path when a user has many accounts). */
static PurpleAccount *
context_account(void *opdata, ConnContext *context)
{
    PotrOpData *data = opdata;

    if (data != NULL && data->account != NULL
        && g_strcmp0(purple_account_get_username(data->account), context->accountname) == 0
        && g_strcmp0(purple_account_get_protocol_id(data->account), context->protocol) == 0)
        return data->account;
    return potr_peer_find_account(context->accountname, context->protocol);
}

static OtrlPolicy
op_policy(void *opdata, ConnContext *context)
{
    PurpleAccount *account = NULL;

    if (context == NULL)
        return potr_policy_to_otrl(potr_policy_global());
    account = context_account(opdata, context);
    return potr_policy_to_otrl(potr_policy_for(account, context->username));
}

static void
op_create_privkey(void *opdata, const char *accountname, const char *protocol)
{
    PotrOpData *data = opdata;
    PurpleAccount *account = potr_peer_find_account(accountname, protocol);

    if (account == NULL)
        return;
    if (handlers.need_key != NULL)
        handlers.need_key(account, data != NULL ? data->peer : NULL);
}

static int
op_is_logged_in(void *opdata, const char *accountname, const char *protocol,
                const char *recipient)
{
    PurpleAccount *account = potr_peer_find_account(accountname, protocol);
    PurpleBuddy *buddy = NULL;

    if (account == NULL || !purple_account_is_connected(account))
        return 0;
    buddy = purple_find_buddy(account, recipient);
    /* Why "online" for someone not on the buddy list: libotr tells the
     * peer that a session ended only when this says 1. Presence of a
     * non-buddy is unknown; telling them costs one message, not telling
     * them leaves their side private while ours is not. */
    if (buddy == NULL)
        return 1;
    return PURPLE_BUDDY_IS_ONLINE(buddy) ? 1 : 0;
}

/* Why serv_send_im: it hands the message to the protocol without emitting
 * "sending-im-msg", so OTR protocol data never runs through our own send
 * hook again (no recursion, no double encryption). */
static void
op_inject_message(void *opdata, const char *accountname, const char *protocol,
                  const char *recipient, const char *message)
{
    PotrOpData *data = opdata;
    PurpleAccount *account = potr_peer_find_account(accountname, protocol);
    PurpleConnection *gc = NULL;
    const char *to = recipient;

    /* a message stored by the server belongs to the past: answering it
     * (errors, key exchanges) would only confuse the peer's session now */
    if (data != NULL && data->quiet)
        return;
    if (account == NULL || (gc = purple_account_get_connection(account)) == NULL) {
        purple_debug_warning("purple-otr", "cannot send OTR data: account %s is offline\n",
                             accountname);
        return;
    }
    /* answer the very address (e.g. XMPP resource) the message came from */
    if (data != NULL && data->peer != NULL && data->account == account) {
        char *norm = potr_peer_normalize(account, data->peer);
        if (g_strcmp0(norm, recipient) == 0)
            to = data->peer;
        g_free(norm);
    }
    if (g_str_has_prefix(message, "?OTR:AAMC") && handlers.commit_sent != NULL)
        handlers.commit_sent(account, recipient);
    /* prpl-jabber expects a conversation for every IM it sends (it asserts
     * on a missing one); the peer started talking to us, so one is due */
    if (purple_find_conversation_with_account(PURPLE_CONV_TYPE_IM, to, account) == NULL)
        purple_conversation_new(PURPLE_CONV_TYPE_IM, account, to);
    /* libotr's query text carries HTML; XMPP bodies are plain text (the
     * protocol would otherwise attach an XHTML copy of an OTR message) */
    if (strchr(message, '<') != NULL && g_str_has_prefix(message, "?OTR")
        && g_strcmp0(protocol, "prpl-jabber") == 0) {
        char *plain = purple_markup_strip_html(message);

        serv_send_im(gc, to, plain, 0);
        g_free(plain);
        return;
    }
    serv_send_im(gc, to, message, 0);
}

static void
op_update_context_list(void *opdata)
{
}

static void
op_new_fingerprint(void *opdata, OtrlUserState us, const char *accountname,
                   const char *protocol, const char *username, unsigned char fingerprint[20])
{
    PurpleAccount *account = potr_peer_find_account(accountname, protocol);
    PurpleConversation *conv = NULL;
    char human[OTRL_PRIVKEY_FPRINT_HUMAN_LEN];
    char *line = NULL;

    if (account == NULL)
        return;
    conv = purple_conversation_new(PURPLE_CONV_TYPE_IM, account, username);
    otrl_privkey_hash_to_human(human, fingerprint);
    line = potr_event_expand(_("{buddy} uses a key you have not seen before, fingerprint {detail}. "
                               "Verify it (/otr smp ask, or compare with /otr fingerprint and "
                               "/otr trust) before you trust the conversation."),
                             username, human);
    potr_notice_write(conv, line, PURPLE_MESSAGE_SYSTEM, FALSE);
    potr_notice_set_shown(conv, human);
    g_free(line);
}

static void
op_write_fingerprints(void *opdata)
{
    potr_core_save_fingerprints();
}

static void
changed(ConnContext *context, PotrChange change)
{
    if (handlers.changed != NULL)
        handlers.changed(context, change);
}

static void
op_gone_secure(void *opdata, ConnContext *context)
{
    potr_core_refresh_trust(); /* the level says what another program trusts */
    changed(context, POTR_CHANGE_SECURE);
}

static void
op_gone_insecure(void *opdata, ConnContext *context)
{
    changed(context, POTR_CHANGE_INSECURE);
}

static void
op_still_secure(void *opdata, ConnContext *context, int is_reply)
{
    changed(context, POTR_CHANGE_REFRESHED);
}

static int
op_max_message_size(void *opdata, ConnContext *context)
{
    return potr_ops_max_message_size(context_account(opdata, context), context->protocol);
}

static const char *
op_account_name(void *opdata, const char *account, const char *protocol)
{
    return g_strdup(account);
}

static void
op_account_name_free(void *opdata, const char *account_name)
{
    g_free((char *)account_name);
}

/* Sent to the peer inside "?OTR Error:": not translated, the peer may not
 * read our language. */
static const char *
op_otr_error_message(void *opdata, ConnContext *context, OtrlErrorCode code)
{
    switch (code) {
    case OTRL_ERRCODE_ENCRYPTION_ERROR:
        return g_strdup("Error encrypting the message.");
    case OTRL_ERRCODE_MSG_NOT_IN_PRIVATE:
        return g_strdup("You sent an encrypted message, but no private conversation is open here.");
    case OTRL_ERRCODE_MSG_UNREADABLE:
        return g_strdup("You sent an encrypted message that could not be read.");
    case OTRL_ERRCODE_MSG_MALFORMED:
        return g_strdup("You sent a malformed OTR message.");
    case OTRL_ERRCODE_NONE:
    default:
        return NULL;
    }
}

static void
op_otr_error_message_free(void *opdata, const char *err_msg)
{
    g_free((char *)err_msg);
}

static const char *
op_resent_msg_prefix(void *opdata, ConnContext *context)
{
    return g_strdup(_("[resent]"));
}

static void
op_resent_msg_prefix_free(void *opdata, const char *prefix)
{
    g_free((char *)prefix);
}

static void
op_handle_smp_event(void *opdata, OtrlSMPEvent smp_event, ConnContext *context,
                    unsigned short progress_percent, char *question)
{
    if (handlers.smp_event != NULL)
        handlers.smp_event(context, smp_event, progress_percent, question);
}

static void
op_handle_msg_event(void *opdata, OtrlMessageEvent msg_event, ConnContext *context,
                    const char *message, gcry_error_t err)
{
    PotrOpData *data = opdata;
    PurpleMessageFlags flags = PURPLE_MESSAGE_SYSTEM;
    PurpleConversation *conv = NULL;
    char *line = NULL;

    if (context == NULL || (data != NULL && data->quiet))
        return;
    if (msg_event == OTRL_MSGEVENT_RCVDMSG_GENERAL_ERR && handlers.peer_error != NULL)
        handlers.peer_error(context);
    /* Why answer here when libotr does not: v3 data names our instance,
     * so it was meant for this client, whose session is gone (a restart);
     * the sender learns it, tells its user and starts a new exchange. */
    if (msg_event == OTRL_MSGEVENT_RCVDMSG_NOT_IN_PRIVATE && data != NULL && data->v3_data
        && handlers.not_private != NULL)
        handlers.not_private(context, data);
    line = potr_event_describe(msg_event, context->username, message, err, &flags);
    if (line == NULL)
        return;
    conv = potr_context_conv(context, TRUE);
    potr_notice_write(conv, line, flags, TRUE);
    g_free(line);
    if (msg_event == OTRL_MSGEVENT_CONNECTION_ENDED)
        potr_context_emit_level(conv);
}

static void
op_create_instag(void *opdata, const char *accountname, const char *protocol)
{
    GError *error = NULL;

    if (!potr_store_new_instag(potr_core_userstate(), potr_core_path_instags(),
                               accountname, protocol, &error)) {
        purple_debug_error("purple-otr", "instance tag: %s\n", error->message);
        g_error_free(error);
    }
}

/* HTML inside the encryption: kept for peers that display it (Pidgin),
 * turned into plain text for the others, both ways. */
static void
op_convert_msg(void *opdata, ConnContext *context, OtrlConvertType type,
               char **dest, const char *src)
{
    PotrOpData *data = opdata;
    PurpleAccount *account = context_account(opdata, context);
    /* the address of the message at hand names the peer's client */
    const char *who = data != NULL && data->peer != NULL && strchr(data->peer, '/') != NULL
                      ? data->peer : context->username;

    *dest = NULL;
    if (account != NULL && src != NULL && !potr_html_peer_reads_html(account, who))
        *dest = type == OTRL_CONVERT_SENDING ? potr_html_to_plain(src) : potr_html_from_plain(src);
    /* libotr encrypts right after this: the padding fits the final text */
    if (type == OTRL_CONVERT_SENDING && data != NULL)
        potr_metadata_fit_padding(data->padding, context, *dest != NULL ? *dest : src);
}

static void
op_convert_free(void *opdata, ConnContext *context, char *dest)
{
    g_free(dest);
}

static gboolean
poll_cb(gpointer data)
{
    OtrlUserState us = potr_core_userstate();

    if (us != NULL)
        otrl_message_poll(us, &potr_ops, NULL);
    return G_SOURCE_CONTINUE;
}

static void
op_timer_control(void *opdata, unsigned int interval)
{
    potr_ops_stop_timer();
    if (interval > 0)
        poll_timer = g_timeout_add_seconds(interval, poll_cb, NULL);
}

void
potr_ops_stop_timer(void)
{
    if (poll_timer != 0) {
        g_source_remove(poll_timer);
        poll_timer = 0;
    }
}

const OtrlMessageAppOps potr_ops = {
    .policy = op_policy,
    .create_privkey = op_create_privkey,
    .is_logged_in = op_is_logged_in,
    .inject_message = op_inject_message,
    .update_context_list = op_update_context_list,
    .new_fingerprint = op_new_fingerprint,
    .write_fingerprints = op_write_fingerprints,
    .gone_secure = op_gone_secure,
    .gone_insecure = op_gone_insecure,
    .still_secure = op_still_secure,
    .max_message_size = op_max_message_size,
    .account_name = op_account_name,
    .account_name_free = op_account_name_free,
    .received_symkey = NULL,
    .otr_error_message = op_otr_error_message,
    .otr_error_message_free = op_otr_error_message_free,
    .resent_msg_prefix = op_resent_msg_prefix,
    .resent_msg_prefix_free = op_resent_msg_prefix_free,
    .handle_smp_event = op_handle_smp_event,
    .handle_msg_event = op_handle_msg_event,
    .create_instag = op_create_instag,
    .convert_msg = op_convert_msg,
    .convert_free = op_convert_free,
    .timer_control = op_timer_control,
};
