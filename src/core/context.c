/* purple-otr - GPL-2.0-or-later
 * Context: the core's data on each libotr context; conversations <->
 * contexts and instances; levels and their emission; on hold. */
#include "context.h"

#include "core.h"
#include "secret.h"
#include "peer.h"

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
potr_context_data(ConnContext *context)
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

otrl_instag_t
potr_context_instance(PurpleConversation *conv)
{
    gpointer chosen = purple_conversation_get_data(conv, "potr-instance");

    return chosen != NULL ? (otrl_instag_t)GPOINTER_TO_UINT(chosen) : OTRL_INSTAG_BEST;
}

void
potr_context_set_instance(PurpleConversation *conv, otrl_instag_t instance)
{
    g_return_if_fail(conv != NULL);
    purple_conversation_set_data(conv, "potr-instance",
                                 instance == OTRL_INSTAG_BEST ? NULL : GUINT_TO_POINTER(instance));
    potr_context_emit_level(conv);
}

ConnContext *
potr_context_of_conv(PurpleConversation *conv)
{
    if (conv == NULL)
        return NULL;
    return potr_core_find_context(purple_conversation_get_account(conv),
                             purple_conversation_get_name(conv),
                             potr_context_instance(conv), FALSE);
}

PotrLevel
potr_context_level(ConnContext *context)
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
        return potr_context_on_hold(context) ? POTR_LEVEL_FINISHED : POTR_LEVEL_NOT_PRIVATE;
    }
}

PurpleConversation *
potr_context_conv(ConnContext *context, gboolean create)
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

void
potr_context_emit_level(PurpleConversation *conv)
{
    PotrLevel level = POTR_LEVEL_NOT_PRIVATE;
    ConnContext *context = NULL;
    guint instance = 0;
    gpointer last = NULL;

    if (conv == NULL || potr_core_handle() == NULL)
        return;
    level = potr_conv_level(conv);
    context = level != POTR_LEVEL_NOT_PRIVATE ? potr_context_of_conv(conv) : NULL;
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
    return potr_context_level(potr_context_of_conv(conv));
}

/* Why "fallen to plaintext" counts as on hold: the rule is that only the
 * user's /otr end or the peer's authenticated end leave a private
 * conversation. libotr can leave an instance plaintext under a storm of
 * key exchanges (unauthenticated messages, which a server can inject);
 * whatever the path, the next message must wait for a new private
 * conversation, never go in clear. */
gboolean
potr_context_on_hold(ConnContext *context)
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

const char *
potr_context_address(ConnContext *context)
{
    PotrContextData *cd = context != NULL ? context->app_data : NULL;

    if (context == NULL)
        return NULL;
    return cd != NULL && cd->address != NULL ? cd->address : context->username;
}

void
potr_context_note_address(ConnContext *context, const char *who)
{
    PotrContextData *cd = NULL;

    if (context == NULL || context == context->m_context || who == NULL)
        return;
    cd = potr_context_data(context);
    if (g_strcmp0(cd->address, who) != 0) {
        g_free(cd->address);
        cd->address = g_strdup(who);
    }
}

/* A query we sent is still awaiting its key exchange (for a while: a
 * peer that never answers gets asked again later). */
#define POTR_QUERY_PATIENCE_SECONDS 30

gboolean
potr_context_any_private(ConnContext *context)
{
    ConnContext *master = context != NULL ? context->m_context : NULL;

    for (ConnContext *c = master; c != NULL && c->m_context == master; c = c->next)
        if (c->msgstate == OTRL_MSGSTATE_ENCRYPTED)
            return TRUE;
    return FALSE;
}

gboolean
potr_context_query_pending(ConnContext *context)
{
    gint64 sent = potr_context_data(context)->query_sent;

    return sent != 0 && context->msgstate != OTRL_MSGSTATE_ENCRYPTED
           && g_get_monotonic_time() - sent < POTR_QUERY_PATIENCE_SECONDS * G_USEC_PER_SEC;
}

void
potr_context_note_query(ConnContext *context)
{
    PotrContextData *cd = potr_context_data(context);

    cd->query_sent = g_get_monotonic_time();
    cd->query_answers = 0;
}

void
potr_context_set_trust(ConnContext *context, const char *trust)
{
    g_return_if_fail(context != NULL);
    if (context->active_fingerprint == NULL)
        return;
    otrl_context_set_trust(context->active_fingerprint, trust);
    potr_core_save_fingerprints();
    /* a trust change opens no window (nor did it ever) */
    potr_context_emit_level(potr_context_conv(context, FALSE));
}
