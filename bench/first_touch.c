// How much the kernel (and the VM under it) charges for fresh memory: maps SIZE MiB,
// asks for transparent huge pages or forbids them, touches one byte a page and prints the
// time per GiB. docs/benchmarks.md explains why a run's sys time swings with it.
//   cc -O2 -o /tmp/first_touch bench/first_touch.c
//   /tmp/first_touch 1 2048   # huge pages;  /tmp/first_touch 0 2048   # 4 KB pages
//   sleep 8; /tmp/first_touch 1 2048   # after a pause: memory the VM has taken back
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s HUGE(0|1) MIB\n", argv[0]);
        return 2;
    }
    int huge = atoi(argv[1]);
    size_t n = (size_t)atoi(argv[2]) << 20;
    char *c = mmap(0, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (c == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    madvise(c, n, huge ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
    double t = now();
    for (size_t j = 0; j < n; j += 4096) c[j] = 1;
    double d = now() - t;
    printf("%s first touch of %zu MiB: %.3f s (%.2f s per GiB)\n", huge ? "huge pages" : "4 KB pages", n >> 20, d,
           d / (n / 1073741824.0));
    munmap(c, n);
    return 0;
}
