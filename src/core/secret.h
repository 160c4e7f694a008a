/* purple-otr - GPL-2.0-or-later
 * Secrets in memory: the one way to copy, trim and wipe a secret (an SMP
 * answer, a private message waiting to be sent). */
#ifndef POTR_SECRET_H
#define POTR_SECRET_H

#include <stddef.h>
#include <glib.h>

#include "potr.h"   /* potr_secret_trimmed(), potr_secret_free() */

/* Overwrite LEN bytes at P with zeros in a way the compiler cannot drop
 * (explicit_bzero). P NULL or LEN 0: no-op. */
void potr_secret_wipe(void *p, size_t len);

/* potr_secret_trimmed(): why never in place: an in-place trim
 * (g_strstrip) moves the text and leaves a copy of its tail behind the new
 * end, which a wipe up to the first NUL never reaches. */

#endif /* POTR_SECRET_H */
