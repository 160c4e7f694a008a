/* purple-otr - GPL-2.0-or-later
 * Notices: status lines in conversations, with repeat suppression. */
#include "i18n.h"
#include "notice.h"

#include <time.h>

#include "events.h"

/* Seconds during which an identical status line is not repeated. */
#define POTR_DEDUPE_SECONDS 10

/* What the core keeps about one conversation. */
typedef struct {
    char *last_html;     /* the last status line (repeat suppression) */
    gint64 last_when;
    char *shown;         /* the peer's fingerprint last shown in it (human form) */
} ConvData;

/* PurpleConversation* -> ConvData */
static GHashTable *conv_data = NULL;
/* Lines written so far (potr_notice_count) */
static guint lines_written = 0;

static void
free_conv_data(gpointer data)
{
    ConvData *cd = data;

    g_free(cd->last_html);
    g_free(cd->shown);
    g_free(cd);
}

static ConvData *
conv_data_of(PurpleConversation *conv)
{
    ConvData *cd = g_hash_table_lookup(conv_data, conv);

    if (cd == NULL) {
        cd = g_new0(ConvData, 1);
        g_hash_table_insert(conv_data, conv, cd);
    }
    return cd;
}

void
potr_notice_init(void)
{
    if (conv_data == NULL)
        conv_data = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, free_conv_data);
}

void
potr_notice_uninit(void)
{
    g_clear_pointer(&conv_data, g_hash_table_destroy);
}

void
potr_notice_conv_gone(PurpleConversation *conv)
{
    if (conv_data != NULL)
        g_hash_table_remove(conv_data, conv);
}

void
potr_notice_set_shown(PurpleConversation *conv, const char *human)
{
    ConvData *cd = NULL;

    if (conv == NULL || conv_data == NULL)
        return;
    cd = conv_data_of(conv);
    g_free(cd->shown);
    cd->shown = g_strdup(human);
}

const char *
potr_notice_shown(PurpleConversation *conv)
{
    ConvData *cd = conv != NULL && conv_data != NULL ? g_hash_table_lookup(conv_data, conv) : NULL;

    return cd != NULL ? cd->shown : NULL;
}

guint
potr_notice_count(void)
{
    return lines_written;
}

void
potr_notice_write(PurpleConversation *conv, const char *html, PurpleMessageFlags flags,
                  gboolean dedupe)
{
    ConvData *cd = NULL;
    gint64 now = g_get_monotonic_time();

    if (conv == NULL || html == NULL || conv_data == NULL)
        return;
    cd = conv_data_of(conv);
    if (dedupe && g_strcmp0(cd->last_html, html) == 0
        && now - cd->last_when < POTR_DEDUPE_SECONDS * G_USEC_PER_SEC)
        return;
    g_free(cd->last_html);
    cd->last_html = g_strdup(html);
    cd->last_when = now;
    lines_written++;
    purple_conversation_write(conv, NULL, html, flags | PURPLE_MESSAGE_NO_LOG, time(NULL));
}

void
potr_notice_say(PurpleConversation *conv, const char *template_, const char *buddy,
                const char *detail, PurpleMessageFlags flags)
{
    char *line = potr_event_expand(template_, buddy, detail);

    potr_notice_write(conv, line, flags, FALSE);
    g_free(line);
}
