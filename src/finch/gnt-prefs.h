/* purple-otr - GPL-2.0-or-later
 * Finch preferences (Plugins > Configure Plugin): global policy, don't-log,
 * and the windows of the known fingerprints (verify / forget) and of my
 * keys (generate). */
#ifndef POTR_GNT_PREFS_H
#define POTR_GNT_PREFS_H

#include <gnt.h>

#include "potr.h"

/* Build the frame; Finch puts it into its plugin configuration window and
 * destroys it with that window. Its buttons open the two list windows,
 * which follow the core's signals while they are open. */
GntWidget *potr_gnt_prefs_frame(void);

/* A combo box of the four policies, SELECTED chosen (for the default
 * policy and the per-buddy settings), and the policy chosen in it. */
GntWidget *potr_gnt_prefs_policy_combo(PotrPolicy selected);
PotrPolicy potr_gnt_prefs_policy_of(GntWidget *combo);

/* Close the list windows (the plugin is unloading). */
void potr_gnt_prefs_uninit(void);

#endif /* POTR_GNT_PREFS_H */
