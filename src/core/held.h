/* purple-otr - GPL-2.0-or-later
 * Held messages: under "always", what is typed before the conversation is
 * private waits here, then goes out encrypted. */
#ifndef POTR_HELD_H
#define POTR_HELD_H

#include <glib.h>
#include <purple.h>
#include <libotr/proto.h>
#include <libotr/context.h>

void potr_held_init(void);
void potr_held_uninit(void);

/* Hold *MESSAGE (the user's HTML, taken over: *MESSAGE becomes NULL) for
 * WHO on ACCOUNT, show it as typed with a line saying it waits, and start
 * the private conversation (one query for a batch). Beyond a limit the
 * message is refused with a line instead. */
void potr_held_add(PurpleAccount *account, const char *who, char **message);

/* CONTEXT became private: send what was held for its buddy on the next
 * idle (not from inside libotr's key exchange). */
void potr_held_flush_soon(ConnContext *context);

/* Number of messages held for WHO on ACCOUNT. */
guint potr_held_count(PurpleAccount *account, const char *who);

/* Tell the owner of every held message of ACCOUNT (all when NULL) that it
 * was not sent, and drop it. */
void potr_held_drop(PurpleAccount *account);

#endif /* POTR_HELD_H */
