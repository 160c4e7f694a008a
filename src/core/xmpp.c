/* purple-otr - GPL-2.0-or-later
 * XMPP: stanza hygiene for OTR over prpl-jabber. */
#include "i18n.h"
#include "xmpp.h"

#include <string.h>

#include "core.h"
#include "events.h"
#include "notice.h"

/* OTR's whitespace tag: a base of 16 spaces/tabs, then 8 per version. */
static const char ws_base[] = " \t  \t\t\t\t \t \t \t  ";
#define WS_VERSION_LEN 8

static PurplePlugin *jabber = NULL;
static void *xmpp_handle = NULL;
/* "account\npeer" of the delayed OTR message libpurple is delivering, and
 * how long ago it was sent (seconds; -1 if the server did not say) */
static char *delayed_from = NULL;
static gint64 delayed_age = -1;

gboolean
potr_xmpp_is_otr(const char *body)
{
    if (body == NULL)
        return FALSE;
    while (g_ascii_isspace(*body))
        body++;
    return g_str_has_prefix(body, "?OTR");
}

static void
add_once(xmlnode *message, const char *name, const char *xmlns)
{
    xmlnode *child = NULL;

    if (xmlnode_get_child_with_namespace(message, name, xmlns) != NULL)
        return;
    child = xmlnode_new_child(message, name);
    xmlnode_set_namespace(child, xmlns);
}

void
potr_xmpp_add_hints(xmlnode *message)
{
    const char *to = NULL;
    xmlnode *eme = NULL;

    g_return_if_fail(message != NULL);
    to = xmlnode_get_attrib(message, "to");
    add_once(message, "private", POTR_NS_CARBONS);
    add_once(message, "no-permanent-store", POTR_NS_HINTS);
    /* XEP-0334: no-copy is only meaningful for a full JID */
    if (to != NULL && strchr(to, '/') != NULL)
        add_once(message, "no-copy", POTR_NS_HINTS);
    if (xmlnode_get_child_with_namespace(message, "encryption", POTR_NS_EME) == NULL) {
        eme = xmlnode_new_child(message, "encryption");
        xmlnode_set_namespace(eme, POTR_NS_EME);
        xmlnode_set_attrib(eme, "namespace", POTR_NS_OTR);
        xmlnode_set_attrib(eme, "name", "OTR");
    }
}

PotrOtrKind
potr_xmpp_otr_kind(const char *text)
{
    const char *tag = NULL;

    if (text == NULL)
        return POTR_OTR_NONE;
    /* libotr looks for its tags anywhere in the text, not only at the start */
    tag = strstr(text, "?OTR");
    if (tag == NULL)
        return strstr(text, ws_base) != NULL ? POTR_OTR_TAGGED : POTR_OTR_NONE;
    /* a fragment header anywhere wins: libotr reassembles before it
     * looks at the kind */
    if (strstr(text, "?OTR|") != NULL || strstr(text, "?OTR,") != NULL)
        return POTR_OTR_FRAGMENT;
    if (g_str_has_prefix(tag, "?OTR:AAM") || g_str_has_prefix(tag, "?OTR:AAI"))
        return tag[8] == 'D' ? POTR_OTR_DATA : POTR_OTR_OTHER;
    if (g_str_has_prefix(tag, "?OTR?") || g_str_has_prefix(tag, "?OTRv"))
        return POTR_OTR_QUERY;
    if (g_str_has_prefix(tag, "?OTR:AAED"))
        return POTR_OTR_DATA;
    if (g_str_has_prefix(tag, "?OTR Error:"))
        return POTR_OTR_ERROR;
    return POTR_OTR_OTHER;
}

/* The text of the first <body/> of MESSAGE, in any namespace (for the
 * messages forwarded in copies, which prpl-jabber never delivers). */
static char *
any_body_of(xmlnode *message)
{
    xmlnode *body = message != NULL ? xmlnode_get_child(message, "body") : NULL;

    return body != NULL ? xmlnode_get_data(body) : NULL;
}

/* The <body/> prpl-jabber reads: the first one in jabber:client (a body in
 * another namespace, even before it, is ignored there). */
static xmlnode *
delivered_body(xmlnode *message)
{
    return xmlnode_get_child_with_namespace(message, "body", POTR_NS_CLIENT);
}

/* The XHTML-IM part prpl-jabber prefers to the body: the first <html/> in
 * its namespace that has a <body/>. */
static xmlnode *
delivered_html(xmlnode *message)
{
    for (xmlnode *c = message->child; c != NULL; c = c->next)
        if (c->type == XMLNODE_TYPE_TAG && strcmp(c->name, "html") == 0
            && g_strcmp0(xmlnode_get_namespace(c), POTR_NS_XHTML_IM) == 0
            && xmlnode_get_child(c, "body") != NULL)
            return c;
    return NULL;
}

/* The text prpl-jabber hands to serv_got_im() for BODY: escaped, CRs
 * dropped, newlines as <BR> (what libotr then reads). */
static char *
body_as_delivered(xmlnode *body)
{
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

/* HTML's markup as prpl-jabber serialises it (newlines as spaces). It
 * also replaces <img src='cid:...'/> by the image's alt text, which this
 * does not: see html_is_safe(). */
static char *
html_as_delivered(xmlnode *html)
{
    char *markup = xmlnode_to_str(html, NULL);

    for (char *c = markup; c != NULL && *c != '\0'; c++)
        if (*c == '\n')
            *c = ' ';
    return markup;
}

/* TRUE if libotr can find nothing in HTML as prpl-jabber delivers it. With
 * an image, its alt text may join the text around it into "?OTR" or a tag:
 * an image is safe only without any '?' or tab in the markup (both survive
 * serialisation unescaped, in text and in attributes). */
static gboolean
html_is_safe(xmlnode *html)
{
    char *markup = html_as_delivered(html);
    gboolean safe = potr_xmpp_otr_kind(markup) == POTR_OTR_NONE
                    && (strstr(markup, "<img") == NULL
                        || (strchr(markup, '?') == NULL && strchr(markup, '\t') == NULL));

    g_free(markup);
    return safe;
}

/* What libotr will read of MESSAGE once prpl-jabber delivers it. */
static PotrOtrKind
delivered_kind(xmlnode *message)
{
    xmlnode *html = delivered_html(message);
    char *text = html != NULL ? html_as_delivered(html) : body_as_delivered(delivered_body(message));
    PotrOtrKind kind = potr_xmpp_otr_kind(text);

    /* an image's alt text is not in the markup: count it as OTR */
    if (kind == POTR_OTR_NONE && html != NULL && !html_is_safe(html))
        kind = POTR_OTR_OTHER;
    g_free(text);
    return kind;
}

/* TRUE if prpl-jabber delivers MESSAGE as an IM (the receive hook and
 * libotr see it): not a groupchat, headline or error message. */
static gboolean
delivered_as_im(xmlnode *message)
{
    const char *type = xmlnode_get_attrib(message, "type");

    return g_strcmp0(type, "groupchat") != 0 && g_strcmp0(type, "headline") != 0
           && g_strcmp0(type, "error") != 0;
}

static gboolean
is_delayed(xmlnode *message)
{
    return xmlnode_get_child_with_namespace(message, "delay", POTR_NS_DELAY) != NULL
           || xmlnode_get_child_with_namespace(message, "x", "jabber:x:delay") != NULL;
}

/* The <message/> forwarded inside a carbon or a MAM result, if any. */
static xmlnode *
forwarded_message(xmlnode *message)
{
    static const struct {
        const char *name;
        const char *xmlns;
    } wrappers[] = {
        { "received", POTR_NS_CARBONS },
        { "sent", POTR_NS_CARBONS },
        { "result", POTR_NS_MAM },
    };

    for (guint i = 0; i < G_N_ELEMENTS(wrappers); i++) {
        xmlnode *wrapper = xmlnode_get_child_with_namespace(message, wrappers[i].name,
                                                            wrappers[i].xmlns);
        xmlnode *forwarded = wrapper != NULL
            ? xmlnode_get_child_with_namespace(wrapper, "forwarded", "urn:xmpp:forward:0") : NULL;

        if (forwarded != NULL)
            return xmlnode_get_child(forwarded, "message");
    }
    return NULL;
}

PotrXmppKind
potr_xmpp_classify(xmlnode *message)
{
    xmlnode *inner = NULL;
    char *body = NULL;
    gboolean copy = FALSE;
    PotrOtrKind kind = POTR_OTR_NONE;

    g_return_val_if_fail(message != NULL, POTR_XMPP_PLAIN);
    inner = forwarded_message(message);
    if (inner != NULL) {
        body = any_body_of(inner);
        copy = potr_xmpp_is_otr(body);
        g_free(body);
        if (copy)
            return POTR_XMPP_COPY_OTR;
    }
    if (!delivered_as_im(message))
        return POTR_XMPP_PLAIN;
    kind = delivered_kind(message);
    if (kind == POTR_OTR_NONE || kind == POTR_OTR_TAGGED)
        return POTR_XMPP_PLAIN;
    return is_delayed(message) ? POTR_XMPP_DELAYED_OTR : POTR_XMPP_LIVE_OTR;
}

gboolean
potr_xmpp_strip_whitespace_tag(char *body)
{
    char *tag = NULL;
    char *end = NULL;
    gboolean stripped = FALSE;

    g_return_val_if_fail(body != NULL, FALSE);
    /* from the start again after each removal: the text on both sides of
     * a removed tag may join into a new one, and libotr would find it */
    while ((tag = strstr(body, ws_base)) != NULL) {
        end = tag + strlen(ws_base);
        while (strspn(end, " \t") >= WS_VERSION_LEN)
            end += WS_VERSION_LEN;
        memmove(tag, end, strlen(end) + 1);
        stripped = TRUE;
    }
    return stripped;
}

/* Replace the text of BODY by TEXT, in place (prpl-jabber reads the first
 * jabber:client body: a new one appended would come after others). */
static void
set_body_text(xmlnode *body, const char *text)
{
    while (body->child != NULL)
        xmlnode_free(body->child);
    xmlnode_insert_data(body, text, -1);
}

/* Remove the whitespace tags from MESSAGE's delivered body, with its CRs
 * (prpl-jabber drops them, so " \t\r\t" is a tag for libotr). */
static void
disarm_body(xmlnode *message)
{
    xmlnode *body = delivered_body(message);
    char *text = body != NULL ? xmlnode_get_data(body) : NULL;
    char *to = text;

    if (text == NULL)
        return;
    for (const char *from = text; *from != '\0'; from++)
        if (*from != '\r')
            *to++ = *from;
    *to = '\0';
    potr_xmpp_strip_whitespace_tag(text);
    set_body_text(body, text);
    g_free(text);
}

PotrXmppKind
potr_xmpp_rewrite_incoming(xmlnode *message)
{
    PotrXmppKind kind = POTR_XMPP_PLAIN;
    xmlnode *html = NULL;

    g_return_val_if_fail(message != NULL, POTR_XMPP_PLAIN);
    kind = potr_xmpp_classify(message);
    if (kind == POTR_XMPP_COPY_OTR || !is_delayed(message) || !delivered_as_im(message))
        return kind;
    /* XEP-0364: a stored message must not start a key exchange. Its
     * formatted part goes when libotr could find anything in it (the
     * next one, if any, is then delivered: checked in turn) */
    while ((html = delivered_html(message)) != NULL && !html_is_safe(html))
        xmlnode_free(html);
    if (delivered_kind(message) == POTR_OTR_TAGGED)
        disarm_body(message);
    /* a tag removed may have joined "?OTR" together: classified again */
    return potr_xmpp_classify(message);
}

/* Seconds since the server stored MESSAGE (its XEP-0203 stamp), or -1. */
static gint64
delay_age(xmlnode *message)
{
    xmlnode *delay = xmlnode_get_child_with_namespace(message, "delay", POTR_NS_DELAY);
    const char *stamp = delay != NULL ? xmlnode_get_attrib(delay, "stamp") : NULL;
    GDateTime *when = stamp != NULL ? g_date_time_new_from_iso8601(stamp, NULL) : NULL;
    GDateTime *now = NULL;
    gint64 age = -1;

    if (when == NULL)
        return -1;
    now = g_date_time_new_now_utc();
    age = g_date_time_difference(now, when) / G_TIME_SPAN_SECOND;
    g_date_time_unref(now);
    g_date_time_unref(when);
    return age < 0 ? 0 : age;
}

static void
on_sending_xmlnode(PurpleConnection *gc, xmlnode **packet, gpointer data)
{
    char *body = NULL;

    if (packet == NULL || *packet == NULL || g_strcmp0((*packet)->name, "message") != 0)
        return;
    body = any_body_of(*packet);
    if (potr_xmpp_is_otr(body))
        potr_xmpp_add_hints(*packet);
    g_free(body);
}

static void
tell_copy(PurpleConnection *gc, xmlnode *message)
{
    xmlnode *inner = forwarded_message(message);
    gboolean sent = xmlnode_get_child_with_namespace(message, "sent", POTR_NS_CARBONS) != NULL;
    const char *peer = inner != NULL ? xmlnode_get_attrib(inner, sent ? "to" : "from") : NULL;
    PurpleAccount *account = purple_connection_get_account(gc);
    PurpleConversation *conv = NULL;
    char *line = NULL;

    if (peer == NULL)
        return;
    conv = purple_find_conversation_with_account(PURPLE_CONV_TYPE_IM, peer, account);
    if (conv == NULL)
        return;   /* a copy for a conversation that is not open here: nothing to say */
    line = potr_event_expand(sent ? _("You sent {buddy} an encrypted message from another device; "
                                      "it can only be read there.")
                                  : _("{buddy} sent an encrypted message to another of your devices; "
                                      "it can only be read there."),
                             peer, NULL);
    potr_notice_write(conv, line, PURPLE_MESSAGE_SYSTEM, TRUE);
    g_free(line);
}

/* Why drop copies: OTR keys belong to one device and one session, so a
 * copy can never be decrypted here; passing it to libotr would make it
 * answer with an error and a new key exchange, to the peer's confusion. */
static void
on_receiving_xmlnode(PurpleConnection *gc, xmlnode **packet, gpointer data)
{
    PurpleAccount *account = purple_connection_get_account(gc);
    const char *from = NULL;

    if (packet == NULL || *packet == NULL || g_strcmp0((*packet)->name, "message") != 0)
        return;
    switch (potr_xmpp_rewrite_incoming(*packet)) {
    case POTR_XMPP_COPY_OTR:
        tell_copy(gc, *packet);
        xmlnode_free(*packet);
        *packet = NULL;
        return;
    case POTR_XMPP_DELAYED_OTR:
        from = xmlnode_get_attrib(*packet, "from");
        g_free(delayed_from);
        delayed_from = from != NULL
            ? g_strdup_printf("%s\n%s", purple_account_get_username(account), from) : NULL;
        delayed_age = delay_age(*packet);
        return;
    case POTR_XMPP_PLAIN:
    case POTR_XMPP_LIVE_OTR:
    default:
        return;
    }
}

gboolean
potr_xmpp_take_delayed(PurpleAccount *account, const char *who, gint64 *age)
{
    char *key = NULL;
    gboolean match = FALSE;

    if (age != NULL)
        *age = delayed_age;
    if (delayed_from == NULL || account == NULL || who == NULL)
        return FALSE;
    key = g_strdup_printf("%s\n%s", purple_account_get_username(account), who);
    match = strcmp(key, delayed_from) == 0;
    g_free(key);
    /* the mark is for this one delivery: it never outlives it */
    g_clear_pointer(&delayed_from, g_free);
    return match;
}

void
potr_xmpp_init(void *handle)
{
    gboolean ok = FALSE;

    jabber = purple_find_prpl("prpl-jabber");
    if (jabber == NULL)
        return;
    xmpp_handle = handle;
    /* hints are added last, after any other plugin changed the stanza;
     * copies are dropped first, before any other plugin acts on them */
    purple_signal_connect_priority(jabber, "jabber-sending-xmlnode", handle,
                                   PURPLE_CALLBACK(on_sending_xmlnode), NULL,
                                   PURPLE_SIGNAL_PRIORITY_HIGHEST);
    purple_signal_connect_priority(jabber, "jabber-receiving-xmlnode", handle,
                                   PURPLE_CALLBACK(on_receiving_xmlnode), NULL,
                                   PURPLE_SIGNAL_PRIORITY_LOWEST);
    /* XEP-0380: tell contacts' clients that we understand OTR-encrypted
     * messages (prpl-jabber has no way to withdraw a feature again) */
    purple_plugin_ipc_call(jabber, "add_feature", &ok, POTR_NS_EME);
}

void
potr_xmpp_uninit(void)
{
    /* the signals go with every other handler of the core's handle, in
     * potr_core_stop() */
    g_clear_pointer(&delayed_from, g_free);
    jabber = NULL;
    xmpp_handle = NULL;
}
