/* purple-otr - GPL-2.0-or-later
 * Send: what leaves for the peer through libotr (the user's messages,
 * encrypted or as libotr lets them out; OTR errors), what the user is
 * shown of it, and the last private message kept for a peer's error. */
#ifndef POTR_SEND_H
#define POTR_SEND_H

#include <glib.h>
#include <purple.h>
#include <libotr/proto.h>
#include <libotr/context.h>

/* Encrypt HTML for WHO (INSTANCE) and send it; with LAST, the final
 * fragment is returned for the caller to send instead. FALSE if nothing
 * may be sent (a failed encryption is never replaced by plaintext). */
gboolean potr_send_encrypt(PurpleAccount *account, const char *who, otrl_instag_t instance,
                           const char *html, char **last);

/* Show HTML in CONV as sent by the user, never logged. */
void potr_send_echo(PurpleConversation *conv, const char *html);

/* The peer said it could not read a message: tell the user which one of
 * theirs may be lost (libotr refreshes the session by itself). */
void potr_send_peer_error(ConnContext *context);

/* v3 data for this client arrived with no private conversation open (we
 * restarted): tell the sender, at most every few seconds. OPDATA is the
 * PotrOpData of the message. */
void potr_send_tell_not_private(ConnContext *context, const void *opdata);

#endif /* POTR_SEND_H */
