/* tests/install/hello.c - the smallest program a user writes against an installed weft.
 *
 * test_install.sh compiles it out of the source tree with `pkg-config --cflags --libs weft`
 * against a copy installed with `meson install --destdir`, so it may include only the public
 * headers. It builds a current-thread runtime, blocks on a 1 ms sleep and checks that the sleep
 * took at least that long.
 */
#include <stdio.h>

#include <weft/weft.h>

int main(void)
{
    weft_builder b = weft_builder_new_current_thread();
    b.enable_time = true;
    weft_runtime *rt;
    int rc = weft_runtime_new(&b, &rt);
    if (rc < 0) {
        fprintf(stderr, "hello: weft_runtime_new: %s\n", weft_strerror(rc));
        return 1;
    }

    weft_instant start = weft_instant_now();
    weft_sleep nap;
    weft_sleep_init(&nap, weft_ms(1));
    rc = weft_block_on(rt, &nap.base);
    weft_duration took = weft_instant_now() - start;
    weft_runtime_shutdown(rt);

    if (rc < 0 || nap.status != 0) {
        fprintf(stderr, "hello: block_on: %s, sleep: %s\n", weft_strerror(rc),
                weft_strerror(nap.status));
        return 1;
    }
    if (took < weft_ms(1)) {
        fprintf(stderr, "hello: a 1 ms sleep took only %llu ns\n", (unsigned long long)took);
        return 1;
    }
    printf("hello from weft %s: slept 1 ms\n", weft_version());
    return 0;
}
