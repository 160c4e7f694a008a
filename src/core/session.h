/* purple-otr - GPL-2.0-or-later
 * Session: conversations <-> libotr contexts and instances; the send and
 * receive hooks; messages held until a conversation is private. */
#ifndef POTR_SESSION_H
#define POTR_SESSION_H

#include <glib.h>
#include <purple.h>
#include <libotr/proto.h>
#include <libotr/context.h>

#include "potr.h"

/* Connect the send/receive and conversation signals on behalf of HANDLE. */
void potr_session_init(void *handle);

/* Drop every held message (each owner is told) and disconnect. */
void potr_session_uninit(void);

/* The instance CONV talks to: the one chosen with "/otr instance", else
 * OTRL_INSTAG_BEST. */
otrl_instag_t potr_session_instance(PurpleConversation *conv);
void potr_session_set_instance(PurpleConversation *conv, otrl_instag_t instance);

/* The context CONV uses now (its chosen instance), or NULL. */
ConnContext *potr_session_context(PurpleConversation *conv);

/* Level of one context (NULL: not private). */
PotrLevel potr_session_level_of(ConnContext *context);

/* Emit "level-changed" for CONV (if the level really changed since the
 * last emission for it). */
void potr_session_emit_level(PurpleConversation *conv);

/* The IM conversation for CONTEXT; CREATE opens one if there is none. */
PurpleConversation *potr_session_conv(ConnContext *context, gboolean create);

/* The private state of CONTEXT changed (secure, insecure, refreshed,
 * finished): update logging, level, held messages, and tell the user. */
typedef enum {
    POTR_CHANGE_SECURE,
    POTR_CHANGE_INSECURE,
    POTR_CHANGE_REFRESHED,
    POTR_CHANGE_FINISHED,
    POTR_CHANGE_TRUST,
    POTR_CHANGE_OFFLINE,     /* the peer went away (presence): on hold */
    POTR_CHANGE_WENT_OFFLINE /* we went offline: on hold */
} PotrChange;
void potr_session_changed(ConnContext *context, PotrChange change);

/* Put every private instance of WHO on ACCOUNT on hold: Finished (nothing
 * typed leaves in clear; it is held, see held.c) until a new key exchange
 * makes the conversation private again. TELL_PEER sends OTR's goodbye
 * first. WHY is the change the user is told about (POTR_CHANGE_OFFLINE or
 * POTR_CHANGE_WENT_OFFLINE). Returns FALSE if nothing was private. */
gboolean potr_session_hold(PurpleAccount *account, const char *who, gboolean tell_peer,
                           PotrChange why);

/* TRUE if CONTEXT's conversation is on hold: Finished by presence or a
 * lost connection (not because the peer ended it), or fallen to plaintext
 * without the user's /otr end (whatever the cause: that never lowers it). */
gboolean potr_session_on_hold(ConnContext *context);

/* Send an OTR query (start or refresh) to WHO on ACCOUNT. If the account
 * has no key yet, the key is generated first and the query follows by
 * itself when it is ready. */
void potr_session_start(PurpleAccount *account, const char *who);

/* End every instance of the private conversation with WHO on ACCOUNT,
 * telling the peer. */
void potr_session_end(PurpleAccount *account, const char *who);

/* End every private conversation of ACCOUNT (all accounts when NULL). */
void potr_session_end_all(PurpleAccount *account);

/* libotr needs a key for ACCOUNT to talk to PEER: start generating it
 * and remember to start the conversation with PEER once it exists. */
void potr_session_need_key(PurpleAccount *account, const char *peer);

/* Start generating ACCOUNT's key (see potr_key_generate). */
gboolean potr_session_keygen(PurpleAccount *account, GError **error);

/* ACCOUNT's key generation ended (OK or not): resume what waited on it. */
void potr_session_key_done(PurpleAccount *account, gboolean ok);

/* The peer said it could not read a message: tell the user which one of
 * theirs may be lost (libotr refreshes the session by itself). */
void potr_session_peer_error(ConnContext *context);

/* v3 data for this client arrived with no private conversation open (we
 * restarted): tell the sender, at most every few seconds. OPDATA is the
 * PotrOpData of the message. */
void potr_session_tell_not_private(ConnContext *context, const void *opdata);

/* Set the trust of CONTEXT's active fingerprint ("verified", "smp", or ""
 * to clear), save it at once and tell the user. */
void potr_session_set_trust(ConnContext *context, const char *trust);

/* Send an OTR query to WHO now (no retry bookkeeping reset; see
 * potr_session_start). */
void potr_session_query(PurpleAccount *account, const char *who);

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
    gboolean on_hold;         /* (master) Finished by presence, not by the peer */
    gboolean was_private;     /* (master) private since the user's last /otr end */
    gboolean smp_pending;     /* this instance asked us to verify and awaits the answer */
    char *address;            /* where this instance last wrote from (an XMPP full JID) */
    PotrRate peer_akes;       /* (master) key exchanges the peer started */
    PotrRate peer_smps;       /* (master) verifications the peer started */
} PotrContextData;

/* CONTEXT's data, created on first use and freed with the context. */
PotrContextData *potr_session_data(ConnContext *context);

/* Encrypt HTML for WHO (INSTANCE) and send it; with LAST, the final
 * fragment is returned for the caller to send instead. FALSE if nothing
 * may be sent (a failed encryption is never replaced by plaintext). */
gboolean potr_session_encrypt(PurpleAccount *account, const char *who, otrl_instag_t instance,
                              const char *html, char **last);

/* Show HTML in CONV as sent by the user, never logged. */
void potr_session_echo(PurpleConversation *conv, const char *html);

/* The address to send CONTEXT's (an instance's) OTR data to: where it
 * last wrote from (on XMPP, the login's full JID), else its buddy name.
 * Why: one conversation window carries every login of the peer, and its
 * name follows whoever wrote last; data for one instance sent to another
 * login's address is ignored there. Static: valid while CONTEXT lives. */
const char *potr_session_address(ConnContext *context);

/* TRUE while a query we sent to CONTEXT's buddy awaits its exchange. */
gboolean potr_session_query_pending(ConnContext *context);

#endif /* POTR_SESSION_H */
