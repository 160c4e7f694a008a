/* purple-otr - GPL-2.0-or-later
 * A UI-less libpurple core for unit tests (user dir in a temporary folder). */
#include "headless.h"

#include "../common/eventloop.h"

#include <glib.h>
#include <libpurple/core.h>


void
potr_headless_start(const char *dir)
{
    purple_util_set_user_dir(dir);
    purple_debug_set_enabled(FALSE);
    purple_eventloop_set_ui_ops(potr_test_eventloop());
    if (!purple_core_init("purple-otr-unit"))
        g_error("libpurple could not start");
    purple_set_blist(purple_blist_new());
    purple_blist_load();
    purple_prefs_set_string("/purple/network/stun_server", "");
    purple_prefs_set_bool("/purple/network/auto_ip", FALSE);
    purple_prefs_set_bool("/purple/network/map_ports", FALSE);
}

void
potr_headless_stop(void)
{
    purple_core_quit();
}

PurpleAccount *
potr_headless_account(const char *username, const char *protocol)
{
    PurpleAccount *account = purple_account_new(username, protocol);

    purple_accounts_add(account);
    return account;
}
