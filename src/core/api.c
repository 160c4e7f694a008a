/* purple-otr - GPL-2.0-or-later
 * The public interface for UIs (potr.h): fingerprints, trust, SMP, instances. */
#include "i18n.h"
#include "potr.h"

#include <string.h>
#include <libotr/privkey.h>

#include "core.h"
#include "context.h"
#include "session.h"
#include "smp.h"
#include "peer.h"
#include "notice.h"

static void apply_trust(ConnContext *master, Fingerprint *fp, gboolean trusted);

void
potr_fingerprint_free(PotrFingerprint *fp)
{
    if (fp == NULL)
        return;
    g_free(fp->buddy);
    g_free(fp->account);
    g_free(fp->protocol);
    g_free(fp->fingerprint);
    g_free(fp->trust);
    g_free(fp);
}

static gboolean
fingerprint_in_use(ConnContext *master, Fingerprint *fp)
{
    for (ConnContext *c = master; c != NULL && c->m_context == master; c = c->next)
        if (c->msgstate == OTRL_MSGSTATE_ENCRYPTED && c->active_fingerprint == fp)
            return TRUE;
    return FALSE;
}

static gint
compare_fingerprints(gconstpointer a, gconstpointer b)
{
    const PotrFingerprint *x = a;
    const PotrFingerprint *y = b;
    int c = g_strcmp0(x->account, y->account);

    if (c == 0)
        c = g_strcmp0(x->buddy, y->buddy);
    return c != 0 ? c : g_strcmp0(x->fingerprint, y->fingerprint);
}

GList *
potr_fingerprints_list(void)
{
    OtrlUserState us = potr_core_userstate();
    GList *list = NULL;

    if (us == NULL)
        return NULL;
    potr_core_refresh_trust(); /* another program may have changed the list */
    for (ConnContext *c = us->context_root; c != NULL; c = c->next) {
        if (c->m_context != c)
            continue;
        for (Fingerprint *fp = c->fingerprint_root.next; fp != NULL; fp = fp->next) {
            PotrFingerprint *info = g_new0(PotrFingerprint, 1);
            char human[OTRL_PRIVKEY_FPRINT_HUMAN_LEN];

            otrl_privkey_hash_to_human(human, fp->fingerprint);
            info->buddy = g_strdup(c->username);
            info->account = g_strdup(c->accountname);
            info->protocol = g_strdup(c->protocol);
            info->fingerprint = g_strdup(human);
            info->trust = g_strdup(fp->trust != NULL ? fp->trust : "");
            info->in_use = fingerprint_in_use(c, fp);
            list = g_list_prepend(list, info);
        }
    }
    return g_list_sort(list, compare_fingerprints);
}

/* The libotr fingerprint FP names, and its master context. */
static Fingerprint *
find_fingerprint(const PotrFingerprint *fp, ConnContext **master, GError **error)
{
    OtrlUserState us = potr_core_userstate();
    ConnContext *context = NULL;

    potr_core_refresh_trust(); /* another program may have changed the list */
    if (us != NULL)
        context = otrl_context_find(us, fp->buddy, fp->account, fp->protocol, OTRL_INSTAG_MASTER,
                                    0, NULL, NULL, NULL);
    for (Fingerprint *f = context != NULL ? context->fingerprint_root.next : NULL; f != NULL; f = f->next) {
        char human[OTRL_PRIVKEY_FPRINT_HUMAN_LEN];

        otrl_privkey_hash_to_human(human, f->fingerprint);
        if (g_ascii_strcasecmp(human, fp->fingerprint) == 0) {
            *master = context;
            return f;
        }
    }
    g_set_error(error, POTR_ERROR, POTR_ERROR_FAILED,
                _("This fingerprint is not a known key of %s."), fp->buddy);
    return NULL;
}

gboolean
potr_fingerprint_forget(const PotrFingerprint *fp, GError **error)
{
    ConnContext *master = NULL;
    Fingerprint *found = NULL;

    g_return_val_if_fail(fp != NULL, FALSE);
    found = find_fingerprint(fp, &master, error);
    if (found == NULL)
        return FALSE;
    if (fingerprint_in_use(master, found)) {
        g_set_error(error, POTR_ERROR, POTR_ERROR_IN_USE,
                    _("This fingerprint is in use by a private conversation: end it first."));
        return FALSE;
    }
    otrl_context_forget_fingerprint(found, 1);
    potr_core_save_fingerprints();
    return TRUE;
}

gboolean
potr_fingerprint_set_trusted(const PotrFingerprint *fp, gboolean trusted, GError **error)
{
    ConnContext *master = NULL;
    Fingerprint *found = NULL;

    g_return_val_if_fail(fp != NULL, FALSE);
    found = find_fingerprint(fp, &master, error);
    if (found == NULL)
        return FALSE;
    apply_trust(master, found, trusted);
    return TRUE;
}

PurpleConversation *
potr_conv_for_buddy(PurpleBuddy *buddy)
{
    PurpleAccount *account = NULL;
    const char *name = NULL;
    PurpleConversation *conv = NULL;

    g_return_val_if_fail(buddy != NULL, NULL);
    account = purple_buddy_get_account(buddy);
    name = purple_buddy_get_name(buddy);
    conv = purple_find_conversation_with_account(PURPLE_CONV_TYPE_IM, name, account);
    return conv != NULL ? conv : purple_conversation_new(PURPLE_CONV_TYPE_IM, account, name);
}

char *
potr_conv_peer_fingerprint(PurpleConversation *conv)
{
    ConnContext *context = potr_context_of_conv(conv);
    char human[OTRL_PRIVKEY_FPRINT_HUMAN_LEN];

    if (context == NULL || context->msgstate != OTRL_MSGSTATE_ENCRYPTED
        || context->active_fingerprint == NULL)
        return NULL;
    otrl_privkey_hash_to_human(human, context->active_fingerprint->fingerprint);
    return g_strdup(human);
}

char *
potr_fingerprint_normalize(const char *text)
{
    GString *out = g_string_new(NULL);
    guint digits = 0;

    for (const char *p = text != NULL ? text : ""; *p != '\0'; p++) {
        if (g_ascii_isspace(*p))
            continue;
        if (!g_ascii_isxdigit(*p) || digits == 40) {
            g_string_free(out, TRUE);
            return NULL;
        }
        if (digits > 0 && digits % 8 == 0)
            g_string_append_c(out, ' ');
        g_string_append_c(out, g_ascii_toupper(*p));
        digits++;
    }
    if (digits != 40) {
        g_string_free(out, TRUE);
        return NULL;
    }
    return g_string_free(out, FALSE);
}

/* Set the manual trust of FP (of MASTER's peer), save, and let every
 * instance that uses it report its new level. */
static void
apply_trust(ConnContext *master, Fingerprint *fp, gboolean trusted)
{
    otrl_context_set_trust(fp, trusted ? "verified" : "");
    potr_core_save_fingerprints();
    for (ConnContext *c = master; c != NULL && c->m_context == master; c = c->next)
        if (c->active_fingerprint == fp)
            potr_session_changed(c, POTR_CHANGE_TRUST);
}

static void
tell_trust(PurpleConversation *conv, const char *human, gboolean trusted)
{
    potr_notice_say(conv, trusted ? _("You have verified {buddy}'s fingerprint by hand: {detail}.")
                                   : _("{buddy}'s fingerprint {detail} is no longer trusted."),
                     purple_conversation_get_name(conv), human, PURPLE_MESSAGE_SYSTEM);
}

gboolean
potr_conv_set_trusted(PurpleConversation *conv, const char *shown, gboolean trusted, GError **error)
{
    ConnContext *context = NULL;
    char human[OTRL_PRIVKEY_FPRINT_HUMAN_LEN];
    char *expected = NULL;
    gboolean ok = FALSE;

    g_return_val_if_fail(conv != NULL, FALSE);
    context = potr_context_of_conv(conv);
    if (context == NULL || context->msgstate != OTRL_MSGSTATE_ENCRYPTED
        || context->active_fingerprint == NULL) {
        g_set_error_literal(error, POTR_ERROR, POTR_ERROR_FAILED,
                            _("Start a private conversation first (/otr start): the fingerprint to "
                              "trust is the one in use."));
        return FALSE;
    }
    otrl_privkey_hash_to_human(human, context->active_fingerprint->fingerprint);
    expected = potr_fingerprint_normalize(shown != NULL ? shown : potr_notice_shown(conv));
    if (trusted && g_strcmp0(expected, human) != 0) {
        g_set_error(error, POTR_ERROR, POTR_ERROR_CHANGED,
                    _("Nothing was trusted: %s's key in use is %s, not the one you were shown. "
                      "Compare it with your buddy, then trust it (/otr trust %s)."),
                    purple_conversation_get_name(conv), human, human);
        goto cleanup;
    }
    apply_trust(context->m_context, context->active_fingerprint, trusted);
    tell_trust(conv, human, trusted);
    ok = TRUE;

cleanup:
    g_free(expected);
    return ok;
}

gboolean
potr_conv_trust_fingerprint(PurpleConversation *conv, const char *fingerprint, gboolean trusted,
                            GError **error)
{
    PurpleAccount *account = NULL;
    PotrFingerprint fp = { 0 };
    ConnContext *master = NULL;
    Fingerprint *found = NULL;

    g_return_val_if_fail(conv != NULL, FALSE);
    account = purple_conversation_get_account(conv);
    fp.fingerprint = potr_fingerprint_normalize(fingerprint);
    if (fp.fingerprint == NULL) {
        g_set_error_literal(error, POTR_ERROR, POTR_ERROR_FAILED,
                            _("This is not a fingerprint (40 hexadecimal digits)."));
        return FALSE;
    }
    fp.buddy = potr_peer_normalize(account, purple_conversation_get_name(conv));
    fp.account = (char *)purple_account_get_username(account);
    fp.protocol = (char *)purple_account_get_protocol_id(account);
    found = find_fingerprint(&fp, &master, error);
    if (found != NULL) {
        apply_trust(master, found, trusted);
        tell_trust(conv, fp.fingerprint, trusted);
    }
    g_free(fp.fingerprint);
    g_free(fp.buddy);
    return found != NULL;
}

gboolean
potr_conv_smp_ask(PurpleConversation *conv, const char *question, const char *secret, GError **error)
{
    g_return_val_if_fail(conv != NULL && secret != NULL, FALSE);
    return potr_smp_start(conv, question, secret, FALSE, error);
}

gboolean
potr_conv_smp_respond(PurpleConversation *conv, const char *secret, GError **error)
{
    g_return_val_if_fail(conv != NULL && secret != NULL, FALSE);
    return potr_smp_start(conv, NULL, secret, TRUE, error);
}

void
potr_conv_smp_abort(PurpleConversation *conv)
{
    g_return_if_fail(conv != NULL);
    potr_smp_abort(conv);
}

const char *
potr_conv_smp_question(PurpleConversation *conv)
{
    g_return_val_if_fail(conv != NULL, NULL);
    return potr_smp_asked(conv);
}

GArray *
potr_conv_instances(PurpleConversation *conv)
{
    GArray *out = g_array_new(FALSE, TRUE, sizeof(PotrInstance));
    ConnContext *master = NULL;
    ConnContext *current = NULL;

    g_return_val_if_fail(conv != NULL, out);
    master = potr_core_find_context(purple_conversation_get_account(conv),
                               purple_conversation_get_name(conv), OTRL_INSTAG_MASTER, FALSE);
    current = potr_context_of_conv(conv);
    for (ConnContext *c = master; c != NULL && c->m_context == master; c = c->next) {
        PotrInstance item = { 0 };

        if (c == master)
            continue;
        item.tag = c->their_instance;
        item.level = potr_context_level(c);
        item.in_use = c == current;
        g_array_append_val(out, item);
    }
    return out;
}

void
potr_conv_set_instance(PurpleConversation *conv, guint32 tag)
{
    g_return_if_fail(conv != NULL);
    potr_context_set_instance(conv, tag == 0 ? OTRL_INSTAG_BEST : (otrl_instag_t)tag);
}
