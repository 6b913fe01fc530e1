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
    X(ETHREAD, -16, "could not start a thread")

enum {
#define WEFT_ERR_ENUM_(name, value, msg) WEFT_##name = (value),
    WEFT_ERRNO_MAP(WEFT_ERR_ENUM_)
#undef WEFT_ERR_ENUM_
    WEFT_ELAST_ = -17
};

/* Timeout futures report this when their deadline passes first (Tokio's `Elapsed`). */
#define WEFT_EELAPSED WEFT_ETIMEDOUT

/* A human-readable message for a weft error code (or for a negated errno value, which some
 * I/O functions return). Never NULL; the string is static. */
const char *weft_strerror(int err);

/* The code's symbolic name, e.g. "WEFT_ECANCELLED"; "WEFT_E?" for unknown codes. */
const char *weft_err_name(int err);

#endif
