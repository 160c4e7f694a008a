/* purple-otr - GPL-2.0-or-later
 * Policy: pidgin-otr's preferences (global and per buddy) mapped to OTR policies. */
#include "i18n.h"
#include "policy.h"

#include <string.h>

/* Per-buddy settings, stored in the buddy list node as pidgin-otr does. */
#define POTR_NODE_OVERRIDE "OTR/overridedefault"
#define POTR_NODE_ENABLED "OTR/enabled"
#define POTR_NODE_AUTOMATIC "OTR/automatic"
#define POTR_NODE_ONLYPRIVATE "OTR/onlyprivate"
#define POTR_NODE_AVOIDLOGGING "OTR/avoidloggingotr"

static const char *const policy_names[] = {
    [POTR_POLICY_NEVER] = "never",
    [POTR_POLICY_MANUAL] = "manual",
    [POTR_POLICY_OPPORTUNISTIC] = "opportunistic",
    [POTR_POLICY_ALWAYS] = "always",
};

void
potr_policy_init_prefs(void)
{
    purple_prefs_add_none(POTR_PREF_ROOT);
    purple_prefs_add_bool(POTR_PREF_ENABLED, TRUE);
    purple_prefs_add_bool(POTR_PREF_AUTOMATIC, TRUE);
    purple_prefs_add_bool(POTR_PREF_ONLYPRIVATE, FALSE);
    purple_prefs_add_bool(POTR_PREF_AVOIDLOGGING, TRUE);
    purple_prefs_add_bool(POTR_PREF_SHOWBUTTON, TRUE);
    purple_prefs_add_bool(POTR_PREF_PADDING, TRUE);
    purple_prefs_add_bool(POTR_PREF_CHATSTATES, FALSE);
}

PotrPolicy
potr_policy_from_flags(gboolean enabled, gboolean automatic, gboolean onlyprivate)
{
    if (!enabled)
        return POTR_POLICY_NEVER;
    if (onlyprivate)
        return POTR_POLICY_ALWAYS;
    return automatic ? POTR_POLICY_OPPORTUNISTIC : POTR_POLICY_MANUAL;
}

PotrPolicy
potr_policy_global(void)
{
    return potr_policy_from_flags(purple_prefs_get_bool(POTR_PREF_ENABLED),
                                  purple_prefs_get_bool(POTR_PREF_AUTOMATIC),
                                  purple_prefs_get_bool(POTR_PREF_ONLYPRIVATE));
}

gboolean
potr_policy_buddy_override(PurpleBuddy *buddy, PotrPolicy *policy)
{
    PurpleBlistNode *node = (PurpleBlistNode *)buddy;

    if (buddy == NULL || !purple_blist_node_get_bool(node, POTR_NODE_OVERRIDE))
        return FALSE;
    if (policy != NULL)
        *policy = potr_policy_from_flags(purple_blist_node_get_bool(node, POTR_NODE_ENABLED),
                                         purple_blist_node_get_bool(node, POTR_NODE_AUTOMATIC),
                                         purple_blist_node_get_bool(node, POTR_NODE_ONLYPRIVATE));
    return TRUE;
}

void
potr_policy_set_buddy(PurpleBuddy *buddy, gboolean use_default, PotrPolicy policy)
{
    PurpleBlistNode *node = (PurpleBlistNode *)buddy;

    g_return_if_fail(buddy != NULL);

    if (use_default) {
        purple_blist_node_set_bool(node, POTR_NODE_OVERRIDE, FALSE);
        return;
    }
    /* keep "don't log" as it was: a policy change is not a logging change */
    if (!purple_blist_node_get_bool(node, POTR_NODE_OVERRIDE))
        purple_blist_node_set_bool(node, POTR_NODE_AVOIDLOGGING,
                                   purple_prefs_get_bool(POTR_PREF_AVOIDLOGGING));
    purple_blist_node_set_bool(node, POTR_NODE_OVERRIDE, TRUE);
    purple_blist_node_set_bool(node, POTR_NODE_ENABLED, policy != POTR_POLICY_NEVER);
    purple_blist_node_set_bool(node, POTR_NODE_AUTOMATIC,
                               policy == POTR_POLICY_OPPORTUNISTIC || policy == POTR_POLICY_ALWAYS);
    purple_blist_node_set_bool(node, POTR_NODE_ONLYPRIVATE, policy == POTR_POLICY_ALWAYS);
}

PotrPolicy
potr_policy_for(PurpleAccount *account, const char *who)
{
    PotrPolicy policy = POTR_POLICY_NEVER;
    PurpleBuddy *buddy = NULL;

    if (account != NULL && who != NULL)
        buddy = purple_find_buddy(account, who);
    if (potr_policy_buddy_override(buddy, &policy))
        return policy;
    return potr_policy_global();
}

gboolean
potr_policy_avoid_logging(PurpleAccount *account, const char *who)
{
    PurpleBuddy *buddy = NULL;

    if (account != NULL && who != NULL)
        buddy = purple_find_buddy(account, who);
    if (buddy != NULL && purple_blist_node_get_bool((PurpleBlistNode *)buddy, POTR_NODE_OVERRIDE))
        return purple_blist_node_get_bool((PurpleBlistNode *)buddy, POTR_NODE_AVOIDLOGGING);
    return purple_prefs_get_bool(POTR_PREF_AVOIDLOGGING);
}

OtrlPolicy
potr_policy_to_otrl(PotrPolicy policy)
{
    switch (policy) {
    case POTR_POLICY_MANUAL:
        return OTRL_POLICY_MANUAL;
    case POTR_POLICY_OPPORTUNISTIC:
        return OTRL_POLICY_OPPORTUNISTIC;
    case POTR_POLICY_ALWAYS:
        return OTRL_POLICY_ALWAYS;
    case POTR_POLICY_NEVER:
    default:
        return OTRL_POLICY_NEVER;
    }
}

gboolean
potr_policy_from_name(const char *name, PotrPolicy *policy)
{
    g_return_val_if_fail(name != NULL, FALSE);

    for (guint i = 0; i < G_N_ELEMENTS(policy_names); i++) {
        if (g_ascii_strcasecmp(name, policy_names[i]) == 0) {
            if (policy != NULL)
                *policy = (PotrPolicy)i;
            return TRUE;
        }
    }
    return FALSE;
}

const char *
potr_policy_name(PotrPolicy policy)
{
    if ((guint)policy >= G_N_ELEMENTS(policy_names))
        return "never";
    return policy_names[policy];
}
