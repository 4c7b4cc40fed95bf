/* ext_m365_acl - Squid external ACL helper: is this host or IP a Microsoft
 * 365 endpoint that should go direct?  Reads request lines on stdin, answers
 * each exactly once on stdout (never BH), exits 0 at EOF.  Links the matcher
 * and, for --verify-sni dns only, helper/resolve.c (c-ares), its only
 * network code. */
#include <errno.h>
#include <getopt.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "host.h"
#include "lanes.h"
#include "log.h"
#include "matcher.h"
#include "memo.h"
#include "pairlog.h"
#include "parse.h"
#include "proto.h"
#include "resolve.h"
#include "source.h"

#define IN_CAP (256 * 1024)
#define OUT_CAP (256 * 1024 + MEMO_ANSWER_MAX)
#define DEFAULT_CACHE_SIZE 16384    /* 64-byte slots: 1 MiB */
/* One waiting slot more than the resolver lets checks wait: every slot in
 * use is a check the resolver holds, so a slot is free whenever the
 * resolver can be asked, and a name it has cached is answered from the
 * cache even while RESOLVE_DEFAULT_INFLIGHT checks wait for others (the
 * resolver, not the helper, says dns-busy for the rest). */
#define WAITING_SLOTS (RESOLVE_DEFAULT_INFLIGHT + 1)

/* A request whose answer waits for the DNS check of its SNI.  Its
 * identity is kept whole; its answer reads no pointer into the rules (set
 * ids, categories, flags), so a reload meanwhile does no harm. */
struct waiting {
	struct helper *h;
	char id[PROTO_MAX_ID];
	size_t id_len;
	char dst[HOST_NAME_MAX_LEN + 1];        /* for the log */
	char sni[HOST_NAME_MAX_LEN + 1];
	struct m365_identity c;
	struct waiting *next_free;
};

struct helper {
	const char *data_opt;
	struct m365_config cfg;
	struct proto_fields fields;
	bool concurrency;
	unsigned reload_interval;
	size_t cache_size;
	bool config_broken;             /* answer everything "not direct" */
	struct memo *memo;              /* NULL: --cache-size 0 */
	struct pairlog *pairlog;        /* SNI mismatches logged */
	struct resolver *resolver;      /* NULL: no --verify-sni dns */
	struct waiting *waiting;        /* WAITING_SLOTS of them */
	struct waiting *free_waiting;
	size_t n_waiting;
	struct m365_rules *rules;       /* NULL: the configuration is broken */
	struct source src;
	struct timespec last_check;
	char out[OUT_CAP];
	size_t out_len;
};

static volatile sig_atomic_t got_hup;

static void
on_hup(int sig)
{
	(void)sig;
	got_hup = 1;
}

static void
usage(FILE *f)
{
	fprintf(f,
"usage: ext_m365_acl [-c CONF] [--data FILE] [--state-dir DIR] [--concurrency]\n"
"                    [--fields LIST] [--reload-interval SECONDS]\n"
"                    [--cache-size N] [--verify-sni dns|off]\n"
"                    [--dns-server LIST] [--dns-timeout SECONDS]\n"
"\n"
"Squid external ACL helper: answers OK m365=direct for Microsoft 365\n"
"endpoints that should go direct, ERR m365=proxy for everything else.\n"
"\n"
"  -c CONF              configuration file (default " M365_DEFAULT_CONFIG ")\n"
"  --data FILE          endpoint JSON to use instead of the cache\n"
"  --state-dir DIR      where the cache lives (default " M365_DEFAULT_STATE_DIR ")\n"
"  --concurrency        request lines start with a channel ID (Squid's\n"
"                       external_acl_type ... concurrency=N, N > 0)\n"
"  --fields LIST        what the request fields are, comma-separated roles:\n"
"                       host (required), port, sni, skip; default host,port;\n"
"                       fields beyond the list are ignored.  With sni, a\n"
"                       connection is direct only if the host and the SNI\n"
"                       (unless \"-\") are each direct on their own\n"
"  --reload-interval S  check the data file for changes at most every S\n"
"                       seconds (default 60; 0 = on every request batch)\n"
"  --cache-size N       remember the answers to up to N distinct requests\n"
"                       (default 16384, 1 MiB; 0 = off); forgotten on\n"
"                       every reload\n"
"  --verify-sni dns     when the host is an IP that is not direct but the\n"
"                       SNI is a direct name, resolve the SNI and count the\n"
"                       IP as direct if it is one of its addresses (needs\n"
"                       --concurrency; config key verify_sni)\n"
"  --dns-server LIST    ip[:port],... for --verify-sni dns (default\n"
"                       /etc/resolv.conf; config key dns_servers)\n"
"  --dns-timeout S      answer dns-timeout after S seconds (default and at\n"
"                       most 2; config key dns_timeout)\n"
"  -h, --help           this text\n"
"  -V, --version        print the version\n"
"\n"
"Data: --data FILE, else DIR/" SOURCE_CACHE_FILE ", else the bundled snapshot.\n"
"SIGHUP reloads; a file that fails to load is logged and the old rules stay.\n");
}

/* The number in the argument of option name, at most max; a bad one is a
 * usage error. */
static uint64_t
option_number(const char *name, const char *arg, uint64_t max)
{
	uint64_t n;

	if (parse_uint(arg, strlen(arg), max, &n) != 0) {
		log_warnx("%s: a number from 0 to %llu", name,
		    (unsigned long long)max);
		exit(2);
	}
	return n;
}

/* Reads the configuration file.  A broken one must not stop Squid (helpers
 * that exit at once make it give up): every error is logged and the helper
 * sends everything to the parent, as if m365-direct were not there. */
static void
load_config(struct helper *h, const char *conf, const char *state_dir)
{
	struct config_errors errs = { 0 };

	if (config_init(&h->cfg) != 0)
		exit(1);
	if (config_load(&h->cfg, conf != NULL ? conf : M365_DEFAULT_CONFIG,
	    conf != NULL, &errs) != 0) {
		for (size_t i = 0; i < errs.n; i++)
			log_warnx("%s", errs.msg[i]);
		log_warnx("configuration errors: answering every request "
		    "\"not direct\" until they are fixed");
		h->config_broken = true;
	}
	config_errors_free(&errs);
	if (state_dir != NULL) {
		free(h->cfg.state_dir);
		if ((h->cfg.state_dir = strdup(state_dir)) == NULL)
			exit(1);
	}
}

/* The command line's --verify-sni, --dns-server and --dns-timeout over
 * the configuration's verify_sni, dns_servers and dns_timeout. */
static void
sni_options(struct helper *h, const char *verify, const char *servers,
    const char *timeout)
{
	struct m365_sni *n = &h->cfg.sni;
	uint64_t ms;

	if (verify != NULL)
		n->verify_dns = verify[0] == 'd';
	if (servers != NULL) {
		free(n->dns_servers);
		if ((n->dns_servers = strdup(servers)) == NULL)
			exit(1);
	}
	if (timeout != NULL) {
		if (parse_millis(timeout, strlen(timeout),
		    M365_MAX_DNS_TIMEOUT_MS, &ms) != 0 || ms == 0) {
			log_warnx("--dns-timeout: seconds, more than 0 and at "
			    "most %u", M365_MAX_DNS_TIMEOUT_MS / 1000);
			exit(2);
		}
		n->dns_timeout_ms = (unsigned)ms;
	}
	if (verify != NULL && n->verify_dns && !h->concurrency) {
		log_warnx("--verify-sni dns needs --concurrency (and "
		    "concurrency=N in squid.conf): no answer may wait for "
		    "another's DNS lookup");
		exit(2);
	}
}

static void
parse_args(struct helper *h, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "data", required_argument, NULL, 'd' },
		{ "state-dir", required_argument, NULL, 's' },
		{ "concurrency", no_argument, NULL, 'C' },
		{ "fields", required_argument, NULL, 'f' },
		{ "reload-interval", required_argument, NULL, 'r' },
		{ "cache-size", required_argument, NULL, 'm' },
		{ "verify-sni", required_argument, NULL, 'v' },
		{ "dns-server", required_argument, NULL, 'n' },
		{ "dns-timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	const char *conf = NULL, *state_dir = NULL, *why;
	const char *verify = NULL, *servers = NULL, *timeout = NULL;
	int ch;

	h->reload_interval = 60;
	h->cache_size = DEFAULT_CACHE_SIZE;
	proto_parse_fields("host,port", &h->fields, &why);
	while ((ch = getopt_long(argc, argv, "c:hV", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			conf = optarg;
			break;
		case 'd':
			h->data_opt = optarg;
			break;
		case 's':
			state_dir = optarg;
			break;
		case 'C':
			h->concurrency = true;
			break;
		case 'f':
			if (proto_parse_fields(optarg, &h->fields, &why) != 0) {
				log_warnx("--fields %s: %s", optarg, why);
				exit(2);
			}
			break;
		case 'r':
			h->reload_interval = (unsigned)option_number(
			    "--reload-interval", optarg, 86400);
			break;
		case 'm':
			h->cache_size = (size_t)option_number("--cache-size",
			    optarg, MEMO_MAX_SLOTS);
			break;
		case 'v':
			if (strcmp(optarg, "dns") != 0 &&
			    strcmp(optarg, "off") != 0) {
				log_warnx("--verify-sni: dns or off");
				exit(2);
			}
			verify = optarg;
			break;
		case 'n':
			servers = optarg;
			break;
		case 't':
			timeout = optarg;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case 'V':
			printf("ext_m365_acl %s\n", M365_VERSION);
			exit(0);
		default:
			usage(stderr);
			exit(2);
		}
	}
	if (optind != argc) {
		usage(stderr);
		exit(2);
	}
	load_config(h, conf, state_dir);
	sni_options(h, verify, servers, timeout);
}

/* Builds new rules from the current source and swaps them in; on failure
 * the old rules keep serving. */
static void
reload(struct helper *h)
{
	char err[512];
	struct source src = { 0 };
	struct m365_rules *r;
	struct timespec t0, t1;

	if (h->config_broken)
		return;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = source_compile(h->data_opt, h->cfg.state_dir, &h->cfg.policy,
	    false, &src, err, sizeof(err));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	h->src = src;   /* remember the attempt: retry only when it changes */
	if (r == NULL) {
		log_warnx("reload failed, keeping the current rules: %s", err);
		return;
	}
	matcher_free(h->rules);
	h->rules = r;
	if (h->memo != NULL)
		memo_clear(h->memo);
	/* how long the answers waited: what a reload costs the users */
	log_warnx("loaded %s%s%s in %.1f ms", source_kind_name(src.kind),
	    src.path[0] != '\0' ? " " : "", src.path,
	    (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
}

static void
maybe_reload(struct helper *h)
{
	struct timespec now;

	if (got_hup) {
		got_hup = 0;
		reload(h);
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (now.tv_sec - h->last_check.tv_sec < (time_t)h->reload_interval)
		return;
	h->last_check = now;
	if (source_changed(h->data_opt, h->cfg.state_dir, &h->src))
		reload(h);
}

static void
flush_out(struct helper *h)
{
	size_t done = 0;

	while (done < h->out_len) {
		ssize_t w = write(STDOUT_FILENO, h->out + done, h->out_len - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			log_warn("write to Squid");
			exit(1);
		}
		done += (size_t)w;
	}
	h->out_len = 0;
}

static void
answer_error(struct helper *h, const char *id, size_t id_len, const char *why)
{
	if (h->out_len + PROTO_MAX_ANSWER > OUT_CAP)
		flush_out(h);
	h->out_len += proto_format_error(h->out + h->out_len, id, id_len, why);
	log_warnx("bad request: %s", why);
}

/* The memo key of a request line: what follows the channel ID.  Returns
 * false when the line is not worth memoising. */
static bool
memo_key(const struct helper *h, const char *line, size_t len,
    size_t *prefix)
{
	size_t id_len = 0;

	if (h->memo == NULL)
		return false;
	if (h->concurrency) {
		id_len = proto_line_id_wide(line, len);
		if (id_len == 0 || id_len == len)
			return false;
		*prefix = id_len + 1;   /* the ID and its space */
	} else {
		*prefix = 0;
	}
	return len - *prefix <= MEMO_KEY_MAX;
}

/* A request line waiting in a batch, its memo lookup prepared: the memo
 * slot of each line of the batch is prefetched before the first is
 * answered, so the memory latency of a memo of many slots overlaps. */
struct pending {
	const char *line;
	size_t len, prefix;
	struct memo_key key;
	bool memo;
};

#define BATCH 16

static void
prepare(const struct helper *h, const char *line, size_t len,
    struct pending *p)
{
	if (len > 0 && line[len - 1] == '\r')
		len--;
	p->line = line;
	p->len = len;
	p->prefix = 0;
	p->memo = memo_key(h, line, len, &p->prefix);
	if (p->memo) {
		memo_key_make(&p->key, line + p->prefix, len - p->prefix);
		memo_prefetch(h->memo, &p->key);
	}
}

/* Tells cache.log that a connection is not direct because its
 * destination dst[0..dlen) and SNI sni[0..slen) disagree (or the DNS
 * check of the SNI failed): once per pair, and never a flood (pairlog.h).
 * The values are printed escaped, since the client chose them. */
static void
log_mismatch(struct helper *h, const char *dst, size_t dlen, const char *sni,
    size_t slen, const struct m365_identity *c)
{
	struct timespec now;
	unsigned long dropped;
	char d[4 * 64 + 1], n[4 * 64 + 1];

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (!pairlog_admit(h->pairlog, dst, dlen, sni, slen, now.tv_sec,
	    &dropped))
		return;
	if (dropped > 0)
		log_warnx("%lu more SNI mismatches not logged", dropped);
	log_warnx("not direct (%s): destination %s is %s, SNI %s is %s",
	    matcher_reason_name(c->reason), log_escape(dst, dlen, d, sizeof(d)),
	    c->dst.direct ? "direct" : "not direct",
	    log_escape(sni, slen, n, sizeof(n)),
	    c->sni.direct ? "direct" : "not direct");
}

/* Writes the answer for c on channel id and returns where in out it
 * starts; logs why when the SNI made it not direct. */
static size_t
answer_identity(struct helper *h, const char *id, size_t id_len,
    const char *dst, size_t dlen, const char *sni, size_t slen,
    const struct m365_identity *c)
{
	size_t start;

	if (h->out_len + PROTO_MAX_ANSWER > OUT_CAP)
		flush_out(h);
	if (c->reason != M365_REASON_NONE &&
	    c->reason != M365_REASON_SNI_VERIFIED)
		log_mismatch(h, dst, dlen, sni, slen, c);
	start = h->out_len;
	h->out_len += proto_format_answer(h->out + h->out_len, id, id_len, c);
	return start;
}

static enum m365_reason
dns_reason(enum resolve_status st)
{
	switch (st) {
	case RESOLVE_MATCH:
		return M365_REASON_SNI_VERIFIED;
	case RESOLVE_NO_MATCH:
		return M365_REASON_SNI_MISMATCH;
	case RESOLVE_TIMEOUT:
		return M365_REASON_DNS_TIMEOUT;
	case RESOLVE_BUSY:
		return M365_REASON_DNS_BUSY;
	case RESOLVE_PENDING:
	case RESOLVE_FAILED:
		break;
	}
	return M365_REASON_DNS_FAILED;
}

/* The DNS check of a waiting request is done: answer it on its channel. */
static void
on_dns(void *arg, enum resolve_status st)
{
	struct waiting *w = arg;
	struct helper *h = w->h;

	matcher_identity_dns(&w->c, dns_reason(st));
	answer_identity(h, w->id, w->id_len, w->dst, strlen(w->dst), w->sni,
	    strlen(w->sni), &w->c);
	w->next_free = h->free_waiting;
	h->free_waiting = w;
	h->n_waiting--;
}

/* Copies what fits of s[0..len) into out (HOST_NAME_MAX_LEN + 1 bytes),
 * for the log line of an answer that waits. */
static void
keep_text(char *out, const char *s, size_t len)
{
	if (len > HOST_NAME_MAX_LEN)
		len = HOST_NAME_MAX_LEN;
	memcpy(out, s, len);
	out[len] = '\0';
}

/* Starts the DNS check of the SNI of c (dns_may_verify: the destination
 * is an IP, the SNI a name).  Returns true when the answer waits for it
 * (on_dns answers); false with c's answer settled when the resolver's
 * cache knew, or too many checks wait already. */
static bool
ask_dns(struct helper *h, const struct proto_request *req,
    struct m365_identity *c)
{
	struct host_query dst, sni;
	struct waiting *w = h->free_waiting;
	enum resolve_status st = RESOLVE_BUSY;

	host_normalise(req->host, req->host_len, &dst);
	host_normalise(req->sni, req->sni_len, &sni);
	if (w != NULL && dst.kind == HOST_IP && sni.kind == HOST_NAME)
		st = resolver_check(h->resolver, sni.name, sni.len, &dst.addr,
		    on_dns, w);
	if (st != RESOLVE_PENDING) {
		matcher_identity_dns(c, dns_reason(st));
		return false;
	}
	h->free_waiting = w->next_free;
	h->n_waiting++;
	memcpy(w->id, req->id, req->id_len);
	w->id_len = req->id_len;
	keep_text(w->dst, req->host, req->host_len);
	keep_text(w->sni, req->sni, req->sni_len);
	w->c = *c;
	return true;
}

static void
answer(struct helper *h, const struct pending *p)
{
	struct proto_request req;
	static struct m365_identity c;  /* 2.7 KiB: off the stack */
	const char *why, *ans;
	size_t alen, start;

	if (h->out_len + PROTO_MAX_ANSWER + MEMO_ANSWER_MAX > OUT_CAP)
		flush_out(h);
	if (p->memo && (ans = memo_get(h->memo, &p->key, &alen)) != NULL) {
		/* fixed-size copies (the ID is at most 20 digits and a space;
		 * out has room for MEMO_ANSWER_MAX more): no branch on length */
		memcpy(h->out + h->out_len, p->line, PROTO_MAX_ID + 1);
		memcpy(h->out + h->out_len + p->prefix, ans, MEMO_ANSWER_MAX);
		h->out_len += p->prefix + alen;
		return;
	}
	if (proto_parse_line(&h->fields, h->concurrency, p->line, p->len, &req,
	    &why) != 0) {
		answer_error(h, req.id, req.id_len, why);
		return;
	}
	if (h->config_broken) {         /* logged once at start */
		h->out_len += proto_format_error(h->out + h->out_len, req.id,
		    req.id_len, "configuration error, see cache.log");
		return;
	}
	matcher_lookup_identity(h->rules, req.host, req.host_len,
	    req.has_sni ? req.sni : NULL, req.sni_len, req.port, &c);
	if (c.dns_may_verify && h->resolver != NULL) {
		/* the answer depends on DNS, not on the text: not memoised */
		if (!ask_dns(h, &req, &c))
			answer_identity(h, req.id, req.id_len, req.host,
			    req.host_len, req.sni, req.sni_len, &c);
		return;
	}
	start = answer_identity(h, req.id, req.id_len, req.host, req.host_len,
	    req.sni, req.sni_len, &c);
	if (p->memo)
		memo_put(h->memo, &p->key, h->out + start + p->prefix,
		    h->out_len - start - p->prefix);
}

static void
run_batch(struct helper *h, struct pending *batch, size_t *n)
{
	for (size_t i = 0; i < *n; i++)
		answer(h, &batch[i]);
	*n = 0;
}

static void
handle_line(struct helper *h, const char *line, size_t len)
{
	struct pending p;

	prepare(h, line, len, &p);
	answer(h, &p);
}

/* The bounded line reader: what is in the input buffer, and the channel
 * ID of a line too long to keep, drained up to its LF. */
struct reader {
	/* slack past IN_CAP: memo keys (after an ID and its space) and IDs
	 * are read as whole words */
	char in[IN_CAP + PROTO_MAX_ID + 1 + MEMO_KEY_MAX + PROTO_ID_SLACK];
	size_t len;
	bool draining;
	char id[PROTO_MAX_ID];
	size_t id_len;
	struct pending batch[BATCH];
	size_t nb;
};

/* Answers a line that was too long to keep, on its channel if the start
 * of the line carried one. */
static void
answer_too_long(struct helper *h, struct reader *rd)
{
	answer_error(h, rd->id, rd->id_len, "request line too long");
}

/* Remembers the channel ID at the start of a line too long to keep. */
static void
keep_id(const struct helper *h, struct reader *rd, const char *line,
    size_t len)
{
	rd->id_len = h->concurrency ? proto_line_id(line, len) : 0;
	memcpy(rd->id, line, rd->id_len);
}

/* The first LF of [p, end), or NULL: memchr inlined, 16 bytes at a time
 * (lanes.h), as most lines are a few dozen bytes and a call per line
 * costs more than the search.  Reads up to 15 bytes past end: the
 * reader's buffer has the slack. */
static char *
next_lf(char *p, const char *end)
{
	for (; p < end; p += 16) {
		bytes16 v;
		uint32_t lf;

		memcpy(&v, p, sizeof(v));
		lf = lane_bits(v == '\n');
		if (end - p < 16)
			lf &= (1u << (end - p)) - 1;
		if (lf != 0)
			return p + __builtin_ctz(lf);
	}
	return NULL;
}

/* Answers every complete line in the buffer, in order, and keeps the
 * partial last one (or starts draining it when it is already too long). */
static void
answer_lines(struct helper *h, struct reader *rd)
{
	size_t start = 0;
	char *lf;

	while ((lf = next_lf(rd->in + start, rd->in + rd->len)) != NULL) {
		size_t n = (size_t)(lf - (rd->in + start));

		if (rd->draining || n > PROTO_MAX_LINE) {
			run_batch(h, rd->batch, &rd->nb);   /* keep the order */
			if (!rd->draining)
				keep_id(h, rd, rd->in + start, n);
			answer_too_long(h, rd);
			rd->draining = false;
		} else {
			prepare(h, rd->in + start, n, &rd->batch[rd->nb++]);
			if (rd->nb == BATCH)
				run_batch(h, rd->batch, &rd->nb);
		}
		start += n + 1;
	}
	run_batch(h, rd->batch, &rd->nb);       /* before in[] moves */
	rd->len -= start;
	memmove(rd->in, rd->in + start, rd->len);
	if (!rd->draining && rd->len > PROTO_MAX_LINE) {
		keep_id(h, rd, rd->in, rd->len);
		rd->draining = true;
	}
	if (rd->draining)
		rd->len = 0;    /* drop the rest until LF */
}

/* Reads what stdin has and answers every complete line, with the rules
 * reloaded first if they changed.  Returns 1 to go on (also after EINTR),
 * 0 at EOF (a last line without LF answered), -1 on a read error. */
static int
read_and_answer(struct helper *h, struct reader *rd)
{
	ssize_t r = read(STDIN_FILENO, rd->in + rd->len, IN_CAP - rd->len);
	int read_errno = errno;         /* the reload below may change errno */

	maybe_reload(h);
	if (r < 0 && read_errno == EINTR)
		return 1;
	if (r < 0) {
		errno = read_errno;
		log_warn("read from Squid");
		return -1;
	}
	if (r == 0) {
		if (rd->draining)
			answer_too_long(h, rd);
		else if (rd->len > 0)
			handle_line(h, rd->in, rd->len);
		return 0;
	}
	rd->len += (size_t)r;
	answer_lines(h, rd);
	return 1;
}

/* The loop without DNS checks: block in read, answer, flush once. */
static int
serve(struct helper *h, struct reader *rd)
{
	for (;;) {
		int r = read_and_answer(h, rd);

		flush_out(h);
		if (r <= 0)
			return r < 0;
	}
}

/* The loop with DNS checks: stdin and the resolver's sockets in one poll,
 * so an answer that waits for DNS holds up no other channel.  At EOF the
 * waiting answers are still written (each within its DNS timeout). */
static int
serve_polling(struct helper *h, struct reader *rd)
{
	struct pollfd fds[1 + RESOLVE_MAX_FDS];
	bool eof = false;

	while (!eof || h->n_waiting > 0) {
		size_t n = 0, first;
		int r = 1;

		if (!eof)
			fds[n++] = (struct pollfd){ STDIN_FILENO, POLLIN, 0 };
		first = n;
		n += resolver_pollfds(h->resolver, fds + n, RESOLVE_MAX_FDS);
		if (poll(fds, n, resolver_timeout_ms(h->resolver)) < 0) {
			if (errno != EINTR) {
				log_warn("poll");
				return 1;
			}
			maybe_reload(h);        /* SIGHUP */
			continue;
		}
		if (!eof && (fds[0].revents & (POLLIN | POLLHUP | POLLERR)))
			r = read_and_answer(h, rd);
		if (r < 0)
			return 1;
		eof |= r == 0;
		resolver_process(h->resolver, fds + first, n - first);
		flush_out(h);
	}
	return 0;
}

/* The DNS check of --verify-sni dns, when asked for and possible; without
 * it, IPs that only their SNI could vouch for are simply not direct. */
static void
start_resolver(struct helper *h)
{
	struct resolve_options o = { h->cfg.sni.dns_servers,
	    h->cfg.sni.dns_timeout_ms, RESOLVE_DEFAULT_INFLIGHT,
	    RESOLVE_DEFAULT_CACHE };
	char err[256];

	if (!h->cfg.sni.verify_dns || h->config_broken)
		return;
	if (!h->concurrency) {
		log_warnx("verify_sni = dns needs --concurrency: the DNS check "
		    "of the SNI is off");
		return;
	}
	h->waiting = calloc(WAITING_SLOTS, sizeof(*h->waiting));
	if (h->waiting == NULL ||
	    (h->resolver = resolver_new(&o, err, sizeof(err))) == NULL) {
		log_warnx("the DNS check of the SNI is off: %s",
		    h->waiting == NULL ? "out of memory" : err);
		free(h->waiting);
		h->waiting = NULL;
		return;
	}
	for (size_t i = 0; i < WAITING_SLOTS; i++) {
		h->waiting[i].h = h;
		h->waiting[i].next_free = h->free_waiting;
		h->free_waiting = &h->waiting[i];
	}
}

int
main(int argc, char **argv)
{
	static struct helper h;
	static struct reader rd;
	struct sigaction sa;
	char err[512];

#ifdef M_MMAP_THRESHOLD
	/* glibc raises its mmap threshold to the largest block freed so far
	 * (up to 32 MiB), so from the first reload on the next data's text,
	 * tables and arrays all came from the heap, fragmenting it: a reload
	 * of the largest data the loader takes grew the helper by 5 MiB.  A
	 * fixed threshold keeps blocks from 128 KiB up out of the heap, handed
	 * back whole when freed. */
	mallopt(M_MMAP_THRESHOLD, 128 * 1024);
#endif
	log_init("ext_m365_acl");
	parse_args(&h, argc, argv);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_hup;         /* no SA_RESTART: read() returns EINTR */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (!h.config_broken) {
		h.rules = source_compile(h.data_opt, h.cfg.state_dir,
		    &h.cfg.policy, true, &h.src, err, sizeof(err));
		if (h.rules == NULL) {
			log_warnx("%s", err);
			return 1;
		}
	}
	if (!h.config_broken && h.cache_size > 0 && (h.memo = memo_new(h.cache_size)) == NULL) {
		log_warnx("out of memory for --cache-size %zu", h.cache_size);
		return 1;
	}
	if ((h.pairlog = pairlog_new()) == NULL) {
		log_warnx("out of memory");
		return 1;
	}
	start_resolver(&h);
	clock_gettime(CLOCK_MONOTONIC, &h.last_check);
	return h.resolver != NULL ? serve_polling(&h, &rd) : serve(&h, &rd);
}
