/* runtime/error.c - messages and names for error codes.
 *
 * Both functions are generated from WEFT_ERRNO_MAP in <weft/error.h>, so adding a code there is
 * the whole job. Any caller may use them, from any thread: they never allocate and hand back
 * strings that live as long as the program (or, for errno text on old C libraries, as long as
 * the calling thread's next call).
 *
 * Codes -1 .. WEFT_ELAST_+1 are weft's own. OS errors have their own band (weft_os_error in
 * error.h), which is what I/O functions report. Every other negative value is read as a plain
 * negated errno; that reading overlaps weft's codes for errno numbers 1..18 (EPERM, ENOENT,
 * EINTR, ...), and weft's meaning wins there, which is why the band exists.
 */
#define _GNU_SOURCE /* strerrordesc_np, or the GNU strerror_r that returns char * */
#include <limits.h>
#include <string.h>

#include <weft/error.h>

/* glibc 2.32 added strerrordesc_np(): errno text from a static table, no locale, no buffer. */
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
#define HAVE_STRERRORDESC_NP 1
#endif

static const char *errno_text(int errnum)
{
#ifdef HAVE_STRERRORDESC_NP
    const char *s = strerrordesc_np(errnum);
    return s ? s : "unknown error";
#else
    /* strerror() itself may share one buffer between threads; strerror_r into a buffer owned
     * by the calling thread does not. An unknown number produces "Unknown error N" here. */
    static _Thread_local char buf[128];
#if defined(__GLIBC__)
    return strerror_r(errnum, buf, sizeof buf);
#else
    if (strerror_r(errnum, buf, sizeof buf) != 0)
        return "unknown error";
    return buf;
#endif
#endif
}

const char *weft_strerror(int err)
{
    switch (err) {
    case 0:
        return "success";
#define WEFT_ERR_MSG_(name, value, msg) \
    case (value):                       \
        return (msg);
        WEFT_ERRNO_MAP(WEFT_ERR_MSG_)
#undef WEFT_ERR_MSG_
    default:
        break;
    }
    if (weft_os_errno(err) != 0)
        return errno_text(weft_os_errno(err));
    /* INT_MIN has no positive counterpart; positive values are not error codes at all. */
    if (err < 0 && err != INT_MIN)
        return errno_text(-err);
    return "unknown error";
}

const char *weft_err_name(int err)
{
    switch (err) {
#define WEFT_ERR_NAME_(name, value, msg) \
    case (value):                        \
        return "WEFT_" #name;
        WEFT_ERRNO_MAP(WEFT_ERR_NAME_)
#undef WEFT_ERR_NAME_
    default:
        return "WEFT_E?";
    }
}
