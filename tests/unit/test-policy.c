/* purple-otr - GPL-2.0-or-later
 * Unit tests of the policy module: flags, names, per-buddy overrides. */
#include <config.h>

#include <libotr/proto.h>

#include "headless.h"
#include "policy.h"
#include "testutil.h"

static void
test_flags(void)
{
    /* every combination of pidgin-otr's three flags */
    static const struct {
        gboolean enabled, automatic, onlyprivate;
        PotrPolicy expected;
    } rows[] = {
        { FALSE, FALSE, FALSE, POTR_POLICY_NEVER },
        { FALSE, TRUE, TRUE, POTR_POLICY_NEVER },
        { TRUE, FALSE, FALSE, POTR_POLICY_MANUAL },
        { TRUE, TRUE, FALSE, POTR_POLICY_OPPORTUNISTIC },
        { TRUE, TRUE, TRUE, POTR_POLICY_ALWAYS },
        { TRUE, FALSE, TRUE, POTR_POLICY_ALWAYS },
    };

    for (guint i = 0; i < G_N_ELEMENTS(rows); i++)
        g_assert_cmpint(potr_policy_from_flags(rows[i].enabled, rows[i].automatic, rows[i].onlyprivate),
                        ==, rows[i].expected);
}

static void
test_names(void)
{
    PotrPolicy policy = POTR_POLICY_NEVER;

    for (int p = POTR_POLICY_NEVER; p <= POTR_POLICY_ALWAYS; p++) {
        g_assert_true(potr_policy_from_name(potr_policy_name((PotrPolicy)p), &policy));
        g_assert_cmpint(policy, ==, p);
    }
    g_assert_true(potr_policy_from_name("ALWAYS", &policy));
    g_assert_cmpint(policy, ==, POTR_POLICY_ALWAYS);
    g_assert_false(potr_policy_from_name("sometimes", &policy));
    g_assert_false(potr_policy_from_name("", &policy));
}

static void
test_otrl_bits(void)
{
    g_assert_cmpuint(potr_policy_to_otrl(POTR_POLICY_NEVER), ==, OTRL_POLICY_NEVER);
    g_assert_true(potr_policy_to_otrl(POTR_POLICY_ALWAYS) & OTRL_POLICY_REQUIRE_ENCRYPTION);
    g_assert_false(potr_policy_to_otrl(POTR_POLICY_OPPORTUNISTIC) & OTRL_POLICY_REQUIRE_ENCRYPTION);
    g_assert_true(potr_policy_to_otrl(POTR_POLICY_OPPORTUNISTIC) & OTRL_POLICY_SEND_WHITESPACE_TAG);
    g_assert_false(potr_policy_to_otrl(POTR_POLICY_MANUAL) & OTRL_POLICY_SEND_WHITESPACE_TAG);
    g_assert_true(potr_policy_to_otrl(POTR_POLICY_MANUAL) & OTRL_POLICY_ALLOW_V3);
}

static void
test_buddy_override(void)
{
    char *dir = potr_test_dir_new();
    PurpleAccount *account = NULL;
    PurpleBuddy *buddy = NULL;
    PotrPolicy policy = POTR_POLICY_NEVER;

    potr_headless_start(dir);
    potr_policy_init_prefs();
    account = potr_headless_account("alice@example.org", "prpl-jabber");
    buddy = purple_buddy_new(account, "bob@example.org", NULL);
    purple_blist_add_buddy(buddy, NULL, NULL, NULL);

    /* defaults: pidgin-otr's, opportunistic */
    g_assert_cmpint(potr_policy_global(), ==, POTR_POLICY_OPPORTUNISTIC);
    g_assert_false(potr_policy_buddy_override(buddy, &policy));
    g_assert_cmpint(potr_policy_for(account, "bob@example.org/phone"), ==, POTR_POLICY_OPPORTUNISTIC);

    potr_policy_set_buddy(buddy, FALSE, POTR_POLICY_ALWAYS);
    g_assert_true(potr_policy_buddy_override(buddy, &policy));
    g_assert_cmpint(policy, ==, POTR_POLICY_ALWAYS);
    g_assert_cmpint(potr_policy_for(account, "bob@example.org"), ==, POTR_POLICY_ALWAYS);
    /* stored exactly as pidgin-otr stores it */
    g_assert_true(purple_blist_node_get_bool((PurpleBlistNode *)buddy, "OTR/overridedefault"));
    g_assert_true(purple_blist_node_get_bool((PurpleBlistNode *)buddy, "OTR/onlyprivate"));

    /* a global change does not touch the override */
    purple_prefs_set_bool(POTR_PREF_ENABLED, FALSE);
    g_assert_cmpint(potr_policy_for(account, "bob@example.org"), ==, POTR_POLICY_ALWAYS);
    g_assert_cmpint(potr_policy_for(account, "carol@example.org"), ==, POTR_POLICY_NEVER);

    potr_policy_set_buddy(buddy, TRUE, POTR_POLICY_NEVER);
    g_assert_cmpint(potr_policy_for(account, "bob@example.org"), ==, POTR_POLICY_NEVER);

    /* don't-log: the buddy's own setting wins once it overrides */
    purple_prefs_set_bool(POTR_PREF_AVOIDLOGGING, TRUE);
    g_assert_true(potr_policy_avoid_logging(account, "bob@example.org"));
    potr_policy_set_buddy(buddy, FALSE, POTR_POLICY_MANUAL);
    purple_blist_node_set_bool((PurpleBlistNode *)buddy, "OTR/avoidloggingotr", FALSE);
    g_assert_false(potr_policy_avoid_logging(account, "bob@example.org"));
    g_assert_true(potr_policy_avoid_logging(account, "carol@example.org"));

    potr_headless_stop();
    potr_test_dir_free(&dir);
}

int
main(int argc, char **argv)
{
    potr_test_init(&argc, &argv);
    g_test_add_func("/policy/flags", test_flags);
    g_test_add_func("/policy/names", test_names);
    g_test_add_func("/policy/otrl-bits", test_otrl_bits);
    g_test_add_func("/policy/buddy-override", test_buddy_override);
    return g_test_run();
}
