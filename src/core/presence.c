/* purple-otr - GPL-2.0-or-later
 * Presence: private conversations follow the peer's and our own presence
 * (ended when one side leaves, started again when both are back). */
#include "i18n.h"
#include "presence.h"

#include <string.h>
#include <libotr/context.h>

#include "engine.h"
#include "held.h"
#include "session.h"

/* potr_session_key()s of conversations that were private when the peer or
 * we went offline: they are started again when both are back */
static GHashTable *resume = NULL;

/* Remember every buddy of ACCOUNT with a private conversation now. */
static void
remember_private(PurpleAccount *account, const char *only)
{
    OtrlUserState us = potr_core_userstate();
    char *norm = only != NULL ? potr_core_normalize(account, only) : NULL;

    for (ConnContext *c = us != NULL ? us->context_root : NULL; c != NULL; c = c->next) {
        if (c->msgstate != OTRL_MSGSTATE_ENCRYPTED
            || potr_core_find_account(c->accountname, c->protocol) != account
            || (norm != NULL && strcmp(norm, c->username) != 0))
            continue;
        g_hash_table_add(resume, potr_session_key(account, c->username));
    }
    g_free(norm);
}

static void
on_signing_off(PurpleConnection *gc, gpointer data)
{
    PurpleAccount *account = purple_connection_get_account(gc);

    remember_private(account, NULL);
    potr_session_end_all(account);
    potr_held_drop(account);
}

/* Back online: restart what was private with buddies who are not on the
 * list (those on it restart when their presence says they are back). */
static void
on_signed_on(PurpleConnection *gc, gpointer data)
{
    PurpleAccount *account = purple_connection_get_account(gc);
    char *prefix = g_strdup_printf("%s\n%s", purple_account_get_protocol_id(account),
                                   purple_account_get_username(account));
    GList *keys = g_hash_table_get_keys(resume);

    for (GList *l = keys; l != NULL; l = l->next) {
        const char *key = l->data;
        const char *who = NULL;

        if (!g_str_has_prefix(key, prefix) || key[strlen(prefix)] != '\n')
            continue;
        who = key + strlen(prefix) + 1;
        if (purple_find_buddy(account, who) != NULL)
            continue;
        potr_session_start(account, who);
        g_hash_table_remove(resume, key);
    }
    g_list_free(keys);
    g_free(prefix);
}

/* The peer left: its side of the session is gone, so ours ends too (no
 * message is sent: nobody is there to read it); it restarts on return. */
static void
on_buddy_signed_off(PurpleBuddy *buddy, gpointer data)
{
    PurpleAccount *account = purple_buddy_get_account(buddy);
    const char *who = purple_buddy_get_name(buddy);
    ConnContext *master = potr_session_find(account, who, OTRL_INSTAG_MASTER, FALSE);
    gboolean ended = FALSE;

    for (ConnContext *c = master; c != NULL && c->m_context == master; c = c->next) {
        if (c->msgstate != OTRL_MSGSTATE_ENCRYPTED)
            continue;
        otrl_context_force_plaintext(c);
        ended = TRUE;
    }
    if (!ended)
        return;
    g_hash_table_add(resume, potr_session_key(account, who));
    potr_session_changed(master, POTR_CHANGE_OFFLINE);
}

static void
on_buddy_signed_on(PurpleBuddy *buddy, gpointer data)
{
    PurpleAccount *account = purple_buddy_get_account(buddy);
    char *key = potr_session_key(account, purple_buddy_get_name(buddy));

    if (g_hash_table_remove(resume, key))
        potr_session_start(account, purple_buddy_get_name(buddy));
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
