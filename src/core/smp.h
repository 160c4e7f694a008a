/* purple-otr - GPL-2.0-or-later
 * SMP: verifying the peer with a question or a shared secret, both ways. */
#ifndef POTR_SMP_H
#define POTR_SMP_H

#include <glib.h>
#include <purple.h>
#include <libotr/proto.h>
#include <libotr/context.h>

/* Start (RESPOND FALSE) or answer (RESPOND TRUE) a verification of CONV's
 * peer with SECRET, and QUESTION when starting (NULL or "" for a shared
 * secret). Starting uses the instance CONV talks to now; an answer goes to
 * the instance that asked. FALSE with ERROR if the conversation is not
 * private, or, answering, if no request is pending. SECRET is copied
 * nowhere; the caller wipes it. */
gboolean potr_smp_start(PurpleConversation *conv, const char *question,
                        const char *secret, gboolean respond, GError **error);

/* Abort the running verification of CONV, if any. */
void potr_smp_abort(PurpleConversation *conv);

/* The question of the peer's pending verification request in CONV (the
 * instance that asked, whichever is current), or NULL if none is pending
 * or it is a shared secret. Valid until the next SMP event. */
const char *potr_smp_asked(PurpleConversation *conv);

/* CONTEXT's session changed or ended: a verification request it made is
 * gone (its dialogs close, UIs get an abort "smp-event", the user a line). */
void potr_smp_forget_request(ConnContext *context);

/* An SMP event from libotr for CONTEXT (progress, question, outcome):
 * written for the user, signalled to UIs, trust set on success. */
void potr_smp_event(ConnContext *context, int smp_event, unsigned short progress,
                    const char *question);

#endif /* POTR_SMP_H */
