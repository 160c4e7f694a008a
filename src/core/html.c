/* purple-otr - GPL-2.0-or-later
 * HTML: what goes inside the encryption, for HTML peers and plain-text peers. */
#include "i18n.h"
#include "html.h"

#include <string.h>

#define XHTML_IM_FEATURE "http://jabber.org/protocol/xhtml-im"

char *
potr_html_from_plain(const char *text)
{
    char *escaped = NULL;
    char *html = NULL;

    g_return_val_if_fail(text != NULL, NULL);

    escaped = g_markup_escape_text(text, -1);
    html = purple_strdup_withhtml(escaped);   /* "\n" -> "<br>" */
    g_free(escaped);
    return html;
}

char *
potr_html_to_plain(const char *html)
{
    g_return_val_if_fail(html != NULL, NULL);
    /* strips tags, turns <br> into newlines and decodes entities */
    return purple_markup_strip_html(html);
}

static gboolean
is_xmpp(PurpleAccount *account)
{
    return g_strcmp0(purple_account_get_protocol_id(account), "prpl-jabber") == 0;
}

gboolean
potr_html_peer_reads_html(PurpleAccount *account, const char *who)
{
    PurplePlugin *prpl = NULL;
    void *answer = NULL;
    gboolean ok = FALSE;

    g_return_val_if_fail(account != NULL && who != NULL, FALSE);

    if (!is_xmpp(account))
        return TRUE;
    prpl = purple_find_prpl("prpl-jabber");
    if (prpl == NULL)
        return FALSE;
    /* prpl-jabber's IPC answers for the resource named in WHO (a bare
     * JID gets FALSE) from the capabilities it has seen */
    answer = purple_plugin_ipc_call(prpl, "contact_has_feature", &ok, account, who,
                                    XHTML_IM_FEATURE);
    return ok && GPOINTER_TO_INT(answer);
}
