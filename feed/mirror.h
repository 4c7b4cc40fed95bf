/* mirror.h - the data installed in a state directory written out in the
 * layout "m365-direct update" reads from a base_url (feed/fetch.c asks
 * {base}/version/{instance}, then {base}/endpoints/{instance}):
 *
 *   DIR/version/INSTANCE     {"instance":"INSTANCE","latest":"VERSION"}
 *   DIR/endpoints/INSTANCE   the installed endpoint JSON, byte for byte
 *
 * so that one machine polls Microsoft and the branch proxies poll it, with
 * base_url = file://DIR, or https://… served from DIR by any static web
 * server (fetch adds its query parameters only to https:// URLs, and a
 * static server ignores them: a branch gets what the mirror fetched, with
 * the mirror's tenant, service areas and IPv6 choice). */
#ifndef M365_MIRROR_H
#define M365_MIRROR_H

#include <stdbool.h>
#include <stddef.h>

#include "source.h"

#define MIRROR_VERSION_DIR "version"
#define MIRROR_ENDPOINTS_DIR "endpoints"
#define MIRROR_DIR_MODE 0755
#define MIRROR_MSG_MAX 512

struct mirror_result {
	char version[SOURCE_NAME_MAX];  /* of the data mirrored */
	char instance[SOURCE_NAME_MAX];
	size_t n_sets;
	bool data_written;              /* false: the file held it already */
	bool version_written;
	/* "" or: written, but a directory may not survive a power cut */
	char warning[MIRROR_MSG_MAX];
};

/* Writes the data installed in state_dir (the file endpoints.json links
 * to, with the version and instance of that file's name) to out_dir,
 * which is made (mode 0755, its parent must exist) when missing, as are
 * its two subdirectories.  The data is written before the version, each
 * atomically and only when the file does not hold those bytes already
 * (mode 0644): a branch that reads the new version always finds the new
 * data, and a second run changes nothing.  Returns 0 with res filled, or
 * -1 with err (no cache, a cache without a version, data that does not
 * load, a directory that cannot be made or written); on failure the
 * files already in out_dir stay whole, old or new. */
int mirror_write(const char *state_dir, const char *out_dir,
    struct mirror_result *res, char *err, size_t errlen);

#endif
