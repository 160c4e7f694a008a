/* purple-otr - GPL-2.0-or-later
 * XMPP: stanza hygiene for OTR over prpl-jabber. */
#include "i18n.h"
#include "xmpp.h"

#include <string.h>

#include "engine.h"
#include "events.h"
#include "session.h"

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

static char *
body_of(xmlnode *message)
{
    xmlnode *body = message != NULL ? xmlnode_get_child(message, "body") : NULL;

    return body != NULL ? xmlnode_get_data(body) : NULL;
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
    PotrXmppKind kind = POTR_XMPP_PLAIN;

    g_return_val_if_fail(message != NULL, POTR_XMPP_PLAIN);
    inner = forwarded_message(message);
    if (inner != NULL) {
        body = body_of(inner);
        kind = potr_xmpp_is_otr(body) ? POTR_XMPP_COPY_OTR : POTR_XMPP_PLAIN;
    } else {
        body = body_of(message);
        if (potr_xmpp_is_otr(body))
            kind = xmlnode_get_child_with_namespace(message, "delay", POTR_NS_DELAY) != NULL
                   || xmlnode_get_child_with_namespace(message, "x", "jabber:x:delay") != NULL
                       ? POTR_XMPP_DELAYED_OTR : POTR_XMPP_LIVE_OTR;
    }
    g_free(body);
    return kind;
}

gboolean
potr_xmpp_strip_whitespace_tag(char *body)
{
    char *tag = NULL;
    char *end = NULL;

    g_return_val_if_fail(body != NULL, FALSE);
    tag = strstr(body, ws_base);
    if (tag == NULL)
        return FALSE;
    end = tag + strlen(ws_base);
    while (strspn(end, " \t") >= WS_VERSION_LEN)
        end += WS_VERSION_LEN;
    memmove(tag, end, strlen(end) + 1);
    return TRUE;
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
    body = body_of(*packet);
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
    potr_session_write(conv, line, PURPLE_MESSAGE_SYSTEM, TRUE);
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
    xmlnode *body = NULL;
    char *text = NULL;

    if (packet == NULL || *packet == NULL || g_strcmp0((*packet)->name, "message") != 0)
        return;
    switch (potr_xmpp_classify(*packet)) {
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
        if (xmlnode_get_child_with_namespace(*packet, "delay", POTR_NS_DELAY) == NULL
            || (body = xmlnode_get_child(*packet, "body")) == NULL)
            return;
        /* XEP-0364: a stored message must not start a key exchange */
        text = xmlnode_get_data(body);
        if (text != NULL && potr_xmpp_strip_whitespace_tag(text)) {
            xmlnode_free(body);
            body = xmlnode_new_child(*packet, "body");
            /* prpl-jabber reads only a <body/> in the stanza's namespace */
            xmlnode_set_namespace(body, xmlnode_get_namespace(*packet));
            xmlnode_insert_data(body, text, -1);
        }
        g_free(text);
        return;
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
