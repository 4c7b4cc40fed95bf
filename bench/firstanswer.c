/* firstanswer.c - start-up cost of a helper: spawns the program runs times,
 * writes one request line into its stdin right away, and measures
 * (CLOCK_MONOTONIC) from just before fork() to the first complete answer
 * line on its stdout.  Then closes stdin, drains the output, reaps the child
 * with wait4() and records its peak RSS (ru_maxrss).  With -H, the helper
 * first gets a SIGHUP and the request once more, so that the peak is the
 * one of a reload (old and new rules at once).  The last line ("result
 * ...") is for bench/run. */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mix.h"
#include "parse.h"

#define DEFAULT_RUNS 20
#define MAX_RUNS 1000
#define DEFAULT_REQUEST "1 outlook.office365.com 443 -"
#define ANSWER_MAX 4096

struct sample {
	double ms;              /* spawn to first answer line */
	long rss_kib;           /* peak resident set size */
};

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void
child(int in[2], int out[2], char **argv)
{
	if (dup2(in[0], STDIN_FILENO) == -1 ||
	    dup2(out[1], STDOUT_FILENO) == -1)
		_exit(126);
	close(in[0]);
	close(in[1]);
	close(out[0]);
	close(out[1]);
	execvp(argv[0], argv);
	_exit(127);
}

/* Reads until the first '\n' into buf (NUL-terminated). Returns its length,
 * or -1 at EOF or error before a full line. */
static ssize_t
read_line(int fd, char *buf, size_t size)
{
	size_t have = 0;

	while (have + 1 < size) {
		ssize_t r = read(fd, buf + have, size - 1 - have);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		have += (size_t)r;
		buf[have] = '\0';
		if (memchr(buf, '\n', have) != NULL)
			return (ssize_t)have;
	}
	return -1;
}

static void
drain(int fd)
{
	char buf[4096];

	while (read(fd, buf, sizeof buf) > 0)
		;
}

/* One spawn. Returns 0 with *s filled and the answer in answer, or -1. */
static int
run_once(char **argv, const char *request, bool reload, struct sample *s,
    char *answer, size_t size)
{
	int in[2], out[2], status;
	struct rusage ru;
	double t0;
	ssize_t got;
	pid_t pid;

	if (pipe(in) == -1 || pipe(out) == -1)
		return -1;
	t0 = now_ms();
	if ((pid = fork()) == -1)
		return -1;
	if (pid == 0)
		child(in, out, argv);
	close(in[0]);
	close(out[1]);
	/* a helper that died early shows up as no answer below */
	if (write(in[1], request, strlen(request)) < 0 ||
	    write(in[1], "\n", 1) < 0)
		answer[0] = '\0';
	got = read_line(out[0], answer, size);
	s->ms = now_ms() - t0;
	/* the signal is pending before the request arrives: the helper
	 * reloads, then answers it */
	if (got >= 0 && reload && (kill(pid, SIGHUP) == -1 ||
	    write(in[1], request, strlen(request)) < 0 ||
	    write(in[1], "\n", 1) < 0 || read_line(out[0], answer, size) < 0))
		got = -1;
	close(in[1]);
	drain(out[0]);
	close(out[0]);
	while (wait4(pid, &status, 0, &ru) == -1 && errno == EINTR)
		;
	s->rss_kib = ru.ru_maxrss;
	if (got < 0)
		fprintf(stderr, "firstanswer: %s: no answer (status %d)\n",
		    argv[0], status);
	return got < 0 ? -1 : 0;
}

static void
report(const struct sample *s, size_t n, const char *answer)
{
	double ms[MAX_RUNS], rss[MAX_RUNS];
	double ms_med, rss_med;

	for (size_t i = 0; i < n; i++) {
		ms[i] = s[i].ms;
		rss[i] = (double)s[i].rss_kib;
	}
	ms_med = mix_median(ms, n);
	rss_med = mix_median(rss, n);
	printf("first answer: %s", answer);
	printf("%zu runs: start to first answer median %.2f ms (min %.2f, "
	    "max %.2f); peak RSS median %.0f KiB (max %.0f)\n", n, ms_med,
	    ms[0], ms[n - 1], rss_med, rss[n - 1]);
	printf("result first_ms=%.3f rss_kib=%.0f\n", ms_med, rss[n - 1]);
}

int
main(int argc, char **argv)
{
	static struct sample s[MAX_RUNS];
	char answer[ANSWER_MAX] = "";
	const char *request = DEFAULT_REQUEST;
	uint64_t runs = DEFAULT_RUNS;
	bool reload = false;
	int ch;

	while ((ch = getopt(argc, argv, "+Hn:q:")) != -1) {
		if (ch == 'H') {
			reload = true;
			continue;
		}
		if (ch == 'n' && parse_uint(optarg, strlen(optarg), MAX_RUNS,
		    &runs) == 0 && runs > 0)
			continue;
		if (ch == 'q' && strchr(optarg, '\n') == NULL) {
			request = optarg;
			continue;
		}
		optind = argc;  /* usage */
		break;
	}
	if (optind == argc) {
		fprintf(stderr, "usage: firstanswer [-H] [-n runs] [-q line] "
		    "program [arg ...]\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	for (size_t i = 0; i < runs; i++)
		if (run_once(argv + optind, request, reload, &s[i], answer,
		    sizeof answer) == -1)
			return 1;
	report(s, (size_t)runs, answer);
	return 0;
}
