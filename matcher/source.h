/* source.h - which endpoint data is in use: --data FILE, else the cache in
 * the state directory, else the snapshot compiled into the program. */
#ifndef M365_SOURCE_H
#define M365_SOURCE_H

#include <stdbool.h>
#include <sys/types.h>
#include <time.h>

#include "endpoints.h"

#define SOURCE_CACHE_FILE "endpoints.json"
#define SOURCE_PATH_MAX 4096
/* The cache is endpoints.json, a symbolic link to the installed data,
 * endpoints-VERSION-INSTANCE.json (feed/state.h). */
#define SOURCE_DATA_PREFIX "endpoints-"
#define SOURCE_NAME_MAX 32              /* a version or an instance + NUL */
#define SOURCE_VERSION_LEN 10           /* YYYYMMDDNN, as the web service */

enum source_kind {
	SOURCE_DATA_OPTION,
	SOURCE_CACHE,
	SOURCE_BUNDLED
};

struct source {
	enum source_kind kind;
	char path[SOURCE_PATH_MAX];     /* empty for SOURCE_BUNDLED */
	/* identity of the file last loaded, to notice a replacement */
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
	bool fell_back;                 /* it failed: the snapshot serves */
	/* the cache's version and instance, from the name of the very file
	 * read; "" when unknown (not the cache, or not linked by that name) */
	char version[SOURCE_NAME_MAX], instance[SOURCE_NAME_MAX];
};

/* Splits a data file's name, endpoints-VERSION-INSTANCE.json, into its
 * version (SOURCE_VERSION_LEN digits) and instance (one of the web
 * service's).  Returns 0, or -1 (both "") when name is not exactly of that
 * form or a part does not fit. */
int source_data_name_parse(const char *name, char *version, size_t vsize,
    char *instance, size_t isize);

/* Chooses the source (data_opt may be NULL) and loads it.  Returns the data,
 * or NULL with a message in err.  *src says what was used; for the cache,
 * the link is read once and the file it names opened, so that the version
 * in *src is the one of the data returned even while an update switches
 * the link. */
struct m365_data *source_load(const char *data_opt, const char *state_dir,
    struct source *src, char *err, size_t errlen);

/* Opens the cache of state_dir the way source_load reads it: the file
 * endpoints.json links to, by the name read from the link, with that
 * name's version and instance in *src ("" when endpoints.json is not a
 * link to a name of ours).  Returns the descriptor (the caller closes it),
 * or -1 with errno set. */
int source_open_cache(const char *state_dir, struct source *src);

/* Whether what source_load would choose now differs from src (another file,
 * or the same path replaced or modified). Cheap: a stat or two. */
bool source_changed(const char *data_opt, const char *state_dir,
    const struct source *src);

struct m365_policy;
struct m365_rules;

/* Loads the data source_load chooses and compiles it under policy.  With
 * fallback, a chosen file that fails to load or compile is reported with
 * log_warnx and the bundled snapshot is used instead, so a proxy is never
 * left without data; *src still describes the chosen file (so that
 * source_changed notices when it is replaced) with fell_back set.  Returns
 * the rules, or NULL with a message in err. */
struct m365_rules *source_compile(const char *data_opt, const char *state_dir,
    const struct m365_policy *policy, bool fallback, struct source *src,
    char *err, size_t errlen);

const char *source_kind_name(enum source_kind k);

#endif
