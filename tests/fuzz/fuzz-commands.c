/* purple-otr - GPL-2.0-or-later
 * Fuzz target: "/otr" command parsing and execution, in a conversation
 * with the in-process libotr peer (private when the first byte is odd).
 * Oracles: the "smp ask" parser returns a non-empty secret or an error,
 * never both; the word splitter always moves forward. */
#include <config.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "env.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    potr_fuzz_env_start();
    return 0;
}

static void
check_parsers(const char *args)
{
    char *word = NULL;
    const char *rest = NULL;
    char *question = NULL;
    char *secret = NULL;
    GError *error = NULL;
    gboolean ok = FALSE;

    potr_commands_next_word(args, &word, &rest);
    if (rest == NULL || rest < args || rest > args + strlen(args) || (word != NULL && *word == '\0'))
        abort();
    ok = potr_commands_parse_ask(args, &question, &secret, &error);
    if (ok != (error == NULL) || (ok && (secret == NULL || *secret == '\0')))
        abort();
    g_clear_error(&error);
    g_free(question);
    g_free(secret);
    g_free(word);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *args = NULL;

    if (size < 1)
        return 0;
    args = g_strndup((const char *)data + 1, size - 1);
    check_parsers(args);
    if (data[0] & 1)
        (void)potr_fuzz_env_private();
    potr_commands_run(potr_fuzz_env_conv(POTR_FUZZ_PEER), args);
    potr_fuzz_env_pump();
    g_free(args);
    return 0;
}
