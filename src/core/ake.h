/* purple-otr - GPL-2.0-or-later
 * AKE: starting key exchanges (the query; our key first when there is none)
 * and seeing them through: two that cross, one that stalls, one that
 * waited for our new key. */
#ifndef POTR_AKE_H
#define POTR_AKE_H

#include <glib.h>
#include <purple.h>
#include <libotr/proto.h>
#include <libotr/context.h>

void potr_ake_init(void);
/* Cancels every pending check and forgets who waits for a key (at unload). */
void potr_ake_uninit(void);

/* Send an OTR query (start or refresh) to WHO on ACCOUNT. If the account
 * has no key yet, the key is generated first and the query follows by
 * itself when it is ready. */
void potr_ake_start(PurpleAccount *account, const char *who);

/* Send an OTR query to WHO now (no retry bookkeeping reset; see
 * potr_ake_start). */
void potr_ake_query(PurpleAccount *account, const char *who);

/* libotr needs a key for ACCOUNT to talk to PEER: start generating it
 * and remember to start the conversation with PEER once it exists. */
void potr_ake_need_key(PurpleAccount *account, const char *peer);

/* Start generating ACCOUNT's key (see potr_key_generate). */
gboolean potr_ake_keygen(PurpleAccount *account, GError **error);

/* ACCOUNT's key generation ended (OK or not): resume what waited on it. */
void potr_ake_key_done(PurpleAccount *account, gboolean ok);

/* We sent WHO a D-H commit (the first message of a key exchange). */
void potr_ake_commit_sent(PurpleAccount *account, const char *who);

/* Whether *MESSAGE from NORM (normalised) may reach libotr; FALSE: drop
 * it. Two rules, applied to the message libotr will act on (a fragment
 * counts as the message it completes, and the last fragment is the one
 * dropped):
 * 1. No key exchange beyond what a peer may start per minute (the user is
 *    told once a minute). What counts: a query (any spelling), a D-H
 *    commit, a whitespace tag our policy answers with an exchange, and any
 *    message (a first fragment too) that makes libotr create a context for
 *    a login it does not know; two commits answering our own query are
 *    free. A tagged plain message beyond the bound is kept: *MESSAGE is
 *    replaced by the text without its tag.
 * 2. A v3 D-H commit that crosses a fresh one of ours is dropped when ours
 *    wins: of two crossing commits, the one from the side whose account
 *    name sorts first goes on. */
gboolean potr_ake_screen(PurpleAccount *account, const char *norm, char **message);

/* A query went to WHO: check, a little later, that the key exchange ended;
 * a stalled one (the peer answered, then nothing) is started again, twice
 * at the most, and the user is told. */
void potr_ake_watch(PurpleAccount *account, const char *who);

/* The exchange with CONTEXT's buddy ended well: nothing more to watch. */
void potr_ake_settled(ConnContext *context);

/* The user started anew: the retries count from zero. */
void potr_ake_reset_tries(PurpleAccount *account, const char *who);

/* Forget the half-done exchanges with WHO that waited for our new key. */
void potr_ake_forget_stalled(PurpleAccount *account, const char *who);

#endif /* POTR_AKE_H */
