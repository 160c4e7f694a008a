/* purple-otr - GPL-2.0-or-later
 * AKE: starting key exchanges (the query, and our key first when there is
 * none yet) and seeing them through: two that cross, one that stalls, one
 * that waited for our new key. */
#include "i18n.h"
#include "ake.h"

#include <string.h>
#include <time.h>
#include <libotr/auth.h>
#include <libotr/context.h>
#include <libotr/context_priv.h>
#include <libotr/instag.h>
#include <libotr/privkey.h>
#include <libotr/proto.h>

#include "context.h"
#include "core.h"
#include "policy.h"
#include "store.h"
#include "peer.h"
#include "notice.h"

/* potr_peer_key() -> time (time_t) we last sent a D-H commit to that
 * buddy, while the exchange it began is not finished */
static GHashTable *commits_sent = NULL;
/* potr_peer_key() -> source id of the check that a started key exchange
 * ended, and -> how many times it was started again */
static GHashTable *ake_checks = NULL;
static GHashTable *ake_tries = NULL;
/* potr_peer_account_key() -> GHashTable set of peers waiting for the key */
static GHashTable *key_waiters = NULL;

/* Crossing key exchanges. When both sides answer each other's query at
 * once, both send a D-H commit; with v3 instance tags libotr handles each
 * incoming commit in a fresh instance context instead of comparing it with
 * its own, the two exchanges overwrite each other's state and neither
 * finishes. The protocol's rule is that one of the two commits wins; the
 * side whose account name sorts first keeps its own and ignores the
 * peer's, which both sides decide alike. Only a recent commit of ours
 * counts (a stale one would block a fresh exchange). */
#define POTR_COMMIT_FRESH_SECONDS 30

/* The message libotr acts on once MESSAGE from NORM is in: MESSAGE itself
 * when it is not a fragment; the whole reassembled message (a new string,
 * stored in *WHOLE for the caller to free) when MESSAGE is the fragment that
 * completes one; NULL when it completes nothing (libotr only stores it).
 * Why: a hostile peer (or the server) could send a D-H commit or a query in
 * fragments, and the checks below, which read the message, would never see
 * it. This follows libotr 4.1's reassembly (proto.c: "?OTR|sender|receiver,
 * k,n,piece," for v3 in the sender instance's context, "?OTR,k,n,piece,"
 * for v2 in the master context), reading its buffer and changing nothing;
 * dropping the completing fragment keeps libotr from ever acting on it. */
static const char *
message_acted_on(PurpleAccount *account, const char *norm, const char *message, char **whole,
                 gboolean *new_login)
{
    const char *tag = NULL;
    unsigned int their = 0, ours = 0;
    unsigned short k = 0, n = 0;
    int start = 0, end = 0;
    otrl_instag_t instance = OTRL_INSTAG_MASTER;
    ConnContext *master = NULL;
    ConnContext *context = NULL;
    const char *piece = NULL;
    size_t piece_len = 0;

    *whole = NULL;
    *new_login = FALSE;
    if ((tag = strstr(message, "?OTR|")) != NULL) {
        if (sscanf(tag, "?OTR|%x|%x,%hu,%hu,%n%*[^,],%n", &their, &ours, &k, &n, &start, &end) < 4)
            return NULL;
        if (their < OTRL_MIN_VALID_INSTAG)
            return NULL;   /* libotr drops it as malformed */
        instance = their;
    } else if ((tag = strstr(message, "?OTR,")) != NULL) {
        if (sscanf(tag, "?OTR,%hu,%hu,%n%*[^,],%n", &k, &n, &start, &end) < 2)
            return NULL;
    } else {
        return message;
    }
    if (k == 0 || n == 0 || k > n || start <= 0 || end <= start)
        return NULL;
    master = potr_core_find_context(account, norm, OTRL_INSTAG_MASTER, FALSE);
    if (ours != 0 && (master == NULL || master->our_instance != ours))
        return NULL;   /* for another login of ours: libotr ignores it */
    /* libotr makes a context for a v3 sender it does not know, and keeps it */
    *new_login = instance != OTRL_INSTAG_MASTER
                 && potr_core_find_context(account, norm, instance, FALSE) == NULL;
    piece = tag + start;
    piece_len = (size_t)(end - start - 1);
    if (k == 1) {
        if (n == 1)
            *whole = g_strndup(piece, piece_len);
        return *whole;
    }
    context = instance == OTRL_INSTAG_MASTER
                  ? master
                  : potr_core_find_context(account, norm, instance, FALSE);
    if (context == NULL || context->context_priv == NULL || context->context_priv->fragment == NULL
        || k != n || n != context->context_priv->fragment_n
        || k != context->context_priv->fragment_k + 1)
        return NULL;
    *whole = g_malloc(context->context_priv->fragment_len + piece_len + 1);
    memcpy(*whole, context->context_priv->fragment, context->context_priv->fragment_len);
    memcpy(*whole + context->context_priv->fragment_len, piece, piece_len);
    (*whole)[context->context_priv->fragment_len + piece_len] = '\0';
    return *whole;
}

static gboolean
our_commit_wins(PurpleAccount *account, const char *norm, const char *message)
{
    char *key = NULL;
    char *own = NULL;
    gpointer sent = NULL;
    gboolean ours_wins = FALSE;

    if (commits_sent == NULL || !g_str_has_prefix(message, "?OTR:AAMC"))
        return FALSE;   /* v2 commits meet in one context: libotr decides */
    key = potr_peer_key(account, norm);
    sent = g_hash_table_lookup(commits_sent, key);
    g_free(key);
    if (sent == NULL || time(NULL) - (time_t)GPOINTER_TO_SIZE(sent) > POTR_COMMIT_FRESH_SECONDS)
        return FALSE;
    own = potr_peer_normalize(account, purple_account_get_username(account));
    ours_wins = strcmp(own, norm) < 0;
    g_free(own);
    return ours_wins;
}


/* Key exchanges a peer may start in a minute. Why a bound: each one costs
 * a modular exponentiation and a signature, and libotr keeps about 10 KB
 * of every exchange a peer starts over a private conversation for as long
 * as the conversation lives; a hostile peer (or a server replaying its
 * commits) could otherwise grow the client's memory and load without end.
 * Honest clients start a handful at the most (a start, a refresh, two
 * retries of a stalled one). */
#define POTR_PEER_AKES_PER_MINUTE 10

/* What a message from the peer costs us. */
typedef enum {
    COST_NONE,
    COST_EXCHANGE,   /* a key exchange, or a context for a login never seen */
    COST_TAG,        /* a whitespace tag that our policy answers with an exchange */
} Cost;

/* The cost of MESSAGE (whole, as libotr will act on it) from NORM, and its
 * type in *TYPE. Why by libotr's own reading (otrl_proto_message_type):
 * a query has several spellings ("?OTRv23?", "?OTR?v3?"), and only
 * libotr's parser knows them all. A v3 message from a sender instance
 * libotr has no context for makes it create one, kept for as long as the
 * program runs: a server or peer inventing logins would grow it without
 * end, so that counts as an exchange too (an honest login costs one). */
static Cost
message_cost(PurpleAccount *account, const char *norm, const char *message, OtrlMessageType *type)
{
    const char *otrtag = strstr(message, "?OTR");
    unsigned int from = 0, to = 0;

    *type = otrl_proto_message_type(message);
    switch (*type) {
    case OTRL_MSGTYPE_QUERY:
    case OTRL_MSGTYPE_DH_COMMIT:
    case OTRL_MSGTYPE_V1_KEYEXCH:
        return COST_EXCHANGE;
    case OTRL_MSGTYPE_TAGGEDPLAINTEXT:
        return (potr_policy_to_otrl(potr_policy_for(account, norm)) & OTRL_POLICY_WHITESPACE_START_AKE)
                   ? COST_TAG
                   : COST_NONE;
    case OTRL_MSGTYPE_DH_KEY:
    case OTRL_MSGTYPE_REVEALSIG:
    case OTRL_MSGTYPE_SIGNATURE:
    case OTRL_MSGTYPE_DATA:
        if (otrtag != NULL && otrl_proto_message_version(message) == 3
            && otrl_proto_instance(otrtag, &from, &to) == 0 && from >= OTRL_MIN_VALID_INSTAG
            && potr_core_find_context(account, norm, from, FALSE) == NULL)
            return COST_EXCHANGE;
        return COST_NONE;
    default:
        return COST_NONE;
    }
}

/* MESSAGE without its whitespace tag (a new string), or NULL if it has none. */
static char *
without_tag(const char *message)
{
    const char *start = NULL;
    const char *end = NULL;
    GString *out = NULL;

    otrl_proto_whitespace_bestversion(message, &start, &end, OTRL_POLICY_ALLOW_V2 | OTRL_POLICY_ALLOW_V3);
    if (start == NULL || end == NULL)
        return NULL;
    out = g_string_new_len(message, start - message);
    g_string_append(out, end);
    return g_string_free(out, FALSE);
}

/* Our own query is answered by one D-H commit (two when the peer's
 * logins both answer); more are counted like any other. */
#define POTR_QUERY_ANSWERS 2

gboolean
potr_ake_screen(PurpleAccount *account, const char *norm, char **message)
{
    char *whole = NULL;
    gboolean new_login = FALSE;
    const char *acted = message_acted_on(account, norm, *message, &whole, &new_login);
    OtrlMessageType type = OTRL_MSGTYPE_NOTOTR;
    Cost cost = acted != NULL ? message_cost(account, norm, acted, &type) : COST_NONE;
    ConnContext *master = NULL;
    PotrContextData *md = NULL;
    gboolean may = TRUE;

    if (new_login && cost == COST_NONE)
        cost = COST_EXCHANGE;   /* a fragment that makes libotr a context */
    if (cost == COST_NONE)
        goto done;
    master = potr_core_find_context(account, norm, OTRL_INSTAG_MASTER, FALSE);
    if (master == NULL)
        goto done;   /* a first contact: libotr makes its context */
    md = potr_context_data(master);
    if (type == OTRL_MSGTYPE_DH_COMMIT && potr_context_query_pending(master)
        && md->query_answers < POTR_QUERY_ANSWERS) {
        md->query_answers++;
        goto done;   /* the answer to our own query: we asked for it */
    }
    if (potr_rate_allow(&md->peer_akes, POTR_PEER_AKES_PER_MINUTE))
        goto done;
    if (md->peer_akes.count == POTR_PEER_AKES_PER_MINUTE + 1)
        potr_notice_say(potr_context_conv(master, FALSE),
                         _("{buddy} started too many key exchanges in a minute; more are ignored "
                           "for the rest of it."), master->username, NULL, PURPLE_MESSAGE_ERROR);
    if (cost == COST_TAG && whole == NULL) {
        /* the text is the peer's message: it is shown, without the tag
         * that would start one more exchange */
        char *plain = without_tag(*message);

        if (plain != NULL) {
            g_free(*message);
            *message = plain;
            acted = NULL;   /* (it was *MESSAGE) */
            goto done;
        }
    }
    purple_debug_info("purple-otr", "key exchange beyond the rate limit dropped\n");
    may = FALSE;

done:
    if (may && acted != NULL && our_commit_wins(account, norm, acted)) {
        purple_debug_info("purple-otr", "crossing key exchange: ours goes on\n");
        may = FALSE;
    }
    g_free(whole);
    return may;
}

void
potr_ake_commit_sent(PurpleAccount *account, const char *who)
{
    if (commits_sent != NULL)
        g_hash_table_insert(commits_sent, potr_peer_key(account, who), GSIZE_TO_POINTER((gsize)time(NULL)));
}

static void
forget_commit(ConnContext *context)
{
    PurpleAccount *account = potr_peer_find_account(context->accountname, context->protocol);
    char *key = NULL;

    if (account == NULL || commits_sent == NULL)
        return;
    key = potr_peer_key(account, context->username);
    g_hash_table_remove(commits_sent, key);
    g_free(key);
}

/* A key exchange that a peer who speaks OTR began but that did not end
 * (a message lost on the way, two exchanges crossing while a key was being
 * made) is started again, twice at the most, instead of leaving the user
 * at "Starting a private conversation..." for ever. */
#define POTR_AKE_PATIENCE_SECONDS 15
#define POTR_AKE_TRIES 2

/* Seconds to wait; POTR_AKE_PATIENCE in the environment (1..600) lets the
 * end-to-end tests see a retry without waiting for it. */
static guint
ake_patience(void)
{
    const char *env = g_getenv("POTR_AKE_PATIENCE");
    guint64 value = env != NULL ? g_ascii_strtoull(env, NULL, 10) : 0;

    return value >= 1 && value <= 600 ? (guint)value : POTR_AKE_PATIENCE_SECONDS;
}

static gboolean
ake_check_due(gpointer data)
{
    const char *key = data;
    char **parts = g_strsplit(key, "\n", 3);
    PurpleAccount *account = g_strv_length(parts) == 3 ? purple_accounts_find(parts[1], parts[0]) : NULL;
    ConnContext *master = account != NULL ? potr_core_find_context(account, parts[2], OTRL_INSTAG_MASTER, FALSE) : NULL;
    guint tries = GPOINTER_TO_UINT(g_hash_table_lookup(ake_tries, key));
    gboolean secure = FALSE;
    gboolean answered = FALSE;

    for (ConnContext *c = master; c != NULL && c->m_context == master; c = c->next) {
        /* a finished session was private and ended: nothing to retry */
        secure = secure || c->msgstate != OTRL_MSGSTATE_PLAINTEXT;
        answered = answered || c->auth.authstate != OTRL_AUTHSTATE_NONE
                   || c->otr_offer == OFFER_ACCEPTED;
    }
    if (account != NULL) {
        PurpleBuddy *buddy = purple_find_buddy(account, parts[2]);

        if (buddy != NULL && !PURPLE_BUDDY_IS_ONLINE(buddy))
            answered = FALSE;   /* gone: the exchange restarts when they are back */
    }
    {
        gpointer stored = NULL;

        /* this source ends here: forget it without removing it */
        if (g_hash_table_steal_extended(ake_checks, key, &stored, NULL))
            g_free(stored);
    }
    if (!secure && answered && tries < POTR_AKE_TRIES && purple_account_is_connected(account)) {
        PurpleConversation *conv = purple_conversation_new(PURPLE_CONV_TYPE_IM, account, parts[2]);

        g_hash_table_insert(ake_tries, g_strdup(key), GUINT_TO_POINTER(tries + 1));
        potr_notice_say(conv, _("The key exchange with {buddy} did not finish; trying again\xe2\x80\xa6"),
                       parts[2], NULL, PURPLE_MESSAGE_SYSTEM);
        for (ConnContext *c = master; c != NULL && c->m_context == master; c = c->next)
            if (c->msgstate != OTRL_MSGSTATE_ENCRYPTED)
                otrl_auth_clear(&c->auth);
        potr_ake_query(account, parts[2]);
    }
    g_strfreev(parts);
    return G_SOURCE_REMOVE;
}

/* The key exchange with CONTEXT's buddy ended: no check is due. */
static void
unwatch_ake(ConnContext *context)
{
    PurpleAccount *account = potr_peer_find_account(context->accountname, context->protocol);
    char *key = NULL;
    gpointer stored = NULL;
    gpointer source = NULL;

    if (account == NULL || ake_checks == NULL)
        return;
    key = potr_peer_key(account, context->username);
    if (g_hash_table_steal_extended(ake_checks, key, &stored, &source)) {
        g_source_remove(GPOINTER_TO_UINT(source));
        g_free(stored);
    }
    g_free(key);
}

void
potr_ake_watch(PurpleAccount *account, const char *who)
{
    char *key = potr_peer_key(account, who);
    guint source = GPOINTER_TO_UINT(g_hash_table_lookup(ake_checks, key));

    if (source != 0)
        g_source_remove(source);
    source = g_timeout_add_seconds_full(G_PRIORITY_DEFAULT, ake_patience(),
                                        ake_check_due, g_strdup(key), g_free);
    g_hash_table_insert(ake_checks, key, GUINT_TO_POINTER(source));
}

/* A key exchange that began while we had no key stalled at the step that
 * needed it; the half-done state would confuse the fresh one that follows,
 * so it is forgotten. */
void
potr_ake_forget_stalled(PurpleAccount *account, const char *who)
{
    ConnContext *master = potr_core_find_context(account, who, OTRL_INSTAG_MASTER, FALSE);

    for (ConnContext *c = master; c != NULL && c->m_context == master; c = c->next)
        if (c->msgstate != OTRL_MSGSTATE_ENCRYPTED)
            otrl_auth_clear(&c->auth);
}


void
potr_ake_settled(ConnContext *context)
{
    forget_commit(context);
    unwatch_ake(context);
}

void
potr_ake_reset_tries(PurpleAccount *account, const char *who)
{
    char *key = potr_peer_key(account, who);

    if (ake_tries != NULL)
        g_hash_table_remove(ake_tries, key);
    g_free(key);
}

void
potr_ake_init(void)
{
    ake_checks = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    ake_tries = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    commits_sent = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    key_waiters = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                        (GDestroyNotify)g_hash_table_destroy);
}

void
potr_ake_uninit(void)
{
    GHashTableIter iter;
    gpointer source = NULL;

    if (ake_checks != NULL) {
        g_hash_table_iter_init(&iter, ake_checks);
        while (g_hash_table_iter_next(&iter, NULL, &source))
            g_source_remove(GPOINTER_TO_UINT(source));
    }
    g_clear_pointer(&ake_checks, g_hash_table_destroy);
    g_clear_pointer(&ake_tries, g_hash_table_destroy);
    g_clear_pointer(&commits_sent, g_hash_table_destroy);
    g_clear_pointer(&key_waiters, g_hash_table_destroy);
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
potr_ake_start(PurpleAccount *account, const char *who)
{
    g_return_if_fail(account != NULL && who != NULL);
    potr_ake_reset_tries(account, who);   /* a new start: retries anew */
    potr_ake_query(account, who);
}

void
potr_ake_query(PurpleAccount *account, const char *who)
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
        potr_ake_need_key(account, who);
        return;
    }
    context = potr_core_find_context(account, who, OTRL_INSTAG_MASTER, TRUE);
    if (context == NULL)
        return;
    query = query_message(account, potr_policy_for(account, who), context);
    /* with v3 the private state is in the login's context, not the master */
    potr_notice_say(conv, potr_context_any_private(context)
                   ? _("Refreshing the private conversation with {buddy}\xe2\x80\xa6")
                   : _("Starting a private conversation with {buddy}\xe2\x80\xa6"),
                   who, NULL, PURPLE_MESSAGE_SYSTEM);
    serv_send_im(gc, who, query, 0);
    potr_context_note_query(context);
    potr_ake_watch(account, who);
    g_free(query);
}

static void
on_keygen_done(const char *accountname, const char *protocol, gboolean ok,
               const GError *error, gpointer user_data)
{
    PurpleAccount *account = potr_peer_find_account(accountname, protocol);

    if (account == NULL)
        return;
    if (!ok) {
        purple_notify_error(potr_core_handle(), _("OTR"), _("Your private key could not be generated."),
                            error != NULL ? error->message : NULL);
    }
    purple_signal_emit(potr_core_handle(), "key-generation", account, ok ? 1 : 2);
    potr_ake_key_done(account, ok);
}

gboolean
potr_ake_keygen(PurpleAccount *account, GError **error)
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
potr_ake_need_key(PurpleAccount *account, const char *peer)
{
    GHashTable *waiting = NULL;
    char *key = potr_peer_account_key(account);
    GError *error = NULL;
    gboolean running = potr_store_keygen_running(purple_account_get_username(account),
                                                 purple_account_get_protocol_id(account));

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
    if (!running && !potr_ake_keygen(account, &error)) {
        purple_debug_error("purple-otr", "key generation: %s\n", error->message);
        g_error_free(error);
    }
    g_free(key);
}

void
potr_ake_key_done(PurpleAccount *account, gboolean ok)
{
    char *key = potr_peer_account_key(account);
    gpointer stored_key = NULL;
    GHashTable *waiting = NULL;
    GList *peers = NULL;

    /* (stolen: the table's own key is ours to free) */
    if (!g_hash_table_steal_extended(key_waiters, key, &stored_key, (gpointer *)&waiting))
        waiting = NULL;
    g_free(stored_key);
    g_free(key);
    if (waiting == NULL)
        return;
    peers = g_hash_table_get_keys(waiting);
    for (GList *l = peers; l != NULL; l = l->next) {
        PurpleConversation *conv = purple_conversation_new(PURPLE_CONV_TYPE_IM, account, l->data);

        if (ok) {
            potr_notice_say(conv, _("Your private key is ready."), l->data, NULL, PURPLE_MESSAGE_SYSTEM);
            potr_ake_forget_stalled(account, l->data);
            potr_ake_start(account, l->data);
        } else {
            potr_notice_say(conv, _("Your private key could not be generated: the private "
                                   "conversation with {buddy} cannot start."),
                           l->data, NULL, PURPLE_MESSAGE_ERROR);
        }
    }
    g_list_free(peers);
    g_hash_table_destroy(waiting);
}
