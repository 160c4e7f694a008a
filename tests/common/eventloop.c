/* purple-otr - GPL-2.0-or-later
 * libpurple's event loop on GLib's main loop, for test programs and benches. */
#include "eventloop.h"

#include <glib.h>

typedef struct {
    PurpleInputFunction func;
    gpointer data;
} Input;

#define READ_CONDITIONS (G_IO_IN | G_IO_PRI | G_IO_HUP | G_IO_ERR | G_IO_NVAL)
#define WRITE_CONDITIONS (G_IO_OUT | G_IO_HUP | G_IO_ERR | G_IO_NVAL)

static gboolean
input_ready(GIOChannel *channel, GIOCondition cond, gpointer data)
{
    Input *input = data;
    PurpleInputCondition what = 0;

    if (cond & READ_CONDITIONS)
        what |= PURPLE_INPUT_READ;
    if (cond & WRITE_CONDITIONS)
        what |= PURPLE_INPUT_WRITE;
    input->func(input->data, g_io_channel_unix_get_fd(channel), what);
    return G_SOURCE_CONTINUE;
}

static guint
input_add(gint fd, PurpleInputCondition cond, PurpleInputFunction func, gpointer data)
{
    Input *input = g_new0(Input, 1);
    GIOChannel *channel = g_io_channel_unix_new(fd);
    GIOCondition watch = 0;
    guint id = 0;

    if (cond & PURPLE_INPUT_READ)
        watch |= READ_CONDITIONS;
    if (cond & PURPLE_INPUT_WRITE)
        watch |= WRITE_CONDITIONS;
    input->func = func;
    input->data = data;
    id = g_io_add_watch_full(channel, G_PRIORITY_DEFAULT, watch, input_ready, input, g_free);
    g_io_channel_unref(channel);
    return id;
}

static PurpleEventLoopUiOps loop_ops = {
    .timeout_add = g_timeout_add,
    .timeout_remove = g_source_remove,
    .input_add = input_add,
    .input_remove = g_source_remove,
    .input_get_error = NULL,
    .timeout_add_seconds = g_timeout_add_seconds,
};

PurpleEventLoopUiOps *
potr_test_eventloop(void)
{
    return &loop_ops;
}
