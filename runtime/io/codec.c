/* runtime/io/codec.c - the two built-in codecs: lines and u32 length-prefixed (weft/codec.h).
 *
 * A codec is pure: it looks at bytes the framed reader holds and says where a frame is, or
 * that more bytes are needed, or that the stream breaks its rules. It keeps no state of its
 * own except the `scanned` marker that the reader stores for it, so that a frame arriving in
 * pieces is found in time linear in its length, whatever the split.
 */
#include <stdint.h>
#include <string.h>

#include <weft/codec.h>

/* ---------------------------------------------------------------- lines */

static size_t lines_max_buffered(const weft_codec *c)
{
    return c->max_frame > SIZE_MAX - 2 ? SIZE_MAX : c->max_frame + 2; /* content + "\r\n" */
}

static int lines_decode(const weft_codec *c, const unsigned char *buf, size_t avail,
                        bool at_eof, size_t *scanned, weft_frame_span *out)
{
    if (*scanned < avail) {
        const unsigned char *nl = memchr(buf + *scanned, '\n', avail - *scanned);
        if (nl) {
            size_t total = (size_t)(nl - buf) + 1;
            size_t content = total - 1;
            if (content > 0 && buf[content - 1] == '\r')
                content--;
            if (content > c->max_frame)
                return WEFT_ETOOBIG;
            *out = (weft_frame_span){.off = 0, .len = content, .consumed = total};
            return 1;
        }
        *scanned = avail;
    }
    /* No newline in avail bytes: the content is at least avail - 1 bytes (a "\r" may end
     * it), so max + 2 bytes without a newline can only be an oversized line. */
    if (avail >= lines_max_buffered(c))
        return WEFT_ETOOBIG;
    if (at_eof && avail > 0) {
        if (avail > c->max_frame)
            return WEFT_ETOOBIG;
        *out = (weft_frame_span){.off = 0, .len = avail, .consumed = avail};
        return 1;
    }
    return 0;
}

static int lines_encoded_len(const weft_codec *c, const void *payload, size_t len, size_t *out)
{
    if (len > c->max_frame || len == SIZE_MAX)
        return WEFT_ETOOBIG;
    if (len > 0 && memchr(payload, '\n', len))
        return WEFT_EINVAL;
    *out = len + 1;
    return 0;
}

static void lines_encode(const weft_codec *c, const void *payload, size_t len,
                         unsigned char *dst)
{
    (void)c;
    if (len > 0)
        memcpy(dst, payload, len);
    dst[len] = '\n';
}

static const weft_codec_vtable lines_vt = {
    .decode = lines_decode,
    .encoded_len = lines_encoded_len,
    .encode = lines_encode,
    .max_buffered = lines_max_buffered,
    .name = "lines",
};

weft_codec weft_codec_lines(size_t max_len)
{
    return (weft_codec){.vt = &lines_vt, .max_frame = max_len};
}

/* ---------------------------------------------------------------- length-prefixed */

enum { LEN_HEADER = 4 };

static size_t length_max_buffered(const weft_codec *c)
{
    return LEN_HEADER + c->max_frame; /* max_frame <= UINT32_MAX: no overflow on 64 bits */
}

static int length_decode(const weft_codec *c, const unsigned char *buf, size_t avail,
                         bool at_eof, size_t *scanned, weft_frame_span *out)
{
    (void)scanned; /* the header says where the frame ends: nothing to remember */
    if (avail < LEN_HEADER)
        return at_eof && avail > 0 ? WEFT_EUNEXPECTEDEOF : 0;
    uint32_t len = (uint32_t)buf[0] << 24 | (uint32_t)buf[1] << 16 | (uint32_t)buf[2] << 8 |
                   (uint32_t)buf[3];
    /* Refused before a byte of the body is buffered: the peer's number allocates nothing. */
    if (len > c->max_frame)
        return WEFT_ETOOBIG;
    if (avail - LEN_HEADER < len)
        return at_eof ? WEFT_EUNEXPECTEDEOF : 0;
    *out = (weft_frame_span){.off = LEN_HEADER, .len = len, .consumed = LEN_HEADER + len};
    return 1;
}

static int length_encoded_len(const weft_codec *c, const void *payload, size_t len,
                              size_t *out)
{
    (void)payload;
    if (len > c->max_frame)
        return WEFT_ETOOBIG;
    *out = LEN_HEADER + len;
    return 0;
}

static void length_encode(const weft_codec *c, const void *payload, size_t len,
                          unsigned char *dst)
{
    (void)c;
    dst[0] = (unsigned char)(len >> 24);
    dst[1] = (unsigned char)(len >> 16);
    dst[2] = (unsigned char)(len >> 8);
    dst[3] = (unsigned char)len;
    if (len > 0)
        memcpy(dst + LEN_HEADER, payload, len);
}

static const weft_codec_vtable length_vt = {
    .decode = length_decode,
    .encoded_len = length_encoded_len,
    .encode = length_encode,
    .max_buffered = length_max_buffered,
    .name = "length_u32",
};

weft_codec weft_codec_length_u32(size_t max_frame)
{
    if (max_frame > UINT32_MAX)
        max_frame = UINT32_MAX;
    return (weft_codec){.vt = &length_vt, .max_frame = max_frame};
}
