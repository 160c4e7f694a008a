/* purple-otr - GPL-2.0-or-later
 * Finch buddy list: the OTR submenu of a buddy (F11 on the buddy) with the
 * native dialogs, and the per-buddy settings window. */
#ifndef POTR_GNT_BUDDY_H
#define POTR_GNT_BUDDY_H

/* Take over the core's OTR submenu in the buddy list (start, end,
 * authenticate, settings for this buddy); uninit closes every settings
 * window and gives the submenu back to the core. */
void potr_gnt_buddy_init(void);
void potr_gnt_buddy_uninit(void);

#endif /* POTR_GNT_BUDDY_H */
