/* The virtual device's /system/bin/init: one small multi-call binary inside the device's sandbox.
 *
 * Called as "init" (pid 1 of the sandbox's pid namespace) it is the zygote: it accepts spawn
 * requests from the device process on an inherited listening socket (fd given in argv[1]), each
 * carrying the new process's stdin/stdout/stderr (SCM_RIGHTS), forks, and reports the pid and later
 * the exit status on that request's connection. When the device hangs up that connection without
 * saying "r" (release), e.g. because the adb client went away, the process's whole session is
 * killed. It sets the sandbox's limits (argv[3..6]: processes, address space, file size, CPU
 * seconds per process) for everything it forks. As pid 1 it reaps every orphan; it exits (ending the namespace) when the lifeline pipe
 * from the device process (argv[2]) closes, however that process died.
 *
 * Called under any other name (getprop, am, app_process...) it is a framework tool: it hands its
 * argv, environment, cwd and its own fds 0-2 to the device process over /dev/socket/framework and
 * exits with the status the device answers. Pipes, redirects and loops around it therefore work as
 * around any process. SIGINT, SIGHUP, SIGTERM and SIGQUIT are reported to the device ("s", signal,
 * ignored-by-the-shell): it answers "d" to die by it as the default action would, or lets the tool
 * handle it (screenrecord finishes its file on SIGINT) and answers the status later. With ANDROIDD_IDLE set it only sleeps: an app process named by its argv[0].
 *
 * Written in C rather than run by a host interpreter so the sandbox needs nothing but libc, and a
 * framework tool costs well under a millisecond to start.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_MSG (256 * 1024)
#define MAX_CHILDREN 512

static int sigpipe_fds[2];
static rlim_t cpu_seconds = RLIM_INFINITY;
static void reap(void);

static void on_sigchld(int sig) {
    (void)sig;
    int saved = errno;
    (void)!write(sigpipe_fds[1], "c", 1);
    errno = saved;
}

/* Split a NUL-separated block into a NULL-terminated vector (in place). */
static char **split(char *buf, size_t len, int count) {
    char **vec = calloc((size_t)count + 1, sizeof(char *));
    size_t pos = 0;
    for (int i = 0; i < count && pos < len; i++) {
        vec[i] = buf + pos;
        pos += strlen(buf + pos) + 1;
    }
    return vec;
}

static ssize_t recv_with_fds(int sock, char *buf, size_t size, int *fds, int *nfds) {
    struct iovec iov = {buf, size};
    char control[CMSG_SPACE(sizeof(int) * 3)];
    struct msghdr msg = {0};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);
    ssize_t n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
    *nfds = 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
            int count = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
            for (int i = 0; i < count && *nfds < 3; i++)
                memcpy(&fds[(*nfds)++], CMSG_DATA(c) + i * sizeof(int), sizeof(int));
        }
    }
    return n;
}

/* ---------------------------------------------------------------------------------------------
 * zygote
 * ------------------------------------------------------------------------------------------- */

/* pid: running (0 once reaped); sid: its session, killed when the device hangs up first. */
struct child { pid_t pid; pid_t sid; int conn; };
static struct child children[MAX_CHILDREN];

static void send_int(int fd, char kind, int value) {
    char msg[5];
    msg[0] = kind;
    memcpy(msg + 1, &value, 4);
    (void)!send(fd, msg, sizeof(msg), MSG_NOSIGNAL);
}

/* Kill every process of `sid`'s session (its pipeline, job-control jobs), then the group; again
 * while any is left, since a fork bomb forks while we look. */
static void kill_session(pid_t sid) {
    for (int round = 0; round < 20; round++) {
        kill(-sid, SIGKILL);
        int found = 0;
        DIR *proc = opendir("/proc");
        struct dirent *entry;
        while (proc && (entry = readdir(proc))) {
            pid_t pid = atoi(entry->d_name);
            if (pid <= 1 || getsid(pid) != sid) continue;
            kill(pid, SIGKILL);
            found = 1;
        }
        if (proc) closedir(proc);
        if (!found) return;
        reap();
    }
}

/* Request: "kind\0cwd\0argc\0path\0argv...\0env...\0" with 3 fds (kind "pipe" or "pty"). */
static void spawn(int conn) {
    static char buf[MAX_MSG];
    int fds[3], nfds = 0;
    ssize_t n = recv_with_fds(conn, buf, sizeof(buf) - 1, fds, &nfds);
    if (n <= 0 || nfds != 3) {
        for (int i = 0; i < nfds; i++) close(fds[i]);
        close(conn);
        return;
    }
    buf[n] = 0;
    char *kind = buf, *cwd = kind + strlen(kind) + 1, *argc_text = cwd + strlen(cwd) + 1;
    char *path = argc_text + strlen(argc_text) + 1;
    int argc = atoi(argc_text);
    char *rest = path + strlen(path) + 1;
    size_t rest_len = (size_t)(buf + n - rest);
    char **argv = split(rest, rest_len, argc);
    size_t argv_len = 0;
    for (int i = 0; i < argc && argv[i]; i++) argv_len += strlen(argv[i]) + 1;
    int envc = 0;
    for (size_t pos = argv_len; pos < rest_len; pos += strlen(rest + pos) + 1) envc++;
    char **envp = split(rest + argv_len, rest_len > argv_len ? rest_len - argv_len : 0, envc);

    int slot = -1;
    for (int i = 0; i < MAX_CHILDREN; i++) if (children[i].pid == 0 && children[i].conn < 0) { slot = i; break; }
    /* A close-on-exec pipe tells us when the child has exec'd: reply only then, so the pid we
     * report already carries its name (ps, pidof) and its program. */
    int exec_pipe[2] = {-1, -1};
    if (slot >= 0 && pipe2(exec_pipe, O_CLOEXEC) != 0) slot = -1;
    pid_t pid = slot < 0 ? -1 : fork();
    if (pid == 0) {
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        signal(SIGCHLD, SIG_DFL);
        signal(SIGPIPE, SIG_DFL);
        setsid();
        /* CPU seconds per process: what escapes its session (setsid cmd &) and spins is still bounded */
        struct rlimit cpu = {cpu_seconds, cpu_seconds + 1};
        setrlimit(RLIMIT_CPU, &cpu);
        if (strcmp(kind, "pty") == 0) ioctl(fds[0], TIOCSCTTY, 0);
        for (int i = 0; i < 3; i++) dup2(fds[i], i);
        for (int fd = 3; fd < 1024; fd++) if (fd != exec_pipe[1]) close(fd);
        if (chdir(cwd) != 0) (void)!chdir("/");
        execve(path, argv, envp);
        dprintf(2, "%s: %s\n", path, strerror(errno));
        _exit(127);
    }
    for (int i = 0; i < 3; i++) close(fds[i]);
    if (exec_pipe[1] >= 0) {
        close(exec_pipe[1]);
        char ignored;
        while (read(exec_pipe[0], &ignored, 1) < 0 && errno == EINTR) {}
        close(exec_pipe[0]);
    }
    free(argv);
    free(envp);
    if (pid < 0) {
        send_int(conn, 'x', 126);
        close(conn);
        return;
    }
    children[slot].pid = pid;
    children[slot].sid = pid;
    children[slot].conn = conn;
    send_int(conn, 'p', pid);
}

static int status_code(int status) {
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return 1;
}

static void reap(void) {
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        for (int i = 0; i < MAX_CHILDREN; i++) {
            if (children[i].pid != pid) continue;
            /* keep the connection: the device says "r" (release) or hangs up (kill the rest) */
            if (children[i].conn >= 0) send_int(children[i].conn, 'x', status_code(status));
            children[i].pid = 0;
        }
    }
}

static int zygote(int listener, int lifeline) {
    fcntl(lifeline, F_SETFD, FD_CLOEXEC);
    if (pipe2(sigpipe_fds, O_CLOEXEC | O_NONBLOCK) != 0) return 1;
    fcntl(listener, F_SETFD, FD_CLOEXEC);
    struct sigaction sa = {0};
    sa.sa_handler = on_sigchld;
    sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
    sigaction(SIGCHLD, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    for (int i = 0; i < MAX_CHILDREN; i++) children[i].conn = -1;
    struct pollfd polls[MAX_CHILDREN + 3];
    int owners[MAX_CHILDREN + 3];
    for (;;) {
        int count = 0;
        polls[count] = (struct pollfd){listener, POLLIN, 0}; owners[count++] = -1;
        polls[count] = (struct pollfd){sigpipe_fds[0], POLLIN, 0}; owners[count++] = -1;
        polls[count] = (struct pollfd){lifeline, POLLIN, 0}; owners[count++] = -1;
        for (int i = 0; i < MAX_CHILDREN; i++) {
            if (children[i].conn >= 0) {
                polls[count] = (struct pollfd){children[i].conn, POLLIN, 0};
                owners[count++] = i;
            }
        }
        if (poll(polls, (nfds_t)count, -1) < 0) {
            if (errno == EINTR) continue;
            return 1;
        }
        if (polls[1].revents) {
            char drain[64];
            while (read(sigpipe_fds[0], drain, sizeof(drain)) > 0) {}
            reap();
        }
        if (polls[2].revents) return 0; /* the device process is gone: so is this namespace */
        for (int p = 3; p < count; p++) {
            int i = owners[p];
            if (!polls[p].revents || children[i].conn < 0) continue;
            char request[16];
            ssize_t n = recv(children[i].conn, request, sizeof(request), MSG_DONTWAIT);
            if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
            if (n > 0 && request[0] == 'k') { /* kill now, answer the status once reaped */
                kill_session(children[i].sid);
                continue;
            }
            /* "r": finished normally, leave what it started alone (nohup ... &, as on a phone);
             * a hang-up: the client is gone, so is everything the process started */
            if (!(n > 0 && request[0] == 'r')) kill_session(children[i].sid);
            close(children[i].conn);
            children[i].conn = -1;
        }
        if (polls[0].revents & POLLIN) {
            int conn = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
            if (conn >= 0) spawn(conn);
        }
    }
}

/* ---------------------------------------------------------------------------------------------
 * framework tool client
 * ------------------------------------------------------------------------------------------- */

extern char **environ;

static const int reported[] = {SIGINT, SIGHUP, SIGTERM, SIGQUIT};
static volatile sig_atomic_t tool_sock = -1, pending_signal = 0;
static unsigned char shell_ignored[NSIG];

static void report_signal(int sig) {
    int saved = errno;
    unsigned char msg[3] = {'s', (unsigned char)sig, shell_ignored[sig]};
    pending_signal = sig;
    (void)!send(tool_sock, msg, sizeof(msg), MSG_NOSIGNAL | MSG_DONTWAIT);
    errno = saved;
}

static int framework_tool(int argc, char **argv) {
    static char buf[MAX_MSG];
    size_t len = 0;
    char cwd[4096];
    if (!getcwd(cwd, sizeof(cwd))) strcpy(cwd, "/");
    int need = snprintf(buf, sizeof(buf), "%s%c%d%c", cwd, 0, argc, 0);
    len = (size_t)need;
    for (int i = 0; i < argc; i++) {
        size_t l = strlen(argv[i]) + 1;
        if (len + l > sizeof(buf)) { dprintf(2, "%s: argument list too long\n", argv[0]); return 7; }
        memcpy(buf + len, argv[i], l);
        len += l;
    }
    for (char **e = environ; *e; e++) {
        size_t l = strlen(*e) + 1;
        if (len + l > sizeof(buf)) break;
        memcpy(buf + len, *e, l);
        len += l;
    }
    int fds[3];
    for (int i = 0; i < 3; i++) {
        fds[i] = i;
        if (fcntl(i, F_GETFD) < 0) fds[i] = open("/dev/null", O_RDWR);
    }
    int sock = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    strcpy(addr.sun_path, "/dev/socket/framework");
    if (connect(sock, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
        dprintf(2, "%s: framework not running: %s\n", argv[0], strerror(errno));
        return 1;
    }
    struct iovec iov = {buf, len};
    char control[CMSG_SPACE(sizeof(fds))];
    struct msghdr msg = {0};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(fds));
    memcpy(CMSG_DATA(c), fds, sizeof(fds));
    if (sendmsg(sock, &msg, MSG_NOSIGNAL) < 0) {
        dprintf(2, "%s: %s\n", argv[0], strerror(errno));
        return 1;
    }
    tool_sock = sock;
    for (size_t i = 0; i < sizeof(reported) / sizeof(reported[0]); i++) {
        struct sigaction old, sa = {0};
        sigaction(reported[i], NULL, &old);
        shell_ignored[reported[i]] = old.sa_handler == SIG_IGN;
        sa.sa_handler = report_signal; /* no SA_RESTART: recv returns EINTR, the loop goes on */
        sigaction(reported[i], &sa, NULL);
    }
    for (;;) {
        int status = 1;
        ssize_t n = recv(sock, &status, sizeof(status), 0);
        if (n < 0 && errno == EINTR) continue;
        if (n == (ssize_t)sizeof(status)) return status & 0xff;
        if (n == 1 && (status & 0xff) == 'd' && pending_signal) {
            int sig = pending_signal;
            signal(sig, SIG_DFL);
            sigset_t set;
            sigemptyset(&set);
            sigaddset(&set, sig);
            sigprocmask(SIG_UNBLOCK, &set, NULL);
            raise(sig);
            return 128 + sig;
        }
        if (n == 1) continue;
        return 1;
    }
}

int main(int argc, char **argv) {
    const char *name = strrchr(argv[0], '/');
    name = name ? name + 1 : argv[0];
    if (strcmp(name, "init") == 0 && argc > 5 && getpid() == 1) {
        /* limits for everything forked from here (the count is this user namespace's own) */
        int resources[3] = {RLIMIT_NPROC, RLIMIT_AS, RLIMIT_FSIZE};
        for (int i = 0; i < 3; i++) {
            struct rlimit limit = {strtoull(argv[3 + i], NULL, 10), strtoull(argv[3 + i], NULL, 10)};
            if (setrlimit(resources[i], &limit) != 0) return 1;
        }
        if (argc > 6) cpu_seconds = strtoull(argv[6], NULL, 10);
        return zygote(atoi(argv[1]), atoi(argv[2]));
    }
    if (getenv("ANDROIDD_IDLE")) {
        prctl(PR_SET_NAME, name, 0, 0, 0); /* comm too, not only argv[0] */
        for (;;) pause();
    }
    return framework_tool(argc, argv);
}
