/* purple-otr - GPL-2.0-or-later
 * HTML: what goes inside the encryption, for HTML peers (Pidgin) and for
 * plain-text peers (phones, potr), in both directions. */
#ifndef POTR_HTML_H
#define POTR_HTML_H

#include <glib.h>
#include <purple.h>

/* Plain text as typed by a plain-text peer -> HTML that displays exactly
 * that text (escaped, newlines as <br>). Newly allocated. */
char *potr_html_from_plain(const char *text);

/* HTML from a conversation -> the text a plain-text peer should read:
 * tags removed, entities decoded, <br> as newlines. Newly allocated. */
char *potr_html_to_plain(const char *html);

/* TRUE if WHO on ACCOUNT displays HTML sent inside OTR messages.
 * Protocols whose IMs are HTML in libpurple (AIM, ICQ, ...) always do; on
 * XMPP the peer does if the client at WHO (a full JID: capabilities belong
 * to a resource) advertises XHTML-IM (XEP-0071), as Pidgin does; other
 * XMPP clients, a bare JID and unknown capabilities read plain text. */
gboolean potr_html_peer_reads_html(PurpleAccount *account, const char *who);

#endif /* POTR_HTML_H */
