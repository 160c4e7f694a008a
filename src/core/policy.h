/* purple-otr - GPL-2.0-or-later
 * Policy: pidgin-otr's preferences (global and per buddy) mapped to OTR
 * policies, and the per-buddy override behind "/otr policy". */
#ifndef POTR_POLICY_H
#define POTR_POLICY_H

#include <glib.h>
#include <purple.h>
#include <libotr/proto.h>

#include "potr.h"

/* Register the global preferences with their defaults (idempotent). */
void potr_policy_init_prefs(void);

/* Policy from the three flags, as pidgin-otr: not enabled = never,
 * enabled = manual, + automatic = opportunistic, + onlyprivate = always.
 * Why onlyprivate wins even without automatic: a user who asked for
 * "only private" must never send plaintext, whatever other flag is off. */
PotrPolicy potr_policy_from_flags(gboolean enabled, gboolean automatic,
                                  gboolean onlyprivate);

/* potr_policy_global, potr_policy_buddy_override, potr_policy_set_buddy,
 * potr_policy_avoid_logging and the POTR_PREF_* paths: public, in potr.h. */

/* The libotr policy bits for POLICY. */
OtrlPolicy potr_policy_to_otrl(PotrPolicy policy);

#endif /* POTR_POLICY_H */
