/* purple-otr - GPL-2.0-or-later
 * Conversation display: decrypted messages shown as the messages they are.
 *
 * Why: the core marks every decrypted line PURPLE_MESSAGE_NO_LOG (when the
 * user asked not to log OTR conversations), so that no log ever holds it.
 * Pidgin draws NO_LOG lines as grey text without the sender's name, and
 * does not mark the tab as unread for them. Logging is decided in
 * purple_conversation_write() before the UI's write_conv is called, so
 * clearing the flag here, for display only, keeps the log rule intact. */
#include "i18n.h"
#include "potr-gtk.h"

typedef void (*WriteConvFunc)(PurpleConversation *conv, const char *name, const char *alias,
                              const char *message, PurpleMessageFlags flags, time_t mtime);

static WriteConvFunc pidgin_write_conv = NULL;

static void
write_conv(PurpleConversation *conv, const char *name, const char *alias, const char *message,
           PurpleMessageFlags flags, time_t mtime)
{
    PotrLevel level = potr_conv_level(conv);

    if ((flags & (PURPLE_MESSAGE_RECV | PURPLE_MESSAGE_SEND)) != 0
        && (level == POTR_LEVEL_UNVERIFIED || level == POTR_LEVEL_PRIVATE))
        flags &= ~PURPLE_MESSAGE_NO_LOG;
    if (pidgin_write_conv != NULL)
        pidgin_write_conv(conv, name, alias, message, flags, mtime);
}

void
potr_gtk_display_init(void)
{
    PurpleConversationUiOps *ops = pidgin_conversations_get_conv_ui_ops();

    if (ops == NULL || ops->write_conv == NULL || ops->write_conv == write_conv)
        return;
    pidgin_write_conv = ops->write_conv;
    ops->write_conv = write_conv;
}

void
potr_gtk_display_uninit(void)
{
    PurpleConversationUiOps *ops = pidgin_conversations_get_conv_ui_ops();

    /* only if nobody wrapped it after us: never cut another plugin out */
    if (ops != NULL && ops->write_conv == write_conv && pidgin_write_conv != NULL)
        ops->write_conv = pidgin_write_conv;
    pidgin_write_conv = NULL;
}
