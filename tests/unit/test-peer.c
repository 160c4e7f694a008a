/* purple-otr - GPL-2.0-or-later
 * Unit tests of the peer module: the keys of the core's tables are built
 * and split again in one place, and a split finds what was built. */
#include <config.h>

#include <string.h>

#include "headless.h"
#include "peer.h"
#include "testutil.h"

static void
test_key_roundtrip(void)
{
    PurpleAccount *alice = NULL;
    PurpleAccount *carol = NULL;
    char *key = NULL;
    char *own = NULL;

    alice = potr_headless_account("alice@example.org", "prpl-jabber");
    carol = potr_headless_account("carol@example.org", "prpl-jabber");

    /* the buddy is normalised as libotr's context usernames are */
    key = potr_peer_key(alice, "Bob@Example.org/phone");
    g_assert_nonnull(key);
    own = potr_peer_account_key(alice);
    g_assert_true(g_str_has_prefix(key, own));
    g_assert_cmpint(key[strlen(own)], ==, '\n');
    g_assert_cmpstr(potr_peer_key_buddy(key, alice), ==, "bob@example.org");
    g_assert_cmpstr(potr_peer_key_buddy(key, NULL), ==, "bob@example.org");
    g_assert_true(potr_peer_key_account(key) == alice);
    /* another account's key is not this account's peer */
    g_assert_null(potr_peer_key_buddy(key, carol));

    /* malformed keys split into nothing */
    g_assert_null(potr_peer_key_buddy("prpl-jabber\nalice@example.org", NULL));
    g_assert_null(potr_peer_key_buddy("", NULL));
    g_assert_null(potr_peer_key_account("prpl-jabber"));
    /* an account that is gone */
    g_assert_null(potr_peer_key_account("prpl-jabber\nnobody@example.org\nbob@example.org"));

    g_free(own);
    g_free(key);
}

static void
test_account_prefix_exact(void)
{
    PurpleAccount *al = NULL;
    PurpleAccount *alice = NULL;
    char *key = NULL;

    al = potr_headless_account("al@example.org", "prpl-jabber");
    alice = potr_headless_account("al@example.org.uk", "prpl-jabber");
    /* an account name that is a prefix of another's is another account */
    key = potr_peer_key(alice, "bob@example.org");
    g_assert_null(potr_peer_key_buddy(key, al));
    g_assert_cmpstr(potr_peer_key_buddy(key, alice), ==, "bob@example.org");
    g_free(key);
}

int
main(int argc, char **argv)
{
    char *dir = NULL;
    int status = 0;

    potr_test_init(&argc, &argv);
    /* one libpurple core for the whole program: libpurple's own plugins
     * (nss-prefs) cannot be started a second time in one process */
    dir = potr_test_dir_new();
    potr_headless_start(dir);
    g_test_add_func("/peer/key-roundtrip", test_key_roundtrip);
    g_test_add_func("/peer/account-prefix-exact", test_account_prefix_exact);
    status = g_test_run();
    potr_headless_stop();
    potr_test_dir_free(&dir);
    return status;
}
