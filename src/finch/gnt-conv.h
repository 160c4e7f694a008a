/* purple-otr - GPL-2.0-or-later
 * Finch conversation windows: the OTR status line, the trust level in the
 * title, the "OTR" menu and its key (alt+o). */
#ifndef POTR_GNT_CONV_H
#define POTR_GNT_CONV_H

#include <purple.h>

/* The key that opens the OTR menu of a conversation window, as gnt names
 * it (escape + o = alt+o), and as the status line shows it. */
#define POTR_GNT_MENU_KEY "\033o"
#define POTR_GNT_MENU_KEY_NAME "alt+o"

/* Decorate every open and future IM window (status line, title, menu);
 * uninit removes all of it again. The core plugin must be running. */
void potr_gnt_conv_init(void);
void potr_gnt_conv_uninit(void);

/* Bring the status line and title of every IM window up to date now. */
void potr_gnt_conv_refresh_all(void);

/* The IM conversation shown in the Finch window WINDOW (its active one),
 * or NULL if WINDOW is no longer a conversation window. */
PurpleConversation *potr_gnt_conv_of_window(gpointer window);

#endif /* POTR_GNT_CONV_H */
