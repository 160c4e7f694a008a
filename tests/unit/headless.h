/* purple-otr - GPL-2.0-or-later
 * A UI-less libpurple core for unit tests (user dir in a temporary folder). */
#ifndef POTR_TEST_HEADLESS_H
#define POTR_TEST_HEADLESS_H

#include <purple.h>

/* Start libpurple with its user dir in DIR (never ~/.purple), no network
 * helpers (STUN, UPnP off). Aborts the test program if it cannot start. */
void potr_headless_start(const char *dir);

/* Quit libpurple (frees what it holds). */
void potr_headless_stop(void);

/* An account of PROTOCOL named USERNAME, added to the account list. */
PurpleAccount *potr_headless_account(const char *username, const char *protocol);

#endif
