/* purple-otr - GPL-2.0-or-later
 * Core: the one engine of the process (libotr user state, app ops, files),
 * its start and stop, and helpers every core module shares. */
#ifndef POTR_ENGINE_H
#define POTR_ENGINE_H

#include <glib.h>
#include <purple.h>
#include <libotr/proto.h>
#include <libotr/userstate.h>
#include <libotr/message.h>

#include "potr.h"

/* potr_core_start and potr_core_stop: public, in potr.h. */

/* The process's one user state; NULL when the core is not running. */
OtrlUserState potr_core_userstate(void);

/* The app ops handed to libotr. */
const OtrlMessageAppOps *potr_core_ops(void);

/* Full paths of the three files in purple_user_dir(); static strings,
 * valid while the core runs. */
const char *potr_core_path_keys(void);
const char *potr_core_path_fingerprints(void);
const char *potr_core_path_instags(void);

/* Write the fingerprint file now (atomic, merged with what another
 * program wrote, whose changes are taken first as by
 * potr_core_refresh_trust()); failure is reported to the user. Emits
 * "fingerprints-changed". */
void potr_core_save_fingerprints(void);

/* Read the fingerprint file again if another program changed it (one
 * stat() otherwise), emitting "fingerprints-changed" and changed levels.
 * Call before trust is used; safe inside libotr's callbacks. */
void potr_core_refresh_trust(void);

/* potr_core_refresh_trust(), and the key file too. Never inside libotr's
 * callbacks (libotr may hold a key that a re-read frees). */
void potr_core_refresh_files(void);

/* Emit "level-changed" for CONV (if the level really changed since the
 * last emission for it). */
void potr_core_emit_level(PurpleConversation *conv);

#endif /* POTR_ENGINE_H */
