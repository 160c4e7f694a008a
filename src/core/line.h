/* purple-otr - GPL-2.0-or-later
 * Line: the bounded line reader of the fingerprint and instance-tag files,
 * and the longest line libotr reads back whole. */
#ifndef POTR_LINE_H
#define POTR_LINE_H

#include <stdio.h>
#include <glib.h>

/* Longest line (in bytes; the newline and the CR of a CRLF line not
 * counted) of the fingerprint and instance-tag files. libotr reads these
 * files with fgets() into 1000 bytes and reads the rest of a longer line as
 * a line of its own, so: the readers skip longer lines (counted as
 * malformed) and the writers never write one. A fingerprint or tag whose
 * line would be longer (a name of hundreds of bytes), or whose names hold
 * a tab, CR or newline, is kept in memory only, with a debug line. */
#define POTR_STORE_MAX_LINE 998

typedef enum {
    POTR_LINE_OK,
    POTR_LINE_EOF,
    POTR_LINE_TOO_LONG,     /* consumed and dropped */
    POTR_LINE_UNTERMINATED, /* the file ends inside it */
    POTR_LINE_ERROR         /* read error, errno set */
} PotrLine;

/* The buffer potr_line_read() needs. */
#define POTR_LINE_BUF (POTR_STORE_MAX_LINE + 2)

/* Read one line of at most POTR_STORE_MAX_LINE bytes (newline and the CR
 * of a CRLF line excluded) into BUF (POTR_LINE_BUF bytes). Memory stays
 * bounded whatever the file holds: longer lines are read to their end and
 * dropped. */
PotrLine potr_line_read(FILE *fp, char *buf, gsize *len);

#endif /* POTR_LINE_H */
