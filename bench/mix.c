/* mix.c - see mix.h. */
#include "mix.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define MIX_TEXT_MAX 300        /* longer than any name or address we make */
#define MIX_RANDOM_NAMES 200
#define MIX_RANDOM_V4 150
#define MIX_RANDOM_V6 50

/* Hosts a proxy sees all day that are not Microsoft 365. */
static const char *const common_hosts[] = {
	"www.google.com", "google.com", "fonts.googleapis.com",
	"fonts.gstatic.com", "www.gstatic.com", "ajax.googleapis.com",
	"www.youtube.com", "i.ytimg.com", "accounts.google.com",
	"mail.google.com", "docs.google.com", "drive.google.com",
	"www.facebook.com", "static.xx.fbcdn.net", "www.instagram.com",
	"twitter.com", "x.com", "abs.twimg.com", "pbs.twimg.com",
	"www.amazon.com", "images-na.ssl-images-amazon.com",
	"s3.amazonaws.com", "d1.awsstatic.com", "github.com",
	"api.github.com", "raw.githubusercontent.com",
	"objects.githubusercontent.com", "registry.npmjs.org",
	"pypi.org", "files.pythonhosted.org", "deb.debian.org",
	"security.debian.org", "archive.ubuntu.com", "cdn.jsdelivr.net",
	"cdnjs.cloudflare.com", "unpkg.com", "www.cloudflare.com",
	"slack.com", "app.slack.com", "zoom.us", "us02web.zoom.us",
	"www.wikipedia.org", "en.wikipedia.org", "upload.wikimedia.org",
	"www.reddit.com", "www.redditstatic.com", "www.bbc.co.uk",
	"www.nytimes.com", "www.theguardian.com", "www.spiegel.de",
	"www.apple.com", "itunes.apple.com", "gateway.icloud.com",
	"www.dropbox.com", "dl.dropboxusercontent.com", "www.salesforce.com",
	"login.salesforce.com", "www.atlassian.com", "id.atlassian.com",
	"contoso.atlassian.net", "www.adobe.com", "acrobat.adobe.com",
	"www.paypal.com", "www.ebay.com", "www.netflix.com",
	"ocsp.digicert.com", "crl3.digicert.com", "ocsp.pki.goog",
	"r3.o.lencr.org", "www.googletagmanager.com",
	"www.google-analytics.com", "stats.g.doubleclick.net",
	"securepubads.g.doubleclick.net", "connect.facebook.net",
	"static.doubleclick.net", "cdn.segment.com", "js.stripe.com",
	"api.stripe.com", "www.linkedin.com", "static.licdn.com",
	"www.bing.com", "www.msn.com", "update.googleapis.com",
	"clients2.google.com", "safebrowsing.googleapis.com",
	"detectportal.firefox.com", "push.services.mozilla.com",
	"incoming.telemetry.mozilla.org", "time.cloudflare.com",
	"www.example.com", "intranet.contoso.local", "wiki.corp.example",
	"jira.corp.example", "proxy.corp.example", "10-0-0-1.nip.io",
	"xn--bcher-kva.example",
};

/* Suffixes for random-looking names. */
static const char *const random_tlds[] = {
	".com", ".net", ".org", ".io", ".de", ".co.uk", ".cloudfront.net",
	".akamaized.net", ".azureedge.net.example", ".example",
};

/* Addresses everybody knows that are not Microsoft 365. */
static const char *const common_ips[] = {
	"8.8.8.8", "1.1.1.1", "9.9.9.9", "192.168.1.10", "10.0.0.1",
	"172.16.5.4", "127.0.0.1", "142.250.185.78", "151.101.1.69",
	"2001:4860:4860::8888", "2606:4700:4700::1111", "::1",
	"2a00:1450:4001:82b::200e", "[2001:db8::1]", "::ffff:8.8.4.4",
};

struct builder {
	struct mix_query *q;
	size_t n, cap;
	uint64_t rng;
};

uint64_t
mix_rand(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15u);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
	return z ^ (z >> 31);
}

static size_t
rand_below(uint64_t *state, size_t n)
{
	return (size_t)(mix_rand(state) % n);
}

static int
push(struct builder *b, const char *text, enum mix_kind kind, bool v6,
    bool inside)
{
	struct mix_query *q;
	char *copy;

	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 1024;
		struct mix_query *nq = realloc(b->q, cap * sizeof *nq);

		if (nq == NULL)
			return -1;
		b->q = nq;
		b->cap = cap;
	}
	if ((copy = strdup(text)) == NULL)
		return -1;
	q = &b->q[b->n++];
	q->text = copy;
	q->len = strlen(copy);
	q->kind = kind;
	q->v6 = v6;
	q->inside = inside;
	return 0;
}

/* Writes pat with every '*' replaced by word and every '?' by 'a'. */
static void
instantiate(const char *pat, const char *word, char *out, size_t size)
{
	size_t o = 0, wl = strlen(word);

	for (const char *p = pat; *p != '\0' && o + wl + 1 < size; p++) {
		if (*p == '*') {
			memcpy(out + o, word, wl);
			o += wl;
		} else
			out[o++] = *p == '?' ? (char)'a' : *p;
	}
	out[o] = '\0';
}

/* The names one pattern stands for, and two subdomains of each. */
static int
add_pattern(struct builder *b, const char *pat)
{
	static const char *const words[] = { "a", "contoso", "" };
	static const char *const subs[] = { "a.", "www." };
	char name[MIX_TEXT_MAX], sub[MIX_TEXT_MAX];

	for (size_t w = 0; w < sizeof words / sizeof words[0]; w++) {
		/* "*" -> "" only where shExpMatch allows it: "*cdn.x" */
		if (words[w][0] == '\0' && (pat[0] != '*' || pat[1] == '.' ||
		    strchr(pat + 1, '*') != NULL))
			continue;
		if (strchr(pat, '*') == NULL && w > 0)
			break;
		instantiate(pat, words[w], name, sizeof name);
		if (push(b, name, MIX_DATA_NAME, false, false) == -1)
			return -1;
		for (size_t s = 0; s < sizeof subs / sizeof subs[0]; s++) {
			if ((size_t)snprintf(sub, sizeof sub, "%s%s", subs[s],
			    name) < sizeof sub &&
			    push(b, sub, MIX_SUBDOMAIN, false, false) == -1)
				return -1;
		}
	}
	return 0;
}

/* A look-alike of pat that must not match: "name.evil.test". */
static int
add_lookalike(struct builder *b, const char *pat)
{
	char name[MIX_TEXT_MAX];
	size_t len;

	instantiate(pat, "contoso", name, sizeof name);
	len = strlen(name);
	if (len + sizeof ".evil.test" > sizeof name)
		return 0;
	memcpy(name + len, ".evil.test", sizeof ".evil.test");
	return push(b, name, MIX_OTHER_NAME, false, false);
}

static int
add_data_names(struct builder *b, const struct m365_data *d)
{
	for (size_t i = 0; i < d->n_sets; i++) {
		const struct m365_set *s = &d->sets[i];

		for (size_t u = 0; u < s->n_urls; u++)
			if (add_pattern(b, s->urls[u]) == -1 ||
			    add_lookalike(b, s->urls[u]) == -1)
				return -1;
	}
	return 0;
}

static void
random_label(uint64_t *rng, char *out, size_t len)
{
	static const char alnum[] = "abcdefghijklmnopqrstuvwxyz0123456789";

	for (size_t i = 0; i < len; i++)
		out[i] = alnum[rand_below(rng, sizeof alnum - 1)];
	out[len] = '\0';
}

static int
add_other_names(struct builder *b)
{
	char name[MIX_TEXT_MAX], label[32];

	for (size_t i = 0; i < sizeof common_hosts / sizeof common_hosts[0];
	    i++)
		if (push(b, common_hosts[i], MIX_OTHER_NAME, false, false) == -1)
			return -1;
	for (size_t i = 0; i < MIX_RANDOM_NAMES; i++) {
		size_t labels = 1 + rand_below(&b->rng, 3);

		name[0] = '\0';
		for (size_t l = 0; l < labels; l++) {
			random_label(&b->rng, label, 3 + rand_below(&b->rng, 12));
			if (l > 0)
				strcat(name, ".");
			strcat(name, label);
		}
		strcat(name, random_tlds[rand_below(&b->rng,
		    sizeof random_tlds / sizeof random_tlds[0])]);
		if (push(b, name, MIX_OTHER_NAME, false, false) == -1)
			return -1;
	}
	return 0;
}

/* Addresses, kept apart from the library's prefix code on purpose: "inside"
 * is computed here independently, to cross-check the matcher. */
static bool
addr_in(const struct ip_prefix *p, const struct ip_addr *a)
{
	uint64_t mhi, mlo;

	if (p->len == 0)
		return true;
	mhi = p->len >= 64 ? UINT64_MAX : UINT64_MAX << (64 - p->len);
	mlo = p->len <= 64 ? 0 :
	    p->len >= 128 ? UINT64_MAX : UINT64_MAX << (128 - p->len);
	return (a->hi & mhi) == (p->addr.hi & mhi) &&
	    (a->lo & mlo) == (p->addr.lo & mlo);
}

static bool
data_contains(const struct m365_data *d, const struct ip_addr *a)
{
	for (size_t i = 0; i < d->n_sets; i++)
		for (size_t j = 0; j < d->sets[i].n_ips; j++)
			if (addr_in(&d->sets[i].ips[j], a))
				return true;
	return false;
}

static bool
is_mapped_v4(const struct ip_addr *a)
{
	return a->hi == 0 && (a->lo >> 32) == 0xffffu;
}

static void
format_addr(const struct ip_addr *a, char *out, size_t size)
{
	unsigned char bytes[16];

	for (int i = 0; i < 8; i++) {
		bytes[i] = (unsigned char)(a->hi >> (56 - 8 * i));
		bytes[8 + i] = (unsigned char)(a->lo >> (56 - 8 * i));
	}
	if (is_mapped_v4(a))
		inet_ntop(AF_INET, bytes + 12, out, (socklen_t)size);
	else
		inet_ntop(AF_INET6, bytes, out, (socklen_t)size);
}

static int
push_addr(struct builder *b, const struct m365_data *d,
    const struct ip_addr *a)
{
	char text[MIX_TEXT_MAX];

	format_addr(a, text, sizeof text);
	return push(b, text, MIX_IP, !is_mapped_v4(a), data_contains(d, a));
}

/* A random address within p. */
static struct ip_addr
random_within(const struct ip_prefix *p, uint64_t *rng)
{
	struct ip_addr a = p->addr;
	uint64_t r1 = mix_rand(rng), r2 = mix_rand(rng);

	if (p->len < 64) {
		a.hi |= r1 & (UINT64_MAX >> p->len);
		a.lo = r2;
	} else if (p->len < 128)
		a.lo |= r2 & (UINT64_MAX >> (p->len - 64));
	return a;
}

/* The address just before p and the one just after it. */
static void
neighbours(const struct ip_prefix *p, struct ip_addr *before,
    struct ip_addr *after)
{
	uint64_t hmask = p->len >= 64 ? 0 : UINT64_MAX >> p->len;
	uint64_t lmask = p->len <= 64 ? UINT64_MAX :
	    p->len >= 128 ? 0 : UINT64_MAX >> (p->len - 64);

	*before = p->addr;
	before->hi -= before->lo == 0;
	before->lo--;
	after->hi = p->addr.hi | hmask;
	after->lo = p->addr.lo | lmask;
	after->lo++;
	after->hi += after->lo == 0;
}

static int
add_prefix_addrs(struct builder *b, const struct m365_data *d)
{
	for (size_t i = 0; i < d->n_sets; i++)
		for (size_t j = 0; j < d->sets[i].n_ips; j++) {
			const struct ip_prefix *p = &d->sets[i].ips[j];
			struct ip_addr in = random_within(p, &b->rng), lo, hi;

			neighbours(p, &lo, &hi);
			if (push_addr(b, d, &in) == -1 ||
			    push_addr(b, d, &lo) == -1 ||
			    push_addr(b, d, &hi) == -1)
				return -1;
		}
	return 0;
}

static int
add_random_addrs(struct builder *b, const struct m365_data *d)
{
	struct ip_addr a;

	for (size_t i = 0; i < MIX_RANDOM_V4; i++) {
		a.hi = 0;
		/* 1.0.0.0 .. 223.255.255.255: unicast */
		a.lo = 0xffff00000000u | (0x01000000u +
		    mix_rand(&b->rng) % (0xe0000000u - 0x01000000u));
		if (push_addr(b, d, &a) == -1)
			return -1;
	}
	for (size_t i = 0; i < MIX_RANDOM_V6; i++) {
		/* 2000::/3, global unicast */
		a.hi = 0x2000000000000000u |
		    (mix_rand(&b->rng) & 0x1fffffffffffffffu);
		a.lo = mix_rand(&b->rng);
		if (push_addr(b, d, &a) == -1)
			return -1;
	}
	return 0;
}

static int
add_common_addrs(struct builder *b, const struct m365_data *d)
{
	for (size_t i = 0; i < sizeof common_ips / sizeof common_ips[0]; i++) {
		const char *t = common_ips[i];
		size_t len = strlen(t);
		unsigned char bytes[16];
		struct ip_addr a = { 0, 0 };
		char bare[MIX_TEXT_MAX];
		bool v6 = strchr(t, ':') != NULL;

		/* classify on the bare address; keep the text as written */
		if (t[0] == '[') {
			memcpy(bare, t + 1, len - 2);
			bare[len - 2] = '\0';
		} else
			memcpy(bare, t, len + 1);
		if (v6 && inet_pton(AF_INET6, bare, bytes) == 1)
			for (int k = 0; k < 8; k++) {
				a.hi = a.hi << 8 | bytes[k];
				a.lo = a.lo << 8 | bytes[8 + k];
			}
		else if (!v6 && inet_pton(AF_INET, bare, bytes) == 1)
			a.lo = 0xffff00000000u | (uint64_t)bytes[0] << 24 |
			    (uint64_t)bytes[1] << 16 | (uint64_t)bytes[2] << 8 |
			    bytes[3];
		if (push(b, t, MIX_IP, v6 && !is_mapped_v4(&a),
		    data_contains(d, &a)) == -1)
			return -1;
	}
	return 0;
}

static int
cmp_text(const void *x, const void *y)
{
	const struct mix_query *a = x, *b = y;

	return strcmp(a->text, b->text);
}

/* Sorts, drops duplicates (a text made twice keeps the lowest kind: data
 * name before subdomain before other), then shuffles. */
static void
dedupe_shuffle(struct builder *b)
{
	size_t o = 0;

	qsort(b->q, b->n, sizeof *b->q, cmp_text);
	for (size_t i = 0; i < b->n; i++) {
		if (o > 0 && strcmp(b->q[o - 1].text, b->q[i].text) == 0) {
			if (b->q[i].kind < b->q[o - 1].kind)
				b->q[o - 1].kind = b->q[i].kind;
			free((char *)b->q[i].text);
			continue;
		}
		b->q[o++] = b->q[i];
	}
	b->n = o;
	for (size_t i = b->n; i > 1; i--) {
		size_t j = rand_below(&b->rng, i);
		struct mix_query t = b->q[i - 1];

		b->q[i - 1] = b->q[j];
		b->q[j] = t;
	}
}

int
mix_build(struct mix *m, const struct m365_data *data, uint64_t seed)
{
	struct builder b = { NULL, 0, 0, seed };

	m->q = NULL;
	m->n = 0;
	if (add_data_names(&b, data) == -1 || add_other_names(&b) == -1 ||
	    add_prefix_addrs(&b, data) == -1 ||
	    add_random_addrs(&b, data) == -1 ||
	    add_common_addrs(&b, data) == -1) {
		struct mix tmp = { b.q, b.n };

		mix_free(&tmp);
		return -1;
	}
	dedupe_shuffle(&b);
	m->q = b.q;
	m->n = b.n;
	return 0;
}

void
mix_free(struct mix *m)
{
	if (m == NULL)
		return;
	for (size_t i = 0; i < m->n; i++)
		free((char *)m->q[i].text);
	free(m->q);
	m->q = NULL;
	m->n = 0;
}

int
mix_select(const struct mix *m, unsigned mask, struct mix_query **out,
    size_t *n)
{
	size_t k = 0;

	*out = malloc((m->n ? m->n : 1) * sizeof **out);
	if (*out == NULL)
		return -1;
	for (size_t i = 0; i < m->n; i++)
		if (mask & (1u << m->q[i].kind))
			(*out)[k++] = m->q[i];
	*n = k;
	return 0;
}

const char *
mix_kind_name(enum mix_kind k)
{
	switch (k) {
	case MIX_DATA_NAME:
		return "data names";
	case MIX_SUBDOMAIN:
		return "subdomains";
	case MIX_OTHER_NAME:
		return "non-M365 names";
	case MIX_IP:
		return "IP literals";
	case MIX_KINDS:
		break;
	}
	return "?";
}

static int
cmp_double(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;

	return (a > b) - (a < b);
}

double
mix_median(double *v, size_t n)
{
	qsort(v, n, sizeof *v, cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}
