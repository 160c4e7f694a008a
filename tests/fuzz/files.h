/* purple-otr - GPL-2.0-or-later
 * Fuzzing the file readers: each input is written to a file in a
 * temporary folder, read by our reader and by libotr's. */
#ifndef POTR_FUZZ_FILES_H
#define POTR_FUZZ_FILES_H

#include <stddef.h>
#include <stdint.h>
#include <glib.h>

/* Write DATA to a fresh file named NAME in this process's temporary
 * folder (made once, removed at exit); returns its path (static). */
const char *potr_fuzz_file(const char *name, const uint8_t *data, size_t size);

#endif
