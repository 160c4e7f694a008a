/* purple-otr - GPL-2.0-or-later
 * Unit tests of the XMPP module: hints, classification of copies and
 * stored messages, whitespace tags. */
#include <config.h>

#include <string.h>

#include <libotr/proto.h>

#include "headless.h"
#include "testutil.h"
#include "xmpp.h"

static xmlnode *
parse(const char *xml)
{
    xmlnode *node = xmlnode_from_str(xml, -1);

    g_assert_nonnull(node);
    return node;
}

static void
test_is_otr(void)
{
    g_assert_true(potr_xmpp_is_otr("?OTR:AAMD"));
    g_assert_true(potr_xmpp_is_otr("  ?OTRv23?"));
    g_assert_false(potr_xmpp_is_otr("hello ?OTR:"));
    g_assert_false(potr_xmpp_is_otr(NULL));
}

static void
test_hints_full_jid(void)
{
    xmlnode *msg = parse("<message to='bob@example.org/phone' type='chat'><body>?OTR:AAMD</body></message>");
    xmlnode *eme = NULL;

    potr_xmpp_add_hints(msg);
    potr_xmpp_add_hints(msg);   /* idempotent */
    g_assert_nonnull(xmlnode_get_child_with_namespace(msg, "private", POTR_NS_CARBONS));
    g_assert_nonnull(xmlnode_get_child_with_namespace(msg, "no-permanent-store", POTR_NS_HINTS));
    g_assert_nonnull(xmlnode_get_child_with_namespace(msg, "no-copy", POTR_NS_HINTS));
    eme = xmlnode_get_child_with_namespace(msg, "encryption", POTR_NS_EME);
    g_assert_nonnull(eme);
    g_assert_cmpstr(xmlnode_get_attrib(eme, "namespace"), ==, POTR_NS_OTR);
    {
        int count = 0;
        for (xmlnode *c = msg->child; c != NULL; c = c->next)
            if (c->type == XMLNODE_TYPE_TAG && strcmp(c->name, "private") == 0)
                count++;
        g_assert_cmpint(count, ==, 1);
    }
    xmlnode_free(msg);
}

static void
test_hints_bare_jid(void)
{
    xmlnode *msg = parse("<message to='bob@example.org' type='chat'><body>?OTR:AAMD</body></message>");

    potr_xmpp_add_hints(msg);
    g_assert_null(xmlnode_get_child_with_namespace(msg, "no-copy", POTR_NS_HINTS));
    g_assert_nonnull(xmlnode_get_child_with_namespace(msg, "no-permanent-store", POTR_NS_HINTS));
    xmlnode_free(msg);
}

#define CLIENT "<message xmlns='jabber:client' from='alice@x/a' type='chat'>"
#define DELAY "<delay xmlns='urn:xmpp:delay' stamp='2020-01-01T00:00:00Z'/>"
/* OTR's whitespace tag: base, then the v2 and v3 version tags */
#define WS_BASE " \t  \t\t\t\t \t \t \t  "
#define WS_TAG WS_BASE "  \t\t  \t " "  \t\t  \t\t"

static void
test_classify(void)
{
    static const struct {
        const char *xml;
        PotrXmppKind kind;
    } rows[] = {
        { CLIENT "<body>hi</body></message>", POTR_XMPP_PLAIN },
        { CLIENT "<body>?OTR:AAMD</body></message>", POTR_XMPP_LIVE_OTR },
        { CLIENT "<body>?OTR:AAMD</body>" DELAY "</message>", POTR_XMPP_DELAYED_OTR },
        { CLIENT "<body>hi</body><delay xmlns='urn:xmpp:delay'/></message>", POTR_XMPP_PLAIN },
        { CLIENT "<body>?OTR:AAMD</body><x xmlns='jabber:x:delay' stamp='20200101T00:00:00'/></message>",
          POTR_XMPP_DELAYED_OTR },
        { CLIENT "<received xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'>"
          "<message from='bob@x/a'><body>?OTR:AAMD</body></message></forwarded></received></message>",
          POTR_XMPP_COPY_OTR },
        { CLIENT "<sent xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'>"
          "<message to='bob@x/a'><body>plain</body></message></forwarded></sent></message>",
          POTR_XMPP_PLAIN },
        { CLIENT "<result xmlns='urn:xmpp:mam:2'><forwarded xmlns='urn:xmpp:forward:0'>"
          "<message><body>?OTR:AAMD</body></message></forwarded></result></message>",
          POTR_XMPP_COPY_OTR },
        { "<message/>", POTR_XMPP_PLAIN },
        /* libotr finds a query anywhere in the text */
        { CLIENT "<body>hello ?OTRv2?</body>" DELAY "</message>", POTR_XMPP_DELAYED_OTR },
        { CLIENT "<body>see ?OTR Error: x</body>" DELAY "</message>", POTR_XMPP_DELAYED_OTR },
        { CLIENT "<body>a ?OTR,1,2,?OTRv,</body>" DELAY "</message>", POTR_XMPP_DELAYED_OTR },
        /* prpl-jabber drops CRs: "?O&#13;TR" reaches libotr as "?OTR" */
        { CLIENT "<body>?O&#13;TRv2?</body>" DELAY "</message>", POTR_XMPP_DELAYED_OTR },
        /* prpl-jabber delivers the first jabber:client body, not the first body */
        { CLIENT "<body xmlns='urn:example'>hi</body><body>?OTRv2?</body>" DELAY "</message>",
          POTR_XMPP_DELAYED_OTR },
        { CLIENT "<body xmlns='urn:example'>?OTRv2?</body><body>hi</body>" DELAY "</message>",
          POTR_XMPP_PLAIN },
        /* and the XHTML-IM part rather than the body */
        { CLIENT "<body>hi</body><html xmlns='http://jabber.org/protocol/xhtml-im'>"
          "<body xmlns='http://www.w3.org/1999/xhtml'>?OTRv2?</body></html>" DELAY "</message>",
          POTR_XMPP_DELAYED_OTR },
        { CLIENT "<body>?OTRv2?</body><html xmlns='http://jabber.org/protocol/xhtml-im'>"
          "<body xmlns='http://www.w3.org/1999/xhtml'>hi</body></html></message>",
          POTR_XMPP_PLAIN },
        /* what prpl-jabber never delivers as an IM */
        { "<message xmlns='jabber:client' type='groupchat'><body>?OTRv2?</body>" DELAY "</message>",
          POTR_XMPP_PLAIN },
        { "<message xmlns='jabber:client' type='headline'><body>?OTRv2?</body></message>",
          POTR_XMPP_PLAIN },
        /* a body outside jabber:client is not delivered */
        { "<message><body>?OTR:AAMD</body></message>", POTR_XMPP_PLAIN },
    };

    for (guint i = 0; i < G_N_ELEMENTS(rows); i++) {
        xmlnode *msg = parse(rows[i].xml);

        g_test_message("row %u: %s", i, rows[i].xml);
        g_assert_cmpint(potr_xmpp_classify(msg), ==, rows[i].kind);
        xmlnode_free(msg);
    }
}

/* libotr's own reading of a text, for the rows below */
static PotrOtrKind
libotr_kind(const char *text)
{
    if (strstr(text, "?OTR") != NULL && (strstr(text, "?OTR|") != NULL || strstr(text, "?OTR,") != NULL))
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

static void
test_otr_kind(void)
{
    static const struct {
        const char *text;
        PotrOtrKind kind;
    } rows[] = {
        { "hello", POTR_OTR_NONE },
        { "", POTR_OTR_NONE },
        { "?OTRv23?", POTR_OTR_QUERY },
        { "hello ?OTRv2? there", POTR_OTR_QUERY },
        { "?OTR?", POTR_OTR_QUERY },
        { "x ?OTR:AAMDabc.", POTR_OTR_DATA },
        { "?OTR:AAIDabc.", POTR_OTR_DATA },
        { "?OTR:AAEDabc.", POTR_OTR_DATA },
        { "?OTR:AAMCabc.", POTR_OTR_OTHER },
        { "?OTR:AAMKabc.", POTR_OTR_OTHER },
        { "?OTR:AAEKabc.", POTR_OTR_OTHER },
        { "?OTR:AAMX", POTR_OTR_OTHER },
        { "?OTR Error: bad", POTR_OTR_ERROR },
        { "what is ?OTR anyway", POTR_OTR_OTHER },
        { "?OTR|1a2b3c4d|5e6f7a8b,00001,00002,?OTRv,", POTR_OTR_FRAGMENT },
        { "hi ?OTRv2? ?OTR,1,2,x,", POTR_OTR_FRAGMENT },
        { "hi" WS_TAG, POTR_OTR_TAGGED },
        { "hi" WS_BASE, POTR_OTR_TAGGED },
        { "?OTRv2?" WS_TAG, POTR_OTR_QUERY },
        { " \t  \t\t\t\t \t \t \t ", POTR_OTR_NONE },
    };

    g_assert_cmpint(potr_xmpp_otr_kind(NULL), ==, POTR_OTR_NONE);
    for (guint i = 0; i < G_N_ELEMENTS(rows); i++) {
        g_test_message("row %u: %s", i, rows[i].text);
        g_assert_cmpint(potr_xmpp_otr_kind(rows[i].text), ==, rows[i].kind);
        /* and libotr agrees */
        g_assert_cmpint(libotr_kind(rows[i].text), ==, rows[i].kind);
    }
}

/* The text prpl-jabber delivers for MSG (first jabber:client body). */
static char *
delivered(xmlnode *msg)
{
    xmlnode *body = xmlnode_get_child_with_namespace(msg, "body", POTR_NS_CLIENT);

    return body != NULL ? xmlnode_get_data(body) : NULL;
}

static void
test_rewrite_stored(void)
{
    static const struct {
        const char *xml;
        PotrXmppKind kind;
        const char *body;   /* the delivered body afterwards */
    } rows[] = {
        { CLIENT "<body>hi" WS_TAG "</body>" DELAY "</message>", POTR_XMPP_PLAIN, "hi" },
        /* two tags: both go */
        { CLIENT "<body>one" WS_TAG " two" WS_TAG "</body>" DELAY "</message>", POTR_XMPP_PLAIN,
          "one two" },
        /* a tag formed by removing another one */
        { CLIENT "<body>a \t  \t\t\t\t \t" WS_TAG " \t \t  b</body>" DELAY "</message>",
          POTR_XMPP_PLAIN, "ab" },
        /* a tag hidden by a CR, which prpl-jabber drops */
        { CLIENT "<body>hi \t  \t\t&#13;\t\t \t \t \t  </body>" DELAY "</message>",
          POTR_XMPP_PLAIN, "hi" },
        /* "?OTR" formed by removing a tag: a stored OTR message */
        { CLIENT "<body>?OT" WS_TAG "Rv2?</body>" DELAY "</message>", POTR_XMPP_DELAYED_OTR,
          "?OTRv2?" },
        /* the tag in the real body, a decoy before it in another namespace */
        { CLIENT "<body xmlns='urn:example'>decoy</body><body>hi" WS_TAG "</body>" DELAY "</message>",
          POTR_XMPP_PLAIN, "hi" },
        /* live: left alone */
        { CLIENT "<body>hi" WS_TAG "</body></message>", POTR_XMPP_PLAIN, "hi" WS_TAG },
    };

    for (guint i = 0; i < G_N_ELEMENTS(rows); i++) {
        xmlnode *msg = parse(rows[i].xml);
        char *body = NULL;

        g_test_message("row %u: %s", i, rows[i].xml);
        g_assert_cmpint(potr_xmpp_rewrite_incoming(msg), ==, rows[i].kind);
        body = delivered(msg);
        g_assert_cmpstr(body, ==, rows[i].body);
        g_free(body);
        xmlnode_free(msg);
    }
}

static void
test_rewrite_stored_xhtml(void)
{
    /* a tag in the formatted part: it goes, the body (stripped) is delivered */
    xmlnode *msg = parse(CLIENT "<body>hi" WS_TAG "</body><html xmlns='http://jabber.org/protocol/xhtml-im'>"
                         "<body xmlns='http://www.w3.org/1999/xhtml'><b>hi</b>" WS_TAG "</body></html>"
                         DELAY "</message>");
    char *body = NULL;

    g_assert_cmpint(potr_xmpp_rewrite_incoming(msg), ==, POTR_XMPP_PLAIN);
    g_assert_null(xmlnode_get_child_with_namespace(msg, "html", POTR_NS_XHTML_IM));
    body = delivered(msg);
    g_assert_cmpstr(body, ==, "hi");
    g_free(body);
    xmlnode_free(msg);

    /* an image whose alt text prpl-jabber puts in the text: it goes too */
    msg = parse(CLIENT "<body>hi</body><html xmlns='http://jabber.org/protocol/xhtml-im'>"
                "<body xmlns='http://www.w3.org/1999/xhtml'>?OT<img src='cid:x' alt='Rv2?'/></body></html>"
                DELAY "</message>");
    g_assert_cmpint(potr_xmpp_rewrite_incoming(msg), ==, POTR_XMPP_PLAIN);
    g_assert_null(xmlnode_get_child_with_namespace(msg, "html", POTR_NS_XHTML_IM));
    xmlnode_free(msg);

    /* harmless formatting stays */
    msg = parse(CLIENT "<body>hi</body><html xmlns='http://jabber.org/protocol/xhtml-im'>"
                "<body xmlns='http://www.w3.org/1999/xhtml'><b>hi</b></body></html>" DELAY "</message>");
    g_assert_cmpint(potr_xmpp_rewrite_incoming(msg), ==, POTR_XMPP_PLAIN);
    g_assert_nonnull(xmlnode_get_child_with_namespace(msg, "html", POTR_NS_XHTML_IM));
    xmlnode_free(msg);
}

static void
test_strip_tag(void)
{
    /* base tag + the v2 and v3 version tags */
    char body[] = "hello \x20\x09\x20\x20\x09\x09\x09\x09\x20\x09\x20\x09\x20\x09\x20\x20"
                  "\x20\x20\x09\x09\x20\x20\x09\x20" "\x20\x20\x09\x09\x20\x20\x09\x09";
    char plain[] = "no tag here";

    char twice[] = "a" WS_TAG "b" WS_BASE "c";

    g_assert_true(potr_xmpp_strip_whitespace_tag(body));
    g_assert_cmpstr(body, ==, "hello ");
    g_assert_true(potr_xmpp_strip_whitespace_tag(twice));
    g_assert_cmpstr(twice, ==, "abc");
    g_assert_false(potr_xmpp_strip_whitespace_tag(plain));
    g_assert_cmpstr(plain, ==, "no tag here");
}

int
main(int argc, char **argv)
{
    char *dir = NULL;
    int status = 0;

    potr_test_init(&argc, &argv);
    dir = potr_test_dir_new();
    potr_headless_start(dir);   /* xmlnodes need libpurple up */
    g_test_add_func("/xmpp/is-otr", test_is_otr);
    g_test_add_func("/xmpp/hints/full-jid", test_hints_full_jid);
    g_test_add_func("/xmpp/hints/bare-jid", test_hints_bare_jid);
    g_test_add_func("/xmpp/classify", test_classify);
    g_test_add_func("/xmpp/strip-whitespace-tag", test_strip_tag);
    g_test_add_func("/xmpp/otr-kind", test_otr_kind);
    g_test_add_func("/xmpp/rewrite/stored", test_rewrite_stored);
    g_test_add_func("/xmpp/rewrite/stored-xhtml", test_rewrite_stored_xhtml);
    status = g_test_run();
    potr_headless_stop();
    potr_test_dir_free(&dir);
    return status;
}
