/* purple-otr - GPL-2.0-or-later
 * Test stand-in for pidgin-otr: a plugin that does nothing but carry
 * pidgin-otr's id ("otr") and name, so the tests can check what a user who
 * still has pidgin-otr enabled is told. Never installed. */
#include <config.h>

#include <glib.h>
#include <purple.h>

static PurplePluginInfo info = {
    .magic = PURPLE_PLUGIN_MAGIC,
    .major_version = PURPLE_MAJOR_VERSION,
    .minor_version = PURPLE_MINOR_VERSION,
    .type = PURPLE_PLUGIN_STANDARD,
    .priority = PURPLE_PRIORITY_DEFAULT,
    .id = "otr",
    .name = "Off-the-Record Messaging",
    .version = "4.0.2",
    .summary = "Test stand-in for pidgin-otr",
    .description = "Test only; never installed.",
    .author = "purple-otr authors",
};

static void
init_plugin(PurplePlugin *plugin)
{
}

PURPLE_INIT_PLUGIN(potr_fake_legacy, init_plugin, info)
