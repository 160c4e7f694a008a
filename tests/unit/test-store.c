/* purple-otr - GPL-2.0-or-later
 * Unit tests of the store (src/core/file.c, keys.c, fingerprints.c,
 * instags.c): atomic writes, keys, fingerprints (checked
 * against libotr's own reader), instance tags, background key generation. */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>
#include <libotr/context.h>
#include <libotr/instag.h>
#include <libotr/privkey.h>
#include <libotr/proto.h>
#include <libotr/userstate.h>

#include "potr.h"
#include "store.h"
#include "testutil.h"

#define PROTO "prpl-jabber"
#define ALICE "alice@example.org/home"
#define BOB "bob@example.net"
/* a DSA key takes ~50 ms, seconds under valgrind: the deadline is generous */
#define KEYGEN_TIMEOUT_MS 120000
#define SEED 20240611

typedef struct {
    char *dir;
    char *keys;
    char *fprs;
    char *tags;
    OtrlUserState us;
} Fixture;

static void
fixture_setup(Fixture *f, gconstpointer unused)
{
    f->dir = potr_test_dir_new();
    f->keys = g_build_filename(f->dir, POTR_FILE_PRIVKEY, NULL);
    f->fprs = g_build_filename(f->dir, POTR_FILE_FINGERPRINTS, NULL);
    f->tags = g_build_filename(f->dir, POTR_FILE_INSTAGS, NULL);
    f->us = otrl_userstate_create();
}

static void
fixture_teardown(Fixture *f, gconstpointer unused)
{
    potr_store_keygen_cancel_all(f->us);
    potr_store_release(NULL);
    otrl_userstate_free(f->us);
    g_free(f->keys);
    g_free(f->fprs);
    g_free(f->tags);
    potr_test_dir_free(&f->dir);
}

/* The names in F's folder, joined by spaces, for one-line comparisons. */
static char *
dir_names(const Fixture *f)
{
    char **names = potr_test_dir_list(f->dir);
    char *joined = g_strjoinv(" ", names);

    g_strfreev(names);
    return joined;
}

#define assert_dir(f, expected)                      \
    do {                                             \
        char *names_ = dir_names(f);                 \
        g_assert_cmpstr(names_, ==, (expected));     \
        g_free(names_);                              \
    } while (0)

static void
assert_file(const char *path, const char *content, gsize len)
{
    gsize n = 0;
    char *got = potr_test_read(path, &n);

    g_assert_cmpmem(got, n, content, len);
    g_free(got);
}

/* ------------------------------------------------------------------ */
/* Atomic write                                                        */
/* ------------------------------------------------------------------ */

static gboolean
write_string(FILE *fp, gpointer data, GError **error)
{
    return fputs(data, fp) >= 0;
}

/* Writes some bytes, then fails: the half-written file must vanish. */
static gboolean
write_then_fail(FILE *fp, gpointer data, GError **error)
{
    fputs("partial content that must never be seen", fp);
    fflush(fp);
    if (data != NULL)
        g_set_error(error, POTR_ERROR, POTR_ERROR_FAILED, "writer failed on purpose");
    return FALSE;
}

static void
test_atomic_new_file(Fixture *f, gconstpointer unused)
{
    char *path = g_build_filename(f->dir, "file", NULL);
    GError *error = NULL;
    mode_t old_umask = umask(0); /* 0600 must not depend on the umask */
    gboolean ok = potr_file_write_atomic(path, write_string, "new content\n", &error);

    umask(old_umask);
    g_assert_no_error(error);
    g_assert_true(ok);
    assert_file(path, "new content\n", 12);
    g_assert_cmpint(potr_test_mode(path), ==, 0600);
    assert_dir(f, "file");
    g_free(path);
}

static void
test_atomic_replace(Fixture *f, gconstpointer unused)
{
    char *path = g_build_filename(f->dir, "file", NULL);
    GError *error = NULL;
    char old[16] = { 0 };
    int fd;

    potr_test_write(path, "old content", -1, 0644);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    g_assert_cmpint(fd, >=, 0);

    g_assert_true(potr_file_write_atomic(path, write_string, "new", &error));
    g_assert_no_error(error);
    assert_file(path, "new", 3);
    g_assert_cmpint(potr_test_mode(path), ==, 0600);
    assert_dir(f, "file");
    /* the old file was replaced, not rewritten: its bytes are untouched */
    g_assert_cmpint(pread(fd, old, sizeof(old) - 1, 0), ==, 11);
    g_assert_cmpstr(old, ==, "old content");
    close(fd);
    g_free(path);
}

static void
test_atomic_failing_writer(Fixture *f, gconstpointer unused)
{
    char *path = g_build_filename(f->dir, "file", NULL);
    char *missing = g_build_filename(f->dir, "missing", NULL);
    GError *error = NULL;

    potr_test_write(path, "old content", -1, 0640);

    g_assert_false(potr_file_write_atomic(path, write_then_fail, "set", &error));
    g_assert_error(error, POTR_ERROR, POTR_ERROR_FAILED);
    g_clear_error(&error);
    assert_file(path, "old content", 11);
    g_assert_cmpint(potr_test_mode(path), ==, 0640);
    assert_dir(f, "file");

    /* a writer that fails without saying why still gets an error */
    g_assert_false(potr_file_write_atomic(path, write_then_fail, NULL, &error));
    g_assert_error(error, POTR_ERROR, POTR_ERROR_IO);
    g_clear_error(&error);
    assert_file(path, "old content", 11);

    /* no target yet: none is created */
    g_assert_false(potr_file_write_atomic(missing, write_then_fail, "set", &error));
    g_assert_error(error, POTR_ERROR, POTR_ERROR_FAILED);
    g_clear_error(&error);
    assert_dir(f, "file");
    g_free(missing);
    g_free(path);
}

static void
test_atomic_no_folder(Fixture *f, gconstpointer unused)
{
    char *path = g_build_filename(f->dir, "no-such-folder", "file", NULL);
    GError *error = NULL;

    g_assert_false(potr_file_write_atomic(path, write_string, "x", &error));
    g_assert_error(error, POTR_ERROR, POTR_ERROR_IO);
    g_clear_error(&error);
    assert_dir(f, "");
    g_free(path);
}

static void
test_atomic_symlink(Fixture *f, gconstpointer unused)
{
    char *sub = g_build_filename(f->dir, "elsewhere", NULL);
    char *real = g_build_filename(sub, "file", NULL);
    char *link = g_build_filename(f->dir, "file", NULL);
    GError *error = NULL;
    struct stat st;

    g_assert_cmpint(mkdir(sub, 0700), ==, 0);
    potr_test_write(real, "old", -1, 0600);
    g_assert_cmpint(symlink(real, link), ==, 0);

    g_assert_true(potr_file_write_atomic(link, write_string, "new", &error));
    g_assert_no_error(error);
    g_assert_cmpint(lstat(link, &st), ==, 0);
    g_assert_true(S_ISLNK(st.st_mode));
    assert_file(real, "new", 3);
    g_assert_cmpint(potr_test_mode(real), ==, 0600);
    assert_dir(f, "elsewhere file");
    g_free(link);
    g_free(real);
    g_free(sub);
}

/* ------------------------------------------------------------------ */
/* Keys and key generation                                             */
/* ------------------------------------------------------------------ */

typedef struct {
    gboolean done;
    gboolean ok;
    guint calls;
    GError *error;
    char *account;
} KeygenResult;

static void
keygen_done(const char *accountname, const char *protocol, gboolean ok,
            const GError *error, gpointer data)
{
    KeygenResult *r = data;

    r->calls++;
    r->done = TRUE;
    r->ok = ok;
    g_clear_error(&r->error);
    r->error = error != NULL ? g_error_copy(error) : NULL;
    g_free(r->account);
    r->account = g_strdup(accountname);
    g_assert_cmpstr(protocol, ==, PROTO);
    /* DONE runs on the main loop, after the job left the running set */
    g_assert_false(potr_store_keygen_running(accountname, protocol));
}

static void
keygen_result_clear(KeygenResult *r)
{
    g_clear_error(&r->error);
    g_clear_pointer(&r->account, g_free);
    memset(r, 0, sizeof(*r));
}

/* Start a generation and wait for DONE (calling EACH on every iteration). */
static void
keygen_and_wait(OtrlUserState us, const char *path, const char *account,
                void (*each)(gpointer), gpointer each_data)
{
    KeygenResult r = { 0 };
    GError *error = NULL;

    g_assert_true(potr_store_keygen_start(us, path, account, PROTO, keygen_done, &r, &error));
    g_assert_no_error(error);
    g_assert_true(potr_store_keygen_running(account, PROTO));
    g_assert_true(potr_test_wait(NULL, &r.done, KEYGEN_TIMEOUT_MS, each, each_data));
    g_assert_no_error(r.error);
    g_assert_true(r.ok);
    g_assert_cmpuint(r.calls, ==, 1);
    g_assert_cmpstr(r.account, ==, account);
    g_assert_nonnull(otrl_privkey_find(us, account, PROTO));
    keygen_result_clear(&r);
}

static char *
fingerprint_of(OtrlUserState us, const char *account)
{
    char human[OTRL_PRIVKEY_FPRINT_HUMAN_LEN];

    g_assert_nonnull(otrl_privkey_fingerprint(us, human, account, PROTO));
    return g_strdup(human);
}

static guint
count_keys(OtrlUserState us)
{
    guint n = 0;
    OtrlPrivKey *p;

    for (p = us->privkey_root; p != NULL; p = p->next)
        n++;
    return n;
}

static void
test_keys_missing(Fixture *f, gconstpointer unused)
{
    GError *error = NULL;

    g_assert_true(potr_store_load_keys(f->us, f->keys, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(count_keys(f->us), ==, 0);
    assert_dir(f, "");
}

static void
test_keys_roundtrip(Fixture *f, gconstpointer unused)
{
    OtrlUserState fresh = otrl_userstate_create();
    OtrlUserState by_libotr = otrl_userstate_create();
    GError *error = NULL;
    char *mine;
    char *again;

    keygen_and_wait(f->us, f->keys, ALICE, NULL, NULL);
    g_assert_false(potr_store_keygen_running(ALICE, PROTO));
    g_assert_cmpint(potr_test_mode(f->keys), ==, 0600);
    assert_dir(f, POTR_FILE_PRIVKEY " " POTR_FILE_PRIVKEY ".lock");

    mine = fingerprint_of(f->us, ALICE);
    g_assert_true(potr_store_load_keys(fresh, f->keys, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(count_keys(fresh), ==, 1);
    again = fingerprint_of(fresh, ALICE);
    g_assert_cmpstr(mine, ==, again);
    g_free(again);

    /* the file is libotr's (and so pidgin-otr's) format */
    g_assert_cmpint(otrl_privkey_read(by_libotr, f->keys), ==, 0);
    again = fingerprint_of(by_libotr, ALICE);
    g_assert_cmpstr(mine, ==, again);
    g_free(again);

    g_free(mine);
    otrl_userstate_free(by_libotr);
    otrl_userstate_free(fresh);
}

static void
test_keys_busy(Fixture *f, gconstpointer unused)
{
    KeygenResult r = { 0 };
    GError *error = NULL;

    g_assert_true(potr_store_keygen_start(f->us, f->keys, ALICE, PROTO, keygen_done, &r, &error));
    g_assert_no_error(error);
    g_assert_false(potr_store_keygen_start(f->us, f->keys, ALICE, PROTO, keygen_done, &r, &error));
    g_assert_error(error, POTR_ERROR, POTR_ERROR_BUSY);
    g_clear_error(&error);
    g_assert_true(potr_store_keygen_running(ALICE, PROTO));
    g_assert_false(potr_store_keygen_running(BOB, PROTO));
    g_assert_false(potr_store_keygen_running(ALICE, "prpl-irc"));

    g_assert_true(potr_test_wait(NULL, &r.done, KEYGEN_TIMEOUT_MS, NULL, NULL));
    g_assert_true(r.ok);
    g_assert_cmpuint(r.calls, ==, 1);
    g_assert_false(potr_store_keygen_running(ALICE, PROTO));
    keygen_result_clear(&r);
    /* and it can be generated again (a new key replaces the old one) */
    keygen_and_wait(f->us, f->keys, ALICE, NULL, NULL);
    g_assert_cmpuint(count_keys(f->us), ==, 1);
}

static void
test_keys_cancel(Fixture *f, gconstpointer unused)
{
    KeygenResult r = { 0 };
    GError *error = NULL;
    int i;

    g_assert_true(potr_store_keygen_start(f->us, f->keys, ALICE, PROTO, keygen_done, &r, &error));
    g_assert_true(potr_store_keygen_start(f->us, f->keys, BOB, PROTO, keygen_done, &r, &error));
    g_assert_no_error(error);
    /* joins both workers: by then each has queued its result on the main
     * context, which must now be dropped without running */
    potr_store_keygen_cancel_all(f->us);
    g_assert_false(potr_store_keygen_running(ALICE, PROTO));
    g_assert_false(potr_store_keygen_running(BOB, PROTO));
    for (i = 0; i < 100 && g_main_context_iteration(NULL, FALSE); i++)
        ;
    g_assert_cmpuint(r.calls, ==, 0);
    g_assert_cmpuint(count_keys(f->us), ==, 0);
    assert_dir(f, "");

    /* libotr's "pending" mark was cleared too: a new start succeeds */
    keygen_and_wait(f->us, f->keys, ALICE, NULL, NULL);
}

typedef struct {
    const char *path;
    const char *old;
    gsize old_len;
    const gboolean *done;
    guint checks;
} IntactCheck;

/* Between start and DONE the key file must hold exactly the old keys. */
static void
check_intact(gpointer data)
{
    IntactCheck *c = data;

    if (*c->done)
        return;
    assert_file(c->path, c->old, c->old_len);
    c->checks++;
}

static void
test_keys_never_truncated(Fixture *f, gconstpointer unused)
{
    OtrlUserState fresh = otrl_userstate_create();
    KeygenResult r = { 0 };
    GError *error = NULL;
    IntactCheck check = { 0 };
    char *alice;
    char *again;
    char *old;
    char *seen;
    gsize old_len = 0;
    struct stat st;
    int fd;

    keygen_and_wait(f->us, f->keys, ALICE, NULL, NULL);
    alice = fingerprint_of(f->us, ALICE);
    old = potr_test_read(f->keys, &old_len);
    fd = open(f->keys, O_RDONLY | O_CLOEXEC);
    g_assert_cmpint(fd, >=, 0);

    check = (IntactCheck){ f->keys, old, old_len, &r.done, 0 };
    g_assert_true(potr_store_keygen_start(f->us, f->keys, BOB, PROTO, keygen_done, &r, &error));
    g_assert_no_error(error);
    check_intact(&check);
    g_assert_true(potr_test_wait(NULL, &r.done, KEYGEN_TIMEOUT_MS, check_intact, &check));
    g_assert_true(r.ok);
    g_assert_cmpuint(check.checks, >=, 1);

    /* the file held before was replaced whole, never rewritten in place */
    g_assert_cmpint(fstat(fd, &st), ==, 0);
    g_assert_cmpint(st.st_size, ==, (off_t)old_len);
    seen = g_malloc(old_len);
    g_assert_cmpint(pread(fd, seen, old_len, 0), ==, (gssize)old_len);
    g_assert_cmpmem(seen, old_len, old, old_len);
    close(fd);

    /* the new file has both keys, Alice's unchanged */
    g_assert_true(potr_store_load_keys(fresh, f->keys, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(count_keys(fresh), ==, 2);
    again = fingerprint_of(fresh, ALICE);
    g_assert_cmpstr(again, ==, alice);
    g_assert_nonnull(otrl_privkey_find(fresh, BOB, PROTO));
    assert_dir(f, POTR_FILE_PRIVKEY " " POTR_FILE_PRIVKEY ".lock");

    g_free(again);
    g_free(seen);
    g_free(old);
    g_free(alice);
    keygen_result_clear(&r);
    otrl_userstate_free(fresh);
}

/* The one "NAME.damaged-YYYYMMDD-HHMMSS" file in F's folder (g_free). */
static char *
find_backup(const Fixture *f, const char *name)
{
    char **names = potr_test_dir_list(f->dir);
    char *pattern = g_strdup_printf("^%s\\.damaged-[0-9]{8}-[0-9]{6}$", name);
    char *found = NULL;
    char **n;

    for (n = names; *n != NULL; n++) {
        if (g_regex_match_simple(pattern, *n, 0, 0)) {
            g_assert_null(found);
            found = g_build_filename(f->dir, *n, NULL);
        }
    }
    g_free(pattern);
    g_strfreev(names);
    return found;
}

static void
test_keys_corrupt(Fixture *f, gconstpointer unused)
{
    OtrlUserState damaged = otrl_userstate_create();
    OtrlUserState fresh = otrl_userstate_create();
    GError *error = NULL;
    char *whole;
    char *backup;
    char **names;
    gsize len = 0;

    keygen_and_wait(f->us, f->keys, ALICE, NULL, NULL);
    whole = potr_test_read(f->keys, &len);
    /* what a crash in the middle of a non-atomic write leaves */
    potr_test_write(f->keys, whole, (gssize)(len / 2), 0600);

    g_assert_false(potr_store_load_keys(damaged, f->keys, &error));
    g_assert_error(error, POTR_ERROR, POTR_ERROR_CORRUPT);
    g_clear_error(&error);

    /* the next write keeps the damaged file beside the new one */
    keygen_and_wait(damaged, f->keys, BOB, NULL, NULL);
    backup = find_backup(f, POTR_FILE_PRIVKEY);
    g_assert_nonnull(backup);
    assert_file(backup, whole, len / 2);
    g_assert_cmpint(potr_test_mode(backup), ==, 0600);
    g_assert_true(potr_store_load_keys(fresh, f->keys, &error));
    g_assert_no_error(error);
    g_assert_nonnull(otrl_privkey_find(fresh, BOB, PROTO));

    /* once rewritten the file is no longer damaged: no second copy */
    keygen_and_wait(damaged, f->keys, ALICE, NULL, NULL);
    names = potr_test_dir_list(f->dir);
    g_assert_cmpuint(g_strv_length(names), ==, 3); /* file, lock, one copy */

    g_strfreev(names);
    g_free(backup);
    g_free(whole);
    otrl_userstate_free(fresh);
    otrl_userstate_free(damaged);
}

static void
test_keys_garbage(Fixture *f, gconstpointer unused)
{
    static const char *const bad[] = {
        "this is not a key file\n",
        "(privkeys\n (account\n",
        "(privkeys (account (name \"a\") (protocol \"p\")))\n",
        "(somethingelse)\n",
    };
    gsize i;

    for (i = 0; i < G_N_ELEMENTS(bad); i++) {
        GError *error = NULL;

        potr_test_write(f->keys, bad[i], -1, 0600);
        g_assert_false(potr_store_load_keys(f->us, f->keys, &error));
        g_assert_error(error, POTR_ERROR, POTR_ERROR_CORRUPT);
        g_clear_error(&error);
    }
}

static void
test_keys_empty_and_mode(Fixture *f, gconstpointer unused)
{
    GError *error = NULL;

    /* empty: no keys, and not damaged (no copy is kept on the next write) */
    potr_test_write(f->keys, "", 0, 0644);
    g_assert_true(potr_store_load_keys(f->us, f->keys, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(count_keys(f->us), ==, 0);
    /* a key file readable by others is made private */
    g_assert_cmpint(potr_test_mode(f->keys), ==, 0600);
    keygen_and_wait(f->us, f->keys, ALICE, NULL, NULL);
    assert_dir(f, POTR_FILE_PRIVKEY " " POTR_FILE_PRIVKEY ".lock");
}

/* ------------------------------------------------------------------ */
/* Fingerprints                                                        */
/* ------------------------------------------------------------------ */

/* Contexts and fingerprints of A and B are the same, in the same order,
 * with the same trust strings (NULL and "" differ). */
static void
assert_same_userstate(OtrlUserState a, OtrlUserState b)
{
    ConnContext *x = a->context_root;
    ConnContext *y = b->context_root;

    for (; x != NULL && y != NULL; x = x->next, y = y->next) {
        Fingerprint *fx = x->fingerprint_root.next;
        Fingerprint *fy = y->fingerprint_root.next;

        g_assert_cmpstr(x->username, ==, y->username);
        g_assert_cmpstr(x->accountname, ==, y->accountname);
        g_assert_cmpstr(x->protocol, ==, y->protocol);
        g_assert_cmpuint(x->their_instance, ==, y->their_instance);
        g_assert_true(x->m_context == x && y->m_context == y);
        g_assert_true(y->recent_child == y);
        g_assert_true(*y->tous == y);
        for (; fx != NULL && fy != NULL; fx = fx->next, fy = fy->next) {
            g_assert_cmpmem(fx->fingerprint, 20, fy->fingerprint, 20);
            g_assert_cmpstr(fx->trust, ==, fy->trust);
            g_assert_true(fy->context == y);
        }
        g_assert_null(fx);
        g_assert_null(fy);
    }
    g_assert_null(x);
    g_assert_null(y);
}

/* What libotr's writer makes of US (g_free). */
static char *
serialize(OtrlUserState us, gsize *len)
{
    char *buf = NULL;
    size_t n = 0;
    FILE *fp = open_memstream(&buf, &n);

    g_assert_nonnull(fp);
    g_assert_cmpint(otrl_privkey_write_fingerprints_FILEp(us, fp), ==, 0);
    g_assert_cmpint(fclose(fp), ==, 0);
    *len = n;
    return buf;
}

static guint
count_contexts(OtrlUserState us)
{
    guint n = 0;
    ConnContext *c;

    for (c = us->context_root; c != NULL; c = c->next)
        n++;
    return n;
}

/* Load PATH with libotr and with the store into fresh userstates (after
 * PRELOAD, if given, ran on both) and check they come out the same. */
static void
assert_loads_like_libotr(const char *path, void (*preload)(OtrlUserState), guint *contexts)
{
    OtrlUserState theirs = otrl_userstate_create();
    OtrlUserState ours = otrl_userstate_create();
    GError *error = NULL;
    guint skipped = 99;
    char *a;
    char *b;
    gsize alen = 0;
    gsize blen = 0;

    if (preload != NULL) {
        preload(theirs);
        preload(ours);
    }
    g_assert_cmpint(otrl_privkey_read_fingerprints(theirs, path, NULL, NULL), ==, 0);
    g_assert_true(potr_store_load_fingerprints(ours, path, NULL, NULL, &skipped, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(skipped, ==, 0);
    assert_same_userstate(theirs, ours);
    a = serialize(theirs, &alen);
    b = serialize(ours, &blen);
    g_assert_cmpmem(a, alen, b, blen);
    if (contexts != NULL)
        *contexts = count_contexts(ours);
    g_free(b);
    g_free(a);
    otrl_userstate_free(ours);
    otrl_userstate_free(theirs);
}

/* Names that exercise strcmp() order: case, punctuation, UTF-8 bytes. */
static const char *const name_parts[] = {
    "alice", "Alice", "bob", "zoë", "Ünïcode", "_x", "a.b", "carol smith", "dave-", "émile",
};
static const char *const accounts[] = { "me@example.org", "Me@example.org", "other@example.com" };
static const char *const protocols[] = { "prpl-jabber", "prpl-irc", "prpl-aim" };
static const char *const trusts[] = { NULL, "", "verified", "smp" };

static char *
random_name(GRand *rand)
{
    return g_strdup_printf("%s%u@%s", name_parts[g_rand_int_range(rand, 0, G_N_ELEMENTS(name_parts))],
                           (guint)g_rand_int_range(rand, 0, 60), g_rand_boolean(rand) ? "a.org" : "b.org");
}

static void
random_fingerprint(GRand *rand, unsigned char fp[20])
{
    int i;

    for (i = 0; i < 20; i++)
        fp[i] = (unsigned char)g_rand_int_range(rand, 0, 256);
}

/* Fill US with about N random contexts of 1-3 fingerprints, mixed trust. */
static void
fill_random(OtrlUserState us, GRand *rand, guint n)
{
    guint i;

    for (i = 0; i < n; i++) {
        char *user = random_name(rand);
        ConnContext *c = otrl_context_find(us, user,
                                           accounts[g_rand_int_range(rand, 0, G_N_ELEMENTS(accounts))],
                                           protocols[g_rand_int_range(rand, 0, G_N_ELEMENTS(protocols))],
                                           OTRL_INSTAG_MASTER, 1, NULL, NULL, NULL);
        int k = g_rand_int_range(rand, 1, 4);

        while (k-- > 0) {
            unsigned char fp[20];

            random_fingerprint(rand, fp);
            otrl_context_set_trust(otrl_context_find_fingerprint(c, fp, 1, NULL),
                                   trusts[g_rand_int_range(rand, 0, G_N_ELEMENTS(trusts))]);
        }
        g_free(user);
    }
}

static void
test_fingerprints_missing(Fixture *f, gconstpointer unused)
{
    GError *error = NULL;
    guint skipped = 99;

    g_assert_true(potr_store_load_fingerprints(f->us, f->fprs, NULL, NULL, &skipped, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(skipped, ==, 0);
    g_assert_null(f->us->context_root);
}

/* A file written by libotr itself (sorted, as pidgin-otr leaves it). */
static void
test_fingerprints_like_libotr_sorted(Fixture *f, gconstpointer unused)
{
    GRand *rand = g_rand_new_with_seed(SEED);
    guint contexts = 0;

    fill_random(f->us, rand, 300);
    g_assert_cmpint(otrl_privkey_write_fingerprints(f->us, f->fprs), ==, 0);
    assert_loads_like_libotr(f->fprs, NULL, &contexts);
    g_assert_cmpuint(contexts, >, 200);
    g_rand_free(rand);
}

/* Lines in random order, a context's lines scattered, repeated
 * fingerprints whose later trust wins, lines without a trust field, CRLF. */
static char *
shuffled_file(GRand *rand, guint n)
{
    GPtrArray *lines = g_ptr_array_new_with_free_func(g_free);
    GString *out = g_string_new(NULL);
    guint i;

    for (i = 0; i < n; i++) {
        char *user = random_name(rand);
        const char *account = accounts[g_rand_int_range(rand, 0, G_N_ELEMENTS(accounts))];
        const char *protocol = protocols[g_rand_int_range(rand, 0, G_N_ELEMENTS(protocols))];
        int k = g_rand_int_range(rand, 1, 4);

        while (k-- > 0) {
            GString *line = g_string_new(NULL);
            unsigned char fp[20];
            const char *trust = trusts[g_rand_int_range(rand, 0, G_N_ELEMENTS(trusts))];
            gboolean twice = g_rand_int_range(rand, 0, 8) == 0;
            int j;

            random_fingerprint(rand, fp);
            g_string_append_printf(line, "%s\t%s\t%s\t", user, account, protocol);
            for (j = 0; j < 20; j++) {
                if (g_rand_boolean(rand))
                    g_string_append_printf(line, "%02x", fp[j]);
                else
                    g_string_append_printf(line, "%02X", fp[j]);
            }
            if (twice)
                g_ptr_array_add(lines, g_strdup_printf("%s\tsmp\n", line->str));
            if (trust != NULL)
                g_string_append_printf(line, "\t%s", trust);
            g_string_append(line, g_rand_int_range(rand, 0, 10) == 0 ? "\r\n" : "\n");
            g_ptr_array_add(lines, g_string_free(line, FALSE));
        }
        g_free(user);
    }
    for (i = lines->len; i > 1; i--) {
        guint j = (guint)g_rand_int_range(rand, 0, (gint32)i);
        gpointer t = lines->pdata[i - 1];

        lines->pdata[i - 1] = lines->pdata[j];
        lines->pdata[j] = t;
    }
    for (i = 0; i < lines->len; i++)
        g_string_append(out, lines->pdata[i]);
    g_ptr_array_unref(lines);
    return g_string_free(out, FALSE);
}

static void
test_fingerprints_like_libotr_shuffled(Fixture *f, gconstpointer unused)
{
    GRand *rand = g_rand_new_with_seed(SEED + 1);
    char *content = shuffled_file(rand, 300);

    potr_test_write(f->fprs, content, -1, 0600);
    assert_loads_like_libotr(f->fprs, NULL, NULL);
    g_free(content);
    g_rand_free(rand);
}

/* A userstate that already holds contexts (some shared with the file). */
static void
preload_contexts(OtrlUserState us)
{
    GRand *rand = g_rand_new_with_seed(SEED + 2);

    fill_random(us, rand, 80);
    g_rand_free(rand);
}

static void
test_fingerprints_like_libotr_merge(Fixture *f, gconstpointer unused)
{
    GRand *rand = g_rand_new_with_seed(SEED + 3);
    char *content = shuffled_file(rand, 200);

    potr_test_write(f->fprs, content, -1, 0600);
    assert_loads_like_libotr(f->fprs, preload_contexts, NULL);
    g_free(content);
    g_rand_free(rand);
}

static int
compare_lines(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
assert_same_lines(const char *a, const char *b)
{
    char **la = g_strsplit(a, "\n", -1);
    char **lb = g_strsplit(b, "\n", -1);
    guint i;

    g_assert_cmpuint(g_strv_length(la), ==, g_strv_length(lb));
    qsort(la, g_strv_length(la), sizeof(char *), compare_lines);
    qsort(lb, g_strv_length(lb), sizeof(char *), compare_lines);
    for (i = 0; la[i] != NULL; i++)
        g_assert_cmpstr(la[i], ==, lb[i]);
    g_strfreev(lb);
    g_strfreev(la);
}

static void
test_fingerprints_save(Fixture *f, gconstpointer unused)
{
    GRand *rand = g_rand_new_with_seed(SEED + 4);
    OtrlUserState loaded = otrl_userstate_create();
    GError *error = NULL;
    char *original;
    char *expected;
    char *saved;
    gsize expected_len = 0;

    fill_random(f->us, rand, 100);
    g_assert_cmpint(otrl_privkey_write_fingerprints(f->us, f->fprs), ==, 0);
    original = potr_test_read(f->fprs, NULL);
    g_assert_true(potr_store_load_fingerprints(loaded, f->fprs, NULL, NULL, NULL, &error));
    g_assert_no_error(error);

    g_assert_cmpint(chmod(f->fprs, 0644), ==, 0);
    g_assert_true(potr_store_save_fingerprints(loaded, f->fprs, &error));
    g_assert_no_error(error);
    g_assert_cmpint(potr_test_mode(f->fprs), ==, 0600);
    expected = serialize(loaded, &expected_len);
    assert_file(f->fprs, expected, expected_len);
    /* the same lines as the file read (libotr's read + write reverses the
     * order of a context's fingerprints, and so does ours) */
    saved = potr_test_read(f->fprs, NULL);
    assert_same_lines(saved, original);
    /* a clean file is not "damaged": no copy was kept */
    assert_dir(f, POTR_FILE_FINGERPRINTS " " POTR_FILE_FINGERPRINTS ".lock");

    g_free(saved);
    g_free(expected);
    g_free(original);
    otrl_userstate_free(loaded);
    g_rand_free(rand);
}

/* Fingerprints of the malformed-line test: generated bytes, not hex typed in. */
static char *
hex_of(GRand *rand)
{
    unsigned char fp[20];
    GString *s = g_string_new(NULL);
    int i;

    random_fingerprint(rand, fp);
    for (i = 0; i < 20; i++)
        g_string_append_printf(s, "%02x", fp[i]);
    return g_string_free(s, FALSE);
}

static Fingerprint *
find_fp(OtrlUserState us, const char *user, const char *hex)
{
    ConnContext *c = otrl_context_find(us, user, "me", PROTO, OTRL_INSTAG_MASTER, 0, NULL, NULL, NULL);
    unsigned char fp[20];
    int i;

    if (c == NULL)
        return NULL;
    for (i = 0; i < 20; i++)
        fp[i] = (unsigned char)((g_ascii_xdigit_value(hex[2 * i]) << 4) |
                                g_ascii_xdigit_value(hex[2 * i + 1]));
    return otrl_context_find_fingerprint(c, fp, 0, NULL);
}

static void
test_fingerprints_malformed(Fixture *f, gconstpointer unused)
{
    GRand *rand = g_rand_new_with_seed(SEED + 5);
    char *h1 = hex_of(rand);
    char *h2 = hex_of(rand);
    char *h3 = hex_of(rand);
    char *hx = hex_of(rand);
    GString *s = g_string_new(NULL);
    GError *error = NULL;
    guint skipped = 0;
    char *backup;

    g_string_append_printf(s, "good1\tme\t" PROTO "\t%s\tverified\n", h1);
    g_string_append(s, "only\tthree\tfields\n");
    g_string_append_printf(s, "u\tme\t" PROTO "\t%.39s\n", hx);        /* 39 digits */
    g_string_append_printf(s, "u\tme\t" PROTO "\t%s0\n", hx);          /* 41 digits */
    g_string_append_printf(s, "u\tme\t" PROTO "\tg%.39s\n", hx);       /* not hex */
    g_string_append_printf(s, "\tme\t" PROTO "\t%s\n", hx);            /* no user */
    g_string_append_printf(s, "u\t\t" PROTO "\t%s\n", hx);             /* no account */
    g_string_append_printf(s, "u\tme\t\t%s\n", hx);                    /* no protocol */
    g_string_append_printf(s, "u\tme\t" PROTO "\t%s\tsmp\textra\n", hx); /* six fields */
    g_string_append_printf(s, "u\tme\t" PROTO "\t%s\tver\rified\n", hx); /* stray CR */
    g_string_append(s, "\n");
    g_string_append_printf(s, "good2\tme\t" PROTO "\t%s\n", h2);
    g_string_append_printf(s, "u%cnul\tme\t" PROTO "\t%s\n", 0, hx);   /* NUL byte */
    g_string_append_printf(s, "good3\tme\t" PROTO "\t%s\t\r\n", h3);
    g_string_append_printf(s, "cut\tme\t" PROTO "\t%s\tverif", hx);    /* no newline */
    potr_test_write(f->fprs, s->str, (gssize)s->len, 0600);

    g_assert_true(potr_store_load_fingerprints(f->us, f->fprs, NULL, NULL, &skipped, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(skipped, ==, 12);
    g_assert_cmpuint(count_contexts(f->us), ==, 3);
    g_assert_cmpstr(find_fp(f->us, "good1", h1)->trust, ==, "verified");
    g_assert_null(find_fp(f->us, "good2", h2)->trust);
    g_assert_cmpstr(find_fp(f->us, "good3", h3)->trust, ==, "");
    g_assert_null(find_fp(f->us, "cut", hx));

    /* skipped lines make the file "damaged": the next save keeps a copy */
    g_assert_true(potr_store_save_fingerprints(f->us, f->fprs, &error));
    g_assert_no_error(error);
    backup = find_backup(f, POTR_FILE_FINGERPRINTS);
    g_assert_nonnull(backup);
    assert_file(backup, s->str, s->len);
    g_assert_cmpint(potr_test_mode(backup), ==, 0600);

    g_free(backup);
    g_string_free(s, TRUE);
    g_free(hx);
    g_free(h3);
    g_free(h2);
    g_free(h1);
    g_rand_free(rand);
}

/* A line of exactly N bytes (newline not counted) for USER whose trust
 * field fills the rest, so that a reader that cut it short instead of
 * skipping it would still find a well-formed line. */
static void
append_line_of(GString *s, gsize n, const char *user, const char *hex)
{
    gsize fixed = strlen(user) + strlen("\tme\t" PROTO "\t") + 40 + 1;
    gsize i;

    g_assert_cmpuint(n, >, fixed);
    g_string_append_printf(s, "%s\tme\t" PROTO "\t%s\t", user, hex);
    for (i = 0; i < n - fixed; i++)
        g_string_append_c(s, (char)('a' + i % 26));
    g_string_append_c(s, '\n');
}

static void
test_fingerprints_long_line(Fixture *f, gconstpointer unused)
{
    GRand *rand = g_rand_new_with_seed(SEED + 6);
    char *h1 = hex_of(rand);
    char *h2 = hex_of(rand);
    char *h3 = hex_of(rand);
    GString *s = g_string_new(NULL);
    GError *error = NULL;
    guint skipped = 0;
    Fingerprint *fp;

    g_string_append_printf(s, "before\tme\t" PROTO "\t%s\tsmp\n", h1);
    append_line_of(s, POTR_STORE_MAX_LINE, "longest", h2);       /* accepted */
    append_line_of(s, POTR_STORE_MAX_LINE + 1, "toolong", h3);   /* one byte over */
    append_line_of(s, 1024 * 1024, "huge", h3);                  /* far over */
    g_string_append_printf(s, "after\tme\t" PROTO "\t%s\n", h3);
    potr_test_write(f->fprs, s->str, (gssize)s->len, 0600);

    g_assert_true(potr_store_load_fingerprints(f->us, f->fprs, NULL, NULL, &skipped, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(skipped, ==, 2);
    g_assert_cmpuint(count_contexts(f->us), ==, 3);
    g_assert_nonnull(find_fp(f->us, "before", h1));
    g_assert_nonnull(find_fp(f->us, "after", h3));
    g_assert_null(find_fp(f->us, "toolong", h3));
    g_assert_null(find_fp(f->us, "huge", h3));
    fp = find_fp(f->us, "longest", h2);
    g_assert_nonnull(fp);
    g_assert_cmpuint(strlen(fp->trust), ==,
                     POTR_STORE_MAX_LINE - strlen("longest\tme\t" PROTO "\t") - 40 - 1);

    g_string_free(s, TRUE);
    g_free(h3);
    g_free(h2);
    g_free(h1);
    g_rand_free(rand);
}

static void
count_app_data(void *data, ConnContext *context)
{
    GHashTable *seen = data;

    g_assert_false(g_hash_table_contains(seen, context));
    g_hash_table_add(seen, context);
}

static void
test_fingerprints_app_data(Fixture *f, gconstpointer unused)
{
    GRand *rand = g_rand_new_with_seed(SEED + 7);
    char *content = shuffled_file(rand, 50);
    GHashTable *seen = g_hash_table_new(NULL, NULL);
    GError *error = NULL;
    ConnContext *c;

    potr_test_write(f->fprs, content, -1, 0600);
    g_assert_true(potr_store_load_fingerprints(f->us, f->fprs, count_app_data, seen, NULL, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(g_hash_table_size(seen), ==, count_contexts(f->us));
    for (c = f->us->context_root; c != NULL; c = c->next)
        g_assert_true(g_hash_table_contains(seen, c));

    g_hash_table_unref(seen);
    g_free(content);
    g_rand_free(rand);
}

/* ------------------------------------------------------------------ */
/* Instance tags                                                       */
/* ------------------------------------------------------------------ */

static guint
count_instags(OtrlUserState us)
{
    guint n = 0;
    OtrlInsTag *t;

    for (t = us->instag_root; t != NULL; t = t->next)
        n++;
    return n;
}

static void
test_instags_missing(Fixture *f, gconstpointer unused)
{
    GError *error = NULL;

    g_assert_true(potr_store_load_instags(f->us, f->tags, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(count_instags(f->us), ==, 0);
}

static void
test_instags_roundtrip(Fixture *f, gconstpointer unused)
{
    OtrlUserState fresh = otrl_userstate_create();
    GError *error = NULL;
    otrl_instag_t alice;
    otrl_instag_t bob;

    g_assert_true(potr_store_new_instag(f->us, f->tags, ALICE, PROTO, &error));
    g_assert_true(potr_store_new_instag(f->us, f->tags, BOB, PROTO, &error));
    g_assert_no_error(error);
    g_assert_cmpint(potr_test_mode(f->tags), ==, 0600);
    alice = otrl_instag_find(f->us, ALICE, PROTO)->instag;
    bob = otrl_instag_find(f->us, BOB, PROTO)->instag;
    g_assert_cmpuint(alice, >=, OTRL_MIN_VALID_INSTAG);
    g_assert_cmpuint(bob, >=, OTRL_MIN_VALID_INSTAG);

    /* loading twice does not duplicate */
    g_assert_true(potr_store_load_instags(fresh, f->tags, &error));
    g_assert_true(potr_store_load_instags(fresh, f->tags, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(count_instags(fresh), ==, 2);
    g_assert_cmpuint(otrl_instag_find(fresh, ALICE, PROTO)->instag, ==, alice);
    g_assert_cmpuint(otrl_instag_find(fresh, BOB, PROTO)->instag, ==, bob);

    /* a new tag for an account replaces its old one, in US and the file */
    g_assert_true(potr_store_new_instag(fresh, f->tags, ALICE, PROTO, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(count_instags(fresh), ==, 2);
    otrl_instag_forget_all(f->us);
    g_assert_true(potr_store_load_instags(f->us, f->tags, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(count_instags(f->us), ==, 2);
    g_assert_cmpuint(otrl_instag_find(f->us, ALICE, PROTO)->instag, ==,
                     otrl_instag_find(fresh, ALICE, PROTO)->instag);
    g_assert_cmpuint(otrl_instag_find(f->us, BOB, PROTO)->instag, ==, bob);
    assert_dir(f, POTR_FILE_INSTAGS " " POTR_FILE_INSTAGS ".lock");

    otrl_userstate_free(fresh);
}

/* ------------------------------------------------------------------ */
/* Two programs on one profile                                         */
/* ------------------------------------------------------------------ */

/* Two userstates on one folder stand for two programs on one profile:
 * the store keeps what each last saw of each file apart. */
typedef struct {
    char *h1;
    char *h2;
    char *h3;
    OtrlUserState other;
} Two;

static void
two_setup(Fixture *f, Two *t, guint seed)
{
    GRand *rand = g_rand_new_with_seed(seed);
    GString *s = g_string_new(NULL);
    GError *error = NULL;

    t->h1 = hex_of(rand);
    t->h2 = hex_of(rand);
    t->h3 = hex_of(rand);
    t->other = otrl_userstate_create();
    g_string_append_printf(s, "carol\tme\t" PROTO "\t%s\tverified\n", t->h1);
    g_string_append_printf(s, "dave\tme\t" PROTO "\t%s\tsmp\n", t->h2);
    potr_test_write(f->fprs, s->str, -1, 0600);
    g_assert_true(potr_store_load_fingerprints(f->us, f->fprs, NULL, NULL, NULL, &error));
    g_assert_true(potr_store_load_fingerprints(t->other, f->fprs, NULL, NULL, NULL, &error));
    g_assert_no_error(error);
    g_string_free(s, TRUE);
    g_rand_free(rand);
}

static void
two_teardown(Two *t)
{
    potr_store_release(t->other);
    otrl_userstate_free(t->other);
    g_free(t->h1);
    g_free(t->h2);
    g_free(t->h3);
}

/* The trust libotr reads for USER/HEX from PATH ("<none>" when absent). */
static char *
libotr_trust(const char *path, const char *user, const char *hex)
{
    OtrlUserState us = otrl_userstate_create();
    Fingerprint *fp = NULL;
    char *trust = NULL;

    g_assert_cmpint(otrl_privkey_read_fingerprints(us, path, NULL, NULL), ==, 0);
    fp = find_fp(us, user, hex);
    trust = g_strdup(fp == NULL ? "<none>" : (fp->trust != NULL ? fp->trust : ""));
    otrl_userstate_free(us);
    return trust;
}

#define assert_libotr_trust(path, user, hex, expected)          \
    do {                                                        \
        char *t_ = libotr_trust((path), (user), (hex));         \
        g_assert_cmpstr(t_, ==, (expected));                    \
        g_free(t_);                                             \
    } while (0)

static void
save_ok(OtrlUserState us, const char *path)
{
    GError *error = NULL;

    g_assert_true(potr_store_save_fingerprints(us, path, &error));
    g_assert_no_error(error);
}

/* A forget in one and a distrust in the other: both stay, whoever writes
 * last, and neither is undone by a later write of the other. */
static void
test_merge_forget_and_distrust(Fixture *f, gconstpointer unused)
{
    Two t = { 0 };
    Fingerprint *mine = NULL;

    two_setup(f, &t, SEED + 20);
    mine = find_fp(f->us, "carol", t.h1);

    otrl_context_forget_fingerprint(find_fp(t.other, "dave", t.h2), 0);
    save_ok(t.other, f->fprs);
    otrl_context_set_trust(mine, "");
    save_ok(f->us, f->fprs);
    assert_libotr_trust(f->fprs, "dave", t.h2, "<none>");
    assert_libotr_trust(f->fprs, "carol", t.h1, "");
    /* the forgetting one saves again: it must not bring "verified" back */
    save_ok(t.other, f->fprs);
    assert_libotr_trust(f->fprs, "carol", t.h1, "");
    assert_libotr_trust(f->fprs, "dave", t.h2, "<none>");
    /* and each process sees the other's change, in the same objects */
    g_assert_true(find_fp(f->us, "carol", t.h1) == mine);
    g_assert_null(find_fp(f->us, "dave", t.h2));
    g_assert_cmpstr(find_fp(t.other, "carol", t.h1)->trust, ==, "");
    two_teardown(&t);
}

/* Fingerprints added by each (new contexts too) all reach the file. */
static void
test_merge_added(Fixture *f, gconstpointer unused)
{
    Two t = { 0 };
    GRand *rand = g_rand_new_with_seed(SEED + 21);
    char *h4 = hex_of(rand);
    unsigned char raw[20];
    ConnContext *c = NULL;
    int i;

    two_setup(f, &t, SEED + 22);
    for (i = 0; i < 20; i++)
        raw[i] = (unsigned char)((g_ascii_xdigit_value(t.h3[2 * i]) << 4) |
                                 g_ascii_xdigit_value(t.h3[2 * i + 1]));
    c = otrl_context_find(f->us, "erin", "me", PROTO, OTRL_INSTAG_MASTER, 1, NULL, NULL, NULL);
    otrl_context_find_fingerprint(c, raw, 1, NULL);
    for (i = 0; i < 20; i++)
        raw[i] = (unsigned char)((g_ascii_xdigit_value(h4[2 * i]) << 4) |
                                 g_ascii_xdigit_value(h4[2 * i + 1]));
    c = otrl_context_find(t.other, "carol", "me", PROTO, OTRL_INSTAG_MASTER, 1, NULL, NULL, NULL);
    otrl_context_set_trust(otrl_context_find_fingerprint(c, raw, 1, NULL), "verified");

    save_ok(f->us, f->fprs);
    save_ok(t.other, f->fprs);
    assert_libotr_trust(f->fprs, "erin", t.h3, "");
    assert_libotr_trust(f->fprs, "carol", h4, "verified");
    assert_libotr_trust(f->fprs, "carol", t.h1, "verified");
    assert_libotr_trust(f->fprs, "dave", t.h2, "smp");
    g_assert_nonnull(find_fp(t.other, "erin", t.h3));
    g_assert_null(find_fp(f->us, "carol", h4));
    g_assert_true(potr_store_refresh_fingerprints(f->us, f->fprs, NULL, NULL));
    g_assert_nonnull(find_fp(f->us, "carol", h4));
    g_free(h4);
    g_rand_free(rand);
    two_teardown(&t);
}

/* A change made by the other is seen before trust is used; the same
 * Fingerprint objects are updated (contexts point at them). */
static void
test_merge_refresh(Fixture *f, gconstpointer unused)
{
    Two t = { 0 };
    Fingerprint *dave = NULL;
    guint changed = 99;

    two_setup(f, &t, SEED + 23);
    dave = find_fp(f->us, "dave", t.h2);
    g_assert_true(potr_store_refresh_fingerprints(f->us, f->fprs, &changed, NULL));
    g_assert_cmpuint(changed, ==, 0);

    otrl_context_set_trust(find_fp(t.other, "dave", t.h2), "");
    otrl_context_forget_fingerprint(find_fp(t.other, "carol", t.h1), 0);
    save_ok(t.other, f->fprs);
    g_assert_true(potr_store_refresh_fingerprints(f->us, f->fprs, &changed, NULL));
    g_assert_cmpuint(changed, ==, 2);
    g_assert_true(find_fp(f->us, "dave", t.h2) == dave);
    g_assert_cmpstr(dave->trust, ==, "");
    g_assert_null(find_fp(f->us, "carol", t.h1));
    /* nothing new: nothing read, nothing changed */
    g_assert_true(potr_store_refresh_fingerprints(f->us, f->fprs, &changed, NULL));
    g_assert_cmpuint(changed, ==, 0);
    two_teardown(&t);
}

/* A fingerprint in use by a session that the other program forgot is
 * not freed (the context points at it): it loses its trust and is not
 * written back. */
static void
test_merge_in_use(Fixture *f, gconstpointer unused)
{
    Two t = { 0 };
    Fingerprint *carol = NULL;
    ConnContext *c = NULL;
    guint changed = 0;

    two_setup(f, &t, SEED + 24);
    carol = find_fp(f->us, "carol", t.h1);
    c = otrl_context_find(f->us, "carol", "me", PROTO, OTRL_INSTAG_MASTER, 0, NULL, NULL, NULL);
    c->active_fingerprint = carol;

    otrl_context_forget_fingerprint(find_fp(t.other, "carol", t.h1), 0);
    save_ok(t.other, f->fprs);
    g_assert_true(potr_store_refresh_fingerprints(f->us, f->fprs, &changed, NULL));
    g_assert_cmpuint(changed, ==, 1);
    g_assert_true(find_fp(f->us, "carol", t.h1) == carol);
    g_assert_false(otrl_context_is_fingerprint_trusted(carol));
    save_ok(f->us, f->fprs);
    assert_libotr_trust(f->fprs, "carol", t.h1, "<none>");
    g_assert_true(find_fp(f->us, "carol", t.h1) == carol);
    /* trusting it again (the user's own act) writes it again */
    otrl_context_set_trust(carol, "verified");
    save_ok(f->us, f->fprs);
    assert_libotr_trust(f->fprs, "carol", t.h1, "verified");
    c->active_fingerprint = NULL;
    two_teardown(&t);
}

/* A file the other program made unreadable is kept aside, and the write
 * keeps both programs' content. */
static void
test_merge_damaged(Fixture *f, gconstpointer unused)
{
    Two t = { 0 };
    char *backup = NULL;
    char *content = NULL;

    two_setup(f, &t, SEED + 25);
    content = g_strdup_printf("dave\tme\t" PROTO "\t%s\tsmp\ngarbage line\n", t.h2);
    potr_test_write(f->fprs, content, -1, 0600);
    otrl_context_set_trust(find_fp(f->us, "carol", t.h1), "");
    save_ok(f->us, f->fprs);
    backup = find_backup(f, POTR_FILE_FINGERPRINTS);
    g_assert_nonnull(backup);
    assert_file(backup, content, strlen(content));
    /* carol was forgotten by the other writer: only the distrust is ours */
    assert_libotr_trust(f->fprs, "carol", t.h1, "");
    assert_libotr_trust(f->fprs, "dave", t.h2, "smp");
    g_free(content);
    g_free(backup);
    two_teardown(&t);
}

static void
test_merge_keys(Fixture *f, gconstpointer unused)
{
    OtrlUserState other = otrl_userstate_create();
    OtrlUserState fresh = otrl_userstate_create();
    GError *error = NULL;
    gboolean changed = FALSE;
    char *alice = NULL;
    char *again = NULL;

    g_assert_true(potr_store_load_keys(f->us, f->keys, &error));
    g_assert_true(potr_store_load_keys(other, f->keys, &error));
    keygen_and_wait(other, f->keys, BOB, NULL, NULL);
    /* the first program knows nothing of Bob's key; its write keeps it */
    keygen_and_wait(f->us, f->keys, ALICE, NULL, NULL);
    alice = fingerprint_of(f->us, ALICE);
    g_assert_cmpuint(count_keys(f->us), ==, 2);
    g_assert_cmpint(otrl_privkey_read(fresh, f->keys), ==, 0);
    g_assert_cmpuint(count_keys(fresh), ==, 2);

    /* the other sees Alice's key before it uses a key */
    g_assert_true(potr_store_refresh_keys(other, f->keys, &changed, &error));
    g_assert_no_error(error);
    g_assert_true(changed);
    again = fingerprint_of(other, ALICE);
    g_assert_cmpstr(again, ==, alice);
    g_free(again);
    g_assert_true(potr_store_refresh_keys(other, f->keys, &changed, &error));
    g_assert_false(changed);

    /* a new key of Bob's in the other: Alice's stays as it was */
    keygen_and_wait(other, f->keys, BOB, NULL, NULL);
    g_assert_cmpint(otrl_privkey_read(fresh, f->keys), ==, 0);
    again = fingerprint_of(fresh, ALICE);
    g_assert_cmpstr(again, ==, alice);
    g_free(again);

    /* a key file emptied by someone else does not take keys from memory */
    potr_test_write(f->keys, "", 0, 0600);
    g_assert_true(potr_store_refresh_keys(f->us, f->keys, &changed, &error));
    g_assert_cmpuint(count_keys(f->us), ==, 2);

    g_free(alice);
    potr_store_keygen_cancel_all(other);
    otrl_userstate_free(fresh);
    otrl_userstate_free(other);
}

static void
test_merge_instags(Fixture *f, gconstpointer unused)
{
    OtrlUserState other = otrl_userstate_create();
    OtrlUserState fresh = otrl_userstate_create();
    GError *error = NULL;

    g_assert_true(potr_store_load_instags(f->us, f->tags, &error));
    g_assert_true(potr_store_load_instags(other, f->tags, &error));
    g_assert_true(potr_store_new_instag(f->us, f->tags, ALICE, PROTO, &error));
    g_assert_true(potr_store_new_instag(other, f->tags, BOB, PROTO, &error));
    g_assert_no_error(error);
    g_assert_cmpint(otrl_instag_read(fresh, f->tags), ==, 0);
    g_assert_cmpuint(count_instags(fresh), ==, 2);
    g_assert_cmpuint(otrl_instag_find(fresh, ALICE, PROTO)->instag, ==,
                     otrl_instag_find(f->us, ALICE, PROTO)->instag);
    g_assert_cmpuint(otrl_instag_find(fresh, BOB, PROTO)->instag, ==,
                     otrl_instag_find(other, BOB, PROTO)->instag);
    /* the other took Alice's tag from the file */
    g_assert_cmpuint(otrl_instag_find(other, ALICE, PROTO)->instag, ==,
                     otrl_instag_find(f->us, ALICE, PROTO)->instag);
    otrl_userstate_free(fresh);
    otrl_userstate_free(other);
}

/* A tag file that cannot be parsed completely is kept aside before it is
 * replaced, and its good lines are kept. */
static void
test_instags_damaged(Fixture *f, gconstpointer unused)
{
    static const char content[] = "WARNING! a comment without tabs\n"
                                  "old@example.org\tprpl-irc\t1234abcd\n"
                                  "cut@example.org\tprpl-irc\t12\n";
    OtrlUserState fresh = otrl_userstate_create();
    GError *error = NULL;
    char *backup = NULL;

    potr_test_write(f->tags, content, -1, 0600);
    g_assert_true(potr_store_load_instags(f->us, f->tags, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(count_instags(f->us), ==, 1);
    g_assert_true(potr_store_new_instag(f->us, f->tags, ALICE, PROTO, &error));
    g_assert_no_error(error);
    backup = find_backup(f, POTR_FILE_INSTAGS);
    g_assert_nonnull(backup);
    assert_file(backup, content, strlen(content));
    g_assert_cmpint(otrl_instag_read(fresh, f->tags), ==, 0);
    g_assert_cmpuint(otrl_instag_find(fresh, "old@example.org", "prpl-irc")->instag, ==, 0x1234abcd);
    g_assert_nonnull(otrl_instag_find(fresh, ALICE, PROTO));
    g_free(backup);
    otrl_userstate_free(fresh);
}

/* A tag file that exists but cannot be read is never replaced by less. */
static void
test_instags_unreadable(Fixture *f, gconstpointer unused)
{
    GError *error = NULL;

    /* a folder opens, but reading it fails (EISDIR) */
    g_assert_cmpint(mkdir(f->tags, 0700), ==, 0);
    g_assert_false(potr_store_load_instags(f->us, f->tags, &error));
    g_assert_error(error, POTR_ERROR, POTR_ERROR_IO);
    g_clear_error(&error);
    g_assert_false(potr_store_new_instag(f->us, f->tags, ALICE, PROTO, &error));
    g_assert_error(error, POTR_ERROR, POTR_ERROR_IO);
    g_clear_error(&error);
    g_assert_true(g_file_test(f->tags, G_FILE_TEST_IS_DIR));
    g_assert_cmpint(rmdir(f->tags), ==, 0);
}

/* Lines libotr would split: written by purple-otr, read by libotr itself
 * (the oracle) and by the store, never a fingerprint of someone else. */
static void
test_fingerprints_long_name(Fixture *f, gconstpointer unused)
{
    GRand *rand = g_rand_new_with_seed(SEED + 26);
    char *hex = hex_of(rand);
    char *good = hex_of(rand);
    GString *name = g_string_new(NULL);
    OtrlUserState theirs = otrl_userstate_create();
    OtrlUserState ours = otrl_userstate_create();
    GError *error = NULL;
    guint skipped = 0;
    char *written = NULL;
    gsize i;

    /* libotr cuts after 999 bytes: the rest reads as a line of mallory's */
    for (i = 0; i < 999; i++)
        g_string_append_c(name, 'a');
    g_string_append(name, "mallory");
    potr_test_write(f->fprs, "", 0, 0600);
    g_assert_true(potr_store_load_fingerprints(f->us, f->fprs, NULL, NULL, NULL, &error));
    {
        unsigned char raw[20];
        ConnContext *c;
        int j;

        for (j = 0; j < 20; j++)
            raw[j] = (unsigned char)((g_ascii_xdigit_value(hex[2 * j]) << 4) |
                                     g_ascii_xdigit_value(hex[2 * j + 1]));
        c = otrl_context_find(f->us, name->str, "me", PROTO, OTRL_INSTAG_MASTER, 1, NULL, NULL, NULL);
        otrl_context_set_trust(otrl_context_find_fingerprint(c, raw, 1, NULL), "verified");
        c = otrl_context_find(f->us, "tab\tname", "me", PROTO, OTRL_INSTAG_MASTER, 1, NULL, NULL, NULL);
        otrl_context_set_trust(otrl_context_find_fingerprint(c, raw, 1, NULL), "verified");
        for (j = 0; j < 20; j++)
            raw[j] = (unsigned char)((g_ascii_xdigit_value(good[2 * j]) << 4) |
                                     g_ascii_xdigit_value(good[2 * j + 1]));
        c = otrl_context_find(f->us, "good", "me", PROTO, OTRL_INSTAG_MASTER, 1, NULL, NULL, NULL);
        otrl_context_set_trust(otrl_context_find_fingerprint(c, raw, 1, NULL), "smp");
    }
    save_ok(f->us, f->fprs);
    written = potr_test_read(f->fprs, NULL);
    g_assert_null(strstr(written, "mallory"));

    g_assert_cmpint(otrl_privkey_read_fingerprints(theirs, f->fprs, NULL, NULL), ==, 0);
    g_assert_true(potr_store_load_fingerprints(ours, f->fprs, NULL, NULL, &skipped, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(skipped, ==, 0);
    assert_same_userstate(theirs, ours);
    g_assert_null(find_fp(theirs, "mallory", hex));
    g_assert_cmpstr(find_fp(theirs, "good", good)->trust, ==, "smp");
    /* kept in memory for this run, and still after the save */
    g_assert_nonnull(find_fp(f->us, name->str, hex));
    save_ok(f->us, f->fprs);
    g_assert_nonnull(find_fp(f->us, name->str, hex));

    /* the reader: such a line (an older writer's) is skipped whole, where
     * libotr reads its tail as mallory's verified fingerprint */
    g_free(written);
    written = g_strdup_printf("%s\tme\t" PROTO "\t%s\tverified\n", name->str, hex);
    potr_test_write(f->fprs, written, -1, 0600);
    otrl_userstate_free(theirs);
    theirs = otrl_userstate_create();
    g_assert_cmpint(otrl_privkey_read_fingerprints(theirs, f->fprs, NULL, NULL), ==, 0);
    g_assert_nonnull(find_fp(theirs, "mallory", hex)); /* libotr's misreading */
    otrl_userstate_free(ours);
    ours = otrl_userstate_create();
    g_assert_true(potr_store_load_fingerprints(ours, f->fprs, NULL, NULL, &skipped, &error));
    g_assert_cmpuint(skipped, ==, 1);
    g_assert_null(ours->context_root);

    g_free(written);
    otrl_userstate_free(ours);
    otrl_userstate_free(theirs);
    g_string_free(name, TRUE);
    g_free(good);
    g_free(hex);
    g_rand_free(rand);
}

/* ------------------------------------------------------------------ */
/* Leftovers of interrupted writes                                     */
/* ------------------------------------------------------------------ */

static void
test_cleanup_temps(Fixture *f, gconstpointer unused)
{
    static const char *const keep[] = {
        "otr.private_key.tmp-abc12",   /* five */
        "otr.private_key.tmp-abc1234", /* seven */
        "otr.private_key.tmp-abc12!",
        "otr.private_key.tmpXabc123",
        "other.tmp-abc123",
        "xotr.fingerprints.tmp-abc123",
    };
    char *outside = g_build_filename(f->dir, "outside", NULL);
    char *link = g_build_filename(f->dir, "otr.private_key.tmp-LINK00", NULL);
    char *sub = g_build_filename(f->dir, "otr.instance_tags.tmp-DIR000", NULL);
    char *ktmp = g_build_filename(f->dir, "otr.private_key.tmp-Ab3xY9", NULL);
    char *ftmp = g_build_filename(f->dir, "otr.fingerprints.tmp-000000", NULL);
    char seen[16] = { 0 };
    gsize i;
    guint n = 0;
    int fd;

    for (i = 0; i < G_N_ELEMENTS(keep); i++) {
        char *p = g_build_filename(f->dir, keep[i], NULL);

        potr_test_write(p, "x", -1, 0600);
        g_free(p);
    }
    potr_test_write(outside, "not ours", -1, 0600);
    g_assert_cmpint(symlink(outside, link), ==, 0);
    g_assert_cmpint(mkdir(sub, 0700), ==, 0);
    potr_test_write(ktmp, "(privkeys secret", -1, 0600);
    potr_test_write(ftmp, "fingerprints", -1, 0600);
    fd = open(ktmp, O_RDONLY | O_CLOEXEC);
    g_assert_cmpint(fd, >=, 0);

    n += potr_file_cleanup_temps(f->keys);
    n += potr_file_cleanup_temps(f->fprs);
    n += potr_file_cleanup_temps(f->tags);
    g_assert_cmpuint(n, ==, 2);
    g_assert_false(g_file_test(ktmp, G_FILE_TEST_EXISTS));
    g_assert_false(g_file_test(ftmp, G_FILE_TEST_EXISTS));
    /* the key's copy was overwritten before it was unlinked */
    g_assert_cmpint(pread(fd, seen, sizeof(seen), 0), ==, 16);
    g_assert_cmpmem(seen, 16, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16);
    close(fd);
    assert_file(outside, "not ours", 8);
    g_assert_true(g_file_test(link, G_FILE_TEST_IS_SYMLINK));
    g_assert_true(g_file_test(sub, G_FILE_TEST_IS_DIR));
    for (i = 0; i < G_N_ELEMENTS(keep); i++) {
        char *p = g_build_filename(f->dir, keep[i], NULL);

        g_assert_true(g_file_test(p, G_FILE_TEST_EXISTS));
        g_free(p);
    }
    g_assert_cmpint(rmdir(sub), ==, 0);
    g_free(ftmp);
    g_free(ktmp);
    g_free(sub);
    g_free(link);
    g_free(outside);
}

int
main(int argc, char **argv)
{
    potr_test_init(&argc, &argv);

#define ADD(path, fn) g_test_add(path, Fixture, NULL, fixture_setup, fn, fixture_teardown)
    ADD("/store/atomic/new-file", test_atomic_new_file);
    ADD("/store/atomic/replace", test_atomic_replace);
    ADD("/store/atomic/failing-writer", test_atomic_failing_writer);
    ADD("/store/atomic/no-folder", test_atomic_no_folder);
    ADD("/store/atomic/symlink", test_atomic_symlink);
    ADD("/store/keys/missing", test_keys_missing);
    ADD("/store/keys/roundtrip", test_keys_roundtrip);
    ADD("/store/keys/busy", test_keys_busy);
    ADD("/store/keys/cancel", test_keys_cancel);
    ADD("/store/keys/never-truncated", test_keys_never_truncated);
    ADD("/store/keys/corrupt", test_keys_corrupt);
    ADD("/store/keys/garbage", test_keys_garbage);
    ADD("/store/keys/empty-and-mode", test_keys_empty_and_mode);
    ADD("/store/fingerprints/missing", test_fingerprints_missing);
    ADD("/store/fingerprints/like-libotr/sorted", test_fingerprints_like_libotr_sorted);
    ADD("/store/fingerprints/like-libotr/shuffled", test_fingerprints_like_libotr_shuffled);
    ADD("/store/fingerprints/like-libotr/merge", test_fingerprints_like_libotr_merge);
    ADD("/store/fingerprints/save", test_fingerprints_save);
    ADD("/store/fingerprints/malformed", test_fingerprints_malformed);
    ADD("/store/fingerprints/long-line", test_fingerprints_long_line);
    ADD("/store/fingerprints/app-data", test_fingerprints_app_data);
    ADD("/store/instags/missing", test_instags_missing);
    ADD("/store/instags/roundtrip", test_instags_roundtrip);
    ADD("/store/instags/damaged", test_instags_damaged);
    ADD("/store/instags/unreadable", test_instags_unreadable);
    ADD("/store/fingerprints/long-name", test_fingerprints_long_name);
    ADD("/store/merge/forget-and-distrust", test_merge_forget_and_distrust);
    ADD("/store/merge/added", test_merge_added);
    ADD("/store/merge/refresh", test_merge_refresh);
    ADD("/store/merge/in-use", test_merge_in_use);
    ADD("/store/merge/damaged", test_merge_damaged);
    ADD("/store/merge/keys", test_merge_keys);
    ADD("/store/merge/instags", test_merge_instags);
    ADD("/store/cleanup/temps", test_cleanup_temps);
#undef ADD

    return g_test_run();
}
