/* purple-otr - GPL-2.0-or-later
 * Metadata: what the server learns besides the ciphertext, made as little
 * as the protocol allows (message lengths padded to buckets, chat states
 * and typing notifications withheld while a conversation is private). */
#ifndef POTR_METADATA_H
#define POTR_METADATA_H

#include <glib.h>
#include <purple.h>
#include <libotr/context.h>
#include <libotr/tlv.h>

/* The preferences POTR_PREF_PADDING and POTR_PREF_CHATSTATES are in
 * policy.h, with the others. */
#include "policy.h"

/* The bucket size: what libotr encrypts (message, its NUL, our padding
 * TLV and the few fields of a data message whose size varies) is a whole
 * number of buckets. */
#define POTR_PAD_BUCKET 256

/* Bytes the encrypted part of a data message has, for USED bytes of
 * content: USED rounded up to a whole number of buckets (USED >= 1). */
gsize potr_metadata_padded_size(gsize used);

/* A padding TLV (type 0) to hand to otrl_message_sending, with room for
 * the largest padding; NULL when padding is switched off. Its length is
 * set by potr_metadata_fit_padding once the message is final. The caller
 * frees it with otrl_tlv_free. */
OtrlTLV *potr_metadata_padding_new(void);

/* Size PADDING (from potr_metadata_padding_new; NULL does nothing) so
 * that the data message CONTEXT is about to encrypt for MESSAGE (the
 * final text, after any conversion) has the size of its bucket, whatever
 * MAC keys libotr reveals in it and however long its DH key is. */
void potr_metadata_fit_padding(OtrlTLV *padding, ConnContext *context, const char *message);

/* TRUE if typing notifications and chat states to WHO on ACCOUNT are
 * withheld now: the conversation is private (Unverified or Private) and
 * the user did not ask for them (POTR_PREF_CHATSTATES). */
gboolean potr_metadata_hide_chat_states(PurpleAccount *account, const char *who);

/* Filter every protocol's typing notifications and prpl-jabber's chat
 * states on behalf of HANDLE / put the protocols back as they were. */
void potr_metadata_init(void *handle);
void potr_metadata_uninit(void);

#endif /* POTR_METADATA_H */
