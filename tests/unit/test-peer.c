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
    char *dir = potr_test_dir_new();
    PurpleAccount *alice = NULL;
    PurpleAccount *carol = NULL;
    char *key = NULL;
    char *own = NULL;

    potr_headless_start(dir);
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
    potr_headless_stop();
    potr_test_dir_free(&dir);
}

static void
test_account_prefix_exact(void)
{
    char *dir = potr_test_dir_new();
    PurpleAccount *al = NULL;
    PurpleAccount *alice = NULL;
    char *key = NULL;

    potr_headless_start(dir);
    al = potr_headless_account("al@example.org", "prpl-jabber");
    alice = potr_headless_account("al@example.org.uk", "prpl-jabber");
    /* an account name that is a prefix of another's is another account */
    key = potr_peer_key(alice, "bob@example.org");
    g_assert_null(potr_peer_key_buddy(key, al));
    g_assert_cmpstr(potr_peer_key_buddy(key, alice), ==, "bob@example.org");
    g_free(key);
    potr_headless_stop();
    potr_test_dir_free(&dir);
}

int
main(int argc, char **argv)
{
    potr_test_init(&argc, &argv);
    g_test_add_func("/peer/key-roundtrip", test_key_roundtrip);
    g_test_add_func("/peer/account-prefix-exact", test_account_prefix_exact);
    return g_test_run();
}
