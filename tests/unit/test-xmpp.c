/* purple-otr - GPL-2.0-or-later
 * Unit tests of the XMPP module: hints, classification of copies and
 * stored messages, whitespace tags. */
#include <config.h>

#include <string.h>

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

static void
test_classify(void)
{
    static const struct {
        const char *xml;
        PotrXmppKind kind;
    } rows[] = {
        { "<message><body>hi</body></message>", POTR_XMPP_PLAIN },
        { "<message><body>?OTR:AAMD</body></message>", POTR_XMPP_LIVE_OTR },
        { "<message><body>?OTR:AAMD</body><delay xmlns='urn:xmpp:delay' stamp='2020-01-01T00:00:00Z'/></message>",
          POTR_XMPP_DELAYED_OTR },
        { "<message><body>hi</body><delay xmlns='urn:xmpp:delay'/></message>", POTR_XMPP_PLAIN },
        { "<message><received xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'>"
          "<message from='bob@x/a'><body>?OTR:AAMD</body></message></forwarded></received></message>",
          POTR_XMPP_COPY_OTR },
        { "<message><sent xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'>"
          "<message to='bob@x/a'><body>plain</body></message></forwarded></sent></message>",
          POTR_XMPP_PLAIN },
        { "<message><result xmlns='urn:xmpp:mam:2'><forwarded xmlns='urn:xmpp:forward:0'>"
          "<message><body>?OTR:AAMD</body></message></forwarded></result></message>",
          POTR_XMPP_COPY_OTR },
        { "<message/>", POTR_XMPP_PLAIN },
    };

    for (guint i = 0; i < G_N_ELEMENTS(rows); i++) {
        xmlnode *msg = parse(rows[i].xml);

        g_test_message("row %u", i);
        g_assert_cmpint(potr_xmpp_classify(msg), ==, rows[i].kind);
        xmlnode_free(msg);
    }
}

static void
test_strip_tag(void)
{
    /* base tag + the v2 and v3 version tags */
    char body[] = "hello \x20\x09\x20\x20\x09\x09\x09\x09\x20\x09\x20\x09\x20\x09\x20\x20"
                  "\x20\x20\x09\x09\x20\x20\x09\x20" "\x20\x20\x09\x09\x20\x20\x09\x09";
    char plain[] = "no tag here";

    g_assert_true(potr_xmpp_strip_whitespace_tag(body));
    g_assert_cmpstr(body, ==, "hello ");
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
    status = g_test_run();
    potr_headless_stop();
    potr_test_dir_free(&dir);
    return status;
}
