/* purple-otr - GPL-2.0-or-later
 * Context: what the core keeps about each libotr context, and the ways
 * between conversations and contexts (the instance a conversation talks
 * to, its level and the "level-changed" signal, the address of an
 * instance, whether a conversation is on hold). Every module above reads
 * it; it knows the core state, peer names and secrets only. */
#ifndef POTR_CONTEXT_H
#define POTR_CONTEXT_H

#include <glib.h>
#include <purple.h>
#include <libotr/proto.h>
#include <libotr/context.h>

#include "potr.h"

/* How the private state of a context changed (see potr_session_changed;
 * here because libotr's callbacks name it too). */
typedef enum {
    POTR_CHANGE_SECURE,
    POTR_CHANGE_INSECURE,
    POTR_CHANGE_REFRESHED,
    POTR_CHANGE_FINISHED,
    POTR_CHANGE_TRUST,
    POTR_CHANGE_OFFLINE,     /* the peer went away (presence): on hold */
    POTR_CHANGE_WENT_OFFLINE /* we went offline: on hold */
} PotrChange;

/* A count of events in the current minute (see potr_rate_allow). */
typedef struct {
    gint64 start;   /* monotonic us when the minute began */
    guint count;
} PotrRate;

/* Count one event in RATE; FALSE if it is beyond PER_MINUTE events in the
 * current minute (the minute starts anew a minute after its first event). */
gboolean potr_rate_allow(PotrRate *rate, guint per_minute);

/* What the core keeps about a context (libotr's ConnContext.app_data). */
typedef struct {
    gboolean smp_ours;        /* we started the running verification */
    gboolean smp_question;    /* and it carries a question */
    char *asked;              /* the question of the peer's pending request */
    char *last_sent;          /* plain text of the last message sent privately */
    gint64 told_not_private;  /* when the peer was last told we have no session */
    gint64 query_sent;        /* when we last sent a query (monotonic us), 0: never */
    guint query_answers;      /* commits taken as answers to that query (ake.c) */
    gboolean on_hold;         /* (master) Finished by presence, not by the peer */
    gboolean was_private;     /* (master) private since the user's last /otr end */
    gboolean smp_pending;     /* this instance asked us to verify and awaits the answer */
    char *address;            /* where this instance last wrote from (an XMPP full JID) */
    PotrRate peer_akes;       /* (master) key exchanges the peer started */
    PotrRate peer_smps;       /* (master) verifications the peer started */
} PotrContextData;

/* CONTEXT's data, created on first use and freed with the context. */
PotrContextData *potr_context_data(ConnContext *context);

/* The instance CONV talks to: the one chosen with "/otr instance", else
 * OTRL_INSTAG_BEST. */
otrl_instag_t potr_context_instance(PurpleConversation *conv);
void potr_context_set_instance(PurpleConversation *conv, otrl_instag_t instance);

/* The context CONV uses now (its chosen instance), or NULL. */
ConnContext *potr_context_of_conv(PurpleConversation *conv);

/* The IM conversation for CONTEXT; CREATE opens one if there is none. */
PurpleConversation *potr_context_conv(ConnContext *context, gboolean create);

/* Level of one context (NULL: not private). */
PotrLevel potr_context_level(ConnContext *context);

/* Emit "level-changed" for CONV (if the level really changed since the
 * last emission for it). */
void potr_context_emit_level(PurpleConversation *conv);

/* TRUE if CONTEXT's conversation is on hold: Finished by presence or a
 * lost connection (not because the peer ended it), or fallen to plaintext
 * without the user's /otr end (whatever the cause: that never lowers it). */
gboolean potr_context_on_hold(ConnContext *context);

/* The address to send CONTEXT's (an instance's) OTR data to: where it
 * last wrote from (on XMPP, the login's full JID), else its buddy name.
 * Why: one conversation window carries every login of the peer, and its
 * name follows whoever wrote last; data for one instance sent to another
 * login's address is ignored there. Static: valid while CONTEXT lives. */
const char *potr_context_address(ConnContext *context);

/* Remember where CONTEXT's instance wrote from (WHO as the protocol gave
 * it); nothing for a master context or a NULL one. */
void potr_context_note_address(ConnContext *context, const char *who);

/* TRUE if any login (instance) of CONTEXT's buddy is in a private
 * conversation (CONTEXT: the master or any instance; NULL: FALSE). With v3
 * the private state is in an instance's context, never in the master's. */
gboolean potr_context_any_private(ConnContext *context);

/* We sent a query to CONTEXT's buddy now (see potr_context_query_pending). */
void potr_context_note_query(ConnContext *context);

/* TRUE while a query we sent to CONTEXT's buddy awaits its exchange. */
gboolean potr_context_query_pending(ConnContext *context);

/* Set the trust of CONTEXT's active fingerprint ("verified", "smp", or ""
 * to clear), save it at once and emit the conversation's new level. */
void potr_context_set_trust(ConnContext *context, const char *trust);

#endif /* POTR_CONTEXT_H */
