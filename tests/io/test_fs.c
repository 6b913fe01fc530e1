/* tests/io/test_fs.c - files on the blocking pool: round trips, OS errors as values
 * (ENOENT, EISDIR, EACCES, ENOTEMPTY, EEXIST), limits, UTF-8, copy, append, and ops dropped in
 * flight leaking nothing (ASan/LSan).
 *
 * Each case works in a fresh directory from mkdtemp, removed at the end. An op is awaited with
 * weft_block_on, which is a runtime context like a task.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "io_test_util.h"
#include <weft/fs.h>

typedef struct fs_case {
    weft_runtime *rt;
    char dir[64];
    char path[128];
} fs_case;

static int setup(void **state)
{
    fs_case *c = calloc(1, sizeof *c);
    snprintf(c->dir, sizeof c->dir, "/tmp/weft-fs-XXXXXX");
    if (!mkdtemp(c->dir))
        return -1;
    c->rt = io_rt_new(WEFT_CURRENT_THREAD);
    *state = c;
    return 0;
}

static int teardown(void **state)
{
    fs_case *c = *state;
    weft_runtime_shutdown(c->rt);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", c->dir);
    int rc = system(cmd);
    free(c);
    return rc == 0 ? 0 : -1;
}

static const char *at(fs_case *c, const char *name)
{
    snprintf(c->path, sizeof c->path, "%s/%s", c->dir, name);
    return c->path;
}

static void run(fs_case *c, weft_fs_op *op)
{
    io_block_on(c->rt, op);
}

/* write, then read_to_end / read_to_string / metadata give the same bytes back. */
static void test_fs_round_trip(void **state)
{
    fs_case *c = *state;
    char p[128];
    snprintf(p, sizeof p, "%s", at(c, "a.txt"));
    static const char text[] = "héllo, files\n";
    weft_fs_op op;
    weft_fs_write_init(&op, p, text, sizeof text - 1);
    run(c, &op);
    assert_int_equal(op.status, 0);
    assert_int_equal(op.n, sizeof text - 1);

    weft_fs_read_to_string_init(&op, p, SIZE_MAX);
    run(c, &op);
    assert_int_equal(op.status, 0);
    assert_int_equal(op.n, sizeof text - 1);
    assert_string_equal(op.data, text); /* NUL-terminated */
    free(op.data);

    weft_fs_metadata_init(&op, p);
    run(c, &op);
    assert_int_equal(op.status, 0);
    assert_int_equal(op.meta.size, sizeof text - 1);
    assert_true(op.meta.is_file);
    assert_false(op.meta.is_dir);

    weft_fs_metadata_init(&op, c->dir);
    run(c, &op);
    assert_true(op.meta.is_dir);
}

/* A big file (bigger than any first guess) and an empty one. */
static void test_fs_read_to_end_sizes(void **state)
{
    fs_case *c = *state;
    enum { BIG = 300000 };
    unsigned char *big = malloc(BIG);
    for (size_t i = 0; i < BIG; i++)
        big[i] = (unsigned char)(i * 31);
    char p[128];
    snprintf(p, sizeof p, "%s", at(c, "big"));
    weft_fs_op op;
    weft_fs_write_init(&op, p, big, BIG);
    run(c, &op);
    assert_int_equal(op.status, 0);
    weft_fs_read_to_end_init(&op, p, SIZE_MAX);
    run(c, &op);
    assert_int_equal(op.status, 0);
    assert_int_equal(op.n, BIG);
    assert_memory_equal(op.data, big, BIG);
    free(op.data);
    free(big);

    weft_fs_write_init(&op, at(c, "empty"), NULL, 0);
    run(c, &op);
    assert_int_equal(op.status, 0);
    weft_fs_read_to_end_init(&op, at(c, "empty"), SIZE_MAX);
    run(c, &op);
    assert_int_equal(op.status, 0);
    assert_int_equal(op.n, 0);
    assert_non_null(op.data);
    free(op.data);
}

/* Missing file, a directory, a missing parent: errors as values, never a crash. */
static void test_fs_errors_are_values(void **state)
{
    fs_case *c = *state;
    weft_fs_op op;
    weft_fs_read_to_end_init(&op, at(c, "missing"), SIZE_MAX);
    run(c, &op);
    assert_int_equal(weft_os_errno(op.status), ENOENT);
    assert_null(op.data);
    assert_string_equal(weft_strerror(op.status), "No such file or directory");

    weft_fs_read_to_end_init(&op, c->dir, SIZE_MAX);
    run(c, &op);
    assert_int_equal(weft_os_errno(op.status), EISDIR);
    assert_null(op.data);

    weft_fs_write_init(&op, at(c, "no/such/dir/file"), "x", 1);
    run(c, &op);
    assert_int_equal(weft_os_errno(op.status), ENOENT);

    weft_fs_metadata_init(&op, at(c, "missing"));
    run(c, &op);
    assert_int_equal(weft_os_errno(op.status), ENOENT);

    weft_fs_copy_init(&op, at(c, "missing"), "/tmp/never-created-by-weft");
    run(c, &op);
    assert_int_equal(weft_os_errno(op.status), ENOENT);

    weft_fs_open_init(&op, NULL, WEFT_FS_READ, 0);
    run(c, &op);
    assert_int_equal(op.status, WEFT_EINVAL);

    weft_file closed = WEFT_FILE_NONE;
    char buf[4];
    weft_file_read_init(&op, &closed, buf, sizeof buf);
    run(c, &op);
    assert_int_equal(weft_os_errno(op.status), EBADF);
}

/* EACCES on a file the caller may not read. Root may read anything, so as root the op runs
 * in a child that drops to user "nobody" first (the case is skipped if that is impossible). */
static int read_status_of(const char *path)
{
    weft_runtime *rt = io_rt_new(WEFT_CURRENT_THREAD);
    weft_fs_op op;
    weft_fs_read_to_end_init(&op, path, SIZE_MAX);
    weft_block_on(rt, &op.base);
    free(op.data);
    weft_runtime_shutdown(rt);
    return op.status;
}

static void test_fs_permission_denied(void **state)
{
    fs_case *c = *state;
    char p[128];
    snprintf(p, sizeof p, "%s", at(c, "secret"));
    weft_fs_op op;
    weft_fs_write_init(&op, p, "s", 1);
    run(c, &op);
    assert_int_equal(chmod(p, 0), 0);
    if (geteuid() != 0) {
        assert_int_equal(weft_os_errno(read_status_of(p)), EACCES);
        return;
    }
#if defined(__SANITIZE_THREAD__)
    skip(); /* TSan cannot start threads in a child forked from a multi-threaded process */
#endif
    assert_int_equal(chmod(c->dir, 0755), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (setgid(65534) != 0 || setuid(65534) != 0)
            _exit(77);
        _exit(weft_os_errno(read_status_of(p)) == EACCES ? 0 : 1);
    }
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    if (WEXITSTATUS(st) == 77)
        skip();
    assert_int_equal(WEXITSTATUS(st), 0);
}

/* open with APPEND|CREATE, two write_alls, read back; CREATE_NEW on an existing file is
 * EEXIST; file_read reads from the offset to the end. */
static void test_fs_open_append_and_file_ops(void **state)
{
    fs_case *c = *state;
    char p[128];
    snprintf(p, sizeof p, "%s", at(c, "log"));
    weft_fs_op op;
    for (int round = 0; round < 2; round++) {
        weft_fs_open_init(&op, p, WEFT_FS_APPEND | WEFT_FS_CREATE, 0644);
        run(c, &op);
        assert_int_equal(op.status, 0);
        weft_file f = op.file;
        assert_true(f.fd >= 0);
        weft_file_write_all_init(&op, &f, round ? "two\n" : "one\n", 4);
        run(c, &op);
        assert_int_equal(op.status, 0);
        assert_int_equal(op.n, 4);
        weft_file_close(&f);
        weft_file_close(&f); /* harmless */
    }
    weft_fs_open_init(&op, p, WEFT_FS_WRITE | WEFT_FS_CREATE_NEW, 0644);
    run(c, &op);
    assert_int_equal(weft_os_errno(op.status), EEXIST);
    assert_int_equal(op.file.fd, -1);

    weft_fs_open_init(&op, p, WEFT_FS_READ, 0);
    run(c, &op);
    weft_file f = op.file;
    char buf[16];
    size_t got = 0;
    for (;;) {
        weft_file_read_init(&op, &f, buf + got, 3);
        run(c, &op);
        assert_int_equal(op.status, 0);
        if (op.n == 0)
            break;
        got += op.n;
    }
    assert_int_equal(got, 8);
    assert_memory_equal(buf, "one\ntwo\n", 8);
    weft_file_close(&f);
}

/* copy: same bytes, same permissions, n = size; copying a directory is EISDIR. */
static void test_fs_copy(void **state)
{
    fs_case *c = *state;
    char from[128], to[128];
    snprintf(from, sizeof from, "%s", at(c, "src"));
    snprintf(to, sizeof to, "%s", at(c, "dst"));
    enum { N = 100000 };
    unsigned char *data = malloc(N);
    for (size_t i = 0; i < N; i++)
        data[i] = (unsigned char)(i % 251);
    weft_fs_op op;
    weft_fs_write_init(&op, from, data, N);
    run(c, &op);
    assert_int_equal(chmod(from, 0640), 0);
    weft_fs_copy_init(&op, from, to);
    run(c, &op);
    assert_int_equal(op.status, 0);
    assert_int_equal(op.n, N);
    weft_fs_read_to_end_init(&op, to, SIZE_MAX);
    run(c, &op);
    assert_int_equal(op.n, N);
    assert_memory_equal(op.data, data, N);
    free(op.data);
    weft_fs_metadata_init(&op, to);
    run(c, &op);
    assert_int_equal(op.meta.mode, 0640);
    weft_fs_copy_init(&op, c->dir, to);
    run(c, &op);
    assert_int_equal(weft_os_errno(op.status), EISDIR);
    free(data);
}

/* remove_file, then it is gone; remove_dir of a non-empty directory is ENOTEMPTY. */
static void test_fs_remove(void **state)
{
    fs_case *c = *state;
    char p[256], d[128];
    snprintf(p, sizeof p, "%s", at(c, "gone"));
    snprintf(d, sizeof d, "%s", at(c, "sub"));
    assert_int_equal(mkdir(d, 0755), 0);
    weft_fs_op op;
    weft_fs_write_init(&op, p, "x", 1);
    run(c, &op);
    weft_fs_remove_file_init(&op, p);
    run(c, &op);
    assert_int_equal(op.status, 0);
    weft_fs_metadata_init(&op, p);
    run(c, &op);
    assert_int_equal(weft_os_errno(op.status), ENOENT);
    weft_fs_remove_file_init(&op, p);
    run(c, &op);
    assert_int_equal(weft_os_errno(op.status), ENOENT);

    snprintf(p, sizeof p, "%s/inner", d);
    weft_fs_write_init(&op, p, "x", 1);
    run(c, &op);
    weft_fs_remove_dir_init(&op, d);
    run(c, &op);
    assert_int_equal(weft_os_errno(op.status), ENOTEMPTY);
    weft_fs_remove_file_init(&op, p);
    run(c, &op);
    weft_fs_remove_dir_init(&op, d);
    run(c, &op);
    assert_int_equal(op.status, 0);
}

/* read_to_end's limit and read_to_string's UTF-8 check. */
static void test_fs_limit_and_utf8(void **state)
{
    fs_case *c = *state;
    char p[128];
    snprintf(p, sizeof p, "%s", at(c, "f"));
    weft_fs_op op;
    weft_fs_write_init(&op, p, "0123456789", 10);
    run(c, &op);
    weft_fs_read_to_end_init(&op, p, 9);
    run(c, &op);
    assert_int_equal(op.status, WEFT_ETOOBIG);
    assert_null(op.data);
    weft_fs_read_to_end_init(&op, p, 10);
    run(c, &op);
    assert_int_equal(op.status, 0);
    free(op.data);

    static const char *const bad[] = {"\xff", "a\xc3", "\xc0\xaf", "\xed\xa0\x80",
                                      "\xf4\x90\x80\x80"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        weft_fs_write_init(&op, p, bad[i], strlen(bad[i]));
        run(c, &op);
        weft_fs_read_to_string_init(&op, p, SIZE_MAX);
        run(c, &op);
        assert_int_equal(op.status, WEFT_EFORMAT);
        assert_null(op.data);
    }
    weft_fs_write_init(&op, p, "\xf0\x9f\x99\x82 ok", 7);
    run(c, &op);
    weft_fs_read_to_string_init(&op, p, SIZE_MAX);
    run(c, &op);
    assert_int_equal(op.status, 0);
    free(op.data);
}

/* Ops dropped after their first poll (the pool may or may not have run them yet) leak
 * nothing: not the job, not the bytes read, not an opened descriptor (LSan and the fd count
 * check it). */
typedef struct drop_after_poll {
    weft_future base;
    weft_fs_op *op;
} drop_after_poll;

static weft_poll drop_after_poll_poll(weft_future *f, weft_context *cx)
{
    drop_after_poll *d = (drop_after_poll *)f;
    if (weft_future_poll(&d->op->base, cx) == WEFT_READY) {
        free(d->op->data);
        weft_file_close(&d->op->file);
    } else {
        weft_future_drop(&d->op->base);
    }
    return WEFT_READY;
}

static const weft_future_vtable drop_after_poll_vt = {drop_after_poll_poll, NULL, "drop"};

static int open_fds(void)
{
    int n = 0;
    for (int fd = 0; fd < 1024; fd++)
        if (fcntl(fd, F_GETFD) >= 0)
            n++;
    return n;
}

static void test_fs_dropped_ops_leak_nothing(void **state)
{
    fs_case *c = *state;
    char p[128];
    snprintf(p, sizeof p, "%s", at(c, "data"));
    weft_fs_op op;
    weft_fs_write_init(&op, p, "some bytes", 10);
    run(c, &op);
    int fds = open_fds();
    for (int i = 0; i < 50; i++) {
        char buf[8];
        weft_file none = WEFT_FILE_NONE;
        switch (i % 4) {
        case 0: weft_fs_read_to_end_init(&op, p, SIZE_MAX); break;
        case 1: weft_fs_open_init(&op, p, WEFT_FS_READ, 0); break;
        case 2: weft_fs_write_init(&op, p, "other bytes", 11); break;
        default: weft_file_read_init(&op, &none, buf, sizeof buf); break;
        }
        drop_after_poll d = {{&drop_after_poll_vt}, &op};
        io_block_on(c->rt, &d);
    }
    /* Shutting down waits for the pool, whose jobs then release what they hold. */
    weft_runtime_shutdown(c->rt);
    c->rt = io_rt_new(WEFT_CURRENT_THREAD);
    assert_int_equal(open_fds(), fds);
}

/* The same round trip from tasks on the multi-thread runtime (suite tsan). */
typedef struct writer_reader {
    weft_async co;
    char path[128];
    char text[32];
    weft_fs_op op;
    int ok;
} writer_reader;

static weft_poll writer_reader_poll(weft_future *f, weft_context *cx)
{
    writer_reader *w = (writer_reader *)f;
    WEFT_ASYNC_BEGIN(&w->co);
    weft_fs_write_init(&w->op, w->path, w->text, strlen(w->text));
    WEFT_AWAIT(&w->co, cx, &w->op);
    weft_fs_read_to_string_init(&w->op, w->path, 100);
    WEFT_AWAIT(&w->co, cx, &w->op);
    w->ok = w->op.status == 0 && strcmp(w->op.data, w->text) == 0;
    free(w->op.data);
    weft_task_return(cx, w->ok);
    WEFT_ASYNC_END(&w->co);
}

static const weft_future_vtable writer_reader_vt = {writer_reader_poll, weft_async_drop, "wr"};

static void test_fs_tasks_on_multi_thread(void **state)
{
    fs_case *c = *state;
    weft_runtime *rt = io_rt_new(WEFT_MULTI_THREAD);
    enum { N = 16 };
    weft_join_handle h[N];
    for (int i = 0; i < N; i++) {
        writer_reader w = {0};
        weft_async_init(&w.co, &writer_reader_vt);
        snprintf(w.path, sizeof w.path, "%s/mt%d", c->dir, i);
        snprintf(w.text, sizeof w.text, "task %d", i);
        h[i] = weft_runtime_spawn(rt, &w);
    }
    for (int i = 0; i < N; i++)
        assert_int_equal(join_value(rt, &h[i]), 1);
    weft_runtime_shutdown(rt);
}

/* The same tasks under the deterministic scheduler: file operations go through its blocking
 * pool like spawn_blocking, and every explored schedule completes them all. */
#include <weft/sched.h>

typedef struct det_arg {
    const char *dir;
} det_arg;

static int det_body(void *arg)
{
    det_arg *a = arg;
    weft_builder b = weft_builder_new_current_thread();
    weft_runtime *rt;
    if (weft_runtime_new(&b, &rt) < 0)
        return 1;
    enum { N = 4 };
    weft_join_handle h[N];
    for (int i = 0; i < N; i++) {
        writer_reader w = {0};
        weft_async_init(&w.co, &writer_reader_vt);
        snprintf(w.path, sizeof w.path, "%s/det%d", a->dir, i);
        snprintf(w.text, sizeof w.text, "det task %d", i);
        h[i] = weft_runtime_spawn(rt, &w);
    }
    int bad = 0;
    for (int i = 0; i < N; i++) {
        if (weft_block_on(rt, &h[i].base) != 0) {
            for (int j = i; j < N; j++)
                weft_join_handle_detach(&h[j]);
            bad = 1;
            break;
        }
        bad |= h[i].status != 0 || h[i].value != 1;
    }
    weft_runtime_shutdown(rt);
    return bad;
}

static void test_fs_under_deterministic_scheduler(void **state)
{
    fs_case *c = *state;
    det_arg a = {c->dir};
    weft_explore_opts o = {0};
    o.program = "test_fs";
    o.strategy = "random";
    o.seed = 7;
    o.iterations = 50;
    o.no_shrink = true;
    weft_explore_result res;
    assert_int_equal(weft_explore(&o, det_body, &a, &res), 0);
    if (res.failed)
        fail_msg("%s: %s", res.kind, res.summary);
    assert_int_equal(res.schedules, 50);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_fs_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fs_read_to_end_sizes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fs_errors_are_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fs_permission_denied, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fs_open_append_and_file_ops, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fs_copy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fs_remove, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fs_limit_and_utf8, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fs_dropped_ops_leak_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fs_tasks_on_multi_thread, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fs_under_deterministic_scheduler, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
