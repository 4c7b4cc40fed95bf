# flags.mk - compiler flags shared by the top-level Makefile and
# bench/Makefile: the warnings of STYLE.md, WERROR=1 for CI, SAN=1 for
# ASan+UBSan, and the libraries found with pkg-config.
PKG_CONFIG ?= pkg-config
WARN = -Wall -Wextra -Wpedantic -Wformat=2 -Wshadow -Wstrict-prototypes \
       -Wmissing-prototypes -Wvla -Wconversion
ifdef WERROR
WARN += -Werror
endif
OPT ?= -O2 -g
ifdef SAN
OPT = -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
SANLD = -fsanitize=address,undefined
endif
PKGS = libcjson
PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)
C_STD = -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE
