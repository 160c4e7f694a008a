/* purple-otr - GPL-2.0-or-later
 * Preferences: the plugin's configuration frame (default policy, logging,
 * the button) with the "My private keys" and "Known fingerprints" pages,
 * and the policy chooser that the per-buddy dialog shares. */
#include "i18n.h"
#include "potr-gtk.h"


#define RADIO_KEY "potr-policy-radio-%d"

static const char *const policy_labels[] = {
    [POTR_POLICY_NEVER] = N_("_Never: do not use OTR"),
    [POTR_POLICY_MANUAL] = N_("_Manually: only when I start it from the OTR menu"),
    [POTR_POLICY_OPPORTUNISTIC] = N_("_Automatically: whenever the buddy has OTR (recommended)"),
    [POTR_POLICY_ALWAYS] = N_("Al_ways: require it, never send a message in clear"),
};

static const char *const policy_names[] = {
    [POTR_POLICY_NEVER] = "potr-policy-never",
    [POTR_POLICY_MANUAL] = "potr-policy-manual",
    [POTR_POLICY_OPPORTUNISTIC] = "potr-policy-opportunistic",
    [POTR_POLICY_ALWAYS] = "potr-policy-always",
};

static GtkWidget *
radio_of(GtkWidget *box, PotrPolicy policy)
{
    char key[32];

    g_snprintf(key, sizeof key, RADIO_KEY, (int)policy);
    return g_object_get_data(G_OBJECT(box), key);
}

GtkWidget *
potr_gtk_policy_radios_new(PotrPolicy policy, GCallback changed, gpointer data)
{
    GtkWidget *box = gtk_vbox_new(FALSE, 2);
    GSList *group = NULL;

    for (PotrPolicy p = POTR_POLICY_NEVER; p <= POTR_POLICY_ALWAYS; p++) {
        GtkWidget *radio = gtk_radio_button_new_with_mnemonic(group, _(policy_labels[p]));
        char key[32];

        gtk_widget_set_name(radio, policy_names[p]);
        group = gtk_radio_button_get_group(GTK_RADIO_BUTTON(radio));
        gtk_toggle_button_set_active(GTK_TOGGLE_BUTTON(radio), p == policy);
        g_snprintf(key, sizeof key, RADIO_KEY, (int)p);
        g_object_set_data(G_OBJECT(box), key, radio);
        gtk_box_pack_start(GTK_BOX(box), radio, FALSE, FALSE, 0);
        if (changed != NULL)
            g_signal_connect(radio, "toggled", changed, data);
    }
    return box;
}

PotrPolicy
potr_gtk_policy_radios_get(GtkWidget *box)
{
    for (PotrPolicy p = POTR_POLICY_NEVER; p <= POTR_POLICY_ALWAYS; p++)
        if (gtk_toggle_button_get_active(GTK_TOGGLE_BUTTON(radio_of(box, p))))
            return p;
    return POTR_POLICY_OPPORTUNISTIC;
}

/* The global policy is kept in pidgin-otr's three flags; "never" leaves
 * the other two as they were, as pidgin-otr's own dialog does. */
static void
on_global_policy(GtkToggleButton *radio, GtkWidget *box)
{
    PotrPolicy policy = POTR_POLICY_OPPORTUNISTIC;

    if (!gtk_toggle_button_get_active(radio))
        return;
    policy = potr_gtk_policy_radios_get(box);
    purple_prefs_set_bool(POTR_PREF_ENABLED, policy != POTR_POLICY_NEVER);
    if (policy == POTR_POLICY_NEVER)
        return;
    purple_prefs_set_bool(POTR_PREF_AUTOMATIC, policy != POTR_POLICY_MANUAL);
    purple_prefs_set_bool(POTR_PREF_ONLYPRIVATE, policy == POTR_POLICY_ALWAYS);
}

static void
on_check(GtkToggleButton *check, const char *pref)
{
    purple_prefs_set_bool(pref, gtk_toggle_button_get_active(check));
}

static GtkWidget *
pref_check(const char *label, const char *pref, const char *name)
{
    GtkWidget *check = gtk_check_button_new_with_mnemonic(label);

    gtk_widget_set_name(check, name);
    gtk_toggle_button_set_active(GTK_TOGGLE_BUTTON(check), purple_prefs_get_bool(pref));
    g_signal_connect(check, "toggled", G_CALLBACK(on_check), (gpointer)pref);
    return check;
}

static GtkWidget *
section(const char *title, GtkWidget *body)
{
    GtkWidget *vbox = gtk_vbox_new(FALSE, 6);
    GtkWidget *align = gtk_alignment_new(0, 0, 1, 1);
    char *markup = g_markup_printf_escaped("<b>%s</b>", title);

    gtk_alignment_set_padding(GTK_ALIGNMENT(align), 0, 0, 12, 0);
    gtk_container_add(GTK_CONTAINER(align), body);
    gtk_box_pack_start(GTK_BOX(vbox), potr_gtk_label_new(markup, TRUE), FALSE, FALSE, 0);
    gtk_box_pack_start(GTK_BOX(vbox), align, FALSE, FALSE, 0);
    g_free(markup);
    return vbox;
}

static GtkWidget *
settings_page(void)
{
    GtkWidget *vbox = gtk_vbox_new(FALSE, 18);
    GtkWidget *radios = potr_gtk_policy_radios_new(potr_policy_global(), NULL, NULL);
    GtkWidget *options = gtk_vbox_new(FALSE, 2);

    for (PotrPolicy p = POTR_POLICY_NEVER; p <= POTR_POLICY_ALWAYS; p++)
        g_signal_connect(radio_of(radios, p), "toggled", G_CALLBACK(on_global_policy), radios);
    gtk_container_set_border_width(GTK_CONTAINER(vbox), 12);
    gtk_box_pack_start(GTK_BOX(vbox), section(_("Private conversations with every buddy"), radios),
                       FALSE, FALSE, 0);
    gtk_box_pack_start(GTK_BOX(options),
                       pref_check(_("Do not _log private (OTR) conversations"), POTR_PREF_AVOIDLOGGING,
                                  "potr-pref-nolog"),
                       FALSE, FALSE, 0);
    gtk_box_pack_start(GTK_BOX(options),
                       pref_check(_("_Hide the length of private messages (pad them; a little more data)"),
                                  POTR_PREF_PADDING, "potr-pref-padding"),
                       FALSE, FALSE, 0);
    gtk_box_pack_start(GTK_BOX(options),
                       pref_check(_("Tell the server when I _type in private conversations"),
                                  POTR_PREF_CHATSTATES, "potr-pref-chatstates"),
                       FALSE, FALSE, 0);
    gtk_box_pack_start(GTK_BOX(options),
                       pref_check(_("Show the OTR _button in conversation windows"),
                                  POTR_PREF_SHOWBUTTON, "potr-pref-button"),
                       FALSE, FALSE, 0);
    gtk_box_pack_start(GTK_BOX(vbox), section(_("Options"), options), FALSE, FALSE, 0);
    gtk_box_pack_start(GTK_BOX(vbox),
                       potr_gtk_label_new(_("A buddy can have settings of their own: right-click "
                                            "them in the buddy list, then OTR \xe2\x86\x92 Settings "
                                            "for this buddy."), FALSE),
                       FALSE, FALSE, 0);
    return vbox;
}

/* Pidgin shows a configuration frame in a small scrolled dialog; ours has
 * a list of fingerprints that wants room: give it once, when shown. */
static void
on_frame_mapped(GtkWidget *frame, gpointer data)
{
    GtkWidget *top = gtk_widget_get_toplevel(frame);

    g_signal_handlers_disconnect_by_func(frame, G_CALLBACK(on_frame_mapped), data);
    if (GTK_IS_WINDOW(top) && top->allocation.width < 720)
        gtk_window_resize(GTK_WINDOW(top), 760, 520);
}

GtkWidget *
potr_gtk_prefs_frame(PurplePlugin *plugin)
{
    GtkWidget *notebook = gtk_notebook_new();

    gtk_widget_set_name(notebook, POTR_GTK_NAME_PREFS);
    gtk_notebook_append_page(GTK_NOTEBOOK(notebook), settings_page(),
                             gtk_label_new_with_mnemonic(_("_Settings")));
    gtk_notebook_append_page(GTK_NOTEBOOK(notebook), potr_gtk_keys_page_new(),
                             gtk_label_new_with_mnemonic(_("My private _keys")));
    gtk_notebook_append_page(GTK_NOTEBOOK(notebook), potr_gtk_fingerprints_page_new(),
                             gtk_label_new_with_mnemonic(_("Known _fingerprints")));
    g_signal_connect(notebook, "map", G_CALLBACK(on_frame_mapped), NULL);
    gtk_widget_show_all(notebook);
    return notebook;
}
