/* purple-otr - GPL-2.0-or-later
 * XMPP: stanza hygiene for OTR over prpl-jabber (hints so that servers
 * neither archive nor copy OTR data; carbons, offline and archived copies
 * recognised before libotr sees them). */
#ifndef POTR_XMPP_H
#define POTR_XMPP_H

#include <glib.h>
#include <purple.h>

#define POTR_NS_CARBONS "urn:xmpp:carbons:2"
#define POTR_NS_HINTS "urn:xmpp:hints"
#define POTR_NS_EME "urn:xmpp:eme:0"
#define POTR_NS_OTR "urn:xmpp:otr:0"
#define POTR_NS_DELAY "urn:xmpp:delay"
#define POTR_NS_MAM "urn:xmpp:mam:2"

/* Hook prpl-jabber's stanza signals on behalf of HANDLE (nothing happens
 * if the XMPP protocol plugin is not there) / unhook. */
void potr_xmpp_init(void *handle);
void potr_xmpp_uninit(void);

/* TRUE if BODY is OTR data or an OTR protocol message ("?OTR" first). */
gboolean potr_xmpp_is_otr(const char *body);

/* Add the four hints to an outgoing <message/> whose body is OTR data:
 * carbons <private/>, <no-permanent-store/>, <no-copy/> (only when the
 * recipient is a full JID) and XEP-0380's <encryption/>. Elements already
 * there are not duplicated. */
void potr_xmpp_add_hints(xmlnode *message);

/* What an incoming <message/> is, for OTR. */
typedef enum {
    POTR_XMPP_PLAIN,        /* nothing to do */
    POTR_XMPP_LIVE_OTR,     /* OTR, received live: libotr handles it */
    POTR_XMPP_DELAYED_OTR,  /* OTR kept by the server (offline storage) */
    POTR_XMPP_COPY_OTR      /* a carbon or archive copy holding OTR data */
} PotrXmppKind;

PotrXmppKind potr_xmpp_classify(xmlnode *message);

/* Remove OTR whitespace tags from BODY in place (a delayed message must
 * not start a key exchange, XEP-0364). Returns TRUE if one was removed. */
gboolean potr_xmpp_strip_whitespace_tag(char *body);

/* For the receive hook: TRUE (once) if the message from WHO on ACCOUNT
 * now being delivered came from the server's offline storage; *AGE (may be
 * NULL) gets the seconds since it was stored, -1 if unknown. */
gboolean potr_xmpp_take_delayed(PurpleAccount *account, const char *who, gint64 *age);

#endif /* POTR_XMPP_H */
