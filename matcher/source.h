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
/* The years a version's date may have: the web service's versions are
 * dates of this century (the updater also refuses the future). */
#define SOURCE_YEAR_MIN 2000
#define SOURCE_YEAR_MAX 2099

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
	/* refused: someone but root, its owner and this process could have
	 * written the file (file_trust_path); source_changed tries again
	 * when that is no longer so */
	bool untrusted;
	/* the cache's version and instance, from the name of the very file
	 * read; "" when unknown (not the cache, or not linked by that name) */
	char version[SOURCE_NAME_MAX], instance[SOURCE_NAME_MAX];
};

/* Whether v is a version as the web service writes them, YYYYMMDDNN:
 * ten digits, YYYYMMDD a real calendar date of a year from
 * SOURCE_YEAR_MIN to SOURCE_YEAR_MAX, NN any. */
bool source_version_valid(const char *v);

/* 00:00 UTC of the date of the version v, or -1 when it is not valid. */
time_t source_version_day(const char *v);

/* Splits a data file's name, endpoints-VERSION-INSTANCE.json, into its
 * version (a valid one: source_version_valid) and instance (one of the web
 * service's).  Returns 0, or -1 (both "") when name is not exactly of that
 * form or a part does not fit.  The only way a version or an instance is
 * read back from disk: they go into file headers, PAC comments, metrics
 * labels and JSON. */
int source_data_name_parse(const char *name, char *version, size_t vsize,
    char *instance, size_t isize);

/* The same, but the version need only be SOURCE_VERSION_LEN digits: the
 * form of the names the updater makes (an older one may have made one of
 * a version no longer taken), for its cleanup and its version check. */
int source_data_name_split(const char *name, char *version, size_t vsize,
    char *instance, size_t isize);

/* Chooses the source (data_opt may be NULL) and loads it.  Returns the data,
 * or NULL with a message in err.  *src says what was used; for the cache,
 * the link is read once and the file it names opened, so that the version
 * in *src is the one of the data returned even while an update switches
 * the link.  A file that someone but root, its owner and this process
 * could have written (itself or a directory it is reached through: see
 * file_trust_path) is refused, src->untrusted set. */
struct m365_data *source_load(const char *data_opt, const char *state_dir,
    struct source *src, char *err, size_t errlen);

/* Opens the cache of state_dir the way source_load reads it: the file
 * endpoints.json links to, by the name read from the link, with that
 * name's version and instance in *src ("" when endpoints.json is not a
 * link to a name of ours), refused as source_load refuses a file someone
 * else could have written (src->untrusted).  Returns the descriptor (the
 * caller closes it), or -1 with the reason in err. */
int source_open_cache(const char *state_dir, struct source *src, char *err,
    size_t errlen);

/* Whether what source_load would choose now differs from src (another file,
 * or the same path replaced or modified), or src was refused as untrusted
 * and no longer is. Cheap: a stat or two (a walk up the path for the
 * untrusted). */
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
