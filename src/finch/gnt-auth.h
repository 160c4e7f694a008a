/* purple-otr - GPL-2.0-or-later
 * Finch authentication (verification) dialogs: method chooser, question
 * and answer, shared secret, manual fingerprint check, the responder's
 * dialog, progress and outcome. One dialog per conversation. */
#ifndef POTR_GNT_AUTH_H
#define POTR_GNT_AUTH_H

#include <purple.h>

#include "potr.h"

/* Connect the core's "smp-request" and "smp-event" signals (the
 * responder's dialog replaces the core's request dialog); uninit closes
 * every dialog and disconnects. The core plugin must be running. */
void potr_gnt_auth_init(void);
void potr_gnt_auth_uninit(void);

/* Open the method chooser for CONV's peer (or bring CONV's dialog to the
 * front if one is open). */
void potr_gnt_auth_choose(PurpleConversation *conv);

/* Open a small window that asks whether FP (a fingerprint of the
 * fingerprint list) was verified by hand, and saves the answer. FP is
 * copied. */
void potr_gnt_auth_fingerprint(const PotrFingerprint *fp);

/* TRUE while the peer's verification request waits for an answer in
 * CONV's dialog. */
gboolean potr_gnt_auth_pending(PurpleConversation *conv);

/* A short phrase for the verification state of CONV ("authenticating
 * (60%)", or a pending request), or NULL if there is none. Static string,
 * valid until the next call. */
const char *potr_gnt_auth_activity(PurpleConversation *conv);

#endif /* POTR_GNT_AUTH_H */
