/* purple-otr - GPL-2.0-or-later
 * Unit tests of the events module: every libotr event, escaping, bounds. */
#include <config.h>

#include <string.h>

#include "events.h"
#include "testutil.h"

static void
test_expand_escapes(void)
{
    char *line = potr_event_expand("{buddy} said {detail}", "<b>eve</b>", "a < b & %s%n");

    g_assert_cmpstr(line, ==, "&lt;b&gt;eve&lt;/b&gt; said a &lt; b &amp; %s%n");
    g_free(line);
    line = potr_event_expand("{buddy}{detail}{unknown}", NULL, NULL);
    g_assert_cmpstr(line, ==, "{unknown}");
    g_free(line);
}

static void
test_every_event(void)
{
    /* each event either shows a line naming the buddy, or (heartbeats,
     * none) nothing at all */
    for (int e = OTRL_MSGEVENT_NONE; e <= OTRL_MSGEVENT_RCVDMSG_FOR_OTHER_INSTANCE; e++) {
        PurpleMessageFlags flags = 0;
        char *line = potr_event_describe((OtrlMessageEvent)e, "bob@example.org", "peer text", 0, &flags);
        gboolean silent = e == OTRL_MSGEVENT_NONE || e == OTRL_MSGEVENT_LOG_HEARTBEAT_RCVD
                          || e == OTRL_MSGEVENT_LOG_HEARTBEAT_SENT;

        if (silent) {
            g_assert_null(line);
            continue;
        }
        g_assert_nonnull(line);
        g_assert_true(flags & PURPLE_MESSAGE_SYSTEM);
        g_assert_true(strstr(line, "{") == NULL);
        if (e != OTRL_MSGEVENT_MSG_REFLECTED)
            g_assert_nonnull(strstr(line, "bob@example.org"));
        g_free(line);
    }
    g_assert_null(potr_event_describe((OtrlMessageEvent)999, "bob", NULL, 0, NULL));
}

static void
test_peer_error_is_protocol_html(void)
{
    PurpleMessageFlags flags = 0;
    /* what prpl-jabber hands over for "?OTR Error: a < b %s" */
    char *line = potr_event_describe(OTRL_MSGEVENT_RCVDMSG_GENERAL_ERR, "<i>bob</i>",
                                     "a &lt; b %s%n", 0, &flags);

    g_assert_true(flags & PURPLE_MESSAGE_ERROR);
    g_assert_nonnull(strstr(line, "a &lt; b %s%n"));      /* not escaped twice, not a format */
    g_assert_nonnull(strstr(line, "&lt;i&gt;bob"));       /* the name is always text */
    g_free(line);
}

/* A peer's markup never becomes markup in our line: it could forge a line
 * of its own ("Private conversation started") inside the error line. */
static void
test_peer_markup_is_text(void)
{
    const char *forgery = "<span style='color: green'><b>Private conversation started.</b></span><br>x";

    for (int e = OTRL_MSGEVENT_RCVDMSG_GENERAL_ERR; e <= OTRL_MSGEVENT_RCVDMSG_UNENCRYPTED; e++) {
        char *line = potr_event_describe((OtrlMessageEvent)e, "bob", forgery, 0, NULL);

        if (line == NULL)
            continue;
        g_assert_null(strstr(line, "<span"));
        g_assert_null(strstr(line, "<b>"));
        g_assert_nonnull(strstr(line, "Private conversation started."));
        g_free(line);
    }
}

static void
test_detail_bounded(void)
{
    GString *big = g_string_new(NULL);
    char *line = NULL;

    for (int i = 0; i < 5000; i++)
        g_string_append(big, "\xc3\xa9");   /* two bytes each: cut on a boundary */
    for (int e = OTRL_MSGEVENT_RCVDMSG_GENERAL_ERR; e <= OTRL_MSGEVENT_RCVDMSG_UNENCRYPTED; e++) {
        line = potr_event_describe((OtrlMessageEvent)e, "bob", big->str, 0, NULL);
        g_assert_cmpuint(strlen(line), <, POTR_EVENT_MAX_DETAIL + 200);
        g_assert_true(g_utf8_validate(line, -1, NULL));
        g_free(line);
        /* invalid UTF-8 from a peer never reaches the conversation */
        line = potr_event_describe((OtrlMessageEvent)e, "bob", "ok\xff\xfe tail", 0, NULL);
        g_assert_true(g_utf8_validate(line, -1, NULL));
        g_assert_null(strstr(line, "tail"));
        g_free(line);
    }
    /* long markup is reduced to its text before it is cut */
    g_string_assign(big, "");
    for (int i = 0; i < 3000; i++)
        g_string_append(big, "<b>x</b>");
    line = potr_event_describe(OTRL_MSGEVENT_RCVDMSG_UNENCRYPTED, "bob", big->str, 0, NULL);
    g_assert_null(strstr(line, "<b>"));
    g_assert_cmpuint(strlen(line), <, POTR_EVENT_MAX_DETAIL + 200);
    g_free(line);
    g_string_free(big, TRUE);
}

static void
test_setup_error_text(void)
{
    char *line = potr_event_describe(OTRL_MSGEVENT_SETUP_ERROR, "bob", NULL,
                                     gcry_error(GPG_ERR_ENOMEM), NULL);

    g_assert_nonnull(strstr(line, gcry_strerror(gcry_error(GPG_ERR_ENOMEM))));
    g_free(line);
}

int
main(int argc, char **argv)
{
    potr_test_init(&argc, &argv);
    g_test_add_func("/events/expand-escapes", test_expand_escapes);
    g_test_add_func("/events/every-event", test_every_event);
    g_test_add_func("/events/peer-error-is-protocol-html", test_peer_error_is_protocol_html);
    g_test_add_func("/events/peer-markup-is-text", test_peer_markup_is_text);
    g_test_add_func("/events/detail-bounded", test_detail_bounded);
    g_test_add_func("/events/setup-error", test_setup_error_text);
    return g_test_run();
}
