/* purple-otr - GPL-2.0-or-later
 * Keys: the private key file (read, refreshed from another program's
 * writes) and private key generation in a thread. */

#include "i18n.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libotr/proto.h>
#include <libotr/privkey.h>

#include "potr.h"
#include "file.h"
#include "sync.h"
#include "keys.h"

/* A key file larger than this is not handed to libotr, whose reader
 * allocates the whole file at once. One DSA key takes about 1.5 KiB, so
 * this leaves room for thousands of accounts. */
#define KEYS_MAX_FILE (16 * 1024 * 1024)

/* libotr returns errno values wrapped in gcry_error_t; everything else
 * it reports while reading a file means the content was not understood. */
static void
keys_set_read_error(GError **error, gcry_error_t err, const char *path)
{
    gcry_err_code_t code = gcry_err_code(err);

    /* not gcry_err_code_to_errno() != 0: libgpg-error maps other codes too */
    if ((code & GPG_ERR_SYSTEM_ERROR) != 0)
        g_set_error(error, POTR_ERROR, POTR_ERROR_IO, _("Could not read %s: %s"),
                    path, g_strerror(gcry_err_code_to_errno(code)));
    else
        g_set_error(error, POTR_ERROR, POTR_ERROR_CORRUPT,
                    _("%s is damaged and could not be read completely (%s)"),
                    path, gcry_strerror(err));
}

/* Why: the key file is the user's identity. An older program (or a copy by
 * hand) may have left it readable by others; we own it, so tighten it. */
static void
keys_tighten_mode(int fd, const struct stat *st)
{
    if ((st->st_mode & 077) != 0 && st->st_uid == geteuid())
        (void)fchmod(fd, S_IRUSR | S_IWUSR);
}

/* Read the keys at PATH into INTO (a scratch userstate, whose keys are
 * replaced). Errors and "damaged" marks as potr_store_load_keys(). */
static gboolean
keys_read(OtrlUserState into, const char *path, GError **error)
{
    FILE *fp = NULL;
    struct stat st;
    gboolean missing = FALSE;
    gcry_error_t err;
    gboolean ok = FALSE;

    fp = potr_file_open_read(path, &missing, error);
    if (fp == NULL) {
        ok = missing;
        goto cleanup;
    }
    if (fstat(fileno(fp), &st) != 0) {
        potr_file_mark_damaged(path);
        g_set_error(error, POTR_ERROR, POTR_ERROR_IO, _("Could not read %s: %s"),
                    path, g_strerror(errno));
        goto cleanup;
    }
    keys_tighten_mode(fileno(fp), &st);
    if (st.st_size == 0) {
        /* what a crashed non-atomic writer leaves: nothing to keep */
        ok = TRUE;
        goto cleanup;
    }
    if (st.st_size > KEYS_MAX_FILE) {
        potr_file_mark_damaged(path);
        g_set_error(error, POTR_ERROR, POTR_ERROR_CORRUPT,
                    _("%s is too large to be a key file"), path);
        goto cleanup;
    }
    err = otrl_privkey_read_FILEp(into, fp);
    if (err) {
        potr_file_mark_damaged(path);
        keys_set_read_error(error, err, path);
        goto cleanup;
    }
    ok = TRUE;

cleanup:
    if (fp != NULL)
        fclose(fp);
    return ok;
}

/* Move the key P (unlinked from its list) to the head of the list ROOT. */
static void
keys_move(OtrlPrivKey *p, OtrlPrivKey **root)
{
    *(p->tous) = p->next;
    if (p->next != NULL)
        p->next->tous = p->tous;
    p->next = *root;
    if (p->next != NULL)
        p->next->tous = &p->next;
    p->tous = root;
    *root = p;
}

/* US's keys become FROM's (FROM is left without keys). With KEEP_OWN, a
 * key of US for an account FROM has no key for is kept: keys are never
 * deleted by purple-otr, so a key missing from the file is one the file
 * lost, never one the user dropped. */
static void
keys_take(OtrlUserState us, OtrlUserState from, gboolean keep_own)
{
    OtrlPrivKey *p = us->privkey_root;

    while (keep_own && p != NULL) {
        OtrlPrivKey *next = p->next;

        if (otrl_privkey_find(from, p->accountname, p->protocol) == NULL)
            keys_move(p, &from->privkey_root);
        p = next;
    }
    otrl_privkey_forget_all(us);
    while (from->privkey_root != NULL)
        keys_move(from->privkey_root, &us->privkey_root);
}

gboolean
potr_store_load_keys(OtrlUserState us, const char *path, GError **error)
{
    OtrlUserState scratch = NULL;
    GError *local = NULL;
    PotrFileSig sig;
    gboolean ok = FALSE;

    g_return_val_if_fail(us != NULL && path != NULL, FALSE);
    g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

    /* the signature first: a file replaced meanwhile is read again later */
    potr_file_sig_of_path(path, &sig);
    scratch = otrl_userstate_create();
    ok = keys_read(scratch, path, &local);
    if (ok || g_error_matches(local, POTR_ERROR, POTR_ERROR_CORRUPT))
        keys_take(us, scratch, FALSE);
    if (ok)
        potr_sync_set_sig(potr_sync_get(us, path), &sig);
    if (local != NULL)
        g_propagate_error(error, local);
    otrl_userstate_free(scratch);
    return ok;
}

gboolean
potr_store_refresh_keys(OtrlUserState us, const char *path, gboolean *changed, GError **error)
{
    PotrSync *s = NULL;
    OtrlUserState scratch = NULL;
    PotrFileSig sig;
    gboolean ok = FALSE;

    g_return_val_if_fail(us != NULL && path != NULL, FALSE);
    g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

    if (changed != NULL)
        *changed = FALSE;
    s = potr_sync_get(us, path);
    if (!potr_sync_changed(s))
        return TRUE;
    potr_file_sig_of_path(path, &sig);
    scratch = otrl_userstate_create();
    ok = keys_read(scratch, path, error);
    /* remembered even after a failure: a damaged file is reported once,
     * and the keys in memory are kept */
    potr_sync_set_sig(s, &sig);
    if (ok) {
        keys_take(us, scratch, TRUE);
        if (changed != NULL)
            *changed = TRUE;
    }
    otrl_userstate_free(scratch);
    return ok;
}

/* ------------------------------------------------------------------ */
/* Key generation                                                      */
/* ------------------------------------------------------------------ */

/* One generation. Owned by the main thread (keygen_jobs); the worker only
 * touches NEWKEY (through libotr), CALC_ERR and SOURCE, and the main thread
 * reads them only after joining it or after SOURCE fired. */
typedef struct {
    OtrlUserState us;
    char *path;
    char *accountname;
    char *protocol;
    PotrKeygenDone done;
    gpointer user_data;
    void *newkey; /* libotr's pending key; NULL once handed back */
    gcry_error_t calc_err;
    GMainContext *context;
    GThread *thread;
    GSource *source; /* set by the worker when it is done */
} Keygen;

static GList *keygen_jobs; /* of Keygen*, main thread only */

static Keygen *
keygen_find(const char *accountname, const char *protocol)
{
    GList *l;

    for (l = keygen_jobs; l != NULL; l = l->next) {
        Keygen *job = l->data;

        if (strcmp(job->accountname, accountname) == 0 &&
            strcmp(job->protocol, protocol) == 0)
            return job;
    }
    return NULL;
}

static void
keygen_free(Keygen **jobp)
{
    Keygen *job = *jobp;

    if (job == NULL)
        return;
    if (job->newkey != NULL)
        otrl_privkey_generate_cancelled(job->us, job->newkey);
    if (job->source != NULL)
        g_source_unref(job->source);
    g_main_context_unref(job->context);
    g_free(job->path);
    g_free(job->accountname);
    g_free(job->protocol);
    g_free(job);
    *jobp = NULL;
}

/* libotr writes every key of US plus the new one into FP, then reads FP
 * back into US (forgetting the keys it held first). NEWKEY is consumed. */
static gboolean
keygen_writer(FILE *fp, gpointer data, GError **error)
{
    Keygen *job = data;
    void *newkey = job->newkey;
    gcry_error_t err;

    job->newkey = NULL;
    err = otrl_privkey_generate_finish_FILEp(job->us, newkey, fp);
    if (err) {
        g_set_error(error, POTR_ERROR, POTR_ERROR_IO, _("Could not write the new key: %s"),
                    gcry_strerror(err));
        return FALSE;
    }
    return TRUE;
}

/* Under the key file's lock: take the keys another program wrote since
 * this one last read the file (a damaged file is copied aside by the
 * write and the keys in memory are kept), then write them all with the
 * new one. */
static gboolean
keygen_save(Keygen *job, GError **error)
{
    int lock = potr_file_lock(job->path, error);
    PotrFileSig sig;
    gboolean ok = FALSE;

    if (lock < 0)
        return FALSE;
    potr_store_refresh_keys(job->us, job->path, NULL, NULL);
    ok = potr_file_write_atomic(job->path, keygen_writer, job, error);
    if (ok) {
        potr_file_sig_of_path(job->path, &sig);
        potr_sync_set_sig(potr_sync_get(job->us, job->path), &sig);
    }
    potr_file_unlock(&lock);
    return ok;
}

/* Back on the main loop: store the key, then tell the caller. */
static gboolean
keygen_finish(gpointer data)
{
    Keygen *job = data;
    GError *error = NULL;
    gboolean ok = FALSE;

    g_thread_join(job->thread);
    job->thread = NULL;
    keygen_jobs = g_list_remove(keygen_jobs, job);

    if (job->calc_err) {
        g_set_error(&error, POTR_ERROR, POTR_ERROR_FAILED, _("Could not generate a key: %s"),
                    gcry_strerror(job->calc_err));
    } else if (keygen_save(job, &error)) {
        ok = TRUE;
    } else if (job->newkey == NULL) {
        /* libotr may have dropped US's keys before failing to read them
         * back: take them again from the file, which was left untouched */
        potr_store_load_keys(job->us, job->path, NULL);
    }
    if (job->done != NULL)
        job->done(job->accountname, job->protocol, ok, error, job->user_data);
    g_clear_error(&error);
    keygen_free(&job);
    return G_SOURCE_REMOVE;
}

static gpointer
keygen_thread(gpointer data)
{
    Keygen *job = data;
    GSource *source = g_idle_source_new();

    job->calc_err = otrl_privkey_generate_calculate(job->newkey);
    g_source_set_priority(source, G_PRIORITY_DEFAULT);
    g_source_set_callback(source, keygen_finish, job, NULL);
    job->source = source;
    g_source_attach(source, job->context);
    return NULL;
}

gboolean
potr_store_keygen_start(OtrlUserState us, const char *path,
                        const char *accountname, const char *protocol,
                        PotrKeygenDone done, gpointer user_data,
                        GError **error)
{
    Keygen *job = NULL;
    void *newkey = NULL;
    gcry_error_t err;

    g_return_val_if_fail(us != NULL && path != NULL, FALSE);
    g_return_val_if_fail(accountname != NULL && protocol != NULL, FALSE);
    g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

    err = keygen_find(accountname, protocol) != NULL
              ? gcry_error(GPG_ERR_EEXIST)
              : otrl_privkey_generate_start(us, accountname, protocol, &newkey);
    if (gcry_err_code(err) == GPG_ERR_EEXIST) {
        g_set_error(error, POTR_ERROR, POTR_ERROR_BUSY,
                    _("A key for %s (%s) is already being generated"), accountname, protocol);
        return FALSE;
    }
    if (err) {
        g_set_error(error, POTR_ERROR, POTR_ERROR_FAILED, _("Could not generate a key: %s"),
                    gcry_strerror(err));
        return FALSE;
    }
    job = g_new0(Keygen, 1);
    job->us = us;
    job->path = g_strdup(path);
    job->accountname = g_strdup(accountname);
    job->protocol = g_strdup(protocol);
    job->done = done;
    job->user_data = user_data;
    job->newkey = newkey;
    job->context = g_main_context_ref_thread_default();
    job->thread = g_thread_try_new("potr-keygen", keygen_thread, job, error);
    if (job->thread == NULL) {
        keygen_free(&job);
        return FALSE;
    }
    keygen_jobs = g_list_prepend(keygen_jobs, job);
    return TRUE;
}

gboolean
potr_store_keygen_running(const char *accountname, const char *protocol)
{
    g_return_val_if_fail(accountname != NULL && protocol != NULL, FALSE);

    return keygen_find(accountname, protocol) != NULL;
}

void
potr_store_keygen_cancel_all(OtrlUserState us)
{
    GList *l = keygen_jobs;

    while (l != NULL) {
        GList *next = l->next;
        Keygen *job = l->data;

        if (us == NULL || job->us == us) {
            keygen_jobs = g_list_delete_link(keygen_jobs, l);
            /* the worker only computes; this waits for the key at most */
            g_thread_join(job->thread);
            job->thread = NULL;
            if (job->source != NULL)
                g_source_destroy(job->source);
            keygen_free(&job);
        }
        l = next;
    }
}
