/* purple-otr - GPL-2.0-or-later
 * Ops: the callbacks libotr calls (OtrlMessageAppOps), and what they need. */
#ifndef POTR_OPS_H
#define POTR_OPS_H

#include <purple.h>
#include <libotr/proto.h>
#include <libotr/message.h>

#include "context.h"   /* PotrChange */

/* What the core passes to libotr as opdata: the account and the peer's
 * full address (e.g. an XMPP full JID) of the message being handled.
 * Either may be NULL when libotr calls back outside a message (timers). */
typedef struct {
    PurpleAccount *account;
    const char *peer;
    gboolean quiet;   /* a stored (offline) message: send nothing back, no event lines */
    gboolean v3_data; /* the message is v3 data (addressed to one instance) */
    OtrlTLV *padding; /* the message's padding TLV, sized once it is converted (metadata.h) */
} PotrOpData;

/* What libotr's callbacks hand on to the modules above this one. Why
 * callbacks: those modules send through libotr (and so use this one); the
 * engine, which knows every module, connects them (potr_ops_set_handlers)
 * so that no module includes one that includes it back. A NULL member, or
 * no handlers at all (before the engine starts), drops that news. */
typedef struct {
    /* libotr needs ACCOUNT's key to talk to PEER (NULL outside a message) */
    void (*need_key)(PurpleAccount *account, const char *peer);
    /* we sent WHO a D-H commit (the first message of a key exchange) */
    void (*commit_sent)(PurpleAccount *account, const char *who);
    /* CONTEXT went secure, insecure or was refreshed */
    void (*changed)(ConnContext *context, PotrChange change);
    /* an SMP event for CONTEXT (OtrlSMPEvent), its progress and question */
    void (*smp_event)(ConnContext *context, int smp_event, unsigned short progress,
                      const char *question);
    /* the peer could not read one of our messages */
    void (*peer_error)(ConnContext *context);
    /* v3 data for this client arrived with no private conversation open;
     * OPDATA is the message's PotrOpData */
    void (*not_private)(ConnContext *context, const void *opdata);
} PotrOpsHandlers;

/* Install HANDLERS (copied; NULL removes them). Only the engine calls it. */
void potr_ops_set_handlers(const PotrOpsHandlers *handlers);

/* The one OtrlMessageAppOps table of the process. */
extern const OtrlMessageAppOps potr_ops;

/* Stop libotr's periodic timer (at unload). */
void potr_ops_stop_timer(void);

/* Length of the header libotr puts before each fragment's piece, with
 * the closing comma: "?OTR|%08x|%08x,%05hu,%05hu," (v3), "?OTR,%05hu,%05hu,"
 * (v2). */
#define POTR_FRAGMENT_HEADER_V3 37
#define POTR_FRAGMENT_HEADER_V2 19
/* The smallest fragment size an account may set: a size at or below the
 * header leaves no room for the piece (libotr then divides by zero). */
#define POTR_FRAGMENT_MIN 64

/* Largest OTR message PROTOCOL carries unfragmented, 0 for no limit;
 * ACCOUNT's "otr.max_message_size" setting (when >= 0) overrides, raised
 * to POTR_FRAGMENT_MIN when it is smaller. */
int potr_ops_max_message_size(PurpleAccount *account, const char *protocol);

#endif /* POTR_OPS_H */
