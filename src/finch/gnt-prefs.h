/* purple-otr - GPL-2.0-or-later
 * Finch preferences frame (Plugins > Configure): global policy, don't-log,
 * the known fingerprints (verify / forget) and my keys (generate). */
#ifndef POTR_GNT_PREFS_H
#define POTR_GNT_PREFS_H

#include <gnt.h>

/* Build the frame; Finch puts it into its plugin configuration window and
 * destroys it with that window. The frame follows the core's signals
 * while it lives. */
GntWidget *potr_gnt_prefs_frame(void);

/* Forget the open frame's signal connections (the plugin is unloading). */
void potr_gnt_prefs_uninit(void);

#endif /* POTR_GNT_PREFS_H */
