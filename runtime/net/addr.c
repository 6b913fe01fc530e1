/* runtime/net/addr.c - socket addresses: parsing and printing (weft/net.h).
 *
 * Numeric only, on purpose: a name lookup blocks (getaddrinfo), so it belongs on the blocking
 * pool, not in a function that looks instant. Bad text gives WEFT_EINVAL, never a crash.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <weft/net.h>

static int parse_port(const char *p, uint16_t *port)
{
    if (*p == '\0' || strlen(p) > 5)
        return WEFT_EINVAL;
    unsigned v = 0;
    for (; *p; p++) {
        if (*p < '0' || *p > '9')
            return WEFT_EINVAL;
        v = v * 10 + (unsigned)(*p - '0');
    }
    if (v > 65535)
        return WEFT_EINVAL;
    *port = (uint16_t)v;
    return 0;
}

int weft_sockaddr_parse(weft_sockaddr *out, const char *text)
{
    if (!out)
        return WEFT_EINVAL;
    memset(out, 0, sizeof *out);
    if (!text)
        return WEFT_EINVAL;
    size_t len = strlen(text);
    char host[INET6_ADDRSTRLEN + IF_NAMESIZE + 2];
    const char *port_text;
    uint16_t port;
    if (text[0] == '[') {
        const char *close = strchr(text, ']');
        if (!close || close[1] != ':' || (size_t)(close - text - 1) >= sizeof host)
            return WEFT_EINVAL;
        memcpy(host, text + 1, (size_t)(close - text - 1));
        host[close - text - 1] = '\0';
        port_text = close + 2;
        if (parse_port(port_text, &port))
            return WEFT_EINVAL;
        char *scope = strchr(host, '%');
        unsigned scope_id = 0;
        if (scope) {
            *scope++ = '\0';
            scope_id = if_nametoindex(scope);
            if (scope_id == 0) {
                char *end;
                unsigned long v = strtoul(scope, &end, 10);
                if (*scope == '\0' || *end != '\0' || v > UINT32_MAX)
                    return WEFT_EINVAL;
                scope_id = (unsigned)v;
            }
        }
        struct sockaddr_in6 *a = &out->u.in6;
        if (inet_pton(AF_INET6, host, &a->sin6_addr) != 1) {
            memset(out, 0, sizeof *out);
            return WEFT_EINVAL;
        }
        a->sin6_family = AF_INET6;
        a->sin6_port = htons(port);
        a->sin6_scope_id = scope_id;
        out->len = sizeof *a;
        return 0;
    }
    const char *colon = strrchr(text, ':');
    if (!colon || (size_t)(colon - text) >= sizeof host || len - (size_t)(colon - text) > 6)
        return WEFT_EINVAL;
    memcpy(host, text, (size_t)(colon - text));
    host[colon - text] = '\0';
    if (parse_port(colon + 1, &port))
        return WEFT_EINVAL;
    struct sockaddr_in *a = &out->u.in4;
    if (inet_pton(AF_INET, host, &a->sin_addr) != 1) {
        memset(out, 0, sizeof *out);
        return WEFT_EINVAL;
    }
    a->sin_family = AF_INET;
    a->sin_port = htons(port);
    out->len = sizeof *a;
    return 0;
}

int weft_sockaddr_unix(weft_sockaddr *out, const char *path)
{
    if (!out)
        return WEFT_EINVAL;
    memset(out, 0, sizeof *out);
    if (!path || path[0] == '\0' || strlen(path) >= sizeof out->u.un.sun_path)
        return WEFT_EINVAL;
    out->u.un.sun_family = AF_UNIX;
    strcpy(out->u.un.sun_path, path);
    out->len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path) + 1);
    return 0;
}

uint16_t weft_sockaddr_port(const weft_sockaddr *a)
{
    if (!a || a->len == 0)
        return 0;
    if (a->u.sa.sa_family == AF_INET)
        return ntohs(a->u.in4.sin_port);
    if (a->u.sa.sa_family == AF_INET6)
        return ntohs(a->u.in6.sin6_port);
    return 0;
}

int weft_sockaddr_format(const weft_sockaddr *a, char *buf, size_t cap)
{
    if (!buf || cap == 0)
        return WEFT_EINVAL;
    buf[0] = '\0';
    if (!a || a->len == 0)
        return WEFT_EINVAL;
    char host[INET6_ADDRSTRLEN];
    int n;
    switch (a->u.sa.sa_family) {
    case AF_INET:
        inet_ntop(AF_INET, &a->u.in4.sin_addr, host, sizeof host);
        n = snprintf(buf, cap, "%s:%u", host, ntohs(a->u.in4.sin_port));
        break;
    case AF_INET6:
        inet_ntop(AF_INET6, &a->u.in6.sin6_addr, host, sizeof host);
        n = snprintf(buf, cap, "[%s]:%u", host, ntohs(a->u.in6.sin6_port));
        break;
    case AF_UNIX: {
        size_t off = offsetof(struct sockaddr_un, sun_path);
        if (a->len <= off || a->u.un.sun_path[0] == '\0')
            n = snprintf(buf, cap, "unix:(unnamed)");
        else
            n = snprintf(buf, cap, "unix:%.*s", (int)(a->len - off), a->u.un.sun_path);
        break;
    }
    default:
        return WEFT_EINVAL;
    }
    return n < 0 || (size_t)n >= cap ? WEFT_EINVAL : 0;
}
