/* purple-otr - GPL-2.0-or-later
 * Commands: "/otr ..." in every libpurple UI, and its parser. */
#ifndef POTR_COMMANDS_H
#define POTR_COMMANDS_H

#include <glib.h>
#include <purple.h>

/* Register "/otr" for HANDLE / unregister it. */
void potr_commands_init(void *handle);
void potr_commands_uninit(void);

/* Split the start of TEXT into its first word (*WORD, newly allocated,
 * NULL when TEXT is blank) and the rest after the spaces that follow it
 * (*REST points into TEXT). */
void potr_commands_next_word(const char *text, char **word, const char **rest);

/* Parse the arguments of "smp ask": ["QUESTION"] SECRET. The question is
 * in double quotes, with \" and \\ escapes; the secret is the rest of the
 * line (spaces inside kept, ends trimmed). Returns FALSE with a usage
 * ERROR when the quote is not closed or the secret is missing. *QUESTION
 * is NULL without a question. Both results are newly allocated. */
gboolean potr_commands_parse_ask(const char *args, char **question, char **secret,
                                 GError **error);

/* Run "/otr ARGS" in CONV; every outcome is written into CONV. */
void potr_commands_run(PurpleConversation *conv, const char *args);

#endif /* POTR_COMMANDS_H */
