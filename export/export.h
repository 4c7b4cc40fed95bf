/* export.h - the writers of generated files (Squid ACL files, HAProxy maps,
 * PAC, MMDB), one per format behind one interface.
 *
 * Every output gives, for every host and address, the answer
 * "m365-direct check" gives without a port (DESIGN.md §3, §5); is written
 * atomically; is deterministic (same data and policy, byte-identical
 * output); and starts with a header naming the data version, instance,
 * policy, and that ports are not expressed. */
#ifndef M365_EXPORT_H
#define M365_EXPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "config.h"
#include "endpoints.h"
#include "prefix.h"

/* What the data in use is, for the headers. */
struct export_source {
	const char *kind;               /* "cache", "--data", "bundled snapshot" */
	const char *path;               /* "" for the bundled snapshot */
	const char *version;            /* "" when unknown */
	const char *instance;           /* "" when unknown */
};

struct export_opts {
	const char *out;                /* -o: a file or a directory */
	const char *proxy;              /* pac: the non-direct answer */
	const char *database_type;      /* mmdb */
	unsigned direct_mask;           /* the policy's, or pac --direct */
};

/* One direct (or never-direct) entry and the highest category that makes
 * it direct (M365_CAT_NONE for extra_direct entries: "custom"). */
struct export_name {
	char *pattern;                  /* lower-case shExpMatch pattern */
	enum m365_category category;
};

struct export_prefix {
	struct ip_prefix prefix;
	char *text;                     /* canonical */
	enum m365_category category;
};

/* Everything an exporter needs, port-less: the patterns and prefixes of
 * the sets whose category is direct under the policy (service areas and
 * required_only applied) plus extra_direct, and the never_direct entries,
 * which win.  Sorted and deduplicated (deterministic output). */
struct export_entries {
	struct export_name *names;
	size_t n_names;
	struct export_prefix *prefixes;
	size_t n_prefixes;
	struct export_name *never_names;
	size_t n_never_names;
	struct export_prefix *never_prefixes;
	size_t n_never_prefixes;
};

struct export_ctx {
	const struct m365_rules *rules; /* borrowed: the one view of them */
	const struct m365_data *data;   /* borrowed: the rules' data */
	const struct m365_policy *policy;
	struct export_source source;
	struct export_entries entries;
	char *header;                   /* owned: comment lines without the
	                                   comment marker, LF-separated; only
	                                   printable ASCII (export_text) */
};

/* Whether the formats can express direct_categories mask: it must be
 * "upward closed" (with Allow also Optimize, with Default all). */
bool export_mask_supported(unsigned mask);

/* Builds the entries and the header text.  The direct categories must be
 * "upward closed" (with Allow also Optimize, with Default all): the formats
 * express "matches a direct entry", which equals "the highest category is
 * direct" only then.  Returns 0, or -1 with a message in err. */
int export_prepare(struct export_ctx *x, const struct m365_rules *rules,
    const struct m365_policy *policy, unsigned direct_mask,
    const struct export_source *src, char *err, size_t errlen);
void export_release(struct export_ctx *x);

/* Writers build a file in memory in a struct buf of at most
 * EXPORT_MAX_BYTES, then install it atomically. */
#define EXPORT_MAX_BYTES (64u << 20)

/* Appends s as text that every format takes inside a comment or a string:
 * printable ASCII as it is; other bytes (control characters, non-ASCII),
 * the backslash and the "/" of a "*" "/" pair as \xHH.  For text from the
 * configuration or the data (a name, a path, a version) copied into a
 * header, where it must not end a line or a comment. */
void export_buf_text(struct buf *b, const char *s);
/* Appends x->header with each line prefixed by comment ("# ", "// "). */
void export_buf_header(struct buf *b, const struct export_ctx *x,
    const char *comment);

/* Writes b to path atomically (temp file in the same directory, fsync,
 * rename).  Returns 0 or -1 with err. */
int export_buf_install(const struct buf *b, const char *path,
    char *err, size_t errlen);

struct exporter {
	const char *name;
	/* Writes the format to o->out; returns 0 or -1 with err. */
	int (*write)(const struct export_ctx *x, const struct export_opts *o,
	    char *err, size_t errlen);
};

/* The writer for a format name ("squid", "haproxy", "pac", "mmdb"), or
 * NULL. */
const struct exporter *export_find(const char *name);

/* The writers (export/FORMAT.c). */
int export_squid(const struct export_ctx *x, const struct export_opts *o,
    char *err, size_t errlen);
int export_haproxy(const struct export_ctx *x, const struct export_opts *o,
    char *err, size_t errlen);
int export_pac(const struct export_ctx *x, const struct export_opts *o,
    char *err, size_t errlen);
int export_mmdb(const struct export_ctx *x, const struct export_opts *o,
    char *err, size_t errlen);

#endif
