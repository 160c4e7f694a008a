/* purple-otr - GPL-2.0-or-later
 * libpurple's event loop on GLib's main loop, for the test programs and
 * benches that run a libpurple core of their own. */
#ifndef POTR_TEST_EVENTLOOP_H
#define POTR_TEST_EVENTLOOP_H

#include <purple.h>

/* Event loop UI ops backed by the GLib main context (static; do not free). */
PurpleEventLoopUiOps *potr_test_eventloop(void);

#endif
