/* purple-otr - GPL-2.0-or-later
 * Events: libotr's message events turned into lines for the user, from one table. */
#include "i18n.h"
#include "events.h"

#include <string.h>

/* What a detail slot of a template holds. */
typedef enum {
    DETAIL_NONE,     /* the template has no {detail} */
    DETAIL_MESSAGE,  /* libotr's message argument (peer plain text) */
    DETAIL_HTML,     /* libotr's message argument, HTML from the protocol plugin */
    DETAIL_ERROR     /* the gcry error's text */
} DetailKind;

typedef struct {
    const char *text;   /* N_() template with {buddy} / {detail}; NULL: show nothing */
    DetailKind detail;
    gboolean error;     /* shown as an error line */
} EventRow;

static const EventRow event_rows[] = {
    [OTRL_MSGEVENT_NONE] = { NULL, DETAIL_NONE, FALSE },
    [OTRL_MSGEVENT_ENCRYPTION_REQUIRED] = {
        N_("Starting a private conversation with {buddy}: your message will be sent once it is private."),
        DETAIL_NONE, FALSE },
    [OTRL_MSGEVENT_ENCRYPTION_ERROR] = {
        N_("Your message to {buddy} could not be encrypted and was not sent."),
        DETAIL_NONE, TRUE },
    [OTRL_MSGEVENT_CONNECTION_ENDED] = {
        N_("{buddy} has ended the private conversation, so your message was not sent. "
           "End the private conversation too (/otr end), or refresh it (/otr refresh)."),
        DETAIL_NONE, TRUE },
    [OTRL_MSGEVENT_SETUP_ERROR] = {
        N_("The private conversation with {buddy} could not be set up: {detail}"),
        DETAIL_ERROR, TRUE },
    [OTRL_MSGEVENT_MSG_REFLECTED] = {
        N_("Your own OTR messages are coming back to you: you are talking to yourself, "
           "or someone is reflecting your messages."),
        DETAIL_NONE, TRUE },
    [OTRL_MSGEVENT_MSG_RESENT] = {
        N_("Your last message to {buddy} was sent again, now encrypted."),
        DETAIL_NONE, FALSE },
    [OTRL_MSGEVENT_RCVDMSG_NOT_IN_PRIVATE] = {
        N_("{buddy} sent an encrypted message, but no private conversation is open: "
           "it could not be read. Start one with /otr start."),
        DETAIL_NONE, TRUE },
    [OTRL_MSGEVENT_RCVDMSG_UNREADABLE] = {
        N_("An encrypted message from {buddy} could not be read."),
        DETAIL_NONE, TRUE },
    [OTRL_MSGEVENT_RCVDMSG_MALFORMED] = {
        N_("A malformed OTR message from {buddy} was ignored."),
        DETAIL_NONE, TRUE },
    [OTRL_MSGEVENT_LOG_HEARTBEAT_RCVD] = { NULL, DETAIL_NONE, FALSE },
    [OTRL_MSGEVENT_LOG_HEARTBEAT_SENT] = { NULL, DETAIL_NONE, FALSE },
    [OTRL_MSGEVENT_RCVDMSG_GENERAL_ERR] = {
        N_("OTR error from {buddy}: {detail}"),
        DETAIL_HTML, TRUE },
    [OTRL_MSGEVENT_RCVDMSG_UNENCRYPTED] = {
        N_("This message from {buddy} was NOT encrypted: {detail}"),
        DETAIL_HTML, TRUE },
    [OTRL_MSGEVENT_RCVDMSG_UNRECOGNIZED] = {
        N_("An OTR message from {buddy} was not understood and was ignored."),
        DETAIL_NONE, TRUE },
    [OTRL_MSGEVENT_RCVDMSG_FOR_OTHER_INSTANCE] = {
        N_("{buddy} sent an encrypted message meant for another of your logins; it was ignored here."),
        DETAIL_NONE, FALSE },
};

/* Append VALUE to OUT, escaped and cut at POTR_EVENT_MAX_DETAIL bytes
 * (on a character boundary). */
static void
append_escaped(GString *out, const char *value)
{
    const char *end = NULL;
    char *escaped = NULL;
    gsize len = 0;

    if (value == NULL)
        return;
    len = strlen(value);
    if (!g_utf8_validate(value, (gssize)len, &end))
        len = (gsize)(end - value);   /* never pass invalid UTF-8 on */
    if (len > POTR_EVENT_MAX_DETAIL) {
        end = g_utf8_find_prev_char(value, value + POTR_EVENT_MAX_DETAIL + 1);
        len = end != NULL ? (gsize)(end - value) : 0;
        escaped = g_markup_escape_text(value, (gssize)len);
        g_string_append(out, escaped);
        g_string_append(out, "\xe2\x80\xa6");
    } else {
        escaped = g_markup_escape_text(value, (gssize)len);
        g_string_append(out, escaped);
    }
    g_free(escaped);
}

/* Append DETAIL as text. Why HTML is reduced to its text: a detail comes
 * from the peer (an OTR error text, a message sent in clear); kept as
 * markup, it could draw a line of its own inside ours, e.g. a forged
 * "Private conversation started". */
static void
append_detail(GString *out, const char *detail, gboolean is_html)
{
    char *text = NULL;

    if (detail == NULL)
        return;
    if (!is_html) {
        append_escaped(out, detail);
        return;
    }
    text = purple_markup_strip_html(detail);
    append_escaped(out, text);
    g_free(text);
}

/* Expand TEMPLATE; DETAIL_IS_HTML: DETAIL is markup that the protocol
 * plugin made from a received message, shown as its text. */
static char *
expand(const char *template_, const char *buddy, const char *detail, gboolean detail_is_html)
{
    GString *out = NULL;
    const char *p = template_;

    out = g_string_new(NULL);
    while (*p != '\0') {
        if (g_str_has_prefix(p, "{buddy}")) {
            append_escaped(out, buddy);
            p += strlen("{buddy}");
        } else if (g_str_has_prefix(p, "{detail}")) {
            append_detail(out, detail, detail_is_html);
            p += strlen("{detail}");
        } else {
            g_string_append_c(out, *p++);
        }
    }
    return g_string_free(out, FALSE);
}

char *
potr_event_expand(const char *template_, const char *buddy, const char *detail)
{
    g_return_val_if_fail(template_ != NULL, NULL);
    return expand(template_, buddy, detail, FALSE);
}

char *
potr_event_describe(OtrlMessageEvent event, const char *buddy, const char *message,
                    gcry_error_t err, PurpleMessageFlags *flags)
{
    const EventRow *row = NULL;
    const char *detail = NULL;

    if ((guint)event >= G_N_ELEMENTS(event_rows) || event_rows[event].text == NULL)
        return NULL;
    row = &event_rows[event];
    if (row->detail == DETAIL_MESSAGE || row->detail == DETAIL_HTML)
        detail = message;
    else if (row->detail == DETAIL_ERROR)
        detail = err != 0 ? gcry_strerror(err) : _("unknown error");
    if (flags != NULL)
        *flags = PURPLE_MESSAGE_SYSTEM | (row->error ? PURPLE_MESSAGE_ERROR : 0);
    return expand(_(row->text), buddy, detail, row->detail == DETAIL_HTML);
}
