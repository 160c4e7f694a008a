/* purple-otr - GPL-2.0-or-later
 * Policy: pidgin-otr's preferences (global and per buddy) mapped to OTR
 * policies, and the per-buddy override behind "/otr policy". */
#ifndef POTR_POLICY_H
#define POTR_POLICY_H

#include <glib.h>
#include <purple.h>
#include <libotr/proto.h>

#include "potr.h"

/* Global preference paths (compatible with pidgin-otr). */
#define POTR_PREF_ROOT "/OTR"
#define POTR_PREF_ENABLED "/OTR/enabled"
#define POTR_PREF_AUTOMATIC "/OTR/automatic"
#define POTR_PREF_ONLYPRIVATE "/OTR/onlyprivate"
#define POTR_PREF_AVOIDLOGGING "/OTR/avoidloggingotr"
#define POTR_PREF_SHOWBUTTON "/OTR/showotrbutton"
/* purple-otr's own (metadata.c): pad every encrypted message so that its
 * length shows only a bucket (default TRUE); send typing notifications
 * and chat states in private conversations too (default FALSE). */
#define POTR_PREF_PADDING "/OTR/padmessages"
#define POTR_PREF_CHATSTATES "/OTR/sendchatstates"

/* Register the global preferences with their defaults (idempotent). */
void potr_policy_init_prefs(void);

/* Policy from the three flags, as pidgin-otr: not enabled = never,
 * enabled = manual, + automatic = opportunistic, + onlyprivate = always.
 * Why onlyprivate wins even without automatic: a user who asked for
 * "only private" must never send plaintext, whatever other flag is off. */
PotrPolicy potr_policy_from_flags(gboolean enabled, gboolean automatic,
                                  gboolean onlyprivate);

/* The global (default) policy from the prefs. */
PotrPolicy potr_policy_global(void);

/* The per-buddy override of BUDDY, or FALSE if it has none (uses the
 * global policy). */
gboolean potr_policy_buddy_override(PurpleBuddy *buddy, PotrPolicy *policy);

/* Set BUDDY's override to POLICY; USE_DEFAULT TRUE clears it instead. */
void potr_policy_set_buddy(PurpleBuddy *buddy, gboolean use_default, PotrPolicy policy);

/* "Don't log OTR conversations" for WHO on ACCOUNT (buddy override first). */
gboolean potr_policy_avoid_logging(PurpleAccount *account, const char *who);

/* The libotr policy bits for POLICY. */
OtrlPolicy potr_policy_to_otrl(PotrPolicy policy);

#endif /* POTR_POLICY_H */
