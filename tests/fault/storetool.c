/* purple-otr - GPL-2.0-or-later
 * Test helper: drives the store (src/core/file.c, keys.c, fingerprints.c,
 * instags.c) from outside, for the
 * crash, fault and two-program tests:
 *
 *   storetool show-libotr DIR    the three files as libotr's readers see them
 *   storetool show-store DIR     the same through the store's readers
 *   storetool check DIR          both readers agree on complete files, modes
 *                                are 0600; then the start-up clean-up runs:
 *                                prints "temps N" (before) and "left N" (after)
 *   storetool loop DIR KEYS_A KEYS_B   saves fingerprints, instance tags and
 *                                keys in turn, for ever (prints "ready" first)
 *   storetool save DIR KIND [ARG]  one save: KIND fingerprints (ARG: trust of
 *                                "fault@x"), instags, keys (ARG: a key file
 *                                whose keys are written)
 *   storetool keygen DIR ACCOUNT generate a key the way the plugin does
 *
 * "show" prints sorted lines "key ACCOUNT PROTOCOL FINGERPRINT",
 * "fp USER ACCOUNT PROTOCOL HEX TRUST", "tag ACCOUNT PROTOCOL TAG"
 * (fields separated by tabs); exit status 2 if a file cannot be read,
 * 3 if the store skipped a damaged line. Errors go to stderr as the user
 * would read them. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>
#include <libotr/proto.h>
#include <libotr/context.h>
#include <libotr/instag.h>
#include <libotr/privkey.h>
#include <libotr/userstate.h>

#include "potr.h"
#include "store.h"

#define PROTO "prpl-jabber"

typedef struct {
    char *keys;
    char *fprs;
    char *tags;
} Paths;

static void
paths_init(Paths *p, const char *dir)
{
    p->keys = g_build_filename(dir, POTR_FILE_PRIVKEY, NULL);
    p->fprs = g_build_filename(dir, POTR_FILE_FINGERPRINTS, NULL);
    p->tags = g_build_filename(dir, POTR_FILE_INSTAGS, NULL);
}

static void
paths_clear(Paths *p)
{
    g_free(p->keys);
    g_free(p->fprs);
    g_free(p->tags);
}

static gint
cmp_lines(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted canonical lines of what US holds (g_ptr_array_unref). */
static GPtrArray *
describe(OtrlUserState us)
{
    GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
    char human[OTRL_PRIVKEY_FPRINT_HUMAN_LEN];

    for (OtrlPrivKey *k = us->privkey_root; k != NULL; k = k->next) {
        otrl_privkey_fingerprint(us, human, k->accountname, k->protocol);
        g_ptr_array_add(out, g_strdup_printf("key\t%s\t%s\t%s", k->accountname, k->protocol, human));
    }
    for (ConnContext *c = us->context_root; c != NULL; c = c->next) {
        if (c->m_context != c)
            continue;
        for (Fingerprint *f = c->fingerprint_root.next; f != NULL; f = f->next) {
            GString *line = g_string_new(NULL);

            g_string_append_printf(line, "fp\t%s\t%s\t%s\t", c->username, c->accountname, c->protocol);
            for (int i = 0; i < 20; i++)
                g_string_append_printf(line, "%02x", f->fingerprint[i]);
            g_string_append_printf(line, "\t%s", f->trust != NULL ? f->trust : "");
            g_ptr_array_add(out, g_string_free(line, FALSE));
        }
    }
    for (OtrlInsTag *t = us->instag_root; t != NULL; t = t->next)
        g_ptr_array_add(out, g_strdup_printf("tag\t%s\t%s\t%08x", t->accountname, t->protocol,
                                             t->instag));
    g_ptr_array_sort(out, cmp_lines);
    return out;
}

static gboolean
missing_or(const char *path, gcry_error_t err)
{
    return err == 0 || (gcry_err_code_to_errno(gcry_err_code(err)) == ENOENT && !g_file_test(path, G_FILE_TEST_EXISTS));
}

/* libotr's own readers (the oracle); FALSE if one of them failed. */
static gboolean
read_libotr(OtrlUserState us, const Paths *p)
{
    gboolean ok = TRUE;

    ok &= missing_or(p->keys, otrl_privkey_read(us, p->keys));
    ok &= missing_or(p->fprs, otrl_privkey_read_fingerprints(us, p->fprs, NULL, NULL));
    ok &= missing_or(p->tags, otrl_instag_read(us, p->tags));
    return ok;
}

/* The store's readers; 0, 2 (unreadable) or 3 (damaged lines). */
static int
read_store(OtrlUserState us, const Paths *p)
{
    GError *error = NULL;
    guint skipped = 0;
    int status = 0;

    if (!potr_store_load_keys(us, p->keys, &error) ||
        !potr_store_load_fingerprints(us, p->fprs, NULL, NULL, &skipped, &error) ||
        !potr_store_load_instags(us, p->tags, &error)) {
        fprintf(stderr, "%s\n", error->message);
        g_error_free(error);
        status = 2;
    } else if (skipped > 0) {
        status = 3;
    }
    return status;
}

static void
print_lines(GPtrArray *lines)
{
    for (guint i = 0; i < lines->len; i++)
        printf("%s\n", (char *)lines->pdata[i]);
}

static int
cmd_show(const char *dir, gboolean libotr)
{
    OtrlUserState us = otrl_userstate_create();
    GPtrArray *lines = NULL;
    Paths p;
    int status = 0;

    paths_init(&p, dir);
    if (libotr)
        status = read_libotr(us, &p) ? 0 : 2;
    else
        status = read_store(us, &p);
    lines = describe(us);
    print_lines(lines);
    g_ptr_array_unref(lines);
    potr_store_release(us);
    otrl_userstate_free(us);
    paths_clear(&p);
    return status;
}

static guint
count_temps(const char *dir)
{
    GDir *d = g_dir_open(dir, 0, NULL);
    const char *name;
    guint n = 0;

    while (d != NULL && (name = g_dir_read_name(d)) != NULL) {
        if (strstr(name, ".tmp-") != NULL)
            n++;
    }
    if (d != NULL)
        g_dir_close(d);
    return n;
}

static gboolean
mode_ok(const char *path)
{
    struct stat st;

    return stat(path, &st) != 0 ? errno == ENOENT : (st.st_mode & 07777) == 0600;
}

static int
cmd_check(const char *dir)
{
    OtrlUserState theirs = otrl_userstate_create();
    OtrlUserState ours = otrl_userstate_create();
    GPtrArray *a = NULL;
    GPtrArray *b = NULL;
    Paths p;
    int status = 0;
    guint temps;

    paths_init(&p, dir);
    if (!read_libotr(theirs, &p)) {
        printf("libotr could not read the files\n");
        status = 1;
    }
    if (read_store(ours, &p) != 0) {
        printf("the store could not read the files completely\n");
        status = 1;
    }
    a = describe(theirs);
    b = describe(ours);
    if (a->len != b->len) {
        printf("the readers disagree: %u and %u entries\n", a->len, b->len);
        status = 1;
    }
    for (guint i = 0; i < a->len && i < b->len; i++) {
        if (strcmp(a->pdata[i], b->pdata[i]) != 0) {
            printf("the readers disagree: %s / %s\n", (char *)a->pdata[i], (char *)b->pdata[i]);
            status = 1;
        }
    }
    if (!mode_ok(p.keys) || !mode_ok(p.fprs) || !mode_ok(p.tags)) {
        printf("a file is not 0600\n");
        status = 1;
    }
    print_lines(b);
    temps = count_temps(dir);
    /* what the plugin does at start */
    potr_file_cleanup_temps(p.keys);
    potr_file_cleanup_temps(p.fprs);
    potr_file_cleanup_temps(p.tags);
    printf("temps %u\nleft %u\n", temps, count_temps(dir));
    g_ptr_array_unref(a);
    g_ptr_array_unref(b);
    potr_store_release(NULL);
    otrl_userstate_free(ours);
    otrl_userstate_free(theirs);
    paths_clear(&p);
    return status;
}

static gboolean
copy_writer(FILE *fp, gpointer data, GError **error)
{
    return fputs(data, fp) >= 0;
}

/* Write CONTENT (a whole key file) to P's key file the way a key
 * generation's save does (under the lock, atomically), without the
 * seconds a DSA key takes. */
static gboolean
save_keys_from(const Paths *p, const char *content, GError **error)
{
    return potr_file_write_locked(p->keys, copy_writer, (gpointer)content, error);
}

static Fingerprint *
loop_fingerprint(OtrlUserState us, const char *user)
{
    unsigned char raw[20];
    ConnContext *c = otrl_context_find(us, user, "me@x", PROTO, OTRL_INSTAG_MASTER, 1, NULL, NULL, NULL);

    for (int i = 0; i < 20; i++)
        raw[i] = (unsigned char)(i * 7 + strlen(user));
    return otrl_context_find_fingerprint(c, raw, 1, NULL);
}

static int
cmd_loop(const char *dir, const char *keys_a, const char *keys_b)
{
    OtrlUserState us = otrl_userstate_create();
    char *content[2] = { NULL, NULL };
    GError *error = NULL;
    Paths p;

    paths_init(&p, dir);
    if (!g_file_get_contents(keys_a, &content[0], NULL, &error) ||
        !g_file_get_contents(keys_b, &content[1], NULL, &error)) {
        fprintf(stderr, "%s\n", error->message);
        return 1;
    }
    potr_store_load_fingerprints(us, p.fprs, NULL, NULL, NULL, NULL);
    potr_store_load_instags(us, p.tags, NULL);
    printf("ready\n");
    fflush(stdout);
    for (guint i = 0;; i++) {
        switch (i % 3) {
        case 0:
            otrl_context_set_trust(loop_fingerprint(us, "loop@x"), (i / 3) % 2 ? "verified" : "");
            potr_store_save_fingerprints(us, p.fprs, NULL);
            break;
        case 1:
            potr_store_new_instag(us, p.tags, "loop@x", PROTO, NULL);
            break;
        default:
            save_keys_from(&p, content[(i / 3) % 2], NULL);
            break;
        }
    }
    return 0;
}

static int
cmd_save(const char *dir, const char *kind, const char *arg)
{
    OtrlUserState us = otrl_userstate_create();
    GError *error = NULL;
    char *content = NULL;
    gboolean ok = FALSE;
    Paths p;

    paths_init(&p, dir);
    if (strcmp(kind, "fingerprints") == 0) {
        ok = potr_store_load_fingerprints(us, p.fprs, NULL, NULL, NULL, &error);
        if (ok) {
            otrl_context_set_trust(loop_fingerprint(us, "fault@x"), arg != NULL ? arg : "verified");
            ok = potr_store_save_fingerprints(us, p.fprs, &error);
        }
    } else if (strcmp(kind, "instags") == 0) {
        ok = potr_store_load_instags(us, p.tags, &error) &&
             potr_store_new_instag(us, p.tags, "fault@x", PROTO, &error);
    } else if (strcmp(kind, "keys") == 0 && arg != NULL) {
        ok = g_file_get_contents(arg, &content, NULL, &error) && save_keys_from(&p, content, &error);
    } else {
        g_set_error(&error, POTR_ERROR, POTR_ERROR_FAILED, "unknown kind %s", kind);
    }
    if (!ok)
        fprintf(stderr, "%s\n", error->message);
    g_clear_error(&error);
    g_free(content);
    potr_store_release(NULL);
    otrl_userstate_free(us);
    paths_clear(&p);
    return ok ? 0 : 1;
}

typedef struct {
    gboolean done;
    gboolean ok;
    char *message;
} KeygenWait;

static void
keygen_done(const char *accountname, const char *protocol, gboolean ok, const GError *error,
            gpointer data)
{
    KeygenWait *w = data;

    w->done = TRUE;
    w->ok = ok;
    w->message = error != NULL ? g_strdup(error->message) : NULL;
}

static int
cmd_keygen(const char *dir, const char *account)
{
    OtrlUserState us = otrl_userstate_create();
    KeygenWait w = { FALSE, FALSE, NULL };
    GError *error = NULL;
    Paths p;

    paths_init(&p, dir);
    if (!potr_store_load_keys(us, p.keys, &error) ||
        !potr_store_keygen_start(us, p.keys, account, PROTO, keygen_done, &w, &error)) {
        fprintf(stderr, "%s\n", error->message);
        return 1;
    }
    while (!w.done)
        g_main_context_iteration(NULL, TRUE);
    if (!w.ok)
        fprintf(stderr, "%s\n", w.message);
    g_free(w.message);
    potr_store_release(NULL);
    otrl_userstate_free(us);
    paths_clear(&p);
    return w.ok ? 0 : 1;
}

int
main(int argc, char **argv)
{
    if (otrl_init(OTRL_VERSION_MAJOR, OTRL_VERSION_MINOR, OTRL_VERSION_SUB) != 0)
        return 99;
    if (argc >= 3 && strcmp(argv[1], "show-libotr") == 0)
        return cmd_show(argv[2], TRUE);
    if (argc >= 3 && strcmp(argv[1], "show-store") == 0)
        return cmd_show(argv[2], FALSE);
    if (argc >= 3 && strcmp(argv[1], "check") == 0)
        return cmd_check(argv[2]);
    if (argc >= 5 && strcmp(argv[1], "loop") == 0)
        return cmd_loop(argv[2], argv[3], argv[4]);
    if (argc >= 4 && strcmp(argv[1], "save") == 0)
        return cmd_save(argv[2], argv[3], argc >= 5 ? argv[4] : NULL);
    if (argc >= 4 && strcmp(argv[1], "keygen") == 0)
        return cmd_keygen(argv[2], argv[3]);
    fprintf(stderr, "usage: see the top of tests/fault/storetool.c\n");
    return 64;
}
