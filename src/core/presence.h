/* purple-otr - GPL-2.0-or-later
 * Presence: private conversations follow the peer's and our own presence. */
#ifndef POTR_PRESENCE_H
#define POTR_PRESENCE_H

/* Follow sign-on/off of our accounts and of buddies, on behalf of HANDLE
 * (whose handlers go when the core stops) / forget what was remembered. */
void potr_presence_init(void *handle);
void potr_presence_uninit(void);

#endif /* POTR_PRESENCE_H */
