/* purple-otr - GPL-2.0-or-later
 * Held messages: under "always", what the user types before the
 * conversation is private waits here (never sent in clear), then goes out
 * encrypted; the user is told what happened to every one of them. */
#include "i18n.h"
#include "held.h"

#include <string.h>
#include <libotr/proto.h>
#include <libotr/context.h>

#include "core.h"
#include "secret.h"
#include "ake.h"
#include "context.h"
#include "send.h"
#include "peer.h"
#include "notice.h"

/* Messages held for one buddy at the most; the user is told beyond. */
#define POTR_MAX_HELD 100

/* potr_peer_key() -> GQueue of char* (HTML typed by the user) */
static GHashTable *held = NULL;
/* potr_peer_key()s whose messages are sent on the next idle, and that idle */
static GHashTable *flush_pending = NULL;
static guint flush_source = 0;

/* held messages are private text: wiped when they go */
static void
free_queue(gpointer queue)
{
    g_queue_free_full(queue, (GDestroyNotify)potr_secret_free);
}

static GQueue *
held_queue(PurpleAccount *account, const char *who, gboolean create)
{
    char *key = potr_peer_key(account, who);
    GQueue *queue = g_hash_table_lookup(held, key);

    if (queue == NULL && create) {
        queue = g_queue_new();
        g_hash_table_insert(held, key, queue);
        key = NULL;
    }
    g_free(key);
    return queue;
}

guint
potr_held_count(PurpleAccount *account, const char *who)
{
    GQueue *queue = held_queue(account, who, FALSE);

    return queue != NULL ? g_queue_get_length(queue) : 0;
}

/* TRUE if WHO is on ACCOUNT's buddy list and offline: a query now would
 * only land in the server's offline store. */
static gboolean
buddy_offline(PurpleAccount *account, const char *who)
{
    PurpleBuddy *buddy = purple_find_buddy(account, who);

    return buddy != NULL && !PURPLE_BUDDY_IS_ONLINE(buddy);
}

/* Under "always", a message typed before the conversation is private is
 * held here (never sent in clear) and sent once it is private; so is one
 * typed while a private conversation is on hold (the peer vanished, or we
 * lost our connection). */
void
potr_held_add(PurpleAccount *account, const char *who, char **message)
{
    PurpleConversation *conv = purple_conversation_new(PURPLE_CONV_TYPE_IM, account, who);
    GQueue *queue = held_queue(account, who, TRUE);
    ConnContext *context = potr_core_find_context(account, who, OTRL_INSTAG_MASTER, TRUE);
    gboolean first = g_queue_is_empty(queue);
    gboolean on_hold = potr_context_on_hold(potr_core_find_context(account, who, OTRL_INSTAG_BEST, FALSE));

    potr_send_echo(conv, *message);
    if (g_queue_get_length(queue) >= POTR_MAX_HELD) {
        potr_notice_say(conv, _("This message was NOT sent: too many messages are already waiting "
                               "for the private conversation with {buddy}."),
                       who, NULL, PURPLE_MESSAGE_ERROR);
        g_clear_pointer(message, potr_secret_free);
        return;
    }
    g_queue_push_tail(queue, *message);
    *message = NULL;
    potr_notice_say(conv, on_hold ? _("Not sent yet: it will be sent, encrypted, as soon as the "
                                       "conversation with {buddy} is private again.")
                                   : _("Not sent yet: it will be sent as soon as the conversation "
                                       "with {buddy} is private (your policy requires encryption)."),
                     who, NULL, PURPLE_MESSAGE_SYSTEM);
    /* a peer that is away gets its query when it is back (presence.c) */
    if (on_hold && buddy_offline(account, who))
        return;
    /* one query for a batch of held messages: the next ones wait for the
     * same key exchange (a query per message would start racing ones) */
    if (first || context == NULL || !potr_context_query_pending(context))
        potr_ake_start(account, who);
}

/* Send what was held for CONTEXT's buddy, now that it is private. */
static void
flush_held(ConnContext *context)
{
    PurpleAccount *account = potr_peer_find_account(context->accountname, context->protocol);
    PurpleConversation *conv = potr_context_conv(context, TRUE);
    GQueue *queue = NULL;
    guint sent = 0;
    char *html = NULL;
    char *line = NULL;

    if (account == NULL || (queue = held_queue(account, context->username, FALSE)) == NULL)
        return;
    while (context->msgstate == OTRL_MSGSTATE_ENCRYPTED
           && (html = g_queue_pop_head(queue)) != NULL) {
        if (!potr_send_encrypt(account, potr_context_address(context), context->their_instance,
                                  html, NULL)) {
            g_queue_push_head(queue, html);
            break;
        }
        sent++;
        potr_secret_free(html);
    }
    if (sent > 0) {
        line = g_strdup_printf(g_dngettext(GETTEXT_PACKAGE, "%u waiting message was sent privately.",
                                        "%u waiting messages were sent privately.", sent), sent);
        potr_notice_write(conv, line, PURPLE_MESSAGE_SYSTEM, FALSE);
        g_free(line);
    }
}

/* Why later: libotr reports "secure" from inside the key exchange, before
 * it has sent its own last message of it; data sent right then would
 * reach the peer before the peer's session exists. */
static gboolean
flush_later(gpointer data)
{
    GList *keys = g_hash_table_get_keys(flush_pending);

    flush_source = 0;
    for (GList *l = keys; l != NULL; l = l->next) {
        char **parts = g_strsplit(l->data, "\n", 3);
        PurpleAccount *account = NULL;
        ConnContext *context = NULL;

        if (g_strv_length(parts) == 3
            && (account = purple_accounts_find(parts[1], parts[0])) != NULL
            && (context = potr_core_find_context(account, parts[2], OTRL_INSTAG_BEST, FALSE)) != NULL)
            flush_held(context);
        g_strfreev(parts);
    }
    g_list_free(keys);
    g_hash_table_remove_all(flush_pending);
    return G_SOURCE_REMOVE;
}

void
potr_held_flush_soon(ConnContext *context)
{
    PurpleAccount *account = potr_peer_find_account(context->accountname, context->protocol);

    if (account == NULL || potr_held_count(account, context->username) == 0)
        return;
    g_hash_table_add(flush_pending, potr_peer_key(account, context->username));
    if (flush_source == 0)
        flush_source = g_idle_add(flush_later, NULL);
}

/* Tell the owner of every held message of ACCOUNT (all when NULL) that it
 * was not sent, and drop it. */
void
potr_held_drop(PurpleAccount *account)
{
    GHashTableIter iter;
    gpointer key = NULL;
    gpointer value = NULL;

    g_hash_table_iter_init(&iter, held);
    while (g_hash_table_iter_next(&iter, &key, &value)) {
        const char *buddy = potr_peer_key_buddy(key, account);
        guint count = g_queue_get_length(value);

        if (account != NULL && buddy == NULL)
            continue;   /* another account's */
        if (count > 0 && buddy != NULL) {
            PurpleAccount *owner = potr_peer_key_account(key);
            PurpleConversation *conv = owner != NULL
                ? purple_find_conversation_with_account(PURPLE_CONV_TYPE_IM, buddy, owner) : NULL;
            char *line = g_strdup_printf(g_dngettext(GETTEXT_PACKAGE, "%u message waiting for the private conversation was NOT sent.",
                                                  "%u messages waiting for the private conversation were NOT sent.",
                                                  count), count);
            if (conv != NULL)
                potr_notice_write(conv, line, PURPLE_MESSAGE_ERROR, FALSE);
            else
                purple_debug_warning("purple-otr", "%u held messages dropped\n", count);
            g_free(line);
        }
        g_hash_table_iter_remove(&iter);
    }
}


void
potr_held_init(void)
{
    held = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, free_queue);
    flush_pending = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
}

void
potr_held_uninit(void)
{
    if (flush_source != 0) {
        g_source_remove(flush_source);
        flush_source = 0;
    }
    g_clear_pointer(&held, g_hash_table_destroy);
    g_clear_pointer(&flush_pending, g_hash_table_destroy);
}
