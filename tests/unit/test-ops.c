/* purple-otr - GPL-2.0-or-later
 * Unit tests of the ops module: the largest message each protocol carries. */
#include <config.h>

#include "headless.h"
#include "ops.h"
#include "testutil.h"

static void
test_max_message_size(void)
{
    char *dir = potr_test_dir_new();
    PurpleAccount *xmpp = NULL;
    PurpleAccount *irc = NULL;

    potr_headless_start(dir);
    xmpp = potr_headless_account("alice@example.org/pc", "prpl-jabber");
    irc = potr_headless_account("alice@irc.example.org", "prpl-irc");

    /* XMPP: no limit, OTR messages go whole */
    g_assert_cmpint(potr_ops_max_message_size(xmpp, "prpl-jabber"), ==, 0);
    /* protocols whose servers cut long messages get fragments */
    /* IRC: a fragment and the relaying server's prefix (about 150
     * bytes) fit in one 512-byte line */
    g_assert_cmpint(potr_ops_max_message_size(irc, "prpl-irc"), >, 0);
    g_assert_cmpint(potr_ops_max_message_size(irc, "prpl-irc"), <=, 512 - 2 - 150);
    g_assert_cmpint(potr_ops_max_message_size(NULL, "prpl-yahoo"), ==, 799);
    g_assert_cmpint(potr_ops_max_message_size(NULL, "prpl-unknown"), ==, 0);

    /* the account's otr.max_message_size overrides, 0 included */
    purple_account_set_int(xmpp, "otr.max_message_size", 300);
    g_assert_cmpint(potr_ops_max_message_size(xmpp, "prpl-jabber"), ==, 300);
    purple_account_set_int(irc, "otr.max_message_size", 0);
    g_assert_cmpint(potr_ops_max_message_size(irc, "prpl-irc"), ==, 0);
    purple_account_set_int(irc, "otr.max_message_size", -1);
    g_assert_cmpint(potr_ops_max_message_size(irc, "prpl-irc"), <=, 512 - 2 - 150);

    potr_headless_stop();
    potr_test_dir_free(&dir);
}

int
main(int argc, char **argv)
{
    potr_test_init(&argc, &argv);
    g_test_add_func("/ops/max-message-size", test_max_message_size);
    return g_test_run();
}
