/* keys.c - see keys.h. */
#include "keys.h"

void
assess_settings_read(struct assess_settings *s, const struct m365_config *c)
{
	s->control = config_get_string(c, "assess_control");
	s->tries = config_get_number(c, "assess_tries");
	s->timeout_ms = config_get_number(c, "assess_timeout");
	s->margin_ms = config_get_number(c, "assess_path_margin_ms");
	s->max_distance_km = config_get_number(c, "assess_max_distance_km");
	s->geo_database = config_get_string(c, "geo_database");
	s->office_location = config_get_string(c, "office_location");
	s->tenant = config_get_string(c, "tenant");
}
