/* proto.h - Squid's external ACL line protocol, from the helper's side
 * (DESIGN.md §4): request fields, %XX decoding, the channel ID, answers. */
#ifndef M365_PROTO_H
#define M365_PROTO_H

#include <stdbool.h>
#include <stddef.h>

#include "matcher.h"

#define PROTO_MAX_LINE (16 * 1024)      /* longer lines are drained: ERR */
#define PROTO_MAX_FIELDS 8
#define PROTO_MAX_ID 20                 /* digits of a 64-bit channel ID */
#define PROTO_MAX_VALUE 1024            /* one decoded field */
#define PROTO_MAX_ANSWER 640            /* longest answer line we write */

enum proto_role {
	PROTO_HOST,
	PROTO_PORT,
	PROTO_SNI,
	PROTO_SKIP
};

struct proto_fields {
	enum proto_role role[PROTO_MAX_FIELDS];
	size_t n;
};

struct proto_request {
	const char *id;                 /* borrowed from the line, or NULL */
	size_t id_len;
	char host[PROTO_MAX_VALUE];     /* decoded destination (%DST) */
	size_t host_len;
	char sni[PROTO_MAX_VALUE];      /* decoded TLS SNI, when has_sni */
	size_t sni_len;
	bool has_sni;                   /* an SNI field that is not "-" */
	int port;                       /* -1 when absent */
};

/* Parses a --fields list ("host,port", "sni,host,port,skip").  host is
 * required: Squid connects to the destination, so the SNI alone can never
 * make a connection direct (DESIGN.md §3 "Identity").  Returns 0, or -1
 * with a reason in *why. */
int proto_parse_fields(const char *spec, struct proto_fields *f,
    const char **why);

/* Parses one request line (no LF; a CR before it already removed).  With
 * concurrency the first token is the channel ID.  Returns 0, or -1 with a
 * reason in *why; req->id is set whenever a valid ID was seen, so even a
 * malformed line can be answered on its channel. */
int proto_parse_line(const struct proto_fields *f, bool concurrency,
    const char *line, size_t len, struct proto_request *req,
    const char **why);

/* Takes the channel ID from the start of a line that is too long to parse;
 * returns its length (0 when it is not a valid ID). */
size_t proto_line_id(const char *line, size_t len);

/* proto_line_id for a line with PROTO_ID_SLACK bytes readable from its
 * start whatever len is (the helper's input buffer has them), 8 bytes at
 * a time: the memo's path, run on every line. */
#define PROTO_ID_SLACK 24
size_t proto_line_id_wide(const char *line, size_t len);

/* Writes the answer for the connection id to out (at least
 * PROTO_MAX_ANSWER bytes), LF-terminated; returns its length.
 * m365_category is "custom" when only extra_direct made it direct;
 * m365_reason says why the SNI changed the destination's verdict. */
size_t proto_format_answer(char *out, const char *id, size_t id_len,
    const struct m365_identity *c);

/* Writes "[ID ]ERR message=\"why\"\n" to out; returns its length. */
size_t proto_format_error(char *out, const char *id, size_t id_len,
    const char *why);

#endif
