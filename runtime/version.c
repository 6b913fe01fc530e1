/* runtime/version.c - the library's version, for programs that link it.
 *
 * WEFT_VERSION_STRING in <weft/runtime.h> is what a program was compiled against;
 * weft_version() is what it runs against (the shared library may have been upgraded since).
 * tests/integration/test_cli.sh checks that the string equals meson's project version, so the
 * three cannot drift apart unnoticed.
 */
#include <weft/runtime.h>

const char *weft_version(void)
{
    return WEFT_VERSION_STRING;
}
