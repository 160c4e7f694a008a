/* purple-otr - GPL-2.0-or-later
 * Line: the bounded line reader of the fingerprint and instance-tag files
 * (lines libotr would cut are read to their end and dropped). */

#include <stdio.h>

#include "line.h"

PotrLine
potr_line_read(FILE *fp, char *buf, gsize *len)
{
    gsize n = 0;
    gboolean too_long = FALSE;
    int c;

    while ((c = getc_unlocked(fp)) != EOF && c != '\n') {
        if (n <= POTR_STORE_MAX_LINE)
            buf[n++] = (char)c;
        else
            too_long = TRUE;
    }
    /* libotr reads a line and its CR into one 1000-byte buffer */
    if (n == POTR_STORE_MAX_LINE + 1 && buf[POTR_STORE_MAX_LINE] != '\r')
        too_long = TRUE;
    buf[n] = '\0';
    *len = n;
    if (c == EOF && ferror(fp))
        return POTR_LINE_ERROR;
    if (c == EOF && n == 0 && !too_long)
        return POTR_LINE_EOF;
    if (too_long)
        return POTR_LINE_TOO_LONG;
    return c == EOF ? POTR_LINE_UNTERMINATED : POTR_LINE_OK;
}
