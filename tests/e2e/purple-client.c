/* purple-otr - GPL-2.0-or-later
 * purple-client: a headless libpurple UI driven by a line protocol, for the
 * end-to-end tests (tests/e2e/harness.py speaks to it).
 *
 * Commands arrive on stdin, events leave on stdout: one line each, fields
 * separated by one TAB. Command fields are C-escaped (decoded with
 * g_strcompress); event fields are escaped with g_strescape, so every byte
 * outside printable ASCII is an octal escape. stdout is reserved for the
 * protocol: file descriptor 1 is pointed at stderr once the protocol stream is
 * set up, so stray library output can never corrupt an event line.
 *
 * The program never links against the purple-otr core library: it loads the
 * plugin like any libpurple UI would, and sees it only through libpurple
 * (plugin list, signals, commands, conversations, request/notify dialogs).
 */
#include <errno.h>
#include <locale.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>
#include <glib-unix.h>

#include <purple.h>

#include "../common/eventloop.h"

#define PC_UI_ID "purple-otr-test"
#define PC_OTR_PLUGIN_ID "core-purple-otr"
#define PC_QUIT_FLUSH_MS 5000

/* ------------------------------------------------------------------ */
/* state                                                               */

typedef struct {
    char *userdir;
    char *jid;
    char *password;
    char *protocol;       /* prpl-jabber unless --protocol says otherwise */
    int port;
    gboolean log;
    GPtrArray *plugin_search_paths;
    GPtrArray *plugins;
} PcOptions;

typedef struct {
    guint id;
    PurpleRequestType type;
    const char *kind;
    GCallback ok_cb;
    GCallback cancel_cb;
    void *user_data;
    GArray *choice_values;   /* int, for choice */
    GPtrArray *action_cbs;   /* GCallback, for action */
    PurpleRequestFields *fields;
} PcRequest;

static FILE *pc_out;
static guint pc_stdin_watch;
static GMainLoop *pc_loop;
static PcOptions pc_opts;
static PurpleAccount *pc_account;
static GHashTable *pc_requests;      /* id -> PcRequest* */
static GHashTable *pc_pings;         /* iq id -> TRUE */
static guint pc_next_request_id = 1;
static guint pc_next_ping_id = 1;
static gboolean pc_quit_barrier;     /* quitting: waiting for pings */
static GMainLoop *pc_barrier_loop;
static guint pc_barrier_timer;
static int pc_handle;                /* signal handle */
static gboolean pc_auto_authorize;   /* accept subscription requests */
static gboolean pc_xmpp_trace;       /* print outgoing <message/> stanzas */
static gboolean pc_irc_trace;        /* print every IRC line received */

/* ------------------------------------------------------------------ */
/* output                                                              */

/* Print one event: KIND, then each field escaped (NULL fields print as
 * empty), TAB-separated, one line, flushed. */
static void
pc_emit_array(const char *kind, GPtrArray *fields)
{
    GString *line = g_string_new(kind);

    for (guint i = 0; i < fields->len; i++) {
        const char *field = g_ptr_array_index(fields, i);
        char *esc = g_strescape(field ? field : "", "");

        g_string_append_c(line, '\t');
        g_string_append(line, esc);
        g_free(esc);
    }
    g_string_append_c(line, '\n');
    fputs(line->str, pc_out);
    fflush(pc_out);
    g_string_free(line, TRUE);
}

/* pc_emit("kind", field, ..., NULL) */
static void
pc_emit(const char *kind, ...)
{
    va_list ap;
    const char *field = NULL;
    GPtrArray *fields = g_ptr_array_new();

    va_start(ap, kind);
    while ((field = va_arg(ap, const char *)) != NULL)
        g_ptr_array_add(fields, (gpointer)field);
    va_end(ap);
    pc_emit_array(kind, fields);
    g_ptr_array_free(fields, TRUE);
}

static const char *
pc_str(const char *s)
{
    return s ? s : "";
}

/* ------------------------------------------------------------------ */
/* event loop ui ops (GLib main loop)                                  */



/* ------------------------------------------------------------------ */
/* debug ui ops: libpurple debug output to stderr, only when asked     */

static void
pc_debug_print(PurpleDebugLevel level, const char *category, const char *arg)
{
    fprintf(stderr, "[%d] %s: %s", (int)level, pc_str(category), pc_str(arg));
}

static gboolean
pc_debug_is_enabled(PurpleDebugLevel level, const char *category)
{
    return TRUE;
}

static PurpleDebugUiOps pc_debug_ops = {
    .print = pc_debug_print,
    .is_enabled = pc_debug_is_enabled,
};

/* ------------------------------------------------------------------ */
/* conversation ui ops                                                 */

static void
pc_conv_create(PurpleConversation *conv)
{
    pc_emit("conv-created", purple_conversation_get_name(conv), NULL);
}

/* A signal, not the destroy_conversation ui op: by the time libpurple
 * calls the op it has already freed the conversation's name. */
static void
pc_conv_deleting(PurpleConversation *conv, gpointer data)
{
    pc_emit("conv-destroyed", purple_conversation_get_name(conv), NULL);
}

static void
pc_conv_write(PurpleConversation *conv, const char *who, const char *alias,
              const char *message, PurpleMessageFlags flags, time_t mtime)
{
    char flagstr[32];

    g_snprintf(flagstr, sizeof flagstr, "%d", (int)flags);
    pc_emit("write", purple_conversation_get_name(conv), flagstr, pc_str(who),
            pc_str(message), NULL);
}

static gboolean
pc_conv_has_focus(PurpleConversation *conv)
{
    return FALSE;
}

static PurpleConversationUiOps pc_conv_ops = {
    .create_conversation = pc_conv_create,
    .write_conv = pc_conv_write,
    .has_focus = pc_conv_has_focus,
};

/* ------------------------------------------------------------------ */
/* connection ui ops and signals                                       */

static void
pc_conn_report_reason(PurpleConnection *gc, PurpleConnectionError reason,
                      const char *text)
{
    pc_emit("conn-error", pc_str(text), NULL);
    if (pc_barrier_loop != NULL)
        g_main_loop_quit(pc_barrier_loop);
}

static PurpleConnectionUiOps pc_conn_ops = {
    .report_disconnect_reason = pc_conn_report_reason,
};

static void
pc_signed_on(PurpleConnection *gc, gpointer data)
{
    pc_emit("signed-on",
            purple_account_get_username(purple_connection_get_account(gc)), NULL);
}

static void
pc_signed_off(PurpleConnection *gc, gpointer data)
{
    pc_emit("signed-off",
            purple_account_get_username(purple_connection_get_account(gc)), NULL);
}

/* ------------------------------------------------------------------ */
/* notify ui ops: print, then let libpurple treat it as dismissed      */

static void *
pc_notify_message(PurpleNotifyMsgType type, const char *title,
                  const char *primary, const char *secondary)
{
    pc_emit("notify", pc_str(title), pc_str(primary), pc_str(secondary), NULL);
    return NULL;
}

static void *
pc_notify_formatted(const char *title, const char *primary,
                    const char *secondary, const char *text)
{
    pc_emit("notify", pc_str(title), pc_str(primary), pc_str(secondary),
            pc_str(text), NULL);
    return NULL;
}

static PurpleNotifyUiOps pc_notify_ops = {
    .notify_message = pc_notify_message,
    .notify_formatted = pc_notify_formatted,
};

/* ------------------------------------------------------------------ */
/* request ui ops: print and keep pending until request-answer         */

static PcRequest *
pc_request_new(PurpleRequestType type, const char *kind, GCallback ok_cb,
               GCallback cancel_cb, void *user_data)
{
    PcRequest *req = g_new0(PcRequest, 1);

    req->id = pc_next_request_id++;
    req->type = type;
    req->kind = kind;
    req->ok_cb = ok_cb;
    req->cancel_cb = cancel_cb;
    req->user_data = user_data;
    g_hash_table_insert(pc_requests, GUINT_TO_POINTER(req->id), req);
    return req;
}

static void
pc_request_free(PcRequest *req)
{
    if (req->choice_values != NULL)
        g_array_free(req->choice_values, TRUE);
    if (req->action_cbs != NULL)
        g_ptr_array_free(req->action_cbs, TRUE);
    /* the UI owns a fields request's fields once it is shown */
    if (req->fields != NULL)
        purple_request_fields_destroy(req->fields);
    g_free(req);
}

/* request KIND ID TITLE PRIMARY SECONDARY [EXTRA...] */
static void
pc_request_print(PcRequest *req, const char *title, const char *primary,
                 const char *secondary, GPtrArray *extra)
{
    GPtrArray *fields = g_ptr_array_new_with_free_func(g_free);

    g_ptr_array_add(fields, g_strdup(req->kind));
    g_ptr_array_add(fields, g_strdup_printf("%u", req->id));
    g_ptr_array_add(fields, g_strdup(pc_str(title)));
    g_ptr_array_add(fields, g_strdup(pc_str(primary)));
    g_ptr_array_add(fields, g_strdup(pc_str(secondary)));
    for (guint i = 0; extra != NULL && i < extra->len; i++)
        g_ptr_array_add(fields, g_strdup(g_ptr_array_index(extra, i)));
    pc_emit_array("request", fields);
    g_ptr_array_free(fields, TRUE);
}

static void *
pc_request_input(const char *title, const char *primary, const char *secondary,
                 const char *default_value, gboolean multiline, gboolean masked,
                 gchar *hint, const char *ok_text, GCallback ok_cb,
                 const char *cancel_text, GCallback cancel_cb,
                 PurpleAccount *account, const char *who,
                 PurpleConversation *conv, void *user_data)
{
    PcRequest *req = pc_request_new(PURPLE_REQUEST_INPUT, "input", ok_cb,
                                     cancel_cb, user_data);
    GPtrArray *extra = g_ptr_array_new();

    g_ptr_array_add(extra, (gpointer)pc_str(default_value));
    pc_request_print(req, title, primary, secondary, extra);
    g_ptr_array_free(extra, TRUE);
    return req;
}

static void *
pc_request_choice(const char *title, const char *primary, const char *secondary,
                  int default_value, const char *ok_text, GCallback ok_cb,
                  const char *cancel_text, GCallback cancel_cb,
                  PurpleAccount *account, const char *who,
                  PurpleConversation *conv, void *user_data, va_list choices)
{
    PcRequest *req = pc_request_new(PURPLE_REQUEST_CHOICE, "choice", ok_cb,
                                     cancel_cb, user_data);
    GPtrArray *labels = g_ptr_array_new();
    const char *label = NULL;

    req->choice_values = g_array_new(FALSE, FALSE, sizeof(int));
    while ((label = va_arg(choices, const char *)) != NULL) {
        int value = va_arg(choices, int);

        g_ptr_array_add(labels, (gpointer)label);
        g_array_append_val(req->choice_values, value);
    }
    pc_request_print(req, title, primary, secondary, labels);
    g_ptr_array_free(labels, TRUE);
    return req;
}

static void *
pc_request_action(const char *title, const char *primary, const char *secondary,
                  int default_action, PurpleAccount *account, const char *who,
                  PurpleConversation *conv, void *user_data,
                  size_t action_count, va_list actions)
{
    PcRequest *req = pc_request_new(PURPLE_REQUEST_ACTION, "action", NULL, NULL,
                                     user_data);
    GPtrArray *labels = g_ptr_array_new();

    req->action_cbs = g_ptr_array_new();
    for (size_t i = 0; i < action_count; i++) {
        const char *label = va_arg(actions, const char *);
        GCallback cb = va_arg(actions, GCallback);

        g_ptr_array_add(labels, (gpointer)pc_str(label));
        g_ptr_array_add(req->action_cbs, (gpointer)cb);
    }
    pc_request_print(req, title, primary, secondary, labels);
    g_ptr_array_free(labels, TRUE);
    return req;
}

static const char *
pc_field_type_name(PurpleRequestFieldType type)
{
    static const char *const names[] = {
        [PURPLE_REQUEST_FIELD_NONE] = "none",
        [PURPLE_REQUEST_FIELD_STRING] = "string",
        [PURPLE_REQUEST_FIELD_INTEGER] = "integer",
        [PURPLE_REQUEST_FIELD_BOOLEAN] = "boolean",
        [PURPLE_REQUEST_FIELD_CHOICE] = "choice",
        [PURPLE_REQUEST_FIELD_LIST] = "list",
        [PURPLE_REQUEST_FIELD_LABEL] = "label",
        [PURPLE_REQUEST_FIELD_IMAGE] = "image",
        [PURPLE_REQUEST_FIELD_ACCOUNT] = "account",
    };

    if ((gsize)type < G_N_ELEMENTS(names) && names[type] != NULL)
        return names[type];
    return "other";
}

/* Each field is described as "ID:TYPE:LABEL" after the request header. */
static void *
pc_request_fields(const char *title, const char *primary, const char *secondary,
                  PurpleRequestFields *fields, const char *ok_text,
                  GCallback ok_cb, const char *cancel_text, GCallback cancel_cb,
                  PurpleAccount *account, const char *who,
                  PurpleConversation *conv, void *user_data)
{
    PcRequest *req = pc_request_new(PURPLE_REQUEST_FIELDS, "fields", ok_cb,
                                     cancel_cb, user_data);
    GPtrArray *extra = g_ptr_array_new_with_free_func(g_free);

    req->fields = fields;
    for (GList *g = purple_request_fields_get_groups(fields); g; g = g->next) {
        for (GList *f = purple_request_field_group_get_fields(g->data); f;
             f = f->next) {
            PurpleRequestField *field = f->data;

            g_ptr_array_add(extra, g_strdup_printf("%s:%s:%s",
                    pc_str(purple_request_field_get_id(field)),
                    pc_field_type_name(purple_request_field_get_type(field)),
                    pc_str(purple_request_field_get_label(field))));
        }
    }
    pc_request_print(req, title, primary, secondary, extra);
    g_ptr_array_free(extra, TRUE);
    return req;
}

static void
pc_request_close(PurpleRequestType type, void *ui_handle)
{
    PcRequest *req = ui_handle;
    char idstr[16];

    g_snprintf(idstr, sizeof idstr, "%u", req->id);
    g_hash_table_steal(pc_requests, GUINT_TO_POINTER(req->id));
    pc_emit("request-closed", idstr, NULL);
    pc_request_free(req);
}

static PurpleRequestUiOps pc_request_ops = {
    .request_input = pc_request_input,
    .request_choice = pc_request_choice,
    .request_action = pc_request_action,
    .request_fields = pc_request_fields,
    .close_request = pc_request_close,
};

/* ------------------------------------------------------------------ */
/* plugin signals                                                      */

static void
pc_otr_level_changed(PurpleConversation *conv, guint level, gpointer data)
{
    char levelstr[16];

    g_snprintf(levelstr, sizeof levelstr, "%u", level);
    pc_emit("level", conv ? purple_conversation_get_name(conv) : "", levelstr,
            NULL);
}

static void
pc_otr_keygen(PurpleAccount *account, guint state, gpointer data)
{
    char statestr[16];

    g_snprintf(statestr, sizeof statestr, "%u", state);
    pc_emit("keygen", account ? purple_account_get_username(account) : "",
            statestr, NULL);
}

static void
pc_otr_smp_event(PurpleConversation *conv, int event, int progress,
                 gpointer data)
{
    char eventstr[16];
    char progressstr[16];

    g_snprintf(eventstr, sizeof eventstr, "%d", event);
    g_snprintf(progressstr, sizeof progressstr, "%d", progress);
    pc_emit("smp", conv ? purple_conversation_get_name(conv) : "", eventstr,
            progressstr, NULL);
}

static void
pc_otr_fingerprints_changed(gpointer data)
{
    pc_emit("fingerprints-changed", NULL);
}

/* The core plugin's signals, when it has them (purple_signal_connect just
 * returns 0 and logs for a signal that is not registered). */
static void
pc_connect_otr_signals(PurplePlugin *plugin)
{
    static const struct {
        const char *name;
        PurpleCallback cb;
    } sigs[] = {
        { "level-changed", PURPLE_CALLBACK(pc_otr_level_changed) },
        { "key-generation", PURPLE_CALLBACK(pc_otr_keygen) },
        { "smp-event", PURPLE_CALLBACK(pc_otr_smp_event) },
        { "fingerprints-changed", PURPLE_CALLBACK(pc_otr_fingerprints_changed) },
    };

    for (gsize i = 0; i < G_N_ELEMENTS(sigs); i++)
        purple_signal_connect(plugin, sigs[i].name, &pc_handle, sigs[i].cb,
                              NULL);
}

static void
pc_plugin_loaded(PurplePlugin *plugin, gpointer data)
{
    const char *id = purple_plugin_get_id(plugin);

    if (g_strcmp0(id, PC_OTR_PLUGIN_ID) == 0)
        pc_connect_otr_signals(plugin);
    pc_emit("plugin-loaded", pc_str(id), NULL);
}

static void
pc_plugin_unloaded(PurplePlugin *plugin, gpointer data)
{
    pc_emit("plugin-unloaded", pc_str(purple_plugin_get_id(plugin)), NULL);
}

/* Load a probed plugin by id; prints plugin-loaded (from the signal, or
 * here if it was loaded already) or plugin-error. */
static gboolean
pc_load_plugin(const char *id)
{
    PurplePlugin *plugin = purple_plugins_find_with_id(id);

    if (plugin == NULL) {
        pc_emit("plugin-error", id, "plugin not found", NULL);
        return FALSE;
    }
    if (purple_plugin_is_loaded(plugin)) {
        pc_emit("plugin-loaded", id, NULL);
        return TRUE;
    }
    if (!purple_plugin_load(plugin)) {
        pc_emit("plugin-error", id,
                plugin->error ? plugin->error : "load failed", NULL);
        return FALSE;
    }
    return TRUE;
}

/* ------------------------------------------------------------------ */
/* flush barrier: an XMPP ping; its answer proves the server has       */
/* processed everything this client sent before it                     */

static gboolean
pc_is_irc(void)
{
    return g_strcmp0(pc_opts.protocol, "prpl-irc") == 0;
}

static gboolean
pc_send_ping(void)
{
    PurpleConnection *gc = NULL;
    PurplePluginProtocolInfo *prpl_info = NULL;
    const char *user = NULL;
    char *domain = NULL;
    char *id = NULL;
    char *iq = NULL;
    gboolean ok = FALSE;

    if (pc_account == NULL || !purple_account_is_connected(pc_account))
        goto cleanup;
    gc = purple_account_get_connection(pc_account);
    prpl_info = PURPLE_PLUGIN_PROTOCOL_INFO(purple_connection_get_prpl(gc));
    if (prpl_info == NULL || prpl_info->send_raw == NULL)
        goto cleanup;
    if (pc_is_irc()) {
        /* IRC: the server answers PING in order, after every line before */
        id = g_strdup_printf("purple-client-flush-%u", pc_next_ping_id++);
        iq = g_strdup_printf("PING :%s\r\n", id);
        g_hash_table_add(pc_pings, id);
        id = NULL;
        ok = prpl_info->send_raw(gc, iq, (int)strlen(iq)) >= 0;
        goto cleanup;
    }
    user = purple_account_get_username(pc_account);
    domain = g_strdup(strchr(user, '@') ? strchr(user, '@') + 1 : user);
    domain[strcspn(domain, "/")] = '\0';
    id = g_strdup_printf("purple-client-flush-%u", pc_next_ping_id++);
    iq = g_markup_printf_escaped("<iq type='get' id='%s' to='%s'>"
                                 "<ping xmlns='urn:xmpp:ping'/></iq>",
                                 id, domain);
    g_hash_table_add(pc_pings, id);
    id = NULL;
    ok = prpl_info->send_raw(gc, iq, (int)strlen(iq)) >= 0;

cleanup:
    g_free(domain);
    g_free(id);
    g_free(iq);
    return ok;
}

static void
pc_jabber_receiving(PurpleConnection *gc, xmlnode **packet, gpointer data)
{
    const char *id = NULL;

    if (packet == NULL || *packet == NULL
        || g_strcmp0((*packet)->name, "iq") != 0)
        return;
    id = xmlnode_get_attrib(*packet, "id");
    if (id == NULL || !g_hash_table_remove(pc_pings, id))
        return;
    /* ours: a NULL packet tells prpl-jabber to stop processing it */
    xmlnode_free(*packet);
    *packet = NULL;
    if (pc_quit_barrier) {
        if (g_hash_table_size(pc_pings) == 0 && pc_barrier_loop != NULL)
            g_main_loop_quit(pc_barrier_loop);
        return;
    }
    pc_emit("flushed",
            purple_account_get_username(purple_connection_get_account(gc)),
            NULL);
}

/* IRC: every line the server relays (with irc-trace on), and the answers
 * to our flush PINGs (":server PONG server :purple-client-flush-N"). The
 * answer stays in libpurple's way: its PONG handler ignores a token
 * without a space. */
static void
pc_irc_receiving(PurpleConnection *gc, char **text, gpointer data)
{
    const char *token = NULL;
    char *id = NULL;

    if (text == NULL || *text == NULL)
        return;
    if (pc_irc_trace)
        pc_emit("irc-in", *text, NULL);
    token = strstr(*text, " PONG ") != NULL ? strstr(*text, ":purple-client-flush-") : NULL;
    if (token == NULL)
        return;
    id = g_strndup(token + 1, strcspn(token + 1, " \r\n"));
    if (g_hash_table_remove(pc_pings, id)) {
        if (pc_quit_barrier) {
            if (g_hash_table_size(pc_pings) == 0 && pc_barrier_loop != NULL)
                g_main_loop_quit(pc_barrier_loop);
        } else {
            pc_emit("flushed",
                    purple_account_get_username(purple_connection_get_account(gc)), NULL);
        }
    }
    g_free(id);
}

static gboolean
pc_barrier_timeout(gpointer data)
{
    pc_barrier_timer = 0;
    g_main_loop_quit(pc_barrier_loop);
    return FALSE;
}

/* "quitting" handler, run after every plugin's: whatever they sent on
 * their way out reaches the server before libpurple closes the stream. */
static void
pc_quitting(gpointer data)
{
    pc_quit_barrier = TRUE;
    g_hash_table_remove_all(pc_pings);
    if (!pc_send_ping())
        return;
    pc_barrier_loop = g_main_loop_new(NULL, FALSE);
    pc_barrier_timer = g_timeout_add(PC_QUIT_FLUSH_MS, pc_barrier_timeout,
                                     NULL);
    g_main_loop_run(pc_barrier_loop);
    if (pc_barrier_timer != 0)
        g_source_remove(pc_barrier_timer);
    pc_barrier_timer = 0;
    g_main_loop_unref(pc_barrier_loop);
    pc_barrier_loop = NULL;
}

/* ------------------------------------------------------------------ */
/* roster and presence                                                 */

static void
pc_buddy_signed_on(PurpleBuddy *buddy, gpointer data)
{
    pc_emit("buddy-signed-on", purple_buddy_get_name(buddy), NULL);
}

static void
pc_buddy_signed_off(PurpleBuddy *buddy, gpointer data)
{
    pc_emit("buddy-signed-off", purple_buddy_get_name(buddy), NULL);
}

/* A presence subscription request: accepted here when auto-authorize is
 * on; otherwise passed on to the UI, which has no dialog for it (the
 * request is left unanswered, as it always was). */
static int
pc_authorization_requested(PurpleAccount *account, const char *user, gpointer data)
{
    if (!pc_auto_authorize || account != pc_account)
        return PURPLE_ACCOUNT_RESPONSE_PASS;
    pc_emit("authorized", pc_str(user), NULL);
    return PURPLE_ACCOUNT_RESPONSE_ACCEPT;
}

/* With xmpp-trace on: every <message/> exactly as it leaves for the
 * server (after every plugin's jabber-sending-xmlnode handler). */
static void
pc_jabber_sending_text(PurpleConnection *gc, char **text, gpointer data)
{
    if (pc_xmpp_trace && text != NULL && *text != NULL
        && g_str_has_prefix(*text, "<message"))
        pc_emit("xmpp-out", *text, NULL);
}

/* ------------------------------------------------------------------ */
/* commands                                                            */

typedef gboolean (*PcCommandFunc)(char **args, guint nargs, char **error);

static PurpleConversation *
pc_find_im(const char *buddy, gboolean create)
{
    PurpleConversation *conv = purple_find_conversation_with_account(
            PURPLE_CONV_TYPE_IM, buddy, pc_account);

    if (conv == NULL && create)
        conv = purple_conversation_new(PURPLE_CONV_TYPE_IM, pc_account, buddy);
    return conv;
}

/* Sign on: enable the account and make "available" the active status
 * (which connects it); connect by hand when the status already was. */
static gboolean
pc_cmd_login(char **args, guint nargs, char **error)
{
    PurpleSavedStatus *status = purple_savedstatus_find_transient_by_type_and_message(
            PURPLE_STATUS_AVAILABLE, NULL);

    if (status == NULL)
        status = purple_savedstatus_new(NULL, PURPLE_STATUS_AVAILABLE);
    purple_account_set_enabled(pc_account, PC_UI_ID, TRUE);
    purple_savedstatus_activate(status);
    if (purple_account_is_disconnected(pc_account))
        purple_account_connect(pc_account);
    return TRUE;
}

/* Sign off (the account stays enabled; `login` connects it again). */
static gboolean
pc_cmd_logout(char **args, guint nargs, char **error)
{
    if (purple_account_is_disconnected(pc_account)) {
        *error = g_strdup("not connected");
        return FALSE;
    }
    purple_account_disconnect(pc_account);
    return TRUE;
}

/* Lose the connection as a network failure does (no sign-off stanzas are
 * sent first; libpurple tears the connection down as for a dead socket).
 * `login` connects again. */
static gboolean
pc_cmd_drop(char **args, guint nargs, char **error)
{
    PurpleConnection *gc = purple_account_get_connection(pc_account);

    if (gc == NULL) {
        *error = g_strdup("not connected");
        return FALSE;
    }
    purple_connection_error_reason(gc, PURPLE_CONNECTION_ERROR_NETWORK_ERROR,
                                   "connection lost (test)");
    return TRUE;
}

static gboolean
pc_cmd_send(char **args, guint nargs, char **error)
{
    PurpleConversation *conv = pc_find_im(args[0], TRUE);

    purple_conv_im_send(PURPLE_CONV_IM(conv), args[1]);
    return TRUE;
}

static const char *
pc_cmd_status_name(PurpleCmdStatus status)
{
    static const char *const names[] = {
        [PURPLE_CMD_STATUS_OK] = "ok",
        [PURPLE_CMD_STATUS_FAILED] = "failed",
        [PURPLE_CMD_STATUS_NOT_FOUND] = "not-found",
        [PURPLE_CMD_STATUS_WRONG_ARGS] = "wrong-args",
        [PURPLE_CMD_STATUS_WRONG_PRPL] = "wrong-prpl",
        [PURPLE_CMD_STATUS_WRONG_TYPE] = "wrong-type",
    };

    if ((gsize)status < G_N_ELEMENTS(names) && names[status] != NULL)
        return names[status];
    return "unknown";
}

static gboolean
pc_cmd_cmd(char **args, guint nargs, char **error)
{
    PurpleConversation *conv = pc_find_im(args[0], TRUE);
    char *markup = g_markup_escape_text(args[1], -1);
    char *cmd_error = NULL;
    PurpleCmdStatus status;

    status = purple_cmd_do_command(conv, args[1], markup, &cmd_error);
    pc_emit("cmd-result", pc_cmd_status_name(status), pc_str(cmd_error), NULL);
    g_free(cmd_error);
    g_free(markup);
    return TRUE;
}

static gboolean
pc_parse_int(const char *s, int *out)
{
    char *end = NULL;
    long v = 0;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < G_MININT || v > G_MAXINT)
        return FALSE;
    *out = (int)v;
    return TRUE;
}

static gboolean
pc_parse_bool(const char *s, gboolean *out, char **error)
{
    if (strcmp(s, "0") == 0 || strcmp(s, "1") == 0) {
        *out = s[0] == '1';
        return TRUE;
    }
    *error = g_strdup_printf("not 0 or 1: %s", s);
    return FALSE;
}

/* libpurple silently ignores setting a pref whose parent doesn't exist or
 * whose type differs; say so instead. A missing pref with an existing
 * parent is created by the setter. */
static gboolean
pc_pref_settable(const char *path, PurplePrefType type, char **error)
{
    char *parent = g_path_get_dirname(path);
    gboolean ok = FALSE;

    if (path[0] != '/')
        *error = g_strdup_printf("not a pref path: %s", path);
    else if (purple_prefs_exists(path) && purple_prefs_get_type(path) != type)
        *error = g_strdup_printf("%s has another type", path);
    else if (!purple_prefs_exists(path) && strcmp(parent, "/") != 0
             && !purple_prefs_exists(parent))
        *error = g_strdup_printf("no pref %s (nor its parent)", path);
    else
        ok = TRUE;
    g_free(parent);
    return ok;
}

static gboolean
pc_cmd_pref_bool(char **args, guint nargs, char **error)
{
    gboolean value = FALSE;

    if (!pc_parse_bool(args[1], &value, error)
        || !pc_pref_settable(args[0], PURPLE_PREF_BOOLEAN, error))
        return FALSE;
    purple_prefs_set_bool(args[0], value);
    return TRUE;
}

static gboolean
pc_cmd_pref_int(char **args, guint nargs, char **error)
{
    int value = 0;

    if (!pc_parse_int(args[1], &value)) {
        *error = g_strdup_printf("not an integer: %s", args[1]);
        return FALSE;
    }
    if (!pc_pref_settable(args[0], PURPLE_PREF_INT, error))
        return FALSE;
    purple_prefs_set_int(args[0], value);
    return TRUE;
}

/* account-int KEY VALUE: an integer setting of the client's account
 * (e.g. otr.max_message_size) */
static gboolean
pc_cmd_account_int(char **args, guint nargs, char **error)
{
    int value = 0;

    if (!pc_parse_int(args[1], &value)) {
        *error = g_strdup_printf("not an integer: %s", args[1]);
        return FALSE;
    }
    purple_account_set_int(pc_account, args[0], value);
    return TRUE;
}

static gboolean
pc_cmd_pref_string(char **args, guint nargs, char **error)
{
    if (!pc_pref_settable(args[0], PURPLE_PREF_STRING, error))
        return FALSE;
    purple_prefs_set_string(args[0], args[1]);
    return TRUE;
}

/* The buddy on the local list (added to group "Buddies" if missing). */
static PurpleBuddy *
pc_local_buddy(const char *name)
{
    PurpleGroup *group = NULL;
    PurpleBuddy *buddy = purple_find_buddy(pc_account, name);

    if (buddy != NULL)
        return buddy;
    group = purple_find_group("Buddies");
    if (group == NULL) {
        group = purple_group_new("Buddies");
        purple_blist_add_group(group, NULL);
    }
    buddy = purple_buddy_new(pc_account, name, NULL);
    purple_blist_add_buddy(buddy, NULL, group, NULL);
    return buddy;
}

static gboolean
pc_cmd_buddy_add(char **args, guint nargs, char **error)
{
    /* local buddy list only: no roster push, no subscription request */
    pc_local_buddy(args[0]);
    return TRUE;
}

/* On the local list and on the server's roster, with a presence
 * subscription request (the peer sees it as an authorization request). */
static gboolean
pc_cmd_buddy_subscribe(char **args, guint nargs, char **error)
{
    if (!purple_account_is_connected(pc_account)) {
        *error = g_strdup("not connected");
        return FALSE;
    }
    purple_account_add_buddy_with_invite(pc_account, pc_local_buddy(args[0]), NULL);
    return TRUE;
}

static gboolean
pc_cmd_auto_authorize(char **args, guint nargs, char **error)
{
    return pc_parse_bool(args[0], &pc_auto_authorize, error);
}

static gboolean
pc_cmd_xmpp_trace(char **args, guint nargs, char **error)
{
    return pc_parse_bool(args[0], &pc_xmpp_trace, error);
}

static gboolean
pc_cmd_irc_trace(char **args, guint nargs, char **error)
{
    return pc_parse_bool(args[0], &pc_irc_trace, error);
}

/* typing BUDDY STATE: what Pidgin and Finch do on a keypress in the
 * input line (serv_send_typing); STATE 0 not typing, 1 typing, 2 paused.
 * Prints "typing-result TIMEOUT" (what the protocol returned). */
static gboolean
pc_cmd_typing(char **args, guint nargs, char **error)
{
    PurpleConnection *gc = purple_account_get_connection(pc_account);
    int state = 0;
    char result[16];

    if (gc == NULL || !pc_parse_int(args[1], &state) || state < 0 || state > 2) {
        *error = g_strdup(gc == NULL ? "not connected" : "state is 0, 1 or 2");
        return FALSE;
    }
    g_snprintf(result, sizeof result, "%u",
               serv_send_typing(gc, args[0], (PurpleTypingState)state));
    pc_emit("typing-result", result, NULL);
    return TRUE;
}

static gboolean
pc_cmd_blist_setting_bool(char **args, guint nargs, char **error)
{
    PurpleBuddy *buddy = purple_find_buddy(pc_account, args[0]);
    gboolean value = FALSE;

    if (buddy == NULL) {
        *error = g_strdup_printf("no such buddy: %s", args[0]);
        return FALSE;
    }
    if (!pc_parse_bool(args[2], &value, error))
        return FALSE;
    purple_blist_node_set_bool((PurpleBlistNode *)buddy, args[1], value);
    return TRUE;
}

static gboolean
pc_cmd_conv_close(char **args, guint nargs, char **error)
{
    PurpleConversation *conv = pc_find_im(args[0], FALSE);

    if (conv == NULL) {
        *error = g_strdup_printf("no conversation with %s", args[0]);
        return FALSE;
    }
    purple_conversation_destroy(conv);
    return TRUE;
}

static gboolean
pc_cmd_plugin_load(char **args, guint nargs, char **error)
{
    return pc_load_plugin(args[0]);
}

static gboolean
pc_cmd_plugin_unload(char **args, guint nargs, char **error)
{
    PurplePlugin *plugin = purple_plugins_find_with_id(args[0]);

    if (plugin == NULL || !purple_plugin_is_loaded(plugin)) {
        *error = g_strdup_printf("not loaded: %s", args[0]);
        return FALSE;
    }
    if (!purple_plugin_unload(plugin)) {
        *error = g_strdup_printf("unload failed: %s",
                                 plugin->error ? plugin->error : args[0]);
        return FALSE;
    }
    return TRUE;
}

static PcRequest *
pc_find_request(const char *idstr, char **error)
{
    int id = 0;
    PcRequest *req = NULL;

    if (pc_parse_int(idstr, &id) && id > 0)
        req = g_hash_table_lookup(pc_requests, GUINT_TO_POINTER((guint)id));
    if (req == NULL)
        *error = g_strdup_printf("no pending request %s", idstr);
    return req;
}

/* After a callback ran, close the request unless the callback did. */
static void
pc_request_done(guint id, PurpleRequestType type, PcRequest *req)
{
    if (g_hash_table_lookup(pc_requests, GUINT_TO_POINTER(id)) == req)
        purple_request_close(type, req);
}

static gboolean
pc_answer_index(PcRequest *req, const char *value, char **error)
{
    int index = 0;
    guint count = req->action_cbs ? req->action_cbs->len
                                  : req->choice_values->len;

    if (!pc_parse_int(value, &index) || index < 0 || (guint)index >= count) {
        *error = g_strdup_printf("bad index %s (0..%u)", value, count);
        return FALSE;
    }
    if (req->action_cbs != NULL) {
        PurpleRequestActionCb cb =
                (PurpleRequestActionCb)g_ptr_array_index(req->action_cbs, index);

        if (cb != NULL)
            cb(req->user_data, index);
    } else if (req->ok_cb != NULL) {
        ((PurpleRequestChoiceCb)req->ok_cb)(req->user_data,
                g_array_index(req->choice_values, int, index));
    }
    return TRUE;
}

static gboolean
pc_cmd_request_answer(char **args, guint nargs, char **error)
{
    PcRequest *req = pc_find_request(args[0], error);
    guint id = 0;
    PurpleRequestType type;

    if (req == NULL)
        return FALSE;
    id = req->id;
    type = req->type;
    if (type == PURPLE_REQUEST_ACTION || type == PURPLE_REQUEST_CHOICE) {
        if (!pc_answer_index(req, args[1], error))
            return FALSE;
    } else if (type == PURPLE_REQUEST_INPUT) {
        if (req->ok_cb != NULL)
            ((PurpleRequestInputCb)req->ok_cb)(req->user_data, args[1]);
    } else if (type == PURPLE_REQUEST_FIELDS) {
        GCallback cb = strcmp(args[1], "ok") == 0 ? req->ok_cb : req->cancel_cb;

        if (strcmp(args[1], "ok") != 0 && strcmp(args[1], "cancel") != 0) {
            *error = g_strdup("fields requests take ok or cancel");
            return FALSE;
        }
        if (cb != NULL)
            ((PurpleRequestFieldsCb)cb)(req->user_data, req->fields);
    }
    pc_request_done(id, type, req);
    return TRUE;
}

static gboolean
pc_cmd_request_cancel(char **args, guint nargs, char **error)
{
    PcRequest *req = pc_find_request(args[0], error);
    guint id = 0;
    PurpleRequestType type;

    if (req == NULL)
        return FALSE;
    id = req->id;
    type = req->type;
    if (req->cancel_cb != NULL) {
        if (type == PURPLE_REQUEST_INPUT)
            ((PurpleRequestInputCb)req->cancel_cb)(req->user_data, NULL);
        else if (type == PURPLE_REQUEST_CHOICE)
            ((PurpleRequestChoiceCb)req->cancel_cb)(req->user_data, -1);
        else if (type == PURPLE_REQUEST_FIELDS)
            ((PurpleRequestFieldsCb)req->cancel_cb)(req->user_data, req->fields);
    }
    pc_request_done(id, type, req);
    return TRUE;
}

static gboolean
pc_set_field(PurpleRequestField *field, const char *value, char **error)
{
    int number = 0;

    switch (purple_request_field_get_type(field)) {
    case PURPLE_REQUEST_FIELD_STRING:
        purple_request_field_string_set_value(field, value);
        return TRUE;
    case PURPLE_REQUEST_FIELD_INTEGER:
    case PURPLE_REQUEST_FIELD_BOOLEAN:
    case PURPLE_REQUEST_FIELD_CHOICE:
        if (!pc_parse_int(value, &number))
            break;
        if (purple_request_field_get_type(field) == PURPLE_REQUEST_FIELD_INTEGER)
            purple_request_field_int_set_value(field, number);
        else if (purple_request_field_get_type(field) == PURPLE_REQUEST_FIELD_BOOLEAN)
            purple_request_field_bool_set_value(field, number != 0);
        else
            purple_request_field_choice_set_value(field, number);
        return TRUE;
    default:
        break;
    }
    *error = g_strdup_printf("cannot set field to %s", value);
    return FALSE;
}

static gboolean
pc_cmd_request_field(char **args, guint nargs, char **error)
{
    PcRequest *req = pc_find_request(args[0], error);
    PurpleRequestField *field = NULL;

    if (req == NULL)
        return FALSE;
    if (req->fields != NULL)
        field = purple_request_fields_get_field(req->fields, args[1]);
    if (field == NULL) {
        *error = g_strdup_printf("request %s has no field %s", args[0], args[1]);
        return FALSE;
    }
    return pc_set_field(field, args[2], error);
}

/* selftest-request KIND / selftest-notify: libpurple requests and notices
 * raised by the client itself, so the harness can prove its request and
 * notify plumbing without any plugin. Callbacks print
 * "selftest-result KIND VALUE". */
static int pc_selftest_handle;

static void
pc_selftest_input_ok(void *data, const char *text)
{
    pc_emit("selftest-result", "input", pc_str(text), NULL);
}

static void
pc_selftest_input_cancel(void *data, const char *text)
{
    pc_emit("selftest-result", "input", "(cancelled)", NULL);
}

static void
pc_selftest_int(const char *kind, int value)
{
    char valuestr[16];

    g_snprintf(valuestr, sizeof valuestr, "%d", value);
    pc_emit("selftest-result", kind, valuestr, NULL);
}

static void
pc_selftest_choice_ok(void *data, int value)
{
    pc_selftest_int("choice", value);
}

static void
pc_selftest_action(void *data, int index)
{
    pc_selftest_int("action", index);
}

static void
pc_selftest_fields_ok(void *data, PurpleRequestFields *fields)
{
    char *value = g_strdup_printf("name=%s flag=%d",
            pc_str(purple_request_fields_get_string(fields, "name")),
            purple_request_fields_get_bool(fields, "flag"));

    pc_emit("selftest-result", "fields", value, NULL);
    g_free(value);
}

static void
pc_selftest_fields_cancel(void *data, PurpleRequestFields *fields)
{
    pc_emit("selftest-result", "fields", "(cancelled)", NULL);
}

static PurpleRequestFields *
pc_selftest_fields_new(void)
{
    PurpleRequestFields *fields = purple_request_fields_new();
    PurpleRequestFieldGroup *group = purple_request_field_group_new(NULL);

    purple_request_field_group_add_field(group,
            purple_request_field_string_new("name", "Name", "default", FALSE));
    purple_request_field_group_add_field(group,
            purple_request_field_bool_new("flag", "Flag", FALSE));
    purple_request_fields_add_group(fields, group);
    return fields;
}

static gboolean
pc_cmd_selftest_request(char **args, guint nargs, char **error)
{
    const char *kind = args[0];
    void *handle = &pc_selftest_handle;

    if (strcmp(kind, "input") == 0)
        purple_request_input(handle, "Title", "Primary", "Secondary",
                "default", FALSE, FALSE, NULL, "OK",
                G_CALLBACK(pc_selftest_input_ok), "Cancel",
                G_CALLBACK(pc_selftest_input_cancel), pc_account, NULL, NULL,
                NULL);
    else if (strcmp(kind, "choice") == 0)
        purple_request_choice(handle, "Title", "Primary", "Secondary", 20,
                "OK", G_CALLBACK(pc_selftest_choice_ok), "Cancel", NULL,
                pc_account, NULL, NULL, NULL, "red", 10, "green", 20, NULL);
    else if (strcmp(kind, "action") == 0)
        purple_request_action(handle, "Title", "Primary", "Secondary", 0,
                pc_account, NULL, NULL, NULL, 3,
                "Zero", G_CALLBACK(pc_selftest_action),
                "One", G_CALLBACK(pc_selftest_action),
                "Two", G_CALLBACK(pc_selftest_action));
    else if (strcmp(kind, "fields") == 0)
        purple_request_fields(handle, "Title", "Primary", "Secondary",
                pc_selftest_fields_new(), "OK",
                G_CALLBACK(pc_selftest_fields_ok), "Cancel",
                G_CALLBACK(pc_selftest_fields_cancel), pc_account, NULL, NULL,
                NULL);
    else if (strcmp(kind, "close-all") == 0)
        purple_request_close_with_handle(handle);
    else {
        *error = g_strdup_printf("unknown request kind %s", kind);
        return FALSE;
    }
    return TRUE;
}

static gboolean
pc_cmd_selftest_notify(char **args, guint nargs, char **error)
{
    purple_notify_info(&pc_selftest_handle, "Title", "Primary", "Secondary");
    purple_notify_formatted(&pc_selftest_handle, "Title", "Primary",
                            "Secondary", "<b>text</b>", NULL, NULL);
    return TRUE;
}

static gboolean
pc_cmd_flush(char **args, guint nargs, char **error)
{
    if (!pc_send_ping()) {
        *error = g_strdup("not connected");
        return FALSE;
    }
    return TRUE;
}

static gboolean
pc_cmd_quit(char **args, guint nargs, char **error)
{
    g_main_loop_quit(pc_loop);
    return TRUE;
}

typedef struct {
    const char *name;
    guint nargs;
    PcCommandFunc func;
} PcCommand;

static const PcCommand pc_commands[] = {
    { "login", 0, pc_cmd_login },
    { "logout", 0, pc_cmd_logout },
    { "drop", 0, pc_cmd_drop },
    { "send", 2, pc_cmd_send },
    { "cmd", 2, pc_cmd_cmd },
    { "pref-bool", 2, pc_cmd_pref_bool },
    { "pref-int", 2, pc_cmd_pref_int },
    { "pref-string", 2, pc_cmd_pref_string },
    { "account-int", 2, pc_cmd_account_int },
    { "buddy-add", 1, pc_cmd_buddy_add },
    { "buddy-subscribe", 1, pc_cmd_buddy_subscribe },
    { "auto-authorize", 1, pc_cmd_auto_authorize },
    { "xmpp-trace", 1, pc_cmd_xmpp_trace },
    { "irc-trace", 1, pc_cmd_irc_trace },
    { "typing", 2, pc_cmd_typing },
    { "blist-setting-bool", 3, pc_cmd_blist_setting_bool },
    { "conv-close", 1, pc_cmd_conv_close },
    { "plugin-load", 1, pc_cmd_plugin_load },
    { "plugin-unload", 1, pc_cmd_plugin_unload },
    { "request-answer", 2, pc_cmd_request_answer },
    { "request-cancel", 1, pc_cmd_request_cancel },
    { "request-field", 3, pc_cmd_request_field },
    { "flush", 0, pc_cmd_flush },
    { "selftest-request", 1, pc_cmd_selftest_request },
    { "selftest-notify", 0, pc_cmd_selftest_notify },
    { "quit", 0, pc_cmd_quit },
};

/* One command line: decode, dispatch, then print "ok NAME" or
 * "error NAME MESSAGE" (the ok comes after the command's own events). */
static void
pc_run_line(const char *line)
{
    char **fields = g_strsplit(line, "\t", -1);
    guint nfields = g_strv_length(fields);
    char *error = NULL;
    const PcCommand *cmd = NULL;

    for (guint i = 0; i < nfields; i++) {
        char *plain = g_strcompress(fields[i]);

        g_free(fields[i]);
        fields[i] = plain;
    }
    for (gsize i = 0; nfields > 0 && i < G_N_ELEMENTS(pc_commands); i++)
        if (strcmp(pc_commands[i].name, fields[0]) == 0)
            cmd = &pc_commands[i];
    if (nfields == 0 || fields[0][0] == '\0') {
        /* empty line: ignore */
    } else if (cmd == NULL) {
        pc_emit("error", fields[0], "unknown command", NULL);
    } else if (nfields - 1 != cmd->nargs) {
        error = g_strdup_printf("expects %u arguments, got %u", cmd->nargs,
                                nfields - 1);
        pc_emit("error", cmd->name, error, NULL);
    } else if (cmd->func(fields + 1, nfields - 1, &error)) {
        pc_emit("ok", cmd->name, NULL);
    } else {
        pc_emit("error", cmd->name, error ? error : "failed", NULL);
    }
    g_free(error);
    g_strfreev(fields);
}

/* One command line (GLib's watch fires again for lines still buffered). */
static gboolean
pc_stdin_ready(GIOChannel *source, GIOCondition cond, gpointer data)
{
    char *line = NULL;
    gsize len = 0;
    GIOStatus status = g_io_channel_read_line(source, &line, &len, NULL, NULL);

    if (status == G_IO_STATUS_AGAIN)
        return TRUE;
    if (status != G_IO_STATUS_NORMAL) {
        /* EOF or error: the harness is gone, quit cleanly */
        g_main_loop_quit(pc_loop);
        pc_stdin_watch = 0;
        return FALSE;
    }
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
        line[--len] = '\0';
    pc_run_line(line);
    g_free(line);
    return TRUE;
}

static gboolean
pc_sigterm(gpointer data)
{
    g_main_loop_quit(pc_loop);
    return TRUE;
}

/* ------------------------------------------------------------------ */
/* setup                                                               */

/* Runs right after the prefs subsystem starts (prefs.xml already read),
 * before the network subsystem would try UPnP and STUN.
 * No network beyond loopback: auto_ip and map_ports off stop UPnP/NAT-PMP
 * discovery; and the STUN server is a loopback IP rather than "", because
 * with no STUN address prpl-jabber looks up _stun._udp.DOMAIN SRV records
 * in DNS after every login. */
static void
pc_ui_prefs_init(void)
{
    purple_prefs_add_none("/purple/network");
    purple_prefs_set_bool("/purple/network/auto_ip", FALSE);
    purple_prefs_set_bool("/purple/network/map_ports", FALSE);
    purple_prefs_set_string("/purple/network/stun_server", "127.0.0.1");
    purple_prefs_set_string("/purple/network/turn_server", "");
    purple_prefs_set_string("/purple/network/public_ip", "127.0.0.1");
}

/* A fresh userdir gets an empty prefs.xml, or libpurple would read the
 * system-wide /etc/purple/prefs.xml instead. */
static void
pc_seed_prefs(void)
{
    char *path = g_build_filename(pc_opts.userdir, "prefs.xml", NULL);

    if (!g_file_test(path, G_FILE_TEST_EXISTS))
        g_file_set_contents(path, "<?xml version='1.0' encoding='UTF-8' ?>\n"
                            "<pref version='1' name='/'/>\n", -1, NULL);
    g_free(path);
}

static void
pc_ui_init(void)
{
    purple_conversations_set_ui_ops(&pc_conv_ops);
    purple_connections_set_ui_ops(&pc_conn_ops);
    purple_notify_set_ui_ops(&pc_notify_ops);
    purple_request_set_ui_ops(&pc_request_ops);
}

static PurpleCoreUiOps pc_core_ops = {
    .ui_prefs_init = pc_ui_prefs_init,
    .ui_init = pc_ui_init,
};

static void
pc_set_prefs(void)
{
    purple_prefs_set_string("/purple/proxy/type", "none");
    purple_prefs_set_string("/purple/away/idle_reporting", "none");
    purple_prefs_set_bool("/purple/logging/log_ims", pc_opts.log);
    purple_prefs_set_bool("/purple/logging/log_chats", pc_opts.log);
    purple_prefs_set_bool("/purple/logging/log_system", FALSE);
    if (pc_opts.log)
        purple_prefs_set_string("/purple/logging/format", "txt");
}

static void
pc_connect_signals(void)
{
    PurplePlugin *jabber = purple_plugins_find_with_id("prpl-jabber");
    void *conns = purple_connections_get_handle();

    purple_signal_connect(conns, "signed-on", &pc_handle,
                          PURPLE_CALLBACK(pc_signed_on), NULL);
    purple_signal_connect(conns, "signed-off", &pc_handle,
                          PURPLE_CALLBACK(pc_signed_off), NULL);
    purple_signal_connect(purple_conversations_get_handle(),
                          "deleting-conversation", &pc_handle,
                          PURPLE_CALLBACK(pc_conv_deleting), NULL);
    purple_signal_connect(purple_plugins_get_handle(), "plugin-load",
                          &pc_handle, PURPLE_CALLBACK(pc_plugin_loaded), NULL);
    purple_signal_connect(purple_plugins_get_handle(), "plugin-unload",
                          &pc_handle, PURPLE_CALLBACK(pc_plugin_unloaded), NULL);
    purple_signal_connect_priority(purple_get_core(), "quitting", &pc_handle,
                                   PURPLE_CALLBACK(pc_quitting), NULL,
                                   PURPLE_SIGNAL_PRIORITY_HIGHEST);
    purple_signal_connect(purple_blist_get_handle(), "buddy-signed-on",
                          &pc_handle, PURPLE_CALLBACK(pc_buddy_signed_on), NULL);
    purple_signal_connect(purple_blist_get_handle(), "buddy-signed-off",
                          &pc_handle, PURPLE_CALLBACK(pc_buddy_signed_off), NULL);
    purple_signal_connect(purple_accounts_get_handle(),
                          "account-authorization-requested", &pc_handle,
                          PURPLE_CALLBACK(pc_authorization_requested), NULL);
    if (purple_find_prpl("prpl-irc") != NULL)
        purple_signal_connect(purple_find_prpl("prpl-irc"), "irc-receiving-text", &pc_handle,
                              PURPLE_CALLBACK(pc_irc_receiving), NULL);
    if (jabber != NULL) {
        purple_signal_connect(jabber, "jabber-receiving-xmlnode", &pc_handle,
                              PURPLE_CALLBACK(pc_jabber_receiving), NULL);
        purple_signal_connect(jabber, "jabber-sending-text", &pc_handle,
                              PURPLE_CALLBACK(pc_jabber_sending_text), NULL);
    }
}

/* IRC (--protocol prpl-irc): --jid is "nick@server"; the server is on
 * 127.0.0.1 without TLS, and libpurple's flood protection (one line
 * every 2 seconds) is off, as a loopback server needs none. */
static void
pc_setup_irc_account(void)
{
    char *nick = g_strndup(pc_opts.jid, strcspn(pc_opts.jid, "@"));

    pc_account = purple_accounts_find(pc_opts.jid, "prpl-irc");
    if (pc_account == NULL) {
        pc_account = purple_account_new(pc_opts.jid, "prpl-irc");
        purple_accounts_add(pc_account);
    }
    purple_account_set_int(pc_account, "port", pc_opts.port);
    purple_account_set_bool(pc_account, "ssl", FALSE);
    purple_account_set_string(pc_account, "encoding", "UTF-8");
    purple_account_set_string(pc_account, "username", nick);
    purple_account_set_string(pc_account, "realname", nick);
    purple_account_set_int(pc_account, "ratelimit-interval", 0);
    purple_account_set_int(pc_account, "ratelimit-burst", 1000);
    if (*pc_opts.password != '\0') {
        purple_account_set_remember_password(pc_account, TRUE);
        purple_account_set_password(pc_account, pc_opts.password);
    }
    g_free(nick);
}

static void
pc_setup_account(void)
{
    if (pc_is_irc()) {
        pc_setup_irc_account();
        return;
    }
    pc_account = purple_accounts_find(pc_opts.jid, "prpl-jabber");
    if (pc_account == NULL) {
        pc_account = purple_account_new(pc_opts.jid, "prpl-jabber");
        purple_accounts_add(pc_account);
    }
    purple_account_set_remember_password(pc_account, TRUE);
    purple_account_set_password(pc_account, pc_opts.password);
    purple_account_set_string(pc_account, "connect_server", "127.0.0.1");
    purple_account_set_int(pc_account, "port", pc_opts.port);
    purple_account_set_string(pc_account, "connection_security",
                              "opportunistic_tls");
    purple_account_set_bool(pc_account, "auth_plain_in_clear", TRUE);
}

static gboolean
pc_parse_options(int argc, char **argv)
{
    GError *error = NULL;
    char **search_paths = NULL;
    char **plugins = NULL;
    GOptionEntry entries[] = {
        { "userdir", 0, 0, G_OPTION_ARG_FILENAME, &pc_opts.userdir,
          "libpurple user directory (use a temp dir)", "DIR" },
        { "plugin-dir", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &search_paths,
          "extra plugin search path", "DIR" },
        { "plugin", 0, 0, G_OPTION_ARG_STRING_ARRAY, &plugins,
          "load the plugin with this id", "ID" },
        { "jid", 0, 0, G_OPTION_ARG_STRING, &pc_opts.jid,
          "account, user@host/resource", "JID" },
        { "password", 0, 0, G_OPTION_ARG_STRING, &pc_opts.password,
          "account password", "PW" },
        { "port", 0, 0, G_OPTION_ARG_INT, &pc_opts.port,
          "XMPP server port on 127.0.0.1", "N" },
        { "protocol", 0, 0, G_OPTION_ARG_STRING, &pc_opts.protocol,
          "prpl-jabber (default) or prpl-irc (--jid nick@server)", "ID" },
        { "log", 0, 0, G_OPTION_ARG_NONE, &pc_opts.log,
          "log IMs as text under USERDIR/logs", NULL },
        { NULL }
    };
    GOptionContext *ctx = g_option_context_new("- libpurple test client");
    gboolean ok = FALSE;

    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
        fprintf(stderr, "purple-client: %s\n", error->message);
        g_error_free(error);
    } else if (pc_opts.userdir == NULL || pc_opts.jid == NULL
               || pc_opts.password == NULL || pc_opts.port <= 0) {
        fprintf(stderr, "purple-client: --userdir, --jid, --password and "
                "--port are required\n");
    } else {
        ok = TRUE;
    }
    pc_opts.plugin_search_paths = g_ptr_array_new_with_free_func(g_free);
    pc_opts.plugins = g_ptr_array_new_with_free_func(g_free);
    for (guint i = 0; search_paths && search_paths[i]; i++)
        g_ptr_array_add(pc_opts.plugin_search_paths, search_paths[i]);
    for (guint i = 0; plugins && plugins[i]; i++)
        g_ptr_array_add(pc_opts.plugins, plugins[i]);
    g_free(search_paths);   /* strings now owned by the arrays */
    g_free(plugins);
    g_option_context_free(ctx);
    return ok;
}

/* Keep fd 1 for the protocol only: events go to a private duplicate and
 * fd 1 becomes stderr for anything else that prints. */
static gboolean
pc_setup_output(void)
{
    int fd = dup(STDOUT_FILENO);

    if (fd < 0 || (pc_out = fdopen(fd, "w")) == NULL)
        return FALSE;
    if (dup2(STDERR_FILENO, STDOUT_FILENO) < 0)
        return FALSE;
    return TRUE;
}

int
main(int argc, char **argv)
{
    GIOChannel *in = NULL;

    signal(SIGPIPE, SIG_IGN);
    /* why opt-in: the other tests match English lines whatever the machine's
     * locale; the translation tests ask for the user's language, as a UI does */
    if (g_getenv("PURPLE_CLIENT_LOCALE") != NULL)
        setlocale(LC_ALL, "");
    if (!pc_parse_options(argc, argv))
        return 2;
    if (!pc_setup_output()) {
        perror("purple-client: stdout");
        return 2;
    }
    pc_requests = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL,
                                        (GDestroyNotify)pc_request_free);
    pc_pings = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    pc_loop = g_main_loop_new(NULL, FALSE);

    purple_util_set_user_dir(pc_opts.userdir);
    pc_seed_prefs();
    if (g_strcmp0(g_getenv("PURPLE_CLIENT_DEBUG"), "1") == 0)
        purple_debug_set_ui_ops(&pc_debug_ops);
    for (guint i = 0; i < pc_opts.plugin_search_paths->len; i++)
        purple_plugins_add_search_path(
                g_ptr_array_index(pc_opts.plugin_search_paths, i));
    purple_core_set_ui_ops(&pc_core_ops);
    purple_eventloop_set_ui_ops(potr_test_eventloop());
    if (!purple_core_init(PC_UI_ID)) {
        fprintf(stderr, "purple-client: libpurple initialisation failed\n");
        return 1;
    }
    purple_set_blist(purple_blist_new());
    purple_blist_load();
    pc_set_prefs();
    pc_connect_signals();
    pc_setup_account();
    for (guint i = 0; i < pc_opts.plugins->len; i++)
        pc_load_plugin(g_ptr_array_index(pc_opts.plugins, i));

    in = g_io_channel_unix_new(STDIN_FILENO);
    g_io_channel_set_encoding(in, NULL, NULL);
    pc_stdin_watch = g_io_add_watch(in, G_IO_IN | G_IO_HUP | G_IO_ERR,
                                    pc_stdin_ready, NULL);
    g_unix_signal_add(SIGTERM, pc_sigterm, NULL);
    g_unix_signal_add(SIGINT, pc_sigterm, NULL);
    pc_emit("ready", NULL);

    g_main_loop_run(pc_loop);

    /* no more commands while libpurple shuts down */
    if (pc_stdin_watch != 0)
        g_source_remove(pc_stdin_watch);
    purple_core_quit();
    pc_emit("bye", NULL);
    fclose(pc_out);
    g_io_channel_unref(in);
    g_main_loop_unref(pc_loop);
    g_hash_table_destroy(pc_pings);
    g_hash_table_destroy(pc_requests);
    g_ptr_array_free(pc_opts.plugin_search_paths, TRUE);
    g_ptr_array_free(pc_opts.plugins, TRUE);
    g_free(pc_opts.userdir);
    g_free(pc_opts.jid);
    g_free(pc_opts.password);
    g_free(pc_opts.protocol);
    return 0;
}
