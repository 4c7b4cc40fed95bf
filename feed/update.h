/* update.h - the update pipeline behind "m365-direct update" (DESIGN.md
 * §2, §7): under the state directory's lock, the version check, the
 * fetch, the guards, the change report, the crash-safe install, the
 * record of the attempt (status.json) and the on_change hook.  It prints
 * nothing (but for a hook that cannot be executed, which says so on
 * stderr from the child): what happened comes back as values. */
#ifndef M365_UPDATE_H
#define M365_UPDATE_H

#include <stdbool.h>

#include "config.h"
#include "diff.h"
#include "fetch.h"
#include "settings.h"

#define UPDATE_MSG_MAX 1024

enum update_status {
	UPDATE_INSTALLED,               /* new data installed */
	UPDATE_CURRENT,                 /* the installed version is the latest */
	UPDATE_FAILED                   /* nothing installed; last good data kept */
};

enum update_hook {
	UPDATE_HOOK_NOT_RUN,            /* no change installed, or no on_change */
	UPDATE_HOOK_OK,                 /* ran and exited 0 */
	UPDATE_HOOK_FAILED              /* hook_message says how; the install stands */
};

struct update_result {
	enum update_status status;
	/* The one line saying what happened, as status.json records it. */
	char message[UPDATE_MSG_MAX];
	/* "" or: installed, but the directory may not survive a power cut. */
	char warning[UPDATE_MSG_MAX];
	/* "" or what the guards accepted with a warning (Microsoft platforms
	 * in the private section of the public suffix list). */
	char guard_warning[UPDATE_MSG_MAX];
	/* "" or why the attempt could not be recorded in status.json. */
	char record_error[UPDATE_MSG_MAX];
	char version[FETCH_VERSION_LEN + 1];    /* the service's latest, or "" */
	char was[32];                   /* installed before the run, or "" */
	/* The change report when installed data replaced other bytes (empty
	 * when no policy can tell the two apart: only set ids, order or
	 * spellings changed); NULL otherwise.  Owned. */
	struct diff_report *diff;
	enum update_hook hook;
	char hook_message[UPDATE_MSG_MAX];      /* "" unless UPDATE_HOOK_FAILED */
};

/* Called once per run, when the outcome is decided and recorded and
 * before the hook runs (so the report comes before anything the hook
 * writes, and the hook sees the new status.json); res is borrowed. */
typedef void update_report_fn(const struct update_result *res, void *arg);

struct update_opts {
	const char *state_dir;          /* made (mode 0755) when missing */
	const struct m365_update *cfg;  /* where and how to fetch; on_change */
	const struct m365_strlist *service_areas;   /* ServiceAreas=; empty: all */
	bool force;                     /* past the version check, the shrink
	                                 * guard and an HTTP 429 hold */
	update_report_fn *report;       /* NULL: none */
	void *report_arg;
};

/* Runs the pipeline once; the options are borrowed, res is filled (free
 * it with update_result_free).  Returns res->status: installed or
 * current, or failed with the last good data kept; res->message says
 * which and why, on failure too. */
enum update_status update_run(const struct update_opts *o,
    struct update_result *res);

/* Frees what res owns (the change report); res may be reused. */
void update_result_free(struct update_result *res);

/* The status as status.json's last_result names it: "installed",
 * "current", "failed". */
const char *update_strerror(enum update_status st);

#endif
