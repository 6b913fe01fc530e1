/* weft/error.h - the one list of error codes.
 *
 * Functions that can fail return int: 0 on success or a negative WEFT_E* code. Codes are
 * declared once, in WEFT_ERRNO_MAP below; weft_strerror() and weft_err_name() are generated
 * from the same list, so a new code is one line.
 */
#ifndef WEFT_ERROR_H
#define WEFT_ERROR_H

/* X(name, value, message) */
#define WEFT_ERRNO_MAP(X)                                                              \
    X(ECANCELLED, -1, "task was cancelled")                                            \
    X(ETIMEDOUT, -2, "deadline elapsed")                                               \
    X(ECLOSED, -3, "closed")                                                           \
    X(EFULL, -4, "full")                                                               \
    X(EEMPTY, -5, "empty")                                                             \
    X(ENOMEM, -6, "out of memory")                                                     \
    X(EINVAL, -7, "invalid argument")                                                  \
    X(ESHUTDOWN, -8, "runtime is shut down")                                           \
    X(ENORUNTIME, -9, "no runtime on this thread (call from a task or inside block_on)") \
    X(EAGAIN, -10, "try again")                                                        \
    X(EBUSY, -11, "busy")                                                              \
    X(ELAGGED, -12, "receiver lagged behind")                                          \
    X(ENOSYS, -13, "not supported by this build")                                      \
    X(EIO, -14, "input/output error")                                                  \
    X(EFORMAT, -15, "malformed input")                                                 \
    X(ETHREAD, -16, "could not start a thread")                                        \
    X(ETOOBIG, -17, "frame or line longer than its maximum")                           \
    X(EUNEXPECTEDEOF, -18, "end of stream in the middle of a message")

enum {
#define WEFT_ERR_ENUM_(name, value, msg) WEFT_##name = (value),
    WEFT_ERRNO_MAP(WEFT_ERR_ENUM_)
#undef WEFT_ERR_ENUM_
    WEFT_ELAST_ = -19
};

/* Timeout futures report this when their deadline passes first (Tokio's `Elapsed`). */
#define WEFT_EELAPSED WEFT_ETIMEDOUT

/* OS errors. An errno value e is reported as weft_os_error(e): a code in its own band below
 * WEFT_EOS_BASE, so that it never collides with weft's codes (ENOENT is 2, and -2 is
 * WEFT_ETIMEDOUT). weft_os_errno() gives the errno value back; weft_strerror() its text. */
#define WEFT_EOS_BASE (-1000)
#define WEFT_EOS_MAX 4095 /* largest errno value the band holds */

static inline int weft_os_error(int errnum)
{
    if (errnum <= 0 || errnum > WEFT_EOS_MAX)
        return WEFT_EIO;
    return WEFT_EOS_BASE - errnum;
}

/* The errno value behind an error code, or 0 if the code is not an OS error. */
static inline int weft_os_errno(int err)
{
    if (err < WEFT_EOS_BASE && err >= WEFT_EOS_BASE - WEFT_EOS_MAX)
        return WEFT_EOS_BASE - err;
    return 0;
}

/* A human-readable message for a weft error code, an OS error (weft_os_error) or a plain
 * negated errno value. Never NULL; the string is static. */
const char *weft_strerror(int err);

/* The code's symbolic name, e.g. "WEFT_ECANCELLED"; "WEFT_E?" for unknown codes. */
const char *weft_err_name(int err);

#endif
