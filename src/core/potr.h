/* purple-otr - GPL-2.0-or-later
 * Public interface of the purple-otr core, for the Pidgin and Finch UI plugins
 * and for tests. UIs include this header only: never <libotr/...>. */
#ifndef POTR_H
#define POTR_H

#include <glib.h>
#include <purple.h>

G_BEGIN_DECLS

/* Marks the functions that the core library exports. Why: the library is
 * built with -fvisibility=hidden so that only this header is its ABI;
 * every internal function stays private to it (tests/unit/test-exports
 * checks that the exported set is exactly the POTR_API functions). */
#if defined(__GNUC__)
#define POTR_API __attribute__((visibility("default")))
#else
#define POTR_API
#endif

#define POTR_CORE_PLUGIN_ID "core-purple-otr"
#define POTR_GTK_PLUGIN_ID "gtk-purple-otr"
#define POTR_GNT_PLUGIN_ID "gnt-purple-otr"
/* The plugins' "website": the README installed with them. */
#define POTR_HOMEPAGE "file://" POTR_DOCDIR "/README.md"

/* pidgin-otr's plugin id: purple-otr refuses to run beside it */
#define POTR_LEGACY_PLUGIN_ID "otr"

/* The four trust levels a user sees, computed in one place
 * (potr_context_level). */
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
    POTR_ERROR_IN_USE,   /* refused: the object is in use */
    POTR_ERROR_CHANGED   /* refused: what the user was shown is no longer true */
} PotrError;
POTR_API GQuark potr_error_quark(void);

/* Human, translated name of a level ("Not private", "Unverified",
 * "Private", "Finished"). Static string: do not free. */
POTR_API const char *potr_level_name(PotrLevel level);

/* Parse a policy name ("never", "manual", "opportunistic", "always");
 * returns FALSE if NAME is none of them. */
POTR_API gboolean potr_policy_from_name(const char *name, PotrPolicy *policy);
/* The English (untranslated, command) name of POLICY. Static string. */
POTR_API const char *potr_policy_name(PotrPolicy policy);

/* The handle that the core's signals are registered on (valid while the
 * core plugin is loaded). Signals:
 *   "level-changed"  (PurpleConversation *conv, guint level)
 *      emitted whenever the trust level of a conversation changes, also
 *      when the instance in use changes.
 *   "smp-event" (PurpleConversation *conv, int event, int progress)
 *      a verification step: event is a PotrSmpEvent, progress 0..100.
 *   "smp-request" (PurpleConversation *conv, const char *question) -> gboolean
 *      the peer asks to verify; a UI that shows its own dialog returns
 *      TRUE, else the core asks through purple_request_input().
 *   "verify-request" (PurpleConversation *conv) -> gboolean
 *      the user asked to verify CONV's peer (/otr smp, buddy menu); a UI
 *      that shows its own dialog returns TRUE, else the core asks through
 *      purple_request_choice().
 *   "buddy-menu" (PurpleBuddy *buddy, GList **items)
 *      the buddy list's OTR submenu for BUDDY is being built: a UI may
 *      append PurpleMenuActions of its own to *ITEMS (their callbacks get
 *      the list node the menu is for: a buddy, or a contact).
 *   "fingerprints-changed" ()
 *      the list of known fingerprints or their trust changed.
 *   "key-generation" (PurpleAccount *account, guint state)
 *      state = 0 when a key generation starts, 1 when the key is ready,
 *      2 when it failed. */
POTR_API void *potr_core_handle(void);

/* The IM conversation with BUDDY, opened if there is none (for menus
 * that act on a buddy). */
POTR_API PurpleConversation *potr_conv_for_buddy(PurpleBuddy *buddy);

/* Trust level of CONV (an IM). Returns POTR_LEVEL_NOT_PRIVATE for chats
 * and for a NULL conversation. */
POTR_API PotrLevel potr_conv_level(PurpleConversation *conv);

/* Start (or refresh) a private conversation: sends an OTR query to the
 * peer of CONV. Progress and errors are written into CONV. */
POTR_API void potr_conv_start(PurpleConversation *conv);

/* End the private conversation of CONV (every instance) and tell the peer. */
POTR_API void potr_conv_end(PurpleConversation *conv);

/* Effective policy for a buddy (per-buddy override, else global). */
POTR_API PotrPolicy potr_policy_for(PurpleAccount *account, const char *who);

/* Start generating ACCOUNT's private key in the background. Returns FALSE
 * with POTR_ERROR_BUSY if a generation for it is already running. */
POTR_API gboolean potr_key_generate(PurpleAccount *account, GError **error);

/* TRUE while ACCOUNT's key is being generated. */
POTR_API gboolean potr_key_generating(PurpleAccount *account);

/* ACCOUNT's own fingerprint in human form (5 groups of 8 hex digits),
 * newly allocated; NULL if the account has no key yet. */
POTR_API char *potr_key_fingerprint(PurpleAccount *account);

/* ---- verification and trust (for fingerprint managers and dialogs) ---- */

/* One known fingerprint of a buddy. */
typedef struct {
    char *buddy;        /* normalised buddy name */
    char *account;      /* account name, as libotr stores it */
    char *protocol;     /* protocol id, e.g. "prpl-jabber" */
    char *fingerprint;  /* human form: 5 groups of 8 hex digits */
    char *trust;        /* "" (not verified), "verified" (by hand), "smp" */
    gboolean in_use;    /* the key of a private conversation right now */
} PotrFingerprint;

/* "0123abcd 4567..." (40 hex digits in any case and spacing) in human
 * form: 5 groups of 8 upper-case hex digits, newly allocated; NULL if TEXT
 * is not a fingerprint. */
POTR_API char *potr_fingerprint_normalize(const char *text);

/* Every known fingerprint, sorted by account then buddy. Free the list
 * with g_list_free_full(list, (GDestroyNotify)potr_fingerprint_free). */
POTR_API GList *potr_fingerprints_list(void);
POTR_API void potr_fingerprint_free(PotrFingerprint *fp);

/* Forget one fingerprint (FP as listed). Refused with POTR_ERROR_IN_USE
 * while a private conversation uses it; POTR_ERROR_FAILED if unknown.
 * The file is written at once. */
POTR_API gboolean potr_fingerprint_forget(const PotrFingerprint *fp, GError **error);

/* Set (TRUSTED) or clear the manual trust of one fingerprint; saved at once. */
POTR_API gboolean potr_fingerprint_set_trusted(const PotrFingerprint *fp, gboolean trusted, GError **error);

/* The peer's fingerprint in CONV's private conversation (human form, newly
 * allocated), or NULL if it is not private. */
POTR_API char *potr_conv_peer_fingerprint(PurpleConversation *conv);

/* Trust (TRUSTED) or distrust the key in use in CONV by hand, as the user
 * was shown it: SHOWN is the peer's fingerprint (human form) the dialog or
 * line showed; NULL means the one last shown in CONV's lines. Why: another
 * login of the peer (or a new key exchange, also a man in the middle's)
 * can change the key in use while the user compares; trust must go to
 * what they compared. Trusting is refused with POTR_ERROR_CHANGED if the
 * key in use is no longer SHOWN (the message names the key in use now),
 * and with POTR_ERROR_FAILED if the conversation is not private.
 * Distrusting always applies to the key in use (lowering trust is safe).
 * Saved at once; the user is told in CONV. */
POTR_API gboolean potr_conv_set_trusted(PurpleConversation *conv, const char *shown, gboolean trusted,
                               GError **error);

/* Trust (or distrust) FINGERPRINT, one of CONV's peer's known keys (40 hex
 * digits, any case and spacing), by hand: what the user typed or picked,
 * whether it is in use or not. POTR_ERROR_FAILED if it is not a known key
 * of the peer. Saved at once. */
POTR_API gboolean potr_conv_trust_fingerprint(PurpleConversation *conv, const char *fingerprint,
                                     gboolean trusted, GError **error);

/* Verify CONV's peer with SMP: ask (QUESTION NULL or "" for a shared
 * secret), answer the peer's request, or abort. Secrets are not kept. */
POTR_API gboolean potr_conv_smp_ask(PurpleConversation *conv, const char *question, const char *secret,
                           GError **error);
POTR_API gboolean potr_conv_smp_respond(PurpleConversation *conv, const char *secret, GError **error);
POTR_API void potr_conv_smp_abort(PurpleConversation *conv);

/* The question of the peer's pending verification request in CONV
 * (NULL if none or if it is a shared secret). Static until the next event. */
POTR_API const char *potr_conv_smp_question(PurpleConversation *conv);

/* A new copy of TEXT (a secret typed by the user) without leading and
 * trailing white space; "" for NULL. Never trims in place (that would leave
 * a copy of the tail behind). Free with potr_secret_free(). */
POTR_API char *potr_secret_trimmed(const char *text);

/* Overwrite TEXT (a secret) in a way the compiler cannot drop, then free
 * it. NULL: no-op. */
POTR_API void potr_secret_free(char *text);

/* The peer's OTR instances (logins) in CONV. */
typedef struct {
    guint32 tag;
    PotrLevel level;
    gboolean in_use;
} PotrInstance;

/* Array of PotrInstance (g_array_unref). */
POTR_API GArray *potr_conv_instances(PurpleConversation *conv);

/* Talk to instance TAG in CONV; 0 = the best one (the default). */
POTR_API void potr_conv_set_instance(PurpleConversation *conv, guint32 tag);

/* Global preference paths (compatible with pidgin-otr), for the UIs'
 * preference pages. The core registers them with their defaults when it
 * starts; a UI reads and writes them with purple_prefs_*(). */
#define POTR_PREF_ROOT "/OTR"
#define POTR_PREF_ENABLED "/OTR/enabled"
#define POTR_PREF_AUTOMATIC "/OTR/automatic"
#define POTR_PREF_ONLYPRIVATE "/OTR/onlyprivate"
#define POTR_PREF_AVOIDLOGGING "/OTR/avoidloggingotr"
#define POTR_PREF_SHOWBUTTON "/OTR/showotrbutton"
/* purple-otr's own: pad every encrypted message so that its length shows
 * only a bucket (default TRUE); send typing notifications and chat states
 * in private conversations too (default FALSE). */
#define POTR_PREF_PADDING "/OTR/padmessages"
#define POTR_PREF_CHATSTATES "/OTR/sendchatstates"

/* The global (default) policy, from the three flags above: not enabled =
 * never, enabled = manual, + automatic = opportunistic, + onlyprivate =
 * always. */
POTR_API PotrPolicy potr_policy_global(void);

/* The per-buddy override of BUDDY (non-NULL) in *POLICY; returns FALSE and
 * leaves *POLICY alone if BUDDY has none (it uses the global policy). */
POTR_API gboolean potr_policy_buddy_override(PurpleBuddy *buddy, PotrPolicy *policy);

/* Set BUDDY's (non-NULL) override to POLICY; USE_DEFAULT TRUE clears it
 * instead. Stored in the buddy list, as pidgin-otr does. */
POTR_API void potr_policy_set_buddy(PurpleBuddy *buddy, gboolean use_default, PotrPolicy policy);

/* TRUE if private conversations with WHO on ACCOUNT must not be logged
 * (the buddy's override first, then the global preference). */
POTR_API gboolean potr_policy_avoid_logging(PurpleAccount *account, const char *who);

/* Start the engine for PLUGIN (the core plugin, its only caller): checks
 * libotr's version, reads the files, registers signals, hooks and
 * commands. Returns FALSE with ERROR set if the engine cannot run (libotr
 * mismatch, pidgin-otr loaded); nothing is left registered then. */
POTR_API gboolean potr_core_start(PurplePlugin *plugin, GError **error);

/* Stop the engine: ends every private conversation (telling each peer),
 * cancels key generations, frees everything. Safe to call twice. */
POTR_API void potr_core_stop(void);

G_END_DECLS

#endif /* POTR_H */
