/* replay/schedule_file.c - schedule files: writing a record, and parsing one back, strictly.
 *
 * A schedule file is text a person can read and diff:
 *
 *     # weft schedule (comments start with '#'; the explanation of the outcome is repeated
 *     # here for people, the parser reads the escaped `message` line)
 *     weft-schedule 1
 *     program two_lock
 *     strategy random
 *     seed 42
 *     limits steps=1000000 vtime=3600000000000 starvation=100000
 *     outcome deadlock step=9 preemptions=2 vtime=0 exit=0
 *     message deadlock:%20a%20wait-for%20cycle...
 *     signature deadlock:a,b
 *     tasks 3
 *     task T0 name=main file=- func=- line=0 ordinal=1 kind=root parent=-
 *     task T1 name=transfer file=two_lock.c func=main line=88 ordinal=1 kind=async parent=T0
 *     ...
 *     steps 9
 *     step 0 t=0 run=T0 of=T0 op=pending res=- at=-
 *     step 1 t=0 run=T2 of=T1,T2 op=wait:lock res=a at=two_lock.c:47
 *     ...
 *     end
 *
 * One decision per `step` line: the chosen task (`run`), the runnable set in queue order
 * (`of`; its first task is what FIFO would have run), what the task then did (`op`, `res`,
 * `at`) and the virtual time in ns (`t`). Tasks are defined once, by identity: name, spawning
 * file and function, and ordinal (the line is for people); aliases T0, T1, ... number them in
 * order of appearance and mean nothing outside the file.
 *
 * Values are escaped: bytes outside printable ASCII, and ' ', '%', ',', '=' become %XX; an
 * empty value is '-' (a real "-" is %2D). The parser refuses anything it does not expect,
 * naming the line: another version, another program, a truncated file (no `end`, or fewer
 * lines than announced), references to undefined tasks, numbers out of range. Bad input never
 * crashes it (fuzzed by tests/fuzz/fuzz_schedule.c).
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "det_int.h"

/* Sanity bounds: a file claiming more is refused before anything is allocated for it. */
#define MAX_TASKS (1u << 24)
#define MAX_STEPS (1ull << 32)
#define MAX_FILE_BYTES ((size_t)1 << 31)

/* ---------------------------------------------------------------- writing */

typedef struct out_buf {
    char *p;
    size_t len, cap;
    bool oom;
} out_buf;

static void out_reserve(out_buf *o, size_t n)
{
    if (o->oom || o->len + n <= o->cap)
        return;
    size_t cap = o->cap ? o->cap : 4096;
    while (cap < o->len + n)
        cap *= 2;
    char *p = realloc(o->p, cap);
    if (!p) {
        o->oom = true;
        return;
    }
    o->p = p;
    o->cap = cap;
}

static void out_printf(out_buf *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void out_printf(out_buf *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char small[256];
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    out_reserve(o, (size_t)n + 1);
    if (o->oom)
        return;
    if ((size_t)n < sizeof small) {
        memcpy(o->p + o->len, small, (size_t)n);
    } else {
        va_start(ap, fmt);
        vsnprintf(o->p + o->len, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    o->len += (size_t)n;
}

static bool plain(unsigned char c)
{
    return c > ' ' && c < 127 && c != '%' && c != ',' && c != '=';
}

static void out_esc(out_buf *o, const char *s)
{
    if (!s || !*s) {
        out_printf(o, "-");
        return;
    }
    if (strcmp(s, "-") == 0) {
        out_printf(o, "%%2D");
        return;
    }
    size_t n = strlen(s);
    out_reserve(o, n * 3 + 1);
    if (o->oom)
        return;
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (plain(*p)) {
            o->p[o->len++] = (char)*p;
        } else {
            o->p[o->len++] = '%';
            o->p[o->len++] = hex[*p >> 4];
            o->p[o->len++] = hex[*p & 15];
        }
    }
}

static const char *kind_name(int kind)
{
    return kind == WEFT__DET_ROOT ? "root" : kind == WEFT__DET_BLOCKING ? "blocking" : "async";
}

static void write_op(out_buf *o, const weft__det_record *r, const weft__det_step *s)
{
    if (s->op == WEFT__OP_WAIT)
        out_printf(o, " op=wait:%s", weft_resource_op_name((weft_resource_op)s->res_op));
    else
        out_printf(o, " op=%s", weft__det_op_name(s->op));
    out_printf(o, " res=");
    out_esc(o, weft__det_str(r, s->detail));
    out_printf(o, " at=");
    if (s->file) {
        out_esc(o, weft__det_str(r, s->file));
        out_printf(o, ":%d", s->line);
    } else {
        out_printf(o, "-");
    }
}

static void render(const weft__det_record *r, out_buf *o)
{
    out_printf(o, "# weft schedule: one scheduling decision per 'step' line.\n");
    out_printf(o, "# Replay it with: weft replay FILE -- PROGRAM ARGS\n");
    const char *msg = weft__det_str(r, r->message);
    out_printf(o, "# outcome: %s\n", weft__det_outcome_name(r->outcome));
    for (const char *p = msg; *p;) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        out_printf(o, "#   %.*s\n", (int)n, p);
        p += n + (nl ? 1 : 0);
    }
    out_printf(o, "weft-schedule %u\n", WEFT__DET_FORMAT_VERSION);
    out_printf(o, "program ");
    out_esc(o, weft__det_str(r, r->program));
    out_printf(o, "\nstrategy ");
    out_esc(o, weft__det_str(r, r->strategy));
    out_printf(o, "\nseed %llu\n", (unsigned long long)r->seed);
    out_printf(o, "limits steps=%llu vtime=%llu starvation=%llu\n",
               (unsigned long long)r->limits.max_steps, (unsigned long long)r->limits.max_vtime,
               (unsigned long long)r->limits.starvation);
    out_printf(o, "outcome %s step=%llu preemptions=%llu vtime=%llu exit=%d\n",
               weft__det_outcome_name(r->outcome), (unsigned long long)r->outcome_step,
               (unsigned long long)r->preemptions, (unsigned long long)r->vtime,
               r->exit_status);
    out_printf(o, "message ");
    out_esc(o, msg);
    out_printf(o, "\nsignature ");
    out_esc(o, weft__det_str(r, r->signature));
    out_printf(o, "\ntasks %u\n", r->ntasks);
    for (uint32_t i = 0; i < r->ntasks; i++) {
        const weft__det_task *t = &r->tasks[i];
        out_printf(o, "task T%u name=", i);
        out_esc(o, weft__det_str(r, t->name));
        out_printf(o, " file=");
        out_esc(o, weft__det_str(r, t->file));
        out_printf(o, " func=");
        out_esc(o, weft__det_str(r, t->func));
        out_printf(o, " line=%d ordinal=%u kind=%s parent=", t->line, t->ordinal,
                   kind_name(t->kind));
        if (t->parent == WEFT__DET_NONE)
            out_printf(o, "-\n");
        else
            out_printf(o, "T%u\n", t->parent);
    }
    out_printf(o, "steps %llu\n", (unsigned long long)r->nsteps);
    for (uint64_t i = 0; i < r->nsteps; i++) {
        const weft__det_step *s = &r->steps[i];
        out_printf(o, "step %llu t=%llu run=T%u of=", (unsigned long long)i,
                   (unsigned long long)s->t_ns, s->chosen);
        for (uint32_t k = 0; k < s->nrun; k++)
            out_printf(o, "%sT%u", k ? "," : "", r->runnable[s->run_off + k]);
        write_op(o, r, s);
        out_printf(o, "\n");
    }
    out_printf(o, "end\n");
}

int weft__det_write_mem(const weft__det_record *r, char **buf, size_t *len)
{
    out_buf o = {0};
    render(r, &o);
    if (o.oom) {
        free(o.p);
        return WEFT_ENOMEM;
    }
    *buf = o.p;
    *len = o.len;
    return 0;
}

int weft__det_write(const weft__det_record *r, FILE *out)
{
    char *buf;
    size_t len;
    int rc = weft__det_write_mem(r, &buf, &len);
    if (rc)
        return rc;
    size_t w = fwrite(buf, 1, len, out);
    free(buf);
    return w == len && fflush(out) == 0 ? 0 : WEFT_EIO;
}

int weft__det_write_path(const weft__det_record *r, const char *path)
{
    /* Write beside and rename, so a reader never sees half a file. */
    size_t n = strlen(path) + 16;
    char *tmp = malloc(n);
    if (!tmp)
        return WEFT_ENOMEM;
    snprintf(tmp, n, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) {
        free(tmp);
        return WEFT_EIO;
    }
    int rc = weft__det_write(r, f);
    if (fclose(f) != 0 && rc == 0)
        rc = WEFT_EIO;
    if (rc == 0 && rename(tmp, path) != 0)
        rc = WEFT_EIO;
    if (rc)
        remove(tmp);
    free(tmp);
    return rc;
}

/* ---------------------------------------------------------------- parsing */

typedef struct parser {
    const char *p, *end;   /* the rest of the input */
    unsigned line;         /* line number of `cur` */
    char *cur;             /* the current line, NUL-terminated (points into `buf`) */
    char *buf;             /* copy of the current line */
    size_t cap;
    const char *source;    /* file name for messages */
    char *err;
    size_t err_size;
    bool failed;
} parser;

static int fail(parser *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(parser *ps, const char *fmt, ...)
{
    if (ps->failed)
        return WEFT_EFORMAT;
    ps->failed = true;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (ps->line)
        snprintf(ps->err, ps->err_size, "%s:%u: %s", ps->source, ps->line, msg);
    else
        snprintf(ps->err, ps->err_size, "%s: %s", ps->source, msg);
    return WEFT_EFORMAT;
}

/* The next line that is not blank or a comment; NULL at the end of the input. */
static char *next_line(parser *ps)
{
    while (ps->p < ps->end) {
        const char *nl = memchr(ps->p, '\n', (size_t)(ps->end - ps->p));
        const char *le = nl ? nl : ps->end;
        size_t n = (size_t)(le - ps->p);
        const char *start = ps->p;
        ps->p = nl ? nl + 1 : ps->end;
        ps->line++;
        if (n && start[n - 1] == '\r')
            n--;
        if (n == 0 || start[0] == '#')
            continue;
        if (n + 1 > ps->cap) {
            size_t cap = ps->cap ? ps->cap : 256;
            while (cap < n + 1)
                cap *= 2;
            char *b = realloc(ps->buf, cap);
            if (!b) {
                fail(ps, "out of memory");
                return NULL;
            }
            ps->buf = b;
            ps->cap = cap;
        }
        memcpy(ps->buf, start, n);
        ps->buf[n] = '\0';
        if (memchr(ps->buf, '\0', n)) {
            fail(ps, "a NUL byte inside the line");
            return NULL;
        }
        ps->cur = ps->buf;
        return ps->cur;
    }
    ps->cur = NULL;
    return NULL;
}

/* Take the next space-separated token from *s (NULL when none). */
static char *token(char **s)
{
    char *p = *s;
    while (*p == ' ' || *p == '\t')
        p++;
    if (!*p) {
        *s = p;
        return NULL;
    }
    char *t = p;
    while (*p && *p != ' ' && *p != '\t')
        p++;
    if (*p)
        *p++ = '\0';
    *s = p;
    return t;
}

static bool parse_num(const char *s, uint64_t max, uint64_t *out)
{
    if (!s || !*s)
        return false;
    uint64_t v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return false;
        unsigned d = (unsigned)(*s - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    if (v > max)
        return false;
    *out = v;
    return true;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Unescape value `v` into the record's pool: its offset, or UINT32_MAX if malformed. */
static uint32_t unesc(weft__det_record *r, const char *v)
{
    if (strcmp(v, "-") == 0)
        return 0;
    size_t n = strlen(v);
    char *tmp = malloc(n + 1);
    if (!tmp)
        return UINT32_MAX;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i] == '%') {
            int a = i + 1 < n ? hexval(v[i + 1]) : -1;
            int b = i + 2 < n ? hexval(v[i + 2]) : -1;
            if (a < 0 || b < 0 || (a == 0 && b == 0)) {
                free(tmp);
                return UINT32_MAX;
            }
            tmp[k++] = (char)(a * 16 + b);
            i += 2;
        } else if (!plain((unsigned char)v[i])) {
            free(tmp);
            return UINT32_MAX;
        } else {
            tmp[k++] = v[i];
        }
    }
    tmp[k] = '\0';
    uint32_t off = k ? weft__det_str_addn(r, tmp, k) : 0;
    free(tmp);
    return off;
}

/* "key=value": the value if the token's key is `key`, else NULL. */
static const char *kv(const char *tok, const char *key)
{
    if (!tok)
        return NULL;
    size_t n = strlen(key);
    if (strncmp(tok, key, n) != 0 || tok[n] != '=')
        return NULL;
    return tok + n + 1;
}

/* "T<n>" with n < limit. */
static bool parse_alias(const char *s, uint32_t limit, uint32_t *out)
{
    uint64_t v;
    if (!s || s[0] != 'T' || !parse_num(s + 1, limit ? limit - 1 : 0, &v) || limit == 0)
        return false;
    *out = (uint32_t)v;
    return true;
}

/* Expect a line starting with `word`; returns the rest after it. */
static char *expect(parser *ps, const char *word, const char *what)
{
    char *l = next_line(ps);
    if (!l) {
        if (!ps->failed)
            fail(ps, "the file ends before the '%s' line (%s): truncated?", word, what);
        return NULL;
    }
    char *rest = l;
    char *t = token(&rest);
    if (!t || strcmp(t, word) != 0) {
        fail(ps, "expected the '%s' line (%s), found '%.40s'", word, what, l);
        return NULL;
    }
    return rest;
}

static int parse_header(parser *ps, weft__det_record *r, const char *program)
{
    char *rest = NULL, *t;
    char *l = next_line(ps);
    if (!l) {
        if (ps->failed)
            return WEFT_EFORMAT;
        ps->line = 0;
        return fail(ps, "the file ends before its 'weft-schedule' line: empty, truncated, or "
                        "not a weft schedule");
    }
    rest = l;
    t = token(&rest);
    if (!t || strcmp(t, "weft-schedule") != 0)
        return fail(ps, "not a weft schedule (it should start with 'weft-schedule %u')",
                    WEFT__DET_FORMAT_VERSION);
    uint64_t v;
    t = token(&rest);
    if (!parse_num(t, UINT32_MAX, &v) || token(&rest))
        return fail(ps, "malformed version line");
    if (v != WEFT__DET_FORMAT_VERSION)
        return fail(ps, "schedule format version %llu: this weft reads version %u only "
                        "(record the schedule again with this weft)",
                    (unsigned long long)v, WEFT__DET_FORMAT_VERSION);
    r->version = (uint32_t)v;

    if (!(rest = expect(ps, "program", "the program's name")))
        return WEFT_EFORMAT;
    t = token(&rest);
    if (!t || token(&rest) || (r->program = unesc(r, t)) == UINT32_MAX)
        return fail(ps, "malformed program name");
    if (program && strcmp(program, weft__det_str(r, r->program)) != 0) {
        snprintf(ps->err, ps->err_size,
                 "%s: this schedule was recorded for program '%s', not '%s'", ps->source,
                 weft__det_str(r, r->program), program);
        ps->failed = true;
        return WEFT_EINVAL;
    }
    if (!(rest = expect(ps, "strategy", "what made the schedule")))
        return WEFT_EFORMAT;
    t = token(&rest);
    if (!t || token(&rest) || (r->strategy = unesc(r, t)) == UINT32_MAX)
        return fail(ps, "malformed strategy");
    if (!(rest = expect(ps, "seed", "the run's seed")))
        return WEFT_EFORMAT;
    t = token(&rest);
    if (!parse_num(t, UINT64_MAX, &r->seed) || token(&rest))
        return fail(ps, "malformed seed");
    if (!(rest = expect(ps, "limits", "steps, virtual time, starvation")))
        return WEFT_EFORMAT;
    const char *a = kv(token(&rest), "steps"), *b = kv(token(&rest), "vtime"),
               *c = kv(token(&rest), "starvation");
    if (!a || !b || !c || token(&rest) || !parse_num(a, UINT64_MAX, &r->limits.max_steps) ||
        !parse_num(b, UINT64_MAX, &r->limits.max_vtime) ||
        !parse_num(c, UINT64_MAX, &r->limits.starvation))
        return fail(ps, "malformed limits (expected steps=N vtime=N starvation=N)");
    if (!(rest = expect(ps, "outcome", "how the run ended")))
        return WEFT_EFORMAT;
    t = token(&rest);
    int kind = t ? weft__det_outcome_parse(t) : -1;
    if (kind < 0)
        return fail(ps, "unknown outcome '%.40s'", t ? t : "");
    r->outcome = kind;
    const char *os = kv(token(&rest), "step"), *op = kv(token(&rest), "preemptions"),
               *ov = kv(token(&rest), "vtime"), *oe = kv(token(&rest), "exit");
    uint64_t ex;
    if (!os || !op || !ov || !oe || token(&rest) ||
        !parse_num(os, UINT64_MAX, &r->outcome_step) ||
        !parse_num(op, UINT64_MAX, &r->preemptions) || !parse_num(ov, UINT64_MAX, &r->vtime))
        return fail(ps, "malformed outcome line");
    if (oe[0] == '-') {
        if (!parse_num(oe + 1, 0x7fffffff, &ex))
            return fail(ps, "malformed exit status");
        r->exit_status = -(int)ex;
    } else {
        if (!parse_num(oe, 0x7fffffff, &ex))
            return fail(ps, "malformed exit status");
        r->exit_status = (int)ex;
    }
    if (!(rest = expect(ps, "message", "the explanation")))
        return WEFT_EFORMAT;
    t = token(&rest);
    if (!t || token(&rest) || (r->message = unesc(r, t)) == UINT32_MAX)
        return fail(ps, "malformed message");
    if (!(rest = expect(ps, "signature", "what kind of failure")))
        return WEFT_EFORMAT;
    t = token(&rest);
    if (!t || token(&rest) || (r->signature = unesc(r, t)) == UINT32_MAX)
        return fail(ps, "malformed signature");
    return 0;
}

static int parse_tasks(parser *ps, weft__det_record *r)
{
    char *rest = expect(ps, "tasks", "the number of tasks");
    if (!rest)
        return WEFT_EFORMAT;
    uint64_t n;
    if (!parse_num(token(&rest), MAX_TASKS, &n) || token(&rest))
        return fail(ps, "malformed task count (at most %u)", MAX_TASKS);
    for (uint64_t i = 0; i < n; i++) {
        char *l = next_line(ps);
        if (!l)
            return ps->failed ? WEFT_EFORMAT
                              : fail(ps, "truncated: the file ends after %llu of %llu tasks",
                                     (unsigned long long)i, (unsigned long long)n);
        rest = l;
        char *t = token(&rest);
        uint32_t alias;
        if (!t || strcmp(t, "task") != 0)
            return fail(ps, "expected task T%llu, found '%.40s'", (unsigned long long)i, l);
        if (!parse_alias(token(&rest), (uint32_t)i + 1, &alias) || alias != i)
            return fail(ps, "expected task T%llu (tasks are numbered in order)",
                        (unsigned long long)i);
        const char *name = kv(token(&rest), "name"), *file = kv(token(&rest), "file"),
                   *func = kv(token(&rest), "func"), *line = kv(token(&rest), "line"),
                   *ord = kv(token(&rest), "ordinal"), *kind = kv(token(&rest), "kind"),
                   *par = kv(token(&rest), "parent");
        if (!name || !file || !func || !line || !ord || !kind || !par || token(&rest))
            return fail(ps, "malformed task line (expected name= file= func= line= ordinal= "
                            "kind= parent=)");
        weft__det_task tk = {0};
        uint64_t v;
        if ((tk.name = unesc(r, name)) == UINT32_MAX || (tk.file = unesc(r, file)) == UINT32_MAX ||
            (tk.func = unesc(r, func)) == UINT32_MAX)
            return fail(ps, "malformed escape in task T%llu", (unsigned long long)i);
        if (!parse_num(line, 0x7fffffff, &v))
            return fail(ps, "malformed line number in task T%llu", (unsigned long long)i);
        tk.line = (int32_t)v;
        if (!parse_num(ord, UINT32_MAX, &v) || v == 0)
            return fail(ps, "malformed ordinal in task T%llu", (unsigned long long)i);
        tk.ordinal = (uint32_t)v;
        if (strcmp(kind, "root") == 0)
            tk.kind = WEFT__DET_ROOT;
        else if (strcmp(kind, "async") == 0)
            tk.kind = WEFT__DET_ASYNC;
        else if (strcmp(kind, "blocking") == 0)
            tk.kind = WEFT__DET_BLOCKING;
        else
            return fail(ps, "unknown task kind '%.20s'", kind);
        if (strcmp(par, "-") == 0)
            tk.parent = WEFT__DET_NONE;
        else if (!parse_alias(par, (uint32_t)i, &tk.parent))
            return fail(ps, "task T%llu: parent '%.20s' is not an earlier task",
                        (unsigned long long)i, par);
        if (weft__det_record_add_task(r, &tk) == UINT32_MAX)
            return fail(ps, "out of memory");
    }
    return 0;
}

static int parse_op(parser *ps, const char *v, weft__det_step *s)
{
    if (strncmp(v, "wait:", 5) == 0) {
        for (int k = 0; k < WEFT_OP_COUNT_; k++) {
            if (strcmp(v + 5, weft_resource_op_name((weft_resource_op)k)) == 0) {
                s->op = WEFT__OP_WAIT;
                s->res_op = (uint8_t)k;
                return 0;
            }
        }
        return fail(ps, "unknown wait operation '%.20s'", v + 5);
    }
    for (int k = 0; k < WEFT__OP_COUNT_; k++) {
        if (k != WEFT__OP_WAIT && strcmp(v, weft__det_op_name(k)) == 0) {
            s->op = (uint8_t)k;
            return 0;
        }
    }
    return fail(ps, "unknown operation '%.20s'", v);
}

static int parse_steps(parser *ps, weft__det_record *r)
{
    char *rest = expect(ps, "steps", "the number of decisions");
    if (!rest)
        return WEFT_EFORMAT;
    uint64_t n;
    if (!parse_num(token(&rest), MAX_STEPS, &n) || token(&rest))
        return fail(ps, "malformed step count");
    uint32_t *run = NULL;
    uint32_t cap = 0;
    uint64_t last_t = 0;
    int rc = 0;
    for (uint64_t i = 0; i < n && !rc; i++) {
        char *l = next_line(ps);
        if (!l) {
            rc = ps->failed ? WEFT_EFORMAT
                            : fail(ps, "truncated: the file ends after step %llu of %llu",
                                   (unsigned long long)(i ? i - 1 : 0), (unsigned long long)n);
            break;
        }
        rest = l;
        char *t = token(&rest);
        uint64_t idx;
        if (!t || strcmp(t, "step") != 0) {
            rc = fail(ps, "expected step %llu, found '%.40s'", (unsigned long long)i, l);
            break;
        }
        if (!parse_num(token(&rest), UINT64_MAX, &idx) || idx != i) {
            rc = fail(ps, "expected step %llu (steps are numbered in order)",
                      (unsigned long long)i);
            break;
        }
        const char *tv = kv(token(&rest), "t"), *rv = kv(token(&rest), "run"),
                   *ov = kv(token(&rest), "of"), *opv = kv(token(&rest), "op"),
                   *res = kv(token(&rest), "res"), *at = kv(token(&rest), "at");
        if (!tv || !rv || !ov || !opv || !res || !at || token(&rest)) {
            rc = fail(ps, "malformed step line (expected t= run= of= op= res= at=)");
            break;
        }
        weft__det_step s = {0};
        if (!parse_num(tv, UINT64_MAX, &s.t_ns) || s.t_ns < last_t) {
            rc = fail(ps, "step %llu: bad virtual time (it never goes back)",
                      (unsigned long long)i);
            break;
        }
        last_t = s.t_ns;
        if (!parse_alias(rv, r->ntasks, &s.chosen)) {
            rc = fail(ps, "step %llu: '%.20s' is not a defined task", (unsigned long long)i, rv);
            break;
        }
        uint32_t nrun = 0;
        bool has_chosen = false;
        char *list = (char *)ov;
        for (;;) {
            char *comma = strchr(list, ',');
            if (comma)
                *comma = '\0';
            uint32_t a;
            if (!parse_alias(list, r->ntasks, &a)) {
                rc = fail(ps, "step %llu: '%.20s' in the runnable set is not a defined task",
                          (unsigned long long)i, list);
                break;
            }
            for (uint32_t k = 0; k < nrun; k++)
                if (run[k] == a) {
                    rc = fail(ps, "step %llu: T%u is twice in the runnable set",
                              (unsigned long long)i, a);
                    break;
                }
            if (rc)
                break;
            if (nrun == cap) {
                uint32_t nc = cap ? cap * 2 : 16;
                uint32_t *nr = nc > r->ntasks * 2 + 16 ? NULL : realloc(run, nc * sizeof *run);
                if (!nr) {
                    rc = fail(ps, "step %llu: runnable set too large", (unsigned long long)i);
                    break;
                }
                run = nr;
                cap = nc;
            }
            run[nrun++] = a;
            has_chosen |= a == s.chosen;
            if (!comma)
                break;
            list = comma + 1;
        }
        if (rc)
            break;
        if (!has_chosen) {
            rc = fail(ps, "step %llu: the chosen task T%u is not in the runnable set",
                      (unsigned long long)i, s.chosen);
            break;
        }
        if ((rc = parse_op(ps, opv, &s)))
            break;
        if ((s.detail = unesc(r, res)) == UINT32_MAX) {
            rc = fail(ps, "step %llu: malformed res=", (unsigned long long)i);
            break;
        }
        if (strcmp(at, "-") != 0) {
            const char *colon = strrchr(at, ':');
            uint64_t ln;
            char fbuf[512];
            size_t fl = colon ? (size_t)(colon - at) : 0;
            if (!colon || fl == 0 || fl >= sizeof fbuf || !parse_num(colon + 1, 0x7fffffff, &ln)) {
                rc = fail(ps, "step %llu: malformed at= (expected FILE:LINE)",
                          (unsigned long long)i);
                break;
            }
            memcpy(fbuf, at, fl);
            fbuf[fl] = '\0';
            if ((s.file = unesc(r, fbuf)) == UINT32_MAX) {
                rc = fail(ps, "step %llu: malformed at=", (unsigned long long)i);
                break;
            }
            s.line = (int32_t)ln;
        }
        if (weft__det_record_add_step(r, &s, run, nrun) == UINT64_MAX)
            rc = fail(ps, "out of memory");
    }
    free(run);
    return rc;
}

int weft__det_parse(weft__det_record *r, const char *text, size_t len, const char *program,
                    const char *source, char *err, size_t err_size)
{
    weft__det_record_reset(r);
    parser ps = {.p = text, .end = text + len, .source = source ? source : "schedule",
                 .err = err, .err_size = err_size};
    if (err_size)
        err[0] = '\0';
    int rc = parse_header(&ps, r, program);
    if (!rc)
        rc = parse_tasks(&ps, r);
    if (!rc)
        rc = parse_steps(&ps, r);
    if (!rc) {
        char *l = next_line(&ps);
        if (!l)
            rc = ps.failed ? WEFT_EFORMAT
                           : fail(&ps, "truncated: the 'end' line after the last step is missing");
        else if (strcmp(l, "end") != 0)
            rc = fail(&ps, "expected 'end' after %llu steps, found '%.40s'",
                      (unsigned long long)r->nsteps, l);
        else if (next_line(&ps))
            rc = fail(&ps, "unexpected text after 'end'");
    }
    if (!rc && r->outcome_step > r->nsteps)
        rc = fail(&ps, "the outcome's step %llu lies beyond the %llu steps",
                  (unsigned long long)r->outcome_step, (unsigned long long)r->nsteps);
    free(ps.buf);
    if (rc)
        weft__det_record_reset(r);
    return rc;
}

int weft__det_parse_path(weft__det_record *r, const char *path, const char *program,
                         char *err, size_t err_size)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, err_size, "%s: cannot open: %s", path, strerror(errno));
        return WEFT_EIO;
    }
    char *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len == cap) {
            size_t nc = cap ? cap * 2 : 65536;
            if (nc > MAX_FILE_BYTES) {
                free(buf);
                fclose(f);
                snprintf(err, err_size, "%s: too large for a schedule", path);
                return WEFT_EFORMAT;
            }
            char *nb = realloc(buf, nc);
            if (!nb) {
                free(buf);
                fclose(f);
                snprintf(err, err_size, "%s: out of memory", path);
                return WEFT_ENOMEM;
            }
            buf = nb;
            cap = nc;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0)
            break;
    }
    bool bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        snprintf(err, err_size, "%s: read error", path);
        return WEFT_EIO;
    }
    int rc = weft__det_parse(r, buf, len, program, path, err, err_size);
    free(buf);
    return rc;
}
