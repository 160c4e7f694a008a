/* purple-otr - GPL-2.0-or-later
 * Events: libotr's message events turned into lines for the user, from one table. */
#ifndef POTR_EVENTS_H
#define POTR_EVENTS_H

#include <glib.h>
#include <purple.h>
#include <libotr/proto.h>
#include <libotr/message.h>

/* Replace "{buddy}" and "{detail}" in TEMPLATE with BUDDY and DETAIL,
 * both HTML-escaped (they are peer-controlled and never interpreted: no
 * printf format is ever built from them). NULL values become "".
 * Returns a newly allocated string. */
char *potr_event_expand(const char *template_, const char *buddy, const char *detail);

/* The line to show for libotr message event EVENT, as HTML (newly
 * allocated), or NULL if the event shows nothing to the user (heartbeats).
 * BUDDY is the peer's name, MESSAGE libotr's message argument: for an
 * unencrypted message or an OTR error from the peer it is the received
 * message as the protocol plugin made it (HTML: shown as its text, escaped,
 * never as markup; cut at POTR_EVENT_MAX_DETAIL bytes, and at the first
 * invalid UTF-8). ERR is libotr's error for setup errors. *FLAGS receives
 * the message flags for the line (system or error). */
char *potr_event_describe(OtrlMessageEvent event, const char *buddy,
                          const char *message, gcry_error_t err,
                          PurpleMessageFlags *flags);

/* Bytes of peer text quoted in a line at the most (longer is cut, with an
 * ellipsis): a peer cannot flood the window through an error message. */
#define POTR_EVENT_MAX_DETAIL 1024

#endif /* POTR_EVENTS_H */
