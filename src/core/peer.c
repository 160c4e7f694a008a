/* purple-otr - GPL-2.0-or-later
 * Peers: normalised names and the keys of the core's tables. */
#include "i18n.h"
#include "peer.h"

#include <string.h>

char *
potr_peer_normalize(PurpleAccount *account, const char *who)
{
    const char *norm = NULL;

    g_return_val_if_fail(who != NULL, NULL);
    norm = purple_normalize(account, who);
    return g_strdup(norm != NULL ? norm : who);
}

PurpleAccount *
potr_peer_find_account(const char *accountname, const char *protocol)
{
    if (accountname == NULL || protocol == NULL)
        return NULL;
    return purple_accounts_find(accountname, protocol);
}

char *
potr_peer_account_key(PurpleAccount *account)
{
    g_return_val_if_fail(account != NULL, NULL);
    return g_strdup_printf("%s\n%s", purple_account_get_protocol_id(account),
                           purple_account_get_username(account));
}

char *
potr_peer_key(PurpleAccount *account, const char *who)
{
    char *norm = NULL;
    char *key = NULL;

    g_return_val_if_fail(account != NULL && who != NULL, NULL);
    norm = potr_peer_normalize(account, who);
    key = g_strdup_printf("%s\n%s\n%s", purple_account_get_protocol_id(account),
                          purple_account_get_username(account), norm);
    g_free(norm);
    return key;
}

/* The account part's length ("protocol\naccount"), or -1 if KEY has not
 * three parts. */
static gssize
account_part_length(const char *key)
{
    const char *first = strchr(key, '\n');
    const char *second = first != NULL ? strchr(first + 1, '\n') : NULL;

    return second != NULL ? second - key : -1;
}

const char *
potr_peer_key_buddy(const char *key, PurpleAccount *account)
{
    gssize length = 0;
    char *own = NULL;
    gboolean same = TRUE;

    g_return_val_if_fail(key != NULL, NULL);
    length = account_part_length(key);
    if (length < 0)
        return NULL;
    if (account != NULL) {
        own = potr_peer_account_key(account);
        same = strlen(own) == (gsize)length && strncmp(own, key, (gsize)length) == 0;
        g_free(own);
    }
    return same ? key + length + 1 : NULL;
}

PurpleAccount *
potr_peer_key_account(const char *key)
{
    gssize length = 0;
    char **parts = NULL;
    PurpleAccount *account = NULL;

    g_return_val_if_fail(key != NULL, NULL);
    length = account_part_length(key);
    if (length < 0)
        return NULL;
    parts = g_strsplit(key, "\n", 3);
    account = potr_peer_find_account(parts[1], parts[0]);
    g_strfreev(parts);
    return account;
}
