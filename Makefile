# m365-direct - plain Makefile, flags from pkg-config.
# make            build ext_m365_acl and m365-direct into build/
# make check      install missing packages, build, run every test (prove)
# make SAN=1 check   the same under ASan+UBSan
# make bench      benchmarks (not part of check)
# make demo       a private Squid on loopback using the helper
# make install    PREFIX=/usr/local DESTDIR=
# make deb        the Debian package, in build/ (VERSION=x.y.z for another)

PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
LIBEXECDIR ?= $(PREFIX)/lib/squid
SYSCONFDIR ?= /etc
DATADIR ?= $(PREFIX)/share
DOCDIR  ?= $(DATADIR)/doc/m365-direct
MANDIR  ?= $(DATADIR)/man
CC      ?= cc
VERSION ?= 0.1.0
include flags.mk

# Into /usr, the directories systemd and bash-completion name in their
# pkg-config files (Debian 12: units in /lib/systemd/system); elsewhere,
# or without them, under PREFIX (systemd reads /usr/local/lib too).
pc_dir = $(or $(if $(filter /usr,$(PREFIX)),$(shell $(PKG_CONFIG) \
	--variable=$(2) $(1) 2>/dev/null)),$(3))
SYSTEMDUNITDIR ?= $(call pc_dir,systemd,systemdsystemunitdir,$(PREFIX)/lib/systemd/system)
SYSUSERSDIR ?= $(call pc_dir,systemd,sysusersdir,$(PREFIX)/lib/sysusers.d)
TMPFILESDIR ?= $(call pc_dir,systemd,tmpfilesdir,$(PREFIX)/lib/tmpfiles.d)
BASHCOMPDIR ?= $(call pc_dir,bash-completion,completionsdir,$(DATADIR)/bash-completion/completions)
ifdef SAN
B = build/san
else
B = build/rel
endif

# The feed (the updater's code) is the only part linking libcurl.
FEED_PKGS = libcurl libpsl
FEED_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(FEED_PKGS) 2>/dev/null)
FEED_LIBS   := $(shell $(PKG_CONFIG) --libs $(FEED_PKGS) 2>/dev/null)
# libmaxminddb reads the ASN database of the feed's cross-check
# (feed/asn.c: update and check, so m365-direct links it; the helper never
# does), and the tests read back the MMDB we write with it.
MMDB_CFLAGS := $(shell $(PKG_CONFIG) --cflags libmaxminddb 2>/dev/null)
MMDB_LIBS := $(shell $(PKG_CONFIG) --libs libmaxminddb 2>/dev/null)
# The helper's DNS check (helper/resolve.c, --verify-sni dns) is the only
# code linking c-ares: the helper and the test tool built on that module.
HELPER_PKGS = libcares
HELPER_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(HELPER_PKGS) 2>/dev/null)
HELPER_LIBS   := $(shell $(PKG_CONFIG) --libs $(HELPER_PKGS) 2>/dev/null)
CMOCKA_CFLAGS := $(shell $(PKG_CONFIG) --cflags cmocka 2>/dev/null)
CMOCKA_LIBS   := $(shell $(PKG_CONFIG) --libs cmocka 2>/dev/null)

ALL_CFLAGS = $(C_STD) -DM365_VERSION='"$(VERSION)"' $(WARN) \
	$(OPT) $(PKG_CFLAGS) $(FEED_CFLAGS) $(CPPFLAGS) $(CFLAGS)
# The headers each module may include (DESIGN.md §1): a wrong include fails
# to compile.  common/ uses nothing else; the helper sees matcher/ and
# common/ only; feed/ and export/ do not see each other; cli/ sees all.
INC_common  = -Icommon
INC_matcher = -Icommon -Imatcher
INC_helper  = -Icommon -Imatcher -Ihelper
INC_feed    = -Icommon -Imatcher -Ifeed
INC_export  = -Icommon -Imatcher -Iexport
INC_cli     = -Icommon -Imatcher -Ifeed -Iexport -Iassess
INC_tests   = -Icommon -Imatcher -Ifeed -Iexport -Ihelper -Icli -Itests/unit \
	-Iassess
# assess/ (m365-direct assess) probes from a client's seat: it sees the
# matcher, not the updater (feed/) nor the exporters.
INC_assess  = -Icommon -Imatcher -Iassess
ALL_LDFLAGS = $(SANLD) $(LDFLAGS)

COMMON_SRC = $(wildcard common/*.c)
MATCHER_SRC = matcher/prefix.c matcher/host.c matcher/diff.c \
	matcher/names.c matcher/endpoints.c matcher/config.c matcher/matcher.c \
	matcher/source.c matcher/visit.c
# The core library's archive carries common/ too: everything links both.
MATCHER_OBJ = $(COMMON_SRC:%.c=$(B)/%.o) $(MATCHER_SRC:%.c=$(B)/%.o) \
	$(B)/matcher/snapshot.o
FEED_SRC = $(wildcard feed/*.c)
EXPORT_SRC = $(wildcard export/*.c)
HELPER_SRC = helper/proto.c helper/memo.c helper/pairlog.c helper/resolve.c \
	helper/ext_m365_acl.c
CLI_SRC = $(wildcard cli/*.c)
ASSESS_SRC = $(wildcard assess/*.c)
# assess/ links libcurl (its probes) and libmaxminddb (front doors); only
# m365-direct does, never the helper.
ASSESS_LIBS := $(shell $(PKG_CONFIG) --libs libcurl libmaxminddb 2>/dev/null) -lm
UNIT_SRC = $(wildcard tests/unit/test_*.c)
UNIT_BIN = $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)
TOOLS = $(B)/tools/probes $(B)/tools/resolve_probe $(B)/tools/gen_feed

all: $(B)/ext_m365_acl $(B)/m365-direct build/ext_m365_acl build/m365-direct

# Convenience links so scripts find the programs of the last build flavour.
build/ext_m365_acl build/m365-direct: build/%: $(B)/% FORCE
	ln -sfn $(notdir $(B))/$* $@
FORCE:

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(INC_$(firstword $(subst /, ,$*))) -MMD -MP -c -o $@ $<

# The bundled snapshot is compiled in (see matcher/snapshot.S).
$(B)/matcher/snapshot.o: matcher/snapshot.S data/worldwide-c2025.json
	@mkdir -p $(dir $@)
	$(CC) -c -Wa,-I. -o $@ matcher/snapshot.S

$(B)/libm365matcher.a: $(MATCHER_OBJ)
	rm -f $@
	ar rcs $@ $^

$(B)/libm365feed.a: $(FEED_SRC:%.c=$(B)/%.o)
	rm -f $@
	ar rcs $@ $^
$(B)/feed/asn.o: ALL_CFLAGS += $(MMDB_CFLAGS)

# The helper links the matcher and c-ares (for helper/resolve.c only): no
# libcurl.
$(B)/ext_m365_acl: $(HELPER_SRC:%.c=$(B)/%.o) $(B)/libm365matcher.a
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(HELPER_LIBS) $(PKG_LIBS)
$(B)/helper/resolve.o: ALL_CFLAGS += $(HELPER_CFLAGS)

$(B)/libm365export.a: $(EXPORT_SRC:%.c=$(B)/%.o)
	rm -f $@
	ar rcs $@ $^

$(B)/m365-direct: $(CLI_SRC:%.c=$(B)/%.o) $(B)/libm365assess.a \
		$(B)/libm365export.a $(B)/libm365feed.a $(B)/libm365matcher.a
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(FEED_LIBS) $(MMDB_LIBS) $(PKG_LIBS)
$(B)/m365-direct: FEED_LIBS += $(ASSESS_LIBS)

$(B)/libm365assess.a: $(ASSESS_SRC:%.c=$(B)/%.o)
	rm -f $@
	ar rcs $@ $^
$(B)/assess/%.o: ALL_CFLAGS += $(shell $(PKG_CONFIG) --cflags libcurl libmaxminddb 2>/dev/null)

# Test tools: probes prints the exporters' agreement probes with the answer
# of the matcher.
$(B)/tools/%: tests/tools/%.c $(B)/libm365matcher.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(INC_matcher) -o $@ $< $(B)/libm365matcher.a \
		$(ALL_LDFLAGS) $(PKG_LIBS)

# resolve_probe drives helper/resolve.c against real DNS servers
# (tests/integration/resolve.t).
$(B)/tools/resolve_probe: tests/tools/resolve_probe.c $(B)/helper/resolve.o \
		$(B)/libm365matcher.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(HELPER_CFLAGS) $(INC_helper) -o $@ $< \
		$(B)/helper/resolve.o $(B)/libm365matcher.a $(ALL_LDFLAGS) \
		$(HELPER_LIBS) $(PKG_LIBS)

$(B)/tests/suite.o: tests/unit/suite.c tests/unit/suite.h
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(INC_tests) $(CMOCKA_CFLAGS) -MMD -MP -c -o $@ $<

$(B)/tests/%: tests/unit/%.c $(B)/tests/suite.o $(B)/libm365export.a \
		$(B)/libm365feed.a $(B)/libm365matcher.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(INC_tests) $(CMOCKA_CFLAGS) -o $@ $< \
		$(TEST_OBJ) $(B)/tests/suite.o $(B)/helper/proto.o $(B)/helper/memo.o \
		$(B)/helper/pairlog.o \
		$(B)/libm365export.a $(B)/libm365feed.a \
		$(B)/libm365matcher.a $(ALL_LDFLAGS) $(FEED_LIBS) $(PKG_LIBS) \
		$(MMDB_LIBS) $(CMOCKA_LIBS)
$(UNIT_BIN): $(B)/helper/proto.o $(B)/helper/memo.o $(B)/helper/pairlog.o
# test_diff reads the report's printers (cli/diff.c).
$(B)/tests/test_diff: $(B)/cli/diff.o
$(B)/tests/test_diff: TEST_OBJ = $(B)/cli/diff.o
# test_assess: the checks' judgements, the sample, roots, geo (assess/).
$(B)/tests/test_assess: $(B)/libm365assess.a
$(B)/tests/test_assess: TEST_OBJ = $(B)/libm365assess.a
$(B)/tests/test_assess: MMDB_LIBS += -lm
# test_source switches the cache's link from inside open() and readlink().
$(B)/tests/test_source: ALL_LDFLAGS += -Wl,--wrap=open -Wl,--wrap=readlink

deps:
	@sh tests/install-deps.sh

# The whole suite: unit tests (cmocka, TAP), protocol, verdict and Squid
# integration tests, all run by prove.
check: deps
	$(MAKE) all $(UNIT_BIN) $(TOOLS)
	M365_BUILD=$(B) sh tests/run

# The libFuzzer targets (clang), each run FUZZ_SECONDS (60) from the
# committed corpus; a crash, leak or sanitizer report fails (.ci/run).
fuzz:
	@sh tests/install-deps.sh fuzz
	sh tests/fuzz/build.sh
	sh tests/fuzz/run.sh

bench: deps
	$(MAKE) all $(B)/tools/gen_feed
	$(MAKE) -C bench B=../$(B)
	M365_BUILD=$(B) sh bench/run

demo: deps
	$(MAKE) all
	sh tests/demo.sh

# Where the files name the installed programs, they name these paths.
INSTALL_PATHS = sed -e 's|/usr/bin/m365-direct|$(BINDIR)/m365-direct|g' \
	-e 's|/usr/lib/squid/ext_m365_acl|$(LIBEXECDIR)/ext_m365_acl|g'
SNIPPETS = $(wildcard configs/squid/*.conf configs/haproxy/*.cfg \
	configs/nginx/*.conf)
EXAMPLES = $(wildcard packaging/examples/*)

# The programs, the configuration (never over an existing one), the proxy
# snippets (for the admin to include: nothing here changes a running
# proxy), the systemd units with the system user and the state directory
# they need, the examples and the bash completion.  The Debian package is
# exactly this (packaging/debian/rules).
install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBEXECDIR) \
		$(DESTDIR)$(SYSCONFDIR)/m365-direct $(DESTDIR)$(SYSTEMDUNITDIR) \
		$(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(TMPFILESDIR) \
		$(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(DOCDIR)/examples \
		$(addprefix $(DESTDIR)$(DATADIR)/m365-direct/,squid haproxy nginx)
	install -m 755 $(B)/m365-direct $(DESTDIR)$(BINDIR)/m365-direct
	install -m 755 $(B)/ext_m365_acl $(DESTDIR)$(LIBEXECDIR)/ext_m365_acl
	install -d $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8
	install -m 644 man/m365-direct.conf.5 $(DESTDIR)$(MANDIR)/man5/
	install -m 644 man/ext_m365_acl.8 man/m365-direct.8 $(DESTDIR)$(MANDIR)/man8/
	test -e $(DESTDIR)$(SYSCONFDIR)/m365-direct/m365-direct.conf || \
		install -m 644 configs/m365-direct.conf \
		$(DESTDIR)$(SYSCONFDIR)/m365-direct/m365-direct.conf
	for f in $(SNIPPETS); do \
		$(INSTALL_PATHS) $$f >$(DESTDIR)$(DATADIR)/m365-direct/$${f#configs/} && \
		chmod 644 $(DESTDIR)$(DATADIR)/m365-direct/$${f#configs/} || exit 1; \
	done
	for u in m365-direct-update.service m365-direct-update.timer; do \
		$(INSTALL_PATHS) packaging/systemd/$$u >$(DESTDIR)$(SYSTEMDUNITDIR)/$$u && \
		chmod 644 $(DESTDIR)$(SYSTEMDUNITDIR)/$$u || exit 1; \
	done
	install -m 644 packaging/systemd/m365-direct.sysusers \
		$(DESTDIR)$(SYSUSERSDIR)/m365-direct.conf
	install -m 644 packaging/systemd/m365-direct.tmpfiles \
		$(DESTDIR)$(TMPFILESDIR)/m365-direct.conf
	install -m 644 packaging/bash-completion/m365-direct \
		$(DESTDIR)$(BASHCOMPDIR)/m365-direct
	install -m 644 README.md $(DESTDIR)$(DOCDIR)/README.md
	install -m 644 $(EXAMPLES) $(DESTDIR)$(DOCDIR)/examples/

# The Debian package (packaging/debian), built in a copy of the tree under
# build/deb-src so the tree stays clean; the .deb lands in build/.
deb:
	sh packaging/build-deb.sh $(VERSION) build

clean:
	rm -rf build

.PHONY: fuzz all deps check bench demo install deb clean FORCE
# The compilers' dependency files (not the package build's copy, whose
# tmpfiles.d and sysusers.d are directories).
-include $(shell find build -path build/deb-src -prune -o -name '*.d' -type f \
	-print 2>/dev/null)
