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
#define POTR_NS_CLIENT "jabber:client"
#define POTR_NS_XHTML_IM "http://jabber.org/protocol/xhtml-im"

/* Hook prpl-jabber's stanza signals on behalf of HANDLE (nothing happens
 * if the XMPP protocol plugin is not there) / unhook. */
void potr_xmpp_init(void *handle);
void potr_xmpp_uninit(void);

/* TRUE if BODY is OTR data or an OTR protocol message ("?OTR" first). */
gboolean potr_xmpp_is_otr(const char *body);

/* What libotr 4.1's otrl_message_receiving() makes of TEXT, found the way
 * libotr finds it: "?OTR" and the whitespace tag anywhere in the text, the
 * kind named by the first "?OTR", a fragment header anywhere. */
typedef enum {
    POTR_OTR_NONE,       /* neither "?OTR" nor a whitespace tag: plain text */
    POTR_OTR_TAGGED,     /* no "?OTR", a whitespace tag: may start a key exchange */
    POTR_OTR_QUERY,      /* first "?OTR" is "?OTR?" or "?OTRv": answered */
    POTR_OTR_DATA,       /* first "?OTR" is a data message (v3, v2 or v1) */
    POTR_OTR_ERROR,      /* first "?OTR" is "?OTR Error:": may be answered with a query */
    POTR_OTR_FRAGMENT,   /* "?OTR|" or "?OTR," somewhere: a fragment, kept for reassembly */
    POTR_OTR_OTHER       /* a key exchange message, or an OTR message libotr does not know */
} PotrOtrKind;

/* The kind of TEXT for libotr (NULL is POTR_OTR_NONE). Every kind but
 * POTR_OTR_NONE makes libotr act: answer, start a key exchange, decrypt,
 * keep a fragment or hide the message. */
PotrOtrKind potr_xmpp_otr_kind(const char *text);

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

/* Classify MESSAGE by what libotr will see of it: the text prpl-jabber
 * delivers as an IM (the XHTML-IM <html/> markup when there is one, else
 * the first <body/> in the jabber:client namespace, escaped as prpl-jabber
 * escapes it), read as libotr reads it (potr_xmpp_otr_kind). A copy is a
 * carbon or archive result forwarding a message that starts with "?OTR".
 * Messages prpl-jabber never delivers as an IM (groupchat, headline,
 * error) are POTR_XMPP_PLAIN. MESSAGE is not changed. */
PotrXmppKind potr_xmpp_classify(xmlnode *message);

/* Remove every OTR whitespace tag from BODY in place, also tags that
 * removing one forms anew (a delayed message must not start a key
 * exchange, XEP-0364). Returns TRUE if one was removed. */
gboolean potr_xmpp_strip_whitespace_tag(char *body);

/* What the receive hook does to an incoming <message/> before prpl-jabber
 * reads it. A stored message (XEP-0203 delay, or the legacy jabber:x:delay)
 * that would reach libotr as a whitespace-tagged text is disarmed: its
 * delivered XHTML-IM part is removed when libotr could find a tag or
 * "?OTR" in it (prpl-jabber then delivers the body), and the tags are
 * removed from the delivered body (with its CRs, which prpl-jabber drops
 * anyway and which could hide a tag). Returns the kind of MESSAGE as it is
 * afterwards (potr_xmpp_classify): for a stored message only
 * POTR_XMPP_DELAYED_OTR, POTR_XMPP_COPY_OTR or POTR_XMPP_PLAIN, and
 * POTR_XMPP_PLAIN means libotr sees no OTR at all (POTR_OTR_NONE). */
PotrXmppKind potr_xmpp_rewrite_incoming(xmlnode *message);

/* For the receive hook: TRUE (once) if the message from WHO on ACCOUNT
 * now being delivered came from the server's offline storage; *AGE (may be
 * NULL) gets the seconds since it was stored, -1 if unknown. */
gboolean potr_xmpp_take_delayed(PurpleAccount *account, const char *who, gint64 *age);

#endif /* POTR_XMPP_H */
