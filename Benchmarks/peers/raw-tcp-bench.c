/* The limit for bridges: raw loopback TCP, no WebSocket. A TCP echo server runs in a child
 * process (as a bridge's upstream would, one thread per connection: read, write back); the parent
 * opens CONNS connections and keeps WINDOW bytes (IN_FLIGHT chunks of SIZE) in flight on each for
 * DURATION seconds, closed loop, with poll(2). Prints a line and then one JSON line shaped like
 * wsgate-bench's bridge mode (mb_per_s each way, the echo process's CPU-µs per MB).
 * Build: cc -O2 -pthread -o raw-tcp-bench raw-tcp-bench.c
 * Usage: raw-tcp-bench [DURATION=5] [SIZE=65536] [CONNS=4] [IN_FLIGHT=4] [PORT=17002] */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BUF (1 << 20)

static void *echo_conn(void *arg) {
    int fd = (int)(long)arg;
    char *buf = malloc(BUF);
    for (;;) {
        ssize_t n = read(fd, buf, BUF);
        if (n <= 0) break;
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(fd, buf + off, n - off);
            if (w <= 0) goto done;
            off += w;
        }
    }
done:
    close(fd);
    free(buf);
    return NULL;
}

static void echo_server(int listener) {
    for (;;) {
        int fd = accept(listener, NULL, NULL);
        if (fd < 0) continue;
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        pthread_t t;
        pthread_create(&t, NULL, echo_conn, (void *)(long)fd);
        pthread_detach(t);
    }
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double cpu_us(pid_t pid, long *rss_kib) {
    char path[64], text[4096];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = 0;
    char *p = strrchr(text, ')') + 2;
    unsigned long utime = 0, stime = 0;
    for (int field = 3; field <= 15 && p; field++) {
        if (field == 14) utime = strtoul(p, NULL, 10);
        if (field == 15) stime = strtoul(p, NULL, 10);
        p = strchr(p, ' ');
        if (p) p++;
    }
    snprintf(path, sizeof path, "/proc/%d/status", pid);
    f = fopen(path, "r");
    *rss_kib = 0;
    while (f && fgets(text, sizeof text, f))
        if (!strncmp(text, "VmRSS:", 6)) *rss_kib = atol(text + 6);
    if (f) fclose(f);
    return (double)(utime + stime) / sysconf(_SC_CLK_TCK) * 1e6;
}

int main(int argc, char **argv) {
    double duration = argc > 1 ? atof(argv[1]) : 5;
    long size = argc > 2 ? atol(argv[2]) : 65536;
    int conns = argc > 3 ? atoi(argv[3]) : 4;
    int in_flight = argc > 4 ? atoi(argv[4]) : 4;
    int port = argc > 5 ? atoi(argv[5]) : 17002;
    long window = size * in_flight;

    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(port)};
    inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    int listener = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(listener, (struct sockaddr *)&addr, sizeof addr) || listen(listener, 64)) {
        perror("bind/listen");
        return 1;
    }
    pid_t pid = fork();
    if (pid == 0) echo_server(listener);
    close(listener);

    int fds[conns];
    struct pollfd pfds[conns];
    long sent[conns], received[conns];
    for (int i = 0; i < conns; i++) {
        fds[i] = socket(AF_INET, SOCK_STREAM, 0);
        if (connect(fds[i], (struct sockaddr *)&addr, sizeof addr)) {
            perror("connect");
            kill(pid, SIGKILL);
            return 1;
        }
        setsockopt(fds[i], IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        sent[i] = received[i] = 0;
    }
    char *out = malloc(BUF), *in = malloc(BUF);
    memset(out, 'Z', BUF);
    long rss = 0;
    double before = cpu_us(pid, &rss), start = now_s(), end = start + duration;
    long total = 0;
    for (;;) {
        double t = now_s();
        if (t >= end) break;
        for (int i = 0; i < conns; i++) {
            pfds[i].fd = fds[i];
            pfds[i].events = POLLIN | (sent[i] - received[i] < window ? POLLOUT : 0);
        }
        int ready = poll(pfds, conns, (int)((end - t) * 1000) + 1);
        if (ready <= 0) continue;
        for (int i = 0; i < conns; i++) {
            if (pfds[i].revents & POLLIN) {
                ssize_t n = recv(fds[i], in, BUF, MSG_DONTWAIT);
                if (n > 0) {
                    received[i] += n;
                    total += n;
                }
            }
            if ((pfds[i].revents & POLLOUT) && sent[i] - received[i] < window) {
                long want = window - (sent[i] - received[i]);
                ssize_t n = send(fds[i], out, want < BUF ? want : BUF, MSG_DONTWAIT);
                if (n > 0) sent[i] += n;
            }
        }
    }
    double seconds = now_s() - start, after = cpu_us(pid, &rss);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    double mb = total / 1e6, cpu = after - before;
    printf("raw-tcp-bench: %d connections, %ld B x %d in flight, %.1f MB/s echoed (each way)\n", conns, size,
           in_flight, mb / seconds);
    printf("{\"mode\":\"bridge\",\"seconds\":%.3f,\"connections\":%d,\"size\":%ld,\"mb_per_s\":%.3f,"
           "\"server_cpu_s\":%.3f,\"server_cpu_pct\":%.3f,\"server_cpu_us_per_MB\":%.3f,\"server_rss_mib\":%.3f}\n",
           seconds, conns, size, mb / seconds, cpu / 1e6, cpu / seconds / 1e4, mb > 0 ? cpu / mb : 0, rss / 1024.0);
    return 0;
}
