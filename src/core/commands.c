/* purple-otr - GPL-2.0-or-later
 * Commands: "/otr ..." in every libpurple UI, and its parser. */
#include "i18n.h"
#include "commands.h"

#include <string.h>
#include <libotr/privkey.h>

#include "core.h"
#include "dialogs.h"
#include "events.h"
#include "policy.h"
#include "context.h"
#include "secret.h"
#include "smp.h"
#include "peer.h"
#include "notice.h"

/* Longest argument line accepted (bytes); longer input is refused. */
#define POTR_MAX_COMMAND 4096

static PurpleCmdId otr_cmd = 0;

typedef void (*SubcommandFn)(PurpleConversation *conv, const char *rest);

typedef struct {
    const char *name;
    SubcommandFn run;
    const char *usage;  /* N_() */
} Subcommand;

static void
say(PurpleConversation *conv, const char *text, PurpleMessageFlags flags)
{
    char *html = potr_event_expand("{detail}", NULL, text);

    potr_notice_write(conv, html, flags, FALSE);
    g_free(html);
}

/* Write TEMPLATE with {buddy} = CONV's peer and {detail} = DETAIL. */
static void
say_expanded(PurpleConversation *conv, const char *template_, const char *detail,
             PurpleMessageFlags flags)
{
    char *html = potr_event_expand(template_, purple_conversation_get_name(conv), detail);

    potr_notice_write(conv, html, flags, FALSE);
    g_free(html);
}

void
potr_commands_next_word(const char *text, char **word, const char **rest)
{
    const char *start = text;
    const char *end = NULL;

    while (*start != '\0' && g_ascii_isspace(*start))
        start++;
    end = start;
    while (*end != '\0' && !g_ascii_isspace(*end))
        end++;
    *word = end > start ? g_strndup(start, (gsize)(end - start)) : NULL;
    while (*end != '\0' && g_ascii_isspace(*end))
        end++;
    *rest = end;
}

gboolean
potr_commands_parse_ask(const char *args, char **question, char **secret, GError **error)
{
    const char *p = args;
    GString *q = NULL;

    *question = NULL;
    *secret = NULL;
    while (*p != '\0' && g_ascii_isspace(*p))
        p++;
    if (*p == '"') {
        q = g_string_new(NULL);
        for (p++; *p != '\0' && *p != '"'; p++) {
            if (*p == '\\' && (p[1] == '"' || p[1] == '\\'))
                p++;
            g_string_append_c(q, *p);
        }
        if (*p != '"') {
            g_string_free(q, TRUE);
            g_set_error_literal(error, POTR_ERROR, POTR_ERROR_FAILED,
                                _("The question has no closing double quote."));
            return FALSE;
        }
        p++;
        *question = g_string_free(q, FALSE);
    }
    *secret = potr_secret_trimmed(p);
    if (**secret == '\0') {
        g_clear_pointer(secret, potr_secret_free);
        g_clear_pointer(question, g_free);
        g_set_error_literal(error, POTR_ERROR, POTR_ERROR_FAILED,
                            _("Usage: /otr smp ask \"QUESTION\" ANSWER, or /otr smp ask SECRET"));
        return FALSE;
    }
    return TRUE;
}

static void
cmd_start(PurpleConversation *conv, const char *rest)
{
    potr_conv_start(conv);
}

static void
cmd_end(PurpleConversation *conv, const char *rest)
{
    if (potr_conv_level(conv) == POTR_LEVEL_NOT_PRIVATE) {
        say_expanded(conv, _("There is no private conversation with {buddy} to end."), NULL,
                     PURPLE_MESSAGE_SYSTEM);
        return;
    }
    potr_conv_end(conv);
}

static void
cmd_status(PurpleConversation *conv, const char *rest)
{
    PurpleAccount *account = purple_conversation_get_account(conv);
    const char *who = purple_conversation_get_name(conv);
    /* TRANSLATORS: the {detail} of "OTR status of the conversation with
     * {buddy}: {detail}". The first %s is the level of the conversation
     * (Not private, Unverified, Private or Finished, as translated); the
     * second is the name of the policy as /otr policy takes it (never,
     * manual, opportunistic or always: a command argument, not translated). */
    char *detail = g_strdup_printf(_("%s (policy: %s)"), potr_level_name(potr_conv_level(conv)),
                                   potr_policy_name(potr_policy_for(account, who)));

    say_expanded(conv, _("OTR status of the conversation with {buddy}: {detail}"), detail,
                 PURPLE_MESSAGE_SYSTEM);
    g_free(detail);
}

static const char *
trust_name(Fingerprint *fp)
{
    if (fp->trust == NULL || fp->trust[0] == '\0')
        return _("not verified");
    if (strcmp(fp->trust, "smp") == 0)
        return _("verified by a secret");
    return _("verified by hand");
}

static void
cmd_fingerprint(PurpleConversation *conv, const char *rest)
{
    PurpleAccount *account = purple_conversation_get_account(conv);
    ConnContext *context = potr_context_of_conv(conv);
    ConnContext *master = potr_core_find_context(account, purple_conversation_get_name(conv),
                                            OTRL_INSTAG_MASTER, FALSE);
    char *mine = potr_key_fingerprint(account);
    char human[OTRL_PRIVKEY_FPRINT_HUMAN_LEN];

    say_expanded(conv, _("Your fingerprint: {detail}"),
                 mine != NULL ? mine : _("none yet (/otr genkey makes one)"), PURPLE_MESSAGE_SYSTEM);
    g_free(mine);
    if (context != NULL && context->active_fingerprint != NULL
        && context->msgstate == OTRL_MSGSTATE_ENCRYPTED) {
        char *detail = NULL;

        otrl_privkey_hash_to_human(human, context->active_fingerprint->fingerprint);
        detail = g_strdup_printf("%s (%s)", human, trust_name(context->active_fingerprint));
        say_expanded(conv, _("{buddy}'s fingerprint in this conversation: {detail}"), detail,
                     PURPLE_MESSAGE_SYSTEM);
        potr_notice_set_shown(conv, human);
        g_free(detail);
    } else if (g_strcmp0(rest, "all") != 0) {
        say_expanded(conv, _("{buddy}'s fingerprint is known once the conversation is private."),
                     NULL, PURPLE_MESSAGE_SYSTEM);
    }
    if (g_strcmp0(rest, "all") != 0 || master == NULL)
        return;
    for (Fingerprint *fp = master->fingerprint_root.next; fp != NULL; fp = fp->next) {
        char *detail = NULL;

        otrl_privkey_hash_to_human(human, fp->fingerprint);
        detail = g_strdup_printf("%s (%s)", human, trust_name(fp));
        say_expanded(conv, _("Known fingerprint of {buddy}: {detail}"), detail, PURPLE_MESSAGE_SYSTEM);
        g_free(detail);
    }
}

/* "/otr trust" trusts the key last shown in the conversation, and only
 * while it is the key in use; "/otr trust FINGERPRINT" the key named. */
static void
set_trust(PurpleConversation *conv, const char *rest, gboolean trusted)
{
    GError *error = NULL;
    gboolean ok = *rest != '\0' ? potr_conv_trust_fingerprint(conv, rest, trusted, &error)
                                 : potr_conv_set_trusted(conv, NULL, trusted, &error);

    if (!ok) {
        say(conv, error->message, PURPLE_MESSAGE_ERROR);
        g_error_free(error);
    }
}

static void
cmd_trust(PurpleConversation *conv, const char *rest)
{
    set_trust(conv, rest, TRUE);
}

static void
cmd_distrust(PurpleConversation *conv, const char *rest)
{
    set_trust(conv, rest, FALSE);
}

static void
cmd_forget(PurpleConversation *conv, const char *rest)
{
    PurpleAccount *account = purple_conversation_get_account(conv);
    PotrFingerprint fp = { 0 };
    GError *error = NULL;

    fp.fingerprint = potr_fingerprint_normalize(rest);
    if (fp.fingerprint == NULL) {
        say(conv, _("Usage: /otr forget FINGERPRINT (as /otr fingerprint all shows it)"),
            PURPLE_MESSAGE_ERROR);
        return;
    }
    fp.buddy = potr_peer_normalize(account, purple_conversation_get_name(conv));
    fp.account = (char *)purple_account_get_username(account);
    fp.protocol = (char *)purple_account_get_protocol_id(account);
    if (potr_fingerprint_forget(&fp, &error)) {
        say_expanded(conv, _("Forgot the fingerprint {detail} of {buddy}."), fp.fingerprint,
                     PURPLE_MESSAGE_SYSTEM);
    } else {
        say(conv, error->message, PURPLE_MESSAGE_ERROR);
        g_error_free(error);
    }
    g_free(fp.fingerprint);
    g_free(fp.buddy);
}

static void
cmd_smp(PurpleConversation *conv, const char *rest)
{
    char *verb = NULL;
    const char *args = NULL;
    char *question = NULL;
    char *secret = NULL;
    GError *error = NULL;

    potr_commands_next_word(rest, &verb, &args);
    if (verb == NULL) {
        potr_dialogs_verify(conv);
        goto cleanup;
    }
    if (g_strcmp0(verb, "abort") == 0) {
        potr_smp_abort(conv);
        goto cleanup;
    }
    if (g_strcmp0(verb, "ask") == 0) {
        if (!potr_commands_parse_ask(args, &question, &secret, &error))
            goto cleanup;
        potr_smp_start(conv, question, secret, FALSE, &error);
    } else if (g_strcmp0(verb, "respond") == 0) {
        secret = potr_secret_trimmed(args);
        if (*secret == '\0')
            g_set_error_literal(&error, POTR_ERROR, POTR_ERROR_FAILED,
                                _("Usage: /otr smp respond SECRET"));
        else
            potr_smp_start(conv, NULL, secret, TRUE, &error);
    } else {
        g_set_error_literal(&error, POTR_ERROR, POTR_ERROR_FAILED,
                            _("Usage: /otr smp ask \"QUESTION\" ANSWER | /otr smp ask SECRET | "
                              "/otr smp respond SECRET | /otr smp abort"));
    }

cleanup:
    if (error != NULL) {
        say(conv, error->message, PURPLE_MESSAGE_ERROR);
        g_error_free(error);
    }
    potr_secret_free(secret);
    g_free(question);
    g_free(verb);
}

static void
cmd_policy(PurpleConversation *conv, const char *rest)
{
    PurpleAccount *account = purple_conversation_get_account(conv);
    const char *who = purple_conversation_get_name(conv);
    PurpleBuddy *buddy = purple_find_buddy(account, who);
    PotrPolicy policy = POTR_POLICY_NEVER;
    gboolean use_default = g_strcmp0(rest, "default") == 0;

    if (*rest != '\0') {
        if (!use_default && !potr_policy_from_name(rest, &policy)) {
            say(conv, _("Usage: /otr policy [default|never|manual|opportunistic|always]"),
                PURPLE_MESSAGE_ERROR);
            return;
        }
        if (buddy == NULL) {
            say_expanded(conv, _("{buddy} is not on your buddy list: add them first, then set "
                                 "their policy."), NULL, PURPLE_MESSAGE_ERROR);
            return;
        }
        potr_policy_set_buddy(buddy, use_default, policy);
    }
    say_expanded(conv, potr_policy_buddy_override(buddy, NULL)
                       ? _("OTR policy for {buddy}: {detail}")
                       : _("OTR policy for {buddy}: {detail} (the default)"),
                 potr_policy_name(potr_policy_for(account, who)), PURPLE_MESSAGE_SYSTEM);
}

static void
cmd_genkey(PurpleConversation *conv, const char *rest)
{
    PurpleAccount *account = purple_conversation_get_account(conv);
    GError *error = NULL;

    if (!potr_key_generate(account, &error)) {
        say(conv, error->message, PURPLE_MESSAGE_ERROR);
        g_error_free(error);
        return;
    }
    say_expanded(conv, _("Generating a private key for {detail} in the background\xe2\x80\xa6"),
                 purple_account_get_username(account), PURPLE_MESSAGE_SYSTEM);
}

static void
list_instances(PurpleConversation *conv)
{
    PurpleAccount *account = purple_conversation_get_account(conv);
    ConnContext *master = potr_core_find_context(account, purple_conversation_get_name(conv),
                                            OTRL_INSTAG_MASTER, FALSE);
    otrl_instag_t chosen = potr_context_instance(conv);
    guint count = 0;

    for (ConnContext *c = master; c != NULL && c->m_context == master; c = c->next) {
        char *detail = NULL;

        if (c == master)
            continue;
        detail = g_strdup_printf("%08x: %s%s", c->their_instance, potr_level_name(potr_context_level(c)),
                                 c->their_instance == chosen ? _(" (in use)") : "");
        say_expanded(conv, _("Instance of {buddy}: {detail}"), detail, PURPLE_MESSAGE_SYSTEM);
        g_free(detail);
        count++;
    }
    if (count == 0)
        say_expanded(conv, _("No OTR instance of {buddy} is known yet."), NULL, PURPLE_MESSAGE_SYSTEM);
    if (chosen == OTRL_INSTAG_BEST)
        say(conv, _("Messages go to the best login (the most private, most recently active)."),
            PURPLE_MESSAGE_SYSTEM);
    else if (chosen == OTRL_INSTAG_RECENT)
        say(conv, _("Messages go to the most recently active login."), PURPLE_MESSAGE_SYSTEM);
}

static void
cmd_instance(PurpleConversation *conv, const char *rest)
{
    guint64 tag = 0;
    char *end = NULL;

    if (*rest == '\0' || strcmp(rest, "list") == 0) {
        list_instances(conv);
        return;
    }
    if (strcmp(rest, "best") == 0) {
        potr_context_set_instance(conv, OTRL_INSTAG_BEST);
    } else if (strcmp(rest, "recent") == 0) {
        potr_context_set_instance(conv, OTRL_INSTAG_RECENT);
    } else {
        tag = g_ascii_strtoull(rest, &end, 16);
        if (end == rest || *end != '\0' || tag < OTRL_MIN_VALID_INSTAG || tag > G_MAXUINT32) {
            say(conv, _("Usage: /otr instance [list|best|recent|TAG] (TAG as /otr instance list shows it)"),
                PURPLE_MESSAGE_ERROR);
            return;
        }
        potr_context_set_instance(conv, (otrl_instag_t)tag);
    }
    list_instances(conv);
}

static void cmd_help(PurpleConversation *conv, const char *rest);

static const Subcommand subcommands[] = {
    { "start", cmd_start, N_("/otr start: start a private conversation") },
    { "refresh", cmd_start, N_("/otr refresh: refresh the private conversation (new keys)") },
    { "end", cmd_end, N_("/otr end: end the private conversation") },
    { "status", cmd_status, N_("/otr status: show how private this conversation is") },
    { "smp", cmd_smp, N_("/otr smp [ask \"QUESTION\" ANSWER | ask SECRET | respond SECRET | abort]: verify your buddy with a question or a shared secret (alone: a dialog)") },
    { "trust", cmd_trust, N_("/otr trust [FINGERPRINT]: you have checked your buddy's fingerprint by hand (the one shown last, or the one named)") },
    { "distrust", cmd_distrust, N_("/otr distrust [FINGERPRINT]: stop trusting your buddy's fingerprint") },
    { "fingerprint", cmd_fingerprint, N_("/otr fingerprint [all]: show your and your buddy's fingerprints") },
    { "forget", cmd_forget, N_("/otr forget FINGERPRINT: forget one of your buddy's known fingerprints") },
    { "policy", cmd_policy, N_("/otr policy [default|never|manual|opportunistic|always]: show or set the policy for this buddy") },
    { "genkey", cmd_genkey, N_("/otr genkey: generate this account's private key") },
    { "instance", cmd_instance, N_("/otr instance [list|best|recent|TAG]: which of your buddy's logins to talk to") },
    { "help", cmd_help, N_("/otr help: this list") },
};

static void
cmd_help(PurpleConversation *conv, const char *rest)
{
    GString *text = g_string_new(_("OTR commands:"));

    for (guint i = 0; i < G_N_ELEMENTS(subcommands); i++) {
        g_string_append_c(text, '\n');
        g_string_append(text, _(subcommands[i].usage));
    }
    say(conv, text->str, PURPLE_MESSAGE_SYSTEM);
    g_string_free(text, TRUE);
}

void
potr_commands_run(PurpleConversation *conv, const char *args)
{
    char *verb = NULL;
    const char *rest = NULL;

    g_return_if_fail(conv != NULL);
    if (args == NULL)
        args = "";
    if (strlen(args) > POTR_MAX_COMMAND) {
        say(conv, _("This command is too long."), PURPLE_MESSAGE_ERROR);
        return;
    }
    potr_commands_next_word(args, &verb, &rest);
    if (verb == NULL) {
        cmd_status(conv, "");
        return;
    }
    for (guint i = 0; i < G_N_ELEMENTS(subcommands); i++) {
        if (g_ascii_strcasecmp(verb, subcommands[i].name) == 0) {
            subcommands[i].run(conv, rest);
            g_free(verb);
            return;
        }
    }
    say_expanded(conv, _("Unknown OTR command \xe2\x80\x9c{detail}\xe2\x80\x9d. /otr help lists them."),
                 verb, PURPLE_MESSAGE_ERROR);
    g_free(verb);
}

static PurpleCmdRet
on_otr_command(PurpleConversation *conv, const gchar *cmd, gchar **args, gchar **error, void *data)
{
    potr_core_refresh_files(); /* another program's keys and trust first */
    potr_commands_run(conv, args != NULL ? args[0] : NULL);
    return PURPLE_CMD_RET_OK;
}

void
potr_commands_init(void *handle)
{
    otr_cmd = purple_cmd_register("otr", "s", PURPLE_CMD_P_PLUGIN,
                                  PURPLE_CMD_FLAG_IM | PURPLE_CMD_FLAG_ALLOW_WRONG_ARGS, NULL,
                                  on_otr_command, _("otr &lt;command&gt;: Off-the-Record encryption; /otr help lists the commands."),
                                  handle);
}

void
potr_commands_uninit(void)
{
    if (otr_cmd != 0) {
        purple_cmd_unregister(otr_cmd);
        otr_cmd = 0;
    }
}
