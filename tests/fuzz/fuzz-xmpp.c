/* purple-otr - GPL-2.0-or-later
 * Fuzz target: XMPP stanza classification and rewriting, fed as XML.
 * Oracles: libotr's own reading of a text (otrl_proto_message_type) for
 * potr_xmpp_otr_kind; after a stored message is rewritten, libotr finds
 * nothing in the body prpl-jabber delivers unless the message is kept as
 * stored OTR data; no whitespace tag survives stripping. */
#include <config.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <libotr/proto.h>

#include "xmpp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char ws_base[] = " \t  \t\t\t\t \t \t \t  ";

/* libotr's kind of TEXT, in potr_xmpp_otr_kind's terms */
static PotrOtrKind
libotr_kind(const char *text)
{
    if (strstr(text, "?OTR|") != NULL || strstr(text, "?OTR,") != NULL)
        return POTR_OTR_FRAGMENT;
    switch (otrl_proto_message_type(text)) {
    case OTRL_MSGTYPE_NOTOTR:
        return POTR_OTR_NONE;
    case OTRL_MSGTYPE_TAGGEDPLAINTEXT:
        return POTR_OTR_TAGGED;
    case OTRL_MSGTYPE_QUERY:
        return POTR_OTR_QUERY;
    case OTRL_MSGTYPE_DATA:
        return POTR_OTR_DATA;
    case OTRL_MSGTYPE_ERROR:
        return POTR_OTR_ERROR;
    default:
        return POTR_OTR_OTHER;
    }
}

/* What prpl-jabber hands to libotr for a message without XHTML-IM,
 * computed here with libpurple's own functions. */
static char *
delivered(xmlnode *message)
{
    xmlnode *body = xmlnode_get_child_with_namespace(message, "body", POTR_NS_CLIENT);
    char *text = body != NULL ? xmlnode_get_data(body) : NULL;
    char *escaped = NULL;
    char *html = NULL;

    if (text == NULL)
        return NULL;
    escaped = purple_markup_escape_text(text, -1);
    html = purple_strdup_withhtml(escaped);
    g_free(escaped);
    g_free(text);
    return html;
}

static gboolean
is_stored(xmlnode *message)
{
    return xmlnode_get_child_with_namespace(message, "delay", POTR_NS_DELAY) != NULL
           || xmlnode_get_child_with_namespace(message, "x", "jabber:x:delay") != NULL;
}

static void
check_text(const char *text)
{
    char *copy = g_strdup(text);

    if (potr_xmpp_otr_kind(text) != libotr_kind(text))
        abort();
    potr_xmpp_strip_whitespace_tag(copy);
    if (strstr(copy, ws_base) != NULL)
        abort();
    (void)potr_xmpp_is_otr(text);
    g_free(copy);
}

static void
check_stanza(xmlnode *message)
{
    gboolean stored = is_stored(message);
    gboolean has_html = xmlnode_get_child_with_namespace(message, "html", POTR_NS_XHTML_IM) != NULL;
    const char *type = xmlnode_get_attrib(message, "type");
    PotrXmppKind kind = potr_xmpp_classify(message);
    PotrXmppKind after = potr_xmpp_rewrite_incoming(message);
    char *text = NULL;

    if (kind == POTR_XMPP_COPY_OTR && after != POTR_XMPP_COPY_OTR)
        abort();
    /* a stored IM passed on as plain: libotr must find nothing in it */
    text = delivered(message);
    if (stored && after == POTR_XMPP_PLAIN && !has_html && text != NULL
        && g_strcmp0(type, "groupchat") != 0 && g_strcmp0(type, "headline") != 0
        && g_strcmp0(type, "error") != 0
        && otrl_proto_message_type(text) != OTRL_MSGTYPE_NOTOTR)
        abort();
    g_free(text);
    potr_xmpp_add_hints(message);
    potr_xmpp_add_hints(message);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static gboolean ready = FALSE;
    char *text = g_strndup((const char *)data, size);
    xmlnode *node = NULL;

    if (!ready) {
        /* xmlnode needs no running core, only quiet debug output */
        purple_debug_set_enabled(FALSE);
        ready = TRUE;
    }
    check_text(text);
    node = xmlnode_from_str(text, -1);
    if (node != NULL) {
        if (g_strcmp0(node->name, "message") == 0)
            check_stanza(node);
        xmlnode_free(node);
    }
    g_free(text);
    return 0;
}
