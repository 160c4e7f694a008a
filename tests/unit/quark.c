/* purple-otr - GPL-2.0-or-later
 * POTR_ERROR's quark for unit tests that link single core modules instead of
 * libpurple-otr-core (which defines it in src/core/core.c with the same name,
 * so errors compare equal either way). Never link it with the library. */

#include <glib.h>

#include "potr.h"

G_DEFINE_QUARK(potr-error-quark, potr_error)
