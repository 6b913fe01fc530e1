/* instrument/profile/import_none.c - `weft import` in a build without libbabeltrace2: it says
 * so (profile.h's prof_import_lttng, built from import_lttng.c when the library is there). */
#include <weft/error.h>

#include "profile.h"

int prof_import_lttng(const char *dir, const char *db_path, uint64_t pid, prof_import_stats *st,
                      char *err)
{
    (void)dir;
    (void)pid;
    (void)db_path;
    (void)st;
    snprintf(err, PROF_ERR_LEN,
             "this build has no LTTng import: install libbabeltrace2-dev and reconfigure");
    return WEFT_ENOSYS;
}
