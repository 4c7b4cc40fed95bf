/* roots.h - the public roots: the certificate authorities a browser
 * trusts out of the box, and nothing an enterprise added.  On Debian that
 * is the Mozilla bundle of ca-certificates, one PEM file per root under
 * /usr/share/ca-certificates/mozilla/; /etc/ssl/certs/ca-certificates.crt
 * is not it, since update-ca-certificates adds the local CAs (those of a
 * TLS-inspecting proxy among them) to that file. */
#ifndef M365_ROOTS_H
#define M365_ROOTS_H

#include <stddef.h>

#include "buf.h"

#define ROOTS_MOZILLA_DIR "/usr/share/ca-certificates/mozilla"
#define ROOTS_MAX_BYTES (4u * 1024 * 1024)      /* the whole bundle */
#define ROOTS_MAX_FILES 2000                    /* in the directory */
#define ROOTS_MAX_FILE (256u * 1024)            /* one .crt file */

/* Loads a PEM bundle into out (BUF_INIT(ROOTS_MAX_BYTES), emptied
 * first): the file path, or, when path is NULL, every *.crt file of
 * ROOTS_MOZILLA_DIR concatenated.  Returns the number of certificates
 * (at least 1), or -1 with a message naming the file or directory in err
 * (missing, unreadable, too large, no certificate in it). */
int roots_load(const char *path, struct buf *out, char *err, size_t errlen);

#endif
