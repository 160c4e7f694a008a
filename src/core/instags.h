/* purple-otr - GPL-2.0-or-later
 * Instance tags: the instance-tag file (libotr's format), read strictly
 * and written merged with what another program wrote. */
#ifndef POTR_INSTAGS_H
#define POTR_INSTAGS_H

#include <glib.h>
#include <libotr/proto.h>
#include <libotr/userstate.h>

/* Read the instance tags at PATH into US, replacing the tags US held (a
 * missing file is not an error). Stricter than libotr, which skips
 * malformed lines silently: such lines are skipped and mark PATH damaged
 * (a copy is kept before it is next written). FALSE with POTR_ERROR_IO if
 * PATH exists but cannot be read; it is marked damaged and US unchanged. */
gboolean potr_store_load_instags(OtrlUserState us, const char *path, GError **error);

/* Create an instance tag for ACCOUNTNAME/PROTOCOL in US (replacing the
 * account's tag, if it had one) and write all tags to PATH: under the
 * lock, the tags on disk, plus US's tags of accounts the file lacks, plus
 * the tags US created and has not written yet; accounts US has no tag for
 * take the file's. If the write fails, FALSE is returned with ERROR and
 * the new tag stays in US for this session and is written by the next
 * write (a tag is not a secret; the file keeps the old ones). */
gboolean potr_store_new_instag(OtrlUserState us, const char *path,
                               const char *accountname, const char *protocol,
                               GError **error);

#endif /* POTR_INSTAGS_H */
