/* purple-otr - GPL-2.0-or-later
 * Secrets in memory: copy, trim and wipe, in one place. */
#include "secret.h"

#include <string.h>

/* Why explicit_bzero: a memset() of memory that is freed right after is a
 * dead store the compiler may remove; explicit_bzero (glibc 2.25) is
 * guaranteed to happen. */
void
potr_secret_wipe(void *p, size_t len)
{
    if (p != NULL && len > 0)
        explicit_bzero(p, len);
}

char *
potr_secret_trimmed(const char *text)
{
    const char *start = text != NULL ? text : "";
    const char *end = NULL;

    while (*start != '\0' && g_ascii_isspace(*start))
        start++;
    end = start + strlen(start);
    while (end > start && g_ascii_isspace(end[-1]))
        end--;
    return g_strndup(start, (gsize)(end - start));
}

void
potr_secret_free(char *text)
{
    if (text == NULL)
        return;
    potr_secret_wipe(text, strlen(text));
    g_free(text);
}
