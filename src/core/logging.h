/* purple-otr - GPL-2.0-or-later
 * Logging: a conversation's log is switched off while it is private and
 * the user asked not to log OTR conversations, and back on afterwards. */
#ifndef POTR_LOGGING_H
#define POTR_LOGGING_H

#include <purple.h>

/* Check the log of every conversation before each line is written
 * ("writing-im-msg"), on behalf of HANDLE. */
void potr_logging_init(void *handle);

/* Give every conversation back the log switched off for it (at unload;
 * the handler goes with the handle). */
void potr_logging_uninit(void);

/* Switch CONV's log off or back on now, after its privacy or the
 * "don't log" setting changed (see logging.c for why and when). */
void potr_logging_update(PurpleConversation *conv);

#endif /* POTR_LOGGING_H */
