/* purple-otr - GPL-2.0-or-later
 * Levels: the colour, padlock icon and words of each trust level, and the
 * window that explains them. */
#include "i18n.h"
#include "potr-gtk.h"

#include <math.h>

/* Dark enough to read on a light theme's background (contrast >= 4.5:1
 * against white), and told apart by the icon's shape too, never by
 * colour alone. */
static const char *const level_colors[] = {
    [POTR_LEVEL_NOT_PRIVATE] = "#b51c28",
    [POTR_LEVEL_UNVERIFIED] = "#a84300",
    [POTR_LEVEL_PRIVATE] = "#1c7a48",
    [POTR_LEVEL_FINISHED] = "#55535b",
};

static GtkWidget *help_window = NULL;

static PotrLevel
clamp_level(PotrLevel level)
{
    return (guint)level < G_N_ELEMENTS(level_colors) ? level : POTR_LEVEL_NOT_PRIVATE;
}

const char *
potr_gtk_level_color(PotrLevel level)
{
    return level_colors[clamp_level(level)];
}

const char *
potr_gtk_level_explanation(PotrLevel level)
{
    switch (clamp_level(level)) {
    case POTR_LEVEL_UNVERIFIED:
        return _("Encrypted, but you have not verified that your buddy is who they claim to be: "
                 "verify them to be sure nobody sits in between.");
    case POTR_LEVEL_PRIVATE:
        return _("Encrypted, and your buddy is verified: only the two of you can read this "
                 "conversation.");
    case POTR_LEVEL_FINISHED:
        /* both cases of Finished (README, "Sessions follow presence"):
         * an end by the buddy refuses what is typed (session.c), a
         * conversation on hold holds it (held.c) */
        return _("Your buddy ended the private conversation: what you type is not sent until "
                 "you end or refresh it. Or it is on hold (your buddy went offline, or you lost "
                 "your connection): what you type waits, and is sent encrypted once the "
                 "conversation is private again.");
    case POTR_LEVEL_NOT_PRIVATE:
    default:
        return _("Messages are sent in clear: the server, and anyone who can read it, sees "
                 "them.");
    }
}

static void
rounded_rect(cairo_t *cr, double x, double y, double w, double h, double r)
{
    cairo_new_sub_path(cr);
    cairo_arc(cr, x + w - r, y + r, r, -M_PI / 2, 0);
    cairo_arc(cr, x + w - r, y + h - r, r, 0, M_PI / 2);
    cairo_arc(cr, x + r, y + h - r, r, M_PI / 2, M_PI);
    cairo_arc(cr, x + r, y + r, r, M_PI, 3 * M_PI / 2);
    cairo_close_path(cr);
}

/* A padlock: closed for the two private levels, open otherwise. */
static void
draw_padlock(cairo_t *cr, PotrLevel level, double s)
{
    GdkColor color;
    gboolean open = level == POTR_LEVEL_NOT_PRIVATE || level == POTR_LEVEL_FINISHED;
    double r = 0.18 * s;
    double top = open ? 0.22 * s : 0.34 * s; /* centre of the arch */

    gdk_color_parse(potr_gtk_level_color(level), &color);
    cairo_set_source_rgb(cr, color.red / 65535.0, color.green / 65535.0, color.blue / 65535.0);
    /* shackle: an arch over the body; open = lifted, its left leg out */
    cairo_set_line_width(cr, 0.12 * s);
    cairo_set_line_cap(cr, CAIRO_LINE_CAP_BUTT);
    cairo_move_to(cr, 0.5 * s - r, open ? top + 0.08 * s : 0.50 * s);
    cairo_line_to(cr, 0.5 * s - r, top);
    cairo_arc(cr, 0.5 * s, top, r, M_PI, 2 * M_PI);
    cairo_line_to(cr, 0.5 * s + r, 0.50 * s);
    cairo_stroke(cr);
    /* body */
    rounded_rect(cr, 0.14 * s, 0.46 * s, 0.72 * s, 0.50 * s, 0.10 * s);
    cairo_fill(cr);
    /* keyhole */
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_arc(cr, 0.50 * s, 0.66 * s, 0.07 * s, 0, 2 * M_PI);
    cairo_fill(cr);
    cairo_rectangle(cr, 0.47 * s, 0.66 * s, 0.06 * s, 0.18 * s);
    cairo_fill(cr);
}

/* cairo's premultiplied native-endian ARGB to GdkPixbuf's straight RGBA. */
static GdkPixbuf *
pixbuf_from_surface(cairo_surface_t *surface)
{
    int width = cairo_image_surface_get_width(surface);
    int height = cairo_image_surface_get_height(surface);
    int stride = cairo_image_surface_get_stride(surface);
    const guchar *src = NULL;
    GdkPixbuf *pixbuf = gdk_pixbuf_new(GDK_COLORSPACE_RGB, TRUE, 8, width, height);
    int rowstride = gdk_pixbuf_get_rowstride(pixbuf);
    guchar *dst = gdk_pixbuf_get_pixels(pixbuf);

    cairo_surface_flush(surface);
    src = cairo_image_surface_get_data(surface);
    for (int y = 0; y < height; y++) {
        for (int x = 0; x < width; x++) {
            guint32 p = *(const guint32 *)(const void *)(src + y * stride + 4 * x);
            guint a = p >> 24;
            guchar *out = dst + y * rowstride + 4 * x;

            out[0] = a != 0 ? (guchar)((((p >> 16) & 0xff) * 255 + a / 2) / a) : 0;
            out[1] = a != 0 ? (guchar)((((p >> 8) & 0xff) * 255 + a / 2) / a) : 0;
            out[2] = a != 0 ? (guchar)(((p & 0xff) * 255 + a / 2) / a) : 0;
            out[3] = (guchar)a;
        }
    }
    return pixbuf;
}

GdkPixbuf *
potr_gtk_level_icon(PotrLevel level, int size)
{
    cairo_surface_t *surface = NULL;
    cairo_t *cr = NULL;
    GdkPixbuf *pixbuf = NULL;

    g_return_val_if_fail(size > 0 && size <= 512, NULL);
    surface = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, size, size);
    cr = cairo_create(surface);
    draw_padlock(cr, clamp_level(level), size);
    cairo_destroy(cr);
    pixbuf = pixbuf_from_surface(surface);
    cairo_surface_destroy(surface);
    return pixbuf;
}

static GtkWidget *
level_row(PotrLevel level)
{
    GtkWidget *hbox = gtk_hbox_new(FALSE, 12);
    GtkWidget *vbox = gtk_vbox_new(FALSE, 2);
    GdkPixbuf *icon = potr_gtk_level_icon(level, 32);
    GtkWidget *image = gtk_image_new_from_pixbuf(icon);
    char *title = g_markup_printf_escaped("<span weight=\"bold\" foreground=\"%s\">%s</span>",
                                          potr_gtk_level_color(level), potr_level_name(level));

    g_object_unref(icon);
    gtk_misc_set_alignment(GTK_MISC(image), 0.5, 0.0);
    gtk_box_pack_start(GTK_BOX(hbox), image, FALSE, FALSE, 0);
    gtk_box_pack_start(GTK_BOX(vbox), potr_gtk_label_new(title, TRUE), FALSE, FALSE, 0);
    gtk_box_pack_start(GTK_BOX(vbox), potr_gtk_label_new(potr_gtk_level_explanation(level), FALSE),
                       FALSE, FALSE, 0);
    gtk_box_pack_start(GTK_BOX(hbox), vbox, TRUE, TRUE, 0);
    g_free(title);
    return hbox;
}

void
potr_gtk_levels_help(GtkWindow *parent)
{
    GtkWidget *vbox = NULL;

    if (help_window != NULL) {
        gtk_window_present(GTK_WINDOW(help_window));
        return;
    }
    help_window = gtk_dialog_new_with_buttons(_("What the OTR levels mean"), parent,
                                              GTK_DIALOG_NO_SEPARATOR, GTK_STOCK_CLOSE,
                                              GTK_RESPONSE_CLOSE, NULL);
    gtk_widget_set_name(help_window, POTR_GTK_NAME_LEVELS);
    gtk_window_set_role(GTK_WINDOW(help_window), "potr-levels");
    gtk_window_set_default_size(GTK_WINDOW(help_window), 440, -1);
    vbox = gtk_vbox_new(FALSE, 12);
    gtk_container_set_border_width(GTK_CONTAINER(vbox), 12);
    gtk_box_pack_start(GTK_BOX(vbox),
                       potr_gtk_label_new(_("Off-the-Record (OTR) encrypts your conversation so "
                                            "that only you and your buddy can read it. The button "
                                            "in the conversation window shows how private it is:"),
                                          FALSE),
                       FALSE, FALSE, 0);
    for (PotrLevel level = POTR_LEVEL_NOT_PRIVATE; level <= POTR_LEVEL_FINISHED; level++)
        gtk_box_pack_start(GTK_BOX(vbox), level_row(level), FALSE, FALSE, 0);
    gtk_box_pack_start(GTK_BOX(GTK_DIALOG(help_window)->vbox), vbox, TRUE, TRUE, 0);
    g_signal_connect(help_window, "response", G_CALLBACK(gtk_widget_destroy), NULL);
    g_signal_connect(help_window, "destroy", G_CALLBACK(gtk_widget_destroyed), &help_window);
    gtk_widget_show_all(help_window);
}

void
potr_gtk_levels_help_close(void)
{
    if (help_window != NULL)
        gtk_widget_destroy(help_window);
}
