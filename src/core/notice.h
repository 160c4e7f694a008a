/* purple-otr - GPL-2.0-or-later
 * Notices: the status lines the core writes into conversations, their
 * repeat suppression, and the peer fingerprint last shown in each
 * conversation. A leaf module: it knows libpurple and events.c only. */
#ifndef POTR_NOTICE_H
#define POTR_NOTICE_H

#include <glib.h>
#include <purple.h>

/* Create and free the per-conversation table (the session's init and
 * uninit call them). Before init and after uninit every write is a no-op. */
void potr_notice_init(void);
void potr_notice_uninit(void);

/* Forget what is kept about CONV (it is being deleted). */
void potr_notice_conv_gone(PurpleConversation *conv);

/* Write a status line (HTML) into CONV, never logged. Identical lines
 * written again within a few seconds are suppressed when DEDUPE. */
void potr_notice_write(PurpleConversation *conv, const char *html,
                       PurpleMessageFlags flags, gboolean dedupe);

/* Write TEMPLATE ({buddy}, {detail}: escaped) into CONV, never logged. */
void potr_notice_say(PurpleConversation *conv, const char *template_, const char *buddy,
                     const char *detail, PurpleMessageFlags flags);

/* How many lines were written so far: the receive hook compares two
 * counts to know whether the user heard anything about a message. */
guint potr_notice_count(void);

/* The peer's fingerprint (human form) last shown in CONV, or NULL; set
 * whenever a line or a dialog shows it. Trust without a fingerprint named
 * goes to this one only (see potr_conv_set_trusted). */
void potr_notice_set_shown(PurpleConversation *conv, const char *human);
const char *potr_notice_shown(PurpleConversation *conv);

#endif /* POTR_NOTICE_H */
