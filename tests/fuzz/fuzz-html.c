/* purple-otr - GPL-2.0-or-later
 * Fuzz target: HTML both ways (what a plain-text peer sends becomes HTML,
 * what we send becomes its plain text). Oracles: plain text survives the
 * round trip unchanged, and the HTML made of plain text holds no markup
 * but line breaks. */
#include <config.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "html.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = g_strndup((const char *)data, size);
    char *html = potr_html_from_plain(text);
    char *back = NULL;
    char *plain = potr_html_to_plain(text);

    /* markup in the text is escaped: only <br> tags are made */
    for (const char *lt = strchr(html, '<'); lt != NULL; lt = strchr(lt + 1, '<'))
        if (g_ascii_strncasecmp(lt, "<br>", 4) != 0)
            abort();
    /* valid UTF-8 without CR (libpurple drops CRs) comes back as it was,
     * but for tabs, which HTML shows (and libpurple turns) into spaces */
    back = potr_html_to_plain(html);
    g_strdelimit(text, "\t", ' ');
    if (g_utf8_validate(text, -1, NULL) && strchr(text, '\r') == NULL
        && strcmp(back, text) != 0)
        abort();
    g_free(plain);
    g_free(back);
    g_free(html);
    g_free(text);
    return 0;
}
