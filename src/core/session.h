/* purple-otr - GPL-2.0-or-later
 * Session: the send and receive hooks (the user's messages to libotr and
 * the peer's from it); what a change of a private conversation means
 * (logging, level, held messages, key exchange, the user's line);
 * conversations put on hold and ended. */
#ifndef POTR_SESSION_H
#define POTR_SESSION_H

#include <glib.h>
#include <purple.h>
#include <libotr/proto.h>
#include <libotr/context.h>

#include "context.h"   /* PotrChange */

/* Connect the send/receive and conversation signals on behalf of HANDLE
 * (and start the modules below that keep state: held, ake, notice). */
void potr_session_init(void *handle);

/* Drop every held message (each owner is told) and disconnect. */
void potr_session_uninit(void);

/* The private state of CONTEXT changed (secure, insecure, refreshed,
 * finished, trust, on hold): update logging, level, held messages, and
 * tell the user. */
void potr_session_changed(ConnContext *context, PotrChange change);

/* Put every private instance of WHO on ACCOUNT on hold: Finished (nothing
 * typed leaves in clear; it is held, see held.c) until a new key exchange
 * makes the conversation private again. TELL_PEER sends OTR's goodbye
 * first. WHY is the change the user is told about (POTR_CHANGE_OFFLINE or
 * POTR_CHANGE_WENT_OFFLINE). Returns FALSE if nothing was private. */
gboolean potr_session_hold(PurpleAccount *account, const char *who, gboolean tell_peer,
                           PotrChange why);

/* End every instance of the private conversation with WHO on ACCOUNT,
 * telling the peer. */
void potr_session_end(PurpleAccount *account, const char *who);

/* End every private conversation of ACCOUNT (all accounts when NULL). */
void potr_session_end_all(PurpleAccount *account);

#endif /* POTR_SESSION_H */
