/* purple-otr - GPL-2.0-or-later
 * Unit tests of the secret module: trimming never leaves a copy behind,
 * wiping covers every byte. */
#include <string.h>
#include <glib.h>

#include "secret.h"

static void
test_trimmed_is_a_new_copy(void)
{
    const char *typed = "  \tthe old harbour \n ";
    char *secret = potr_secret_trimmed(typed);

    g_assert_cmpstr(secret, ==, "the old harbour");
    g_assert_true(secret != typed);
    g_assert_cmpstr(typed, ==, "  \tthe old harbour \n ");   /* never in place */
    potr_secret_free(secret);
    secret = potr_secret_trimmed(NULL);
    g_assert_cmpstr(secret, ==, "");
    potr_secret_free(secret);
    secret = potr_secret_trimmed(" \t ");
    g_assert_cmpstr(secret, ==, "");
    potr_secret_free(secret);
    potr_secret_free(NULL);
}

/* What an in-place trim leaves behind, and that the wipe reaches every
 * byte of a buffer it is given the length of. */
static void
test_wipe_every_byte(void)
{
    char buffer[32];

    memset(buffer, 'x', sizeof buffer);
    buffer[sizeof buffer - 1] = '\0';
    potr_secret_wipe(buffer, sizeof buffer);
    for (size_t i = 0; i < sizeof buffer; i++)
        g_assert_cmpint(buffer[i], ==, 0);
    potr_secret_wipe(NULL, 10);      /* no-op */
    potr_secret_wipe(buffer, 0);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/secret/trimmed-is-a-new-copy", test_trimmed_is_a_new_copy);
    g_test_add_func("/secret/wipe-every-byte", test_wipe_every_byte);
    return g_test_run();
}
