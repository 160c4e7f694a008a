/* purple-otr - GPL-2.0-or-later
 * Dialogs: verification dialogs through purple_request_*, for every UI that
 * has no native ones, and OTR entries in the buddy list's menu. */
#ifndef POTR_DIALOGS_H
#define POTR_DIALOGS_H

#include <purple.h>

/* Connect the buddy-menu entries on behalf of HANDLE / disconnect. */
void potr_dialogs_init(void *handle);
void potr_dialogs_uninit(void);

/* The peer of CONV asks to verify (QUESTION NULL: shared secret). Emits
 * "smp-request"; unless a UI handled it, asks the user for the answer. */
void potr_dialogs_smp_request(PurpleConversation *conv, const char *question);

/* Close CONV's responder dialog, if one is open (the request was
 * answered another way, or the verification ended). */
void potr_dialogs_smp_close(PurpleConversation *conv);

/* Let the user choose how to verify CONV's peer: question and answer,
 * shared secret, or comparing fingerprints by hand. Emits
 * "verify-request" first: a UI with its own dialog takes over. */
void potr_dialogs_verify(PurpleConversation *conv);

/* CONV is being deleted: close its dialogs, forget what they showed. */
void potr_dialogs_conv_gone(PurpleConversation *conv);

#endif /* POTR_DIALOGS_H */
