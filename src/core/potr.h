/* purple-otr - GPL-2.0-or-later
 * Public interface of the purple-otr core, for the Pidgin and Finch UI plugins
 * and for tests. UIs include this header only: never <libotr/...>. */
#ifndef POTR_H
#define POTR_H

#include <glib.h>
#include <purple.h>

G_BEGIN_DECLS

#define POTR_CORE_PLUGIN_ID "core-purple-otr"
#define POTR_GTK_PLUGIN_ID "gtk-purple-otr"
#define POTR_GNT_PLUGIN_ID "gnt-purple-otr"
/* pidgin-otr's plugin id: purple-otr refuses to run beside it */
#define POTR_LEGACY_PLUGIN_ID "otr"

/* The four trust levels a user sees, computed in one place
 * (potr_session_level). */
typedef enum {
    POTR_LEVEL_NOT_PRIVATE = 0,
    POTR_LEVEL_UNVERIFIED,
    POTR_LEVEL_PRIVATE,
    POTR_LEVEL_FINISHED
} PotrLevel;

/* OTR policies, from the weakest to the strongest. */
typedef enum {
    POTR_POLICY_NEVER = 0,
    POTR_POLICY_MANUAL,
    POTR_POLICY_OPPORTUNISTIC,
    POTR_POLICY_ALWAYS
} PotrPolicy;

/* Verification (SMP) events, as "smp-event" reports them. */
typedef enum {
    POTR_SMP_NONE = 0,
    POTR_SMP_ERROR,
    POTR_SMP_ABORT,
    POTR_SMP_CHEATED,
    POTR_SMP_ASK_FOR_ANSWER,
    POTR_SMP_ASK_FOR_SECRET,
    POTR_SMP_IN_PROGRESS,
    POTR_SMP_SUCCESS,
    POTR_SMP_FAILURE
} PotrSmpEvent;

/* Error domain of the core's GErrors. */
#define POTR_ERROR (potr_error_quark())
typedef enum {
    POTR_ERROR_FAILED,
    POTR_ERROR_IO,       /* a file could not be read or written */
    POTR_ERROR_CORRUPT,  /* a file's content could not be parsed */
    POTR_ERROR_BUSY,     /* an operation of the same kind is running */
    POTR_ERROR_NO_KEY,   /* the account has no private key yet */
    POTR_ERROR_IN_USE    /* refused: the object is in use */
} PotrError;
GQuark potr_error_quark(void);

/* Human, translated name of a level ("Not private", "Unverified",
 * "Private", "Finished"). Static string: do not free. */
const char *potr_level_name(PotrLevel level);

/* Parse a policy name ("never", "manual", "opportunistic", "always");
 * returns FALSE if NAME is none of them. */
gboolean potr_policy_from_name(const char *name, PotrPolicy *policy);
/* The English (untranslated, command) name of POLICY. Static string. */
const char *potr_policy_name(PotrPolicy policy);

/* The handle that the core's signals are registered on (valid while the
 * core plugin is loaded). Signals:
 *   "level-changed"  (PurpleConversation *conv, guint level)
 *      emitted whenever the trust level of a conversation changes, also
 *      when the instance in use changes.
 *   "smp-event" (PurpleConversation *conv, int event, int progress)
 *      a verification step: event is a PotrSmpEvent, progress 0..100.
 *   "key-generation" (PurpleAccount *account, guint state)
 *      state = 0 when a key generation starts, 1 when the key is ready,
 *      2 when it failed. */
void *potr_core_handle(void);

/* Trust level of CONV (an IM). Returns POTR_LEVEL_NOT_PRIVATE for chats
 * and for a NULL conversation. */
PotrLevel potr_conv_level(PurpleConversation *conv);

/* Start (or refresh) a private conversation: sends an OTR query to the
 * peer of CONV. Progress and errors are written into CONV. */
void potr_conv_start(PurpleConversation *conv);

/* End the private conversation of CONV (every instance) and tell the peer. */
void potr_conv_end(PurpleConversation *conv);

/* Effective policy for a buddy (per-buddy override, else global). */
PotrPolicy potr_policy_for(PurpleAccount *account, const char *who);

/* Start generating ACCOUNT's private key in the background. Returns FALSE
 * with POTR_ERROR_BUSY if a generation for it is already running. */
gboolean potr_key_generate(PurpleAccount *account, GError **error);

/* TRUE while ACCOUNT's key is being generated. */
gboolean potr_key_generating(PurpleAccount *account);

/* ACCOUNT's own fingerprint in human form (5 groups of 8 hex digits),
 * newly allocated; NULL if the account has no key yet. */
char *potr_key_fingerprint(PurpleAccount *account);

G_END_DECLS

#endif /* POTR_H */
