/* purple-otr - GPL-2.0-or-later
 * Presence: private conversations follow the peer's and our own presence
 * (ended when one side leaves, started again when both are back). */
#include "i18n.h"
#include "presence.h"

#include <string.h>
#include <libotr/context.h>

#include "core.h"
#include "ake.h"
#include "session.h"
#include "peer.h"

/* potr_peer_key()s of conversations that were private when the peer or
 * we went offline: they are started again when both are back */
static GHashTable *resume = NULL;

/* Why presence only ever puts a conversation on hold (see
 * potr_session_hold): presence is the server's word, not the peer's. */

/* Put every private conversation of ACCOUNT on hold, telling each peer
 * (OTR's goodbye: they see Finished until we are back), and remember
 * them for when we are back. */
static void
on_signing_off(PurpleConnection *gc, gpointer data)
{
    PurpleAccount *account = purple_connection_get_account(gc);
    OtrlUserState us = potr_core_userstate();
    GHashTable *peers = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    GHashTableIter iter;
    gpointer who = NULL;

    /* collect first: putting a session on hold changes the context list */
    for (ConnContext *c = us != NULL ? us->context_root : NULL; c != NULL; c = c->next)
        if (c->msgstate == OTRL_MSGSTATE_ENCRYPTED
            && potr_peer_find_account(c->accountname, c->protocol) == account)
            g_hash_table_add(peers, g_strdup(c->username));
    g_hash_table_iter_init(&iter, peers);
    while (g_hash_table_iter_next(&iter, &who, NULL))
        if (potr_session_hold(account, who, TRUE, POTR_CHANGE_WENT_OFFLINE))
            g_hash_table_add(resume, potr_peer_key(account, who));
    g_hash_table_destroy(peers);
}

/* Resume the conversation with WHO if a window for it is open (a restart
 * never opens one by itself; without a window, the next message the user
 * types there starts it). */
static void
resume_one(PurpleAccount *account, const char *who)
{
    if (purple_find_conversation_with_account(PURPLE_CONV_TYPE_IM, who, account) != NULL)
        potr_ake_start(account, who);
}

/* Back online: resume what was private with buddies who are not on the
 * list (those on it resume when their presence says they are back). */
static void
on_signed_on(PurpleConnection *gc, gpointer data)
{
    PurpleAccount *account = purple_connection_get_account(gc);
    GList *keys = g_hash_table_get_keys(resume);

    for (GList *l = keys; l != NULL; l = l->next) {
        const char *key = l->data;
        const char *who = potr_peer_key_buddy(key, account);

        if (who == NULL || purple_find_buddy(account, who) != NULL)
            continue;
        resume_one(account, who);
        g_hash_table_remove(resume, key);
    }
    g_list_free(keys);
}

/* The peer looks gone (its client was killed, its network lost, or the
 * server says so): nobody is there to read a goodbye, so none is sent;
 * the conversation is on hold until the peer is back. */
static void
on_buddy_signed_off(PurpleBuddy *buddy, gpointer data)
{
    PurpleAccount *account = purple_buddy_get_account(buddy);
    const char *who = purple_buddy_get_name(buddy);

    if (potr_session_hold(account, who, FALSE, POTR_CHANGE_OFFLINE))
        g_hash_table_add(resume, potr_peer_key(account, who));
}

static void
on_buddy_signed_on(PurpleBuddy *buddy, gpointer data)
{
    PurpleAccount *account = purple_buddy_get_account(buddy);
    char *key = potr_peer_key(account, purple_buddy_get_name(buddy));

    if (g_hash_table_remove(resume, key))
        resume_one(account, purple_buddy_get_name(buddy));
    g_free(key);
}

void
potr_presence_init(void *handle)
{
    resume = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    purple_signal_connect(purple_connections_get_handle(), "signing-off", handle,
                          PURPLE_CALLBACK(on_signing_off), NULL);
    purple_signal_connect(purple_connections_get_handle(), "signed-on", handle,
                          PURPLE_CALLBACK(on_signed_on), NULL);
    purple_signal_connect(purple_blist_get_handle(), "buddy-signed-off", handle,
                          PURPLE_CALLBACK(on_buddy_signed_off), NULL);
    purple_signal_connect(purple_blist_get_handle(), "buddy-signed-on", handle,
                          PURPLE_CALLBACK(on_buddy_signed_on), NULL);
}

void
potr_presence_uninit(void)
{
    g_clear_pointer(&resume, g_hash_table_destroy);
}
