/* purple-otr - GPL-2.0-or-later
 * The Pidgin plugin's modules and what each offers the others. Everything
 * here runs in GTK's main loop and talks to the core through potr.h only. */
#ifndef POTR_GTK_H
#define POTR_GTK_H

#include <glib.h>
#include <gtk/gtk.h>
#include <purple.h>
#include <gtkconv.h>

#include "potr.h"

G_BEGIN_DECLS

/* Widget names: stable handles for gtkrc themes and for the tests, which
 * find the widgets by name in the real widget tree. */
#define POTR_GTK_NAME_BUTTON "potr-button"
#define POTR_GTK_NAME_MENU "potr-menu"
#define POTR_GTK_NAME_AUTH "potr-auth-dialog"
#define POTR_GTK_NAME_KEYGEN "potr-keygen-dialog"
#define POTR_GTK_NAME_BUDDY "potr-buddy-dialog"
#define POTR_GTK_NAME_LEVELS "potr-levels-dialog"
#define POTR_GTK_NAME_PREFS "potr-prefs"

/* ---- levels.c: how a trust level looks ---- */

/* Text colour of LEVEL's label, "#rrggbb" (static). */
const char *potr_gtk_level_color(PotrLevel level);

/* LEVEL's padlock icon, SIZE pixels square, drawn at run time (no image
 * files to install). Returns a new reference: g_object_unref() it. */
GdkPixbuf *potr_gtk_level_icon(PotrLevel level, int size);

/* One or two translated sentences saying what LEVEL means (static). */
const char *potr_gtk_level_explanation(PotrLevel level);

/* Show the window that explains the four levels (one window at most;
 * presented again if open). PARENT may be NULL. */
void potr_gtk_levels_help(GtkWindow *parent);
void potr_gtk_levels_help_close(void);

/* ---- conv-button.c: the level button in each conversation window ---- */

/* Add the button to every open IM and to every new one; follow the
 * core's "level-changed" signal and the "show button" preference. */
void potr_gtk_button_init(PurplePlugin *plugin);

/* Remove every button. */
void potr_gtk_button_uninit(void);

/* Update every button now (after a per-buddy setting changed). */
void potr_gtk_button_refresh(void);


/* ---- conv-menu.c: the OTR menu (button popup and window menubar) ---- */

/* Fill MENU (emptied first) with the OTR actions for CONV: start or
 * refresh, end, authenticate, instances, what the levels mean. */
void potr_gtk_menu_fill(GtkMenu *menu, PurpleConversation *conv);

/* The "OTR" entry in each conversation window's menubar, kept in step
 * with the active tab and its level. */
void potr_gtk_menubar_init(PurplePlugin *plugin);
void potr_gtk_menubar_uninit(void);

/* ---- auth-dialog.c: verifying a buddy ---- */

/* Open (or present) the dialog that verifies CONV's buddy: method
 * chooser (question and answer, shared secret, fingerprints by hand). */
void potr_gtk_auth_open(PurpleConversation *conv);

/* Follow the core's "smp-request" (answer the peer's request in our own
 * dialog) and "smp-event" (progress and outcome). */
void potr_gtk_auth_init(PurplePlugin *plugin);

/* Close every authentication dialog. */
void potr_gtk_auth_uninit(void);

/* ---- keygen.c: a key is being made ---- */

/* Show a window per account while its key is generated ("key-generation"). */
void potr_gtk_keygen_init(PurplePlugin *plugin);
void potr_gtk_keygen_uninit(void);

/* ---- prefs.c, keys-page.c, fingerprints-page.c: the plugin's settings ---- */

/* The plugin's configuration frame (Pidgin's "Configure Plugin"). */
GtkWidget *potr_gtk_prefs_frame(PurplePlugin *plugin);

/* "My private keys": per account, the fingerprint, Copy and Generate. */
GtkWidget *potr_gtk_keys_page_new(void);

/* "Known fingerprints": verify, forget, start and end. */
GtkWidget *potr_gtk_fingerprints_page_new(void);

/* A row of radio buttons choosing one of the four policies; CHANGED is
 * called with DATA when the user picks another one. Returns the box;
 * potr_gtk_policy_radios_get/set read and set it. */
GtkWidget *potr_gtk_policy_radios_new(PotrPolicy policy, GCallback changed, gpointer data);
PotrPolicy potr_gtk_policy_radios_get(GtkWidget *box);

/* ---- buddy-menu.c: per-buddy settings from the buddy list ---- */

/* Buddy list menu: the native verify dialog and "OTR settings" per buddy. */
void potr_gtk_buddy_menu_init(PurplePlugin *plugin);
void potr_gtk_buddy_menu_uninit(void);

/* ---- util (gtk-plugin.c) ---- */

/* The Pidgin conversation (window tab) showing CONV, or NULL. */
PidginConversation *potr_gtk_conv_gtk(PurpleConversation *conv);

/* The toplevel window of CONV's tab, or NULL. */
GtkWindow *potr_gtk_conv_window(PurpleConversation *conv);

/* Write an error into CONV (as the core does) and free ERROR. */
void potr_gtk_report(PurpleConversation *conv, GError *error);

/* A label that wraps, left aligned, with MARKUP (or plain TEXT if
 * MARKUP is FALSE). */
GtkWidget *potr_gtk_label_new(const char *text, gboolean markup);

G_END_DECLS

#endif /* POTR_GTK_H */
