/* purple-otr - GPL-2.0-or-later
 * Translation macros: every user-visible string goes through _() or N_(). */
#ifndef POTR_I18N_H
#define POTR_I18N_H

#include <config.h>
#include <glib/gi18n-lib.h>

#endif
