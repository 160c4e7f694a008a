/* purple-otr - GPL-2.0-or-later
 * Unit tests of the /otr command parser. */
#include <config.h>

#include "commands.h"
#include "potr.h"
#include "testutil.h"

static void
test_next_word(void)
{
    char *word = NULL;
    const char *rest = NULL;

    potr_commands_next_word("  smp   ask \"q\" s ", &word, &rest);
    g_assert_cmpstr(word, ==, "smp");
    g_assert_cmpstr(rest, ==, "ask \"q\" s ");
    g_free(word);
    potr_commands_next_word("   ", &word, &rest);
    g_assert_null(word);
    g_assert_cmpstr(rest, ==, "");
}

typedef struct {
    const char *args;
    gboolean ok;
    const char *question;
    const char *secret;
} AskCase;

static void
test_parse_ask(void)
{
    static const AskCase cases[] = {
        { "secret", TRUE, NULL, "secret" },
        { "  two words  ", TRUE, NULL, "two words" },
        { "\"Where did we meet?\" at the lake", TRUE, "Where did we meet?", "at the lake" },
        { "\"say \\\"hi\\\" \\\\ there\" yes", TRUE, "say \"hi\" \\ there", "yes" },
        { "\"\" s", TRUE, "", "s" },
        { "\"unclosed question s", FALSE, NULL, NULL },
        { "\"question only\"", FALSE, NULL, NULL },
        { "", FALSE, NULL, NULL },
        { "   ", FALSE, NULL, NULL },
    };

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        char *question = NULL;
        char *secret = NULL;
        GError *error = NULL;
        gboolean ok = potr_commands_parse_ask(cases[i].args, &question, &secret, &error);

        g_test_message("case %u: %s", i, cases[i].args);
        g_assert_cmpint(ok, ==, cases[i].ok);
        g_assert_cmpstr(question, ==, cases[i].question);
        g_assert_cmpstr(secret, ==, cases[i].secret);
        if (ok)
            g_assert_no_error(error);
        else
            g_assert_error(error, POTR_ERROR, POTR_ERROR_FAILED);
        g_clear_error(&error);
        g_free(question);
        g_free(secret);
    }
}

int
main(int argc, char **argv)
{
    potr_test_init(&argc, &argv);
    g_test_add_func("/commands/next-word", test_next_word);
    g_test_add_func("/commands/parse-ask", test_parse_ask);
    return g_test_run();
}
