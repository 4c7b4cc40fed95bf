/* settings.c - see settings.h. */
#include "settings.h"

void
update_settings(struct m365_update *u, const struct m365_config *c)
{
	u->base_url = config_get_string(c, "base_url");
	u->instance = config_get_string(c, "instance");
	u->ca_file = config_get_string(c, "ca_file");
	u->proxy = config_get_string(c, "proxy");
	u->tenant = config_get_string(c, "tenant");
	u->no_ipv6 = config_get_bool(c, "no_ipv6");
	u->timeout = config_get_number(c, "timeout");
	u->retries = config_get_number(c, "retries");
	u->retry_delay_ms = config_get_number(c, "retry_delay");
	u->on_change = config_get_list(c, "on_change");
	u->min_prefix_v4 = config_get_number(c, "min_prefix_v4");
	u->min_prefix_v6 = config_get_number(c, "min_prefix_v6");
	u->public_suffix_list = config_get_string(c, "public_suffix_list");
}

void
update_guard_opts(struct validate_opts *o, const struct m365_update *u,
    const char *instance, bool force)
{
	*o = (struct validate_opts){
		.force = force,
		.min_v4 = u->min_prefix_v4,
		.min_v6 = u->min_prefix_v6,
		.psl_file = u->public_suffix_list,
		.instance = instance != NULL && instance[0] != '\0' ? instance :
		    u->instance,
	};
}
