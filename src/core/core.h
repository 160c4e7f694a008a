/* purple-otr - GPL-2.0-or-later
 * Core state: the process's one libotr user state, the core plugin's
 * handle, the three files and their saving and re-reading. A leaf of the
 * layers: it knows libotr, libpurple and the store only; the engine
 * (engine.c) fills it at start and empties it at stop. */
#ifndef POTR_CORE_H
#define POTR_CORE_H

#include <glib.h>
#include <purple.h>
#include <libotr/proto.h>
#include <libotr/userstate.h>

#include "potr.h"

/* Begin the state for PLUGIN with the user state US (taken over): builds
 * the file paths in purple_user_dir(). Only the engine calls it. */
void potr_core_state_begin(PurplePlugin *plugin, OtrlUserState us);

/* End the state: frees the user state and the paths. Safe to call twice. */
void potr_core_state_end(void);

/* The process's one user state; NULL when the core is not running. */
OtrlUserState potr_core_userstate(void);

/* The context of WHO on ACCOUNT for INSTANCE (OTRL_INSTAG_MASTER,
 * OTRL_INSTAG_BEST, ... or a tag). ADD creates the master context if
 * missing. NULL if none. */
ConnContext *potr_core_find_context(PurpleAccount *account, const char *who,
                                    otrl_instag_t instance, gboolean add);

/* Full paths of the three files in purple_user_dir(); static strings,
 * valid while the core runs. */
const char *potr_core_path_keys(void);
const char *potr_core_path_fingerprints(void);
const char *potr_core_path_instags(void);

/* Called after another program's change of the fingerprint file was read
 * (levels may have changed). Why a callback: the levels are the session
 * layer's, above this one; the engine connects the two. NULL: none. */
void potr_core_set_trust_listener(void (*listener)(void));

/* Write the fingerprint file now (atomic, merged with what another
 * program wrote, whose changes are taken first as by
 * potr_core_refresh_trust()); failure is reported to the user. Emits
 * "fingerprints-changed". */
void potr_core_save_fingerprints(void);

/* Read the fingerprint file again if another program changed it (one
 * stat() otherwise), emitting "fingerprints-changed" and calling the
 * trust listener. Call before trust is used; safe inside libotr's
 * callbacks. */
void potr_core_refresh_trust(void);

/* potr_core_refresh_trust(), and the key file too. Never inside libotr's
 * callbacks (libotr may hold a key that a re-read frees). */
void potr_core_refresh_files(void);

/* Tell the user that the file WHAT could not be read (ERROR), in the UI's
 * way (a dialog in Pidgin, a window in Finch, a debug line headless). */
void potr_core_report_file_error(const char *what, const GError *error);

#endif /* POTR_CORE_H */
