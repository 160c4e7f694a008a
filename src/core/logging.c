/* purple-otr - GPL-2.0-or-later
 * Logging: a conversation's log is off while it is private, when the user
 * asked not to log OTR conversations. */
#include "logging.h"

#include <libotr/proto.h>
#include <libotr/context.h>

#include "context.h"
#include "core.h"
#include "policy.h"

static void *logging_handle = NULL;

/* TRUE if any instance (login) of CONV's peer is in a private conversation. */
static gboolean
any_instance_private(PurpleConversation *conv)
{
    return potr_context_any_private(potr_core_find_context(purple_conversation_get_account(conv),
                                                           purple_conversation_get_name(conv),
                                                           OTRL_INSTAG_MASTER, FALSE));
}

/* Logging: while a conversation is private and the user asked not to log
 * OTR conversations, the conversation's log is switched off (and back on
 * when it stops being private). Why the conversation as a whole: one
 * conversation carries every login (instance) of the peer, and libpurple
 * logs by conversation; one private login is enough to keep the log off,
 * whatever another login does. Why before every line ("writing-im-msg",
 * emitted before libpurple logs): a changed "don't log" setting (global
 * or per buddy) then holds from the very next line, with no notification
 * to miss. A window opened by a decrypted message is switched off in
 * "conversation-created", before libpurple writes that first message.
 * (A per-message PURPLE_MESSAGE_NO_LOG would do the same but makes Pidgin
 * draw the message as a grey system line.) */
void
potr_logging_update(PurpleConversation *conv)
{
    PurpleAccount *account = purple_conversation_get_account(conv);
    gboolean ours = purple_conversation_get_data(conv, "potr-unlogged") != NULL;
    gboolean hide = any_instance_private(conv)
                    && potr_policy_avoid_logging(account, purple_conversation_get_name(conv));

    if (hide && !ours && purple_conversation_is_logging(conv)) {
        purple_conversation_set_logging(conv, FALSE);
        purple_conversation_set_data(conv, "potr-unlogged", GINT_TO_POINTER(1));
    } else if (!hide && ours) {
        purple_conversation_set_data(conv, "potr-unlogged", NULL);
        purple_conversation_set_logging(conv, TRUE);
    }
}

static gboolean
on_writing_im(PurpleAccount *account, const char *who, char **message, PurpleConversation *conv,
              PurpleMessageFlags flags, gpointer data)
{
    if (conv != NULL)
        potr_logging_update(conv);
    return FALSE;
}

void
potr_logging_init(void *handle)
{
    logging_handle = handle;
    purple_signal_connect(purple_conversations_get_handle(), "writing-im-msg", handle,
                          PURPLE_CALLBACK(on_writing_im), NULL);
}

void
potr_logging_uninit(void)
{
    if (logging_handle == NULL)
        return;
    /* give back the logging that was switched off for private conversations */
    for (GList *convs = purple_get_ims(); convs != NULL; convs = convs->next)
        if (purple_conversation_get_data(convs->data, "potr-unlogged") != NULL) {
            purple_conversation_set_data(convs->data, "potr-unlogged", NULL);
            purple_conversation_set_logging(convs->data, TRUE);
        }
    logging_handle = NULL;
}
