/*
 * runtime_os.c - the operating-system chores of a milter daemon: pid
 * file, privilege drop, TCP_NODELAY on libmilter's listening socket.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime.h"

/* libmilter does not let us at its listening socket, so find it: every
 * listening TCP socket of the process (a milter has exactly one). */
int runtime_nodelay_listeners(void)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    int n = 0, one = 1;

    if (d == NULL)
        return -1;
    while ((e = readdir(d)) != NULL) {
        int fd = atoi(e->d_name), listening = 0, type = 0;
        struct sockaddr_storage ss;
        socklen_t len = sizeof(int), slen = sizeof(ss);
        struct stat st;

        if (e->d_name[0] == '.' || fd == dirfd(d) || fstat(fd, &st) < 0
            || !S_ISSOCK(st.st_mode))
            continue;
        if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) < 0 || !listening)
            continue;
        len = sizeof(int);
        if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0 || type != SOCK_STREAM
            || getsockname(fd, (struct sockaddr *) &ss, &slen) < 0
            || (ss.ss_family != AF_INET && ss.ss_family != AF_INET6))
            continue;
        if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) == 0)
            n++;
    }
    closedir(d);
    return n;
}

static long read_pid(const char *path)
{
    char buf[32] = "";
    FILE *f = fopen(path, "r");

    if (f == NULL)
        return 0;
    if (fgets(buf, sizeof(buf), f) == NULL)
        buf[0] = '\0';
    fclose(f);
    return strtol(buf, NULL, 10);
}

int runtime_pidfile_write(const char *path, long pid, char *err, size_t errlen)
{
    long old = read_pid(path);
    char buf[32];
    int fd, n;

    /* A pid file left by a crash names a dead process (or, after a
     * reboot, maybe ours): only a live other process blocks us. */
    if (old > 0 && old != pid && (kill((pid_t) old, 0) == 0 || errno == EPERM)) {
        snprintf(err, errlen, "%s: already running as pid %ld", path, old);
        return -1;
    }
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    n = snprintf(buf, sizeof(buf), "%ld\n", pid);
    if (write(fd, buf, (size_t) n) != n) {
        snprintf(err, errlen, "%s: write: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    close(fd);
    return 0;
}

int runtime_drop_user(const char *user, char *err, size_t errlen)
{
    struct passwd *pw;

    if (user == NULL || *user == '\0')
        return 0;
    if ((pw = getpwnam(user)) == NULL) {
        snprintf(err, errlen, "unknown user '%s'", user);
        return -1;
    }
    if (geteuid() == pw->pw_uid)
        return 0;
    if (geteuid() != 0) {
        snprintf(err, errlen, "cannot switch to user '%s': not started as root", user);
        return -1;
    }
    if (initgroups(pw->pw_name, pw->pw_gid) < 0 || setgid(pw->pw_gid) < 0
        || setuid(pw->pw_uid) < 0) {
        snprintf(err, errlen, "cannot switch to user '%s': %s", user, strerror(errno));
        return -1;
    }
    /* Make sure the drop cannot be undone. */
    if (setuid(0) == 0) {
        snprintf(err, errlen, "still able to regain root after switching to '%s'", user);
        return -1;
    }
    return 0;
}
